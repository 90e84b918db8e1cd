//! [`Doorbell`]: how another thread tells a socket's task that its
//! endpoint's queue has something to send (and [`Closer`]: that it should
//! close), without a message queue.
//!
//! Why not a mailbox message: profiled at 1,000 clients × 30 Hz, each
//! delivery paid for a boxed envelope, the mailbox's queue and its
//! parked-sender bookkeeping on both threads (about a microsecond, 5 % of
//! the server's CPU, when the transport was an actix actor). A doorbell is
//! a flag and the task's waker: ringing it sets the flag and wakes the
//! task, and rings coalesce until the task looks.

use crate::protocol::CloseCode;
use futures_util::task::AtomicWaker;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Context;

#[derive(Debug, Default)]
struct Bell {
    rung: AtomicBool,
    /// The task is gone: nobody will answer.
    gone: AtomicBool,
    waker: AtomicWaker,
    /// A close was asked for: read on every wake-up, so the mutex below
    /// is taken only when there is something in it.
    close_asked: AtomicBool,
    /// A close asked for from outside (rare: a mutex is fine).
    close: Mutex<Option<(CloseCode, String)>>,
}

/// Something that wakes a consumer to drain its queue: false once nobody
/// will answer. A socket's doorbell is one ([`Doorbell::ringer`]), and so
/// is any `Fn() -> bool` (tests, tools).
///
/// Why a trait and not `Arc<dyn Fn() -> bool>`: a closure that rings a
/// doorbell is an allocation of its own around the bell's, so every push
/// of a state read one more cold cache line per connection (profiled at
/// 10,000 clients); `Arc<dyn Ring>` made from the bell is the bell.
pub trait Ring: Send + Sync {
    /// Wakes the consumer; false once it is gone.
    fn ring(&self) -> bool;
}

impl<F: Fn() -> bool + Send + Sync> Ring for F {
    fn ring(&self) -> bool {
        self()
    }
}

impl Ring for Bell {
    fn ring(&self) -> bool {
        if self.gone.load(Ordering::Acquire) {
            return false;
        }
        self.rung.store(true, Ordering::Release);
        self.waker.wake();
        true
    }
}

/// Rings a socket's task (see the module docs). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Doorbell(Arc<Bell>);

impl Doorbell {
    /// Tells the task to let its endpoint drain its queue. False once the
    /// connection has ended.
    pub fn ring(&self) -> bool {
        self.0.ring()
    }

    /// This doorbell as a [`Ring`], with no allocation of its own.
    pub fn ringer(&self) -> Arc<dyn Ring> {
        self.0.clone()
    }
}

impl Doorbell {
    /// A doorbell nobody answers until its socket's task polls it.
    pub(super) fn new() -> Self {
        Doorbell(Arc::new(Bell::default()))
    }

    /// The socket task's side: whether it was rung since the last call.
    /// The task's waker is registered before the flag is read, so a ring
    /// between the two still wakes it.
    pub(super) fn take(&self, cx: &Context<'_>) -> bool {
        self.0.waker.register(cx.waker());
        self.0.rung.swap(false, Ordering::AcqRel)
    }

    /// Asks the socket task to close with `code` and `reason` (the first
    /// request wins). False once the task has ended.
    pub(super) fn request_close(&self, code: CloseCode, reason: &str) -> bool {
        if self.0.gone.load(Ordering::Acquire) {
            return false;
        }
        self.0.close.lock().get_or_insert_with(|| (code, reason.to_string()));
        self.0.close_asked.store(true, Ordering::Release);
        self.0.waker.wake();
        true
    }

    /// The close asked for with [`Doorbell::request_close`], once.
    pub(super) fn take_close(&self) -> Option<(CloseCode, String)> {
        // A load first: this runs on every wake-up and is almost always
        // false, and a swap would take the line for writing each time.
        if !self.0.close_asked.load(Ordering::Acquire) || !self.0.close_asked.swap(false, Ordering::AcqRel) {
            return None;
        }
        self.0.close.lock().take()
    }

    /// The socket task has ended: rings and close requests answer false.
    pub(super) fn hang_up(&self) {
        self.0.gone.store(true, Ordering::Release);
    }
}

/// Closes a connection from another thread (e.g. one whose session another
/// connection has resumed): the socket task runs the close handshake with
/// the given code and reason.
#[derive(Debug, Clone)]
pub struct Closer(pub(super) Doorbell);

impl Closer {
    /// Asks for a close; false once the connection has ended.
    pub fn close(&self, code: CloseCode, reason: &str) -> bool {
        self.0.request_close(code, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::task::noop_waker_ref;

    #[test]
    fn rings_coalesce_until_taken_and_a_hung_up_bell_answers_false() {
        let cx = Context::from_waker(noop_waker_ref());
        let door = Doorbell::new();
        assert!(!door.take(&cx), "not rung yet");
        assert!(door.ring());
        assert!(door.ring());
        assert!(door.take(&cx), "two rings, one take");
        assert!(!door.take(&cx), "no ring, nothing to take");
        let closer = Closer(door.clone());
        assert!(closer.close(CloseCode::Policy, "first"));
        assert!(closer.close(CloseCode::Normal, "second"));
        assert_eq!(door.take_close(), Some((CloseCode::Policy, "first".to_string())), "the first request wins");
        assert_eq!(door.take_close(), None, "taken once");
        door.hang_up();
        assert!(!door.ring(), "the task is gone: nobody answers");
        assert!(!closer.close(CloseCode::Normal, "late"));
    }

    #[tokio::test]
    async fn a_ring_wakes_a_waiting_task() {
        let door = Doorbell::new();
        let ringer = door.clone();
        let waiter = tokio::spawn(async move {
            std::future::poll_fn(|cx| if door.take(cx) { std::task::Poll::Ready(()) } else { std::task::Poll::Pending })
                .await
        });
        tokio::task::yield_now().await;
        assert!(ringer.ring());
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter).await.unwrap().unwrap();
    }
}
