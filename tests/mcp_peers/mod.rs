//! Real MCP peers for the tests, installed on first use from the package registries into a cache folder
//! (`target/tmp/peers`, or `TOOLSMITH_PEERS_DIR`): the reference server `@modelcontextprotocol/server-everything`
//! (npm) and the official Python SDK `mcp` (PyPI, in a virtualenv). A missing Node.js or Python, or a failed
//! install, panics with what to do: these tests never pass by skipping.

#![allow(dead_code)] // each test binary uses part of it

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Versions verified together (see shared/peers.md).
pub const SERVER_EVERYTHING: &str = "@modelcontextprotocol/server-everything@2026.8.31";
pub const PYTHON_SDK: &str = "mcp==2.3.0";

/// One install at a time within a test binary; the install itself is atomic across processes (a rename).
static INSTALL: Mutex<()> = Mutex::new(());

fn cache_dir() -> PathBuf {
    std::env::var_os("TOOLSMITH_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("peers"))
}

fn require(program: &str, what: &str) {
    let found = Command::new(program).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !matches!(found, Ok(status) if status.success()) {
        panic!("the MCP interop tests need {what} (`{program}` was not found or failed); install it and run again");
    }
}

fn run(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|error| panic!("{what}: could not run: {error}"));
    if !output.status.success() {
        panic!(
            "{what} failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Installs into `name` under the cache by running `install` on a fresh temporary folder, then renaming it:
/// a folder that exists is complete.
fn installed(name: &str, install: impl FnOnce(&Path)) -> PathBuf {
    let _guard = INSTALL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let root = cache_dir();
    let target = root.join(name);
    if target.exists() {
        return target;
    }
    std::fs::create_dir_all(&root).expect("create the peers cache folder");
    let staging = root.join(format!(".{name}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    install(&staging);
    if std::fs::rename(&staging, &target).is_err() && !target.exists() {
        panic!("could not move {} to {}", staging.display(), target.display());
    }
    let _ = std::fs::remove_dir_all(&staging);
    target
}

/// The reference server's executable (`mcp-server-everything`).
pub fn server_everything() -> PathBuf {
    require("node", "Node.js (20 or later)");
    require("npm", "npm");
    let dir = installed("server-everything-2026.8.31", |staging| {
        std::fs::create_dir_all(staging).expect("create the npm folder");
        run(
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
                .arg(staging)
                .arg(SERVER_EVERYTHING),
            "npm install of the MCP reference server",
        );
    });
    let bin = dir.join("node_modules/.bin/mcp-server-everything");
    assert!(bin.exists(), "{} is missing after the install", bin.display());
    bin
}

/// A Python interpreter with the official MCP SDK.
pub fn python() -> PathBuf {
    require("python3", "Python 3.10 or later with venv and pip");
    let dir = installed("python-mcp-2.3.0", |staging| {
        run(Command::new("python3").args(["-m", "venv"]).arg(staging), "creating a Python virtualenv");
        run(
            Command::new(staging.join("bin/python")).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                PYTHON_SDK,
            ]),
            "pip install of the MCP Python SDK",
        );
    });
    dir.join("bin/python")
}

/// The Python client script of the fixtures.
pub fn python_client_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mcp/python_client.py")
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port").port()
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server exited before listening on {port}: {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nothing listened on 127.0.0.1:{port} within 30 s");
}

/// A child process killed when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The reference server over Streamable HTTP on a free port: its URL and the process.
pub fn server_everything_http() -> (String, KillOnDrop) {
    let bin = server_everything();
    let port = free_port();
    let mut child = Command::new(bin)
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the reference server");
    wait_for_port(port, &mut child);
    (format!("http://127.0.0.1:{port}/mcp"), KillOnDrop(child))
}

/// Whether process `pid` is gone (or a zombie waiting to be reaped).
pub fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}
