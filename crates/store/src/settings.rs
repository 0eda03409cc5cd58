//! Settings as JSON values under string keys.
//!
//! JSON keeps the table stable while settings evolve: a new field with a
//! serde default needs no migration, and the desktop app and the CLI read the
//! same values.

use chrono::Utc;
use rusqlite::OptionalExtension;
use serde::de::DeserializeOwned;
use serde::Serialize;
use shareguard_detect::DetectionSettings;

use crate::audit::{self, AuditEntry};
use crate::codec::{from_json, to_json, ts};
use crate::error::Fail;
use crate::{Store, StoreError};

/// The key under which the detection thresholds are stored.
pub const DETECTION_SETTINGS_KEY: &str = "detection";

impl Store {
    /// The value stored under `key`, or `None` if it was never set.
    pub fn get_setting<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        self.read(|c| {
            let raw: Option<String> = c
                .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
                .query_row([key], |r| r.get(0))
                .optional()?;
            raw.map(|s| from_json(&s, &format!("setting {key:?}")))
                .transpose()
        })
    }

    /// Stores `value` under `key`, replacing any previous value.
    pub fn set_setting<T: Serialize + ?Sized>(
        &mut self,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        check_key(key)?;
        self.write(|tx| put(tx, key, value))
    }

    /// Stores `value` under `key` and `entry` (who changed it) in one
    /// transaction: a setting never changes unrecorded.
    pub fn set_setting_audited<T: Serialize + ?Sized>(
        &mut self,
        key: &str,
        value: &T,
        entry: &AuditEntry,
    ) -> Result<(), StoreError> {
        check_key(key)?;
        self.write(|tx| {
            put(tx, key, value)?;
            audit::insert(tx, entry)?;
            Ok(())
        })
    }

    /// The stored detection thresholds, or the defaults if none were saved.
    pub fn detection_settings(&self) -> Result<DetectionSettings, StoreError> {
        Ok(self
            .get_setting(DETECTION_SETTINGS_KEY)?
            .unwrap_or_default())
    }

    /// Saves detection thresholds after checking they make sense.
    pub fn set_detection_settings(&mut self, s: &DetectionSettings) -> Result<(), StoreError> {
        s.validate().map_err(StoreError::Invalid)?;
        self.set_setting(DETECTION_SETTINGS_KEY, s)
    }
}

fn check_key(key: &str) -> Result<(), StoreError> {
    if key.trim().is_empty() {
        return Err(StoreError::Invalid(
            "a setting needs a non-empty key".into(),
        ));
    }
    Ok(())
}

fn put<T: Serialize + ?Sized>(tx: &rusqlite::Connection, key: &str, value: &T) -> Result<(), Fail> {
    let json = to_json(value, &format!("setting {key:?}"))?;
    tx.prepare_cached(
        "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )?
    .execute((key, json, ts(&Utc::now())))?;
    Ok(())
}
