//! Exit codes a script can rely on (documented in the README).

use std::process::ExitCode;

/// Everything worked.
pub const OK: u8 = 0;
/// An error not covered below.
pub const OTHER: u8 = 1;
/// Bad command line: unknown flag, invalid address or port, missing variable.
pub const USAGE: u8 = 2;
/// A router rejected the user name or password.
pub const AUTH: u8 = 3;
/// A router could not be reached (refused, no route, unknown host).
pub const UNREACHABLE: u8 = 4;
/// A router did not answer in time (connect, read, or the per-router budget).
pub const TIMEOUT: u8 = 5;
/// TLS failed: untrusted certificate or fingerprint mismatch.
pub const TLS: u8 = 6;
/// A router answered with an error or with something that is not the RouterOS API.
pub const ROUTER: u8 = 7;
/// The local database could not be read or written.
pub const STORAGE: u8 = 8;
/// Several routers failed for different reasons.
pub const MIXED: u8 = 9;
/// The action was refused: the subscriber is not online, is whitelisted, or
/// the router answered with a NAK.
pub const REFUSED: u8 = 10;
/// Interrupted (Ctrl-C).
pub const CANCELLED: u8 = 130;

/// The exit code for an error class from `routeros_client::Error::kind` or a scan outcome.
pub fn for_kind(kind: &str) -> u8 {
    match kind {
        "auth" => AUTH,
        "unreachable" => UNREACHABLE,
        "invalid_address" => USAGE,
        "timeout" => TIMEOUT,
        "tls" => TLS,
        "protocol" | "fatal" | "trap" | "connection_closed" | "io" => ROUTER,
        "cancelled" => CANCELLED,
        _ => OTHER,
    }
}

/// A failure to report: message on stderr, then exit with `code`.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(USAGE, message)
    }
}

impl From<shareguard_store::StoreError> for Failure {
    fn from(e: shareguard_store::StoreError) -> Self {
        Self::new(STORAGE, e.to_string())
    }
}

impl From<shareguard_engine::EngineError> for Failure {
    fn from(e: shareguard_engine::EngineError) -> Self {
        Self::new(STORAGE, e.to_string())
    }
}

impl From<routeros_client::Error> for Failure {
    fn from(e: routeros_client::Error) -> Self {
        Self::new(for_kind(e.kind()), e.to_string())
    }
}

pub type CliResult = Result<ExitCode, Failure>;
