//! Opening the database file: what happens with new, old, foreign, damaged or
//! read-only files.

mod common;

use common::{outcome, result, run_scan, temp_store};
use shareguard_detect::{Level, NasStatus, ScanStatus};
use shareguard_store::{NasRecord, ResultFilter, Store, StoreError, SCHEMA_VERSION};

#[test]
fn missing_folders_are_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/c/shareguard.db");
    let store = Store::open(&path).unwrap();
    assert!(path.is_file());
    assert_eq!(store.path(), path);
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn database_is_in_wal_mode() {
    let t = temp_store();
    let raw = rusqlite::Connection::open(&t.path).unwrap();
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn reopening_keeps_everything() {
    let mut t = temp_store();
    t.store
        .upsert_nas(&NasRecord::new(
            "tower-1",
            "10.0.0.1",
            "shareguard",
            shareguard_detect::Access::Pppoe,
        ))
        .unwrap();
    let rs = vec![result("ann", "tower-1", Level::High, 700)];
    let id = run_scan(
        &mut t.store,
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        &rs,
    );
    t.store
        .whitelist_add("bob", "business line", "alice", None)
        .unwrap();
    t.store.set_setting("ui.theme", &"dark").unwrap();

    // A second connection sees committed data while the first is still open
    // (WAL), and everything survives closing and reopening.
    {
        let other = Store::open(&t.path).unwrap();
        assert_eq!(other.results(&ResultFilter::default()).unwrap(), rs);
    }
    let scan = t.store.scan(id).unwrap();
    let audit = t.store.audit_log(&Default::default()).unwrap();
    drop(t.store);

    let store = Store::open(&t.path).unwrap();
    assert_eq!(store.results(&ResultFilter::default()).unwrap(), rs);
    assert_eq!(store.scan(id).unwrap(), scan);
    assert_eq!(store.list_nas().unwrap().len(), 1);
    assert_eq!(
        store
            .whitelisted_reason("bob", chrono::Utc::now())
            .unwrap()
            .as_deref(),
        Some("business line")
    );
    assert_eq!(
        store.get_setting::<String>("ui.theme").unwrap().as_deref(),
        Some("dark")
    );
    assert_eq!(store.audit_log(&Default::default()).unwrap(), audit);
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn newer_schema_is_refused_with_a_clear_message() {
    let t = temp_store();
    drop(t.store);
    {
        let raw = rusqlite::Connection::open(&t.path).unwrap();
        raw.pragma_update(None, "user_version", 99).unwrap();
    }

    let err = Store::open(&t.path).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 99, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains(&t.path.display().to_string()), "{message}");
    assert!(
        message.contains(
            "this database was written by a newer ShareGuard (schema 99); update the app or use another --db file"
        ),
        "{message}"
    );

    // Never downgraded.
    let raw = rusqlite::Connection::open(&t.path).unwrap();
    let v: i64 = raw
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, 99);
}

#[test]
fn non_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in [
        (
            "notes.txt",
            "These are my notes about the routers, not a database.\n".repeat(40),
        ),
        ("short.txt", "hello".to_string()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &content).unwrap();

        let err = Store::open(&path).unwrap_err();
        assert!(
            matches!(err, StoreError::NotADatabase { .. }),
            "{name}: {err:?}"
        );
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("pass another --db path"), "{message}");
        // The file is left untouched.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), content);
    }
}

#[test]
fn another_programs_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("billing.db");
    {
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount INTEGER);")
            .unwrap();
    }
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::ForeignDatabase { .. }), "{err:?}");
    assert!(err.to_string().contains("another program"), "{err}");
    let raw = rusqlite::Connection::open(&path).unwrap();
    let tables: i64 = raw
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 1, "nothing was added to the other program's file");
}

#[test]
fn damaged_file_is_reported_as_damaged() {
    let mut t = temp_store();
    let rs: Vec<_> = (0..300)
        .map(|i| result(&format!("sub{i}"), "tower-1", Level::Low, 310))
        .collect();
    run_scan(
        &mut t.store,
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        &rs,
    );
    drop(t.store);

    // Keep the header, overwrite the pages after the first.
    let mut bytes = std::fs::read(&t.path).unwrap();
    assert!(bytes.len() > 8192);
    for b in &mut bytes[4096..] {
        *b = 0x5a;
    }
    std::fs::write(&t.path, &bytes).unwrap();

    let err = match Store::open(&t.path) {
        Err(e) => e,
        Ok(store) => store.results(&ResultFilter::default()).unwrap_err(),
    };
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("is damaged; restore a backup or move it aside"),
        "{err}"
    );
}

#[test]
fn folder_instead_of_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::CannotOpen { .. }), "{err:?}");
    assert!(err.to_string().contains("pass another --db path"), "{err}");
}

/// Makes `path` read-only, or writable again: the read-only attribute on
/// Windows, the write bits on Unix (std's portable switch for both).
fn set_read_only(path: &std::path::Path, read_only: bool) {
    let mut p = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    p.set_readonly(read_only);
    std::fs::set_permissions(path, p).unwrap();
}

/// Whether file permissions are enforced for this user. They are not for
/// root (CAP_DAC_OVERRIDE), which makes a read-only test meaningless.
fn permissions_are_enforced(dir: &std::path::Path) -> bool {
    let probe = dir.join("probe");
    std::fs::write(&probe, b"x").unwrap();
    set_read_only(&probe, true);
    let writable = std::fs::OpenOptions::new().write(true).open(&probe).is_ok();
    set_read_only(&probe, false);
    std::fs::remove_file(&probe).unwrap();
    !writable
}

#[test]
fn read_only_file_gives_a_clear_error() {
    let mut t = temp_store();
    if !permissions_are_enforced(t.dir.path()) {
        eprintln!(
            "skipped: this user (probably root) can write read-only files, so the database \
             cannot be made read-only here"
        );
        return;
    }
    let rs = vec![result("ann", "tower-1", Level::High, 700)];
    run_scan(
        &mut t.store,
        ScanStatus::Completed,
        vec![outcome("tower-1", NasStatus::Ok)],
        &rs,
    );
    drop(t.store);
    set_read_only(&t.path, true);

    // SQLite may refuse at open or at the first write; either way the message says read-only.
    let err = match Store::open(&t.path) {
        Err(e) => {
            eprintln!("refused at open: {e}");
            e
        }
        Ok(mut store) => {
            assert_eq!(store.results(&ResultFilter::default()).unwrap(), rs);
            let e = store.clear_results("alice").unwrap_err();
            eprintln!("refused at the first write: {e}");
            e
        }
    };
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&t.path.display().to_string()), "{message}");
    assert!(
        message.contains("is read-only for this user: make the file and its folder writable"),
        "{message}"
    );

    set_read_only(&t.path, false);
    let store = Store::open(&t.path).unwrap();
    assert_eq!(store.results(&ResultFilter::default()).unwrap(), rs);
}

#[test]
fn no_secret_columns_exist() {
    let t = temp_store();
    let raw = rusqlite::Connection::open(&t.path).unwrap();
    let mut stmt = raw
        .prepare(
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_xinfo(m.name) p
             WHERE m.type = 'table'",
        )
        .unwrap();
    let columns: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        columns.iter().any(|(t, c)| t == "nas" && c == "username"),
        "the query sees columns"
    );
    for (table, column) in &columns {
        let c = column.to_lowercase();
        assert!(
            !c.contains("password") && !c.contains("secret"),
            "{table}.{column} looks like it stores a secret"
        );
    }
}

/// Subscriber data and PIN hashes stay with the user who runs ShareGuard.
#[cfg(unix)]
#[test]
fn the_database_and_its_wal_are_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shareguard.db");
    let mut store = Store::open(&path).unwrap();
    store.set_setting("a", &1u32).unwrap();
    let wal = dir.path().join("shareguard.db-wal");
    let shm = dir.path().join("shareguard.db-shm");
    assert!(wal.is_file() && shm.is_file());
    for p in [&path, &wal, &shm] {
        assert_eq!(mode(p), 0o600, "{}", p.display());
    }
    drop(store);

    // A file an earlier version created world-readable is tightened.
    let old = dir.path().join("old.db");
    drop(Store::open(&old).unwrap());
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(Store::open(&old).unwrap());
    assert_eq!(mode(&old), 0o600);
}
