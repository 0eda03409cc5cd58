//! The router's wall clock, and the times RouterOS prints.
//!
//! Address-list entries carry a `creation-time` in the router's local time,
//! and sessions an `uptime`; comparing them needs the router's own "now"
//! (`/system/clock`), never this computer's, whose clock and time zone may
//! differ. RouterOS 7.10 and later print `2026-12-06 10:00:00`; older
//! versions `dec/06/2026 10:00:00`. Both are read.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use routeros_client::{Client, Command, Error};

/// Seconds since 1970 in the router's local time (a naive timestamp: only
/// ever compared with other times of the same router).
pub type RouterSecs = i64;

/// `2026-12-06` or `dec/06/2026`.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().or_else(|| {
        let (mon, rest) = s.split_once('/')?;
        let month = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ]
        .iter()
        .position(|m| m.eq_ignore_ascii_case(mon))? as u32
            + 1;
        let (day, year) = rest.split_once('/')?;
        NaiveDate::from_ymd_opt(year.parse().ok()?, month, day.parse().ok()?)
    })
}

fn secs(date: NaiveDate, time: &str) -> Option<RouterSecs> {
    let time = NaiveTime::parse_from_str(time.trim(), "%H:%M:%S").ok()?;
    Some(NaiveDateTime::new(date, time).and_utc().timestamp())
}

/// A date and time as RouterOS prints them (`creation-time`).
pub fn parse_datetime(s: &str) -> Option<RouterSecs> {
    let (date, time) = s.trim().split_once(' ')?;
    secs(parse_date(date)?, time)
}

/// The router's "now"; `None` when it cannot be read or parsed (then
/// nothing is judged by it).
pub async fn read_clock(client: &mut Client) -> Result<Option<RouterSecs>, Error> {
    let rows = client
        .run(Command::new("/system/clock/print").proplist(&["date", "time"]))
        .await?;
    Ok(rows.first().and_then(|r| {
        let date = parse_date(&r.get_str("date")?)?;
        secs(date, &r.get_str("time")?)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_date_forms_parse() {
        let a = parse_datetime("2026-12-06 10:00:05").unwrap();
        let b = parse_datetime("dec/06/2026 10:00:05").unwrap();
        assert_eq!(a, b);
        assert_eq!(parse_datetime("2026-12-06 10:00:06").unwrap() - a, 1);
        for bad in [
            "",
            "2026-12-06",
            "xyz/06/2026 10:00:00",
            "2026-13-01 00:00:00",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }
}
