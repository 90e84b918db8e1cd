//! How long to wait before a reconnect attempt: [`Backoff`] (exponential,
//! full jitter) and the [`Jitter`] source it draws from. Pure values: no
//! clock, no sockets; the reconnecting client asks, then sleeps.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

/// Exponential backoff with full jitter: the wait before attempt `n` of an
/// outage (0 for the first) is uniform in `[0, min(cap, base · 2^n))`, so a
/// crowd of clients dropped at once comes back spread out instead of in
/// waves. The defaults match the JS SDK (250 ms, 5 s, 8 tries).
///
/// ```
/// use playhouse_client::reconnect::Backoff;
/// use std::time::Duration;
///
/// let b = Backoff { base: Duration::from_millis(100), cap: Duration::from_secs(1), max_tries: 5 };
/// assert_eq!(b.ceiling(0), Duration::from_millis(100));
/// assert_eq!(b.ceiling(3), Duration::from_millis(800));
/// assert_eq!(b.ceiling(4), Duration::from_secs(1)); // capped
/// assert_eq!(b.delay(3, 0.5), Duration::from_millis(400));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first attempt's wait; it doubles per attempt.
    pub base: Duration,
    /// No wait is longer than this.
    pub cap: Duration,
    /// Attempts one outage may make before the client gives up (and the
    /// first connection too). 0: never reconnect (the first connection
    /// still gets one attempt).
    pub max_tries: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base: Duration::from_millis(250), cap: Duration::from_secs(5), max_tries: 8 }
    }
}

impl Backoff {
    /// The longest wait before attempt `n`: `min(cap, base · 2^n)`, without
    /// overflowing however large `n` grows.
    pub fn ceiling(&self, n: u32) -> Duration {
        if self.base.is_zero() {
            return Duration::ZERO;
        }
        match 1u32.checked_shl(n).and_then(|f| self.base.checked_mul(f)) {
            Some(d) => d.min(self.cap),
            None => self.cap,
        }
    }

    /// The wait before attempt `n` for a random draw `r` in `[0, 1)`:
    /// `r · ceiling(n)`. `r` outside `[0, 1]` (or NaN, from a careless
    /// random source) is clamped.
    pub fn delay(&self, n: u32, r: f64) -> Duration {
        let r = if r.is_nan() { 0.0 } else { r.clamp(0.0, 1.0) };
        self.ceiling(n).mul_f64(r)
    }
}

/// Where the backoff's random draws come from: a number in `[0, 1)` per
/// attempt. Seed it (or pass a function) to make reconnect timing
/// deterministic in tests; the default draws from a generator seeded by the
/// operating system.
///
/// ```
/// use playhouse_client::reconnect::Jitter;
///
/// let (mut a, mut b) = (Jitter::seeded(7), Jitter::seeded(7));
/// assert_eq!(a.draw(), b.draw());
/// let mut fixed = Jitter::from_fn(|| 0.25);
/// assert_eq!(fixed.draw(), 0.25);
/// ```
// Sync too: a `ReconnectingClient` (which owns one) is then Sync, so its
// futures, which hold `&self` across awaits, are Send and can be spawned.
pub struct Jitter(Box<dyn FnMut() -> f64 + Send + Sync>);

impl Jitter {
    /// A generator seeded with `seed`: the same seed, the same delays.
    pub fn seeded(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        Jitter(Box::new(move || rng.random::<f64>()))
    }

    /// Draws from `f`, which should return numbers in `[0, 1)`.
    pub fn from_fn(f: impl FnMut() -> f64 + Send + Sync + 'static) -> Self {
        Jitter(Box::new(f))
    }

    /// The next draw.
    pub fn draw(&mut self) -> f64 {
        (self.0)()
    }
}

impl Default for Jitter {
    fn default() -> Self {
        let mut rng = StdRng::from_os_rng();
        Jitter(Box::new(move || rng.random::<f64>()))
    }
}

impl std::fmt::Debug for Jitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jitter")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn backoff(base_ms: u32, cap_ms: u32) -> Backoff {
        Backoff { base: MS * base_ms, cap: MS * cap_ms, max_tries: 8 }
    }

    #[test]
    fn ceiling_doubles_per_attempt_up_to_the_cap() {
        let b = backoff(250, 5000);
        let ceilings: Vec<u128> = (0..7).map(|n| b.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [250, 500, 1000, 2000, 4000, 5000, 5000]);
    }

    #[test]
    fn ceiling_never_overflows() {
        let b = backoff(250, 5000);
        for n in [31, 32, 33, 63, 64, u32::MAX] {
            assert_eq!(b.ceiling(n), MS * 5000, "attempt {n}");
        }
        let huge = Backoff { base: Duration::MAX, cap: Duration::MAX, max_tries: 1 };
        assert_eq!(huge.ceiling(1), Duration::MAX);
    }

    #[test]
    fn zero_base_means_no_wait() {
        let b = backoff(0, 5000);
        assert_eq!(b.ceiling(40), Duration::ZERO);
        assert_eq!(b.delay(40, 0.9), Duration::ZERO);
    }

    #[test]
    fn delay_is_full_jitter_of_the_ceiling() {
        let b = backoff(100, 1000);
        assert_eq!(b.delay(0, 0.0), Duration::ZERO);
        assert_eq!(b.delay(2, 0.5), MS * 200);
        assert_eq!(b.delay(5, 0.25), MS * 250);
    }

    #[test]
    fn careless_draws_are_clamped() {
        let b = backoff(100, 1000);
        assert_eq!(b.delay(1, -3.0), Duration::ZERO);
        assert_eq!(b.delay(1, f64::NAN), Duration::ZERO);
        assert_eq!(b.delay(1, 7.0), MS * 200);
        assert_eq!(b.delay(1, f64::INFINITY), MS * 200);
    }

    #[test]
    fn seeded_draws_repeat_and_stay_in_range() {
        let (mut a, mut b) = (Jitter::seeded(42), Jitter::seeded(42));
        let xs: Vec<f64> = (0..100).map(|_| a.draw()).collect();
        let ys: Vec<f64> = (0..100).map(|_| b.draw()).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)), "{xs:?}");
        assert!(xs.windows(2).any(|w| w[0] != w[1]), "a generator, not a constant");
    }

    #[test]
    fn seeded_delays_stay_within_each_ceiling() {
        let b = backoff(50, 400);
        let mut j = Jitter::seeded(9);
        for n in 0..20 {
            let d = b.delay(n, j.draw());
            assert!(d <= b.ceiling(n), "attempt {n}: {d:?} > {:?}", b.ceiling(n));
        }
    }
}
