//! Spans by the OpenTelemetry GenAI semantic conventions, checked through the real OpenTelemetry SDK pipeline:
//! `tracing` → `tracing-opentelemetry` → `SdkTracerProvider` → the SDK's in-memory exporter.
//!
//! One global subscriber serves the whole file (tool calls run on other runtime threads, where a
//! thread-local default would not reach), so the tests take a lock and tell their runs apart by agent name.

use std::sync::OnceLock;

use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use toolsmith::agent::Agent;
use toolsmith::testing::{Reply, TestServer};
use toolsmith::wire::ToolCall;
use tracing_subscriber::layer::SubscriberExt;

/// The weather in a city.
#[toolsmith::tool]
fn get_weather(city: String) -> String {
    format!("Sunny in {city}, 21 °C")
}

/// Always fails.
#[toolsmith::tool]
fn broken(reason: String) -> Result<String, String> {
    Err(reason)
}

fn exporter() -> &'static InMemorySpanExporter {
    static EXPORTER: OnceLock<InMemorySpanExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
        let tracer = provider.tracer("toolsmith-tests");
        let subscriber = tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        exporter
    })
}

/// Serialises the tests: they share the exporter. An async lock, held across the runs' awaits.
async fn lock() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes.iter().find(|KeyValue { key: k, .. }| k.as_str() == key).map(|kv| &kv.value)
}

fn string(span: &SpanData, key: &str) -> String {
    match attribute(span, key) {
        Some(value) => value.as_str().into_owned(),
        None => panic!("span {:?} has no attribute {key}: {:?}", span.name, span.attributes),
    }
}

fn int(span: &SpanData, key: &str) -> i64 {
    match attribute(span, key) {
        Some(Value::I64(value)) => *value,
        other => panic!("span {:?}: {key} is {other:?}, not an integer", span.name),
    }
}

/// The spans of the run whose root is `invoke_agent {agent}`: the root and its descendants.
fn run_spans(agent: &str) -> (SpanData, Vec<SpanData>) {
    let spans = exporter().get_finished_spans().expect("exporter readable");
    let root_name = format!("invoke_agent {agent}");
    let root = spans.iter().find(|span| span.name == root_name).unwrap_or_else(|| {
        panic!("no span {root_name:?} among {:?}", spans.iter().map(|s| &s.name).collect::<Vec<_>>())
    });
    let trace_id = root.span_context.trace_id();
    let rest = spans
        .iter()
        .filter(|span| span.span_context.trace_id() == trace_id && span.span_context != root.span_context)
        .cloned()
        .collect();
    (root.clone(), rest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_is_an_invoke_agent_span_with_chat_and_execute_tool_children() {
    let _guard = lock().await;
    exporter();
    let server = TestServer::scripted([
        Reply::tool_calls(vec![ToolCall::new("call_1", "get_weather", r#"{"city":"Paris"}"#)]),
        Reply::text("Sunny in Paris."),
    ])
    .await
    .unwrap();
    let agent = Agent::builder(server.client(), "test-model")
        .name("weather-bot")
        .temperature(0.2)
        .max_tokens(300)
        .tool(get_weather)
        .build();
    let result = agent.run("Weather in Paris?").await.unwrap();
    assert_eq!(result.output, "Sunny in Paris.");

    let (root, spans) = run_spans("weather-bot");
    assert_eq!(string(&root, "gen_ai.operation.name"), "invoke_agent");
    assert_eq!(string(&root, "gen_ai.agent.name"), "weather-bot");
    assert_eq!(string(&root, "gen_ai.request.model"), "test-model");
    assert!(!string(&root, "gen_ai.provider.name").is_empty());
    assert_eq!(int(&root, "gen_ai.usage.input_tokens") as u64, result.usage.prompt_tokens);
    assert_eq!(int(&root, "gen_ai.usage.output_tokens") as u64, result.usage.completion_tokens);
    assert_eq!(root.status, Status::Unset);

    let chats: Vec<&SpanData> = spans.iter().filter(|span| span.name == "chat test-model").collect();
    assert_eq!(chats.len(), 2, "one chat span per model request: {spans:#?}");
    for chat in &chats {
        assert_eq!(chat.parent_span_id, root.span_context.span_id(), "chat spans are children of the run");
        assert_eq!(chat.span_kind, SpanKind::Client);
        assert_eq!(string(chat, "gen_ai.operation.name"), "chat");
        assert_eq!(string(chat, "gen_ai.request.model"), "test-model");
        assert_eq!(int(chat, "gen_ai.request.max_tokens"), 300);
        assert!(matches!(attribute(chat, "gen_ai.request.temperature"), Some(Value::F64(t)) if (t - 0.2).abs() < 1e-6));
        assert!(!string(chat, "gen_ai.response.id").is_empty());
        assert!(!string(chat, "gen_ai.response.model").is_empty());
        assert_eq!(string(chat, "server.address"), "127.0.0.1");
        assert_eq!(int(chat, "server.port"), i64::from(server.address().port()));
        assert!(attribute(chat, "gen_ai.usage.input_tokens").is_some());
        // Content is opt-in.
        assert!(attribute(chat, "gen_ai.input.messages").is_none());
        assert!(attribute(chat, "gen_ai.output.messages").is_none());
    }
    let reasons: Vec<String> = chats.iter().map(|chat| string(chat, "gen_ai.response.finish_reasons")).collect();
    assert_eq!(reasons, [r#"["tool_calls"]"#, r#"["stop"]"#]);

    let tools: Vec<&SpanData> = spans.iter().filter(|span| span.name.starts_with("execute_tool")).collect();
    assert_eq!(tools.len(), 1);
    let tool = tools[0];
    assert_eq!(tool.name, "execute_tool get_weather");
    assert_eq!(tool.parent_span_id, root.span_context.span_id(), "tool spans are children of the run");
    assert_eq!(tool.span_kind, SpanKind::Internal);
    assert_eq!(string(tool, "gen_ai.operation.name"), "execute_tool");
    assert_eq!(string(tool, "gen_ai.tool.name"), "get_weather");
    assert_eq!(string(tool, "gen_ai.tool.call.id"), "call_1");
    assert_eq!(string(tool, "gen_ai.tool.type"), "function");
    assert!(attribute(tool, "gen_ai.tool.call.arguments").is_none(), "arguments are opt-in");
    assert!(attribute(tool, "gen_ai.tool.call.result").is_none(), "results are opt-in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_is_recorded_only_when_opted_in() {
    let _guard = lock().await;
    exporter();
    let server = TestServer::scripted([
        Reply::tool_calls(vec![ToolCall::new("call_1", "get_weather", r#"{"city":"Oslo"}"#)]),
        Reply::text("Sunny in Oslo."),
    ])
    .await
    .unwrap();
    let agent = Agent::builder(server.client(), "test-model")
        .name("content-bot")
        .instructions("Be brief.")
        .capture_content(true)
        .tool(get_weather)
        .build();
    agent.run("Weather in Oslo?").await.unwrap();

    let (_, spans) = run_spans("content-bot");
    let chats: Vec<&SpanData> = spans.iter().filter(|span| span.name == "chat test-model").collect();
    let first_input: serde_json::Value = serde_json::from_str(&string(chats[0], "gen_ai.input.messages")).unwrap();
    assert_eq!(
        first_input,
        serde_json::json!([{ "role": "user", "parts": [{ "type": "text", "content": "Weather in Oslo?" }] }])
    );
    let instructions: serde_json::Value =
        serde_json::from_str(&string(chats[0], "gen_ai.system_instructions")).unwrap();
    assert_eq!(instructions, serde_json::json!([{ "type": "text", "content": "Be brief." }]));
    let first_output: serde_json::Value = serde_json::from_str(&string(chats[0], "gen_ai.output.messages")).unwrap();
    assert_eq!(first_output[0]["parts"][0]["type"], "tool_call");
    assert_eq!(first_output[0]["parts"][0]["arguments"], serde_json::json!({ "city": "Oslo" }));
    assert_eq!(first_output[0]["finish_reason"], "tool_calls");
    let second_input: serde_json::Value = serde_json::from_str(&string(chats[1], "gen_ai.input.messages")).unwrap();
    assert_eq!(second_input[2]["role"], "tool");
    assert_eq!(second_input[2]["parts"][0]["response"], "Sunny in Oslo, 21 °C");

    let tool = spans.iter().find(|span| span.name == "execute_tool get_weather").unwrap();
    assert_eq!(string(tool, "gen_ai.tool.call.arguments"), r#"{"city":"Oslo"}"#);
    assert_eq!(string(tool, "gen_ai.tool.call.result"), "Sunny in Oslo, 21 °C");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_set_error_type_and_status() {
    let _guard = lock().await;
    exporter();
    let server = TestServer::scripted([
        Reply::tool_calls(vec![ToolCall::new("call_1", "broken", r#"{"reason":"disk full"}"#)]),
        Reply::status(400, r#"{"error":{"message":"bad request","type":"invalid_request_error"}}"#),
    ])
    .await
    .unwrap();
    let agent = Agent::builder(server.client(), "test-model").name("failing-bot").tool(broken).build();
    agent.run("Break it").await.unwrap_err();

    let (root, spans) = run_spans("failing-bot");
    assert!(matches!(root.status, Status::Error { .. }), "the failed run is an error: {:?}", root.status);
    assert!(!string(&root, "error.type").is_empty());

    let tool = spans.iter().find(|span| span.name == "execute_tool broken").unwrap();
    assert!(matches!(tool.status, Status::Error { .. }));
    assert_eq!(string(tool, "error.type"), "tool_error");

    let chats: Vec<&SpanData> = spans.iter().filter(|span| span.name == "chat test-model").collect();
    assert_eq!(chats.len(), 2);
    assert_eq!(chats[0].status, Status::Unset);
    assert!(matches!(chats[1].status, Status::Error { .. }));
    assert_eq!(string(chats[1], "error.type"), "400");
}
