//! Argument decoding (what every `#[tool]` call runs on the model's text) and argument replay, on arbitrary
//! text. Checks: no panic; a decoding failure is `InvalidArguments` with a non-empty message; replayed
//! arguments are always a JSON object.

#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use toolsmith_core::client::replay_arguments;
use toolsmith_core::tool::{ToolError, decode_arguments};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum Unit {
    Celsius,
    Fahrenheit,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Location {
    lat: f64,
    lon: f64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum Query {
    All,
    Tag(String),
    Near { place: Location, radius_km: u16 },
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Args {
    city: String,
    unit: Option<Unit>,
    days: Option<u8>,
    query: Option<Query>,
    tags: Option<Vec<String>>,
    extra: Option<HashMap<String, i64>>,
}

#[derive(Debug, Deserialize)]
struct NoArgs {}

fn check<T: for<'de> Deserialize<'de>>(text: &str) {
    if let Err(error) = decode_arguments::<T>(text) {
        match error {
            ToolError::InvalidArguments(message) => assert!(!message.is_empty()),
            other => panic!("decoding failed with {other:?}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    check::<Args>(text);
    check::<NoArgs>(text);
    check::<HashMap<String, serde_json::Value>>(text);
    let replayed = replay_arguments(text);
    // JSON grammar, not `Value`: serde_json's `Value` also rejects numbers beyond f64 (`1e999`), which the
    // grammar and providers accept; replay checks the grammar only (IgnoredAny), so the same check here.
    assert!(replayed.trim_start().starts_with('{'), "replayed arguments are an object: {replayed}");
    serde_json::from_str::<serde::de::IgnoredAny>(&replayed).expect("replayed arguments are JSON");
});
