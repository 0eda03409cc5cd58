//! Errors an owner can act on.
//!
//! Every message says what went wrong with *their* data or file and what to
//! do next; the desktop app shows it as it is, and the command line prints it
//! after `error:`. [`ReportError::kind`] gives a stable class for code that
//! reacts (an exit code, a dialog).

use std::io;
use std::path::{Path, PathBuf};

use shareguard_store::StoreError;

/// A report could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The database could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// A scan report was asked for before any scan was stored.
    #[error(
        "no scan has been stored yet, so there is nothing to report: run a scan first \
         (the Scan button, or `shareguard scan`), then make the report"
    )]
    NoScan,

    /// The scan asked for is not in this database.
    #[error("scan {id} is not in this database: {hint}")]
    UnknownScan { id: i64, hint: String },

    /// Nothing at all is stored about this subscriber.
    #[error(
        "nothing is stored about a subscriber named {name:?} (no result, warning, action or audit entry): \
         check the spelling, names are the router's login names and case matters{}",
        suggestions_text(suggestions)
    )]
    UnknownSubscriber {
        name: String,
        suggestions: Vec<String>,
    },

    /// The request itself makes no sense (an empty range, a format that
    /// report does not come in); the message names the fix.
    #[error("{0}")]
    Invalid(String),

    /// The report file could not be written.
    #[error("cannot write the report to {}: {}", path.display(), write_advice(source))]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The report could not be written to the writer it was given (see
    /// [`crate::write_report_to`]); [`crate::write_report`] names the file instead.
    #[error("cannot write the report: {}", write_advice(.0))]
    Output(#[source] io::Error),

    /// The PDF could not be laid out. This points at a bug, not at the data.
    #[error("could not lay out the PDF report ({0}); please report this together with the command you ran")]
    Pdf(String),

    /// A chart could not be drawn. This points at a bug, not at the data.
    #[error("could not draw the {chart} chart ({detail}); please report this")]
    Chart { chart: &'static str, detail: String },
}

fn suggestions_text(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" (similar names: {})", s.join(", "))
    }
}

/// What to do about an I/O error while writing a report.
fn write_advice(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            "the disk is full; free some space or choose a folder on another disk \
             (no partial file was left behind)"
                .into()
        }
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            "this user may not write there; choose another folder (for example your Documents) \
             or make that folder writable"
                .into()
        }
        io::ErrorKind::NotFound => {
            "the folder does not exist; create it first or choose an existing folder".into()
        }
        io::ErrorKind::IsADirectory => {
            "that is a folder; give a file name inside it, for example report.pdf".into()
        }
        _ => format!("{e}; check the disk and the path, then try again"),
    }
}

impl ReportError {
    /// A stable, machine-readable class: `storage` (the database), `no_data`
    /// (nothing stored yet), `not_found` (unknown scan or subscriber),
    /// `invalid_input`, `write` (the output file) or `internal` (a bug).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Store(_) => "storage",
            Self::NoScan => "no_data",
            Self::UnknownScan { .. } | Self::UnknownSubscriber { .. } => "not_found",
            Self::Invalid(_) => "invalid_input",
            Self::Write { .. } | Self::Output(_) => "write",
            Self::Pdf(_) | Self::Chart { .. } => "internal",
        }
    }

    pub(crate) fn write(path: &Path, source: io::Error) -> Self {
        Self::Write {
            path: path.to_path_buf(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_errors_name_the_fix() {
        let full = ReportError::write(
            Path::new("/x/r.pdf"),
            io::Error::from(io::ErrorKind::StorageFull),
        );
        assert!(full.to_string().contains("disk is full"), "{full}");
        let denied = ReportError::write(
            Path::new("/x/r.pdf"),
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert!(
            denied.to_string().contains("choose another folder"),
            "{denied}"
        );
        assert_eq!(denied.kind(), "write");
    }

    #[test]
    fn an_unknown_subscriber_lists_similar_names() {
        let e = ReportError::UnknownSubscriber {
            name: "alic".into(),
            suggestions: vec!["alice".into(), "alicia".into()],
        };
        let m = e.to_string();
        assert!(m.contains("\"alic\"") && m.contains("alice, alicia"), "{m}");
    }
}
