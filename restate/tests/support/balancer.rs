//! A round-robin HTTP/2 load balancer in front of several workers: what a deployment behind a Kubernetes
//! service looks like to restate-server. Restate pins an invocation to the deployment (URI) it started on, so
//! workers that take over each other's runs must share one URI: this one.
//!
//! Every request (one invocation attempt, a bidirectional stream) gets its own connection to the next worker
//! that accepts one; a killed worker's streams break, Restate retries them, and the retries land on a live
//! worker.

use std::error::Error as StdError;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

type BoxError = Box<dyn StdError + Send + Sync>;

/// The balancer: listens on `127.0.0.1:port` until dropped.
pub struct Balancer {
    /// The port to register as the deployment.
    pub port: u16,
    /// How many requests each backend took, in `backends` order.
    pub served: Arc<Vec<AtomicUsize>>,
    task: JoinHandle<()>,
}

impl Balancer {
    /// Starts balancing over the workers listening on `backends` (ports on 127.0.0.1).
    pub async fn start(backends: Vec<u16>) -> Balancer {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind the balancer");
        let port = listener.local_addr().expect("balancer address").port();
        let backends: Arc<Vec<u16>> = Arc::new(backends);
        let served: Arc<Vec<AtomicUsize>> = Arc::new(backends.iter().map(|_| AtomicUsize::new(0)).collect());
        let next = Arc::new(AtomicUsize::new(0));
        let counts = served.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let _ = stream.set_nodelay(true);
                let (backends, next, counts) = (backends.clone(), next.clone(), counts.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        forward(request, backends.clone(), next.clone(), counts.clone())
                    });
                    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Balancer { port, served, task }
    }

    /// The deployment URI.
    pub fn uri(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    request: Request<Incoming>,
    backends: Arc<Vec<u16>>,
    next: Arc<AtomicUsize>,
    served: Arc<Vec<AtomicUsize>>,
) -> Result<Response<Incoming>, BoxError> {
    let first = next.fetch_add(1, Ordering::Relaxed);
    for attempt in 0..backends.len() {
        let index = (first + attempt) % backends.len();
        let port = backends[index];
        // The request body can be sent only once: pick a backend that accepts a connection first.
        let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await else { continue };
        let _ = stream.set_nodelay(true);
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        served[index].fetch_add(1, Ordering::Relaxed);
        let (mut parts, body) = request.into_parts();
        let path = parts.uri.path_and_query().map_or("/", |path| path.as_str()).to_owned();
        parts.uri = format!("http://127.0.0.1:{port}{path}").parse()?;
        parts.headers.remove(hyper::header::HOST);
        parts.version = hyper::Version::HTTP_2;
        let response = sender.send_request(Request::from_parts(parts, body)).await?;
        return Ok(response);
    }
    Err("no worker accepts connections".into())
}
