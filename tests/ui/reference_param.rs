/// Greet someone.
#[toolsmith::tool]
fn greet(name: &str, scores: &[u32]) -> String {
    format!("{name} {scores:?}")
}

fn main() {}
