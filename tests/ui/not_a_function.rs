/// Not a function.
#[toolsmith::tool]
struct Weather {
    city: String,
}

fn main() {}
