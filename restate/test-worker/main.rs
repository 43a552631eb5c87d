//! The worker the durable tests start, SIGKILL and start again: the agent served by `DurableAgent`, with two
//! tools whose effect goes to a ledger file outside the process, and which can be held at a gate.
//!
//! The ledger plays the outside system (a payment provider, a mail service): it takes each effect once per
//! idempotency key, as such systems do. Lines: `start` when a tool body begins, then `effect` when it
//! finishes with a key the ledger has not seen, or `repeat` when the key was seen (a body that ran again
//! after a crash cut it off before Restate journaled its result). Each line ends with the worker's name.
//!
//! Environment: `WORKER_ADDRESS` (listen address), `WORKER_NAME`, `MODEL_BASE_URL` (the test's model
//! server), `LEDGER` (the ledger file), `GATE_DIR` (a tool waits while `GATE_DIR/<tool name>` exists),
//! `TOOL_DELAY_MS` (extra time each tool takes), `APPROVE_TOOLS` (comma-separated tools that need a person's
//! approval), `MODEL_RETRY_MAX_ATTEMPTS` (how often Restate tries a failing model request; the client itself
//! does not retry, so the tests see Restate's retries).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{Value, json};
use toolsmith_core::agent::Agent;
use toolsmith_core::client::Client;
use toolsmith_core::tool::{Tool, ToolContext, ToolDefinition, ToolError};
use toolsmith_restate::{DurableAgent, DurableRun, RunRetryPolicy};

/// A tool whose effect is a ledger line: `start` when its body begins, `done` when it finishes.
struct LedgerTool {
    name: &'static str,
    description: &'static str,
    ledger: Ledger,
    gates: PathBuf,
    delay: Duration,
    worker: String,
}

impl Tool for LedgerTool {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition::new(
            self.name,
            self.description,
            json!({
                "type": "object",
                "properties": {"order": {"type": "string", "description": "The order id, e.g. \"order-1\"."}},
                "required": ["order"],
                "additionalProperties": false
            }),
        )
    }

    fn call<'a>(&'a self, arguments: &'a str, ctx: &'a ToolContext) -> BoxFuture<'a, Result<String, ToolError>> {
        Box::pin(async move {
            let arguments: Value =
                serde_json::from_str(arguments).map_err(|error| ToolError::InvalidArguments(error.to_string()))?;
            let order = arguments["order"]
                .as_str()
                .ok_or_else(|| ToolError::InvalidArguments("`order` must be a string".into()))?
                .to_owned();
            let run = ctx.get::<DurableRun>().ok_or_else(|| ToolError::Failed("not in a durable run".into()))?;
            let key = run.idempotency_key(ctx.call_id());
            let entry = format!("{} {order} {key} {}", self.name, self.worker);
            self.ledger.record("start", &entry);
            let gate = self.gates.join(self.name);
            while gate.exists() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tokio::time::sleep(self.delay).await;
            self.ledger.take_effect(&format!("{} {order} {key}", self.name), &entry);
            Ok(format!("{} for {order}: ok", self.name))
        })
    }
}

/// The ledger file, shared by every worker process.
#[derive(Clone)]
struct Ledger {
    path: PathBuf,
}

impl Ledger {
    /// Appends one line: one `write` with O_APPEND, so lines from two processes never interleave.
    fn record(&self, phase: &str, entry: &str) {
        let mut file = OpenOptions::new().create(true).append(true).open(&self.path).expect("open the ledger");
        file.write_all(format!("{phase} {entry}\n").as_bytes()).expect("append to the ledger");
    }

    /// Records the effect of `call` (tool, order, key) once: `effect` the first time, `repeat` after. The
    /// check and the write hold a lock shared with the other workers.
    fn take_effect(&self, call: &str, entry: &str) {
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path.with_extension("lock"))
            .expect("open the ledger lock");
        lock.lock().expect("lock the ledger");
        let seen = std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .any(|line| line.strip_prefix("effect ").is_some_and(|rest| rest.starts_with(&format!("{call} "))));
        self.record(if seen { "repeat" } else { "effect" }, entry);
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("the test worker needs {name}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ledger = Ledger { path: PathBuf::from(env("LEDGER")) };
    let worker = std::env::var("WORKER_NAME").unwrap_or_else(|_| "worker".to_owned());
    let gates = PathBuf::from(env("GATE_DIR"));
    let delay = Duration::from_millis(std::env::var("TOOL_DELAY_MS").ok().and_then(|ms| ms.parse().ok()).unwrap_or(0));
    let tool = |name, description| LedgerTool {
        name,
        description,
        ledger: ledger.clone(),
        gates: gates.clone(),
        delay,
        worker: worker.clone(),
    };
    let client = Client::builder().base_url(env("MODEL_BASE_URL")).api_key("test-key").max_retries(0).build()?;
    let agent = Agent::builder(client, "toolsmith-test")
        .instructions("You process orders.")
        .tool(tool("charge_card", "Charge the customer's card for an order."))
        .tool(tool("send_receipt", "Send the receipt of an order by email."))
        .build();
    let approve: Vec<String> = std::env::var("APPROVE_TOOLS")
        .unwrap_or_default()
        .split(',')
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    let attempts = std::env::var("MODEL_RETRY_MAX_ATTEMPTS").ok().and_then(|n| n.parse().ok()).unwrap_or(10);
    let retry = RunRetryPolicy::new().initial_delay(Duration::from_millis(200)).max_attempts(attempts);
    let durable = DurableAgent::new(agent)
        .require_approval(move |call| approve.contains(&call.function.name))
        .model_retry_policy(retry);
    durable.serve(env("WORKER_ADDRESS").parse()?).await;
    Ok(())
}
