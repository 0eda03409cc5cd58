//! Who is using the app right now, and whether they may do something.
//!
//! With no staff profile the owner is always the operator and nothing asks
//! for a PIN. Once staff profiles exist, the app starts locked: someone picks
//! a profile and types its PIN. Wrong PINs are throttled per profile (five
//! tries, then a pause that doubles each time) so a four-digit PIN cannot be
//! tried exhaustively at the desk.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use shareguard_store::operators::OWNER;
use shareguard_store::{AuditEntry, Operator, Permission, Store, StoreError};

/// Wrong PINs allowed before a pause.
const FREE_TRIES: u32 = 5;
/// The first pause; each further wrong PIN doubles it, up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_secs(30);
const MAX_PAUSE: Duration = Duration::from_secs(15 * 60);

/// Why something was refused, in words for the person at the desk.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccessError {
    #[error("ShareGuard is locked: choose your profile and enter your PIN")]
    Locked,
    #[error("{operator}'s profile may not {}: ask the owner to allow it, or switch to a profile that may", .permission.verb())]
    Denied {
        operator: String,
        permission: Permission,
    },
    #[error("wrong PIN for {0}")]
    WrongPin(String),
    #[error("too many wrong PINs for {name}: try again in {secs} s")]
    Paused { name: String, secs: u64 },
    /// What only the owner may do, in words.
    #[error("only the owner can {0}: switch to the owner's profile")]
    OwnerOnly(&'static str),
    #[error(transparent)]
    Store(#[from] StoreErrorText),
}

impl AccessError {
    /// What kind of refusal this is, for the window.
    pub fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind as K;
        match self {
            Self::Locked => K::Locked,
            Self::Denied { .. } | Self::OwnerOnly(_) => K::Denied,
            Self::WrongPin(_) | Self::Paused { .. } => K::Pin,
            Self::Store(_) => K::Storage,
        }
    }
}

/// A storage failure carried as its message (so the error stays comparable).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct StoreErrorText(pub String);

impl From<StoreError> for AccessError {
    fn from(e: StoreError) -> Self {
        Self::Store(StoreErrorText(e.to_string()))
    }
}

#[derive(Debug, Default)]
struct Failures {
    count: u32,
    paused_until: Option<Instant>,
}

/// Where the wrong-PIN counts are kept, so closing and reopening the app
/// neither resets the tries nor ends a pause.
pub const PIN_FAILURES_KEY: &str = "pin_failures";

/// One profile's wrong PINs as stored: the pause's end in wall-clock time,
/// since an [`Instant`] means nothing to the next process.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
struct StoredFailures {
    count: u32,
    paused_until: Option<chrono::DateTime<chrono::Utc>>,
}

fn load_failures(store: &Store) -> Result<HashMap<String, Failures>, StoreError> {
    let stored: HashMap<String, StoredFailures> =
        store.get_setting(PIN_FAILURES_KEY)?.unwrap_or_default();
    let (now, wall) = (Instant::now(), chrono::Utc::now());
    Ok(stored
        .into_iter()
        .map(|(name, f)| {
            let paused_until = f
                .paused_until
                .and_then(|until| (until - wall).to_std().ok())
                .map(|left| now + left);
            (
                name,
                Failures {
                    count: f.count,
                    paused_until,
                },
            )
        })
        .collect())
}

/// The current operator (or none: locked) and the PIN throttle.
#[derive(Debug)]
pub struct Session {
    current: Option<Operator>,
    failures: HashMap<String, Failures>,
}

/// The owner profile used while no profile is stored.
fn implicit_owner() -> Operator {
    let epoch = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    Operator {
        name: OWNER.into(),
        permissions: Permission::ALL.to_vec(),
        created_at: epoch,
        updated_at: epoch,
    }
}

/// Who is at the desk before anyone enters a PIN: the owner when there are
/// no staff profiles, else nobody (locked).
fn without_pin(store: &Store) -> Result<Option<Operator>, StoreError> {
    Ok((!store.has_staff()?).then(implicit_owner))
}

impl Session {
    /// The session at start-up: the owner without staff profiles, else locked.
    pub fn start(store: &Store) -> Result<Self, StoreError> {
        Ok(Self {
            current: without_pin(store)?,
            failures: load_failures(store)?,
        })
    }

    /// Writes the wrong-PIN counts, each pause's end as wall-clock time
    /// (`now` is the instant the pauses were computed against).
    fn save_failures(&self, store: &mut Store, now: Instant) -> Result<(), StoreError> {
        let wall = chrono::Utc::now();
        let stored: HashMap<&str, StoredFailures> = self
            .failures
            .iter()
            .map(|(name, f)| {
                let paused_until = f
                    .paused_until
                    .filter(|u| *u > now)
                    .and_then(|u| chrono::Duration::from_std(u - now).ok())
                    .map(|left| wall + left);
                (
                    name.as_str(),
                    StoredFailures {
                        count: f.count,
                        paused_until,
                    },
                )
            })
            .collect();
        store.set_setting(PIN_FAILURES_KEY, &stored)
    }

    pub fn current(&self) -> Option<&Operator> {
        self.current.as_ref()
    }

    /// The operator's name if they may do `p`; the name goes into the audit log.
    pub fn require(&self, p: Permission) -> Result<String, AccessError> {
        match &self.current {
            None => Err(AccessError::Locked),
            Some(op) if op.may(p) => Ok(op.name.clone()),
            Some(op) => Err(AccessError::Denied {
                operator: op.name.clone(),
                permission: p,
            }),
        }
    }

    /// The owner's name, or why not.
    pub fn require_owner(&self, what: &'static str) -> Result<String, AccessError> {
        match &self.current {
            None => Err(AccessError::Locked),
            Some(op) if op.is_owner() => Ok(op.name.clone()),
            Some(_) => Err(AccessError::OwnerOnly(what)),
        }
    }

    /// Switches to `name` if `pin` is right, recording the switch (or the
    /// refusal) in the audit log. `now` is passed in so tests need no sleeps.
    pub fn switch(
        &mut self,
        store: &mut Store,
        name: &str,
        pin: &str,
        now: Instant,
    ) -> Result<Operator, AccessError> {
        let f = self.failures.entry(name.to_string()).or_default();
        if let Some(until) = f.paused_until.filter(|u| *u > now) {
            return Err(AccessError::Paused {
                name: name.into(),
                secs: (until - now).as_secs().max(1),
            });
        }
        match store.verify_pin(name, pin)? {
            Some(op) => {
                if self.failures.remove(name).is_some() {
                    self.save_failures(store, now)?;
                }
                store.audit(
                    &AuditEntry::new(&op.name, shareguard_store::action::OPERATOR_SWITCHED)
                        .subject(&op.name),
                )?;
                self.current = Some(op.clone());
                Ok(op)
            }
            None => {
                f.count += 1;
                if f.count >= FREE_TRIES {
                    let doublings = (f.count - FREE_TRIES).min(5);
                    let pause = (FIRST_PAUSE * 2u32.pow(doublings)).min(MAX_PAUSE);
                    f.paused_until = Some(now + pause);
                }
                self.save_failures(store, now)?;
                let by = self
                    .current
                    .as_ref()
                    .map_or("unknown", |o| o.name.as_str())
                    .to_string();
                store.audit(
                    &AuditEntry::new(by, shareguard_store::action::PIN_REFUSED).subject(name),
                )?;
                Err(AccessError::WrongPin(name.into()))
            }
        }
    }

    /// Locks the app (staff leave the desk); without staff profiles there is
    /// nothing to lock and the owner stays.
    pub fn lock(&mut self, store: &Store) -> Result<(), StoreError> {
        self.current = without_pin(store)?;
        Ok(())
    }

    /// After profiles change: keeps the current operator's permissions
    /// up to date, and returns to the implicit owner when no staff remain.
    pub fn refresh(&mut self, store: &Store) -> Result<(), StoreError> {
        if !store.has_staff()? {
            self.current = Some(implicit_owner());
            return Ok(());
        }
        if let Some(cur) = &self.current {
            let name = cur.name.clone();
            self.current = store.operators()?.into_iter().find(|o| o.name == name);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_staff() -> Store {
        let mut s = Store::open_in_memory().unwrap();
        s.save_operator(OWNER, Some("9753"), vec![], OWNER).unwrap();
        s.save_operator(
            "ana",
            Some("2468"),
            vec![Permission::View, Permission::Whitelist],
            OWNER,
        )
        .unwrap();
        s
    }

    #[test]
    fn without_staff_the_owner_may_do_everything() {
        let s = Store::open_in_memory().unwrap();
        let session = Session::start(&s).unwrap();
        for p in Permission::ALL {
            assert_eq!(session.require(p).unwrap(), "owner");
        }
        assert_eq!(session.require_owner("manage profiles").unwrap(), "owner");
    }

    #[test]
    fn staff_start_locked_and_get_only_their_permissions() {
        let mut s = store_with_staff();
        let mut session = Session::start(&s).unwrap();
        assert_eq!(session.require(Permission::View), Err(AccessError::Locked));
        let now = Instant::now();
        session.switch(&mut s, "ana", "2468", now).unwrap();
        assert_eq!(session.require(Permission::Whitelist).unwrap(), "ana");
        let e = session.require(Permission::Act).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ana's profile may not act on subscribers: ask the owner to allow it, or switch to a profile that may"
        );
        assert_eq!(
            session.require_owner("manage profiles"),
            Err(AccessError::OwnerOnly("manage profiles"))
        );

        // The owner narrows ana's profile: the running session follows.
        s.save_operator("ana", None, vec![Permission::View], OWNER)
            .unwrap();
        session.refresh(&s).unwrap();
        assert!(session.require(Permission::Whitelist).is_err());

        session.lock(&s).unwrap();
        assert_eq!(session.require(Permission::View), Err(AccessError::Locked));
        let log = s.audit_log(&Default::default()).unwrap();
        assert!(log
            .iter()
            .any(|e| e.action == "operator_switched" && e.operator == "ana"));
    }

    #[test]
    fn wrong_pins_are_throttled_per_profile() {
        let mut s = store_with_staff();
        let mut session = Session::start(&s).unwrap();
        let t0 = Instant::now();
        for _ in 0..FREE_TRIES {
            assert_eq!(
                session.switch(&mut s, "ana", "0000", t0),
                Err(AccessError::WrongPin("ana".into()))
            );
        }
        // Even the right PIN waits out the pause.
        match session.switch(&mut s, "ana", "2468", t0 + Duration::from_secs(1)) {
            Err(AccessError::Paused { secs, .. }) => assert_eq!(secs, 29),
            other => panic!("{other:?}"),
        }
        // Another profile is not affected.
        session
            .switch(&mut s, OWNER, "9753", t0 + Duration::from_secs(1))
            .unwrap();
        // After the pause one more wrong PIN doubles it.
        let t1 = t0 + FIRST_PAUSE + Duration::from_secs(1);
        assert!(matches!(
            session.switch(&mut s, "ana", "1111", t1),
            Err(AccessError::WrongPin(_))
        ));
        match session.switch(&mut s, "ana", "2468", t1) {
            Err(AccessError::Paused { secs, .. }) => assert_eq!(secs, 60),
            other => panic!("{other:?}"),
        }
        session
            .switch(&mut s, "ana", "2468", t1 + Duration::from_secs(61))
            .unwrap();
        let refused = s
            .audit_log(&shareguard_store::AuditFilter {
                action: Some("pin_refused".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(refused.len(), FREE_TRIES as usize + 1);
    }

    #[test]
    fn a_restart_neither_resets_the_tries_nor_ends_a_pause() {
        let mut s = store_with_staff();
        let mut session = Session::start(&s).unwrap();
        let t0 = Instant::now();
        for _ in 0..FREE_TRIES - 1 {
            let _ = session.switch(&mut s, "ana", "0000", t0);
        }
        // The app is closed and opened again: one try is left, not five.
        let mut session = Session::start(&s).unwrap();
        let now = Instant::now();
        assert!(matches!(
            session.switch(&mut s, "ana", "0000", now),
            Err(AccessError::WrongPin(_))
        ));
        let mut session = Session::start(&s).unwrap();
        match session.switch(&mut s, "ana", "2468", Instant::now()) {
            Err(AccessError::Paused { secs, .. }) => assert!((25..=30).contains(&secs), "{secs}"),
            other => panic!("{other:?}"),
        }
        // The right PIN after the pause clears the count for good.
        session
            .switch(&mut s, "ana", "2468", Instant::now() + FIRST_PAUSE)
            .unwrap();
        let stored: HashMap<String, StoredFailures> =
            s.get_setting(PIN_FAILURES_KEY).unwrap().unwrap();
        assert!(stored.is_empty(), "{stored:?}");
    }
}
