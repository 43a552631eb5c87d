//! Values generated from a JSON Schema, filled from what the user said where possible.

use serde_json::Number;

use super::ordered::Json;
use super::text::MessageFacts;

/// Recursion limit for `$ref` cycles and deep nesting.
const MAX_DEPTH: usize = 12;
/// Most values generated for one document, so a schema with wide `$ref` fan-out cannot blow up.
const MAX_VALUES: usize = 10_000;
/// Most items generated for one array, whatever `minItems` says.
const MAX_ITEMS: usize = 16;
/// Longest generated string, whatever `minLength` says.
const MAX_STRING: usize = 1_000;

/// Property names whose value is free text: they get the user's message (tool arguments) or the summary
/// of the tool results (answers).
pub(crate) const FREE_TEXT: &[&str] = &[
    "text",
    "content",
    "body",
    "message",
    "note",
    "query",
    "question",
    "prompt",
    "input",
    "description",
    "summary",
    "answer",
    "comment",
    "details",
    "reason",
    "explanation",
    "response",
    "result",
];

/// How a value is being generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Tool-call arguments: message values only (numbers in order, enum words, free text); nullable → null.
    Arguments,
    /// Tool-call arguments of a listing tool: schema defaults only, nothing taken from the message.
    ListingArguments,
    /// An answer document (`response_format: json_schema`, `final_result`): names from tool results and
    /// arguments by property name, then the message's names and numbers in order.
    Answer,
}

/// Known values by (lowercased) property name, from tool results and call arguments.
pub(crate) type Known = Vec<(String, Json)>;

pub(crate) struct Generator<'a> {
    root: &'a Json,
    facts: &'a MessageFacts,
    known: &'a Known,
    summary: &'a str,
    purpose: Purpose,
    /// The numbers to use in order: the tool results' then the message's (answers), or the message's.
    numbers: Vec<f64>,
    next_number: usize,
    next_name: usize,
    generated: usize,
}

impl<'a> Generator<'a> {
    pub fn new(root: &'a Json, facts: &'a MessageFacts, known: &'a Known, summary: &'a str, purpose: Purpose) -> Self {
        let numbers = facts.numbers.clone();
        Generator { root, facts, known, summary, purpose, numbers, next_number: 0, next_name: 0, generated: 0 }
    }

    /// Uses these numbers (from tool results) before the message's.
    pub fn with_result_numbers(mut self, mut numbers: Vec<f64>) -> Self {
        numbers.append(&mut self.numbers);
        self.numbers = numbers;
        self
    }

    /// A value for the root schema, with `fixed` (property, value) pairs placed first-hand.
    pub fn root_value(&mut self, fixed: &[(String, Json)]) -> Json {
        let root = self.root;
        match self.value(root, None, 0, fixed) {
            Json::Null if self.purpose != Purpose::Answer => Json::Object(Vec::new()),
            value => value,
        }
    }

    fn value(&mut self, schema: &Json, key: Option<&str>, depth: usize, fixed: &[(String, Json)]) -> Json {
        self.generated += 1;
        if depth > MAX_DEPTH || self.generated > MAX_VALUES {
            return Json::Null;
        }
        let root = self.root;
        let schema = resolve(root, schema);
        match schema {
            Json::Bool(true) => return Json::String("example".into()),
            Json::Object(_) => {}
            _ => return Json::Null,
        }
        if let Some(constant) = schema.get("const") {
            return constant.clone();
        }
        if let Some(known) = self.known_value(key, schema) {
            return known;
        }
        if let Some(choices) = schema.get("enum").and_then(Json::as_array) {
            return self.pick_enum(choices);
        }
        if let Some(parts) = schema.get("allOf").and_then(Json::as_array) {
            if let [only] = parts {
                return self.value(only, key, depth + 1, fixed);
            }
            let merged = self.merge(parts);
            return self.object(&merged, depth, fixed);
        }
        for combinator in ["anyOf", "oneOf"] {
            if let Some(variants) = schema.get(combinator).and_then(Json::as_array) {
                let concrete: Vec<&Json> = variants.iter().filter(|v| !is_null_schema(resolve(root, v))).collect();
                if (concrete.len() < variants.len() && self.purpose != Purpose::Answer) || concrete.is_empty() {
                    return Json::Null;
                }
                let mut value = self.value(concrete[0], key, depth + 1, fixed);
                // A variant's sibling keywords (e.g. `description`) do not change the value; a variant that
                // came out null gets the next one.
                for variant in &concrete[1..] {
                    if value != Json::Null {
                        break;
                    }
                    value = self.value(variant, key, depth + 1, fixed);
                }
                return value;
            }
        }
        let types = types(schema);
        let nullable = types.contains(&"null") || matches!(schema.get("nullable"), Some(Json::Bool(true)));
        if nullable && self.purpose != Purpose::Answer {
            // An `Option` in a strict schema is required but nullable: the model leaves it empty.
            return Json::Null;
        }
        let base = types.iter().copied().find(|t| *t != "null").unwrap_or_else(|| {
            if schema.get("properties").is_some() {
                "object"
            } else if schema.get("items").is_some() || schema.get("prefixItems").is_some() {
                "array"
            } else if types.contains(&"null") {
                "null"
            } else {
                "string"
            }
        });
        match base {
            "object" => self.object(schema, depth, fixed),
            "array" => self.array(schema, key, depth),
            "integer" => self.number(schema, true),
            "number" => self.number(schema, false),
            "boolean" => Json::Bool(false),
            "null" => Json::Null,
            _ => Json::String(self.string(schema, key)),
        }
    }

    /// A known value for this property, when generating an answer and its type fits.
    fn known_value(&self, key: Option<&str>, schema: &Json) -> Option<Json> {
        if self.purpose != Purpose::Answer {
            return None;
        }
        let key = key?.to_lowercase();
        let value = self.known.iter().rev().find(|(name, _)| *name == key).map(|(_, value)| value)?;
        let types = types(schema);
        let fits = match value {
            Json::String(text) => match schema.get("enum").and_then(Json::as_array) {
                Some(choices) => choices.iter().any(|c| c.as_str() == Some(text)),
                None => types.is_empty() || types.contains(&"string"),
            },
            Json::Number(n) => {
                types.contains(&"number") || types.contains(&"integer") && n.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            Json::Bool(_) => types.contains(&"boolean"),
            _ => false,
        };
        fits.then(|| value.clone())
    }

    fn pick_enum(&self, choices: &[Json]) -> Json {
        if self.purpose != Purpose::ListingArguments {
            let said = choices.iter().find(|choice| {
                choice.as_str().is_some_and(|text| self.facts.words.iter().any(|word| word.eq_ignore_ascii_case(text)))
            });
            if let Some(said) = said {
                return said.clone();
            }
        }
        choices.iter().find(|c| **c != Json::Null).or_else(|| choices.first()).cloned().unwrap_or(Json::Null)
    }

    /// The properties and `required` of several schemas as one object schema.
    fn merge(&self, parts: &[Json]) -> Json {
        let mut properties = Vec::new();
        let mut required = Vec::new();
        for part in parts {
            let part = resolve(self.root, part);
            if let Some(entries) = part.get("properties").and_then(Json::as_object) {
                properties.extend(entries.iter().cloned());
            }
            if let Some(names) = part.get("required").and_then(Json::as_array) {
                required.extend(names.iter().cloned());
            }
        }
        Json::Object(vec![
            ("type".into(), Json::String("object".into())),
            ("properties".into(), Json::Object(properties)),
            ("required".into(), Json::Array(required)),
        ])
    }

    fn object(&mut self, schema: &Json, depth: usize, fixed: &[(String, Json)]) -> Json {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Json::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(Json::as_str)
            .collect();
        let mut entries = Vec::new();
        for (name, property) in schema.get("properties").and_then(Json::as_object).unwrap_or_default() {
            if let Some((_, value)) = fixed.iter().find(|(key, _)| key == name) {
                entries.push((name.clone(), value.clone()));
                continue;
            }
            let is_required = required.contains(&name.as_str());
            let known =
                self.purpose == Purpose::Answer && self.known.iter().any(|(key, _)| *key == name.to_lowercase());
            if !is_required && !known {
                continue;
            }
            let value = self.value(property, Some(name), depth + 1, &[]);
            entries.push((name.clone(), value));
        }
        Json::Object(entries)
    }

    fn array(&mut self, schema: &Json, key: Option<&str>, depth: usize) -> Json {
        if let Some(prefix) = schema.get("prefixItems").and_then(Json::as_array) {
            return Json::Array(prefix.iter().map(|item| self.value(item, key, depth + 1, &[])).collect());
        }
        let min = (schema.get("minItems").and_then(Json::as_f64).unwrap_or(0.0).max(0.0) as usize).min(MAX_ITEMS);
        let max = schema.get("maxItems").and_then(Json::as_f64).map_or(usize::MAX, |m| m.max(0.0) as usize);
        let Some(items) = schema.get("items") else {
            return Json::Array(Vec::new());
        };
        let items_schema = resolve(self.root, items);
        let plain_strings = types(items_schema) == ["string"] && items_schema.get("enum").is_none();
        if plain_strings && self.purpose != Purpose::ListingArguments && !self.facts.candidates().is_empty() {
            // A list of names gets every name of the message.
            let names = self.facts.candidates();
            let count = names.len().clamp(min.min(max), max);
            let mut values: Vec<Json> = names.iter().take(count).cloned().map(Json::String).collect();
            while values.len() < min.min(max) {
                values.push(Json::String(self.string(items_schema, key)));
            }
            return Json::Array(values);
        }
        let count = min.max(1).min(max);
        Json::Array((0..count).map(|_| self.value(items, key, depth + 1, &[])).collect())
    }

    fn number(&mut self, schema: &Json, integer: bool) -> Json {
        let minimum = schema.get("minimum").and_then(Json::as_f64);
        let maximum = schema.get("maximum").and_then(Json::as_f64);
        let exclusive_min = schema.get("exclusiveMinimum").and_then(Json::as_f64);
        let exclusive_max = schema.get("exclusiveMaximum").and_then(Json::as_f64);
        let step = if integer { 1.0 } else { 0.5 };
        let low = match (minimum, exclusive_min) {
            (Some(a), Some(b)) => Some(a.max(b + step)),
            (a, b) => a.or(b.map(|b| b + step)),
        };
        let high = match (maximum, exclusive_max) {
            (Some(a), Some(b)) => Some(a.min(b - step)),
            (a, b) => a.or(b.map(|b| b - step)),
        };
        let from_message = if self.purpose == Purpose::ListingArguments {
            None
        } else {
            let next = self.numbers.get(self.next_number).copied();
            self.next_number += usize::from(next.is_some());
            next
        };
        let mut value = from_message.unwrap_or_else(|| schema.get("default").and_then(Json::as_f64).unwrap_or(1.0));
        if integer {
            value = value.round();
        }
        if let Some(low) = low {
            value = value.max(if integer { low.ceil() } else { low });
        }
        if let Some(high) = high {
            value = value.min(if integer { high.floor() } else { high });
        }
        number_json(value)
    }

    fn string(&mut self, schema: &Json, key: Option<&str>) -> String {
        let key = key.unwrap_or_default().to_lowercase();
        let format = schema.get("format").and_then(Json::as_str).unwrap_or_default();
        let listing = self.purpose == Purpose::ListingArguments;
        let mut value = match format {
            "date-time" => "2025-01-01T12:00:00Z".to_owned(),
            "date" => "2025-01-01".to_owned(),
            "time" => "12:00:00".to_owned(),
            "uuid" => "00000000-0000-4000-8000-000000000000".to_owned(),
            "email" => {
                self.facts.emails.first().filter(|_| !listing).cloned().unwrap_or_else(|| "user@example.com".to_owned())
            }
            "uri" | "url" => self
                .facts
                .urls
                .first()
                .filter(|_| !listing)
                .cloned()
                .unwrap_or_else(|| "https://example.com".to_owned()),
            _ if key.contains("email") && !listing && !self.facts.emails.is_empty() => self.facts.emails[0].clone(),
            _ if key.contains("url") && !listing && !self.facts.urls.is_empty() => self.facts.urls[0].clone(),
            _ => match schema.get("default").and_then(Json::as_str) {
                Some(default) => default.to_owned(),
                None => self.plain_string(&key),
            },
        };
        let min = (schema.get("minLength").and_then(Json::as_f64).unwrap_or(0.0).max(0.0) as usize).min(MAX_STRING);
        let max = schema.get("maxLength").and_then(Json::as_f64).map_or(usize::MAX, |m| m as usize);
        while value.chars().count() < min {
            value.push('x');
        }
        if value.chars().count() > max {
            value = value.chars().take(max).collect();
        }
        value
    }

    fn plain_string(&mut self, key: &str) -> String {
        let free_text = FREE_TEXT.iter().any(|word| key == *word || key.ends_with(&format!("_{word}")));
        match self.purpose {
            Purpose::ListingArguments => "example".to_owned(),
            Purpose::Arguments if free_text => self.facts.text.trim().to_owned(),
            Purpose::Arguments => "example".to_owned(),
            Purpose::Answer if free_text => {
                if self.summary.is_empty() {
                    self.facts.text.trim().to_owned()
                } else {
                    self.summary.to_owned()
                }
            }
            Purpose::Answer => match self.facts.candidates().get(self.next_name) {
                Some(name) => {
                    self.next_name += 1;
                    name.clone()
                }
                None => format!("example {}", key.replace('_', " ")).trim().to_owned(),
            },
        }
    }
}

/// Follows local `$ref`s (a bounded number of times, for cycles).
fn resolve<'s>(root: &'s Json, mut schema: &'s Json) -> &'s Json {
    for _ in 0..MAX_DEPTH {
        let Some(reference) = schema.get("$ref").and_then(Json::as_str) else { break };
        match lookup(root, reference) {
            Some(target) => schema = target,
            None => break,
        }
    }
    schema
}

fn is_null_schema(schema: &Json) -> bool {
    types(schema) == ["null"]
}

fn types(schema: &Json) -> Vec<&str> {
    match schema.get("type") {
        Some(Json::String(kind)) => vec![kind.as_str()],
        Some(Json::Array(kinds)) => kinds.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Resolves a local `$ref` (`#/$defs/Name`, `#/definitions/Name`, any `#/...` pointer).
fn lookup<'r>(root: &'r Json, reference: &str) -> Option<&'r Json> {
    let pointer = reference.strip_prefix('#')?;
    let mut node = root;
    for part in pointer.split('/').filter(|p| !p.is_empty()) {
        let part = part.replace("~1", "/").replace("~0", "~");
        node = match node {
            Json::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => node.get(&part)?,
        };
    }
    Some(node)
}

/// Integral values are written without a fraction (`7`, not `7.0`), so integer fields accept them.
fn number_json(value: f64) -> Json {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        Json::Number(Number::from(value as i64))
    } else {
        Number::from_f64(value).map_or(Json::Null, Json::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate(schema: &str, message: &str, purpose: Purpose) -> String {
        let schema: Json = serde_json::from_str(schema).unwrap();
        let facts = MessageFacts::new(message, &[]);
        Generator::new(&schema, &facts, &Known::new(), "", purpose).root_value(&[]).to_text()
    }

    #[test]
    fn recursive_refs_terminate() {
        let tree = r##"{"$ref":"#/$defs/Node","$defs":{"Node":{"type":"object",
            "properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/Node"}}},
            "required":["name","children"]}}}"##;
        let text = generate(tree, "", Purpose::Arguments);
        assert!(text.starts_with(r#"{"name":"example","children":[{"name":"example""#), "{text}");
    }

    #[test]
    fn wide_fan_out_is_bounded() {
        let wide = r##"{"$ref":"#/$defs/N","$defs":{"N":{"type":"object","required":["a","b","c","d"],
            "properties":{"a":{"$ref":"#/$defs/N"},"b":{"$ref":"#/$defs/N"},"c":{"$ref":"#/$defs/N"},
                          "d":{"$ref":"#/$defs/N"}}}}}"##;
        assert!(generate(wide, "", Purpose::Arguments).len() < 1_000_000);
    }

    #[test]
    fn huge_bounds_are_capped() {
        let schema = r#"{"type":"object","required":["xs","s"],"properties":{
            "xs":{"type":"array","items":{"type":"integer"},"minItems":1000000000},
            "s":{"type":"string","minLength":1e12}}}"#;
        assert!(generate(schema, "", Purpose::Arguments).len() < 2_000);
    }

    #[test]
    fn answers_generate_nullable_values_and_arguments_leave_them_null() {
        let schema = r#"{"type":"object","required":["n"],"properties":{"n":{"type":["integer","null"]}}}"#;
        assert_eq!(generate(schema, "give me 5", Purpose::Arguments), r#"{"n":null}"#);
        assert_eq!(generate(schema, "give me 5", Purpose::Answer), r#"{"n":5}"#);
    }
}
