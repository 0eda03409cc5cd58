//! Enforcement actions taken on subscribers: what was done, how, by whom and
//! why. Each is stored together with its audit entry, in one transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditEntry};
use crate::codec::{from_json, parse_enum, parse_opt_ts, parse_ts, to_json, ts};
use crate::error::Fail;
use crate::{Store, StoreError};

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Disconnect,
    Throttle,
    Ban,
    Limit,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disconnect => "disconnect",
            Self::Throttle => "throttle",
            Self::Ban => "ban",
            Self::Limit => "limit",
        }
    }
}

/// Which path reached the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ActionMethod {
    /// RADIUS dynamic authorization (RFC 5176).
    Radius,
    /// The RouterOS API.
    Api,
}

impl ActionMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Radius => "radius",
            Self::Api => "api",
        }
    }
}

/// An action as taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Action {
    /// Set by the store.
    #[serde(default)]
    pub id: Option<i64>,
    pub subscriber: String,
    pub nas: String,
    pub kind: ActionKind,
    pub method: ActionMethod,
    /// The operator, or `system` for automatic actions.
    pub operator: String,
    pub reason: String,
    pub details: serde_json::Value,
    pub started_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, subscriber, nas, kind, method, operator, reason, details, started_at, expires_at, ended_at";

fn from_row(r: &Row<'_>) -> Result<Action, Fail> {
    Ok(Action {
        id: Some(r.get(0)?),
        subscriber: r.get(1)?,
        nas: r.get(2)?,
        kind: parse_enum(&r.get::<_, String>(3)?, "action kind")?,
        method: parse_enum(&r.get::<_, String>(4)?, "action method")?,
        operator: r.get(5)?,
        reason: r.get(6)?,
        details: from_json(&r.get::<_, String>(7)?, "action details")?,
        started_at: parse_ts(&r.get::<_, String>(8)?, "action start")?,
        expires_at: parse_opt_ts(r.get(9)?, "action expiry")?,
        ended_at: parse_opt_ts(r.get(10)?, "action end")?,
    })
}

impl Store {
    /// Stores an action and its audit entry together. A disconnect also marks
    /// the subscriber's latest result as disconnected (until the next scan).
    pub fn record_action(&mut self, a: &Action, entry: &AuditEntry) -> Result<i64, StoreError> {
        self.write(|tx| {
            if a.subscriber.trim().is_empty() || a.operator.trim().is_empty() {
                return Err(Fail::invalid(
                    "an action needs a subscriber and an operator",
                ));
            }
            tx.prepare_cached(
                "INSERT INTO actions (subscriber, nas, kind, method, operator, reason, details,
                                      started_at, expires_at, ended_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute((
                &a.subscriber,
                &a.nas,
                a.kind.as_str(),
                a.method.as_str(),
                &a.operator,
                &a.reason,
                to_json(&a.details, "action details")?,
                ts(&a.started_at),
                a.expires_at.as_ref().map(ts),
                a.ended_at.as_ref().map(ts),
            ))?;
            let id = tx.last_insert_rowid();
            if a.kind == ActionKind::Disconnect {
                tx.prepare_cached("UPDATE results SET disconnected_at = ?2 WHERE subscriber = ?1")?
                    .execute((&a.subscriber, ts(&a.started_at)))?;
            }
            audit::insert(tx, entry)?;
            Ok(id)
        })
    }

    /// A subscriber's actions, newest first.
    pub fn actions_for(&self, subscriber: &str, limit: u32) -> Result<Vec<Action>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM actions WHERE subscriber = ?1
                 ORDER BY started_at DESC, id DESC LIMIT ?2"
            ))?;
            let mut rows = stmt.query((subscriber, i64::from(limit)))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(from_row(r)?);
            }
            Ok(out)
        })
    }

    /// Throttles, bans and limits not yet lifted, oldest expiry first. After a
    /// restart this is what the app must still restore when each expires.
    pub fn actions_in_force(&self) -> Result<Vec<Action>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM actions WHERE ended_at IS NULL AND expires_at IS NOT NULL
                 ORDER BY expires_at, id"
            ))?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(from_row(r)?);
            }
            Ok(out)
        })
    }

    /// Marks an action as over (expired or lifted) together with its audit
    /// entry. Ending an action twice is refused, so a restore is recorded once.
    pub fn end_action(
        &mut self,
        id: i64,
        at: DateTime<Utc>,
        entry: &AuditEntry,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE actions SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL",
                )?
                .execute((id, ts(&at)))?;
            if n == 0 {
                return Err(Fail::invalid(format!(
                    "action {id} does not exist or has already ended"
                )));
            }
            audit::insert(tx, entry)?;
            Ok(())
        })
    }

    /// Every subscriber whose session ShareGuard ended since a scan last saw
    /// them, with the time.
    pub fn disconnected(&self) -> Result<HashMap<String, DateTime<Utc>>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT subscriber, disconnected_at FROM results WHERE disconnected_at IS NOT NULL",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = HashMap::new();
            while let Some(r) = rows.next()? {
                out.insert(
                    r.get(0)?,
                    parse_ts(&r.get::<_, String>(1)?, "disconnect time")?,
                );
            }
            Ok(out)
        })
    }

    /// When ShareGuard last ended the subscriber's session, if no scan has
    /// seen them since.
    pub fn disconnected_at(&self, subscriber: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.read(|c| {
            let v: Option<Option<String>> = c
                .prepare_cached("SELECT disconnected_at FROM results WHERE subscriber = ?1")?
                .query_row([subscriber], |r| r.get(0))
                .optional()?;
            parse_opt_ts(v.flatten(), "disconnect time")
        })
    }
}
