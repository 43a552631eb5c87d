//! Errors of connecting to and serving MCP.

/// Why an MCP connection or server could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// The server's command could not be started (not found, not executable, ...).
    #[error("could not start the MCP server `{command}`: {source}")]
    Spawn {
        /// The command, as given.
        command: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The server did not complete the MCP handshake: it exited, refused the connection, or answered wrongly.
    #[error("could not connect to the MCP server `{server}`: {message}")]
    Connect {
        /// The server's label (its command or URL).
        server: String,
        /// What went wrong, with the end of the server's stderr for a spawned server.
        message: String,
    },
    /// The server connected but listing its tools failed.
    #[error("could not list the tools of the MCP server `{server}`: {message}")]
    ListTools {
        /// The server's label.
        server: String,
        /// What went wrong.
        message: String,
    },
    /// A setting is invalid (a prefix or a header that cannot be sent).
    #[error("invalid MCP setting: {0}")]
    Config(String),
    /// Serving failed (the listener, stdio, or the transport).
    #[error("MCP server error: {0}")]
    Serve(String),
}
