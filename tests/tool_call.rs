//! Calling `#[tool]` functions: directly (as the original function) and through `Tool::call` (decoding the
//! model's arguments, passing the context, turning results into tool text).

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toolsmith::{RunContext, Tool, ToolContext, ToolError};

#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Celsius,
    Fahrenheit,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct Weather {
    pub city: String,
    pub degrees: f32,
    pub unit: Unit,
}

#[derive(Debug)]
pub struct WeatherError(String);

impl fmt::Display for WeatherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no weather station in {}", self.0)
    }
}

/// Get the current weather for a city.
///
/// # Arguments
/// * `city` - City name, e.g. "Paris".
/// * `unit` - Temperature unit; celsius when omitted.
#[toolsmith::tool]
async fn get_weather(city: String, unit: Option<Unit>) -> Result<Weather, WeatherError> {
    tokio::task::yield_now().await;
    if city == "Atlantis" {
        return Err(WeatherError(city));
    }
    Ok(Weather { city, degrees: 21.5, unit: unit.unwrap_or(Unit::Celsius) })
}

/// Add two numbers.
#[toolsmith::tool]
pub fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Greet someone.
#[toolsmith::tool]
pub(crate) fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

/// Forecast for the next days.
///
/// # Arguments
/// * `days` - How many days.
#[toolsmith::tool]
fn forecast(days: u8) -> Vec<f32> {
    vec![20.0; usize::from(days)]
}

/// Who is asking, from the run's context.
#[toolsmith::tool]
async fn whoami(prefix: String, ctx: &ToolContext) -> String {
    let user = ctx.get::<User>().map_or("nobody", |user| user.0.as_str());
    format!("{prefix} {user} via {} ({})", ctx.tool_name(), ctx.call_id())
}

/// The context in the middle, sync.
#[toolsmith::tool]
fn context_in_middle(a: u32, ctx: &toolsmith::ToolContext, b: u32) -> String {
    format!("{} {}", a + b, ctx.call_id())
}

static RESETS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Does something and returns nothing.
#[toolsmith::tool]
fn reset() {
    RESETS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Fails through an `io::Result` alias.
#[toolsmith::tool]
fn read_config(path: String) -> std::io::Result<String> {
    Err(std::io::Error::new(std::io::ErrorKind::NotFound, format!("{path}: not found")))
}

/// Returns `Ok(())`.
#[toolsmith::tool]
fn save() -> Result<(), String> {
    Ok(())
}

/// Strict, with a defaulted argument the model may send as null.
#[toolsmith::tool(strict)]
fn page(#[serde(default)] size: u32, cursor: Option<String>) -> String {
    format!("{size} {cursor:?}")
}

#[tokio::test]
async fn strict_nulls_mean_absent() {
    assert_eq!(call(page, r#"{"size":null,"cursor":null}"#).await.unwrap(), "0 None");
    assert_eq!(call(page, r#"{"size":5,"cursor":"x"}"#).await.unwrap(), r#"5 Some("x")"#);
    let parameters = page.definition().parameters().clone();
    assert_eq!(parameters["properties"]["size"]["type"], serde_json::json!(["integer", "null"]));
    assert_eq!(parameters["required"], serde_json::json!(["size", "cursor"]));
}

/// Returns an optional value.
#[toolsmith::tool]
fn lookup(key: String) -> Option<u32> {
    (key == "one").then_some(1)
}

/// Recurses through its own name.
#[toolsmith::tool]
fn factorial(n: u64) -> u64 {
    if n <= 1 { 1 } else { n * factorial(n - 1) }
}

struct User(String);

fn context() -> ToolContext {
    ToolContext::new("call_1", "test", RunContext::new().with(User("ada".into())))
}

async fn call(tool: impl Tool, arguments: &str) -> Result<String, ToolError> {
    tool.call(arguments, &context()).await
}

#[tokio::test]
async fn annotated_functions_still_call_directly() {
    assert_eq!(add(2, 3), 5);
    assert_eq!(greet("Ada".into()), "Hello, Ada!");
    let weather = get_weather("Paris".into(), Some(Unit::Fahrenheit)).await.unwrap();
    assert_eq!(weather.unit, Unit::Fahrenheit);
    assert!(get_weather("Atlantis".into(), None).await.is_err());
    let ctx = context();
    assert_eq!(whoami("hi".into(), &ctx).await, "hi ada via test (call_1)");
    assert_eq!(context_in_middle(1, &ctx, 2), "3 call_1");
    assert_eq!(factorial(5), 120);
    let before = RESETS.load(std::sync::atomic::Ordering::Relaxed);
    reset();
    assert!(RESETS.load(std::sync::atomic::Ordering::Relaxed) > before);
}

#[tokio::test]
async fn results_become_tool_text() {
    assert_eq!(call(add, r#"{"a":2,"b":40}"#).await.unwrap(), "42");
    // A string is sent verbatim, not as a quoted JSON string.
    assert_eq!(call(greet, r#"{"name":"Ada"}"#).await.unwrap(), "Hello, Ada!");
    assert_eq!(
        call(get_weather, r#"{"city":"Paris"}"#).await.unwrap(),
        r#"{"city":"Paris","degrees":21.5,"unit":"celsius"}"#
    );
    assert_eq!(call(forecast, r#"{"days":2}"#).await.unwrap(), "[20.0,20.0]");
    assert_eq!(call(reset, "").await.unwrap(), toolsmith::tool::UNIT_OUTPUT);
    assert_eq!(call(save, "{}").await.unwrap(), toolsmith::tool::UNIT_OUTPUT);
    assert_eq!(call(lookup, r#"{"key":"two"}"#).await.unwrap(), "null");
    assert_eq!(call(lookup, r#"{"key":"one"}"#).await.unwrap(), "1");
}

#[tokio::test]
async fn errors_become_failed_with_display_text() {
    assert_eq!(
        call(get_weather, r#"{"city":"Atlantis"}"#).await,
        Err(ToolError::Failed("no weather station in Atlantis".into()))
    );
    assert_eq!(call(read_config, r#"{"path":"a.toml"}"#).await, Err(ToolError::Failed("a.toml: not found".into())));
}

#[tokio::test]
async fn context_reaches_the_tool_and_stays_out_of_the_schema() {
    assert_eq!(call(whoami, r#"{"prefix":"hey"}"#).await.unwrap(), "hey ada via test (call_1)");
    assert_eq!(call(context_in_middle, r#"{"a":1,"b":2}"#).await.unwrap(), "3 call_1");
    let parameters = whoami.definition().parameters().clone();
    assert_eq!(parameters["properties"].as_object().map(|p| p.len()), Some(1));
    assert_eq!(parameters["required"], serde_json::json!(["prefix"]));
}

#[tokio::test]
async fn no_argument_forms_mean_empty_object() {
    // Q13: "", whitespace, null, {} and [] all mean "no arguments".
    for arguments in ["", "  ", "null", "{}", "[]", " { } "] {
        assert_eq!(call(reset, arguments).await.unwrap(), "done", "arguments {arguments:?}");
    }
}

#[tokio::test]
async fn double_encoded_arguments_are_unwrapped() {
    assert_eq!(call(add, r#""{\"a\":1,\"b\":2}""#).await.unwrap(), "3");
}

async fn invalid(tool: impl Tool, arguments: &str) -> String {
    match call(tool, arguments).await {
        Err(ToolError::InvalidArguments(message)) => message,
        other => panic!("expected invalid arguments, got {other:?}"),
    }
}

#[tokio::test]
async fn decoding_errors_name_the_argument_and_the_expectation() {
    assert_eq!(
        invalid(get_weather, r#"{"city":"Paris","unit":"kelvin"}"#).await,
        "`unit`: unknown variant `kelvin`, expected `celsius` or `fahrenheit`"
    );
    assert_eq!(invalid(get_weather, r#"{"unit":"celsius"}"#).await, "missing argument `city`");
    assert_eq!(invalid(get_weather, "").await, "missing argument `city`");
    assert_eq!(invalid(forecast, r#"{"days":"3"}"#).await, r#"`days`: invalid type: string "3", expected u8"#);
    assert_eq!(invalid(forecast, r#"{"days":300}"#).await, "`days`: invalid value: integer `300`, expected u8");
    // A null member counts as absent (strict mode sends null for optional arguments).
    assert_eq!(invalid(add, r#"{"a":1,"b":null}"#).await, "missing argument `b`");
    assert_eq!(
        invalid(add, "[1, 2]").await,
        "the arguments must be a JSON object with one key per argument, got an array"
    );
}

#[tokio::test]
async fn invalid_json_is_reported_not_executed() {
    // Q14: a model's broken JSON becomes an error message for the model.
    let message = invalid(add, r#"{"a":1,"b":"#).await;
    assert!(message.starts_with("the arguments are not valid JSON"), "{message}");
    let error = call(add, "{").await.unwrap_err();
    assert!(error.to_string().starts_with("invalid arguments: the arguments are not valid JSON"), "{error}");
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Place {
    pub name: String,
    pub tags: Vec<String>,
}

/// Visit places.
#[toolsmith::tool]
fn visit(places: Vec<Place>) -> usize {
    places.len()
}

#[tokio::test]
async fn nested_errors_give_the_full_path() {
    assert_eq!(
        invalid(visit, r#"{"places":[{"name":"a","tags":[]},{"name":"b","tags":[1]}]}"#).await,
        "`places[1].tags[0]`: invalid type: integer `1`, expected a string"
    );
    assert_eq!(invalid(visit, r#"{"places":[{"tags":[]}]}"#).await, "`places[0]`: missing field `name`");
}

#[test]
fn definitions_are_built_once_and_shared() {
    let first = get_weather.definition();
    let second = get_weather.definition();
    assert_eq!(first, second);
    assert!(std::ptr::eq(first.json(), second.json()), "the cached definition is shared, not rebuilt");
    assert_eq!(first.name(), "get_weather");
    assert_eq!(first.description(), "Get the current weather for a city.");
    assert!(!first.is_strict());
}

/// Named explicitly.
#[toolsmith::tool(name = "weather-v2", description = "  Overridden description.  ")]
fn renamed() -> u8 {
    1
}

#[test]
fn name_and_description_overrides() {
    let definition = renamed.definition();
    assert_eq!(definition.name(), "weather-v2");
    assert_eq!(definition.description(), "Overridden description.");
}

/// A description with **markdown**
/// over two lines.
///
/// Second paragraph.
///
/// # Arguments
///
/// * `first` - The first
///   one, continued.
/// * second: The second.
///
/// # Examples
/// Ignored for the schema.
#[toolsmith::tool]
fn documented(first: u8, second: u8) -> u8 {
    first + second
}

#[test]
fn description_stops_at_the_arguments_section() {
    let definition = documented.definition();
    assert_eq!(definition.description(), "A description with **markdown**\nover two lines.\n\nSecond paragraph.");
    let properties = &definition.parameters()["properties"];
    assert_eq!(properties["first"]["description"], "The first one, continued.");
    assert_eq!(properties["second"]["description"], "The second.");
}

/// The thread the body ran on.
#[toolsmith::tool(inline)]
fn thread_inline() -> String {
    format!("{:?}", std::thread::current().id())
}

/// The thread the body ran on.
#[toolsmith::tool]
fn thread_pooled() -> String {
    format!("{:?}", std::thread::current().id())
}

#[tokio::test]
async fn inline_sync_bodies_run_in_place_and_others_on_the_blocking_pool() {
    let here = format!("{:?}", std::thread::current().id());
    // The current-thread test runtime: in place means this very thread.
    assert_eq!(call(thread_inline, "{}").await.unwrap(), here);
    assert_ne!(call(thread_pooled, "{}").await.unwrap(), here);
    assert_eq!(thread_inline.definition().name(), "thread_inline");
}
