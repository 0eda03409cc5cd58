//! The optional automatic disconnect after a scan: the owner's settings,
//! which sharers it would take, and the disconnects themselves, each through
//! [`crate::actions::disconnect::disconnect_and_record`] like the owner's
//! "Disconnect now", and only within the circuit breaker.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use serde::{Deserialize, Serialize};
use shareguard_detect::{Level, SubscriberResult};
use shareguard_store::Store;

use crate::actions::disconnect::disconnect_and_record;
use crate::breaker::{trip_breaker, Breaker, Trip, BREAKER_KEY};
use crate::persist::{store_task, EngineError};
use crate::router::Router;

/// The settings key of [`SharingActions`].
pub const SHARING_ACTIONS_KEY: &str = "sharing_actions";

/// What happens on its own after a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct SharingActions {
    /// Off by default: nobody is cut off until the owner decides so.
    pub auto_disconnect: bool,
    /// The lowest level that is disconnected automatically.
    pub min_level: Level,
    /// Record what would be done without sending anything.
    pub dry_run: bool,
}

impl Default for SharingActions {
    fn default() -> Self {
        Self {
            auto_disconnect: false,
            min_level: Level::Critical,
            dry_run: false,
        }
    }
}

impl SharingActions {
    pub fn validate(&self) -> Result<(), String> {
        // A medium verdict asks for a look, not a cut: disconnecting on it
        // would hit households whose line merely looks busy.
        if self.min_level < Level::High {
            return Err("automatic disconnect is for high or critical verdicts only".into());
        }
        Ok(())
    }
}

/// What the automatic disconnect will do after a scan.
#[derive(Debug, PartialEq)]
pub enum AutoPlan<'a> {
    /// Automatic disconnect is off.
    Off,
    /// The breaker tripped earlier and the owner has not reset it.
    Paused,
    /// Disconnect these (possibly none), most severe first.
    Act(Vec<&'a SubscriberResult>),
    /// Too many at once: trip the breaker, act on none.
    Trip { candidates: usize, cap: usize },
}

/// Decides the automatic disconnects for a scan's results. Whitelisted
/// subscribers are never candidates.
pub fn plan_auto<'a>(
    results: &'a [SubscriberResult],
    settings: &SharingActions,
    breaker: &Breaker,
) -> AutoPlan<'a> {
    if !settings.auto_disconnect {
        return AutoPlan::Off;
    }
    if breaker.tripped.is_some() {
        return AutoPlan::Paused;
    }
    let mut act: Vec<&SubscriberResult> = results
        .iter()
        .filter(|r| !r.whitelisted && r.level >= settings.min_level)
        .collect();
    let cap = breaker.cap(results.len());
    if act.len() > cap {
        return AutoPlan::Trip {
            candidates: act.len(),
            cap,
        };
    }
    act.sort_by(|a, b| SubscriberResult::most_suspicious_first(a, b));
    AutoPlan::Act(act)
}

/// What the automatic disconnect did after one scan.
#[derive(Debug, Default, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AutoOutcome {
    pub disconnected: Vec<String>,
    /// Subscriber and why it failed.
    pub failed: Vec<(String, String)>,
    pub dry_run: bool,
    /// Set when this cycle tripped the breaker.
    pub tripped: Option<Trip>,
    /// The breaker was already tripped: nothing was done.
    pub paused: bool,
}

/// Runs the automatic disconnect for a scan's results as `system` with the
/// owner's `settings` (the caller has read them, to skip reaching routers
/// at all when it is off): reads the breaker, acts within the cap, or trips
/// the breaker (recorded in the audit log). `routers` are looked up by name.
pub async fn auto_disconnect(
    store: &Arc<Mutex<Store>>,
    settings: &SharingActions,
    routers: &[Router],
    results: &[SubscriberResult],
) -> Result<AutoOutcome, EngineError> {
    let breaker: Breaker = store_task(store, |s| {
        Ok(s.get_setting(BREAKER_KEY)?.unwrap_or_default())
    })
    .await?;
    let mut out = AutoOutcome {
        dry_run: settings.dry_run,
        ..AutoOutcome::default()
    };
    match plan_auto(results, settings, &breaker) {
        AutoPlan::Off => {}
        AutoPlan::Paused => out.paused = true,
        AutoPlan::Trip { candidates, cap } => {
            let trip = Trip {
                at: Utc::now(),
                candidates,
                cap,
            };
            trip_breaker(store, &breaker, &trip, "sharing").await?;
            out.tripped = Some(trip);
        }
        AutoPlan::Act(list) => {
            for r in list {
                let Some(router) = routers.iter().find(|x| x.target.name == r.nas) else {
                    out.failed.push((
                        r.subscriber.clone(),
                        format!("router {} is not configured", r.nas),
                    ));
                    continue;
                };
                let reason = format!(
                    "automatic: {} sharing verdict{}",
                    r.level,
                    r.reasons
                        .first()
                        .map(|x| format!(" ({x})"))
                        .unwrap_or_default()
                );
                match disconnect_and_record(
                    store,
                    router,
                    &r.subscriber,
                    shareguard_store::SYSTEM_OPERATOR,
                    &reason,
                    settings.dry_run,
                )
                .await
                {
                    Ok(_) => out.disconnected.push(r.subscriber.clone()),
                    Err(e) => {
                        tracing::warn!(subscriber = %r.subscriber, "automatic disconnect failed: {e}");
                        out.failed.push((r.subscriber.clone(), e.to_string()));
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::result;

    #[test]
    fn only_unexcused_results_at_the_level_are_planned_most_severe_first() {
        let mut rs: Vec<_> = (0..200)
            .map(|i| result(&format!("n{i}"), Level::Normal, false))
            .collect();
        rs.push(result("high", Level::High, false));
        rs.push(result("crit", Level::Critical, false));
        rs.push(result("excused", Level::Critical, true));
        let on = SharingActions {
            auto_disconnect: true,
            min_level: Level::High,
            dry_run: false,
        };
        let b = Breaker::default();
        let AutoPlan::Act(list) = plan_auto(&rs, &on, &b) else {
            panic!("expected a plan")
        };
        let names: Vec<_> = list.iter().map(|r| r.subscriber.as_str()).collect();
        assert_eq!(names, ["crit", "high"]);
        assert_eq!(
            plan_auto(&rs, &SharingActions::default(), &b),
            AutoPlan::Off
        );
        let tripped = Breaker {
            tripped: Some(Trip {
                at: Utc::now(),
                candidates: 9,
                cap: 1,
            }),
            ..Breaker::default()
        };
        assert_eq!(plan_auto(&rs, &on, &tripped), AutoPlan::Paused);
    }

    #[test]
    fn the_breaker_caps_at_twenty_or_two_percent_and_trips_instead_of_acting() {
        let b = Breaker::default();
        assert_eq!(b.cap(30), 1);
        assert_eq!(b.cap(500), 10);
        assert_eq!(b.cap(30_000), 20);
        assert_eq!(b.cap(0), 1);
        let mut rs: Vec<_> = (0..100)
            .map(|i| result(&format!("n{i}"), Level::Normal, false))
            .collect();
        for i in 0..3 {
            rs.push(result(&format!("c{i}"), Level::Critical, false));
        }
        let on = SharingActions {
            auto_disconnect: true,
            ..SharingActions::default()
        };
        // 103 online: cap 3, three candidates: act.
        assert!(matches!(plan_auto(&rs, &on, &b), AutoPlan::Act(l) if l.len() == 3));
        rs.push(result("c3", Level::Critical, false));
        // 104 online: cap 3, four candidates: trip, act on none.
        assert_eq!(
            plan_auto(&rs, &on, &b),
            AutoPlan::Trip {
                candidates: 4,
                cap: 3
            }
        );
    }

    #[test]
    fn settings_refuse_automatic_disconnect_below_high() {
        let s = SharingActions {
            min_level: Level::Medium,
            ..SharingActions::default()
        };
        assert!(s.validate().unwrap_err().contains("high or critical"));
        assert!(SharingActions::default().validate().is_ok());
        assert!(Breaker {
            max_percent: 0.0,
            ..Breaker::default()
        }
        .validate()
        .is_err());
    }
}
