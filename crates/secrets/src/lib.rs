//! Secrets live in the operating system's credential store: the macOS
//! Keychain, the Windows Credential Manager, or a Secret Service (GNOME
//! Keyring, KeePassXC) on Linux. Nothing here ever writes a secret to a file,
//! and when no store is available the error says what to install instead of
//! falling back to plain text.
//!
//! The calls block (D-Bus, Keychain): async callers run them on a blocking
//! thread.

use thiserror::Error;

/// The service name every ShareGuard entry is filed under.
pub const SERVICE: &str = "net.shareguard.app";

/// What a secret is for; part of the entry's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// The RouterOS API password of a router.
    RouterPassword,
    /// The RADIUS shared secret used for Disconnect/CoA to a router.
    RadiusSecret,
    /// The owner's Telegram bot token for notifications.
    TelegramToken,
    /// The generic webhook's full address, which often carries its key.
    WebhookUrl,
}

impl SecretKind {
    fn prefix(self) -> &'static str {
        match self {
            Self::RouterPassword => "router",
            Self::RadiusSecret => "radius",
            Self::TelegramToken => "telegram",
            Self::WebhookUrl => "webhook",
        }
    }
}

#[derive(Debug, Error)]
pub enum SecretError {
    #[error("no keyring is available on this computer ({detail}). {fix}")]
    Unavailable { detail: String, fix: &'static str },
    #[error("the keyring is locked or refused access ({0}): unlock it (log in to the desktop session, or open your keyring app) and try again")]
    Locked(String),
    #[error("the keyring failed: {0}")]
    Platform(String),
    #[error("{0}")]
    Invalid(String),
}

impl SecretError {
    /// A stable class name for the UI.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unavailable { .. } => "keyring_unavailable",
            Self::Locked(_) => "keyring_locked",
            Self::Platform(_) => "keyring_failed",
            Self::Invalid(_) => "invalid_input",
        }
    }
}

/// What to do when there is no credential store, by platform.
fn fix() -> &'static str {
    if cfg!(target_os = "linux") {
        "Install and start a Secret Service: on Debian or Ubuntu `sudo apt install gnome-keyring` (or use KeePassXC with its Secret Service integration), then log out and in again. ShareGuard never stores passwords in plain text."
    } else if cfg!(target_os = "macos") {
        "The macOS Keychain could not be opened: check Keychain Access and that this user has a login keychain."
    } else if cfg!(target_os = "windows") {
        "The Windows Credential Manager could not be opened: check that the Credential Manager service is running."
    } else {
        "This platform has no supported credential store."
    }
}

fn map(e: keyring::Error) -> SecretError {
    use keyring::Error as E;
    match e {
        E::NoDefaultStore => SecretError::Unavailable {
            detail: "no credential store found".into(),
            fix: fix(),
        },
        E::NoStorageAccess(p) => SecretError::Locked(p.to_string()),
        E::PlatformFailure(p) => {
            let text = p.to_string();
            // A missing D-Bus service or session bus means there is no store at all.
            if text.contains("ServiceUnknown")
                || text.contains("org.freedesktop.secrets")
                || text.contains("DBUS_SESSION_BUS_ADDRESS")
                || text.contains("No such file")
            {
                SecretError::Unavailable {
                    detail: text,
                    fix: fix(),
                }
            } else {
                SecretError::Platform(text)
            }
        }
        E::TooLong(what, limit) => SecretError::Invalid(format!(
            "the {what} is too long for the keyring (limit {limit})"
        )),
        other => SecretError::Platform(other.to_string()),
    }
}

fn entry(kind: SecretKind, owner: &str) -> Result<keyring::Entry, SecretError> {
    let owner = owner.trim();
    if owner.is_empty() || owner.len() > 200 {
        return Err(SecretError::Invalid(
            "a secret must belong to a named router".into(),
        ));
    }
    if let Err(e) = keyring::Entry::store_status() {
        return Err(SecretError::Unavailable {
            detail: e.to_string(),
            fix: fix(),
        });
    }
    keyring::Entry::new(SERVICE, &format!("{}:{owner}", kind.prefix())).map_err(map)
}

/// Whether a credential store can be used, with the reason and fix when not.
pub fn availability() -> Result<(), SecretError> {
    match keyring::Entry::store_status() {
        Ok(()) => Ok(()),
        Err(e) => Err(SecretError::Unavailable {
            detail: e.to_string(),
            fix: fix(),
        }),
    }
}

/// Stores (or replaces) a secret.
pub fn save(kind: SecretKind, owner: &str, secret: &str) -> Result<(), SecretError> {
    if secret.is_empty() {
        return Err(SecretError::Invalid(
            "an empty password cannot be stored".into(),
        ));
    }
    entry(kind, owner)?.set_password(secret).map_err(map)
}

/// Reads a secret; `None` when none is stored.
pub fn load(kind: SecretKind, owner: &str) -> Result<Option<String>, SecretError> {
    match entry(kind, owner)?.get_password() {
        Ok(s) => Ok(Some(s)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(map(e)),
    }
}

/// Removes a secret; removing one that is not there is not an error.
pub fn delete(kind: SecretKind, owner: &str) -> Result<(), SecretError> {
    match entry(kind, owner)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(map(e)),
    }
}
