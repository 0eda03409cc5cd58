//! Scheduled scans: standard 5-field cron on the computer's own wall clock.
//!
//! Why not `tokio-cron-scheduler`, the crate the design named: it requires a
//! seconds field (so `0 2 * * *`, the panel's default, is rejected), it ANDs
//! day-of-month with day-of-week where standard cron ORs them, and it fixes
//! the UTC offset when a job is created, so a 2 AM scan drifts to 1 or 3 AM
//! across a daylight-saving change. `croner` parses standard cron with OR
//! semantics and computes each next run in the local time zone; the loop
//! that waits for it is [`Runner`], a few dozen lines.

mod runner;

pub use runner::Runner;

use chrono::{DateTime, TimeZone};
use croner::parser::{CronParser, Seconds};
use croner::Cron;

/// The panel's default: every night at 2 AM.
pub const DEFAULT_CRON: &str = "0 2 * * *";

/// A parsed 5-field cron schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    expr: String,
    cron: Cron,
}

impl Schedule {
    /// Parses `minute hour day-of-month month day-of-week`.
    pub fn parse(expr: &str) -> Result<Self, String> {
        let expr = expr.split_whitespace().collect::<Vec<_>>().join(" ");
        let fields = expr.split(' ').filter(|f| !f.is_empty()).count();
        if fields != 5 {
            return Err(format!(
                "a schedule has 5 fields (minute hour day-of-month month day-of-week), this one has {fields}: for example `0 2 * * *` is every night at 2 AM, `*/30 * * * *` every half hour"
            ));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .build()
            .parse(&expr)
            .map_err(|e| format!("`{expr}` is not a valid schedule ({e}): for example `0 2 * * *` is every night at 2 AM"))?;
        Ok(Self { expr, cron })
    }

    pub fn expression(&self) -> &str {
        &self.expr
    }

    /// The schedule in plain words, e.g. "At 02:00".
    pub fn describe(&self) -> String {
        self.cron.describe()
    }

    /// The first run strictly after `t`, in `t`'s time zone.
    pub fn next_after<Tz: TimeZone>(&self, t: &DateTime<Tz>) -> Option<DateTime<Tz>>
    where
        DateTime<Tz>: croner::CronDateTime,
    {
        self.cron.find_next_occurrence(t, false).ok()
    }

    /// The next `n` runs after `t`.
    pub fn upcoming<Tz: TimeZone>(&self, t: &DateTime<Tz>, n: usize) -> Vec<DateTime<Tz>>
    where
        DateTime<Tz>: croner::CronDateTime,
    {
        let mut out = Vec::with_capacity(n);
        let mut at = t.clone();
        while out.len() < n {
            match self.next_after(&at) {
                Some(next) => {
                    at = next.clone();
                    out.push(next);
                }
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Timelike, Weekday};
    use chrono_tz::Europe::Berlin;

    #[test]
    fn the_default_runs_at_two_every_night() {
        let s = Schedule::parse(DEFAULT_CRON).unwrap();
        let from = Berlin.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let runs = s.upcoming(&from, 3);
        assert_eq!(runs.len(), 3);
        for (i, r) in runs.iter().enumerate() {
            assert_eq!((r.day(), r.hour(), r.minute()), (22 + i as u32, 2, 0));
        }
    }

    #[test]
    fn runs_stay_at_local_wall_time_across_daylight_saving_changes() {
        let s = Schedule::parse("0 4 * * *").unwrap();
        // Berlin moves to summer time on 29 March 2026 and back on 25 October.
        for (y, m, d) in [(2026, 3, 27), (2026, 10, 23)] {
            let from = Berlin.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap();
            let runs = s.upcoming(&from, 4);
            assert!(
                runs.iter().all(|r| r.hour() == 4 && r.minute() == 0),
                "{runs:?}"
            );
            let offsets: std::collections::BTreeSet<_> =
                runs.iter().map(|r| r.offset().to_string()).collect();
            assert_eq!(
                offsets.len(),
                2,
                "the offset changes while the wall time does not: {runs:?}"
            );
        }
    }

    #[test]
    fn day_of_month_or_day_of_week_as_standard_cron() {
        // The 13th, or any Friday.
        let s = Schedule::parse("0 0 13 * 5").unwrap();
        let from = Berlin.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let runs = s.upcoming(&from, 10);
        assert!(
            runs.iter()
                .any(|r| r.weekday() == Weekday::Fri && r.day() != 13),
            "{runs:?}"
        );
        assert!(
            runs.iter()
                .any(|r| r.day() == 13 && r.weekday() != Weekday::Fri),
            "{runs:?}"
        );
    }

    #[test]
    fn bad_schedules_say_how_to_write_one() {
        for bad in ["", "0 2 * *", "0 0 2 * * *", "61 * * * *", "* * * * banana"] {
            let e = Schedule::parse(bad).unwrap_err();
            assert!(e.contains("0 2 * * *"), "{bad:?}: {e}");
        }
        assert!(!Schedule::parse("*/30 * * * *")
            .unwrap()
            .describe()
            .is_empty());
    }
}
