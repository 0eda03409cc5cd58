//! One NAS as the scanner sees it.

use std::time::Duration;

use routeros_client::ConnectOptions;
use shareguard_detect::Access;

use crate::probes::StrategyChoice;

#[derive(Debug, Clone)]
pub struct NasTarget {
    /// The name shown to the owner (a stored router's name, or its address).
    pub name: String,
    pub connect: ConnectOptions,
    pub access: Access,
    /// Hops between a legitimate device and this NAS (PPPoE 1, hotspot 0).
    pub expected_hops: u8,
    pub strategy: StrategyChoice,
    /// The subscriber-facing interface the probes are limited to. `None`:
    /// the interface list `dynamic` (the PPPoE sessions, not the router's own
    /// PPP uplinks) on PPPoE, the hotspot servers' interfaces on a hotspot.
    pub probe_interface: Option<String>,
    /// The most one NAS may take in a full scan, so one slow router cannot hold
    /// up the others' results.
    pub budget: Duration,
}

impl NasTarget {
    pub fn new(name: impl Into<String>, connect: ConnectOptions, access: Access) -> Self {
        Self {
            name: name.into(),
            connect,
            access,
            expected_hops: access.default_expected_hops(),
            strategy: StrategyChoice::Auto,
            probe_interface: None,
            budget: Duration::from_secs(10),
        }
    }

    /// `host:port` for messages.
    pub fn address(&self) -> String {
        routeros_client::join_addr(&self.connect.host, self.connect.port)
    }
}
