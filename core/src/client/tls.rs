//! TLS for the HTTP client: rustls on the ring provider, certificates checked by the platform's verifier
//! (`rustls-platform-verifier`, reqwest 0.13's way: the OS trust store, with its revocation and policy
//! checks). Configured per client, never through rustls' process-wide default provider, so an application's
//! own TLS choices are left alone.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::crypto::CryptoProvider;

use super::error::ClientError;

/// A `reqwest::ClientBuilder` with toolsmith's TLS set up: start from this to customise the HTTP client
/// (proxies, pools, extra timeouts) and hand the result to [`ClientBuilder::http_client`].
///
/// With reqwest's `rustls-no-provider` feature (the one toolsmith uses, to avoid a C build of aws-lc) a plain
/// `reqwest::Client::new()` has no crypto provider and panics; this one does not.
///
/// ```
/// let http = toolsmith_core::client::http_client_builder()
///     .pool_max_idle_per_host(4)
///     .build()
///     .unwrap();
/// let client = toolsmith_core::client::Client::builder()
///     .base_url("http://127.0.0.1:8080/v1")
///     .http_client(http)
///     .build()
///     .unwrap();
/// # let _ = client;
/// ```
///
/// [`ClientBuilder::http_client`]: super::ClientBuilder::http_client
pub fn http_client_builder() -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder().user_agent(concat!("toolsmith/", env!("CARGO_PKG_VERSION")));
    match tls_config() {
        Ok(config) => builder.tls_backend_preconfigured(config),
        // The platform verifier could not start (no trust store at all): building the client reports it.
        Err(error) => {
            tracing::warn!(%error, "TLS is not available");
            builder.tls_backend_preconfigured(())
        }
    }
}

/// The crypto provider of every TLS client toolsmith builds (this one and the MCP client's): ring's.
///
/// rustls 0.23.48 deprecates it because ring has no post-quantum key exchange; the provider that has one,
/// aws-lc, is the C build toolsmith avoids. The key exchange stays classical (X25519, P-256, P-384).
#[doc(hidden)]
pub fn crypto_provider() -> Arc<CryptoProvider> {
    #[allow(deprecated, reason = "ring is chosen over aws-lc's C build, see above")]
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_config() -> Result<ClientConfig, ClientError> {
    let provider = crypto_provider();
    let verifier = rustls_platform_verifier::Verifier::new(Arc::clone(&provider))
        .map_err(|e| ClientError::config(format!("the platform certificate verifier failed: {e}")))?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::config(format!("TLS setup failed: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // A preconfigured config is used as is: offer HTTP/2 and HTTP/1.1 ourselves.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
