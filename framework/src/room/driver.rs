//! [`TickDriver`]: when rooms tick. Each arbiter has one: a queue of the
//! deadlines its rooms asked for and one kernel timer (`timerfd`, Linux)
//! armed for the earliest, which the arbiter's own event loop waits on. When
//! it fires, the arbiter sends the due rooms a [`TickNow`] and re-arms;
//! rooms compute their deadlines from the tick clock (absolute,
//! `start + k·period`), so a late wake-up never drifts the schedule.
//!
//! Why a timerfd rather than the async runtime's timer: tokio's timer wheel
//! has a 1 ms resolution and rounds every sleep up to the next millisecond,
//! so each tick ran 0–1 ms late (lateness p50 about 1.1 ms) however idle the
//! machine was. A timerfd is an hrtimer with no slack: the arbiter's
//! `epoll_wait` returns within microseconds of the deadline. A wake-up also
//! fires the deadlines of the next [`COALESCE`] (0.5 ms), so rooms whose
//! ticks fall close together share it: a tick runs at most that much early
//! and, behind a busy thread, late only by the wait.
//!
//! Why not a thread of its own (the first version): a driver thread costs
//! two cross-thread wake-ups per tick (the room posting its next deadline,
//! the driver posting the tick), each a futex or eventfd write and a context
//! switch; profiled at 1,000 clients × 30 Hz it was 13 % of the server's
//! CPU. On the arbiter's own loop, scheduling is a push onto a queue that
//! only this arbiter touches, and firing is a message to an actor on the
//! same thread.
//!
//! A room reschedules by bumping its generation: a `TickNow` of an older
//! generation is ignored, so nothing needs cancelling in the queue (a stale
//! entry fires once, unseen). [`DeadlineQueue`] is the plain part, tested
//! without timers.
//!
//! Why a [`TickSlot`] rather than an actix message: the room hands the
//! driver its slot once (an `Arc`, cloned per wake-up), and firing writes
//! the slot and wakes the room's task, which reads it as a stream item. An
//! actix message cost, per tick, a `Recipient` (two allocations: the box
//! and the sender's task cell), an envelope (a third), the mailbox queue's
//! push and pop and the sender count going up and down. Profiled at 1,000
//! rooms × 60 Hz, the slot took malloc from 4.3 to 1.2 % of the server's
//! CPU and actix from 8.8 to 6.1 %; CPU per delivery stayed within the
//! host's noise (`docs/benchmarks.md`, session 14).

use actix_rt::ArbiterHandle;
use futures_util::task::AtomicWaker;
use futures_util::Stream;
use parking_lot::Mutex;
use prometheus_client::metrics::histogram::Histogram;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A room's tick (or empty-timeout check) is due: what the room's
/// [`TickStream`] yields, with the generation it asked under and the
/// instant it asked for (which may be up to [`COALESCE`] ahead: the room
/// then runs what is due at that instant, a little early).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TickNow(pub u64, pub Instant);

/// Where the driver leaves a room's due wake-up: one per room, made once,
/// shared by the room's [`TickStream`] and the driver's queue.
#[derive(Debug, Default)]
pub(crate) struct TickSlot {
    /// The newest wake-up fired and not yet taken. Only the arbiter's
    /// thread touches it (the driver firing, the room reading), so the
    /// lock is never contended; it is one so the slot is `Sync`.
    due: Mutex<Option<TickNow>>,
    waker: AtomicWaker,
}

impl TickSlot {
    /// Leaves `tick` for the room and wakes it. Of two wake-ups not yet
    /// taken the newer generation stays: a stale entry that fires after
    /// the current one (it asked for a later instant) must not hide it.
    fn fire(&self, tick: TickNow) {
        {
            let mut due = self.due.lock();
            if due.is_none_or(|d| tick.0 >= d.0) {
                *due = Some(tick);
            }
        }
        self.waker.wake();
    }
}

/// A room's wake-ups, as a stream its actor adds to its context (it never
/// ends).
pub(crate) struct TickStream(pub Arc<TickSlot>);

impl Stream for TickStream {
    type Item = TickNow;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<TickNow>> {
        // Registered before the slot is read, so a fire in between is seen.
        self.0.waker.register(cx.waker());
        match self.0.due.lock().take() {
            Some(tick) => Poll::Ready(Some(tick)),
            None => Poll::Pending,
        }
    }
}

/// Deadlines, earliest first (the plain part of the driver).
#[derive(Debug)]
pub struct DeadlineQueue<T> {
    heap: BinaryHeap<Reverse<(Instant, u64, Slot<T>)>>,
    seq: u64,
}

/// Wraps a payload so the heap orders by (deadline, seq) only.
#[derive(Debug)]
struct Slot<T>(T);
impl<T> PartialEq for Slot<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<T> Eq for Slot<T> {}
impl<T> PartialOrd for Slot<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Slot<T> {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl<T> Default for DeadlineQueue<T> {
    fn default() -> Self {
        DeadlineQueue { heap: BinaryHeap::new(), seq: 0 }
    }
}

impl<T> DeadlineQueue<T> {
    /// Adds `item`, due at `at` (items due at the same instant come out in
    /// the order they were added).
    pub fn push(&mut self, at: Instant, item: T) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, Slot(item))));
    }

    /// The earliest deadline, if any.
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Takes every item due by `now`, earliest first, into `out`.
    pub fn pop_due(&mut self, now: Instant, out: &mut Vec<T>) {
        while self.heap.peek().is_some_and(|Reverse((at, _, _))| *at <= now) {
            if let Some(Reverse((_, _, Slot(item)))) = self.heap.pop() {
                out.push(item);
            }
        }
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// What a driver has done, for `/metrics`.
#[derive(Debug, Default)]
pub struct DriverStats {
    /// Time spent handling its timer (reading it, taking the due rooms,
    /// posting their ticks, re-arming), in ns; it runs on the arbiter's
    /// thread without blocking, so this is CPU time.
    pub cpu_ns: AtomicU64,
    /// Times its timer fired.
    pub wakeups: AtomicU64,
    /// Ticks it sent.
    pub fired: AtomicU64,
}

type Due = (TickNow, Arc<TickSlot>);

struct Pending {
    queue: DeadlineQueue<Due>,
    /// The deadline the timer is armed for, if armed.
    armed: Option<Instant>,
}

/// One arbiter's tick driver (see the module docs).
pub struct TickDriver {
    /// Only the arbiter's thread locks it (rooms scheduling, the timer
    /// firing), so the lock is never contended; it is a lock so the
    /// driver can be shared with the registry, which lives everywhere.
    pending: Mutex<Pending>,
    alarm: alarm::Alarm,
    stats: Arc<DriverStats>,
    /// How late each wake-up came after the earliest deadline it fired.
    lateness: Histogram,
}

impl std::fmt::Debug for TickDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TickDriver").field("stats", &self.stats).finish_non_exhaustive()
    }
}

/// Deadlines this close after the one that fired are fired with it, a
/// little early, so rooms whose ticks fall near each other share one
/// wake-up of the arbiter's thread. Rooms' schedules start when they are
/// created, so their ticks are spread over the period: 100 rooms at 30 Hz
/// woke the thread about 2,800 times a second, one `epoll_wait` return and
/// context switch each (about 9 % of the server's CPU at 1,000 clients,
/// profiled). Half a millisecond is well under any tick period (8.3 ms at
/// 120 Hz) and under the 1 ms the ticks' precision is held to; an early
/// tick runs the game exactly as an on-time one (its `dt` is the period)
/// and its lateness counts as zero.
pub const COALESCE: Duration = Duration::from_micros(500);

impl TickDriver {
    /// Starts a driver on `arbiter`: its timer is waited on by a task on
    /// that arbiter, which lives as long as the arbiter does. Each
    /// wake-up's lateness (after the earliest deadline it fires) goes to
    /// `lateness`.
    pub fn start(arbiter: &ArbiterHandle, lateness: Histogram) -> std::io::Result<Arc<Self>> {
        let driver = Arc::new(TickDriver {
            pending: Mutex::new(Pending { queue: DeadlineQueue::default(), armed: None }),
            alarm: alarm::Alarm::new()?,
            stats: Arc::new(DriverStats::default()),
            lateness,
        });
        let d = driver.clone();
        arbiter.spawn(async move {
            if let Err(e) = alarm::run(&d, || d.fire()).await {
                tracing::error!(error = %e, "tick driver stopped: its timer failed");
            }
        });
        Ok(driver)
    }

    /// Leaves a `TickNow(generation, at)` in `slot` at `at` (or up to
    /// [`COALESCE`] before).
    pub(crate) fn at(&self, at: Instant, generation: u64, slot: &Arc<TickSlot>) {
        let mut p = self.pending.lock();
        p.queue.push(at, (TickNow(generation, at), slot.clone()));
        if p.armed.is_none_or(|armed| at < armed) {
            p.armed = Some(at);
            self.alarm.arm(at);
        }
    }

    /// The timer fired: posts every due tick, re-arms for the next.
    fn fire(&self) {
        let started = Instant::now();
        let mut due = Vec::new();
        let earliest = {
            let mut p = self.pending.lock();
            let earliest = p.queue.next();
            p.queue.pop_due(started + COALESCE, &mut due);
            p.armed = p.queue.next();
            if let Some(next) = p.armed {
                self.alarm.arm(next);
            }
            earliest
        };
        if let Some(earliest) = earliest.filter(|_| !due.is_empty()) {
            self.lateness.observe(started.saturating_duration_since(earliest).as_secs_f64());
        }
        self.stats.wakeups.fetch_add(1, Ordering::Relaxed);
        self.stats.fired.fetch_add(due.len() as u64, Ordering::Relaxed);
        for (tick, slot) in due {
            slot.fire(tick);
        }
        self.stats.cpu_ns.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }

    /// What the driver has done so far.
    pub fn stats(&self) -> &Arc<DriverStats> {
        &self.stats
    }
}

/// The kernel timer: a `timerfd` on Linux, waited on through the arbiter's
/// reactor. Written by hand because what it needs is two syscalls
/// (`timerfd_create`, `timerfd_settime`); the crates that wrap them would
/// add a dependency for less code than this.
#[cfg(target_os = "linux")]
mod alarm {
    use super::TickDriver;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
    use std::sync::Arc;
    use std::time::Instant;
    use tokio::io::unix::AsyncFd;
    use tokio::io::Interest;

    pub(super) struct Alarm(OwnedFd);

    impl Alarm {
        pub(super) fn new() -> std::io::Result<Self> {
            // SAFETY: plain syscall; the result is checked before use.
            let fd = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: `fd` is a new descriptor that nothing else owns.
            Ok(Alarm(unsafe { OwnedFd::from_raw_fd(fd) }))
        }

        /// Arms the timer for `at` (relative to now: `Instant` has no
        /// public epoch). A deadline already passed fires at once.
        pub(super) fn arm(&self, at: Instant) {
            let left = at.saturating_duration_since(Instant::now());
            // A zero `it_value` would disarm the timer: 1 ns fires at once.
            let nanos = left.subsec_nanos().max(u32::from(left.as_secs() == 0));
            let spec = libc::itimerspec {
                it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
                it_value: libc::timespec { tv_sec: left.as_secs() as libc::time_t, tv_nsec: nanos as libc::c_long },
            };
            // SAFETY: `spec` is a valid itimerspec; the old value is not asked for.
            unsafe { libc::timerfd_settime(self.0.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        }
    }

    struct Fd(Arc<TickDriver>);
    impl AsRawFd for Fd {
        fn as_raw_fd(&self) -> RawFd {
            self.0.alarm.0.as_raw_fd()
        }
    }

    /// Waits for the timer on the current runtime's reactor and calls
    /// `fire` each time it expires.
    pub(super) async fn run(driver: &Arc<TickDriver>, fire: impl Fn()) -> std::io::Result<()> {
        // SAFETY: the descriptor is the driver's timerfd, owned by the
        // driver that `Fd` keeps alive, so it stays open and the same for
        // the `AsyncFd`'s whole life.
        let fd = unsafe { AsyncFd::register_with_interest(Fd(driver.clone()), Interest::READABLE) }?;
        loop {
            let mut ready = fd.readable().await?;
            let mut expirations = [0u8; 8];
            // SAFETY: reads at most 8 bytes into a buffer of 8.
            let n = unsafe { libc::read(fd.as_raw_fd(), expirations.as_mut_ptr().cast(), 8) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::WouldBlock {
                    ready.clear_ready();
                    continue;
                }
                return Err(e);
            }
            // Read: the timer is consumed, so its readiness is cleared now
            // rather than found out by one more `read` that fails (one
            // syscall per wake-up). An expiry after this one is a new
            // edge, which tokio's readiness tick keeps from being cleared.
            ready.clear_ready();
            fire();
        }
    }
}

/// Elsewhere: the runtime's timer (1 ms resolution), woken early when a
/// room asks for an earlier deadline.
#[cfg(not(target_os = "linux"))]
mod alarm {
    use super::TickDriver;
    use parking_lot::Mutex;
    use std::sync::Arc;
    use std::time::Instant;
    use tokio::sync::Notify;

    pub(super) struct Alarm {
        at: Mutex<Option<Instant>>,
        rearmed: Notify,
    }

    impl Alarm {
        pub(super) fn new() -> std::io::Result<Self> {
            Ok(Alarm { at: Mutex::new(None), rearmed: Notify::new() })
        }

        pub(super) fn arm(&self, at: Instant) {
            *self.at.lock() = Some(at);
            self.rearmed.notify_one();
        }
    }

    pub(super) async fn run(driver: &Arc<TickDriver>, fire: impl Fn()) -> std::io::Result<()> {
        loop {
            let at = driver.alarm.at.lock().take();
            match at {
                Some(at) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(at.into()) => fire(),
                        _ = driver.alarm.rearmed.notified() => {
                            // Re-armed: wait for the new deadline instead
                            // (unless another fired meanwhile).
                            let mut slot = driver.alarm.at.lock();
                            if slot.is_none() { *slot = Some(at); }
                        }
                    }
                }
                None => driver.alarm.rearmed.notified().await,
            }
        }
    }
}

#[cfg(test)]
#[path = "driver_tests.rs"]
mod tests;
