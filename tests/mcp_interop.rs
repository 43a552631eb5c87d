//! Our MCP server against an independent client, the official Python SDK (`mcp` on PyPI, installed on first
//! use into the peers cache), over stdio and Streamable HTTP; and our client against our server. The texts a
//! client reads for a tool's `Err`, bad arguments and a panic are compared with what an Agent sends its model
//! for the same calls.
//!
//! No libtest harness: for the stdio cases this binary is also the server (`--serve-stdio`), and libtest
//! would write to the stdout the protocol runs on. It prints libtest's lines and summary itself.
#![cfg(feature = "mcp")]

mod mcp_peers;

use std::panic::AssertUnwindSafe;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use toolsmith::agent::{Agent, ToolOutcome};
use toolsmith::mcp::{McpClient, McpServer};
use toolsmith::testing::{Reply, TestServer};
use toolsmith::tool::{RunContext, ToolContext, ToolSet};
use toolsmith::wire::ToolCall;

// ------------------------------------------------------------------------------------------------ tools

/// Add two numbers.
#[toolsmith::tool]
fn add(a: f64, b: f64) -> f64 {
    a + b
}

/// Divide `a` by `b`.
#[toolsmith::tool]
fn divide(a: f64, b: f64) -> Result<f64, String> {
    if b == 0.0 { Err("division by zero".to_owned()) } else { Ok(a / b) }
}

/// A tool with a bug.
#[toolsmith::tool]
fn explode() -> String {
    panic!("boom")
}

struct User(&'static str);

/// Say who is calling.
#[toolsmith::tool]
fn whoami(ctx: &ToolContext) -> String {
    let user = ctx.get::<User>().map_or("nobody", |user| user.0);
    format!("{} for {user}, call id {}", ctx.tool_name(), ctx.call_id())
}

static SLOW_DROPPED: AtomicBool = AtomicBool::new(false);

struct SetOnDrop(&'static AtomicBool);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Wait a long time.
#[toolsmith::tool]
async fn slow_wait(seconds: u64) -> String {
    let _flag = SetOnDrop(&SLOW_DROPPED);
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    "waited".to_owned()
}

fn tool_set() -> ToolSet {
    let mut tools = ToolSet::new();
    tools.insert(Arc::new(add)).expect("add");
    tools.insert(Arc::new(divide)).expect("divide");
    tools.insert(Arc::new(explode)).expect("explode");
    tools.insert(Arc::new(whoami)).expect("whoami");
    tools.insert(Arc::new(slow_wait)).expect("slow_wait");
    tools
}

fn server() -> McpServer {
    McpServer::new(tool_set())
        .name("interop")
        .version("1.2.3")
        .instructions("Use add for sums.")
        .context(RunContext::new().with(User("ada")))
}

/// What an Agent sends its model for this call of this tool.
async fn agent_text(tool: &str, arguments: &str) -> String {
    let model =
        TestServer::scripted([Reply::tool_calls(vec![ToolCall::new("call_1", tool, arguments)]), Reply::text("done")])
            .await
            .expect("scripted model");
    let mut builder = Agent::builder(model.client(), "test-model");
    for tool in tool_set().iter() {
        builder = builder.tool_arc(tool.clone());
    }
    let run = builder.build().run("go").await.expect("agent run");
    run.tool_calls[0].result.clone()
}

// ------------------------------------------------------------------------------------- Python client

fn python_calls() -> Value {
    json!([
        ["add", {"a": 2, "b": 3.5}],
        ["divide", {"a": 1, "b": 0}],
        ["add", {"a": "two", "b": 3}],
        ["add", {"b": 3}],
        ["explode", {}],
        ["whoami", {}],
        ["no_such_tool", {}]
    ])
}

fn run_python(mode: &str, target: &str) -> Value {
    let output = Command::new(mcp_peers::python())
        .arg(mcp_peers::python_client_script())
        .args([mode, target, &python_calls().to_string()])
        .output()
        .expect("run the Python client");
    assert!(
        output.status.success(),
        "the Python client failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("the Python client's JSON")
}

async fn check_python_view(seen: Value) {
    assert_eq!(seen["server"], "interop");
    assert_eq!(seen["version"], "1.2.3");
    assert_eq!(seen["instructions"], "Use add for sums.");
    let tools = tool_set();
    let listed = seen["tools"].as_array().expect("tools");
    assert_eq!(listed.len(), tools.len());
    for (listed, definition) in listed.iter().zip(tools.definitions()) {
        assert_eq!(listed["name"], definition.name());
        assert_eq!(listed["description"], definition.description());
        assert_eq!(&listed["input_schema"], definition.parameters(), "same schema as the agent sends");
    }
    let calls = seen["calls"].as_array().expect("calls");
    assert_eq!(calls[0], json!({"is_error": false, "text": "5.5"}));
    // The same texts an Agent gives its model.
    let cases = [
        (1, "divide", r#"{"a":1,"b":0}"#),
        (2, "add", r#"{"a":"two","b":3}"#),
        (3, "add", r#"{"b":3}"#),
        (4, "explode", "{}"),
    ];
    for (index, tool, arguments) in cases {
        let expected = agent_text(tool, arguments).await;
        assert_eq!(calls[index], json!({"is_error": true, "text": expected}), "call {index}");
    }
    assert!(calls[2]["text"].as_str().unwrap_or_default().contains("invalid arguments for `add`"));
    assert!(calls[4]["text"].as_str().unwrap_or_default().contains("crashed while running"));
    let who = calls[5]["text"].as_str().unwrap_or_default();
    assert_eq!(calls[5]["is_error"], false);
    assert!(who.starts_with("whoami for ada, call id "), "{who}");
    assert!(calls[6]["protocol_error"].as_str().unwrap_or_default().contains("no_such_tool"), "{}", calls[6]);
}

async fn python_over_stdio() {
    let exe = std::env::current_exe().expect("this test binary");
    let command = json!([exe.to_string_lossy(), "--serve-stdio"]).to_string();
    check_python_view(run_python("stdio", &command)).await;
}

async fn serve_http() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("address"));
    tokio::spawn(server().serve_http(listener));
    url
}

async fn python_over_http() {
    let url = serve_http().await;
    let seen = tokio::task::spawn_blocking(move || run_python("http", &url)).await.expect("python thread");
    check_python_view(seen).await;
}

// --------------------------------------------------------------------------------- our client, our server

async fn agent_through_mcp(client: McpClient) {
    let mcp = client.prefix("calc").connect().await.expect("connect");
    assert_eq!(mcp.server().name.as_deref(), Some("interop"));
    assert_eq!(mcp.instructions(), Some("Use add for sums."));
    let tools = mcp.tools();
    assert_eq!(
        tools.names().collect::<Vec<_>>(),
        ["calc_add", "calc_divide", "calc_explode", "calc_whoami", "calc_slow_wait"]
    );
    // Schemas arrive as the tools define them.
    assert_eq!(
        mcp.tools().get("calc_add").expect("add").definition().parameters(),
        tool_set().get("add").expect("add").definition().parameters()
    );

    let model = TestServer::test_model().await.expect("test model");
    let agent = Agent::builder(model.client(), "test-model").tools(mcp.clone()).build();
    let run = agent.run("Please add 2 and 3.").await.expect("run");
    assert_eq!(run.tool_calls.len(), 1, "{:?}", run.tool_calls);
    assert_eq!(run.tool_calls[0].name, "calc_add");
    assert_eq!(run.tool_calls[0].result, "5.0");

    // An error through two layers reads as it does locally.
    let scripted = TestServer::scripted([
        Reply::tool_calls(vec![
            ToolCall::new("call_1", "calc_divide", r#"{"a":1,"b":0}"#),
            ToolCall::new("call_2", "calc_explode", "{}"),
        ]),
        Reply::text("ok"),
    ])
    .await
    .expect("scripted model");
    let agent = Agent::builder(scripted.client(), "test-model").tools(mcp).build();
    let run = agent.run("go").await.expect("run");
    assert_eq!(run.tool_calls[0].outcome, ToolOutcome::Failed);
    assert_eq!(run.tool_calls[0].result, agent_text("divide", r#"{"a":1,"b":0}"#).await);
    assert_eq!(run.tool_calls[1].outcome, ToolOutcome::Failed);
    assert_eq!(run.tool_calls[1].result, agent_text("explode", "{}").await);
}

async fn our_client_over_stdio() {
    let exe = std::env::current_exe().expect("this test binary");
    agent_through_mcp(McpClient::stdio(exe.to_string_lossy()).arg("--serve-stdio")).await;
}

async fn our_client_over_http() {
    agent_through_mcp(McpClient::http(serve_http().await)).await;
}

/// A stalled call ends at the client's timeout with an error result, and the server stops the tool
/// (`notifications/cancelled`); so does a run that is dropped.
async fn timeouts_and_dropped_runs_cancel_the_call() {
    let url = serve_http().await;
    let mcp = McpClient::http(url).call_timeout(Some(Duration::from_millis(300))).connect().await.expect("connect");
    SLOW_DROPPED.store(false, Ordering::SeqCst);
    let slow = mcp.tools().get("slow_wait").expect("slow_wait").clone();
    let ctx = ToolContext::new("call_1", "slow_wait", RunContext::new());
    let started = Instant::now();
    let error = slow.call(r#"{"seconds":30}"#, &ctx).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(error.to_string().contains("did not answer within 0.3 s; the call was cancelled"), "{error}");
    wait_for(&SLOW_DROPPED, "the server did not stop the tool after the client's timeout").await;

    SLOW_DROPPED.store(false, Ordering::SeqCst);
    let mcp = McpClient::http(serve_http().await).connect().await.expect("connect");
    let model =
        TestServer::scripted([Reply::tool_calls(vec![ToolCall::new("call_1", "slow_wait", r#"{"seconds":30}"#)])])
            .await
            .expect("scripted model");
    let agent = Agent::builder(model.client(), "test-model").tools(mcp).build();
    let dropped = tokio::time::timeout(Duration::from_millis(500), agent.run("wait")).await;
    assert!(dropped.is_err(), "the run should still be waiting");
    wait_for(&SLOW_DROPPED, "the server did not stop the tool after the run was dropped").await;
}

async fn wait_for(flag: &AtomicBool, message: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !flag.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "{message}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ------------------------------------------------------------------------------------------- harness

type Case = fn() -> BoxFuture<'static, ()>;

const CASES: &[(&str, Case)] = &[
    ("python_client_over_stdio", || Box::pin(python_over_stdio())),
    ("python_client_over_http", || Box::pin(python_over_http())),
    ("our_client_over_stdio", || Box::pin(our_client_over_stdio())),
    ("our_client_over_http", || Box::pin(our_client_over_http())),
    ("timeouts_and_dropped_runs_cancel_the_call", || Box::pin(timeouts_and_dropped_runs_cancel_the_call())),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `explode` panics on purpose in every case; keep its report out of the output.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&"boom") {
            default_hook(info);
        }
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    if args.iter().any(|arg| arg == "--serve-stdio") {
        if let Err(error) = runtime.block_on(server().serve_stdio()) {
            eprintln!("{error}");
            std::process::exit(1);
        }
        return;
    }
    if args.iter().any(|arg| arg == "--list") {
        for (name, _) in CASES {
            println!("{name}: test");
        }
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|arg| !arg.starts_with('-')).collect();
    let selected: Vec<&(&str, Case)> = CASES
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    println!("\nrunning {} tests", selected.len());
    let (mut passed, mut failed) = (0, Vec::new());
    for (name, case) in &selected {
        let outcome = runtime.block_on(AssertUnwindSafe(case()).catch_unwind());
        if outcome.is_ok() {
            println!("test {name} ... ok");
            passed += 1;
        } else {
            println!("test {name} ... FAILED");
            failed.push(*name);
        }
    }
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {verdict}. {passed} passed; {} failed; 0 ignored; 0 measured; {} filtered out\n",
        failed.len(),
        CASES.len() - selected.len()
    );
    if !failed.is_empty() {
        println!("failures: {}", failed.join(", "));
        std::process::exit(101);
    }
}
