use std::sync::Mutex;

struct Counter {
    value: Mutex<u64>,
}

#[toolsmith::toolbox]
impl Counter {
    /// Increment the counter.
    #[tool]
    fn increment(&mut self) -> u64 {
        let mut value = self.value.lock().unwrap();
        *value += 1;
        *value
    }

    /// Take the counter.
    #[tool]
    fn take(self) -> u64 {
        self.value.into_inner().unwrap()
    }
}

fn main() {}
