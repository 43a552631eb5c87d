//! Structured output: `run_typed` asks for a JSON answer matching a Rust type's schema (`response_format:
//! json_schema`, strict) and decodes it, sending decoding errors back to the model to fix.
//!
//! ```text
//! cargo run --example extract
//! ```

mod common;

use std::time::Instant;

use schemars::JsonSchema;
use serde::Deserialize;
use toolsmith::Agent;

use common::{Style, paint};

/// An order taken from a customer's message.
#[derive(Debug, Deserialize, JsonSchema)]
struct Order {
    /// The customer's full name.
    customer: String,
    /// The city to deliver to.
    city: String,
    /// How many copies.
    quantity: u32,
    /// Whether the customer asked for gift wrapping.
    gift_wrap: bool,
    /// The customer's email address, if given.
    email: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = common::endpoint().await?;
    let agent = Agent::builder(endpoint.client, endpoint.model)
        .instructions("Extract the order from the customer's message. Use only what the message says.")
        .max_tokens(512)
        .temperature(0.0)
        .build();

    let message = "Hello, this is Ada Lovelace. Please send 3 copies to London, no gift wrap needed. \
                   You can reach me at ada@example.com.";
    println!("{}", paint(Style::Bold, message));
    let started = Instant::now();
    let order: Order = agent.run_typed(message).await?;
    println!("{order:#?}");
    // The fields are typed Rust values now, not text to parse.
    let wrap = if order.gift_wrap { "gift-wrapped" } else { "unwrapped" };
    let email = order.email.as_deref().unwrap_or("no email given");
    println!("→ ship {} {wrap} copies to {} in {} ({email})", order.quantity, order.customer, order.city);
    println!("{}", paint(Style::Dim, &format!("── decoded into `Order` in {} ms", started.elapsed().as_millis())));
    Ok(())
}
