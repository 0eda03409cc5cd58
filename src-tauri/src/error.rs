//! The one error type commands return: a kind from the engine's single
//! vocabulary ([`ErrorKind`], the same the CLI's exit codes come from) for
//! the window's logic, and a message for the owner that names the fix.

use serde::Serialize;
use shareguard_engine::ErrorKind;

#[derive(Debug, Serialize, specta::Type)]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
    /// With `rule_missing`: the router commands that would install what is
    /// missing, for the window to show before it offers to install them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[specta(optional)]
    pub rules: Vec<String>,
}

impl CommandError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            rules: Vec::new(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }
}

impl From<shareguard_store::StoreError> for CommandError {
    fn from(e: shareguard_store::StoreError) -> Self {
        Self::new((&e).into(), e.to_string())
    }
}

impl From<shareguard_engine::EngineError> for CommandError {
    fn from(e: shareguard_engine::EngineError) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}

impl From<routeros_client::Error> for CommandError {
    fn from(e: routeros_client::Error) -> Self {
        Self::new((&e).into(), e.to_string())
    }
}

impl From<shareguard_secrets::SecretError> for CommandError {
    fn from(e: shareguard_secrets::SecretError) -> Self {
        Self::new(ErrorKind::from_class(e.kind()), e.to_string())
    }
}

impl From<shareguard_engine::actions::ActionError> for CommandError {
    fn from(e: shareguard_engine::actions::ActionError) -> Self {
        CommandError {
            rules: e.missing_rules().to_vec(),
            ..Self::new(e.kind(), e.to_string())
        }
    }
}

impl From<shareguard_engine::access::AccessError> for CommandError {
    fn from(e: shareguard_engine::access::AccessError) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}

impl From<shareguard_report::ReportError> for CommandError {
    fn from(e: shareguard_report::ReportError) -> Self {
        Self::new(ErrorKind::from_class(e.kind()), e.to_string())
    }
}

impl From<shareguard_engine::Failure> for CommandError {
    fn from(e: shareguard_engine::Failure) -> Self {
        Self::new(e.kind, e.message)
    }
}

pub type CommandResult<T> = Result<T, CommandError>;
