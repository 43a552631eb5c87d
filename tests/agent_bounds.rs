//! Issue 9.2–9.5 and 9.7, the way a user meets them: a looping model, a hostile endpoint, a slow or blocking
//! tool, a panicking approval hook, against real HTTP on 127.0.0.1. Every run ends, bounded, with a typed
//! error that carries a valid transcript.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::json;
use toolsmith::agent::{Agent, AgentEvent, Approval, Error, ToolOutcome, UsageLimit, UsageLimits};
use toolsmith::client::{Client, ClientError, TimeoutPhase};
use toolsmith::testing::{Reply, TestServer};
use toolsmith::tool::{Tool, ToolContext, ToolDefinition, ToolError};
use toolsmith::wire::{Message, ToolCall};

/// Add two numbers.
#[toolsmith::tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Sleep asynchronously.
#[toolsmith::tool]
async fn nap(ms: u64) -> String {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    format!("slept {ms} ms")
}

/// Block the thread (a sync tool doing blocking work).
#[toolsmith::tool]
fn block(ms: u64) -> String {
    std::thread::sleep(Duration::from_millis(ms));
    format!("blocked {ms} ms")
}

fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
    ToolCall::new(id, name, arguments)
}

async fn server(replies: Vec<Reply>) -> TestServer {
    TestServer::scripted(replies).await.expect("test server starts")
}

/// The longest gap between ticks of a 10 ms interval on this runtime while `work` runs: how long the
/// runtime's timers were starved.
async fn longest_timer_gap<T>(work: impl Future<Output = T>) -> (T, Duration) {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let ticker = tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(10));
        let mut last = Instant::now();
        let mut longest = Duration::ZERO;
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    longest = longest.max(last.elapsed());
                    last = Instant::now();
                }
                _ = &mut stopped => return longest.max(last.elapsed()),
            }
        }
    });
    tokio::task::yield_now().await;
    let output = work.await;
    let _ = stop.send(());
    (output, ticker.await.unwrap())
}

/// A history a strict provider accepts: every call answered right after its turn (the check the test server
/// makes on every request, done here on a transcript).
fn assert_valid(messages: &[Message]) {
    let mut pending: Vec<String> = Vec::new();
    for message in messages {
        match message {
            Message::Tool(tool) => {
                assert_eq!(pending.first(), Some(&tool.tool_call_id), "tool message out of place in {messages:#?}");
                pending.remove(0);
            }
            other => {
                assert!(pending.is_empty(), "unanswered calls {pending:?} in {messages:#?}");
                if let Message::Assistant(assistant) = other {
                    pending = assistant.tool_calls.iter().map(|call| call.id.clone()).collect();
                }
            }
        }
    }
    assert!(pending.is_empty(), "unanswered calls {pending:?}");
}

// ---- 9.2: tool calls per turn, accumulation ----

/// One SSE event with `count` tool-call fragments, each at its own index: what a hostile or broken endpoint
/// can send in 1.2 MB.
fn fragments_event(count: usize) -> Bytes {
    let fragments: Vec<serde_json::Value> = (0..count).map(|index| json!({"index": index})).collect();
    let chunk = json!({"choices": [{"index": 0, "delta": {"tool_calls": fragments}}]});
    Bytes::from(format!("data: {chunk}\n\n"))
}

#[tokio::test]
async fn forty_thousand_fragments_in_one_event_end_fast_with_a_typed_error() {
    let server = server(vec![Reply::raw_sse(vec![fragments_event(40_000)])]).await;
    let agent = Agent::builder(server.client(), "test").tool(add).build();
    let started = Instant::now();
    let (error, gap) = longest_timer_gap(async {
        let mut events = agent.stream("go");
        loop {
            match events.next().await {
                Some(Err(error)) => break error,
                Some(Ok(_)) => {}
                None => panic!("the stream ended without an error"),
            }
        }
    })
    .await;
    let Error::TooManyToolCalls { limit, completion, transcript } = &error else { panic!("{error:?}") };
    assert_eq!(*limit, 128);
    assert!(completion.message.tool_calls.len() <= 128);
    assert_eq!(transcript.messages.len(), 1, "the turn is not in the history");
    assert!(error.partial().is_some());
    // Quadratic slot lookup took ~17 s (debug) in one poll; now it is linear and stops at the cap.
    eprintln!("40,000 fragments: {:?}, longest timer gap {gap:?}", started.elapsed());
    assert!(gap < Duration::from_secs(2), "timers starved for {gap:?}");
}

#[tokio::test]
async fn a_turn_past_max_tool_calls_runs_none_of_them() {
    let calls: Vec<ToolCall> = (0..3).map(|i| call(&format!("c{i}"), "add", r#"{"a":1,"b":1}"#)).collect();
    for streamed in [false, true] {
        let server = server(vec![Reply::tool_calls(calls.clone())]).await;
        let agent = Agent::builder(server.client(), "test").tool(add).max_tool_calls(2).build();
        let error = if streamed {
            let mut events = agent.stream("go");
            loop {
                if let Some(Err(error)) = events.next().await {
                    break error;
                }
            }
        } else {
            agent.run("go").await.unwrap_err()
        };
        let Error::TooManyToolCalls { limit: 2, transcript, .. } = &error else { panic!("{error:?}") };
        assert!(transcript.tool_calls.is_empty(), "nothing ran");
        assert_valid(&transcript.messages);
    }
}

// ---- 9.3: bounds on a run ----

static RUNNING: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Track how many calls run at once.
#[toolsmith::tool]
async fn tracked() -> String {
    let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
    PEAK.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(30)).await;
    RUNNING.fetch_sub(1, Ordering::SeqCst);
    "done".to_owned()
}

#[tokio::test]
async fn by_default_at_most_sixteen_calls_run_at_once() {
    let calls = (0..40).map(|i| call(&format!("c{i}"), "tracked", "{}")).collect();
    let server = server(vec![Reply::tool_calls(calls), Reply::text("ok")]).await;
    let agent = Agent::builder(server.client(), "test").tool(tracked).build();
    let run = agent.run("go").await.unwrap();
    assert_eq!(run.tool_calls.len(), 40);
    assert_eq!(PEAK.load(Ordering::SeqCst), toolsmith::agent::DEFAULT_CONCURRENCY);
    assert_eq!(toolsmith::agent::DEFAULT_CONCURRENCY, 16);
}

#[tokio::test]
async fn the_tool_timeout_defaults_to_a_minute_and_none_switches_it_off() {
    assert_eq!(toolsmith::agent::DEFAULT_TOOL_TIMEOUT, Duration::from_secs(60));
    let replies = || vec![Reply::tool_calls(vec![call("c1", "nap", r#"{"ms":200}"#)]), Reply::text("ok")];
    let server = server(replies()).await;
    let agent = Agent::builder(server.client(), "test").tool(nap).tool_timeout(None).build();
    assert_eq!(agent.run("go").await.unwrap().tool_calls[0].outcome, ToolOutcome::Success);
    let server = self::server(replies()).await;
    let agent = Agent::builder(server.client(), "test").tool(nap).tool_timeout(Duration::from_millis(50)).build();
    assert_eq!(agent.run("go").await.unwrap().tool_calls[0].outcome, ToolOutcome::TimedOut);
}

#[tokio::test]
async fn run_timeout_ends_a_model_that_never_answers() {
    let server = server(vec![
        Reply::tool_calls(vec![call("c1", "add", r#"{"a":1,"b":2}"#)]),
        Reply::text("never").delay(Duration::from_secs(30)),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(add).run_timeout(Duration::from_millis(400)).build();
    let started = Instant::now();
    let error = agent.run("go").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    let Error::RunTimeout { timeout, transcript, .. } = &error else { panic!("{error:?}") };
    assert_eq!(*timeout, Duration::from_millis(400));
    assert_eq!(transcript.tool_calls.len(), 1, "the work done is kept");
    assert_valid(&transcript.messages);
}

#[tokio::test]
async fn run_timeout_covers_the_clients_retries() {
    let overloaded = || Reply::status(503, json!({"error": {"message": "overloaded"}})).header("retry-after", "1");
    let server = server(vec![overloaded(), overloaded(), overloaded(), overloaded()]).await;
    let client = Client::builder().base_url(server.base_url()).api_key("k").max_retries(3).build().unwrap();
    let agent = Agent::builder(client, "test").run_timeout(Duration::from_millis(500)).build();
    let started = Instant::now();
    let error = agent.run("go").await.unwrap_err();
    assert!(matches!(error, Error::RunTimeout { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
}

#[tokio::test]
async fn run_timeout_answers_the_calls_it_cuts_short() {
    let server = server(vec![Reply::tool_calls(vec![
        call("fast", "nap", r#"{"ms":1}"#),
        call("slow", "nap", r#"{"ms":30000}"#),
    ])])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(nap).run_timeout(Duration::from_millis(300)).build();
    let error = agent.run("go").await.unwrap_err();
    let Error::RunTimeout { transcript, .. } = &error else { panic!("{error:?}") };
    let outcomes: Vec<(&str, ToolOutcome)> =
        transcript.tool_calls.iter().map(|record| (record.id.as_str(), record.outcome)).collect();
    assert_eq!(outcomes, [("fast", ToolOutcome::Success), ("slow", ToolOutcome::TimedOut)]);
    assert_valid(&transcript.messages);
}

#[tokio::test]
async fn run_timeout_keeps_the_streamed_part_of_the_turn() {
    let server =
        server(vec![Reply::text("one two three four five six seven").chunk_delay(Duration::from_millis(150))]).await;
    let agent = Agent::builder(server.client(), "test").run_timeout(Duration::from_millis(400)).build();
    let mut events = agent.stream("count");
    let error = loop {
        match events.next().await.expect("an error before the end") {
            Ok(_) => {}
            Err(error) => break error,
        }
    };
    assert!(matches!(error, Error::RunTimeout { .. }), "{error:?}");
    let partial = error.partial().expect("the text streamed before the deadline");
    assert!(!partial.message.text().is_empty());
    assert_eq!(error.transcript().messages.len(), 1, "the partial turn is not in the history");
}

#[tokio::test]
async fn run_timeout_ends_a_streamed_turn_whose_events_never_make_the_run_wait() {
    // Far more events than the reader takes in before the deadline, all written at once: every read of the
    // body finds bytes ready, so the run only ever yields to spend its budget, and the deadline is looked at
    // there. (The client has no total timeout of its own here.)
    let event = format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {"content": "x"}}]}));
    let server = server(vec![Reply::raw_sse(vec![Bytes::from(event.repeat(20_000))])]).await;
    let client = Client::builder().base_url(server.base_url()).api_key("k").total_timeout(None).build().unwrap();
    let agent = Agent::builder(client, "test").run_timeout(Duration::from_millis(300)).build();
    let started = Instant::now();
    let mut events = agent.stream("flood");
    let error = loop {
        match events.next().await.expect("an error before the end") {
            // 20,000 events at 1 ms each would take 20 s.
            Ok(_) => tokio::time::sleep(Duration::from_millis(1)).await,
            Err(error) => break error,
        }
    };
    assert!(matches!(error, Error::RunTimeout { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(error.partial().is_some_and(|partial| !partial.message.text().is_empty()));
}

#[tokio::test]
async fn usage_limits_stop_a_looping_model_before_the_next_request() {
    let again = || Reply::tool_calls(vec![call("", "add", r#"{"a":1,"b":1}"#)]).usage(100, 10);
    let server = server(vec![again(), again(), again(), again()]).await;
    let agent = Agent::builder(server.client(), "test").tool(add).usage_limits(UsageLimits::new().requests(2)).build();
    let error = agent.run("loop").await.unwrap_err();
    let Error::UsageLimitExceeded { limit, used, transcript } = &error else { panic!("{error:?}") };
    assert_eq!((*limit, *used), (UsageLimit::Requests(2), 3));
    assert_eq!(server.request_count(), 2);
    assert_eq!(transcript.turns, 2);
    assert_valid(&transcript.messages);

    let server = self::server(vec![again(), again(), again()]).await;
    let limits = UsageLimits::new().total_tokens(200);
    let agent = Agent::builder(server.client(), "test").tool(add).usage_limits(limits).build();
    let error = agent.run("loop").await.unwrap_err();
    let Error::UsageLimitExceeded { limit: UsageLimit::TotalTokens(200), used: 220, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(server.request_count(), 2);

    let server = self::server(vec![again(), again()]).await;
    let agent = Agent::builder(server.client(), "test")
        .tool(add)
        .usage_limits(UsageLimits::new().input_tokens(150).output_tokens(1000))
        .build();
    let error = agent.run("loop").await.unwrap_err();
    assert!(matches!(&error, Error::UsageLimitExceeded { limit: UsageLimit::InputTokens(150), used: 200, .. }));
}

#[tokio::test]
async fn the_tool_call_limit_runs_none_of_a_turn_that_would_pass_it() {
    let server = server(vec![
        Reply::tool_calls(vec![call("a", "add", r#"{"a":1,"b":1}"#)]),
        Reply::tool_calls(vec![call("b", "add", r#"{"a":1,"b":1}"#), call("c", "add", r#"{"a":1,"b":1}"#)]),
    ])
    .await;
    let agent =
        Agent::builder(server.client(), "test").tool(add).usage_limits(UsageLimits::new().tool_calls(2)).build();
    let error = agent.run("go").await.unwrap_err();
    let Error::UsageLimitExceeded { limit: UsageLimit::ToolCalls(2), used: 3, transcript } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(transcript.tool_calls.len(), 1);
    assert_valid(&transcript.messages);
}

#[tokio::test]
async fn a_history_processor_trims_what_is_sent_and_is_checked() {
    let server = server(vec![
        Reply::text("first"),
        Reply::tool_calls(vec![call("c1", "add", r#"{"a":1,"b":1}"#)]),
        Reply::text("second"),
    ])
    .await;
    // Keep the system message and everything from the last user message on.
    let recent = |messages: &[Message]| {
        let last_user = messages.iter().rposition(|m| matches!(m, Message::User(_))).unwrap_or(0);
        let system = messages.iter().take_while(|m| matches!(m, Message::System(_))).cloned();
        system.chain(messages[last_user..].iter().cloned()).collect::<Vec<_>>()
    };
    let agent =
        Agent::builder(server.client(), "test").instructions("Be brief.").tool(add).history_processor(recent).build();
    let mut chat = agent.session();
    chat.send("one").await.unwrap();
    chat.send("two").await.unwrap();
    let sent: Vec<usize> = server.requests().iter().map(|request| request.messages().len()).collect();
    assert_eq!(sent, [2, 2, 4], "system + the current exchange only");
    assert_eq!(chat.messages().len(), 7, "the session keeps everything");

    // A processor that drops a tool result would make the provider reject the request: nothing is sent.
    let server =
        self::server(vec![Reply::tool_calls(vec![call("c1", "add", r#"{"a":1,"b":1}"#)]), Reply::text("x")]).await;
    let drop_tools =
        |messages: &[Message]| messages.iter().filter(|m| !matches!(m, Message::Tool(_))).cloned().collect();
    let agent = Agent::builder(server.client(), "test").tool(add).history_processor(drop_tools).build();
    let error = agent.run("go").await.unwrap_err();
    let Error::InvalidHistory { message, transcript } = &error else { panic!("{error:?}") };
    assert!(message.contains("c1"), "{message}");
    assert_eq!(server.request_count(), 1);
    assert_eq!(transcript.messages.len(), 3, "the real history is intact");
}

// ---- 9.4: sync tools ----

#[tokio::test]
async fn sync_tools_run_off_the_async_workers() {
    let server = server(vec![
        Reply::tool_calls(vec![call("a", "block", r#"{"ms":600}"#), call("b", "block", r#"{"ms":600}"#)]),
        Reply::text("ok"),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(block).build();
    let started = Instant::now();
    // `#[tokio::test]` runs on one worker thread: a body blocking it would stop the ticker.
    let (run, gap) = longest_timer_gap(agent.run("block twice")).await;
    let run = run.unwrap();
    assert!(run.tool_calls.iter().all(|record| record.outcome == ToolOutcome::Success));
    assert!(started.elapsed() < Duration::from_millis(1100), "the calls overlapped: {:?}", started.elapsed());
    assert!(gap < Duration::from_millis(300), "timers starved for {gap:?}");
}

#[tokio::test]
async fn a_timeout_ends_the_wait_for_a_blocking_sync_tool() {
    let server = server(vec![
        Reply::tool_calls(vec![call("a", "block", r#"{"ms":1500}"#), call("b", "block", r#"{"ms":1500}"#)]),
        Reply::text("ok"),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(block).tool_timeout(Duration::from_millis(100)).build();
    let started = Instant::now();
    let run = agent.run("block").await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(1000), "{:?}", started.elapsed());
    assert!(run.tool_calls.iter().all(|record| record.outcome == ToolOutcome::TimedOut));
}

// ---- 9.5: panics around tools ----

#[tokio::test]
async fn a_panicking_approval_hook_fails_closed() {
    for count in [1, 3] {
        let calls = (0..count).map(|i| call(&format!("c{i}"), "add", r#"{"a":1,"b":1}"#)).collect();
        let server = server(vec![Reply::tool_calls(calls), Reply::text("ok")]).await;
        let agent = Agent::builder(server.client(), "test")
            .tool(add)
            .before_tool_call(|_call: ToolCall, _ctx: ToolContext| async move {
                if true {
                    panic!("approval service password=hunter2 unreachable");
                }
                Approval::Approve
            })
            .build();
        let run = agent.run("go").await.unwrap();
        assert_eq!(run.tool_calls.len(), count);
        for record in &run.tool_calls {
            assert_eq!(record.outcome, ToolOutcome::ApprovalFailed, "{count} calls");
            assert!(!record.result.contains("hunter2"), "{}", record.result);
            assert!(record.detail.as_deref().unwrap().contains("hunter2"));
        }
    }
}

/// A tool whose future panics when dropped: a panic that escapes the tool's own guard.
struct PanicOnDrop;

struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("secret=swordfish");
    }
}

impl Tool for PanicOnDrop {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition::new("bomb", "Explodes when done.", json!({"type": "object"}))
    }

    fn call<'a>(&'a self, _arguments: &'a str, _ctx: &'a ToolContext) -> BoxFuture<'a, Result<String, ToolError>> {
        let bomb = Bomb;
        Box::pin(async move {
            let _bomb = bomb;
            Ok("done".to_owned())
        })
    }
}

#[tokio::test]
async fn a_panic_escaping_a_tool_is_reported_as_a_panic() {
    for count in [1, 2] {
        let calls = (0..count).map(|i| call(&format!("c{i}"), "bomb", "{}")).collect();
        let server = server(vec![Reply::tool_calls(calls), Reply::text("ok")]).await;
        let agent = Agent::builder(server.client(), "test").tool_arc(Arc::new(PanicOnDrop)).build();
        let run = agent.run("go").await.unwrap();
        assert_eq!(run.tool_calls.len(), count);
        // Each record names the call it answers, though the call itself went into the tool.
        let mut ids: Vec<&str> = run.tool_calls.iter().map(|record| record.id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(ids, (0..count).map(|i| format!("c{i}")).collect::<Vec<_>>());
        for record in &run.tool_calls {
            assert_eq!((record.name.as_str(), record.arguments.as_str()), ("bomb", "{}"));
            assert_eq!(record.outcome, ToolOutcome::Panicked, "{count} calls: {record:?}");
            assert!(!record.result.contains("swordfish") && !record.result.contains("cancelled"), "{}", record.result);
        }
    }
}

// ---- 9.7: the partial turn ----

#[tokio::test]
async fn every_failure_after_the_first_chunk_carries_the_partial_turn() {
    let text =
        |content: &str| format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {"content": content}}]}));
    // A decode error after some text.
    let server =
        server(vec![Reply::raw_sse(vec![Bytes::from(text("Hello ")), Bytes::from("data: {not json\n\n")])]).await;
    let agent = Agent::builder(server.client(), "test").build();
    let error = collect_error(agent.stream("hi")).await;
    assert!(
        matches!(&error, Error::Client { source, .. } if matches!(**source, ClientError::Decode { .. })),
        "{error:?}"
    );
    assert_eq!(error.partial().map(|partial| partial.message.text()), Some("Hello ".to_owned()));
    assert_eq!(error.transcript().messages.len(), 1);

    // An idle timeout after some text.
    let slow = Reply::raw_sse(vec![Bytes::from(text("Hello ")), Bytes::from(text("there"))])
        .chunk_delay(Duration::from_millis(600));
    let server = self::server(vec![slow]).await;
    let client = Client::builder()
        .base_url(server.base_url())
        .api_key("k")
        .idle_timeout(Duration::from_millis(200))
        .max_retries(0)
        .build()
        .unwrap();
    let agent = Agent::builder(client, "test").build();
    let error = collect_error(agent.stream("hi")).await;
    assert!(
        matches!(&error, Error::Client { source, .. } if matches!(**source, ClientError::Timeout { phase: TimeoutPhase::Idle })),
        "{error:?}"
    );
    assert_eq!(error.partial().map(|partial| partial.message.text()), Some("Hello ".to_owned()));
    assert_eq!(error.transcript().messages.len(), 1, "never in the history");
}

async fn collect_error(mut events: toolsmith::agent::RunStream) -> Error {
    while let Some(event) = events.next().await {
        match event {
            Ok(AgentEvent::Done(run)) => panic!("the run succeeded: {}", run.output),
            Ok(_) => {}
            Err(error) => return error,
        }
    }
    panic!("the stream ended without an item")
}

#[tokio::test]
async fn a_ten_megabyte_stream_of_small_events_does_not_starve_timers() {
    // 10 MB of small deltas, sent in a few large writes: every event is ready without waiting on the socket.
    let event = format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {"content": "x".repeat(64)}}]}));
    let per_write = (2 << 20) / event.len();
    let write = Bytes::from(event.repeat(per_write));
    let mut writes = vec![write; 5];
    writes.push(Bytes::from(format!(
        "data: {}\n\ndata: [DONE]\n\n",
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    )));
    let server = server(vec![Reply::raw_sse(writes)]).await;
    let agent = Agent::builder(server.client(), "test").build();
    let started = Instant::now();
    let done = async {
        let mut events = agent.stream("talk");
        loop {
            if let AgentEvent::Done(run) = events.next().await.expect("a Done event").unwrap() {
                break run;
            }
        }
    };
    let (run, gap) = longest_timer_gap(done).await;
    assert_eq!(run.output.len(), 64 * per_write * 5);
    eprintln!("10 MB of events: {:?}, longest timer gap {gap:?}", started.elapsed());
    // Without yielding, each 2 MB write was handled in one poll (~0.5 s in a debug build).
    assert!(gap < Duration::from_millis(250), "timers starved for {gap:?}");
}

#[tokio::test]
async fn a_single_ten_megabyte_event_fails_fast_without_starving_timers() {
    // One event of 10 MB (a single call's arguments growing without end), in 1 MB writes.
    let head = r#"data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"add","arguments":""#;
    let mut writes = vec![Bytes::from(head)];
    writes.extend(std::iter::repeat_n(Bytes::from("x".repeat(1 << 20)), 10));
    writes.push(Bytes::from("\"}}]}}]}\n\n"));
    let server = server(vec![Reply::raw_sse(writes)]).await;
    let agent = Agent::builder(server.client(), "test").tool(add).build();
    let (error, gap) = longest_timer_gap(collect_error(agent.stream("go"))).await;
    assert!(
        matches!(&error, Error::Client { source, .. } if matches!(**source, ClientError::TooLarge { .. })),
        "{error:?}"
    );
    assert_eq!(error.transcript().messages.len(), 1);
    assert!(gap < Duration::from_millis(250), "timers starved for {gap:?}");
}
