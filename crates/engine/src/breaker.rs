//! The circuit breaker on automatic actions, shared by the disconnects after
//! a scan and the abuse monitor.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shareguard_store::{AuditEntry, Store};

use crate::persist::{store_task, EngineError};

/// The settings key of [`Breaker`].
pub const BREAKER_KEY: &str = "action_breaker";

/// The circuit breaker on automatic actions: at most `max_subscribers`, or
/// `max_percent` of the subscribers online, whichever is lower, per cycle.
///
/// When a cycle would act on more, it acts on none and the breaker trips:
/// so many verdicts at once usually mean a wrong setting (an expected hop
/// count off by one flags a whole router), and cutting off the first twenty
/// of them would be as wrong as cutting off all. Automatic actions then stay
/// paused until the owner resets the breaker; manual actions still work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Breaker {
    pub max_subscribers: u32,
    pub max_percent: f64,
    pub tripped: Option<Trip>,
}

/// Why the breaker tripped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Trip {
    pub at: DateTime<Utc>,
    /// Subscribers the cycle would have acted on.
    pub candidates: usize,
    pub cap: usize,
}

impl Default for Breaker {
    fn default() -> Self {
        Self {
            max_subscribers: 20,
            max_percent: 2.0,
            tripped: None,
        }
    }
}

impl Breaker {
    /// Automatic actions allowed in one cycle with `online` subscribers
    /// (at least one, so a small network can use automation at all).
    pub fn cap(&self, online: usize) -> usize {
        let share = (online as f64 * self.max_percent / 100.0).ceil() as usize;
        share.min(self.max_subscribers as usize).max(1)
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(1..=10_000).contains(&self.max_subscribers) {
            return Err("the breaker's subscriber cap must be 1 to 10000".into());
        }
        if !(self.max_percent > 0.0 && self.max_percent <= 100.0) {
            return Err("the breaker's share must be above 0 and at most 100 percent".into());
        }
        Ok(())
    }
}

/// Trips the breaker: stores it tripped and records why, for `source`
/// (`sharing` or `abuse`). Automatic actions then pause until the owner
/// resets it.
pub(crate) async fn trip_breaker(
    store: &Arc<Mutex<Store>>,
    breaker: &Breaker,
    trip: &Trip,
    source: &'static str,
) -> Result<(), EngineError> {
    let mut b = breaker.clone();
    b.tripped = Some(trip.clone());
    let (candidates, cap) = (trip.candidates, trip.cap);
    store_task(store, move |s| {
        s.set_setting(BREAKER_KEY, &b)?;
        s.audit(
            &AuditEntry::new(shareguard_store::SYSTEM_OPERATOR, "breaker_tripped").details(
                serde_json::json!({ "candidates": candidates, "cap": cap, "source": source }),
            ),
        )
        .map(|_| ())
    })
    .await?;
    tracing::warn!(
        "automatic {source} actions paused: {candidates} subscribers at once, the cap is {cap}"
    );
    Ok(())
}

/// Clears a tripped breaker so automatic actions resume; recorded.
pub fn reset_breaker(
    store: &mut Store,
    operator: &str,
) -> Result<bool, shareguard_store::StoreError> {
    let mut b: Breaker = store.get_setting(BREAKER_KEY)?.unwrap_or_default();
    if b.tripped.take().is_none() {
        return Ok(false);
    }
    store.set_setting(BREAKER_KEY, &b)?;
    store.audit(&AuditEntry::new(operator, "breaker_reset"))?;
    Ok(true)
}
