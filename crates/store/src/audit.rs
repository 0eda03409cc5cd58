//! The audit log: who scanned, flagged, whitelisted or disconnected whom.
//!
//! Disconnecting a paying customer is a serious step, so the owner must be
//! able to show later who did it and why. Entries can only be added; triggers
//! in the schema make SQLite itself refuse `UPDATE` and `DELETE`.

use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::codec::{from_json, parse_ts, to_json, ts};
use crate::error::Fail;
use crate::{Store, StoreError};

/// Action names used by ShareGuard. The log accepts any name, so adding an
/// action never needs a schema change.
pub mod action {
    pub const SCAN: &str = "scan";
    pub const FLAG: &str = "flag";
    pub const WHITELIST_ADD: &str = "whitelist_add";
    pub const WHITELIST_REMOVE: &str = "whitelist_remove";
    pub const RESULTS_CLEARED: &str = "results_cleared";
    pub const NAS_ADDED: &str = "nas_added";
    pub const NAS_REMOVED: &str = "nas_removed";
    pub const PROBES_INSTALLED: &str = "probes_installed";
    pub const PROBES_REMOVED: &str = "probes_removed";
    pub const P2P_RULES_INSTALLED: &str = "p2p_rules_installed";
    pub const P2P_RULES_REMOVED: &str = "p2p_rules_removed";
    pub const DISCONNECT: &str = "disconnect";
    pub const OPERATOR_SAVED: &str = "operator_saved";
    pub const OPERATOR_REMOVED: &str = "operator_removed";
    pub const OPERATOR_SWITCHED: &str = "operator_switched";
    pub const PIN_REFUSED: &str = "pin_refused";
    pub const TAG_SET: &str = "tag_set";
    pub const HISTORY_PRUNED: &str = "history_pruned";
    pub const LINE_DISTANCE_SET: &str = "line_distance_set";
    pub const LINE_DISTANCE_CLEARED: &str = "line_distance_cleared";
    pub const DEMO_REMOVED: &str = "demo_removed";
}

/// An entry to append.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// The operator's name, or `system` for scheduled work.
    pub operator: String,
    /// One of [`action`], or another stable snake_case name.
    pub action: String,
    /// What the action was about: usually a subscriber or router name.
    pub subject: Option<String>,
    /// Anything needed to understand the entry later.
    pub details: serde_json::Value,
}

impl AuditEntry {
    /// An entry stamped now, without subject or details.
    pub fn new(operator: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            at: Utc::now(),
            operator: operator.into(),
            action: action.into(),
            subject: None,
            details: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub operator: String,
    pub action: String,
    pub subject: Option<String>,
    pub details: serde_json::Value,
}

/// Which entries [`Store::audit_log`] returns; every field narrows the result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct AuditFilter {
    pub operator: Option<String>,
    pub action: Option<String>,
    pub subject: Option<String>,
    /// Entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Entries before this time.
    pub until: Option<DateTime<Utc>>,
    /// At most this many entries, newest first.
    pub limit: Option<u32>,
}

/// Deletes `subscriber`'s row of `table` and records `action` with the
/// deleted `column`'s value under that name in the details, in the caller's
/// transaction. False, and nothing recorded, when there was no row. The
/// table and column are the store's own names, never input.
pub(crate) fn delete_subscriber_row(
    conn: &Connection,
    table: &str,
    column: &str,
    subscriber: &str,
    operator: &str,
    action: &str,
) -> Result<bool, Fail> {
    let held: Option<rusqlite::types::Value> = conn
        .prepare_cached(&format!(
            "DELETE FROM {table} WHERE subscriber = ?1 RETURNING {column}"
        ))?
        .query_row([subscriber], |r| r.get(0))
        .optional()?;
    let Some(held) = held else {
        return Ok(false);
    };
    let value = match held {
        SqlValue::Integer(n) => serde_json::Value::from(n),
        SqlValue::Text(t) => serde_json::Value::from(t),
        SqlValue::Real(x) => serde_json::Value::from(x),
        SqlValue::Null | SqlValue::Blob(_) => serde_json::Value::Null,
    };
    insert(
        conn,
        &AuditEntry {
            at: Utc::now(),
            operator: operator.to_owned(),
            action: action.to_owned(),
            subject: Some(subscriber.to_owned()),
            details: serde_json::json!({ column: value }),
        },
    )?;
    Ok(true)
}

/// Appends an entry inside the caller's transaction, so an action and its
/// audit entry are stored together or not at all.
pub(crate) fn insert(conn: &Connection, entry: &AuditEntry) -> Result<i64, Fail> {
    if entry.operator.trim().is_empty() || entry.action.trim().is_empty() {
        return Err(Fail::invalid(
            "an audit entry needs an operator and an action: pass the operator's name (or `system`)",
        ));
    }
    let details = to_json(&entry.details, "audit entry")?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO audit_log (at, operator, action, subject, details) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    stmt.execute((
        ts(&entry.at),
        &entry.operator,
        &entry.action,
        &entry.subject,
        details,
    ))?;
    Ok(conn.last_insert_rowid())
}

impl Store {
    /// Appends an entry and returns its id.
    pub fn audit(&mut self, entry: &AuditEntry) -> Result<i64, StoreError> {
        self.write(|tx| insert(tx, entry))
    }

    /// Entries matching `filter`, newest first.
    pub fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        let (sql, args) = newest_first_sql(filter);
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(record_from_row(row)?);
            }
            Ok(out)
        })
    }
}

/// The query for the entries matching `filter`, newest first, at most
/// `filter.limit`, with its arguments.
pub(crate) fn newest_first_sql(filter: &AuditFilter) -> (String, Vec<SqlValue>) {
    let mut sql = String::from(
        "SELECT id, at, operator, action, subject, details FROM audit_log WHERE 1 = 1",
    );
    let mut args: Vec<SqlValue> = Vec::new();
    let mut narrow = |clause: &str, value: SqlValue| {
        args.push(value);
        sql.push_str(&format!(" AND {clause} ?{}", args.len()));
    };
    if let Some(op) = &filter.operator {
        narrow("operator =", SqlValue::Text(op.clone()));
    }
    if let Some(action) = &filter.action {
        narrow("action =", SqlValue::Text(action.clone()));
    }
    if let Some(subject) = &filter.subject {
        narrow("subject =", SqlValue::Text(subject.clone()));
    }
    if let Some(since) = &filter.since {
        narrow("at >=", SqlValue::Text(ts(since)));
    }
    if let Some(until) = &filter.until {
        narrow("at <", SqlValue::Text(ts(until)));
    }
    args.push(SqlValue::Integer(filter.limit.map_or(-1, i64::from)));
    sql.push_str(&format!(" ORDER BY at DESC, id DESC LIMIT ?{}", args.len()));
    (sql, args)
}

/// One row of [`newest_first_sql`].
pub(crate) fn record_from_row(row: &rusqlite::Row<'_>) -> Result<AuditRecord, Fail> {
    let at: String = row.get(1)?;
    let details: String = row.get(5)?;
    Ok(AuditRecord {
        id: row.get(0)?,
        at: parse_ts(&at, "audit entry time")?,
        operator: row.get(2)?,
        action: row.get(3)?,
        subject: row.get(4)?,
        details: from_json(&details, "audit entry")?,
    })
}
