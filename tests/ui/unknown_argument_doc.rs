/// Get the weather.
///
/// # Arguments
/// * `city` - The city.
/// * `country` - The country.
#[toolsmith::tool]
fn get_weather(city: String) -> String {
    city
}

fn main() {}
