//! Disconnect commands and the automatic disconnect after a scan. The path
//! itself (lookup, RADIUS or API, record) is the engine's; this module finds
//! the router, checks who asks and tells the owner.

use serde::Serialize;
use shareguard_detect::SubscriberResult;
use shareguard_engine::actions::disconnect::{self, DisconnectReport};
use shareguard_engine::auto_disconnect::{self, AutoOutcome, SharingActions, SHARING_ACTIONS_KEY};
use shareguard_engine::breaker;
use shareguard_store::Permission;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::error::CommandResult;
use crate::input::{check_subscriber, reason_of};
use crate::state::AppState;

/// Ends a subscriber's session now, on the router of their latest result.
#[tauri::command]
#[specta::specta]
pub async fn disconnect_subscriber(
    state: State<'_, AppState>,
    subscriber: String,
    reason: Option<String>,
) -> CommandResult<DisconnectReport> {
    let operator = state.require(Permission::Act)?;
    let name = check_subscriber(&subscriber)?;
    let reason = reason_of(reason.as_deref(), Some("disconnected from the results"), "")?;
    let router = state.router_book().await.router_of(&name).await?;
    Ok(
        disconnect::disconnect_and_record(&state.store, &router, &name, &operator, &reason, false)
            .await?,
    )
}

/// Resumes automatic actions after the circuit breaker tripped.
#[tauri::command]
#[specta::specta]
pub async fn reset_breaker(state: State<'_, AppState>) -> CommandResult<bool> {
    let operator = state.require(Permission::Edit)?;
    state
        .with_store(move |s| Ok(breaker::reset_breaker(s, &operator)?))
        .await
}

/// What the UI hears after an automatic disconnect.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AutoActionEvent {
    pub disconnected: Vec<String>,
    pub failed: usize,
    pub dry_run: bool,
    pub tripped: bool,
}

/// Runs the automatic disconnect for a finished scan; tells the owner when
/// it acted or when the breaker tripped.
pub async fn after_scan<R: Runtime>(app: &AppHandle<R>, results: &[SubscriberResult]) {
    let state = app.state::<AppState>();
    let settings = state
        .with_store(|s| {
            let a: SharingActions = s.get_setting(SHARING_ACTIONS_KEY)?.unwrap_or_default();
            Ok(a)
        })
        .await;
    // Off (the default): no keyring reads, no router connections.
    let settings = match settings {
        Ok(s) if s.auto_disconnect => s,
        Ok(_) => return,
        Err(e) => {
            tracing::warn!("automatic disconnect skipped: {}", e.message);
            return;
        }
    };
    let routers = match state.router_book().await.routers().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("automatic disconnect skipped: {e}");
            return;
        }
    };
    let out: AutoOutcome =
        match auto_disconnect::auto_disconnect(&state.store, &settings, &routers, results).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!("automatic disconnect failed: {e}");
                return;
            }
        };
    let message = if let Some(t) = &out.tripped {
        Some(format!(
            "Automatic disconnect paused: {} subscribers qualified at once, more than the limit of {}. Check the detection settings, then resume it in Settings.",
            t.candidates, t.cap
        ))
    } else if !out.disconnected.is_empty() {
        Some(format!(
            "{} {} {}{}.",
            if out.dry_run {
                "Dry run: would have disconnected"
            } else {
                "Disconnected"
            },
            out.disconnected.len(),
            if out.disconnected.len() == 1 {
                "subscriber"
            } else {
                "subscribers"
            },
            if out.failed.is_empty() {
                String::new()
            } else {
                format!(" ({} failed, see the audit log)", out.failed.len())
            }
        ))
    } else {
        None
    };
    if let Some(body) = message {
        crate::background::show_notification(app, "ShareGuard", &body);
        let _ = app.emit(
            "auto-actions",
            AutoActionEvent {
                disconnected: out.disconnected,
                failed: out.failed.len(),
                dry_run: out.dry_run,
                tripped: out.tripped.is_some(),
            },
        );
    }
}
