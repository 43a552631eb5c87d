//! The server under concurrent load: held replies are timers, not threads, so many requests overlap.

mod support;

use std::time::{Duration, Instant};

use support::*;
use toolsmith_testing::{Reply, TestServer};

async fn concurrent(requests: usize, hold: Duration) -> Duration {
    let server = TestServer::repeating(vec![Reply::text("done").delay(hold)]).await.unwrap();
    server.set_recording(false);
    let client = http();
    let url = format!("{}/chat/completions", server.base_url());
    let body = user("hi").to_string();
    let started = Instant::now();
    let tasks: Vec<_> = (0..requests)
        .map(|_| {
            let (client, url, body) = (client.clone(), url.clone(), body.clone());
            tokio::spawn(async move {
                let response = client.post(url).body(body).send().await.expect("sent");
                assert_eq!(response.status().as_u16(), 200);
                response.bytes().await.expect("body");
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(server.request_count(), requests);
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_held_requests_overlap() {
    let elapsed = concurrent(1000, Duration::from_secs(1)).await;
    // Serially this would take 1000 s; generous bound for a loaded 2-core machine.
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
}

/// Needs about 2 × N file descriptors (client and server side in one process).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "heavy: run with --ignored; needs `ulimit -n` above 2 x TOOLSMITH_LOAD_REQUESTS"]
async fn many_held_requests_overlap() {
    let requests = std::env::var("TOOLSMITH_LOAD_REQUESTS").ok().and_then(|n| n.parse().ok()).unwrap_or(9000);
    let elapsed = concurrent(requests, Duration::from_secs(3)).await;
    eprintln!("{requests} concurrent requests held 3 s each: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(120), "{elapsed:?}");
}
