//! The server builder's channel settings: which channels are open, with
//! what rules, and who may use them (`crate::channels`).

use super::Server;
use crate::channels::{Access, ChannelConfig, ChannelRules};
use std::sync::Arc;

impl Server {
    /// Opens the channels `pattern` names (`lobby`, or `chat.*`: `*` is one
    /// segment) with `rules`: clients may subscribe to them (and publish,
    /// where the rules say so); room code publishes with `ctx.publish`.
    /// First match wins. See `docs/protocol.md` §4.4.
    ///
    /// ```
    /// use playhouse::channels::ChannelRules;
    /// use playhouse::server::{Server, ServerConfig};
    /// use std::time::Duration;
    ///
    /// let server = Server::new(ServerConfig::new("arena"))
    ///     .channel("lobby", ChannelRules::new())
    ///     .channel("chat.*", ChannelRules::new().client_publish(true).history(100, Duration::from_secs(300)));
    /// ```
    pub fn channel(mut self, pattern: &str, rules: ChannelRules) -> Self {
        if let Err(e) = crate::channels::names::check_pattern(pattern) {
            self.errors.push(format!("channel {pattern:?}: {e}"));
        }
        self.channels.rules.push((pattern.to_string(), rules));
        self
    }

    /// Decides who may subscribe to and publish on which channel, after
    /// the channel's rules (a refusal's reason reaches the client in
    /// `ChannelError` code 403).
    pub fn channel_authorizer(
        mut self,
        f: impl Fn(Option<&str>, &str, Access) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.channels.authorize = Some(Arc::new(f));
        self
    }

    /// Sets the channel limits and timings beyond the rules (presence TTL,
    /// subscriptions per session, publish queue).
    pub fn channel_config(mut self, f: impl FnOnce(&mut ChannelConfig)) -> Self {
        f(&mut self.channels);
        self
    }
}
