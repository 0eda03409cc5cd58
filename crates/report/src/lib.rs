//! ShareGuard's charts, PDF reports and CSV exports.
//!
//! Three layers, each usable on its own:
//!
//! * [`collect`] reads the store into the plain records of [`model`]
//!   (a scan report, an abuse report for a date range, a subscriber's
//!   evidence pack). Large tables are streamed, never loaded whole.
//! * Renderers turn records into output without touching the database:
//!   [`charts`] (SVG for the desktop window and the PDFs, PNG), [`pdf`]
//!   (typst, A4, embedded font) and [`csv_export`] (UTF-8 with BOM).
//! * [`write_report`] does both for one [`ReportRequest`] and writes the file
//!   atomically: the report goes to a temporary file in the destination
//!   folder and is renamed over the destination only once complete, so a
//!   full disk or a crash never leaves half a report behind.
//!
//! Nothing here depends on system fonts, fontconfig or the network: the
//! font is compiled in ([`fonts`]).
//!
//! The desktop window's charts come from the same records ([`window_charts`]
//! holds each screen's set):
//!
//! ```no_run
//! use shareguard_report::{collect, Chart, Size, Theme};
//! # fn main() -> Result<(), shareguard_report::ReportError> {
//! # let store = shareguard_store::Store::open("shareguard.db")?;
//! let latest = collect::results_overview(&store, None)?;
//! let ttl = Chart::TtlDistribution(&latest.ttl).svg(Theme::Dark, Size::new(560, 280))?;
//! let conns = Chart::Connections(&latest.connections).svg(Theme::Dark, Size::default())?;
//! # let _ = (ttl, conns); Ok(()) }
//! ```
//!
//! An SVG chart has a `viewBox`, so CSS can size it (`width: 100%; height:
//! auto`); its text asks for the window's `sans-serif` font.
//!
//! ```no_run
//! use shareguard_report::{write_report, Format, ReportKind, ReportRequest};
//! # fn main() -> Result<(), shareguard_report::ReportError> {
//! let store = shareguard_store::Store::open("shareguard.db")?;
//! let req = ReportRequest::new(ReportKind::Scan { scan_id: None, tag: None }, Format::Pdf);
//! let done = write_report(&store, &req, "scan.pdf".as_ref())?;
//! println!("{} pages, {} bytes", done.pages.unwrap_or(0), done.bytes);
//! # Ok(()) }
//! ```

pub mod charts;
pub mod collect;
pub mod csv_export;
pub mod error;
pub mod fonts;
pub mod model;
pub mod pdf;
pub mod scheduled;
pub mod text;
pub mod window_charts;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shareguard_store::{AuditFilter, Store};

pub use charts::{Chart, Size, Theme};
pub use error::ReportError;

use csv_export::CsvWriter;

/// Which report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReportKind {
    /// One scan: summary, charts, flagged subscribers with reasons, routers,
    /// settings. As CSV: every subscriber checked in the scan, flagged or not.
    Scan {
        /// `None` for the latest scan.
        scan_id: Option<i64>,
        /// Only subscribers with this reseller/area tag.
        tag: Option<String>,
    },
    /// Abuse monitoring over `[from, to)`: figures, charts, warnings and
    /// actions. As CSV: every warning opened in the range.
    Abuse {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    /// Everything about one subscriber. As CSV: the verdict history.
    Subscriber { name: String },
    /// The audit log (CSV only), optionally for `[from, to)`.
    Audit {
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    },
}

impl ReportKind {
    fn name(&self) -> &'static str {
        match self {
            Self::Scan { .. } => "scan",
            Self::Abuse { .. } => "abuse",
            Self::Subscriber { .. } => "subscriber",
            Self::Audit { .. } => "audit",
        }
    }
}

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Pdf,
    Csv,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Csv => "csv",
        }
    }

    /// The format a file name asks for by its extension, if any.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "pdf" => Some(Self::Pdf),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "pdf" => Ok(Self::Pdf),
            "csv" => Ok(Self::Csv),
            other => Err(format!("unknown format {other:?}: use pdf or csv")),
        }
    }
}

/// A report to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReportRequest {
    pub kind: ReportKind,
    pub format: Format,
    /// The time printed as "generated"; [`ReportRequest::new`] sets now.
    pub generated_at: DateTime<Utc>,
}

impl ReportRequest {
    pub fn new(kind: ReportKind, format: Format) -> Self {
        Self {
            kind,
            format,
            generated_at: Utc::now(),
        }
    }

    /// A file name for a save dialog: `shareguard-scan-2026-05-01.pdf`.
    pub fn suggested_file_name(&self) -> String {
        let date = self.generated_at.format("%Y-%m-%d");
        let what = match &self.kind {
            ReportKind::Subscriber { name } => {
                let safe: String = name
                    .chars()
                    .map(|c| {
                        if c.is_alphanumeric() || c == '-' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .take(40)
                    .collect();
                format!("subscriber-{safe}")
            }
            other => other.name().to_string(),
        };
        format!("shareguard-{what}-{date}.{}", self.format.extension())
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReportOutcome {
    /// The file written (absent for [`write_report_to`]).
    pub path: Option<PathBuf>,
    pub bytes: u64,
    /// Records in the report: CSV data rows; for a PDF, the rows of its main
    /// list (flagged subscribers, warnings, verdicts).
    pub rows: u64,
    /// Pages, for a PDF.
    pub pages: Option<usize>,
    /// Something the owner should know about an otherwise successful report
    /// ("no scan has been stored yet ..."), to show next to it.
    pub notice: Option<String>,
}

/// Makes the report `req` asks for from `store` and writes it to `out_path`,
/// replacing any file there only once the report is complete.
///
/// This blocks and uses the CPU (a PDF of a 30,000-subscriber scan takes
/// about 1.5 s in a release build): from async code, call it on the
/// blocking pool, as every store call is.
pub fn write_report(
    store: &Store,
    req: &ReportRequest,
    out_path: &Path,
) -> Result<ReportOutcome, ReportError> {
    let path_error = |e: io::Error| ReportError::write(out_path, e);
    if out_path.as_os_str().is_empty() {
        return Err(ReportError::Invalid(format!(
            "give a file name for the report, for example {}",
            req.suggested_file_name()
        )));
    }
    if out_path.is_dir() {
        return Err(path_error(io::Error::from(io::ErrorKind::IsADirectory)));
    }
    let dir = match out_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(path_error(io::Error::from(io::ErrorKind::NotFound)));
    }
    // The temporary file is deleted when dropped, so any failure below (an
    // unknown subscriber, a full disk) leaves no trace and the old file intact.
    let temp = tempfile::Builder::new()
        .prefix(".shareguard-report-")
        .suffix(".part")
        .tempfile_in(&dir)
        .map_err(path_error)?;
    let mut out = BufWriter::new(temp);
    let mut outcome = write_report_to(store, req, &mut out).map_err(|e| match e {
        ReportError::Output(io) => path_error(io),
        other => other,
    })?;
    let temp = out
        .into_inner()
        .map_err(|e| path_error(io::Error::new(e.error().kind(), e.error().to_string())))?;
    // Flushed to the disk before the rename: a full disk shows up here, not
    // as a truncated report after a power cut.
    temp.as_file().sync_all().map_err(path_error)?;
    let file: File = temp.persist(out_path).map_err(|e| path_error(e.error))?;
    outcome.bytes = file.metadata().map_err(path_error)?.len();
    outcome.path = Some(out_path.to_path_buf());
    Ok(outcome)
}

/// Makes the report and writes it to `out` (a file, a buffer, a socket).
/// Nothing is written before the data is read and checked, but a failure
/// mid-way leaves what was written so far: use [`write_report`] for files.
pub fn write_report_to(
    store: &Store,
    req: &ReportRequest,
    out: &mut dyn Write,
) -> Result<ReportOutcome, ReportError> {
    let now = req.generated_at;
    let mut counting = Counting {
        inner: out,
        bytes: 0,
    };
    let (rows, pages, notice) = match (&req.kind, req.format) {
        (ReportKind::Scan { scan_id, tag }, Format::Pdf) => {
            let report = collect::scan_report(store, *scan_id, tag.as_deref(), now)?;
            let doc = pdf::scan_pdf(&report)?;
            emit(&mut counting, &doc.bytes)?;
            (
                report.flagged.len() as u64,
                Some(doc.pages),
                no_scan_notice(&report.scan),
            )
        }
        (ReportKind::Scan { scan_id, tag }, Format::Csv) => {
            let scan = collect::pick_scan(store, *scan_id)?;
            let mut csv = CsvWriter::new(&mut counting).map_err(ReportError::Output)?;
            if let Some(s) = &scan {
                store.for_each_scan_result(s.id.unwrap_or_default(), tag.as_deref(), |r| {
                    csv.push(&r).map_err(ReportError::Output)
                })?;
            }
            let (_, rows) = csv.finish().map_err(ReportError::Output)?;
            (rows, None, no_scan_notice(&scan))
        }
        (ReportKind::Abuse { from, to }, Format::Pdf) => {
            let report = collect::abuse_report(store, *from, *to, now)?;
            let doc = pdf::abuse_pdf(&report)?;
            emit(&mut counting, &doc.bytes)?;
            let notice = (report.metrics.warnings == 0 && report.metrics.cycles == 0)
                .then(|| "there is no abuse data for this period; the report says so".to_string());
            (report.warnings.len() as u64, Some(doc.pages), notice)
        }
        (ReportKind::Abuse { from, to }, Format::Csv) => {
            collect::check_range(*from, *to)?;
            let mut csv = CsvWriter::new(&mut counting).map_err(ReportError::Output)?;
            store.for_each_warning(Some(*from), Some(*to), |w| {
                csv.push(&w).map_err(ReportError::Output)
            })?;
            let (_, rows) = csv.finish().map_err(ReportError::Output)?;
            let notice = (rows == 0).then(|| "no warning was opened in this period".to_string());
            (rows, None, notice)
        }
        (ReportKind::Subscriber { name }, Format::Pdf) => {
            let report = collect::subscriber_report(store, name, now)?;
            let doc = pdf::subscriber_pdf(&report)?;
            emit(&mut counting, &doc.bytes)?;
            (report.history.len() as u64, Some(doc.pages), None)
        }
        (ReportKind::Subscriber { name }, Format::Csv) => {
            let report = collect::subscriber_report(store, name, now)?;
            let mut csv = CsvWriter::new(&mut counting).map_err(ReportError::Output)?;
            for h in &report.history {
                csv.push(h).map_err(ReportError::Output)?;
            }
            let (_, rows) = csv.finish().map_err(ReportError::Output)?;
            (rows, None, None)
        }
        (ReportKind::Audit { from, to }, Format::Csv) => {
            if let (Some(f), Some(t)) = (from, to) {
                collect::check_range(*f, *t)?;
            }
            let mut csv = CsvWriter::new(&mut counting).map_err(ReportError::Output)?;
            let filter = AuditFilter {
                since: *from,
                until: *to,
                ..Default::default()
            };
            store.for_each_audit_entry(&filter, |e| csv.push(&e).map_err(ReportError::Output))?;
            let (_, rows) = csv.finish().map_err(ReportError::Output)?;
            (rows, None, None)
        }
        (ReportKind::Audit { .. }, Format::Pdf) => {
            return Err(ReportError::Invalid(
                "the audit log is exported as CSV only: ask for the csv format \
                 (a subscriber's evidence pack holds their audit entries as PDF)"
                    .into(),
            ))
        }
    };
    counting.flush().map_err(ReportError::Output)?;
    Ok(ReportOutcome {
        path: None,
        bytes: counting.bytes,
        rows,
        pages,
        notice,
    })
}

fn no_scan_notice(scan: &Option<shareguard_detect::ScanSummary>) -> Option<String> {
    scan.is_none().then(|| {
        "no scan has been stored yet, so the report has no results (it says so); \
         run a scan first (`shareguard scan`, or Scan in the app)"
            .to_string()
    })
}

fn emit(out: &mut dyn Write, bytes: &[u8]) -> Result<(), ReportError> {
    out.write_all(bytes).map_err(ReportError::Output)
}

/// Counts the bytes that pass through.
struct Counting<'a> {
    inner: &'a mut dyn Write,
    bytes: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
