//! The evidence pack for one subscriber: the verdict and why, the TTLs and
//! connections behind it, every earlier verdict, and every warning, action
//! and audit entry, so the owner can show a customer (or a court) what was
//! seen and what was done.

use super::markup::{Align, Cell, Table};
use super::{Doc, Pdf};
use crate::charts::Chart;
use crate::error::ReportError;
use crate::model::SubscriberReport;
use crate::text::{thousands, when, words};

fn scope(r: &SubscriberReport) -> String {
    let mut parts = Vec::new();
    if let Some(l) = &r.latest {
        parts.push(format!("router {}", l.nas));
        if !l.address.is_empty() {
            parts.push(l.address.clone());
        }
    } else if let Some(h) = r.history.first() {
        parts.push(format!("router {}", h.nas));
    }
    if let Some(tag) = &r.tag {
        parts.push(format!("tag {tag}"));
    }
    parts.join(" · ")
}

/// Lays out the evidence pack.
pub fn subscriber_pdf(r: &SubscriberReport) -> Result<Pdf, ReportError> {
    let mut doc = Doc::new(
        &format!("Evidence pack: {}", r.subscriber),
        &scope(r),
        r.generated_at,
    );

    doc.heading(1, "Verdict");
    match &r.latest {
        Some(l) => {
            doc.cards(&[
                (l.level.as_str().into(), "level now".into(), Some(l.level.as_str())),
                (
                    words(l.ttl_status.as_str()),
                    "TTL pattern".into(),
                    None,
                ),
                (
                    thousands(l.connections.into()),
                    format!("connections ({} P2P)", thousands(l.p2p_connections.into())),
                    None,
                ),
                (
                    words(l.recommended_action.as_str()),
                    "recommended next step".into(),
                    None,
                ),
            ]);
            let mut facts = Table::new(&[
                ("Detail", "auto", Align::Left),
                ("Value", "1fr", Align::Left),
            ]);
            facts.row(vec![Cell::text("Last scanned"), Cell::text(when(&l.scanned_at))]);
            facts.row(vec![
                Cell::text("Router and address"),
                Cell::name(format!("{} · {} · {}", l.nas, l.address, l.access.as_str())),
            ]);
            let ttls: Vec<String> = l.ttl_values.iter().map(u8::to_string).collect();
            facts.row(vec![
                Cell::text("TTLs seen"),
                Cell::text(if ttls.is_empty() {
                    "none".to_string()
                } else {
                    ttls.join(", ")
                }),
            ]);
            let e = &l.evidence;
            let mut ev = format!(
                "{} ({} observations",
                words(match e.status {
                    shareguard_detect::EvidenceStatus::Sufficient => "sufficient",
                    shareguard_detect::EvidenceStatus::Insufficient => "insufficient",
                    shareguard_detect::EvidenceStatus::NoProbes => "no_probes",
                }),
                thousands(e.observations.into())
            );
            if let Some(share) = e.share {
                ev.push_str(&format!(", {:.0}% of connections", share * 100.0));
            }
            if let Some(age) = e.probe_age_secs {
                ev.push_str(&format!(", probes in for {}", age_words(age)));
            }
            ev.push(')');
            facts.row(vec![Cell::text("Evidence"), Cell::text(ev)]);
            if l.assessed_level != l.level {
                facts.row(vec![
                    Cell::text("The rules said"),
                    Cell::level(l.assessed_level),
                ]);
            }
            facts.row(vec![
                Cell::text("Whitelisted"),
                Cell::text(match &r.whitelist_reason {
                    Some(reason) => format!("yes: {reason}"),
                    None if l.whitelisted => "yes (when scanned)".to_string(),
                    None => "no".to_string(),
                }),
            ]);
            doc.table(&facts);
            doc.heading(2, "Why");
            if l.reasons.is_empty() {
                doc.para("Nothing in the last scan pointed to sharing.");
            } else {
                let mut why = Table::new(&[("Reasons", "1fr", Align::Left)]);
                for reason in &l.reasons {
                    why.row(vec![Cell::text(reason)]);
                }
                doc.table(&why);
            }
        }
        None => doc.callout(
            "No current verdict is stored for this subscriber (the results were cleared, or no scan has \
             seen them recently). The history below is what earlier scans found.",
        ),
    }

    doc.heading(1, "TTLs in the last scan");
    doc.chart(Chart::TtlDistribution(&r.ttl))?;
    doc.caption(
        "Observations per TTL of the first packet of the subscriber's new connections. Green: what a \
         device at the router's expected distance sends.",
    );

    doc.heading(1, "Connections per scan");
    doc.chart(Chart::ConnectionHistory {
        history: &r.history,
        settings: &r.settings,
    })?;

    doc.heading(1, "Verdict history");
    if r.history.is_empty() {
        doc.para("No scan has stored a verdict for this subscriber.");
    } else {
        let mut t = Table::new(&[
            ("Scanned (UTC)", "2fr", Align::Left),
            ("Scan", "0.7fr", Align::Right),
            ("Level", "1fr", Align::Left),
            ("TTL status", "1.6fr", Align::Left),
            ("TTLs", "2fr", Align::Left),
            ("Connections", "1.2fr", Align::Right),
            ("P2P", "0.8fr", Align::Right),
        ]);
        for h in &r.history {
            let ttls: Vec<String> = h.ttl_values.iter().map(u8::to_string).collect();
            let mut reasons = h.reasons.clone();
            if h.whitelisted {
                reasons.insert(0, "Whitelisted at the time.".into());
            }
            t.row_with_detail(
                vec![
                    Cell::text(h.scanned_at.format("%Y-%m-%d %H:%M").to_string()),
                    Cell::text(h.scan_id.to_string()),
                    Cell::level(h.level),
                    Cell::text(words(h.ttl_status.as_str())),
                    Cell::text(ttls.join(" ")),
                    Cell::text(thousands(h.connections.into())),
                    Cell::text(thousands(h.p2p_connections.into())),
                ],
                reasons,
            );
        }
        doc.table(&t);
    }

    doc.heading(1, "Abuse warnings");
    if r.warnings.is_empty() {
        doc.para("No abuse warning is stored for this subscriber.");
    } else {
        let mut t = Table::new(&[
            ("Opened (UTC)", "auto", Align::Left),
            ("Kind", "auto", Align::Left),
            ("Step", "auto", Align::Left),
            ("Measured", "auto", Align::Right),
            ("Details and what was done", "1fr", Align::Left),
        ]);
        for w in &r.warnings {
            let done = super::warning_action(&w.action, w.action_note.as_deref());
            t.row(vec![
                Cell::text(w.first_seen.format("%Y-%m-%d %H:%M").to_string()),
                Cell::text(w.kind.label()),
                Cell::badge(w.severity.as_str(), w.severity.as_str()),
                Cell::text(format!("{:.0} / {:.0}", w.measured, w.threshold)),
                Cell::Lines(vec![w.details.clone(), done]),
            ]);
        }
        doc.table(&t);
    }

    doc.heading(1, "Actions");
    if r.actions.is_empty() {
        doc.para("No action (disconnect, throttle, ban, limit) was taken on this subscriber.");
    } else {
        let mut t = Table::new(&[
            ("Started (UTC)", "auto", Align::Left),
            ("Action", "auto", Align::Left),
            ("By", "auto", Align::Left),
            ("Ended", "auto", Align::Left),
            ("Reason", "1fr", Align::Left),
        ]);
        for a in &r.actions {
            t.row(vec![
                Cell::text(a.started_at.format("%Y-%m-%d %H:%M").to_string()),
                Cell::text(format!("{} ({})", a.kind.as_str(), a.method.as_str())),
                Cell::name(&a.operator),
                Cell::text(match (a.ended_at, a.expires_at) {
                    (Some(e), _) => e.format("%Y-%m-%d %H:%M").to_string(),
                    (None, Some(x)) => format!("until {}", x.format("%Y-%m-%d %H:%M")),
                    (None, None) => "–".into(),
                }),
                Cell::Lines(vec![a.reason.clone()]),
            ]);
        }
        doc.table(&t);
    }

    doc.heading(1, "Audit log");
    if r.audit.is_empty() {
        doc.para("No audit entry names this subscriber.");
    } else {
        let mut t = Table::new(&[
            ("When (UTC)", "auto", Align::Left),
            ("Who", "auto", Align::Left),
            ("Action", "auto", Align::Left),
            ("Details", "1fr", Align::Left),
        ]);
        for e in &r.audit {
            t.row(vec![
                Cell::text(e.at.format("%Y-%m-%d %H:%M:%S").to_string()),
                Cell::name(&e.operator),
                Cell::text(words(&e.action)),
                Cell::note(details_text(&e.details)),
            ]);
        }
        doc.table(&t);
    }
    doc.render()
}

/// An audit entry's details as `key: value` pairs, shortest form.
fn details_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(map) if !map.is_empty() => map
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                format!("{}: {v}", words(k))
            })
            .collect::<Vec<_>>()
            .join(" · "),
        serde_json::Value::Object(_) | serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn age_words(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}
