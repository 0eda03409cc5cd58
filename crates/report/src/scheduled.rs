//! The report written after each scheduled scan: the owner picks a folder
//! once, and every night's scan leaves its PDF (and, if asked, its CSV)
//! there, named by the scan's local start time so no night overwrites
//! another.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Local, Utc};
use serde::{Deserialize, Serialize};
use shareguard_store::Store;

use crate::{write_report, Format, ReportError, ReportKind, ReportOutcome, ReportRequest};

/// The settings key of [`ScheduledReports`].
pub const SCHEDULED_REPORTS_KEY: &str = "scheduled_reports";

/// Reports written after each scheduled scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct ScheduledReports {
    /// Off by default: nothing is written anywhere unasked.
    pub enabled: bool,
    /// The folder the reports go to (absolute).
    pub folder: String,
    /// The scan report as PDF.
    pub pdf: bool,
    /// Every checked subscriber as CSV.
    pub csv: bool,
}

impl Default for ScheduledReports {
    fn default() -> Self {
        Self {
            enabled: false,
            folder: String::new(),
            pdf: true,
            csv: false,
        }
    }
}

impl ScheduledReports {
    /// Checks the settings as written, without looking at the disk (see
    /// [`ScheduledReports::check_folder`]).
    pub fn validate(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if self.folder.trim().is_empty() {
            return Err("choose the folder the scheduled reports go to, or turn them off".into());
        }
        if !Path::new(self.folder.trim()).is_absolute() {
            return Err(format!(
                "give the reports folder's full path (for example {}), not {:?}",
                example_folder(),
                self.folder
            ));
        }
        if !self.pdf && !self.csv {
            return Err("tick PDF, CSV or both for the scheduled reports".into());
        }
        Ok(())
    }

    /// Checks that the folder exists and takes files, so a wrong folder is
    /// found when the settings are saved, not at 2 in the morning.
    pub fn check_folder(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        let folder = Path::new(self.folder.trim());
        if !folder.is_dir() {
            return Err(format!(
                "the reports folder {} does not exist; create it or choose another",
                folder.display()
            ));
        }
        tempfile::Builder::new()
            .prefix(".shareguard-check-")
            .tempfile_in(folder)
            .map(drop)
            .map_err(|e| {
                format!(
                    "ShareGuard cannot write to the reports folder {} ({e}); choose a folder you may write to",
                    folder.display()
                )
            })
    }

    /// The formats asked for, PDF first.
    pub fn formats(&self) -> Vec<Format> {
        [(self.pdf, Format::Pdf), (self.csv, Format::Csv)]
            .into_iter()
            .filter_map(|(on, f)| on.then_some(f))
            .collect()
    }
}

fn example_folder() -> &'static str {
    if cfg!(windows) {
        r"C:\Users\you\Documents\ShareGuard"
    } else {
        "/home/you/ShareGuard reports"
    }
}

/// The file a scheduled report of the scan started at `started` goes to:
/// `shareguard-scan-2026-05-01-0200.pdf` in local time, with the scan's
/// number added should that name be taken (two scans in one minute).
pub fn file_for(folder: &Path, started: DateTime<Utc>, scan_id: i64, format: Format) -> PathBuf {
    let stamp = started.with_timezone(&Local).format("%Y-%m-%d-%H%M");
    let ext = format.extension();
    let plain = folder.join(format!("shareguard-scan-{stamp}.{ext}"));
    if plain.exists() {
        folder.join(format!("shareguard-scan-{stamp}-{scan_id}.{ext}"))
    } else {
        plain
    }
}

/// Writes the reports `settings` ask for of scan `scan_id` (started at
/// `started`), one result per format: a failed PDF does not stop the CSV.
pub fn write_scheduled(
    store: &Store,
    settings: &ScheduledReports,
    scan_id: i64,
    started: DateTime<Utc>,
) -> Vec<(Format, Result<ReportOutcome, ReportError>)> {
    if !settings.enabled {
        return Vec::new();
    }
    let folder = PathBuf::from(settings.folder.trim());
    settings
        .formats()
        .into_iter()
        .map(|format| {
            let req = ReportRequest::new(
                ReportKind::Scan {
                    scan_id: Some(scan_id),
                    tag: None,
                },
                format,
            );
            let path = file_for(&folder, started, scan_id, format);
            (format, write_report(store, &req, &path))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(folder: &str) -> ScheduledReports {
        ScheduledReports {
            enabled: true,
            folder: folder.into(),
            ..Default::default()
        }
    }

    #[test]
    fn settings_are_checked_in_words() {
        assert!(
            ScheduledReports::default().validate().is_ok(),
            "off is fine"
        );
        let e = on("").validate().unwrap_err();
        assert!(e.contains("choose the folder"), "{e}");
        let e = on("reports").validate().unwrap_err();
        assert!(e.contains("full path"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().display().to_string();
        let mut neither = on(&folder);
        neither.pdf = false;
        assert!(neither.validate().unwrap_err().contains("tick PDF"));
        assert!(on(&folder).validate().is_ok());
        assert!(on(&folder).check_folder().is_ok());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "the write check leaves nothing behind"
        );
        let missing = dir.path().join("gone").display().to_string();
        let e = on(&missing).check_folder().unwrap_err();
        assert!(e.contains("does not exist"), "{e}");
    }

    #[test]
    fn names_follow_the_scan_time_and_never_collide() {
        let dir = tempfile::tempdir().unwrap();
        let at = Utc::now();
        let first = file_for(dir.path(), at, 7, Format::Pdf);
        let name = first.file_name().unwrap().to_string_lossy().to_string();
        let stamp = at.with_timezone(&Local).format("%Y-%m-%d-%H%M").to_string();
        assert_eq!(name, format!("shareguard-scan-{stamp}.pdf"));
        std::fs::write(&first, b"x").unwrap();
        let second = file_for(dir.path(), at, 8, Format::Pdf);
        assert_eq!(
            second.file_name().unwrap().to_string_lossy(),
            format!("shareguard-scan-{stamp}-8.pdf")
        );
        assert_eq!(
            file_for(dir.path(), at, 7, Format::Csv)
                .extension()
                .unwrap(),
            "csv"
        );
    }
}
