//! Router commands: definitions in SQLite, passwords in the OS keyring.

use std::time::Duration;

use serde::Deserialize;
use shareguard_detect::Access;
use shareguard_engine::p2p_rules::{self, P2pChange};
use shareguard_engine::probe_ops::{self, ProbeAction, ProbeReport};
use shareguard_engine::router::Router;
use shareguard_engine::router_book::StoredRouter;
use shareguard_engine::routers::{self, ConnectionCheck};
use shareguard_store::{NasRecord, Permission};
use tauri::State;

use crate::error::{CommandError, CommandResult};
use crate::state::{blocking, AppState};

/// What the router form sends. The password is optional when editing: an
/// empty one keeps the stored password. No `Debug`: it holds secrets.
#[derive(Deserialize, specta::Type)]
pub struct RouterInput {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub username: String,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub tls: bool,
    #[serde(default)]
    pub tls_fingerprint: Option<String>,
    pub access: Access,
    #[serde(default)]
    pub expected_hops: Option<u8>,
    #[serde(default)]
    pub tag: Option<String>,
    /// End sessions by RADIUS Disconnect-Request on this port (3799 on
    /// RouterOS) instead of through the API.
    #[serde(default)]
    pub radius_port: Option<u16>,
    /// The RADIUS shared secret; empty keeps the stored one.
    #[serde(default)]
    pub radius_secret: Option<String>,
}

impl RouterInput {
    /// The definition the form describes, trimmed, TLS on when a
    /// fingerprint is pinned, the access type's usual distance by default.
    fn record(&self) -> NasRecord {
        let mut rec = NasRecord::new(
            self.name.trim(),
            self.host.trim(),
            self.username.trim(),
            self.access,
        );
        rec.port = self.port;
        rec.tls = self.tls
            || self
                .tls_fingerprint
                .as_deref()
                .is_some_and(|f| !f.trim().is_empty());
        rec.tls_fingerprint = self
            .tls_fingerprint
            .clone()
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty());
        rec.expected_hops = self
            .expected_hops
            .unwrap_or(self.access.default_expected_hops());
        rec.tag = self
            .tag
            .clone()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        rec.radius_port = self.radius_port;
        rec
    }
}

/// `Ok(None)` when a keyring is usable, otherwise the words to show.
#[tauri::command]
#[specta::specta]
pub async fn keyring_status() -> CommandResult<Option<String>> {
    blocking(|| {
        Ok(shareguard_secrets::availability()
            .err()
            .map(|e| e.to_string()))
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn list_routers(state: State<'_, AppState>) -> CommandResult<Vec<StoredRouter>> {
    state.require(Permission::View)?;
    Ok(state.router_book().await.list().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn save_router(state: State<'_, AppState>, input: RouterInput) -> CommandResult<()> {
    let operator = state.require(Permission::Edit)?;
    let rec = input.record();
    state
        .router_book()
        .await
        .save(&operator, rec, input.password, input.radius_secret)
        .await?;
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn remove_router(state: State<'_, AppState>, name: String) -> CommandResult<()> {
    let operator = state.require(Permission::Edit)?;
    Ok(state.router_book().await.remove(&operator, &name).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn test_router(
    state: State<'_, AppState>,
    name: String,
) -> CommandResult<ConnectionCheck> {
    state.require(Permission::Scan)?;
    let target = state.router_book().await.target(&name).await?;
    Ok(routers::check_connection(&target, Duration::from_secs(10)).await?)
}

/// The router's TTL probes and the exact commands that installing (or
/// removing) them would send; with `apply`, sends them and records it.
#[tauri::command]
#[specta::specta]
pub async fn probes(
    state: State<'_, AppState>,
    name: String,
    remove: bool,
    apply: bool,
) -> CommandResult<ProbeReport> {
    let operator = state.require(if apply {
        Permission::Edit
    } else {
        Permission::Scan
    })?;
    let target = state.router_book().await.target(&name).await?;
    let what = if remove {
        ProbeAction::Remove
    } else {
        ProbeAction::Install
    };
    Ok(match apply {
        true => probe_ops::change_probes(&state.store, &operator, &target, what).await?,
        false => probe_ops::probes(&target, what, false).await?,
    })
}

/// Shows (no `change`), installs or removes the P2P classification the
/// abuse monitor reads.
#[tauri::command]
#[specta::specta]
pub async fn p2p_rules(
    state: State<'_, AppState>,
    name: String,
    change: Option<P2pChange>,
) -> CommandResult<p2p_rules::P2pRulesReport> {
    let operator = state.require(match change {
        Some(_) => Permission::Edit,
        None => Permission::Scan,
    })?;
    let target = state.router_book().await.target(&name).await?;
    let router = Router {
        target,
        radius: None,
    };
    Ok(match change {
        Some(change) => p2p_rules::change(&state.store, &operator, &router, change).await?,
        None => p2p_rules::look(&router).await?,
    })
}

/// The SHA-256 fingerprint of the certificate a router presents on api-ssl,
/// for the owner to compare with the router's own (`/certificate print`)
/// before pinning it.
#[tauri::command]
#[specta::specta]
pub async fn fetch_fingerprint(
    state: State<'_, AppState>,
    host: String,
    port: u16,
) -> CommandResult<String> {
    state.require(Permission::Edit)?;
    routeros_client::ConnectOptions::parse_router(host.trim(), true)
        .map_err(|e| CommandError::invalid(e.to_string()))?;
    let fp = routeros_client::fetch_fingerprint(host.trim(), port, Duration::from_secs(5)).await?;
    Ok(routeros_client::format_fingerprint(&fp))
}
