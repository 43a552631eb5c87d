// The README is the crate's front page, and its Rust examples run as doctests.
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

extern crate self as toolsmith;

pub use toolsmith_core::*;
pub use toolsmith_macros::{tool, toolbox};

/// An in-process OpenAI-compatible server for tests and demos: scripted replies or a built-in test model
/// (the `toolsmith-testing` crate, behind the `testing` feature).
#[cfg(feature = "testing")]
pub use toolsmith_testing as testing;

pub use toolsmith_core::tool::{
    RunContext, Tool, ToolContext, ToolDefinition, ToolError, ToolSet, ToolSetError, Toolbox, schema_for,
};

pub use toolsmith_core::agent::{
    Agent, AgentBuilder, AgentEvent, Approval, BeforeToolCall, Error, RunResult, RunStream, Session, ToolCallRecord,
    ToolOutcome, Transcript,
};
pub use toolsmith_core::client::{Client, ClientBuilder, ClientError, Profile};
pub use toolsmith_core::stream::{Accumulator, Completion};
pub use toolsmith_core::wire::{ChatChunk, ChatRequest, ChatResponse, FinishReason, ResponseFormat, ToolChoice, Usage};
pub use toolsmith_core::wire::{Message, ToolCall};

/// Model Context Protocol: MCP servers' tools in an [`Agent`], and a [`ToolSet`] served as an MCP server.
#[cfg(feature = "mcp")]
#[doc(inline)]
pub use toolsmith_mcp as mcp;

/// Durable runs on Restate (feature `restate`): see the README's "Durable runs" section.
#[cfg(feature = "restate")]
#[doc(inline)]
pub use toolsmith_restate as restate;

#[doc(hidden)]
pub mod __private {
    pub use schemars;
    pub use serde;
    pub use serde_json;
    pub use toolsmith_core;

    // What `#[tool]` / `#[toolbox]` expansions name, so they depend on nothing the user has to list.
    pub use std::boxed::Box;
    pub use std::future::Future;
    pub use std::ops::Deref;
    pub use std::pin::Pin;
    pub use std::result::Result;
    pub use std::string::String;
    pub use std::sync::{Arc, OnceLock};
    pub use std::vec::Vec;
    pub use toolsmith_core::tool::{
        Tool, ToolContext, ToolDefinition, ToolError, ToolOutput, ToolParameter, ToolResult, Toolbox, assert_parameter,
        decode_arguments, definition_for, run_blocking,
    };
}
