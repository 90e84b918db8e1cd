//! Getting a connection back: the first connection, each reconnect
//! attempt of an outage (planned by [`Outage`], spaced by the backoff,
//! bounded by `attempt_timeout`), and what a connection that answered
//! becomes: the session resumed, or a new one with the rooms rejoined.

use super::credentials::{credential, fresh_token};
use super::rooms::rejoin;
use super::{
    stop_after_attempt, AckSchedule, Outage, Phase, ReconnectConfig, ReconnectError, ReconnectEvent,
    ReconnectingClient, RefreshPlan, RoomMemory, StopReason, UrlRotation,
};
use crate::{Client, ClientError, Event, ResumeOutcome};
use std::collections::VecDeque;
use std::time::Instant;

/// What a successful attempt brings back.
struct Reattached {
    conn: Client,
    event: ReconnectEvent,
    rooms: RoomMemory,
    /// The seq the server already counts as acknowledged.
    acked: u64,
}

impl ReconnectingClient {
    /// [`ReconnectingClient::connect`]: the first URL that answers, tried
    /// in order with the config's backoff between attempts.
    pub(super) async fn first_connection(mut config: ReconnectConfig) -> Result<Self, ReconnectError> {
        config.validate()?;
        let mut jitter = std::mem::take(&mut config.jitter);
        let mut rotation = UrlRotation::new(config.urls.len());
        let mut outage = Outage::first_connection();
        let tokens: Vec<&str> = config.tokens.iter().map(String::as_str).collect();
        let (conn, index) = loop {
            let Some(a) = outage.plan(&config.backoff, &rotation, &mut jitter) else {
                let last_error = outage.last_error().unwrap_or_default().to_string();
                return Err(ReconnectError::Unreachable { attempts: outage.attempts(), last_error });
            };
            tokio::time::sleep(a.delay).await;
            let url = &config.urls[a.url];
            let auth = config.auth.as_ref();
            let dial = async {
                let token = fresh_token(auth).await?;
                Client::connect_with(url, &tokens, credential(auth, token.as_deref())).await
            };
            match tokio::time::timeout(config.attempt_timeout, dial).await {
                Ok(Ok(conn)) => break (conn, a.url),
                Ok(Err(e)) => {
                    tracing::debug!(url, attempt = a.number, error = %e, "connect attempt failed");
                    if let Some((why, _)) = stop_after_attempt(&e) {
                        let failure = match why {
                            StopReason::Unauthorized(f) => Some(f),
                            _ => None,
                        };
                        return Err(ReconnectError::Refused { failure, reason: format!("{url}: {e}") });
                    }
                    outage.failed(format!("{url}: {e}"));
                }
                Err(_) => outage.failed(format!("{url}: timed out")),
            }
        };
        rotation.connected(index);
        let token = conn.protocol().clone();
        let mut client = ReconnectingClient {
            config,
            jitter,
            phase: Phase::Stopped(StopReason::ClosedByClient),
            queue: VecDeque::new(),
            rooms: RoomMemory::default(),
            rotation,
            acks: AckSchedule::new(None, 0, Instant::now()),
            resume_token: String::new(),
            last_seq: 0,
            session: String::new(),
            token,
            shutdown: None,
            bytes_before: 0,
            authenticated: None,
            refresh: RefreshPlan::default(),
            announced: None,
        };
        let notice = client.deprecation_notice(&conn);
        client.attach(conn, index, 0);
        client.queue.extend(notice);
        Ok(client)
    }

    /// One step of an outage: announces the next attempt
    /// ([`ReconnectEvent::Reconnecting`]) or gives up, else waits for the
    /// planned attempt and makes it. `None`: the attempt failed and the
    /// next one is to be planned. Cancelled while it waits or dials, it
    /// starts that attempt over on the next call.
    pub(super) async fn reconnect_step(&mut self) -> Option<ReconnectEvent> {
        let Phase::Reconnecting { outage, planned } = &mut self.phase else {
            return None;
        };
        let (attempt, at) = match *planned {
            Some(p) => p,
            None => match outage.plan(&self.config.backoff, &self.rotation, &mut self.jitter) {
                Some(a) => {
                    *planned = Some((a, Instant::now() + a.delay));
                    let (url, cause) = (self.config.urls[a.url].clone(), outage.cause().to_string());
                    tracing::debug!(%url, attempt = a.number, delay = ?a.delay, %cause, "reconnecting");
                    return Some(ReconnectEvent::Reconnecting { attempt: a.number, delay: a.delay, url, cause });
                }
                None => {
                    let attempts = outage.attempts();
                    let last_error = outage.last_error().unwrap_or(outage.cause()).to_string();
                    self.phase = Phase::Stopped(StopReason::GaveUp);
                    return Some(ReconnectEvent::GaveUp { attempts, last_error });
                }
            },
        };
        tokio::time::sleep_until(at.into()).await;
        let result = tokio::time::timeout(self.config.attempt_timeout, self.reattach(attempt.url)).await;
        let why = match result {
            Ok(Ok(back)) => {
                self.rooms = back.rooms;
                let authenticated = back.conn.authenticated().cloned();
                let notice = self.deprecation_notice(&back.conn);
                self.attach(back.conn, attempt.url, back.acked);
                // Each connection's Authenticated, then how the
                // session came back, then a new deprecation.
                let Some(a) = authenticated else {
                    self.queue.extend(notice);
                    return Some(back.event);
                };
                self.queue.push_back(back.event);
                self.queue.extend(notice);
                return Some(ReconnectEvent::Server(Event::Authenticated(a)));
            }
            Ok(Err(e)) => {
                if let Some((why, event)) = stop_after_attempt(&e) {
                    tracing::debug!(url = %self.config.urls[attempt.url], error = %e, "reconnect refused for good");
                    self.phase = Phase::Stopped(why);
                    return Some(event);
                }
                e.to_string()
            }
            Err(_) => "timed out".to_string(),
        };
        tracing::debug!(url = %self.config.urls[attempt.url], attempt = attempt.number, %why, "reconnect attempt failed");
        if let Phase::Reconnecting { outage, planned } = &mut self.phase {
            outage.failed(why);
            *planned = None;
        }
        None
    }

    /// The [`ReconnectEvent::Deprecated`] for `conn`, if its version is
    /// deprecated and the game has not been told about this token and
    /// sunset yet (logged as a warning, once).
    fn deprecation_notice(&mut self, conn: &Client) -> Option<ReconnectEvent> {
        let now = conn.deprecation().map(|d| (conn.protocol().clone(), d));
        if now == self.announced {
            return None;
        }
        self.announced = now.clone();
        let (protocol, d) = now?;
        let sunset = d.sunset.map_or_else(|| "no date given".to_string(), |s| s.to_string());
        tracing::warn!(%protocol, %sunset, "the server deprecated this protocol version: update the client before the sunset");
        Some(ReconnectEvent::Deprecated { protocol, sunset: d.sunset })
    }

    /// Makes `conn` (to URL `index`) the live connection.
    fn attach(&mut self, mut conn: Client, index: usize, acked: u64) {
        conn.set_timeout(self.config.request_timeout);
        conn.set_deltas(self.config.deltas);
        self.rotation.connected(index);
        self.token = conn.protocol().clone();
        self.session = conn.welcome().session.clone();
        self.acks = AckSchedule::new(self.config.ack_interval, acked, Instant::now());
        self.shutdown = None;
        self.refresh.reset();
        self.phase = Phase::Connected(Box::new(conn));
        // A resume a cluster node sent on to the session's node.
        self.follow_move();
    }

    /// Dials URL `index` and resumes the session, or opens a new one and
    /// rejoins the rooms. Changes nothing until it succeeds.
    async fn reattach(&self, index: usize) -> Result<Reattached, ClientError> {
        let url = &self.config.urls[index];
        let tokens: Vec<&str> = self.config.tokens.iter().map(String::as_str).collect();
        let auth = self.config.auth.as_ref();
        let token = fresh_token(auth).await?;
        let cred = credential(auth, token.as_deref());
        let (mut conn, outcome) =
            Client::resume_or_new_with(url, &tokens, cred, &self.resume_token, self.last_seq).await?;
        conn.set_timeout(self.config.request_timeout);
        // Where the session is now: a node may have sent the resume on.
        let url = conn.url().to_string();
        match outcome {
            ResumeOutcome::Resumed(r) => {
                let mut rooms = self.rooms.clone();
                rooms.keep_only(&r.rooms);
                let event = ReconnectEvent::Resumed { url, replayed: r.replayed, resync: r.resync, rooms: r.rooms };
                Ok(Reattached { conn, event, rooms, acked: self.last_seq })
            }
            ResumeOutcome::Refused(refusal) => {
                tracing::debug!(reason = %refusal.reason, "resume refused; rejoining on a new session");
                let (rooms, rejoined, failed) = rejoin(&mut conn, &self.rooms).await?;
                let session = conn.welcome().session.clone();
                Ok(Reattached {
                    conn,
                    event: ReconnectEvent::NewSession { url, session, rejoined, failed },
                    rooms,
                    acked: 0,
                })
            }
        }
    }
}
