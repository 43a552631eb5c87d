//! A call that needs a person: the run suspends (no worker busy, even no worker at all), the approval arrives
//! over HTTP later, and the run completes; a denial reaches the model as a denial. Needs Node/npm.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Fixture, expected_answer, order_message};

/// Restate asks an invocation that waits without progress to suspend after this long (1 minute by
/// default), so the test sees the suspension quickly.
const QUICK_SUSPEND: &str = "[worker.invoker]\ninactivity-timeout = \"1s\"\n";

/// Polls the run's `approvals` handler until a call waits, and returns the list.
async fn waiting_approvals(fx: &Fixture, run: &str) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let (status, body) = fx.restate.call(&format!("AgentRun/{run}/approvals"), None).await;
        assert_eq!(status, 200, "{body}");
        let listed: Vec<Value> = serde_json::from_str(&body).expect("a JSON list");
        if !listed.is_empty() {
            return listed;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no call waited for approval within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_waits_suspended_for_an_approval_given_later_over_http() {
    let fx = Fixture::with_config("approve", QUICK_SUSPEND).await;
    let mut worker = fx.worker("worker", &[("APPROVE_TOOLS", "charge_card")]).await;
    fx.restate.register(&worker.uri()).await;

    let id = fx.restate.send("AgentRun/order-3/run", &order_message("order-3"), "run-order-3").await;
    let listed = waiting_approvals(&fx, "order-3").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["tool"], "charge_card");
    assert_eq!(listed[0]["arguments"], r#"{"order":"order-3"}"#);
    // Nothing ran: the card is not charged before the approval, and the receipt comes after the charge.
    assert!(fx.ledger().lines.is_empty(), "{:?}", fx.ledger());

    // The run lets go of its worker while it waits.
    let started = Instant::now();
    while fx.restate.invocation_status(&id).await != "suspended" {
        assert!(started.elapsed() < Duration::from_secs(30), "the waiting run never suspended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // No worker at all while the person decides: the approval goes to Restate, which keeps it.
    worker.kill();
    let awakeable = listed[0]["awakeable_id"].as_str().expect("awakeable id");
    let response = support::server::http()
        .post(format!("{}/restate/awakeables/{awakeable}/resolve", fx.restate.ingress))
        .json(&json!("approve"))
        .send()
        .await
        .expect("resolve the awakeable");
    assert!(response.status().is_success(), "{}", response.status());
    assert!(fx.ledger().lines.is_empty());
    worker.restart().await;

    let (status, body) = fx.restate.wait_output(&id, Duration::from_secs(60)).await;
    assert_eq!(status, 200, "{body}");
    let outcome: Value = serde_json::from_str(&body).expect("JSON outcome");
    assert_eq!(outcome["output"], expected_answer("order-3"), "{outcome:#}");
    let ledger = fx.ledger();
    assert_eq!(ledger.finished("charge_card"), 1);
    assert_eq!(ledger.finished("send_receipt"), 1);
    // Decided calls leave the list.
    let (_, body) = fx.restate.call("AgentRun/order-3/approvals", None).await;
    assert_eq!(body, "[]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denial_reaches_the_model_as_a_denial() {
    let fx = Fixture::new("deny").await;
    let worker = fx.worker("worker", &[("APPROVE_TOOLS", "charge_card")]).await;
    fx.restate.register(&worker.uri()).await;

    let id = fx.restate.send("AgentRun/order-4/run", &order_message("order-4"), "run-order-4").await;
    let listed = waiting_approvals(&fx, "order-4").await;
    let call_id = listed[0]["call_id"].as_str().expect("call id").to_owned();

    // A decision for a call that does not wait is refused, and says so.
    let unknown = json!({"call_id": "tc9999999", "approval": "approve"});
    let (status, body) = fx.restate.call("AgentRun/order-4/decide", Some(&unknown)).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("no call `tc9999999` is waiting"), "{body}");

    let denial = json!({"call_id": call_id, "approval": {"deny": "the card was reported stolen"}});
    let (status, body) = fx.restate.call("AgentRun/order-4/decide", Some(&denial)).await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = fx.restate.wait_output(&id, Duration::from_secs(60)).await;
    assert_eq!(status, 200, "{body}");
    let outcome: Value = serde_json::from_str(&body).expect("JSON outcome");
    assert_eq!(
        outcome["output"],
        "Here is what I found:\ncharge_card failed: The call to `charge_card` was not run: the card was reported \
         stolen\nsend_receipt: send_receipt for order-4: ok",
        "{outcome:#}"
    );
    assert_eq!(outcome["tool_calls"][0]["outcome"], "denied");
    // The model was told, in the tool message answering the call.
    let last = fx.model.requests().pop().expect("a model request");
    let answer = last
        .messages()
        .iter()
        .find(|message| message["role"] == "tool" && message["tool_call_id"] == call_id.as_str())
        .expect("the denied call is answered")
        .clone();
    assert_eq!(answer["content"], "The call to `charge_card` was not run: the card was reported stolen");
    let ledger = fx.ledger();
    assert_eq!(ledger.count("start", "charge_card", None), 0, "a denied call never runs");
    assert_eq!(ledger.finished("send_receipt"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewrite_runs_the_call_with_the_new_arguments_and_a_rejection_is_a_denial() {
    let fx = Fixture::new("rewrite").await;
    let worker = fx.worker("worker", &[("APPROVE_TOOLS", "charge_card,send_receipt")]).await;
    fx.restate.register(&worker.uri()).await;

    // Both calls of the turn wait at once, so a person sees them together.
    let id = fx.restate.send("AgentRun/order-8/run", &order_message("order-8"), "run-order-8").await;
    let listed = waiting_approvals(&fx, "order-8").await;
    let tools: Vec<&str> = listed.iter().map(|pending| pending["tool"].as_str().unwrap_or("?")).collect();
    assert_eq!(tools, ["charge_card", "send_receipt"]);

    let rewrite = json!({"call_id": listed[0]["call_id"], "approval": {"rewrite": r#"{"order":"order-8b"}"#}});
    let (status, body) = fx.restate.call("AgentRun/order-8/decide", Some(&rewrite)).await;
    assert_eq!(status, 200, "{body}");
    // Rejecting the awakeable itself (Restate's own endpoint) is a denial with the rejection's message.
    let awakeable = listed[1]["awakeable_id"].as_str().expect("awakeable id");
    let response = support::server::http()
        .post(format!("{}/restate/awakeables/{awakeable}/reject", fx.restate.ingress))
        .body("no receipts today")
        .send()
        .await
        .expect("reject the awakeable");
    assert!(response.status().is_success(), "{}", response.status());

    let (status, body) = fx.restate.wait_output(&id, Duration::from_secs(60)).await;
    assert_eq!(status, 200, "{body}");
    let outcome: Value = serde_json::from_str(&body).expect("JSON outcome");
    assert_eq!(
        outcome["output"],
        "Here is what I found:\ncharge_card: charge_card for order-8b: ok\nsend_receipt failed: The call to \
         `send_receipt` was not run: no receipts today",
        "{outcome:#}"
    );
    assert_eq!(outcome["tool_calls"][0]["arguments"], r#"{"order":"order-8b"}"#);
    let ledger = fx.ledger();
    assert_eq!(ledger.count("effect", "charge_card", Some("order-8b")), 1);
    assert_eq!(ledger.count("start", "charge_card", Some("order-8")), 0);
    assert_eq!(ledger.count("start", "send_receipt", None), 0);
}
