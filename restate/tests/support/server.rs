//! restate-server as a real peer: installed from npm into a cache folder when missing, started on loopback
//! with its own data folder and free ports, killed when dropped.

use std::fs::File;
use std::io::Write;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The server version the tests run against (the one `shared/peers.md` verified).
pub const RESTATE_SERVER_VERSION: &str = "1.7.12";

/// How long a fresh server may take to answer its health checks (5 s is usual on 2 cores).
const STARTUP_LIMIT: Duration = Duration::from_secs(60);

/// A running restate-server.
pub struct RestateServer {
    child: Child,
    /// The ingress base URL, `http://127.0.0.1:PORT`.
    pub ingress: String,
    /// The admin API base URL, `http://127.0.0.1:PORT`.
    pub admin: String,
    dir: PathBuf,
    http: reqwest::Client,
}

/// The cache folder for peers: `target/peers` of the workspace, or `TOOLSMITH_PEERS_DIR`.
pub fn peers_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TOOLSMITH_PEERS_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("target").join("peers")
}

/// The restate-server binary, installed from npm into the cache folder when it is not there yet. Panics with
/// the reason when Node/npm is missing or the install fails: these tests never pass by skipping.
pub fn restate_server_binary() -> PathBuf {
    let dir = peers_dir().join(format!("restate-{RESTATE_SERVER_VERSION}"));
    let binary = dir.join("node_modules/@restatedev/restate-server-linux-x64/bin/restate-server");
    if binary.exists() {
        return binary;
    }
    std::fs::create_dir_all(&dir).unwrap_or_else(|error| panic!("cannot create {}: {error}", dir.display()));
    // Test binaries run in parallel: one installs, the others wait on the lock and find the binary.
    let lock = File::create(dir.join(".install.lock"))
        .unwrap_or_else(|error| panic!("cannot create the install lock in {}: {error}", dir.display()));
    // The durable tests need restate-sdk, hence Rust 1.90, also when the facade (MSRV 1.88) includes them.
    #[allow(clippy::incompatible_msrv)]
    lock.lock().unwrap_or_else(|error| panic!("cannot lock {}: {error}", dir.display()));
    if !binary.exists() {
        let package = format!("@restatedev/restate-server@{RESTATE_SERVER_VERSION}");
        let output = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--no-save", "--prefix"])
            .arg(&dir)
            .arg(&package)
            .output()
            .unwrap_or_else(|error| {
                panic!(
                    "the durable tests need restate-server from npm, and running `npm` failed: {error}. Install \
                     Node.js and npm (https://nodejs.org), then run the tests again."
                )
            });
        assert!(
            output.status.success(),
            "`npm install {package}` into {} failed ({}):\n{}\n{}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(binary.exists(), "`npm install {package}` succeeded but {} is missing", binary.display());
    }
    binary
}

/// An HTTP client for the servers on loopback: toolsmith's TLS set-up (reqwest without a default crypto
/// provider), and no proxy from the environment.
pub fn http() -> reqwest::Client {
    toolsmith_core::client::http_client_builder().no_proxy().build().expect("reqwest client")
}

/// A port on 127.0.0.1 that nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind an ephemeral port on 127.0.0.1");
    listener.local_addr().expect("local address").port()
}

impl RestateServer {
    /// Installs (when needed) and starts a server with fresh data, and waits until ingress and admin answer.
    pub async fn start() -> RestateServer {
        RestateServer::start_with("").await
    }

    /// [`start`](Self::start) with more configuration (TOML, appended to the test configuration).
    ///
    /// The ports are picked free, then bound by the server a moment later: another test's connection can
    /// take one in between. A server that exits because a port is in use is started again on new ports.
    pub async fn start_with(extra_config: &str) -> RestateServer {
        const ATTEMPTS: usize = 3;
        for attempt in 1..=ATTEMPTS {
            let mut server = RestateServer::spawn(extra_config);
            match server.wait_ready().await {
                Ok(()) => return server,
                Err(log) if attempt < ATTEMPTS && log.contains("Address in use") => {
                    eprintln!("restate-server lost a port to another process (attempt {attempt}); new ports");
                }
                Err(log) => panic!("restate-server did not become ready; its log:\n{log}"),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// A server process with fresh data and free ports, not yet ready.
    fn spawn(extra_config: &str) -> RestateServer {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let binary = restate_server_binary();
        let dir =
            peers_dir().join("runs").join(format!("{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|error| panic!("cannot create {}: {error}", dir.display()));
        let (node, admin, ingress) = (free_port(), free_port(), free_port());
        let config = dir.join("restate.toml");
        // Retries after a killed worker start at 100 ms and stay under a second, so a restarted worker is
        // picked up at once (the server default backs off to a minute). Four partitions: enough, and cheap on
        // two cores.
        let text = format!(
            "cluster-name = \"toolsmith-test\"\n\
             disable-telemetry = true\n\
             default-num-partitions = 4\n\
             bind-address = \"127.0.0.1:{node}\"\n\
             advertised-address = \"http://127.0.0.1:{node}/\"\n\
             [admin]\nbind-address = \"127.0.0.1:{admin}\"\n\
             [ingress]\nbind-address = \"127.0.0.1:{ingress}\"\n\
             [default-retry-policy]\ninitial-interval = \"100ms\"\nexponentiation-factor = 1.5\n\
             max-interval = \"1s\"\nmax-attempts = 1000\n{extra_config}"
        );
        std::fs::write(&config, text).unwrap_or_else(|error| panic!("cannot write {}: {error}", config.display()));
        let log = File::create(dir.join("server.log")).expect("create the server log");
        let child = Command::new(&binary)
            .arg("--config-file")
            .arg(&config)
            .arg("--base-dir")
            .arg(dir.join("data"))
            .args(["--bind-ip", "127.0.0.1", "--listen-mode", "tcp", "--no-logo"])
            // The server looks for a newer release on start: keep that on this machine (a refused local
            // proxy), like everything else the tests do.
            .env("DO_NOT_TRACK", "1")
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("RESTATE_LOG_FORMAT", "compact")
            .env("RESTATE_LOG_DISABLE_ANSI_CODES", "true")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
        RestateServer {
            child,
            ingress: format!("http://127.0.0.1:{ingress}"),
            admin: format!("http://127.0.0.1:{admin}"),
            dir,
            http: http(),
        }
    }

    /// Waits until ingress and admin answer; the server's log when it exits first or takes too long.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        loop {
            let admin = self.http.get(format!("{}/health", self.admin)).send().await;
            let ingress = self.http.get(format!("{}/restate/health", self.ingress)).send().await;
            if matches!((&admin, &ingress), (Ok(a), Ok(i)) if a.status().is_success() && i.status().is_success()) {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("(exited: {status})\n{}", self.log()));
            }
            if started.elapsed() >= STARTUP_LIMIT {
                return Err(format!("(not ready within {STARTUP_LIMIT:?})\n{}", self.log()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The server's log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// Registers (or re-registers) the deployment at `uri`, as `POST /deployments` does from curl.
    pub async fn register(&self, uri: &str) {
        let started = Instant::now();
        loop {
            let response = self
                .http
                .post(format!("{}/deployments", self.admin))
                .json(&json!({"uri": uri, "force": true}))
                .send()
                .await
                .expect("POST /deployments");
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            if status.is_success() {
                return;
            }
            // The worker may still be binding its port.
            assert!(started.elapsed() < Duration::from_secs(30), "registering {uri} failed: {status} {body}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Starts an invocation without waiting for it (`.../send`), with an idempotency key, and returns its id.
    pub async fn send(&self, path: &str, body: &Value, idempotency_key: &str) -> String {
        let response = self
            .http
            .post(format!("{}/{path}/send", self.ingress))
            .header("idempotency-key", idempotency_key)
            .json(body)
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST {path}/send: {error}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "POST {path}/send answered {status}: {text}");
        let value: Value = serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}: {text}"));
        value["invocationId"].as_str().unwrap_or_else(|| panic!("no invocationId in {text}")).to_owned()
    }

    /// Calls a handler and waits for its answer: the status and the body. `None` sends no body (handlers
    /// without input refuse one).
    pub async fn call(&self, path: &str, body: Option<&Value>) -> (u16, String) {
        let request = self.http.post(format!("{}/{path}", self.ingress));
        let request = match body {
            Some(body) => request.json(body),
            None => request,
        };
        let response = request.send().await.expect("ingress call");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// The output of a finished invocation, `None` while it runs (`GET /restate/invocation/{id}/output`).
    pub async fn output(&self, invocation: &str) -> Option<(u16, String)> {
        let response = self
            .http
            .get(format!("{}/restate/invocation/{invocation}/output", self.ingress))
            .send()
            .await
            .expect("GET output");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        // 470: the invocation exists but has not completed yet.
        if status == 470 { None } else { Some((status, text)) }
    }

    /// Waits until the invocation finishes, polling its output (a reconnecting caller does the same).
    pub async fn wait_output(&self, invocation: &str, limit: Duration) -> (u16, String) {
        let started = Instant::now();
        loop {
            if let Some(output) = self.output(invocation).await {
                return output;
            }
            assert!(started.elapsed() < limit, "invocation {invocation} did not finish within {limit:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs a SQL query on the admin API (`sys_invocation`, `sys_journal`, ...).
    pub async fn query(&self, sql: &str) -> Vec<Value> {
        let response = self
            .http
            .post(format!("{}/query", self.admin))
            .header("accept", "application/json")
            .json(&json!({"query": sql}))
            .send()
            .await
            .expect("POST /query");
        let text = response.text().await.unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}: {text}"));
        value["rows"].as_array().cloned().unwrap_or_default()
    }

    /// Replaces a virtual object's state with `key` = `value` as JSON (the admin API's state editing, applied
    /// asynchronously: this waits until a query sees it).
    pub async fn set_state(&self, service: &str, object: &str, key: &str, value: &Value) {
        let bytes: Vec<u8> = serde_json::to_vec(value).expect("serialize the state");
        let response = self
            .http
            .post(format!("{}/services/{service}/state", self.admin))
            .json(&json!({"object_key": object, "new_state": {key: bytes}}))
            .send()
            .await
            .expect("POST /services/{service}/state");
        assert!(response.status().is_success(), "setting {service}/{object} state: {}", response.status());
        let started = Instant::now();
        let sql = format!("SELECT key FROM state WHERE service_name = '{service}' AND service_key = '{object}'");
        while self.query(&sql).await.is_empty() {
            assert!(started.elapsed() < Duration::from_secs(30), "the state of {service}/{object} never appeared");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The status of one invocation in `sys_invocation` (`running`, `suspended`, `backing-off`, ...).
    pub async fn invocation_status(&self, invocation: &str) -> String {
        let rows = self.query(&format!("SELECT status FROM sys_invocation WHERE id = '{invocation}'")).await;
        rows.first().and_then(|row| row["status"].as_str()).unwrap_or("unknown").to_owned()
    }
}

impl Drop for RestateServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            let mut stderr = std::io::stderr();
            let _ = writeln!(stderr, "restate-server data and log kept in {}", self.dir.display());
        }
    }
}
