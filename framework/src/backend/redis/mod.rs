//! [`RedisBackend`]: the room directory in Redis (cargo feature `redis`).
//!
//! One [`ConnectionManager`] per node (multiplexed, reconnects by itself
//! with backoff); every command has a response timeout, so a node that
//! lost Redis gets [`BackendError::Unavailable`] in bounded time instead of
//! a hang. Every read-modify-write is one Lua script (`scripts.rs`, which
//! also lists every key); the scripts are sent by hash and loaded again
//! when a restarted Redis no longer knows them.

mod channel_scripts;
mod channels;
mod failover;
mod failover_scripts;
mod scripts;

use super::{Backend, BackendError, ChannelStore, FailoverStore, NodeInfo, Renewal, Renewed, RoomRecord, Seat, SeatIn};
use crate::metrics::ClusterMetrics;
use futures_util::future::{BoxFuture, FutureExt};
use parking_lot::Mutex;
use rand::Rng;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, RedisError, Script, ToRedisArgs};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How to reach Redis.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// `redis://HOST:PORT[/DB]` (or `rediss://` with TLS, `redis://:PASSWORD@…`).
    pub url: String,
    /// Prefix of every key, so several games (or tests) share one Redis.
    pub prefix: String,
    /// How long one command may take before it counts as failed.
    pub response_timeout: Duration,
    /// How long a session record and its stream of reliable frames are
    /// kept past their last write (a session lost with its node is
    /// resumable elsewhere only this long; default 1 h). Room states are
    /// kept as long, past their last save.
    pub session_ttl: Duration,
}

impl RedisConfig {
    /// `url` with the default prefix `ph:` and a 1 s response timeout.
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            prefix: "ph:".into(),
            response_timeout: Duration::from_secs(1),
            session_ttl: Duration::from_secs(3600),
        }
    }
}

struct Scripts {
    hello: Script,
    register: Script,
    renew: Script,
    remove: Script,
    list: Script,
    reserve: Script,
    held: Script,
    nodes: Script,
    leave: Script,
    save: Script,
    release: Script,
    claim: Script,
    sessions: Script,
    load: Script,
    channels: channels::ChannelScripts,
}

struct Inner {
    conn: ConnectionManager,
    /// Where Redis is (the pub/sub connection is made from it).
    url: String,
    /// The node's pub/sub connection, once made (kept so it stays open).
    pubsub: Mutex<Option<ConnectionManager>>,
    prefix: String,
    scripts: Scripts,
    /// The store generation this node last saw (see `scripts::RENEW`).
    generation: Mutex<String>,
    metrics: ClusterMetrics,
    /// The most one call may take, reconnecting included.
    timeout: Duration,
    /// The cluster's resume-token key (from `HELLO`).
    secret: Mutex<Vec<u8>>,
    /// See [`RedisConfig::session_ttl`].
    session_ttl: Duration,
}

/// The directory in Redis, shared by every node of a cluster.
#[derive(Clone)]
pub struct RedisBackend {
    inner: Arc<Inner>,
}

fn unavailable(e: RedisError) -> BackendError {
    BackendError::Unavailable(e.to_string())
}

fn fresh_generation() -> String {
    format!("{:016x}", rand::rng().random::<u64>())
}

impl RedisBackend {
    /// Connects (waiting at most `response_timeout` for the first
    /// connection) and learns the store's generation.
    pub async fn connect(config: &RedisConfig) -> Result<Self, BackendError> {
        let metrics = ClusterMetrics::default();
        let client = redis::Client::open(config.url.as_str()).map_err(unavailable)?;
        let cm = ConnectionManagerConfig::new()
            .set_response_timeout(Some(config.response_timeout))
            .set_connection_timeout(Some(config.response_timeout))
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_with_config(client, cm).await.map_err(unavailable)?;
        let inner = Inner {
            conn,
            url: config.url.clone(),
            pubsub: Mutex::new(None),
            prefix: config.prefix.clone(),
            scripts: Scripts {
                hello: Script::new(scripts::HELLO),
                register: Script::new(scripts::REGISTER),
                renew: Script::new(scripts::RENEW),
                remove: Script::new(scripts::REMOVE),
                list: Script::new(scripts::LIST),
                reserve: Script::new(scripts::RESERVE),
                held: Script::new(scripts::HELD),
                nodes: Script::new(scripts::NODES),
                leave: Script::new(scripts::LEAVE),
                save: Script::new(failover_scripts::SAVE),
                release: Script::new(failover_scripts::RELEASE),
                claim: Script::new(failover_scripts::CLAIM),
                sessions: Script::new(failover_scripts::SESSIONS),
                load: Script::new(failover_scripts::LOAD),
                channels: channels::ChannelScripts::new(),
            },
            generation: Mutex::new(String::new()),
            metrics,
            timeout: config.response_timeout,
            secret: Mutex::new(Vec::new()),
            session_ttl: config.session_ttl,
        };
        let backend = RedisBackend { inner: Arc::new(inner) };
        let secret =
            format!("{}{}{}{}", fresh_generation(), fresh_generation(), fresh_generation(), fresh_generation());
        let (gen, secret): (String, String) =
            backend.run("hello", |s| &s.hello, vec![fresh_generation(), secret]).await?;
        *backend.inner.generation.lock() = gen;
        *backend.inner.secret.lock() = secret.into_bytes();
        Ok(backend)
    }

    /// Runs script `which` with `args` (the key prefix goes first), timed
    /// and counted under `op`.
    fn run<T: FromRedisValue + Send + 'static, A: ToRedisArgs + Send + 'static>(
        &self,
        op: &'static str,
        which: fn(&Scripts) -> &Script,
        args: Vec<A>,
    ) -> impl Future<Output = Result<T, BackendError>> + Send + 'static {
        let inner = self.inner.clone();
        async move {
            let mut invocation = which(&inner.scripts).prepare_invoke();
            invocation.arg(&inner.prefix);
            for a in &args {
                invocation.arg(a);
            }
            let mut conn = inner.conn.clone();
            let start = Instant::now();
            // The manager's own timeouts cover one attempt; while it
            // reconnects (with backoff) a call would wait for that too.
            let r = tokio::time::timeout(inner.timeout, invocation.invoke_async::<T>(&mut conn)).await;
            inner.metrics.redis_command(op, start.elapsed(), matches!(r, Ok(Ok(_))));
            match r {
                Ok(r) => r.map_err(unavailable),
                Err(_) => Err(BackendError::Unavailable(format!("no answer within {:?}", inner.timeout))),
            }
        }
    }
}

fn field<T: std::str::FromStr>(v: &[String], i: usize) -> Result<T, BackendError> {
    v.get(i)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| BackendError::Protocol(format!("bad directory entry {v:?} (field {i})")))
}

fn record(v: &[String]) -> Result<RoomRecord, BackendError> {
    Ok(RoomRecord {
        id: field(v, 0)?,
        room_type: field(v, 1)?,
        node: field(v, 2)?,
        url: field(v, 3)?,
        clients: field(v, 4)?,
        max_clients: field(v, 5)?,
        locked: field::<u8>(v, 6)? == 1,
        epoch: field(v, 7)?,
    })
}

fn flag(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        "0"
    }
}

impl Backend for RedisBackend {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn metrics(&self) -> ClusterMetrics {
        self.inner.metrics.clone()
    }

    fn session_secret(&self) -> Option<Vec<u8>> {
        Some(self.inner.secret.lock().clone()).filter(|s| !s.is_empty())
    }

    fn channels(&self) -> Arc<dyn ChannelStore> {
        Arc::new(self.clone())
    }

    fn failover(&self) -> Option<Arc<dyn FailoverStore>> {
        Some(Arc::new(self.clone()))
    }

    fn register(&self, r: RoomRecord, lease: Duration) -> BoxFuture<'static, Result<u64, BackendError>> {
        let id = r.id.clone();
        let lease_ms = lease.as_millis() as u64;
        let args = vec![
            r.id,
            r.room_type,
            r.node,
            r.url,
            r.clients.to_string(),
            r.max_clients.to_string(),
            flag(r.locked).to_string(),
            lease_ms.to_string(),
        ];
        let fut = self.run::<u64, _>("register", |s| &s.register, args);
        async move {
            match fut.await? {
                0 => Err(BackendError::Exists(id)),
                epoch => Ok(epoch),
            }
        }
        .boxed()
    }

    fn renew(
        &self,
        node: &NodeInfo,
        rooms: Vec<Renewal>,
        lease: Duration,
    ) -> BoxFuture<'static, Result<Renewed, BackendError>> {
        let generation = self.inner.generation.lock().clone();
        let fresh = fresh_generation();
        let lease_ms = lease.as_millis() as u64;
        let mut args = vec![generation, fresh, node.id.clone(), node.url.clone(), lease_ms.to_string()];
        for r in rooms {
            args.extend([r.id, r.epoch.to_string(), r.clients.to_string(), flag(r.locked).to_string()]);
        }
        let fut = self.run::<Vec<String>, _>("renew", |s| &s.renew, args);
        let inner = self.inner.clone();
        async move {
            let out = fut.await?;
            match out.first().map(String::as_str) {
                Some("ok") => Ok(Renewed { lost: out[1..].to_vec(), reset: false }),
                Some("reset") if out.len() == 2 => {
                    *inner.generation.lock() = out[1].clone();
                    Ok(Renewed { lost: Vec::new(), reset: true })
                }
                _ => Err(BackendError::Protocol(format!("renew answered {out:?}"))),
            }
        }
        .boxed()
    }

    fn remove(&self, id: &str, node: &str, epoch: u64) -> BoxFuture<'static, Result<(), BackendError>> {
        let args = vec![id.to_string(), node.to_string(), epoch.to_string()];
        let fut = self.run::<i64, _>("remove", |s| &s.remove, args);
        async move { fut.await.map(|_| ()) }.boxed()
    }

    fn list(&self, room_type: Option<&str>) -> BoxFuture<'static, Result<Vec<RoomRecord>, BackendError>> {
        let args = vec![room_type.unwrap_or("").to_string()];
        let fut = self.run::<Vec<Vec<String>>, _>("list", |s| &s.list, args);
        async move {
            let rows = fut.await?;
            let mut rooms = rows.iter().map(|v| record(v)).collect::<Result<Vec<_>, _>>()?;
            rooms.sort_by(|a, b| a.id.cmp(&b.id));
            Ok(rooms)
        }
        .boxed()
    }

    fn reserve(&self, want: SeatIn, asking: &str, hold: Duration) -> BoxFuture<'static, Result<Seat, BackendError>> {
        let (room, room_type) = match want {
            SeatIn::Room(id) => (id, String::new()),
            SeatIn::AnyOf(t) => (String::new(), t),
        };
        let token = fresh_generation() + &fresh_generation();
        let args = vec![room, room_type, asking.to_string(), token, (hold.as_millis() as u64).to_string()];
        let fut = self.run::<Vec<String>, _>("reserve", |s| &s.reserve, args);
        async move {
            let out = fut.await?;
            match out.first().map(String::as_str) {
                Some("ok") if out.len() == 10 => Ok(Seat::Held { room: record(&out[1..9])?, token: out[9].clone() }),
                Some("not_found") => Ok(Seat::NotFound),
                Some("full") => Ok(Seat::Full),
                Some("locked") => Ok(Seat::Locked),
                Some("none") => Ok(Seat::NoneOpen),
                Some("moving") => Ok(Seat::Moving),
                _ => Err(BackendError::Protocol(format!("reserve answered {out:?}"))),
            }
        }
        .boxed()
    }

    fn seat_used(&self, room: &str, token: &str) -> BoxFuture<'static, Result<(), BackendError>> {
        let fut = self.run::<i64, _>("held", |s| &s.held, vec![room.to_string(), token.to_string()]);
        async move { fut.await.map(|_| ()) }.boxed()
    }

    fn get(&self, id: &str) -> BoxFuture<'static, Result<Option<RoomRecord>, BackendError>> {
        let key = format!("{}room:{id}", self.inner.prefix);
        let (inner, id) = (self.inner.clone(), id.to_string());
        async move {
            let mut conn = inner.conn.clone();
            let start = Instant::now();
            let mut cmd = redis::cmd("HMGET");
            cmd.arg(&key).arg(&["type", "node", "url", "clients", "max", "locked", "epoch"]);
            let r = tokio::time::timeout(inner.timeout, cmd.query_async::<Vec<Option<String>>>(&mut conn)).await;
            inner.metrics.redis_command("get", start.elapsed(), matches!(r, Ok(Ok(_))));
            let fields = match r {
                Ok(r) => r.map_err(unavailable)?,
                Err(_) => return Err(BackendError::Unavailable(format!("no answer within {:?}", inner.timeout))),
            };
            if fields.iter().any(Option::is_none) {
                return Ok(None);
            }
            let mut v = vec![id];
            v.extend(fields.into_iter().flatten());
            record(&v).map(Some)
        }
        .boxed()
    }

    fn nodes(&self) -> BoxFuture<'static, Result<Vec<(NodeInfo, Duration)>, BackendError>> {
        let fut = self.run::<Vec<(String, String, i64)>, String>("nodes", |s| &s.nodes, Vec::new());
        async move {
            let nodes = fut.await?.into_iter();
            Ok(nodes.map(|(id, url, left)| (NodeInfo { id, url }, Duration::from_millis(left.max(0) as u64))).collect())
        }
        .boxed()
    }

    fn leave(&self, node: &str) -> BoxFuture<'static, Result<(), BackendError>> {
        let fut = self.run::<i64, _>("leave", |s| &s.leave, vec![node.to_string()]);
        async move { fut.await.map(|_| ()) }.boxed()
    }
}
