//! How long a subscriber has stayed near their plan's rate.
//!
//! Counters give the average use between two snapshots, so "sustained" means
//! every interval since some moment was at or above the share. One interval
//! below it, or a missed snapshot, starts the count again: a gap says nothing
//! about the use in between.

use std::collections::HashMap;

/// Per subscriber, when the current unbroken run near the plan began.
#[derive(Debug, Default)]
pub struct Sustained {
    since_ms: HashMap<String, u64>,
}

impl Sustained {
    /// Records one interval ending at `now_ms` that began at `from_ms`, with
    /// the use in percent of the plan, and returns how long the run has lasted
    /// in seconds (0 when this interval was below `threshold`).
    pub fn observe(
        &mut self,
        subscriber: &str,
        percent: f64,
        threshold: f64,
        from_ms: u64,
        now_ms: u64,
    ) -> u64 {
        if percent < threshold {
            self.since_ms.remove(subscriber);
            return 0;
        }
        let since = *self
            .since_ms
            .entry(subscriber.to_string())
            .or_insert(from_ms);
        now_ms.saturating_sub(since) / 1000
    }

    /// Forgets subscribers that were not observed in a cycle (offline, or a
    /// NAS that did not answer), so a later run starts from scratch.
    pub fn retain(&mut self, mut seen: impl FnMut(&str) -> bool) {
        self.since_ms.retain(|k, _| seen(k));
    }

    pub fn len(&self) -> usize {
        self.since_ms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.since_ms.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_grows_and_a_dip_resets_it() {
        let mut s = Sustained::default();
        assert_eq!(s.observe("a", 95.0, 90.0, 0, 60_000), 60);
        assert_eq!(s.observe("a", 92.0, 90.0, 60_000, 120_000), 120);
        assert_eq!(s.observe("a", 50.0, 90.0, 120_000, 180_000), 0);
        assert_eq!(s.observe("a", 99.0, 90.0, 180_000, 240_000), 60);
        s.retain(|k| k != "a");
        assert!(s.is_empty());
        assert_eq!(s.observe("a", 99.0, 90.0, 300_000, 360_000), 60);
    }
}
