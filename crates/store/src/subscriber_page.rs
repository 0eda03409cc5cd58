//! Everything stored about one subscriber, for the page an owner reads
//! before calling the customer: one read, whichever front end shows it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use shareguard_detect::SubscriberResult;

use crate::{
    AuditFilter, AuditRecord, HistoryEntry, LineDistanceEntry, Store, StoreError, WhitelistEntry,
};

/// Scans of the subscriber's history the page shows.
pub const PAGE_HISTORY: u32 = 100;
/// Audit entries about the subscriber the page shows.
pub const PAGE_AUDIT: u32 = 200;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SubscriberDetail {
    pub result: Option<SubscriberResult>,
    /// Newest first.
    pub history: Vec<HistoryEntry>,
    /// The whitelist entry in force at the time asked about, if any.
    pub whitelist: Option<WhitelistEntry>,
    /// The distance the owner set for this line, if any.
    pub distance: Option<LineDistanceEntry>,
    pub audit: Vec<AuditRecord>,
}

impl Store {
    /// The subscriber's page as of `now`; `None` when no scan has seen them.
    pub fn subscriber_detail(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SubscriberDetail>, StoreError> {
        let result = self.result(name)?;
        let history = self.subscriber_history(name, PAGE_HISTORY)?;
        if result.is_none() && history.is_empty() {
            return Ok(None);
        }
        let whitelist = self
            .whitelist_list(false)?
            .into_iter()
            .find(|w| w.subscriber == name && w.is_active(now));
        let distance = self
            .line_distances()?
            .into_iter()
            .find(|d| d.subscriber == name);
        let audit = self.audit_log(&AuditFilter {
            subject: Some(name.to_string()),
            limit: Some(PAGE_AUDIT),
            ..Default::default()
        })?;
        Ok(Some(SubscriberDetail {
            result,
            history,
            whitelist,
            distance,
            audit,
        }))
    }
}
