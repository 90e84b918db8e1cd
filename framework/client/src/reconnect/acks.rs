//! When to send an `Ack`: [`AckSchedule`], a plain value over instants.
//!
//! Acks let the server drop delivered messages from the session's replay
//! log. The log keeps the newest messages within a bound (256 messages,
//! 256 KiB by default), so a resume works the same without acks; what they
//! save is server memory: a session that never acks holds a full log for
//! life, one that acks holds only what is in flight. One ack per interval,
//! and only when new reliable messages arrived, costs almost nothing.

use std::time::{Duration, Instant};

/// Acks at most once per `interval`, when the last reliable seq moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckSchedule {
    interval: Option<Duration>,
    acked: u64,
    last: Instant,
}

impl AckSchedule {
    /// A schedule for a connection on which everything up to `acked` needs
    /// no ack (0 for a new session; `last_seq` after a resume, which acks it
    /// on the server), starting `now`. `interval` `None`: never ack.
    pub fn new(interval: Option<Duration>, acked: u64, now: Instant) -> Self {
        AckSchedule { interval, acked, last: now }
    }

    /// When the next ack is due, given the highest seq received; `None`
    /// when there is nothing new to acknowledge.
    pub fn due_at(&self, last_seq: u64) -> Option<Instant> {
        let interval = self.interval?;
        (last_seq > self.acked).then(|| self.last + interval)
    }

    /// An ack of `seq` went out at `now`.
    pub fn sent(&mut self, seq: u64, now: Instant) {
        self.acked = self.acked.max(seq);
        self.last = now;
    }

    /// The highest seq acknowledged.
    pub fn acked(&self) -> u64 {
        self.acked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn nothing_new_means_no_ack() {
        let t0 = Instant::now();
        let s = AckSchedule::new(Some(SEC), 5, t0);
        assert_eq!(s.due_at(5), None);
        assert_eq!(s.due_at(3), None);
    }

    #[test]
    fn new_messages_are_acked_an_interval_after_the_last_ack() {
        let t0 = Instant::now();
        let mut s = AckSchedule::new(Some(SEC), 0, t0);
        assert_eq!(s.due_at(1), Some(t0 + SEC));
        s.sent(4, t0 + SEC);
        assert_eq!(s.acked(), 4);
        assert_eq!(s.due_at(4), None);
        assert_eq!(s.due_at(9), Some(t0 + 2 * SEC));
    }

    #[test]
    fn an_ack_never_moves_backwards() {
        let t0 = Instant::now();
        let mut s = AckSchedule::new(Some(SEC), 7, t0);
        s.sent(3, t0);
        assert_eq!(s.acked(), 7);
    }

    #[test]
    fn no_interval_means_never() {
        let s = AckSchedule::new(None, 0, Instant::now());
        assert_eq!(s.due_at(100), None);
    }
}
