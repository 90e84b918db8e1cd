//! [`Event`]: one server message, by kind, as [`crate::Client::next_event`]
//! returns it.

use crate::envelope::{self, server_msg::Kind as S, JoinError, Joined, Left, Message, Pong, Resumed, State, Welcome};

/// A server message, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Joined a room.
    Joined(Joined),
    /// A join failed.
    JoinError(JoinError),
    /// A reliable room message.
    Message(Message),
    /// A state snapshot.
    State(State),
    /// Answer to a ping.
    Pong(Pong),
    /// A non-fatal error.
    Error(envelope::Error),
    /// The server is shutting down.
    Shutdown(envelope::Shutdown),
    /// Left a room.
    Left(Left),
    /// Another welcome (never sent twice by a correct server).
    Welcome(Welcome),
    /// A session was resumed (the answer to [`Client::resume`]).
    Resumed(Resumed),
    /// The connection's credential was accepted (an `Auth` answer).
    Authenticated(playhouse_protocol::envelope::Authenticated),
    /// A join's room lives on another node (cluster): the join methods
    /// follow it on their own; seen here only by code that sends joins
    /// itself.
    Redirect(envelope::Redirect),
    /// The answer to a subscribe ([`crate::Client::subscribe`]).
    Subscribed(envelope::Subscribed),
    /// A message published on a subscribed channel.
    Publication(envelope::Publication),
    /// Who joined or left a subscribed channel.
    PresenceChange(envelope::PresenceChange),
    /// A subscribe or publish was refused.
    ChannelError(envelope::ChannelError),
}

impl From<S> for Event {
    fn from(k: S) -> Self {
        match k {
            S::Welcome(w) => Event::Welcome(w),
            S::Joined(j) => Event::Joined(j),
            S::JoinError(e) => Event::JoinError(e),
            S::Message(m) => Event::Message(m),
            S::State(s) => Event::State(s),
            S::Pong(p) => Event::Pong(p),
            S::Error(e) => Event::Error(e),
            S::Shutdown(s) => Event::Shutdown(s),
            S::Left(l) => Event::Left(l),
            S::Resumed(r) => Event::Resumed(r),
            S::Authenticated(a) => Event::Authenticated(a),
            S::Redirect(r) => Event::Redirect(r),
            S::Subscribed(s) => Event::Subscribed(s),
            S::Publication(p) => Event::Publication(p),
            S::PresenceChange(p) => Event::PresenceChange(p),
            S::ChannelError(e) => Event::ChannelError(e),
        }
    }
}

impl From<Event> for S {
    fn from(e: Event) -> Self {
        match e {
            Event::Welcome(w) => S::Welcome(w),
            Event::Joined(j) => S::Joined(j),
            Event::JoinError(e) => S::JoinError(e),
            Event::Message(m) => S::Message(m),
            Event::State(s) => S::State(s),
            Event::Pong(p) => S::Pong(p),
            Event::Error(e) => S::Error(e),
            Event::Shutdown(s) => S::Shutdown(s),
            Event::Left(l) => S::Left(l),
            Event::Resumed(r) => S::Resumed(r),
            Event::Authenticated(a) => S::Authenticated(a),
            Event::Redirect(r) => S::Redirect(r),
            Event::Subscribed(s) => S::Subscribed(s),
            Event::Publication(p) => S::Publication(p),
            Event::PresenceChange(p) => S::PresenceChange(p),
            Event::ChannelError(e) => S::ChannelError(e),
        }
    }
}
