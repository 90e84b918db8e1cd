//! [`ChannelHub`]: a node's channels — its subscribers, the feed of every
//! node's publications fanned out to them (encoded once per codec), one
//! worker that publishes this node's publications in order through a
//! bounded queue, and the presence entries it keeps alive.
//!
//! Every frame to a subscriber is pushed under the subscribers' lock, so a
//! `Subscribed` answer and the publications after it reach the session in
//! order; the lock is never held across an await (the store's calls run
//! outside it).

use super::names::{self, NameError};
use super::subscribers::{AddError, Subscribers, Target};
use super::CHANNEL_UNAVAILABLE;
use super::{Access, ChannelConfig, ChannelRules};
use super::{CHANNEL_ALREADY, CHANNEL_BAD_NAME, CHANNEL_FORBIDDEN, CHANNEL_LIMIT, CHANNEL_NOT_FOUND};
use crate::backend::{ChannelStore, History, HistoryLimits, Notice, Position, Publication};
use crate::metrics::ClusterMetrics;
use crate::protocol::envelope::{self as wire, server_msg::Kind as Out, ServerMsg};
use crate::protocol::{CloseCode, Codec, SessionId};
use crate::session::Push;
use bytes::Bytes;
use futures_util::future::{BoxFuture, FutureExt};
use parking_lot::Mutex;
use std::sync::{Arc, Weak};
use std::time::Instant;
use tokio::sync::mpsc;

/// A subscribe or publish that cannot happen: the `ChannelError` the client gets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refusal {
    /// One of the `CHANNEL_*` codes.
    pub code: u32,
    /// For people.
    pub reason: String,
}

impl Refusal {
    fn new(code: u32, reason: impl Into<String>) -> Self {
        Refusal { code, reason: reason.into() }
    }
}

impl From<NameError> for Refusal {
    fn from(e: NameError) -> Self {
        Refusal::new(CHANNEL_BAD_NAME, e.to_string())
    }
}

/// Why room code could not publish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The server has no channels configured.
    #[error("this server has no channels")]
    NoChannels,
    /// Not a concrete channel name.
    #[error(transparent)]
    BadName(#[from] NameError),
    /// The node's publish queue is full (the store is slow or unreachable).
    #[error("the channel publish queue is full")]
    Full,
}

enum Job {
    Publish { channel: String, payload: Bytes, publisher: String, limits: HistoryLimits, reply: Option<(Target, u32)> },
    Leave { channel: String, member: String },
}

/// A subscription a connection asks for.
pub struct SubscribeRequest<'a> {
    /// Echoed in `Subscribed` / `ChannelError`.
    pub request: u32,
    /// The name or pattern.
    pub channel: &'a str,
    /// The client's last position, to recover from.
    pub recover: Option<Position>,
    /// The subscribing session.
    pub session: SessionId,
    /// Where its messages go.
    pub target: Target,
    /// Its presence name (the user, or the session name).
    pub member: &'a str,
    /// The authenticated user.
    pub user: Option<&'a str>,
}

/// A node's channels.
pub struct ChannelHub {
    store: Arc<dyn ChannelStore>,
    config: ChannelConfig,
    subs: Mutex<Subscribers>,
    jobs: mpsc::Sender<Job>,
    rx: Mutex<Option<mpsc::Receiver<Job>>>,
    metrics: ClusterMetrics,
    weak: Weak<ChannelHub>,
}

fn frame(codec: Codec, kind: Out) -> Option<Bytes> {
    match codec.encode_to_vec(&ServerMsg { kind: Some(kind), seq: 0 }) {
        Ok(v) => Some(Bytes::from(v)),
        Err(e) => {
            tracing::error!(error = %e, "failed to encode a channel message");
            None
        }
    }
}

fn push(t: &Target, f: Bytes, now: Instant) {
    if t.outbox.push_frame(f, now) == Push::Stalled {
        t.outbox.kill(CloseCode::TooSlow, "client stopped reading");
    }
}

fn wire_pub(p: Publication) -> wire::Publication {
    wire::Publication {
        channel: p.channel,
        offset: p.offset,
        epoch: p.epoch,
        payload: p.payload,
        publisher: p.publisher,
    }
}

/// One message encoded at most once per codec, for many targets.
#[derive(Default)]
struct PerCodec(Vec<(Codec, Bytes)>);

impl PerCodec {
    fn get(&mut self, codec: Codec, kind: impl FnOnce() -> Out) -> Option<Bytes> {
        if let Some((_, f)) = self.0.iter().find(|(c, _)| *c == codec) {
            return Some(f.clone());
        }
        let f = frame(codec, kind())?;
        self.0.push((codec, f.clone()));
        Some(f)
    }
}

/// Sends `kind` (encoded for `t`'s codec) to `t`.
fn send(t: &Target, kind: Out) {
    if let Some(f) = frame(t.codec, kind) {
        push(t, f, Instant::now());
    }
}

fn channel_error(t: &Target, request: u32, channel: &str, r: Refusal) {
    send(
        t,
        Out::ChannelError(wire::ChannelError { request, channel: channel.to_string(), code: r.code, reason: r.reason }),
    );
}

impl ChannelHub {
    /// The channels of `config`, stored in `store`; call
    /// [`ChannelHub::start`] inside the runtime before use.
    pub fn new(store: Arc<dyn ChannelStore>, config: ChannelConfig, metrics: ClusterMetrics) -> Arc<Self> {
        let (jobs, rx) = mpsc::channel(config.queue.max(1));
        Arc::new_cyclic(|weak| ChannelHub {
            store,
            subs: Mutex::new(Subscribers::new(config.max_per_session)),
            config,
            jobs,
            rx: Mutex::new(Some(rx)),
            metrics,
            weak: weak.clone(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ChannelConfig {
        &self.config
    }

    /// Starts listening to the store, the publish worker and the presence
    /// refresh (on the current tokio runtime). Once; later calls do nothing.
    pub fn start(&self) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            tracing::error!("channels need a tokio runtime at bind: they stay inert");
            return;
        };
        let Some(mut rx) = self.rx.lock().take() else { return };
        let weak = self.weak.clone();
        self.store.listen(Arc::new(move |n| {
            if let Some(hub) = weak.upgrade() {
                hub.on_notice(n);
            }
        }));
        let weak = self.weak.clone();
        rt.spawn(async move {
            while let Some(job) = rx.recv().await {
                let Some(hub) = weak.upgrade() else { return };
                hub.run(job).await;
            }
        });
        let weak = self.weak.clone();
        let every = self.config.presence_ttl / 3;
        rt.spawn(async move {
            let mut tick = tokio::time::interval(every.max(std::time::Duration::from_millis(50)));
            loop {
                tick.tick().await;
                let Some(hub) = weak.upgrade() else { return };
                hub.refresh().await;
            }
        });
    }

    async fn run(&self, job: Job) {
        match job {
            Job::Publish { channel, payload, publisher, limits, reply } => {
                match self.store.publish(&channel, payload, &publisher, limits).await {
                    Ok(_) => {
                        self.metrics.channel_publishes.inc();
                    }
                    Err(e) => {
                        self.metrics.channel_publish_errors.inc();
                        tracing::warn!(error = %e, channel, "publish failed");
                        if let Some((t, request)) = reply {
                            channel_error(&t, request, &channel, Refusal::new(CHANNEL_UNAVAILABLE, e.to_string()));
                        }
                    }
                }
            }
            Job::Leave { channel, member } => {
                if let Err(e) = self.store.presence_leave(&channel, &member).await {
                    tracing::debug!(error = %e, channel, "presence leave failed (the entry will expire)");
                }
            }
        }
    }

    /// Drops the subscriptions of ended sessions and keeps this node's
    /// presence entries alive.
    async fn refresh(&self) {
        let (gone, entries) = {
            let mut subs = self.subs.lock();
            let gone = subs.sweep_closed();
            self.metrics.channel_subscriptions.set(subs.len() as i64);
            let mut entries = subs.presence_entries();
            entries.retain(|(c, _)| self.config.rules_for(c).is_some_and(|r| r.presence));
            (gone, entries)
        };
        for (channel, member) in gone {
            self.leave_later(channel, member);
        }
        if !entries.is_empty() {
            if let Err(e) = self.store.presence_refresh(entries, self.config.presence_ttl).await {
                tracing::warn!(error = %e, "presence refresh failed");
            }
        }
    }

    fn leave_later(&self, channel: String, member: String) {
        if self.jobs.try_send(Job::Leave { channel, member }).is_err() {
            tracing::debug!("publish queue full: a presence leave waits for its entry to expire");
        }
    }

    fn rules(&self, channel: &str) -> Result<&ChannelRules, Refusal> {
        self.config
            .rules_for(channel)
            .ok_or_else(|| Refusal::new(CHANNEL_NOT_FOUND, format!("no channel {channel:?} on this server")))
    }

    fn authorize(&self, user: Option<&str>, channel: &str, access: Access) -> Result<(), Refusal> {
        match &self.config.authorize {
            Some(f) => f(user, channel, access).map_err(|r| Refusal::new(CHANNEL_FORBIDDEN, r)),
            None => Ok(()),
        }
    }

    /// Starts a subscription: checked and registered now (publications
    /// from now on are held for it); the returned task reads the history
    /// and presence and answers `Subscribed` (or `ChannelError`).
    pub fn subscribe(&self, req: SubscribeRequest<'_>) -> Result<BoxFuture<'static, ()>, Refusal> {
        let pattern = names::check_pattern(req.channel)?;
        let rules = *self.rules(req.channel)?;
        self.authorize(req.user, req.channel, Access::Subscribe)?;
        let added = self.subs.lock().add(req.channel, req.session, req.target, req.member);
        match added {
            Err(e @ AddError::Already(_)) => return Err(Refusal::new(CHANNEL_ALREADY, e.to_string())),
            Err(e @ AddError::TooMany(_)) => return Err(Refusal::new(CHANNEL_LIMIT, e.to_string())),
            Ok(_) => {}
        }
        let (hub, store) = (self.weak.clone(), self.store.clone());
        let (channel, member, session, request) =
            (req.channel.to_string(), req.member.to_string(), req.session, req.request);
        let (recover, ttl) = (req.recover, self.config.presence_ttl);
        Ok(async move {
            let answer = if pattern {
                Ok((None, Vec::new()))
            } else {
                let history = store.history(&channel, recover, rules.history).await;
                let presence = match rules.presence {
                    true => store.presence_join(&channel, &member, ttl).await,
                    false => Ok(Vec::new()),
                };
                history.and_then(|h| Ok((Some(h), presence?)))
            };
            if let Some(hub) = hub.upgrade() {
                hub.answer(&channel, session, request, answer);
            }
        }
        .boxed())
    }

    fn answer(
        &self,
        channel: &str,
        session: SessionId,
        request: u32,
        answer: Result<(Option<History>, Vec<String>), crate::backend::BackendError>,
    ) {
        let mut subs = self.subs.lock();
        match answer {
            Ok((history, presence)) => {
                let Some((t, done)) = subs.complete(channel, session, history) else { return };
                let msg = wire::Subscribed {
                    request,
                    channel: channel.to_string(),
                    offset: done.position.offset,
                    epoch: done.position.epoch,
                    recovered: done.recovered,
                    missed: done.missed.into_iter().map(wire_pub).collect(),
                    presence,
                };
                send(&t, Out::Subscribed(msg));
            }
            Err(e) => {
                let t = subs.target(channel, session);
                if let Some(Some(member)) = subs.remove(channel, session) {
                    self.leave_later(channel.to_string(), member);
                }
                if let Some(t) = t {
                    channel_error(&t, request, channel, Refusal::new(CHANNEL_UNAVAILABLE, e.to_string()));
                }
            }
        }
    }

    /// Ends `session`'s subscription to `channel` (false: it had none).
    pub fn unsubscribe(&self, session: SessionId, channel: &str) -> bool {
        match self.subs.lock().remove(channel, session) {
            None => false,
            Some(None) => true,
            Some(Some(member)) => {
                self.leave_later(channel.to_string(), member);
                true
            }
        }
    }

    /// A client's publish: refused unless the channel's rules let clients
    /// publish and the hook agrees; a store failure is answered to `reply`.
    pub fn publish_from_client(
        &self,
        user: Option<&str>,
        publisher: &str,
        channel: &str,
        payload: Bytes,
        reply: (Target, u32),
    ) -> Result<(), Refusal> {
        names::check_name(channel)?;
        let rules = *self.rules(channel)?;
        if !rules.client_publish {
            return Err(Refusal::new(CHANNEL_FORBIDDEN, format!("clients may not publish on {channel:?}")));
        }
        self.authorize(user, channel, Access::Publish)?;
        let job = Job::Publish {
            channel: channel.to_string(),
            payload,
            publisher: publisher.to_string(),
            limits: rules.history,
            reply: Some(reply),
        };
        self.jobs.try_send(job).map_err(|_| Refusal::new(CHANNEL_LIMIT, "the channel publish queue is full"))
    }

    /// Room code's publish (any concrete name; the rules of the pattern
    /// that covers it give its history, else the defaults).
    pub fn publish(&self, channel: &str, payload: Bytes) -> Result<(), PublishError> {
        names::check_name(channel)?;
        let limits = self.config.rules_for(channel).map(|r| r.history).unwrap_or_default();
        let job = Job::Publish { channel: channel.to_string(), payload, publisher: String::new(), limits, reply: None };
        self.jobs.try_send(job).map_err(|_| PublishError::Full)
    }

    /// Something from the store: fan it out to the local subscribers.
    fn on_notice(&self, n: Notice) {
        let now = Instant::now();
        match n {
            Notice::Publication(p) => {
                let mut encoded = PerCodec::default();
                let mut subs = self.subs.lock();
                let n = subs.route(&p, |t| {
                    if let Some(f) = encoded.get(t.codec, || Out::Publication(wire_pub(p.clone()))) {
                        push(t, f, now);
                    }
                });
                self.metrics.channel_deliveries.inc_by(n as u64);
            }
            Notice::Presence { channel, joined, left } => {
                let subs = self.subs.lock();
                let msg = wire::PresenceChange { channel, joined, left };
                let mut encoded = PerCodec::default();
                for t in subs.presence_targets(&msg.channel) {
                    if let Some(f) = encoded.get(t.codec, || Out::PresenceChange(msg.clone())) {
                        push(&t, f, now);
                    }
                }
            }
        }
    }
}
