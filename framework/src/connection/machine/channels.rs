//! Channels on a connection: `Subscribe`, `Unsubscribe` and `Publish`,
//! handed to the node's [`crate::channels::ChannelHub`]. The hub writes
//! its answers (`Subscribed`, `Publication`, `PresenceChange`,
//! `ChannelError`) into the session's outbox, so they are numbered into
//! the reliable stream like room messages and survive a resume; the
//! subscriptions belong to the session, not to the socket.

use super::{Actions, GameConnection};
use crate::backend::Position;
use crate::channels::{Refusal, SubscribeRequest, Target, CHANNEL_NOT_FOUND};
use crate::protocol::envelope::{server_msg::Kind as Out, ChannelError, Publish, Subscribe};
use crate::session::SessionState;

impl GameConnection {
    fn target(&self) -> Target {
        Target { outbox: self.session.outbox().clone(), codec: self.token.codec }
    }

    /// Who this client is in presence and as a publisher: its user when
    /// authenticated, else its session's name.
    fn member(&self) -> String {
        self.auth.user().unwrap_or(self.session.name()).to_string()
    }

    fn channel_error(&self, st: &mut SessionState, out: &mut Actions, request: u32, channel: String, r: Refusal) {
        let e = ChannelError { request, channel, code: r.code, reason: r.reason };
        self.send_reliable(st, out, Out::ChannelError(e));
    }

    fn no_channels() -> Refusal {
        Refusal { code: CHANNEL_NOT_FOUND, reason: "this server has no channels".into() }
    }

    pub(super) fn subscribe(&self, st: &mut SessionState, out: &mut Actions, s: Subscribe) {
        let Some(hub) = &self.shared.channels else {
            return self.channel_error(st, out, s.request, s.channel, Self::no_channels());
        };
        let member = self.member();
        let req = SubscribeRequest {
            request: s.request,
            channel: &s.channel,
            recover: s.recover.then(|| Position { offset: s.offset, epoch: s.epoch.clone() }),
            session: self.session.id(),
            target: self.target(),
            member: &member,
            user: self.auth.user(),
        };
        match hub.subscribe(req) {
            Ok(task) => out.spawn(task),
            Err(r) => self.channel_error(st, out, s.request, s.channel, r),
        }
    }

    pub(super) fn unsubscribe(&self, channel: &str) {
        if let Some(hub) = &self.shared.channels {
            hub.unsubscribe(self.session.id(), channel);
        }
    }

    pub(super) fn publish(&self, st: &mut SessionState, out: &mut Actions, p: Publish) {
        let Some(hub) = &self.shared.channels else {
            return self.channel_error(st, out, p.request, p.channel, Self::no_channels());
        };
        let member = self.member();
        let reply = (self.target(), p.request);
        if let Err(r) = hub.publish_from_client(self.auth.user(), &member, &p.channel, p.payload, reply) {
            self.channel_error(st, out, p.request, p.channel, r);
        }
    }
}
