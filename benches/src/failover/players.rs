//! The players: `ReconnectingClient`s with every node's URL (their home
//! node first) and a quick [`Backoff`], each in a task of its own, playing
//! as `tests/integration/cluster/failover.rs` does (one input per state)
//! and noting when things happened around the one outage a round causes:
//! the last state before it, the `Shutdown` notice (a drain), each
//! reconnect attempt, the resume, and the first state after it.

use arena::proto::v2;
use playhouse_client::reconnect::{Backoff, ReconnectConfig, ReconnectEvent, ReconnectingClient};
use playhouse_client::Event;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

const TOKENS: [&str; 1] = ["arena.v2.msgpack"];

/// One reconnect attempt as the client announced it.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// When the client announced it.
    pub at: Instant,
    /// The backoff it waits before dialling.
    pub delay: Duration,
    /// The URL it dials.
    pub url: String,
}

/// What one player saw.
#[derive(Debug, Default)]
pub struct PlayerLog {
    /// `r<room>p<player>`.
    pub name: String,
    /// Its room's id.
    pub room: String,
    /// States of its room received.
    pub states: u64,
    /// The last state before the outage (before its first attempt).
    pub last_before: Option<Instant>,
    /// The `Shutdown` notice (a drain), with the successor it names.
    pub notice: Option<(Instant, String)>,
    /// The reconnect attempts of the outage.
    pub attempts: Vec<Attempt>,
    /// The resume: when, on which URL, whether it was a resync.
    pub resumed: Option<(Instant, String, bool)>,
    /// The first state after the resume.
    pub first_after: Option<Instant>,
    /// Anything that must not happen: a second resume, a new session, a
    /// state tick that went back, leaving the room, a stopped client.
    pub errors: Vec<String>,
    last_tick: u64,
}

/// The players of one round, playing in their own tasks.
pub struct Players {
    tasks: Vec<JoinHandle<PlayerLog>>,
    stop: watch::Sender<bool>,
    back: Arc<AtomicUsize>,
    /// The rooms, as created.
    pub rooms: Vec<String>,
}

/// How the players reconnect.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// First backoff ceiling.
    pub base: Duration,
    /// Largest backoff ceiling.
    pub cap: Duration,
}

fn config(urls: &[String], retry: Retry) -> ReconnectConfig {
    ReconnectConfig {
        backoff: Backoff { base: retry.base, cap: retry.cap, max_tries: 200 },
        ack_interval: Some(Duration::from_millis(200)),
        attempt_timeout: Duration::from_secs(8),
        ..ReconnectConfig::new(urls.iter().cloned(), TOKENS)
    }
}

impl Players {
    /// `rooms` arena rooms of `per_room` players each, created on the node
    /// at `urls[0]` (every player lists `urls`, that one first).
    pub async fn seat(urls: &[String], rooms: usize, per_room: usize, retry: Retry) -> Result<Players, String> {
        let (stop, stopped) = watch::channel(false);
        let back = Arc::new(AtomicUsize::new(0));
        let mut players = Players { tasks: Vec::new(), stop, back, rooms: Vec::new() };
        for r in 0..rooms {
            let mut room = String::new();
            for p in 0..per_room {
                let name = format!("r{r}p{p}");
                let mut c = ReconnectingClient::connect(config(urls, retry))
                    .await
                    .map_err(|e| format!("{name} connects: {e}"))?;
                let options = HashMap::from([("name".to_string(), name.clone())]);
                let joined = if p == 0 { c.create("arena", options).await } else { c.join(&room, options).await };
                let joined = joined.map_err(|e| format!("{name} joins: {e}"))?;
                if p == 0 {
                    room = joined.room.clone();
                    players.rooms.push(room.clone());
                }
                let log = PlayerLog { name, room: room.clone(), ..Default::default() };
                players.tasks.push(tokio::spawn(play(c, log, stopped.clone(), players.back.clone())));
            }
        }
        Ok(players)
    }

    /// How many players have had a state since their resume.
    pub fn back(&self) -> usize {
        self.back.load(Ordering::Acquire)
    }

    /// How many players there are.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Waits (at most `within`) until every player is back.
    pub async fn all_back(&self, within: Duration) -> bool {
        let t0 = Instant::now();
        while self.back() < self.len() {
            if t0.elapsed() > within {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// Stops every player (each closes its client) and answers their logs.
    pub async fn stop(self) -> Vec<PlayerLog> {
        let _ = self.stop.send(true);
        let mut logs = Vec::with_capacity(self.tasks.len());
        for t in self.tasks {
            match t.await {
                Ok(log) => logs.push(log),
                Err(e) => logs.push(PlayerLog { errors: vec![format!("player task: {e}")], ..Default::default() }),
            }
        }
        logs
    }
}

async fn play(
    mut c: ReconnectingClient,
    mut log: PlayerLog,
    mut stop: watch::Receiver<bool>,
    back: Arc<AtomicUsize>,
) -> PlayerLog {
    let mut seq = 0u32;
    let mut last_state = None;
    loop {
        let ev = tokio::select! {
            _ = stop.changed() => break,
            ev = c.next_event() => ev,
        };
        let now = Instant::now();
        match ev {
            Ok(ReconnectEvent::Server(Event::State(s))) if s.room == log.room => {
                if log.states > 0 && s.tick <= log.last_tick {
                    log.errors.push(format!("state tick {} after {} (two owners?)", s.tick, log.last_tick));
                }
                log.last_tick = log.last_tick.max(s.tick);
                log.states += 1;
                last_state = Some(now);
                if log.resumed.is_some() && log.first_after.is_none() {
                    log.first_after = Some(now);
                    back.fetch_add(1, Ordering::AcqRel);
                }
                seq += 1;
                let input = v2::Input {
                    move_x: (seq % 3) as i32 - 1,
                    move_y: 1,
                    fire: seq.is_multiple_of(10),
                    aim_x: 1.0,
                    ..Default::default()
                };
                let _ = c.send_input(&log.room, seq, &input).await;
            }
            Ok(ReconnectEvent::Server(Event::Shutdown(s))) => log.notice = Some((now, s.url)),
            Ok(ReconnectEvent::Server(Event::Left(l))) if l.room == log.room => {
                log.errors.push(format!("left the room: {} {}", l.reason, l.detail));
            }
            Ok(ReconnectEvent::Reconnecting { delay, url, .. }) => {
                if log.attempts.is_empty() {
                    log.last_before = last_state;
                }
                log.attempts.push(Attempt { at: now, delay, url });
            }
            Ok(ReconnectEvent::Resumed { url, resync, .. }) => {
                if log.resumed.is_some() {
                    log.errors.push(format!("resumed a second time, on {url}"));
                } else {
                    log.resumed = Some((now, url, resync));
                }
            }
            Ok(ReconnectEvent::NewSession { url, .. }) => log.errors.push(format!("a new session on {url}")),
            Ok(_) => {}
            Err(e) => {
                log.errors.push(format!("client stopped: {e}"));
                break;
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), c.close()).await;
    log
}
