//! Subscribers the owner has excused from flagging (a business line with
//! several offices, a family compound that pays for it), optionally until a
//! date.
//!
//! Expired entries are kept, so the owner can see what was excused before,
//! but every lookup ignores them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, action, AuditEntry};
use crate::codec::{parse_opt_ts, parse_ts, ts};
use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WhitelistEntry {
    pub subscriber: String,
    pub reason: String,
    pub added_by: String,
    pub added_at: DateTime<Utc>,
    /// After this moment the entry no longer counts.
    pub expires_at: Option<DateTime<Utc>>,
}

impl WhitelistEntry {
    /// True while the entry counts.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|t| t > now)
    }
}

/// SQL condition for "not expired at ?now"; text timestamps compare in time order.
const ACTIVE: &str = "(expires_at IS NULL OR expires_at > ?1)";

impl Store {
    /// Whitelists `subscriber` (replacing an earlier entry), applies it to
    /// their latest result and records who did it.
    pub fn whitelist_add(
        &mut self,
        subscriber: &str,
        reason: &str,
        operator: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        if subscriber.trim().is_empty() {
            return Err(StoreError::Invalid(
                "give the subscriber's login name to whitelist".into(),
            ));
        }
        if reason.trim().is_empty() {
            return Err(StoreError::Invalid(format!(
                "give a reason for whitelisting {subscriber} (for example \"business line, 3 offices\"), \
                 so others know why it is not flagged"
            )));
        }
        let now = Utc::now();
        self.write(|tx| {
            let previous: Option<String> = tx
                .prepare_cached("SELECT reason FROM whitelist WHERE subscriber = ?1")?
                .query_row([subscriber], |r| r.get(0))
                .optional()?;
            tx.prepare_cached(
                "INSERT INTO whitelist (subscriber, reason, added_by, added_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (subscriber) DO UPDATE SET
                     reason = excluded.reason, added_by = excluded.added_by,
                     added_at = excluded.added_at, expires_at = excluded.expires_at",
            )?
            .execute((
                subscriber,
                reason,
                operator,
                ts(&now),
                expires_at.as_ref().map(ts),
            ))?;
            if expires_at.is_none_or(|e| e > now) {
                crate::results::whitelist_latest_result(tx, subscriber, reason)?;
            }
            audit::insert(
                tx,
                &AuditEntry {
                    at: now,
                    operator: operator.to_owned(),
                    action: action::WHITELIST_ADD.into(),
                    subject: Some(subscriber.to_owned()),
                    details: json!({
                        "reason": reason,
                        "expires_at": expires_at,
                        "replaced_reason": previous,
                    }),
                },
            )?;
            Ok(())
        })
    }

    /// Removes `subscriber` from the whitelist. Returns false (and logs
    /// nothing) if it was not whitelisted.
    pub fn whitelist_remove(
        &mut self,
        subscriber: &str,
        operator: &str,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            audit::delete_subscriber_row(
                tx,
                "whitelist",
                "reason",
                subscriber,
                operator,
                action::WHITELIST_REMOVE,
            )
        })
    }

    /// Whitelist entries by subscriber; expired ones only if asked for.
    pub fn whitelist_list(&self, include_expired: bool) -> Result<Vec<WhitelistEntry>, StoreError> {
        // Expired entries are those whose expiry is not after now; listing
        // them all is the same query with "now" at the beginning of time.
        let cutoff = if include_expired {
            String::new()
        } else {
            ts(&Utc::now())
        };
        let sql = format!(
            "SELECT subscriber, reason, added_by, added_at, expires_at FROM whitelist
             WHERE {ACTIVE} ORDER BY subscriber"
        );
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query([cutoff])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let added_at: String = row.get(3)?;
                out.push(WhitelistEntry {
                    subscriber: row.get(0)?,
                    reason: row.get(1)?,
                    added_by: row.get(2)?,
                    added_at: parse_ts(&added_at, "whitelist date")?,
                    expires_at: parse_opt_ts(row.get(4)?, "whitelist expiry")?,
                });
            }
            Ok(out)
        })
    }

    /// Why `subscriber` is whitelisted at `now`, or `None` if it is not (or
    /// its entry has expired).
    pub fn whitelisted_reason(
        &self,
        subscriber: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            let reason = c
                .prepare_cached(&format!(
                    "SELECT reason FROM whitelist WHERE {ACTIVE} AND subscriber = ?2"
                ))?
                .query_row((ts(&now), subscriber), |r| r.get(0))
                .optional()?;
            Ok(reason)
        })
    }

    /// Every entry in force at `now` (subscriber → reason), for a scan to
    /// apply in one lookup.
    pub fn active_whitelist(
        &self,
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, String>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT subscriber, reason FROM whitelist WHERE {ACTIVE}"
            ))?;
            let rows = stmt.query_map([ts(&now)], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<HashMap<_, _>, _>>()?)
        })
    }
}
