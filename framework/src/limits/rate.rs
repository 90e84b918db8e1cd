//! [`RateGate`]: a connection's token buckets for messages and bytes per
//! second (GCRA, from `governor`), checked for every whole message before it
//! is decoded.
//!
//! ```
//! use playhouse::limits::{RateGate, RateLimits, Verdict};
//!
//! let limits = RateLimits { messages_per_sec: 10, message_burst: 2, ..RateLimits::default() };
//! let mut gate = RateGate::new(&limits);
//! assert_eq!(gate.check(100), Verdict::Pass);
//! assert_eq!(gate.check(100), Verdict::Pass);
//! assert!(matches!(gate.check(100), Verdict::Limited { .. }), "a burst of 2, then 1 per 100 ms");
//! ```

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Serialize;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

/// What happens to a message past the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RatePolicy {
    /// Drop it and tell the client with `Error{code: 1008}` (at most one such
    /// error per second); the connection stays.
    Drop,
    /// Close the connection with 1008.
    Close,
}

/// Per-connection rate limits (`ServerConfig::rate`).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RateLimits {
    /// Sustained whole messages per second (0: unlimited).
    pub messages_per_sec: u32,
    /// Messages that may arrive at once above the sustained rate.
    pub message_burst: u32,
    /// Sustained bytes per second (0: unlimited).
    pub bytes_per_sec: u32,
    /// Bytes that may arrive at once above the sustained rate (at least the
    /// largest message, or a maximum-size message could never pass).
    pub byte_burst: u32,
    /// Past either limit.
    pub policy: RatePolicy,
}

impl Default for RateLimits {
    /// 120 messages/s (burst 240): a 60 Hz input stream plus pings, acks and
    /// joins, twice over. 256 KiB/s (burst 512 KiB).
    fn default() -> Self {
        RateLimits {
            messages_per_sec: 120,
            message_burst: 240,
            bytes_per_sec: 256 * 1024,
            byte_burst: 512 * 1024,
            policy: RatePolicy::Drop,
        }
    }
}

/// The answer for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the limits.
    Pass,
    /// Over a limit: apply the policy. `notify` is true at most once a
    /// second, for the `Error` of the drop policy.
    Limited {
        /// Whether to tell the client now.
        notify: bool,
    },
}

/// One connection's buckets.
pub struct RateGate {
    messages: Option<DefaultDirectRateLimiter>,
    bytes: Option<DefaultDirectRateLimiter>,
    last_notice: Option<Instant>,
}

impl std::fmt::Debug for RateGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateGate").finish_non_exhaustive()
    }
}

fn limiter(per_sec: u32, burst: u32) -> Option<DefaultDirectRateLimiter> {
    let rate = NonZeroU32::new(per_sec)?;
    let burst = NonZeroU32::new(burst).unwrap_or(rate);
    Some(RateLimiter::direct(Quota::per_second(rate).allow_burst(burst)))
}

impl RateGate {
    /// Fresh (full) buckets for `limits`.
    pub fn new(limits: &RateLimits) -> Self {
        RateGate {
            messages: limiter(limits.messages_per_sec, limits.message_burst),
            bytes: limiter(limits.bytes_per_sec, limits.byte_burst),
            last_notice: None,
        }
    }

    /// Takes one message of `len` bytes from the buckets.
    pub fn check(&mut self, len: usize) -> Verdict {
        let msg_ok = self.messages.as_ref().is_none_or(|l| l.check().is_ok());
        let bytes_ok = self.bytes.as_ref().is_none_or(|l| {
            let n = NonZeroU32::new(u32::try_from(len).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN);
            // A message larger than the whole burst can never pass: that is a
            // configuration error, counted as over the limit.
            matches!(l.check_n(n), Ok(Ok(())))
        });
        if msg_ok && bytes_ok {
            return Verdict::Pass;
        }
        let now = Instant::now();
        let notify = self.last_notice.is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(1));
        if notify {
            self.last_notice = Some(now);
        }
        Verdict::Limited { notify }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_bucket_limits_large_messages_and_notices_are_rate_limited_too() {
        let limits = RateLimits { bytes_per_sec: 1000, byte_burst: 1000, ..RateLimits::default() };
        let mut gate = RateGate::new(&limits);
        assert_eq!(gate.check(600), Verdict::Pass);
        assert_eq!(gate.check(600), Verdict::Limited { notify: true });
        assert_eq!(gate.check(600), Verdict::Limited { notify: false });
        assert_eq!(gate.check(5000), Verdict::Limited { notify: false }, "larger than the burst");
    }

    #[test]
    fn zero_means_unlimited() {
        let limits = RateLimits { messages_per_sec: 0, bytes_per_sec: 0, ..RateLimits::default() };
        let mut gate = RateGate::new(&limits);
        assert!((0..10_000).all(|_| gate.check(1 << 20) == Verdict::Pass));
    }
}
