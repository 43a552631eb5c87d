//! The TestServer rejects what strict providers reject (400, OpenAI-style body), so it referees the history
//! an agent replays. Rejected requests do not use up scripted replies.

mod support;

use serde_json::{Value, json};
use support::*;
use toolsmith_testing::{Reply, TestServer};

fn call(id: &str, name: &str, arguments: Value) -> Value {
    json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
}

fn with_messages(messages: Value) -> Value {
    json!({"model": "m", "messages": messages})
}

/// Sends `body` and returns the 400's error object; panics on any other status.
async fn rejected(server: &TestServer, body: &Value) -> Value {
    let (status, response) = chat(&server.base_url(), body).await;
    assert_eq!(status, 400, "expected a 400 for {body}, got {response}");
    let error = response["error"].clone();
    assert_eq!(error["type"], "invalid_request_error");
    assert!(error.get("param").is_some() && error.get("code").is_some(), "all four fields: {error}");
    error
}

async fn server() -> TestServer {
    TestServer::scripted([Reply::text("ok")]).await.unwrap()
}

#[tokio::test]
async fn model_and_messages_are_required() {
    let server = server().await;
    let error = rejected(&server, &json!({"messages": [{"role": "user", "content": "hi"}]})).await;
    assert_eq!(error["param"], "model");
    let error = rejected(&server, &json!({"model": "m"})).await;
    assert_eq!(error["message"], "Missing required parameter: 'messages'.");
    let error = rejected(&server, &json!({"model": "m", "messages": []})).await;
    assert_eq!(error["code"], "empty_array");
    let raw = post(&server.base_url(), &json!("not an object")).await;
    assert_eq!(raw.status, 400);
    // Nothing was used up.
    assert_eq!(server.pending_replies(), 1);
    assert_eq!(server.request_count(), 4);
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let server = server().await;
    let response =
        http().post(format!("{}/chat/completions", server.base_url())).body("{\"model\": ").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(server.requests()[0].body, json!("{\"model\": "), "the raw text is recorded");
}

#[tokio::test]
async fn q29_unknown_fields_are_rejected() {
    let server = server().await;
    let mut body = user("hi");
    body["internal_metadata"] = json!({"run": 1});
    let error = rejected(&server, &body).await;
    assert_eq!(error["message"], "Unrecognized request argument supplied: internal_metadata");
    let error = rejected(&server, &with_messages(json!([{"role": "user", "content": "hi", "tool_calls": []}]))).await;
    assert_eq!(error["param"], "messages[0].tool_calls");
}

#[tokio::test]
async fn q38_every_call_needs_its_tool_message_right_after() {
    let server = server().await;
    let assistant = json!({"role": "assistant", "content": null, "tool_calls": [
        call("call_a", "f", json!("{}")), call("call_b", "f", json!("{}"))]});
    // Missing answer for call_b.
    let error = rejected(
        &server,
        &with_messages(json!([
            {"role": "user", "content": "hi"}, assistant,
            {"role": "tool", "tool_call_id": "call_a", "content": "1"},
            {"role": "user", "content": "and?"}
        ])),
    )
    .await;
    assert_eq!(
        error["message"],
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each \
         'tool_call_id'. The following tool_call_ids did not have response messages: call_b"
    );
    // Something in between.
    let error = rejected(
        &server,
        &with_messages(json!([
            {"role": "user", "content": "hi"}, assistant,
            {"role": "user", "content": "wait"},
            {"role": "tool", "tool_call_id": "call_a", "content": "1"},
            {"role": "tool", "tool_call_id": "call_b", "content": "2"}
        ])),
    )
    .await;
    assert!(error["message"].as_str().unwrap().contains("call_a, call_b"), "{error}");
    // History ending on unanswered calls.
    rejected(&server, &with_messages(json!([{"role": "user", "content": "hi"}, assistant]))).await;
    // Answered twice.
    let error = rejected(
        &server,
        &with_messages(json!([
            {"role": "user", "content": "hi"}, assistant,
            {"role": "tool", "tool_call_id": "call_a", "content": "1"},
            {"role": "tool", "tool_call_id": "call_a", "content": "1"},
            {"role": "tool", "tool_call_id": "call_b", "content": "2"}
        ])),
    )
    .await;
    assert!(error["message"].as_str().unwrap().starts_with("Duplicate value for 'tool_call_id'"), "{error}");
    // A tool message that answers nothing.
    let error = rejected(
        &server,
        &with_messages(json!([
            {"role": "user", "content": "hi"},
            {"role": "tool", "tool_call_id": "call_z", "content": "1"}
        ])),
    )
    .await;
    assert!(error["message"].as_str().unwrap().contains("must be a response to a preceeding message"), "{error}");
    // Out of order is fine, as long as they follow immediately.
    let (status, body) = chat(
        &server.base_url(),
        &with_messages(json!([
            {"role": "user", "content": "hi"}, assistant,
            {"role": "tool", "tool_call_id": "call_b", "content": "2"},
            {"role": "tool", "tool_call_id": "call_a", "content": "1"}
        ])),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn q19_q20_tool_call_ids_are_unique_and_non_empty() {
    let server = server().await;
    let error = rejected(
        &server,
        &with_messages(json!([
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": null, "tool_calls": [call("", "f", json!("{}"))]},
            {"role": "tool", "tool_call_id": "", "content": "1"}
        ])),
    )
    .await;
    assert_eq!(error["param"], "messages[1].tool_calls[0].id");
    let error = rejected(
        &server,
        &with_messages(json!([
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": null, "tool_calls": [call("x", "f", json!("{}"))]},
            {"role": "tool", "tool_call_id": "x", "content": "1"},
            {"role": "assistant", "content": null, "tool_calls": [call("x", "f", json!("{}"))]},
            {"role": "tool", "tool_call_id": "x", "content": "1"}
        ])),
    )
    .await;
    assert!(error["message"].as_str().unwrap().contains("Duplicate value for 'tool_call_id' of x"), "{error}");
}

#[tokio::test]
async fn arguments_must_be_a_string_of_valid_json() {
    let server = server().await;
    for arguments in [json!({"x": 1}), json!("{\"x\": "), json!(null)] {
        let error = rejected(
            &server,
            &with_messages(json!([
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": null, "tool_calls": [call("c", "f", arguments.clone())]},
                {"role": "tool", "tool_call_id": "c", "content": "1"}
            ])),
        )
        .await;
        assert_eq!(error["param"], "messages[1].tool_calls[0].function.arguments", "{arguments}");
    }
    let error = rejected(
        &server,
        &with_messages(json!([
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": null, "tool_calls": [call("c", "", json!("{}"))]},
            {"role": "tool", "tool_call_id": "c", "content": "1"}
        ])),
    )
    .await;
    assert!(error["message"].as_str().unwrap().contains("empty string"), "Q22: {error}");
}

#[tokio::test]
async fn q17_assistant_needs_content_or_tool_calls() {
    let server = server().await;
    let error = rejected(
        &server,
        &with_messages(json!([
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": null},
            {"role": "user", "content": "hello?"}
        ])),
    )
    .await;
    assert!(error["message"].as_str().unwrap().starts_with("Assistant message must have either content or tool_calls"));
    rejected(&server, &with_messages(json!([{"role": "user"}]))).await;
    rejected(&server, &with_messages(json!([{"role": "robot", "content": "hi"}]))).await;
}

#[tokio::test]
async fn q28_stream_options_only_with_stream() {
    let server = server().await;
    let mut body = user("hi");
    body["stream_options"] = json!({"include_usage": true});
    let error = rejected(&server, &body).await;
    assert_eq!(error["message"], "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
    body["stream"] = json!(false);
    rejected(&server, &body).await;
}

#[tokio::test]
async fn q21_tool_names_and_tool_choice() {
    let server = server().await;
    let mut body = user("hi");
    body["tools"] = json!([tool("mcp.server:search", json!({"type": "object"}))]);
    let error = rejected(&server, &body).await;
    assert_eq!(error["param"], "tools[0].function.name");
    assert_eq!(error["code"], "invalid_value");
    body["tools"] = json!([tool(&"x".repeat(65), json!({"type": "object"}))]);
    rejected(&server, &body).await;
    body["tools"] = json!([tool("f", json!({})), tool("f", json!({}))]);
    rejected(&server, &body).await;
    body["tools"] = json!([tool("f", json!("not a schema"))]);
    rejected(&server, &body).await;

    let mut body = user("hi");
    body["tool_choice"] = json!("required");
    let error = rejected(&server, &body).await;
    assert!(error["message"].as_str().unwrap().contains("only allowed when 'tools' are specified"));
    body["tools"] = json!([tool("f", json!({"type": "object"}))]);
    body["tool_choice"] = json!({"type": "function", "function": {"name": "g"}});
    rejected(&server, &body).await;
    body["tool_choice"] = json!("sometimes");
    rejected(&server, &body).await;
    body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "bad name", "schema": {}}});
    body["tool_choice"] = json!("auto");
    let error = rejected(&server, &body).await;
    assert_eq!(error["param"], "response_format.json_schema.name");
}

#[tokio::test]
async fn a_full_valid_request_passes() {
    let server = server().await;
    let body = json!({
        "model": "openai/gpt-4o",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this picture and what is the weather in Paris?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR", "detail": "auto"}}
            ], "name": "alice"},
            {"role": "assistant", "content": null, "tool_calls": [call("call_abc", "get_weather", json!("{\"city\":\"Paris\"}"))]},
            {"role": "tool", "tool_call_id": "call_abc", "content": "{\"temp_c\":18}"}
        ],
        "temperature": 0.2,
        "max_completion_tokens": 512,
        "stream": true,
        "stream_options": {"include_usage": true},
        "tools": [tool("get_weather", json!({"type": "object", "properties": {"city": {"type": "string"}},
                                              "required": ["city"], "additionalProperties": false}))],
        "tool_choice": "auto",
        "parallel_tool_calls": true,
        "response_format": {"type": "text"}
    });
    let raw = post(&server.base_url(), &body).await;
    assert_eq!(raw.status, 200, "{}", raw.body);
}

#[tokio::test]
async fn validation_can_be_turned_off() {
    let server = server().await;
    server.set_strict(false);
    let mut body = user("hi");
    body["top_k"] = json!(40);
    let (status, _) = chat(&server.base_url(), &body).await;
    assert_eq!(status, 200);
}
