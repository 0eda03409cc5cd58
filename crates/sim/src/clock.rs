//! Simulated time and the connection-replacement model.
//!
//! Sim time runs with real time (times `time_scale`) and can be pushed forward
//! by tests, which is how a test sees "15 minutes later" without waiting. All
//! NAS of one network share one clock so their views agree.
//!
//! Connections are not stored: a slot's current connection is a pure function
//! of the slot and the time, so the table "changes" as time passes while the
//! simulator keeps only the slots.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::population::{splitmix, Slot};

/// A clock shared by every NAS of a network. Times are milliseconds since the
/// Unix epoch in the simulated world.
#[derive(Debug)]
pub struct SimClock {
    epoch_ms: u64,
    started: Instant,
    time_scale: f64,
    offset_ms: AtomicU64,
}

impl SimClock {
    /// Starts at the current wall-clock second, so timestamps shown by the
    /// simulated routers look plausible in the demo.
    pub fn new(time_scale: f64) -> Self {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() * 1000)
            .unwrap_or(0);
        Self::with_epoch(wall, time_scale)
    }

    /// A clock whose sim time starts at `epoch_ms`.
    pub fn with_epoch(epoch_ms: u64, time_scale: f64) -> Self {
        let time_scale = if time_scale.is_finite() && time_scale >= 0.0 {
            time_scale
        } else {
            1.0
        };
        Self {
            epoch_ms,
            started: Instant::now(),
            time_scale,
            offset_ms: AtomicU64::new(0),
        }
    }

    /// The sim time when the clock was created.
    pub fn epoch_ms(&self) -> u64 {
        self.epoch_ms
    }

    /// The current sim time.
    pub fn now_ms(&self) -> u64 {
        let real = self.started.elapsed().as_secs_f64() * 1000.0 * self.time_scale;
        self.epoch_ms + real as u64 + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves sim time forward by `d`.
    pub fn advance(&self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 4);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

/// The instance of a slot that is current at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentConn {
    /// How many times the slot has been replaced (the generation).
    pub generation: u64,
    /// Sim time (ms) of the connection's first packet.
    pub start_ms: u64,
    pub src_port: u16,
}

/// The connection occupying `slot` at sim time `now_ms`.
///
/// `sub` is the subscriber's index in the population and `slot_index` the
/// slot's index within the subscriber; together with the generation they seed
/// the source port, so a replaced connection gets a new port and the same
/// moment always yields the same port.
#[inline]
pub fn current(slot: &Slot, sub: usize, slot_index: usize, now_ms: u64) -> CurrentConn {
    let life = u64::from(slot.lifetime_s.max(1)) * 1000;
    let phase = u64::from(slot.phase_s) * 1000 % life;
    let generation = generation_at(slot, now_ms);
    let start_ms = (generation * life).saturating_sub(phase);
    let h = splitmix(((sub as u64) << 24) ^ ((slot_index as u64) << 44) ^ generation ^ 0x5EED);
    let src_port = 1024 + (h % (65536 - 1024)) as u16;
    CurrentConn {
        generation,
        start_ms,
        src_port,
    }
}

/// The generation of `slot` at sim time `t_ms`.
#[inline]
pub fn generation_at(slot: &Slot, t_ms: u64) -> u64 {
    let life = u64::from(slot.lifetime_s.max(1)) * 1000;
    let phase = u64::from(slot.phase_s) * 1000 % life;
    (t_ms + phase) / life
}

/// The `.id` number of a connection: unique across the NAS's slots and
/// generations, and stable while the connection lives. `generation` counts
/// from the clock's epoch so ids stay as short as a router's.
#[inline]
pub fn connection_id(nas_slot: u64, nas_slots: u64, generation: u64) -> u64 {
    generation
        .wrapping_mul(nas_slots.max(1))
        .wrapping_add(nas_slot)
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::Proto;
    use std::net::{Ipv4Addr, SocketAddrV4};

    fn slot(lifetime_s: u32, phase_s: u32) -> Slot {
        Slot {
            seen_ttl: 63,
            protocol: Proto::Tcp,
            dst: SocketAddrV4::new(Ipv4Addr::new(93, 184, 1, 1), 443),
            p2p: false,
            lifetime_s,
            phase_s,
        }
    }

    #[test]
    fn connections_are_replaced_every_lifetime() {
        let s = slot(100, 30);
        let t = 1_000_000_000;
        let a = current(&s, 1, 2, t);
        assert!(a.start_ms <= t && a.start_ms + 100_000 > t);
        assert_eq!(current(&s, 1, 2, a.start_ms), a);
        assert_eq!(current(&s, 1, 2, a.start_ms + 99_999), a);
        let b = current(&s, 1, 2, a.start_ms + 100_000);
        assert_eq!(b.generation, a.generation + 1);
        assert_eq!(b.start_ms, a.start_ms + 100_000);
        assert!((1024..=65535).contains(&b.src_port));
    }

    #[test]
    fn advancing_moves_time() {
        let c = SimClock::with_epoch(5_000, 0.0);
        assert_eq!(c.now_ms(), 5_000);
        c.advance(Duration::from_secs(2));
        assert_eq!(c.now_ms(), 7_000);
    }
}
