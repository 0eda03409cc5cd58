//! The results table's rows: what a listing shows, sorts and filters on,
//! read a page at a time. Evidence, TTL counts and the recommendation stay in
//! the database until one subscriber is opened, so a page of a 30,000-row
//! listing reads a few kilobytes.

use chrono::{DateTime, Utc};
use rusqlite::Row;
use serde::{Deserialize, Serialize};
use shareguard_detect::{Level, SubscriberResult, TtlStatus};

use crate::codec::{from_json, parse_enum, parse_opt_ts};
use crate::error::Fail;
use crate::results::ResultFilter;
use crate::{Store, StoreError};

/// One subscriber's latest verdict, as a line of the results table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ResultLine {
    pub subscriber: String,
    pub nas: String,
    pub address: String,
    pub connections: u32,
    pub p2p_connections: u32,
    pub ttl_values: Vec<u8>,
    pub ttl_status: TtlStatus,
    pub level: Level,
    pub whitelisted: bool,
    pub reasons: Vec<String>,
    /// The effective reseller/area tag: the subscriber's own, else its router's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Set when ShareGuard ended the session and no scan has seen them since.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disconnected_at: Option<DateTime<Utc>>,
}

/// A fresh verdict as a table line (tags and disconnects are the store's to
/// add, so a line made here has none).
impl From<&SubscriberResult> for ResultLine {
    fn from(r: &SubscriberResult) -> Self {
        Self {
            subscriber: r.subscriber.clone(),
            nas: r.nas.clone(),
            address: r.address.clone(),
            connections: r.connections,
            p2p_connections: r.p2p_connections,
            ttl_values: r.ttl_values.clone(),
            ttl_status: r.ttl_status,
            level: r.level,
            whitelisted: r.whitelisted,
            reasons: r.reasons.clone(),
            tag: None,
            disconnected_at: None,
        }
    }
}

fn line_columns() -> String {
    format!(
        "subscriber, nas, address, connections, p2p_connections, ttl_values, ttl_status, level, \
         whitelisted, reasons, {} AS tag, disconnected_at",
        crate::tags::EFFECTIVE_TAG
    )
}

fn line_from_row(row: &Row<'_>) -> Result<ResultLine, Fail> {
    let text = |i: usize| -> Result<String, Fail> { Ok(row.get::<_, String>(i)?) };
    Ok(ResultLine {
        subscriber: row.get(0)?,
        nas: row.get(1)?,
        address: row.get(2)?,
        connections: row.get(3)?,
        p2p_connections: row.get(4)?,
        ttl_values: from_json(&text(5)?, "TTL list")?,
        ttl_status: parse_enum(&text(6)?, "TTL status")?,
        level: parse_enum(&text(7)?, "level")?,
        whitelisted: row.get(8)?,
        reasons: from_json(&text(9)?, "reasons")?,
        tag: row.get(10)?,
        disconnected_at: parse_opt_ts(row.get(11)?, "disconnect time")?,
    })
}

/// A page of the results table and the counts around it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ResultsPage {
    pub rows: Vec<ResultLine>,
    pub offset: u32,
    /// Results matching the query (every page of it).
    pub matched: u64,
    /// Every stored result.
    pub total: u64,
}

/// Most rows one page may ask for: a screen shows a few dozen.
pub const MAX_PAGE: u32 = 500;
/// The longest search, in bytes.
pub const MAX_SEARCH: usize = 200;

impl Store {
    /// One page of the results table: `query` must ask for 1 to
    /// [`MAX_PAGE`] rows, so a window only ever holds the rows in view
    /// however many subscribers there are.
    pub fn results_page(&self, query: &ResultFilter) -> Result<ResultsPage, StoreError> {
        if !query.limit.is_some_and(|n| (1..=MAX_PAGE).contains(&n)) {
            return Err(StoreError::Invalid(format!(
                "ask for 1 to {MAX_PAGE} results at a time"
            )));
        }
        if query.search.as_ref().is_some_and(|q| q.len() > MAX_SEARCH) {
            return Err(StoreError::Invalid(format!(
                "the search is too long: type up to {MAX_SEARCH} characters of a name, address or router"
            )));
        }
        Ok(ResultsPage {
            rows: self.result_lines(query)?,
            offset: query.offset,
            matched: self.result_count(query)?,
            total: self.result_count(&ResultFilter::default())?,
        })
    }

    /// The table lines of the latest results matching `filter`, in its order
    /// and page.
    pub fn result_lines(&self, filter: &ResultFilter) -> Result<Vec<ResultLine>, StoreError> {
        self.select_results(&line_columns(), filter, line_from_row)
    }
}
