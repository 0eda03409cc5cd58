//! Which routers a front end knows, with their secrets: the one place a
//! router name becomes something a scan or an action can reach.
//!
//! Router definitions live in the store, their passwords and RADIUS secrets
//! wherever the front end keeps secrets ([`SecretSource`]: the OS keyring
//! in the desktop app), and routers that exist only while the program runs
//! (the demo's) are added as they are. The engine never reads a keyring
//! itself; it asks the source it was given, on the blocking pool.

use std::sync::{Arc, Mutex};

use radius_dac::DacClient;
use shareguard_scan::NasTarget;
use shareguard_store::{action, AuditEntry, NasRecord, Store, WarningQuery, DEMO_ROUTER_PREFIX};

use crate::error_kind::Failure;
use crate::persist::store_task;
use crate::router::Router;
use crate::secrets::{blocking, Secret, SecretSource};

/// A stored router and whether its secrets are stored (never the secrets).
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StoredRouter {
    #[serde(flatten)]
    pub record: NasRecord,
    pub has_password: bool,
    pub has_radius_secret: bool,
}

/// The routers a front end knows: the stored ones with secrets from `S`,
/// and the live ones it was given (looked at first).
pub struct RouterBook<S> {
    store: Arc<Mutex<Store>>,
    secrets: Arc<S>,
    live: Vec<Router>,
}

impl<S: SecretSource> RouterBook<S> {
    pub fn new(store: Arc<Mutex<Store>>, secrets: Arc<S>) -> Self {
        Self {
            store,
            secrets,
            live: Vec::new(),
        }
    }

    /// Adds routers that exist only while the program runs (the demo's).
    pub fn with_live(mut self, routers: Vec<Router>) -> Self {
        self.live = routers;
        self
    }

    /// Every router as a scan target: the live ones, then the stored ones.
    /// A stored router whose password cannot be read is still scanned with
    /// none, so its failure shows in the scan in the router's own words; one
    /// whose definition is invalid is left out and logged.
    pub async fn targets(&self) -> Result<Vec<NasTarget>, Failure> {
        let mut out: Vec<NasTarget> = self.live.iter().map(|r| r.target.clone()).collect();
        let records = store_task(&self.store, |s| s.list_nas()).await?;
        let secrets = self.secrets.clone();
        let stored = blocking(move || {
            records
                .iter()
                .filter_map(|rec| {
                    let password = secrets
                        .load(Secret::RouterPassword, &rec.name)
                        .ok()
                        .flatten()
                        .unwrap_or_default();
                    crate::routers::target(rec, password)
                        .map_err(|e| tracing::warn!("router {} skipped: {e}", rec.name))
                        .ok()
                })
                .collect::<Vec<_>>()
        })
        .await?;
        out.extend(stored);
        Ok(out)
    }

    /// One router's scan target by name, with its password.
    pub async fn target(&self, name: &str) -> Result<NasTarget, Failure> {
        if let Some(r) = self.live.iter().find(|r| r.target.name == name) {
            return Ok(r.target.clone());
        }
        let rec = self.record(name).await?;
        let secrets = self.secrets.clone();
        blocking(move || stored_target(&*secrets, &rec)).await?
    }

    /// Every router actions may reach: the live ones, then the stored ones
    /// (one whose secrets cannot be read is left out and logged, so one
    /// locked entry does not stop the others).
    pub async fn routers(&self) -> Result<Vec<Router>, Failure> {
        let mut out = self.live.clone();
        let records = store_task(&self.store, |s| s.list_nas()).await?;
        for rec in records {
            let name = rec.name.clone();
            match self.stored_router(rec).await {
                Ok(r) => out.push(r),
                Err(e) => tracing::warn!("router {name} cannot be acted on: {e}"),
            }
        }
        Ok(out)
    }

    /// One router as actions reach it, by name; the error names the fix.
    pub async fn router(&self, name: &str) -> Result<Router, Failure> {
        if let Some(r) = self.live.iter().find(|r| r.target.name == name) {
            return Ok(r.clone());
        }
        let rec = self.record(name).await?;
        self.stored_router(rec).await
    }

    /// The router a subscriber was last seen on (their latest result, else
    /// their latest abuse warning), as actions reach it.
    pub async fn router_of(&self, subscriber: &str) -> Result<Router, Failure> {
        let who = subscriber.to_string();
        let nas = store_task(&self.store, move |s| {
            if let Some(r) = s.result(&who)? {
                return Ok(Some(r.nas));
            }
            let w = s.warnings(&WarningQuery {
                subscriber: Some(who),
                limit: 1,
                ..Default::default()
            })?;
            Ok(w.into_iter().next().map(|w| w.nas))
        })
        .await?
        .ok_or_else(|| {
            Failure::invalid(format!(
                "neither a scan nor the abuse monitor has seen {subscriber:?}: scan or check first"
            ))
        })?;
        self.router(&nas).await
    }

    /// Every stored router with whether its secrets are stored.
    pub async fn list(&self) -> Result<Vec<StoredRouter>, Failure> {
        let records = store_task(&self.store, |s| s.list_nas()).await?;
        let secrets = self.secrets.clone();
        // The secrets after the database's lock is released.
        blocking(move || {
            records
                .into_iter()
                .map(|record| StoredRouter {
                    has_password: secrets.has(Secret::RouterPassword, &record.name),
                    has_radius_secret: record.radius_port.is_some()
                        && secrets.has(Secret::RadiusSecret, &record.name),
                    record,
                })
                .collect()
        })
        .await
    }

    /// Saves a router definition with its secrets (`None`: keep the stored
    /// one) and records it as `operator`. A definition that points to
    /// another host, port, user or TLS setting needs its secrets entered
    /// again, so a stored password is never sent where it was not entered
    /// for. The secrets are saved first: a router is never stored with its
    /// password lost.
    pub async fn save(
        &self,
        operator: &str,
        rec: NasRecord,
        password: Option<String>,
        radius_secret: Option<String>,
    ) -> Result<NasRecord, Failure> {
        crate::routers::validate(&rec).map_err(Failure::invalid)?;
        if rec.name.starts_with(DEMO_ROUTER_PREFIX) {
            return Err(Failure::invalid(format!(
                "names starting with \"{DEMO_ROUTER_PREFIX}\" are kept for the demo routers"
            )));
        }
        let password = password.filter(|p| !p.is_empty());
        let radius_secret = radius_secret.filter(|p| !p.is_empty());
        let name = rec.name.clone();
        let existing = store_task(&self.store, move |s| s.get_nas(&name)).await?;
        let moved = existing
            .as_ref()
            .is_some_and(|old| crate::routers::connection_changed(old, &rec));
        if moved && password.is_none() {
            return Err(Failure::invalid(format!(
                "{} now points to another host, port, user or TLS setting: enter its API password again (the stored one is only sent where it was entered for)",
                rec.name
            )));
        }
        if moved && rec.radius_port.is_some() && radius_secret.is_none() {
            return Err(Failure::invalid(format!(
                "{} now points to another router: enter its RADIUS shared secret again, or turn RADIUS off",
                rec.name
            )));
        }
        if password.is_none() && existing.is_none() {
            return Err(Failure::invalid("enter the router's API password"));
        }
        let secrets = self.secrets.clone();
        let name = rec.name.clone();
        let radius_on = rec.radius_port.is_some();
        blocking(move || {
            if moved && !radius_on {
                // Nothing to forget when no secret was stored.
                let _ = secrets.delete(Secret::RadiusSecret, &name);
            }
            if radius_on
                && radius_secret.is_none()
                && !secrets.has(Secret::RadiusSecret, &name)
            {
                return Err(Failure::invalid("enter the RADIUS shared secret (the one in /radius on the router), or turn RADIUS off"));
            }
            if let Some(p) = &password {
                secrets.save(Secret::RouterPassword, &name, p)?;
            }
            if let Some(secret) = &radius_secret {
                secrets.save(Secret::RadiusSecret, &name, secret)?;
            }
            Ok(())
        })
        .await??;
        let operator = operator.to_string();
        let added = existing.is_none();
        Ok(store_task(&self.store, move |s| {
            let saved = s.upsert_nas(&rec)?;
            let action = if added { "nas_added" } else { "nas_updated" };
            s.audit(
                &AuditEntry::new(&operator, action)
                    .subject(&saved.name)
                    .details(serde_json::json!({
                        "host": saved.host, "port": saved.port, "tls": saved.tls,
                        "access": saved.access, "radius_port": saved.radius_port,
                    })),
            )?;
            Ok(saved)
        })
        .await?)
    }

    /// Removes a stored router and its secrets, recorded as `operator`.
    pub async fn remove(&self, operator: &str, name: &str) -> Result<(), Failure> {
        let (stored, operator) = (name.to_string(), operator.to_string());
        let removed = store_task(&self.store, move |s| {
            let removed = s.remove_nas(&stored)?;
            if removed {
                s.audit(&AuditEntry::new(&operator, action::NAS_REMOVED).subject(&stored))?;
            }
            Ok(removed)
        })
        .await?;
        if !removed {
            return Err(Failure::invalid(format!(
                "there is no router named {name:?}"
            )));
        }
        // The secrets after the database's lock is released.
        let (secrets, name) = (self.secrets.clone(), name.to_string());
        blocking(move || {
            secrets.delete(Secret::RouterPassword, &name)?;
            secrets.delete(Secret::RadiusSecret, &name)?;
            Ok::<_, Failure>(())
        })
        .await?
    }

    async fn record(&self, name: &str) -> Result<NasRecord, Failure> {
        let wanted = name.to_string();
        store_task(&self.store, move |s| s.get_nas(&wanted))
            .await?
            .ok_or_else(|| {
                Failure::invalid(if name.starts_with(DEMO_ROUTER_PREFIX) {
                    format!(
                        "the demo's router {name:?} stopped when ShareGuard closed: \
                         restart the demo (at the top of the window) to act on its subscribers"
                    )
                } else {
                    format!("there is no router named {name:?} any more: check the routers, then scan again")
                })
            })
    }

    /// A stored router as actions reach it: its scan target and, when
    /// RADIUS is set up for it, its shared secret and resolved address.
    async fn stored_router(&self, rec: NasRecord) -> Result<Router, Failure> {
        let secrets = self.secrets.clone();
        let (target, radius) = blocking(move || {
            let target = stored_target(&*secrets, &rec)?;
            let radius = match rec.radius_port {
                None => None,
                Some(port) => {
                    let secret = secrets.load(Secret::RadiusSecret, &rec.name)?.ok_or_else(|| {
                        Failure::invalid(format!(
                            "RADIUS is on for {} but no shared secret is stored: edit the router and enter it",
                            rec.name
                        ))
                    })?;
                    Some((rec.host, port, secret))
                }
            };
            Ok::<_, Failure>((target, radius))
        })
        .await??;
        let radius = match radius {
            None => None,
            Some((host, port, secret)) => Some(
                DacClient::resolve(&host, port, secret)
                    .await
                    .map_err(|e| Failure::invalid(e.to_string()))?,
            ),
        };
        Ok(Router { target, radius })
    }
}

/// A stored router's scan target with its password (blocking).
fn stored_target<S: SecretSource>(secrets: &S, rec: &NasRecord) -> Result<NasTarget, Failure> {
    let password = secrets
        .load(Secret::RouterPassword, &rec.name)?
        .ok_or_else(|| {
            Failure::invalid(format!(
                "no password is stored for {}: edit the router and enter its password",
                rec.name
            ))
        })?;
    crate::routers::target(rec, password).map_err(Failure::invalid)
}
