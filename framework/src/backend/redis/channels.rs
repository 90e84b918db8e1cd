//! [`ChannelStore`] in Redis: the scripts of `channel_scripts.rs`, and one
//! RESP3 pub/sub connection per node (`PSUBSCRIBE <prefix>pub:*`, a
//! [`ConnectionManager`] that resubscribes by itself after a reconnect) on
//! which every node's publications and presence changes arrive.
//!
//! A node whose pub/sub connection is down misses what is published
//! meanwhile; its clients see a gap in the offsets and can recover it from
//! the history (`Subscribe` with `recover`).

use super::channel_scripts as scripts;
use super::RedisBackend;
use crate::backend::channels::{ChannelStore, History, HistoryLimits, Notice, NoticeSink, Position, Publication};
use crate::backend::{BackendError, MAX_PRESENCE_PER_CHANNEL};
use bytes::Bytes;
use futures_util::future::{BoxFuture, FutureExt};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{PushInfo, PushKind, Script, Value};
use std::time::Duration;

/// The channel scripts, loaded once per backend.
pub(super) struct ChannelScripts {
    publish: Script,
    history: Script,
    join: Script,
    leave: Script,
    refresh: Script,
}

impl ChannelScripts {
    pub(super) fn new() -> Self {
        ChannelScripts {
            publish: Script::new(scripts::PUBLISH),
            history: Script::new(scripts::HISTORY),
            join: Script::new(&scripts::join()),
            leave: Script::new(scripts::LEAVE),
            refresh: Script::new(&scripts::refresh()),
        }
    }
}

/// A duration as the whole milliseconds the scripts take (at least 1).
fn ms(d: Duration) -> String {
    (d.as_millis().max(1) as u64).to_string()
}

fn fresh_epoch() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn bad(what: &str, v: &impl std::fmt::Debug) -> BackendError {
    BackendError::Protocol(format!("{what} answered {v:?}"))
}

fn int(v: &Value) -> Option<u64> {
    match v {
        Value::Int(i) => u64::try_from(*i).ok(),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

fn bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::BulkString(b) => Some(b.clone()),
        Value::SimpleString(s) => Some(s.clone().into_bytes()),
        Value::VerbatimString { text, .. } => Some(text.clone().into_bytes()),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    String::from_utf8(bytes(v)?).ok()
}

/// Parses `HISTORY`'s answer.
fn history(channel: &str, v: &[Value]) -> Option<History> {
    let (offset, epoch, flag) = (int(v.first()?)?, text(v.get(1)?)?, int(v.get(2)?)?);
    let mut publications = Vec::with_capacity(v.len().saturating_sub(3) / 3);
    for e in v[3..].chunks(3) {
        let [o, d, u] = e else { return None };
        publications.push(Publication {
            channel: channel.to_string(),
            offset: int(o)?,
            epoch: epoch.clone(),
            payload: Bytes::from(bytes(d)?),
            publisher: text(u)?,
        });
    }
    Some(History { publications, recovered: flag == 1, position: Position { offset, epoch } })
}

/// Decodes one message of the pub/sub channel `<prefix>pub:<channel>`.
pub(super) fn decode_notice(prefix: &str, chan: &[u8], msg: &[u8]) -> Option<Notice> {
    let channel = std::str::from_utf8(chan).ok()?.strip_prefix(prefix)?.strip_prefix("pub:")?.to_string();
    let (&kind, rest) = msg.split_first()?;
    let member = || String::from_utf8(rest.to_vec()).ok();
    match kind {
        b'j' => Some(Notice::Presence { channel, joined: vec![member()?], left: vec![] }),
        b'l' => Some(Notice::Presence { channel, joined: vec![], left: vec![member()?] }),
        b'p' => {
            let mut parts = rest.splitn(4, |b| *b == b':');
            let offset = std::str::from_utf8(parts.next()?).ok()?.parse().ok()?;
            let epoch = String::from_utf8(parts.next()?.to_vec()).ok()?;
            let len: usize = std::str::from_utf8(parts.next()?).ok()?.parse().ok()?;
            let tail = parts.next()?;
            let publisher = String::from_utf8(tail.get(..len)?.to_vec()).ok()?;
            let payload = Bytes::copy_from_slice(tail.get(len..)?);
            Some(Notice::Publication(Publication { channel, offset, epoch, payload, publisher }))
        }
        _ => None,
    }
}

/// `url` asking for RESP3 (push messages need it).
fn resp3(url: &str) -> String {
    if url.contains("protocol=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}?protocol=resp3")
    }
}

/// Connects the node's pub/sub connection and subscribes; every message
/// goes to `sink` on the connection's own task (no queue in between).
async fn subscribe(url: &str, prefix: &str, sink: NoticeSink, timeout: Duration) -> Result<ConnectionManager, String> {
    let client = redis::Client::open(resp3(url)).map_err(|e| e.to_string())?;
    let p = prefix.to_string();
    let push = move |info: PushInfo| -> Result<(), std::convert::Infallible> {
        if info.kind == PushKind::PMessage {
            if let [_, Value::BulkString(chan), Value::BulkString(msg)] = info.data.as_slice() {
                match decode_notice(&p, chan, msg) {
                    Some(n) => sink(n),
                    None => tracing::warn!("unreadable channel message on {:?}", String::from_utf8_lossy(chan)),
                }
            }
        }
        Ok(())
    };
    let cm = ConnectionManagerConfig::new()
        .set_push_sender(push)
        .set_automatic_resubscription()
        .set_response_timeout(Some(timeout))
        .set_connection_timeout(Some(timeout))
        .set_max_delay(Duration::from_secs(1));
    let mut conn = ConnectionManager::new_with_config(client, cm).await.map_err(|e| e.to_string())?;
    conn.psubscribe(format!("{prefix}pub:*")).await.map_err(|e| e.to_string())?;
    Ok(conn)
}

impl ChannelStore for RedisBackend {
    fn publish(
        &self,
        channel: &str,
        payload: Bytes,
        publisher: &str,
        limits: HistoryLimits,
    ) -> BoxFuture<'static, Result<Position, BackendError>> {
        let args: Vec<Vec<u8>> = vec![
            channel.into(),
            payload.to_vec(),
            publisher.into(),
            limits.size.to_string().into(),
            ms(limits.age).into(),
            fresh_epoch().into(),
        ];
        let fut = self.run::<(u64, String), _>("channel_publish", |s| &s.channels.publish, args);
        async move { fut.await.map(|(offset, epoch)| Position { offset, epoch }) }.boxed()
    }

    fn history(
        &self,
        channel: &str,
        since: Option<Position>,
        limits: HistoryLimits,
    ) -> BoxFuture<'static, Result<History, BackendError>> {
        let since = since.unwrap_or_default();
        let args = vec![channel.to_string(), since.offset.to_string(), since.epoch, ms(limits.age), fresh_epoch()];
        let fut = self.run::<Vec<Value>, _>("channel_history", |s| &s.channels.history, args);
        let channel = channel.to_string();
        async move {
            let v = fut.await?;
            history(&channel, &v).ok_or_else(|| bad("history", &v))
        }
        .boxed()
    }

    fn presence_join(
        &self,
        channel: &str,
        member: &str,
        ttl: Duration,
    ) -> BoxFuture<'static, Result<Vec<String>, BackendError>> {
        let args = vec![channel.to_string(), member.to_string(), ms(ttl), MAX_PRESENCE_PER_CHANNEL.to_string()];
        self.run::<Vec<String>, _>("presence_join", |s| &s.channels.join, args).boxed()
    }

    fn presence_leave(&self, channel: &str, member: &str) -> BoxFuture<'static, Result<(), BackendError>> {
        let args = vec![channel.to_string(), member.to_string()];
        let fut = self.run::<i64, _>("presence_leave", |s| &s.channels.leave, args);
        async move { fut.await.map(|_| ()) }.boxed()
    }

    fn presence_refresh(
        &self,
        entries: Vec<(String, String)>,
        ttl: Duration,
    ) -> BoxFuture<'static, Result<(), BackendError>> {
        let mut args = vec![ms(ttl)];
        for (c, m) in entries {
            args.extend([c, m]);
        }
        let fut = self.run::<i64, _>("presence_refresh", |s| &s.channels.refresh, args);
        async move { fut.await.map(|_| ()) }.boxed()
    }

    fn listen(&self, sink: NoticeSink) {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            // Until the first connection is made; after it, the manager
            // reconnects and resubscribes by itself.
            let mut wait = Duration::from_millis(50);
            loop {
                match subscribe(&inner.url, &inner.prefix, sink.clone(), inner.timeout).await {
                    Ok(conn) => {
                        *inner.pubsub.lock() = Some(conn);
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "channel pub/sub connection failed; retrying");
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(Duration::from_secs(1));
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pubsub_messages_decode_into_notices() {
        let n = decode_notice("ph:", b"ph:pub:chat.eu", b"p42:abc:3:bob\x00:\xff");
        assert_eq!(
            n,
            Some(Notice::Publication(Publication {
                channel: "chat.eu".into(),
                offset: 42,
                epoch: "abc".into(),
                payload: Bytes::from_static(b"\x00:\xff"),
                publisher: "bob".into(),
            }))
        );
        let n = decode_notice("ph:", b"ph:pub:lobby", b"ja:b");
        assert_eq!(n, Some(Notice::Presence { channel: "lobby".into(), joined: vec!["a:b".into()], left: vec![] }));
        let n = decode_notice("ph:", b"ph:pub:lobby", b"lx");
        assert_eq!(n, Some(Notice::Presence { channel: "lobby".into(), joined: vec![], left: vec!["x".into()] }));
        assert_eq!(decode_notice("ph:", b"other:pub:lobby", b"lx"), None);
        assert_eq!(decode_notice("ph:", b"ph:pub:lobby", b"p1:e:9:short"), None);
        assert_eq!(decode_notice("ph:", b"ph:pub:lobby", b""), None);
    }

    #[test]
    fn history_answers_parse() {
        let v = vec![
            Value::Int(5),
            Value::BulkString(b"ep".to_vec()),
            Value::Int(1),
            Value::Int(5),
            Value::BulkString(b"\x01".to_vec()),
            Value::BulkString(b"s".to_vec()),
        ];
        let h = history("lobby", &v).expect("parses");
        assert!(h.recovered);
        assert_eq!(h.position, Position { offset: 5, epoch: "ep".into() });
        assert_eq!(h.publications.len(), 1);
        assert_eq!(h.publications[0].payload, Bytes::from_static(b"\x01"));
        assert!(history("lobby", &v[..4]).is_none(), "a cut entry");
    }

    #[test]
    fn the_pubsub_url_asks_for_resp3() {
        assert_eq!(resp3("redis://h:1"), "redis://h:1?protocol=resp3");
        assert_eq!(resp3("redis://h:1/?db=2"), "redis://h:1/?db=2&protocol=resp3");
        assert_eq!(resp3("redis://h:1/?protocol=resp3"), "redis://h:1/?protocol=resp3");
    }
}
