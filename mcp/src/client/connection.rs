//! One live MCP session: the rmcp service (which owns the transport, and so the child process), its peer for
//! requests, and what is needed to describe failures.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::service::RunningService;
use rmcp::{Peer, RoleClient, ServiceError};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use super::handler::Handler;
use super::tool::describe_error;

/// Lines of a spawned server's stderr kept for error messages.
const STDERR_LINES: usize = 8;
/// Longest stderr line kept, in bytes.
const STDERR_LINE_BYTES: usize = 400;

pub(crate) struct Connection {
    /// Dropping it cancels the session: the transport closes and a spawned server is killed.
    _service: RunningService<RoleClient, Handler>,
    peer: Peer<RoleClient>,
    label: String,
    call_timeout: Option<Duration>,
    stderr: Option<StderrTail>,
    pid: Option<u32>,
}

impl Connection {
    pub(crate) fn new(
        service: RunningService<RoleClient, Handler>,
        label: String,
        call_timeout: Option<Duration>,
        stderr: Option<StderrTail>,
        pid: Option<u32>,
    ) -> Self {
        let peer = service.peer().clone();
        Connection { _service: service, peer, label, call_timeout, stderr, pid }
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.pid
    }

    pub(crate) fn peer(&self) -> &Peer<RoleClient> {
        &self.peer
    }

    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    pub(crate) fn call_timeout(&self) -> Option<Duration> {
        self.call_timeout
    }

    /// The model-facing text for a failed request. The server's stderr stays out of it (it may hold anything);
    /// it is logged at `debug` and shown in connect errors, which go to the developer.
    pub(crate) fn describe(&self, error: &ServiceError) -> String {
        describe_error(&self.label, error)
    }

    /// The end of a spawned server's stderr, for the developer.
    pub(crate) fn stderr(&self) -> Option<String> {
        self.stderr.as_ref().map(StderrTail::text)
    }
}

/// The last lines a spawned server wrote to stderr (bounded), also logged at `debug`.
#[derive(Clone, Default)]
pub(crate) struct StderrTail(Arc<Mutex<VecDeque<String>>>);

impl StderrTail {
    /// Reads `stderr` until it closes, on its own task.
    pub(crate) fn collect(label: String, stderr: impl AsyncRead + Send + Unpin + 'static) -> Self {
        let tail = StderrTail::default();
        let lines = tail.0.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(mut line)) = reader.next_line().await {
                tracing::debug!(server = %label, "stderr: {line}");
                if line.len() > STDERR_LINE_BYTES {
                    let mut end = STDERR_LINE_BYTES;
                    while !line.is_char_boundary(end) {
                        end -= 1;
                    }
                    line.truncate(end);
                }
                let mut lines = lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if lines.len() == STDERR_LINES {
                    lines.pop_front();
                }
                lines.push_back(line);
            }
        });
        tail
    }

    pub(crate) fn text(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        lines.iter().map(String::as_str).collect::<Vec<_>>().join(" | ")
    }
}
