//! [`ReplayLog`]: the reliable messages a session has written and the client
//! has not acknowledged yet, kept to be sent again after a resume.
//!
//! Every reliable message gets the next session seq (1, 2, 3, …) as it is
//! written. The log keeps the written frames, oldest first, within a bound
//! (messages and bytes); past it the oldest go, acknowledged or not. An `Ack`
//! drops every frame up to its seq. A resume names the last seq the client
//! received: everything after it is replayed if the log still holds it, and
//! if it does not (a gap), the resume is a resync instead, never an error.
//!
//! ```
//! use bytes::Bytes;
//! use playhouse::session::{Replay, ReplayLog};
//!
//! let mut log = ReplayLog::new(2, 1024);
//! for frame in ["a", "b", "c"] {
//!     let seq = log.next_seq();
//!     log.push(seq, Bytes::from(frame));
//! }
//! // "a" (seq 1) fell out of the bound of 2 messages.
//! assert_eq!(log.replay_after(1), Replay::Frames(vec![Bytes::from("b"), Bytes::from("c")]));
//! assert_eq!(log.replay_after(0), Replay::Gap);
//! ```

use bytes::Bytes;
use std::collections::VecDeque;

/// What a resume gets from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// Every frame after the client's last seq, in order (maybe none).
    Frames(Vec<Bytes>),
    /// Some frames after the client's last seq are gone (or the client
    /// claims a seq never sent): the client must resync from fresh state.
    Gap,
}

/// The bounded log of one session's written reliable frames.
#[derive(Debug)]
pub struct ReplayLog {
    entries: VecDeque<(u64, Bytes)>,
    bytes: usize,
    next: u64,
    max_messages: usize,
    max_bytes: usize,
}

impl ReplayLog {
    /// An empty log holding at most `max_messages` frames and `max_bytes`.
    pub fn new(max_messages: usize, max_bytes: usize) -> Self {
        ReplayLog { entries: VecDeque::new(), bytes: 0, next: 1, max_messages, max_bytes }
    }

    /// The seq the next reliable message gets.
    pub fn next_seq(&self) -> u64 {
        self.next
    }

    /// Records the frame written with `seq` (which must be [`ReplayLog::next_seq`]).
    pub fn push(&mut self, seq: u64, frame: Bytes) {
        debug_assert_eq!(seq, self.next);
        self.next = seq + 1;
        self.bytes += frame.len();
        self.entries.push_back((seq, frame));
        while self.entries.len() > self.max_messages || (self.bytes > self.max_bytes && !self.entries.is_empty()) {
            self.pop();
        }
    }

    fn pop(&mut self) {
        if let Some((_, f)) = self.entries.pop_front() {
            self.bytes -= f.len();
        }
    }

    /// The client has every frame up to `seq`: they need not be kept.
    pub fn ack(&mut self, seq: u64) {
        while self.entries.front().is_some_and(|(s, _)| *s <= seq) {
            self.pop();
        }
    }

    /// The frames after `last_seq`, if the log still holds all of them.
    pub fn replay_after(&self, last_seq: u64) -> Replay {
        let last_sent = self.next - 1;
        if last_seq > last_sent {
            return Replay::Gap;
        }
        let first_kept = self.entries.front().map_or(self.next, |(s, _)| *s);
        if last_seq + 1 < first_kept {
            return Replay::Gap;
        }
        Replay::Frames(self.entries.iter().filter(|(s, _)| *s > last_seq).map(|(_, f)| f.clone()).collect())
    }

    /// A log rebuilt from the frames a failover store kept (`(seq, frame)`,
    /// oldest first): only the run after the last hole is kept, so a
    /// replay from it is never missing a frame in the middle.
    pub fn restored(frames: &[(u64, Bytes)], max_messages: usize, max_bytes: usize) -> Self {
        let mut log = ReplayLog::new(max_messages, max_bytes);
        let start = frames.windows(2).rposition(|w| w[1].0 != w[0].0 + 1).map_or(0, |i| i + 1);
        for (seq, frame) in &frames[start..] {
            log.next = *seq;
            log.push(*seq, frame.clone());
        }
        log
    }

    /// The client holds every frame before `next` (it got frames the
    /// store never kept, from a node that is gone): numbering goes on from
    /// there, and what is held before it is dropped.
    pub fn skip_to(&mut self, next: u64) {
        if next > self.next {
            self.clear();
            self.next = next;
        }
    }

    /// Frames held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no frame is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Forgets every frame (after a resync the client starts over).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn log_with(n: u64, max_messages: usize, max_bytes: usize) -> ReplayLog {
        let mut log = ReplayLog::new(max_messages, max_bytes);
        for i in 1..=n {
            log.push(log.next_seq(), Bytes::from(i.to_string()));
        }
        log
    }

    #[test]
    fn acks_trim_and_replay_returns_what_follows_the_last_seq() {
        let mut log = log_with(5, 256, 1 << 20);
        log.ack(2);
        assert_eq!(log.len(), 3);
        assert_eq!(log.replay_after(3), Replay::Frames(vec![Bytes::from("4"), Bytes::from("5")]));
        assert_eq!(log.replay_after(2), Replay::Frames(vec![Bytes::from("3"), Bytes::from("4"), Bytes::from("5")]));
        assert_eq!(log.replay_after(5), Replay::Frames(vec![]));
        assert_eq!(log.replay_after(1), Replay::Gap, "seq 2 was acked away, so a client at 1 lied or lost it");
        assert_eq!(log.replay_after(6), Replay::Gap, "never sent");
    }

    #[test]
    fn an_empty_log_replays_nothing_only_for_a_client_that_has_everything() {
        let mut log = log_with(3, 256, 1 << 20);
        log.ack(3);
        assert!(log.is_empty());
        assert_eq!(log.replay_after(3), Replay::Frames(vec![]));
        assert_eq!(log.replay_after(2), Replay::Gap);
        assert_eq!(ReplayLog::new(4, 4).replay_after(0), Replay::Frames(vec![]));
    }

    #[test]
    fn the_byte_bound_evicts_the_oldest() {
        let mut log = ReplayLog::new(100, 10);
        for f in ["aaaa", "bbbb", "cccc"] {
            log.push(log.next_seq(), Bytes::from(f));
        }
        assert_eq!(log.len(), 2);
        assert_eq!(log.bytes(), 8);
        assert_eq!(log.replay_after(0), Replay::Gap);
        assert_eq!(log.replay_after(1), Replay::Frames(vec![Bytes::from("bbbb"), Bytes::from("cccc")]));
    }

    #[test]
    fn a_restored_log_keeps_the_run_after_the_last_hole_and_numbers_on() {
        let frames: Vec<(u64, Bytes)> = [3u64, 4, 6, 7].iter().map(|s| (*s, Bytes::from(s.to_string()))).collect();
        let mut log = ReplayLog::restored(&frames, 64, 1 << 20);
        assert_eq!(log.next_seq(), 8);
        assert_eq!(log.replay_after(5), Replay::Frames(vec![Bytes::from("6"), Bytes::from("7")]));
        assert_eq!(log.replay_after(4), Replay::Gap, "5 was never stored: a client at 4 resyncs");
        log.skip_to(10);
        assert_eq!((log.next_seq(), log.len()), (10, 0));
        log.skip_to(2);
        assert_eq!(log.next_seq(), 10, "never back");
        assert_eq!(ReplayLog::restored(&[], 4, 4).next_seq(), 1);
    }

    proptest! {
        /// Whatever the bound, acks and resume point: a replay is exactly the
        /// frames after the last seq, gap-free and duplicate-free, or a Gap.
        #[test]
        fn replay_is_exact_or_a_gap(n in 0u64..300, max in 1usize..64, acked in 0u64..300, last in 0u64..320) {
            let mut log = log_with(n, max, 1 << 20);
            log.ack(acked.min(n));
            match log.replay_after(last) {
                Replay::Frames(frames) => {
                    let want: Vec<Bytes> = (last + 1..=n).map(|i| Bytes::from(i.to_string())).collect();
                    prop_assert_eq!(frames, want);
                }
                Replay::Gap => {
                    let first_kept = n.saturating_sub(max as u64) + 1;
                    prop_assert!(last > n || last + 1 < first_kept.max(acked.min(n) + 1));
                }
            }
        }
    }
}
