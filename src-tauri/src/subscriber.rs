//! Everything known about one subscriber, for the page an owner reads before
//! calling the customer.

use shareguard_store::{Permission, SubscriberDetail};
use tauri::State;

use crate::error::{CommandError, CommandResult};
use crate::state::AppState;

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
            s.subscriber_detail(&name, chrono::Utc::now())?
                .ok_or_else(|| {
                    CommandError::invalid(format!("no scan has seen a subscriber named {name:?}"))
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
    let note = crate::input::reason_of(Some(&note), Some(""), "")?;
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
