//! Everything known about one subscriber, for the page an owner reads before
//! calling the customer.

use serde::Serialize;
use shareguard_detect::SubscriberResult;
use shareguard_store::{
    AuditFilter, AuditRecord, HistoryEntry, LineDistanceEntry, Permission, WhitelistEntry,
};
use tauri::State;

use crate::error::{CommandError, CommandResult};
use crate::state::AppState;

#[derive(Debug, Serialize, specta::Type)]
pub struct SubscriberDetail {
    pub result: Option<SubscriberResult>,
    /// Newest first.
    pub history: Vec<HistoryEntry>,
    pub whitelist: Option<WhitelistEntry>,
    /// The distance the owner set for this line, if any.
    pub distance: Option<LineDistanceEntry>,
    pub audit: Vec<AuditRecord>,
}

#[tauri::command]
#[specta::specta]
pub async fn subscriber_detail(
    state: State<'_, AppState>,
    subscriber: String,
) -> CommandResult<SubscriberDetail> {
    state.require(Permission::View)?;
    let name = crate::input::check_subscriber(&subscriber)?;
    state
        .with_store(move |s| {
            let result = s.result(&name)?;
            let history = s.subscriber_history(&name, 100)?;
            let now = chrono::Utc::now();
            let whitelist = s
                .whitelist_list(false)?
                .into_iter()
                .find(|w| w.subscriber == name && w.is_active(now));
            let distance = s
                .line_distances()?
                .into_iter()
                .find(|d| d.subscriber == name);
            let audit = s.audit_log(&AuditFilter {
                subject: Some(name.clone()),
                limit: Some(200),
                ..Default::default()
            })?;
            if result.is_none() && history.is_empty() {
                return Err(CommandError::invalid(format!(
                    "no scan has seen a subscriber named {name:?}"
                )));
            }
            Ok(SubscriberDetail {
                result,
                history,
                whitelist,
                distance,
                audit,
            })
        })
        .await
}

/// Sets how far the subscriber's devices are from the router (`hops`), or
/// goes back to the router's setting and what scans learn (`None`). Used
/// from the next scan on; audited.
#[tauri::command]
#[specta::specta]
pub async fn set_line_distance(
    state: State<'_, AppState>,
    subscriber: String,
    hops: Option<u8>,
    note: String,
) -> CommandResult<()> {
    let operator = state.require(Permission::Edit)?;
    let name = crate::input::check_subscriber(&subscriber)?;
    let note = note.trim().to_string();
    if note.len() > 500 {
        return Err(CommandError::invalid("keep the note under 500 characters"));
    }
    state
        .with_store(move |s| {
            match hops {
                Some(h) => s.line_distance_set(&name, h, &note, &operator)?,
                None => {
                    s.line_distance_clear(&name, &operator)?;
                }
            }
            Ok(())
        })
        .await
}
