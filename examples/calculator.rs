//! A calculator: plain (sync) functions as tools. Dividing by zero returns `Err`; the error text goes back
//! to the model as the call's result, and the model recovers instead of the run failing.
//!
//! ```text
//! cargo run --example calculator
//! ```

mod common;

use std::time::Instant;

use toolsmith::Agent;

use common::{Style, paint};

/// Add two numbers.
#[toolsmith::tool]
fn add(a: f64, b: f64) -> f64 {
    a + b
}

/// Multiply two numbers.
#[toolsmith::tool]
fn multiply(a: f64, b: f64) -> f64 {
    a * b
}

/// Divide `a` by `b`.
///
/// # Arguments
/// * `a` - The dividend.
/// * `b` - The divisor; must not be zero.
#[toolsmith::tool]
fn divide(a: f64, b: f64) -> Result<f64, String> {
    if b == 0.0 { Err("division by zero: the divisor `b` must not be 0".to_owned()) } else { Ok(a / b) }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = common::endpoint().await?;
    let agent = Agent::builder(endpoint.client, endpoint.model)
        .instructions(
            "You are a calculator. Use the tools for every operation, never compute in your head. If a tool \
             reports an error, explain it in one sentence and give the closest meaningful answer.",
        )
        .tool(add)
        .tool(multiply)
        .tool(divide)
        .max_tokens(512)
        .build();

    for question in ["What is 12.5 multiplied by 4?", "What is 7 divided by 0?"] {
        println!("{}", paint(Style::Bold, question));
        let started = Instant::now();
        // Not streamed: `run` returns when the model has answered; the calls are in the result.
        let result = agent.run(question).await?;
        common::print_run(&result, started.elapsed());
        println!();
    }
    Ok(())
}
