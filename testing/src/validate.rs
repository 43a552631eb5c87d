//! Request validation as strict as the strictest providers, so the test server referees the agent's replayed
//! history: a request that OpenAI, Mistral or DeepSeek would reject with a 400 is rejected here too, with an
//! OpenAI-style error body.

use std::collections::HashSet;

use serde_json::{Map, Value};

/// A rejected request: serialized as `{"error":{"message","type":"invalid_request_error","param","code"}}`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Invalid {
    pub message: String,
    pub param: Option<String>,
    pub code: Option<&'static str>,
}

impl Invalid {
    fn new(message: impl Into<String>, param: impl Into<String>) -> Self {
        Invalid { message: message.into(), param: Some(param.into()), code: None }
    }

    fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub fn body(&self) -> Value {
        serde_json::json!({"error": {
            "message": self.message,
            "type": "invalid_request_error",
            "param": self.param,
            "code": self.code,
        }})
    }
}

/// Top-level fields of `CreateChatCompletionRequest`; anything else is rejected like OpenAI does (Q29).
const KNOWN_FIELDS: &[&str] = &[
    "model",
    "messages",
    "temperature",
    "top_p",
    "n",
    "stream",
    "stream_options",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "user",
    "seed",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "store",
    "metadata",
    "service_tier",
    "reasoning_effort",
    "modalities",
    "audio",
    "prediction",
    "web_search_options",
    "verbosity",
    "prompt_cache_key",
    "safety_identifier",
];

/// Whether `name` matches `^[a-zA-Z0-9_-]{1,64}$` (tool and `json_schema` names, Q21).
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Checks a decoded request body.
pub(crate) fn validate(body: &Value) -> Result<(), Invalid> {
    let Some(request) = body.as_object() else {
        return Err(Invalid {
            message: "We could not parse the JSON body of your request: expected a JSON object.".into(),
            param: None,
            code: None,
        });
    };
    if let Some(unknown) = request.keys().find(|key| !KNOWN_FIELDS.contains(&key.as_str())) {
        return Err(Invalid::new(format!("Unrecognized request argument supplied: {unknown}"), unknown.clone()));
    }
    match request.get("model") {
        Some(Value::String(model)) if !model.is_empty() => {}
        _ => return Err(Invalid::new("you must provide a model parameter", "model")),
    }
    let stream = match request.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(stream)) => *stream,
        Some(other) => return Err(type_error("stream", other, "a boolean")),
    };
    if request.get("stream_options").is_some_and(|options| !options.is_null()) && !stream {
        // Q28: OpenAI rejects stream_options without stream.
        return Err(Invalid::new(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
        ));
    }
    let tool_names = validate_tools(request)?;
    validate_tool_choice(request, &tool_names)?;
    validate_response_format(request)?;
    match request.get("messages") {
        None | Some(Value::Null) => Err(Invalid::new("Missing required parameter: 'messages'.", "messages")),
        Some(Value::Array(messages)) if messages.is_empty() => Err(Invalid::new(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            "messages",
        )
        .code("empty_array")),
        Some(Value::Array(messages)) => validate_messages(messages),
        Some(other) => Err(type_error("messages", other, "an array")),
    }
}

fn type_error(param: &str, value: &Value, expected: &str) -> Invalid {
    Invalid::new(format!("Invalid type for '{param}': expected {expected}, but got {}.", kind(value)), param)
        .code("invalid_type")
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn validate_tools(request: &Map<String, Value>) -> Result<Vec<String>, Invalid> {
    let tools = match request.get("tools") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(tools)) => tools,
        Some(other) => return Err(type_error("tools", other, "an array")),
    };
    let mut names = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let param = format!("tools[{i}]");
        if tool.get("type").and_then(Value::as_str) != Some("function") {
            return Err(Invalid::new(format!("Invalid value for '{param}.type': expected 'function'."), param));
        }
        let Some(function) = tool.get("function").and_then(Value::as_object) else {
            return Err(Invalid::new(format!("Missing required parameter: '{param}.function'."), param));
        };
        let name = function.get("name").and_then(Value::as_str).unwrap_or_default();
        if !valid_name(name) {
            // Q21, OpenAI's exact wording.
            return Err(Invalid::new(
                format!(
                    "Invalid '{param}.function.name': string does not match pattern. Expected a string that matches \
                     the pattern '^[a-zA-Z0-9_-]+$'."
                ),
                format!("{param}.function.name"),
            )
            .code("invalid_value"));
        }
        if names.iter().any(|known| known == name) {
            return Err(Invalid::new(
                format!("Invalid 'tools': duplicate function name '{name}'."),
                format!("{param}.function.name"),
            ));
        }
        match function.get("parameters") {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(other) => return Err(type_error(&format!("{param}.function.parameters"), other, "an object")),
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

fn validate_tool_choice(request: &Map<String, Value>, tools: &[String]) -> Result<(), Invalid> {
    let choice = match request.get("tool_choice") {
        None | Some(Value::Null) => return Ok(()),
        Some(choice) => choice,
    };
    let named = match choice {
        Value::String(mode) if ["none", "auto", "required"].contains(&mode.as_str()) => None,
        Value::Object(object) => match object.get("function").and_then(|f| f.get("name")).and_then(Value::as_str) {
            Some(name) if object.get("type").and_then(Value::as_str) == Some("function") => Some(name),
            _ => {
                return Err(Invalid::new(
                    "Invalid value for 'tool_choice': expected {\"type\":\"function\",\"function\":{\"name\":...}}.",
                    "tool_choice",
                ));
            }
        },
        _ => {
            return Err(Invalid::new(
                "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or a named function.",
                "tool_choice",
            ));
        }
    };
    if tools.is_empty() {
        return Err(Invalid::new(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            "tool_choice",
        ));
    }
    if let Some(name) = named
        && !tools.iter().any(|tool| tool == name)
    {
        return Err(Invalid::new(
            format!("Invalid value for 'tool_choice': function '{name}' is not among the given tools."),
            "tool_choice",
        ));
    }
    Ok(())
}

fn validate_response_format(request: &Map<String, Value>) -> Result<(), Invalid> {
    let format = match request.get("response_format") {
        None | Some(Value::Null) => return Ok(()),
        Some(format) => format,
    };
    match format.get("type").and_then(Value::as_str) {
        Some("text" | "json_object") => Ok(()),
        Some("json_schema") => {
            let schema = format.get("json_schema");
            let name = schema.and_then(|s| s.get("name")).and_then(Value::as_str).unwrap_or_default();
            if !valid_name(name) {
                return Err(Invalid::new(
                    "Invalid 'response_format.json_schema.name': expected a string matching '^[a-zA-Z0-9_-]{1,64}$'.",
                    "response_format.json_schema.name",
                ));
            }
            match schema.and_then(|s| s.get("schema")) {
                None | Some(Value::Object(_)) => Ok(()),
                Some(other) => Err(type_error("response_format.json_schema.schema", other, "an object")),
            }
        }
        _ => Err(Invalid::new(
            "Invalid value for 'response_format.type': expected 'text', 'json_object' or 'json_schema'.",
            "response_format.type",
        )),
    }
}

fn allowed_message_fields(role: &str) -> &'static [&'static str] {
    match role {
        "system" | "developer" | "user" => &["role", "content", "name"],
        // Reasoning fields are accepted because DeepSeek-style providers require them on replay (Q15);
        // `annotations` and `function_call` because OpenAI's guide replays response messages verbatim.
        "assistant" => &[
            "role",
            "content",
            "refusal",
            "name",
            "tool_calls",
            "audio",
            "annotations",
            "function_call",
            "reasoning_content",
            "reasoning",
        ],
        _ => &["role", "content", "tool_call_id"],
    }
}

fn validate_messages(messages: &[Value]) -> Result<(), Invalid> {
    let mut seen_ids: HashSet<&str> = HashSet::new();
    // The calls of the latest assistant turn that are still waiting for their tool message (Q38).
    let mut pending: Vec<&str> = Vec::new();
    let mut answered: HashSet<&str> = HashSet::new();
    for (i, message) in messages.iter().enumerate() {
        let param = format!("messages[{i}]");
        let Some(object) = message.as_object() else {
            return Err(type_error(&param, message, "an object"));
        };
        let role = object.get("role").and_then(Value::as_str).unwrap_or_default();
        if !["system", "developer", "user", "assistant", "tool"].contains(&role) {
            return Err(Invalid::new(
                format!(
                    "Invalid value for '{param}.role': expected one of 'system', 'developer', 'user', 'assistant' \
                     or 'tool'."
                ),
                format!("{param}.role"),
            ));
        }
        if let Some(unknown) = object.keys().find(|key| !allowed_message_fields(role).contains(&key.as_str())) {
            return Err(Invalid::new(
                format!("Additional properties are not allowed ('{unknown}' was unexpected) - '{param}'"),
                format!("{param}.{unknown}"),
            ));
        }
        if role != "tool" && !pending.is_empty() {
            return Err(missing_tool_messages(&pending, &answered));
        }
        match role {
            "tool" => {
                let id = object.get("tool_call_id").and_then(Value::as_str).unwrap_or_default();
                if !pending.contains(&id) {
                    return Err(Invalid::new(
                        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with \
                         'tool_calls'.",
                        format!("{param}.role"),
                    ));
                }
                if !answered.insert(id) {
                    // Q19, DeepSeek's wording.
                    return Err(Invalid::new(
                        format!("Duplicate value for 'tool_call_id' of {id} in message[{i}]"),
                        format!("{param}.tool_call_id"),
                    ));
                }
                validate_content(object.get("content"), &param, false)?;
                if answered.len() == pending.len() {
                    pending.clear();
                    answered.clear();
                }
            }
            "assistant" => {
                let calls = validate_assistant(object, &param, &mut seen_ids)?;
                pending = calls;
            }
            _ => validate_content(object.get("content"), &param, role == "user")?,
        }
    }
    if !pending.is_empty() {
        return Err(missing_tool_messages(&pending, &answered));
    }
    Ok(())
}

/// OpenAI's exact Q38 message.
fn missing_tool_messages(pending: &[&str], answered: &HashSet<&str>) -> Invalid {
    let missing: Vec<&str> = pending.iter().copied().filter(|id| !answered.contains(id)).collect();
    Invalid::new(
        format!(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each \
             'tool_call_id'. The following tool_call_ids did not have response messages: {}",
            missing.join(", ")
        ),
        "messages",
    )
}

fn validate_content(content: Option<&Value>, param: &str, images: bool) -> Result<(), Invalid> {
    match content {
        Some(Value::String(_)) => Ok(()),
        Some(Value::Array(parts)) if !parts.is_empty() => {
            for (j, part) in parts.iter().enumerate() {
                let ok = match part.get("type").and_then(Value::as_str) {
                    Some("text") => part.get("text").is_some_and(Value::is_string),
                    Some("image_url" | "input_audio" | "file") => images,
                    _ => false,
                };
                if !ok {
                    return Err(Invalid::new(
                        format!("Invalid content part '{param}.content[{j}]'."),
                        format!("{param}.content[{j}]"),
                    ));
                }
            }
            Ok(())
        }
        None | Some(Value::Null) => {
            Err(Invalid::new(format!("Missing required parameter: '{param}.content'."), format!("{param}.content")))
        }
        Some(other) => Err(type_error(&format!("{param}.content"), other, "a string or a non-empty array of parts")),
    }
}

fn validate_assistant<'a>(
    object: &'a Map<String, Value>,
    param: &str,
    seen_ids: &mut HashSet<&'a str>,
) -> Result<Vec<&'a str>, Invalid> {
    let calls = match object.get("tool_calls") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(calls)) if calls.is_empty() => {
            return Err(Invalid::new(
                format!(
                    "Invalid '{param}.tool_calls': empty array. Expected an array with minimum length 1, but got an \
                     empty array instead."
                ),
                format!("{param}.tool_calls"),
            )
            .code("empty_array"));
        }
        Some(Value::Array(calls)) => calls.as_slice(),
        Some(other) => return Err(type_error(&format!("{param}.tool_calls"), other, "an array")),
    };
    let has_content = match object.get("content") {
        None | Some(Value::Null) => false,
        Some(Value::String(_)) => true,
        Some(Value::Array(parts)) => {
            for (j, part) in parts.iter().enumerate() {
                let ok = match part.get("type").and_then(Value::as_str) {
                    Some("text") => part.get("text").is_some_and(Value::is_string),
                    Some("refusal") => part.get("refusal").is_some_and(Value::is_string),
                    _ => false,
                };
                if !ok {
                    return Err(Invalid::new(
                        format!("Invalid content part '{param}.content[{j}]'."),
                        format!("{param}.content[{j}]"),
                    ));
                }
            }
            !parts.is_empty()
        }
        Some(other) => return Err(type_error(&format!("{param}.content"), other, "a string, an array or null")),
    };
    let has_refusal = object.get("refusal").is_some_and(Value::is_string);
    if calls.is_empty() && !has_content && !has_refusal {
        // Q17, Mistral's wording.
        return Err(Invalid::new(
            format!("Assistant message must have either content or tool_calls, but not none. ('{param}')"),
            param.to_owned(),
        ));
    }
    let mut ids = Vec::with_capacity(calls.len());
    for (j, call) in calls.iter().enumerate() {
        let call_param = format!("{param}.tool_calls[{j}]");
        let id = call.get("id").and_then(Value::as_str).unwrap_or_default();
        if id.is_empty() {
            // Q20.
            return Err(Invalid::new(
                format!("Invalid '{call_param}.id': expected a non-empty string."),
                format!("{call_param}.id"),
            ));
        }
        if !seen_ids.insert(id) {
            // Q19: ids must be unique across the conversation.
            return Err(Invalid::new(
                format!("Duplicate value for 'tool_call_id' of {id} in {param}"),
                format!("{call_param}.id"),
            ));
        }
        if call.get("type").and_then(Value::as_str) != Some("function") {
            return Err(Invalid::new(
                format!("Invalid value for '{call_param}.type': expected 'function'."),
                format!("{call_param}.type"),
            ));
        }
        let function = call.get("function");
        let name = function.and_then(|f| f.get("name")).and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() {
            // Q22, OpenAI's wording.
            return Err(Invalid::new(
                format!(
                    "Invalid '{call_param}.function.name': empty string. Expected a string with minimum length 1, but \
                     got an empty string instead."
                ),
                format!("{call_param}.function.name"),
            ));
        }
        let arguments_param = format!("{call_param}.function.arguments");
        match function.and_then(|f| f.get("arguments")) {
            Some(Value::String(arguments)) => {
                if serde_json::from_str::<Value>(arguments).is_err() {
                    return Err(Invalid::new(
                        format!("Invalid '{arguments_param}': the arguments are not valid JSON: {arguments:?}"),
                        arguments_param,
                    ));
                }
            }
            Some(other) => return Err(type_error(&arguments_param, other, "a string")),
            None => {
                return Err(Invalid::new(format!("Missing required parameter: '{arguments_param}'."), arguments_param));
            }
        }
        ids.push(id);
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_a_complete_tool_round() {
        let body = json!({"model": "m", "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": "b", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}}]},
            {"role": "tool", "tool_call_id": "b", "content": "1"},
            {"role": "tool", "tool_call_id": "a", "content": "2"},
            {"role": "assistant", "content": "done"}
        ]});
        assert_eq!(validate(&body), Ok(()));
    }

    #[test]
    fn q38_missing_answer_is_named() {
        let body = json!({"model": "m", "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": "b", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "a", "content": "1"},
            {"role": "user", "content": "again"}
        ]});
        let error = validate(&body).unwrap_err();
        assert!(error.message.ends_with("did not have response messages: b"), "{}", error.message);
    }
}
