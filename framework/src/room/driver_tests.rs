//! The tick driver's tests: the deadline queue by hand, the slot and the
//! timer on a real arbiter.

use super::*;
use actix::{Actor, StreamHandler};

type Log = Arc<Mutex<Vec<(u64, Instant, Instant)>>>;

/// Records the `TickNow`s its stream yields: (generation, asked for,
/// arrived); the slot is added as the room actor adds it.
struct Recorder(Log, Arc<TickSlot>);
impl Actor for Recorder {
    type Context = actix::Context<Self>;
    fn started(&mut self, ctx: &mut Self::Context) {
        Self::add_stream(TickStream(self.1.clone()), ctx);
    }
}
impl StreamHandler<TickNow> for Recorder {
    fn handle(&mut self, msg: TickNow, _: &mut Self::Context) {
        self.0.lock().push((msg.0, msg.1, Instant::now()));
    }
}

fn lateness() -> Histogram {
    Histogram::new([0.001, 0.01])
}

fn recorder() -> (Log, Arc<TickSlot>) {
    let (log, slot) = (Log::default(), Arc::new(TickSlot::default()));
    Recorder(log.clone(), slot.clone()).start();
    (log, slot)
}

#[cfg(target_os = "linux")]
#[actix_rt::test]
async fn deadlines_within_the_coalescing_window_share_one_wake_up_and_none_fires_before_it() {
    let late = lateness();
    let driver = TickDriver::start(&actix_rt::Arbiter::current(), late.clone()).unwrap();
    let ((got_a, a), (got_b, b)) = (recorder(), recorder());
    let first = Instant::now() + Duration::from_millis(20);
    let second = first + COALESCE / 2;
    driver.at(second, 2, &b);
    driver.at(first, 1, &a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (got_a, got_b) = (got_a.lock().clone(), got_b.lock().clone());
    let asked = |g: &[(u64, Instant, Instant)]| g.iter().map(|g| (g.0, g.1)).collect::<Vec<_>>();
    assert_eq!((asked(&got_a), asked(&got_b)), (vec![(1, first)], vec![(2, second)]), "each with its instant");
    assert!(
        got_a.iter().chain(&got_b).all(|&(_, _, arrived)| arrived >= first),
        "nothing fires before the first deadline"
    );
    assert_eq!(driver.stats().wakeups.load(Ordering::Relaxed), 1, "one wake-up for both");
    assert_eq!(driver.stats().fired.load(Ordering::Relaxed), 2);
    assert_eq!(late.count(), 1, "its lateness observed once");
    let woke = got_a[0].2.min(got_b[0].2);
    assert!(late.sum() <= woke.duration_since(first).as_secs_f64(), "measured from the earliest deadline");
}

#[cfg(target_os = "linux")]
#[actix_rt::test]
async fn a_room_sees_its_newest_wake_up_even_when_a_stale_one_fires_after_it() {
    let driver = TickDriver::start(&actix_rt::Arbiter::current(), lateness()).unwrap();
    let (got, slot) = recorder();
    let t0 = Instant::now() + Duration::from_millis(20);
    // Asked for t0 + 0.4 ms (generation 1), then rescheduled to t0
    // (generation 2): one wake-up fires both, the stale one last.
    driver.at(t0 + COALESCE * 4 / 5, 1, &slot);
    driver.at(t0, 2, &slot);
    // Then the next tick, on its own wake-up.
    let next = t0 + Duration::from_millis(30);
    driver.at(next, 3, &slot);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let got: Vec<_> = got.lock().iter().map(|g| (g.0, g.1)).collect();
    assert_eq!(got, [(2, t0), (3, next)]);
    assert_eq!(driver.stats().wakeups.load(Ordering::Relaxed), 2);
}

#[test]
fn a_slot_keeps_the_newest_generation_until_taken() {
    let slot = Arc::new(TickSlot::default());
    let mut stream = TickStream(slot.clone());
    let mut cx = Context::from_waker(std::task::Waker::noop());
    let t0 = Instant::now();
    assert_eq!(Pin::new(&mut stream).poll_next(&mut cx), Poll::Pending);
    slot.fire(TickNow(5, t0));
    slot.fire(TickNow(4, t0 + Duration::from_millis(1)));
    assert_eq!(Pin::new(&mut stream).poll_next(&mut cx), Poll::Ready(Some(TickNow(5, t0))));
    assert_eq!(Pin::new(&mut stream).poll_next(&mut cx), Poll::Pending, "taken once");
    slot.fire(TickNow(4, t0));
    assert_eq!(
        Pin::new(&mut stream).poll_next(&mut cx),
        Poll::Ready(Some(TickNow(4, t0))),
        "a stale one alone is seen (and ignored by the room)"
    );
}

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
