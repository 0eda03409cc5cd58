//! Errors, each worded with the fix.

use std::net::SocketAddr;
use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum DacError {
    #[error("no RADIUS shared secret is stored for this router: edit the router and enter the secret set in /radius on the router")]
    NoSecret,
    #[error("cannot identify the session of {subscriber:?} by at least two attributes (user name, address, session id); the router must report the session's address")]
    TooFewIdentifiers { subscriber: String },
    #[error("the RADIUS request could not be encoded: {0}")]
    Encode(String),
    #[error("{addr} did not answer the {request} after {tries} tries ({} s): check that the router accepts it (/radius incoming set accept=yes port={}), that the shared secret matches (a wrong secret gets no answer at all) and that no firewall drops UDP {}", .waited.as_secs_f32(), .addr.port(), .addr.port())]
    NoAnswer {
        addr: SocketAddr,
        request: &'static str,
        tries: u32,
        waited: Duration,
    },
    #[error("cannot send RADIUS to {addr}: {source}")]
    Io {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot resolve the router address {host:?}: {reason}")]
    Resolve { host: String, reason: String },
}

impl DacError {
    /// A stable class name for scripts and storage.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NoSecret => "no_secret",
            Self::TooFewIdentifiers { .. } => "too_few_identifiers",
            Self::Encode(_) => "encode",
            Self::NoAnswer { .. } => "no_answer",
            Self::Io { .. } => "io",
            Self::Resolve { .. } => "resolve",
        }
    }
}
