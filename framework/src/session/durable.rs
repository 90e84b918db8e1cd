//! [`DurableLog`]: a cluster node's writer of session records and reliable
//! frames to the failover store, so a session outlives its node (design
//! §11: "reliable messages go to the session's stream in Redis, pipelined,
//! bounded").
//!
//! Connections hand it operations without waiting (`push`, under the
//! session's lock, in seq order); one task per node sends them in batches,
//! one store call per batch, in order. The queue is bounded: when the store
//! is slower than the game, an operation that does not fit is dropped and
//! counted, never waited for. A dropped append leaves a hole in the
//! session's stream, and a node adopting the session keeps only what
//! follows the hole (a client that missed frames before it resyncs: its
//! replay is never wrong, only shorter).
//!
//! [`SessionRecord`] is what a record holds: everything a node needs to
//! take a lost node's session over and check its resume token.

use crate::backend::{FailoverStore, SessionOp};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most operations sent in one store call.
const BATCH: usize = 512;

/// A session as the failover store keeps it (MessagePack).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The id the client sees (`Welcome.session`).
    pub name: String,
    /// The session's nonce (its tokens carry it).
    pub nonce: u64,
    /// The current token generation (only that token resumes).
    pub generation: u64,
    /// The authenticated user, if any.
    pub user: Option<String>,
    /// The subprotocol token the session speaks (its frames are encoded for it).
    pub protocol: String,
    /// The keys of the session's earlier incarnations, when it was taken
    /// over from a lost or draining node: a client that has not resumed
    /// since still holds a token naming one of them, and the node that
    /// adopts this record must answer it too. Absent in records of
    /// sessions never taken over (and in those of older versions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

impl SessionRecord {
    /// The record's bytes.
    pub fn encode(&self) -> Bytes {
        Bytes::from(rmp_serde::to_vec_named(self).unwrap_or_default())
    }

    /// A record from its bytes (`None`: not a record this version wrote).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        rmp_serde::from_slice(bytes).ok()
    }
}

/// Where a session's durable copy lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurableIds {
    /// Its record's key (what its current token names).
    pub key: String,
    /// Its stream of reliable frames (the key it was first recorded under).
    pub stream: String,
}

enum Job {
    Op(SessionOp),
    Flush(oneshot::Sender<()>),
}

/// The node's writer to the failover store (see the module docs).
pub struct DurableLog {
    tx: mpsc::Sender<Job>,
    max_len: usize,
    dropped: AtomicU64,
    failed: Arc<AtomicU64>,
    closed: AtomicBool,
}

impl std::fmt::Debug for DurableLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableLog").field("dropped", &self.dropped()).finish_non_exhaustive()
    }
}

impl DurableLog {
    /// A writer to `store` with a queue of `capacity` operations; streams
    /// keep at most `max_len` frames. Starts its task on the current tokio
    /// runtime.
    pub fn start(store: Arc<dyn FailoverStore>, capacity: usize, max_len: usize) -> Arc<Self> {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let failed = Arc::new(AtomicU64::new(0));
        tokio::spawn(write_loop(store, rx, failed.clone()));
        Arc::new(DurableLog { tx, max_len, dropped: AtomicU64::new(0), failed, closed: AtomicBool::new(false) })
    }

    /// Queues `op`; false (and counted) if the queue is full or the log closed.
    pub fn push(&self, op: SessionOp) -> bool {
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        let ok = self.tx.try_send(Job::Op(op)).is_ok();
        if !ok {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    /// Queues reliable frame `seq` of stream `stream`.
    pub fn append(&self, stream: &str, seq: u64, frame: Bytes) -> bool {
        self.push(SessionOp::Append { stream: stream.to_string(), seq, frame, max_len: self.max_len })
    }

    /// Waits until every operation queued before this call was sent (or
    /// failed).
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Job::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Stops taking operations (a node that handed its sessions over must
    /// not delete what its successor now uses).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Operations dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Batches the store refused or did not answer.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

async fn write_loop(store: Arc<dyn FailoverStore>, mut rx: mpsc::Receiver<Job>, failed: Arc<AtomicU64>) {
    let mut ops = Vec::with_capacity(BATCH);
    let mut flushes = Vec::new();
    while let Some(job) = rx.recv().await {
        let mut next = Some(job);
        while let Some(job) = next.take() {
            match job {
                Job::Op(op) => ops.push(op),
                Job::Flush(done) => flushes.push(done),
            }
            if ops.len() < BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !ops.is_empty() {
            let batch = std::mem::replace(&mut ops, Vec::with_capacity(BATCH));
            if let Err(e) = store.write_sessions(batch).await {
                failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "could not write session records to the cluster store");
            }
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_garbage_is_refused() {
        let r = SessionRecord {
            name: "1f-0000abcd".into(),
            nonce: 7,
            generation: 3,
            user: Some("ann".into()),
            protocol: "arena.v2.proto".into(),
            aliases: vec!["a-7".into()],
        };
        assert_eq!(SessionRecord::decode(&r.encode()), Some(r));
        assert_eq!(SessionRecord::decode(b"\xff not a record"), None);
    }

    #[test]
    fn a_record_of_an_older_version_without_aliases_still_reads() {
        #[derive(Serialize)]
        struct Older {
            name: String,
            nonce: u64,
            generation: u64,
            user: Option<String>,
            protocol: String,
        }
        let older = Older { name: "s".into(), nonce: 1, generation: 2, user: None, protocol: "arena.v2.proto".into() };
        let bytes = rmp_serde::to_vec_named(&older).expect("encodes");
        let r = SessionRecord::decode(&bytes).expect("an older record reads");
        assert!(r.aliases.is_empty() && r.generation == 2);
        let never_moved = SessionRecord { aliases: Vec::new(), ..r };
        assert_eq!(never_moved.encode(), Bytes::from(bytes), "and one never taken over is written as before");
    }
}
