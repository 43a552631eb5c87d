//! Our MCP client against the official reference server, `@modelcontextprotocol/server-everything` (npm,
//! installed on first use into the peers cache), over stdio and over Streamable HTTP: listing, an Agent driven
//! by the built-in test model calling `echo` and `get-sum`, a call the server answers with an error, its
//! tool-list change (over stdio: over HTTP the reference server announces it before any client can hold the
//! stream it goes on, so `mcp_list_change.rs` shows HTTP changes with the Python SDK's server), and servers
//! that are gone.
#![cfg(feature = "mcp")]

mod mcp_peers;

use std::time::{Duration, Instant};

use toolsmith::agent::{Agent, ToolOutcome};
use toolsmith::mcp::{McpClient, McpError, McpTools};
use toolsmith::testing::{Reply, TestServer};
use toolsmith::tool::{ToolContext, ToolSource, is_valid_tool_name};
use toolsmith::wire::ToolCall;

fn stdio_client() -> McpClient {
    McpClient::stdio(mcp_peers::server_everything().to_string_lossy()).arg("stdio")
}

async fn lists_its_tools(mcp: &McpTools) {
    let tools = mcp.tools();
    let names: Vec<&str> = tools.names().collect();
    assert!(names.len() >= 13, "{names:?}");
    assert!(names.iter().all(|name| is_valid_tool_name(name)), "{names:?}");
    for expected in ["echo", "get-sum", "get-tiny-image", "trigger-long-running-operation"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    let sum = tools.get("get-sum").expect("get-sum").definition();
    assert_eq!(sum.description(), "Returns the sum of two numbers");
    assert_eq!(sum.parameters()["properties"]["a"]["type"], "number");
    assert_eq!(mcp.server().name.as_deref(), Some("mcp-servers/everything"));
    // Its zod-made schemas carry `$schema`, which Gemini's endpoint rejects: removed at connect, and reported.
    assert!(tools.definitions().iter().all(|definition| definition.parameters().get("$schema").is_none()));
    let reports = mcp.schema_reports();
    assert!(!reports.is_empty(), "the repairs are reported");
    assert!(reports.iter().all(|report| report.excluded.is_none() && !report.repairs.is_empty()), "{reports:?}");
    assert!(mcp.instructions().is_some_and(|text| text.contains("Everything Server")), "instructions");
}

/// An agent on the test model, offered only `echo` and `get-sum`, calls each from a plain request.
async fn agent_calls_echo_and_get_sum(client: McpClient) {
    let mcp = client.allow(["echo", "get-sum"]).connect().await.expect("connect");
    assert_eq!(mcp.tools().names().collect::<Vec<_>>(), ["echo", "get-sum"]);
    let model = TestServer::test_model().await.expect("test model");
    let agent = Agent::builder(model.client(), "test-model").tools(mcp.clone()).build();

    let run = agent.run("Please echo 'hello from toolsmith'").await.expect("echo run");
    assert_eq!(run.tool_calls.len(), 1, "{:?}", run.tool_calls);
    assert_eq!(run.tool_calls[0].name, "echo");
    assert_eq!(run.tool_calls[0].outcome, ToolOutcome::Success);
    assert_eq!(run.tool_calls[0].result, "Echo: hello from toolsmith");
    assert!(run.output.contains("Echo: hello from toolsmith"), "{}", run.output);

    let run = agent.run("What is the sum of 2 and 3.5?").await.expect("sum run");
    assert_eq!(run.tool_calls.len(), 1, "{:?}", run.tool_calls);
    assert_eq!(run.tool_calls[0].name, "get-sum");
    assert_eq!(run.tool_calls[0].result, "The sum of 2 and 3.5 is 5.5.");
    assert!(run.output.contains("5.5"), "{}", run.output);
    // Both requests offered exactly the server's tools, read from the source at each turn.
    let offered: Vec<String> = model.requests()[0].body["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|tool| tool["function"]["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(offered, ["echo", "get-sum"]);
}

/// Wrong-typed arguments: the server answers `isError: true`; the model reads the error and the run goes on.
async fn an_error_result_reaches_the_model(client: McpClient) {
    let mcp = client.prefix("everything").allow(["get-sum"]).connect().await.expect("connect");
    assert_eq!(mcp.tools().names().collect::<Vec<_>>(), ["everything_get-sum"]);
    assert_eq!(mcp.server_name("everything_get-sum").as_deref(), Some("get-sum"));
    let model = TestServer::scripted([
        Reply::tool_calls(vec![ToolCall::new("call_1", "everything_get-sum", r#"{"a":"two","b":3}"#)]),
        Reply::text("I could not add those."),
    ])
    .await
    .expect("scripted model");
    let agent = Agent::builder(model.client(), "test-model").tools(mcp).build();
    let run = agent.run("Add two and 3.").await.expect("the run goes on after the error");
    assert_eq!(run.output, "I could not add those.");
    let call = &run.tool_calls[0];
    assert_eq!(call.outcome, ToolOutcome::Failed);
    assert!(call.result.starts_with("Error: "), "{}", call.result);
    assert!(call.result.contains("expected number"), "{}", call.result);
    let requests = model.requests();
    let tool_message = &requests[1].messages()[2];
    assert_eq!(tool_message["role"], "tool");
    assert_eq!(tool_message["content"], call.result.as_str());
}

/// The reference server registers more tools once the session is initialized and announces it with
/// `notifications/tools/list_changed`: the handle lists again, and the agent's source gives the new list.
async fn follows_the_list_change(client: McpClient) {
    let mcp = client.connect().await.expect("connect");
    let deadline = Instant::now() + Duration::from_secs(20);
    while mcp.list_changes() == 0 {
        assert!(Instant::now() < deadline, "no tools/list_changed was followed within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let current = mcp.current_tools();
    assert!(current.contains("echo") && current.len() >= 13, "{current:?}");
}

#[tokio::test]
async fn stdio_lists_the_reference_servers_tools() {
    let mcp = stdio_client().connect().await.expect("connect over stdio");
    lists_its_tools(&mcp).await;
}

#[tokio::test]
async fn stdio_agent_calls_echo_and_get_sum() {
    agent_calls_echo_and_get_sum(stdio_client()).await;
}

#[tokio::test]
async fn stdio_error_result_reaches_the_model() {
    an_error_result_reaches_the_model(stdio_client()).await;
}

#[tokio::test]
async fn stdio_tool_list_change_is_followed() {
    follows_the_list_change(stdio_client()).await;
}

#[tokio::test]
async fn http_lists_the_reference_servers_tools() {
    let (url, _server) = mcp_peers::server_everything_http();
    let mcp = McpClient::http(url).connect().await.expect("connect over HTTP");
    lists_its_tools(&mcp).await;
}

#[tokio::test]
async fn http_agent_calls_echo_and_get_sum() {
    let (url, _server) = mcp_peers::server_everything_http();
    agent_calls_echo_and_get_sum(McpClient::http(url)).await;
}

#[tokio::test]
async fn http_error_result_reaches_the_model() {
    let (url, _server) = mcp_peers::server_everything_http();
    an_error_result_reaches_the_model(McpClient::http(url)).await;
}

#[tokio::test]
async fn a_dropped_connection_kills_the_server() {
    let mcp = stdio_client().connect().await.expect("connect");
    let pid = mcp.server_pid().expect("a spawned server has a pid");
    assert!(!mcp_peers::process_gone(pid));
    drop(mcp);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !mcp_peers::process_gone(pid) {
        assert!(Instant::now() < deadline, "the server {pid} still runs 10 s after the drop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_server_that_is_gone_fails_clearly() {
    // A command that does not exist.
    let error = McpClient::stdio("/nonexistent/mcp-server").connect().await.unwrap_err();
    assert!(matches!(error, McpError::Spawn { .. }), "{error}");
    assert!(error.to_string().contains("/nonexistent/mcp-server"), "{error}");
    // A child that exits at once, saying why on stderr.
    let error = McpClient::stdio("sh").args(["-c", "echo 'no config file' >&2; exit 3"]).connect().await.unwrap_err();
    assert!(matches!(error, McpError::Connect { .. }), "{error}");
    assert!(error.to_string().contains("no config file"), "{error}");
    // Nothing listening.
    let url = format!("http://127.0.0.1:{}/mcp", mcp_peers::free_port());
    let started = Instant::now();
    let error = McpClient::http(url).connect().await.unwrap_err();
    assert!(matches!(error, McpError::Connect { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(20), "refused connections must fail fast");
}

#[tokio::test]
async fn a_server_that_dies_mid_run_gives_an_error_result() {
    let mcp = stdio_client().allow(["echo"]).connect().await.expect("connect");
    let pid = mcp.server_pid().expect("pid");
    let status = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().expect("kill");
    assert!(status.success());
    let echo = mcp.tools().get("echo").expect("echo").clone();
    let ctx = ToolContext::new("call_1", "echo", Default::default());
    let started = Instant::now();
    let error = echo.call(r#"{"message":"anyone?"}"#, &ctx).await.unwrap_err();
    assert!(error.to_string().contains("is gone") || error.to_string().contains("failed"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(10), "a dead server must not stall the call");
}
