//! Router (NAS) definitions.
//!
//! Only what is needed to reach and read a router is stored here. Passwords
//! and RADIUS secrets never enter this file: they belong in the OS keychain,
//! so a copied or backed-up database gives nobody access to the routers.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use shareguard_detect::{Access, ProbeStrategy};

use crate::codec::{parse_enum, parse_opt_enum, parse_ts, ts};
use crate::error::Fail;
use crate::{Store, StoreError};

/// RouterOS API ports.
pub const API_PORT: u16 = 8728;
pub const API_TLS_PORT: u16 = 8729;

/// A router definition, as stored (without any secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NasRecord {
    /// Assigned by the store; ignored by [`Store::upsert_nas`].
    #[serde(default)]
    pub id: Option<i64>,
    /// The owner's name for the router; unique.
    pub name: String,
    pub host: String,
    pub port: u16,
    pub tls: bool,
    /// Pinned SHA-256 of the router's certificate, lowercase hex.
    #[serde(default)]
    pub tls_fingerprint: Option<String>,
    pub username: String,
    pub access: Access,
    /// Hops between a legitimate device and this router.
    pub expected_hops: u8,
    #[serde(default)]
    pub probe_strategy: Option<ProbeStrategy>,
    /// Interface the TTL probes are bound to, when not all of them.
    #[serde(default)]
    pub probe_interface: Option<String>,
    /// Reseller or area, for grouping.
    #[serde(default)]
    pub tag: Option<String>,
    /// Port for RADIUS dynamic authorization (disconnects), when used.
    #[serde(default)]
    pub radius_port: Option<u16>,
    /// Set by the store.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// Set by the store.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl NasRecord {
    /// A plain-API router with the usual defaults for its access type.
    pub fn new(
        name: impl Into<String>,
        host: impl Into<String>,
        username: impl Into<String>,
        access: Access,
    ) -> Self {
        Self {
            id: None,
            name: name.into(),
            host: host.into(),
            port: API_PORT,
            tls: false,
            tls_fingerprint: None,
            username: username.into(),
            access,
            expected_hops: access.default_expected_hops(),
            probe_strategy: None,
            probe_interface: None,
            tag: None,
            radius_port: None,
            created_at: None,
            updated_at: None,
        }
    }

    /// Checks the record and returns it with the fingerprint in canonical form.
    fn validated(&self) -> Result<Self, StoreError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "give the router a name (letters, digits, spaces or dashes), e.g. \"tower-1\""
                    .into(),
            ));
        }
        if self.host.trim().is_empty() {
            return Err(StoreError::Invalid(format!(
                "router {name} needs a host: its IP address or DNS name"
            )));
        }
        if self.username.trim().is_empty() {
            return Err(StoreError::Invalid(format!(
                "router {name} needs the RouterOS user ShareGuard logs in as"
            )));
        }
        if self.port == 0 || self.radius_port == Some(0) {
            return Err(StoreError::Invalid(format!(
                "router {name}: port 0 is not a port; the API uses {API_PORT} (or {API_TLS_PORT} with TLS)"
            )));
        }
        let tls_fingerprint = match &self.tls_fingerprint {
            None => None,
            Some(f) => Some(canonical_fingerprint(f).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "router {name}: the TLS fingerprint must be the certificate's SHA-256 as 64 hex \
                     digits (colons allowed), e.g. from `openssl x509 -noout -fingerprint -sha256`"
                ))
            })?),
        };
        Ok(Self {
            name: name.to_owned(),
            host: self.host.trim().to_owned(),
            tls_fingerprint,
            ..self.clone()
        })
    }
}

/// Lowercase hex without separators, or `None` if it is not a SHA-256.
fn canonical_fingerprint(f: &str) -> Option<String> {
    let hex: String = f
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

const COLUMNS: &str =
    "id, name, host, port, tls, tls_fingerprint, username, access, expected_hops, \
     probe_strategy, probe_interface, tag, radius_port, created_at, updated_at";

fn from_row(row: &Row<'_>) -> Result<NasRecord, Fail> {
    let access: String = row.get(7)?;
    let created_at: String = row.get(13)?;
    let updated_at: String = row.get(14)?;
    Ok(NasRecord {
        id: Some(row.get(0)?),
        name: row.get(1)?,
        host: row.get(2)?,
        port: row.get(3)?,
        tls: row.get(4)?,
        tls_fingerprint: row.get(5)?,
        username: row.get(6)?,
        access: parse_enum(&access, "router access type")?,
        expected_hops: row.get(8)?,
        probe_strategy: parse_opt_enum(row.get(9)?, "router probe strategy")?,
        probe_interface: row.get(10)?,
        tag: row.get(11)?,
        radius_port: row.get(12)?,
        created_at: Some(parse_ts(&created_at, "router date")?),
        updated_at: Some(parse_ts(&updated_at, "router date")?),
    })
}

fn get(c: &Connection, name: &str) -> Result<Option<NasRecord>, Fail> {
    let mut stmt = c.prepare_cached(&format!("SELECT {COLUMNS} FROM nas WHERE name = ?1"))?;
    let mut rows = stmt.query([name])?;
    rows.next()?.map(from_row).transpose()
}

impl Store {
    /// Adds a router, or updates the one with the same name (keeping its id
    /// and creation date). Returns the stored record.
    pub fn upsert_nas(&mut self, nas: &NasRecord) -> Result<NasRecord, StoreError> {
        let nas = nas.validated()?;
        let now = ts(&Utc::now());
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO nas (name, host, port, tls, tls_fingerprint, username, access, expected_hops,
                                  probe_strategy, probe_interface, tag, radius_port, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)
                 ON CONFLICT (name) DO UPDATE SET
                     host = excluded.host, port = excluded.port, tls = excluded.tls,
                     tls_fingerprint = excluded.tls_fingerprint, username = excluded.username,
                     access = excluded.access, expected_hops = excluded.expected_hops,
                     probe_strategy = excluded.probe_strategy, probe_interface = excluded.probe_interface,
                     tag = excluded.tag, radius_port = excluded.radius_port,
                     updated_at = excluded.updated_at",
            )?
            .execute(rusqlite::params![
                nas.name,
                nas.host,
                nas.port,
                nas.tls,
                nas.tls_fingerprint,
                nas.username,
                nas.access.as_str(),
                nas.expected_hops,
                nas.probe_strategy.map(|p| p.as_str()),
                nas.probe_interface,
                nas.tag,
                nas.radius_port,
                now,
            ])?;
            get(tx, &nas.name)?
                .ok_or_else(|| Fail::invalid(format!("router {} vanished while saving", nas.name)))
        })
    }

    /// All routers, by name.
    pub fn list_nas(&self) -> Result<Vec<NasRecord>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!("SELECT {COLUMNS} FROM nas ORDER BY name"))?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(from_row(row)?);
            }
            Ok(out)
        })
    }

    /// The router called `name`, if defined.
    pub fn get_nas(&self, name: &str) -> Result<Option<NasRecord>, StoreError> {
        self.read(|c| get(c, name))
    }

    /// Removes the router called `name`; returns false if there was none.
    /// Its past scans, results and history stay.
    pub fn remove_nas(&mut self, name: &str) -> Result<bool, StoreError> {
        self.write(|tx| {
            let removed = tx
                .prepare_cached("DELETE FROM nas WHERE name = ?1 RETURNING id")?
                .query_row([name], |r| r.get::<_, i64>(0))
                .optional()?;
            Ok(removed.is_some())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_normalised() {
        let upper = "AB:".repeat(31) + "AB";
        assert_eq!(canonical_fingerprint(&upper), Some("ab".repeat(32)));
        assert_eq!(canonical_fingerprint("abc"), None);
        assert_eq!(canonical_fingerprint(&"zz".repeat(32)), None);
    }
}
