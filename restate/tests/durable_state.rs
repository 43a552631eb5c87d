//! Saved state across processes and versions: a run state stepped in this process resumes on a worker and
//! ends with the right answer; a state or a session history from a newer version is refused with a clear
//! error, and nothing runs. Needs Node/npm.

mod support;

use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{Value, json};
use support::{Fixture, expected_answer, order_message};
use toolsmith_core::agent::{Agent, RUN_STATE_VERSION, RunState, Step};
use toolsmith_core::tool::{Tool, ToolContext, ToolDefinition, ToolError};

/// The test worker's tools as this process knows them: the same definitions, never run here.
struct Remote(&'static str);

impl Tool for Remote {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition::new(
            self.0,
            "runs on the worker",
            json!({"type": "object", "properties": {"order": {"type": "string"}}, "required": ["order"]}),
        )
    }

    fn call<'a>(&'a self, _: &'a str, _: &'a ToolContext) -> BoxFuture<'a, Result<String, ToolError>> {
        Box::pin(async { panic!("the test process never runs a tool") })
    }
}

/// A state stepped here up to the tool calls: the model's first turn is recorded, both calls pending.
async fn state_with_pending_calls(fx: &Fixture, order: &str) -> RunState {
    let agent = Agent::builder(fx.model.client(), "toolsmith-test")
        .instructions("You process orders.")
        .tool(Remote("charge_card"))
        .tool(Remote("send_receipt"))
        .build();
    let mut state = agent.start(order_message(order).as_str().expect("text"));
    let Step::Model(request) = agent.next_step(&mut state) else { panic!("a new run asks the model first") };
    let completion = agent.request_model(&mut state, request).await.expect("the first turn");
    agent.record_completion(&mut state, completion).expect("record the turn");
    let Step::Tools(calls) = agent.next_step(&mut state) else { panic!("the model called the tools") };
    assert_eq!(calls.len(), 2);
    state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_saved_by_this_version_resumes_on_a_worker() {
    let fx = Fixture::new("resume").await;
    let state = state_with_pending_calls(&fx, "order-5").await;
    let saved: Value = serde_json::to_value(&state).expect("serialize the state");
    assert_eq!(saved["version"], RUN_STATE_VERSION);
    let worker = fx.worker("worker", &[]).await;
    fx.restate.register(&worker.uri()).await;

    let id = fx.restate.send("AgentRun/resumed-5/resume", &saved, "resumed-5").await;
    let (status, body) = fx.restate.wait_output(&id, Duration::from_secs(60)).await;
    assert_eq!(status, 200, "{body}");
    let outcome: Value = serde_json::from_str(&body).expect("JSON outcome");
    assert_eq!(outcome["output"], expected_answer("order-5"), "{outcome:#}");
    // The worker ran the pending calls and asked for the last turn; the first turn was this process's.
    assert_eq!(outcome["turns"], 2);
    let ledger = fx.ledger();
    assert_eq!(ledger.finished("charge_card"), 1);
    assert_eq!(ledger.finished("send_receipt"), 1);
    assert_eq!(fx.model.request_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_from_a_newer_version_is_a_clear_error() {
    let fx = Fixture::new("newer").await;
    let state = state_with_pending_calls(&fx, "order-6").await;
    let mut saved: Value = serde_json::to_value(&state).expect("serialize the state");
    saved["version"] = json!(RUN_STATE_VERSION + 1);
    let worker = fx.worker("worker", &[]).await;
    fx.restate.register(&worker.uri()).await;

    let (status, body) = fx.restate.call("AgentRun/newer-6/resume", Some(&saved)).await;
    assert_eq!(status, 400, "{body}");
    let expected = format!(
        "the run state has version {}, newer than this build supports ({RUN_STATE_VERSION})",
        RUN_STATE_VERSION + 1
    );
    assert!(body.contains(&expected), "{body}");

    // A session whose stored history is from a newer version is refused the same way.
    fx.restate.set_state("AgentSession", "chat-newer", "history", &json!({"version": 99, "messages": []})).await;
    let (status, body) = fx.restate.call("AgentSession/chat-newer/send", Some(&order_message("order-7"))).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("history has version 99, newer than this build supports (1)"), "{body}");

    // Nothing ran: no tool, and no model request after the one this process made.
    assert!(fx.ledger().lines.is_empty());
    assert_eq!(fx.model.request_count(), 1);
}
