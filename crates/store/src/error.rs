//! Errors the owner can act on.
//!
//! SQLite reports failures as result codes; the owner of a small ISP needs to
//! know what happened to *their* file and what to do about it. Every variant
//! names the database path and the fix, and every write runs in a transaction,
//! so a failed write never leaves half-stored data behind.

use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

/// A storage failure, with a message that names the file and the fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file was written by a later version of ShareGuard. Opening it with
    /// this build could misread or downgrade it, so it is refused.
    #[error(
        "{}: this database was written by a newer ShareGuard (schema {found}); update the app or use \
         another --db file (this version reads schema {supported} and older)",
        path.display()
    )]
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    /// The file exists but is not an SQLite database at all.
    #[error(
        "{} is not a ShareGuard database (it is not an SQLite file): pass another --db path, \
         or move that file aside so a new database can be created there",
        path.display()
    )]
    NotADatabase { path: PathBuf },

    /// The file is an SQLite database that some other program created.
    #[error(
        "{} is an SQLite database from another program, not a ShareGuard database: \
         pass another --db path so that file is left alone",
        path.display()
    )]
    ForeignDatabase { path: PathBuf },

    /// The disk (or the database's size limit) ran out of room mid-write.
    #[error(
        "the disk holding {} is full: free some space and try again (no stored data was changed)",
        path.display()
    )]
    DiskFull { path: PathBuf },

    /// The operating system reported an I/O error reading or writing the file.
    #[error(
        "could not read or write {} (disk I/O error: {detail}): the disk may be full, removed or failing; \
         free some space or check the disk, then try again (no stored data was changed)",
        path.display()
    )]
    DiskIo { path: PathBuf, detail: String },

    /// The file or its folder may not be written by this user.
    #[error(
        "{} is read-only for this user: make the file and its folder writable \
         (or run ShareGuard as the user who owns it), or use another --db file (no stored data was changed)",
        path.display()
    )]
    ReadOnly { path: PathBuf },

    /// Another process holds the write lock for longer than the busy timeout.
    #[error(
        "{} is busy: another ShareGuard is writing to it; wait for that scan to finish or close the other \
         window, then try again (no stored data was changed)",
        path.display()
    )]
    Busy { path: PathBuf },

    /// SQLite found structural damage in the file.
    #[error("{} is damaged; restore a backup or move it aside so a new database can be created", path.display())]
    Corrupt { path: PathBuf },

    /// The file (or its folder) could not be opened or created.
    #[error(
        "cannot open {}: {detail}; check that the folder exists and this user may write to it, \
         or pass another --db path",
        path.display()
    )]
    CannotOpen { path: PathBuf, detail: String },

    /// A stored value could not be read back (for example a field written by
    /// a newer ShareGuard that this version does not know).
    #[error(
        "{} holds a {what} this version cannot read ({detail}): update ShareGuard, or restore a backup",
        path.display()
    )]
    BadData {
        path: PathBuf,
        what: String,
        detail: String,
    },

    /// The caller passed a value that must not be stored; the message says how to fix it.
    #[error("{0}")]
    Invalid(String),

    /// `finish_scan` was given a scan id that was never started in this file.
    #[error("scan {id} does not exist in {}: start scans with begin_scan on the same database", path.display())]
    UnknownScan { path: PathBuf, id: i64 },

    /// `finish_scan` was called twice for the same scan.
    #[error("scan {id} was already finished; its results are stored and cannot be replaced")]
    ScanAlreadyFinished { id: i64 },

    /// The schema migration failed for a reason not covered above.
    #[error("could not prepare {} for this version of ShareGuard: {detail}; restore a backup or use another --db file", path.display())]
    Migration { path: PathBuf, detail: String },

    /// Any other SQLite failure. These point at a bug rather than at the environment.
    #[error("database error in {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

impl StoreError {
    /// Classifies an SQLite error by what the owner has to do about it.
    pub(crate) fn from_sqlite(path: &Path, err: rusqlite::Error) -> Self {
        let path = path.to_path_buf();
        let Some(code) = err.sqlite_error_code() else {
            return Self::Sqlite { path, source: err };
        };
        match code {
            ErrorCode::DiskFull => Self::DiskFull { path },
            ErrorCode::SystemIoFailure => Self::DiskIo {
                path,
                detail: err.to_string(),
            },
            ErrorCode::ReadOnly | ErrorCode::PermissionDenied => Self::ReadOnly { path },
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Self::Busy { path },
            ErrorCode::DatabaseCorrupt => Self::Corrupt { path },
            ErrorCode::NotADatabase => Self::NotADatabase { path },
            ErrorCode::CannotOpen => Self::CannotOpen {
                path,
                detail: err.to_string(),
            },
            _ => Self::Sqlite { path, source: err },
        }
    }
}

/// Internal failure before the database path is attached.
///
/// Store methods run their SQL through helpers that turn this into a
/// [`StoreError`] naming the file, so the SQL code can use `?` freely.
#[derive(Debug)]
pub(crate) enum Fail {
    Sql(rusqlite::Error),
    /// A stored value could not be decoded.
    Data {
        what: String,
        detail: String,
    },
    Store(StoreError),
}

impl Fail {
    pub(crate) fn data(what: impl Into<String>, detail: impl ToString) -> Self {
        Self::Data {
            what: what.into(),
            detail: detail.to_string(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::Store(StoreError::Invalid(message.into()))
    }

    pub(crate) fn at(self, path: &Path) -> StoreError {
        match self {
            Self::Sql(e) => StoreError::from_sqlite(path, e),
            Self::Data { what, detail } => StoreError::BadData {
                path: path.to_path_buf(),
                what,
                detail,
            },
            Self::Store(e) => e,
        }
    }
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sql(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}
