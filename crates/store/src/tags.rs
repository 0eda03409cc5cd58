//! Reseller or area tags.
//!
//! A small ISP often resells through local partners or runs several towns;
//! the owner wants to look at one of them at a time. A router carries a tag
//! (in [`crate::nas`]) that applies to every subscriber seen on it; a
//! subscriber's own tag, set here, overrides it (a reseller's customers on a
//! shared NAS).

use std::collections::HashMap;

use chrono::Utc;
use serde_json::json;

use crate::audit::{self, action, AuditEntry};
use crate::codec::ts;
use crate::{Store, StoreError};

/// SQL for a result row's effective tag: the subscriber's own, else its
/// router's. `r` must be the alias of the `results` (or `result_history`) row.
pub(crate) const EFFECTIVE_TAG: &str = "COALESCE(
    (SELECT st.tag FROM subscriber_tags st WHERE st.subscriber = r.subscriber),
    (SELECT n.tag FROM nas n WHERE n.name = r.nas))";

/// Checks a tag's shape and returns it trimmed.
pub fn check_tag(tag: &str) -> Result<String, StoreError> {
    let t = tag.trim();
    if t.is_empty() || t.len() > 64 || t.chars().any(char::is_control) {
        return Err(StoreError::Invalid(
            "a tag is 1 to 64 characters, for example a reseller's or an area's name".into(),
        ));
    }
    Ok(t.to_string())
}

impl Store {
    /// Sets (or with `None` removes) a subscriber's own tag and records who did it.
    pub fn set_subscriber_tag(
        &mut self,
        subscriber: &str,
        tag: Option<&str>,
        operator: &str,
    ) -> Result<(), StoreError> {
        if subscriber.trim().is_empty() {
            return Err(StoreError::Invalid(
                "give the subscriber's login name".into(),
            ));
        }
        let tag = tag.map(check_tag).transpose()?;
        let now = ts(&Utc::now());
        self.write(|tx| {
            match &tag {
                Some(t) => tx
                    .prepare_cached(
                        "INSERT INTO subscriber_tags (subscriber, tag, updated_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT (subscriber) DO UPDATE SET tag = excluded.tag,
                             updated_at = excluded.updated_at",
                    )?
                    .execute((subscriber, t, &now))?,
                None => tx
                    .prepare_cached("DELETE FROM subscriber_tags WHERE subscriber = ?1")?
                    .execute([subscriber])?,
            };
            audit::insert(
                tx,
                &AuditEntry::new(operator, action::TAG_SET)
                    .subject(subscriber)
                    .details(json!({ "tag": tag })),
            )?;
            Ok(())
        })
    }

    /// The effective tag of every subscriber with a latest result and a tag.
    pub fn result_tags(&self) -> Result<HashMap<String, String>, StoreError> {
        let sql = format!(
            "SELECT subscriber, tag FROM (SELECT r.subscriber, {EFFECTIVE_TAG} AS tag FROM results r)
             WHERE tag IS NOT NULL"
        );
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Every tag in use on routers or subscribers, sorted.
    pub fn tags(&self) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT tag FROM subscriber_tags UNION SELECT tag FROM nas WHERE tag IS NOT NULL
                 ORDER BY 1",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }
}
