/// Join words.
#[toolsmith::tool]
fn join(words: impl IntoIterator<Item = String>) -> String {
    words.into_iter().collect()
}

fn main() {}
