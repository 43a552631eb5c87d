//! A conversation as a virtual object: its messages are processed one at a time, in order, each exchange
//! seeing the history the previous one left, and the history survives the worker. Needs Node/npm.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Fixture, expected_answer, order_message};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversations_messages_run_in_order_on_its_history() {
    let fx = Fixture::new("session").await;
    fx.hold("send_receipt");
    let mut worker = fx.worker("worker", &[]).await;
    fx.restate.register(&worker.uri()).await;

    let first = fx.restate.send("AgentSession/chat-1/send", &order_message("order-s1"), "chat-1-m1").await;
    fx.wait_ledger("the first exchange's receipt", |ledger| ledger.count("start", "send_receipt", None) == 1).await;
    // The second message arrives while the first exchange runs: it waits its turn.
    let second = fx.restate.send("AgentSession/chat-1/send", &order_message("order-s2"), "chat-1-m2").await;
    // Another conversation is not held up by this one.
    let other = serde_json::json!("Charge the card for 'order-c2'.");
    let other = fx.restate.send("AgentSession/chat-2/send", &other, "chat-2-m1").await;
    let (status, body) = fx.restate.wait_output(&other, Duration::from_secs(60)).await;
    assert_eq!(status, 200, "{body}");
    let outcome: Value = serde_json::from_str(&body).expect("JSON outcome");
    assert_eq!(outcome["output"], "Here is what I found:\ncharge_card: charge_card for order-c2: ok");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(fx.restate.output(&second).await.is_none(), "the second message ran before the first finished");
    assert_eq!(fx.ledger().count("start", "charge_card", Some("order-s2")), 0);

    // A crash between the two exchanges loses nothing.
    worker.kill();
    fx.release("send_receipt");
    worker.restart().await;
    for (id, order) in [(&first, "order-s1"), (&second, "order-s2")] {
        let (status, body) = fx.restate.wait_output(id, Duration::from_secs(60)).await;
        assert_eq!(status, 200, "{body}");
        let outcome: Value = serde_json::from_str(&body).expect("JSON outcome");
        assert_eq!(outcome["output"], expected_answer(order), "{outcome:#}");
    }

    // The second exchange was asked with the whole first exchange before it (the test model checks that
    // every tool-call id in it is unique), and the history holds both, in order.
    let (status, body) = fx.restate.call("AgentSession/chat-1/history", None).await;
    assert_eq!(status, 200, "{body}");
    let history: Vec<Value> = serde_json::from_str(&body).expect("JSON history");
    let roles: Vec<&str> = history.iter().map(|message| message["role"].as_str().unwrap_or("?")).collect();
    assert_eq!(
        roles,
        ["system", "user", "assistant", "tool", "tool", "assistant", "user", "assistant", "tool", "tool", "assistant"]
    );
    assert_eq!(history[1]["content"], order_message("order-s1"));
    assert_eq!(history[6]["content"], order_message("order-s2"));
    assert_eq!(history[10]["content"], expected_answer("order-s2"));
    let ledger = fx.ledger();
    for order in ["order-s1", "order-s2"] {
        assert_eq!(ledger.count("effect", "charge_card", Some(order)), 1, "{ledger:?}");
        assert_eq!(ledger.count("effect", "send_receipt", Some(order)), 1, "{ledger:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_exchange_waits_for_its_approval_by_conversation() {
    let fx = Fixture::new("session-approval").await;
    let worker = fx.worker("worker", &[("APPROVE_TOOLS", "send_receipt")]).await;
    fx.restate.register(&worker.uri()).await;

    let id = fx.restate.send("AgentSession/chat-3/send", &order_message("order-s3"), "chat-3-m1").await;
    let listed = loop {
        let (status, body) = fx.restate.call("AgentSession/chat-3/approvals", None).await;
        assert_eq!(status, 200, "{body}");
        let listed: Vec<Value> = serde_json::from_str(&body).expect("a JSON list");
        if !listed.is_empty() {
            break listed;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["tool"], "send_receipt");
    // The charge needs no approval and ran; the receipt waits.
    fx.wait_ledger("the charge", |ledger| ledger.count("effect", "charge_card", Some("order-s3")) == 1).await;
    assert_eq!(fx.ledger().count("start", "send_receipt", None), 0);

    let approve = serde_json::json!({"call_id": listed[0]["call_id"], "approval": "approve"});
    let (status, body) = fx.restate.call("AgentSession/chat-3/decide", Some(&approve)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = fx.restate.wait_output(&id, Duration::from_secs(60)).await;
    assert_eq!(status, 200, "{body}");
    let outcome: Value = serde_json::from_str(&body).expect("JSON outcome");
    assert_eq!(outcome["output"], expected_answer("order-s3"), "{outcome:#}");
    let (_, body) = fx.restate.call("AgentSession/chat-3/approvals", None).await;
    assert_eq!(body, "[]");
}
