//! ShareGuard's local storage: everything in one SQLite file.
//!
//! One file is easy for a small ISP to back up, move and hand to support.
//! [`Store`] owns one connection to it; every SQL statement of the product
//! lives in this crate, one module per concern:
//!
//! * [`migrations`]: the versioned schema (version in `user_version`).
//! * [`nas`]: router definitions, without secrets.
//! * [`scans`]: scan records; finishing a scan stores its results atomically.
//! * [`results`]: the latest result per subscriber, history and TTL evidence.
//! * [`result_lines`]: the results table's slim rows, a page at a time.
//! * [`whitelist`]: subscribers the owner has excused, optionally until a date.
//! * [`audit`]: the append-only record of who did what.
//! * [`actions`]: enforcement actions (disconnects, throttles, bans), stored with
//!   their audit entry; the ones in force survive a restart.
//! * [`warnings`]: abuse warnings, monitor cycle figures and abuse metrics.
//! * [`operators`]: owner and staff profiles with hashed PINs.
//! * [`subscriber_page`]: everything stored about one subscriber, in one read.
//! * [`tags`]: reseller/area tags on subscribers.
//! * [`retention`]: the clean-up of old history.
//! * [`settings`]: tunable settings as JSON values.
//!
//! The invariant everything else serves: a failed or cancelled scan, a full
//! disk or a crash never destroys previously stored results. Every write runs
//! in one transaction, and results are only replaced for routers that
//! answered.

mod codec;
pub mod error;
pub mod migrations;

pub mod actions;
pub mod audit;
pub mod demo;
pub mod export;
pub mod lines;
pub mod nas;
pub mod operators;
pub mod result_lines;
pub mod results;
pub mod retention;
pub mod scans;
pub mod settings;
pub mod subscriber_page;
pub mod tags;
pub mod warnings;
pub mod whitelist;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

pub use actions::{Action, ActionKind, ActionMethod};
pub use audit::{action, AuditEntry, AuditFilter, AuditRecord};
pub use demo::{DemoRemoved, DEMO_ROUTER_PREFIX};
pub use error::StoreError;
pub use lines::{LineDistanceEntry, MAX_LINE_HOPS};
pub use migrations::SCHEMA_VERSION;
pub use nas::NasRecord;
pub use operators::{Operator, Permission, SYSTEM as SYSTEM_OPERATOR};
pub use result_lines::{ResultLine, ResultsPage};
pub use results::{HistoryEntry, ResultFilter, ResultOrder, TrendPoint};
pub use retention::{Pruned, Retention, RETENTION_KEY};
pub use settings::DETECTION_SETTINGS_KEY;
pub use subscriber_page::SubscriberDetail;
pub use warnings::{
    AbuseMetrics, CycleStats, Offender, Sighted, Sighting, Warning, WarningMark, WarningQuery,
};
pub use whitelist::WhitelistEntry;

use error::Fail;

/// How long a write waits for another ShareGuard process (for example a
/// scheduled scan) to release the file before giving up with [`StoreError::Busy`].
const BUSY_TIMEOUT: Duration = Duration::from_millis(5000);

/// Page cache ceiling, in KiB as SQLite's negative `cache_size` expresses it.
/// 8 MiB holds the indexes a 30,000-subscriber scan writes through; more
/// only adds to the resident memory of an app that sits in the tray all day.
const CACHE_KIB: i64 = -8 * 1024;

/// Statements kept prepared; a scan uses about a dozen, listings a few more.
const STATEMENT_CACHE: usize = 64;

/// The ShareGuard database: one SQLite file, one connection.
///
/// `Store` is `Send` but not `Sync`: share it between threads behind a mutex.
/// Methods that change data take `&mut self` and run in one transaction each.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// Keeps the database to its user: subscriber data and the PIN hashes are
/// nobody else's business on a shared computer. On Unix a new file is
/// created `0600` and an existing one (and its `-wal` and `-shm`, which
/// SQLite creates with the database's mode) loses group and other access;
/// read-only stays read-only. On Windows the file lives in the user's
/// profile, whose ACL already admits only that user.
fn owner_only(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            let p = std::path::PathBuf::from(p);
            let Ok(meta) = std::fs::metadata(&p) else {
                continue;
            };
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode & 0o700))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

impl Store {
    /// Opens the database at `path`, creating it (and missing parent folders)
    /// if needed, and brings its schema up to [`SCHEMA_VERSION`].
    ///
    /// Refuses, with a message naming the fix, a file that is not SQLite, an
    /// SQLite file of another program, and a file written by a newer
    /// ShareGuard (it is never downgraded).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::CannotOpen {
                path: path.clone(),
                detail: format!("could not create the folder {}: {e}", parent.display()),
            })?;
        }
        if path.is_dir() {
            return Err(StoreError::CannotOpen {
                path,
                detail: "it is a folder, not a file".into(),
            });
        }
        owner_only(&path).map_err(|e| StoreError::CannotOpen {
            path: path.clone(),
            detail: format!("could not make it private to this user: {e}"),
        })?;
        // No SQLITE_OPEN_URI: a path is always a path, even if it starts with "file:".
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags)
            .map_err(|e| StoreError::from_sqlite(&path, e))?;
        Self::init(conn, path)
    }

    /// A private database in memory, for unit tests and throwaway runs.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| StoreError::from_sqlite(&path, e))?;
        Self::init(conn, path)
    }

    fn init(mut conn: Connection, path: PathBuf) -> Result<Self, StoreError> {
        let sql = |e| StoreError::from_sqlite(&path, e);
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        // The first statement reads the file header, so a file that is not
        // SQLite is reported here. WAL lets the desktop app read while a
        // scheduled scan writes, and survives a crash mid-write.
        let _mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(sql)?;
        // NORMAL is durable across application crashes in WAL mode; only a
        // power cut can lose the last commits, never corrupt the file.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sql)?;
        // A scan of a large ISP writes tens of thousands of rows in one
        // transaction; a bigger page cache (a ceiling, not an allocation)
        // keeps index updates in memory instead of spilling mid-transaction.
        conn.pragma_update(None, "cache_size", CACHE_KIB)
            .map_err(sql)?;

        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql)?;
        if version < 0 {
            return Err(StoreError::ForeignDatabase { path });
        }
        if version > i64::from(SCHEMA_VERSION) {
            return Err(StoreError::NewerSchema {
                path,
                found: u32::try_from(version).unwrap_or(u32::MAX),
                supported: SCHEMA_VERSION,
            });
        }
        if version == 0 {
            let tables: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                    [],
                    |r| r.get(0),
                )
                .map_err(sql)?;
            if tables > 0 {
                return Err(StoreError::ForeignDatabase { path });
            }
        }

        if let Err(e) = migrations::migrations().to_latest(&mut conn) {
            // Two ShareGuard processes creating the same new file race; the
            // loser's migration fails because the winner already applied it.
            let now: i64 = conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(sql)?;
            if now != i64::from(SCHEMA_VERSION) {
                return Err(migration_error(&path, e));
            }
        }
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Self { conn, path })
    }

    /// The database file this store reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version recorded in the file.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.read(|c| {
            let v: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
            Ok(u32::try_from(v).unwrap_or(0))
        })
    }

    /// Caps the file at `pages` pages (never below its current size) for the
    /// rest of this connection, so tests can make the "disk" fill up.
    /// Returns the cap in force.
    #[doc(hidden)]
    pub fn set_max_page_count(&self, pages: u64) -> Result<u64, StoreError> {
        self.read(|c| {
            let set: i64 =
                c.pragma_update_and_check(None, "max_page_count", codec::u64_to_sql(pages), |r| {
                    r.get(0)
                })?;
            Ok(codec::sql_to_u64(set))
        })
    }

    /// Runs reads on one consistent snapshot.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        f(&self.conn).map_err(|e| e.at(&self.path))
    }

    /// Runs `f` in one write transaction: either everything it did is
    /// committed, or nothing is. `IMMEDIATE` takes the write lock up front so
    /// a concurrent writer makes us wait (up to the busy timeout) instead of
    /// failing halfway.
    pub(crate) fn write<T>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        let path = &self.path;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| StoreError::from_sqlite(path, e))?;
        let out = f(&tx).map_err(|e| e.at(path))?;
        tx.commit().map_err(|e| StoreError::from_sqlite(path, e))?;
        Ok(out)
    }

    /// Runs several reads in one deferred transaction so they see the same
    /// state even while another process writes.
    pub(crate) fn snapshot<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        let path = &self.path;
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|e| StoreError::from_sqlite(path, e))?;
        let out = f(&tx).map_err(|e| e.at(path))?;
        tx.finish().map_err(|e| StoreError::from_sqlite(path, e))?;
        Ok(out)
    }
}

fn migration_error(path: &Path, e: rusqlite_migration::Error) -> StoreError {
    use rusqlite_migration::{Error as M, MigrationDefinitionError as D};
    match e {
        M::RusqliteError { err, .. } => match StoreError::from_sqlite(path, err) {
            StoreError::Sqlite { source, .. } => StoreError::Migration {
                path: path.to_path_buf(),
                detail: source.to_string(),
            },
            classified => classified,
        },
        M::MigrationDefinition(D::DatabaseTooFarAhead) => StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: SCHEMA_VERSION + 1,
            supported: SCHEMA_VERSION,
        },
        other => StoreError::Migration {
            path: path.to_path_buf(),
            detail: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_can_move_between_threads() {
        fn is_send<T: Send>() {}
        is_send::<Store>();
    }

    #[test]
    fn connection_settings_are_applied() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.db")).unwrap();
        let pragma = |name: &str| -> i64 {
            store
                .conn
                .pragma_query_value(None, name, |r| r.get(0))
                .unwrap()
        };
        assert_eq!(pragma("foreign_keys"), 1);
        assert_eq!(pragma("synchronous"), 1, "NORMAL");
        assert_eq!(pragma("busy_timeout"), 5000);
        assert_eq!(pragma("cache_size"), CACHE_KIB);
        let mode: String = store
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn in_memory_store_is_at_the_latest_schema() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    }
}
