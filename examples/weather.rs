//! A weather assistant: one async tool with an enum and an optional parameter. The question needs two
//! cities, so the model calls the tool twice in one turn and toolsmith runs both calls at once.
//!
//! ```text
//! cargo run --example weather
//! OPENAI_API_KEY=sk-... cargo run --example weather
//! ```

mod common;

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toolsmith::Agent;

use common::{Style, paint};

/// A temperature unit.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Unit {
    Celsius,
    Fahrenheit,
}

/// What the tool returns; the model reads it as JSON.
#[derive(Serialize)]
struct Weather {
    city: String,
    temperature: f64,
    unit: Unit,
    conditions: &'static str,
}

#[derive(Debug, thiserror::Error)]
enum WeatherError {
    #[error("no weather station in {0:?}; known cities: Paris, Rome, London, Berlin, Tokyo, New York")]
    UnknownCity(String),
}

/// Get the current weather for a city.
///
/// # Arguments
/// * `city` - City name, e.g. "Paris".
/// * `unit` - Temperature unit; celsius when omitted.
#[toolsmith::tool]
async fn get_weather(city: String, unit: Option<Unit>) -> Result<Weather, WeatherError> {
    // A slow weather service: the two calls of one turn overlap, so the run takes one delay, not two.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (celsius, conditions) = match city.trim().to_lowercase().as_str() {
        "paris" => (18.0, "partly cloudy"),
        "rome" => (24.0, "sunny"),
        "london" => (12.0, "light rain"),
        "berlin" => (15.0, "overcast"),
        "tokyo" => (21.0, "clear"),
        "new york" => (16.0, "windy"),
        _ => return Err(WeatherError::UnknownCity(city)),
    };
    let unit = unit.unwrap_or(Unit::Celsius);
    let temperature = match unit {
        Unit::Celsius => celsius,
        Unit::Fahrenheit => celsius * 9.0 / 5.0 + 32.0,
    };
    Ok(Weather { city, temperature, unit, conditions })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = common::endpoint().await?;
    let agent = Agent::builder(endpoint.client, endpoint.model)
        .instructions(
            "You are a concise weather assistant. Call get_weather once per city; when a question is about \
             several cities, call it for all of them at once.",
        )
        .tool(get_weather)
        .max_tokens(512)
        .build();

    let question = "What's the weather like in Paris and in Rome right now? Which one is warmer?";
    println!("{}", paint(Style::Bold, question));
    common::print_stream(agent.stream(question)).await?;
    Ok(())
}
