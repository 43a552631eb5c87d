//! Worker processes: the test worker binary started on a port, killed with SIGKILL, started again.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A worker process serving the durable services on `127.0.0.1:port`.
pub struct Worker {
    child: Option<Child>,
    /// The port it listens on; a restarted worker takes the same one.
    pub port: u16,
    env: Vec<(String, String)>,
    log: PathBuf,
}

impl Worker {
    /// Starts the test worker on `port` with `env` (model URL, ledger, gates) and waits until it accepts
    /// connections.
    pub async fn start(name: &str, port: u16, mut env: Vec<(String, String)>, log: &Path) -> Worker {
        env.push(("WORKER_NAME".to_owned(), name.to_owned()));
        let mut worker = Worker { child: None, port, env, log: log.to_path_buf() };
        worker.spawn().await;
        worker
    }

    /// The deployment URI to register.
    pub fn uri(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("open the worker log");
        let child = Command::new(env!("CARGO_BIN_EXE_toolsmith-restate-test-worker"))
            .env("WORKER_ADDRESS", format!("127.0.0.1:{}", self.port))
            .envs(self.env.iter().map(|(key, value)| (key.as_str(), value.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .expect("start the test worker");
        self.child = Some(child);
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("the worker exited at start ({status}); its log:\n{}", self.log_text());
            }
            assert!(started.elapsed() < Duration::from_secs(30), "the worker did not listen on port {}", self.port);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: no shutdown, no flush, exactly like a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL the worker");
            child.wait().expect("reap the worker");
        }
    }

    /// A new process on the same port, with the same settings.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    /// What the worker printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}
