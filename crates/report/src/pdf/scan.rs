//! The scan report: what one scan found, why each flagged subscriber was
//! flagged, how every router answered, and the settings the verdicts used.

use shareguard_detect::{Level, NasStatus, ScanStatus};

use super::markup::{Align, Cell, Table};
use super::{with_share, Doc, Pdf};
use crate::charts::Chart;
use crate::error::ReportError;
use crate::model::ScanReport;
use crate::text::{thousands, when, words};

/// The scope line under the title: which scan, when, how it ended.
fn scope(r: &ScanReport) -> String {
    let mut s = match &r.scan {
        Some(scan) => format!(
            "Scan {} · {} · {} · {}",
            scan.id.unwrap_or_default(),
            when(&scan.started_at),
            scan.scope,
            scan.status.as_str()
        ),
        None => "No scan stored yet".to_string(),
    };
    if let Some(tag) = &r.tag {
        s.push_str(&format!(" · tag {tag}"));
    }
    s
}

/// Lays out the scan report.
pub fn scan_pdf(r: &ScanReport) -> Result<Pdf, ReportError> {
    let mut doc = Doc::new("Scan report", &scope(r), r.generated_at);
    let Some(scan) = &r.scan else {
        doc.callout(
            "No scan has been stored yet, so there are no results to report. Run a scan \
             (the Scan button in the app, or `shareguard scan`), then make this report again.",
        );
        settings(&mut doc, r);
        return doc.render();
    };

    doc.heading(1, "Summary");
    let t = &r.totals;
    let answered = scan
        .nas
        .iter()
        .filter(|n| n.status == NasStatus::Ok)
        .count();
    let high = t.at(Level::High) + t.at(Level::Critical);
    doc.cards(&[
        (thousands(t.checked), "subscribers checked".into(), None),
        (thousands(t.flagged), "flagged".into(), Some("medium")),
        (thousands(high), "high or critical".into(), Some("critical")),
        (thousands(t.whitelisted), "whitelisted".into(), None),
        (
            format!("{answered} of {}", scan.nas.len()),
            "routers answered".into(),
            (answered < scan.nas.len()).then_some("failed"),
        ),
    ]);
    let mut summary = if t.checked == 0 {
        "This scan stored no results".to_string()
    } else {
        format!(
            "{} of {} subscribers checked are flagged: {} medium, {} high and {} critical.",
            with_share(t.flagged, t.checked),
            thousands(t.checked),
            thousands(t.at(Level::Medium)),
            thousands(t.at(Level::High)),
            thousands(t.at(Level::Critical)),
        )
    };
    if t.checked == 0 {
        summary.push_str(match scan.status {
            ScanStatus::Cancelled => ": it was cancelled, so earlier results were kept.",
            ScanStatus::Failed => ": no router answered, so earlier results were kept.",
            ScanStatus::Running => ": it has not finished yet.",
            _ if r.tag.is_some() => " for subscribers with this tag.",
            _ => ".",
        });
    }
    let failed = scan.nas.len() - answered;
    if failed > 0 {
        summary.push_str(&format!(
            " {} did not answer; their subscribers keep the results of the last scan \
             that reached them (see Routers below).",
            shareguard_detect::words::count(failed as u64, "router")
        ));
    }
    if let Some(finished) = scan.finished_at {
        let secs = (finished - scan.started_at).num_milliseconds() as f64 / 1000.0;
        summary.push_str(&format!(
            " The scan took {secs:.1} s and was started by {}.",
            scan.operator
        ));
    }
    doc.para(&summary);

    let mut levels = Table::new(&[
        ("Level", "auto", Align::Left),
        ("Subscribers", "auto", Align::Right),
        ("Meaning", "1fr", Align::Left),
    ]);
    for (level, meaning) in [
        (Level::Normal, "Nothing points to sharing."),
        (
            Level::Low,
            "Watch: one weak sign (several OS families, a busy line).",
        ),
        (
            Level::Medium,
            "Review: a second network on the line, or many connections.",
        ),
        (
            Level::High,
            "Contact the subscriber: strong signs of another router or household.",
        ),
        (
            Level::Critical,
            "Router evidence and the highest connection count together.",
        ),
    ] {
        levels.row(vec![
            Cell::level(level),
            Cell::text(with_share(t.at(level), t.checked)),
            Cell::note(meaning),
        ]);
    }
    doc.table(&levels);

    doc.heading(1, "TTL distribution");
    doc.chart(Chart::TtlDistribution(&r.ttl))?;
    doc.caption(&format!(
        "Observations per TTL of the first packet of new connections, over all subscribers in this \
         scan. Green: what a device at the router's expected distance sends ({:.1}% of {} \
         observations). Grey: the subscriber's own router (DNS, NTP). Lower values come from \
         devices behind another router; values no device sends, from a router rewriting TTLs.",
        r.ttl.expected_share() * 100.0,
        thousands(r.ttl.total()),
    ));
    if r.ttl_by_router.len() > 1 {
        doc.heading(2, "Per router");
        let charts: Vec<(String, Chart<'_>)> = r
            .ttl_by_router
            .iter()
            .map(|rt| (rt.router.clone(), Chart::TtlDistribution(&rt.distribution)))
            .collect();
        doc.chart_grid(&charts)?;
    }

    doc.heading(1, "Connections per subscriber");
    doc.chart(Chart::Connections(&r.connections))?;
    doc.caption(
        "Subscribers by the number of tracked connections they held at scan time, with the sharing \
         thresholds marked. Connections that look like peer-to-peer traffic are not counted unless the \
         settings say so.",
    );

    doc.heading(1, "Flagged subscribers per scan");
    doc.chart(Chart::FlagTrend(&r.trend))?;
    let only_tag = if r.tag.is_some() {
        ", subscribers with this tag only"
    } else {
        ""
    };
    doc.caption(&match r.trend.len() {
        0 | 1 => format!("Only this scan so far{only_tag}."),
        n => format!("The last {n} scans up to this one{only_tag}."),
    });

    doc.heading(1, "Flagged subscribers");
    if r.flagged.is_empty() {
        doc.para("No subscriber was flagged in this scan.");
    } else {
        let mut table = Table::new(&[
            ("Subscriber", "2.2fr", Align::Left),
            ("Router", "1.2fr", Align::Left),
            ("Level", "1fr", Align::Left),
            ("TTL status", "2fr", Align::Left),
            ("TTLs", "2fr", Align::Left),
            ("Connections", "1.2fr", Align::Right),
            ("Next step", "2.2fr", Align::Left),
        ]);
        for f in &r.flagged {
            let ttls: Vec<String> = f.ttl_values.iter().map(u8::to_string).collect();
            table.row_with_detail(
                vec![
                    Cell::name(&f.subscriber),
                    Cell::name(&f.nas),
                    Cell::level(f.level),
                    Cell::text(words(f.ttl_status.as_str())),
                    Cell::text(ttls.join(" ")),
                    Cell::text(thousands(u64::from(f.connections))),
                    Cell::text(
                        f.recommended_action
                            .map(|a| words(a.as_str()))
                            .unwrap_or_default(),
                    ),
                ],
                f.reasons.clone(),
            );
        }
        doc.table(&table);
        if r.flagged_not_listed > 0 {
            doc.callout(&format!(
                "{} more flagged subscribers are not listed here, to keep this report readable; \
                 the CSV export of this scan lists every subscriber checked.",
                thousands(r.flagged_not_listed)
            ));
        }
    }

    doc.heading(1, "Routers");
    let mut routers = Table::new(&[
        ("Router", "auto", Align::Left),
        ("Status", "auto", Align::Left),
        ("Sessions", "auto", Align::Right),
        ("Connections", "auto", Align::Right),
        ("Checked", "auto", Align::Right),
        ("Flagged", "auto", Align::Right),
        ("Time", "auto", Align::Right),
        ("Probes", "auto", Align::Left),
        ("Notes", "1fr", Align::Left),
    ]);
    for rs in &r.routers {
        let o = &rs.outcome;
        let mut notes = Vec::new();
        if let Some(e) = &o.error {
            notes.push(e.clone());
        }
        notes.extend(o.warnings.iter().cloned());
        if !rs.expected_ttls.is_empty() {
            let e: Vec<String> = rs.expected_ttls.iter().map(u8::to_string).collect();
            notes.push(format!(
                "{}expected TTLs {}",
                rs.access
                    .map(|a| format!("{}, ", a.as_str()))
                    .unwrap_or_default(),
                e.join("/")
            ));
        }
        routers.row(vec![
            Cell::name(format!("{}\n{}", o.nas, o.address)),
            Cell::badge(o.status.as_str(), &words(o.status.as_str())),
            Cell::text(thousands(u64::from(o.sessions))),
            Cell::text(thousands(o.connections)),
            Cell::text(thousands(u64::from(o.checked))),
            Cell::text(thousands(u64::from(o.flagged))),
            Cell::text(format!("{:.1} s", o.duration_ms as f64 / 1000.0)),
            Cell::text(
                o.probe_strategy
                    .map(|p| words(p.as_str()))
                    .unwrap_or_else(|| "none".into()),
            ),
            Cell::Lines(notes),
        ]);
    }
    if routers.is_empty() {
        doc.para("No router took part in this scan.");
    } else {
        doc.table(&routers);
    }

    settings(&mut doc, r);
    doc.render()
}

fn settings(doc: &mut Doc, r: &ScanReport) {
    doc.heading(1, "Settings in force");
    let s = &r.settings;
    let mut t = Table::new(&[
        ("Setting", "auto", Align::Left),
        ("Value", "auto", Align::Right),
        ("What it does", "1fr", Align::Left),
    ]);
    let rows = [
        (
            "Connections: low",
            thousands(s.connections_low.into()),
            "A subscriber with this many connections is put on the watch list.",
        ),
        (
            "Connections: medium",
            thousands(s.connections_medium.into()),
            "... is flagged for review.",
        ),
        (
            "Connections: high",
            thousands(s.connections_high.into()),
            "... is almost certainly shared (critical together with router evidence).",
        ),
        (
            "TTL threshold",
            s.ttl_threshold.to_string(),
            "TTL drop from the OS default at which a second router is inferred (2 means 62/126 on PPPoE).",
        ),
        (
            "Minimum TTL observations",
            s.min_ttl_observations.to_string(),
            "Marked connections needed before TTL data counts as evidence.",
        ),
        (
            "Rewrite needs connections",
            s.rewrite_min_connections.to_string(),
            "Connections needed before OS-default TTLs on PPPoE are called a TTL rewrite.",
        ),
        (
            "Count P2P connections",
            if s.count_p2p_connections { "yes" } else { "no" }.to_string(),
            "Whether peer-to-peer connections count towards the thresholds.",
        ),
    ];
    for (name, value, what) in rows {
        t.row(vec![Cell::text(name), Cell::text(value), Cell::note(what)]);
    }
    doc.table(&t);
    doc.caption(if r.scan.is_some() {
        "The settings stored with this scan, which its verdicts used."
    } else {
        "The settings stored now; the next scan will use them."
    });
}
