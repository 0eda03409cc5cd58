//! The one error type commands return: a stable kind for the UI's logic and
//! a message for the owner that names the fix.

use serde::Serialize;

#[derive(Debug, Serialize, specta::Type)]
pub struct CommandError {
    pub kind: &'static str,
    pub message: String,
    /// With `rule_missing`: the router commands that would install what is
    /// missing, for the window to show before it offers to install them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
}

impl CommandError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            rules: Vec::new(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("invalid_input", message)
    }
}

impl From<shareguard_store::StoreError> for CommandError {
    fn from(e: shareguard_store::StoreError) -> Self {
        Self::new("storage", e.to_string())
    }
}

impl From<shareguard_engine::EngineError> for CommandError {
    fn from(e: shareguard_engine::EngineError) -> Self {
        Self::new("storage", e.to_string())
    }
}

impl From<routeros_client::Error> for CommandError {
    fn from(e: routeros_client::Error) -> Self {
        Self::new("router", e.to_string())
    }
}

impl From<shareguard_secrets::SecretError> for CommandError {
    fn from(e: shareguard_secrets::SecretError) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}

impl From<shareguard_engine::access::AccessError> for CommandError {
    fn from(e: shareguard_engine::access::AccessError) -> Self {
        use shareguard_engine::access::AccessError as A;
        let kind = match &e {
            A::Locked => "locked",
            A::Denied { .. } | A::OwnerOnly(_) => "denied",
            A::WrongPin(_) | A::Paused { .. } => "pin",
            A::Store(_) => "storage",
        };
        Self::new(kind, e.to_string())
    }
}

impl From<shareguard_engine::probe_ops::ProbeError> for CommandError {
    fn from(e: shareguard_engine::probe_ops::ProbeError) -> Self {
        use shareguard_engine::probe_ops::ProbeError as P;
        match e {
            P::Router(e) => e.into(),
            P::Plan(m) => Self::invalid(m),
        }
    }
}

impl From<shareguard_report::ReportError> for CommandError {
    fn from(e: shareguard_report::ReportError) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}

pub type CommandResult<T> = Result<T, CommandError>;
