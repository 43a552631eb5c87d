#[toolsmith::tool(strikt)]
fn broken((a, b): (u8, u8), name: &str, items: impl Iterator<Item = u8>) -> u8 {
    let _ = (name, items.count());
    a + b
}

fn main() {}
