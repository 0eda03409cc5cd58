//! The abuse report for a date range: the figures, the warnings by kind over
//! time, who was warned most, and what was done about it.

use chrono::Duration;
use shareguard_detect::abuse::{AbuseKind, Severity};

use super::markup::{Align, Cell, Table};
use super::{with_share, Doc, Pdf};
use crate::charts::Chart;
use crate::error::ReportError;
use crate::model::AbuseReport;
use crate::text::{thousands, when};

/// `01 May 2026 – 31 May 2026 (UTC)` for whole days (the end is excluded,
/// so the last day shown is the one before it), with the times otherwise.
fn range(r: &AbuseReport) -> String {
    let midnight = |t: &chrono::DateTime<chrono::Utc>| t.time() == chrono::NaiveTime::MIN;
    if midnight(&r.from) && midnight(&r.to) {
        let last = r.to - Duration::days(1);
        if last.date_naive() == r.from.date_naive() {
            format!("{} (UTC)", r.from.format("%d %b %Y"))
        } else {
            format!(
                "{} – {} (UTC)",
                r.from.format("%d %b %Y"),
                last.format("%d %b %Y")
            )
        }
    } else {
        format!("{} – {}", when(&r.from), when(&r.to))
    }
}

/// `1 warning`, `2 warnings`.
fn plural(n: u64, what: &str) -> String {
    format!("{} {what}{}", thousands(n), if n == 1 { "" } else { "s" })
}

fn severity_key(s: Severity) -> &'static str {
    s.as_str()
}

/// Lays out the abuse report.
pub fn abuse_pdf(r: &AbuseReport) -> Result<Pdf, ReportError> {
    let mut doc = Doc::new("Abuse report", &range(r), r.generated_at);
    let m = &r.metrics;

    doc.heading(1, "Summary");
    doc.cards(&[
        (
            thousands(m.warnings.into()),
            "warnings opened".into(),
            Some("medium"),
        ),
        (
            thousands(m.throttled.into()),
            "throttled".into(),
            Some("high"),
        ),
        (
            thousands(m.banned.into()),
            "banned".into(),
            Some("critical"),
        ),
        (
            thousands(m.disconnected.into()),
            "disconnected".into(),
            None,
        ),
        (thousands(m.cycles.into()), "monitor cycles".into(), None),
    ]);
    if m.warnings == 0 && m.cycles == 0 {
        doc.callout(
            "There is no abuse data for this period: the abuse monitor did not run, or nothing was \
             stored. Turn the monitor on in the app (Abuse monitor) or run `shareguard monitor`, \
             or pick another period.",
        );
    } else {
        let mut s = format!(
            "{} opened in {}. Subscribers throttled: {}, banned: {}, disconnected: {}.",
            plural(m.warnings.into(), "warning"),
            plural(m.cycles.into(), "monitor cycle"),
            thousands(m.throttled.into()),
            thousands(m.banned.into()),
            thousands(m.disconnected.into()),
        );
        if let Some(avg) = m.avg_connections_per_subscriber {
            s.push_str(&format!(
                " Subscribers held {avg:.0} connections on average per cycle"
            ));
            if let Some(p2p) = m.p2p_percent {
                s.push_str(&format!(", {p2p:.1}% of them peer-to-peer"));
            }
            s.push('.');
        }
        doc.para(&s);
    }

    doc.heading(1, "Warnings by kind");
    let mut kinds = Table::new(&[
        ("Kind", "auto", Align::Left),
        ("Warnings", "auto", Align::Right),
        ("What it means", "1fr", Align::Left),
    ]);
    for &(kind, n) in &m.warnings_by_kind {
        let meaning = match kind {
            AbuseKind::ConnectionFlood => "Too many connections held at once.",
            AbuseKind::ConnectionRate => "Too many new connections per second.",
            AbuseKind::P2p => "Peer-to-peer traffic (warn only by default).",
            AbuseKind::BandwidthHog => {
                "Use near the plan's rate for a long time (warn only by default)."
            }
            AbuseKind::Tethering => "Several devices behind one hotspot login.",
        };
        kinds.row(vec![
            Cell::text(kind.label()),
            Cell::text(with_share(n.into(), m.warnings.into())),
            Cell::note(meaning),
        ]);
    }
    doc.table(&kinds);
    doc.chart(Chart::WarningTimeline(&r.timeline))?;
    doc.caption(&format!(
        "Warnings opened per {}, by kind. A warning stays open while the subscriber keeps at it; \
         each opening is one violation.",
        r.timeline.bucket.as_str()
    ));

    doc.heading(1, "Most warned subscribers");
    doc.chart(Chart::TopOffenders(&m.top_offenders))?;
    if !m.top_offenders.is_empty() {
        let mut top = Table::new(&[
            ("Subscriber", "auto", Align::Left),
            ("Router", "auto", Align::Left),
            ("Warnings", "auto", Align::Right),
            ("Strictest step", "1fr", Align::Left),
        ]);
        for o in &m.top_offenders {
            top.row(vec![
                Cell::name(&o.subscriber),
                Cell::name(&o.nas),
                Cell::text(thousands(o.warnings.into())),
                Cell::badge(severity_key(o.worst), o.worst.as_str()),
            ]);
        }
        doc.table(&top);
    }

    doc.heading(1, "Warnings");
    if r.warnings.is_empty() {
        doc.para("No warning was opened in this period.");
    } else {
        let mut t = Table::new(&[
            ("Opened (UTC)", "auto", Align::Left),
            ("Subscriber", "auto", Align::Left),
            ("Kind", "auto", Align::Left),
            ("Step", "auto", Align::Left),
            ("Measured", "auto", Align::Right),
            ("Seen", "auto", Align::Right),
            ("Details and what was done", "1fr", Align::Left),
        ]);
        for w in &r.warnings {
            let mut lines = vec![w.details.clone()];
            let done = super::warning_action(&w.action, w.action_note.as_deref());
            lines.push(done);
            t.row(vec![
                Cell::text(w.first_seen.format("%Y-%m-%d %H:%M").to_string()),
                Cell::name(format!("{}\n{}", w.subscriber, w.nas)),
                Cell::text(w.kind.label()),
                Cell::badge(severity_key(w.severity), w.severity.as_str()),
                Cell::text(format!("{:.0} / {:.0}", w.measured, w.threshold)),
                Cell::text(format!("{}×", w.cycles)),
                Cell::Lines(lines),
            ]);
        }
        doc.table(&t);
        doc.caption("Measured / threshold in the detector's unit (connections, or new connections per second, or percent of the plan). Seen: monitor cycles the warning was seen in.");
        if r.warnings_not_listed > 0 {
            doc.callout(&format!(
                "{} more warnings are not listed here (the strictest and latest are); the CSV export \
                 of this report lists every warning.",
                thousands(r.warnings_not_listed)
            ));
        }
    }

    doc.heading(1, "Actions taken");
    if r.actions.is_empty() {
        doc.para("No subscriber was throttled, banned, limited or disconnected in this period.");
    } else {
        let mut t = Table::new(&[
            ("Started (UTC)", "auto", Align::Left),
            ("Subscriber", "auto", Align::Left),
            ("Action", "auto", Align::Left),
            ("By", "auto", Align::Left),
            ("Until", "auto", Align::Left),
            ("Reason", "1fr", Align::Left),
        ]);
        for a in &r.actions {
            let until = match (a.ended_at, a.expires_at) {
                (Some(e), _) => format!("ended {}", e.format("%Y-%m-%d %H:%M")),
                (None, Some(x)) => format!("until {}", x.format("%Y-%m-%d %H:%M")),
                (None, None) => "–".into(),
            };
            t.row(vec![
                Cell::text(a.started_at.format("%Y-%m-%d %H:%M").to_string()),
                Cell::name(format!("{}\n{}", a.subscriber, a.nas)),
                Cell::text(format!("{} ({})", a.kind.as_str(), a.method.as_str())),
                Cell::name(&a.operator),
                Cell::text(until),
                Cell::Lines(vec![a.reason.clone()]),
            ]);
        }
        doc.table(&t);
        if r.actions_not_listed > 0 {
            doc.callout(&format!(
                "{} more actions are not listed here.",
                thousands(r.actions_not_listed)
            ));
        }
    }
    doc.render()
}
