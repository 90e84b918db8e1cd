//! [`ClusterMetrics`]: what a node of a cluster counts of its backend —
//! nodes seen, rooms owned, lease renewals and losses, store resets,
//! Redis command latency and errors by operation; and its channels'
//! publishes, deliveries and subscriptions.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabel {
    op: &'static str,
}

fn latency_buckets() -> Histogram {
    // 50 µs … ~1.6 s: a loopback round trip to a 1 s timeout.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// The cluster's figures; cheap to clone (every field is a shared handle).
#[derive(Clone)]
pub struct ClusterMetrics {
    /// Nodes whose entry in the directory is live (set at each renewal).
    pub nodes_seen: Gauge,
    /// Rooms this node owns in the directory.
    pub rooms_owned: Gauge,
    /// Room leases renewed.
    pub lease_renewals: Counter,
    /// Room leases found gone at a renewal (the room was stopped), or run
    /// out while the store could not be reached.
    pub lease_losses: Counter,
    /// Times the store was found emptied (rooms registered again).
    pub store_resets: Counter,
    /// Clients sent to another node's room (`Redirect`).
    pub redirects: Counter,
    /// Publications this node made on channels.
    pub channel_publishes: Counter,
    /// Publications this node failed to make (the store did not answer).
    pub channel_publish_errors: Counter,
    /// Publications and presence changes written to this node's subscribers.
    pub channel_deliveries: Counter,
    /// Channel subscriptions held on this node (set at each presence refresh).
    pub channel_subscriptions: Gauge,
    /// Room states saved to the failover store.
    pub states_saved: Counter,
    /// Room states refused for their size (`ClusterConfig::max_state_bytes`).
    pub states_refused: Counter,
    /// Rooms this node claimed after their owner was lost (or handed them over).
    pub rooms_claimed: Counter,
    /// Rooms this node handed to another while draining.
    pub rooms_handed_over: Counter,
    /// Sessions this node took over from a lost or draining node.
    pub sessions_adopted: Counter,
    /// Session writes (reliable frames, acks, records) the bounded durable
    /// writer dropped because its queue was full (copied once a second
    /// from `DurableLog::dropped`).
    pub session_writes_dropped: Counter,
    latency: Family<OpLabel, Histogram, fn() -> Histogram>,
    errors: Family<OpLabel, Counter>,
}

impl Default for ClusterMetrics {
    fn default() -> Self {
        ClusterMetrics {
            nodes_seen: Gauge::default(),
            rooms_owned: Gauge::default(),
            lease_renewals: Counter::default(),
            lease_losses: Counter::default(),
            store_resets: Counter::default(),
            redirects: Counter::default(),
            channel_publishes: Counter::default(),
            channel_publish_errors: Counter::default(),
            channel_deliveries: Counter::default(),
            channel_subscriptions: Gauge::default(),
            states_saved: Counter::default(),
            states_refused: Counter::default(),
            rooms_claimed: Counter::default(),
            rooms_handed_over: Counter::default(),
            sessions_adopted: Counter::default(),
            session_writes_dropped: Counter::default(),
            latency: Family::new_with_constructor(latency_buckets),
            errors: Family::default(),
        }
    }
}

impl ClusterMetrics {
    pub(super) fn register(&self, r: &mut Registry) {
        r.register("cluster_nodes", "Nodes with a live entry in the cluster directory", self.nodes_seen.clone());
        r.register("cluster_rooms_owned", "Rooms this node owns in the cluster directory", self.rooms_owned.clone());
        r.register("cluster_lease_renewals", "Room leases renewed", self.lease_renewals.clone());
        r.register(
            "cluster_lease_losses",
            "Room leases lost (found gone at a renewal, or run out while the store was unreachable); the room was stopped",
            self.lease_losses.clone(),
        );
        r.register("cluster_store_resets", "Times the cluster store was found emptied", self.store_resets.clone());
        r.register("cluster_redirects", "Clients sent to a room of another node", self.redirects.clone());
        r.register("channel_publishes", "Publications made on channels by this node", self.channel_publishes.clone());
        r.register(
            "channel_publish_errors",
            "Channel publications that failed (the store did not answer)",
            self.channel_publish_errors.clone(),
        );
        r.register(
            "channel_deliveries",
            "Channel publications written to this node's subscribers",
            self.channel_deliveries.clone(),
        );
        r.register(
            "channel_subscriptions",
            "Channel subscriptions held on this node",
            self.channel_subscriptions.clone(),
        );
        r.register("cluster_states_saved", "Room states saved to the failover store", self.states_saved.clone());
        r.register(
            "cluster_states_refused",
            "Room states not saved: over the configured size (max_state_bytes)",
            self.states_refused.clone(),
        );
        r.register(
            "cluster_rooms_claimed",
            "Rooms this node took over from a lost or draining node",
            self.rooms_claimed.clone(),
        );
        r.register(
            "cluster_rooms_handed_over",
            "Rooms this node handed to another node while draining",
            self.rooms_handed_over.clone(),
        );
        r.register(
            "cluster_sessions_adopted",
            "Sessions this node took over from a lost or draining node",
            self.sessions_adopted.clone(),
        );
        r.register(
            "cluster_session_writes_dropped",
            "Session writes to the failover store dropped because the bounded writer's queue was full \
             (a session with a dropped frame resyncs if it fails over past the hole)",
            self.session_writes_dropped.clone(),
        );
        r.register(
            "cluster_backend_command_seconds",
            "Latency of cluster backend commands, by operation",
            self.latency.clone(),
        );
        r.register("cluster_backend_errors", "Failed cluster backend commands, by operation", self.errors.clone());
    }

    /// Records one backend command: how long it took and whether it failed.
    pub fn redis_command(&self, op: &'static str, took: Duration, ok: bool) {
        let l = OpLabel { op };
        self.latency.get_or_create(&l).observe(took.as_secs_f64());
        if !ok {
            self.errors.get_or_create(&l).inc();
        }
    }
}
