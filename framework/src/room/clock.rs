//! The tick clock: tick k is due at `start + k·period`, so ticks never drift.
//! A late tick runs at once and reports its lateness; a tick more than one
//! period late is skipped (counted), never bunched with the next.
//!
//! A room that stops ticking for a while (it sleeps while empty) restarts
//! its clock with [`TickClock::restart_at`]: the schedule is anchored anew,
//! tick numbers go on, and the time asleep is neither caught up nor counted
//! as skipped ticks.
//!
//! **Shared phases.** A clock put on the grid ([`TickClock::align`], which
//! every running room does) anchors its schedule only at one of
//! [`PHASES`] instants per period, counted from one process-wide epoch, so
//! rooms of the same tick rate created at any time tick at exactly the same
//! instants as the others of their phase. Why: each distinct deadline costs
//! the arbiter a timer wake-up, and each wake-up of a room's clients' thread
//! a cross-thread wake-up and a context switch; 1,000 rooms at 60 Hz with
//! their own phases meant 60,000 of each per second. On the grid they
//! cost 16 × 60 per arbiter, and the rooms of one phase tick one after
//! another in one wake-up. The price: a room's first tick (and its first
//! after sleeping, or after a restore) waits up to a sixteenth of a period,
//! and the last room of a phase starts its tick after the others of it (its
//! lateness, which `/metrics` shows).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Phases per period on the grid (see the module docs).
pub const PHASES: u64 = 16;

/// The first instant at or after `t` that is on the grid of `period`:
/// `epoch + n·period + ⌊i·period / PHASES⌋` for whole `n` and `i`.
pub fn on_grid(t: Instant, period: Duration) -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    let Some(since) = t.checked_duration_since(epoch) else { return epoch };
    let p = (period.as_nanos() as u64).max(1);
    let since = since.as_nanos() as u64;
    let (n, within) = (since / p, since % p);
    let phase = |i: u64| (u128::from(i) * u128::from(p) / u128::from(PHASES)) as u64;
    let mut i = (u128::from(within) * u128::from(PHASES)).div_ceil(u128::from(p)) as u64;
    while phase(i) < within {
        i += 1;
    }
    epoch + Duration::from_nanos(n * p + phase(i))
}

/// The outcome of polling the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockPoll {
    /// The tick to run now and how late it is, if one is due.
    pub run: Option<(u64, Duration)>,
    /// Ticks skipped because they were more than a period late.
    pub skipped: u64,
    /// When the next tick is due.
    pub next_due: Instant,
}

/// A fixed-rate clock.
///
/// ```
/// use playhouse::room::{ClockPoll, TickClock};
/// use std::time::{Duration, Instant};
///
/// let t0 = Instant::now();
/// let mut c = TickClock::new(t0, Duration::from_millis(10));
/// assert_eq!(c.poll(t0).run, Some((0, Duration::ZERO)));
/// // 35 ms later: ticks 1 and 2 are more than a period late and skipped
/// let p = c.poll(t0 + Duration::from_millis(35));
/// assert_eq!((p.run, p.skipped), (Some((3, Duration::from_millis(5))), 2));
/// // Not polled for a minute (the room slept): tick 4 is due when it wakes.
/// let wake = t0 + Duration::from_secs(60);
/// c.restart_at(wake);
/// assert_eq!(c.poll(wake), ClockPoll { run: Some((4, Duration::ZERO)), skipped: 0, next_due: wake + Duration::from_millis(10) });
/// ```
#[derive(Debug, Clone)]
pub struct TickClock {
    /// When tick `first` is due.
    start: Instant,
    period: Duration,
    first: u64,
    next: u64,
    /// Anchored on the grid ([`TickClock::align`]).
    aligned: bool,
}

impl TickClock {
    /// Tick 0 is due at `start`.
    pub fn new(start: Instant, period: Duration) -> Self {
        assert!(!period.is_zero(), "tick period must be positive");
        TickClock { start, period, first: 0, next: 0, aligned: false }
    }

    /// Puts the clock on the grid shared by every clock of its period (see
    /// the module docs): the next tick moves to the first grid instant at
    /// or after its due time, and every later anchoring (`restart_at`,
    /// `resume_at`) lands on the grid too. Tick numbers are unchanged.
    pub fn align(&mut self) {
        self.aligned = true;
        self.start = on_grid(self.due(self.next), self.period);
        self.first = self.next;
    }

    fn anchor(&self, now: Instant) -> Instant {
        if self.aligned {
            on_grid(now, self.period)
        } else {
            now
        }
    }

    /// When tick `k` is due (ticks before the last restart: at the restart).
    pub fn due(&self, k: u64) -> Instant {
        let nanos = self.period.as_nanos() as u64 * k.saturating_sub(self.first);
        self.start + Duration::from_nanos(nanos)
    }

    /// Anchors the schedule at `now` (on the grid: the first grid instant
    /// from `now`): the next tick is due then and the ones after it a
    /// period apart. Tick numbers go on where they were.
    pub fn restart_at(&mut self, now: Instant) {
        self.start = self.anchor(now);
        self.first = self.next;
    }

    /// Tick `next` is due at `now`, the ones after it a period apart (a
    /// room restored on another node goes on with its tick numbers).
    pub fn resume_at(&mut self, now: Instant, next: u64) {
        self.start = self.anchor(now);
        self.first = next;
        self.next = next;
    }

    /// The next tick to run.
    pub fn next_tick(&self) -> u64 {
        self.next
    }

    /// The timer fired at `now`: which tick runs, and what was skipped.
    pub fn poll(&mut self, now: Instant) -> ClockPoll {
        let due = self.due(self.next);
        if now < due {
            return ClockPoll { run: None, skipped: 0, next_due: due };
        }
        let period = self.period.as_nanos() as u64;
        let late = (now - due).as_nanos() as u64;
        // Skip every tick that is more than one period late, in one step.
        let skipped = if late > period { (late - 1) / period } else { 0 };
        let k = self.next + skipped;
        let lateness = now - self.due(k);
        self.next = k + 1;
        ClockPoll { run: Some((k, lateness)), skipped, next_due: self.due(self.next) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn on_time_ticks_never_drift() {
        let t0 = Instant::now();
        let p = Duration::from_nanos(33_333_333);
        let mut c = TickClock::new(t0, p);
        for k in 0..3000u64 {
            let poll = c.poll(c.due(k) + Duration::from_micros(300));
            assert_eq!(poll.run, Some((k, Duration::from_micros(300))));
        }
        // tick 3000 is due exactly 100 s (±rounding of one period) after start
        assert!(c.due(3000) - t0 <= Duration::from_secs(100));
        assert!(c.due(3000) - t0 > Duration::from_millis(99_999));
    }

    #[test]
    fn early_wakeups_run_nothing() {
        let t0 = Instant::now();
        let mut c = TickClock::new(t0, Duration::from_millis(10));
        c.poll(t0);
        let p = c.poll(t0 + Duration::from_millis(9));
        assert_eq!(p.run, None);
        assert_eq!(p.next_due, t0 + Duration::from_millis(10));
    }

    #[test]
    fn exactly_one_period_late_still_runs() {
        let t0 = Instant::now();
        let mut c = TickClock::new(t0, Duration::from_millis(10));
        assert_eq!(
            c.poll(t0 + Duration::from_millis(10)),
            ClockPoll {
                run: Some((0, Duration::from_millis(10))),
                skipped: 0,
                next_due: t0 + Duration::from_millis(10)
            }
        );
    }

    #[test]
    fn a_restarted_clock_numbers_on_and_neither_catches_up_nor_skips() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut c = TickClock::new(t0, ms(10));
        c.poll(t0);
        c.poll(t0 + ms(10));
        let wake = t0 + ms(5_003); // 500 periods later
        c.restart_at(wake);
        assert_eq!(c.next_tick(), 2);
        assert_eq!(c.poll(wake).run, Some((2, Duration::ZERO)));
        assert_eq!(c.poll(wake + ms(1)).run, None, "no catch-up burst");
        let p = c.poll(wake + ms(11));
        assert_eq!((p.run, p.skipped), (Some((3, ms(1))), 0));
        assert_eq!(c.due(4), wake + ms(20), "the new schedule does not drift either");
    }

    #[test]
    fn aligned_clocks_of_one_rate_share_their_instants_whenever_they_were_made() {
        let period = Duration::from_nanos(16_666_667);
        let t0 = on_grid(Instant::now(), period);
        assert_eq!(on_grid(t0, period), t0, "a grid instant is on the grid");
        let slot = period / PHASES as u32;
        let mut a = TickClock::new(t0 + Duration::from_micros(1), period);
        let mut b = TickClock::new(t0 + period * 1_000 + slot / 2, period);
        a.align();
        b.align();
        assert!(a.due(0) >= t0 + Duration::from_micros(1) && a.due(0) - t0 <= slot + Duration::from_nanos(1));
        // b starts within a slot of when it asked, on a grid instant
        let asked = t0 + period * 1_000 + slot / 2;
        assert!(b.due(0) >= asked && b.due(0) - asked <= slot);
        // ... and from then on shares an instant with a, tick after tick,
        // whenever a's schedule reaches the same phase.
        let offset = (b.due(0) - a.due(0)).as_nanos() % period.as_nanos();
        let in_phase = (0..PHASES as u128).any(|i| offset == i * period.as_nanos() / PHASES as u128);
        assert!(in_phase, "offset {offset} ns is not a grid phase");
        let mut c = TickClock::new(a.due(0) + period * 77, period);
        c.align();
        assert_eq!(c.due(5), a.due(82), "same phase: the very same instants");
        // restarting (a room waking) lands on the grid too
        c.restart_at(c.due(5) + Duration::from_micros(3));
        assert_eq!(on_grid(c.due(c.next_tick()), period), c.due(c.next_tick()));
    }

    proptest! {
        #[test]
        fn lateness_never_exceeds_a_period_and_ticks_only_increase(gaps in proptest::collection::vec(0u64..100_000, 1..200)) {
            let t0 = Instant::now();
            let period = Duration::from_millis(16);
            let mut c = TickClock::new(t0, period);
            let mut now = t0;
            let mut last: Option<u64> = None;
            let mut accounted = 0u64;
            for g in gaps {
                now += Duration::from_micros(g);
                let p = c.poll(now);
                if let Some((k, late)) = p.run {
                    prop_assert!(late <= period);
                    if let Some(l) = last { prop_assert!(k > l); }
                    prop_assert_eq!(k, accounted + p.skipped);
                    accounted = k + 1;
                    last = Some(k);
                } else {
                    prop_assert_eq!(p.skipped, 0);
                }
                prop_assert!(p.next_due >= now || p.run.is_none());
            }
        }
    }
}
