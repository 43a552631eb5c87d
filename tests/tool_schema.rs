//! The schemas `#[tool]` produces for each kind of parameter, lean and strict (snapshots in
//! `tests/snapshots/`).

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toolsmith::Tool;

/// A temperature unit.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Celsius,
    Fahrenheit,
}

/// A point on the map.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Location {
    /// Latitude in degrees.
    pub lat: f64,
    /// Longitude in degrees.
    pub lon: f64,
}

/// What to search for.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Query {
    /// Everything.
    All,
    /// Items with this tag.
    Tag(String),
    /// Items near a place.
    Near { place: Location, radius_km: u16 },
}

/// A tree of categories, to check recursive types keep a `$defs` entry.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Category {
    pub name: String,
    pub children: Vec<Category>,
}

fn parameters(tool: impl Tool) -> serde_json::Value {
    tool.definition().parameters().clone()
}

/// Get the current weather for a city.
///
/// # Arguments
/// * `city` - City name, e.g. "Paris".
/// * `unit` - Temperature unit; celsius when omitted.
#[toolsmith::tool]
fn get_weather(city: String, unit: Option<Unit>) -> String {
    format!("{city} {unit:?}")
}

/// Get the current weather for a city.
///
/// # Arguments
/// * `city` - City name, e.g. "Paris".
/// * `unit` - Temperature unit; celsius when omitted.
#[toolsmith::tool(strict, name = "get_weather")]
fn get_weather_strict(city: String, unit: Option<Unit>) -> String {
    format!("{city} {unit:?}")
}

/// Every scalar kind.
///
/// # Arguments
/// - count - How many, at most 255.
/// - offset: Signed offset.
/// * `ratio` - A float.
#[toolsmith::tool]
fn scalars(count: u8, offset: i64, ratio: f32, big: u64, flag: bool, text: String) {
    let _ = (count, offset, ratio, big, flag, text);
}

/// Collections.
#[toolsmith::tool]
fn collections(
    /// Tags to attach.
    tags: Vec<String>,
    /// Scores per player.
    scores: HashMap<String, i32>,
    maybe_list: Option<Vec<u32>>,
) {
    let _ = (tags, scores, maybe_list);
}

/// Nested and enum types.
///
/// # Arguments
/// * `home` - Where you live.
/// * `work` - Where you work.
#[toolsmith::tool]
fn nested(home: Location, work: Location, query: Query, unit: Unit) {
    let _ = (home, work, query, unit);
}

/// Nested and enum types, strict.
#[toolsmith::tool(strict)]
fn nested_strict(home: Location, query: Option<Query>, range: Option<u8>) {
    let _ = (home, query, range);
}

/// A recursive type.
#[toolsmith::tool]
fn recursive(root: Category) {
    let _ = root;
}

/// No arguments at all.
#[toolsmith::tool]
fn no_arguments() -> u32 {
    4
}

/// No arguments, strict.
#[toolsmith::tool(strict)]
fn no_arguments_strict() -> u32 {
    4
}

/// Attributes on parameters reach the arguments.
#[toolsmith::tool]
fn attributed(
    #[serde(rename = "q")]
    /// The search text.
    query: String,
    #[schemars(range(min = 1, max = 50))] limit: Option<u32>,
) {
    let _ = (query, limit);
}

#[test]
fn weather_lean() {
    insta::assert_json_snapshot!(parameters(get_weather));
}

#[test]
fn weather_strict() {
    insta::assert_json_snapshot!(parameters(get_weather_strict));
    assert!(get_weather_strict.definition().is_strict());
}

#[test]
fn scalars_keep_ranges_but_not_formats() {
    insta::assert_json_snapshot!(parameters(scalars));
}

#[test]
fn collections_lean() {
    insta::assert_json_snapshot!(parameters(collections));
}

#[test]
fn nested_types_used_once_are_inlined() {
    insta::assert_json_snapshot!(parameters(nested));
}

#[test]
fn nested_types_strict() {
    insta::assert_json_snapshot!(parameters(nested_strict));
}

#[test]
fn recursive_types_keep_defs() {
    insta::assert_json_snapshot!(parameters(recursive));
}

#[test]
fn no_arguments_lean_and_strict() {
    insta::assert_json_snapshot!(parameters(no_arguments));
    insta::assert_json_snapshot!(parameters(no_arguments_strict));
}

#[test]
fn parameter_attributes() {
    insta::assert_json_snapshot!(parameters(attributed));
}

#[test]
fn definition_wire_form() {
    insta::assert_snapshot!(get_weather.definition().json().get());
    insta::assert_snapshot!(get_weather_strict.definition().json().get());
}
