//! One vocabulary for what went wrong, whichever crate it went wrong in.
//!
//! Every error a front end can meet maps to one [`ErrorKind`]: the desktop
//! app sends it to the window as `CommandError.kind` (a typed union in the
//! generated contract, so the window's checks are type-checked), and the CLI
//! turns it into its documented exit code in one match. The messages stay
//! with the errors themselves; the kind is what code may branch on.

use serde::Serialize;

/// What kind of failure an error is, for code to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Something the user typed or chose is not valid (a bad address, an
    /// unknown router, a missing RADIUS secret); the message names the fix.
    InvalidInput,
    /// A router rejected the user name or password.
    Auth,
    /// A router or RADIUS server could not be reached.
    Unreachable,
    /// A router did not answer, or did not finish, in time.
    Timeout,
    /// TLS failed: an untrusted certificate or a fingerprint mismatch.
    Tls,
    /// A router answered with an error, closed the connection, or sent
    /// something that is not the RouterOS API.
    Router,
    /// The subscriber has no session to act on.
    NotOnline,
    /// The subscriber is on the whitelist.
    Whitelisted,
    /// The router refused the request (a NAK, a `!trap`).
    Refused,
    /// The router lacks the firewall rules the step needs; the error
    /// carries the commands that would install them.
    RuleMissing,
    /// The router took a rule but it sits where it has no effect.
    Misplaced,
    /// The local database could not be read or written.
    Storage,
    /// Nothing is stored yet for what was asked.
    NoData,
    /// An unknown scan, subscriber or record.
    NotFound,
    /// A file could not be written.
    Write,
    /// No keyring on this computer.
    KeyringUnavailable,
    /// The keyring is locked or refused access.
    KeyringLocked,
    /// The keyring failed otherwise.
    KeyringFailed,
    /// Nobody is signed in to the app.
    Locked,
    /// The signed-in profile may not do this.
    Denied,
    /// A wrong PIN, or too many of them.
    Pin,
    /// Something else is running that this must wait for.
    Busy,
    /// Stopped on request.
    Cancelled,
    /// The built-in simulated routers could not start.
    Demo,
    /// The operating system refused (a login item, a dialog).
    System,
    /// A notification channel refused or could not be reached.
    Notification,
    /// A fault in ShareGuard itself.
    Internal,
}

impl ErrorKind {
    /// The kind of an error from the stable class name its own crate gives
    /// it (`kind()` on the router client's, RADIUS client's, report's,
    /// keyring's and notifications' errors; a scan outcome stores the
    /// router's). One table, so every front end reads a class the same way.
    pub fn from_class(class: &str) -> Self {
        match class {
            "invalid_address" | "invalid_input" | "no_secret" | "too_few_identifiers" => {
                Self::InvalidInput
            }
            "unreachable" | "resolve" => Self::Unreachable,
            "timeout" | "no_answer" => Self::Timeout,
            "auth" => Self::Auth,
            "tls" => Self::Tls,
            "cancelled" => Self::Cancelled,
            "trap" | "fatal" | "protocol" | "connection_closed" | "io" => Self::Router,
            "storage" => Self::Storage,
            "no_data" => Self::NoData,
            "not_found" => Self::NotFound,
            "write" => Self::Write,
            "keyring_unavailable" => Self::KeyringUnavailable,
            "keyring_locked" => Self::KeyringLocked,
            "keyring_failed" => Self::KeyringFailed,
            "invalid_config" | "unauthorized" | "rejected" | "server_error" | "rate_limited" => {
                Self::Notification
            }
            _ => Self::Internal,
        }
    }
}

/// A failure as a front end shows it: its kind and the message that names
/// the fix. What the router book and the notification channels return.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Something the user entered or chose is not valid; `message` names the fix.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }
}

impl From<crate::EngineError> for Failure {
    fn from(e: crate::EngineError) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}

impl From<&routeros_client::Error> for ErrorKind {
    fn from(e: &routeros_client::Error) -> Self {
        Self::from_class(e.kind())
    }
}

impl From<&radius_dac::DacError> for ErrorKind {
    fn from(e: &radius_dac::DacError) -> Self {
        Self::from_class(e.kind())
    }
}

impl From<&shareguard_store::StoreError> for ErrorKind {
    /// A value the store refused is the caller's to fix; everything else is
    /// the database's.
    fn from(e: &shareguard_store::StoreError) -> Self {
        match e {
            shareguard_store::StoreError::Invalid(_) => Self::InvalidInput,
            _ => Self::Storage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_written_in_snake_case() {
        let json = serde_json::to_string(&[ErrorKind::RuleMissing, ErrorKind::KeyringUnavailable])
            .unwrap();
        assert_eq!(json, r#"["rule_missing","keyring_unavailable"]"#);
    }

    #[test]
    fn classes_map_to_kinds() {
        assert_eq!(ErrorKind::from_class("auth"), ErrorKind::Auth);
        assert_eq!(ErrorKind::from_class("trap"), ErrorKind::Router);
        assert_eq!(
            ErrorKind::from_class("invalid_address"),
            ErrorKind::InvalidInput
        );
        assert_eq!(ErrorKind::from_class("no_answer"), ErrorKind::Timeout);
        assert_eq!(
            ErrorKind::from_class("keyring_locked"),
            ErrorKind::KeyringLocked
        );
        assert_eq!(ErrorKind::from_class("write"), ErrorKind::Write);
        assert_eq!(ErrorKind::from_class("something new"), ErrorKind::Internal);
    }
}
