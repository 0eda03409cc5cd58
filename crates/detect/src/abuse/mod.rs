//! Abuse detection as pure functions: one snapshot per subscriber in,
//! explained findings and the step they call for out.
//!
//! * [`thresholds`]: what the owner tunes, and the order of steps.
//! * [`findings`]: the five detectors (connection flood, new-connection
//!   burst, P2P, bandwidth hogging, hotspot tethering).
//! * [`sustained`]: the only state: how long use has stayed near the plan.
//! * [`escalation`]: repeat offenders get the stricter step for longer.

pub mod escalation;
pub mod findings;
pub mod sustained;
pub mod thresholds;

pub use escalation::{decide, Decision, Escalation, History};
pub use findings::{findings, worst, AbuseKind, AbuseSample, Finding, Usage};
pub use sustained::Sustained;
pub use thresholds::{AbuseThresholds, Severity};
