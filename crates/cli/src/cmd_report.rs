//! `shareguard report`: PDF reports and CSV exports from the database.
//!
//! The same reports the desktop app makes (`shareguard-report`), written
//! atomically: the file appears complete or not at all.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::{Args, Subcommand};
use shareguard_report::text::{size, thousands};
use shareguard_report::{write_report, Format, ReportError, ReportKind, ReportRequest};
use shareguard_store::Store;

use crate::exit::{self, CliResult, Failure};

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// One scan: summary, charts, flagged subscribers with reasons, routers and settings
    /// (CSV: every subscriber checked, flagged or not).
    Scan(ScanArgs),
    /// Abuse monitoring over a period: figures, charts, warnings and actions (CSV: every warning).
    Abuse(AbuseArgs),
    /// Everything about one subscriber: verdicts, TTLs, connections, warnings, actions and audit
    /// entries (CSV: the verdict history).
    Subscriber(SubscriberArgs),
    /// The audit log (CSV only).
    Audit(AuditArgs),
}

/// Where the report goes and where it comes from.
#[derive(Debug, Args)]
pub struct Output {
    /// pdf or csv (default: from the --out file name, e.g. report.pdf).
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// The file to write. An existing file is replaced only once the new report is complete.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Database file (default: the desktop app's database).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Print what was written as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub output: Output,
    /// The scan to report on (default: the latest).
    #[arg(long, value_name = "ID")]
    pub scan: Option<i64>,
    /// Only subscribers with this reseller/area tag (their own, else their router's).
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
}

/// `[from, to)`.
type Range = (DateTime<Utc>, DateTime<Utc>);

/// A period of whole days in UTC, or the last N days.
#[derive(Debug, Args)]
pub struct Period {
    /// First day, YYYY-MM-DD (UTC), included.
    #[arg(long, value_name = "DATE", value_parser = parse_date, conflicts_with = "days")]
    pub from: Option<NaiveDate>,
    /// Last day, YYYY-MM-DD (UTC), included (default: today).
    #[arg(long, value_name = "DATE", value_parser = parse_date, conflicts_with = "days")]
    pub to: Option<NaiveDate>,
    /// The last N days up to now.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: Option<u32>,
}

#[derive(Debug, Args)]
pub struct AbuseArgs {
    #[command(flatten)]
    pub output: Output,
    /// Default: the last 7 days.
    #[command(flatten)]
    pub period: Period,
}

#[derive(Debug, Args)]
pub struct SubscriberArgs {
    #[command(flatten)]
    pub output: Output,
    /// The subscriber's login name, as the router shows it.
    #[arg(long, value_name = "NAME")]
    pub subscriber: String,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub output: Output,
    /// Default: the whole log.
    #[command(flatten)]
    pub period: Period,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| "not a date: write it as YYYY-MM-DD, for example 2026-05-01".to_string())
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

impl Period {
    /// `[from, to)`; `None` when nothing was given (the caller's default).
    fn range(&self, now: DateTime<Utc>) -> Result<Option<Range>, Failure> {
        if let Some(days) = self.days {
            return Ok(Some((now - Duration::days(days.into()), now)));
        }
        let end = self.to.map(|d| day_start(d) + Duration::days(1));
        let (from, to) = match (self.from, end) {
            (None, None) => return Ok(None),
            (Some(f), Some(t)) => (day_start(f), t),
            (Some(f), None) => (day_start(f), now),
            (None, Some(t)) => (t - Duration::days(7), t),
        };
        if from >= to {
            return Err(Failure::usage(format!(
                "--from {} is after --to {}: give the first day, then the last",
                self.from.map(|d| d.to_string()).unwrap_or_default(),
                self.to.map(|d| d.to_string()).unwrap_or_default(),
            )));
        }
        Ok(Some((from, to)))
    }
}

/// The format asked for, or the one the file name implies.
fn format_of(o: &Output) -> Result<Format, Failure> {
    o.format.or_else(|| Format::from_path(&o.out)).ok_or_else(|| {
        Failure::usage(format!(
            "say which format to write: add --format pdf or --format csv, or end the --out file name \
             in .pdf or .csv (got {})",
            o.out.display()
        ))
    })
}

/// Opens an existing database; a report never creates one.
fn open(db: &Option<PathBuf>) -> Result<Store, Failure> {
    let path = db.clone().unwrap_or_else(crate::default_db);
    if !path.exists() {
        return Err(Failure::new(
            exit::STORAGE,
            format!(
                "there is no ShareGuard database at {}: run a scan first (`shareguard scan`, or the app), \
                 or pass the right file with --db",
                path.display()
            ),
        ));
    }
    Ok(Store::open(path)?)
}

fn failure(e: ReportError) -> Failure {
    Failure::new(exit::for_kind(e.kind()), e.to_string())
}

pub fn run(cmd: ReportCommand) -> CliResult {
    let now = Utc::now();
    let (output, kind) = match cmd {
        ReportCommand::Scan(a) => (
            a.output,
            ReportKind::Scan {
                scan_id: a.scan,
                tag: a.tag,
            },
        ),
        ReportCommand::Abuse(a) => {
            let (from, to) = a
                .period
                .range(now)?
                .unwrap_or((now - Duration::days(7), now));
            (a.output, ReportKind::Abuse { from, to })
        }
        ReportCommand::Subscriber(a) => (a.output, ReportKind::Subscriber { name: a.subscriber }),
        ReportCommand::Audit(a) => {
            let range = a.period.range(now)?;
            (
                a.output,
                ReportKind::Audit {
                    from: range.map(|r| r.0),
                    to: range.map(|r| r.1),
                },
            )
        }
    };
    let format = format_of(&output)?;
    if matches!(kind, ReportKind::Audit { .. }) && format == Format::Pdf {
        return Err(Failure::usage(
            "the audit log is exported as CSV only: use --format csv and an --out name ending in .csv \
             (`shareguard report subscriber` puts one subscriber's audit entries in a PDF)",
        ));
    }
    let store = open(&output.db)?;
    let mut req = ReportRequest::new(kind, format);
    req.generated_at = now;
    let done = write_report(&store, &req, &output.out).map_err(failure)?;
    if let Some(n) = &done.notice {
        eprintln!("note: {n}");
    }
    if output.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&done)
                .map_err(|e| Failure::new(exit::OTHER, e.to_string()))?
        );
    } else {
        println!(
            "{}",
            describe(&req, &done.path.clone().unwrap_or(output.out), &done)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(req: &ReportRequest, path: &Path, done: &shareguard_report::ReportOutcome) -> String {
    let what = match &req.kind {
        ReportKind::Scan { .. } => "scan report",
        ReportKind::Abuse { .. } => "abuse report",
        ReportKind::Subscriber { .. } => "evidence pack",
        ReportKind::Audit { .. } => "audit log",
    };
    let detail = match (req.format, done.pages) {
        (Format::Pdf, Some(p)) => format!("PDF, {p} page{}", if p == 1 { "" } else { "s" }),
        _ => format!(
            "CSV, {} row{}",
            thousands(done.rows),
            if done.rows == 1 { "" } else { "s" }
        ),
    };
    format!(
        "Wrote the {what} to {} ({detail}, {}).",
        path.display(),
        size(done.bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(from: Option<&str>, to: Option<&str>, days: Option<u32>) -> Period {
        Period {
            from: from.map(|s| parse_date(s).unwrap()),
            to: to.map(|s| parse_date(s).unwrap()),
            days,
        }
    }

    #[test]
    fn periods_are_whole_utc_days_with_the_last_day_included() {
        let now = day_start(parse_date("2026-06-15").unwrap()) + Duration::hours(9);
        let (f, t) = period(Some("2026-05-01"), Some("2026-05-31"), None)
            .range(now)
            .unwrap()
            .unwrap();
        assert_eq!(f.to_rfc3339(), "2026-05-01T00:00:00+00:00");
        assert_eq!(t.to_rfc3339(), "2026-06-01T00:00:00+00:00");
        let (f, t) = period(None, None, Some(7)).range(now).unwrap().unwrap();
        assert_eq!((t - f).num_days(), 7);
        assert_eq!(t, now);
        assert!(period(None, None, None).range(now).unwrap().is_none());
        let err = period(Some("2026-05-02"), Some("2026-05-01"), None)
            .range(now)
            .unwrap_err();
        assert_eq!(err.code, exit::USAGE);
    }

    #[test]
    fn bad_dates_say_how_to_write_one() {
        let e = parse_date("2026-13-01").unwrap_err();
        assert!(e.contains("YYYY-MM-DD"), "{e}");
        assert!(parse_date("yesterday").is_err());
    }

    #[test]
    fn the_format_comes_from_the_flag_or_the_file_name() {
        let o = |format: Option<Format>, out: &str| Output {
            format,
            out: out.into(),
            db: None,
            json: false,
        };
        assert_eq!(format_of(&o(None, "r.PDF")).unwrap(), Format::Pdf);
        assert_eq!(
            format_of(&o(Some(Format::Csv), "r.pdf")).unwrap(),
            Format::Csv
        );
        assert_eq!(format_of(&o(None, "report")).unwrap_err().code, exit::USAGE);
    }
}
