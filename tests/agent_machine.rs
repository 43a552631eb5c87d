//! The loop as a step machine: a run stepped by hand, its state saved to JSON and read back by a new agent at
//! every boundary, ends exactly as an uninterrupted `Agent::run` (over real HTTP to the test server).

use std::time::Duration;

use serde_json::json;
use toolsmith::agent::{
    Agent, Approval, ApprovalError, Error, PendingCall, RUN_STATE_VERSION, RunResult, RunState, StateError, Step,
    ToolOutcome,
};
use toolsmith::client::Profile;
use toolsmith::testing::{Reply, TestServer};
use toolsmith::wire::ToolCall;

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

/// Wait a little, then echo.
#[toolsmith::tool]
async fn echo(text: String) -> String {
    tokio::time::sleep(Duration::from_millis(5)).await;
    text
}

fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
    ToolCall::new(id, name, arguments)
}

/// A conversation that goes through every kind of step: parallel calls (two without ids, one unknown tool,
/// one failing), a second tool turn, usage on each turn, and a final answer.
fn script() -> Vec<Reply> {
    vec![
        Reply::tool_calls(vec![
            call("", "add", r#"{"a":1,"b":2}"#),
            call("", "echo", r#"{"text":"hi"}"#),
            call("c3", "nope", "{}"),
            call("c4", "divide", r#"{"a":1,"b":0}"#),
        ])
        .usage(10, 4),
        Reply::tool_calls(vec![call("c4", "divide", r#"{"a":9,"b":3}"#)]).usage(20, 5),
        Reply::text("3, hi and 3").usage(30, 6),
    ]
}

/// The same agent configuration, built anew: what a second process would do.
fn agent(server: &TestServer) -> Agent {
    Agent::builder(server.client(), "test").instructions("Be exact.").tool(add).tool(divide).tool(echo).build()
}

fn save(state: &RunState) -> String {
    serde_json::to_string(state).expect("a run state serializes")
}

fn load(json: &str) -> RunState {
    RunState::from_json(json).expect("a saved run state reads back")
}

/// A hand-written driver: a fresh agent and a JSON round trip of the state around every effect, calls run one
/// at a time.
async fn step_by_step(server: &TestServer, input: &str, typed: impl Fn(Agent) -> Agent) -> Result<RunResult, Error> {
    let mut saved = save(&typed(agent(server)).start(input));
    loop {
        let agent = typed(agent(server));
        let mut state = load(&saved);
        match agent.next_step(&mut state) {
            Step::Model(request) => {
                saved = save(&state);
                let mut state = load(&saved);
                match agent.request_model(&mut state, request).await {
                    Ok(completion) => {
                        // The completion is what a durable driver journals: it round-trips too.
                        let completion = serde_json::from_str(&serde_json::to_string(&completion).unwrap()).unwrap();
                        agent.record_completion(&mut state, completion).unwrap();
                    }
                    Err(error) => return Err(agent.fail_request(&mut state, error)),
                }
                saved = save(&state);
            }
            Step::Tools(calls) => {
                saved = save(&state);
                for call in calls {
                    let record = typed(self::agent(server)).call_tool(&call).await;
                    let record = serde_json::from_str(&serde_json::to_string(&record).unwrap()).unwrap();
                    let mut state = load(&saved);
                    agent.record_tool_call(&mut state, record).unwrap();
                    saved = save(&state);
                }
            }
            Step::Done(result) => return result,
        }
    }
}

/// A result as JSON, tool-call durations zeroed (they are measured, not decided).
fn comparable(result: &RunResult) -> serde_json::Value {
    let mut result = result.clone();
    for record in &mut result.tool_calls {
        record.duration = Duration::ZERO;
    }
    serde_json::to_value(result).unwrap()
}

#[tokio::test]
async fn a_run_stepped_through_json_ends_exactly_like_an_uninterrupted_one() {
    let direct_server = TestServer::scripted(script()).await.unwrap();
    let direct = agent(&direct_server).run("Compute things.").await.unwrap();

    let stepped_server = TestServer::scripted(script()).await.unwrap();
    let stepped = step_by_step(&stepped_server, "Compute things.", |agent| agent).await.unwrap();

    assert_eq!(comparable(&stepped), comparable(&direct));
    assert_eq!(stepped.output, "3, hi and 3");
    assert_eq!(stepped.turns, 3);
    assert_eq!((stepped.usage.prompt_tokens, stepped.usage.completion_tokens), (60, 15));
    let outcomes: Vec<ToolOutcome> = stepped.tool_calls.iter().map(|record| record.outcome).collect();
    assert_eq!(
        outcomes,
        [
            ToolOutcome::Success,
            ToolOutcome::Success,
            ToolOutcome::UnknownTool,
            ToolOutcome::Failed,
            ToolOutcome::Success
        ]
    );
    // Generated ids come from the state: the same in both runs, and so are the requests the model saw.
    assert_eq!(stepped.tool_calls[0].id, direct.tool_calls[0].id);
    let bodies = |server: &TestServer| server.requests().into_iter().map(|r| r.body).collect::<Vec<_>>();
    assert_eq!(bodies(&stepped_server), bodies(&direct_server));
    assert_eq!(stepped_server.request_count(), 3, "each turn requested once");
}

#[derive(Debug, serde::Deserialize, schemars::JsonSchema, PartialEq)]
struct Sum {
    total: i64,
}

#[tokio::test]
async fn a_typed_run_steps_through_json_too() {
    let replies = || {
        vec![
            Reply::tool_calls(vec![call("c1", "add", r#"{"a":2,"b":2}"#)]),
            Reply::tool_calls(vec![call("c2", "final_result", r#"{"total":"four"}"#)]),
            Reply::tool_calls(vec![call("c3", "final_result", r#"{"total":4}"#)]),
        ]
    };
    let no_json_schema = |server: &TestServer| {
        let mut profile = Profile::generic();
        profile.supports_json_schema = false;
        Agent::builder(server.client(), "test").tool(add).profile(profile).build()
    };
    let direct_server = TestServer::scripted(replies()).await.unwrap();
    let direct: Sum = no_json_schema(&direct_server).run_typed("2+2").await.unwrap();
    assert_eq!(direct, Sum { total: 4 });

    let server = TestServer::scripted(replies()).await.unwrap();
    let typed = no_json_schema(&server).typed::<Sum>();
    let mut saved = save(&typed.start("2+2"));
    let result = loop {
        let mut state = load(&saved);
        match typed.next_step(&mut state) {
            Step::Model(request) => {
                let completion = typed.request_model(&mut state, request).await.unwrap();
                typed.record_completion(&mut state, completion).unwrap();
            }
            Step::Tools(calls) => {
                for call in calls {
                    let record = typed.call_tool(&call).await;
                    typed.record_tool_call(&mut state, record).unwrap();
                }
            }
            Step::Done(result) => break result.unwrap(),
        }
        saved = save(&state);
    };
    assert_eq!(serde_json::from_str::<serde_json::Value>(&result.output).unwrap(), json!({"total": 4}));
    let bodies = |server: &TestServer| server.requests().into_iter().map(|r| r.body).collect::<Vec<_>>();
    assert_eq!(bodies(&server), bodies(&direct_server));
    // A text agent may not step a typed run's state.
    let mut state = typed.start("2+2");
    let Step::Done(Err(Error::InvalidState { .. })) = agent(&server).next_step(&mut state) else {
        panic!("a text agent stepped a typed run")
    };
}

#[tokio::test]
async fn a_state_resumed_between_two_calls_runs_only_the_pending_one() {
    let server = TestServer::scripted(vec![
        Reply::tool_calls(vec![call("a", "add", r#"{"a":1,"b":1}"#), call("b", "add", r#"{"a":2,"b":2}"#)]),
        Reply::text("2 and 4"),
    ])
    .await
    .unwrap();
    let first = agent(&server);
    let mut state = first.start("add twice");
    let Step::Model(request) = first.next_step(&mut state) else { panic!("a model request first") };
    let completion = first.request_model(&mut state, request).await.unwrap();
    first.record_completion(&mut state, completion).unwrap();
    let Step::Tools(calls) = first.next_step(&mut state) else { panic!("two calls") };
    assert_eq!(calls.iter().map(|c| c.call.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    let record = first.call_tool(&calls[0]).await;
    first.record_tool_call(&mut state, record).unwrap();
    let saved = save(&state);
    drop(first);

    // "Another process": the pending call is the second one only, and stepping twice gives the same step.
    let second = agent(&server);
    let mut state = load(&saved);
    assert_eq!(state.pending_calls(), vec![PendingCall { index: 1, call: calls[1].call.clone() }]);
    let Step::Tools(pending) = second.next_step(&mut state) else { panic!("the pending call") };
    let Step::Tools(again) = second.next_step(&mut state) else { panic!("the same pending call") };
    assert_eq!(pending, again);
    assert_eq!(pending.len(), 1);
    let record = second.call_tool(&pending[0]).await;
    second.record_tool_call(&mut state, record).unwrap();
    let Step::Model(request) = second.next_step(&mut state) else { panic!("the second turn") };
    assert_eq!(request.turn(), 2);
    let completion = second.request_model(&mut state, request).await.unwrap();
    second.record_completion(&mut state, completion).unwrap();
    let Step::Done(Ok(result)) = second.next_step(&mut state) else { panic!("the answer") };
    assert_eq!(result.output, "2 and 4");
    let results: Vec<&str> = result.tool_calls.iter().map(|record| record.result.as_str()).collect();
    assert_eq!(results, ["2", "4"]);
    assert!(state.is_ended());
    let Step::Done(Err(Error::InvalidState { source: StateError::Unexpected(_), .. })) = second.next_step(&mut state)
    else {
        panic!("an ended run cannot be stepped")
    };
}

#[tokio::test]
async fn a_state_from_a_newer_version_is_refused() {
    let server = TestServer::scripted(vec![]).await.unwrap();
    let state = agent(&server).start("hi");
    assert_eq!(state.version(), RUN_STATE_VERSION);
    let mut value = serde_json::to_value(&state).unwrap();
    value["version"] = json!(RUN_STATE_VERSION + 1);
    // A newer build may have changed any field: the version is checked before anything else is read.
    value["phase"] = json!({"phase": "something_new"});
    let json = value.to_string();
    assert_eq!(
        RunState::from_json(&json).unwrap_err(),
        StateError::UnsupportedVersion { found: RUN_STATE_VERSION + 1, supported: RUN_STATE_VERSION }
    );
    let error = serde_json::from_str::<RunState>(&json).unwrap_err().to_string();
    assert!(error.contains("newer than this build supports"), "{error}");
    assert!(matches!(RunState::from_json("{\"version\": 1}"), Err(StateError::Invalid(_))));
}

#[tokio::test]
async fn results_handed_to_a_state_not_waiting_for_them_are_refused() {
    let server =
        TestServer::scripted(vec![Reply::tool_calls(vec![call("a", "add", r#"{"a":1,"b":1}"#)])]).await.unwrap();
    let agent = agent(&server);
    let mut state = agent.start("add");
    let Step::Model(request) = agent.next_step(&mut state) else { panic!() };
    let completion = agent.request_model(&mut state, request).await.unwrap();
    agent.record_completion(&mut state, completion.clone()).unwrap();
    let Step::Tools(calls) = agent.next_step(&mut state) else { panic!() };
    // A second completion while a call is pending.
    assert!(matches!(agent.record_completion(&mut state, completion), Err(StateError::Unexpected(_))));
    let mut record = agent.call_tool(&calls[0]).await;
    record.id = "unknown".to_owned();
    assert!(matches!(agent.record_tool_call(&mut state, record), Err(StateError::Unexpected(_))));
    assert_eq!(state.pending_calls().len(), 1, "nothing was recorded");
}

#[tokio::test]
async fn approval_is_a_separate_effect_whose_decision_is_applied_later() {
    let server = TestServer::scripted(vec![]).await.unwrap();
    let agent = Agent::builder(server.client(), "test")
        .tool(add)
        .before_tool_call(|_call: ToolCall, _ctx: toolsmith::ToolContext| async { Approval::Deny("no".into()) })
        .build();
    let pending = PendingCall { index: 0, call: call("x1", "add", r#"{"a":1,"b":2}"#) };
    assert_eq!(agent.approve(&pending).await, Ok(Approval::Deny("no".into())));
    // A decision taken elsewhere (a person resolving a durable promise) is journaled and applied.
    let decision: Approval = serde_json::from_str(r#"{"rewrite":"{\"a\":40,\"b\":2}"}"#).unwrap();
    let record = agent.execute_tool(&pending, Ok(decision)).await;
    assert_eq!((record.result.as_str(), record.outcome), ("42", ToolOutcome::Success));
    let denied = agent.execute_tool(&pending, Ok(Approval::Deny("a person said no".into()))).await;
    assert_eq!(denied.outcome, ToolOutcome::Denied);
    assert!(denied.result.contains("a person said no"));
    let failed = agent.execute_tool(&pending, Err(ApprovalError { message: "hook crashed".into() })).await;
    assert_eq!(failed.outcome, ToolOutcome::ApprovalFailed);
    assert!(!failed.result.contains("hook crashed"), "the failure stays local: {}", failed.result);
    assert_eq!(failed.detail.as_deref(), Some("hook crashed"));
}
