//! Channels: pub/sub beyond rooms (a lobby, chat, notices).
//!
//! A client subscribes to a channel name (`lobby`) or a pattern (`chat.*`,
//! `*` matching one segment: [`names`]); what is published there — by room
//! code (`ctx.publish`) or, where the channel's [`ChannelRules`] allow it,
//! by clients — reaches every subscriber on every node, stamped with the
//! channel's offset and epoch. A client that reconnects subscribes with its
//! last (offset, epoch) and gets what it missed from the channel's history,
//! with `recovered: true` only when nothing is missing. Presence: who is
//! subscribed to a channel, with joins and leaves announced.
//!
//! The storage is the backend's [`crate::backend::ChannelStore`] (in
//! memory, or Redis for a cluster); [`ChannelHub`] is the node's side: its
//! local subscribers ([`Subscribers`], a plain struct), one encode per
//! codec per publication, and one worker that publishes in order.
//!
//! Layer: above sessions (it writes to their outboxes), below connections
//! and rooms (which call it).

mod hub;
pub mod names;
mod subscribers;

pub use hub::{ChannelHub, PublishError, Refusal, SubscribeRequest};
pub use subscribers::{AddError, Completed, Subscribers, Target, MAX_HELD};

use crate::backend::HistoryLimits;
use std::sync::Arc;
use std::time::Duration;

/// `ChannelError.code`: the channel name or pattern is malformed.
pub const CHANNEL_BAD_NAME: u32 = 400;
/// `ChannelError.code`: the channel's rules or the authorization hook refuse it.
pub const CHANNEL_FORBIDDEN: u32 = 403;
/// `ChannelError.code`: no configured channel matches the name.
pub const CHANNEL_NOT_FOUND: u32 = 404;
/// `ChannelError.code`: the session is already subscribed to it.
pub const CHANNEL_ALREADY: u32 = 409;
/// `ChannelError.code`: too many subscriptions, or the publish queue is full.
pub const CHANNEL_LIMIT: u32 = 429;
/// `ChannelError.code`: the channel store cannot be reached.
pub const CHANNEL_UNAVAILABLE: u32 = 503;

/// What a channel (or a family of channels, by pattern) allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelRules {
    /// Clients may publish (room code always may). Default: no.
    pub client_publish: bool,
    /// How much history is kept for recovery. Default: 100 publications, 5 minutes.
    pub history: HistoryLimits,
    /// Subscribers are listed and their joins and leaves announced. Default: yes.
    pub presence: bool,
}

impl Default for ChannelRules {
    fn default() -> Self {
        ChannelRules { client_publish: false, history: HistoryLimits::default(), presence: true }
    }
}

impl ChannelRules {
    /// The defaults: clients subscribe, do not publish; 100 / 5 min history; presence.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether clients may publish.
    pub fn client_publish(mut self, yes: bool) -> Self {
        self.client_publish = yes;
        self
    }

    /// Keeps the last `size` publications, none older than `age`.
    pub fn history(mut self, size: usize, age: Duration) -> Self {
        self.history = HistoryLimits { size, age };
        self
    }

    /// Whether presence is kept.
    pub fn presence(mut self, yes: bool) -> Self {
        self.presence = yes;
        self
    }
}

/// What a client asks to do on a channel (for [`ChannelConfig::authorize`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Subscribe (the name may be a pattern).
    Subscribe,
    /// Publish.
    Publish,
}

/// Decides whether `user` (`None`: not authenticated) may do `access` on
/// `channel`; `Err` holds the reason the client is told.
pub type Authorize = Arc<dyn Fn(Option<&str>, &str, Access) -> Result<(), String> + Send + Sync>;

/// A server's channels: the rules per pattern and the hooks.
#[derive(Clone)]
pub struct ChannelConfig {
    /// Rules by pattern, first match wins. A subscription must be covered
    /// by one (`chat.*` covers `chat.eu` and `chat.*`).
    pub rules: Vec<(String, ChannelRules)>,
    /// The authorization hook, after the rules (default: everything the
    /// rules allow).
    pub authorize: Option<Authorize>,
    /// How long a presence entry lives without its node refreshing it
    /// (every third of it). Default 15 s.
    pub presence_ttl: Duration,
    /// Most subscriptions per session. Default 64.
    pub max_per_session: usize,
    /// Most publications waiting to be published on this node. Default 4096.
    pub queue: usize,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        ChannelConfig {
            rules: Vec::new(),
            authorize: None,
            presence_ttl: Duration::from_secs(15),
            max_per_session: 64,
            queue: 4096,
        }
    }
}

impl std::fmt::Debug for ChannelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelConfig")
            .field("rules", &self.rules)
            .field("authorize", &self.authorize.is_some())
            .field("presence_ttl", &self.presence_ttl)
            .finish_non_exhaustive()
    }
}

impl ChannelConfig {
    /// The rules of the first pattern that covers `channel` (a name or a
    /// pattern).
    pub fn rules_for(&self, channel: &str) -> Option<&ChannelRules> {
        self.rules.iter().find(|(p, _)| names::matches(p, channel)).map(|(_, r)| r)
    }
}
