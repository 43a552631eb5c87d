//! How many bytes the `tools` array of typical tools costs, lean versus schemars' default output. Every
//! request carries it, so it is paid in prompt tokens on every turn.
//!
//! Run with `--nocapture` to see the figures.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use toolsmith::{Tool, ToolDefinition, schema_for};

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Degrees Celsius.
    Celsius,
    /// Degrees Fahrenheit.
    Fahrenheit,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Add,
    Subtract,
    Multiply,
    Divide,
}

/// Get the current weather for a city.
///
/// # Arguments
/// * `city` - City name, e.g. "Paris".
/// * `unit` - Temperature unit; celsius when omitted.
/// * `days` - Days of forecast to include, 0 for today only.
#[toolsmith::tool]
fn get_weather(city: String, unit: Option<Unit>, days: Option<u8>) -> String {
    let _ = (unit, days);
    city
}

/// Apply an arithmetic operation to two numbers.
///
/// # Arguments
/// * `operation` - What to compute.
/// * `a` - Left operand.
/// * `b` - Right operand.
#[toolsmith::tool]
fn calculate(operation: Operation, a: f64, b: f64) -> f64 {
    match operation {
        Operation::Add => a + b,
        Operation::Subtract => a - b,
        Operation::Multiply => a * b,
        Operation::Divide => a / b,
    }
}

/// Save a note.
///
/// # Arguments
/// * `text` - The note's text.
/// * `tags` - Labels to file it under.
#[toolsmith::tool]
fn add_note(text: String, tags: Vec<String>) -> usize {
    let _ = tags;
    text.len()
}

/// List saved notes, newest first.
///
/// # Arguments
/// * `limit` - At most this many notes.
#[toolsmith::tool]
fn list_notes(limit: Option<u32>) -> Vec<String> {
    let _ = limit;
    Vec::new()
}

// The same arguments as the hidden structs `#[tool]` generates, to compare with schemars' default output.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct GetWeatherArgs {
    /// City name, e.g. "Paris".
    city: String,
    /// Temperature unit; celsius when omitted.
    unit: Option<Unit>,
    /// Days of forecast to include, 0 for today only.
    days: Option<u8>,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
struct CalculateArgs {
    /// What to compute.
    operation: Operation,
    /// Left operand.
    a: f64,
    /// Right operand.
    b: f64,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
struct AddNoteArgs {
    /// The note's text.
    text: String,
    /// Labels to file it under.
    tags: Vec<String>,
}

#[derive(JsonSchema)]
#[allow(dead_code)]
struct ListNotesArgs {
    /// At most this many notes.
    limit: Option<u32>,
}

fn tools_array(definitions: &[ToolDefinition]) -> usize {
    serde_json::to_string(definitions).map(|json| json.len()).unwrap_or_default()
}

fn default_definition(tool: &dyn Tool, schema: schemars::Schema) -> ToolDefinition {
    let definition = tool.definition();
    ToolDefinition::new(definition.name(), definition.description(), schema.to_value())
}

#[test]
fn lean_tools_array_is_much_smaller_than_schemars_default() {
    let tools: [&dyn Tool; 4] = [&get_weather, &calculate, &add_note, &list_notes];
    let lean: Vec<ToolDefinition> = tools.iter().map(|tool| tool.definition()).collect();
    let default = vec![
        default_definition(tools[0], schemars::schema_for!(GetWeatherArgs)),
        default_definition(tools[1], schemars::schema_for!(CalculateArgs)),
        default_definition(tools[2], schemars::schema_for!(AddNoteArgs)),
        default_definition(tools[3], schemars::schema_for!(ListNotesArgs)),
    ];
    // The hand-written structs match the generated ones.
    let same: Vec<Value> = vec![
        schema_for::<GetWeatherArgs>(false),
        schema_for::<CalculateArgs>(false),
        schema_for::<AddNoteArgs>(false),
        schema_for::<ListNotesArgs>(false),
    ];
    for (definition, schema) in lean.iter().zip(&same) {
        assert_eq!(definition.parameters(), schema, "{}", definition.name());
    }
    let lean_bytes = tools_array(&lean);
    let default_bytes = tools_array(&default);
    let strict: Vec<ToolDefinition> = same
        .iter()
        .zip(&lean)
        .map(|(_, definition)| definition.name())
        .zip([
            schema_for::<GetWeatherArgs>(true),
            schema_for::<CalculateArgs>(true),
            schema_for::<AddNoteArgs>(true),
            schema_for::<ListNotesArgs>(true),
        ])
        .zip(&lean)
        .map(|((name, schema), definition)| ToolDefinition::new_strict(name, definition.description(), schema))
        .collect();
    let strict_bytes = tools_array(&strict);
    let parameters = |definitions: &[ToolDefinition]| -> usize {
        definitions.iter().map(|definition| definition.parameters().to_string().len()).sum()
    };
    println!(
        "tools array for 4 tools: lean {lean_bytes} B, strict {strict_bytes} B, schemars default {default_bytes} B \
         (lean = {:.0}% of default); parameters only: lean {} B, default {} B",
        100.0 * lean_bytes as f64 / default_bytes as f64,
        parameters(&lean),
        parameters(&default),
    );
    assert!(lean_bytes * 10 < default_bytes * 8, "lean {lean_bytes} B vs default {default_bytes} B");
}
