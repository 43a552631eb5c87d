//! The server direction: a [`ToolSet`] served to any MCP client.

mod handler;

use std::fmt;
use std::sync::Arc;

use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpService;
use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use tokio::net::TcpListener;
use toolsmith_core::tool::{RunContext, ToolSet};

use crate::McpError;

use handler::Handler;

/// The path [`McpServer::serve_http`] serves MCP on.
pub const MCP_PATH: &str = "/mcp";

/// A [`ToolSet`] served over MCP: the same `#[tool]` functions and `#[toolbox]` values an agent uses, with the
/// same schemas, the same argument decoding and the same error texts. A tool's `Err` and undecodable
/// arguments are `isError: true` results the client's model can read; a panicking tool is caught and
/// reported the same way; an unknown tool name is a JSON-RPC error (`-32602`), as the spec asks. Tools
/// receive a [`ToolContext`](toolsmith_core::tool::ToolContext) whose call id is the request id and whose
/// values come from [`McpServer::context`].
///
/// ```no_run
/// # async fn demo(tools: toolsmith_core::tool::ToolSet) -> Result<(), toolsmith_mcp::McpError> {
/// use toolsmith_mcp::McpServer;
///
/// McpServer::new(tools).name("weather").instructions("Ask for the weather by city.").serve_stdio().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct McpServer {
    inner: Arc<Settings>,
}

pub(crate) struct Settings {
    pub(crate) tools: ToolSet,
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) instructions: Option<String>,
    pub(crate) context: RunContext,
    allowed_hosts: Option<Vec<String>>,
}

impl McpServer {
    /// Serves `tools`, named `toolsmith` with this crate's version until set otherwise.
    pub fn new(tools: ToolSet) -> Self {
        McpServer {
            inner: Arc::new(Settings {
                tools,
                name: "toolsmith".to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                instructions: None,
                context: RunContext::default(),
                allowed_hosts: None,
            }),
        }
    }

    fn settings(&mut self) -> &mut Settings {
        Arc::get_mut(&mut self.inner).expect("settings are only changed before the server is shared")
    }

    /// The server name sent in the handshake (`serverInfo.name`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.settings().name = name.into();
        self
    }

    /// The server version sent in the handshake (`serverInfo.version`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.settings().version = version.into();
        self
    }

    /// Instructions for the client's model, sent in the handshake.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.settings().instructions = Some(instructions.into());
        self
    }

    /// Values the tools read through `ToolContext::get`, as an agent's `RunContext` gives them.
    pub fn context(mut self, context: RunContext) -> Self {
        self.settings().context = context;
        self
    }

    /// The `Host` header values the HTTP server accepts (default: loopback names only, which guards a local
    /// server against DNS rebinding). Give your public host names when serving beyond this machine.
    pub fn allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings().allowed_hosts = Some(hosts.into_iter().map(Into::into).collect());
        self
    }

    /// The tools served.
    pub fn tools(&self) -> &ToolSet {
        &self.inner.tools
    }

    /// Serves one client on this process's stdin and stdout until the client closes stdin. Write logs to
    /// stderr: stdout carries the protocol.
    pub async fn serve_stdio(self) -> Result<(), McpError> {
        self.serve_io(tokio::io::stdin(), tokio::io::stdout()).await
    }

    /// Serves one client on any byte stream pair until `reader` ends.
    pub async fn serve_io<R, W>(self, reader: R, writer: W) -> Result<(), McpError>
    where
        R: tokio::io::AsyncRead + Send + Unpin + 'static,
        W: tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        let running = Handler::new(self.inner)
            .serve((reader, writer))
            .await
            .map_err(|error| McpError::Serve(format!("the MCP handshake failed: {error}")))?;
        running
            .waiting()
            .await
            .map_err(|error| McpError::Serve(format!("the MCP session ended abnormally: {error}")))?;
        Ok(())
    }

    /// The Streamable HTTP endpoint as a tower service, to mount at the path of your choice
    /// (`Router::new().nest_service("/mcp", server.http_service())`).
    pub fn http_service(&self) -> StreamableHttpService<impl rmcp::ServerHandler + use<>, LocalSessionManager> {
        let mut config = StreamableHttpServerConfig::default();
        if let Some(hosts) = &self.inner.allowed_hosts {
            config = config.with_allowed_hosts(hosts.clone());
        }
        let settings = self.inner.clone();
        StreamableHttpService::new(move || Ok(Handler::new(settings.clone())), Default::default(), config)
    }

    /// An axum router serving MCP at [`MCP_PATH`] (`/mcp`), to merge into an existing app.
    pub fn router(&self) -> axum::Router {
        axum::Router::new().nest_service(MCP_PATH, self.http_service())
    }

    /// Serves MCP over Streamable HTTP at `http://<listener address>/mcp` until the process ends.
    ///
    /// ```no_run
    /// # async fn demo(server: toolsmith_mcp::McpServer) -> Result<(), Box<dyn std::error::Error>> {
    /// server.serve_http(tokio::net::TcpListener::bind("127.0.0.1:3001").await?).await?;
    /// # Ok(()) }
    /// ```
    pub async fn serve_http(self, listener: TcpListener) -> Result<(), McpError> {
        axum::serve(listener, self.router()).await.map_err(|error| McpError::Serve(error.to_string()))
    }
}

impl fmt::Debug for McpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpServer")
            .field("name", &self.inner.name)
            .field("version", &self.inner.version)
            .field("tools", &self.inner.tools)
            .finish_non_exhaustive()
    }
}
