//! The floor: the two-turn run written by hand, the way a careful engineer would for exactly this workload:
//! reqwest, serde with typed structs (no `serde_json::Value`), a `memchr` split of the event stream. It sends
//! the same request bytes as toolsmith (the driver checks this through the server before measuring).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{BoxError, INSTRUCTIONS, PROMPT, Probe, monotonic_ns};

/// The `tools` array, written once by hand (toolsmith derives the same bytes from `#[tool] fn add`).
pub const TOOLS: &str = r#"[{"type":"function","function":{"name":"add","description":"Add two numbers.","parameters":{"type":"object","properties":{"a":{"type":"integer","description":"First number."},"b":{"type":"integer","description":"Second number."}},"required":["a","b"]}}}]"#;

pub struct Floor {
    http: reqwest::Client,
    url: String,
    model: String,
    tools: Box<RawValue>,
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    messages: &'a [Message<'a>],
    tools: &'a RawValue,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum Message<'a> {
    System { content: &'a str },
    User { content: &'a str },
    Assistant { content: Option<&'a str>, tool_calls: Vec<OutCall> },
    Tool { tool_call_id: String, content: String },
}

#[derive(Serialize)]
struct OutCall {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    function: OutFunction,
}

#[derive(Serialize)]
struct OutFunction {
    name: String,
    arguments: String,
}

#[derive(Deserialize)]
struct Response {
    choices: Vec<Choice>,
    #[allow(dead_code)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
}

#[derive(Deserialize)]
struct Choice {
    message: InMessage,
}

#[derive(Deserialize)]
struct InMessage {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<InCall>,
}

#[derive(Deserialize)]
struct InCall {
    id: String,
    function: InFunction,
}

#[derive(Deserialize)]
struct InFunction {
    name: String,
    arguments: String,
}

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow)]
    choices: Vec<ChunkChoice<'a>>,
    #[allow(dead_code)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct ChunkChoice<'a> {
    #[serde(borrow)]
    delta: Delta<'a>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow)]
    content: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    tool_calls: Vec<CallDelta<'a>>,
}

#[derive(Deserialize)]
struct CallDelta<'a> {
    index: usize,
    #[serde(borrow)]
    id: Option<&'a str>,
    #[serde(borrow)]
    function: Option<FunctionDelta<'a>>,
}

#[derive(Deserialize)]
struct FunctionDelta<'a> {
    #[serde(borrow)]
    name: Option<&'a str>,
    #[serde(borrow)]
    arguments: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Deserialize)]
struct AddArgs {
    a: i64,
    b: i64,
}

fn call_tool(name: &str, arguments: &str) -> String {
    match (name, serde_json::from_str::<AddArgs>(arguments)) {
        ("add", Ok(args)) => (args.a + args.b).to_string(),
        (_, Err(error)) => format!("Error: {error}"),
        (other, _) => format!("Error: no tool {other}"),
    }
}

/// What one turn produced.
struct Turn {
    content: String,
    calls: Vec<InCall>,
}

impl Floor {
    pub fn new(base_url: &str, model: &str) -> Result<Floor, BoxError> {
        // reqwest 0.13 on rustls without a process-wide provider: the same TLS set-up as toolsmith's (unused
        // on this plain-HTTP benchmark, but a client cannot be built without one).
        let http = toolsmith::client::http_client_builder().build()?;
        Ok(Floor {
            http,
            url: format!("{base_url}/chat/completions"),
            model: model.to_owned(),
            tools: RawValue::from_string(TOOLS.to_owned())?,
        })
    }

    /// One two-turn run; returns the final text.
    pub async fn run(&self, stream: bool, probe: &mut Probe) -> Result<String, BoxError> {
        let mut messages = vec![Message::System { content: INSTRUCTIONS }, Message::User { content: PROMPT }];
        for _ in 0..10 {
            let request = Request {
                model: &self.model,
                messages: &messages,
                tools: &self.tools,
                stream,
                stream_options: stream.then_some(StreamOptions { include_usage: true }),
            };
            let body = serde_json::to_vec(&request)?;
            let response = self
                .http
                .post(&self.url)
                .header(reqwest::header::AUTHORIZATION, "Bearer sk-bench")
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header("x-bench-side", "floor")
                .body(body)
                .send()
                .await?
                .error_for_status()?;
            let turn = if stream { read_stream(response, probe).await? } else { read_json(response).await? };
            if turn.calls.is_empty() {
                return Ok(turn.content);
            }
            let results: Vec<Message<'_>> = turn
                .calls
                .iter()
                .map(|call| Message::Tool {
                    tool_call_id: call.id.clone(),
                    content: call_tool(&call.function.name, &call.function.arguments),
                })
                .collect();
            let calls = turn
                .calls
                .into_iter()
                .map(|call| OutCall {
                    id: call.id,
                    kind: "function",
                    function: OutFunction { name: call.function.name, arguments: call.function.arguments },
                })
                .collect();
            messages.push(Message::Assistant { content: None, tool_calls: calls });
            messages.extend(results);
        }
        Err("too many turns".into())
    }
}

async fn read_json(response: reqwest::Response) -> Result<Turn, BoxError> {
    let bytes = response.bytes().await?;
    let response: Response = serde_json::from_slice(&bytes)?;
    let message = response.choices.into_iter().next().ok_or("no choice")?.message;
    Ok(Turn { content: message.content.unwrap_or_default(), calls: message.tool_calls })
}

async fn read_stream(mut response: reqwest::Response, probe: &mut Probe) -> Result<Turn, BoxError> {
    let finder = memchr::memmem::Finder::new(b"\n\n");
    let mut buffer: Vec<u8> = Vec::new();
    let mut turn = Turn { content: String::new(), calls: Vec::new() };
    while let Some(bytes) = response.chunk().await? {
        buffer.extend_from_slice(&bytes);
        let mut start = 0;
        while let Some(end) = finder.find(&buffer[start..]) {
            let event = &buffer[start..start + end];
            start += end + 2;
            let Some(data) = event.strip_prefix(b"data: ") else { continue };
            if data == b"[DONE]" {
                return Ok(turn);
            }
            let chunk: Chunk<'_> = serde_json::from_slice(data)?;
            for choice in chunk.choices {
                if let Some(text) = choice.delta.content {
                    if !text.is_empty() && probe.pending() {
                        probe.text_arrived(&text, monotonic_ns());
                    }
                    turn.content.push_str(&text);
                }
                for fragment in choice.delta.tool_calls {
                    if turn.calls.len() <= fragment.index {
                        turn.calls.resize_with(fragment.index + 1, || InCall {
                            id: String::new(),
                            function: InFunction { name: String::new(), arguments: String::new() },
                        });
                    }
                    let slot = &mut turn.calls[fragment.index];
                    if let Some(id) = fragment.id {
                        slot.id.push_str(id);
                    }
                    if let Some(function) = fragment.function {
                        if let Some(name) = function.name {
                            slot.function.name.push_str(name);
                        }
                        if let Some(arguments) = function.arguments {
                            slot.function.arguments.push_str(&arguments);
                        }
                    }
                }
            }
        }
        buffer.drain(..start);
    }
    Ok(turn)
}
