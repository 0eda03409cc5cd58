//! Throttles, bans and limits as recorded actions: manual from the UI and CLI, or
//! automatic from the monitor, each stored with its audit entry and expiry;
//! and the sweep that lifts them when they expire, also after a restart.

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration as Span, Utc};
use radius_dac::RateLimit;
use serde::Serialize;
use serde_json::json;
use shareguard_store::{Action, ActionKind, ActionMethod, AuditEntry, Store};

use super::ban::{self, BanReport};
use super::disconnect::refuse_whitelisted;
use super::error::ActionError;
use super::limit::{self, LimitReport, LimitSettings};
use super::router_lists;
use super::throttle::{self, Restore, ThrottleReport};
use crate::persist::{store_task, EngineError};
use crate::router::Router;

/// A throttle or ban to take.
#[derive(Debug, Clone)]
pub struct Penalty {
    pub subscriber: String,
    pub operator: String,
    pub reason: String,
    pub minutes: u32,
    pub dry_run: bool,
    /// Warnings this answers, kept with the action for the evidence trail.
    pub warnings: Vec<i64>,
    pub escalated: bool,
}

/// What a recorded throttle or ban did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PenaltyReport {
    Throttle {
        report: ThrottleReport,
        action_id: Option<i64>,
        expires_at: DateTime<Utc>,
    },
    Ban {
        report: BanReport,
        action_id: Option<i64>,
        expires_at: DateTime<Utc>,
    },
    Limit {
        report: LimitReport,
        action_id: Option<i64>,
        expires_at: DateTime<Utc>,
    },
}

impl PenaltyReport {
    pub fn action_id(&self) -> Option<i64> {
        match self {
            Self::Throttle { action_id, .. }
            | Self::Ban { action_id, .. }
            | Self::Limit { action_id, .. } => *action_id,
        }
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        match self {
            Self::Throttle { expires_at, .. }
            | Self::Ban { expires_at, .. }
            | Self::Limit { expires_at, .. } => *expires_at,
        }
    }

    /// One line for tables and notifications.
    pub fn summary(&self) -> String {
        let dry = |d: bool| {
            if d {
                " (dry run: nothing was sent)"
            } else {
                ""
            }
        };
        match self {
            Self::Throttle { report: r, .. } => format!(
                "{} throttled to {} (plan {}) via {} until {}{}",
                r.subscriber,
                r.rate,
                r.plan,
                r.method.as_str(),
                self.expires_at().format("%H:%M"),
                dry(r.dry_run)
            ),
            Self::Ban { report: r, .. } => format!(
                "{} ({}) banned for {} min until {}{}",
                r.subscriber,
                addresses(r.address, r.prefix.as_deref()),
                r.minutes,
                self.expires_at().format("%H:%M"),
                dry(r.dry_run)
            ),
            Self::Limit { report: r, .. } => format!(
                "{} ({}) limited to {} {} until {}{}{}",
                r.subscriber,
                addresses(r.address, r.prefix.as_deref()),
                r.cap,
                r.unit,
                self.expires_at().format("%H:%M"),
                match r.ended_sessions.len() {
                    0 => String::new(),
                    n => format!(
                        "; {} ended",
                        shareguard_detect::words::count(n as u64, "extra session")
                    ),
                },
                dry(r.dry_run)
            ),
        }
    }
}

/// A subscriber's IPv4 address, and their IPv6 prefix when dual-stack.
fn addresses(ip: std::net::Ipv4Addr, prefix: Option<&str>) -> String {
    match prefix {
        Some(p) => format!("{ip} and {p}"),
        None => ip.to_string(),
    }
}

/// Installs the ban rule (and its IPv6 twin) where missing, and records
/// the install in the audit log as `operator`: one record whoever installs
/// it, the app or the CLI. Returns the rules added (none when nothing was
/// missing), and records exactly those.
pub async fn install_ban_rule_and_record(
    store: &Arc<Mutex<Store>>,
    router: &Router,
    operator: &str,
) -> Result<Vec<String>, ActionError> {
    let added = ban::install_ban_rules(router).await?;
    if !added.is_empty() {
        let entry = AuditEntry::new(operator, "ban_rule_installed")
            .subject(&router.target.name)
            .details(json!({ "rule": added.join("\n") }));
        store_task(store, move |s| s.audit(&entry).map(|_| ())).await?;
    }
    Ok(added)
}

/// Installs the PPPoE connection-limit rules with `settings`' caps and
/// records the install in the audit log as `operator`. Returns how many
/// rules are in force (0 on a hotspot, which needs none).
pub async fn install_limit_rules_and_record(
    store: &Arc<Mutex<Store>>,
    router: &Router,
    settings: &LimitSettings,
    operator: &str,
) -> Result<usize, ActionError> {
    let n = limit::install_limit_rules(router, settings).await?;
    if n > 0 {
        let entry = AuditEntry::new(operator, "limit_rules_installed")
            .subject(&router.target.name)
            .details(json!({ "rules": limit::preview_for(router, settings) }));
        store_task(store, move |s| s.audit(&entry).map(|_| ())).await?;
    }
    Ok(n)
}

/// Stores an action with its audit entry, or only an audit entry for a dry run.
/// Stores a throttle or ban taken now for `p.minutes`, with its audit
/// entry, or only the audit entry for a dry run. `details` are the action's
/// own; the penalty's reason, duration and warnings are added here. Returns
/// the action's id (none for a dry run) and when it expires.
async fn record(
    store: &Arc<Mutex<Store>>,
    p: &Penalty,
    kind: ActionKind,
    method: ActionMethod,
    nas: &str,
    mut details: serde_json::Value,
) -> Result<(Option<i64>, DateTime<Utc>), EngineError> {
    let started = Utc::now();
    let expires = started + Span::minutes(i64::from(p.minutes));
    if let Some(d) = details.as_object_mut() {
        d.insert("nas".into(), json!(nas));
        d.insert("minutes".into(), json!(p.minutes));
        d.insert("reason".into(), json!(p.reason));
        d.insert("warnings".into(), json!(p.warnings));
        d.insert("escalated".into(), json!(p.escalated));
        d.insert("dry_run".into(), json!(p.dry_run));
    }
    let action_name = if p.dry_run {
        format!("{}_dry_run", kind.as_str())
    } else {
        kind.as_str().to_string()
    };
    let entry = AuditEntry::new(&p.operator, action_name)
        .subject(&p.subscriber)
        .details(details.clone());
    if p.dry_run {
        store_task(store, move |s| s.audit(&entry).map(|_| ())).await?;
        return Ok((None, expires));
    }
    let a = Action {
        id: None,
        subscriber: p.subscriber.clone(),
        nas: nas.into(),
        kind,
        method,
        operator: p.operator.clone(),
        reason: p.reason.clone(),
        details,
        started_at: started,
        expires_at: Some(expires),
        ended_at: None,
    };
    let id = store_task(store, move |s| s.record_action(&a, &entry)).await?;
    Ok((Some(id), expires))
}

/// Throttles a subscriber to `percent` % of the plan (or `rate`) for
/// `p.minutes`, and records it. Whitelisted subscribers are refused.
pub async fn throttle_and_record(
    store: &Arc<Mutex<Store>>,
    router: &Router,
    p: &Penalty,
    percent: u8,
    rate: Option<RateLimit>,
) -> Result<PenaltyReport, ActionError> {
    refuse_whitelisted(store, &p.subscriber).await?;
    let r = throttle::throttle(
        router,
        &p.subscriber,
        percent,
        rate,
        p.dry_run,
        router.target.budget,
    )
    .await?;
    let details = json!({
        "method": r.method,
        "address": r.address,
        "plan": r.plan,
        "rate": r.rate,
        "restore": r.restore,
        "radius_tries": r.radius_tries,
        "note": r.note,
    });
    let (id, expires) = record(store, p, ActionKind::Throttle, r.method, &r.nas, details).await?;
    Ok(PenaltyReport::Throttle {
        report: r,
        action_id: id,
        expires_at: expires,
    })
}

/// Bans a subscriber's address for `p.minutes`, and records it.
pub async fn ban_and_record(
    store: &Arc<Mutex<Store>>,
    router: &Router,
    p: &Penalty,
) -> Result<PenaltyReport, ActionError> {
    refuse_whitelisted(store, &p.subscriber).await?;
    let r = ban::ban(
        router,
        &p.subscriber,
        p.minutes,
        p.dry_run,
        router.target.budget,
    )
    .await?;
    let details = json!({
        "address": r.address,
        "list": r.list,
        "entry": r.entry,
    });
    let (id, expires) = record(
        store,
        p,
        ActionKind::Ban,
        ActionMethod::Api,
        &r.nas,
        details,
    )
    .await?;
    Ok(PenaltyReport::Ban {
        report: r,
        action_id: id,
        expires_at: expires,
    })
}

/// Limits a subscriber's connections (PPPoE) or sessions (hotspot) for
/// `p.minutes`, and records it.
pub async fn limit_and_record(
    store: &Arc<Mutex<Store>>,
    router: &Router,
    p: &Penalty,
    settings: &LimitSettings,
) -> Result<PenaltyReport, ActionError> {
    refuse_whitelisted(store, &p.subscriber).await?;
    let r = limit::limit(
        router,
        &p.subscriber,
        settings,
        p.minutes,
        p.dry_run,
        router.target.budget,
    )
    .await?;
    let details = json!({
        "address": r.address,
        "list": r.list,
        "entry": r.entry,
        "cap": r.cap,
        "unit": r.unit,
        "ended_sessions": r.ended_sessions,
    });
    let (id, expires) = record(
        store,
        p,
        ActionKind::Limit,
        ActionMethod::Api,
        &r.nas,
        details,
    )
    .await?;
    Ok(PenaltyReport::Limit {
        report: r,
        action_id: id,
        expires_at: expires,
    })
}

/// What lifting one action did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Lifted {
    pub action_id: i64,
    pub subscriber: String,
    pub nas: String,
    pub kind: ActionKind,
    pub note: String,
}

/// Takes a ban's or limit's entries off its list (every address the
/// subscriber was put there under, found by the entry comment; the stored
/// address for entries made before comments named the subscriber), and says
/// what happened: the `what` list entry was removed, or the router had
/// already `gone`.
async fn unlist(
    router: &Router,
    a: &Action,
    list: &str,
    what: &str,
    gone: &str,
) -> Result<String, ActionError> {
    let ip: Option<Ipv4Addr> = a.details["address"].as_str().and_then(|s| s.parse().ok());
    let comment = crate::follow::list_and_comment(a.kind, &a.subscriber)
        .map(|(_, c)| c)
        .unwrap_or_default();
    let removed = router_lists::unlist(router, list, &comment, ip, router.target.budget).await?;
    Ok(if removed > 0 {
        format!("the {what} list entry was removed")
    } else {
        format!("the router had already {gone}")
    })
}

/// Lifts one throttle or ban on its router and ends it in storage, as
/// `operator` (`system` on expiry).
pub async fn lift(
    store: &Arc<Mutex<Store>>,
    routers: &[Router],
    a: &Action,
    operator: &str,
    why: &str,
) -> Result<Lifted, ActionError> {
    let id =
        a.id.ok_or_else(|| EngineError::Internal("an action without an id".into()))?;
    let router = routers
        .iter()
        .find(|r| r.target.name == a.nas)
        .ok_or_else(|| {
            EngineError::Internal(format!(
                "router {} is no longer configured, so its {} of {} cannot be lifted there",
                a.nas,
                a.kind.as_str(),
                a.subscriber
            ))
        })?;
    let note = match a.kind {
        ActionKind::Throttle => {
            let restore: Restore = serde_json::from_value(a.details["restore"].clone())
                .map_err(|e| EngineError::Internal(format!("stored throttle: {e}")))?;
            throttle::lift_throttle(router, &a.subscriber, &restore, router.target.budget).await?
        }
        ActionKind::Ban => unlist(router, a, ban::BAN_LIST, "ban", "lifted the ban").await?,
        ActionKind::Limit => {
            unlist(router, a, limit::LIMIT_LIST, "limit", "ended the limit").await?
        }
        ActionKind::Disconnect => String::new(),
    };
    let entry = AuditEntry::new(operator, format!("{}_lifted", a.kind.as_str()))
        .subject(&a.subscriber)
        .details(json!({ "action": id, "nas": a.nas, "why": why, "note": note }));
    let now = Utc::now();
    store_task(store, move |s| s.end_action(id, now, &entry)).await?;
    Ok(Lifted {
        action_id: id,
        subscriber: a.subscriber.clone(),
        nas: a.nas.clone(),
        kind: a.kind,
        note,
    })
}

/// Lifts every throttle and ban whose time is up. Runs at the start of each
/// monitor cycle, so actions that expired while the app was closed are
/// lifted as soon as it runs again. A router that cannot be reached keeps
/// its actions for the next cycle.
pub async fn lift_expired(
    store: &Arc<Mutex<Store>>,
    routers: &[Router],
    now: DateTime<Utc>,
) -> Result<(Vec<Lifted>, Vec<(i64, String)>), EngineError> {
    let due: Vec<Action> = store_task(store, |s| s.actions_in_force())
        .await?
        .into_iter()
        .filter(|a| a.expires_at.is_some_and(|t| t <= now))
        .collect();
    let mut lifted = Vec::new();
    let mut failed = Vec::new();
    for a in &due {
        match lift(
            store,
            routers,
            a,
            shareguard_store::SYSTEM_OPERATOR,
            "expired",
        )
        .await
        {
            Ok(l) => lifted.push(l),
            Err(e) => {
                tracing::warn!(subscriber = %a.subscriber, "could not lift an expired {}: {e}", a.kind.as_str());
                failed.push((a.id.unwrap_or_default(), e.to_string()));
            }
        }
    }
    Ok((lifted, failed))
}
