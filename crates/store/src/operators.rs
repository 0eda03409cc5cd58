//! Operator profiles: the owner and staff, each with what they may do,
//! switched with a PIN.
//!
//! The PIN keeps a shared desk honest (the technician can whitelist but not
//! disconnect); it is not encryption. Anyone who can read this user's files
//! can read the database, so PINs are stored only as salted Argon2id hashes,
//! never in a form that could be reused elsewhere.
//!
//! With no staff profile the app runs as the owner without asking for
//! anything. The owner's PIN must be set before the first staff profile is
//! added, otherwise staff could simply switch to the owner.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, AuditEntry};
use crate::codec::{from_json, parse_ts, to_json, ts};
use crate::error::Fail;
use crate::{Store, StoreError};

/// The owner's profile name; it always has every permission.
pub const OWNER: &str = "owner";

/// The name scheduled and automatic work is recorded under.
pub const SYSTEM: &str = "system";

/// What a profile may do (the panel's `sharing.view`, `.scan`, `.edit`,
/// `.whitelist`, plus acting on subscribers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// See results, history, dashboards and the audit log.
    View,
    /// Start and cancel scans, test router connections.
    Scan,
    /// Change settings, routers, probes, tags; clear results.
    Edit,
    /// Add and remove whitelist entries.
    Whitelist,
    /// Disconnect, throttle or ban subscribers.
    Act,
}

impl Permission {
    pub const ALL: [Permission; 5] = [
        Permission::View,
        Permission::Scan,
        Permission::Edit,
        Permission::Whitelist,
        Permission::Act,
    ];

    /// What the permission allows, in words that complete "may not …".
    pub fn verb(self) -> &'static str {
        match self {
            Permission::View => "view results",
            Permission::Scan => "start scans",
            Permission::Edit => "change settings and routers",
            Permission::Whitelist => "change the whitelist",
            Permission::Act => "act on subscribers",
        }
    }
}

/// A profile as shown to the app; the PIN hash never leaves this module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Operator {
    pub name: String,
    /// Sorted, without duplicates; the owner has all of them.
    pub permissions: Vec<Permission>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Operator {
    pub fn is_owner(&self) -> bool {
        self.name == OWNER
    }

    pub fn may(&self, p: Permission) -> bool {
        self.is_owner() || self.permissions.contains(&p)
    }
}

/// Checks a PIN's shape: 4 to 12 digits.
pub fn check_pin(pin: &str) -> Result<(), StoreError> {
    if (4..=12).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "a PIN is 4 to 12 digits (0-9); choose one that is not a birthday or 1234".into(),
        ))
    }
}

fn check_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name.trim() == name
        && !name.chars().any(char::is_control);
    if !ok {
        return Err(StoreError::Invalid(
            "give the profile a name of 1 to 32 characters, without leading or trailing spaces"
                .into(),
        ));
    }
    if name.eq_ignore_ascii_case(SYSTEM) || (name != OWNER && name.eq_ignore_ascii_case(OWNER)) {
        return Err(StoreError::Invalid(format!(
            "\"{name}\" is kept for ShareGuard's own entries in the audit log: choose another name"
        )));
    }
    Ok(())
}

fn hash_pin(pin: &str) -> Result<String, StoreError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Invalid(format!("the PIN could not be hashed: {e}")))
}

fn pin_matches(pin: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(pin.as_bytes(), &h)
            .is_ok()
    })
}

fn normalise(mut p: Vec<Permission>, name: &str) -> Vec<Permission> {
    if name == OWNER {
        return Permission::ALL.to_vec();
    }
    p.sort();
    p.dedup();
    p
}

fn operator_from_row(row: &rusqlite::Row<'_>) -> Result<Operator, Fail> {
    let name: String = row.get(0)?;
    let permissions: Vec<Permission> = from_json(&row.get::<_, String>(1)?, "permissions")?;
    Ok(Operator {
        permissions: normalise(permissions, &name),
        name,
        created_at: parse_ts(&row.get::<_, String>(2)?, "profile time")?,
        updated_at: parse_ts(&row.get::<_, String>(3)?, "profile time")?,
    })
}

/// Whether any profile other than the owner's exists.
fn staff_exist(c: &Connection) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT EXISTS (SELECT 1 FROM operators WHERE name != 'owner')")?
        .query_row([], |r| r.get(0))
}

/// Whether the owner has set a PIN.
fn owner_exists(c: &Connection) -> rusqlite::Result<bool> {
    c.prepare_cached("SELECT EXISTS (SELECT 1 FROM operators WHERE name = 'owner')")?
        .query_row([], |r| r.get(0))
}

impl Store {
    /// Every profile, the owner first (if it has a PIN), then staff by name.
    pub fn operators(&self) -> Result<Vec<Operator>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT name, permissions, created_at, updated_at FROM operators
                 ORDER BY name != 'owner', name",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(operator_from_row(row)?);
            }
            Ok(out)
        })
    }

    /// True when at least one staff profile exists, so the app must ask who
    /// is using it.
    pub fn has_staff(&self) -> Result<bool, StoreError> {
        self.read(|c| Ok(staff_exist(c)?))
    }

    /// Creates or updates a profile; `pin` may be `None` to keep the stored
    /// PIN of an existing profile. Records who did it (never the PIN).
    pub fn save_operator(
        &mut self,
        name: &str,
        pin: Option<&str>,
        permissions: Vec<Permission>,
        by: &str,
    ) -> Result<Operator, StoreError> {
        check_name(name)?;
        let permissions = normalise(permissions, name);
        if name != OWNER && !permissions.contains(&Permission::View) {
            return Err(StoreError::Invalid(
                "every profile needs at least \"view\": without it the app shows nothing".into(),
            ));
        }
        let hash = pin
            .map(|p| {
                check_pin(p)?;
                hash_pin(p)
            })
            .transpose()?;
        let now = ts(&Utc::now());
        let perms = to_json(&permissions, "permissions").map_err(|e| e.at(self.path()))?;
        self.write(|tx| {
            let existing: Option<String> = tx
                .prepare_cached("SELECT pin_hash FROM operators WHERE name = ?1")?
                .query_row([name], |r| r.get(0))
                .optional()?;
            if name != OWNER && !owner_exists(tx)? {
                return Err(Fail::invalid(
                    "set the owner's PIN first, so staff cannot switch to the owner's profile",
                ));
            }
            let Some(hash) = hash.or(existing.clone()) else {
                return Err(Fail::invalid(format!("choose a PIN for {name}")));
            };
            tx.prepare_cached(
                "INSERT INTO operators (name, pin_hash, permissions, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT (name) DO UPDATE SET pin_hash = excluded.pin_hash,
                     permissions = excluded.permissions, updated_at = excluded.updated_at",
            )?
            .execute((name, &hash, &perms, &now))?;
            audit::insert(
                tx,
                &AuditEntry::new(by, audit::action::OPERATOR_SAVED)
                    .subject(name)
                    .details(json!({
                        "permissions": permissions,
                        "new": existing.is_none(),
                        "pin_changed": pin.is_some(),
                    })),
            )?;
            let row = tx
                .prepare_cached(
                    "SELECT name, permissions, created_at, updated_at FROM operators WHERE name = ?1",
                )?
                .query_row([name], |r| Ok(operator_from_row(r)))??;
            Ok(row)
        })
    }

    /// Removes a staff profile, or the owner's PIN once no staff remain.
    /// Returns false if there was no such profile.
    pub fn remove_operator(&mut self, name: &str, by: &str) -> Result<bool, StoreError> {
        self.write(|tx| {
            if name == OWNER && staff_exist(tx)? {
                return Err(Fail::invalid(
                    "remove the staff profiles first: while they exist the owner needs a PIN",
                ));
            }
            let removed = tx
                .prepare_cached("DELETE FROM operators WHERE name = ?1")?
                .execute([name])?;
            if removed > 0 {
                audit::insert(
                    tx,
                    &AuditEntry::new(by, audit::action::OPERATOR_REMOVED).subject(name),
                )?;
            }
            Ok(removed > 0)
        })
    }

    /// The profile if `pin` is its PIN; `None` for an unknown name or a
    /// wrong PIN (the caller decides how to throttle).
    pub fn verify_pin(&self, name: &str, pin: &str) -> Result<Option<Operator>, StoreError> {
        let row = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT name, permissions, created_at, updated_at, pin_hash FROM operators
                 WHERE name = ?1",
            )?;
            let mut rows = stmt.query([name])?;
            match rows.next()? {
                Some(r) => Ok(Some((operator_from_row(r)?, r.get::<_, String>(4)?))),
                None => Ok(None),
            }
        })?;
        Ok(row.and_then(|(op, hash)| pin_matches(pin, &hash).then_some(op)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AuditFilter;

    #[test]
    fn staff_need_an_owner_pin_and_pins_are_only_hashed() {
        let mut s = Store::open_in_memory().unwrap();
        assert!(!s.has_staff().unwrap());
        let e = s
            .save_operator(
                "ana",
                Some("2468"),
                vec![Permission::View, Permission::Scan],
                OWNER,
            )
            .unwrap_err();
        assert!(e.to_string().contains("owner's PIN first"), "{e}");

        let owner = s.save_operator(OWNER, Some("9753"), vec![], OWNER).unwrap();
        assert_eq!(owner.permissions, Permission::ALL.to_vec());
        let ana = s
            .save_operator(
                "ana",
                Some("2468"),
                vec![Permission::Scan, Permission::View, Permission::Scan],
                OWNER,
            )
            .unwrap();
        assert_eq!(ana.permissions, vec![Permission::View, Permission::Scan]);
        assert!(s.has_staff().unwrap());
        assert!(ana.may(Permission::Scan) && !ana.may(Permission::Act));

        assert_eq!(s.verify_pin("ana", "2468").unwrap(), Some(ana.clone()));
        assert_eq!(s.verify_pin("ana", "2469").unwrap(), None);
        assert_eq!(s.verify_pin("bob", "2468").unwrap(), None);

        // The PIN appears nowhere in the file's tables, only its hash.
        let dump: String = s
            .read(|c| {
                Ok(c.query_row(
                    "SELECT group_concat(pin_hash || permissions, ' ') FROM operators",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert!(
            !dump.contains("2468") && dump.contains("$argon2id$"),
            "{dump}"
        );
        let log = s.audit_log(&AuditFilter::default()).unwrap();
        assert!(log.iter().all(|e| !e.details.to_string().contains("2468")));
        assert!(log
            .iter()
            .any(|e| e.action == "operator_saved" && e.subject.as_deref() == Some("ana")));

        // Permissions change without a new PIN; the old PIN still works.
        s.save_operator("ana", None, vec![Permission::View], OWNER)
            .unwrap();
        assert_eq!(
            s.verify_pin("ana", "2468").unwrap().unwrap().permissions,
            vec![Permission::View]
        );

        let e = s.remove_operator(OWNER, OWNER).unwrap_err();
        assert!(e.to_string().contains("staff profiles first"), "{e}");
        assert!(s.remove_operator("ana", OWNER).unwrap());
        assert!(!s.remove_operator("ana", OWNER).unwrap());
        assert!(s.remove_operator(OWNER, OWNER).unwrap());
    }

    #[test]
    fn bad_names_pins_and_permission_sets_are_refused_in_words() {
        let mut s = Store::open_in_memory().unwrap();
        s.save_operator(OWNER, Some("9753"), vec![], OWNER).unwrap();
        for (name, pin, perms, hint) in [
            ("ana", Some("12"), vec![Permission::View], "4 to 12 digits"),
            (
                "ana",
                Some("12a4"),
                vec![Permission::View],
                "4 to 12 digits",
            ),
            ("ana", None, vec![Permission::View], "choose a PIN"),
            ("ana", Some("2468"), vec![Permission::Scan], "view"),
            ("System", Some("2468"), vec![Permission::View], "kept for"),
            ("Owner", Some("2468"), vec![Permission::View], "kept for"),
            (" ana", Some("2468"), vec![Permission::View], "1 to 32"),
        ] {
            let e = s.save_operator(name, pin, perms, OWNER).unwrap_err();
            assert!(e.to_string().contains(hint), "{name}: {e}");
        }
        assert!(!s.has_staff().unwrap());
    }
}
