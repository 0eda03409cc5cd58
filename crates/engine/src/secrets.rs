//! Where a front end keeps secrets: the OS keyring in the desktop app, a
//! map in the engine's tests. The engine never reads a keyring itself; it
//! asks the [`SecretSource`] it was given, on the blocking pool.

use crate::error_kind::{ErrorKind, Failure};

/// Which secret, of whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Secret {
    /// A router's RouterOS API password (owner: the router's name).
    RouterPassword,
    /// A router's RADIUS shared secret for Disconnect and CoA.
    RadiusSecret,
    /// The Telegram bot token (owner: [`crate::notification_channels::SECRETS_OWNER`]).
    TelegramToken,
    /// The generic webhook's full address, which often carries its key.
    WebhookUrl,
}

/// Where secrets are kept. Calls may block (a keyring may ask the operating
/// system); they are made on the blocking pool. A store that cannot be read
/// fails with its kind and the message that names the fix (unlock the
/// keyring, install one).
pub trait SecretSource: Send + Sync + 'static {
    /// The secret, `None` when none is stored.
    fn load(&self, which: Secret, owner: &str) -> Result<Option<String>, Failure>;
    fn save(&self, which: Secret, owner: &str, secret: &str) -> Result<(), Failure>;
    /// Forgets the secret; forgetting one that is not there is no error.
    fn delete(&self, which: Secret, owner: &str) -> Result<(), Failure>;
    /// Whether the secret is stored; a store that cannot be read has none
    /// to offer.
    fn has(&self, which: Secret, owner: &str) -> bool {
        matches!(self.load(which, owner), Ok(Some(_)))
    }
    /// Why no secret can be kept at all (no keyring installed, and what to
    /// install), if that is so.
    fn unavailable(&self) -> Option<String> {
        None
    }
}

/// Runs `f` (which asks the secret store) on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        Failure::new(
            ErrorKind::Internal,
            format!("a secret lookup stopped unexpectedly: {e}"),
        )
    })
}
