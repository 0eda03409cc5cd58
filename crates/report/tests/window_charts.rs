//! Each screen's chart set, read from a real SQLite file and drawn in both
//! themes: the dashboard's figures agree with the stored results, and every
//! chart is SVG with the figures in it.

mod common;

use chrono::Duration;
use common::*;
use shareguard_report::collect::{abuse_report, subscriber_report};
use shareguard_report::window_charts::{DashboardFigures, MonitorCharts, SubscriberCharts};
use shareguard_report::Theme;

fn svg(s: &str) -> bool {
    s.starts_with("<svg") && s.trim_end().ends_with("</svg>")
}

#[test]
fn each_screens_charts_come_from_the_store_in_both_themes() {
    let (db, _, results) = populated(300, 3);
    let empty = empty_db();
    let nothing = DashboardFigures::read(&empty.store, None)
        .unwrap()
        .draw(Theme::Light)
        .unwrap();
    assert!(!nothing.scanned);
    assert_eq!(nothing.levels, [0; 5]);

    // The levels as stored (a whitelist entry excuses one subscriber).
    let stored: Vec<usize> = results
        .iter()
        .map(|r| db.store.result(&r.subscriber).unwrap().unwrap().level as usize)
        .collect();
    let figures = DashboardFigures::read(&db.store, None).unwrap();
    for theme in [Theme::Light, Theme::Dark] {
        let d = figures.draw(theme).unwrap();
        assert!(d.scanned);
        assert_eq!(d.levels.iter().sum::<u64>(), results.len() as u64);
        for (level, n) in d.levels.iter().enumerate() {
            let at = stored.iter().filter(|&&l| l == level).count();
            assert_eq!(*n, at as u64, "level {level}");
        }
        assert!(!d.ttl_by_router.is_empty());
        for chart in [&d.ttl, &d.connections, &d.trend]
            .into_iter()
            .chain(d.ttl_by_router.iter().map(|r| &r.svg))
        {
            assert!(svg(chart), "{}", &chart[..chart.len().min(80)]);
        }
    }

    let to = t0() + Duration::days(4);
    let abuse = abuse_report(&db.store, to - Duration::days(7), to, to).unwrap();
    let m = MonitorCharts::draw(&abuse, 7, Theme::Dark).unwrap();
    assert_eq!(m.days, 7);
    assert!(svg(&m.timeline) && svg(&m.offenders));
    let worst = &abuse.metrics.top_offenders[0].subscriber;
    assert!(
        m.offenders.contains(worst.as_str()),
        "the top offender is named"
    );

    let name = &results[0].subscriber;
    let report = subscriber_report(&db.store, name, to).unwrap();
    let s = SubscriberCharts::draw(&report, Theme::Light).unwrap();
    assert!(svg(&s.ttl) && svg(&s.connections));
}
