//! Channels on the Rust client: subscribe (optionally recovering from the
//! last position seen), unsubscribe, publish. The client remembers the last
//! (offset, epoch) it saw on each channel, from `Subscribed` and every
//! `Publication`, so a caller that reconnects can recover with
//! [`Client::subscribe_from`] and [`Client::channel_position`].

use crate::envelope::{client_msg::Kind as C, Publish, Subscribe, Subscribed, Unsubscribe};
use crate::{Client, ClientError, Event};

/// A channel's last position as this client saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelPosition {
    /// The last offset.
    pub offset: u64,
    /// The channel's epoch.
    pub epoch: String,
}

impl Client {
    /// Subscribes to `channel` (a name, or a pattern such as `chat.*`) and
    /// waits for `Subscribed` (its `presence` lists who is there).
    /// Publications then arrive as [`Event::Publication`].
    pub async fn subscribe(&mut self, channel: &str) -> Result<Subscribed, ClientError> {
        self.subscribe_with(channel, None).await
    }

    /// Subscribes to `channel` recovering from `(offset, epoch)` (as kept
    /// by [`Client::channel_position`]): `Subscribed.missed` holds what was
    /// published since, and `recovered` says whether that is all of it.
    pub async fn subscribe_from(&mut self, channel: &str, offset: u64, epoch: &str) -> Result<Subscribed, ClientError> {
        self.subscribe_with(channel, Some((offset, epoch.to_string()))).await
    }

    async fn subscribe_with(&mut self, channel: &str, from: Option<(u64, String)>) -> Result<Subscribed, ClientError> {
        let request = self.next_request;
        self.next_request += 1;
        let (recover, (offset, epoch)) = (from.is_some(), from.unwrap_or_default());
        let sub = Subscribe { request, channel: channel.to_string(), recover, offset, epoch };
        self.send(C::Subscribe(sub)).await?;
        self.wait_for(|e| match e {
            Event::Subscribed(s) if s.request == request => Some(Ok(s.clone())),
            Event::ChannelError(c) if c.request == request => Some(Err(ClientError::Channel(c.clone()))),
            _ => None,
        })
        .await?
    }

    /// Ends the subscription to `channel` (the name or pattern subscribed).
    pub async fn unsubscribe(&mut self, channel: &str) -> Result<(), ClientError> {
        self.positions.remove(channel);
        self.send(C::Unsubscribe(Unsubscribe { channel: channel.to_string() })).await
    }

    /// Publishes `payload` on `channel` (where its rules let clients
    /// publish). Answers the request id: a refusal comes later as
    /// [`Event::ChannelError`] with it; success is silent.
    pub async fn publish(&mut self, channel: &str, payload: &[u8]) -> Result<u32, ClientError> {
        let request = self.next_request;
        self.next_request += 1;
        let p = Publish { request, channel: channel.to_string(), payload: payload.to_vec().into() };
        self.send(C::Publish(p)).await?;
        Ok(request)
    }

    /// The last position this client saw on `channel` (a concrete name).
    pub fn channel_position(&self, channel: &str) -> Option<ChannelPosition> {
        self.positions.get(channel).cloned()
    }

    /// Keeps the positions an event tells of.
    pub(crate) fn track_channel(&mut self, ev: &Event) {
        let mut note = |channel: &str, offset: u64, epoch: &str| {
            if channel.contains('*') || epoch.is_empty() {
                return;
            }
            let p = self.positions.entry(channel.to_string()).or_default();
            if p.epoch != epoch || offset > p.offset {
                *p = ChannelPosition { offset, epoch: epoch.to_string() };
            }
        };
        match ev {
            Event::Subscribed(s) => {
                for m in &s.missed {
                    note(&m.channel, m.offset, &m.epoch);
                }
                note(&s.channel, s.offset, &s.epoch);
            }
            Event::Publication(p) => note(&p.channel, p.offset, &p.epoch),
            _ => {}
        }
    }
}
