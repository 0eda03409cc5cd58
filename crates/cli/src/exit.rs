//! Exit codes a script can rely on (documented in the README).

use std::process::ExitCode;

use shareguard_engine::ErrorKind;

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

/// The exit code for a kind of failure: the one table every command's
/// errors go through (the desktop app reads the same kinds).
pub fn for_error(kind: ErrorKind) -> u8 {
    use ErrorKind as K;
    match kind {
        K::InvalidInput => USAGE,
        K::Auth => AUTH,
        K::Unreachable => UNREACHABLE,
        K::Timeout => TIMEOUT,
        K::Tls => TLS,
        K::Router => ROUTER,
        K::Storage => STORAGE,
        K::NotOnline | K::Whitelisted | K::Refused | K::RuleMissing => REFUSED,
        K::Cancelled => CANCELLED,
        K::Misplaced
        | K::NoData
        | K::NotFound
        | K::Write
        | K::KeyringUnavailable
        | K::KeyringLocked
        | K::KeyringFailed
        | K::Locked
        | K::Denied
        | K::Pin
        | K::Busy
        | K::Demo
        | K::System
        | K::Notification
        | K::Internal => OTHER,
    }
}

/// The exit code for an error's stable class name (a scan outcome's
/// `error_kind`, a report error's `kind()`).
pub fn for_kind(class: &str) -> u8 {
    for_error(ErrorKind::from_class(class))
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
        Self::new(for_error((&e).into()), e.to_string())
    }
}

impl From<shareguard_engine::EngineError> for Failure {
    fn from(e: shareguard_engine::EngineError) -> Self {
        Self::new(for_error(e.kind()), e.to_string())
    }
}

impl From<routeros_client::Error> for Failure {
    fn from(e: routeros_client::Error) -> Self {
        Self::new(for_error((&e).into()), e.to_string())
    }
}

impl From<shareguard_engine::actions::ActionError> for Failure {
    fn from(e: shareguard_engine::actions::ActionError) -> Self {
        Self::new(for_error(e.kind()), e.to_string())
    }
}

pub type CliResult = Result<ExitCode, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_crates_classes_reach_their_documented_codes() {
        for (class, code) in [
            ("auth", AUTH),
            ("unreachable", UNREACHABLE),
            ("resolve", UNREACHABLE),
            ("timeout", TIMEOUT),
            ("no_answer", TIMEOUT),
            ("tls", TLS),
            ("trap", ROUTER),
            ("io", ROUTER),
            ("invalid_address", USAGE),
            ("no_secret", USAGE),
            ("storage", STORAGE),
            ("cancelled", CANCELLED),
            ("write", OTHER),
        ] {
            assert_eq!(for_kind(class), code, "{class}");
        }
        for kind in [
            ErrorKind::NotOnline,
            ErrorKind::Whitelisted,
            ErrorKind::Refused,
            ErrorKind::RuleMissing,
        ] {
            assert_eq!(for_error(kind), REFUSED, "{kind:?}");
        }
    }
}
