//! Moving a [`RoomCore`] to another node: its portable form
//! ([`PortableRoom`]) and the rebuild from it on the node that claims the
//! room. The rebuild is the crash restart's (`recovery`), with the seats
//! brought along: the room comes back from its last snapshot (or
//! `on_create`), every seated client is away until its session resumes
//! here, and tick numbers go on from where the room would be by now.

use super::{panic_message, CreateError, RoomCore};
use crate::protocol::RoomId;
use crate::protocol::{ClientId, Schema};
use crate::room::api::{Client, Room, RoomType};
use crate::room::context::Member;
use crate::room::options::parse_options;
use crate::room::portable::{unix_millis, PortableRoom, PortableSeat};
use crate::session::Outbox;
use bytes::Bytes;
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

impl<R: Room> RoomCore<R> {
    /// The room as another node can rebuild it: its last snapshot (with
    /// the clients it knows) and its seats now. `node` is this node's token
    /// tag (the seats' session keys).
    pub fn portable(&self, node: u64) -> PortableRoom {
        let (snapshot, known) = match &self.recovery.snapshot {
            Some((bytes, known)) => (Some(Bytes::copy_from_slice(bytes)), known.iter().map(|c| c.0).collect()),
            None => (None, Vec::new()),
        };
        let seats = self
            .ctx
            .members
            .iter()
            .map(|(id, m)| PortableSeat {
                client: id.0,
                session: m.outbox.id().0,
                name: m.client.session.clone(),
                user: m.client.user.clone(),
                version: m.client.version,
                codec: m.client.codec.name().to_string(),
                options: m.options.clone(),
                last_input_seq: m.last_input_seq,
            })
            .collect();
        PortableRoom {
            room_type: self.ctx.room_type.to_string(),
            options: self.recovery.options.clone(),
            node,
            tick: if snapshot.is_some() { self.recovery.snapshot_tick } else { self.ctx.tick },
            saved_at_ms: unix_millis(),
            snapshot,
            known,
            seats,
            next_client: self.next_client.0,
            locked: self.ctx.locked,
        }
    }

    /// Gives the room up to another node: its clients stay seated there,
    /// so they get nothing from here (no `Left`, no `on_dispose`); joins
    /// still on their way are refused as for a disposed room.
    pub fn hand_over(&mut self) {
        self.ctx.members.clear();
        self.inbox.clear();
        self.room = None;
    }

    /// Rebuilds room `id` from `portable` on this node at `now`: restored
    /// from its snapshot (or created through `on_create` with its options),
    /// with `seats` — the portable seats whose sessions were taken over
    /// here, each with its session's outbox — away until they resume. A
    /// seat the snapshot knows that did not come along leaves the room.
    pub fn restore_portable(
        id: RoomId,
        spec: &RoomType,
        schema: Arc<Schema<R::Wire>>,
        portable: &PortableRoom,
        seats: Vec<(PortableSeat, Arc<Outbox>)>,
        now: Instant,
    ) -> Result<Self, CreateError> {
        let mut core = Self::blank(id, spec, schema, &portable.options, now);
        let ctx = &mut core.ctx;
        let restored = portable.snapshot.as_ref().and_then(|bytes| {
            match catch_unwind(AssertUnwindSafe(|| R::restore(ctx, bytes))) {
                Ok(Ok(room)) => Some(room),
                _ => None,
            }
        });
        let (room, known): (R, BTreeSet<ClientId>) = match restored {
            Some(room) => (room, portable.known.iter().map(|c| ClientId(*c)).collect()),
            None => match catch_unwind(AssertUnwindSafe(|| {
                parse_options::<R::Options>(&portable.options).and_then(|o| R::on_create(ctx, &o))
            })) {
                Ok(Ok(room)) => (room, BTreeSet::new()),
                Ok(Err(reject)) => return Err(CreateError::Rejected(reject)),
                Err(p) => return Err(CreateError::Panicked(panic_message(p.as_ref()))),
            },
        };
        core.room = Some(room);
        if let Some(bytes) = &portable.snapshot {
            core.recovery.snapshot = Some((bytes.to_vec(), known.clone()));
            core.recovery.snapshot_tick = portable.tick;
        }
        for (seat, outbox) in seats {
            let Some(codec) = seat.codec() else { continue };
            let id = seat.client_id();
            let client = Client { id, session: seat.name, user: seat.user, version: seat.version, codec };
            let member = Member {
                client,
                outbox,
                last_input_seq: seat.last_input_seq,
                options: seat.options,
                away_since: Some(now),
                // The client's baseline was sent by the old owner: whole states first.
                sent: Default::default(),
            };
            core.ctx.members.insert(id, member);
            core.note_away(now);
        }
        core.next_client = ClientId(portable.next_client.max(1));
        core.ctx.locked = portable.locked;
        core.reconcile(&known);
        let away: Vec<ClientId> = core.ctx.members.keys().copied().collect();
        for id in away {
            core.call(|room, ctx| room.on_disconnect(ctx, id));
        }
        if let Some(msg) = &core.crashed {
            return Err(CreateError::Panicked(msg.clone()));
        }
        if !core.ctx.members.is_empty() {
            core.empty_since = None;
        }
        // The ticks the room would have run since it was saved: a client
        // never sees one tick number from two owners.
        let elapsed = unix_millis().saturating_sub(portable.saved_at_ms) as u128;
        let behind = (elapsed * 1_000_000 / core.period.as_nanos().max(1)) as u64;
        core.ctx.tick = portable.tick + behind;
        core.clock.resume_at(now, portable.tick + behind + 1);
        Ok(core)
    }
}
