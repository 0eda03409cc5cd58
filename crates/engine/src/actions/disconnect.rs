//! Ending one subscriber's session, and recording it.
//!
//! The session is looked up through the API with one filtered query (its
//! `.id`, address and RADIUS session id). With RADIUS set up for the router
//! and a RADIUS-authenticated session, the session is ended by a
//! Disconnect-Request naming it by user name, address and session id, so
//! the accounting record closes properly. Otherwise, or when the NAS gives no
//! answer at all, the session is removed through the API. A NAK is reported
//! as is: the router refused, and forcing it another way would hide why.
//! A whitelisted subscriber is refused before anything is sent, here and
//! for every penalty.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use radius_dac::{DacClient, Request};
use routeros_client::{Client, Command};
use serde::Serialize;
use shareguard_scan::NasTarget;
use shareguard_store::{action, Action, ActionKind, ActionMethod, AuditEntry, Store};

use super::error::{within, ActionError};
use super::session::{elapsed_ms, online, send_for_session, session_menu, ActiveSession, Sent};
use crate::persist::store_task;
use crate::router::Router;

/// What a disconnect did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DisconnectReport {
    pub subscriber: String,
    pub nas: String,
    pub method: ActionMethod,
    pub session: ActiveSession,
    /// RADIUS datagrams sent, when RADIUS was used or tried.
    pub radius_tries: Option<u32>,
    /// Lookup plus action, in milliseconds.
    pub elapsed_ms: f64,
    /// Why the fallback was used, when it was.
    pub note: Option<String>,
    /// Nothing was sent: this is what would have been done.
    pub dry_run: bool,
}

/// Ends `subscriber`'s session on `target`: by RADIUS when `radius` is given
/// and the session came from RADIUS, otherwise (or when RADIUS gets no
/// answer) through the API. With `dry_run`, only looks the session up.
pub async fn disconnect(
    target: &NasTarget,
    radius: Option<&DacClient>,
    subscriber: &str,
    dry_run: bool,
    budget: Duration,
) -> Result<DisconnectReport, ActionError> {
    within(
        &target.name,
        budget,
        disconnect_inner(target, radius, subscriber, dry_run),
    )
    .await
}

async fn disconnect_inner(
    target: &NasTarget,
    radius: Option<&DacClient>,
    subscriber: &str,
    dry_run: bool,
) -> Result<DisconnectReport, ActionError> {
    let started = Instant::now();
    let mut c = Client::connect(&target.connect).await?;
    let session = online(&mut c, target, subscriber).await?;
    let mut report = DisconnectReport {
        subscriber: subscriber.into(),
        nas: target.name.clone(),
        method: ActionMethod::Api,
        session: session.clone(),
        radius_tries: None,
        elapsed_ms: 0.0,
        note: None,
        dry_run,
    };
    let dac = radius.filter(|_| session.radius);
    if radius.is_some() && !session.radius {
        report.note = Some(
            "the session was not authorised by RADIUS, so it was removed through the API".into(),
        );
    }
    if let Some(dac) = dac {
        report.method = ActionMethod::Radius;
        if dry_run {
            report.elapsed_ms = elapsed_ms(started);
            return Ok(report);
        }
        let mut steps = Vec::new();
        match send_for_session(dac, &session, Request::Disconnect, &target.name, &mut steps).await {
            Ok(Sent::Acked(tries)) => {
                report.radius_tries = Some(tries);
                report.note = (!steps.is_empty()).then(|| steps.join("; "));
                report.elapsed_ms = elapsed_ms(started);
                return Ok(report);
            }
            Ok(Sent::NoAnswer(tries, e)) => {
                report.radius_tries = Some(tries);
                report.method = ActionMethod::Api;
                steps.push(format!(
                    "RADIUS: {e}. The session was removed through the API instead."
                ));
                report.note = Some(steps.join("; "));
            }
            // The router's RADIUS side does not know the session by these
            // names, so the API ends it.
            Ok(Sent::Unknown(why)) => {
                report.method = ActionMethod::Api;
                steps.push(format!(
                    "RADIUS: the router answered {why}, though /ppp active shows the session. The session was removed through the API instead."
                ));
                report.note = Some(steps.join("; "));
            }
            Err(e) => return Err(e),
        }
    }
    if !dry_run {
        let (menu, _) = session_menu(target.access);
        c.run(Command::new(format!("{menu}/remove")).attr(".id", session.item.as_str()))
            .await?;
    }
    report.elapsed_ms = elapsed_ms(started);
    Ok(report)
}

/// Refuses a whitelisted subscriber before anything is sent to a router:
/// every action, manual or automatic, goes through this.
pub(crate) async fn refuse_whitelisted(
    store: &Arc<Mutex<Store>>,
    subscriber: &str,
) -> Result<(), ActionError> {
    let who = subscriber.to_string();
    let listed = store_task(store, move |s| {
        Ok(s.active_whitelist(Utc::now())?.contains_key(&who))
    })
    .await
    .map_err(ActionError::Storage)?;
    if listed {
        return Err(ActionError::Whitelisted(subscriber.into()));
    }
    Ok(())
}

/// Disconnects one subscriber and records it (action and audit entry, as
/// `operator`, with `reason`). A dry run is recorded in the audit log only.
pub async fn disconnect_and_record(
    store: &Arc<Mutex<Store>>,
    router: &Router,
    subscriber: &str,
    operator: &str,
    reason: &str,
    dry_run: bool,
) -> Result<DisconnectReport, ActionError> {
    refuse_whitelisted(store, subscriber).await?;
    let report = disconnect(
        &router.target,
        router.radius.as_ref(),
        subscriber,
        dry_run,
        router.target.budget,
    )
    .await?;
    let details = serde_json::json!({
        "nas": report.nas,
        "method": report.method,
        "address": report.session.address,
        "session_id": report.session.session_id,
        "radius_tries": report.radius_tries,
        "elapsed_ms": (report.elapsed_ms * 10.0).round() / 10.0,
        "note": report.note,
        "reason": reason,
        "dry_run": dry_run,
    });
    let now = Utc::now();
    let (operator, reason) = (operator.to_string(), reason.to_string());
    let r = report.clone();
    store_task(store, move |s| {
        if dry_run {
            let entry = AuditEntry::new(&operator, "disconnect_dry_run")
                .subject(&r.subscriber)
                .details(details);
            return s.audit(&entry).map(|_| ());
        }
        let entry = AuditEntry::new(&operator, action::DISCONNECT)
            .subject(&r.subscriber)
            .details(details.clone());
        let a = Action {
            id: None,
            subscriber: r.subscriber.clone(),
            nas: r.nas.clone(),
            kind: ActionKind::Disconnect,
            method: r.method,
            operator,
            reason,
            details,
            started_at: now,
            expires_at: None,
            ended_at: Some(now),
        };
        s.record_action(&a, &entry).map(|_| ())
    })
    .await
    // A dry run changed nothing on the router.
    .map_err(|e| match dry_run {
        true => ActionError::Storage(e),
        false => ActionError::Record(e),
    })?;
    Ok(report)
}
