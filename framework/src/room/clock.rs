//! The tick clock: tick k is due at `start + k·period`, so ticks never drift.
//! A late tick runs at once and reports its lateness; a tick more than one
//! period late is skipped (counted), never bunched with the next.
//!
//! A room that stops ticking for a while (it sleeps while empty) restarts
//! its clock with [`TickClock::restart_at`]: the schedule is anchored anew,
//! tick numbers go on, and the time asleep is neither caught up nor counted
//! as skipped ticks.
//!
//! A clock may be kept on a grid ([`TickClock::on_grid`]): its ticks then
//! fall only on `origin + n·period`, wherever it is anchored. Rooms of one
//! rate on the process's [`shared_grid`] tick at the same instants, so one
//! timer wake-up ticks them all and a player in several of them gets their
//! states of one tick in one write ([`RoomType::aligned_ticks`](super::RoomType::aligned_ticks)).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The origin of the grid every aligned room of this process ticks on (the
/// first time it is asked for).
pub fn shared_grid() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
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
    /// The origin of the grid the ticks fall on, if kept on one.
    grid: Option<Instant>,
}

impl TickClock {
    /// Tick 0 is due at `start`.
    pub fn new(start: Instant, period: Duration) -> Self {
        assert!(!period.is_zero(), "tick period must be positive");
        TickClock { start, period, first: 0, next: 0, grid: None }
    }

    /// A clock whose ticks fall only on `origin + n·period`: tick 0 is due
    /// at the first such instant at or after `now`, and every re-anchoring
    /// ([`restart_at`](Self::restart_at), [`resume_at`](Self::resume_at))
    /// waits for the next one too.
    ///
    /// ```
    /// use playhouse::room::TickClock;
    /// use std::time::{Duration, Instant};
    ///
    /// let origin = Instant::now();
    /// let ms = Duration::from_millis;
    /// let a = TickClock::on_grid(origin + ms(3), ms(10), origin);
    /// let b = TickClock::on_grid(origin + ms(7), ms(10), origin);
    /// assert_eq!(a.due(0), origin + ms(10));
    /// assert_eq!(a.due(5), b.due(5), "two rooms created apart tick together");
    /// ```
    pub fn on_grid(now: Instant, period: Duration, origin: Instant) -> Self {
        let mut clock = TickClock::new(now, period);
        clock.grid = Some(origin);
        clock.start = clock.anchor(now);
        clock
    }

    /// Where a schedule anchored at `now` starts: `now`, or on a grid the
    /// first grid instant at or after it.
    fn anchor(&self, now: Instant) -> Instant {
        let Some(origin) = self.grid else { return now };
        let Some(elapsed) = now.checked_duration_since(origin) else { return origin };
        let period = self.period.as_nanos();
        let n = elapsed.as_nanos().div_ceil(period);
        origin + Duration::from_nanos(u64::try_from(n * period).unwrap_or(u64::MAX))
    }

    /// When tick `k` is due (ticks before the last restart: at the restart).
    pub fn due(&self, k: u64) -> Instant {
        let nanos = self.period.as_nanos() as u64 * k.saturating_sub(self.first);
        self.start + Duration::from_nanos(nanos)
    }

    /// Anchors the schedule at `now`: the next tick is due at `now` and the
    /// ones after it a period apart. Tick numbers go on where they were.
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
    fn clocks_on_one_grid_tick_together_however_they_are_anchored() {
        let origin = Instant::now();
        let us = Duration::from_micros;
        let period = Duration::from_nanos(16_666_666);
        let mut a = TickClock::on_grid(origin + us(1), period, origin);
        let mut b = TickClock::on_grid(origin + us(16_000), period, origin);
        assert_eq!(a.due(0), origin + period, "the first grid instant after the anchor");
        assert_eq!((a.due(0), a.due(7)), (b.due(0), b.due(7)));
        // On a grid instant exactly: due then, not a period later.
        let c = TickClock::on_grid(origin + period * 3, period, origin);
        assert_eq!(c.due(0), origin + period * 3);
        // A restart and a resume wait for the grid too.
        a.poll(a.due(0));
        a.restart_at(origin + period * 40 + us(5));
        assert_eq!(a.due(a.next_tick()), origin + period * 41);
        b.resume_at(origin + period * 40 + us(5), 99);
        assert_eq!(b.due(99), a.due(a.next_tick()));
        // Off the grid, anchors are where they are asked.
        let mut d = TickClock::new(origin + us(5), period);
        d.restart_at(origin + us(7));
        assert_eq!(d.due(d.next_tick()), origin + us(7));
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
