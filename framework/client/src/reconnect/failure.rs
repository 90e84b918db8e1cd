//! How a [`ReconnectingClient`] takes a failure: a refused request leaves
//! the connection as it is; a lost one starts an outage; a close that rules
//! out reconnecting ([`after_close`], or an auth failure a retry cannot fix)
//! stops the client, with the event that says why.

use super::{after_close, AfterClose, Outage, Phase, ReconnectError, ReconnectEvent, ReconnectingClient, StopReason};
use crate::ClientError;
use std::time::Duration;

impl ReconnectingClient {
    /// Passes a failed call's result on, after acting on what the failure
    /// means for the connection.
    pub(super) fn settle<T>(&mut self, r: Result<T, ClientError>) -> Result<T, ReconnectError> {
        r.map_err(|e| {
            self.on_failure(&e);
            e.into()
        })
    }

    /// The connection failed while reading: `Ok` when the failure became
    /// events (reconnecting, or a stop to report), else the error.
    pub(super) fn connection_failed(&mut self, e: ClientError) -> Result<(), ReconnectError> {
        if self.on_failure(&e) {
            Ok(())
        } else {
            Err(e.into())
        }
    }

    /// Acts on `e`; returns whether it was turned into events.
    pub(super) fn on_failure(&mut self, e: &ClientError) -> bool {
        match e {
            // The connection is fine: a refused join, a slow answer, no token.
            ClientError::Join(_)
            | ClientError::Redirected(_)
            | ClientError::Channel(_)
            | ClientError::Timeout
            | ClientError::Resume(_)
            | ClientError::TokenSource(_) => false,
            ClientError::Ws(_) | ClientError::Closed(None) => {
                self.lose(e.to_string());
                true
            }
            ClientError::Closed(Some(f)) => {
                let (code, reason) = (u16::from(f.code), f.reason.to_string());
                let expires_at = self.authenticated().map_or(0, |a| a.expires_at);
                if let Some(failure) = e.auth_failure(expires_at).filter(|f| f.is_fatal()) {
                    self.stop(
                        StopReason::Unauthorized(failure),
                        Some(ReconnectEvent::Unauthorized { failure, reason }),
                    );
                    return true;
                }
                match after_close(Some(code)) {
                    AfterClose::Reconnect => self.lose(format!("closed by the server: {code} {reason}")),
                    AfterClose::Replaced => self.stop(StopReason::Replaced, Some(ReconnectEvent::Replaced { reason })),
                    AfterClose::Stop => {
                        self.stop(StopReason::Closed(code), Some(ReconnectEvent::Closed { code, reason }))
                    }
                }
                true
            }
            ClientError::Codec(_)
            | ClientError::Protocol(_)
            | ClientError::BadProtocol(_)
            | ClientError::BadToken(..)
            | ClientError::Refused { .. } => {
                self.stop(StopReason::Failed(e.to_string()), None);
                false
            }
            #[cfg(feature = "tls")]
            ClientError::Trust(_) => {
                self.stop(StopReason::Failed(e.to_string()), None);
                false
            }
        }
    }

    /// Takes the live connection out, keeping what a resume needs and the
    /// messages it read but did not hand out.
    pub(super) fn detach(&mut self) {
        let Phase::Connected(conn) = &mut self.phase else { return };
        self.bytes_before += conn.bytes_in();
        self.resume_token = conn.resume_token().to_string();
        self.last_seq = conn.last_seq();
        self.authenticated = conn.authenticated().cloned();
        self.session = conn.welcome().session.clone();
        for ev in conn.take_buffered() {
            self.observe(&ev);
            self.queue.push_back(ReconnectEvent::Server(ev));
        }
    }

    pub(super) fn lose(&mut self, cause: String) {
        tracing::debug!(session = self.session(), %cause, "connection lost");
        self.detach();
        // A Shutdown notice: its hint delays the first attempt, and a
        // draining cluster node's handover URL is dialled first.
        let notice = self.shutdown.take().unwrap_or_default();
        self.rotation.hand_over(&mut self.config.urls, &notice.url);
        let hint = Duration::from_millis(u64::from(notice.reconnect_after_ms));
        self.phase = Phase::Reconnecting { outage: Outage::after_loss(cause, hint), planned: None };
    }

    pub(super) fn stop(&mut self, why: StopReason, event: Option<ReconnectEvent>) {
        tracing::debug!(session = self.session(), %why, "client stopped");
        self.detach();
        self.phase = Phase::Stopped(why);
        self.queue.extend(event);
    }
}
