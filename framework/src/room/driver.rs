//! [`TickDriver`]: when rooms tick. One thread per arbiter sleeps until the
//! earliest deadline any of its rooms asked for and sends those rooms a
//! [`TickNow`]; rooms compute their deadlines from the tick clock (absolute,
//! `start + k·period`), so a late wake-up never drifts the schedule.
//!
//! Why a thread of our own rather than the async runtime's timer: tokio's
//! timer wheel has a 1 ms resolution and rounds every sleep up to the next
//! millisecond, so each tick ran 0–1 ms late (lateness p50 about 1.1 ms) no
//! matter how idle the machine was. A thread that waits on a condition with
//! a deadline (`recv_timeout`, a futex with a timeout) and asks the kernel
//! for 1 µs of timer slack wakes within tens of microseconds of the
//! deadline. Nothing on the data path runs on it: it only posts a message to
//! the room's mailbox, where the tick runs on the room's arbiter as before.
//!
//! A room reschedules by bumping its generation: a `TickNow` of an older
//! generation is ignored, so nothing needs cancelling in the queue (a stale
//! entry fires once, unseen). [`DeadlineQueue`] is the plain part, tested
//! without threads.

use actix::{Message, Recipient};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A room's tick (or empty-timeout check) is due: sent by the driver to
/// the room that asked, with the generation it asked under.
pub(crate) struct TickNow(pub u64);
impl Message for TickNow {
    type Result = ();
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

/// What the driver's thread has done, for `/metrics`.
#[derive(Debug, Default)]
pub struct DriverStats {
    /// CPU time the thread used, in ns (its own thread clock).
    pub cpu_ns: AtomicU64,
    /// Times it woke up.
    pub wakeups: AtomicU64,
    /// Ticks it sent.
    pub fired: AtomicU64,
}

struct Request {
    at: Instant,
    generation: u64,
    to: Recipient<TickNow>,
}

/// One arbiter's tick driver (see the module docs). Dropping the last
/// handle stops its thread.
pub struct TickDriver {
    tx: mpsc::Sender<Request>,
    stats: Arc<DriverStats>,
}

impl std::fmt::Debug for TickDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TickDriver").field("stats", &self.stats).finish_non_exhaustive()
    }
}

/// Deadlines this close are fired with the ones due: waking again for a
/// few microseconds costs more than it saves.
const EARLY: Duration = Duration::from_micros(20);

impl TickDriver {
    /// Starts a driver thread named `name`.
    pub fn start(name: &str) -> std::io::Result<Arc<Self>> {
        let (tx, rx) = mpsc::channel::<Request>();
        let stats = Arc::new(DriverStats::default());
        let s = stats.clone();
        std::thread::Builder::new().name(name.to_string()).spawn(move || run(rx, s))?;
        Ok(Arc::new(TickDriver { tx, stats }))
    }

    /// Sends `to` a `TickNow(generation)` at `at`.
    pub(crate) fn at(&self, at: Instant, generation: u64, to: Recipient<TickNow>) {
        // The thread only stops when every sender is gone: this never fails
        // while `self` lives.
        let _ = self.tx.send(Request { at, generation, to });
    }

    /// What the thread has done so far.
    pub fn stats(&self) -> &Arc<DriverStats> {
        &self.stats
    }
}

fn run(rx: mpsc::Receiver<Request>, stats: Arc<DriverStats>) {
    set_timer_slack();
    let mut queue: DeadlineQueue<(u64, Recipient<TickNow>)> = DeadlineQueue::default();
    let mut due = Vec::new();
    loop {
        let got = match queue.next() {
            Some(next) => rx.recv_timeout(next.saturating_duration_since(Instant::now())),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        stats.wakeups.fetch_add(1, Ordering::Relaxed);
        match got {
            Ok(r) => {
                queue.push(r.at, (r.generation, r.to));
                // Take every request already sent before sleeping again.
                while let Ok(r) = rx.try_recv() {
                    queue.push(r.at, (r.generation, r.to));
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        queue.pop_due(Instant::now() + EARLY, &mut due);
        stats.fired.fetch_add(due.len() as u64, Ordering::Relaxed);
        for (generation, to) in due.drain(..) {
            to.do_send(TickNow(generation));
        }
        stats.cpu_ns.store(thread_cpu_ns(), Ordering::Relaxed);
    }
}

/// Asks the kernel to wake this thread within 1 µs of its deadlines (the
/// default slack is 50 µs).
fn set_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes a plain integer and touches only the
    // calling thread's scheduling attributes.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1_000 as libc::c_ulong, 0, 0, 0);
    }
}

/// This thread's CPU time so far, in ns.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
    if ok {
        (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_come_out_earliest_first_and_ties_in_order() {
        let t0 = Instant::now();
        let ms = Duration::from_millis(1);
        let mut q = DeadlineQueue::default();
        q.push(t0 + ms * 3, "c");
        q.push(t0 + ms, "a");
        q.push(t0 + ms * 3, "d");
        q.push(t0 + ms * 2, "b");
        assert_eq!(q.next(), Some(t0 + ms));
        let mut out = Vec::new();
        q.pop_due(t0, &mut out);
        assert!(out.is_empty(), "nothing due yet");
        q.pop_due(t0 + ms * 2, &mut out);
        assert_eq!(out, ["a", "b"]);
        q.pop_due(t0 + ms * 10, &mut out);
        assert_eq!(out, ["a", "b", "c", "d"], "ties in the order they were added");
        assert!(q.is_empty());
        assert_eq!(q.next(), None);
    }
}
