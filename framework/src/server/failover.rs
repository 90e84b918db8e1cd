//! The server's part in node failover (a cluster node with a failover
//! store, `docs/failover.md`): its sessions are kept in the store, and the
//! clients of a room this node lost to another are sent on after it.

use super::ServerConfig;
use crate::connection::ConnectionShared;
use crate::matchmaking::Registry;
use crate::protocol::CloseCode;
use crate::session::{DurableLog, Sessions};
use std::sync::Arc;

/// `sessions`, kept in the cluster's failover store if there is one: the
/// records and reliable frames of sessions in rooms go there, through one
/// bounded writer.
pub(super) fn durable_sessions(sessions: Sessions, registry: &Registry, config: &ServerConfig) -> Sessions {
    let Some(store) = registry.cluster().and_then(|c| c.failover()) else { return sessions };
    let per_session = config.session.replay_max_messages;
    // Room for a burst of every session's log bound many times over; past
    // it operations are dropped and counted (the writer never blocks).
    let queue = per_session.max(1024) * 16;
    sessions.with_durable(DurableLog::start(store.clone(), queue, per_session))
}

/// A room lost to another node goes on there: its clients here are closed
/// with 1001 and resume where it went (their sessions were taken over with
/// it).
pub(super) fn move_clients_on(registry: &Registry, conn: &Arc<ConnectionShared>) {
    let Some(cluster) = registry.cluster().filter(|c| c.failover().is_some()) else { return };
    let shared = Arc::downgrade(conn);
    cluster.on_moved(move |room| {
        let Some(shared) = shared.upgrade() else { return };
        for s in shared.sessions.seated_in(room) {
            if let Some(c) = shared.sessions.forget_moved(&s) {
                shared.live.close(c, CloseCode::GoingAway, "the room moved to another node; resume there");
            }
        }
    });
}
