#[derive(serde::Deserialize)]
struct Location {
    lat: f64,
    lon: f64,
}

/// Where am I?
#[toolsmith::tool]
fn locate(place: Location) -> String {
    format!("{} {}", place.lat, place.lon)
}

fn main() {}
