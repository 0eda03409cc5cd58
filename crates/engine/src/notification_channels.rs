//! Notifications beyond the desktop: a generic JSON webhook and a Telegram
//! bot message, sent for the same events as the desktop notification.
//!
//! The configuration (chat id, the webhook's scheme and host) is kept with
//! the settings in the store; the bot token and the webhook's full address
//! (which often carries its key) only in the front end's [`SecretSource`].
//! A failed delivery is retried by the webhook crate, then logged and
//! recorded in the audit log; it never holds up a scan or a monitor cycle.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use shareguard_store::{AuditEntry, Store, SYSTEM_OPERATOR};
use shareguard_webhook::{validate, validate_bot_token, Delivery, Event, Notifier, WebhookConfig};

use crate::error_kind::Failure;
use crate::persist::store_task;
use crate::secrets::{blocking, Secret, SecretSource};

/// The settings key of the [`WebhookConfig`].
pub const WEBHOOKS_KEY: &str = "webhooks";
/// The owner name the bot token and the webhook's address are kept under.
pub const SECRETS_OWNER: &str = "notifications";

/// The notification settings as the settings page shows them.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WebhookSettings {
    pub config: WebhookConfig,
    pub has_telegram_token: bool,
    /// Why the keyring cannot be used (and what to install), if it cannot.
    pub keyring: Option<String>,
}

/// One channel's outcome, in words.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeliveryView {
    pub target: String,
    pub ok: bool,
    pub attempts: Option<u32>,
    pub message: String,
}

impl From<&Delivery> for DeliveryView {
    fn from(d: &Delivery) -> Self {
        match &d.result {
            Ok(ok) => Self {
                target: d.target.to_string(),
                ok: true,
                attempts: Some(ok.attempts),
                message: format!(
                    "{} accepted the message (HTTP {}){}",
                    d.target,
                    ok.status,
                    if ok.attempts > 1 {
                        format!(" after {} tries", ok.attempts)
                    } else {
                        String::new()
                    }
                ),
            },
            Err(e) => Self {
                target: d.target.to_string(),
                ok: false,
                attempts: None,
                message: e.to_string(),
            },
        }
    }
}

/// The notification channels of one store, with their secrets.
pub struct Channels<S: SecretSource> {
    store: Arc<Mutex<Store>>,
    secrets: Arc<S>,
}

impl<S: SecretSource> Channels<S> {
    pub fn new(store: Arc<Mutex<Store>>, secrets: Arc<S>) -> Self {
        Self { store, secrets }
    }

    /// The settings as the settings page shows them. With `addresses` (the
    /// owner) the webhook's full address is read from the secrets; without,
    /// only its scheme and host, since the address often carries its key.
    /// A secret store that lost the address still shows scheme and host, so
    /// the owner can enter it again.
    pub async fn settings(&self, addresses: bool) -> Result<WebhookSettings, Failure> {
        let stored = self.stored().await?;
        let config = if addresses {
            match self.with_full_address(stored.clone()).await {
                Ok(config) => config,
                Err(e) => {
                    tracing::warn!("the webhook's full address cannot be read: {e}");
                    stored
                }
            }
        } else {
            stored.redacted()
        };
        let secrets = self.secrets.clone();
        blocking(move || {
            let keyring = secrets.unavailable();
            let has_telegram_token =
                keyring.is_none() && secrets.has(Secret::TelegramToken, SECRETS_OWNER);
            WebhookSettings {
                config,
                has_telegram_token,
                keyring,
            }
        })
        .await
    }

    /// Checks and stores the settings, recorded as `operator`'s change. A new
    /// bot token and the webhook's full address go to the secrets, never to
    /// the store (which keeps the address's scheme and host, for staff and
    /// the audit log). Turning a channel off forgets its secret.
    pub async fn save(
        &self,
        operator: &str,
        config: WebhookConfig,
        telegram_token: Option<String>,
    ) -> Result<(), Failure> {
        validate(&config).map_err(|e| Failure::invalid(e.to_string()))?;
        let token = telegram_token
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        if let Some(t) = &token {
            validate_bot_token(t).map_err(|e| Failure::invalid(e.to_string()))?;
        }
        let secrets = self.secrets.clone();
        let checked = config.clone();
        blocking(move || keep_secrets(&*secrets, &checked, token)).await??;
        let entry = AuditEntry::new(operator, "settings_changed")
            .subject("notifications")
            .details(serde_json::to_value(config.redacted()).unwrap_or_default());
        store_task(&self.store, move |s| {
            s.set_setting_audited(WEBHOOKS_KEY, &config.for_storage(), &entry)
        })
        .await?;
        Ok(())
    }

    /// Sends a test message to every configured channel.
    pub async fn test(&self) -> Result<Vec<DeliveryView>, Failure> {
        let Some(n) = self.notifier().await? else {
            return Err(Failure::invalid(
                "no webhook or Telegram chat is set up yet: enter one and save first",
            ));
        };
        Ok(n.test().await.iter().map(DeliveryView::from).collect())
    }

    /// Sends `event` to the configured channels; failures are logged and
    /// kept in the audit log. Does nothing when no channel is set up.
    pub async fn deliver(&self, event: &Event) {
        let n = match self.notifier().await {
            Ok(Some(n)) => n,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!("notifications could not be sent: {e}");
                return;
            }
        };
        let failed: Vec<DeliveryView> = n
            .send(event)
            .await
            .iter()
            .map(DeliveryView::from)
            .filter(|d| !d.ok)
            .collect();
        if failed.is_empty() {
            return;
        }
        for f in &failed {
            tracing::warn!("{} notification failed: {}", f.target, f.message);
        }
        let entry = AuditEntry::new(SYSTEM_OPERATOR, "notification_failed")
            .details(serde_json::json!({ "title": event.title, "failed": failed }));
        if let Err(e) = store_task(&self.store, move |s| s.audit(&entry)).await {
            tracing::warn!("a failed notification could not be recorded: {e}");
        }
    }

    /// The configured notifier, or `None` when no channel is set up. The
    /// token and the webhook's address are read from the secrets only when
    /// their channel is on.
    async fn notifier(&self) -> Result<Option<Notifier>, Failure> {
        let config = self.with_full_address(self.stored().await?).await?;
        if config.generic.is_none() && config.telegram.is_none() {
            return Ok(None);
        }
        let token = match config.telegram {
            Some(_) => {
                let secrets = self.secrets.clone();
                blocking(move || secrets.load(Secret::TelegramToken, SECRETS_OWNER)).await??
            }
            None => None,
        };
        Ok(Some(Notifier::new(config, token)))
    }

    /// `stored` with the webhook's full address from the secrets (read only
    /// when a webhook is on). A full address still in the settings (saved
    /// before addresses moved to the secrets) is moved there and cut in the
    /// settings on the way, when the secrets take it.
    async fn with_full_address(&self, stored: WebhookConfig) -> Result<WebhookConfig, Failure> {
        if stored.generic.is_none() {
            return Ok(stored);
        }
        let secrets = self.secrets.clone();
        let (config, moved) = blocking(move || full_config(&*secrets, stored)).await??;
        if moved {
            let kept = config.for_storage();
            store_task(&self.store, move |s| s.set_setting(WEBHOOKS_KEY, &kept)).await?;
        }
        Ok(config)
    }

    /// The configuration as stored: the webhook's address cut to scheme and host.
    async fn stored(&self) -> Result<WebhookConfig, Failure> {
        Ok(store_task(&self.store, |s| s.get_setting(WEBHOOKS_KEY))
            .await?
            .unwrap_or_default())
    }
}

/// `stored` with the webhook's full address from the secrets, and whether
/// a full address found in the settings was just moved to the secrets (the
/// settings then have to be cut). Blocking.
fn full_config<S: SecretSource + ?Sized>(
    secrets: &S,
    mut config: WebhookConfig,
) -> Result<(WebhookConfig, bool), Failure> {
    let Some(hook) = config.generic.as_mut() else {
        return Ok((config, false));
    };
    if hook.is_cut() {
        hook.url = secrets
            .load(Secret::WebhookUrl, SECRETS_OWNER)?
            .ok_or_else(|| {
                Failure::invalid(
                    "the webhook's address is not in the keyring: enter it again on the Abuse monitor's notification settings and save",
                )
            })?;
        return Ok((config, false));
    }
    let moved = secrets
        .save(Secret::WebhookUrl, SECRETS_OWNER, &hook.url)
        .is_ok();
    Ok((config, moved))
}

/// Saves or forgets the secrets `config` needs. A cut address (scheme and
/// host, as the settings show it to staff) keeps the address already kept,
/// and is refused when there is none. Blocking.
fn keep_secrets<S: SecretSource + ?Sized>(
    secrets: &S,
    config: &WebhookConfig,
    token: Option<String>,
) -> Result<(), Failure> {
    match (&config.telegram, token) {
        (Some(_), Some(t)) => secrets.save(Secret::TelegramToken, SECRETS_OWNER, &t)?,
        (Some(_), None) => {
            if secrets
                .load(Secret::TelegramToken, SECRETS_OWNER)?
                .is_none()
            {
                return Err(Failure::invalid(
                    "enter the bot token BotFather gave you (it looks like 123456789:AA...)",
                ));
            }
        }
        (None, _) => {
            // Nothing to forget when no keyring exists or no token was stored.
            let _ = secrets.delete(Secret::TelegramToken, SECRETS_OWNER);
        }
    }
    match &config.generic {
        Some(hook) if hook.is_cut() => {
            if secrets.load(Secret::WebhookUrl, SECRETS_OWNER)?.is_none() {
                return Err(Failure::invalid(
                    "enter the webhook's full address (the one your service gave you, with its path)",
                ));
            }
        }
        Some(hook) => secrets.save(Secret::WebhookUrl, SECRETS_OWNER, hook.url.trim())?,
        None => {
            let _ = secrets.delete(Secret::WebhookUrl, SECRETS_OWNER);
        }
    }
    Ok(())
}
