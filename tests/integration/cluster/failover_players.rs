//! The players of the failover tests: `ReconnectingClient`s that play
//! (one input per state) through a fault on its own task each, what each
//! one saw ([`PlayerLog`]), and the end-to-end checks on those logs.

use super::*;
use arena::proto::v2;
use futures_util::future::{BoxFuture, FutureExt};
use playhouse_client::reconnect::{Backoff, ReconnectConfig, ReconnectEvent, ReconnectingClient};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// When each player (by its `room/name`) last got a state, and from which
/// node (its connection's URL): what a test waits on to know that everyone
/// plays again after a fault, on a node that is still up.
pub(super) type Heard = Arc<Mutex<HashMap<String, (Instant, String)>>>;

/// What one player saw.
#[derive(Debug, Default)]
pub(super) struct PlayerLog {
    pub(super) name: String,
    pub(super) room: String,
    /// Each resume: when, where, whether it was a resync.
    pub(super) resumed: Vec<(Instant, String, bool)>,
    pub(super) new_sessions: u32,
    /// States seen: the first after each resume, and the last.
    pub(super) states: u64,
    pub(super) first_after_resume: Option<Instant>,
    /// When the last state came, and the gaps in the states around each
    /// resume (the pause a player saw).
    pub(super) last_state_at: Option<Instant>,
    pub(super) pause_from: Option<Instant>,
    pub(super) pauses: Vec<Duration>,
    pub(super) last_tick: u64,
    /// A state whose tick was not above the one before (two owners).
    pub(super) backwards: Vec<(u64, u64)>,
    pub(super) messages: u64,
    pub(super) last_seq: u64,
    pub(super) errors: Vec<String>,
}

pub(super) fn config(urls: &[String]) -> ReconnectConfig {
    ReconnectConfig {
        // Quick retries: the room is back within a lease and a bit.
        backoff: Backoff { base: Duration::from_millis(100), cap: Duration::from_millis(400), max_tries: 80 },
        ack_interval: Some(Duration::from_millis(200)),
        attempt_timeout: Duration::from_secs(8),
        ..ReconnectConfig::new(urls.iter().cloned(), ["arena.v2.msgpack"])
    }
}

pub(super) async fn play(
    mut c: ReconnectingClient,
    name: String,
    room: String,
    mut stop: watch::Receiver<bool>,
    heard: Heard,
) -> PlayerLog {
    let mut log = PlayerLog { name, room: room.clone(), ..Default::default() };
    let mut seq = 0u32;
    loop {
        let ev = tokio::select! {
            _ = stop.changed() => break,
            ev = c.next_event() => ev,
        };
        match ev {
            Ok(ReconnectEvent::Server(Event::State(s))) if s.room == room => {
                if log.states > 0 && s.tick <= log.last_tick {
                    log.backwards.push((log.last_tick, s.tick));
                }
                log.last_tick = log.last_tick.max(s.tick);
                log.states += 1;
                let now = Instant::now();
                if !log.resumed.is_empty() && log.first_after_resume.is_none() {
                    log.first_after_resume = Some(now);
                }
                if let Some(from) = log.pause_from.take() {
                    log.pauses.push(now - from);
                }
                log.last_state_at = Some(now);
                heard.lock().expect("heard").insert(format!("{room}/{}", log.name), (now, c.url().to_string()));
                seq += 1;
                let input = v2::Input {
                    move_x: (seq % 3) as i32 - 1,
                    move_y: 1,
                    fire: seq.is_multiple_of(10),
                    aim_x: 1.0,
                    ..Default::default()
                };
                let _ = c.send_input(&room, seq, &input).await;
            }
            Ok(ReconnectEvent::Server(Event::Message(m))) if m.room == room => {
                log.messages += 1;
                if c.last_seq() <= log.last_seq {
                    log.errors.push(format!("message with seq {} after {}", c.last_seq(), log.last_seq));
                }
                log.last_seq = c.last_seq();
            }
            Ok(ReconnectEvent::Server(Event::Left(l))) if l.room == room => {
                log.errors.push(format!("left the room: {} {}", l.reason, l.detail));
            }
            Ok(ReconnectEvent::Resumed { url, resync, .. }) => {
                log.resumed.push((Instant::now(), url, resync));
                log.first_after_resume = None;
                log.pause_from = log.last_state_at;
            }
            Ok(ReconnectEvent::NewSession { .. }) => log.new_sessions += 1,
            Ok(_) => {}
            Err(e) => {
                log.errors.push(format!("{e}"));
                break;
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), c.close()).await;
    log
}

/// `rooms` rooms of `per_room` players on `home`, each player with `urls`
/// (home first); their play, to be run beside the test's faults.
pub(super) async fn seat_players(
    home: SocketAddr,
    urls: &[String],
    rooms: usize,
    per_room: usize,
    stop: &watch::Receiver<bool>,
    heard: &Heard,
) -> (Vec<BoxFuture<'static, PlayerLog>>, Vec<String>) {
    let mut set = Vec::new();
    let mut ids = Vec::new();
    let first = format!("ws://{home}/ws");
    let mut urls_home = vec![first.clone()];
    urls_home.extend(urls.iter().filter(|u| **u != first).cloned());
    for r in 0..rooms {
        let mut room = String::new();
        for p in 0..per_room {
            let name = format!("r{r}p{p}");
            let mut c = ReconnectingClient::connect(config(&urls_home)).await.expect("connect");
            let opts = options(&[("name", &name)]);
            let joined = if p == 0 { c.create("arena", opts).await } else { c.join(&room, opts).await };
            let joined = joined.unwrap_or_else(|e| panic!("{name} joins: {e}"));
            if p == 0 {
                room = joined.room.clone();
                ids.push(room.clone());
            }
            set.push(play(c, name, room.clone(), stop.clone(), heard.clone()).boxed());
        }
    }
    (set, ids)
}

pub(super) fn url_of(p: &ArenaProcess) -> String {
    format!("ws://{}/ws", p.addr())
}

pub(super) fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v.get(((v.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or_default()
}

/// Checks what every player saw through a failover: resumed, never a new
/// session, no resync, no gap, no tick twice; returns the time from `t0` to
/// each player's first state after its (last) resume.
pub(super) fn check_players(logs: &[PlayerLog], t0: Instant) -> Vec<Duration> {
    let mut back = Vec::new();
    for l in logs {
        assert!(l.errors.is_empty(), "{} ({}): {:?}", l.name, l.room, l.errors);
        assert_eq!(l.new_sessions, 0, "{} had to start a new session", l.name);
        assert!(!l.resumed.is_empty(), "{} never resumed", l.name);
        assert!(l.resumed.iter().all(|(_, _, resync)| !resync), "{} resynced: reliable messages were lost", l.name);
        assert!(l.backwards.is_empty(), "{}: a state tick went back {:?} (two owners?)", l.name, l.backwards);
        let first = l.first_after_resume.unwrap_or_else(|| panic!("{}: no state after its resume", l.name));
        back.push(first.saturating_duration_since(t0));
    }
    back
}

/// Every player's log, once `faults` has run beside their play.
///
/// Each player is a task of its own, on the runtime's workers: `faults`
/// makes blocking calls in the test's task (it starts nodes and waits for
/// them to listen, reads their `/metrics` over blocking HTTP), and players
/// polled in that task all stood still meanwhile — for seconds while a
/// restarted node started on a loaded machine. A node draining then closed
/// sockets their players had not read (the players' next writes failed
/// with EPIPE and the `Shutdown` notice naming their room's new node was
/// lost), and timed out upgrades they had half sent (HTTP 408).
pub(super) async fn run_beside<T>(
    players: Vec<BoxFuture<'static, PlayerLog>>,
    faults: impl std::future::Future<Output = T>,
) -> (Vec<PlayerLog>, T) {
    let tasks: Vec<_> = players.into_iter().map(tokio::spawn).collect();
    let result = faults.await;
    let mut logs = Vec::with_capacity(tasks.len());
    for t in tasks {
        logs.push(t.await.expect("a player's task"));
    }
    (logs, result)
}
