//! The tool side of a turn: schema generation and definition serialization (first call and cached), and the
//! dispatch overhead of one call (decode arguments → call → encode result) for a trivial `#[tool]`.
//!
//! Run: `cargo bench --bench tools`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toolsmith::wire::ChatRequest;
use toolsmith::{Message, Tool, ToolContext, ToolDefinition, schema_for};

/// A temperature unit.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Degrees Celsius.
    Celsius,
    /// Degrees Fahrenheit.
    Fahrenheit,
}

/// Current conditions.
#[derive(Debug, Serialize)]
pub struct Weather {
    city: String,
    temperature: f32,
    unit: Unit,
    conditions: &'static str,
}

/// Get the current weather for a city.
///
/// # Arguments
/// * `city` - City name, e.g. "Paris".
/// * `unit` - Temperature unit; celsius when omitted.
#[toolsmith::tool]
async fn get_weather(city: String, unit: Option<Unit>) -> Result<Weather, std::io::Error> {
    Ok(Weather { city, temperature: 18.5, unit: unit.unwrap_or(Unit::Celsius), conditions: "sunny" })
}

/// A point on the map.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Location {
    /// Latitude in degrees.
    pub lat: f64,
    /// Longitude in degrees.
    pub lon: f64,
}

/// Search the user's notes.
///
/// # Arguments
/// * `query` - Words to look for.
/// * `near` - Only notes taken near this place.
/// * `tags` - Only notes with all of these tags.
/// * `limit` - At most this many results (default 10).
#[toolsmith::tool(strict)]
fn search_notes(query: String, near: Option<Location>, tags: Vec<String>, limit: Option<u8>) -> Vec<String> {
    let _ = (near, tags);
    vec![query; usize::from(limit.unwrap_or(1).min(3))]
}

/// Add two numbers.
///
/// # Arguments
/// * `a` - First number.
/// * `b` - Second number.
#[toolsmith::tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct WeatherArgs {
    /// City name, e.g. "Paris".
    city: String,
    /// Temperature unit; celsius when omitted.
    unit: Option<Unit>,
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct SearchArgs {
    /// Words to look for.
    query: String,
    /// Only notes taken near this place.
    near: Option<Location>,
    /// Only notes with all of these tags.
    tags: Vec<String>,
    /// At most this many results (default 10).
    limit: Option<u8>,
}

fn schemas(c: &mut Criterion) {
    let mut group = c.benchmark_group("schema");
    // What the first `definition()` of a tool does (the macro caches the result in a `OnceLock`).
    group.bench_function("first_call/get_weather", |b| {
        b.iter(|| ToolDefinition::new("get_weather", "Get the current weather.", schema_for::<WeatherArgs>(false)))
    });
    group.bench_function("first_call/search_notes_strict", |b| {
        b.iter(|| ToolDefinition::new_strict("search_notes", "Search the notes.", schema_for::<SearchArgs>(true)))
    });
    group.bench_function("cached/get_weather", |b| b.iter(|| black_box(get_weather.definition())));
    group.finish();

    let definitions = vec![get_weather.definition(), search_notes.definition(), add.definition()];
    let mut group = c.benchmark_group("definitions_serialize");
    // Every request carries the tools: toolsmith writes the bytes serialized once at registration...
    group.bench_function("cached_raw_json", |b| b.iter(|| serde_json::to_vec(black_box(&definitions))));
    // ... instead of serializing the schema values again each time.
    let values: Vec<serde_json::Value> = definitions
        .iter()
        .map(|d| {
            serde_json::json!({"type": "function", "function": {
                "name": d.name(), "description": d.description(), "parameters": d.parameters()}})
        })
        .collect();
    group.bench_function("from_values", |b| b.iter(|| serde_json::to_vec(black_box(&values))));
    let request = ChatRequest::new("gpt-4o-mini", vec![Message::user("What is the weather in Paris?")]);
    let mut request = request;
    request.tools = definitions;
    group.bench_function("whole_first_request", |b| b.iter(|| serde_json::to_vec(black_box(&request))));
    group.finish();
}

fn dispatch(c: &mut Criterion) {
    let ctx = ToolContext::new("call_1", "add", toolsmith::RunContext::default());
    let mut group = c.benchmark_group("dispatch");
    // decode arguments → call → encode result, through the object-safe `Tool::call` the agent uses.
    let tool: std::sync::Arc<dyn Tool> = std::sync::Arc::new(add);
    group.bench_function("add", |b| {
        b.iter(|| futures::executor::block_on(tool.call(black_box(r#"{"a":40,"b":2}"#), &ctx)))
    });
    let weather: std::sync::Arc<dyn Tool> = std::sync::Arc::new(get_weather);
    group.bench_function("get_weather", |b| {
        b.iter(|| futures::executor::block_on(weather.call(black_box(r#"{"city":"Paris","unit":"celsius"}"#), &ctx)))
    });
    group.bench_function("invalid_arguments", |b| {
        b.iter(|| futures::executor::block_on(tool.call(black_box(r#"{"a":40,"b":"two"}"#), &ctx)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(std::time::Duration::from_secs(3)).sample_size(30);
    targets = schemas, dispatch
}
criterion_main!(benches);
