//! [`Fence`]: a node's right to run one room, as a deadline on its own
//! monotonic clock. The lease keeper moves the deadline on at each renewal
//! the store confirmed (from the time the renewal was *sent*, less a
//! margin, so it always ends before the store's lease does); the room
//! checks it before every tick. A node that stalled (SIGSTOP, a long GC-like
//! pause, a partition) wakes up past its deadline and stops the room before
//! running a single tick, so it never sends a state for a room another node
//! may own by then.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A deadline shared by the lease keeper (writer) and the room (reader).
#[derive(Debug)]
pub struct Fence {
    origin: Instant,
    /// Milliseconds after `origin` until which the room may run;
    /// `u64::MAX`: revoked.
    until_ms: AtomicU64,
}

impl Fence {
    /// A fence valid until `deadline`.
    pub fn until(deadline: Instant) -> Self {
        let origin = Instant::now().checked_sub(Duration::from_secs(1)).unwrap_or_else(Instant::now);
        let f = Fence { origin, until_ms: AtomicU64::new(0) };
        f.extend(deadline);
        f
    }

    fn ms(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.origin).as_millis() as u64
    }

    /// Moves the deadline on to `deadline` (never back; a revoked fence
    /// stays revoked).
    pub fn extend(&self, deadline: Instant) {
        let new = self.ms(deadline);
        let _ = self
            .until_ms
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| (cur != u64::MAX).then_some(cur.max(new)));
    }

    /// Takes the right away for good (the lease was found lost).
    pub fn revoke(&self) {
        self.until_ms.store(u64::MAX, Ordering::Release);
    }

    /// Whether `revoke` was called.
    pub fn revoked(&self) -> bool {
        self.until_ms.load(Ordering::Acquire) == u64::MAX
    }

    /// Whether the room may still run at `now`.
    pub fn valid(&self, now: Instant) -> bool {
        let until = self.until_ms.load(Ordering::Acquire);
        until != u64::MAX && self.ms(now) < until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_holds_until_its_deadline_and_moves_only_forward() {
        let t0 = Instant::now();
        let f = Fence::until(t0 + Duration::from_secs(3));
        assert!(f.valid(t0 + Duration::from_millis(2_900)));
        assert!(!f.valid(t0 + Duration::from_secs(3)));
        f.extend(t0 + Duration::from_secs(5));
        assert!(f.valid(t0 + Duration::from_millis(4_900)));
        f.extend(t0 + Duration::from_secs(4)); // an older renewal answering late
        assert!(f.valid(t0 + Duration::from_millis(4_900)));
    }

    #[test]
    fn a_revoked_fence_never_comes_back() {
        let t0 = Instant::now();
        let f = Fence::until(t0 + Duration::from_secs(3));
        f.revoke();
        assert!(!f.valid(t0));
        f.extend(t0 + Duration::from_secs(10));
        assert!(!f.valid(t0 + Duration::from_secs(1)));
        assert!(f.revoked());
    }
}
