//! A server whose tool list changes while an agent runs on it: the official Python SDK's server in
//! `fixtures/mcp/changing_server.py` adds `secret_word` when `unlock` is called and announces it. The agent,
//! built once, offers the new tool from the next turn on, over stdio and over Streamable HTTP.
#![cfg(feature = "mcp")]

mod mcp_peers;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use toolsmith::agent::Agent;
use toolsmith::mcp::{McpClient, McpTools};
use toolsmith::testing::TestServer;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mcp/changing_server.py")
}

fn offered(body: &serde_json::Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .map(|tools| tools.iter().filter_map(|tool| tool["function"]["name"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

async fn next_turn_sees_the_new_tool(mcp: McpTools) {
    assert_eq!(mcp.tools().names().collect::<Vec<_>>(), ["unlock"]);
    assert_eq!(mcp.instructions(), Some("Call unlock before asking for the secret word."));
    let model = TestServer::test_model().await.expect("test model");
    let agent = Agent::builder(model.client(), "test-model")
        .instructions(mcp.instructions().unwrap_or_default())
        .tools(mcp.clone())
        .build();
    let mut session = agent.session();

    let first = session.send("Please unlock.").await.expect("first exchange");
    assert_eq!(first.tool_calls.len(), 1, "{:?}", first.tool_calls);
    assert_eq!(first.tool_calls[0].result, "unlocked");
    let deadline = Instant::now() + Duration::from_secs(20);
    while mcp.list_changes() == 0 {
        assert!(Instant::now() < deadline, "the list change was not followed within 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let second = session.send("What is the secret word?").await.expect("second exchange");
    assert_eq!(second.tool_calls.len(), 1, "{:?}", second.tool_calls);
    assert_eq!(second.tool_calls[0].name, "secret_word");
    assert_eq!(second.tool_calls[0].result, "swordfish");
    assert!(second.output.contains("swordfish"), "{}", second.output);
    let requests = model.requests();
    assert_eq!(offered(&requests[0].body), ["unlock"]);
    assert_eq!(offered(&requests.last().expect("requests").body), ["unlock", "secret_word"]);
}

#[tokio::test]
async fn stdio_list_change_reaches_the_next_turn() {
    let python = mcp_peers::python();
    let mcp = McpClient::stdio(python.to_string_lossy())
        .arg(script().to_string_lossy())
        .arg("stdio")
        .connect()
        .await
        .expect("connect over stdio");
    next_turn_sees_the_new_tool(mcp).await;
}

#[tokio::test]
async fn http_list_change_reaches_the_next_turn() {
    let python = mcp_peers::python();
    let port = mcp_peers::free_port();
    let mut child = Command::new(python)
        .arg(script())
        .args(["http", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the Python server");
    mcp_peers::wait_for_port(port, &mut child);
    let _server = mcp_peers::KillOnDrop(child);
    let mcp = McpClient::http(format!("http://127.0.0.1:{port}/mcp")).connect().await.expect("connect over HTTP");
    next_turn_sees_the_new_tool(mcp).await;
}
