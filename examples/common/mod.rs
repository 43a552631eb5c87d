//! What every example shares: choosing the endpoint and printing a run.
//!
//! Endpoint, in this order:
//! - `OPENAI_BASE_URL` (any OpenAI-compatible server; `OPENAI_API_KEY` or `MINTCLOUD_API_KEY` if it needs
//!   one) or `OPENAI_API_KEY` alone (api.openai.com);
//! - `MINTCLOUD_API_KEY` (MintCloud, `MINTCLOUD_BASE_URL` to override its base URL);
//! - nothing set: the built-in test model of `toolsmith::testing`, in-process and offline.
//!
//! The model is `TOOLSMITH_MODEL`, else `openai/gpt-4o-mini` on MintCloud and `gpt-4o-mini` elsewhere.

// Each example uses part of this module.
#![allow(dead_code)]

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use toolsmith::client::{MINTCLOUD_BASE_URL, OPENAI_BASE_URL};
use toolsmith::testing::TestServer;
use toolsmith::{AgentEvent, Client, Error, Profile, RunResult, ToolCallRecord, ToolOutcome};

/// The client and model an example talks to.
pub struct Endpoint {
    pub client: Client,
    pub model: String,
    /// The in-process test model when no endpoint is configured; it stops when dropped.
    _server: Option<TestServer>,
}

/// Picks the endpoint from the environment, or starts the built-in test model. Says which on stderr, in
/// one line.
pub async fn endpoint() -> Result<Endpoint, Box<dyn std::error::Error>> {
    let var = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let openai_key = var("OPENAI_API_KEY");
    let mint_key = var("MINTCLOUD_API_KEY");
    let base_url = match (var("OPENAI_BASE_URL"), &openai_key, &mint_key) {
        (Some(base), _, _) => base,
        (None, Some(_), _) => OPENAI_BASE_URL.to_owned(),
        (None, None, Some(_)) => var("MINTCLOUD_BASE_URL").unwrap_or_else(|| MINTCLOUD_BASE_URL.to_owned()),
        (None, None, None) => {
            let server = TestServer::test_model().await?;
            let model = var("TOOLSMITH_MODEL").unwrap_or_else(|| "test-model".to_owned());
            eprintln!(
                "{}",
                paint(
                    Style::Dim,
                    &format!(
                        "no OPENAI_BASE_URL, OPENAI_API_KEY or MINTCLOUD_API_KEY set: using toolsmith's built-in \
                         test model at {} (offline, deterministic)",
                        server.base_url()
                    ),
                )
            );
            return Ok(Endpoint { client: server.client(), model, _server: Some(server) });
        }
    };
    let api_key = openai_key.or(mint_key).unwrap_or_default();
    let default_model = if base_url.contains("mintcloud") { "openai/gpt-4o-mini" } else { "gpt-4o-mini" };
    let model = var("TOOLSMITH_MODEL").unwrap_or_else(|| default_model.to_owned());
    let client = Client::builder()
        .base_url(base_url.clone())
        .api_key(api_key)
        .profile(Profile::for_base_url(&base_url))
        .build()?;
    eprintln!("{}", paint(Style::Dim, &format!("using {model} at {base_url}")));
    Ok(Endpoint { client, model, _server: None })
}

#[derive(Clone, Copy)]
pub enum Style {
    Dim,
    Bold,
    Cyan,
    Green,
    Red,
    Yellow,
}

/// `text` in `style` when stdout is a terminal and `NO_COLOR` is unset; plain otherwise.
pub fn paint(style: Style, text: &str) -> String {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    if !color {
        return text.to_owned();
    }
    let code = match style {
        Style::Dim => "2",
        Style::Bold => "1",
        Style::Cyan => "36",
        Style::Green => "32",
        Style::Red => "31",
        Style::Yellow => "33",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// Prints a run's events as they arrive: text as it streams, one line per tool call start and finish.
#[derive(Default)]
pub struct Printer {
    /// Whether the cursor is mid-line (streamed text without its newline yet).
    mid_line: bool,
}

impl Printer {
    pub fn event(&mut self, event: &AgentEvent) {
        match event {
            AgentEvent::TextDelta(text) => {
                print!("{text}");
                self.mid_line = !text.ends_with('\n');
            }
            AgentEvent::ToolCallStarted { name, arguments, .. } => {
                self.line(&call_started(name, arguments));
            }
            AgentEvent::ToolCallFinished { name, result, outcome, duration, .. } => {
                self.line(&call_finished(name, result, *outcome, *duration));
            }
            _ => {}
        }
        let _ = std::io::stdout().flush();
    }

    /// Ends the streamed text's line, if it is open.
    pub fn end_line(&mut self) {
        if self.mid_line {
            println!();
            self.mid_line = false;
        }
    }

    fn line(&mut self, text: &str) {
        self.end_line();
        println!("{text}");
    }
}

/// Drives a streamed run (`agent.stream(..)` or `session.send_streamed(..)`), printing it, and returns the
/// result.
pub async fn print_stream<S>(events: S) -> Result<RunResult, Box<dyn std::error::Error>>
where
    S: Stream<Item = Result<AgentEvent, Error>>,
{
    let mut events = std::pin::pin!(events);
    let mut printer = Printer::default();
    let started = Instant::now();
    while let Some(event) = events.next().await {
        match event {
            Ok(AgentEvent::Done(result)) => {
                printer.end_line();
                println!("{}", summary(&result, started.elapsed()));
                return Ok(*result);
            }
            Ok(event) => printer.event(&event),
            Err(error) => {
                printer.end_line();
                return Err(error.into());
            }
        }
    }
    Err("the run ended without a result".into())
}

/// Prints a finished (not streamed) run: its tool calls, the answer and the summary line.
pub fn print_run(result: &RunResult, elapsed: Duration) {
    for call in &result.tool_calls {
        print_record(call);
    }
    println!("{}", result.output.trim_end());
    println!("{}", summary(result, elapsed));
}

/// The two lines of one tool call: what the model asked for and what it got.
pub fn print_record(call: &ToolCallRecord) {
    println!("{}", call_started(&call.name, &call.arguments));
    println!("{}", call_finished(&call.name, &call.result, call.outcome, call.duration));
}

fn call_started(name: &str, arguments: &str) -> String {
    format!("{} {} {}", paint(Style::Cyan, "→"), paint(Style::Bold, name), one_line(arguments, 160))
}

fn call_finished(name: &str, result: &str, outcome: ToolOutcome, duration: Duration) -> String {
    // The result text already says what went wrong ("Error: ...", "The call ... was not run: ..."): only
    // the colour tells the outcome.
    let style = match outcome {
        ToolOutcome::Success => Style::Green,
        ToolOutcome::Denied => Style::Yellow,
        _ => Style::Red,
    };
    let result = one_line(result, 160);
    let result = if matches!(outcome, ToolOutcome::Success) { result } else { paint(style, &result) };
    let took = paint(Style::Dim, &format!("({})", human(duration)));
    format!("{} {} {result} {took}", paint(style, "←"), paint(Style::Bold, name))
}

/// `── 2 turns · 2 tool calls · 1234 tokens · 0.4 s`
pub fn summary(result: &RunResult, elapsed: Duration) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut parts = vec![plural(result.turns, "turn"), plural(result.tool_calls.len(), "tool call")];
    if result.usage.total_tokens > 0 {
        parts.push(format!("{} tokens", result.usage.total_tokens));
    }
    parts.push(human(elapsed));
    paint(Style::Dim, &format!("── {}", parts.join(" · ")))
}

fn human(duration: Duration) -> String {
    if duration < Duration::from_millis(1) {
        format!("{} µs", duration.as_micros())
    } else if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

/// `text` on one line, cut at `limit` characters.
fn one_line(text: &str, limit: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}
