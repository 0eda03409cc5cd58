//! From findings to a step: what the thresholds call for, made stricter for
//! repeat offenders, with durations that grow each time.

use serde::{Deserialize, Serialize};

use super::thresholds::Severity;

/// How repeat offences are handled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Escalation {
    /// Violations within the look-back after which the next stricter step is
    /// taken (a warning becomes a throttle, a throttle a ban).
    pub violations_to_escalate: u32,
    /// How far back violations and earlier actions count.
    pub lookback_hours: u32,
    /// Durations of the first, second and any later throttle or ban within
    /// the look-back, in minutes.
    pub durations_min: Vec<u32>,
}

impl Default for Escalation {
    fn default() -> Self {
        Self {
            violations_to_escalate: 3,
            lookback_hours: 24,
            durations_min: vec![30, 120, 24 * 60],
        }
    }
}

impl Escalation {
    pub fn validate(&self) -> Result<(), String> {
        if self.violations_to_escalate == 0 {
            return Err("escalation needs at least 1 violation; the usual value is 3".into());
        }
        if !(1..=24 * 30).contains(&self.lookback_hours) {
            return Err(format!(
                "the escalation look-back must be between 1 hour and 30 days (got {} h); the usual value is 24",
                self.lookback_hours
            ));
        }
        if self.durations_min.is_empty()
            || self
                .durations_min
                .iter()
                .any(|&d| !(1..=30 * 24 * 60).contains(&d))
        {
            return Err(
                "action durations must be between 1 minute and 30 days each; the usual ones are 30 min, 2 h, 24 h"
                    .into(),
            );
        }
        Ok(())
    }

    /// The duration of a throttle or ban after `earlier` such actions.
    pub fn duration_min(&self, earlier: u32) -> u32 {
        let i = (earlier as usize).min(self.durations_min.len().saturating_sub(1));
        self.durations_min.get(i).copied().unwrap_or(30)
    }
}

/// A subscriber's recent record, read from storage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct History {
    /// Violations within the look-back, this one included.
    pub violations: u32,
    /// Throttles and bans already taken within the look-back.
    pub earlier_actions: u32,
}

/// The step to take for one subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Decision {
    pub severity: Severity,
    /// True when repeat violations made the step stricter than the findings.
    pub escalated: bool,
    /// How long a throttle or ban lasts; `None` for a warning.
    pub duration_min: Option<u32>,
}

/// Decides the step for a subscriber whose findings call for `called_for`.
pub fn decide(called_for: Severity, history: History, e: &Escalation) -> Decision {
    let escalated = history.violations >= e.violations_to_escalate && called_for != Severity::Ban;
    let severity = if escalated {
        called_for.stricter()
    } else {
        called_for
    };
    Decision {
        severity,
        escalated,
        duration_min: (severity != Severity::Warning)
            .then(|| e.duration_min(history.earlier_actions)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(violations: u32, earlier_actions: u32) -> History {
        History {
            violations,
            earlier_actions,
        }
    }

    #[test]
    fn first_offences_get_what_the_thresholds_say() {
        let e = Escalation::default();
        let d = decide(Severity::Warning, h(1, 0), &e);
        assert_eq!(
            d,
            Decision {
                severity: Severity::Warning,
                escalated: false,
                duration_min: None
            }
        );
        let d = decide(Severity::Throttle, h(2, 0), &e);
        assert_eq!((d.severity, d.duration_min), (Severity::Throttle, Some(30)));
    }

    #[test]
    fn the_third_violation_escalates_and_durations_grow() {
        let e = Escalation::default();
        let d = decide(Severity::Warning, h(3, 0), &e);
        assert_eq!(
            (d.severity, d.escalated, d.duration_min),
            (Severity::Throttle, true, Some(30))
        );
        let d = decide(Severity::Throttle, h(4, 1), &e);
        assert_eq!((d.severity, d.duration_min), (Severity::Ban, Some(120)));
        let d = decide(Severity::Ban, h(9, 7), &e);
        assert_eq!(
            (d.severity, d.escalated, d.duration_min),
            (Severity::Ban, false, Some(1440))
        );
    }

    #[test]
    fn validation_names_the_usual_values() {
        Escalation::default().validate().unwrap();
        let bad = Escalation {
            durations_min: vec![],
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().contains("30 min, 2 h, 24 h"));
        let bad = Escalation {
            violations_to_escalate: 0,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }
}
