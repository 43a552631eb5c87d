//! The agent loop against the in-process test server over real HTTP: every rule of the loop (L1–L20).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use toolsmith::agent::{Agent, AgentEvent, Approval, Error, ToolOutcome};
use toolsmith::testing::{Reply, TestServer};
use toolsmith::tool::{RunContext, ToolContext};
use toolsmith::wire::{Message, ToolCall, ToolChoice};

/// Sleep for `ms` milliseconds and report which call finished.
#[toolsmith::tool]
async fn sleep_ms(ms: u64, label: String) -> String {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    format!("{label} slept {ms} ms")
}

/// Add two numbers.
#[toolsmith::tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Divide a by b.
#[toolsmith::tool]
fn divide(a: f64, b: f64) -> Result<f64, String> {
    if b == 0.0 { Err("division by zero".to_owned()) } else { Ok(a / b) }
}

/// A tool that always panics.
#[toolsmith::tool]
fn explode() -> String {
    panic!("boom")
}

/// Greets the signed-in user of this run.
#[toolsmith::tool]
fn whoami(ctx: &ToolContext) -> String {
    match ctx.get::<User>() {
        Some(user) => format!("{} (call {})", user.0, ctx.call_id()),
        None => "nobody".to_owned(),
    }
}

struct User(&'static str);

fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
    ToolCall::new(id, name, arguments)
}

async fn server(replies: Vec<Reply>) -> TestServer {
    TestServer::scripted(replies).await.expect("test server starts")
}

fn tool_messages(messages: &[Message]) -> Vec<(String, String)> {
    messages
        .iter()
        .filter_map(|message| match message {
            Message::Tool(tool) => Some((tool.tool_call_id.clone(), tool.content.text())),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn parallel_calls_run_concurrently_and_answer_in_call_order() {
    let server = server(vec![
        Reply::tool_calls(vec![
            call("c1", "sleep_ms", r#"{"ms":300,"label":"first"}"#),
            call("c2", "sleep_ms", r#"{"ms":100,"label":"second"}"#),
            call("c3", "sleep_ms", r#"{"ms":200,"label":"third"}"#),
        ]),
        Reply::text("all done"),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(sleep_ms).build();
    let started = Instant::now();
    let run = agent.run("sleep three times").await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(run.output, "all done");
    // 300 + 100 + 200 ms sequentially would be 600 ms; concurrently it is the longest call, 300 ms.
    assert!(elapsed < Duration::from_millis(580), "three calls took {elapsed:?}");
    // L9: the tool messages follow the call order, not the order the calls finished in.
    let tools = tool_messages(&run.messages);
    assert_eq!(
        tools,
        vec![
            ("c1".to_owned(), "first slept 300 ms".to_owned()),
            ("c2".to_owned(), "second slept 100 ms".to_owned()),
            ("c3".to_owned(), "third slept 200 ms".to_owned()),
        ]
    );
    assert_eq!(run.turns, 2);
    assert_eq!(run.tool_calls.len(), 3);
    // The second request replays the assistant turn and the three results right after it.
    let second = &server.requests()[1].body;
    let roles: Vec<&str> = second["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "tool", "tool", "tool"]);
}

#[tokio::test]
async fn concurrency_limit_is_respected() {
    let server = server(vec![
        Reply::tool_calls(vec![
            call("c1", "sleep_ms", r#"{"ms":150,"label":"a"}"#),
            call("c2", "sleep_ms", r#"{"ms":150,"label":"b"}"#),
        ]),
        Reply::text("ok"),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(sleep_ms).concurrency(1).build();
    let started = Instant::now();
    agent.run("go").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300), "calls overlapped despite concurrency(1)");
}

#[tokio::test]
async fn tool_calls_continue_the_loop_even_with_finish_reason_stop() {
    // Q1: providers send `stop` with tool calls; the calls decide.
    let server = server(vec![
        Reply::tool_calls(vec![call("c1", "add", r#"{"a":2,"b":3}"#)]).finish_reason("stop"),
        Reply::text("5"),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(add).build();
    let run = agent.run("2+3?").await.unwrap();
    assert_eq!(run.output, "5");
    assert_eq!(tool_messages(&run.messages), vec![("c1".to_owned(), "5".to_owned())]);
}

#[tokio::test]
async fn mistakes_go_back_to_the_model_as_tool_messages() {
    let server = server(vec![
        Reply::tool_calls(vec![
            call("c1", "no_such_tool", "{}"),
            call("c2", "add", r#"{"a":"two","b":3}"#),
            call("c3", "divide", r#"{"a":1,"b":0}"#),
            call("c4", "explode", ""),
            call("c5", "add", "{\"a\":1,"),
        ]),
        Reply::text("recovered"),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(add).tool(divide).tool(explode).build();
    let run = agent.run("do things").await.unwrap();
    assert_eq!(run.output, "recovered");
    let tools = tool_messages(&run.messages);
    assert_eq!(tools.len(), 5);
    assert!(tools[0].1.contains("no tool named `no_such_tool`"), "{}", tools[0].1);
    assert!(tools[0].1.contains("`add`") && tools[0].1.contains("`divide`"), "L6 lists the tools: {}", tools[0].1);
    assert!(tools[1].1.contains("invalid arguments") && tools[1].1.contains('a'), "{}", tools[1].1);
    assert_eq!(tools[2].1, "Error: division by zero");
    // The panic's message may hold secrets: the model gets a generic text, the record keeps the detail.
    assert!(tools[3].1.contains("crashed") && !tools[3].1.contains("boom"), "{}", tools[3].1);
    assert_eq!(run.tool_calls[3].detail.as_deref(), Some("boom"));
    assert!(tools[4].1.contains("invalid arguments"), "{}", tools[4].1);
    let outcomes: Vec<ToolOutcome> = run.tool_calls.iter().map(|record| record.outcome).collect();
    assert_eq!(
        outcomes,
        [
            ToolOutcome::UnknownTool,
            ToolOutcome::InvalidArguments,
            ToolOutcome::Failed,
            ToolOutcome::Panicked,
            ToolOutcome::InvalidArguments
        ]
    );
    // The history the server saw next was valid for a strict provider (the server checks it).
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn a_tool_past_its_timeout_is_stopped_and_reported() {
    let server = server(vec![
        Reply::tool_calls(vec![
            call("slow", "sleep_ms", r#"{"ms":5000,"label":"slow"}"#),
            call("fast", "sleep_ms", r#"{"ms":1,"label":"fast"}"#),
        ]),
        Reply::text("ok"),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(sleep_ms).tool_timeout(Duration::from_millis(100)).build();
    let started = Instant::now();
    let run = agent.run("go").await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(run.tool_calls[0].outcome, ToolOutcome::TimedOut);
    assert!(run.tool_calls[0].result.contains("did not finish"));
    assert_eq!(run.tool_calls[1].outcome, ToolOutcome::Success);
}

#[tokio::test]
async fn failure_budget_stops_a_model_that_never_learns() {
    let bad = || Reply::tool_calls(vec![call("", "divide", r#"{"a":1,"b":0}"#)]);
    let server = server(vec![bad(), bad(), bad(), Reply::text("never reached")]).await;
    let agent = Agent::builder(server.client(), "test").tool(divide).max_tool_retries(2).build();
    let error = agent.run("divide by zero forever").await.unwrap_err();
    match &error {
        Error::ToolRetriesExceeded { tool, failures, budget, last_error, .. } => {
            assert_eq!(tool, "divide");
            assert_eq!((*failures, *budget), (3, 2));
            assert_eq!(last_error, "Error: division by zero");
        }
        other => panic!("expected ToolRetriesExceeded, got {other:?}"),
    }
    let transcript = error.transcript();
    assert_eq!(transcript.turns, 3);
    assert_eq!(tool_messages(&transcript.messages).len(), 3, "every call answered before stopping");
}

#[tokio::test]
async fn a_success_resets_the_failure_count() {
    let server = server(vec![
        Reply::tool_calls(vec![call("1", "divide", r#"{"a":1,"b":0}"#)]),
        Reply::tool_calls(vec![call("2", "divide", r#"{"a":1,"b":2}"#)]),
        Reply::tool_calls(vec![call("3", "divide", r#"{"a":1,"b":0}"#)]),
        Reply::text("fine"),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(divide).max_tool_retries(1).build();
    assert_eq!(agent.run("go").await.unwrap().output, "fine");
}

#[tokio::test]
async fn max_turns_ends_the_run_with_the_transcript() {
    let again = || Reply::tool_calls(vec![call("", "add", r#"{"a":1,"b":1}"#)]);
    let server = server(vec![again(), again(), again()]).await;
    let agent = Agent::builder(server.client(), "test").tool(add).max_turns(2).build();
    let error = agent.run("loop").await.unwrap_err();
    let Error::MaxTurns { max_turns, transcript } = &error else { panic!("expected MaxTurns, got {error:?}") };
    assert_eq!(*max_turns, 2);
    assert_eq!(transcript.turns, 2);
    assert_eq!(transcript.tool_calls.len(), 2);
    // user, assistant, tool, assistant, tool
    assert_eq!(transcript.messages.len(), 5);
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn forced_tool_choice_applies_to_the_first_request_only() {
    let server = server(vec![Reply::tool_calls(vec![call("c1", "add", r#"{"a":1,"b":2}"#)]), Reply::text("3")]).await;
    let agent = Agent::builder(server.client(), "test").tool(add).tool_choice(ToolChoice::Required).build();
    agent.run("add").await.unwrap();
    let requests = server.requests();
    assert_eq!(requests[0].body["tool_choice"], "required");
    assert!(requests[1].body.get("tool_choice").is_none(), "L10: reset after the first request");
}

#[tokio::test]
async fn keep_tool_choice_sends_it_every_time() {
    let server = server(vec![Reply::tool_calls(vec![call("c1", "add", r#"{"a":1,"b":2}"#)]), Reply::text("3")]).await;
    let agent = Agent::builder(server.client(), "test")
        .tool(add)
        .tool_choice(ToolChoice::Function("add".to_owned()))
        .keep_tool_choice(true)
        .build();
    agent.run("add").await.unwrap();
    let requests = server.requests();
    assert_eq!(requests[1].body["tool_choice"]["function"]["name"], "add");
}

#[tokio::test]
async fn missing_and_duplicate_ids_are_replaced_with_unique_ones() {
    let server = server(vec![
        Reply::tool_calls(vec![
            call("", "add", r#"{"a":1,"b":1}"#),
            call("dup", "add", r#"{"a":2,"b":2}"#),
            call("dup", "add", r#"{"a":3,"b":3}"#),
        ]),
        Reply::tool_calls(vec![call("dup", "add", r#"{"a":4,"b":4}"#)]),
        Reply::text("done"),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(add).build();
    let run = agent.run("add").await.unwrap();
    let ids: Vec<&str> = run.tool_calls.iter().map(|record| record.id.as_str()).collect();
    assert_eq!(ids.len(), 4);
    let unique: std::collections::HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), 4, "ids {ids:?}");
    assert_eq!(ids[1], "dup", "a first use keeps its id");
    assert!(ids[0].len() == 9 && ids[0].chars().all(|c| c.is_ascii_alphanumeric()), "Q18 format: {}", ids[0]);
    // Results still line up with their calls.
    let results: Vec<&str> = run.tool_calls.iter().map(|record| record.result.as_str()).collect();
    assert_eq!(results, ["2", "4", "6", "8"]);
}

#[tokio::test]
async fn a_cut_off_turn_runs_nothing_and_returns_a_typed_error() {
    let server = server(vec![Reply::tool_calls(vec![call("c1", "explode", "{\"x\":")]).finish_reason("length")]).await;
    let agent = Agent::builder(server.client(), "test").tool(explode).build();
    let error = agent.run("go").await.unwrap_err();
    let Error::Truncated { finish_reason, completion, transcript } = &error else { panic!("{error:?}") };
    assert_eq!(finish_reason.as_str(), "length");
    assert_eq!(completion.message.tool_calls.len(), 1);
    assert!(transcript.tool_calls.is_empty(), "nothing ran");
    assert_eq!(transcript.messages.len(), 1, "only the user input: the cut turn is not replayed");
}

#[tokio::test]
async fn http_errors_carry_the_transcript() {
    let server = server(vec![
        Reply::tool_calls(vec![call("c1", "add", r#"{"a":1,"b":2}"#)]),
        Reply::status(400, json!({"error": {"message": "bad things", "type": "invalid_request_error"}})),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(add).build();
    let error = agent.run("go").await.unwrap_err();
    assert!(matches!(error, Error::Client { .. }), "{error:?}");
    assert!(error.to_string().contains("bad things"), "{error}");
    let transcript = error.transcript();
    assert_eq!(transcript.turns, 1);
    assert_eq!(transcript.tool_calls.len(), 1);
    assert_eq!(transcript.messages.len(), 3);
}

#[tokio::test]
async fn approval_hook_can_deny_and_rewrite() {
    let server = server(vec![
        Reply::tool_calls(vec![call("c1", "divide", r#"{"a":1,"b":0}"#), call("c2", "add", r#"{"a":1,"b":1}"#)]),
        Reply::text("ok"),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test")
        .tool(divide)
        .tool(add)
        .before_tool_call(|call: ToolCall, _ctx: ToolContext| async move {
            match call.function.name.as_str() {
                "divide" => Approval::Deny("a person said no".to_owned()),
                _ => Approval::Rewrite(r#"{"a":40,"b":2}"#.to_owned()),
            }
        })
        .build();
    let run = agent.run("go").await.unwrap();
    let tools = tool_messages(&run.messages);
    assert!(tools[0].1.contains("was not run") && tools[0].1.contains("a person said no"), "{}", tools[0].1);
    assert_eq!(tools[1].1, "42");
    assert_eq!(run.tool_calls[0].outcome, ToolOutcome::Denied);
    assert_eq!(run.tool_calls[1].arguments, r#"{"a":40,"b":2}"#);
}

#[tokio::test]
async fn run_context_reaches_the_tools() {
    let server = server(vec![
        Reply::tool_calls(vec![call("id1", "whoami", "{}")]),
        Reply::text("hi"),
        Reply::tool_calls(vec![call("id2", "whoami", "{}")]),
        Reply::text("hi"),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(whoami).build();
    let ada = agent.run_with("who?", RunContext::new().with(User("ada"))).await.unwrap();
    assert_eq!(ada.tool_calls[0].result, "ada (call id1)");
    let bob = agent.with_context(RunContext::new().with(User("bob"))).run("who?").await.unwrap();
    assert_eq!(bob.tool_calls[0].result, "bob (call id2)");
}

#[tokio::test]
async fn usage_is_summed_over_turns() {
    let server = server(vec![
        Reply::tool_calls(vec![call("c1", "add", r#"{"a":1,"b":2}"#)]).usage(10, 5),
        Reply::text("3").usage(20, 7),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(add).build();
    let run = agent.run("go").await.unwrap();
    assert_eq!((run.usage.prompt_tokens, run.usage.completion_tokens, run.usage.total_tokens), (30, 12, 42));
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema, PartialEq)]
struct Report {
    city: String,
    temperature_c: f64,
}

#[tokio::test]
async fn structured_output_retries_with_the_decoding_error() {
    let server =
        server(vec![Reply::text(r#"{"city": "Paris"}"#), Reply::text(r#"{"city": "Paris", "temperature_c": 18.5}"#)])
            .await;
    let agent = Agent::builder(server.client(), "test").build();
    let report: Report = agent.run_typed("Weather report for Paris").await.unwrap();
    assert_eq!(report, Report { city: "Paris".to_owned(), temperature_c: 18.5 });
    let requests = server.requests();
    let format = &requests[0].body["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["strict"], true);
    assert_eq!(format["json_schema"]["schema"]["additionalProperties"], false);
    let retry = requests[1].body["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(retry["role"], "user");
    assert!(retry["content"].as_str().unwrap().contains("temperature_c"), "{retry}");
}

#[tokio::test]
async fn structured_output_gives_up_after_the_budget() {
    let server = server(vec![Reply::text("nope"), Reply::text("still no"), Reply::text("never")]).await;
    let agent = Agent::builder(server.client(), "test").output_retries(1).build();
    let error = agent.run_typed::<Report>("report").await.unwrap_err();
    let Error::InvalidOutput { attempts, raw, .. } = &error else { panic!("{error:?}") };
    assert_eq!((*attempts, raw.as_str()), (2, "still no"));
}

#[tokio::test]
async fn structured_output_falls_back_to_a_final_result_tool() {
    let server = server(vec![Reply::tool_calls(vec![
        call("c1", "add", r#"{"a":1,"b":2}"#),
        call("c2", "final_result", r#"{"city":"Rome","temperature_c":3}"#),
    ])])
    .await;
    let mut profile = toolsmith::client::Profile::generic();
    profile.supports_json_schema = false;
    let agent = Agent::builder(server.client(), "test").tool(add).profile(profile).build();
    let report: Report = agent.run_typed("report").await.unwrap();
    assert_eq!(report.city, "Rome");
    let body = &server.requests()[0].body;
    assert!(body.get("response_format").is_none());
    let names: Vec<&str> =
        body["tools"].as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["add", "final_result"]);
}

#[tokio::test]
async fn session_survives_a_json_round_trip() {
    let server = server(vec![
        Reply::tool_calls(vec![call("c1", "add", r#"{"a":1,"b":2}"#)]),
        Reply::text("3"),
        Reply::text("you asked about 1+2"),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").instructions("Be brief.").tool(add).build();
    let mut chat = agent.session();
    let first = chat.send("1+2?").await.unwrap();
    assert_eq!(first.output, "3");
    assert_eq!(first.messages.len(), 4, "user, assistant(tool call), tool, assistant");
    let saved = serde_json::to_string(chat.messages()).unwrap();
    let restored: Vec<Message> = serde_json::from_str(&saved).unwrap();
    assert_eq!(restored, chat.messages());
    let mut chat = agent.resume(restored);
    let second = chat.send("what did I ask?").await.unwrap();
    assert_eq!(second.output, "you asked about 1+2");
    assert_eq!(chat.messages().len(), 7);
    // The third request carried the whole restored history, system message first.
    let body = &server.requests()[2].body;
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 6, "system, user, assistant, tool, assistant, user");
    assert_eq!(messages[0], json!({"role": "system", "content": "Be brief."}));
    assert_eq!(messages[2]["tool_calls"][0]["id"], "c1");
}

#[tokio::test]
async fn a_failed_send_leaves_the_session_as_it_was() {
    let server = server(vec![Reply::text("hello"), Reply::status(500, json!({"error": {"message": "down"}}))]).await;
    let client =
        toolsmith::client::Client::builder().base_url(server.base_url()).api_key("k").max_retries(0).build().unwrap();
    let agent = Agent::builder(client, "test").build();
    let mut chat = agent.session();
    chat.send("hi").await.unwrap();
    assert_eq!(chat.messages().len(), 2);
    assert!(chat.send("again").await.is_err());
    assert_eq!(chat.messages().len(), 2);
}

#[tokio::test]
async fn a_cancelled_send_leaves_the_session_as_it_was() {
    let server = server(vec![Reply::text("hello"), Reply::text("slow").delay(Duration::from_secs(5))]).await;
    let agent = Agent::builder(server.client(), "test").build();
    let mut chat = agent.session();
    chat.send("hi").await.unwrap();
    let cancelled = tokio::time::timeout(Duration::from_millis(100), chat.send("again")).await;
    assert!(cancelled.is_err());
    assert_eq!(chat.messages().len(), 2, "history back after cancellation");
}

#[tokio::test]
async fn stream_reports_text_and_tool_events_in_order() {
    let server = server(vec![
        Reply::tool_calls(vec![call("c1", "add", r#"{"a":1,"b":2}"#)]),
        Reply::text("The answer is three."),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(add).build();
    let events: Vec<AgentEvent> = agent.stream("1+2?").map(|event| event.unwrap()).collect().await;
    let mut text = String::new();
    let mut kinds = Vec::new();
    for event in &events {
        match event {
            AgentEvent::TextDelta(delta) => {
                text.push_str(delta);
                if kinds.last() != Some(&"text") {
                    kinds.push("text");
                }
            }
            AgentEvent::ToolCallStarted { name, .. } => {
                assert_eq!(name, "add");
                kinds.push("started");
            }
            AgentEvent::ToolCallFinished { result, is_error, .. } => {
                assert_eq!((result.as_str(), *is_error), ("3", false));
                kinds.push("finished");
            }
            AgentEvent::TurnFinished { .. } => kinds.push("turn"),
            AgentEvent::Done(run) => {
                assert_eq!(run.output, "The answer is three.");
                kinds.push("done");
            }
            _ => {}
        }
    }
    assert_eq!(text, "The answer is three.");
    assert_eq!(kinds, ["turn", "started", "finished", "text", "turn", "done"]);
    let delta_count = events.iter().filter(|event| matches!(event, AgentEvent::TextDelta(_))).count();
    assert!(delta_count > 1, "text arrives in several deltas, not buffered");
    assert_eq!(server.requests()[0].body["stream"], true);
}

static STARTED: AtomicUsize = AtomicUsize::new(0);
static FINISHED: AtomicUsize = AtomicUsize::new(0);

/// Counts how many times it started and finished.
#[toolsmith::tool]
async fn slow_counter() -> String {
    STARTED.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(400)).await;
    FINISHED.fetch_add(1, Ordering::SeqCst);
    "counted".to_owned()
}

#[tokio::test]
async fn dropping_the_stream_cancels_the_run_and_its_tool_calls() {
    let server = server(vec![
        Reply::tool_calls(vec![call("c1", "slow_counter", "{}"), call("c2", "slow_counter", "{}")]),
        Reply::text("never"),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(slow_counter).build();
    let mut events = agent.stream("count");
    while let Some(event) = events.next().await {
        if matches!(event.unwrap(), AgentEvent::ToolCallStarted { .. }) {
            break;
        }
    }
    // The calls run on their own tasks: give them time to begin, then drop the run.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(STARTED.load(Ordering::SeqCst) >= 1, "the tool calls were running");
    drop(events);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(FINISHED.load(Ordering::SeqCst), 0, "aborted tool calls never finish");
    assert_eq!(server.request_count(), 1, "no further request after the drop");
}

#[tokio::test]
async fn streamed_runs_handle_the_same_mistakes() {
    let server = server(vec![
        Reply::tool_calls(vec![call("c1", "nope", "{}"), call("c2", "add", r#"{"a":1,"b":2}"#)]),
        Reply::text("ok"),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(add).build();
    let mut stream = agent.stream("go");
    let mut done = None;
    while let Some(event) = stream.next().await {
        if let AgentEvent::Done(run) = event.unwrap() {
            done = Some(run);
        }
    }
    let run = done.expect("a Done event");
    assert_eq!(run.tool_calls[0].outcome, ToolOutcome::UnknownTool);
    assert_eq!(run.tool_calls[1].result, "3");
}

#[tokio::test]
async fn the_test_model_drives_a_whole_run() {
    let server = TestServer::test_model().await.unwrap();
    let agent = Agent::builder(server.client(), "test").tool(add).build();
    let run = agent.run("Please add 2 and 3.").await.unwrap();
    assert_eq!(run.tool_calls.len(), 1);
    assert_eq!(run.tool_calls[0].result, "5");
    assert!(run.output.contains('5'), "{}", run.output);
}

#[tokio::test]
async fn one_agent_serves_many_concurrent_runs() {
    let server = TestServer::test_model().await.unwrap();
    let agent = Agent::builder(server.client(), "test").tool(whoami).build();
    let runs = (0..16).map(|i| {
        let agent = agent.clone();
        let name: &'static str = Box::leak(format!("user{i}").into_boxed_str());
        tokio::spawn(async move { agent.run_with("whoami: who am I?", RunContext::new().with(User(name))).await })
    });
    for (i, run) in futures::future::join_all(runs).await.into_iter().enumerate() {
        let run = run.unwrap().unwrap();
        assert!(run.tool_calls[0].result.starts_with(&format!("user{i} ")), "{}", run.tool_calls[0].result);
    }
}

#[tokio::test]
async fn a_streamed_session_exchange_updates_the_history() {
    let server = server(vec![
        Reply::tool_calls(vec![call("c1", "add", r#"{"a":2,"b":2}"#)]),
        Reply::text("four"),
        Reply::text("slow").delay(Duration::from_secs(5)),
    ])
    .await;
    let agent = Agent::builder(server.client(), "test").tool(add).build();
    let mut chat = agent.session();
    let mut text = String::new();
    {
        let mut events = chat.send_streamed("2+2?");
        while let Some(event) = events.next().await {
            match event.unwrap() {
                AgentEvent::TextDelta(delta) => text.push_str(&delta),
                AgentEvent::Done(run) => assert_eq!(run.messages.len(), 4, "only this exchange"),
                _ => {}
            }
        }
    }
    assert_eq!(text, "four");
    assert_eq!(chat.messages().len(), 4);
    // Dropping a streamed exchange half-way gives the history back.
    {
        let mut events = chat.send_streamed("and again?");
        let _ = tokio::time::timeout(Duration::from_millis(100), events.next()).await;
    }
    assert_eq!(chat.messages().len(), 4);
}

#[tokio::test]
async fn an_invalid_final_result_is_answered_and_retried() {
    let server = server(vec![
        Reply::tool_calls(vec![call("c1", "final_result", r#"{"city":"Rome"}"#)]),
        Reply::tool_calls(vec![call("c2", "final_result", r#"{"city":"Rome","temperature_c":3}"#)]),
    ])
    .await;
    let mut profile = toolsmith::client::Profile::generic();
    profile.supports_json_schema = false;
    let agent = Agent::builder(server.client(), "test").profile(profile).build();
    let report: Report = agent.run_typed("report").await.unwrap();
    assert_eq!(report.temperature_c, 3.0);
    // The rejected call was answered (history stays valid) with the decoding error.
    let second = &server.requests()[1].body;
    let answer = second["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(answer["tool_call_id"], "c1");
    assert!(answer["content"].as_str().unwrap().contains("temperature_c"), "{answer}");
}
