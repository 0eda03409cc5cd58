//! The owner's scan preferences beyond the detection thresholds, stored as
//! one JSON value in the settings table.

use serde::{Deserialize, Serialize};

/// The settings key.
pub const SCHEDULE_KEY: &str = "sharing_schedule";

/// When scans run on their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleSettings {
    /// Off by default: a new install never scans a network on its own.
    pub automatic: bool,
    /// Standard 5-field cron on the computer's local time.
    pub cron: String,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        Self {
            automatic: false,
            cron: shareguard_schedule::DEFAULT_CRON.into(),
        }
    }
}

impl ScheduleSettings {
    /// The parsed schedule when automatic scanning is on.
    pub fn schedule(&self) -> Result<Option<shareguard_schedule::Schedule>, String> {
        let parsed = shareguard_schedule::Schedule::parse(&self.cron)?;
        Ok(self.automatic.then_some(parsed))
    }
}
