//! A raw HTTP/1.1 server on 127.0.0.1 for the client tests.
//!
//! Hand-written on a tokio `TcpListener` rather than axum: the tests need to control every byte and every
//! flush (1-byte writes, splits inside a UTF-8 character, inside `\r\n`, inside `data:`), delays between
//! writes, and connections that stall or drop mid-body. Each response body is close-delimited
//! (`Connection: close`, no length) unless the reply says otherwise, so each write reaches the client as is.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One step of writing a response body.
#[derive(Clone)]
pub enum Piece {
    /// Write these bytes and flush.
    Bytes(Vec<u8>),
    /// Wait.
    Sleep(Duration),
    /// Wait until the test calls [`Server::release`].
    Gate,
    /// Close the connection now (pair it with a `content-length` header larger than the body to make the
    /// client see a broken body rather than a clean end).
    Drop,
}

/// A scripted response.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub pieces: Vec<Piece>,
    /// Send `Content-Length` (for JSON bodies written in one piece).
    pub content_length: bool,
    /// Wait this long before writing the status line.
    pub delay_head: Duration,
}

impl Reply {
    pub fn json(status: u16, body: &Value) -> Self {
        Reply::raw(status, "application/json", body.to_string().into_bytes())
    }

    pub fn raw(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            pieces: vec![Piece::Bytes(body)],
            content_length: true,
            delay_head: Duration::ZERO,
        }
    }

    /// An event stream whose body is written in the given pieces.
    pub fn stream(pieces: Vec<Piece>) -> Self {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            pieces,
            content_length: false,
            delay_head: Duration::ZERO,
        }
    }

    /// An event stream written in one piece.
    pub fn sse(body: &str) -> Self {
        Reply::stream(vec![Piece::Bytes(body.as_bytes().to_vec())])
    }

    /// An event stream written `size` bytes at a time, with a short pause between writes so that the client
    /// sees separate reads.
    pub fn sse_split(body: &[u8], size: usize) -> Self {
        Reply::stream(split(body, size))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// `bytes` cut every `size` bytes, with a 1 ms pause after each piece.
pub fn split(bytes: &[u8], size: usize) -> Vec<Piece> {
    bytes.chunks(size.max(1)).flat_map(|c| [Piece::Bytes(c.to_vec()), Piece::Sleep(Duration::from_millis(1))]).collect()
}

/// `bytes` cut at the given offsets, with a pause after each piece.
pub fn split_at(bytes: &[u8], cuts: &[usize]) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        let cut = cut.clamp(start, bytes.len());
        pieces.push(Piece::Bytes(bytes[start..cut].to_vec()));
        pieces.push(Piece::Sleep(Duration::from_millis(5)));
        start = cut;
    }
    pieces
}

/// A request as the server received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the client sends JSON")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

struct State {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    gate: Notify,
}

/// The server; stops when dropped (its task is aborted).
pub struct Server {
    addr: std::net::SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Serves `replies` in order, one per request; the last one repeats.
    pub async fn start(replies: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State {
            replies: Mutex::new(replies.into()),
            requests: Mutex::new(Vec::new()),
            gate: Notify::new(),
        });
        let task_state = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let state = Arc::clone(&task_state);
                tokio::spawn(async move {
                    let _ = serve(socket, state).await;
                });
            }
        });
        Server { addr, state, task }
    }

    pub async fn one(reply: Reply) -> Server {
        Server::start(vec![reply]).await
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().expect("lock").clone()
    }

    pub fn request_count(&self) -> usize {
        self.state.requests.lock().expect("lock").len()
    }

    /// Lets a reply waiting at [`Piece::Gate`] continue.
    pub fn release(&self) {
        self.state.gate.notify_one();
    }
}

async fn serve(mut socket: TcpStream, state: Arc<State>) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let request = read_request(&mut socket).await?;
    state.requests.lock().expect("lock").push(request);
    let reply = {
        let mut replies = state.replies.lock().expect("lock");
        if replies.len() > 1 { replies.pop_front() } else { replies.front().cloned() }
    };
    let Some(reply) = reply else { return Ok(()) };
    tokio::time::sleep(reply.delay_head).await;
    let mut head = format!("HTTP/1.1 {} X\r\nconnection: close\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if reply.content_length {
        let len: usize = reply.pieces.iter().map(|p| if let Piece::Bytes(b) = p { b.len() } else { 0 }).sum();
        head.push_str(&format!("content-length: {len}\r\n"));
    }
    head.push_str("\r\n");
    socket.write_all(head.as_bytes()).await?;
    socket.flush().await?;
    for piece in reply.pieces {
        match piece {
            Piece::Bytes(bytes) => {
                socket.write_all(&bytes).await?;
                socket.flush().await?;
            }
            Piece::Sleep(wait) => tokio::time::sleep(wait).await,
            Piece::Gate => state.gate.notified().await,
            Piece::Drop => return Ok(()),
        }
    }
    socket.shutdown().await
}

async fn read_request(socket: &mut TcpStream) -> std::io::Result<Recorded> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::other("closed before the request head"));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_owned();
    let path = first.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize =
        headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Recorded { method, path, headers, body })
}

/// `data: {json}\n\n` for each value, then `data: [DONE]\n\n`.
pub fn sse_of(chunks: &[Value]) -> String {
    let mut out = String::new();
    for chunk in chunks {
        out.push_str(&format!("data: {chunk}\n\n"));
    }
    out.push_str("data: [DONE]\n\n");
    out
}

/// A content chunk.
pub fn text_chunk(text: &str) -> Value {
    serde_json::json!({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m",
        "choices":[{"index":0,"delta":{"content":text},"finish_reason":null}]})
}

/// A finish chunk.
pub fn finish_chunk(reason: &str) -> Value {
    serde_json::json!({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m",
        "choices":[{"index":0,"delta":{},"finish_reason":reason}]})
}

/// A plain text completion body.
pub fn completion_body(text: &str) -> Value {
    serde_json::json!({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m",
        "choices":[{"index":0,"message":{"role":"assistant","content":text},"finish_reason":"stop"}],
        "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}})
}

/// A client for `server` without retries' waiting: fast backoff.
pub fn client(server: &Server) -> toolsmith_core::client::Client {
    client_with(server, |b| b)
}

pub fn client_with(
    server: &Server,
    configure: impl FnOnce(toolsmith_core::client::ClientBuilder) -> toolsmith_core::client::ClientBuilder,
) -> toolsmith_core::client::Client {
    let policy = toolsmith_core::client::RetryPolicy {
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..Default::default()
    };
    configure(
        toolsmith_core::client::Client::builder().base_url(server.base_url()).api_key("sk-test").retry_policy(policy),
    )
    .build()
    .expect("client builds")
}

pub fn request() -> toolsmith_core::wire::ChatRequest {
    toolsmith_core::wire::ChatRequest::new("openai/gpt-4o", vec![toolsmith_core::wire::Message::user("Hi")])
}
