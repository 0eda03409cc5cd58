//! Router commands: definitions in SQLite, passwords in the OS keyring.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use shareguard_detect::Access;
use shareguard_engine::enforce::ActionError;
use shareguard_engine::p2p_rules::{self, P2pChange};
use shareguard_engine::probe_ops::{self, ProbeAction, ProbeReport};
use shareguard_engine::router::Router;
use shareguard_engine::routers::{self, ConnectionCheck};
use shareguard_secrets::SecretKind;
use shareguard_store::{action, AuditEntry, NasRecord, Permission, DEMO_ROUTER_PREFIX};
use tauri::State;

use crate::error::{CommandError, CommandResult};
use crate::state::{blocking, lock, AppState};

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

#[derive(Debug, Serialize, specta::Type)]
pub struct RouterView {
    #[serde(flatten)]
    pub record: NasRecord,
    pub has_password: bool,
    pub has_radius_secret: bool,
}

/// Whether the keyring holds this router's secret of `kind`.
fn has_secret(kind: SecretKind, router: &str) -> bool {
    matches!(shareguard_secrets::load(kind, router), Ok(Some(_)))
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
pub async fn list_routers(state: State<'_, AppState>) -> CommandResult<Vec<RouterView>> {
    state.require(Permission::View)?;
    let records = state.with_store(move |s| Ok(s.list_nas()?)).await?;
    // The keyring after the database's lock is released.
    blocking(move || {
        Ok(records
            .into_iter()
            .map(|record| {
                let has_password = has_secret(SecretKind::RouterPassword, &record.name);
                let has_radius_secret = record.radius_port.is_some()
                    && has_secret(SecretKind::RadiusSecret, &record.name);
                RouterView {
                    record,
                    has_password,
                    has_radius_secret,
                }
            })
            .collect())
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn save_router(state: State<'_, AppState>, input: RouterInput) -> CommandResult<()> {
    let operator = state.require(Permission::Edit)?;
    let mut rec = NasRecord::new(
        input.name.trim(),
        input.host.trim(),
        input.username.trim(),
        input.access,
    );
    rec.port = input.port;
    rec.tls = input.tls
        || input
            .tls_fingerprint
            .as_deref()
            .is_some_and(|f| !f.trim().is_empty());
    rec.tls_fingerprint = input
        .tls_fingerprint
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty());
    rec.expected_hops = input
        .expected_hops
        .unwrap_or(input.access.default_expected_hops());
    rec.tag = input
        .tag
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    rec.radius_port = input.radius_port;
    routers::validate(&rec).map_err(CommandError::invalid)?;
    if rec.name.starts_with(DEMO_ROUTER_PREFIX) {
        return Err(CommandError::invalid(format!(
            "names starting with \"{DEMO_ROUTER_PREFIX}\" are kept for the demo routers"
        )));
    }
    let password = input.password.filter(|p| !p.is_empty());
    let radius_secret = input.radius_secret.filter(|p| !p.is_empty());
    let store = state.store.clone();
    blocking(move || {
        let existing = lock(&store).get_nas(&rec.name)?;
        // Another host, port, user or TLS setting: the stored secrets stay
        // behind, so they are never sent to where they were not meant to go.
        let moved = existing
            .as_ref()
            .is_some_and(|old| routers::connection_changed(old, &rec));
        if moved && password.is_none() {
            return Err(CommandError::invalid(format!(
                "{} now points to another host, port, user or TLS setting: enter its API password again (the stored one is only sent where it was entered for)",
                rec.name
            )));
        }
        if moved && rec.radius_port.is_some() && radius_secret.is_none() {
            return Err(CommandError::invalid(format!(
                "{} now points to another router: enter its RADIUS shared secret again, or turn RADIUS off",
                rec.name
            )));
        }
        if moved && rec.radius_port.is_none() {
            // Nothing to forget when no keyring exists or no secret was stored.
            let _ = shareguard_secrets::delete(SecretKind::RadiusSecret, &rec.name);
        }
        if rec.radius_port.is_some()
            && radius_secret.is_none()
            && !has_secret(SecretKind::RadiusSecret, &rec.name)
        {
            return Err(CommandError::invalid(
                "enter the RADIUS shared secret (the one in /radius on the router), or turn RADIUS off",
            ));
        }
        match &password {
            // The keyring first: a router is never saved half-way with its
            // password lost.
            Some(p) => shareguard_secrets::save(SecretKind::RouterPassword, &rec.name, p)?,
            None if existing.is_none() => {
                return Err(CommandError::invalid("enter the router's API password"))
            }
            None => {}
        }
        if let Some(secret) = &radius_secret {
            shareguard_secrets::save(SecretKind::RadiusSecret, &rec.name, secret)?;
        }
        let mut s = lock(&store);
        let saved = s.upsert_nas(&rec)?;
        let action = if existing.is_some() {
            "nas_updated"
        } else {
            "nas_added"
        };
        s.audit(&AuditEntry::new(&operator, action).subject(&saved.name).details(serde_json::json!({
            "host": saved.host, "port": saved.port, "tls": saved.tls, "access": saved.access,
            "radius_port": saved.radius_port,
        })))?;
        Ok(())
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn remove_router(state: State<'_, AppState>, name: String) -> CommandResult<()> {
    let operator = state.require(Permission::Edit)?;
    let stored = name.clone();
    state
        .with_store(move |s| {
            if !s.remove_nas(&stored)? {
                return Err(CommandError::invalid(format!(
                    "there is no router named {stored:?}"
                )));
            }
            s.audit(&AuditEntry::new(&operator, action::NAS_REMOVED).subject(&stored))?;
            Ok(())
        })
        .await?;
    // The keyring after the database's lock is released.
    blocking(move || {
        shareguard_secrets::delete(SecretKind::RouterPassword, &name)?;
        shareguard_secrets::delete(SecretKind::RadiusSecret, &name)?;
        Ok(())
    })
    .await
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
    let operator = if apply {
        state.require(Permission::Edit)?
    } else {
        state.require(Permission::Scan)?
    };
    let target = state.router_book().await.target(&name).await?;
    let what = if remove {
        ProbeAction::Remove
    } else {
        ProbeAction::Install
    };
    let job = async {
        if apply {
            probe_ops::change_probes(&state.store, &operator, &target, what).await
        } else {
            probe_ops::probes(&target, what, false).await
        }
    };
    let report = tokio::time::timeout(Duration::from_secs(20), job)
        .await
        .map_err(|_| {
            CommandError::new(
                shareguard_engine::ErrorKind::Timeout,
                format!("{name} did not finish the probe change within 20 s: check the link, then look at the router's firewall before trying again"),
            )
        })??;
    Ok(report)
}

/// What the router-side P2P classification looks like on one router.
#[derive(Debug, Serialize, specta::Type)]
pub struct P2pRulesReport {
    pub installed: bool,
    /// What installing sends (or sent).
    pub commands: Vec<String>,
    pub applied: bool,
}

/// Shows (`show`), installs (`install`) or removes (`remove`) the P2P
/// classification the abuse monitor reads.
#[tauri::command]
#[specta::specta]
pub async fn p2p_rules(
    state: State<'_, AppState>,
    name: String,
    action: String,
) -> CommandResult<P2pRulesReport> {
    let operator = match action.as_str() {
        "show" => state.require(Permission::Scan)?,
        "install" | "remove" => state.require(Permission::Edit)?,
        other => {
            return Err(CommandError::invalid(format!(
                "unknown P2P rule action {other:?}: use show, install or remove"
            )))
        }
    };
    let router = Router {
        target: state.router_book().await.target(&name).await?,
        radius: None,
    };
    let job = async {
        match action.as_str() {
            "install" | "remove" => {
                let change = if action == "install" {
                    P2pChange::Install
                } else {
                    P2pChange::Remove
                };
                let r = p2p_rules::change(&state.store, &operator, &router, change).await?;
                Ok::<_, ActionError>((r.applied, r.installed, r.commands))
            }
            _ => Ok((
                false,
                p2p_rules::state(&router).await?.installed(),
                p2p_rules::preview(&router).await?,
            )),
        }
    };
    let (applied, installed, commands) = tokio::time::timeout(Duration::from_secs(20), job)
        .await
        .map_err(|_| {
            CommandError::new(
                shareguard_engine::ErrorKind::Timeout,
                format!("{name} did not answer within 20 s: check the link, then look at the router's mangle rules before trying again"),
            )
        })?
        .map_err(|e| CommandError::new(e.kind(), e.to_string()))?;
    Ok(P2pRulesReport {
        installed,
        commands,
        applied,
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
