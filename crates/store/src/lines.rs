//! What the store knows of each subscriber line for the next verdict: the
//! owner's distance setting (audited) and the line's recent scans.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use serde_json::json;
use shareguard_detect::line::{HISTORY_DAYS, HISTORY_SCANS};
use shareguard_detect::{LineMemory, PastScan};

use crate::audit::{self, action, AuditEntry};
use crate::codec::{parse_ts, ts};
use crate::{Store, StoreError};

/// The most hops an owner may set: more routers than this inside one
/// customer's premises is not a network anyone builds.
pub const MAX_LINE_HOPS: u8 = 8;

/// The owner's distance for one subscriber.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LineDistanceEntry {
    pub subscriber: String,
    pub hops: u8,
    /// Why (for example "bridged modem, PC dials").
    pub note: String,
    pub set_by: String,
    pub set_at: DateTime<Utc>,
}

impl Store {
    /// Sets how many hops `subscriber`'s devices are from the NAS,
    /// overriding the router's setting and anything learned, and records
    /// who did it and the value it replaced.
    pub fn line_distance_set(
        &mut self,
        subscriber: &str,
        hops: u8,
        note: &str,
        operator: &str,
    ) -> Result<(), StoreError> {
        if subscriber.trim().is_empty() {
            return Err(StoreError::Invalid(
                "give the subscriber's login name to set their line's distance".into(),
            ));
        }
        if hops > MAX_LINE_HOPS {
            return Err(StoreError::Invalid(format!(
                "a line's distance is 0 to {MAX_LINE_HOPS} hops (got {hops}): 0 for a PC dialling through a bridged modem, 1 for a home router, 2 for a router behind the ISP's router"
            )));
        }
        let now = Utc::now();
        self.write(|tx| {
            let previous: Option<i64> = tx
                .prepare_cached("SELECT hops FROM line_distance WHERE subscriber = ?1")?
                .query_row([subscriber], |r| r.get(0))
                .optional()?;
            tx.prepare_cached(
                "INSERT INTO line_distance (subscriber, hops, note, set_by, set_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (subscriber) DO UPDATE SET
                     hops = excluded.hops, note = excluded.note,
                     set_by = excluded.set_by, set_at = excluded.set_at",
            )?
            .execute((subscriber, i64::from(hops), note.trim(), operator, ts(&now)))?;
            audit::insert(
                tx,
                &AuditEntry {
                    at: now,
                    operator: operator.to_owned(),
                    action: action::LINE_DISTANCE_SET.into(),
                    subject: Some(subscriber.to_owned()),
                    details: json!({ "hops": hops, "note": note.trim(), "replaced_hops": previous }),
                },
            )?;
            Ok(())
        })
    }

    /// Removes the owner's distance for `subscriber`; false (and nothing
    /// recorded) when there was none.
    pub fn line_distance_clear(
        &mut self,
        subscriber: &str,
        operator: &str,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            audit::delete_subscriber_row(
                tx,
                "line_distance",
                "hops",
                subscriber,
                operator,
                action::LINE_DISTANCE_CLEARED,
            )
        })
    }

    /// Every owner-set distance, by subscriber.
    pub fn line_distances(&self) -> Result<Vec<LineDistanceEntry>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT subscriber, hops, note, set_by, set_at FROM line_distance ORDER BY subscriber",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let at: String = r.get(4)?;
                out.push(LineDistanceEntry {
                    subscriber: r.get(0)?,
                    hops: u8::try_from(r.get::<_, i64>(1)?).unwrap_or(MAX_LINE_HOPS),
                    note: r.get(2)?,
                    set_by: r.get(3)?,
                    set_at: parse_ts(&at, "line distance date")?,
                });
            }
            Ok(out)
        })
    }

    /// Each line's memory at `now`: the owner's distance and up to
    /// [`HISTORY_SCANS`] scans of the last [`HISTORY_DAYS`] days, newest
    /// first. One query for all lines, so a scan of 30,000 subscribers reads
    /// it in one pass.
    pub fn line_memory(
        &self,
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, LineMemory>, StoreError> {
        let since = ts(&(now - Duration::days(HISTORY_DAYS)));
        self.snapshot(|c| {
            let mut out: HashMap<String, LineMemory> = HashMap::new();
            let mut stmt = c.prepare_cached("SELECT subscriber, hops FROM line_distance")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let hops = u8::try_from(r.get::<_, i64>(1)?).unwrap_or(MAX_LINE_HOPS);
                out.entry(r.get(0)?).or_default().owner_hops = Some(hops);
            }
            let mut stmt = c.prepare_cached(
                "SELECT h.subscriber, h.scan_id, h.scanned_at, t.ttl, t.count
                 FROM (SELECT subscriber, scan_id, scanned_at,
                              row_number() OVER (PARTITION BY subscriber
                                                 ORDER BY scanned_at DESC) AS n
                       FROM result_history WHERE scanned_at >= ?1 AND scanned_at < ?2) h
                 LEFT JOIN ttl_evidence t ON t.scan_id = h.scan_id AND t.subscriber = h.subscriber
                 WHERE h.n <= ?3
                 ORDER BY h.subscriber, h.scanned_at DESC",
            )?;
            let mut rows = stmt.query((since, ts(&now), HISTORY_SCANS as i64))?;
            let mut last: Option<(String, i64)> = None;
            while let Some(r) = rows.next()? {
                let subscriber: String = r.get(0)?;
                let scan: i64 = r.get(1)?;
                let line = out.entry(subscriber.clone()).or_default();
                if last.as_ref() != Some(&(subscriber.clone(), scan)) {
                    let at: String = r.get(2)?;
                    line.past.push(PastScan {
                        at: parse_ts(&at, "scan date")?,
                        counts: Default::default(),
                    });
                    last = Some((subscriber, scan));
                }
                if let (Some(ttl), Some(count)) =
                    (r.get::<_, Option<i64>>(3)?, r.get::<_, Option<i64>>(4)?)
                {
                    if let (Some(p), Ok(ttl), Ok(count)) = (
                        line.past.last_mut(),
                        u8::try_from(ttl),
                        u32::try_from(count),
                    ) {
                        p.counts.insert(ttl, count);
                    }
                }
            }
            Ok(out)
        })
    }
}
