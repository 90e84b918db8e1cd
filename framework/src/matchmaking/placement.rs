//! Where a join lands: what connections ask of matchmaking
//! ([`Matchmaker`]), answered from this process's rooms first and, on a
//! cluster node, then from the other nodes' rooms through the directory (a
//! `Redirect`, or a wait while a room is between owners).

use super::{Registry, RegistryError};
use crate::backend::SeatIn;
use crate::connection::{Creator, Matchmaker, Placement, Refusal, SessionPlace};
use crate::protocol::envelope::JoinErrorCode;
use crate::session::{Options, RoomHandle};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use std::sync::Arc;

impl From<RegistryError> for Refusal {
    fn from(e: RegistryError) -> Self {
        Refusal { code: e.code(), reason: e.to_string() }
    }
}

impl Registry {
    /// A seat in room `h` of this process for a join by id, once authorized.
    fn seat_by_id(&self, h: Arc<RoomHandle>, user: Option<&str>, options: &Options) -> Result<Placement, Refusal> {
        self.authorize_join(&h.room_type, user, Some(&h.id), options)?;
        h.reserve().map_err(RegistryError::Seat)?;
        Ok(Placement::Here(h))
    }
}

/// What connections ask of matchmaking: this process's rooms first; on a
/// cluster node, then the other nodes' rooms through the directory.
impl Matchmaker for Arc<Registry> {
    fn join(&self, room: &str, user: Option<&str>, options: &Options) -> Result<Placement, Refusal> {
        if let Some(h) = self.get(room) {
            return self.seat_by_id(h, user, options);
        }
        let not_found = Refusal { code: JoinErrorCode::RoomNotFound, reason: format!("no room {room:?}") };
        let Some(cluster) = &self.cluster else { return Err(not_found) };
        // The owner node authorizes the join when the client gets there.
        let (registry, room, user, options) =
            (self.clone(), room.to_string(), user.map(str::to_string), options.clone());
        // A room this node claims meanwhile is joined here.
        let (weak, id) = (Arc::downgrade(self), room.clone());
        let here = move || weak.upgrade().is_some_and(|r| r.rooms.contains_key(id.as_str()));
        let held = cluster.seat_elsewhere(SeatIn::Room(room.clone()), here);
        Ok(Placement::Later(
            async move {
                match held.await? {
                    Some(e) => Ok(Placement::Elsewhere(e)),
                    // Not elsewhere: it may have been claimed here while
                    // the join waited for a room between owners.
                    None => match registry.get(&room) {
                        Some(h) => registry.seat_by_id(h, user.as_deref(), &options),
                        None => Err(not_found),
                    },
                }
            }
            .boxed(),
        ))
    }

    fn join_or_create(
        &self,
        room_type: &str,
        user: Option<&str>,
        options: &Options,
        who: &Creator,
        skip: &dyn Fn(&str) -> bool,
    ) -> Result<Placement, Refusal> {
        self.authorize_join(room_type, user, None, options)?;
        if !self.types.contains_key(room_type) {
            return Err(RegistryError::UnknownRoomType(room_type.to_string()).into());
        }
        if let Some(h) = self.find_open(room_type, skip) {
            return Ok(Placement::Here(h));
        }
        let Some(cluster) = self.cluster.as_ref().filter(|_| who.movable) else {
            return Ok(Placement::Here(self.create(room_type, options, who)?));
        };
        // Fill the other nodes' rooms before making one (here: the
        // placement policy is "local", on the node the client reached).
        let held = cluster.seat_elsewhere(SeatIn::AnyOf(room_type.to_string()), || false);
        let (registry, room_type, options, who) = (self.clone(), room_type.to_string(), options.clone(), *who);
        Ok(Placement::Later(
            async move {
                match held.await {
                    Ok(Some(e)) => Ok(Placement::Elsewhere(e)),
                    // None open elsewhere, or the store is unreachable (then
                    // the create says so).
                    // Look here once more first: rooms made meanwhile by
                    // other joins (a movable connection is in none of them).
                    Ok(None) | Err(_) => match registry.find_open(&room_type, |_| false) {
                        Some(h) => Ok(Placement::Here(h)),
                        None => Ok(Placement::Here(registry.create(&room_type, &options, &who)?)),
                    },
                }
            }
            .boxed(),
        ))
    }

    fn create(
        &self,
        room_type: &str,
        user: Option<&str>,
        options: &Options,
        who: &Creator,
    ) -> Result<Placement, Refusal> {
        self.authorize_join(room_type, user, None, options)?;
        Ok(Placement::Here(Registry::create(self, room_type, options, who)?))
    }

    fn session_node(&self, node: u64) -> Option<String> {
        self.cluster.as_ref()?.node_url(node)
    }

    fn locate_session(&self, node: u64, id: u64) -> Option<BoxFuture<'static, SessionPlace>> {
        let cluster = self.cluster.as_ref().filter(|c| c.failover().is_some())?;
        Some(cluster.locate_session(node, id))
    }

    fn seat_used(&self, room: &str, reservation: &str) {
        if let (Some(c), Some((_, token))) = (&self.cluster, reservation.rsplit_once(':')) {
            c.seat_used(room, token);
        }
    }
}
