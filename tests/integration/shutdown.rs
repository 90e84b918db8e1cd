//! Graceful shutdown over real sockets: a programmatic shutdown of an
//! in-process server (notice, rooms' `on_shutdown`, close 1001, `/readyz`
//! and upgrades answering 503 meanwhile, no input read before the notice
//! lost), and SIGTERM to a real `arena` process with 50 clients.

use arena::proto::v2;
use playhouse::prelude::*;
use playhouse::server::{BoundServer, ShutdownHandle};
use playhouse_client::{Client as WsClient, ClientError, Event};
use playhouse_tests::{http_get, metric_labeled, metrics_text, test_config, ws_url, Probe, ALL_TOKENS};
use std::collections::HashMap;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A room that only ticks once a second, so inputs wait in its inbox: it
/// echoes each input to its sender as the event `"input <seq>"`, and
/// `on_shutdown` tells everyone `"on_shutdown <inputs processed>"`.
struct Ledger {
    inputs: u32,
}

fn event(text: String) -> v2::Event {
    v2::Event { text, ..Default::default() }
}

impl Room for Ledger {
    type Wire = (v2::Input, v2::State, v2::Event);
    type Options = Options;

    fn on_create(_: &mut RoomContext<Self>, _: &Options) -> Result<Self, Reject> {
        Ok(Ledger { inputs: 0 })
    }

    fn on_input(&mut self, ctx: &mut RoomContext<Self>, client: ClientId, seq: u32, _: v2::Input) {
        self.inputs += 1;
        ctx.send(client, &event(format!("input {seq}")));
    }

    fn on_tick(&mut self, _: &mut RoomContext<Self>, _: Duration) {}

    fn on_shutdown(&mut self, ctx: &mut RoomContext<Self>) {
        ctx.broadcast(&event(format!("on_shutdown {}", self.inputs)));
    }
}

/// The arena server plus the `ledger` and `probe` room types, on 127.0.0.1:0.
fn start_with_ledger(tweak: impl FnOnce(&mut ServerConfig) + Send + 'static) -> RunningServer {
    let build = move || {
        let mut c = test_config();
        tweak(&mut c);
        arena::server(c)
            .room_with_schema::<Ledger>(RoomType::new("ledger", 1), arena::schema())
            .room_with_schema::<Probe>(RoomType::new("probe", 60), arena::schema())
    };
    BoundServer::spawn(build, "127.0.0.1:0".parse().expect("literal address")).expect("server starts")
}

/// What one client saw of a shutdown, read until the server's close frame.
#[derive(Debug, Default)]
struct Seen {
    /// Events before the `Shutdown` notice / after it, in order (texts of
    /// room events; other kinds by name).
    before: Vec<String>,
    after: Vec<String>,
    notice: Option<u32>,
    close: Option<(u16, String)>,
}

fn describe(c: &WsClient, ev: &Event) -> String {
    match ev {
        Event::Message(m) => match c.decode::<v2::Output>(&m.payload).ok().and_then(|o| o.kind) {
            Some(v2::output::Kind::Event(e)) => e.text,
            _ => "message".into(),
        },
        Event::State(_) => "state".into(),
        Event::Left(l) => format!("left {}", l.reason),
        other => format!("{other:?}").split('(').next().unwrap_or("?").to_string(),
    }
}

impl Seen {
    fn record(&mut self, c: &WsClient, ev: Event) {
        match ev {
            Event::Shutdown(s) if self.notice.is_none() => self.notice = Some(s.reconnect_after_ms),
            Event::Shutdown(_) => panic!("a second Shutdown notice"),
            ev if self.notice.is_none() => self.before.push(describe(c, &ev)),
            ev => self.after.push(describe(c, &ev)),
        }
    }

    /// Reads until the close frame (within `within`).
    async fn until_close(mut self, c: &mut WsClient, within: Duration) -> Seen {
        let deadline = Instant::now() + within;
        loop {
            match c.next_event_timeout(deadline.saturating_duration_since(Instant::now())).await {
                Ok(ev) => self.record(c, ev),
                Err(ClientError::Closed(f)) => {
                    self.close = f.map(|f| (u16::from(f.code), f.reason.to_string()));
                    return self;
                }
                Err(e) => panic!("expected Shutdown then a close frame, got {e} after {self:?}"),
            }
        }
    }

    fn assert_notice_then_1001(&self, reconnect_after_ms: u32) {
        assert_eq!(self.notice, Some(reconnect_after_ms), "the Shutdown notice came, before the close: {self:?}");
        let (code, reason) = self.close.as_ref().expect("a close frame");
        assert_eq!((*code, reason.as_str()), (1001, "server shutting down"), "{self:?}");
    }
}

async fn stopped_within(handle: &ShutdownHandle, within: Duration) {
    tokio::time::timeout(within, handle.stopped()).await.expect("the server stopped within the drain deadline");
}

#[tokio::test]
async fn clients_get_shutdown_then_1001_and_every_input_read_before_the_notice_is_processed() {
    let server = start_with_ledger(|c| {
        c.drain_timeout = Duration::from_secs(5);
        c.reconnect_after = Duration::from_millis(1500);
    });
    let url = ws_url(server.addr());
    let mut player = WsClient::connect(&url, &["arena.v2.proto"]).await.unwrap();
    let room = player.create("ledger", HashMap::new()).await.unwrap().room;
    let mut idle = WsClient::connect(&url, &["arena.v1.msgpack"]).await.unwrap();
    let mut prober = WsClient::connect(&url, &["arena.v2.msgpack"]).await.unwrap();
    prober.create("probe", HashMap::new()).await.unwrap();

    // Inputs 1..=5, then a ping: its pong proves the server has read them.
    // The room ticks once a second, so they are still waiting in its inbox.
    for seq in 1..=5 {
        player.send_input(&room, seq, &v2::Input { move_x: 1, ..Default::default() }).await.unwrap();
    }
    player.ping().await.unwrap();
    let handle = server.shutdown_handle();
    let t0 = Instant::now();
    server.shutdown();
    assert!(handle.is_draining());

    // Keep sending until the notice shows up: inputs in flight meanwhile
    // may or may not be processed, but never with a gap.
    let mut seen = Seen::default();
    let mut seq = 5;
    while seen.notice.is_none() {
        assert!(t0.elapsed() < Duration::from_secs(3), "no Shutdown notice: {seen:?}");
        seq += 1;
        player.send_input(&room, seq, &v2::Input::default()).await.unwrap();
        match player.next_event_timeout(Duration::from_millis(2)).await {
            Ok(ev) => seen.record(&player, ev),
            Err(ClientError::Timeout) => {}
            Err(e) => panic!("lost the connection before the notice: {e}"),
        }
    }
    let seen = seen.until_close(&mut player, Duration::from_secs(5)).await;
    let idle_seen = Seen::default().until_close(&mut idle, Duration::from_secs(5)).await;
    let prober_seen = Seen::default().until_close(&mut prober, Duration::from_secs(5)).await;
    stopped_within(&handle, Duration::from_secs(5)).await;
    eprintln!("shutdown: {} inputs sent, stopped after {:?}; player saw {seen:?}", seq, t0.elapsed());

    seen.assert_notice_then_1001(1500);
    idle_seen.assert_notice_then_1001(1500);
    prober_seen.assert_notice_then_1001(1500);
    assert!(idle_seen.before.is_empty() && idle_seen.after.is_empty(), "{idle_seen:?}");
    // The rooms shut down after the notice: the inputs' echoes, the room's
    // on_shutdown and its Left(DISPOSED) all come between it and the close.
    let echoes: Vec<u32> = seen
        .before
        .iter()
        .chain(&seen.after)
        .filter_map(|t| t.strip_prefix("input ").map(|n| n.parse().unwrap()))
        .collect();
    let processed = echoes.len() as u32;
    assert!(processed >= 5, "inputs read before the notice were all processed: {seen:?}");
    assert_eq!(echoes, (1..=processed).collect::<Vec<_>>(), "processed in order, without a gap: {seen:?}");
    let tail: Vec<&str> = seen.after.iter().map(String::as_str).filter(|t| !t.starts_with("input ")).collect();
    assert_eq!(tail, [format!("on_shutdown {processed}").as_str(), "left 3"], "{seen:?}");
    assert_eq!(prober_seen.after.iter().filter(|t| t.starts_with("left")).count(), 1, "{prober_seen:?}");
    assert_eq!(server.metrics().closes_with(1001), 3);
    server.join().expect("run returns Ok");
}

#[tokio::test]
async fn while_draining_readyz_is_503_and_new_upgrades_are_refused_with_503() {
    let server = start_with_ledger(|c| {
        c.drain_timeout = Duration::from_secs(8);
        // A client that does not answer our close holds the drain open.
        c.transport.close_timeout = Duration::from_secs(3);
    });
    let (addr, url) = (server.addr(), ws_url(server.addr()));
    assert_eq!(http_get(addr, "/readyz").0, 200);
    let mut silent = WsClient::connect(&url, &["arena.v2.proto"]).await.unwrap();
    silent.create("probe", HashMap::new()).await.unwrap();
    let handle = server.shutdown_handle();
    server.shutdown();

    let (status, body) = http_get(addr, "/readyz");
    assert_eq!(status, 503, "{body}");
    assert!(body.ends_with("draining\n"), "{body}");
    match WsClient::connect(&url, &["arena.v2.proto"]).await {
        Err(ClientError::Refused { status, body }) => {
            assert_eq!(status, 503);
            assert!(body.contains("shutting down"), "the body says why: {body}");
        }
        Ok(_) => panic!("an upgrade was accepted while draining"),
        Err(e) => panic!("expected HTTP 503, got {e}"),
    }
    assert_eq!(http_get(addr, "/healthz").0, 200, "the process is alive while it drains");
    let m = metrics_text(addr);
    assert_eq!(metric_labeled(&m, "playhouse_handshakes_refused_total", "status=\"503\""), 1.0, "{m}");
    assert!(!handle.is_stopped(), "the silent client holds the drain open");

    let seen = Seen::default().until_close(&mut silent, Duration::from_secs(5)).await;
    seen.assert_notice_then_1001(1000);
    drop(silent);
    stopped_within(&handle, Duration::from_secs(8)).await;
    server.join().expect("run returns Ok");
}

/// Kills the process if the test ends early.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_to_arena_with_50_clients_sends_shutdown_then_1001_and_exits_0() {
    const CLIENTS: usize = 50;
    const DRAIN: Duration = Duration::from_secs(10); // arena's default --drain-timeout
    let mut child = Command::new(playhouse_tests::process::arena_binary())
        .args(["--addr", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("arena starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let child = Reap(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("LISTENING ") {
                let _ = tx.send(addr.to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("arena printed LISTENING <addr> (is target/debug/arena up to date? `cargo build -p arena`)");
    let url = format!("ws://{addr}/ws");

    let mut readers = Vec::new();
    for i in 0..CLIENTS {
        let token = ALL_TOKENS[i % ALL_TOKENS.len()];
        let mut c = WsClient::connect(&url, &[token]).await.unwrap_or_else(|e| panic!("client {i}: {e}"));
        let name = HashMap::from([("name".to_string(), format!("c{i}"))]);
        c.join_or_create("arena", name).await.unwrap_or_else(|e| panic!("client {i} ({token}): {e}"));
        readers.push(tokio::spawn(async move {
            let seen = Seen::default().until_close(&mut c, DRAIN).await;
            (token, seen)
        }));
    }
    let rooms = http_get(addr.parse().unwrap(), "/rooms").1;
    eprintln!("{CLIENTS} clients in {} arena rooms", rooms.matches("\"arena\"").count());

    let t0 = Instant::now();
    let pid = child.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
    assert!(killed.success(), "kill -TERM {pid}");
    for r in readers {
        let (token, seen) = r.await.expect("reader task");
        assert_eq!(seen.notice, Some(1000), "{token}: Shutdown before the close: {seen:?}");
        let (code, reason) = seen.close.as_ref().expect("a close frame");
        assert_eq!((*code, reason.as_str()), (1001, "server shutting down"), "{token}: {seen:?}");
    }
    let closed = t0.elapsed();
    let mut child = child;
    let status = loop {
        if let Some(s) = child.0.try_wait().expect("wait for arena") {
            break s;
        }
        assert!(t0.elapsed() < DRAIN + Duration::from_secs(3), "arena still running after the drain deadline");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!("SIGTERM: {CLIENTS} clients closed after {closed:?}, process exited after {:?}", t0.elapsed());
    assert!(status.success(), "arena exits 0 after a graceful shutdown: {status}");
}
