//! The client direction: an MCP server's tools as toolsmith tools.

mod connection;
mod content;
mod handler;
mod names;
mod schema;
mod tool;
mod transport;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use rmcp::model::{ProtocolVersion, ServerNotification, SubscriptionFilter};
use rmcp::{Peer, RoleClient};
use tokio::sync::mpsc;
use toolsmith_core::tool::{Tool, ToolDefinition, ToolSet, ToolSource, Toolbox};

use crate::McpError;

use connection::Connection;
use handler::Handler;
use names::NameMapper;
use tool::McpTool;
use transport::Target;

pub use schema::SchemaReport;

/// The per-call timeout unless set otherwise: rmcp applies none, and an agent waiting on a stalled server would
/// hang forever.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the handshake and the first tool listing may take unless set otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How to reach an MCP server and which of its tools to offer. Build with [`McpClient::stdio`] or
/// [`McpClient::http`], finish with [`connect`](McpClient::connect).
///
/// `Debug` shows header names, never their values (a bearer token is a secret).
#[must_use]
pub struct McpClient {
    target: Target,
    label: Option<String>,
    prefix: Option<String>,
    allow: Option<HashSet<String>>,
    deny: HashSet<String>,
    call_timeout: Option<Duration>,
    connect_timeout: Duration,
}

impl McpClient {
    /// A server started as a child process speaking MCP on its stdin/stdout. It is killed when the last handle
    /// on the connection ([`McpTools`], and the agents holding them) is dropped.
    pub fn stdio(program: impl Into<String>) -> Self {
        Self::new(Target::stdio(program.into()))
    }

    /// A server reached over Streamable HTTP at `url` (e.g. `http://127.0.0.1:3001/mcp`).
    pub fn http(url: impl Into<String>) -> Self {
        Self::new(Target::http(url.into()))
    }

    /// A server given as a command line: a URL starting with `http://` or `https://` for Streamable HTTP,
    /// otherwise a program and its arguments to spawn. `None` when `words` is empty.
    pub fn command_line<I, S>(words: I) -> Option<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut words = words.into_iter().map(Into::into);
        let first = words.next()?;
        if first.starts_with("http://") || first.starts_with("https://") {
            return Some(Self::http(first));
        }
        Some(Self::stdio(first).args(words))
    }

    fn new(target: Target) -> Self {
        McpClient {
            target,
            label: None,
            prefix: None,
            allow: None,
            deny: HashSet::new(),
            call_timeout: Some(DEFAULT_CALL_TIMEOUT),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// Adds an argument to the spawned command (stdio only).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.target.arg(arg.into());
        self
    }

    /// Adds arguments to the spawned command (stdio only).
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for arg in args {
            self.target.arg(arg.into());
        }
        self
    }

    /// Sets an environment variable of the spawned command (stdio only); the rest is inherited.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.target.env(name.into(), value.into());
        self
    }

    /// The working directory of the spawned command (stdio only).
    pub fn current_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.target.current_dir(dir.into());
        self
    }

    /// Adds an HTTP header to every request (Streamable HTTP only).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.target.header(name.into(), value.into());
        self
    }

    /// Sends `Authorization: Bearer <token>` with every request (Streamable HTTP only).
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.target.bearer(token.into());
        self
    }

    /// The name used in errors and logs (default: the command or the URL).
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Offers every tool as `<prefix>_<name>`, so tools of several servers, and local tools, cannot collide.
    /// The prefix must be a valid tool name of at most 54 characters.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Offers only the server tools with these names (the server's names, before prefixing and mapping).
    pub fn allow<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allow.get_or_insert_with(HashSet::new).extend(names.into_iter().map(Into::into));
        self
    }

    /// Never offers the server tools with these names (the server's names).
    pub fn deny<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.deny.extend(names.into_iter().map(Into::into));
        self
    }

    /// How long one tool call may take before it is cancelled (`notifications/cancelled`) and the model told
    /// so (default [`DEFAULT_CALL_TIMEOUT`]); `None` waits forever.
    pub fn call_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// How long the handshake and the first listing may take (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Starts or reaches the server, completes the handshake and lists every tool (following pagination).
    ///
    /// Fails with a clear [`McpError`] when the command cannot start, the server exits or refuses the
    /// connection, the handshake or listing fails or takes longer than the connect timeout, or a setting is
    /// invalid. Schemas are checked here: see [`McpTools::schema_reports`].
    pub async fn connect(self) -> Result<McpTools, McpError> {
        if let Some(prefix) = &self.prefix
            && !names::valid_prefix(prefix)
        {
            return Err(McpError::Config(format!(
                "the prefix `{prefix}` must be 1 to 54 characters among a-z, A-Z, 0-9, `_` and `-`"
            )));
        }
        let label = self.label.clone().unwrap_or_else(|| self.target.label());
        let (refresh, refreshes) = mpsc::channel(1);
        let handler = Handler { refresh: refresh.clone() };
        let limit = self.connect_timeout;
        let connected = tokio::time::timeout(limit, self.target.connect(&label, handler)).await.map_err(|_| {
            McpError::Connect {
                server: label.clone(),
                message: format!("no handshake within {:.1} s", limit.as_secs_f64()),
            }
        })??;
        let (service, stderr, pid) = connected;
        let connection = Arc::new(Connection::new(service, label.clone(), self.call_timeout, stderr, pid));
        let peer = connection.peer().clone();
        let details = ServerDetails::read(&peer);
        let filter = Filter { prefix: self.prefix, allow: self.allow, deny: self.deny };
        let listed = tokio::time::timeout(limit, peer.list_all_tools()).await;
        let listed = match listed {
            Err(_) => Err(format!("no answer within {:.1} s", limit.as_secs_f64())),
            Ok(result) => result.map_err(|error| connection.describe(&error)),
        };
        let listed = listed.map_err(|message| McpError::ListTools { server: label.clone(), message })?;
        let snapshot = build(&connection, &filter, listed);
        for report in &snapshot.reports {
            match &report.excluded {
                Some(reason) => tracing::warn!(server = %label, tool = %report.tool, "MCP tool left out: {reason}"),
                None => {
                    tracing::warn!(server = %label, tool = %report.tool, repairs = ?report.repairs, "MCP tool schema repaired")
                }
            }
        }
        let shared = Arc::new(Shared {
            connection,
            filter,
            details,
            snapshot: RwLock::new(snapshot),
            changes: AtomicU64::new(0),
        });
        if shared.details.tools_list_changed
            && shared.details.protocol_version.as_str() >= ProtocolVersion::V_2026_07_28.as_str()
        {
            tokio::spawn(subscribe(peer, refresh));
        }
        tokio::spawn(watch(Arc::downgrade(&shared), refreshes));
        Ok(McpTools(shared))
    }
}

impl fmt::Debug for McpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpClient")
            .field("target", &self.target)
            .field("prefix", &self.prefix)
            .field("allow", &self.allow)
            .field("deny", &self.deny)
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

/// Which server tools are offered, and under which names.
struct Filter {
    prefix: Option<String>,
    allow: Option<HashSet<String>>,
    deny: HashSet<String>,
}

impl Filter {
    fn offers(&self, name: &str) -> bool {
        !self.deny.contains(name) && self.allow.as_ref().is_none_or(|allow| allow.contains(name))
    }
}

/// What the server said about itself in the handshake.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerDetails {
    /// The server's name (`serverInfo.name`), when given.
    pub name: Option<String>,
    /// The server's version (`serverInfo.version`), when given.
    pub version: Option<String>,
    /// The server's instructions for the model, when given.
    pub instructions: Option<String>,
    /// The protocol version agreed on.
    pub protocol_version: String,
    /// Whether the server announces changes of its tool list.
    pub tools_list_changed: bool,
}

impl ServerDetails {
    fn read(peer: &Peer<RoleClient>) -> Self {
        let Some(info) = peer.peer_info() else { return ServerDetails::default() };
        ServerDetails {
            name: info.server_info.as_ref().map(|server| server.name.clone()),
            version: info.server_info.as_ref().map(|server| server.version.clone()),
            instructions: info.instructions.clone().filter(|text| !text.trim().is_empty()),
            protocol_version: info.protocol_version.to_string(),
            tools_list_changed: info.capabilities.tools.as_ref().and_then(|tools| tools.list_changed) == Some(true),
        }
    }
}

struct Shared {
    connection: Arc<Connection>,
    filter: Filter,
    details: ServerDetails,
    snapshot: RwLock<Snapshot>,
    changes: AtomicU64,
}

impl Shared {
    fn snapshot<T>(&self, read: impl FnOnce(&Snapshot) -> T) -> T {
        read(&self.snapshot.read().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

/// The result of one listing.
struct Snapshot {
    tools: Arc<ToolSet>,
    /// Wire name to the server's name.
    server_names: HashMap<String, String>,
    reports: Vec<SchemaReport>,
}

/// The tools of one connected MCP server. Cheap to clone; the connection lives as long as any clone (or any
/// agent built with one) does.
///
/// Register with `AgentBuilder::tools(mcp)` so the agent offers the server's current list at every turn, or
/// with `AgentBuilder::toolbox(Arc::new(mcp))` for the list as it is when the agent is built.
#[derive(Clone)]
pub struct McpTools(Arc<Shared>);

impl McpTools {
    /// The tools offered now.
    pub fn tools(&self) -> Arc<ToolSet> {
        self.0.snapshot(|snapshot| snapshot.tools.clone())
    }

    /// The definitions offered now, as the model sees them.
    pub fn definitions(&self) -> Vec<ToolDefinition> {
        self.tools().definitions().to_vec()
    }

    /// The server's instructions for the model, to add to the agent's instructions.
    pub fn instructions(&self) -> Option<&str> {
        self.0.details.instructions.as_deref()
    }

    /// What the server said about itself in the handshake.
    pub fn server(&self) -> &ServerDetails {
        &self.0.details
    }

    /// The server's name for the tool the model knows as `wire_name` (they differ when a prefix is set or the
    /// server's name is not a valid tool name).
    pub fn server_name(&self, wire_name: &str) -> Option<String> {
        self.0.snapshot(|snapshot| snapshot.server_names.get(wire_name).cloned())
    }

    /// The schema repairs and exclusions of the last listing.
    pub fn schema_reports(&self) -> Vec<SchemaReport> {
        self.0.snapshot(|snapshot| snapshot.reports.clone())
    }

    /// How many times the tool list was listed again after the server announced a change.
    pub fn list_changes(&self) -> u64 {
        self.0.changes.load(Ordering::Acquire)
    }

    /// Lists the server's tools again now (the server's announcements do this by themselves).
    pub async fn refresh(&self) -> Result<(), McpError> {
        refresh(&self.0).await
    }

    /// The process id of a spawned server.
    pub fn server_pid(&self) -> Option<u32> {
        self.0.connection.pid()
    }

    /// The end of a spawned server's stderr (what it printed last), for diagnostics.
    pub fn server_stderr(&self) -> Option<String> {
        self.0.connection.stderr()
    }
}

impl ToolSource for McpTools {
    fn current_tools(&self) -> Arc<ToolSet> {
        self.tools()
    }
}

impl Toolbox for McpTools {
    fn tools(self: Arc<Self>) -> Vec<Arc<dyn Tool>> {
        McpTools::tools(&self).iter().cloned().collect()
    }
}

impl fmt::Debug for McpTools {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpTools")
            .field("server", &self.0.connection.label())
            .field("tools", &self.tools())
            .finish_non_exhaustive()
    }
}

/// Turns a listing into the tool set to offer and the reports of what was repaired or left out.
fn build(connection: &Arc<Connection>, filter: &Filter, listed: Vec<rmcp::model::Tool>) -> Snapshot {
    let mut names = NameMapper::new(filter.prefix.as_deref());
    let mut tools = ToolSet::new();
    let mut server_names = HashMap::new();
    let mut reports = Vec::new();
    for listed in listed {
        let remote: &str = &listed.name;
        if !filter.offers(remote) {
            continue;
        }
        let (parameters, repairs) = match schema::repair(&listed.input_schema) {
            Ok(repaired) => repaired,
            Err(reason) => {
                reports.push(SchemaReport { tool: remote.to_owned(), repairs: Vec::new(), excluded: Some(reason) });
                continue;
            }
        };
        if !repairs.is_empty() {
            reports.push(SchemaReport { tool: remote.to_owned(), repairs, excluded: None });
        }
        let wire = names.map(remote);
        server_names.insert(wire.clone(), remote.to_owned());
        let description = listed.description.as_deref().unwrap_or_default();
        let tool = McpTool {
            connection: connection.clone(),
            definition: ToolDefinition::new(wire, description, parameters),
            remote_name: Arc::from(remote),
        };
        // Names are unique and valid by construction; a failure here would be a bug in the mapper.
        if let Err(error) = tools.insert(Arc::new(tool)) {
            tracing::error!(server = %connection.label(), "MCP tool skipped: {error}");
        }
    }
    Snapshot { tools: Arc::new(tools), server_names, reports }
}

async fn refresh(shared: &Shared) -> Result<(), McpError> {
    let label = shared.connection.label();
    let listed = shared.connection.peer().list_all_tools().await.map_err(|error| McpError::ListTools {
        server: label.to_owned(),
        message: shared.connection.describe(&error),
    })?;
    let snapshot = build(&shared.connection, &shared.filter, listed);
    *shared.snapshot.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = snapshot;
    Ok(())
}

/// Lists the tools again whenever the server announces a change, until the connection is dropped (the handler,
/// which holds the sender, goes with it).
async fn watch(shared: Weak<Shared>, mut refreshes: mpsc::Receiver<()>) {
    while refreshes.recv().await.is_some() {
        let Some(shared) = shared.upgrade() else { return };
        match refresh(&shared).await {
            Ok(()) => {
                shared.changes.fetch_add(1, Ordering::AcqRel);
                tracing::debug!(server = %shared.connection.label(), "MCP tool list changed");
            }
            Err(error) => tracing::warn!("{error}"),
        }
    }
}

/// On 2026-07-28 sessions list changes arrive only on a subscription (`subscriptions/listen`); it ends with
/// the transport.
async fn subscribe(peer: Peer<RoleClient>, refresh: mpsc::Sender<()>) {
    let filter = SubscriptionFilter::builder().tools_list_changed().build();
    let mut subscription = match peer.listen(filter).await {
        Ok(subscription) => subscription,
        Err(error) => {
            tracing::warn!("could not subscribe to MCP tool list changes: {error}");
            return;
        }
    };
    while let Ok(Some(notification)) = subscription.next().await {
        if matches!(notification, ServerNotification::ToolListChangedNotification(_)) {
            let _ = refresh.try_send(());
        }
    }
}
