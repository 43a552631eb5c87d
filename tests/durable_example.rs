//! The README's "Durable runs" walk-through, step by step with the same requests: restate-server, the
//! `durable` example as the worker, a run started as curl starts it, the worker killed (SIGKILL) while it
//! sends the receipt, started again, and the run's output fetched by its invocation id. Needs Node/npm
//! (restate-server is installed from npm into target/peers when missing) and `--features restate`.

#[path = "../restate/tests/support/server.rs"]
#[allow(dead_code)] // The restate crate's tests use the rest.
mod server;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use server::{RestateServer, free_port};

/// Builds the example (cargo does not build examples for `cargo test --test ...`) and returns its path.
fn build_example() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--features", "restate", "--example", "durable"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build --example durable");
    assert!(status.success(), "cargo build --example durable failed");
    let deps = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/durable_example-HASH -> target/<profile>/examples/durable
    let profile_dir = deps.parent().and_then(|deps| deps.parent()).expect("target profile folder");
    profile_dir.join("examples").join("durable")
}

/// `cargo run --features restate --example durable`, with its output in `log`.
fn start_worker(binary: &PathBuf, address: &str, log: &PathBuf) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("worker log");
    Command::new(binary)
        .env("DURABLE_ADDRESS", address)
        .env("DURABLE_RECEIPT_SECONDS", "3")
        // The example's model: the built-in test model, whatever the caller's environment says.
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("MINTCLOUD_API_KEY")
        .env_remove("TOOLSMITH_MODEL")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone the log handle"))
        .stderr(log)
        .spawn()
        .expect("start the durable example")
}

async fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(started.elapsed() < limit, "waited {limit:?} for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_walk_through_kill_the_worker_and_the_run_finishes() {
    let binary = build_example();
    let restate = RestateServer::start().await;
    let dir = server::peers_dir().join("runs").join(format!("example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("test folder");
    let log = dir.join("worker.log");
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    let address = format!("127.0.0.1:{}", free_port());

    // cargo run --features restate --example durable
    let mut worker = start_worker(&binary, &address, &log);
    wait_for("the worker to listen", Duration::from_secs(30), || read_log().contains("listening on")).await;
    // curl -X POST http://127.0.0.1:9070/deployments -H 'content-type: application/json' -d '{"uri": ...}'
    restate.register(&format!("http://{address}")).await;
    // curl -X POST http://127.0.0.1:8080/AgentRun/A-17/run/send -H 'idempotency-key: A-17' -d '"Charge ..."'
    let message = json!("Charge the card and send the receipt for order \"A-17\".");
    let id = restate.send("AgentRun/A-17/run", &message, "A-17").await;
    assert!(id.starts_with("inv_"), "{id}");

    // kill -9 the worker while it sends the receipt (the card is already charged).
    wait_for("the receipt to be on its way", Duration::from_secs(30), || read_log().contains("sending the receipt"))
        .await;
    worker.kill().expect("SIGKILL the worker");
    worker.wait().expect("reap the worker");
    assert!(restate.output(&id).await.is_none(), "the run cannot have finished without its worker");

    // Start it again: the run finishes.
    let mut worker = start_worker(&binary, &address, &log);
    let (status, body) = restate.wait_output(&id, Duration::from_secs(60)).await;
    worker.kill().expect("stop the worker");
    let _ = worker.wait();
    assert_eq!(status, 200, "{body}");
    let outcome: Value = serde_json::from_str(&body).expect("JSON outcome");
    assert_eq!(outcome["status"], "completed", "{outcome:#}");
    assert_eq!(
        outcome["output"],
        "Here is what I found:\ncharge_card: charged 42.00 EUR for order A-17\nsend_receipt: receipt for order A-17 \
         sent to the customer"
    );
    let printed = read_log();
    assert_eq!(printed.matches("charging the card for order A-17").count(), 1, "{printed}");
    assert_eq!(printed.matches("sending the receipt for order A-17").count(), 2, "{printed}");
    assert_eq!(printed.matches("receipt for order A-17 sent\n").count(), 1, "{printed}");
    let _ = std::fs::remove_dir_all(&dir);
}
