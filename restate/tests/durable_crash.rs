//! A worker killed with SIGKILL in the middle of a run: a new worker finishes it, with the answer an
//! uninterrupted run gives, without asking the model again for a finished turn and without running a finished
//! tool again. Needs Node/npm (restate-server is installed from npm into target/peers when missing).

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Fixture, expected_answer, order_message};

/// Parses a run's output and returns its final answer.
fn answer(status: u16, body: &str) -> String {
    assert_eq!(status, 200, "the run failed: {body}");
    let outcome: Value = serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {body}"));
    assert_eq!(outcome["status"], "completed", "{outcome:#}");
    outcome["output"].as_str().expect("output").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_the_second_tool_call_runs_the_first_does_not_run_again() {
    let fx = Fixture::new("crash-tool").await;
    fx.hold("send_receipt");
    let mut worker = fx.worker("worker", &[]).await;
    fx.restate.register(&worker.uri()).await;

    let id = fx.restate.send("AgentRun/order-1/run", &order_message("order-1"), "run-order-1").await;
    fx.wait_ledger("charge_card done, send_receipt running", |ledger| {
        ledger.count("effect", "charge_card", None) == 1 && ledger.count("start", "send_receipt", None) == 1
    })
    .await;
    worker.kill();
    fx.release("send_receipt");
    worker.restart().await;

    let (status, body) = fx.restate.wait_output(&id, Duration::from_secs(60)).await;
    assert_eq!(answer(status, &body), expected_answer("order-1"));
    let ledger = fx.ledger();
    // The first call's result came from the journal: its body ran once.
    assert_eq!(ledger.count("start", "charge_card", None), 1, "{ledger:?}");
    assert_eq!(ledger.finished("charge_card"), 1, "{ledger:?}");
    // The second was cut off mid-body: it ran again and finished once.
    assert_eq!(ledger.count("start", "send_receipt", None), 2, "{ledger:?}");
    assert_eq!(ledger.finished("send_receipt"), 1, "{ledger:?}");
    // Both attempts used the same idempotency key.
    let keys: Vec<&str> =
        ledger.lines.iter().filter(|line| line.tool == "send_receipt").map(|line| line.key.as_str()).collect();
    assert!(keys.windows(2).all(|pair| pair[0] == pair[1]), "{keys:?}");
    // Two turns, each asked once.
    assert_eq!(fx.model.request_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_a_model_request_is_in_flight_only_that_request_is_made_again() {
    let fx = Fixture::new("crash-model").await;
    fx.hold("send_receipt");
    let mut worker = fx.worker("worker", &[]).await;
    fx.restate.register(&worker.uri()).await;

    let id = fx.restate.send("AgentRun/order-2/run", &order_message("order-2"), "run-order-2").await;
    fx.wait_ledger("send_receipt running", |ledger| ledger.count("start", "send_receipt", None) == 1).await;
    // The second turn's request will hang (this reply is served first, after a minute) until the kill.
    fx.model.push(toolsmith_testing::Reply::text("never delivered").delay(Duration::from_secs(60)));
    fx.release("send_receipt");
    fx.wait_requests(2).await;
    worker.kill();
    worker.restart().await;

    let (status, body) = fx.restate.wait_output(&id, Duration::from_secs(60)).await;
    assert_eq!(answer(status, &body), expected_answer("order-2"));
    let ledger = fx.ledger();
    for tool in ["charge_card", "send_receipt"] {
        assert_eq!(ledger.count("start", tool, None), 1, "{tool}: {ledger:?}");
        assert_eq!(ledger.finished(tool), 1, "{tool}: {ledger:?}");
    }
    // Turn 1 once, turn 2 twice (the request in flight at the kill, and its retry).
    let requests = fx.model.requests();
    assert_eq!(requests.len(), 3);
    let turns: Vec<usize> = requests
        .iter()
        .map(|request| request.messages().iter().filter(|message| message["role"] == "assistant").count() + 1)
        .collect();
    assert_eq!(turns, [1, 2, 2]);
    // The retried request is the very request that was cut off: same history, same tool-call ids.
    assert_eq!(requests[1].body["messages"], requests[2].body["messages"]);
}
