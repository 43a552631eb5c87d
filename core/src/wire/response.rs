//! The non-streaming response body (`object: "chat.completion"`).

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::chunk::lenient_opt_string;
use super::finish_reason::{FinishReason, lenient_finish_reason};
use super::message::{AssistantMessage, null_as_default};
use super::usage::{Usage, lenient_usage};
use super::{lenient_index, lenient_string};

/// A complete Chat Completions response.
///
/// Decoding tolerates what real providers send: unknown fields (kept in `extra`), missing `id`/`model`/
/// `created`, `null` choices, an unknown or missing `finish_reason` (Q2, Q3).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The completion id (`chatcmpl-...`); `""` when missing.
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: String,
    /// `"chat.completion"`.
    #[serde(default = "completion_object", deserialize_with = "lenient_string")]
    pub object: String,
    /// Unix seconds.
    #[serde(default, deserialize_with = "null_as_default")]
    pub created: u64,
    /// The model that answered (may differ from the requested id).
    #[serde(default, deserialize_with = "lenient_string")]
    pub model: String,
    /// The choices; toolsmith reads the first.
    #[serde(default, deserialize_with = "null_as_default")]
    pub choices: Vec<Choice>,
    /// Token usage, when reported.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_usage")]
    pub usage: Option<Usage>,
    /// Backend configuration fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// The service tier that answered (OpenAI: `default`, `flex`, `priority`...); `None` when missing or not a
    /// string.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_string")]
    pub service_tier: Option<String>,
    /// Unknown fields (`provider`, `prompt_filter_results`...), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatResponse {
    /// Decodes a response body: the usual shape directly, anything else through the lenient decoder. The
    /// same result as `serde_json::from_slice`, several times faster on what servers normally send.
    pub fn from_slice(bytes: &[u8]) -> Result<ChatResponse, serde_json::Error> {
        match super::fast::response(bytes) {
            Some(response) => Ok(response),
            None => serde_json::from_slice(bytes),
        }
    }
}

fn completion_object() -> String {
    "chat.completion".to_owned()
}

/// One choice of a [`ChatResponse`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// The choice's position; `0` when missing.
    #[serde(default, deserialize_with = "lenient_index")]
    pub index: u32,
    /// The assistant message (written back with `"role":"assistant"`).
    #[serde(default, serialize_with = "assistant_with_role", deserialize_with = "null_as_default")]
    pub message: AssistantMessage,
    /// Why the model stopped; `None` when missing, `null` or `""` (Q3).
    #[serde(default, deserialize_with = "lenient_finish_reason")]
    pub finish_reason: Option<FinishReason>,
    /// Log probabilities, when requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
    /// Unknown fields (`native_finish_reason`, `content_filter_results`...), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

pub(crate) fn assistant_with_role<S: Serializer>(message: &AssistantMessage, serializer: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct WithRole<'a> {
        role: &'static str,
        #[serde(flatten)]
        message: &'a AssistantMessage,
    }
    WithRole { role: "assistant", message }.serialize(serializer)
}
