//! How Rust values become column values and back.
//!
//! Kept in one place so every table uses the same encodings: timestamps as
//! fixed-width ISO-8601 UTC text (so text order is time order and values
//! round-trip to the nanosecond), enums as their snake_case serde names, and
//! lists or nested records as JSON text.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::Fail;

pub(crate) fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

pub(crate) fn parse_ts(s: &str, what: &str) -> Result<DateTime<Utc>, Fail> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Fail::data(what, format!("{s:?}: {e}")))
}

pub(crate) fn parse_opt_ts(s: Option<String>, what: &str) -> Result<Option<DateTime<Utc>>, Fail> {
    s.map(|s| parse_ts(&s, what)).transpose()
}

pub(crate) fn to_json<T: Serialize + ?Sized>(v: &T, what: &str) -> Result<String, Fail> {
    serde_json::to_string(v).map_err(|e| Fail::data(what, e))
}

pub(crate) fn from_json<T: DeserializeOwned>(s: &str, what: &str) -> Result<T, Fail> {
    serde_json::from_str(s).map_err(|e| Fail::data(what, e))
}

/// Reads an enum stored as its serde name (`"router_detected"`).
pub(crate) fn parse_enum<T: DeserializeOwned>(s: &str, what: &str) -> Result<T, Fail> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| Fail::data(what, format!("unknown value {s:?}")))
}

pub(crate) fn parse_opt_enum<T: DeserializeOwned>(
    s: Option<String>,
    what: &str,
) -> Result<Option<T>, Fail> {
    s.map(|s| parse_enum(&s, what)).transpose()
}

/// SQLite integers are signed 64-bit; counters beyond that are clamped.
pub(crate) fn u64_to_sql(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn sql_to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub(crate) fn sql_to_u32(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}
