//! The owner's scan preferences beyond the detection thresholds, stored as
//! one JSON value in the settings table.

use serde::{Deserialize, Serialize};

/// The settings key.
pub const SCHEDULE_KEY: &str = "sharing_schedule";

/// When scans run on their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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

    /// The next `n` scheduled scans after `now` (ISO 8601, in `now`'s time
    /// zone); none when scanning on a schedule is off or `paused`.
    pub fn next_runs<Tz: chrono::TimeZone>(
        &self,
        now: &chrono::DateTime<Tz>,
        paused: bool,
        n: usize,
    ) -> Vec<String>
    where
        Tz::Offset: std::fmt::Display,
    {
        match self.schedule() {
            Ok(Some(s)) if !paused => s.upcoming(now, n).iter().map(|t| t.to_rfc3339()).collect(),
            _ => Vec::new(),
        }
    }
}

/// The settings key of [`DesktopSettings`].
pub const DESKTOP_KEY: &str = "desktop";

/// How the desktop app behaves around the owner's day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct DesktopSettings {
    /// Closing the window keeps ShareGuard in the tray so scheduled scans go on.
    pub close_to_tray: bool,
    /// A desktop notification when a scan flags subscribers not flagged before.
    pub notify_on_flag: bool,
    /// The lowest level that notifies.
    pub notify_min_level: shareguard_detect::Level,
    /// Start with the computer, minimised to the tray.
    pub start_at_login: bool,
}

impl Default for DesktopSettings {
    fn default() -> Self {
        Self {
            close_to_tray: true,
            notify_on_flag: true,
            notify_min_level: shareguard_detect::Level::High,
            start_at_login: false,
        }
    }
}

impl DesktopSettings {
    pub fn validate(&self) -> Result<(), String> {
        if self.notify_min_level < shareguard_detect::Level::Medium {
            return Err(
                "notify for medium, high or critical results; lower levels are not flags".into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod schedule_tests {
    use super::ScheduleSettings;
    use chrono::{TimeZone, Utc};

    #[test]
    fn next_runs_only_when_scanning_on_a_schedule_is_on_and_not_paused() {
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 22, 10, 0).unwrap();
        let mut s = ScheduleSettings {
            automatic: false,
            cron: "0 */6 * * *".into(),
        };
        assert!(s.next_runs(&now, false, 3).is_empty(), "off");
        s.automatic = true;
        assert!(s.next_runs(&now, true, 3).is_empty(), "paused");
        assert_eq!(
            s.next_runs(&now, false, 3),
            [
                "2026-12-07T00:00:00+00:00",
                "2026-12-07T06:00:00+00:00",
                "2026-12-07T12:00:00+00:00"
            ]
        );
        s.cron = "not cron".into();
        assert!(s.next_runs(&now, false, 3).is_empty(), "unparsable");
    }
}
