//! The loop as a step machine, driven by hand: the run's state is written to a JSON file after every step and
//! read back by a freshly built agent before the next one, as a worker that crashed and restarted would. The
//! run ends exactly as an uninterrupted `Agent::run` does.
//!
//! ```text
//! cargo run --example step_machine
//! ```

use toolsmith::agent::{Agent, RunState, Step};
use toolsmith::testing::TestServer;

/// Add two numbers.
#[toolsmith::tool]
fn add(a: f64, b: f64) -> f64 {
    a + b
}

/// Multiply two numbers.
#[toolsmith::tool]
fn multiply(a: f64, b: f64) -> f64 {
    a * b
}

/// The agent as every "process" builds it: same model, same tools, same settings.
fn build(server: &TestServer) -> Agent {
    Agent::builder(server.client(), "test-model").tool(add).tool(multiply).build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = TestServer::test_model().await?;
    let question = "Please add 2 and 3, and multiply 4 by 5.";
    let path = std::env::temp_dir().join(format!("toolsmith-run-{}.json", std::process::id()));
    std::fs::write(&path, serde_json::to_string_pretty(&build(&server).start(question))?)?;

    let result = loop {
        // A new process: a new agent, the state from disk.
        let agent = build(&server);
        let mut state = RunState::from_json(&std::fs::read_to_string(&path)?)?;
        match agent.next_step(&mut state) {
            Step::Model(request) => {
                println!("turn {}: asking the model", request.turn());
                match agent.request_model(&mut state, request).await {
                    Ok(completion) => agent.record_completion(&mut state, completion)?,
                    Err(error) => break Err(agent.fail_request(&mut state, error)),
                }
            }
            Step::Tools(calls) => {
                for call in calls {
                    let record = agent.call_tool(&call).await;
                    println!("  {}({}) = {}", record.name, record.arguments, record.result);
                    agent.record_tool_call(&mut state, record)?;
                }
            }
            Step::Done(result) => break result,
        }
        std::fs::write(&path, serde_json::to_string_pretty(&state)?)?;
    };
    std::fs::remove_file(&path)?;
    let stepped = result?;
    println!("answer: {}", stepped.output);

    let direct = build(&server).run(question).await?;
    assert_eq!(stepped.output, direct.output, "the same answer as an uninterrupted run");
    assert_eq!(stepped.messages, direct.messages, "the same conversation, tool-call ids included");
    println!("same result as Agent::run: yes");
    Ok(())
}
