//! The weather tools served as an MCP server over stdio: any MCP client (Claude Desktop, an IDE, the MCP
//! Inspector, or `examples/mcp_client.rs`) can list and call them.
//!
//! ```text
//! cargo run --features mcp --example mcp_server            # speaks MCP on stdin/stdout
//! cargo run --features mcp --example mcp_client            # spawns this server and runs an agent on it
//! ```
//!
//! stdout carries the protocol: everything else goes to stderr.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toolsmith::ToolSet;
use toolsmith::mcp::McpServer;

/// A temperature unit.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Unit {
    Celsius,
    Fahrenheit,
}

/// What `get_weather` returns.
#[derive(Serialize)]
struct Weather {
    city: String,
    temperature: f64,
    unit: Unit,
    conditions: &'static str,
}

/// Get the current weather for a city.
///
/// # Arguments
/// * `city` - City name, e.g. "Paris".
/// * `unit` - Temperature unit; celsius when omitted.
#[toolsmith::tool]
fn get_weather(city: String, unit: Option<Unit>) -> Result<Weather, String> {
    let (celsius, conditions) = match city.trim().to_lowercase().as_str() {
        "paris" => (18.0, "partly cloudy"),
        "rome" => (24.0, "sunny"),
        "london" => (12.0, "light rain"),
        "tokyo" => (21.0, "clear"),
        _ => return Err(format!("no weather station in {city:?}; known cities: Paris, Rome, London, Tokyo")),
    };
    let unit = unit.unwrap_or(Unit::Celsius);
    let temperature = match unit {
        Unit::Celsius => celsius,
        Unit::Fahrenheit => celsius * 9.0 / 5.0 + 32.0,
    };
    Ok(Weather { city, temperature, unit, conditions })
}

/// Convert a temperature from Celsius to Fahrenheit.
///
/// # Arguments
/// * `celsius` - Degrees Celsius.
#[toolsmith::tool]
fn celsius_to_fahrenheit(celsius: f64) -> f64 {
    celsius * 9.0 / 5.0 + 32.0
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut tools = ToolSet::new();
    tools.insert(Arc::new(get_weather))?;
    tools.insert(Arc::new(celsius_to_fahrenheit))?;
    eprintln!("mcp_server: serving {} tools on stdio", tools.len());
    McpServer::new(tools)
        .name("toolsmith-weather")
        .instructions("Weather for Paris, Rome, London and Tokyo. Call get_weather once per city.")
        .serve_stdio()
        .await?;
    Ok(())
}
