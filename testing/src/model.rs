//! The built-in test model: a deterministic function from a request to a [`Reply`]. The heuristics are
//! documented on [`TestServer::test_model`](super::TestServer::test_model).

use serde_json::Value;

use super::ordered::Json;
use super::reply::Reply;
use super::schema::{FREE_TEXT, Generator, Known, Purpose};
use super::text::{self, MessageFacts};
use toolsmith_core::wire::ToolCall;

/// The structured-output fallback tool's name: called last, after the other tools' results are in.
pub(crate) const FINAL_RESULT: &str = "final_result";

/// Longest quoted user text in an echo answer, in characters.
const ECHO_LIMIT: usize = 200;
/// Longest tool result quoted in a summary line, in characters.
const RESULT_LIMIT: usize = 300;

/// Words of tool names that say nothing about the topic.
const NAME_STOPWORDS: &[&str] = &[
    "get", "set", "fetch", "current", "do", "run", "make", "tool", "the", "a", "an", "of", "for", "to", "by", "and",
    "or", "new", "my", "info", "data",
];

struct ToolInfo<'a> {
    name: &'a str,
    parameters: &'a Json,
}

enum Choice<'a> {
    Auto,
    None,
    Required,
    Named(&'a str),
}

/// One tool call of the conversation since the last user message, with its result when there is one.
struct PastCall {
    name: String,
    arguments: String,
    result: Option<String>,
}

static EMPTY_OBJECT: Json = Json::Null;

/// The test model's reply to a request (`body` and the same body with its key order kept).
pub(crate) fn respond(body: &Value, ordered: &Json) -> Reply {
    let messages = body.get("messages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let tools: Vec<ToolInfo> = ordered
        .get("tools")
        .and_then(Json::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(|tool| {
            let function = tool.get("function")?;
            Some(ToolInfo {
                name: function.get("name")?.as_str()?,
                parameters: function.get("parameters").unwrap_or(&EMPTY_OBJECT),
            })
        })
        .collect();
    let choice = match body.get("tool_choice") {
        Some(Value::String(mode)) if mode == "none" => Choice::None,
        Some(Value::String(mode)) if mode == "required" => Choice::Required,
        Some(Value::Object(named)) => match named.get("function").and_then(|f| f.get("name")).and_then(Value::as_str) {
            Some(name) => Choice::Named(name),
            None => Choice::Auto,
        },
        _ => Choice::Auto,
    };
    let parallel = body.get("parallel_tool_calls").and_then(Value::as_bool).unwrap_or(true);
    let last_user = messages.iter().rposition(|m| m.get("role").and_then(Value::as_str) == Some("user"));
    let user_text = last_user.map(|i| content_text(messages[i].get("content"))).unwrap_or_default();
    let since_user = &messages[last_user.map_or(0, |i| i + 1)..];
    let past = past_calls(since_user);
    // Unique across the conversation: one turn number per assistant message (Q19).
    let turn = messages.iter().filter(|m| m.get("role").and_then(Value::as_str) == Some("assistant")).count();

    let skip: Vec<String> = tools.iter().flat_map(|tool| name_words(tool.name)).collect();
    let facts = MessageFacts::new(&user_text, &skip);

    let answer = || answer(ordered, &facts, &past);
    if tools.is_empty() || matches!(choice, Choice::None) {
        return answer();
    }
    let forced = matches!(choice, Choice::Required | Choice::Named(_));
    let final_tool = tools.iter().find(|tool| tool.name == FINAL_RESULT);
    if past.iter().any(|call| call.name == FINAL_RESULT) && !forced {
        return answer();
    }
    let candidates: Vec<&ToolInfo> = tools
        .iter()
        .filter(|tool| tool.name != FINAL_RESULT)
        .filter(|tool| match choice {
            Choice::Named(name) => tool.name == name,
            _ => true,
        })
        .collect();
    // A message that names no tool gets a text answer, as from a real model ("Hello"); only a forced
    // choice makes the model call something anyway.
    let named = relevant(&candidates, &facts);
    let plan = plan(if named.is_empty() && forced { &candidates } else { &named }, &facts);
    let calls = |calls: Vec<(String, String)>| {
        let calls = calls
            .into_iter()
            .enumerate()
            .map(|(i, (name, arguments))| ToolCall::new(format!("call_{turn}_{i}"), name, arguments))
            .collect();
        Reply::tool_calls(calls)
    };
    let final_call = |tool: &ToolInfo| {
        let known = known_values(&past);
        let summary = summary(&past);
        let value = Generator::new(tool.parameters, &facts, &known, &summary, Purpose::Answer)
            .with_result_numbers(result_numbers(&past))
            .root_value(&[]);
        let value = if matches!(value, Json::Object(_)) { value } else { Json::Object(Vec::new()) };
        calls(vec![(FINAL_RESULT.to_owned(), value.to_text())])
    };
    if past.is_empty() || forced {
        if !plan.is_empty() {
            return calls(if parallel { plan } else { plan.into_iter().take(1).collect() });
        }
        return match final_tool {
            Some(tool) => final_call(tool),
            None => answer(),
        };
    }
    if !parallel && past.len() < plan.len() {
        return calls(plan.into_iter().skip(past.len()).take(1).collect());
    }
    match final_tool {
        Some(tool) => final_call(tool),
        None => answer(),
    }
}

/// The text of a `content` value: a string, or the text parts joined.
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => {
            parts.iter().filter_map(|part| part.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join(" ")
        }
        _ => String::new(),
    }
}

fn past_calls(messages: &[Value]) -> Vec<PastCall> {
    let mut calls: Vec<(String, PastCall)> = Vec::new();
    for message in messages {
        match message.get("role").and_then(Value::as_str) {
            Some("assistant") => {
                for call in message.get("tool_calls").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
                    let function = call.get("function");
                    let text = |key: &str| {
                        function.and_then(|f| f.get(key)).and_then(Value::as_str).unwrap_or_default().to_owned()
                    };
                    let id = call.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
                    calls.push((id, PastCall { name: text("name"), arguments: text("arguments"), result: None }));
                }
            }
            Some("tool") => {
                let id = message.get("tool_call_id").and_then(Value::as_str).unwrap_or_default();
                if let Some((_, call)) = calls.iter_mut().find(|(call_id, call)| call_id == id && call.result.is_none())
                {
                    call.result = Some(content_text(message.get("content")));
                }
            }
            _ => {}
        }
    }
    calls.into_iter().map(|(_, call)| call).collect()
}

/// The topic words of a tool name: `get_weather` → `weather`, `listNotes` → `list`, `notes`.
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if (c == '_' || c == '-' || (c.is_uppercase() && previous_lower)) && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        if c != '_' && c != '-' {
            current.extend(c.to_lowercase());
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    if !current.is_empty() {
        words.push(current);
    }
    words.retain(|word| !NAME_STOPWORDS.contains(&word.as_str()));
    words
}

/// A crude stem: `divided` and `divide` → `divid`, `notes` and `note` → `not`.
fn stem(word: &str) -> &str {
    for suffix in ["ing", "ed", "es", "s", "e"] {
        if let Some(stem) = word.strip_suffix(suffix)
            && stem.len() >= 3
        {
            return stem;
        }
    }
    word
}

fn related(tool_word: &str, message_word: &str) -> bool {
    let (a, b) = (stem(tool_word), stem(message_word));
    if a == b {
        return true;
    }
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    common >= 5 && common + 2 >= a.len().min(b.len())
}

/// The tools whose name shares a word with the message.
fn relevant<'a>(tools: &[&'a ToolInfo<'a>], facts: &MessageFacts) -> Vec<&'a ToolInfo<'a>> {
    tools
        .iter()
        .copied()
        .filter(|tool| name_words(tool.name).iter().any(|word| facts.words.iter().any(|said| related(word, said))))
        .collect()
}

fn is_listing(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower.split(['_', '-']).any(|word| ["list", "all", "enumerate"].contains(&word)) || lower.starts_with("list")
}

/// The calls for the user's message, in tool order: `(name, arguments JSON)`.
fn plan(tools: &[&ToolInfo], facts: &MessageFacts) -> Vec<(String, String)> {
    let none = Known::new();
    let mut calls = Vec::new();
    for tool in tools {
        if is_listing(tool.name) {
            let value = Generator::new(tool.parameters, facts, &none, "", Purpose::ListingArguments).root_value(&[]);
            calls.push((tool.name.to_owned(), value.to_text()));
            continue;
        }
        let mut choices = Vec::new();
        enum_words(tool.parameters, &mut choices);
        let values: Vec<String> = match target_property(tool.parameters) {
            Some(target) if is_free_text(&target) => facts.quoted.clone(),
            // A word the schema lists as an enum value ("Fahrenheit") is a setting, not a name.
            Some(_) => {
                facts.candidates().iter().filter(|name| !choices.contains(&name.to_lowercase())).cloned().collect()
            }
            None => Vec::new(),
        };
        let target = target_property(tool.parameters);
        match target {
            Some(target) if !values.is_empty() => {
                for value in values {
                    let fixed = [(target.clone(), Json::String(value))];
                    let args = Generator::new(tool.parameters, facts, &none, "", Purpose::Arguments).root_value(&fixed);
                    calls.push((tool.name.to_owned(), args.to_text()));
                }
            }
            _ => {
                let args = Generator::new(tool.parameters, facts, &none, "", Purpose::Arguments).root_value(&[]);
                calls.push((tool.name.to_owned(), args.to_text()));
            }
        }
    }
    calls
}

/// Every string enum value (lowercased) anywhere in a schema.
fn enum_words(schema: &Json, out: &mut Vec<String>) {
    match schema {
        Json::Object(entries) => {
            for (key, value) in entries {
                if key == "enum"
                    && let Some(values) = value.as_array()
                {
                    out.extend(values.iter().filter_map(Json::as_str).map(str::to_lowercase));
                } else {
                    enum_words(value, out);
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|item| enum_words(item, out)),
        _ => {}
    }
}

fn is_free_text(name: &str) -> bool {
    let lower = name.to_lowercase();
    FREE_TEXT.iter().any(|word| lower == *word || lower.ends_with(&format!("_{word}")))
}

/// The first required property that is a plain string (no enum, const, format or null).
fn target_property(schema: &Json) -> Option<String> {
    let required: Vec<&str> =
        schema.get("required").and_then(Json::as_array).unwrap_or_default().iter().filter_map(Json::as_str).collect();
    schema.get("properties").and_then(Json::as_object).unwrap_or_default().iter().find_map(|(name, property)| {
        let plain = property.get("type").and_then(Json::as_str) == Some("string")
            && property.get("enum").is_none()
            && property.get("const").is_none()
            && property.get("format").is_none();
        (plain && required.contains(&name.as_str())).then(|| name.clone())
    })
}

/// Whether a tool result reads as an error (the agent writes `Error: ...` and `... was not run: ...`).
fn is_error(text: &str) -> bool {
    let lower = text.trim_start().to_lowercase();
    ["error", "failed", "failure", "invalid arguments", "unknown tool", "exception", "panic"]
        .iter()
        .any(|prefix| lower.starts_with(prefix))
        || lower.contains("was not run")
        || serde_json::from_str::<Value>(text).is_ok_and(|v| v.get("error").is_some_and(|e| !e.is_null()))
}

fn one_line(text: &str, limit: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= limit {
        flat
    } else {
        let cut: String = flat.chars().take(limit).collect();
        format!("{cut}…")
    }
}

/// One line per answered call: `name: result` or `name failed: message`.
fn summary(past: &[PastCall]) -> String {
    let lines: Vec<String> = past
        .iter()
        .filter(|call| call.name != FINAL_RESULT)
        .filter_map(|call| {
            let result = call.result.as_deref()?;
            Some(if is_error(result) {
                let message = result.trim_start();
                let message = ["Error:", "error:", "ERROR:"]
                    .iter()
                    .find_map(|prefix| message.strip_prefix(prefix))
                    .unwrap_or(message);
                format!("{} failed: {}", call.name, one_line(message, RESULT_LIMIT))
            } else {
                format!("{}: {}", call.name, one_line(result, RESULT_LIMIT))
            })
        })
        .collect();
    lines.join("\n")
}

/// Values by lowercased property name: the calls' arguments, then their JSON results (later ones win), and
/// scalar results under the tool's name and its topic (`get_temperature` → `temperature`).
fn known_values(past: &[PastCall]) -> Known {
    let mut known = Known::new();
    for call in past {
        if let Ok(Json::Object(entries)) = serde_json::from_str::<Json>(&call.arguments) {
            known.extend(entries.into_iter().map(|(k, v)| (k.to_lowercase(), v)));
        }
    }
    for call in past {
        let Some(result) = call.result.as_deref().filter(|r| !is_error(r)) else { continue };
        match serde_json::from_str::<Json>(result) {
            Ok(Json::Object(entries)) => known.extend(entries.into_iter().map(|(k, v)| (k.to_lowercase(), v))),
            Ok(scalar @ (Json::Number(_) | Json::String(_) | Json::Bool(_))) => {
                known.push((call.name.to_lowercase(), scalar.clone()));
                known.extend(name_words(&call.name).into_iter().map(|word| (word, scalar.clone())));
            }
            _ => {
                let scalar = Json::String(result.trim().to_owned());
                known.push((call.name.to_lowercase(), scalar.clone()));
                known.extend(name_words(&call.name).into_iter().map(|word| (word, scalar.clone())));
            }
        }
    }
    known
}

/// The numbers in the successful tool results, in call order.
fn result_numbers(past: &[PastCall]) -> Vec<f64> {
    past.iter()
        .filter_map(|call| call.result.as_deref())
        .filter(|result| !is_error(result))
        .flat_map(text::numbers)
        .collect()
}

/// The final answer: a JSON document for `response_format`, else the tool-result summary, else an echo.
fn answer(ordered: &Json, facts: &MessageFacts, past: &[PastCall]) -> Reply {
    let summary = summary(past);
    let format = ordered.get("response_format");
    match format.and_then(|f| f.get("type")).and_then(Json::as_str) {
        Some("json_schema") => {
            let schema =
                format.and_then(|f| f.get("json_schema")).and_then(|s| s.get("schema")).unwrap_or(&EMPTY_OBJECT);
            let known = known_values(past);
            let value = Generator::new(schema, facts, &known, &summary, Purpose::Answer)
                .with_result_numbers(result_numbers(past))
                .root_value(&[]);
            return Reply::text(value.to_text());
        }
        Some("json_object") => {
            let text = if summary.is_empty() { echo(facts) } else { summary };
            return Reply::text(Json::Object(vec![("answer".into(), Json::String(text))]).to_text());
        }
        _ => {}
    }
    if summary.is_empty() {
        return Reply::text(echo(facts));
    }
    Reply::text(format!("Here is what I found:\n{summary}"))
}

fn echo(facts: &MessageFacts) -> String {
    let said = one_line(&facts.text, ECHO_LIMIT);
    if said.is_empty() { "Hello! How can I help?".to_owned() } else { format!("You said: {said}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_words_drop_verbs() {
        assert_eq!(name_words("get_weather"), ["weather"]);
        assert_eq!(name_words("listNotes"), ["list", "notes"]);
    }

    #[test]
    fn stems_relate_inflections() {
        assert!(related("divide", "divided"));
        assert!(related("notes", "note"));
        assert!(related("multiply", "multiplied"));
        assert!(!related("add", "address"));
    }

    #[test]
    fn errors_are_recognised() {
        assert!(is_error("Error: division by zero"));
        assert!(is_error(r#"{"error":"nope"}"#));
        assert!(!is_error("18 °C, sunny"));
    }
}
