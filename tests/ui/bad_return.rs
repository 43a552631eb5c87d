struct Opaque;

/// Returns something that is not serializable.
#[toolsmith::tool]
fn opaque() -> Opaque {
    Opaque
}

/// Returns a `Result` whose error is not `Display`.
#[toolsmith::tool]
fn fallible() -> Result<u8, Opaque> {
    Ok(1)
}

fn main() {}
