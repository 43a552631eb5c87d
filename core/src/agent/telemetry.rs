//! Spans named and shaped by the OpenTelemetry GenAI semantic conventions, emitted through `tracing` so any
//! subscriber sees them (with `tracing-opentelemetry`, they export as real OpenTelemetry spans):
//!
//! - `invoke_agent {name}` around a whole run (`gen_ai.operation.name = "invoke_agent"`),
//! - `chat {model}` around each model request, retries included (`gen_ai.operation.name = "chat"`),
//! - `execute_tool {tool}` around each tool call (`gen_ai.operation.name = "execute_tool"`).
//!
//! `otel.name`, `otel.kind` and `otel.status_code` are the fields `tracing-opentelemetry` reads for the span
//! name, kind and status. Message and argument content is recorded only when the agent opts in
//! ([`AgentBuilder::capture_content`](super::AgentBuilder::capture_content)): prompts and tool results often
//! hold personal data, and the conventions make them opt-in for that reason.

use std::borrow::Cow;

use serde_json::{Value, json};
use tracing::Span;
use tracing::field::Empty;

use crate::client::ClientError;
use crate::stream::Completion;
use crate::wire::{AssistantMessage, ChatRequest, Content, ContentPart, Message, Usage};

use super::error::Error;
use super::result::ToolOutcome;

impl super::Agent {
    /// The `gen_ai.provider.name` of this agent's client.
    pub(crate) fn provider_name(&self) -> &str {
        provider_name(&self.inner.client.profile().name)
    }
}

/// Awaits `$future` inside `$span`, not wrapped when the span is disabled (no subscriber wants it): a wrapped
/// future is moved once more and polled through one more layer.
macro_rules! in_span {
    ($span:expr, $future:expr) => {
        if $span.is_disabled() {
            $future.await
        } else {
            ::tracing::Instrument::instrument($future, $span.clone()).await
        }
    };
}
pub(crate) use in_span;

/// The `gen_ai.provider.name` for a client profile: the conventions' well-known value where one exists,
/// the profile's own name otherwise (a generic compatible endpoint has no better name).
pub(crate) fn provider_name(profile: &str) -> &str {
    match profile {
        "mistral" => "mistral_ai",
        "anthropic_compat" => "anthropic",
        other => other,
    }
}

/// The run's span. `agent_name` is the builder's [`name`](super::AgentBuilder::name), if any.
pub(crate) fn invoke_agent(agent_name: Option<&str>, provider: &str, model: &str) -> Span {
    // Borrowed when the agent has no name: a run whose span is off makes no string for it.
    let span_name: Cow<'static, str> = match agent_name {
        Some(name) => Cow::Owned(format!("invoke_agent {name}")),
        None => Cow::Borrowed("invoke_agent"),
    };
    tracing::info_span!(
        "invoke_agent",
        otel.name = %span_name,
        otel.kind = "internal",
        otel.status_code = Empty,
        gen_ai.operation.name = "invoke_agent",
        gen_ai.provider.name = provider,
        gen_ai.agent.name = agent_name,
        gen_ai.request.model = model,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        error.type = Empty,
    )
}

/// One model request's span (`chat {model}`, kind client). Content goes in only with `capture_content`.
pub(crate) fn chat(provider: &str, request: &ChatRequest, server: Option<(&str, u16)>, capture_content: bool) -> Span {
    let span = tracing::info_span!(
        "chat",
        otel.name = %format_args!("chat {}", request.model),
        otel.kind = "client",
        otel.status_code = Empty,
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = provider,
        gen_ai.request.model = %request.model,
        gen_ai.request.temperature = request.temperature.map(f64::from),
        gen_ai.request.max_tokens = request.max_tokens.map(i64::from),
        server.address = server.map(|(host, _)| host),
        server.port = server.map(|(_, port)| i64::from(port)),
        gen_ai.response.id = Empty,
        gen_ai.response.model = Empty,
        gen_ai.response.finish_reasons = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gen_ai.system_instructions = Empty,
        gen_ai.input.messages = Empty,
        gen_ai.output.messages = Empty,
        error.type = Empty,
    );
    if capture_content && !span.is_disabled() {
        let (instructions, messages) = input_messages(&request.messages);
        if !instructions.is_empty() {
            span.record("gen_ai.system_instructions", Value::Array(instructions).to_string());
        }
        span.record("gen_ai.input.messages", Value::Array(messages).to_string());
    }
    span
}

/// What the model answered, on its `chat` span.
pub(crate) fn record_completion(span: &Span, completion: &Completion, capture_content: bool) {
    if span.is_disabled() {
        return;
    }
    if !completion.id.is_empty() {
        span.record("gen_ai.response.id", completion.id.as_str());
    }
    if !completion.model.is_empty() {
        span.record("gen_ai.response.model", completion.model.as_str());
    }
    // The conventions type this as a string array; `tracing` fields are scalars, so the array is written as
    // its JSON text (one choice is ever requested, so it has one element).
    span.record(
        "gen_ai.response.finish_reasons",
        Value::Array(vec![Value::from(completion.finish_reason.as_str())]).to_string(),
    );
    if let Some(usage) = &completion.usage {
        record_usage(span, usage);
    }
    if capture_content {
        let mut message = assistant_message(&completion.message);
        message["finish_reason"] = Value::from(completion.finish_reason.as_str());
        span.record("gen_ai.output.messages", Value::Array(vec![message]).to_string());
    }
}

/// Token counts, on a `chat` span (one turn) or the `invoke_agent` span (the run's sum).
pub(crate) fn record_usage(span: &Span, usage: &Usage) {
    // As i64: OpenTelemetry integers are signed, and some layers write a `u64` field as text.
    span.record("gen_ai.usage.input_tokens", saturating_i64(usage.prompt_tokens));
    span.record("gen_ai.usage.output_tokens", saturating_i64(usage.completion_tokens));
}

fn saturating_i64(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// Marks `span` as failed with a low-cardinality `error.type`.
pub(crate) fn record_error(span: &Span, error_type: &str) {
    span.record("error.type", error_type);
    span.record("otel.status_code", "ERROR");
}

/// One tool call's span (`execute_tool {tool}`). Arguments go in only with `capture_content`.
pub(crate) fn execute_tool(name: &str, call_id: &str, arguments: &str, capture_content: bool) -> Span {
    let span = tracing::info_span!(
        "execute_tool",
        otel.name = %format_args!("execute_tool {name}"),
        otel.kind = "internal",
        otel.status_code = Empty,
        gen_ai.operation.name = "execute_tool",
        gen_ai.tool.name = name,
        gen_ai.tool.call.id = call_id,
        gen_ai.tool.type = "function",
        gen_ai.tool.call.arguments = Empty,
        gen_ai.tool.call.result = Empty,
        error.type = Empty,
    );
    if capture_content {
        span.record("gen_ai.tool.call.arguments", arguments);
    }
    span
}

/// How a tool call ended, on its `execute_tool` span: `error_type` is `None` for a success.
pub(crate) fn record_tool_result(span: &Span, result: &str, error_type: Option<&str>, capture_content: bool) {
    if capture_content {
        span.record("gen_ai.tool.call.result", result);
    }
    if let Some(error_type) = error_type {
        record_error(span, error_type);
    }
}

/// The conventions' message shape: `{"role", "parts": [...]}`, with system messages split out as
/// `gen_ai.system_instructions` parts.
fn input_messages(messages: &[Message]) -> (Vec<Value>, Vec<Value>) {
    let mut instructions = Vec::new();
    let mut out = Vec::with_capacity(messages.len());
    for message in messages {
        match message {
            Message::System(text) | Message::Developer(text) => instructions.extend(content_parts(&text.content)),
            Message::User(text) => out.push(json!({ "role": "user", "parts": content_parts(&text.content) })),
            Message::Assistant(assistant) => out.push(assistant_message(assistant)),
            Message::Tool(tool) => out.push(json!({
                "role": "tool",
                "parts": [{ "type": "tool_call_response", "id": tool.tool_call_id, "response": tool.content.text() }],
            })),
        }
    }
    (instructions, out)
}

fn assistant_message(message: &AssistantMessage) -> Value {
    let mut parts = Vec::new();
    if let Some(reasoning) = message.reasoning_content.as_deref().filter(|text| !text.is_empty()) {
        parts.push(json!({ "type": "reasoning", "content": reasoning }));
    }
    if let Some(content) = &message.content {
        parts.extend(content_parts(content));
    }
    for call in &message.tool_calls {
        // Arguments are JSON text on the wire; the conventions want the object when it is one.
        let arguments = serde_json::from_str::<Value>(&call.function.arguments)
            .unwrap_or_else(|_| Value::from(call.function.arguments.as_str()));
        parts.push(json!({ "type": "tool_call", "id": call.id, "name": call.function.name, "arguments": arguments }));
    }
    json!({ "role": "assistant", "parts": parts })
}

fn content_parts(content: &Content) -> Vec<Value> {
    match content {
        Content::Text(text) => vec![json!({ "type": "text", "content": text })],
        Content::Parts(parts) => parts
            .iter()
            .map(|part| match part {
                ContentPart::Text { text } => json!({ "type": "text", "content": text }),
                // Image bytes (data URLs) would bloat every span: the URL's scheme is enough to say what it was.
                ContentPart::ImageUrl { image_url } => json!({
                    "type": "uri",
                    "modality": "image",
                    "uri": if image_url.url.starts_with("data:") { "data:…" } else { image_url.url.as_str() },
                }),
                ContentPart::Refusal { refusal } => json!({ "type": "refusal", "content": refusal }),
            })
            .collect(),
    }
}

/// `error.type` of a failed model request: the HTTP status where there is one (the conventions' choice for
/// HTTP errors), a short name of the failure otherwise.
pub(crate) fn client_error_type(error: &ClientError) -> String {
    match error {
        ClientError::Status { status, .. } => status.to_string(),
        ClientError::Timeout { .. } => "timeout".to_owned(),
        ClientError::Connect { .. } => "connection_error".to_owned(),
        ClientError::Decode { .. } => "decode_error".to_owned(),
        ClientError::Stream { code: Some(code), .. } => code.clone(),
        ClientError::Stream { .. } => "stream_error".to_owned(),
        ClientError::TooLarge { .. } => "response_too_large".to_owned(),
        ClientError::Config { .. } => "configuration_error".to_owned(),
    }
}

/// `error.type` of a failed run.
pub(crate) fn run_error_type(error: &Error) -> String {
    let name = match error {
        Error::Client { source, .. } => return client_error_type(source),
        Error::TooManyToolCalls { .. } => "too_many_tool_calls",
        Error::UsageLimitExceeded { .. } => "usage_limit_exceeded",
        Error::RunTimeout { .. } => "timeout",
        Error::InvalidHistory { .. } => "invalid_history",
        Error::Truncated { .. } => "truncated",
        Error::Refusal { .. } => "refusal",
        Error::MaxTurns { .. } => "max_turns",
        Error::ToolRetriesExceeded { .. } => "tool_retries_exceeded",
        Error::InvalidOutput { .. } => "invalid_output",
        Error::InvalidState { .. } => "invalid_state",
    };
    name.to_owned()
}

/// `error.type` of a tool call, `None` when it succeeded or was denied (a decision, not a failure).
pub(crate) fn tool_error_type(outcome: ToolOutcome) -> Option<&'static str> {
    match outcome {
        ToolOutcome::Success | ToolOutcome::Denied => None,
        ToolOutcome::Failed => Some("tool_error"),
        ToolOutcome::InvalidArguments => Some("invalid_arguments"),
        ToolOutcome::UnknownTool => Some("unknown_tool"),
        ToolOutcome::TimedOut => Some("timeout"),
        ToolOutcome::Panicked => Some("panic"),
        ToolOutcome::ApprovalFailed => Some("approval_failed"),
    }
}
