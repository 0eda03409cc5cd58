//! Disconnect commands and the automatic disconnect after a scan. The path
//! itself (lookup, RADIUS or API, record) is the engine's; this module finds
//! the router, checks who asks and tells the owner.

use radius_dac::DacClient;
use serde::Serialize;
use shareguard_detect::SubscriberResult;
use shareguard_engine::enforce::DisconnectReport;
use shareguard_engine::sharing_actions::{
    self, AutoOutcome, DisconnectError, Router, SharingActions, SHARING_ACTIONS_KEY,
};
use shareguard_secrets::SecretKind;
use shareguard_store::{NasRecord, Permission, DEMO_ROUTER_PREFIX};
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::error::{CommandError, CommandResult};
use crate::input::check_subscriber;
use crate::routers::stored_target;
use crate::state::{blocking, lock, AppState};

impl From<DisconnectError> for CommandError {
    fn from(e: DisconnectError) -> Self {
        CommandError {
            rules: e.missing_rules().to_vec(),
            ..Self::new(e.kind(), e.to_string())
        }
    }
}

/// A stored router as actions reach it: its scan target (password from the
/// keyring) and, when RADIUS is set up for it, its shared secret from the
/// keyring and its resolved address.
async fn stored_router(rec: NasRecord) -> CommandResult<Router> {
    let (target, radius) = blocking(move || {
        let target = stored_target(&rec)?;
        let radius = match rec.radius_port {
            None => None,
            Some(port) => {
                let secret = shareguard_secrets::load(SecretKind::RadiusSecret, &rec.name)?
                    .ok_or_else(|| {
                        CommandError::invalid(format!(
                            "RADIUS is on for {} but no shared secret is stored: edit the router and enter it",
                            rec.name
                        ))
                    })?;
                Some((rec.host, port, secret))
            }
        };
        Ok((target, radius))
    })
    .await?;
    let radius = match radius {
        None => None,
        Some((host, port, secret)) => Some(
            DacClient::resolve(&host, port, secret)
                .await
                .map_err(|e| CommandError::invalid(e.to_string()))?,
        ),
    };
    Ok(Router { target, radius })
}

/// Every router actions may need: the demo's, then the stored ones (those
/// whose secrets cannot be read are left out and logged).
pub(crate) async fn action_routers(state: &AppState) -> CommandResult<Vec<Router>> {
    let mut out = match state.demo.lock().await.as_ref() {
        Some(d) => d.routers(),
        None => Vec::new(),
    };
    let records = state.with_store(move |s| Ok(s.list_nas()?)).await?;
    for rec in records {
        let name = rec.name.clone();
        match stored_router(rec).await {
            Ok(r) => out.push(r),
            Err(e) => tracing::warn!("router {name} cannot be acted on: {}", e.message),
        }
    }
    Ok(out)
}

/// The router by name, with the reason it cannot be used in words.
pub(crate) async fn action_router(state: &AppState, name: &str) -> CommandResult<Router> {
    if let Some(r) = state
        .demo
        .lock()
        .await
        .as_ref()
        .and_then(|d| d.routers().into_iter().find(|r| r.target.name == name))
    {
        return Ok(r);
    }
    let store = state.store.clone();
    let wanted = name.to_string();
    let rec = blocking(move || {
        lock(&store).get_nas(&wanted)?.ok_or_else(|| {
            CommandError::invalid(if wanted.starts_with(DEMO_ROUTER_PREFIX) {
                format!(
                    "the demo's router {wanted:?} stopped when ShareGuard closed: \
                     restart the demo (at the top of the window) to act on its subscribers"
                )
            } else {
                format!("the router {wanted:?} is not configured any more: scan again")
            })
        })
    })
    .await?;
    stored_router(rec).await
}

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
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "disconnected from the results".into());
    if reason.len() > 500 {
        return Err(CommandError::invalid(
            "keep the reason under 500 characters",
        ));
    }
    let store = state.store.clone();
    let wanted = name.clone();
    let nas = blocking(move || {
        lock(&store).result(&wanted)?.map(|r| r.nas).ok_or_else(|| {
            CommandError::invalid(format!("no scan has seen {wanted:?}: scan first"))
        })
    })
    .await?;
    let router = action_router(&state, &nas).await?;
    Ok(sharing_actions::disconnect_and_record(
        &state.store,
        &router,
        &name,
        &operator,
        &reason,
        false,
    )
    .await?)
}

/// Resumes automatic actions after the circuit breaker tripped.
#[tauri::command]
#[specta::specta]
pub async fn reset_breaker(state: State<'_, AppState>) -> CommandResult<bool> {
    let operator = state.require(Permission::Edit)?;
    state
        .with_store(move |s| Ok(sharing_actions::reset_breaker(s, &operator)?))
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
    let store = state.store.clone();
    let settings = blocking(move || {
        let s: SharingActions = lock(&store)
            .get_setting(SHARING_ACTIONS_KEY)?
            .unwrap_or_default();
        Ok(s)
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
    let routers = match action_routers(&state).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("automatic disconnect skipped: {}", e.message);
            return;
        }
    };
    let out: AutoOutcome =
        match sharing_actions::auto_disconnect(&state.store, &settings, &routers, results).await {
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
