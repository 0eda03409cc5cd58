//! Operator profiles: listing, saving and removing them (owner only),
//! switching with a PIN, and locking the app.

use serde::Deserialize;
use shareguard_store::{Operator, Permission};
use tauri::State;

use crate::error::CommandResult;
use crate::state::{blocking, lock, AppState};

#[derive(Debug, Deserialize, specta::Type)]
pub struct OperatorInput {
    pub name: String,
    /// Empty or absent keeps the stored PIN of an existing profile.
    #[serde(default)]
    pub pin: Option<String>,
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

#[tauri::command]
#[specta::specta]
pub async fn list_operators(state: State<'_, AppState>) -> CommandResult<Vec<Operator>> {
    lock(&state.session).require_owner("manage profiles")?;
    state.with_store(move |s| Ok(s.operators()?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn save_operator(state: State<'_, AppState>, input: OperatorInput) -> CommandResult<()> {
    let by = lock(&state.session).require_owner("manage profiles")?;
    let saved = state
        .with_store(move |s| {
            let pin = input.pin.filter(|p| !p.is_empty());
            s.save_operator(input.name.trim(), pin.as_deref(), input.permissions, &by)?;
            Ok(())
        })
        .await;
    refresh(&state)?;
    saved
}

#[tauri::command]
#[specta::specta]
pub async fn remove_operator(state: State<'_, AppState>, name: String) -> CommandResult<()> {
    let by = lock(&state.session).require_owner("manage profiles")?;
    let removed = state
        .with_store(move |s| {
            if !s.remove_operator(&name, &by)? {
                return Err(crate::error::CommandError::invalid(format!(
                    "there is no profile named {name:?}"
                )));
            }
            Ok(())
        })
        .await;
    refresh(&state)?;
    removed
}

fn refresh(state: &AppState) -> CommandResult<()> {
    let store = lock(&state.store);
    lock(&state.session).refresh(&store)?;
    Ok(())
}

/// Switches to a profile; the PIN is checked against its stored hash.
#[tauri::command]
#[specta::specta]
pub async fn switch_operator(
    state: State<'_, AppState>,
    name: String,
    pin: String,
) -> CommandResult<Operator> {
    // Argon2 takes a moment: off the async runtime.
    let store = state.store.clone();
    let session = state.session.clone();
    blocking(move || {
        // Always the store first, then the session (as everywhere else).
        let mut store = lock(&store);
        let mut session = lock(&session);
        Ok(session.switch(&mut store, &name, &pin, std::time::Instant::now())?)
    })
    .await
}

/// Locks the app until someone enters a PIN (no effect without staff profiles).
#[tauri::command]
#[specta::specta]
pub fn lock_app(state: State<'_, AppState>) -> CommandResult<()> {
    let store = lock(&state.store);
    lock(&state.session).lock(&store)?;
    Ok(())
}
