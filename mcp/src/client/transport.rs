//! Reaching the server: a spawned child on stdio, or Streamable HTTP.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use http::{HeaderName, HeaderValue};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};

use super::connection::StderrTail;
use super::handler::Handler;
use crate::McpError;

pub(crate) enum Target {
    Stdio { program: String, args: Vec<String>, env: Vec<(String, String)>, dir: Option<PathBuf> },
    Http { url: String, headers: Vec<(String, String)>, bearer: Option<String> },
}

/// The session, a spawned server's stderr and process id.
pub(crate) type Connected = (RunningService<RoleClient, Handler>, Option<StderrTail>, Option<u32>);

impl Target {
    pub(crate) fn stdio(program: String) -> Self {
        Target::Stdio { program, args: Vec::new(), env: Vec::new(), dir: None }
    }

    pub(crate) fn http(url: String) -> Self {
        Target::Http { url, headers: Vec::new(), bearer: None }
    }

    pub(crate) fn arg(&mut self, arg: String) {
        if let Target::Stdio { args, .. } = self {
            args.push(arg);
        }
    }

    pub(crate) fn env(&mut self, name: String, value: String) {
        if let Target::Stdio { env, .. } = self {
            env.push((name, value));
        }
    }

    pub(crate) fn current_dir(&mut self, path: PathBuf) {
        if let Target::Stdio { dir, .. } = self {
            *dir = Some(path);
        }
    }

    pub(crate) fn header(&mut self, name: String, value: String) {
        if let Target::Http { headers, .. } = self {
            headers.push((name, value));
        }
    }

    pub(crate) fn bearer(&mut self, token: String) {
        if let Target::Http { bearer, .. } = self {
            *bearer = Some(token);
        }
    }

    /// The server's default label: the command line or the URL.
    pub(crate) fn label(&self) -> String {
        match self {
            Target::Stdio { program, args, .. } => {
                std::iter::once(program).chain(args).cloned().collect::<Vec<_>>().join(" ")
            }
            Target::Http { url, .. } => url.clone(),
        }
    }

    pub(crate) async fn connect(self, label: &str, handler: Handler) -> Result<Connected, McpError> {
        match self {
            Target::Stdio { program, args, env, dir } => {
                let mut command = tokio::process::Command::new(&program);
                command.args(&args).envs(env);
                if let Some(dir) = dir {
                    command.current_dir(dir);
                }
                // Belt and braces with rmcp's own cleanup: the child dies with the transport even when no
                // runtime is left to run an async kill.
                command.kill_on_drop(true);
                let (transport, stderr) = TokioChildProcess::builder(command)
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|source| McpError::Spawn { command: label.to_owned(), source })?;
                let stderr = stderr.map(|stderr| StderrTail::collect(label.to_owned(), stderr));
                let pid = transport.id();
                match handler.serve(transport).await {
                    Ok(service) => Ok((service, stderr, pid)),
                    Err(error) => {
                        // Give the stderr reader a moment to catch the child's last words.
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        let mut message = error.to_string();
                        if let Some(text) = stderr.as_ref().map(StderrTail::text).filter(|text| !text.is_empty()) {
                            message.push_str("; the server's last output: ");
                            message.push_str(&text);
                        }
                        Err(McpError::Connect { server: label.to_owned(), message })
                    }
                }
            }
            Target::Http { url, headers, bearer } => {
                let mut custom = HashMap::new();
                for (name, value) in headers {
                    let header = HeaderName::try_from(name.as_str())
                        .map_err(|_| McpError::Config(format!("`{name}` is not a valid HTTP header name")))?;
                    let mut value = HeaderValue::try_from(value)
                        .map_err(|_| McpError::Config(format!("the value of header `{name}` is not valid")))?;
                    value.set_sensitive(true);
                    custom.insert(header, value);
                }
                let mut config = StreamableHttpClientTransportConfig::with_uri(Arc::<str>::from(url.as_str()));
                if let Some(token) = bearer {
                    config = config.auth_header(token);
                }
                config = config.custom_headers(custom);
                let transport = StreamableHttpClientTransport::with_client(http_client()?, config);
                handler
                    .serve(transport)
                    .await
                    .map_err(|error| McpError::Connect { server: label.to_owned(), message: error.to_string() })
                    .map(|service| (service, None, None))
            }
        }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Stdio { program, args, env, dir } => f
                .debug_struct("Stdio")
                .field("program", program)
                .field("args", args)
                // Values may be secrets (API keys passed to the server).
                .field("env", &env.iter().map(|(name, _)| name).collect::<Vec<_>>())
                .field("dir", dir)
                .finish(),
            Target::Http { url, headers, bearer } => f
                .debug_struct("Http")
                .field("url", url)
                .field("headers", &headers.iter().map(|(name, _)| name).collect::<Vec<_>>())
                .field("bearer", &bearer.as_ref().map(|_| "<redacted>"))
                .finish(),
        }
    }
}

/// rmcp's HTTP client (reqwest 0.13) on the ring provider with the webpki roots, like toolsmith-core's: no
/// process-wide crypto provider is installed, and no C crypto library is built. Redirects are not followed
/// (a redirect could carry the bearer token to another host).
fn http_client() -> Result<reqwest_rmcp::Client, McpError> {
    let provider = toolsmith_core::client::crypto_provider();
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| McpError::Config(format!("TLS setup failed: {error}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest_rmcp::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest_rmcp::redirect::Policy::none())
        // rmcp's own default: no idle pooling, which avoids delayed-ACK stalls on reused connections.
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|error| McpError::Config(format!("HTTP client setup failed: {error}")))
}
