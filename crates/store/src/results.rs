//! Subscriber results: the latest verdict per subscriber, its history across
//! scans and the TTL histogram behind each verdict.
//!
//! `results` holds one row per subscriber, replaced whenever a scan of a
//! router that answered covers that subscriber and otherwise kept until the
//! owner clears it. So after a router times out, its subscribers still show
//! what the last good scan found instead of disappearing.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Row};
use serde::{Deserialize, Serialize};
use serde_json::json;
use shareguard_detect::{Level, SubscriberResult, TtlStatus};

use crate::audit::{self, action, AuditEntry};
use crate::codec::{from_json, parse_enum, parse_ts, to_json, ts};
use crate::error::Fail;
use crate::{Store, StoreError};

/// Which results [`Store::results`] returns; every field narrows the result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
// Every field may be left out (its default), and the contract says so.
pub struct ResultFilter {
    /// Only this level and above.
    #[cfg_attr(feature = "specta", specta(optional))]
    pub min_level: Option<Level>,
    /// Only subscribers last seen on this router.
    #[cfg_attr(feature = "specta", specta(optional))]
    pub nas: Option<String>,
    /// Only this subscriber (exact login name).
    #[cfg_attr(feature = "specta", specta(optional))]
    pub subscriber: Option<String>,
    /// Case-insensitive substring of the subscriber name, address or router.
    #[cfg_attr(feature = "specta", specta(optional))]
    pub search: Option<String>,
    /// Only results needing attention: medium or above and not whitelisted.
    #[cfg_attr(feature = "specta", specta(optional))]
    pub flagged_only: bool,
    /// Only subscribers with this reseller/area tag (their own, else their router's).
    #[cfg_attr(feature = "specta", specta(optional))]
    pub tag: Option<String>,
    /// The column to sort by; the default puts the most suspicious first.
    #[cfg_attr(feature = "specta", specta(optional))]
    pub order: ResultOrder,
    /// Smallest first instead of largest first.
    #[cfg_attr(feature = "specta", specta(optional))]
    pub ascending: bool,
    #[cfg_attr(feature = "specta", specta(optional))]
    pub limit: Option<u32>,
    #[cfg_attr(feature = "specta", specta(optional))]
    pub offset: u32,
}

/// What a results listing is sorted by. Ties fall back to the subscriber
/// name, so pages of one listing never overlap or skip a row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ResultOrder {
    /// Level, then connections: the `results_by_level` index, so the
    /// default listing pages without sorting.
    #[default]
    Level,
    Subscriber,
    Nas,
    /// The effective tag (the subscriber's own, else its router's).
    Tag,
    Connections,
    /// The TTL values seen, as their stored list.
    Ttl,
    TtlStatus,
    /// How many reasons the verdict gives.
    Reasons,
}

/// The `ORDER BY` clause of a filter.
pub(crate) fn order_sql(filter: &ResultFilter) -> String {
    let dir = if filter.ascending { "ASC" } else { "DESC" };
    let key = match filter.order {
        ResultOrder::Level => {
            return format!(" ORDER BY level_rank {dir}, connections {dir}, subscriber")
        }
        ResultOrder::Subscriber => return format!(" ORDER BY subscriber {dir}"),
        ResultOrder::Nas => "nas",
        ResultOrder::Tag => crate::tags::EFFECTIVE_TAG,
        ResultOrder::Connections => "connections",
        ResultOrder::Ttl => "ttl_values",
        ResultOrder::TtlStatus => "ttl_status",
        ResultOrder::Reasons => "json_array_length(reasons)",
    };
    format!(" ORDER BY {key} {dir}, subscriber")
}

/// Flagged subscribers in one scan, for the warnings trend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TrendPoint {
    pub scan_id: i64,
    pub at: DateTime<Utc>,
    pub checked: u32,
    /// Medium or above and not whitelisted at the time.
    pub flagged: u32,
    pub high: u32,
}

/// One subscriber in one scan, for verdict and connection history charts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HistoryEntry {
    pub scan_id: i64,
    pub subscriber: String,
    pub nas: String,
    pub scanned_at: DateTime<Utc>,
    pub level: Level,
    pub ttl_status: TtlStatus,
    pub whitelisted: bool,
    pub connections: u32,
    pub p2p_connections: u32,
    pub ttl_values: Vec<u8>,
    pub reasons: Vec<String>,
}

const UPSERT_RESULT: &str = "
    INSERT INTO results (subscriber, scan_id, nas, address, access, connections, p2p_connections,
                         ttl_values, ttl_counts, ttl_status, level, assessed_level, whitelisted,
                         reasons, recommended_action, evidence, scanned_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
    ON CONFLICT (subscriber) DO UPDATE SET
        scan_id = excluded.scan_id, nas = excluded.nas, address = excluded.address,
        access = excluded.access, connections = excluded.connections,
        p2p_connections = excluded.p2p_connections, ttl_values = excluded.ttl_values,
        ttl_counts = excluded.ttl_counts, ttl_status = excluded.ttl_status, level = excluded.level,
        assessed_level = excluded.assessed_level, whitelisted = excluded.whitelisted,
        reasons = excluded.reasons, recommended_action = excluded.recommended_action,
        evidence = excluded.evidence, scanned_at = excluded.scanned_at,
        disconnected_at = NULL";

const INSERT_HISTORY: &str = "
    INSERT INTO result_history (scan_id, subscriber, nas, level, ttl_status, whitelisted, connections,
                                p2p_connections, ttl_values, reasons, scanned_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

const INSERT_TTL: &str =
    "INSERT INTO ttl_evidence (scan_id, subscriber, ttl, count) VALUES (?1, ?2, ?3, ?4)";

pub(crate) const RESULT_COLUMNS: &str =
    "subscriber, nas, address, access, connections, p2p_connections, \
     ttl_values, ttl_counts, ttl_status, level, assessed_level, whitelisted, reasons, \
     recommended_action, evidence, scanned_at";

/// Stores the results of one finished scan inside the caller's transaction:
/// only those from `answered` routers, and for a subscriber listed twice only
/// its last entry. Returns the results stored, in input order.
pub(crate) fn store_scan_results<'r>(
    tx: &Connection,
    scan_id: i64,
    answered: &HashSet<&str>,
    results: &'r [SubscriberResult],
) -> Result<Vec<&'r SubscriberResult>, Fail> {
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(results.len());
    for (i, r) in results.iter().enumerate() {
        if answered.contains(r.nas.as_str()) {
            last.insert(r.subscriber.as_str(), i);
        }
    }
    let mut upsert = tx.prepare_cached(UPSERT_RESULT)?;
    let mut history = tx.prepare_cached(INSERT_HISTORY)?;
    let mut ttl = tx.prepare_cached(INSERT_TTL)?;
    let mut stored = Vec::with_capacity(last.len());
    for (i, r) in results.iter().enumerate() {
        if last.get(r.subscriber.as_str()) != Some(&i) {
            continue;
        }
        let ttl_values = to_json(&r.ttl_values, "TTL list")?;
        let reasons = to_json(&r.reasons, "reasons")?;
        let scanned_at = ts(&r.scanned_at);
        upsert.execute(rusqlite::params![
            r.subscriber,
            scan_id,
            r.nas,
            r.address,
            r.access.as_str(),
            r.connections,
            r.p2p_connections,
            ttl_values,
            to_json(&r.ttl_counts, "TTL counts")?,
            r.ttl_status.as_str(),
            r.level.as_str(),
            r.assessed_level.as_str(),
            r.whitelisted,
            reasons,
            r.recommended_action.as_str(),
            to_json(&r.evidence, "evidence")?,
            scanned_at,
        ])?;
        history.execute(rusqlite::params![
            scan_id,
            r.subscriber,
            r.nas,
            r.level.as_str(),
            r.ttl_status.as_str(),
            r.whitelisted,
            r.connections,
            r.p2p_connections,
            ttl_values,
            reasons,
            scanned_at,
        ])?;
        for (value, count) in &r.ttl_counts {
            ttl.execute((scan_id, &r.subscriber, value, count))?;
        }
        stored.push(r);
    }
    Ok(stored)
}

/// Applies a new whitelist entry to the subscriber's latest result, by the
/// rule a scan applies, so listings, charts and reports show the owner's
/// decision at once rather than after the next scan.
pub(crate) fn whitelist_latest_result(
    tx: &Connection,
    subscriber: &str,
    reason: &str,
) -> Result<(), Fail> {
    let Some(mut r) = latest_result(tx, subscriber)? else {
        return Ok(());
    };
    if r.whitelisted {
        return Ok(());
    }
    r.apply_whitelist(reason);
    tx.prepare_cached(
        "UPDATE results SET level = ?2, whitelisted = ?3, reasons = ?4, recommended_action = ?5
         WHERE subscriber = ?1",
    )?
    .execute((
        subscriber,
        r.level.as_str(),
        r.whitelisted,
        to_json(&r.reasons, "reasons")?,
        r.recommended_action.as_str(),
    ))?;
    Ok(())
}

/// The subscriber's latest result, on a connection or in a transaction.
fn latest_result(c: &Connection, subscriber: &str) -> Result<Option<SubscriberResult>, Fail> {
    let sql = format!("SELECT {RESULT_COLUMNS} FROM results WHERE subscriber = ?1");
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query([subscriber])?;
    rows.next()?.map(result_from_row).transpose()
}

pub(crate) fn result_from_row(row: &Row<'_>) -> Result<SubscriberResult, Fail> {
    let text = |i: usize| -> Result<String, Fail> { Ok(row.get::<_, String>(i)?) };
    Ok(SubscriberResult {
        subscriber: row.get(0)?,
        nas: row.get(1)?,
        address: row.get(2)?,
        access: parse_enum(&text(3)?, "access type")?,
        connections: row.get(4)?,
        p2p_connections: row.get(5)?,
        ttl_values: from_json(&text(6)?, "TTL list")?,
        ttl_counts: from_json(&text(7)?, "TTL counts")?,
        ttl_status: parse_enum(&text(8)?, "TTL status")?,
        level: parse_enum(&text(9)?, "level")?,
        assessed_level: parse_enum(&text(10)?, "level")?,
        whitelisted: row.get(11)?,
        reasons: from_json(&text(12)?, "reasons")?,
        recommended_action: parse_enum(&text(13)?, "recommended action")?,
        evidence: from_json(&text(14)?, "evidence")?,
        scanned_at: parse_ts(&text(15)?, "scan time")?,
    })
}

/// The value of the `level_rank` column for a level; must match the
/// `CASE` in the schema.
fn level_rank(level: Level) -> i64 {
    match level {
        Level::Normal => 0,
        Level::Low => 1,
        Level::Medium => 2,
        Level::High => 3,
        Level::Critical => 4,
    }
}

/// The `WHERE` clause and arguments for a filter.
pub(crate) fn filter_sql(filter: &ResultFilter) -> (String, Vec<SqlValue>) {
    let mut sql = String::from(" WHERE 1 = 1");
    let mut args = Vec::new();
    if let Some(level) = filter.min_level {
        args.push(SqlValue::Integer(level_rank(level)));
        sql.push_str(&format!(" AND level_rank >= ?{}", args.len()));
    }
    if let Some(nas) = &filter.nas {
        args.push(SqlValue::Text(nas.clone()));
        sql.push_str(&format!(" AND nas = ?{}", args.len()));
    }
    if let Some(subscriber) = &filter.subscriber {
        args.push(SqlValue::Text(subscriber.clone()));
        sql.push_str(&format!(" AND subscriber = ?{}", args.len()));
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.is_empty()) {
        args.push(SqlValue::Text(search.to_lowercase()));
        let n = args.len();
        sql.push_str(&format!(
            " AND (instr(lower(subscriber), ?{n}) > 0 OR instr(lower(address), ?{n}) > 0 \
             OR instr(lower(nas), ?{n}) > 0)"
        ));
    }
    if let Some(tag) = &filter.tag {
        args.push(SqlValue::Text(tag.clone()));
        sql.push_str(&format!(
            " AND {} = ?{}",
            crate::tags::EFFECTIVE_TAG,
            args.len()
        ));
    }
    if filter.flagged_only {
        // Mirrors SubscriberResult::is_flagged.
        sql.push_str(&format!(
            " AND whitelisted = 0 AND level_rank >= {}",
            level_rank(Level::Medium)
        ));
    }
    (sql, args)
}

impl Store {
    /// Latest results matching `filter`, in its order (by default the most
    /// suspicious first: level, then connections).
    pub fn results(&self, filter: &ResultFilter) -> Result<Vec<SubscriberResult>, StoreError> {
        self.select_results(RESULT_COLUMNS, filter, result_from_row)
    }

    /// Runs `SELECT columns` over the latest results matching `filter`, in
    /// its order and page, reading each row with `read`.
    pub(crate) fn select_results<T>(
        &self,
        columns: &str,
        filter: &ResultFilter,
        read: impl Fn(&Row<'_>) -> Result<T, Fail>,
    ) -> Result<Vec<T>, StoreError> {
        let (where_sql, mut args) = filter_sql(filter);
        args.push(SqlValue::Integer(filter.limit.map_or(-1, i64::from)));
        args.push(SqlValue::Integer(i64::from(filter.offset)));
        let n = args.len();
        let sql = format!(
            "SELECT {columns} FROM results r{where_sql}{} LIMIT ?{} OFFSET ?{n}",
            order_sql(filter),
            n - 1
        );
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(read(row)?);
            }
            Ok(out)
        })
    }

    /// How many latest results match `filter` (ignoring its limit and offset),
    /// for paging.
    pub fn result_count(&self, filter: &ResultFilter) -> Result<u64, StoreError> {
        let (where_sql, args) = filter_sql(filter);
        let sql = format!("SELECT count(*) FROM results r{where_sql}");
        self.read(|c| {
            let n: i64 = c
                .prepare_cached(&sql)?
                .query_row(rusqlite::params_from_iter(args), |r| r.get(0))?;
            Ok(crate::codec::sql_to_u64(n))
        })
    }

    /// The latest result for one subscriber.
    pub fn result(&self, subscriber: &str) -> Result<Option<SubscriberResult>, StoreError> {
        self.read(|c| latest_result(c, subscriber))
    }

    /// The subscriber's verdicts across scans, newest first.
    pub fn subscriber_history(
        &self,
        subscriber: &str,
        limit: u32,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT scan_id, subscriber, nas, scanned_at, level, ttl_status, whitelisted,
                        connections, p2p_connections, ttl_values, reasons
                 FROM result_history WHERE subscriber = ?1
                 ORDER BY scanned_at DESC, scan_id DESC LIMIT ?2",
            )?;
            let mut rows = stmt.query((subscriber, limit))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let text = |i: usize| -> Result<String, Fail> { Ok(row.get::<_, String>(i)?) };
                out.push(HistoryEntry {
                    scan_id: row.get(0)?,
                    subscriber: row.get(1)?,
                    nas: row.get(2)?,
                    scanned_at: parse_ts(&text(3)?, "scan time")?,
                    level: parse_enum(&text(4)?, "level")?,
                    ttl_status: parse_enum(&text(5)?, "TTL status")?,
                    whitelisted: row.get(6)?,
                    connections: row.get(7)?,
                    p2p_connections: row.get(8)?,
                    ttl_values: from_json(&text(9)?, "TTL list")?,
                    reasons: from_json(&text(10)?, "reasons")?,
                });
            }
            Ok(out)
        })
    }

    /// Observations per TTL for one subscriber in one scan (empty if the
    /// scan did not store the subscriber).
    pub fn ttl_histogram(
        &self,
        scan_id: i64,
        subscriber: &str,
    ) -> Result<BTreeMap<u8, u32>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT ttl, count FROM ttl_evidence WHERE scan_id = ?1 AND subscriber = ?2",
            )?;
            let rows = stmt.query_map((scan_id, subscriber), |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<BTreeMap<u8, u32>, _>>()?)
        })
    }

    /// Checked and flagged subscribers per scan for the last `scans` scans
    /// that stored results, oldest first; only subscribers with `tag` if given.
    pub fn flag_trend(&self, scans: u32, tag: Option<&str>) -> Result<Vec<TrendPoint>, StoreError> {
        let tag_sql = if tag.is_some() {
            format!(" AND {} = ?2", crate::tags::EFFECTIVE_TAG)
        } else {
            " AND ?2 IS NULL".to_string()
        };
        let sql = format!(
            "SELECT * FROM (
                 SELECT r.scan_id, min(r.scanned_at), count(*),
                        sum(r.whitelisted = 0 AND r.level IN ('medium', 'high', 'critical')),
                        sum(r.whitelisted = 0 AND r.level IN ('high', 'critical'))
                 FROM result_history r WHERE 1 = 1{tag_sql}
                 GROUP BY r.scan_id ORDER BY r.scan_id DESC LIMIT ?1)
             ORDER BY 1"
        );
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query((scans, tag))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(TrendPoint {
                    scan_id: row.get(0)?,
                    at: parse_ts(&row.get::<_, String>(1)?, "scan time")?,
                    checked: crate::codec::sql_to_u32(row.get(2)?),
                    flagged: crate::codec::sql_to_u32(row.get(3)?),
                    high: crate::codec::sql_to_u32(row.get(4)?),
                });
            }
            Ok(out)
        })
    }

    /// Forgets every latest result (history and the audit log stay) and
    /// records who did it. Returns how many were removed.
    pub fn clear_results(&mut self, operator: &str) -> Result<u64, StoreError> {
        self.write(|tx| {
            let removed = tx.prepare_cached("DELETE FROM results")?.execute([])?;
            let removed = u64::try_from(removed).unwrap_or(u64::MAX);
            audit::insert(
                tx,
                &AuditEntry::new(operator, action::RESULTS_CLEARED)
                    .details(json!({ "removed": removed })),
            )?;
            Ok(removed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_its_count_and_its_page_read_the_level_index() {
        let store = Store::open_in_memory().unwrap();
        let filter = ResultFilter {
            search: Some("tower".into()),
            min_level: Some(Level::Low),
            ..Default::default()
        };
        let (where_sql, args) = filter_sql(&filter);
        let plan = |sql: String| -> String {
            store
                .read(|c| {
                    let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                    let rows = stmt.query_map(rusqlite::params_from_iter(args.clone()), |r| {
                        r.get::<_, String>(3)
                    })?;
                    Ok(rows.collect::<Result<Vec<_>, _>>()?.join("; "))
                })
                .unwrap()
        };
        let count = plan(format!("SELECT count(*) FROM results r{where_sql}"));
        // With the level filter SQLite calls it "USING INDEX", but it seeks
        // a table row only for a column the index lacks, which none is.
        assert!(count.contains("INDEX results_by_level"), "{count}");
        let page = plan(format!(
            "SELECT subscriber FROM results r{where_sql}{} LIMIT 100",
            order_sql(&filter)
        ));
        assert!(page.contains("USING INDEX results_by_level"), "{page}");
        assert!(!page.contains("TEMP B-TREE"), "no sort: {page}");
    }

    #[test]
    fn level_ranks_match_the_schema() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO scans (id, started_at, operator, scope, status, settings)
                     VALUES (1, '', 'test', '{}', 'running', '{}')",
                    [],
                )?;
                for level in Level::ALL {
                    let rank: i64 = tx.query_row(
                        "INSERT INTO results (subscriber, scan_id, nas, address, access, connections,
                             p2p_connections, ttl_values, ttl_counts, ttl_status, level, assessed_level,
                             whitelisted, reasons, recommended_action, evidence, scanned_at)
                         VALUES (?1, 1, '', '', 'pppoe', 0, 0, '[]', '{}', 'normal', ?1, ?1, 0, '[]',
                                 'none', '{}', '')
                         RETURNING level_rank",
                        [level.as_str()],
                        |r| r.get(0),
                    )?;
                    assert_eq!(rank, level_rank(level), "{level}");
                }
                Ok(())
            })
            .unwrap();
    }
}
