//! The cluster's rooms per node, as the overview shows them on a cluster
//! node: read from the directory (Redis) with a time limit, and kept for
//! [`NODES_FRESH_FOR`] so that several open monitor pages, each refreshing
//! every second, read the whole directory once a second between them.

use super::view::{self, NodeCount};
use crate::backend::{BackendError, RoomRecord};
use std::future::Future;
use std::time::{Duration, Instant};

/// How long a listing of the cluster is reused.
pub const NODES_FRESH_FOR: Duration = Duration::from_secs(1);

/// The cluster's rooms per node, or why they could not be read (shown in
/// the overview's `nodes_error`).
pub type Listing = Result<Vec<NodeCount>, String>;

/// The last listing and when it was read.
#[derive(Default)]
pub(crate) struct NodesCache {
    // An async lock held across the read: pages that ask while a read is
    // under way wait for it and take its answer instead of reading again.
    kept: tokio::sync::Mutex<Option<(Instant, Listing)>>,
}

impl NodesCache {
    /// The listing read at most [`NODES_FRESH_FOR`] before `now`, else a
    /// new one from `read`, which gets `within` to answer (a store that does
    /// not answer in time is an error, kept like any other answer so a slow
    /// store is not asked again by every page).
    pub(crate) async fn get<F>(&self, now: Instant, within: Duration, read: impl FnOnce() -> F) -> Listing
    where
        F: Future<Output = Result<Vec<RoomRecord>, BackendError>>,
    {
        let mut kept = self.kept.lock().await;
        if let Some((at, listing)) = kept.as_ref() {
            if now.saturating_duration_since(*at) < NODES_FRESH_FOR {
                return listing.clone();
            }
        }
        let listing = match tokio::time::timeout(within, read()).await {
            Ok(Ok(records)) => Ok(view::per_node(&records)),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("the cluster directory did not answer within {} ms", within.as_millis())),
        };
        *kept = Some((now, listing.clone()));
        listing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn record(id: &str, node: &str) -> RoomRecord {
        RoomRecord {
            id: id.into(),
            room_type: "arena".into(),
            node: node.into(),
            url: format!("ws://{node}/ws"),
            clients: 2,
            max_clients: 16,
            locked: false,
            epoch: 1,
        }
    }

    #[tokio::test]
    async fn a_listing_is_reused_for_a_second_then_read_again() {
        let cache = NodesCache::default();
        let reads = AtomicUsize::new(0);
        let read = || {
            reads.fetch_add(1, Ordering::SeqCst);
            async { Ok(vec![record("a", "n1")]) }
        };
        let t0 = Instant::now();
        let within = Duration::from_secs(2);
        let first = cache.get(t0, within, read).await.unwrap();
        assert_eq!(first[0].node, "n1");
        cache.get(t0 + Duration::from_millis(900), within, read).await.unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 1, "within a second: the same listing");
        cache.get(t0 + NODES_FRESH_FOR, within, read).await.unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 2, "a second later: read again");
    }

    #[tokio::test]
    async fn a_store_that_does_not_answer_is_an_error_in_time_and_kept() {
        let cache = NodesCache::default();
        let reads = AtomicUsize::new(0);
        let never = || {
            reads.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<Result<Vec<RoomRecord>, BackendError>>()
        };
        let t0 = Instant::now();
        let err = cache.get(t0, Duration::from_millis(50), never).await.unwrap_err();
        assert!(err.contains("did not answer within 50 ms"), "{err}");
        let again = cache.get(t0 + Duration::from_millis(10), Duration::from_millis(50), never).await;
        assert_eq!(again, Err(err), "the error is kept like an answer");
        assert_eq!(reads.load(Ordering::SeqCst), 1);

        let failing = || async { Err(BackendError::Unavailable("connection refused".into())) };
        let err = cache.get(t0 + Duration::from_secs(5), Duration::from_millis(50), failing).await.unwrap_err();
        assert!(err.contains("connection refused"), "{err}");
    }
}
