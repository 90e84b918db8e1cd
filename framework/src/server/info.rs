//! `GET /info`: what the server speaks and its limits, as JSON, so a client
//! can explain a refusal to a person (docs/protocol.md §2.4).

use super::AppState;
use crate::limits::{OriginPolicy, RateLimits};
use crate::matchmaking::{CreateBudget, RoomTypeInfo};
use serde::Serialize;

/// `GET /info`: what a client needs to explain a refusal to a person.
#[derive(Debug, Clone, Serialize)]
pub struct Info {
    /// The app name.
    pub app: String,
    /// Subprotocol tokens, best first.
    pub protocols: Vec<String>,
    /// Schema versions served.
    pub versions: Vec<u32>,
    /// Each version served, highest first, and whether it is deprecated.
    pub version_status: Vec<VersionStatus>,
    /// Room types.
    pub room_types: Vec<RoomTypeInfo>,
    /// Limits a client runs into.
    pub limits: Limits,
}

/// A schema version as listed in `/info.version_status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionStatus {
    /// The schema version.
    pub version: u32,
    /// Still served, but going away ([`Schema::deprecate`]).
    pub deprecated: bool,
    /// When deprecated: the date (`YYYY-MM-DD`) after which the version may
    /// stop being served. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sunset: Option<String>,
}

/// The limits listed in `/info`.
#[derive(Debug, Clone, Serialize)]
pub struct Limits {
    /// Largest message, bytes.
    pub max_message_size: usize,
    /// Most open connections.
    pub max_connections: usize,
    /// Most rooms per connection.
    pub max_rooms_per_connection: usize,
    /// Most rooms alive on the server (0: no cap; room types may cap
    /// themselves too, see `room_types`).
    pub max_rooms: usize,
    /// Rooms one session and one client address may create, per minute and at once.
    pub create_budget: CreateBudget,
    /// Server ping interval, seconds.
    pub heartbeat_interval_secs: f64,
    /// Idle timeout, seconds.
    pub idle_timeout_secs: f64,
    /// Stalled-reader timeout, seconds.
    pub stall_timeout_secs: f64,
    /// Most connections from one client address.
    pub max_connections_per_ip: usize,
    /// Most sessions per authenticated user.
    pub max_sessions_per_user: usize,
    /// Per-connection message and byte rates.
    pub rate: RateLimits,
    /// Allowed web origins.
    pub origins: OriginPolicy,
    /// Authentication: `none`, `upgrade` or `first_message`.
    pub auth: &'static str,
    /// First-message auth deadline, seconds (0 unless `first_message`).
    pub auth_deadline_secs: f64,
    /// How long a lost connection's session stays resumable, seconds.
    pub reconnect_window_secs: f64,
    /// How long a lost connection's session in no room stays resumable,
    /// seconds (at most `reconnect_window_secs`).
    pub roomless_window_secs: f64,
    /// Most sessions parked at once.
    pub max_parked: usize,
    /// Most sessions parked from one client address (0: no cap).
    pub max_parked_per_address: usize,
    /// Most sessions parked for one user (0: no cap).
    pub max_parked_per_user: usize,
    /// Reliable messages kept per session for replay.
    pub replay_max_messages: usize,
}

impl AppState {
    pub(super) fn info(&self) -> Info {
        let c = &self.config;
        Info {
            app: c.app.clone(),
            protocols: self.negotiator.supported().iter().map(ToString::to_string).collect(),
            versions: self.negotiator.versions().to_vec(),
            version_status: self
                .negotiator
                .versions()
                .iter()
                .map(|&version| {
                    let d = self.negotiator.deprecation(version);
                    VersionStatus {
                        version,
                        deprecated: d.is_some(),
                        sunset: d.and_then(|d| d.sunset).map(|s| s.to_string()),
                    }
                })
                .collect(),
            room_types: self.registry.room_types(),
            limits: Limits {
                max_message_size: c.transport.max_message_size,
                max_connections: c.max_connections,
                max_rooms_per_connection: c.max_rooms_per_connection,
                max_rooms: c.max_rooms,
                create_budget: c.create_budget,
                heartbeat_interval_secs: c.transport.heartbeat_interval.as_secs_f64(),
                idle_timeout_secs: c.transport.idle_timeout.as_secs_f64(),
                stall_timeout_secs: c.outbox.stall_timeout.as_secs_f64(),
                max_connections_per_ip: c.max_connections_per_ip,
                max_sessions_per_user: c.max_sessions_per_user,
                rate: c.rate,
                origins: c.origins.clone(),
                auth: match c.auth.as_ref().map(|a| a.mode) {
                    None => "none",
                    Some(crate::auth::AuthMode::Upgrade) => "upgrade",
                    Some(crate::auth::AuthMode::FirstMessage { .. }) => "first_message",
                },
                auth_deadline_secs: match c.auth.as_ref().map(|a| a.mode) {
                    Some(crate::auth::AuthMode::FirstMessage { deadline }) => deadline.as_secs_f64(),
                    _ => 0.0,
                },
                reconnect_window_secs: c.session.reconnect_window.as_secs_f64(),
                roomless_window_secs: c.session.roomless_window.min(c.session.reconnect_window).as_secs_f64(),
                max_parked: c.session.max_parked,
                max_parked_per_address: c.session.max_parked_per_address,
                max_parked_per_user: c.session.max_parked_per_user,
                replay_max_messages: c.session.replay_max_messages,
            },
        }
    }
}
