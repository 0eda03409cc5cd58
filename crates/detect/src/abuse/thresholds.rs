//! Abuse thresholds the owner can tune.
//!
//! The concurrent-connection and new-connection figures are the anti-abuse
//! spec's (100/200/500 concurrent, 10/20 new per second). They sit far below
//! the sharing thresholds (300/500/800) on purpose: a flood is judged on what
//! it does to the NAS now, a shared account on who is behind it. The two
//! detectors answer different questions and keep separate settings.

use serde::{Deserialize, Serialize};

/// The step a finding calls for, mildest first. Also the order of escalation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Throttle,
    Ban,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Throttle => "throttle",
            Self::Ban => "ban",
        }
    }

    /// The next stricter step; a ban stays a ban.
    pub fn stricter(self) -> Self {
        match self {
            Self::Warning => Self::Throttle,
            Self::Throttle | Self::Ban => Self::Ban,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct AbuseThresholds {
    /// Concurrent connections for a warning, a throttle and a temporary ban.
    pub flood_warning: u32,
    pub flood_throttle: u32,
    pub flood_ban: u32,
    /// New connections per second, measured between two snapshots.
    pub rate_warning: f64,
    pub rate_throttle: f64,
    /// Connections that look like peer-to-peer traffic before P2P is reported
    /// from the connection table alone. A router-side classification (the
    /// P2P marking rules) reports at any count.
    pub p2p_min_connections: u32,
    /// What P2P calls for. A warning by default: many plans allow P2P, and
    /// the owner decides whether it is abuse on theirs.
    pub p2p_severity: Severity,
    /// Use at or above this share of the plan's rate (in either direction)
    /// counts as "near the plan".
    pub hog_percent: u8,
    /// ... and it must last this long without a break to be hogging.
    pub hog_window_min: u32,
    /// What hogging calls for. A warning by default: the subscriber uses what
    /// they pay for, and only the owner's fair-use terms make it abuse.
    pub hog_severity: Severity,
    /// Report tethering on hotspot lines (several OS families or lowered TTLs
    /// behind one device).
    pub tethering: bool,
    pub tethering_severity: Severity,
}

impl Default for AbuseThresholds {
    fn default() -> Self {
        Self {
            flood_warning: 100,
            flood_throttle: 200,
            flood_ban: 500,
            rate_warning: 10.0,
            rate_throttle: 20.0,
            p2p_min_connections: 100,
            p2p_severity: Severity::Warning,
            hog_percent: 90,
            hog_window_min: 30,
            hog_severity: Severity::Warning,
            tethering: true,
            tethering_severity: Severity::Warning,
        }
    }
}

impl AbuseThresholds {
    /// Checks for values that would make findings meaningless, with the fix.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.flood_warning > 0
            && self.flood_warning < self.flood_throttle
            && self.flood_throttle < self.flood_ban)
        {
            return Err(format!(
                "connection-flood thresholds must rise from warning to throttle to ban (got {}/{}/{}); the usual values are 100/200/500",
                self.flood_warning, self.flood_throttle, self.flood_ban
            ));
        }
        let rates_ok = self.rate_warning.is_finite()
            && self.rate_throttle.is_finite()
            && self.rate_warning > 0.0
            && self.rate_warning < self.rate_throttle;
        if !rates_ok {
            return Err(format!(
                "new-connection thresholds must rise from warning to throttle (got {}/{} per second); the usual values are 10/20",
                self.rate_warning, self.rate_throttle
            ));
        }
        if self.p2p_min_connections == 0 {
            return Err(
                "the P2P connection count must be at least 1; the usual value is 100".into(),
            );
        }
        if !(50..=100).contains(&self.hog_percent) {
            return Err(format!(
                "the bandwidth-hogging share must be between 50% and 100% of the plan (got {}%); the usual value is 90%",
                self.hog_percent
            ));
        }
        if !(1..=24 * 60).contains(&self.hog_window_min) {
            return Err(format!(
                "the bandwidth-hogging window must be between 1 minute and 24 hours (got {} min); the usual value is 30",
                self.hog_window_min
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_orders_are_named() {
        AbuseThresholds::default().validate().unwrap();
        let bad = AbuseThresholds {
            flood_throttle: 600,
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().contains("100/600/500"));
        let bad = AbuseThresholds {
            rate_warning: f64::NAN,
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().contains("10/20"));
        let bad = AbuseThresholds {
            hog_percent: 20,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn escalation_order() {
        assert!(Severity::Warning < Severity::Throttle && Severity::Throttle < Severity::Ban);
        assert_eq!(Severity::Warning.stricter(), Severity::Throttle);
        assert_eq!(Severity::Ban.stricter(), Severity::Ban);
    }
}
