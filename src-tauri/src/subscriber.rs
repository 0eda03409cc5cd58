//! Everything known about one subscriber, for the page an owner reads before
//! calling the customer.

use serde::Serialize;
use shareguard_detect::SubscriberResult;
use shareguard_store::{AuditFilter, AuditRecord, HistoryEntry, WhitelistEntry};
use tauri::State;

use crate::commands::blocking;
use crate::error::{CommandError, CommandResult};
use crate::state::{lock, AppState};

#[derive(Debug, Serialize)]
pub struct SubscriberDetail {
    pub result: Option<SubscriberResult>,
    /// Newest first.
    pub history: Vec<HistoryEntry>,
    pub whitelist: Option<WhitelistEntry>,
    pub audit: Vec<AuditRecord>,
}

#[tauri::command]
pub async fn subscriber_detail(
    state: State<'_, AppState>,
    subscriber: String,
) -> CommandResult<SubscriberDetail> {
    state.require(shareguard_store::Permission::View)?;
    let name = crate::commands::check_subscriber(&subscriber)?;
    let store = state.store.clone();
    blocking(move || {
        let s = lock(&store);
        let result = s.result(&name)?;
        let history = s.subscriber_history(&name, 100)?;
        let now = chrono::Utc::now();
        let whitelist = s
            .whitelist_list(false)?
            .into_iter()
            .find(|w| w.subscriber == name && w.is_active(now));
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
            audit,
        })
    })
    .await
}
