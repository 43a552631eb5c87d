struct Notes;

impl Notes {
    /// Count the notes.
    #[toolsmith::tool]
    fn count(&self) -> usize {
        0
    }
}

fn main() {}
