//! A model request that fails: an error that cannot succeed ends the run (and leaves a session's history
//! as it was) with the transcript; a passing failure is retried by Restate until it works or its attempts
//! run out. Needs Node/npm.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Fixture, expected_answer, order_message};
use toolsmith_testing::Reply;

async fn outcome(fx: &Fixture, id: &str) -> Value {
    let (status, body) = fx.restate.wait_output(id, Duration::from_secs(60)).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("JSON outcome")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_error_that_cannot_succeed_fails_the_exchange_and_keeps_the_history() {
    let fx = Fixture::new("model-400").await;
    let worker = fx.worker("worker", &[]).await;
    fx.restate.register(&worker.uri()).await;

    fx.model.push(Reply::status(400, "the request is malformed"));
    let id = fx.restate.send("AgentSession/chat-f/send", &order_message("order-f1"), "chat-f-1").await;
    let failed = outcome(&fx, &id).await;
    assert_eq!(failed["status"], "failed", "{failed:#}");
    let error = failed["error"].as_str().expect("error text");
    assert!(error.starts_with("model request failed: HTTP 400"), "{error}");
    assert_eq!(failed["turns"], 0);
    assert_eq!(failed["messages"].as_array().map(Vec::len), Some(2), "the instructions and the input");
    // Not retried: a 400 stays a 400.
    assert_eq!(fx.model.request_count(), 1);
    let (_, history) = fx.restate.call("AgentSession/chat-f/history", None).await;
    assert_eq!(history, "[]", "a failed exchange leaves the history as it was");

    // The next message starts from that history, and `reset` forgets the conversation.
    let id = fx.restate.send("AgentSession/chat-f/send", &order_message("order-f2"), "chat-f-2").await;
    assert_eq!(outcome(&fx, &id).await["output"], expected_answer("order-f2"));
    let (_, history) = fx.restate.call("AgentSession/chat-f/history", None).await;
    let history: Vec<Value> = serde_json::from_str(&history).expect("JSON history");
    assert_eq!(history.len(), 6);
    assert_eq!(history[1]["content"], order_message("order-f2"));
    let (status, body) = fx.restate.call("AgentSession/chat-f/reset", None).await;
    assert_eq!(status, 200, "{body}");
    let (_, history) = fx.restate.call("AgentSession/chat-f/history", None).await;
    assert_eq!(history, "[]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_model_failure_is_retried_until_it_works_or_the_attempts_run_out() {
    let fx = Fixture::new("model-503").await;
    let worker = fx.worker("worker", &[("MODEL_RETRY_MAX_ATTEMPTS", "3")]).await;
    fx.restate.register(&worker.uri()).await;

    // Two failures, then the model answers: the third attempt of the first turn goes through.
    fx.model.push(Reply::status(503, "overloaded"));
    fx.model.push(Reply::status(503, "overloaded"));
    let id = fx.restate.send("AgentRun/order-r1/run", &order_message("order-r1"), "order-r1").await;
    let done = outcome(&fx, &id).await;
    assert_eq!(done["output"], expected_answer("order-r1"), "{done:#}");
    assert_eq!(done["turns"], 2);
    assert_eq!(fx.model.request_count(), 4);

    // Three failures use up the three attempts: the run fails, and says why.
    for _ in 0..3 {
        fx.model.push(Reply::status(503, "overloaded"));
    }
    let id = fx.restate.send("AgentRun/order-r2/run", &order_message("order-r2"), "order-r2").await;
    let failed = outcome(&fx, &id).await;
    assert_eq!(failed["status"], "failed", "{failed:#}");
    assert!(failed["error"].as_str().expect("error").starts_with("model request failed: "), "{failed:#}");
    assert_eq!(fx.model.request_count(), 7);
    assert!(fx.ledger().lines.iter().all(|line| line.order == "order-r1"), "no tool ran for the failed run");
}
