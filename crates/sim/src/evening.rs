//! Households that come home over the evening.
//!
//! A seeded household always has all its connections open, which is the
//! evening peak every detector is tuned on. The demo needs a story with a
//! beginning instead: an abuse monitor switched on at the peak raises every
//! warning of the network in its first cycle, which reads as an emergency
//! rather than an example. With an [`Evening`] set, each household starts
//! quiet (a sample of its devices' connections, at most
//! `quiet_connections`) and reaches its full use at its own onset, spread
//! over the evening; the monitor's warnings then build up cycle by cycle as
//! households cross the thresholds.
//!
//! Two choices keep the other detectors' evidence honest:
//! * the quiet sample takes every n-th connection, so a household's mix of
//!   TTLs (and so its sharing evidence) is the same quiet or busy; only the
//!   counts change;
//! * after the onset a connection joins when its slot is next replaced, so
//!   a household ramps up over its connections' lifetimes instead of
//!   opening hundreds of connections in one second (which would read as a
//!   new-connection burst).

use crate::population::splitmix;

/// When households come home: each at its own moment in
/// `[from_ms, from_ms + spread_ms)` of sim time, quiet before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evening {
    pub from_ms: u64,
    pub spread_ms: u64,
    /// The most connections a household has open before its onset.
    pub quiet_connections: u32,
}

impl Evening {
    /// The sim time household `global` (its index in the population)
    /// reaches its full use.
    pub fn onset_ms(&self, global: usize) -> u64 {
        let spread = self.spread_ms.max(1);
        self.from_ms + splitmix(0xE7E_0000 ^ global as u64) % spread
    }

    /// Whether the connection of slot `k` (of `slots`) of household
    /// `global` that began at `start_ms` is in the table.
    #[inline]
    pub fn live(&self, global: usize, slots: usize, k: usize, start_ms: u64) -> bool {
        let stride = slots.div_ceil(self.quiet_connections.max(1) as usize);
        stride <= 1 || k % stride == 0 || start_ms >= self.onset_ms(global)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_household_is_a_sample_before_its_onset_and_whole_after() {
        let e = Evening {
            from_ms: 1_000_000,
            spread_ms: 600_000,
            quiet_connections: 50,
        };
        let onset = e.onset_ms(7);
        assert!((1_000_000..1_600_000).contains(&onset));
        let live = |start| (0..400).filter(|&k| e.live(7, 400, k, start)).count();
        assert_eq!(live(onset - 1), 50, "every 8th of 400");
        assert_eq!(live(onset), 400);
        // A small household is never cut.
        assert!((0..30).all(|k| e.live(7, 30, k, 0)));
        // Onsets differ between households.
        let onsets: std::collections::HashSet<u64> = (0..50).map(|g| e.onset_ms(g)).collect();
        assert!(onsets.len() > 40);
    }
}
