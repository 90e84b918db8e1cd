//! Joining and leaving rooms: the join requests, and the redirects a
//! cluster answers them with (followed up to [`MAX_REDIRECTS`] times).

use crate::{Client, ClientError, ClientId, Event};
use playhouse_protocol::envelope::{self, client_msg::Kind as C, Create, Join, JoinOrCreate, Joined, Leave, Left};
use std::collections::HashMap;

/// Most redirects one join follows before it gives up.
pub const MAX_REDIRECTS: usize = 3;

/// Whether a refused join means the seat a redirect held is gone.
fn seat_gone(e: &envelope::JoinError) -> bool {
    use envelope::JoinErrorCode as J;
    [J::RoomFull, J::RoomLocked, J::RoomNotFound].iter().any(|c| *c as i32 == e.code)
}

impl Client {
    /// Sends a join request; a redirect joins there with the same `options`.
    async fn join_request(
        &mut self,
        options: HashMap<String, String>,
        kind: impl Fn(u32, HashMap<String, String>) -> C,
    ) -> Result<Joined, ClientError> {
        let request = self.next_request;
        self.next_request += 1;
        let first = kind(request, options.clone());
        // A join-or-create sent to another node's room asks again there if
        // that seat is gone by the time it arrives (the room filled, locked
        // or closed meanwhile): it never ends in a refusal from that race.
        let again = matches!(first, C::JoinOrCreate(_)).then_some(&kind);
        self.send(first).await?;
        let mut request = request;
        let mut redirected = false;
        for _ in 0..=MAX_REDIRECTS {
            let answer = self
                .wait_for(|e| match e {
                    Event::Joined(j) if j.request == request => Some(Ok(Ok(j.clone()))),
                    Event::JoinError(j) if j.request == request => Some(Err(j.clone())),
                    Event::Redirect(r) if r.request == request => Some(Ok(Err(r.clone()))),
                    _ => None,
                })
                .await?;
            match answer {
                Ok(Ok(joined)) => {
                    self.rooms.insert(joined.room.as_str().into(), ClientId(joined.client));
                    return Ok(joined);
                }
                Ok(Err(redirect)) => {
                    request = self.follow(redirect, options.clone()).await?;
                    redirected = true;
                }
                Err(e) if redirected && again.is_some() && seat_gone(&e) => {
                    request = self.next_request;
                    self.next_request += 1;
                    let ask = again.map(|k| k(request, options.clone())).expect("checked");
                    self.send(ask).await?;
                    redirected = false;
                }
                Err(e) => return Err(ClientError::Join(e)),
            }
        }
        Err(ClientError::Protocol(format!("more than {MAX_REDIRECTS} redirects for one join")))
    }

    /// Follows a `Redirect`: this client moves to the room's node (a new
    /// session there) and joins the room with the held seat. Refused with
    /// [`ClientError::Redirected`] while the client is in rooms here (a
    /// move would leave them).
    async fn follow(&mut self, r: envelope::Redirect, options: HashMap<String, String>) -> Result<u32, ClientError> {
        if !self.rooms.is_empty() {
            return Err(ClientError::Redirected(r));
        }
        self.redial(&r.url).await?;
        let request = self.next_request;
        self.next_request += 1;
        let join = Join { request, room: r.room, reservation: r.reservation, options };
        self.send(C::Join(join)).await?;
        Ok(request)
    }

    /// Joins any open room of `room_type`, or creates one.
    pub async fn join_or_create(
        &mut self,
        room_type: &str,
        options: HashMap<String, String>,
    ) -> Result<Joined, ClientError> {
        let room_type = room_type.to_string();
        self.join_request(options, |request, options| {
            C::JoinOrCreate(JoinOrCreate { request, room_type: room_type.clone(), options })
        })
        .await
    }

    /// Creates a new room of `room_type` and joins it.
    pub async fn create(&mut self, room_type: &str, options: HashMap<String, String>) -> Result<Joined, ClientError> {
        let room_type = room_type.to_string();
        self.join_request(options, |request, options| {
            C::Create(Create { request, room_type: room_type.clone(), options })
        })
        .await
    }

    /// Joins the room with id `room`.
    pub async fn join(&mut self, room: &str, options: HashMap<String, String>) -> Result<Joined, ClientError> {
        let room = room.to_string();
        self.join_request(options, |request, options| {
            C::Join(Join { request, room: room.clone(), options, ..Join::default() })
        })
        .await
    }

    /// Leaves `room` and waits for the server's `Left`.
    pub async fn leave(&mut self, room: &str) -> Result<Left, ClientError> {
        self.send(C::Leave(Leave { room: room.to_string() })).await?;
        self.rooms.remove(room);
        let room = room.to_string();
        self.wait_for(|e| match e {
            Event::Left(l) if l.room == room => Some(l.clone()),
            _ => None,
        })
        .await
    }

    /// This client's id in `room`, if joined.
    pub fn client_id(&self, room: &str) -> Option<ClientId> {
        self.rooms.get(room).copied()
    }
}
