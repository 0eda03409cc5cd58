//! Errors a user can cause or meet, each worded with the fix.

use std::time::Duration;

use routeros_proto::ProtoError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("{0}")]
    InvalidAddress(String),
    #[error("cannot reach the router at {addr} ({reason}): check the address and port, that the API service is enabled on the router (/ip service: api 8728, api-ssl 8729) and that no firewall blocks this computer")]
    Unreachable { addr: String, reason: String },
    #[error("no answer from {addr} within {} s: check that the router is up and that this computer may reach its API port", .after.as_secs_f32())]
    ConnectTimeout { addr: String, after: Duration },
    #[error("the router at {addr} stopped answering for {} s in the middle of a reply: it may be overloaded; try again or raise the read timeout", .after.as_secs_f32())]
    ReadTimeout { addr: String, after: Duration },
    #[error("the router at {addr} closed the connection in the middle of a reply (it may have rebooted or dropped API sessions): try again")]
    ConnectionClosed { addr: String },
    #[error("the router at {addr} rejected user {user:?} ({message}): check the user name and password, and that the user's group has the api and read policies (write too, to install probes)")]
    Auth {
        addr: String,
        user: String,
        message: String,
    },
    #[error("the router at {addr} runs a RouterOS older than 6.43, which only offers the retired challenge login: upgrade RouterOS")]
    UnsupportedLogin { addr: String },
    #[error("the TLS certificate of {addr} does not match the pinned fingerprint (expected {expected}, got {actual}). If you replaced the router's certificate, check the new fingerprint on the router (/certificate print detail) and pin it again; otherwise someone may be intercepting the connection")]
    FingerprintMismatch {
        addr: String,
        expected: String,
        actual: String,
    },
    #[error("TLS with {addr} failed: {reason}")]
    Tls { addr: String, reason: String },
    #[error("the router at {addr} refused {command}: {message}")]
    Trap {
        addr: String,
        command: String,
        message: String,
        category: Option<u32>,
    },
    #[error("the router at {addr} ended the session: {message}")]
    Fatal { addr: String, message: String },
    #[error("the router at {addr} sent a reply this program cannot read ({source}); if it is a RouterOS device, please report its version")]
    Protocol {
        addr: String,
        #[source]
        source: ProtoError,
    },
    #[error("network error talking to {addr}: {source}")]
    Io {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A stable class name for scripts and storage.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidAddress(_) => "invalid_address",
            Self::Unreachable { .. } => "unreachable",
            Self::ConnectTimeout { .. } | Self::ReadTimeout { .. } => "timeout",
            Self::ConnectionClosed { .. } => "connection_closed",
            Self::Auth { .. } | Self::UnsupportedLogin { .. } => "auth",
            Self::FingerprintMismatch { .. } | Self::Tls { .. } => "tls",
            Self::Trap { .. } => "trap",
            Self::Fatal { .. } => "fatal",
            Self::Protocol { .. } => "protocol",
            Self::Io { .. } => "io",
        }
    }

    /// True when the same request may succeed if simply tried again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::ConnectTimeout { .. }
                | Self::ReadTimeout { .. }
                | Self::ConnectionClosed { .. }
                | Self::Io { .. }
        )
    }
}
