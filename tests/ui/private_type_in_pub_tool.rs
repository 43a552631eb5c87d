#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Private {
    x: u8,
}

/// A public tool taking a private type.
#[toolsmith::tool]
pub fn uses_private(p: Private) -> u8 {
    p.x
}

fn main() {}
