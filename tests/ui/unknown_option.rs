/// Ping.
#[toolsmith::tool(name = "ping", retries = 3)]
fn ping() -> String {
    "pong".into()
}

fn main() {}
