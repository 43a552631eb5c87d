//! HTTP helpers shared by this crate's tests: they talk to the server with plain reqwest, independent of
//! the crate's own client.
#![allow(dead_code)]

use serde_json::{Value, json};

pub fn http() -> reqwest::Client {
    // reqwest 0.13 without a process-wide crypto provider: toolsmith's TLS set-up.
    toolsmith_core::client::http_client_builder().no_proxy().build().expect("reqwest client")
}

pub struct Raw {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
    /// How many body chunks arrived (each SSE event is written separately).
    pub reads: usize,
}

pub async fn post(base_url: &str, body: &Value) -> Raw {
    post_to(&format!("{base_url}/chat/completions"), body).await
}

pub async fn post_to(url: &str, body: &Value) -> Raw {
    post_text(url, body.to_string()).await
}

/// Posts a body given as text: `serde_json::Value` sorts keys, so tests that depend on the order of a
/// schema's properties write the JSON themselves.
pub async fn post_text(url: &str, body: String) -> Raw {
    let mut response = http()
        .post(url)
        .header("authorization", "Bearer sk-test")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut bytes = Vec::new();
    let mut reads = 0;
    while let Some(chunk) = response.chunk().await.expect("body read") {
        reads += 1;
        bytes.extend_from_slice(&chunk);
    }
    Raw { status, headers, body: String::from_utf8(bytes).expect("utf-8 body"), reads }
}

/// A non-streaming call: status and JSON body.
pub async fn chat(base_url: &str, body: &Value) -> (u16, Value) {
    let raw = post(base_url, body).await;
    let value = serde_json::from_str(&raw.body).unwrap_or(Value::String(raw.body.clone()));
    (raw.status, value)
}

/// The `data:` payloads of an SSE body, in order (`[DONE]` included as is).
pub fn events(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter(|event| !event.trim().is_empty())
        .map(|event| event.lines().filter_map(|line| line.strip_prefix("data: ")).collect::<Vec<_>>().join("\n"))
        .collect()
}

/// The JSON chunks of a stream (everything but `[DONE]`).
pub fn chunks(body: &str) -> Vec<Value> {
    events(body).iter().filter(|e| *e != "[DONE]").map(|e| serde_json::from_str(e).expect("JSON chunk")).collect()
}

/// Concatenated `delta.content` of a stream.
pub fn streamed_text(chunks: &[Value]) -> String {
    chunks.iter().filter_map(|c| c["choices"].get(0).and_then(|choice| choice["delta"]["content"].as_str())).collect()
}

/// Tool calls reassembled from a stream: (id, name, arguments) per index.
pub fn streamed_calls(chunks: &[Value]) -> Vec<(String, String, String)> {
    let mut calls: Vec<(String, String, String)> = Vec::new();
    for chunk in chunks {
        let Some(fragments) = chunk["choices"].get(0).and_then(|c| c["delta"]["tool_calls"].as_array()) else {
            continue;
        };
        for fragment in fragments {
            let index = fragment["index"].as_u64().expect("index") as usize;
            if index == calls.len() {
                calls.push(Default::default());
            }
            let call = &mut calls[index];
            if let Some(id) = fragment["id"].as_str() {
                call.0 = id.to_owned();
            }
            if let Some(name) = fragment["function"]["name"].as_str() {
                call.1 = name.to_owned();
            }
            call.2.push_str(fragment["function"]["arguments"].as_str().unwrap_or_default());
        }
    }
    calls
}

pub fn user(text: &str) -> Value {
    json!({"model": "test-model", "messages": [{"role": "user", "content": text}]})
}

pub fn tool(name: &str, parameters: Value) -> Value {
    json!({"type": "function", "function": {"name": name, "description": "", "parameters": parameters}})
}
