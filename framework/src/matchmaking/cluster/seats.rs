//! Seats in other nodes' rooms: a join that this node cannot place here
//! holds a seat in a room of another node through the directory and sends
//! the client there (`Redirect`), and the owner ends the hold once the
//! client is seated.

use super::Cluster;
use crate::backend::{Seat, SeatIn};
use crate::connection::{Elsewhere, Refusal};
use crate::protocol::envelope::JoinErrorCode;
use futures_util::future::{BoxFuture, FutureExt};
use std::time::{Duration, Instant};

/// How long a seat held for a redirected client counts against its room.
pub const SEAT_HOLD: Duration = Duration::from_secs(5);

/// How often a join by id asks again for a room that is between owners
/// ([`Seat::Moving`]): a drain's hand-over is claimed within the peers'
/// next poll of the hand-over flag (100 ms).
const MOVING_RETRY: Duration = Duration::from_millis(100);

impl Cluster {
    /// Holds a seat in a room of another node (see [`Backend::reserve`]):
    /// `Some` with where to send the client, `None` when no room of the
    /// type is open elsewhere (or no room has the id, or `here` says it is
    /// this node's now); a refusal says why a room by id cannot be joined,
    /// or that the store cannot be reached.
    ///
    /// A room by id that a claim is about to place ([`Seat::Moving`]: a
    /// drain released it, its node died and its lease ran out, or this
    /// node claimed it and is restoring it) is asked for again every
    /// [`MOVING_RETRY`], for at most two claim periods and two seconds
    /// (well inside a client's join timeout), until it has an owner or
    /// `here()` holds: a join during a hand-over lands in the room's new
    /// home rather than being told there is no such room.
    pub(crate) fn seat_elsewhere(
        &self,
        want: SeatIn,
        here: impl Fn() -> bool + Send + 'static,
    ) -> BoxFuture<'static, Result<Option<Elsewhere>, Refusal>> {
        let (backend, node) = (self.backend.clone(), self.config.node.id.clone());
        let redirects = self.metrics.redirects.clone();
        let deadline = Instant::now() + self.config.claim_every * 2 + Duration::from_secs(2);
        async move {
            let refuse = |code: JoinErrorCode, reason: &str| Err(Refusal { code, reason: reason.to_string() });
            loop {
                match backend.reserve(want.clone(), &node, SEAT_HOLD).await {
                    Ok(Seat::Held { room, token }) => {
                        redirects.inc();
                        // The room type travels in the reservation, so the owner
                        // can place the client itself if the seat is gone.
                        let reservation = format!("{}:{token}", room.room_type);
                        return Ok(Some(Elsewhere { room: room.id, url: room.url, reservation }));
                    }
                    Ok(Seat::Moving) if here() => return Ok(None),
                    Ok(Seat::Moving) if Instant::now() + MOVING_RETRY <= deadline => {
                        tokio::time::sleep(MOVING_RETRY).await;
                        if here() {
                            return Ok(None);
                        }
                    }
                    Ok(Seat::Moving) => {
                        return refuse(JoinErrorCode::RoomNotFound, "the room is moving to another node; try again")
                    }
                    Ok(Seat::NoneOpen | Seat::NotFound) => return Ok(None),
                    Ok(Seat::Full) => return refuse(JoinErrorCode::RoomFull, "room full"),
                    Ok(Seat::Locked) => return refuse(JoinErrorCode::RoomLocked, "room is locked"),
                    Err(e) => {
                        return refuse(JoinErrorCode::Internal, &format!("the cluster store cannot be reached: {e}"))
                    }
                }
            }
        }
        .boxed()
    }

    /// A redirected client got its held seat in `room` (see
    /// [`Backend::seat_used`]); in the background.
    pub(crate) fn seat_used(&self, room: &str, token: &str) {
        let fut = self.backend.seat_used(room, token);
        actix_rt::spawn(async move {
            if let Err(e) = fut.await {
                // The hold runs out on its own.
                tracing::debug!(error = %e, "could not give back a held seat");
            }
        });
    }
}
