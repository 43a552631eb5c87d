//! Where the body of a sync `#[tool] fn` runs: off the async workers.

/// Runs `body` on the runtime's blocking threads and waits for it without blocking the caller's worker, so
/// parallel sync calls overlap and timers keep running. A panic in `body` resumes in the caller (where the
/// agent catches it). Outside a tokio runtime, `body` runs in place.
///
/// Once started, `body` cannot be stopped: a caller that stops waiting (a timeout, a cancelled run) leaves it
/// to finish in the background.
#[doc(hidden)]
pub async fn run_blocking<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return body() };
    match runtime.spawn_blocking(body).await {
        Ok(output) => output,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        // Only a runtime shutting down cancels a blocking task.
        Err(error) => panic!("the tool's blocking task was cancelled: {error}"),
    }
}
