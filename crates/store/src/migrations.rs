//! The versioned schema.
//!
//! Each step is applied once, in order, inside one transaction, and the
//! schema version is kept in SQLite's `user_version`. Steps are append-only:
//! a released step is never edited, a change is a new step. A file whose
//! version is above [`SCHEMA_VERSION`] was written by a newer build and is
//! refused rather than guessed at.
//!
//! Conventions: timestamps are ISO-8601 UTC text with nanoseconds
//! (`2024-05-01T12:00:00.000000000Z`), fixed width so text order is time
//! order; enums are their snake_case names; lists and nested records are JSON
//! text; tables are `STRICT` so a wrong type is an error, not a silent
//! conversion. No table has a column for passwords or other secrets: those
//! live in the OS keychain, never in this file.

use rusqlite_migration::{Migrations, M};

/// Version 1: routers, scans, results with history, whitelist, settings and
/// the append-only audit log.
const V1: &str = r#"
CREATE TABLE nas (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    host            TEXT NOT NULL,
    port            INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    tls             INTEGER NOT NULL CHECK (tls IN (0, 1)),
    tls_fingerprint TEXT CHECK (tls_fingerprint IS NULL
                                OR (length(tls_fingerprint) = 64
                                    AND tls_fingerprint NOT GLOB '*[^0-9a-f]*')),
    username        TEXT NOT NULL,
    access          TEXT NOT NULL CHECK (access IN ('pppoe', 'hotspot')),
    expected_hops   INTEGER NOT NULL CHECK (expected_hops BETWEEN 0 AND 255),
    probe_strategy  TEXT CHECK (probe_strategy IS NULL
                                OR probe_strategy IN ('address_list', 'connection_mark')),
    probe_interface TEXT,
    tag             TEXT,
    radius_port     INTEGER CHECK (radius_port IS NULL OR radius_port BETWEEN 1 AND 65535),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;

CREATE TABLE scans (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    operator    TEXT NOT NULL,
    scope       TEXT NOT NULL CHECK (json_valid(scope)),
    status      TEXT NOT NULL
                CHECK (status IN ('running', 'completed', 'partial', 'failed', 'cancelled')),
    checked     INTEGER NOT NULL DEFAULT 0,
    flagged     INTEGER NOT NULL DEFAULT 0,
    settings    TEXT NOT NULL CHECK (json_valid(settings))
) STRICT;

-- One row per router per scan, in the order the scanner reported them.
CREATE TABLE scan_nas (
    id             INTEGER PRIMARY KEY,
    scan_id        INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    nas            TEXT NOT NULL,
    address        TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'timed_out', 'cancelled')),
    error          TEXT,
    error_kind     TEXT,
    sessions       INTEGER NOT NULL,
    connections    INTEGER NOT NULL,
    checked        INTEGER NOT NULL,
    flagged        INTEGER NOT NULL,
    duration_ms    INTEGER NOT NULL,
    probe_strategy TEXT,
    warnings       TEXT NOT NULL CHECK (json_valid(warnings))
) STRICT;
CREATE INDEX scan_nas_by_scan ON scan_nas (scan_id);

-- The latest result per subscriber. Rows are replaced by later scans of the
-- same subscriber and otherwise kept until the owner clears them, so a
-- router that fails to answer never wipes what was known about its lines.
CREATE TABLE results (
    subscriber         TEXT PRIMARY KEY,
    scan_id            INTEGER NOT NULL REFERENCES scans (id),
    nas                TEXT NOT NULL,
    address            TEXT NOT NULL,
    access             TEXT NOT NULL,
    connections        INTEGER NOT NULL,
    p2p_connections    INTEGER NOT NULL,
    ttl_values         TEXT NOT NULL,
    ttl_counts         TEXT NOT NULL,
    ttl_status         TEXT NOT NULL,
    level              TEXT NOT NULL,
    -- Derived so the level text stays the single source of truth while
    -- sorting and filtering by severity can use an index.
    level_rank         INTEGER NOT NULL GENERATED ALWAYS AS (
                           CASE level
                               WHEN 'normal' THEN 0
                               WHEN 'low' THEN 1
                               WHEN 'medium' THEN 2
                               WHEN 'high' THEN 3
                               WHEN 'critical' THEN 4
                           END) VIRTUAL,
    assessed_level     TEXT NOT NULL,
    whitelisted        INTEGER NOT NULL CHECK (whitelisted IN (0, 1)),
    reasons            TEXT NOT NULL,
    recommended_action TEXT NOT NULL,
    evidence           TEXT NOT NULL,
    scanned_at         TEXT NOT NULL
) STRICT;
CREATE INDEX results_by_level ON results (level_rank DESC, connections DESC, subscriber);

-- One row per subscriber per scan, for verdict and connection history.
CREATE TABLE result_history (
    scan_id         INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    subscriber      TEXT NOT NULL,
    nas             TEXT NOT NULL,
    level           TEXT NOT NULL,
    ttl_status      TEXT NOT NULL,
    whitelisted     INTEGER NOT NULL CHECK (whitelisted IN (0, 1)),
    connections     INTEGER NOT NULL,
    p2p_connections INTEGER NOT NULL,
    ttl_values      TEXT NOT NULL,
    reasons         TEXT NOT NULL,
    scanned_at      TEXT NOT NULL,
    PRIMARY KEY (scan_id, subscriber)
) STRICT, WITHOUT ROWID;
CREATE INDEX result_history_by_subscriber ON result_history (subscriber, scanned_at DESC);

-- The TTL histogram behind each verdict: observations per TTL.
CREATE TABLE ttl_evidence (
    scan_id    INTEGER NOT NULL,
    subscriber TEXT NOT NULL,
    ttl        INTEGER NOT NULL CHECK (ttl BETWEEN 0 AND 255),
    count      INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (scan_id, subscriber, ttl),
    FOREIGN KEY (scan_id, subscriber)
        REFERENCES result_history (scan_id, subscriber) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- Expired entries stay for the record; lookups ignore them.
CREATE TABLE whitelist (
    subscriber TEXT PRIMARY KEY,
    reason     TEXT NOT NULL,
    added_by   TEXT NOT NULL,
    added_at   TEXT NOT NULL,
    expires_at TEXT
) STRICT;

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    operator TEXT NOT NULL,
    action   TEXT NOT NULL,
    subject  TEXT,
    details  TEXT NOT NULL CHECK (json_valid(details))
) STRICT;
CREATE INDEX audit_log_by_time ON audit_log (at);
CREATE INDEX audit_log_by_operator ON audit_log (operator, at);
CREATE INDEX audit_log_by_action ON audit_log (action, at);
CREATE INDEX audit_log_by_subject ON audit_log (subject, at);

-- The audit log is evidence of who did what (disconnects, whitelisting), so
-- it can only grow: SQLite itself refuses to change or remove an entry.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be changed');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be deleted');
END;

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL CHECK (json_valid(value)),
    updated_at TEXT NOT NULL
) STRICT;
"#;

/// The first schema as released, for upgrade tests.
#[doc(hidden)]
pub const V1_FOR_TESTS: &str = V1;

/// Version 2: staff profiles with hashed PINs, reseller/area tags on
/// subscribers, and an index for the retention clean-up.
const V2: &str = r#"
-- Who may use the app and what they may do. The PIN is stored only as an
-- Argon2id hash (PHC string); the owner's row exists once a PIN is set.
CREATE TABLE operators (
    name        TEXT PRIMARY KEY,
    pin_hash    TEXT NOT NULL CHECK (pin_hash LIKE '$argon2%'),
    permissions TEXT NOT NULL CHECK (json_valid(permissions)),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

-- A reseller or area per subscriber; when absent the router's tag applies.
CREATE TABLE subscriber_tags (
    subscriber TEXT PRIMARY KEY,
    tag        TEXT NOT NULL CHECK (length(tag) BETWEEN 1 AND 64),
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX subscriber_tags_by_tag ON subscriber_tags (tag);

CREATE INDEX scans_by_start ON scans (started_at);
CREATE INDEX result_history_by_time ON result_history (scanned_at);
"#;

/// Version 3: enforcement actions (disconnect now; throttles and bans with an
/// expiry later), and the time ShareGuard ended a subscriber's session, shown
/// until the next scan sees the subscriber again.
const V3: &str = r#"
CREATE TABLE actions (
    id         INTEGER PRIMARY KEY,
    subscriber TEXT NOT NULL,
    nas        TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('disconnect', 'throttle', 'ban', 'limit')),
    method     TEXT NOT NULL CHECK (method IN ('radius', 'api')),
    operator   TEXT NOT NULL,
    reason     TEXT NOT NULL,
    details    TEXT NOT NULL CHECK (json_valid(details)),
    started_at TEXT NOT NULL,
    -- NULL for actions without a duration (a disconnect).
    expires_at TEXT,
    -- Set when the action is over: at once for a disconnect, on expiry or
    -- lifting for the others.
    ended_at   TEXT
) STRICT;
CREATE INDEX actions_by_subscriber ON actions (subscriber, started_at);
CREATE INDEX actions_in_force ON actions (ended_at, expires_at);

ALTER TABLE results ADD COLUMN disconnected_at TEXT;
"#;

/// Version 4: the abuse monitor. Warnings are deduplicated per subscriber and
/// kind while open; each opening is one violation for escalation. Per-router
/// cycle figures back the metrics (average connections, P2P share).
const V4: &str = r#"
CREATE TABLE warnings (
    id         INTEGER PRIMARY KEY,
    subscriber TEXT NOT NULL,
    nas        TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('connection_flood', 'connection_rate', 'p2p',
                                             'bandwidth_hog', 'tethering')),
    severity   TEXT NOT NULL CHECK (severity IN ('warning', 'throttle', 'ban')),
    measured   REAL NOT NULL,
    threshold  REAL NOT NULL,
    details    TEXT NOT NULL,
    -- What was done about it: none, recommended, done, dry_run, skipped or
    -- failed, with the step and the reason in action_note.
    action     TEXT NOT NULL DEFAULT 'none',
    action_note TEXT,
    action_id  INTEGER REFERENCES actions (id),
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    cycles     INTEGER NOT NULL DEFAULT 1 CHECK (cycles >= 1)
) STRICT;
CREATE INDEX warnings_by_time ON warnings (first_seen);
CREATE INDEX warnings_open ON warnings (subscriber, kind, expires_at);

CREATE TABLE monitor_cycles (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    nas             TEXT NOT NULL,
    subscribers     INTEGER NOT NULL,
    connections     INTEGER NOT NULL,
    p2p_connections INTEGER NOT NULL,
    elapsed_ms      INTEGER NOT NULL
) STRICT;
CREATE INDEX monitor_cycles_by_time ON monitor_cycles (at);
"#;

/// Version 5: the results table is read a page at a time and searched by
/// name, address or router. The level index carries those columns, so a
/// search, its count and the default page read the index alone instead of
/// the table rows with their evidence (15 ms instead of 50-90 ms for a
/// search over 30,000 results).
const V5: &str = r#"
DROP INDEX results_by_level;
CREATE INDEX results_by_level ON results (level_rank DESC, connections DESC, subscriber, address, nas);
"#;

/// Version 6: the owner's distance per subscriber line (0 for a PC that
/// dials through a bridged modem, 2 for a router behind the ISP's router),
/// which overrides the router's setting when a verdict reads the TTLs.
const V6: &str = r#"
CREATE TABLE line_distance (
    subscriber TEXT PRIMARY KEY,
    hops       INTEGER NOT NULL CHECK (hops BETWEEN 0 AND 8),
    note       TEXT NOT NULL,
    set_by     TEXT NOT NULL,
    set_at     TEXT NOT NULL
) STRICT;
"#;

const STEPS: &[M<'static>] = &[
    M::up(V1),
    M::up(V2),
    M::up(V3),
    M::up(V4),
    M::up(V5),
    M::up(V6),
];

/// The schema version this build writes and the newest it can read.
pub const SCHEMA_VERSION: u32 = STEPS.len() as u32;

pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::from_slice(STEPS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }
}
