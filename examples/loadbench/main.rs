//! Load benchmark, measured the way a user pays: the model server runs in **its own process**, and only the
//! client process is measured. Two clients run the same two-turn tool run (user → one call of `add` → the
//! tool runs → final answer) with byte-identical requests: toolsmith's `Agent`, and the floor, a hand-written
//! reqwest + serde loop with typed structs and a `memchr` event split (`floor.rs`).
//!
//! ```text
//! cargo build --release --example loadbench
//! target/release/examples/loadbench report            # everything below, as Markdown tables (~10 min)
//! target/release/examples/loadbench report --quick    # a smoke run (CI)
//! target/release/examples/loadbench serve [--port P]  # the model server alone
//! target/release/examples/loadbench client --side toolsmith|floor --mode json|stream --url URL \
//!     [--runs N] [--concurrency C] [--warmup W] [--model M] [--in-flight] [--probe]
//! ```
//!
//! toolsmith's tool is an `async fn` (run in place, as the floor runs its tool); `--sync-tool` uses the same
//! tool as a sync `fn`, which toolsmith runs on the blocking pool (a thread hand-off per call), and
//! `--inline-tool` the sync `fn` with `#[tool(inline)]`, run in place.
//!
//! `report` starts the server, checks both clients send the same bytes, then measures per mode (JSON,
//! streamed) and concurrency (1, 64): runs/s as medians of alternating pairs of client processes, the
//! client's CPU time per run (all its threads, user and kernel, over the measured runs: steadier than runs/s
//! on a shared machine), p50/p99 latency, peak RSS; instructions per run under `valgrind --tool=callgrind` on
//! the client process only, as the slope between N and 2N runs (start-up and warm-up cancel out); memory per
//! run with 10,000 runs in flight (the server holds each response 3 s); and the time from the server handing
//! the first text delta to the socket to the client's text event (`CLOCK_MONOTONIC`, shared by both
//! processes).

mod floor;
mod report;
mod server;

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use toolsmith::{Agent, AgentEvent, Client};

type BoxError = Box<dyn Error + Send + Sync>;

const MODEL: &str = "gpt-4o-mini";
const INSTRUCTIONS: &str = "You are a calculator. Use the tools.";
const PROMPT: &str = "What is 40 + 2?";
const ANSWER: &str = "40 + 2 = 42.";

/// The tool as a sync `fn`: toolsmith runs sync bodies on the blocking pool (`spawn_blocking`), so a slow
/// body cannot stall the runtime; that hand-off to another thread is part of each run.
mod sync_tool {
    /// Add two numbers.
    ///
    /// # Arguments
    /// * `a` - First number.
    /// * `b` - Second number.
    #[toolsmith::tool]
    pub fn add(a: i64, b: i64) -> i64 {
        a + b
    }
}

/// The sync tool with `#[tool(inline)]`: run in place, no thread hand-off.
mod inline_tool {
    /// Add two numbers.
    ///
    /// # Arguments
    /// * `a` - First number.
    /// * `b` - Second number.
    #[toolsmith::tool(inline)]
    pub fn add(a: i64, b: i64) -> i64 {
        a + b
    }
}

/// The same tool (same name, same schema, same request bytes) as an `async fn`, run in place like the floor
/// runs its tool: what is left is the client's own cost.
mod async_tool {
    /// Add two numbers.
    ///
    /// # Arguments
    /// * `a` - First number.
    /// * `b` - Second number.
    #[toolsmith::tool]
    pub async fn add(a: i64, b: i64) -> i64 {
        a + b
    }
}

/// The first text delta's latency, when probing.
#[derive(Default)]
pub struct Probe {
    active: bool,
    latency_ns: Option<u64>,
}

impl Probe {
    fn pending(&self) -> bool {
        self.active && self.latency_ns.is_none()
    }

    /// The server wrote its clock as the text; `now` is the client's clock when its text event came.
    fn text_arrived(&mut self, text: &str, now: u64) {
        if let Ok(sent) = text.trim().parse::<u64>() {
            self.latency_ns = Some(now.saturating_sub(sent));
        }
    }
}

/// `CLOCK_MONOTONIC` in nanoseconds: one clock for every process on the machine.
fn monotonic_ns() -> u64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `clock_gettime` writes the one struct we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// Which form of the `add` tool toolsmith runs.
#[derive(Clone, Copy)]
enum ToolKind {
    Async,
    Sync,
    Inline,
}

enum Side {
    Toolsmith(Agent),
    Floor(floor::Floor),
}

impl Side {
    fn new(name: &str, base_url: &str, model: &str, tool: ToolKind) -> Result<Side, BoxError> {
        Ok(match name {
            "toolsmith" => {
                let client = Client::builder()
                    .base_url(base_url)
                    .api_key("sk-bench")
                    .header("x-bench-side", "toolsmith")
                    .build()?;
                let builder = Agent::builder(client, model).instructions(INSTRUCTIONS);
                let builder = match tool {
                    ToolKind::Async => builder.tool(async_tool::add),
                    ToolKind::Sync => builder.tool(sync_tool::add),
                    ToolKind::Inline => builder.tool(inline_tool::add),
                };
                Side::Toolsmith(builder.build())
            }
            "floor" => Side::Floor(floor::Floor::new(base_url, model)?),
            other => return Err(format!("unknown side {other:?} (toolsmith or floor)").into()),
        })
    }

    async fn run(&self, stream: bool, probe: &mut Probe) -> Result<String, BoxError> {
        match self {
            Side::Floor(floor) => floor.run(stream, probe).await,
            Side::Toolsmith(agent) if !stream => Ok(agent.run(PROMPT).await?.output),
            Side::Toolsmith(agent) => {
                let mut events = agent.stream(PROMPT);
                let mut output = None;
                while let Some(event) = events.next().await {
                    match event? {
                        AgentEvent::TextDelta(text) if probe.pending() => probe.text_arrived(&text, monotonic_ns()),
                        AgentEvent::Done(result) => output = Some(result.output),
                        _ => {}
                    }
                }
                output.ok_or_else(|| "the stream ended without Done".into())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// The client process.

struct ClientOptions {
    side: String,
    stream: bool,
    url: String,
    runs: usize,
    concurrency: usize,
    warmup: usize,
    model: String,
    in_flight: bool,
    probe: bool,
    tool: ToolKind,
}

/// CPU time spent so far by the process's threads, in nanoseconds (`/proc/self/task/*/schedstat`: time on a
/// CPU, user and kernel). A thread that ended takes its time with it; the runtime's workers live to the end.
fn cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0 };
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Raises the open-file limit towards `wanted`: every run in flight holds a socket.
fn raise_fd_limit(wanted: u64) -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `getrlimit`/`setrlimit` read and write the one struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        let target = wanted.min(limit.rlim_max);
        if limit.rlim_cur < target {
            let raised = libc::rlimit { rlim_cur: target, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return target;
            }
        }
        limit.rlim_cur
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn client(options: ClientOptions) -> Result<(), BoxError> {
    raise_fd_limit(65_536);
    let side = Arc::new(Side::new(&options.side, &options.url, &options.model, options.tool)?);
    let stream = options.stream;
    let check = |output: &str| -> Result<(), BoxError> {
        if output != ANSWER && !options.probe {
            return Err(format!("unexpected answer {output:?}").into());
        }
        Ok(())
    };
    for _ in 0..options.warmup {
        check(&side.run(stream, &mut Probe::default()).await?)?;
    }
    let rss_before = status_kb("VmRSS:");
    // The peak from here on (Linux ≥ 4.0 resets VmHWM on this write).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let started = Instant::now();
    let cpu_before = cpu_ns();
    let mut latencies = Vec::with_capacity(options.runs);
    let mut probes = Vec::new();
    if options.in_flight {
        // Every run at once.
        let tasks: Vec<_> = (0..options.runs)
            .map(|_| {
                let side = side.clone();
                tokio::spawn(async move { side.run(stream, &mut Probe::default()).await })
            })
            .collect();
        for task in tasks {
            check(&task.await??)?;
        }
    } else {
        let next = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..options.concurrency.min(options.runs).max(1))
            .map(|_| {
                let (side, next, probe) = (side.clone(), next.clone(), options.probe);
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut probes = Vec::new();
                    while next.fetch_add(1, Ordering::Relaxed) < options.runs {
                        let mut sample = Probe { active: probe, latency_ns: None };
                        let begun = Instant::now();
                        let output = side.run(stream, &mut sample).await?;
                        latencies.push(begun.elapsed());
                        probes.extend(sample.latency_ns);
                        if output != ANSWER && !probe {
                            return Err::<_, BoxError>(format!("unexpected answer {output:?}").into());
                        }
                    }
                    Ok((latencies, probes))
                })
            })
            .collect();
        for worker in workers {
            let (l, p) = worker.await??;
            latencies.extend(l);
            probes.extend(p);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu_us_per_run = cpu_ns().saturating_sub(cpu_before) as f64 / 1000.0 / options.runs as f64;
    latencies.sort_unstable();
    probes.sort_unstable();
    let peak = status_kb("VmHWM:");
    let probe_at = |p: f64| probes.get(((probes.len().max(1) - 1) as f64 * p).round() as usize).copied().unwrap_or(0);
    let result = serde_json::json!({
        "runs": options.runs,
        "secs": secs,
        "runs_per_s": options.runs as f64 / secs,
        "cpu_us_per_run": cpu_us_per_run,
        "p50_us": percentile(&latencies, 0.5).as_micros() as u64,
        "p99_us": percentile(&latencies, 0.99).as_micros() as u64,
        "rss_before_kb": rss_before,
        "peak_rss_kb": peak,
        "kb_per_run": peak.saturating_sub(rss_before) as f64 / options.runs as f64,
        "probe_p50_ns": probe_at(0.5),
        "probe_p99_ns": probe_at(0.99),
        "probes": probes.len(),
    });
    println!("{result}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Command line.

fn value<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T, BoxError> {
    match args.iter().position(|a| a == name) {
        Some(at) => {
            args.get(at + 1).and_then(|v| v.parse().ok()).ok_or_else(|| format!("{name} needs a valid value").into())
        }
        None => Ok(default),
    }
}

fn flag(args: &[String], name: &str) -> bool {
    args.iter().any(|a| a == name)
}

const USAGE: &str = "\
loadbench: a two-turn tool run, toolsmith vs a hand-written floor, the model server in its own process.
  report [--quick] [--pairs P] [--runs-c1 N] [--runs-c64 N] [--callgrind-runs N] [--in-flight N] [--probes N]
  serve [--port P]
  client --side toolsmith|floor --mode json|stream --url URL [--runs N] [--concurrency C] [--warmup W]
         [--model M] [--in-flight] [--probe] [--sync-tool | --inline-tool]";

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match args.first().map(String::as_str) {
        Some("serve") => runtime.block_on(server::serve(value(&args, "--port", 0)?)),
        Some("client") => {
            let mode: String = value(&args, "--mode", "json".to_owned())?;
            let options = ClientOptions {
                side: value(&args, "--side", String::new())?,
                stream: match mode.as_str() {
                    "json" => false,
                    "stream" => true,
                    other => return Err(format!("unknown mode {other:?}").into()),
                },
                url: value(&args, "--url", String::new())?,
                runs: value(&args, "--runs", 1000)?,
                concurrency: value(&args, "--concurrency", 1)?,
                warmup: value(&args, "--warmup", 20)?,
                model: value(&args, "--model", MODEL.to_owned())?,
                in_flight: flag(&args, "--in-flight"),
                probe: flag(&args, "--probe"),
                tool: if flag(&args, "--sync-tool") {
                    ToolKind::Sync
                } else if flag(&args, "--inline-tool") {
                    ToolKind::Inline
                } else {
                    ToolKind::Async
                },
            };
            runtime.block_on(client(options))
        }
        Some("report") => runtime.block_on(report::report(&args)),
        _ => {
            eprintln!("{USAGE}");
            Err("no command".into())
        }
    }
}
