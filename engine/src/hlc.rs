//! Hybrid logical clock and versions.
//!
//! A version orders every write in the pair: `(hlc, node)`. The HLC packs
//! wall-clock milliseconds in the high 48 bits and a logical counter in the
//! low 16, so it never goes backwards even if the wall clock does, and it
//! moves past any version received from the peer (so a later local write
//! always wins over what this node has already seen).

use parking_lot::Mutex;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The largest wall-clock value an HLC can hold (48 bits of milliseconds,
/// the year 10889): the clock saturates there instead of overflowing.
pub const MAX_PHYSICAL_MS: u64 = (1 << 48) - 1;

/// Identifies a node; created at first start and kept in `meta`.
pub type NodeId = u32;

/// Last-writer-wins order: greater `hlc` wins, ties broken by `node`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Version {
    pub hlc: u64,
    pub node: NodeId,
}

impl Version {
    pub const fn new(hlc: u64, node: NodeId) -> Self {
        Version { hlc, node }
    }
    /// Wall-clock milliseconds encoded in the HLC.
    pub fn millis(&self) -> u64 {
        self.hlc >> 16
    }
}

pub struct Hlc {
    last: Mutex<u64>,
    now_ms: fn() -> u64,
}

/// This machine's clock in milliseconds since the epoch, plus
/// [`clock_offset_ms`].
pub fn wall_clock_ms() -> u64 {
    let real = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    real.saturating_add_signed(clock_offset_ms())
}

/// A deliberate error added to this process's clock, from the environment
/// variable `DUET_CLOCK_OFFSET_MS` (signed milliseconds, default 0): tests
/// and drills use it to run a node whose clock is wrong. The server logs it
/// at start when it is not 0.
pub fn clock_offset_ms() -> i64 {
    static OFFSET: OnceLock<i64> = OnceLock::new();
    *OFFSET.get_or_init(|| {
        std::env::var("DUET_CLOCK_OFFSET_MS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    })
}

impl Hlc {
    pub fn new() -> Self {
        Self::with_clock(wall_clock_ms)
    }

    pub fn with_clock(now_ms: fn() -> u64) -> Self {
        Hlc {
            last: Mutex::new(0),
            now_ms,
        }
    }

    /// A new timestamp, greater than every one issued or observed before.
    pub fn tick(&self) -> u64 {
        let physical = (self.now_ms)().min(MAX_PHYSICAL_MS) << 16;
        let mut last = self.last.lock();
        *last = if physical > *last {
            physical
        } else {
            last.saturating_add(1)
        };
        *last
    }

    /// Moves the clock past a timestamp seen from elsewhere (a peer's write,
    /// or the newest version found on disk at start).
    pub fn observe(&self, hlc: u64) {
        let mut last = self.last.lock();
        if hlc > *last {
            *last = hlc;
        }
    }

    pub fn last(&self) -> u64 {
        *self.last.lock()
    }
}

impl Default for Hlc {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stuck_clock() -> u64 {
        1_000
    }

    #[test]
    fn ticks_increase_even_with_a_stuck_clock() {
        let c = Hlc::with_clock(stuck_clock);
        let a = c.tick();
        let b = c.tick();
        assert!(b > a);
        assert_eq!(a >> 16, 1_000);
    }

    #[test]
    fn arithmetic_saturates() {
        let c = Hlc::with_clock(stuck_clock);
        c.observe(u64::MAX);
        assert_eq!(c.tick(), u64::MAX);
        assert_eq!(c.tick(), u64::MAX, "no overflow panic on later ticks");
        fn far_future() -> u64 {
            u64::MAX
        }
        let f = Hlc::with_clock(far_future);
        assert_eq!(f.tick() >> 16, MAX_PHYSICAL_MS);
    }

    #[test]
    fn observe_moves_past_remote_versions() {
        let c = Hlc::with_clock(stuck_clock);
        let remote = (5_000u64 << 16) + 7;
        c.observe(remote);
        assert!(c.tick() > remote);
    }
}
