//! `decode_arguments` decodes the usual arguments (an object without `null`) straight from the text and
//! everything else through a `Value`: on every input both must agree. The reference here is the slow path
//! spelled out with public parts: the arguments object, nulls dropped, decoded from the `Value`.

use proptest::prelude::*;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use toolsmith_core::tool::{arguments_object, decode_arguments};

#[derive(Debug, PartialEq, Deserialize)]
struct Args {
    count: i64,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    tags: Vec<u8>,
    #[serde(default)]
    place: Option<Place>,
    #[serde(default)]
    unit: Option<Unit>,
}

#[derive(Debug, PartialEq, Deserialize)]
struct Place {
    city: String,
    #[serde(default)]
    zip: Option<u32>,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Unit {
    Celsius,
    Fahrenheit,
}

fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(members) => {
            members.retain(|_, member| !member.is_null());
            members.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// The slow path: what `decode_arguments` gives for inputs its fast path does not take.
fn reference(text: &str) -> Option<Args> {
    let mut value = Value::Object(arguments_object(text).ok()?);
    drop_nulls(&mut value);
    serde_json::from_value(value).ok()
}

/// Values of the right type most of the time, otherwise something else.
fn member(usual: Value) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        5 => Just(Some(usual)),
        2 => Just(None),
        1 => Just(Some(Value::Null)),
        1 => prop_oneof![
            Just(json!("3")),
            Just(json!(1.5)),
            Just(json!(-1)),
            Just(json!([1, 2])),
            Just(json!({"city": "Rome"})),
            Just(json!(["Paris", 75001])),
            Just(json!("kelvin")),
            Just(json!("celsius")),
            Just(json!(true)),
        ]
        .prop_map(Some),
    ]
}

fn arguments() -> impl Strategy<Value = String> {
    (
        member(json!(42)),
        member(json!("a \"quoted\" label with null in it")),
        member(json!([1, 2, 3])),
        member(json!({"city": "Paris", "zip": 75001})),
        member(json!("fahrenheit")),
        member(json!("extra")),
        0..6u8,
    )
        .prop_map(|(count, label, tags, place, unit, extra, shape)| {
            let mut object = Map::new();
            for (key, value) in
                [("count", count), ("label", label), ("tags", tags), ("place", place), ("unit", unit), ("extra", extra)]
            {
                if let Some(value) = value {
                    object.insert(key.to_owned(), value);
                }
            }
            let text = Value::Object(object).to_string();
            match shape {
                // Double-encoded, padded, a duplicate key, and the plain text.
                0 => Value::String(text).to_string(),
                1 => format!("  \n{text}  "),
                2 => text.replacen('{', r#"{"count":7,"#, 1),
                _ => text,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_direct_decode_agrees_with_the_value_path(text in arguments()) {
        prop_assert_eq!(decode_arguments::<Args>(&text).ok(), reference(&text), "arguments {}", text);
    }
}

#[test]
fn no_argument_forms_and_arrays_take_the_value_path() {
    #[derive(Debug, PartialEq, Deserialize)]
    struct Pair {
        a: u8,
        b: u8,
    }
    // A derived struct also reads an array of its fields: the direct decode must not be tried on one.
    assert!(decode_arguments::<Pair>("[1, 2]").is_err());
    #[derive(Debug, PartialEq, Deserialize)]
    struct Nothing {}
    assert_eq!(decode_arguments::<Nothing>("").unwrap(), Nothing {});
    assert_eq!(decode_arguments::<Nothing>("null").unwrap(), Nothing {});
}
