//! The Grafana dashboard (`deploy/grafana/playhouse.json`) queries only what
//! a running server exports. A one-node cluster on the in-memory `Local`
//! backend gets real traffic (players in a room sending inputs and getting
//! states, a refused upgrade, a refused create, a server close, parked,
//! evicted and refused sessions, a resume), so its labelled series exist;
//! an `arena` node on a real Redis that then goes away adds the two
//! families only the Redis backend counts (command latency and errors).
//! Every `playhouse_*` name in every query of the dashboard must be a
//! series one of them exposes, and each is read the way its type asks:
//! counters and histograms through `rate()`/`increase()`, gauges as they
//! are, `_bucket` only under `histogram_quantile`, every selector filtered
//! by the `$node` variable.

use crate::cluster::wait_until;
use arena::proto::{v1, v2};
use playhouse::backend::Local;
use playhouse::matchmaking::ClusterConfig;
use playhouse::server::{BoundServer, RunningServer};
use playhouse_client::{Client, Event};
use playhouse_tests::process::ArenaProcess;
use playhouse_tests::proxy::Proxy;
use playhouse_tests::redis::RedisServer;
use playhouse_tests::{expect_close, metric, metric_labeled, metrics_text, options, raw, test_config, ws_url};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const DASHBOARD: &str = include_str!("../../deploy/grafana/playhouse.json");
const WAIT: Duration = Duration::from_secs(10);

/// A one-node cluster on the `Local` backend, serving the arena game, with
/// caps low enough that one client reaches them: one room at most, one
/// parked session per address.
fn solo() -> RunningServer {
    let build = || {
        let mut c = test_config();
        c.max_rooms = 1;
        c.session.max_parked_per_address = 1;
        let mut cluster = ClusterConfig::new("solo", "");
        cluster.lease = Duration::from_secs(3);
        arena::server(c).cluster(Arc::new(Local::new()), cluster)
    };
    BoundServer::spawn(build, "127.0.0.1:0".parse().expect("literal address")).expect("server starts")
}

/// A game connection in no room, reset (no close frame) once its session
/// exists: the server parks that session, or evicts or refuses one.
fn connect_and_reset(addr: SocketAddr) {
    let (mut s, mut buf) = raw::connect(addr, "arena.v2.proto");
    assert!(matches!(raw::next_frame(&mut s, &mut buf), Some((_, 2, _))), "Welcome first");
    socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO)).expect("SO_LINGER 0");
}

/// How many states `c` receives within `d`.
async fn states_within(c: &mut Client, d: Duration) -> u32 {
    let end = Instant::now() + d;
    let mut n = 0;
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match c.next_event_timeout(left).await {
            Ok(Event::State(_)) => n += 1,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    n
}

/// Waits until `name{label}` (all label sets when `label` is empty) on
/// `addr` reaches `want`.
async fn until_metric(addr: SocketAddr, name: &str, label: &str, want: f64) {
    let what = format!("{name}{{{label}}} reaches {want}");
    wait_until(WAIT, &what, || {
        let text = metrics_text(addr);
        let now = if label.is_empty() { metric(&text, name) } else { metric_labeled(&text, name, label) };
        now >= want
    })
    .await;
}

/// Drives real traffic through a one-node `Local` cluster; returns its
/// `/metrics` text.
async fn metrics_after_traffic() -> String {
    let server = solo();
    let addr = server.addr();
    let url = ws_url(addr);
    let proxy = Proxy::start(addr).await;

    // Two players in one room, on the newest and the oldest version; the
    // second comes through a proxy that can cut its connection.
    let mut a = Client::connect(&url, &["arena.v2.proto"]).await.expect("a connects");
    let room = a.create("arena", options(&[("name", "a")])).await.expect("a creates").room;
    let mut b = Client::connect(&proxy.ws_url(), &["arena.v1.msgpack"]).await.expect("b connects");
    b.join(&room, options(&[("name", "b")])).await.expect("b joins");
    let (mut a_states, mut b_states) = (0, 0);
    for seq in 1..=10u32 {
        a.send_input(&room, seq, &v2::Input { move_x: 1, ..Default::default() }).await.expect("a's input");
        b.send_input(&room, seq, &v1::Input { move_y: 1, ..Default::default() }).await.expect("b's input");
        a_states += states_within(&mut a, Duration::from_millis(50)).await;
        b_states += states_within(&mut b, Duration::from_millis(50)).await;
    }
    assert!(a_states >= 5 && b_states >= 5, "states: a got {a_states}, b {b_states}");

    // Refusals: no shared subprotocol (HTTP 400), a create past max_rooms.
    assert!(Client::connect(&url, &["nope.v1.proto"]).await.is_err(), "an unknown token is refused");
    until_metric(addr, "playhouse_handshakes_refused_total", "status=\"400\"", 1.0).await;
    let mut c = Client::connect(&url, &["arena.v2.msgpack"]).await.expect("c connects");
    assert!(c.create("arena", options(&[])).await.is_err(), "a second room is past max_rooms");
    until_metric(addr, "playhouse_creates_refused_total", "reason=\"server_limit\"", 1.0).await;
    // A close by the server: a text frame is closed 1003.
    c.send_raw(WsMessage::Text("hello".into())).await.expect("send text");
    assert_eq!(expect_close(&mut c, WAIT).await.0, 1003);

    // Parking at a cap of one per address: a roomless session parks, the
    // next one evicts it, b's seated one parks (evicting that one if it is
    // still parked), and a roomless one cannot displace a seat: refused.
    connect_and_reset(addr);
    until_metric(addr, "playhouse_sessions_parked_total", "", 1.0).await;
    connect_and_reset(addr);
    until_metric(addr, "playhouse_sessions_evicted_total", "why=\"address\"", 1.0).await;
    let (token, last_seq) = (b.resume_token().to_string(), b.last_seq());
    proxy.cut_all();
    until_metric(addr, "playhouse_sessions_parked_total", "", 3.0).await;
    connect_and_reset(addr);
    until_metric(addr, "playhouse_sessions_park_refused_total", "cap=\"address\"", 1.0).await;
    // b comes back.
    let mut b = Client::resume(&url, &["arena.v1.msgpack"], &token, last_seq).await.expect("b resumes");
    assert!(matches!(b.next_event().await, Ok(Event::Resumed(_))), "Resumed first");
    until_metric(addr, "playhouse_session_resumes_total", "", 1.0).await;

    // The cluster side is live: the room is leased and renewed.
    until_metric(addr, "playhouse_cluster_lease_renewals_total", "", 1.0).await;
    let text = metrics_text(addr);
    assert_eq!(metric(&text, "playhouse_cluster_rooms_owned"), 1.0, "{text}");
    drop((a, b));
    text
}

/// An `arena` node on a real Redis, then Redis gone: its `/metrics` text
/// once a backend command has failed.
async fn metrics_of_a_node_on_redis() -> String {
    let mut redis = RedisServer::start();
    let node = ArenaProcess::spawn(&["--redis", &redis.url(), "--node-id", "r", "--lease-ms", "3000"]);
    let addr = node.addr();
    wait_until(WAIT, "a backend command timed", || {
        metrics_text(addr).contains("playhouse_cluster_backend_command_seconds_count{")
    })
    .await;
    redis.kill();
    wait_until(WAIT, "a backend command failed", || {
        metrics_text(addr).contains("playhouse_cluster_backend_errors_total{")
    })
    .await;
    assert!(node.panics().is_empty(), "{:?}", node.panics());
    metrics_text(addr)
}

/// Every query text of the dashboard: panel `expr`s, and the template
/// variables' queries.
fn queries(v: &serde_json::Value, exprs: &mut Vec<String>, templates: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("expr", serde_json::Value::String(s)) => exprs.push(s.clone()),
                    ("query" | "definition", serde_json::Value::String(s)) => templates.push(s.clone()),
                    _ => queries(v, exprs, templates),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| queries(v, exprs, templates)),
        _ => {}
    }
}

/// Every `playhouse_[a-z0-9_]+` in `q`, with the byte offset where it starts.
fn names(q: &str) -> Vec<(usize, &str)> {
    let word = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_';
    let b = q.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(at) = q[i..].find("playhouse_").map(|p| p + i) {
        let mut end = at + "playhouse_".len();
        while end < b.len() && word(b[end]) {
            end += 1;
        }
        if at == 0 || !(word(b[at - 1]) || b[at - 1].is_ascii_uppercase()) {
            out.push((at, &q[at..end]));
        }
        i = end;
    }
    out
}

/// Series names (`name` before `{` or a space) and `# TYPE` families of a
/// `GET /metrics` response.
fn exported(response: &str) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let mut series = BTreeSet::new();
    let mut types = BTreeMap::new();
    for line in body.lines() {
        if let Some(t) = line.strip_prefix("# TYPE ") {
            let mut parts = t.split_whitespace();
            if let (Some(family), Some(kind)) = (parts.next(), parts.next()) {
                types.insert(family.to_string(), kind.to_string());
            }
        } else if !line.starts_with('#') {
            if let Some(name) = line.split(['{', ' ']).next().filter(|n| !n.is_empty()) {
                series.insert(name.to_string());
            }
        }
    }
    (series, types)
}

/// The type of the family a series belongs to (`counter` for `x_total`,
/// `histogram` for `x_bucket`, `x_sum`, `x_count`, `gauge` for `x`).
fn kind_of<'a>(series: &str, types: &'a BTreeMap<String, String>) -> Option<&'a str> {
    let family = |suffix: &str| series.strip_suffix(suffix).and_then(|f| types.get(f)).map(String::as_str);
    match types.get(series).map(String::as_str) {
        Some(k) => Some(k),
        None => family("_total")
            .filter(|k| *k == "counter")
            .or_else(|| ["_bucket", "_sum", "_count"].iter().find_map(|s| family(s).filter(|k| *k == "histogram"))),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_the_grafana_dashboard_queries_is_exported_by_a_running_server() {
    let dashboard: serde_json::Value = serde_json::from_str(DASHBOARD).expect("the dashboard is JSON");
    let (mut exprs, mut templates) = (Vec::new(), Vec::new());
    queries(&dashboard, &mut exprs, &mut templates);
    assert!(exprs.len() >= 40, "only {} panel queries found: is the dashboard's layout still read right?", exprs.len());
    let wanted: BTreeSet<&str> = exprs.iter().chain(&templates).flat_map(|q| names(q)).map(|(_, n)| n).collect();
    assert!(wanted.len() >= 30, "only {} metric names found in the dashboard: {wanted:?}", wanted.len());

    let local = metrics_after_traffic().await;
    let on_redis = metrics_of_a_node_on_redis().await;
    let (mut series, mut types) = exported(&local);
    let (more_series, more_types) = exported(&on_redis);
    series.extend(more_series);
    types.extend(more_types);

    // The names: each one a series a running server exposes.
    let missing: Vec<String> = wanted
        .iter()
        .filter(|n| !series.contains(**n))
        .map(|n| match types.get(*n) {
            Some(kind) => format!("{n} (a {kind} family: its series are named {n}_total, _bucket, _sum or _count)"),
            None => n.to_string(),
        })
        .collect();
    assert!(
        missing.is_empty(),
        "the dashboard queries {} metric name(s) no running server exports:\n  {}\n\
         series exported (a one-node Local cluster after traffic, and a node on Redis): {}",
        missing.len(),
        missing.join("\n  "),
        series.iter().cloned().collect::<Vec<_>>().join(" ")
    );

    // Each read the way its type asks, on the selected nodes.
    let mut misuse = Vec::new();
    for q in &exprs {
        for (at, n) in names(q) {
            let before = &q[..at];
            let rated = before.ends_with("rate(") || before.ends_with("increase(");
            let kind = kind_of(n, &types).unwrap_or("untyped");
            match kind {
                "counter" | "histogram" if !rated => misuse.push(format!("{n} ({kind}) not under rate(): {q}")),
                "gauge" if rated => misuse.push(format!("{n} (gauge) under rate(): {q}")),
                _ => {}
            }
            let quantile = q.contains("histogram_quantile(");
            if n.ends_with("_bucket") && !quantile {
                misuse.push(format!("{n}: a _bucket series outside histogram_quantile(): {q}"));
            } else if quantile && !n.ends_with("_bucket") {
                misuse.push(format!("{n}: histogram_quantile() over a series that is no _bucket: {q}"));
            }
            let selector = q[at + n.len()..].strip_prefix('{').and_then(|s| s.split_once('}')).map(|(s, _)| s);
            if !selector.is_some_and(|s| s.contains("instance=~\"$node\"")) {
                misuse.push(format!("{n} not filtered by instance=~\"$node\": {q}"));
            }
        }
    }
    assert!(misuse.is_empty(), "{} query problem(s):\n  {}", misuse.len(), misuse.join("\n  "));
}
