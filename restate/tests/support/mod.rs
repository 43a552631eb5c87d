//! What the durable tests share: a real restate-server, the toolsmith test server as the model, worker
//! processes, and the ledger the workers' tools write outside them.

#![allow(dead_code)] // Each test file uses its own part.

pub mod balancer;
pub mod server;
pub mod worker;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use toolsmith_testing::TestServer;

pub use server::{RestateServer, free_port, peers_dir};
pub use worker::Worker;

/// One test's world: restate-server, the model, and a folder for the ledger, the gates and the logs.
pub struct Fixture {
    pub restate: RestateServer,
    pub model: TestServer,
    pub dir: PathBuf,
}

impl Fixture {
    /// Starts restate-server (installing it when needed) and the test model.
    pub async fn new(name: &str) -> Fixture {
        Fixture::with_config(name, "").await
    }

    /// [`new`](Self::new) with more restate-server configuration.
    pub async fn with_config(name: &str, config: &str) -> Fixture {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = peers_dir().join("runs").join(format!(
            "{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("gates")).expect("create the test folder");
        let restate = RestateServer::start_with(config).await;
        let model = TestServer::test_model().await.expect("start the test model");
        Fixture { restate, model, dir }
    }

    /// The environment of a worker serving this fixture's model, ledger and gates.
    pub fn worker_env(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut env = vec![
            ("MODEL_BASE_URL".to_owned(), self.model.base_url()),
            ("LEDGER".to_owned(), self.dir.join("ledger").display().to_string()),
            ("GATE_DIR".to_owned(), self.dir.join("gates").display().to_string()),
        ];
        env.extend(extra.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())));
        env
    }

    /// Starts a worker on a free port.
    pub async fn worker(&self, name: &str, extra: &[(&str, &str)]) -> Worker {
        Worker::start(name, free_port(), self.worker_env(extra), &self.dir.join(format!("{name}.log"))).await
    }

    /// Makes `tool` wait at its gate.
    pub fn hold(&self, tool: &str) {
        std::fs::write(self.dir.join("gates").join(tool), b"").expect("close the gate");
    }

    /// Lets `tool` through its gate.
    pub fn release(&self, tool: &str) {
        std::fs::remove_file(self.dir.join("gates").join(tool)).expect("open the gate");
    }

    /// The ledger so far.
    pub fn ledger(&self) -> Ledger {
        let text = std::fs::read_to_string(self.dir.join("ledger")).unwrap_or_default();
        Ledger {
            lines: text
                .lines()
                .map(|line| {
                    let fields: Vec<&str> = line.split(' ').collect();
                    assert_eq!(fields.len(), 5, "a torn ledger line: {line:?}");
                    LedgerLine {
                        phase: fields[0].to_owned(),
                        tool: fields[1].to_owned(),
                        order: fields[2].to_owned(),
                        key: fields[3].to_owned(),
                        worker: fields[4].to_owned(),
                    }
                })
                .collect(),
        }
    }

    /// Waits until the ledger satisfies `ready`.
    pub async fn wait_ledger(&self, what: &str, ready: impl Fn(&Ledger) -> bool) -> Ledger {
        let started = Instant::now();
        loop {
            let ledger = self.ledger();
            if ready(&ledger) {
                return ledger;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "waited 60 s for {what}; ledger: {:?}", ledger.lines);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the model has received `count` requests.
    pub async fn wait_requests(&self, count: usize) {
        let started = Instant::now();
        while self.model.request_count() < count {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "waited 60 s for model request #{count} ({} so far)",
                self.model.request_count()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// One ledger line: a tool body starting, or finishing with its effect (`effect` the first time for its
/// idempotency key, `repeat` after: see the test worker).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerLine {
    /// `start`, `effect` or `repeat`.
    pub phase: String,
    pub tool: String,
    pub order: String,
    /// The call's idempotency key (invocation id and call id).
    pub key: String,
    /// The worker that ran the body.
    pub worker: String,
}

/// Every tool body run the workers logged.
#[derive(Debug)]
pub struct Ledger {
    pub lines: Vec<LedgerLine>,
}

impl Ledger {
    /// How many lines have this phase and tool (and order, when given).
    pub fn count(&self, phase: &str, tool: &str, order: Option<&str>) -> usize {
        self.lines
            .iter()
            .filter(|line| line.phase == phase && line.tool == tool && order.is_none_or(|order| line.order == order))
            .count()
    }

    /// How many times a body of `tool` ran to its end (`effect` and `repeat` lines).
    pub fn finished(&self, tool: &str) -> usize {
        self.count("effect", tool, None) + self.count("repeat", tool, None)
    }
}

/// The message that makes the test model call both tools once, for `order`, in one turn.
pub fn order_message(order: &str) -> serde_json::Value {
    serde_json::Value::String(format!("Charge the card and send the receipt for '{order}'."))
}

/// The test model's final answer once both tools ran for `order`.
pub fn expected_answer(order: &str) -> String {
    format!(
        "Here is what I found:\ncharge_card: charge_card for {order}: ok\nsend_receipt: send_receipt for {order}: ok"
    )
}
