//! CSV exports: one row per record, written as the records arrive.
//!
//! Files open cleanly in Excel and LibreOffice as well as in scripts: UTF-8
//! with a byte-order mark (without it Excel reads UTF-8 as the local code
//! page and mangles non-ASCII names), a header row, ISO 8601 timestamps in
//! UTC, lists joined with ` | `, and numbers without thousands separators.
//!
//! Text that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is
//! prefixed with `'`: spreadsheets would otherwise run it as a formula, and
//! subscriber names and notes come from outside. This is the usual defence
//! (OWASP "CSV injection"); a reader that wants the raw value strips one
//! leading `'` from such a cell.

use std::io::{self, Write};

use shareguard_detect::EvidenceStatus;
use shareguard_store::export::ExportedResult;
use shareguard_store::{Action, AuditRecord, HistoryEntry, Warning};

use crate::text::iso;

/// UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A record that is one CSV row.
pub trait CsvRow {
    /// Column names, in order.
    const HEADER: &'static [&'static str];
    /// The row's cells, in [`Self::HEADER`] order.
    fn cells(&self) -> Vec<String>;
}

/// Writes rows of one kind to `W` as they are pushed.
pub struct CsvWriter<W: Write, R: CsvRow> {
    writer: csv::Writer<W>,
    rows: u64,
    _row: std::marker::PhantomData<fn(&R)>,
}

impl<W: Write, R: CsvRow> CsvWriter<W, R> {
    /// Writes the byte-order mark and the header row.
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(BOM)?;
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        writer.write_record(R::HEADER)?;
        Ok(Self {
            writer,
            rows: 0,
            _row: std::marker::PhantomData,
        })
    }

    pub fn push(&mut self, row: &R) -> io::Result<()> {
        self.writer.write_record(row.cells())?;
        self.rows += 1;
        Ok(())
    }

    /// Rows written so far (without the header).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes and returns the writer and the number of rows.
    pub fn finish(self) -> io::Result<(W, u64)> {
        let rows = self.rows;
        let out = self
            .writer
            .into_inner()
            .map_err(|e| io::Error::new(e.error().kind(), e.error().to_string()))?;
        Ok((out, rows))
    }
}

/// Text from outside, made safe to open in a spreadsheet (see the module
/// documentation).
pub fn text_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn opt(s: Option<&str>) -> String {
    s.map(text_cell).unwrap_or_default()
}

fn list(items: &[String]) -> String {
    text_cell(&items.join(" | "))
}

fn evidence_status(s: EvidenceStatus) -> &'static str {
    match s {
        EvidenceStatus::Sufficient => "sufficient",
        EvidenceStatus::Insufficient => "insufficient",
        EvidenceStatus::NoProbes => "no_probes",
    }
}

fn ttl_values(v: &[u8]) -> String {
    v.iter().map(u8::to_string).collect::<Vec<_>>().join(" ")
}

impl CsvRow for ExportedResult {
    const HEADER: &'static [&'static str] = &[
        "scan_id",
        "scanned_at",
        "subscriber",
        "router",
        "address",
        "access",
        "tag",
        "level",
        "assessed_level",
        "flagged",
        "whitelisted",
        "ttl_status",
        "ttl_values",
        "ttl_counts",
        "connections",
        "p2p_connections",
        "recommended_action",
        "evidence",
        "ttl_observations",
        "reasons",
    ];

    fn cells(&self) -> Vec<String> {
        let counts: Vec<String> = self
            .ttl_counts
            .iter()
            .map(|(t, n)| format!("{t}:{n}"))
            .collect();
        vec![
            self.scan_id.to_string(),
            iso(&self.scanned_at),
            text_cell(&self.subscriber),
            text_cell(&self.nas),
            opt(self.address.as_deref()),
            self.access
                .map(|a| a.as_str().to_string())
                .unwrap_or_default(),
            opt(self.tag.as_deref()),
            self.level.as_str().into(),
            self.assessed_level
                .map(|l| l.as_str().to_string())
                .unwrap_or_default(),
            self.is_flagged().to_string(),
            self.whitelisted.to_string(),
            self.ttl_status.as_str().into(),
            ttl_values(&self.ttl_values),
            counts.join(" "),
            self.connections.to_string(),
            self.p2p_connections.to_string(),
            self.recommended_action
                .map(|a| a.as_str().to_string())
                .unwrap_or_default(),
            self.evidence
                .as_ref()
                .map(|e| evidence_status(e.status).to_string())
                .unwrap_or_default(),
            self.ttl_counts.values().sum::<u32>().to_string(),
            list(&self.reasons),
        ]
    }
}

impl CsvRow for Warning {
    const HEADER: &'static [&'static str] = &[
        "id",
        "first_seen",
        "last_seen",
        "expires_at",
        "subscriber",
        "router",
        "kind",
        "severity",
        "measured",
        "threshold",
        "cycles",
        "details",
        "action",
        "action_note",
        "action_id",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            iso(&self.first_seen),
            iso(&self.last_seen),
            iso(&self.expires_at),
            text_cell(&self.subscriber),
            text_cell(&self.nas),
            self.kind.as_str().into(),
            self.severity.as_str().into(),
            self.measured.to_string(),
            self.threshold.to_string(),
            self.cycles.to_string(),
            text_cell(&self.details),
            text_cell(&self.action),
            opt(self.action_note.as_deref()),
            self.action_id.map(|i| i.to_string()).unwrap_or_default(),
        ]
    }
}

impl CsvRow for Action {
    const HEADER: &'static [&'static str] = &[
        "id",
        "started_at",
        "expires_at",
        "ended_at",
        "subscriber",
        "router",
        "kind",
        "method",
        "operator",
        "reason",
        "details",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.map(|i| i.to_string()).unwrap_or_default(),
            iso(&self.started_at),
            self.expires_at.as_ref().map(iso).unwrap_or_default(),
            self.ended_at.as_ref().map(iso).unwrap_or_default(),
            text_cell(&self.subscriber),
            text_cell(&self.nas),
            self.kind.as_str().into(),
            self.method.as_str().into(),
            text_cell(&self.operator),
            text_cell(&self.reason),
            text_cell(&self.details.to_string()),
        ]
    }
}

impl CsvRow for AuditRecord {
    const HEADER: &'static [&'static str] =
        &["id", "at", "operator", "action", "subject", "details"];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            iso(&self.at),
            text_cell(&self.operator),
            text_cell(&self.action),
            opt(self.subject.as_deref()),
            text_cell(&self.details.to_string()),
        ]
    }
}

impl CsvRow for HistoryEntry {
    const HEADER: &'static [&'static str] = &[
        "scan_id",
        "scanned_at",
        "subscriber",
        "router",
        "level",
        "flagged",
        "whitelisted",
        "ttl_status",
        "ttl_values",
        "connections",
        "p2p_connections",
        "reasons",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.scan_id.to_string(),
            iso(&self.scanned_at),
            text_cell(&self.subscriber),
            text_cell(&self.nas),
            self.level.as_str().into(),
            (!self.whitelisted && self.level >= shareguard_detect::Level::Medium).to_string(),
            self.whitelisted.to_string(),
            self.ttl_status.as_str().into(),
            ttl_values(&self.ttl_values),
            self.connections.to_string(),
            self.p2p_connections.to_string(),
            list(&self.reasons),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn formulas_are_defused_and_plain_text_is_not() {
        assert_eq!(text_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text_cell("+1"), "'+1");
        assert_eq!(text_cell("-cmd"), "'-cmd");
        assert_eq!(text_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text_cell("alice"), "alice");
        assert_eq!(text_cell("a=b"), "a=b");
    }

    #[test]
    fn a_file_starts_with_the_bom_and_a_header_and_uses_crlf() {
        let mut w = CsvWriter::<Vec<u8>, AuditRecord>::new(Vec::new()).unwrap();
        w.push(&AuditRecord {
            id: 7,
            at: Utc.with_ymd_and_hms(2026, 5, 1, 12, 30, 0).unwrap(),
            operator: "owner".into(),
            action: "whitelist_add".into(),
            subject: Some("Zoë, \"the\" neighbour".into()),
            details: serde_json::json!({ "reason": "business" }),
        })
        .unwrap();
        let (bytes, rows) = w.finish().unwrap();
        assert_eq!(rows, 1);
        assert!(bytes.starts_with(BOM));
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert!(
            text.starts_with("id,at,operator,action,subject,details\r\n"),
            "{text}"
        );
        assert!(text.contains("2026-05-01T12:30:00Z"), "{text}");
        assert!(text.contains("\"Zoë, \"\"the\"\" neighbour\""), "{text}");
    }
}
