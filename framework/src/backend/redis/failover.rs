//! [`FailoverStore`] in Redis: room states, claims, releases, session
//! records and their streams (scripts in `failover_scripts.rs`).

use super::{field, record, RedisBackend};
use crate::backend::failover::{Claimed, FailoverStore, SessionOp, StoredSession};
use crate::backend::{BackendError, NodeInfo};
use bytes::Bytes;
use futures_util::future::{BoxFuture, FutureExt};
use std::time::{Duration, Instant};

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

fn millis(d: Duration) -> Vec<u8> {
    (d.as_millis() as u64).to_string().into_bytes()
}

/// `<seq>-1` → seq.
fn entry_seq(id: &[u8]) -> Option<u64> {
    std::str::from_utf8(id).ok()?.split('-').next()?.parse().ok()
}

fn claimed(flat: Vec<Vec<u8>>, node: &NodeInfo) -> Result<Vec<Claimed>, BackendError> {
    if !flat.len().is_multiple_of(6) {
        return Err(BackendError::Protocol(format!("claim answered {} fields", flat.len())));
    }
    flat.chunks(6)
        .map(|c| {
            let v: Vec<String> = vec![
                text(&c[0]),
                text(&c[1]),
                node.id.clone(),
                node.url.clone(),
                "0".into(),
                text(&c[2]),
                "0".into(),
                text(&c[3]),
            ];
            Ok(Claimed { record: record(&v)?, state: Bytes::from(c[4].clone()), from: text(&c[5]) })
        })
        .collect()
}

fn stored(flat: Vec<Vec<u8>>) -> Result<Vec<StoredSession>, BackendError> {
    let bad = || BackendError::Protocol("load answered a malformed session".into());
    let mut out = Vec::new();
    let mut it = flat.into_iter();
    while let Some(key) = it.next() {
        let (blob, stream, count) =
            (it.next().ok_or_else(bad)?, it.next().ok_or_else(bad)?, it.next().ok_or_else(bad)?);
        let count: usize = field(&[text(&count)], 0)?;
        let mut frames = Vec::with_capacity(count);
        for _ in 0..count {
            let (id, frame) = (it.next().ok_or_else(bad)?, it.next().ok_or_else(bad)?);
            frames.push((entry_seq(&id).ok_or_else(bad)?, Bytes::from(frame)));
        }
        out.push(StoredSession { key: text(&key), blob: Bytes::from(blob), stream: text(&stream), frames });
    }
    Ok(out)
}

impl RedisBackend {
    fn release_with(
        &self,
        id: &str,
        node: &str,
        epoch: u64,
        nudge: bool,
    ) -> BoxFuture<'static, Result<bool, BackendError>> {
        let nudge = if nudge { "1" } else { "0" };
        let args = vec![id.to_string(), node.to_string(), epoch.to_string(), nudge.to_string()];
        let fut = self.run::<i64, _>("release", |s| &s.release, args);
        async move { Ok(fut.await? == 1) }.boxed()
    }
}

impl FailoverStore for RedisBackend {
    fn save_room(
        &self,
        id: &str,
        node: &str,
        epoch: u64,
        state: Bytes,
    ) -> BoxFuture<'static, Result<bool, BackendError>> {
        let args: Vec<Vec<u8>> = vec![
            id.as_bytes().to_vec(),
            node.as_bytes().to_vec(),
            epoch.to_string().into_bytes(),
            state.to_vec(),
            millis(self.inner.session_ttl),
        ];
        let fut = self.run::<i64, _>("save_room", |s| &s.save, args);
        async move { Ok(fut.await? == 1) }.boxed()
    }

    fn release(&self, id: &str, node: &str, epoch: u64) -> BoxFuture<'static, Result<bool, BackendError>> {
        self.release_with(id, node, epoch, true)
    }

    fn release_quietly(&self, id: &str, node: &str, epoch: u64) -> BoxFuture<'static, Result<bool, BackendError>> {
        self.release_with(id, node, epoch, false)
    }

    fn claim(
        &self,
        node: &NodeInfo,
        lease: Duration,
        max: usize,
    ) -> BoxFuture<'static, Result<Vec<Claimed>, BackendError>> {
        let args: Vec<Vec<u8>> = vec![
            node.id.clone().into_bytes(),
            node.url.clone().into_bytes(),
            millis(lease),
            max.to_string().into_bytes(),
        ];
        let fut = self.run::<Vec<Vec<u8>>, _>("claim", |s| &s.claim, args);
        let node = node.clone();
        async move { claimed(fut.await?, &node) }.boxed()
    }

    fn write_sessions(&self, ops: Vec<SessionOp>) -> BoxFuture<'static, Result<(), BackendError>> {
        let mut args: Vec<Vec<u8>> = vec![millis(self.inner.session_ttl)];
        for op in ops {
            match op {
                SessionOp::Record { key, blob, stream } => {
                    args.extend([b"R".to_vec(), key.into_bytes(), blob.to_vec(), stream.into_bytes()])
                }
                SessionOp::Append { stream, seq, frame, max_len } => args.extend([
                    b"A".to_vec(),
                    stream.into_bytes(),
                    seq.to_string().into_bytes(),
                    frame.to_vec(),
                    max_len.to_string().into_bytes(),
                ]),
                SessionOp::Trim { stream, upto } => {
                    args.extend([b"T".to_vec(), stream.into_bytes(), upto.to_string().into_bytes()])
                }
                SessionOp::Delete { key, stream } => {
                    args.extend([b"D".to_vec(), key.into_bytes(), stream.into_bytes()])
                }
                SessionOp::Holder { key, url } => args.extend([b"H".to_vec(), key.into_bytes(), url.into_bytes()]),
            }
        }
        let fut = self.run::<i64, _>("sessions", |s| &s.sessions, args);
        async move { fut.await.map(|_| ()) }.boxed()
    }

    fn load_sessions(&self, keys: Vec<String>) -> BoxFuture<'static, Result<Vec<StoredSession>, BackendError>> {
        let fut = self.run::<Vec<Vec<u8>>, _>("load_sessions", |s| &s.load, keys);
        async move { stored(fut.await?) }.boxed()
    }

    fn handover_pending(&self) -> BoxFuture<'static, Result<bool, BackendError>> {
        let key = format!("{}handover", self.inner.prefix);
        let inner = self.inner.clone();
        async move {
            let mut conn = inner.conn.clone();
            let mut cmd = redis::cmd("EXISTS");
            cmd.arg(&key);
            match tokio::time::timeout(inner.timeout, cmd.query_async::<i64>(&mut conn)).await {
                Ok(r) => r.map(|n| n == 1).map_err(super::unavailable),
                Err(_) => Err(BackendError::Unavailable(format!("no answer within {:?}", inner.timeout))),
            }
        }
        .boxed()
    }

    fn session_holder(&self, key: &str) -> BoxFuture<'static, Result<Option<Option<String>>, BackendError>> {
        let key = format!("{}sess:{key}", self.inner.prefix);
        let inner = self.inner.clone();
        async move {
            let mut conn = inner.conn.clone();
            let start = Instant::now();
            let mut cmd = redis::cmd("HMGET");
            cmd.arg(&key).arg("stream").arg("holder");
            let r = tokio::time::timeout(inner.timeout, cmd.query_async::<(Option<String>, Option<String>)>(&mut conn))
                .await;
            inner.metrics.redis_command("session_holder", start.elapsed(), matches!(r, Ok(Ok(_))));
            match r {
                Ok(r) => r.map(|(stream, holder)| stream.map(|_| holder)).map_err(super::unavailable),
                Err(_) => Err(BackendError::Unavailable(format!("no answer within {:?}", inner.timeout))),
            }
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loaded_session_is_parsed_with_its_frames_in_order() {
        let flat: Vec<Vec<u8>> = ["k1", "blob", "s1", "2", "3-1", "c", "4-1", "d", "k2", "b2", "s2", "0"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let got = stored(flat).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].frames, vec![(3, Bytes::from("c")), (4, Bytes::from("d"))]);
        assert_eq!((got[1].key.as_str(), got[1].frames.len()), ("k2", 0));
        assert!(stored(vec![b"k".to_vec(), b"b".to_vec()]).is_err(), "a truncated answer is an error");
    }
}
