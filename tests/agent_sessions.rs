//! Issue 9.1 and 9.8: a session never loses its history, whichever point a streamed exchange is dropped at,
//! and a failed exchange's tool work can be kept.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use toolsmith::agent::{Agent, AgentEvent, Error};
use toolsmith::client::Client;
use toolsmith::testing::{Reply, TestServer};
use toolsmith::wire::{Message, ToolCall};

/// Add two numbers.
#[toolsmith::tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// One exchange: a tool turn, then a text answer streamed in several deltas.
fn exchange() -> Vec<Reply> {
    vec![Reply::tool_calls(vec![ToolCall::new("c1", "add", r#"{"a":2,"b":2}"#)]), Reply::text("Two and two make four.")]
}

fn kind(event: &AgentEvent) -> &'static str {
    match event {
        AgentEvent::TextDelta(_) => "text",
        AgentEvent::ReasoningDelta(_) => "reasoning",
        AgentEvent::ToolCallDelta { .. } => "delta",
        AgentEvent::ToolCallStarted { .. } => "started",
        AgentEvent::ToolCallFinished { .. } => "finished",
        AgentEvent::TurnFinished { .. } => "turn",
        AgentEvent::Done(_) => "done",
        _ => "other",
    }
}

/// A session with one finished exchange behind it (instructions, input, answer).
async fn session_with_history(server: &TestServer) -> toolsmith::agent::Session {
    let agent = Agent::builder(server.client(), "test").instructions("Be brief.").tool(add).build();
    let mut chat = agent.session();
    chat.send("hello").await.unwrap();
    chat
}

#[tokio::test]
async fn dropping_a_streamed_exchange_at_any_point_keeps_or_restores_the_history() {
    // The events of a complete exchange, to know how many points there are to drop at.
    let server = TestServer::scripted([vec![Reply::text("hi")], exchange()].concat()).await.unwrap();
    let mut chat = session_with_history(&server).await;
    let all: Vec<&'static str> = chat.send_streamed("2+2?").map(|event| kind(&event.unwrap())).collect().await;
    assert_eq!(all.first(), Some(&"delta"));
    assert_eq!(all.last(), Some(&"done"));
    let full = chat.messages().to_vec();
    assert_eq!(full.len(), 3 + 4, "instructions, hello, hi + input, call, result, answer");
    // The last `turn` event is the final answer's: from there on the run has finished.
    let last_turn = all.iter().rposition(|kind| *kind == "turn").unwrap();

    for read in 0..=all.len() {
        let server = TestServer::scripted([vec![Reply::text("hi")], exchange()].concat()).await.unwrap();
        let mut chat = session_with_history(&server).await;
        let before = chat.messages().to_vec();
        {
            let mut events = chat.send_streamed("2+2?");
            for _ in 0..read {
                events.next().await.unwrap().unwrap();
            }
        }
        let after = chat.messages();
        if read > last_turn {
            // A finished exchange is kept even if `Done` was never read.
            assert_eq!(after.len(), full.len(), "dropped after {read} events ({:?})", &all[..read]);
            assert_eq!(after[..before.len()], before[..]);
            assert!(matches!(after.last(), Some(Message::Assistant(_))));
        } else {
            // A cancelled one leaves the session exactly as it was.
            assert_eq!(after, &before[..], "dropped after {read} events ({:?})", &all[..read]);
        }
    }
}

#[tokio::test]
async fn a_stream_that_was_never_polled_gives_the_history_back() {
    let server = TestServer::scripted([vec![Reply::text("hi")], exchange()].concat()).await.unwrap();
    let mut chat = session_with_history(&server).await;
    let before = chat.messages().to_vec();
    drop(chat.send_streamed("2+2?"));
    assert_eq!(chat.messages(), &before[..]);
    // And the session still works.
    let reply = chat.send("2+2?").await.unwrap();
    assert_eq!(reply.output, "Two and two make four.");
}

#[tokio::test]
async fn a_failed_exchange_dropped_with_events_still_queued_leaves_the_session_as_it_was() {
    let server = TestServer::scripted(vec![
        Reply::text("hi"),
        // One write: the deltas and the error arrive together, so the run has failed by the time the first
        // delta is handed out, with the others still queued.
        Reply::raw_sse(vec![bytes::Bytes::from(
            [
                r#"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"Some "}}]}"#,
                r#"data: {"choices":[{"index":0,"delta":{"content":"text"}}]}"#,
                r#"data: {"error":{"message":"overloaded","type":"server_error"}}"#,
                "",
            ]
            .join("\n\n"),
        )]),
    ])
    .await
    .unwrap();
    let mut chat = session_with_history(&server).await;
    let before = chat.messages().to_vec();
    {
        let mut events = chat.send_streamed("go on");
        // The run fails in the poll that hands out the first delta; the other deltas and the error wait.
        let first = events.next().await.unwrap().unwrap();
        assert_eq!(kind(&first), "text");
    }
    assert_eq!(chat.messages(), &before[..]);
}

#[tokio::test]
async fn dropping_after_done_keeps_the_exchange() {
    let server = TestServer::scripted([vec![Reply::text("hi")], exchange()].concat()).await.unwrap();
    let mut chat = session_with_history(&server).await;
    let mut events = chat.send_streamed("2+2?");
    while let Some(event) = events.next().await {
        if let AgentEvent::Done(result) = event.unwrap() {
            assert_eq!(result.messages.len(), 4, "only this exchange's messages");
            break;
        }
    }
    drop(events);
    assert_eq!(chat.messages().len(), 7);
}

static ADDED: AtomicUsize = AtomicUsize::new(0);

/// Add two numbers, counting the calls (a side effect).
#[toolsmith::tool]
fn counted_add(a: i64, b: i64) -> i64 {
    ADDED.fetch_add(1, Ordering::SeqCst);
    a + b
}

#[tokio::test]
async fn a_failed_send_can_keep_its_tool_work_and_continue_without_repeating_it() {
    let server = TestServer::scripted(vec![
        Reply::tool_calls(vec![ToolCall::new("c1", "counted_add", r#"{"a":20,"b":22}"#)]),
        Reply::status(500, json!({"error": {"message": "down"}})),
        Reply::text("It is 42."),
    ])
    .await
    .unwrap();
    let client = Client::builder().base_url(server.base_url()).api_key("k").max_retries(0).build().unwrap();
    let agent = Agent::builder(client, "test").tool(counted_add).build();
    let mut chat = agent.session();
    let error = chat.send("20+22?").await.unwrap_err();
    assert!(matches!(error, Error::Client { .. }), "{error:?}");
    assert!(chat.messages().is_empty(), "a failed send leaves the session as it was");
    assert_eq!(ADDED.load(Ordering::SeqCst), 1);

    // Another session's error is refused.
    let mut other = agent.resume(vec![Message::user("unrelated")]);
    assert!(!other.recover(&error));
    assert_eq!(other.messages().len(), 1);

    assert!(chat.recover(&error));
    assert_eq!(chat.messages().len(), 3, "input, tool call, tool result");
    let reply = chat.continue_run().await.unwrap();
    assert_eq!(reply.output, "It is 42.");
    assert_eq!(ADDED.load(Ordering::SeqCst), 1, "the tool did not run again");
    assert_eq!(chat.messages().len(), 4);
    let last_request = server.requests().pop().unwrap();
    assert_eq!(last_request.messages().last().unwrap()["role"], "tool");
}

#[tokio::test]
async fn a_cancelled_plain_send_leaves_the_session_as_it_was() {
    let server = TestServer::scripted(vec![
        Reply::text("hi"),
        Reply::tool_calls(vec![ToolCall::new("c1", "add", r#"{"a":2,"b":2}"#)]),
        Reply::text("slow").delay(Duration::from_secs(5)),
    ])
    .await
    .unwrap();
    let mut chat = session_with_history(&server).await;
    let before = chat.messages().to_vec();
    // Cancelled while the second model request (after the tool call) is in flight.
    let cancelled = tokio::time::timeout(Duration::from_millis(300), chat.send("2+2?")).await;
    assert!(cancelled.is_err());
    assert_eq!(chat.messages(), &before[..]);
}
