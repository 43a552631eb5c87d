//! Two workers behind one deployment, 200 concurrent runs, one worker killed half-way: every run completes
//! with its own right answer and no tool effect happens twice. Needs Node/npm.
//!
//! A tool body whose result Restate journaled never runs again. A body the kill cut off runs again on the
//! other worker, with the same idempotency key, and the outside system (the ledger) takes its effect once:
//! the test checks that every such repeat is of a body the killed worker was running.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::future::join_all;
use support::balancer::Balancer;
use support::{Fixture, Worker, expected_answer, free_port, order_message};

const RUNS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_two_hundred_runs_one_worker_killed_half_way() {
    let fx = Fixture::new("load").await;
    fx.model.set_recording(false);
    // Each tool takes 100 ms, so runs are still in flight on both workers when one is killed.
    let env = fx.worker_env(&[("TOOL_DELAY_MS", "100")]);
    let mut doomed = Worker::start("a", free_port(), env.clone(), &fx.dir.join("worker-a.log")).await;
    let survivor = Worker::start("b", free_port(), env, &fx.dir.join("worker-b.log")).await;
    let balancer = Balancer::start(vec![doomed.port, survivor.port]).await;
    fx.restate.register(&balancer.uri()).await;

    let started = Instant::now();
    let orders: Vec<String> = (0..RUNS).map(|index| format!("order-{index}")).collect();
    let ids = join_all(orders.iter().map(|order| {
        let restate = &fx.restate;
        async move { restate.send(&format!("AgentRun/{order}/run"), &order_message(order), order).await }
    }))
    .await;

    // Half of the 400 tool bodies done: kill one worker, mid-flight.
    fx.wait_ledger("half of the tool calls", |ledger| {
        ledger.finished("charge_card") + ledger.finished("send_receipt") >= RUNS
    })
    .await;
    let before_kill =
        balancer.served.iter().map(|served| served.load(std::sync::atomic::Ordering::Relaxed)).collect::<Vec<_>>();
    doomed.kill();
    let killed_at = started.elapsed();

    let outputs = join_all(ids.iter().map(|id| fx.restate.wait_output(id, Duration::from_secs(180)))).await;
    let finished_at = started.elapsed();
    for (order, (status, body)) in orders.iter().zip(&outputs) {
        assert_eq!(*status, 200, "{order}: {body}");
        let outcome: serde_json::Value = serde_json::from_str(body).expect("JSON outcome");
        assert_eq!(outcome["output"], expected_answer(order), "{order}: {outcome:#}");
    }

    // Every call's effect happened exactly once, whichever worker ran it.
    let ledger = fx.ledger();
    let mut effects: HashMap<(&str, &str), usize> = HashMap::new();
    let mut effect_worker: HashMap<&str, &str> = HashMap::new();
    for line in ledger.lines.iter().filter(|line| line.phase == "effect") {
        *effects.entry((line.tool.as_str(), line.order.as_str())).or_default() += 1;
        effect_worker.insert(line.key.as_str(), line.worker.as_str());
    }
    for order in &orders {
        for tool in ["charge_card", "send_receipt"] {
            assert_eq!(effects.get(&(tool, order.as_str())), Some(&1), "{tool} for {order}");
        }
    }
    // A body ran to its end twice only when the kill came between its end and Restate journaling its result:
    // first on the killed worker, then on the survivor.
    let repeats: Vec<_> = ledger.lines.iter().filter(|line| line.phase == "repeat").collect();
    for repeat in &repeats {
        assert_eq!(repeat.worker, "b", "{repeat:?}");
        assert_eq!(effect_worker.get(repeat.key.as_str()), Some(&"a"), "{repeat:?}");
    }
    let starts = ledger.lines.iter().filter(|line| line.phase == "start").count();
    // Two model turns per run, and at most one more for each request that was in flight at the kill.
    let requests = fx.model.request_count();
    assert!(requests >= 2 * RUNS, "{requests} model requests");
    eprintln!(
        "{RUNS} runs: worker killed at {killed_at:?}, all done at {finished_at:?}; invocation attempts per worker \
         before the kill {before_kill:?}; {} tool bodies started for {} calls, {} of them finished twice (effect \
         taken once); {requests} model requests for {} turns",
        starts,
        2 * RUNS,
        repeats.len(),
        2 * RUNS
    );
    drop(survivor);
}
