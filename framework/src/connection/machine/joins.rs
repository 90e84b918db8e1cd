//! Join bookkeeping on a connection: whether a new join may start, the
//! seat matchmaking reserved, the join request sent to the room, and the
//! placements awaited from the cluster store (filled by their waiting
//! tasks, answered at the connection's next wake-up, given back when the
//! connection stops first).

use super::{Actions, GameConnection};
use crate::connection::{Creator, Placement, Refusal};
use crate::limits::IpSlot;
use crate::protocol::envelope::JoinErrorCode;
use crate::protocol::envelope::{server_msg::Kind as Out, Redirect};
use crate::session::{JoinRequest, Options, RoomHandle, SessionState};
use std::sync::Arc;

/// A join request's placement, resolved by the cluster store.
type Placed = (u32, Result<Placement, Refusal>, Options);

/// Placements resolved by their waiting tasks and not yet answered.
#[derive(Default)]
pub(super) struct Placements {
    /// Drained at the connection's next wake-up.
    pub(super) done: Vec<Placed>,
    /// The connection stopped: a placement resolved from now on is given
    /// back by its task (a seat reserved here would otherwise count
    /// against its room until the room is disposed).
    pub(super) closed: bool,
}

/// A placement nobody will answer: a seat reserved for it goes back.
pub(super) fn give_back(placed: Result<Placement, Refusal>) {
    if let Ok(Placement::Here(h)) = placed {
        h.unreserve();
    }
}

impl GameConnection {
    /// Sends a join for a room whose seat is already reserved.
    pub(super) fn request_join(
        &self,
        st: &mut SessionState,
        out: &mut Actions,
        request: u32,
        handle: Arc<RoomHandle>,
        options: Options,
    ) {
        let Some(port) = handle.port() else {
            handle.unreserve();
            return self.join_error(st, out, request, JoinErrorCode::RoomNotFound, "room not found");
        };
        port.join(JoinRequest {
            request,
            session: self.session.name().to_string(),
            user: self.auth.user().map(str::to_string),
            version: self.token.version,
            codec: self.token.codec,
            outbox: self.session.outbox().clone(),
            options,
        });
        st.pending.insert(request, handle);
    }

    /// Checks that a new join may start; answers the client if not.
    pub(super) fn may_join(&self, st: &mut SessionState, out: &mut Actions, request: u32, room: Option<&str>) -> bool {
        let refusal = if self.noticed {
            Some((JoinErrorCode::RoomLocked, "server is shutting down".to_string()))
        } else if st.pending.contains_key(&request) || self.placing.contains(&request) {
            Some((JoinErrorCode::AlreadyJoined, "a join with this request id is in progress".to_string()))
        } else if room.is_some_and(|r| st.rooms.contains_key(r) || st.pending.values().any(|h| &*h.id == r)) {
            Some((JoinErrorCode::AlreadyJoined, "already in this room".to_string()))
        } else if st.rooms.len() + st.pending.len() + self.placing.len() >= self.shared.max_rooms_per_connection {
            let max = self.shared.max_rooms_per_connection;
            Some((JoinErrorCode::TooManyRooms, format!("at most {max} rooms per connection")))
        } else {
            None
        };
        match refusal {
            Some((code, reason)) => {
                self.join_error(st, out, request, code, reason);
                false
            }
            None => true,
        }
    }

    /// Who a create from this connection is counted against.
    pub(super) fn creator(&self, st: &SessionState) -> Creator {
        let movable = self.follows_redirects && self.placing.is_empty() && st.rooms.is_empty() && st.pending.is_empty();
        Creator { session: self.session.id(), address: self.ip.as_ref().map(IpSlot::ip), movable }
    }

    /// Carries out where matchmaking placed request `request`: a join sent
    /// to a room here, a `Redirect` to another node, or a wait for the
    /// cluster store (answered through [`GameConnection::placed`]).
    pub(super) fn handle_reserved(
        &mut self,
        st: &mut SessionState,
        out: &mut Actions,
        request: u32,
        r: Result<Placement, Refusal>,
        options: Options,
    ) {
        match r {
            Ok(Placement::Here(h)) => self.request_join(st, out, request, h, options),
            Ok(Placement::Elsewhere(e)) if !self.follows_redirects => {
                let reason =
                    format!("room {} is on another node ({}); this client does not follow redirects", e.room, e.url);
                self.join_error(st, out, request, JoinErrorCode::RoomNotFound, reason)
            }
            Ok(Placement::Elsewhere(e)) => {
                let r = Redirect { request, room: e.room, url: e.url, reservation: e.reservation };
                self.send_reliable(st, out, Out::Redirect(r));
            }
            Ok(Placement::Later(answer)) => {
                self.placing.insert(request);
                let (done, waker) = (self.placed.clone(), self.waker.clone());
                out.spawn(Box::pin(async move {
                    let r = answer.await;
                    let mut placed = done.lock();
                    if placed.closed {
                        // The connection is gone (the wait for a room
                        // between owners can last seconds).
                        drop(placed);
                        give_back(r);
                        return;
                    }
                    placed.done.push((request, r, options));
                    drop(placed);
                    if let Some(wake) = waker {
                        wake.ring();
                    }
                }));
            }
            Err(e) => self.join_error(st, out, request, e.code, e.reason),
        }
    }

    /// Answers the placements the cluster store has resolved since the last
    /// wake-up.
    pub(super) fn placed(&mut self, out: &mut Actions) {
        // Every wake-up (each tick's state) comes through here: no lock
        // unless a placement is awaited.
        if self.placing.is_empty() {
            return;
        }
        let done = std::mem::take(&mut self.placed.lock().done);
        if done.is_empty() {
            return;
        }
        let session = self.session.clone();
        for (request, r, options) in done {
            self.placing.remove(&request);
            let Some(mut st) = session.owned_by(self.conn) else {
                // Taken over meanwhile: give a reserved seat back.
                give_back(r);
                continue;
            };
            let r = match r {
                Ok(Placement::Later(_)) => {
                    Err(Refusal { code: JoinErrorCode::Internal, reason: "no placement".into() })
                }
                r => r,
            };
            self.handle_reserved(&mut st, out, request, r, options);
        }
    }
}
