//! toolsmith: hand your Rust functions to a large language model.
#![warn(missing_docs)]

extern crate self as toolsmith;

pub use toolsmith_core::*;
pub use toolsmith_macros::{tool, toolbox};

pub use toolsmith_core::client::{Client, ClientBuilder, ClientError, Profile};
pub use toolsmith_core::stream::{Accumulator, Completion};
pub use toolsmith_core::wire::{ChatChunk, ChatRequest, ChatResponse, FinishReason, ResponseFormat, ToolChoice, Usage};

#[doc(hidden)]
pub mod __private {
    pub use schemars;
    pub use serde;
    pub use serde_json;
    pub use toolsmith_core;
}
