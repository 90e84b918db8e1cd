//! [`Doorbell`]: how another thread tells a transport actor that its
//! endpoint's queue has something to send, without a mailbox message.
//!
//! Why not [`Wake`](super::Wake) through the actor's address: profiled at
//! 1,000 clients × 30 Hz, each delivery paid for a boxed envelope, the
//! mailbox's queue and its parked-sender bookkeeping on both threads (about
//! a microsecond, 5 % of the server's CPU). A doorbell is a flag and the
//! actor task's waker: ringing it sets the flag and wakes the task; the
//! actor sees it as an item of a stream it polls with its socket, and
//! rings coalesce until it does.

use actix::{Actor, ActorContext, AsyncContext, StreamHandler};
use futures_util::task::AtomicWaker;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

#[derive(Debug, Default)]
struct Bell {
    rung: AtomicBool,
    /// The actor is gone: nobody will answer.
    gone: AtomicBool,
    waker: AtomicWaker,
}

/// Rings a transport actor (see the module docs). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Doorbell(Arc<Bell>);

impl Doorbell {
    /// Tells the actor to let its endpoint drain its queue. False once the
    /// actor has stopped.
    pub fn ring(&self) -> bool {
        if self.0.gone.load(Ordering::Acquire) {
            return false;
        }
        self.0.rung.store(true, Ordering::Release);
        self.0.waker.wake();
        true
    }
}

/// A ring, as the actor's stream yields it.
#[derive(Debug)]
pub(super) struct Rung;

/// The actor's end: a stream with one item per batch of rings.
struct Rings(Arc<Bell>);

impl futures_util::Stream for Rings {
    type Item = Rung;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Rung>> {
        let bell = &self.0;
        // Registered before the flag is read, so a ring between the two
        // still wakes the task.
        bell.waker.register(cx.waker());
        if bell.rung.swap(false, Ordering::AcqRel) {
            Poll::Ready(Some(Rung))
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Rings {
    fn drop(&mut self) {
        self.0.gone.store(true, Ordering::Release);
    }
}

impl Doorbell {
    /// A doorbell nobody answers yet ([`Doorbell::install`] connects it).
    pub(super) fn new() -> Self {
        Doorbell(Arc::new(Bell::default()))
    }

    /// Connects this doorbell to the actor `ctx` runs: rings reach its
    /// `StreamHandler<Rung>`.
    pub(super) fn install<A>(&self, ctx: &mut A::Context)
    where
        A: Actor + StreamHandler<Rung>,
        A::Context: AsyncContext<A> + ActorContext,
    {
        ctx.add_stream(Rings(self.0.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn rings_coalesce_until_taken_and_a_gone_actor_answers_false() {
        let bell = Arc::new(Bell::default());
        let door = Doorbell(bell.clone());
        let mut rings = Rings(bell);
        assert!(door.ring());
        assert!(door.ring());
        assert!(matches!(rings.next().await, Some(Rung)), "two rings, one item");
        let nothing = tokio::time::timeout(std::time::Duration::from_millis(20), rings.next()).await;
        assert!(nothing.is_err(), "no ring, no item");
        let ringer = door.clone();
        let waiter = tokio::spawn(async move { rings.next().await.is_some() });
        tokio::task::yield_now().await;
        assert!(ringer.ring());
        assert!(waiter.await.unwrap(), "a ring wakes a waiting actor");
        assert!(!door.ring(), "the stream is gone: nobody answers");
    }
}
