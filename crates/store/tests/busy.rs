//! Two ShareGuard processes on one file: a writer waits for the other, and
//! gives a clear error if the other holds the file too long.

mod common;

use std::time::{Duration, Instant};

use common::temp_store;
use shareguard_store::StoreError;

#[test]
fn a_short_write_by_another_shareguard_is_waited_for() {
    let mut t = temp_store();
    let other = rusqlite::Connection::open(&t.path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let holder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        other.execute_batch("COMMIT").unwrap();
    });
    t.store
        .whitelist_add("ann", "business line", "alice", None)
        .unwrap();
    holder.join().unwrap();
}

#[test]
fn a_long_write_by_another_shareguard_gives_a_busy_error() {
    let mut t = temp_store();
    let other = rusqlite::Connection::open(&t.path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();

    let started = Instant::now();
    let err = t
        .store
        .whitelist_add("ann", "business line", "alice", None)
        .unwrap_err();
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "waited {:?}",
        started.elapsed()
    );
    assert!(matches!(err, StoreError::Busy { .. }), "{err:?}");
    assert!(
        err.to_string().contains("another ShareGuard is writing"),
        "{err}"
    );

    other.execute_batch("ROLLBACK").unwrap();
    t.store
        .whitelist_add("ann", "business line", "alice", None)
        .unwrap();
}
