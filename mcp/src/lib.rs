//! Model Context Protocol for toolsmith, on the official Rust SDK ([`rmcp`]).
//!
//! **Client: an MCP server's tools in an agent.** [`McpClient`] connects to a server over stdio (it spawns the
//! command and kills it when the connection is dropped) or Streamable HTTP, lists its tools and gives them as
//! [`McpTools`]: a [`ToolSource`](toolsmith_core::tool::ToolSource) the agent reads at every turn, so the
//! server's `notifications/tools/list_changed` reach the model from the next turn on.
//!
//! ```no_run
//! # async fn demo(client: toolsmith_core::client::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use toolsmith_core::agent::Agent;
//! use toolsmith_mcp::McpClient;
//!
//! let everything = McpClient::stdio("npx")
//!     .args(["-y", "@modelcontextprotocol/server-everything"])
//!     .prefix("everything")
//!     .connect()
//!     .await?;
//! let agent = Agent::builder(client, "gpt-4o-mini")
//!     .instructions(everything.instructions().unwrap_or("You are a helpful assistant."))
//!     .tools(everything.clone())
//!     .build();
//! let run = agent.run("Add 2 and 3.").await?;
//! # Ok(()) }
//! ```
//!
//! **Server: a [`ToolSet`](toolsmith_core::tool::ToolSet) to any MCP client.** [`McpServer`] serves the same
//! tools an agent uses over stdio ([`McpServer::serve_stdio`]) or Streamable HTTP ([`McpServer::router`] to
//! mount in an axum app, [`McpServer::serve_http`] for the common case), with the same schemas, argument
//! decoding and error texts.

mod client;
mod error;
mod server;

pub use client::{DEFAULT_CALL_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, McpClient, McpTools, SchemaReport, ServerDetails};
pub use error::McpError;
pub use server::{MCP_PATH, McpServer};

/// The official Rust SDK this crate is built on, for what this crate does not wrap.
pub use rmcp;
