//! Abuse warnings, the monitor's per-cycle figures, and the metrics an owner
//! reads for a date range.
//!
//! A warning stays open for a while (or as long as the action taken on it);
//! while open, sightings update it instead of adding rows, so a subscriber
//! who floods for an hour is one warning seen sixty times, not sixty
//! warnings. Each opening is one violation, which is what escalation counts.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::json;
use shareguard_detect::abuse::{AbuseKind, Finding, History, Severity};

use crate::audit::{self, AuditEntry};
use crate::codec::{parse_enum, parse_ts, sql_to_u32, ts, u64_to_sql};
use crate::error::Fail;
use crate::operators::SYSTEM;
use crate::{Store, StoreError};

/// Audit action for a newly opened warning.
pub const AUDIT_WARNING: &str = "abuse_warning";

/// One subscriber's finding in one cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    pub subscriber: String,
    pub nas: String,
    pub finding: Finding,
}

/// What storing a sighting did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighted {
    pub warning_id: i64,
    pub subscriber: String,
    pub kind: AbuseKind,
    /// True when this sighting opened a new warning (a new violation).
    pub opened: bool,
}

/// A stored warning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Warning {
    pub id: i64,
    pub subscriber: String,
    pub nas: String,
    pub kind: AbuseKind,
    pub severity: Severity,
    pub measured: f64,
    pub threshold: f64,
    pub details: String,
    /// `none`, or what the monitor did: `recommended` (automatic actions
    /// off), `done`, `dry_run`, `skipped` (whitelisted, already in force,
    /// breaker) or `failed`; `action_note` says what and why.
    pub action: String,
    pub action_note: Option<String>,
    pub action_id: Option<i64>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub cycles: u32,
}

/// What was done about some warnings (see [`Warning::action`]), with a
/// note, the action taken, and when the warnings close.
#[derive(Debug, Clone, PartialEq)]
pub struct WarningMark {
    pub ids: Vec<i64>,
    pub action: String,
    pub note: Option<String>,
    pub action_id: Option<i64>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// One router's figures for one monitor cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CycleStats {
    pub nas: String,
    pub subscribers: u32,
    pub connections: u64,
    pub p2p_connections: u64,
    pub elapsed_ms: u64,
}

/// Which warnings to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WarningQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub subscriber: Option<String>,
    /// Only warnings still open at this moment.
    pub open_at: Option<DateTime<Utc>>,
    pub limit: u32,
}

/// A subscriber with many warnings in a range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Offender {
    pub subscriber: String,
    pub nas: String,
    pub warnings: u32,
    pub worst: Severity,
}

/// The abuse figures for a date range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AbuseMetrics {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Warnings opened in the range, per kind, in [`AbuseKind::ALL`] order.
    pub warnings_by_kind: Vec<(AbuseKind, u32)>,
    pub warnings: u32,
    pub throttled: u32,
    pub banned: u32,
    pub disconnected: u32,
    pub top_offenders: Vec<Offender>,
    /// Over every monitor cycle in the range; `None` without cycles.
    pub avg_connections_per_subscriber: Option<f64>,
    pub p2p_percent: Option<f64>,
    pub cycles: u32,
}

const COLUMNS: &str = "id, subscriber, nas, kind, severity, measured, threshold, details, action, \
                       action_note, action_id, first_seen, last_seen, expires_at, cycles";

fn from_row(r: &Row<'_>) -> Result<Warning, Fail> {
    Ok(Warning {
        id: r.get(0)?,
        subscriber: r.get(1)?,
        nas: r.get(2)?,
        kind: parse_enum(&r.get::<_, String>(3)?, "warning kind")?,
        severity: parse_enum(&r.get::<_, String>(4)?, "warning severity")?,
        measured: r.get(5)?,
        threshold: r.get(6)?,
        details: r.get(7)?,
        action: r.get(8)?,
        action_note: r.get(9)?,
        action_id: r.get(10)?,
        first_seen: parse_ts(&r.get::<_, String>(11)?, "warning start")?,
        last_seen: parse_ts(&r.get::<_, String>(12)?, "warning last sighting")?,
        expires_at: parse_ts(&r.get::<_, String>(13)?, "warning expiry")?,
        cycles: sql_to_u32(r.get(14)?),
    })
}

/// Stores one sighting: updates the open warning of that kind, or opens one.
fn sight(
    tx: &Transaction<'_>,
    s: &Sighting,
    at: DateTime<Utc>,
    open_for: Duration,
) -> Result<Sighted, Fail> {
    let f = &s.finding;
    let now = ts(&at);
    let open: Option<(i64, String)> = tx
        .prepare_cached(
            "SELECT id, severity FROM warnings
             WHERE subscriber = ?1 AND kind = ?2 AND expires_at > ?3
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row((&s.subscriber, f.kind.as_str(), &now), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some((id, severity)) = open {
        let was: Severity = parse_enum(&severity, "warning severity")?;
        tx.prepare_cached(
            "UPDATE warnings SET last_seen = ?2, cycles = cycles + 1, details = ?3,
                    measured = max(measured, ?4), severity = ?5, threshold = ?6
             WHERE id = ?1",
        )?
        .execute((
            id,
            &now,
            &f.details,
            f.measured,
            was.max(f.severity).as_str(),
            f.threshold,
        ))?;
        return Ok(Sighted {
            warning_id: id,
            subscriber: s.subscriber.clone(),
            kind: f.kind,
            opened: false,
        });
    }
    tx.prepare_cached(
        "INSERT INTO warnings (subscriber, nas, kind, severity, measured, threshold, details,
                               first_seen, last_seen, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9)",
    )?
    .execute((
        &s.subscriber,
        &s.nas,
        f.kind.as_str(),
        f.severity.as_str(),
        f.measured,
        f.threshold,
        &f.details,
        &now,
        ts(&(at + open_for)),
    ))?;
    let id = tx.last_insert_rowid();
    audit::insert(
        tx,
        &AuditEntry {
            at,
            operator: SYSTEM.into(),
            action: AUDIT_WARNING.into(),
            subject: Some(s.subscriber.clone()),
            details: json!({
                "warning": id,
                "router": s.nas,
                "kind": f.kind.as_str(),
                "severity": f.severity.as_str(),
                "details": f.details,
            }),
        },
    )?;
    Ok(Sighted {
        warning_id: id,
        subscriber: s.subscriber.clone(),
        kind: f.kind,
        opened: true,
    })
}

impl Store {
    /// Stores one monitor cycle in one transaction: each router's figures and
    /// every sighting. New warnings stay open for `open_for` unless an action
    /// sets another expiry.
    pub fn record_cycle(
        &mut self,
        at: DateTime<Utc>,
        stats: &[CycleStats],
        sightings: &[Sighting],
        open_for: Duration,
    ) -> Result<Vec<Sighted>, StoreError> {
        self.write(|tx| {
            let now = ts(&at);
            for c in stats {
                tx.prepare_cached(
                    "INSERT INTO monitor_cycles (at, nas, subscribers, connections, p2p_connections, elapsed_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute((
                    &now,
                    &c.nas,
                    c.subscribers,
                    u64_to_sql(c.connections),
                    u64_to_sql(c.p2p_connections),
                    u64_to_sql(c.elapsed_ms),
                ))?;
            }
            sightings
                .iter()
                .map(|s| sight(tx, s, at, open_for))
                .collect()
        })
    }

    /// Records what was done about warnings, all in one transaction (a
    /// cycle can open thousands). With `expires_at` the warnings stay open
    /// exactly as long as the action, so the first sighting after it ends is
    /// a new violation.
    pub fn set_warning_actions(&mut self, marks: &[WarningMark]) -> Result<(), StoreError> {
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(
                "UPDATE warnings SET action = ?2, action_note = ?3, action_id = ?4,
                        expires_at = coalesce(?5, expires_at)
                 WHERE id = ?1",
            )?;
            for m in marks {
                for &id in &m.ids {
                    stmt.execute((
                        id,
                        &m.action,
                        m.note.as_deref(),
                        m.action_id,
                        m.expires_at.as_ref().map(ts),
                    ))?;
                }
            }
            Ok(())
        })
    }

    /// Every subscriber's violations and throttles/bans since `since`, read
    /// in two grouped queries; subscribers without any are absent.
    pub fn abuse_histories(
        &self,
        since: DateTime<Utc>,
    ) -> Result<HashMap<String, History>, StoreError> {
        self.snapshot(|c| {
            let since = ts(&since);
            let mut out: HashMap<String, History> = HashMap::new();
            let mut stmt = c.prepare_cached(
                "SELECT subscriber, count(*) FROM warnings WHERE first_seen >= ?1
                 GROUP BY subscriber",
            )?;
            let mut rows = stmt.query([&since])?;
            while let Some(r) = rows.next()? {
                out.entry(r.get(0)?).or_default().violations = sql_to_u32(r.get(1)?);
            }
            let mut stmt = c.prepare_cached(
                "SELECT subscriber, count(*) FROM actions WHERE started_at >= ?1
                 AND kind IN ('throttle', 'ban') GROUP BY subscriber",
            )?;
            let mut rows = stmt.query([&since])?;
            while let Some(r) = rows.next()? {
                out.entry(r.get(0)?).or_default().earlier_actions = sql_to_u32(r.get(1)?);
            }
            Ok(out)
        })
    }

    /// Warnings, newest first.
    pub fn warnings(&self, q: &WarningQuery) -> Result<Vec<Warning>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM warnings
                 WHERE (?1 IS NULL OR first_seen >= ?1) AND (?2 IS NULL OR first_seen < ?2)
                   AND (?3 IS NULL OR subscriber = ?3) AND (?4 IS NULL OR expires_at > ?4)
                 ORDER BY last_seen DESC, id DESC LIMIT ?5"
            ))?;
            let limit = if q.limit == 0 { 1000 } else { q.limit };
            let mut rows = stmt.query((
                q.from.as_ref().map(ts),
                q.to.as_ref().map(ts),
                q.subscriber.as_deref(),
                q.open_at.as_ref().map(ts),
                i64::from(limit),
            ))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(from_row(r)?);
            }
            Ok(out)
        })
    }

    /// The metrics for `[from, to)`.
    pub fn abuse_metrics(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<AbuseMetrics, StoreError> {
        let (f, t) = (ts(&from), ts(&to));
        self.snapshot(|c| {
            let mut by_kind: Vec<(AbuseKind, u32)> =
                AbuseKind::ALL.iter().map(|&k| (k, 0)).collect();
            let mut stmt = c.prepare_cached(
                "SELECT kind, count(*) FROM warnings WHERE first_seen >= ?1 AND first_seen < ?2
                 GROUP BY kind",
            )?;
            let mut rows = stmt.query((&f, &t))?;
            while let Some(r) = rows.next()? {
                let kind: AbuseKind = parse_enum(&r.get::<_, String>(0)?, "warning kind")?;
                if let Some(slot) = by_kind.iter_mut().find(|(k, _)| *k == kind) {
                    slot.1 = sql_to_u32(r.get(1)?);
                }
            }
            let actions = |kind: &str| -> Result<u32, Fail> {
                let n: i64 = c
                    .prepare_cached(
                        "SELECT count(DISTINCT subscriber) FROM actions
                         WHERE kind = ?1 AND started_at >= ?2 AND started_at < ?3",
                    )?
                    .query_row((kind, &f, &t), |r| r.get(0))?;
                Ok(sql_to_u32(n))
            };
            let mut top = Vec::new();
            let mut stmt = c.prepare_cached(
                "SELECT subscriber, max(nas), count(*),
                        max(CASE severity WHEN 'ban' THEN 2 WHEN 'throttle' THEN 1 ELSE 0 END)
                 FROM warnings WHERE first_seen >= ?1 AND first_seen < ?2
                 GROUP BY subscriber ORDER BY count(*) DESC, subscriber LIMIT 10",
            )?;
            let mut rows = stmt.query((&f, &t))?;
            while let Some(r) = rows.next()? {
                top.push(Offender {
                    subscriber: r.get(0)?,
                    nas: r.get(1)?,
                    warnings: sql_to_u32(r.get(2)?),
                    worst: match r.get::<_, i64>(3)? {
                        2 => Severity::Ban,
                        1 => Severity::Throttle,
                        _ => Severity::Warning,
                    },
                });
            }
            let (subs, conns, p2p, cycles): (Option<i64>, Option<i64>, Option<i64>, i64) = c
                .prepare_cached(
                    "SELECT sum(subscribers), sum(connections), sum(p2p_connections),
                            count(DISTINCT at)
                     FROM monitor_cycles WHERE at >= ?1 AND at < ?2",
                )?
                .query_row((&f, &t), |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?;
            let ratio = |num: Option<i64>, den: Option<i64>, scale: f64| match (num, den) {
                (Some(n), Some(d)) if d > 0 => Some(n as f64 * scale / d as f64),
                _ => None,
            };
            Ok(AbuseMetrics {
                from,
                to,
                warnings: by_kind.iter().map(|(_, n)| n).sum(),
                warnings_by_kind: by_kind,
                throttled: actions("throttle")?,
                banned: actions("ban")?,
                disconnected: actions("disconnect")?,
                top_offenders: top,
                avg_connections_per_subscriber: ratio(conns, subs, 1.0),
                p2p_percent: ratio(p2p, conns, 100.0),
                cycles: sql_to_u32(cycles),
            })
        })
    }
}
