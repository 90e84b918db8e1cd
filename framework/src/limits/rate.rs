//! [`RateGate`]: a connection's token buckets (GCRA, from `governor`) for
//! frames, bytes and whole messages per second. Every frame that arrives —
//! data, continuation, ping or pong — is charged to the frame bucket and its
//! size on the wire (payload plus header) to the byte bucket, as it arrives;
//! every whole message is charged to the message bucket before it is
//! decoded. Counting frames is what stops a message sent as a million empty
//! fragments from costing one message.
//!
//! ```
//! use playhouse::limits::{RateGate, RateLimits, Verdict};
//!
//! let limits = RateLimits { messages_per_sec: 10, message_burst: 2, ..RateLimits::default() };
//! let mut gate = RateGate::new(&limits);
//! assert_eq!(gate.frame(100), Verdict::Pass);
//! assert_eq!(gate.message(), Verdict::Pass);
//! assert_eq!(gate.message(), Verdict::Pass);
//! assert!(matches!(gate.message(), Verdict::Limited { .. }), "a burst of 2, then 1 per 100 ms");
//! ```

use governor::clock::DefaultClock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Serialize;
use std::num::NonZeroU32;
use std::sync::OnceLock;
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
    /// Sustained frames per second, every kind but close: data,
    /// continuation, ping and pong (0: unlimited).
    pub frames_per_sec: u32,
    /// Frames that may arrive at once above the sustained rate.
    pub frame_burst: u32,
    /// Sustained bytes per second on the wire: each frame's payload plus its
    /// header (0: unlimited).
    pub bytes_per_sec: u32,
    /// Bytes that may arrive at once above the sustained rate (at least the
    /// largest message, or a maximum-size message could never pass).
    pub byte_burst: u32,
    /// Past either limit.
    pub policy: RatePolicy,
}

impl Default for RateLimits {
    /// 120 messages/s (burst 240): a 60 Hz input stream plus pings, acks and
    /// joins, twice over. 240 frames/s (burst 480): room for every message
    /// in two fragments plus heartbeat pongs (browsers and the SDKs send
    /// each message as one frame). 256 KiB/s (burst 512 KiB).
    fn default() -> Self {
        RateLimits {
            messages_per_sec: 120,
            message_burst: 240,
            frames_per_sec: 240,
            frame_burst: 480,
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
    frames: Option<DefaultDirectRateLimiter>,
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
    Some(RateLimiter::direct_with_clock(Quota::per_second(rate).allow_burst(burst), clock()))
}

/// The one clock every bucket reads. `RateLimiter::direct` makes a new
/// `quanta` clock per bucket, and making one runs `CPUID` several times: in
/// a virtual machine each is a trap to the hypervisor, which profiled at
/// 3 % of the server's CPU while 10,000 clients connected (three buckets per
/// connection). A clone shares the calibration.
fn clock() -> DefaultClock {
    static CLOCK: OnceLock<DefaultClock> = OnceLock::new();
    CLOCK.get_or_init(DefaultClock::default).clone()
}

impl RateGate {
    /// Fresh (full) buckets for `limits`.
    pub fn new(limits: &RateLimits) -> Self {
        RateGate {
            messages: limiter(limits.messages_per_sec, limits.message_burst),
            frames: limiter(limits.frames_per_sec, limits.frame_burst),
            bytes: limiter(limits.bytes_per_sec, limits.byte_burst),
            last_notice: None,
        }
    }

    /// Takes one frame with `len` bytes of payload from the frame and byte
    /// buckets (the byte bucket is charged its size on the wire).
    pub fn frame(&mut self, len: usize) -> Verdict {
        let frame_ok = self.frames.as_ref().is_none_or(|l| l.check().is_ok());
        let bytes_ok = self.bytes.as_ref().is_none_or(|l| {
            let wire = wire_size(len);
            let n = NonZeroU32::new(u32::try_from(wire).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN);
            // A frame larger than the whole burst can never pass: that is a
            // configuration error, counted as over the limit.
            matches!(l.check_n(n), Ok(Ok(())))
        });
        self.verdict(frame_ok && bytes_ok)
    }

    /// Takes one whole message from the message bucket.
    pub fn message(&mut self) -> Verdict {
        let ok = self.messages.as_ref().is_none_or(|l| l.check().is_ok());
        self.verdict(ok)
    }

    fn verdict(&mut self, ok: bool) -> Verdict {
        if ok {
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

/// A client frame's size on the wire: payload, 2 header bytes, the extended
/// length (2 or 8 bytes for payloads of 126 bytes and more) and the 4-byte
/// mask every client frame carries.
fn wire_size(len: usize) -> usize {
    let extended = match len {
        0..126 => 0,
        126..65536 => 2,
        _ => 8,
    };
    len + 2 + extended + 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_bucket_limits_large_messages_and_notices_are_rate_limited_too() {
        let limits = RateLimits { bytes_per_sec: 1000, byte_burst: 1000, ..RateLimits::default() };
        let mut gate = RateGate::new(&limits);
        assert_eq!(gate.frame(592), Verdict::Pass, "600 bytes on the wire");
        assert_eq!(gate.frame(592), Verdict::Limited { notify: true });
        assert_eq!(gate.frame(592), Verdict::Limited { notify: false });
        assert_eq!(gate.frame(5000), Verdict::Limited { notify: false }, "larger than the burst");
    }

    #[test]
    fn zero_means_unlimited() {
        let limits = RateLimits { messages_per_sec: 0, frames_per_sec: 0, bytes_per_sec: 0, ..RateLimits::default() };
        let mut gate = RateGate::new(&limits);
        assert!((0..10_000).all(|_| gate.frame(1 << 20) == Verdict::Pass && gate.message() == Verdict::Pass));
    }

    #[test]
    fn empty_fragments_are_counted_one_frame_each() {
        let limits = RateLimits { frames_per_sec: 10, frame_burst: 20, ..RateLimits::default() };
        let mut gate = RateGate::new(&limits);
        let passed = (0..1000).take_while(|_| gate.frame(0) == Verdict::Pass).count();
        assert_eq!(passed, 20, "the burst, then nothing until the bucket refills");
        assert_eq!(gate.message(), Verdict::Pass, "the message bucket is separate");
    }

    #[test]
    fn the_byte_bucket_counts_frame_headers() {
        assert_eq!(wire_size(0), 6);
        assert_eq!(wire_size(125), 131);
        assert_eq!(wire_size(126), 134);
        assert_eq!(wire_size(65536), 65550);
        let limits = RateLimits { bytes_per_sec: 60, byte_burst: 60, frames_per_sec: 0, ..RateLimits::default() };
        let mut gate = RateGate::new(&limits);
        let passed = (0..100).take_while(|_| gate.frame(0) == Verdict::Pass).count();
        assert_eq!(passed, 10, "60 bytes of burst hold ten empty frames of 6 bytes each");
    }
}
