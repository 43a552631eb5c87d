//! Load benchmark: complete two-turn tool-calling runs (user → one tool call → the tool runs → final answer)
//! through `toolsmith::Agent`, and the same HTTP requests through a minimal hand-written reqwest + serde_json
//! loop, against the in-process `toolsmith::testing::TestServer` on 127.0.0.1.
//!
//! The server, toolsmith and the hand-written loop share one process and one tokio runtime, so on a 2-core
//! machine they share 2 cores: the figures are the cost of client *and* server.
//!
//! ```text
//! cargo run --release --example loadbench -- --runs 2000 --concurrency 64 [--stream] [--rounds 5]
//! cargo run --release --example loadbench -- --matrix            # concurrency 1 and 64, streamed and not
//! cargo run --release --example loadbench -- --in-flight 10000 --hold 3   # memory at scale
//! cargo run --release --example loadbench -- --parallel-tools    # 8 calls of 200 ms in one turn
//! cargo run --release --example loadbench -- --only toolsmith|hand --runs 500 [--stream]   # one side alone
//! ```
//!
//! The binary raises its own open-file limit (`RLIMIT_NOFILE`) as far as the hard limit allows (root may raise
//! the hard limit too), so no `ulimit -n` is needed for 10,000 runs in flight.

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use toolsmith::testing::{Reply, TestServer};
use toolsmith::{Agent, AgentEvent, Client, ToolCall};

type BoxError = Box<dyn Error + Send + Sync>;

const USAGE: &str = "\
loadbench: two-turn tool-calling runs, toolsmith vs a hand-written reqwest + serde_json loop, same process.
  --runs N --concurrency C [--stream] [--rounds R]   one configuration (default 2000 runs, concurrency 1, 5 rounds)
  --matrix                                          concurrency 1 and 64, plain and streamed
  --only toolsmith|hand                             one side alone (e.g. under valgrind --tool=callgrind)
  --in-flight N [--hold SECONDS] [--stream]         memory with N runs in flight, each response held (default 3 s)
  --parallel-tools                                  one turn with 8 tool calls of 200 ms each";

const MODEL: &str = "gpt-4o-mini";
const INSTRUCTIONS: &str = "You are a calculator. Use the tools.";
const PROMPT: &str = "What is 40 + 2?";
const ANSWER: &str = "40 + 2 = 42.";

/// Add two numbers.
///
/// # Arguments
/// * `a` - First number.
/// * `b` - Second number.
#[toolsmith::tool]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Rest for a while, then say so.
///
/// # Arguments
/// * `ms` - How long to rest, in milliseconds.
#[toolsmith::tool]
async fn nap(ms: u64) -> String {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    "rested".to_owned()
}

// ---------------------------------------------------------------------------------------------------------
// The two clients.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Toolsmith,
    Hand,
}

impl Side {
    fn label(self) -> &'static str {
        match self {
            Side::Toolsmith => "toolsmith",
            Side::Hand => "hand-written",
        }
    }
}

/// Everything a run needs, shared by all tasks.
struct Clients {
    agent: Agent,
    http: reqwest::Client,
    url: String,
    /// The `tools` array the hand-written loop sends: the same bytes toolsmith sends.
    tools: Value,
}

impl Clients {
    fn new(base_url: &str) -> Result<Clients, BoxError> {
        let client = Client::builder().base_url(base_url).api_key("sk-test").build()?;
        let agent = Agent::builder(client, MODEL).instructions(INSTRUCTIONS).tool(add).tool(nap).build();
        let tools = serde_json::to_value(agent.definitions())?;
        Ok(Clients {
            agent,
            http: toolsmith::client::http_client_builder().build()?,
            url: format!("{base_url}/chat/completions"),
            tools,
        })
    }

    async fn run(&self, side: Side, stream: bool) -> Result<String, BoxError> {
        let output = match (side, stream) {
            (Side::Toolsmith, false) => self.agent.run(PROMPT).await?.output,
            (Side::Toolsmith, true) => {
                let mut events = self.agent.stream(PROMPT);
                let mut output = None;
                while let Some(event) = events.next().await {
                    if let AgentEvent::Done(result) = event? {
                        output = Some(result.output);
                    }
                }
                output.ok_or("the stream ended without Done")?
            }
            (Side::Hand, _) => hand::run(&self.http, &self.url, &self.tools, stream).await?,
        };
        if output != ANSWER {
            return Err(format!("unexpected answer {output:?}").into());
        }
        Ok(output)
    }
}

/// The floor: what a developer writes by hand with reqwest and serde_json, no toolsmith type on the client
/// side. It handles exactly this workload (tool `add`), nothing more.
mod hand {
    use super::*;

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

    pub(super) async fn run(
        http: &reqwest::Client,
        url: &str,
        tools: &Value,
        stream: bool,
    ) -> Result<String, BoxError> {
        let mut body = json!({
            "model": MODEL,
            "messages": [{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": PROMPT}],
            "tools": tools,
            "stream": stream,
        });
        if stream {
            body["stream_options"] = json!({"include_usage": true});
        }
        for _ in 0..10 {
            let response = http.post(url).bearer_auth("sk-test").json(&body).send().await?.error_for_status()?;
            let (content, calls) = if stream { read_stream(response).await? } else { read_json(response).await? };
            if calls.is_empty() {
                return Ok(content);
            }
            let messages = body["messages"].as_array_mut().ok_or("messages")?;
            let replay: Vec<Value> = calls
                .iter()
                .map(|(id, name, arguments)| {
                    json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
                })
                .collect();
            messages.push(json!({"role": "assistant", "content": null, "tool_calls": replay}));
            for (id, name, arguments) in &calls {
                messages.push(json!({"role": "tool", "tool_call_id": id, "content": call_tool(name, arguments)}));
            }
        }
        Err("too many turns".into())
    }

    type Calls = Vec<(String, String, String)>;

    async fn read_json(response: reqwest::Response) -> Result<(String, Calls), BoxError> {
        let value: Value = response.json().await?;
        let message = &value["choices"][0]["message"];
        let content = message["content"].as_str().unwrap_or_default().to_owned();
        let calls = message["tool_calls"]
            .as_array()
            .map(|calls| {
                calls
                    .iter()
                    .map(|call| {
                        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
                        (text(&call["id"]), text(&call["function"]["name"]), text(&call["function"]["arguments"]))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok((content, calls))
    }

    async fn read_stream(mut response: reqwest::Response) -> Result<(String, Calls), BoxError> {
        let mut buffer: Vec<u8> = Vec::new();
        let mut content = String::new();
        let mut calls: Calls = Vec::new();
        while let Some(bytes) = response.chunk().await? {
            buffer.extend_from_slice(&bytes);
            while let Some(end) = buffer.windows(2).position(|w| w == b"\n\n") {
                let event: Vec<u8> = buffer.drain(..end + 2).collect();
                let Some(data) = event.strip_prefix(b"data: ") else { continue };
                let data = data.trim_ascii();
                if data == b"[DONE]" {
                    return Ok((content, calls));
                }
                let chunk: Value = serde_json::from_slice(data)?;
                let delta = &chunk["choices"][0]["delta"];
                if let Some(text) = delta["content"].as_str() {
                    content.push_str(text);
                }
                for fragment in delta["tool_calls"].as_array().into_iter().flatten() {
                    let index = fragment["index"].as_u64().unwrap_or(0) as usize;
                    if calls.len() <= index {
                        calls.resize(index + 1, Default::default());
                    }
                    let slot = &mut calls[index];
                    if let Some(id) = fragment["id"].as_str() {
                        slot.0.push_str(id);
                    }
                    if let Some(name) = fragment["function"]["name"].as_str() {
                        slot.1.push_str(name);
                    }
                    if let Some(arguments) = fragment["function"]["arguments"].as_str() {
                        slot.2.push_str(arguments);
                    }
                }
            }
        }
        Ok((content, calls))
    }
}

// ---------------------------------------------------------------------------------------------------------
// Measuring.

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Peak resident set size so far (`VmHWM`), in kB.
fn peak_rss_kb() -> u64 {
    status_kb("VmHWM:")
}

fn rss_kb() -> u64 {
    status_kb("VmRSS:")
}

/// Resets `VmHWM` to the current RSS (Linux ≥ 4.0), so each phase reports its own peak.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Raises the open-file limit to `wanted` (or as far as allowed): every run in flight holds a socket on each
/// side of the loopback connection.
fn raise_fd_limit(wanted: u64) -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `getrlimit`/`setrlimit` read and write the one struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur >= wanted {
            return limit.rlim_cur;
        }
        let raised = libc::rlimit { rlim_cur: wanted, rlim_max: limit.rlim_max.max(wanted) };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
            return wanted;
        }
        let soft = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &soft) == 0 {
            return limit.rlim_max;
        }
        limit.rlim_cur
    }
}

/// CPU time (user + system) of the whole process so far: client, server and runtime together.
fn cpu_time() -> Duration {
    // SAFETY: `getrusage` writes the one struct we pass.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

struct Phase {
    runs_per_sec: f64,
    /// Process CPU time per run: less sensitive than wall time to what else the machine runs.
    cpu_per_run: Duration,
    latencies: Vec<Duration>,
    peak_rss_kb: u64,
}

/// `runs` runs, `concurrency` at a time; fails on the first failed run.
async fn phase(
    clients: &Arc<Clients>,
    side: Side,
    stream: bool,
    runs: usize,
    concurrency: usize,
) -> Result<Phase, BoxError> {
    reset_peak_rss();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let cpu_before = cpu_time();
    let mut workers = Vec::new();
    for _ in 0..concurrency.min(runs) {
        let clients = clients.clone();
        let next = next.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < runs {
                let begun = Instant::now();
                clients.run(side, stream).await?;
                latencies.push(begun.elapsed());
            }
            Ok::<_, BoxError>(latencies)
        }));
    }
    let mut latencies = Vec::with_capacity(runs);
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let elapsed = started.elapsed();
    let cpu_per_run = cpu_time().saturating_sub(cpu_before) / u32::try_from(runs.max(1)).unwrap_or(u32::MAX);
    Ok(Phase { runs_per_sec: runs as f64 / elapsed.as_secs_f64(), cpu_per_run, latencies, peak_rss_kb: peak_rss_kb() })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

struct Summary {
    runs_per_sec: f64,
    cpu_per_run: Duration,
    p50: Duration,
    p99: Duration,
    peak_rss_kb: u64,
}

fn summarize(phases: &[Phase]) -> Summary {
    let mut rates: Vec<f64> = phases.iter().map(|p| p.runs_per_sec).collect();
    let mut cpu: Vec<f64> = phases.iter().map(|p| p.cpu_per_run.as_secs_f64()).collect();
    let mut latencies: Vec<Duration> = phases.iter().flat_map(|p| p.latencies.iter().copied()).collect();
    latencies.sort();
    Summary {
        runs_per_sec: median(&mut rates),
        cpu_per_run: Duration::from_secs_f64(median(&mut cpu)),
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        peak_rss_kb: phases.iter().map(|p| p.peak_rss_kb).max().unwrap_or(0),
    }
}

/// Both clients on the same workload, alternating rounds so drift hits both alike; returns (toolsmith, hand).
async fn compare(
    clients: &Arc<Clients>,
    stream: bool,
    runs: usize,
    concurrency: usize,
    rounds: usize,
) -> Result<(Summary, Summary), BoxError> {
    // Warm-up: connections, allocator, caches.
    for side in [Side::Toolsmith, Side::Hand] {
        phase(clients, side, stream, (runs / 10).max(concurrency), concurrency).await?;
    }
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which goes first.
        let order = if round % 2 == 0 { [Side::Toolsmith, Side::Hand] } else { [Side::Hand, Side::Toolsmith] };
        for side in order {
            let result = phase(clients, side, stream, runs, concurrency).await?;
            if side == Side::Toolsmith { ours.push(result) } else { theirs.push(result) }
        }
    }
    Ok((summarize(&ours), summarize(&theirs)))
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}

fn print_header() {
    println!(
        "| mode | concurrency | client | runs/s | p50 | p99 | CPU/run | peak RSS | runs/s ratio | CPU ratio (hand / toolsmith) |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
}

fn print_rows(stream: bool, concurrency: usize, ours: &Summary, theirs: &Summary) {
    let mode = if stream { "streamed" } else { "plain" };
    let ratio = ours.runs_per_sec / theirs.runs_per_sec;
    let cpu_ratio = theirs.cpu_per_run.as_secs_f64() / ours.cpu_per_run.as_secs_f64();
    for (side, s) in [(Side::Toolsmith, ours), (Side::Hand, theirs)] {
        let (ratio, cpu_ratio) = if side == Side::Toolsmith {
            (format!("**{ratio:.3}**"), format!("{cpu_ratio:.3}"))
        } else {
            (String::new(), String::new())
        };
        println!(
            "| {mode} | {concurrency} | {} | {:.0} | {} | {} | {:.0} µs | {:.1} MiB | {ratio} | {cpu_ratio} |",
            side.label(),
            s.runs_per_sec,
            ms(s.p50),
            ms(s.p99),
            s.cpu_per_run.as_secs_f64() * 1e6,
            s.peak_rss_kb as f64 / 1024.0
        );
    }
}

async fn repeating_server(hold: Duration) -> Result<TestServer, BoxError> {
    let server = TestServer::repeating(vec![
        Reply::tool_calls(vec![ToolCall::new("call_1", "add", r#"{"a":40,"b":2}"#)]).usage(50, 10).delay(hold),
        Reply::text(ANSWER).usage(70, 8).delay(hold),
    ])
    .await?;
    server.set_recording(false);
    Ok(server)
}

/// One run of each client with recording on: both must send the same requests, or the comparison is unfair.
async fn check_same_requests(clients: &Clients, server: &TestServer, stream: bool) -> Result<(), BoxError> {
    server.set_recording(true);
    let before = server.requests().len();
    clients.run(Side::Toolsmith, stream).await?;
    clients.run(Side::Hand, stream).await?;
    server.set_recording(false);
    let requests = server.requests();
    let bodies: Vec<&Value> = requests.iter().skip(before).map(|r| &r.body).collect();
    if bodies.len() != 4 || bodies[0] != bodies[2] || bodies[1] != bodies[3] {
        let sizes: Vec<usize> = bodies.iter().map(|b| b.to_string().len()).collect();
        eprintln!("warning: the two clients' request bodies differ (sizes {sizes:?})");
        for body in &bodies {
            eprintln!("  {body}");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Modes.

struct Options {
    runs: usize,
    concurrency: usize,
    stream: bool,
    rounds: usize,
    matrix: bool,
    in_flight: Option<usize>,
    hold: Duration,
    parallel_tools: bool,
    only: Option<Side>,
}

fn parse_options() -> Result<Options, BoxError> {
    let mut options = Options {
        runs: 2000,
        concurrency: 1,
        stream: false,
        rounds: 5,
        matrix: false,
        in_flight: None,
        hold: Duration::from_secs(3),
        parallel_tools: false,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--runs" => options.runs = value()?.parse()?,
            "--concurrency" => options.concurrency = value()?.parse::<usize>()?.max(1),
            "--rounds" => options.rounds = value()?.parse::<usize>()?.max(1),
            "--stream" => options.stream = true,
            "--matrix" => options.matrix = true,
            "--in-flight" => options.in_flight = Some(value()?.parse()?),
            "--hold" => options.hold = Duration::from_secs_f64(value()?.parse()?),
            "--parallel-tools" => options.parallel_tools = true,
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--only" => {
                options.only = Some(match value()?.as_str() {
                    "toolsmith" => Side::Toolsmith,
                    "hand" => Side::Hand,
                    other => return Err(format!("--only toolsmith|hand, not {other}").into()),
                })
            }
            other => return Err(format!("unknown option {other}; see the top of examples/loadbench.rs").into()),
        }
    }
    Ok(options)
}

/// Memory at scale: `count` runs in flight at once, each response held `hold`. Each client runs in its own
/// child process, so neither inherits the other's heap.
async fn in_flight(options: &Options, count: usize) -> Result<(), BoxError> {
    let Some(side) = options.only else {
        println!("{count} runs in flight at once, each response held {:?} (server in the same process):", options.hold);
        println!("| client | runs | wall time | RSS before | peak RSS | RSS per in-flight run | failed |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for side in ["toolsmith", "hand"] {
            let output = std::process::Command::new(std::env::current_exe()?)
                .args(["--in-flight", &count.to_string(), "--hold", &options.hold.as_secs_f64().to_string()])
                .args(["--only", side])
                .args(if options.stream { &["--stream"][..] } else { &[][..] })
                .output()?;
            print!("{}", String::from_utf8_lossy(&output.stdout));
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
        }
        return Ok(());
    };
    let limit = raise_fd_limit(2 * count as u64 + 1024);
    if limit < 2 * count as u64 + 64 {
        eprintln!("warning: the open-file limit is {limit}; {count} runs in flight need about {}", 2 * count + 64);
    }
    let server = repeating_server(options.hold).await?;
    let clients = Arc::new(Clients::new(&server.base_url())?);
    // Warm: one run, so lazy statics and the runtime are in place before the baseline.
    let warm = repeating_server(Duration::ZERO).await?;
    Clients::new(&warm.base_url())?.run(side, options.stream).await?;
    drop(warm);
    let before = rss_kb();
    reset_peak_rss();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for _ in 0..count {
        let clients = clients.clone();
        let stream = options.stream;
        tasks.push(tokio::spawn(async move { clients.run(side, stream).await }));
    }
    let mut failed = 0;
    let mut first_error = None;
    for task in tasks {
        match task.await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                failed += 1;
                first_error.get_or_insert_with(|| error.to_string());
            }
            Err(error) => {
                failed += 1;
                first_error.get_or_insert_with(|| error.to_string());
            }
        }
    }
    let wall = started.elapsed();
    let peak = peak_rss_kb();
    println!(
        "| {} | {count} | {:.2} s | {:.1} MiB | {:.1} MiB | {:.1} KiB | {failed} |",
        side.label(),
        wall.as_secs_f64(),
        before as f64 / 1024.0,
        peak as f64 / 1024.0,
        peak.saturating_sub(before) as f64 / count as f64
    );
    if let Some(error) = first_error {
        eprintln!("first failure: {error}");
    }
    Ok(())
}

/// One turn with 8 calls that each sleep 200 ms.
async fn parallel_tools() -> Result<(), BoxError> {
    let calls = (0..8).map(|i| ToolCall::new(format!("call_{i}"), "nap", r#"{"ms":200}"#)).collect();
    let server = TestServer::repeating(vec![Reply::tool_calls(calls), Reply::text("All rested.")]).await?;
    let clients = Clients::new(&server.base_url())?;
    clients.agent.run("warm up").await?;
    let started = Instant::now();
    let result = clients.agent.run("Take eight naps of 200 ms.").await?;
    let wall = started.elapsed();
    let busy: Duration = result.tool_calls.iter().map(|record| record.duration).sum();
    println!(
        "8 tool calls × 200 ms in one turn: whole run (2 requests + tools) {} (sum of the calls' durations {}, {} calls)",
        ms(wall),
        ms(busy),
        result.tool_calls.len()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let options = parse_options()?;
    if options.parallel_tools {
        return parallel_tools().await;
    }
    if let Some(count) = options.in_flight {
        return in_flight(&options, count).await;
    }
    raise_fd_limit(4096);
    let server = repeating_server(Duration::ZERO).await?;
    let clients = Arc::new(Clients::new(&server.base_url())?);
    if let Some(side) = options.only {
        // One side alone, e.g. under `valgrind --tool=callgrind` to count instructions per run.
        let result = phase(&clients, side, options.stream, options.runs, options.concurrency).await?;
        println!("{}: {:.0} runs/s", side.label(), result.runs_per_sec);
        return Ok(());
    }
    let configs: Vec<(bool, usize, usize)> = if options.matrix {
        vec![(false, 1, 2000), (true, 1, 2000), (false, 64, 10000), (true, 64, 10000)]
    } else {
        vec![(options.stream, options.concurrency, options.runs)]
    };
    println!(
        "two-turn runs (user → 1 tool call → answer), {} rounds each, server and clients in one process sharing {} cores:",
        options.rounds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    print_header();
    for (stream, concurrency, runs) in configs {
        check_same_requests(&clients, &server, stream).await?;
        let (ours, theirs) = compare(&clients, stream, runs, concurrency, options.rounds).await?;
        print_rows(stream, concurrency, &ours, &theirs);
    }
    Ok(())
}
