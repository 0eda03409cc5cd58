//! What can go wrong in a step on a router, and the time budget every step
//! runs within.

use std::time::Duration;

use radius_dac::DacError;
use thiserror::Error;

use crate::error_kind::ErrorKind;

#[derive(Debug, Error)]
pub enum ActionError {
    #[error(transparent)]
    Router(#[from] routeros_client::Error),
    #[error(transparent)]
    Radius(#[from] DacError),
    #[error("{0} is on the whitelist: remove them from it first if they must be acted on")]
    Whitelisted(String),
    #[error("{subscriber} is not online on {nas}: there is no session to end")]
    NotOnline { subscriber: String, nas: String },
    #[error("{nas} refused the {request} for {subscriber}: {why}")]
    Refused {
        subscriber: String,
        nas: String,
        request: &'static str,
        why: String,
    },
    #[error("{nas} refused the {request} for {subscriber}: {why}")]
    Nak {
        subscriber: String,
        nas: String,
        request: &'static str,
        cause: Option<u32>,
        why: String,
    },
    /// The router lacks the firewall rules the step needs: `rules` are the
    /// commands that would install them (also in `why`, for a terminal),
    /// so a window can offer to install them without reading the text.
    #[error("{nas} refused the {request} for {subscriber}: {why}")]
    RuleMissing {
        subscriber: String,
        nas: String,
        request: &'static str,
        why: String,
        rules: Vec<String>,
    },
    #[error("{nas} took the rule, but {why}")]
    Misplaced { nas: String, why: String },
    /// The step cannot be planned (for example the chosen probe interface
    /// does not exist); the message names the fix.
    #[error("{0}")]
    Plan(String),
    #[error("{nas} did not finish the action within {} s: check the link to the router, then look at what the step touches there (the subscriber's session, the firewall rules) before trying again", .after.as_secs())]
    Timeout { nas: String, after: Duration },
    /// The local database failed before anything was sent to a router.
    #[error(transparent)]
    Storage(crate::EngineError),
    /// The router was changed, but the change could not be recorded.
    #[error("the router was changed, but the audit log could not be written: {0}")]
    Record(#[from] crate::EngineError),
}

impl ActionError {
    /// What kind of failure this is, for the window and the exit code.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Router(e) => e.into(),
            Self::Radius(e) => e.into(),
            Self::Whitelisted(_) => ErrorKind::Whitelisted,
            Self::NotOnline { .. } => ErrorKind::NotOnline,
            Self::Refused { .. } | Self::Nak { .. } => ErrorKind::Refused,
            Self::RuleMissing { .. } => ErrorKind::RuleMissing,
            Self::Misplaced { .. } => ErrorKind::Misplaced,
            Self::Plan(_) => ErrorKind::InvalidInput,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Storage(e) | Self::Record(e) => e.kind(),
        }
    }

    /// The rules to install, when that is why the step was refused.
    pub fn missing_rules(&self) -> &[String] {
        match self {
            Self::RuleMissing { rules, .. } => rules,
            _ => &[],
        }
    }
}

/// Runs an action on `nas` within `budget`, so a router that stops answering
/// mid-action ends in a timeout error instead of a hang.
pub(crate) async fn within<T>(
    nas: &str,
    budget: Duration,
    job: impl std::future::Future<Output = Result<T, ActionError>>,
) -> Result<T, ActionError> {
    tokio::time::timeout(budget, job)
        .await
        .map_err(|_| ActionError::Timeout {
            nas: nas.to_string(),
            after: budget,
        })?
}
