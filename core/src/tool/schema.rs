//! JSON Schemas for tool arguments and structured output, made lean (every byte is sent with every request)
//! and, on request, valid for OpenAI strict mode (Q30).
//!
//! schemars generates the schema; this module then rewrites it:
//! - drops `$schema`, every `title`, and the integer/float `format`s (`uint8`, `int64`, `double`, ...) a model
//!   cannot use, keeping `minimum`/`maximum`;
//! - inlines every `$defs` entry referenced once, keeping `$defs` only for types used several times or
//!   recursively;
//! - in strict mode, lists every property in `required` (optional ones become nullable), sets
//!   `additionalProperties: false` on every object, turns `oneOf` into `anyOf`, and removes the keywords strict
//!   mode rejects.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

const DEFS: &str = "$defs";
const REF_PREFIX: &str = "#/$defs/";

/// The JSON Schema of `T`, post-processed as described in the [module docs](self): lean, or strict-mode
/// valid when `strict` is true.
///
/// Used for tool arguments (`#[tool]`) and for typed answers (`response_format` / `final_result`).
///
/// ```
/// #[derive(schemars::JsonSchema)]
/// struct Point {
///     /// Horizontal position.
///     x: i32,
///     y: Option<i32>,
/// }
///
/// let lean = toolsmith_core::tool::schema_for::<Point>(false);
/// assert_eq!(lean["required"], serde_json::json!(["x"]));
/// assert!(lean.get("title").is_none());
///
/// let strict = toolsmith_core::tool::schema_for::<Point>(true);
/// assert_eq!(strict["required"], serde_json::json!(["x", "y"]));
/// assert_eq!(strict["additionalProperties"], serde_json::json!(false));
/// ```
pub fn schema_for<T: JsonSchema + ?Sized>(strict: bool) -> Value {
    let generator = SchemaSettings::draft2020_12().with(|settings| settings.meta_schema = None).into_generator();
    let schema = generator.into_root_schema_for::<T>().to_value();
    if strict { make_strict(make_lean(schema)) } else { make_lean(schema) }
}

/// Makes a schemars schema lean: see the [module docs](self). Exposed for schemas built by hand or by another
/// schemars configuration.
pub fn make_lean(mut schema: Value) -> Value {
    if let Some(root) = schema.as_object_mut() {
        root.remove("$schema");
    }
    walk(&mut schema, &mut |object| {
        object.remove("title");
        if object.get("format").and_then(Value::as_str).is_some_and(is_numeric_format) {
            object.remove("format");
        }
    });
    inline_single_use_defs(&mut schema);
    walk(&mut schema, &mut merge_nullable);
    ensure_object_root(&mut schema);
    schema
}

/// `anyOf: [{"type": "string", "enum": [..]}, {"type": "null"}]` (what `Option<T>` gives once `T` is inlined)
/// becomes `{"type": ["string", "null"], "enum": [.., null]}`, and `anyOf: [{"oneOf": [a, b]}, {"type": "null"}]`
/// becomes `anyOf: [a, b, {"type": "null"}]`: same meaning, fewer bytes.
fn merge_nullable(object: &mut Map<String, Value>) {
    let Some(Value::Array(variants)) = object.get("anyOf") else { return };
    let [first, second] = variants.as_slice() else { return };
    let is_null =
        |value: &Value| value.as_object().is_some_and(|o| o.len() == 1 && o.get("type") == Some(&Value::from("null")));
    let other = match (is_null(first), is_null(second)) {
        (false, true) => first,
        (true, false) => second,
        _ => return,
    };
    let Some(other) = other.as_object() else { return };
    let variants_only = other.keys().all(|key| key == "anyOf" || key == "oneOf" || key == "description");
    if variants_only && let Some(Value::Array(inner)) = other.get("anyOf").or_else(|| other.get("oneOf")) {
        // `Option<Enum>`: one flat list of alternatives, `null` among them.
        let mut flat = inner.clone();
        flat.push(serde_json::json!({"type": "null"}));
        let description = other.get("description").cloned();
        object.insert("anyOf".to_owned(), Value::Array(flat));
        if let Some(description) = description {
            object.entry("description").or_insert(description);
        }
        return;
    }
    let simple = matches!(other.get("type"), Some(Value::String(kind)) if kind != "object")
        && !other.contains_key("anyOf")
        && !other.contains_key("oneOf")
        && !other.contains_key("const");
    if !simple {
        return;
    }
    let mut merged = other.clone();
    if let Some(Value::String(kind)) = merged.remove("type") {
        merged.insert("type".to_owned(), serde_json::json!([kind, "null"]));
    }
    if let Some(Value::Array(values)) = merged.get_mut("enum") {
        values.push(Value::Null);
    }
    object.remove("anyOf");
    for (key, value) in std::mem::take(object) {
        merged.insert(key, value);
    }
    *object = merged;
}

/// Makes a lean schema valid for OpenAI strict mode: see the [module docs](self).
///
/// A map type (`HashMap<String, T>`) cannot be expressed in strict mode, which requires
/// `additionalProperties: false`; its schema is left as is, so the provider rejects the request with a clear
/// message instead of the model only ever sending an empty map.
pub fn make_strict(mut schema: Value) -> Value {
    inline_refs_with_siblings(&mut schema);
    walk(&mut schema, &mut strict_object);
    schema
}

fn is_numeric_format(format: &str) -> bool {
    matches!(
        format,
        "int"
            | "int8"
            | "int16"
            | "int32"
            | "int64"
            | "int128"
            | "uint"
            | "uint8"
            | "uint16"
            | "uint32"
            | "uint64"
            | "uint128"
            | "float"
            | "double"
    )
}

/// Keys whose value is one subschema.
const SCHEMA_KEYS: &[&str] =
    &["items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else", "unevaluatedItems"];
/// Keys whose value is an array of subschemas.
const SCHEMA_ARRAY_KEYS: &[&str] = &["anyOf", "oneOf", "allOf", "prefixItems"];
/// Keys whose value maps names to subschemas.
const SCHEMA_MAP_KEYS: &[&str] = &["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];

/// Calls `visit` on every schema object, parents before children. Only schema positions are visited, so a
/// property named `title` or `format` is never mistaken for a keyword.
fn walk(schema: &mut Value, visit: &mut impl FnMut(&mut Map<String, Value>)) {
    let Some(object) = schema.as_object_mut() else { return };
    visit(object);
    for (key, value) in object.iter_mut() {
        let key = key.as_str();
        if SCHEMA_KEYS.contains(&key) {
            walk(value, visit);
        } else if SCHEMA_ARRAY_KEYS.contains(&key) {
            if let Some(items) = value.as_array_mut() {
                items.iter_mut().for_each(|item| walk(item, visit));
            }
        } else if SCHEMA_MAP_KEYS.contains(&key)
            && let Some(map) = value.as_object_mut()
        {
            map.values_mut().for_each(|item| walk(item, visit));
        }
    }
}

fn ref_target(object: &Map<String, Value>) -> Option<&str> {
    object.get("$ref").and_then(Value::as_str).and_then(|reference| reference.strip_prefix(REF_PREFIX))
}

/// Every `$defs` name referenced inside `schema`, with repetitions.
fn collect_refs(schema: &mut Value, out: &mut Vec<String>) {
    walk(schema, &mut |object| {
        if let Some(name) = ref_target(object) {
            out.push(name.to_owned());
        }
    });
}

fn inline_single_use_defs(schema: &mut Value) {
    let Some(mut defs) = schema.as_object_mut().and_then(|root| root.remove(DEFS)).and_then(into_object) else {
        return;
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut root_refs = Vec::new();
    collect_refs(schema, &mut root_refs);
    for name in root_refs {
        *counts.entry(name).or_default() += 1;
    }
    for (name, def) in defs.iter_mut() {
        let mut refs = Vec::new();
        collect_refs(def, &mut refs);
        for target in &refs {
            *counts.entry(target.clone()).or_default() += 1;
        }
        edges.insert(name.clone(), refs.into_iter().collect());
    }
    let inlinable: BTreeSet<String> = defs
        .keys()
        .filter(|name| counts.get(*name).copied().unwrap_or(0) <= 1 && !reaches(&edges, name, name))
        .cloned()
        .collect();
    // Each inlinable definition is referenced at most once and not from itself, so substituting them one by
    // one (into the root or into another definition) terminates and moves every reference exactly once.
    let mut bodies: BTreeMap<String, Value> =
        inlinable.iter().filter_map(|name| defs.remove(name).map(|body| (name.clone(), body))).collect();
    while let Some(name) = bodies.keys().next().cloned() {
        let Some(body) = bodies.remove(&name) else { break };
        let mut body = Some(body);
        let mut substitute = |value: &mut Value| substitute_ref(value, &name, &mut body);
        substitute(schema);
        defs.values_mut().for_each(&mut substitute);
        bodies.values_mut().for_each(&mut substitute);
    }
    if !defs.is_empty()
        && let Some(root) = schema.as_object_mut()
    {
        root.insert(DEFS.to_owned(), Value::Object(defs));
    }
}

fn into_object(value: Value) -> Option<Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Whether `to` can be reached from `from` through at least one reference.
fn reaches(edges: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&str> =
        edges.get(from).map(|next| next.iter().map(String::as_str).collect()).unwrap_or_default();
    while let Some(name) = stack.pop() {
        if name == to {
            return true;
        }
        if seen.insert(name) {
            stack.extend(edges.get(name).into_iter().flatten().map(String::as_str));
        }
    }
    false
}

/// Replaces the (single) reference to `name` in `schema` with `body`, keeping the reference's sibling keys
/// (a field's description wins over its type's).
fn substitute_ref(schema: &mut Value, name: &str, body: &mut Option<Value>) {
    if body.is_none() {
        return;
    }
    let Some(object) = schema.as_object_mut() else { return };
    if ref_target(object) == Some(name) {
        let Some(Value::Object(mut merged)) = body.take() else { return };
        object.remove("$ref");
        for (key, value) in std::mem::take(object) {
            merged.insert(key, value);
        }
        *object = merged;
        return;
    }
    for (key, value) in object.iter_mut() {
        let key = key.as_str();
        if SCHEMA_KEYS.contains(&key) {
            substitute_ref(value, name, body);
        } else if SCHEMA_ARRAY_KEYS.contains(&key) {
            if let Some(items) = value.as_array_mut() {
                items.iter_mut().for_each(|item| substitute_ref(item, name, body));
            }
        } else if SCHEMA_MAP_KEYS.contains(&key)
            && let Some(map) = value.as_object_mut()
        {
            map.values_mut().for_each(|item| substitute_ref(item, name, body));
        }
    }
}

/// Tool parameters must be an object schema, even for a tool without arguments.
fn ensure_object_root(schema: &mut Value) {
    let Some(root) = schema.as_object_mut() else {
        *schema = serde_json::json!({"type": "object", "properties": {}});
        return;
    };
    if root.get("type").and_then(Value::as_str) == Some("object") && !root.contains_key("properties") {
        root.insert("properties".to_owned(), Value::Object(Map::new()));
    }
}

/// Strict mode rejects a `$ref` with sibling keywords: such references get a copy of the definition, unless
/// the definition is recursive, in which case the siblings are dropped.
fn inline_refs_with_siblings(schema: &mut Value) {
    let defs = schema.get(DEFS).and_then(Value::as_object).cloned().unwrap_or_default();
    if defs.is_empty() {
        return;
    }
    walk(schema, &mut |object| {
        let Some(name) = ref_target(object).map(str::to_owned) else { return };
        if object.len() == 1 {
            return;
        }
        let mut refs = Vec::new();
        if let Some(mut body) = defs.get(&name).cloned() {
            collect_refs(&mut body, &mut refs);
            if refs.is_empty()
                && let Value::Object(mut merged) = body
            {
                object.remove("$ref");
                for (key, value) in std::mem::take(object) {
                    merged.insert(key, value);
                }
                *object = merged;
                return;
            }
        }
        object.retain(|key, _| key == "$ref");
    });
}

/// Keywords OpenAI strict mode accepts; everything else is removed from strict schemas.
const STRICT_KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "$ref",
    "$defs",
    "description",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
];

const STRICT_FORMATS: &[&str] = &["date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"];

fn strict_object(object: &mut Map<String, Value>) {
    if let Some(one_of) = object.remove("oneOf") {
        object.insert("anyOf".to_owned(), one_of);
    }
    merge_single_all_of(object);
    if object.get("format").and_then(Value::as_str).is_some_and(|format| !STRICT_FORMATS.contains(&format)) {
        object.remove("format");
    }
    object.retain(|key, _| STRICT_KEYWORDS.contains(&key.as_str()));
    if !is_object_type(object) {
        return;
    }
    let map_like =
        object.get("additionalProperties").is_some_and(Value::is_object) && !object.contains_key("properties");
    if map_like {
        tracing::warn!("a map type cannot be expressed in an OpenAI strict-mode schema; the provider may reject it");
        return;
    }
    let required: BTreeSet<String> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let properties = object.entry("properties").or_insert_with(|| Value::Object(Map::new()));
    let mut all = Vec::new();
    if let Some(properties) = properties.as_object_mut() {
        for (name, property) in properties.iter_mut() {
            if !required.contains(name) {
                make_nullable(property);
            }
            all.push(Value::String(name.clone()));
        }
    }
    object.insert("required".to_owned(), Value::Array(all));
    object.insert("additionalProperties".to_owned(), Value::Bool(false));
}

fn is_object_type(object: &Map<String, Value>) -> bool {
    match object.get("type") {
        Some(Value::String(kind)) => kind == "object",
        Some(Value::Array(kinds)) => kinds.iter().any(|kind| kind == "object"),
        _ => object.contains_key("properties"),
    }
}

/// schemars puts `allOf: [one schema]` around some flattened or referenced types; strict mode has no `allOf`.
fn merge_single_all_of(object: &mut Map<String, Value>) {
    let single = matches!(object.get("allOf"), Some(Value::Array(items)) if items.len() == 1);
    if !single {
        object.remove("allOf");
        return;
    }
    if let Some(Value::Array(mut items)) = object.remove("allOf")
        && let Some(Value::Object(inner)) = items.pop()
    {
        for (key, value) in inner {
            object.entry(key).or_insert(value);
        }
    }
}

/// An optional property becomes required-but-nullable in strict mode.
fn make_nullable(property: &mut Value) {
    let Some(object) = property.as_object_mut() else { return };
    if accepts_null(object) {
        return;
    }
    if let Some(one_of) = object.remove("oneOf") {
        object.insert("anyOf".to_owned(), one_of);
    }
    let bare_any_of = object.contains_key("anyOf") && object.keys().all(|key| key == "anyOf" || key == "description");
    match object.get_mut("type") {
        Some(Value::String(kind)) => {
            let kind = std::mem::take(kind);
            object.insert("type".to_owned(), serde_json::json!([kind, "null"]));
            if let Some(Value::Array(values)) = object.get_mut("enum") {
                values.push(Value::Null);
            }
        }
        Some(Value::Array(kinds)) => kinds.push(Value::String("null".to_owned())),
        _ if bare_any_of => {
            if let Some(Value::Array(variants)) = object.get_mut("anyOf") {
                variants.push(serde_json::json!({"type": "null"}));
            }
        }
        _ => {
            let description = object.remove("description");
            let inner = std::mem::take(object);
            object.insert("anyOf".to_owned(), serde_json::json!([inner, {"type": "null"}]));
            if let Some(description) = description {
                object.insert("description".to_owned(), description);
            }
        }
    }
}

fn accepts_null(object: &Map<String, Value>) -> bool {
    let null_type = |value: &Value| value == "null";
    match object.get("type") {
        Some(Value::String(kind)) if kind == "null" => return true,
        Some(Value::Array(kinds)) if kinds.iter().any(null_type) => return true,
        _ => {}
    }
    object
        .get("anyOf")
        .and_then(Value::as_array)
        .is_some_and(|variants| variants.iter().any(|variant| variant.get("type").is_some_and(null_type)))
}
