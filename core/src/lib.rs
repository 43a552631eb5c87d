//! The runtime of [toolsmith](https://docs.rs/toolsmith): Chat Completions wire types, the HTTP client
//! with streaming and retries, the [`Tool`](tool::Tool) trait and registry, and the agent loop.
//!
//! Depend on the `toolsmith` crate instead: it re-exports everything here together with the `#[tool]`
//! macros.
#![warn(missing_docs)]

pub mod agent;
pub mod client;
pub mod stream;
pub mod tool;
pub mod wire;
