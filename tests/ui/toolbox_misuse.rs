struct Store<T>(Vec<T>);

#[toolsmith::toolbox]
impl<T: Send + Sync + 'static> Store<T> {
    /// Count the items.
    #[tool]
    fn count(&self) -> usize {
        self.0.len()
    }
}

struct Plain;

#[toolsmith::toolbox]
impl Plain {
    /// Make one.
    #[tool]
    fn make() -> u8 {
        1
    }

    fn helper(&self) {}
}

#[toolsmith::toolbox]
struct NotAnImpl;

fn main() {}
