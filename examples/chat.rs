//! An interactive chat in the terminal: text streams as the model writes it, each tool call shows as it
//! starts and finishes, and the session keeps the conversation. Reads one message per line from stdin, so
//! it also works piped; ends on EOF (Ctrl-D) or `/quit`.
//!
//! ```text
//! cargo run --example chat
//! printf 'Weather in Tokyo?\nAnd 21 degrees celsius in Fahrenheit?\n' | cargo run --example chat
//! ```

mod common;

use std::io::{IsTerminal, Write};

use tokio::io::{AsyncBufReadExt, BufReader};
use toolsmith::Agent;

use common::{Style, paint};

/// Get the current weather for a city.
///
/// # Arguments
/// * `city` - City name, e.g. "Tokyo".
#[toolsmith::tool]
fn get_weather(city: String) -> Result<String, String> {
    match city.trim().to_lowercase().as_str() {
        "paris" => Ok("18°C, partly cloudy".into()),
        "rome" => Ok("24°C, sunny".into()),
        "tokyo" => Ok("21°C, clear".into()),
        "london" => Ok("12°C, light rain".into()),
        _ => Err(format!("no weather data for {city:?}; known: Paris, Rome, Tokyo, London")),
    }
}

/// Convert a temperature from degrees Celsius to degrees Fahrenheit.
///
/// # Arguments
/// * `celsius` - The temperature in degrees Celsius.
#[toolsmith::tool]
fn celsius_to_fahrenheit(celsius: f64) -> f64 {
    celsius * 9.0 / 5.0 + 32.0
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = common::endpoint().await?;
    let agent = Agent::builder(endpoint.client, endpoint.model)
        .instructions("You are a friendly assistant. Keep answers short. Use the tools when they help.")
        .tool(get_weather)
        .tool(celsius_to_fahrenheit)
        .max_tokens(1024)
        .build();
    let mut session = agent.session();

    let interactive = std::io::stdin().is_terminal();
    if interactive {
        println!("{}", paint(Style::Dim, "Chat with the model; /quit or Ctrl-D to leave."));
    }
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        if interactive {
            print!("{} ", paint(Style::Bold, "you>"));
            std::io::stdout().flush()?;
        }
        let Some(line) = lines.next_line().await? else { break };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "/quit" || line == "/exit" {
            break;
        }
        if !interactive {
            // Piped input is not echoed by a terminal: show it, so the transcript reads as a conversation.
            println!("{} {line}", paint(Style::Bold, "you>"));
        }
        // A failed exchange leaves the session as it was; say why and carry on.
        if let Err(error) = common::print_stream(session.send_streamed(line)).await {
            println!("{}", paint(Style::Red, &format!("error: {error}")));
        }
    }
    if interactive {
        println!();
    }
    Ok(())
}
