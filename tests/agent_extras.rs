//! Issue 11.6, the loop's parts: tools whose result ends the run (L11), an agent used as another agent's tool
//! (its usage counted in the parent's), and an event per tool-call argument fragment as it streams.

use futures::StreamExt;
use toolsmith::agent::{Agent, AgentEvent, ToolOutcome};
use toolsmith::testing::{Reply, TestServer};
use toolsmith::wire::ToolCall;

/// Look an order up.
#[toolsmith::tool]
fn find_order(id: u32) -> String {
    format!("order {id}: 3 books, shipped")
}

/// Add two numbers.
#[toolsmith::tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
    ToolCall::new(id, name, arguments)
}

#[tokio::test]
async fn a_return_direct_tool_ends_the_run_with_its_result() {
    let server = TestServer::scripted(vec![
        Reply::tool_calls(vec![call("a", "add", r#"{"a":1,"b":2}"#), call("b", "find_order", r#"{"id":7}"#)]),
        Reply::text("never asked"),
    ])
    .await
    .unwrap();
    let agent = Agent::builder(server.client(), "test").tool(add).tool(find_order).return_direct("find_order").build();
    let run = agent.run("where is order 7?").await.unwrap();
    assert_eq!(run.output, "order 7: 3 books, shipped");
    assert_eq!(server.request_count(), 1, "no request after the return-direct call");
    assert_eq!(run.tool_calls.len(), 2, "the other call of the turn ran too");
    assert!(matches!(run.messages.last(), Some(toolsmith::wire::Message::Tool(_))), "every call answered");
}

#[tokio::test]
async fn a_failed_return_direct_call_goes_back_to_the_model() {
    let server = TestServer::scripted(vec![
        Reply::tool_calls(vec![call("a", "find_order", r#"{"id":"seven"}"#)]),
        Reply::text("please give a number"),
    ])
    .await
    .unwrap();
    let agent = Agent::builder(server.client(), "test").tool(find_order).return_direct("find_order").build();
    let run = agent.run("where is order seven?").await.unwrap();
    assert_eq!(run.tool_calls[0].outcome, ToolOutcome::InvalidArguments);
    assert_eq!(run.output, "please give a number");
}

#[tokio::test]
async fn an_agent_is_a_tool_of_another_and_its_usage_counts_in_the_parents() {
    let inner_server = TestServer::scripted(vec![
        Reply::tool_calls(vec![call("i1", "add", r#"{"a":20,"b":22}"#)]).usage(7, 3),
        Reply::text("The sum is 42.").usage(11, 4),
    ])
    .await
    .unwrap();
    let calculator = Agent::builder(inner_server.client(), "inner").tool(add).build();
    let server = TestServer::scripted(vec![
        Reply::tool_calls(vec![call("p1", "calculator", r#"{"input":"What is 20 + 22?"}"#)]).usage(100, 10),
        Reply::text("42").usage(200, 20),
    ])
    .await
    .unwrap();
    let parent = Agent::builder(server.client(), "outer")
        .tool(calculator.as_tool("calculator", "Does arithmetic; ask it in words."))
        .build();
    let definition = &parent.definitions()[0];
    assert_eq!(definition.name(), "calculator");
    let run = parent.run("20 + 22?").await.unwrap();
    assert_eq!(run.output, "42");
    assert_eq!(run.tool_calls[0].result, "The sum is 42.");
    // The sub-agent's two turns are counted in the parent's usage and in the call's record.
    assert_eq!((run.usage.prompt_tokens, run.usage.completion_tokens), (100 + 200 + 7 + 11, 10 + 20 + 3 + 4));
    let child = run.tool_calls[0].usage.as_ref().expect("the sub-run's usage");
    assert_eq!((child.prompt_tokens, child.completion_tokens), (18, 7));
}

#[tokio::test]
async fn a_failing_sub_agent_is_a_tool_error_with_its_usage_counted() {
    let inner_server = TestServer::scripted(vec![Reply::text("x").finish_reason("length").usage(5, 5)]).await.unwrap();
    let helper = Agent::builder(inner_server.client(), "inner").build();
    let server = TestServer::scripted(vec![
        Reply::tool_calls(vec![call("p1", "helper", r#"{"input":"go"}"#)]).usage(1, 1),
        Reply::text("it failed").usage(1, 1),
    ])
    .await
    .unwrap();
    let parent = Agent::builder(server.client(), "outer").tool(helper.as_tool("helper", "Helps.")).build();
    let run = parent.run("go").await.unwrap();
    assert_eq!(run.tool_calls[0].outcome, ToolOutcome::Failed);
    assert!(run.tool_calls[0].result.contains("cut off"), "{}", run.tool_calls[0].result);
    assert_eq!(run.usage.prompt_tokens, 7);
}

#[tokio::test]
async fn tool_call_arguments_are_reported_as_they_stream() {
    let server = TestServer::scripted(vec![
        Reply::tool_calls(vec![call("c1", "add", r#"{"a": 1000, "b": 2000}"#)]),
        Reply::text("3000"),
    ])
    .await
    .unwrap();
    let agent = Agent::builder(server.client(), "test").tool(add).build();
    let mut events = agent.stream("add");
    let mut fragments = Vec::new();
    let mut names = Vec::new();
    while let Some(event) = events.next().await {
        match event.unwrap() {
            AgentEvent::ToolCallDelta { index, name, arguments, .. } => {
                assert_eq!(index, Some(0));
                names.extend(name);
                fragments.push(arguments);
            }
            AgentEvent::ToolCallStarted { arguments, .. } => {
                assert_eq!(fragments.concat(), arguments, "the fragments add up to the call's arguments");
            }
            _ => {}
        }
    }
    assert_eq!(names, ["add"]);
    assert!(fragments.iter().filter(|fragment| !fragment.is_empty()).count() > 1, "{fragments:?}");
}

#[tokio::test]
async fn reasoning_effort_is_sent_with_every_request() {
    let server =
        TestServer::scripted(vec![Reply::tool_calls(vec![call("c1", "add", r#"{"a":1,"b":2}"#)]), Reply::text("3")])
            .await
            .unwrap();
    let agent = Agent::builder(server.client(), "test")
        .tool(add)
        .reasoning_effort(toolsmith::wire::ReasoningEffort::Low)
        .build();
    agent.run("1+2").await.unwrap();
    for request in server.requests() {
        assert_eq!(request.body["reasoning_effort"], "low", "{}", request.body);
    }
}
