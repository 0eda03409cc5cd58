//! Notifications beyond the desktop: a generic JSON webhook and a Telegram
//! bot message, sent for the same events as the desktop notification.
//!
//! The configuration (chat id, the webhook's scheme and host) is kept with
//! the settings in SQLite; the bot token and the webhook's full address
//! (which often carries its key) only in the OS keyring. A failed delivery
//! is retried by the webhook crate, then logged and recorded in the audit
//! log; it never holds up a scan or a monitor cycle.

use serde::Serialize;
use shareguard_secrets::SecretKind;
use shareguard_store::{AuditEntry, Permission, Store, SYSTEM_OPERATOR};
use shareguard_webhook::{validate, validate_bot_token, Delivery, Event, Notifier, WebhookConfig};
use tauri::State;

use crate::error::{CommandError, CommandResult};
use crate::state::{blocking, lock, AppState};

/// The settings key of the [`WebhookConfig`].
pub const WEBHOOKS_KEY: &str = "webhooks";
/// The keyring entries' owner name for the bot token and the webhook URL.
const TOKEN_OWNER: &str = "notifications";

/// The notification settings as the settings page shows them.
#[derive(Debug, Serialize, specta::Type)]
pub struct WebhookSettings {
    pub config: WebhookConfig,
    pub has_telegram_token: bool,
    /// Why the keyring cannot be used (and what to install), if it cannot.
    pub keyring: Option<String>,
}

/// One channel's outcome, in words.
#[derive(Debug, Serialize, specta::Type)]
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

/// The configuration as stored: the webhook's address cut to scheme and host.
fn stored_config(s: &Store) -> CommandResult<WebhookConfig> {
    Ok(s.get_setting(WEBHOOKS_KEY)?.unwrap_or_default())
}

/// The stored configuration with the webhook's full address from the
/// keyring. A full address still in the settings (saved before addresses
/// moved to the keyring) is moved there and cut in the settings on the
/// way, when a keyring is available. Blocking.
fn full_config(store: &std::sync::Mutex<Store>) -> CommandResult<WebhookConfig> {
    let mut config = stored_config(&lock(store))?;
    let Some(hook) = config.generic.as_mut() else {
        return Ok(config);
    };
    if hook.is_cut() {
        hook.url = shareguard_secrets::load(SecretKind::WebhookUrl, TOKEN_OWNER)?.ok_or_else(
            || {
                CommandError::invalid(
                    "the webhook's address is not in the keyring: enter it again on the Abuse monitor's notification settings and save",
                )
            },
        )?;
    } else if shareguard_secrets::save(SecretKind::WebhookUrl, TOKEN_OWNER, &hook.url).is_ok() {
        lock(store).set_setting(WEBHOOKS_KEY, &config.for_storage())?;
    }
    Ok(config)
}

/// The configured notifier, or `None` when no channel is set up. The token
/// and the webhook's address are read from the keyring only when their
/// channel is on.
async fn notifier(
    store: &std::sync::Arc<std::sync::Mutex<Store>>,
) -> CommandResult<Option<Notifier>> {
    let store = store.clone();
    blocking(move || {
        // Reads the keyring only for a webhook that is on.
        let config = full_config(&store)?;
        if config.generic.is_none() && config.telegram.is_none() {
            return Ok(None);
        }
        let token = match config.telegram {
            Some(_) => shareguard_secrets::load(SecretKind::TelegramToken, TOKEN_OWNER)?,
            None => None,
        };
        Ok(Some(Notifier::new(config, token)))
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn webhook_settings(state: State<'_, AppState>) -> CommandResult<WebhookSettings> {
    state.require(Permission::View)?;
    // Only the owner sees where exactly notifications go: a webhook URL
    // often carries its key.
    let owner = lock(&state.session)
        .require_owner("see notification addresses")
        .is_ok();
    let store = state.store.clone();
    blocking(move || {
        let config = if owner {
            // A keyring that lost the address still shows the settings
            // (scheme and host), so the owner can enter it again.
            full_config(&store).or_else(|e| {
                tracing::warn!("the webhook's full address cannot be read: {}", e.message);
                stored_config(&lock(&store))
            })?
        } else {
            stored_config(&lock(&store))?.redacted()
        };
        let keyring = shareguard_secrets::availability()
            .err()
            .map(|e| e.to_string());
        let has_telegram_token = keyring.is_none()
            && shareguard_secrets::load(SecretKind::TelegramToken, TOKEN_OWNER)
                .ok()
                .flatten()
                .is_some();
        Ok(WebhookSettings {
            config,
            has_telegram_token,
            keyring,
        })
    })
    .await
}

/// Checks and stores the notification settings; a new bot token and the
/// webhook's full address go to the keyring, never to the database (which
/// keeps the address's scheme and host, for staff and the audit log).
/// Turning a channel off forgets its secret.
#[tauri::command]
#[specta::specta]
pub async fn save_webhooks(
    state: State<'_, AppState>,
    config: WebhookConfig,
    telegram_token: Option<String>,
) -> CommandResult<()> {
    // Where notifications (and the bot token) go is the owner's decision.
    let operator = lock(&state.session).require_owner("change where notifications go")?;
    validate(&config).map_err(|e| CommandError::invalid(e.to_string()))?;
    let token = telegram_token
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    if let Some(t) = &token {
        validate_bot_token(t).map_err(|e| CommandError::invalid(e.to_string()))?;
    }
    let store = state.store.clone();
    blocking(move || {
        match (&config.telegram, token) {
            (Some(_), Some(t)) => {
                shareguard_secrets::save(SecretKind::TelegramToken, TOKEN_OWNER, &t)?
            }
            (Some(_), None) => {
                if shareguard_secrets::load(SecretKind::TelegramToken, TOKEN_OWNER)?.is_none() {
                    return Err(CommandError::invalid(
                        "enter the bot token BotFather gave you (it looks like 123456789:AA...)",
                    ));
                }
            }
            (None, _) => {
                // Nothing to forget when no keyring exists or no token was stored.
                let _ = shareguard_secrets::delete(SecretKind::TelegramToken, TOKEN_OWNER);
            }
        }
        match &config.generic {
            // The address as the settings show it to staff (scheme and host):
            // the one in the keyring stays, if there is one.
            Some(hook) if hook.is_cut() => {
                if shareguard_secrets::load(SecretKind::WebhookUrl, TOKEN_OWNER)?.is_none() {
                    return Err(CommandError::invalid(
                        "enter the webhook's full address (the one your service gave you, with its path)",
                    ));
                }
            }
            Some(hook) => {
                shareguard_secrets::save(SecretKind::WebhookUrl, TOKEN_OWNER, hook.url.trim())?
            }
            None => {
                let _ = shareguard_secrets::delete(SecretKind::WebhookUrl, TOKEN_OWNER);
            }
        }
        let mut s = lock(&store);
        s.set_setting(WEBHOOKS_KEY, &config.for_storage())?;
        s.audit(
            &AuditEntry::new(&operator, "settings_changed")
                .subject("notifications")
                .details(serde_json::to_value(config.redacted()).unwrap_or_default()),
        )?;
        Ok(())
    })
    .await
}

/// Sends a test message to every configured channel.
#[tauri::command]
#[specta::specta]
pub async fn test_webhooks(state: State<'_, AppState>) -> CommandResult<Vec<DeliveryView>> {
    state.require(Permission::Edit)?;
    let Some(n) = notifier(&state.store).await? else {
        return Err(CommandError::invalid(
            "no webhook or Telegram chat is set up yet: enter one and save first",
        ));
    };
    Ok(n.test().await.iter().map(DeliveryView::from).collect())
}

/// Sends `event` to the configured channels; failures are logged and kept
/// in the audit log. Does nothing when no channel is set up.
pub async fn deliver(store: std::sync::Arc<std::sync::Mutex<Store>>, event: Event) {
    let n = match notifier(&store).await {
        Ok(Some(n)) => n,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!("notifications could not be sent: {}", e.message);
            return;
        }
    };
    let failed: Vec<DeliveryView> = n
        .send(&event)
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
    if let Err(e) = blocking(move || Ok(lock(&store).audit(&entry)?)).await {
        tracing::warn!("a failed notification could not be recorded: {}", e.message);
    }
}
