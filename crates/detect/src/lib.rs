//! Sharing detection as a pure function: observations in, explained verdicts out.
//!
//! This crate does no I/O and keeps no state, so the same rules run in the CLI,
//! the desktop app, the tests and the benchmarks, and every verdict can be
//! reproduced from what was stored.
//!
//! * [`settings`]: thresholds the owner can tune.
//! * [`observation`]: what a scan saw for one subscriber.
//! * [`ttl`]: how one observed TTL is read (expected, lowered, edge, implausible).
//! * [`line`] and [`distance`]: what is known about a line beyond this scan
//!   (the owner's setting, earlier scans), and the distance its devices are at.
//! * [`assess`]: the rules that turn an observation into a [`Verdict`].
//! * [`report`]: the records a scan produces (shared by the scanner, storage and UI).
//! * [`abuse`]: the abuse monitor's detectors and escalation, equally pure.

pub mod abuse;
pub mod assess;
pub mod distance;
pub mod line;
pub mod observation;
pub mod report;
pub mod settings;
pub mod ttl;
pub mod verdict;
pub mod words;

pub use assess::{apply_whitelist, assess};
pub use line::{LineMemory, PastScan};
pub use observation::{Access, ProbeStrategy, SessionSeen, SubscriberObservation, TtlEvidence};
pub use report::{NasOutcome, NasStatus, ScanScope, ScanStatus, ScanSummary, SubscriberResult};
pub use settings::DetectionSettings;
pub use verdict::{Evidence, EvidenceStatus, Level, RecommendedAction, TtlStatus, Verdict};
