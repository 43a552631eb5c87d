//! `loadbench report`: starts the server process, checks the request bytes, and runs every measurement in
//! separate client processes, then prints the Markdown tables of the README's Performance section.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::{BoxError, flag, value};

const SIDES: [&str; 2] = ["floor", "toolsmith"];
const MODES: [&str; 2] = ["json", "stream"];

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn exe() -> Result<std::path::PathBuf, BoxError> {
    Ok(std::env::current_exe()?)
}

fn start_server() -> Result<Server, BoxError> {
    let mut child = Command::new(exe()?).arg("serve").stdout(Stdio::piped()).spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let address = line.trim().strip_prefix("listening on ").ok_or_else(|| format!("server said {line:?}"))?;
    Ok(Server { child, url: format!("http://{address}/v1") })
}

/// Runs one client process and returns its JSON result.
fn client(url: &str, side: &str, mode: &str, extra: &[&str]) -> Result<Value, BoxError> {
    let output = Command::new(exe()?)
        .args(["client", "--side", side, "--mode", mode, "--url", url])
        .args(extra)
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(format!("client {side} {mode} {extra:?} failed: {}", output.status).into());
    }
    let text = String::from_utf8(output.stdout)?;
    Ok(serde_json::from_str(text.lines().last().ok_or("no output")?)?)
}

/// Instructions executed by one client process under callgrind.
fn instructions(url: &str, side: &str, mode: &str, runs: usize) -> Result<u64, BoxError> {
    let file = std::env::temp_dir().join(format!("loadbench-callgrind-{side}-{mode}-{runs}-{}", std::process::id()));
    let runs = runs.to_string();
    let status = Command::new("valgrind")
        .args(["--tool=callgrind", "--quiet"])
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg(exe()?)
        .args(["client", "--side", side, "--mode", mode, "--url", url, "--runs", &runs, "--warmup", "20"])
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        return Err(format!("valgrind failed: {status}").into());
    }
    let text = std::fs::read_to_string(&file)?;
    let _ = std::fs::remove_file(&file);
    let total = text
        .lines()
        .find_map(|l| l.strip_prefix("totals:").or_else(|| l.strip_prefix("summary:")))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or("no totals in the callgrind output")?;
    Ok(total)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(0.0)
}

/// Both clients must send the same bytes: one run each, then the server's record of the first bodies.
async fn check_bytes(url: &str) -> Result<(), BoxError> {
    for mode in MODES {
        for side in SIDES {
            client(url, side, mode, &["--runs", "1", "--warmup", "0"])?;
        }
    }
    let http = toolsmith::client::http_client_builder().build()?;
    let bodies: std::collections::BTreeMap<String, String> =
        http.get(url.replace("/v1", "/bench/bodies")).send().await?.json().await?;
    for mode in MODES {
        for turn in [1, 2] {
            let floor = bodies.get(&format!("floor/{mode}/{turn}"));
            let ours = bodies.get(&format!("toolsmith/{mode}/{turn}"));
            if floor.is_none() || floor != ours {
                return Err(format!(
                    "{mode} turn {turn}: the requests differ\nfloor:     {floor:?}\ntoolsmith: {ours:?}"
                )
                .into());
            }
        }
    }
    println!("Request bodies: identical for both clients (JSON and streamed, both turns).\n");
    Ok(())
}

pub async fn report(args: &[String]) -> Result<(), BoxError> {
    let quick = flag(args, "--quick");
    let pairs: usize = value(args, "--pairs", if quick { 1 } else { 5 })?;
    let runs_c1: usize = value(args, "--runs-c1", if quick { 200 } else { 3000 })?;
    let runs_c64: usize = value(args, "--runs-c64", if quick { 400 } else { 10_000 })?;
    let callgrind_runs: usize = value(args, "--callgrind-runs", if quick { 0 } else { 500 })?;
    let in_flight: usize = value(args, "--in-flight", if quick { 200 } else { 10_000 })?;
    let probes: usize = value(args, "--probes", if quick { 20 } else { 300 })?;
    let server = start_server()?;
    let url = server.url.as_str();
    check_bytes(url).await?;

    println!(
        "| mode | concurrency | floor runs/s | toolsmith runs/s | ratio (median of pairs) | client CPU µs/run floor / toolsmith | ratio | p50 / p99 floor | p50 / p99 toolsmith | peak RSS floor / toolsmith |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|---|---|");
    for (concurrency, runs) in [(1usize, runs_c1), (64, runs_c64)] {
        for mode in MODES {
            let (mut floor, mut ours, mut ratios, mut cpu_ratios) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for pair in 0..pairs {
                let extra = ["--runs", &runs.to_string(), "--concurrency", &concurrency.to_string(), "--warmup", "100"]
                    .map(str::to_owned);
                let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
                // Alternate who goes first, so a drift in the machine's load falls on both.
                let (f, t) = if pair % 2 == 0 {
                    let f = client(url, "floor", mode, &extra)?;
                    (f, client(url, "toolsmith", mode, &extra)?)
                } else {
                    let t = client(url, "toolsmith", mode, &extra)?;
                    (client(url, "floor", mode, &extra)?, t)
                };
                ratios.push(num(&t, "runs_per_s") / num(&f, "runs_per_s"));
                cpu_ratios.push(num(&t, "cpu_us_per_run") / num(&f, "cpu_us_per_run"));
                floor.push(f);
                ours.push(t);
            }
            let med = |runs: &[Value], key: &str| median(runs.iter().map(|r| num(r, key)).collect());
            println!(
                "| {mode} | {concurrency} | {:.0} | {:.0} | **{:.2}** | {:.0} / {:.0} | {:.2} | {:.2} / {:.2} ms | {:.2} / {:.2} ms | {:.1} / {:.1} MiB |",
                med(&floor, "runs_per_s"),
                med(&ours, "runs_per_s"),
                median(ratios),
                med(&floor, "cpu_us_per_run"),
                med(&ours, "cpu_us_per_run"),
                median(cpu_ratios),
                med(&floor, "p50_us") / 1000.0,
                med(&floor, "p99_us") / 1000.0,
                med(&ours, "p50_us") / 1000.0,
                med(&ours, "p99_us") / 1000.0,
                med(&floor, "peak_rss_kb") / 1024.0,
                med(&ours, "peak_rss_kb") / 1024.0,
            );
        }
    }
    println!();

    // The same runs with toolsmith's tool as a sync `fn` (the floor is unchanged): the cost of running sync
    // bodies on the blocking pool, and of `#[tool(inline)]`, which runs them in place.
    println!("Sync `#[tool] fn`, on the blocking pool and with `#[tool(inline)]`:\n");
    println!("| tool | mode | concurrency | floor runs/s | toolsmith runs/s | ratio (median of pairs) |");
    println!("|---|---|---:|---:|---:|---:|");
    for (tool, flag) in [("sync fn", "--sync-tool"), ("inline sync fn", "--inline-tool")] {
        for (concurrency, runs) in [(1usize, runs_c1), (64, runs_c64)] {
            for mode in MODES {
                let (mut floor, mut ours, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
                for _ in 0..pairs.min(3) {
                    let extra =
                        ["--runs", &runs.to_string(), "--concurrency", &concurrency.to_string(), "--warmup", "100"]
                            .map(str::to_owned);
                    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
                    let f = client(url, "floor", mode, &extra)?;
                    let mut sync = extra.clone();
                    sync.push(flag);
                    let t = client(url, "toolsmith", mode, &sync)?;
                    ratios.push(num(&t, "runs_per_s") / num(&f, "runs_per_s"));
                    floor.push(num(&f, "runs_per_s"));
                    ours.push(num(&t, "runs_per_s"));
                }
                println!(
                    "| {tool} | {mode} | {concurrency} | {:.0} | {:.0} | **{:.2}** |",
                    median(floor),
                    median(ours),
                    median(ratios)
                );
            }
        }
    }
    println!();

    if callgrind_runs > 0 {
        println!("| mode | floor instructions/run | toolsmith instructions/run | ratio |");
        println!("|---|---:|---:|---:|");
        for mode in MODES {
            let mut per_run = Vec::new();
            for side in SIDES {
                let one = instructions(url, side, mode, callgrind_runs)?;
                let two = instructions(url, side, mode, 2 * callgrind_runs)?;
                per_run.push(two.saturating_sub(one) as f64 / callgrind_runs as f64);
            }
            println!(
                "| {mode} | {:.0} k | {:.0} k | **{:.2}** |",
                per_run[0] / 1e3,
                per_run[1] / 1e3,
                per_run[1] / per_run[0]
            );
        }
        println!();
    }

    println!(
        "| client | runs in flight | peak RSS | memory per run in flight | first text byte → text event p50 / p99 |"
    );
    println!("|---|---:|---:|---:|---|");
    for side in SIDES {
        let n = in_flight.to_string();
        let held = client(url, side, "json", &["--runs", &n, "--in-flight", "--model", "hold-3000", "--warmup", "2"])?;
        let p = probes.to_string();
        let probe = client(url, side, "stream", &["--runs", &p, "--probe", "--model", "probe", "--warmup", "20"])?;
        println!(
            "| {side} | {in_flight} | {:.0} MiB | {:.1} KiB | {:.0} / {:.0} µs |",
            num(&held, "peak_rss_kb") / 1024.0,
            num(&held, "kb_per_run"),
            num(&probe, "probe_p50_ns") / 1e3,
            num(&probe, "probe_p99_ns") / 1e3,
        );
    }
    Ok(())
}
