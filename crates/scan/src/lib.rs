//! Scanning NAS routers: the I/O side of sharing detection.
//!
//! * [`target`]: how to reach one NAS and what is expected of it.
//! * [`probes`]: the TTL probe mangle rules: inspect, plan (with a preview of
//!   the exact commands), install, remove; FastTrack detection.
//! * [`collect`]: one streaming pass per table (sessions, address lists,
//!   connections) aggregated per subscriber address.
//! * [`ipv6`]: a dual-stack subscriber's IPv6 connections, found through the
//!   prefix delegated to the session.
//! * [`allowance`]: how long a router may take, following the size of its
//!   connection table rather than a fixed total.
//! * [`p2p`]: the connection-table heuristic for peer-to-peer traffic.
//! * [`placement`]: where a rule goes in a firewall table the router also
//!   writes to (below its dynamic items, above the owner's rules).
//! * [`router_clock`]: the router's own time, and the times it prints.
//! * [`monitor`]: the abuse monitor's per-NAS read (sessions, connection ids,
//!   P2P list, queue counters) and what it remembers between cycles.
//! * [`scan`]: runs many NAS in parallel with per-NAS time limits and cancellation,
//!   turning what was read into observations for `shareguard-detect`.

pub mod allowance;
pub mod collect;
pub mod ipv6;
pub mod monitor;
pub mod p2p;
pub mod placement;
pub mod probes;
pub mod router_clock;
pub mod scan;
pub mod target;

pub use probes::{ProbePlan, ProbeState, StrategyChoice};
pub use scan::{run_scan, ScanEvent, ScanOutput, ScanRequest};
pub use target::NasTarget;
pub use tokio_util::sync::CancellationToken;
