//! Direct writes: a frame written to a connection's socket by whoever has
//! it on the socket's own thread (a room, at its tick), without waking the
//! socket's task.
//!
//! Why: profiled at 100 rooms × 20 clients × 60 Hz, a third of the
//! server's CPU outside the `sendto` itself went to carrying each state
//! from the room's tick to the socket's task: ringing its doorbell, the
//! scheduler polling the task, the task checking its timers, input and
//! queue, draining the session's outbox and encoding the frame into its
//! buffer. When the room and the socket share a thread and nothing else
//! waits to be written, none of that is needed: the frame's header and the
//! shared payload leave in one `sendmsg` (no copy of the payload) from the
//! room's tick.
//!
//! The rules that keep it invisible to the client:
//! - Only while the socket's task says so ([`Shared::open`]): its output
//!   buffer is empty and no close is under way. The task updates the flag
//!   each time it yields, so nothing it queued can be overtaken.
//! - Only on the socket's thread (the registry is thread-local), so the
//!   task is never running at the same time.
//! - Only plain TCP: a TLS socket's bytes must go through its session.
//! - A partial write leaves the rest in [`Shared::spill`], which the task
//!   writes before anything else, and rings the task.
//! - Would block, or failed: nothing was written, and the caller queues
//!   the frame as it would have without this path.
//!
//! The caller (the session's outbox) tries this only when nothing waits in
//! its own queue for the connection either.

use super::endpoint::TransportObserver;
use super::Doorbell;
use bytes::BytesMut;
use std::cell::{Cell, RefCell};
use std::io::IoSlice;
use std::os::fd::{BorrowedFd, RawFd};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The socket's side, shared by its task and the thread's registry.
pub(super) struct Shared {
    fd: RawFd,
    /// Direct writes are allowed: the task's output is empty and it is not
    /// closing (set by the task each time it yields).
    pub(super) open: Cell<bool>,
    /// What a partial direct write left: the task writes it first.
    pub(super) spill: RefCell<BytesMut>,
    bell: Doorbell,
    observer: Arc<dyn TransportObserver>,
}

impl Shared {
    /// Writes `payload` as one binary frame if it may and the socket takes
    /// it now. True: the frame is the socket's (wholly written, or its rest
    /// spilled for the task). False: nothing was written.
    fn write(&self, payload: &[u8]) -> bool {
        if !self.open.get() {
            return false;
        }
        let mut head = [0u8; 10];
        let head = frame_header(&mut head, payload.len());
        let total = head.len() + payload.len();
        // SAFETY: the descriptor is open while this entry is registered:
        // the task's `Registration` (which unregisters it) is dropped before
        // the stream that owns the descriptor.
        let fd = unsafe { BorrowedFd::borrow_raw(self.fd) };
        let sent = socket2::SockRef::from(&fd).send_vectored_with_flags(
            &[IoSlice::new(head), IoSlice::new(payload)],
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        );
        match sent {
            Ok(n) if n == total => {}
            Ok(n) if n > 0 => {
                let mut spill = self.spill.borrow_mut();
                if n < head.len() {
                    spill.extend_from_slice(&head[n..]);
                    spill.extend_from_slice(payload);
                } else {
                    spill.extend_from_slice(&payload[n - head.len()..]);
                }
                self.open.set(false);
                self.bell.ring();
            }
            Ok(_) => return false,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::WouldBlock {
                    // The task finds the failure on its own next write.
                    self.open.set(false);
                }
                return false;
            }
        }
        self.observer.message_out(payload.len());
        true
    }

    /// Puts what a partial direct write left in front of `out`.
    pub(super) fn unspill(&self, out: &mut BytesMut) {
        let mut spill = self.spill.borrow_mut();
        if spill.is_empty() {
            return;
        }
        spill.extend_from_slice(out);
        *out = std::mem::take(&mut *spill);
    }
}

/// The header of an unmasked binary frame with `len` bytes of payload
/// (RFC 6455 §5.2), in `buf`.
fn frame_header(buf: &mut [u8; 10], len: usize) -> &[u8] {
    buf[0] = 0x82; // FIN, binary
    if len < 126 {
        buf[1] = len as u8;
        &buf[..2]
    } else if let Ok(short) = u16::try_from(len) {
        buf[1] = 126;
        buf[2..4].copy_from_slice(&short.to_be_bytes());
        &buf[..4]
    } else {
        buf[1] = 127;
        buf[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        &buf[..10]
    }
}

/// Where a connection's socket can be written directly, if the writer is
/// on its thread: what the socket's endpoint hands to whoever produces its
/// frames (see the module docs). Cheap to copy, and safe to hold anywhere:
/// used from another thread, or after the connection ended, it writes
/// nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectWriter {
    thread: u64,
    slot: u32,
    id: u64,
}

impl DirectWriter {
    /// Writes `payload` as one binary frame now, if this is the socket's
    /// thread, the socket's task has nothing queued, and the socket takes
    /// it. False: nothing was written (queue it instead).
    pub fn write(&self, payload: &[u8]) -> bool {
        if self.thread != thread_id() {
            return false;
        }
        // `try_with`: a thread's locals may be gone while it exits.
        REGISTRY
            .try_with(|r| {
                let Ok(r) = r.try_borrow() else { return false };
                match r.slots.get(self.slot as usize) {
                    Some(Some((id, shared))) if *id == self.id => shared.write(payload),
                    _ => false,
                }
            })
            .unwrap_or(false)
    }
}

/// Keeps a socket registered for direct writes; unregisters it when
/// dropped (before the socket closes).
pub(super) struct Registration {
    slot: u32,
    pub(super) shared: Rc<Shared>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        // Closed to writes first: should the slot not be freed (the
        // registry busy or, as the thread exits, gone), nothing writes to
        // the descriptor once it closes.
        self.shared.open.set(false);
        let _ = REGISTRY.try_with(|r| {
            if let Ok(mut r) = r.try_borrow_mut() {
                r.slots[self.slot as usize] = None;
                r.free.push(self.slot);
            }
        });
    }
}

/// Registers the plain TCP socket `fd` of a connection on this thread.
pub(super) fn register(
    fd: RawFd,
    bell: Doorbell,
    observer: Arc<dyn TransportObserver>,
) -> Option<(DirectWriter, Registration)> {
    let shared = Rc::new(Shared { fd, open: Cell::new(false), spill: RefCell::new(BytesMut::new()), bell, observer });
    let thread = thread_id();
    REGISTRY
        .try_with(|r| {
            let mut r = r.try_borrow_mut().ok()?;
            let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
            let slot = match r.free.pop() {
                Some(s) => {
                    r.slots[s as usize] = Some((id, shared.clone()));
                    s
                }
                None => {
                    let s = u32::try_from(r.slots.len()).ok()?;
                    r.slots.push(Some((id, shared.clone())));
                    s
                }
            };
            Some((DirectWriter { thread, slot, id }, Registration { slot, shared }))
        })
        .ok()
        .flatten()
}

/// The sockets of this thread open to direct writes.
#[derive(Default)]
struct Registry {
    slots: Vec<Option<(u64, Rc<Shared>)>>,
    free: Vec<u32>,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::new(Registry::default());
    static THREAD: u64 = NEXT_ID.fetch_add(1, Ordering::Relaxed);
}

/// Ids of registrations and threads (one counter: never reused).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// This thread's id for [`DirectWriter`] (`std::thread::current()` would
/// clone an `Arc` on every write).
fn thread_id() -> u64 {
    // 0 is never an id: an exiting thread matches no writer.
    THREAD.try_with(|t| *t).unwrap_or(0)
}

/// Registers `fd` on this thread, open to direct writes at once (tests of
/// the layers above: no socket task runs it). Keep the guard alive.
#[cfg(test)]
pub(crate) fn open_for_test(fd: RawFd) -> (DirectWriter, Box<dyn std::any::Any>) {
    let (writer, registration) = register(fd, Doorbell::new(), Arc::new(())).expect("registers");
    registration.shared.open.set(true);
    (writer, Box::new(registration))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_use_the_shortest_length_encoding() {
        let mut b = [0u8; 10];
        assert_eq!(frame_header(&mut b, 125), &[0x82, 125]);
        assert_eq!(frame_header(&mut b, 126), &[0x82, 126, 0, 126]);
        assert_eq!(frame_header(&mut b, 65535), &[0x82, 126, 0xff, 0xff]);
        assert_eq!(frame_header(&mut b, 65536), &[0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    }
}
