//! A durable worker: the order agent served on Restate. Kill it in the middle of a run, start it again, and
//! the run finishes: the card charged before the crash is not charged again, and the model is not asked
//! again for a turn it already answered. The README's "Durable runs" section has the commands.
//!
//! ```text
//! cargo run --features restate --example durable        # listens on 127.0.0.1:9080
//! ```
//!
//! `DURABLE_ADDRESS` changes the address; `DURABLE_RECEIPT_SECONDS` (default 5) is how long sending a
//! receipt takes, time enough to kill the worker while it runs; `DURABLE_APPROVE=charge_card` makes charges
//! wait for a person's approval.

mod common;

use std::time::Duration;

use toolsmith::restate::{DurableAgent, DurableRun};
use toolsmith::{Agent, ToolContext};

/// The idempotency key the payment and mail services would get: the same on every attempt of this call.
fn idempotency_key(ctx: &ToolContext) -> String {
    ctx.get::<DurableRun>().map_or_else(|| ctx.call_id().to_owned(), |run| run.idempotency_key(ctx.call_id()))
}

/// Charge the customer's card for an order.
///
/// # Arguments
/// * `order` - The order id, e.g. "A-17".
#[toolsmith::tool]
async fn charge_card(order: String, ctx: &ToolContext) -> String {
    println!("charging the card for order {order} (idempotency key {})", idempotency_key(ctx));
    format!("charged 42.00 EUR for order {order}")
}

/// Send the receipt of an order by email.
///
/// # Arguments
/// * `order` - The order id, e.g. "A-17".
#[toolsmith::tool]
async fn send_receipt(order: String, ctx: &ToolContext) -> String {
    let seconds = std::env::var("DURABLE_RECEIPT_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    println!("sending the receipt for order {order} ({seconds} s; idempotency key {})", idempotency_key(ctx));
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    println!("receipt for order {order} sent");
    format!("receipt for order {order} sent to the customer")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = common::endpoint().await?;
    let agent = Agent::builder(endpoint.client.clone(), endpoint.model.clone())
        .instructions("You process orders: charge the card, then send the receipt.")
        .tool(charge_card)
        .tool(send_receipt)
        .build();
    let approve: Vec<String> =
        std::env::var("DURABLE_APPROVE").unwrap_or_default().split(',').map(str::to_owned).collect();
    let durable = DurableAgent::new(agent).require_approval(move |call| approve.contains(&call.function.name));
    let address = std::env::var("DURABLE_ADDRESS").unwrap_or_else(|_| "127.0.0.1:9080".to_owned());
    println!("durable worker listening on {address}");
    durable.serve(address.parse()?).await;
    Ok(())
}
