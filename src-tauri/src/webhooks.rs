//! The notification settings' commands: where webhook and Telegram messages
//! go is the engine's `notification_channels`, with the secrets in the OS
//! keyring ([`crate::state::KeyringSecrets`]).

use shareguard_engine::notification_channels::{DeliveryView, WebhookSettings};
use shareguard_store::Permission;
use shareguard_webhook::WebhookConfig;
use tauri::State;

use crate::error::CommandResult;
use crate::state::{lock, AppState};

#[tauri::command]
#[specta::specta]
pub async fn webhook_settings(state: State<'_, AppState>) -> CommandResult<WebhookSettings> {
    state.require(Permission::View)?;
    // Only the owner sees where exactly notifications go: a webhook URL
    // often carries its key.
    let owner = lock(&state.session)
        .require_owner("see notification addresses")
        .is_ok();
    Ok(state.channels().settings(owner).await?)
}

/// Checks and stores the notification settings; the bot token and the
/// webhook's full address go to the keyring, never to the database.
#[tauri::command]
#[specta::specta]
pub async fn save_webhooks(
    state: State<'_, AppState>,
    config: WebhookConfig,
    telegram_token: Option<String>,
) -> CommandResult<()> {
    // Where notifications (and the bot token) go is the owner's decision.
    let operator = lock(&state.session).require_owner("change where notifications go")?;
    Ok(state
        .channels()
        .save(&operator, config, telegram_token)
        .await?)
}

/// Sends a test message to every configured channel.
#[tauri::command]
#[specta::specta]
pub async fn test_webhooks(state: State<'_, AppState>) -> CommandResult<Vec<DeliveryView>> {
    state.require(Permission::Edit)?;
    Ok(state.channels().test().await?)
}
