//! Resuming a session on a fresh connection: [`Client::resume`],
//! [`Client::resume_or_new`] and what they come to.

use crate::{Client, ClientError, ClientId, Event, MAX_REDIRECTS};
use playhouse_protocol::envelope::{self, client_msg::Kind as C, Resume, Resumed};

impl Client {
    /// Connects to `url` and resumes the session of `token`, having received
    /// every reliable message up to `last_seq`. On success the server has
    /// answered `Resumed`, which the next [`Client::next_event`] returns; the
    /// missed messages follow as ordinary events. A refused resume (the
    /// session expired) is `Err(ClientError::Resume)` and the connection is
    /// dropped; [`Client::resume_or_new`] keeps it instead.
    pub async fn resume(url: &str, tokens: &[&str], token: &str, last_seq: u64) -> Result<Client, ClientError> {
        match Self::resume_or_new(url, tokens, token, last_seq).await? {
            (mut client, ResumeOutcome::Resumed(r)) => {
                client.backlog.push_front(Event::Resumed(r));
                Ok(client)
            }
            (_, ResumeOutcome::Refused(e)) => Err(ClientError::Resume(e)),
        }
    }

    /// Like [`Client::resume`], but a refused resume keeps the connection:
    /// it then carries the fresh session its own `Welcome` named (no rooms,
    /// seq from 1), as the server leaves it. `Resumed` is returned here, not
    /// as an event.
    pub async fn resume_or_new(
        url: &str,
        tokens: &[&str],
        token: &str,
        last_seq: u64,
    ) -> Result<(Client, ResumeOutcome), ClientError> {
        Self::resume_or_new_with(url, tokens, None, token, last_seq).await
    }

    /// Sends `Resume` on a fresh connection and takes the answer.
    pub(crate) async fn resume_session(
        self,
        token: &str,
        last_seq: u64,
    ) -> Result<(Client, ResumeOutcome), ClientError> {
        let mut client = self;
        let mut hops = 0;
        let answer = loop {
            client.last_seq = last_seq;
            client.send(C::Resume(Resume { token: token.to_string(), last_seq })).await?;
            let answer = client
                .wait_for(|e| match e {
                    Event::Resumed(r) => Some(Ok(Ok(r.clone()))),
                    Event::Error(e) if e.code == 4002 => Some(Err(e.clone())),
                    // A cluster node that does not hold the session says
                    // which node does: resume there, with the same token.
                    Event::Redirect(r) if r.request == 0 && r.room.is_empty() => Some(Ok(Err(r.url.clone()))),
                    _ => None,
                })
                .await?;
            match answer {
                Ok(Err(url)) if hops < MAX_REDIRECTS => {
                    hops += 1;
                    client.redial(&url).await?;
                }
                Ok(Err(url)) => {
                    return Err(ClientError::Protocol(format!("resume redirected too often (last to {url})")))
                }
                Ok(Ok(resumed)) => break Ok(resumed),
                Err(refusal) => break Err(refusal),
            }
        };
        match answer {
            Ok(resumed) => {
                client.resume_token = resumed.resume_token.clone();
                client.welcome.session = resumed.session.clone();
                client.rooms = resumed.rooms.iter().map(|j| (j.room.as_str().into(), ClientId(j.client))).collect();
                client.resynced = resumed.resync;
                Ok((client, ResumeOutcome::Resumed(resumed)))
            }
            Err(refusal) => {
                // The fresh session of this connection's Welcome: its own
                // token, and its reliable stream starts at seq 1.
                client.resume_token = client.welcome.resume_token.clone();
                client.last_seq = 0;
                Ok((client, ResumeOutcome::Refused(refusal)))
            }
        }
    }
}

/// What [`Client::resume_or_new`] came to.
#[derive(Debug, Clone, PartialEq)]
pub enum ResumeOutcome {
    /// The session is back; the missed reliable messages follow as events.
    Resumed(Resumed),
    /// The server refused (`Error{code: 4002}`: the session expired, ended,
    /// or lived on another server); the connection carries a fresh session.
    Refused(envelope::Error),
}
