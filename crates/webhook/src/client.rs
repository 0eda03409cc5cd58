//! The HTTP client shared by every delivery.
//!
//! TLS uses rustls with the ring provider passed in explicitly, as the rest
//! of ShareGuard does, rather than a process-wide default that another part
//! of the app could change. Certificates are checked by the operating
//! system's verifier, so whatever the owner's computer trusts (including a
//! root certificate installed by hand) is trusted here as well.

use std::sync::Arc;

use reqwest::redirect::Policy;
use rustls_platform_verifier::BuilderVerifierExt;

pub(crate) fn build() -> Result<reqwest::Client, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_platform_verifier()
        .map_err(|e| format!("cannot load the system's certificate checks: {e}"))?
        .with_no_client_auth();
    // Only HTTP/1.1 is compiled in; offering h2 would break the handshake.
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];

    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        // A redirected POST silently turns into a GET (or goes to a host the
        // owner never typed); reporting it lets the owner fix the address.
        .redirect(Policy::none())
        .user_agent(concat!("ShareGuard/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))
}
