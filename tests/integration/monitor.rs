//! The operators' monitor (`/monitor`, README "Monitor") against the real
//! `arena` binary: off by default (404); its API refuses a request without a
//! credential (401, `WWW-Authenticate: Bearer`) and one that is not an
//! operator's (403), with a token or an admin JWT; with the token it lists
//! a room with its clients and their RTT, shows the room's latest state as
//! JSON, kicks a client (close 4005, "kicked by an operator") and disposes
//! the room (its clients get `Left`).

use jsonwebtoken::{encode, EncodingKey, Header};
use playhouse_client::{Client, ClientError, Event};
use playhouse_tests::process::ArenaProcess;
use playhouse_tests::{http_request, ws_url};
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

const TOKEN: &str = "monitor-test-token-7f3a";

/// `method path` with an optional bearer credential: (status, head, body).
fn call(addr: SocketAddr, method: &str, path: &str, bearer: Option<&str>) -> (u16, String, String) {
    call_with(addr, method, path, bearer.map(|b| format!("Bearer {b}")).as_deref())
}

/// `method path` with an optional `Authorization` value, as given.
fn call_with(addr: SocketAddr, method: &str, path: &str, authorization: Option<&str>) -> (u16, String, String) {
    let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    let req =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n");
    let (status, text) = http_request(addr, &req);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_ascii_lowercase(), body.to_string())
}

fn api(addr: SocketAddr, path: &str) -> Value {
    let (status, _, body) = call(addr, "GET", path, Some(TOKEN));
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// Polls `f` (blocking HTTP, so on a blocking thread) until it returns
/// `Some`, for at most `within`.
async fn until<T: Send + 'static>(
    what: &str,
    within: Duration,
    f: impl Fn() -> Option<T> + Send + Sync + 'static,
) -> T {
    let f = std::sync::Arc::new(f);
    let deadline = Instant::now() + within;
    loop {
        let g = f.clone();
        if let Some(v) = tokio::task::spawn_blocking(move || g()).await.expect("poll") {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {within:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn jwt(user: &str, admin: bool) -> String {
    let exp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 600;
    let claims = serde_json::json!({ "sub": user, "exp": exp, "admin": admin });
    encode(&Header::default(), &claims, &EncodingKey::from_secret(b"monitor-secret")).unwrap()
}

#[test]
fn the_monitor_is_off_unless_configured() {
    let arena = ArenaProcess::spawn(&[]);
    for path in ["/monitor", "/monitor/api/overview"] {
        assert_eq!(call(arena.addr(), "GET", path, Some(TOKEN)).0, 404, "{path}");
    }
}

#[test]
fn the_api_wants_the_operator_token() {
    let arena = ArenaProcess::spawn(&["--monitor-token", TOKEN]);
    let addr = arena.addr();
    // The page itself holds no data: served to anyone, without the token.
    let (status, head, body) = call(addr, "GET", "/monitor", None);
    assert_eq!(status, 200);
    assert!(head.contains("text/html") && body.contains("/monitor/monitor.js") && !body.contains(TOKEN));
    assert_eq!(call(addr, "GET", "/monitor/monitor.js", None).0, 200);
    for (method, path) in [
        ("GET", "/monitor/api/overview"),
        ("GET", "/monitor/api/rooms/x"),
        ("POST", "/monitor/api/rooms/x/kick/1"),
        ("POST", "/monitor/api/rooms/x/dispose"),
    ] {
        let (status, head, _) = call(addr, method, path, None);
        assert_eq!(status, 401, "{method} {path} without a credential");
        assert!(head.contains("www-authenticate: bearer"), "{head}");
        for wrong in ["nope", &TOKEN[..TOKEN.len() - 1], &format!("{TOKEN}x")] {
            assert_eq!(call(addr, method, path, Some(wrong)).0, 403, "{method} {path} with {wrong:?}");
        }
    }
    assert_eq!(call(addr, "GET", "/monitor/api/overview", Some(TOKEN)).0, 200);
    // The scheme in any case (RFC 7235).
    for scheme in ["bearer", "BEARER"] {
        let auth = format!("{scheme} {TOKEN}");
        assert_eq!(call_with(addr, "GET", "/monitor/api/overview", Some(&auth)).0, 200, "{auth}");
    }
    assert_eq!(call_with(addr, "GET", "/monitor/api/overview", Some(&format!("Basic {TOKEN}"))).0, 401);
    assert_eq!(call(addr, "GET", "/monitor/api/rooms/nosuchroom", Some(TOKEN)).0, 404);
}

#[test]
fn an_admin_jwt_is_admitted_and_a_players_is_not() {
    let arena = ArenaProcess::spawn(&["--jwt-hs256-secret", "monitor-secret", "--monitor-admin-claim"]);
    let addr = arena.addr();
    assert_eq!(call(addr, "GET", "/monitor/api/overview", Some(&jwt("op", true))).0, 200);
    let (status, _, body) = call(addr, "GET", "/monitor/api/overview", Some(&jwt("ann", false)));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("admin claim"), "{body}");
    assert_eq!(call(addr, "GET", "/monitor/api/overview", Some("not-a-jwt")).0, 403);
    assert_eq!(call(addr, "GET", "/monitor/api/overview", None).0, 401);
}

/// What a client's reader task saw: events until the close.
enum Seen {
    Left(String),
    Closed(u16, String),
}

/// Reads `c`'s events (so its heartbeat pongs go out) and reports its
/// `Left` events and its close.
fn read_events(mut c: Client) -> mpsc::UnboundedReceiver<Seen> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match c.next_event().await {
                Ok(Event::Left(l)) => {
                    let _ = tx.send(Seen::Left(l.room.clone()));
                }
                Ok(_) => {}
                Err(ClientError::Closed(Some(f))) => {
                    let _ = tx.send(Seen::Closed(u16::from(f.code), f.reason.to_string()));
                    return;
                }
                Err(_) => return,
            }
        }
    });
    rx
}

async fn next_seen(rx: &mut mpsc::UnboundedReceiver<Seen>, within: Duration) -> Seen {
    tokio::time::timeout(within, rx.recv()).await.expect("an event in time").expect("the reader reports")
}

#[tokio::test]
async fn the_monitor_shows_a_room_and_kicks_and_disposes() {
    let arena = ArenaProcess::spawn(&["--monitor-token", TOKEN]);
    let addr = arena.addr();
    let mut a = Client::connect(&ws_url(addr), &["arena.v2.proto"]).await.unwrap();
    let joined_a = a.join_or_create("arena", Default::default()).await.unwrap();
    let mut b = Client::connect(&ws_url(addr), &["arena.v1.msgpack"]).await.unwrap();
    let joined_b = b.join_or_create("arena", Default::default()).await.unwrap();
    assert_eq!(joined_a.room, joined_b.room, "one arena room");
    let room = joined_a.room.clone();
    let (id_a, id_b) = (joined_a.client, joined_b.client);
    let mut seen_a = read_events(a);
    let mut seen_b = read_events(b);

    // The overview: the room with both clients, each with an RTT once the
    // first heartbeat pong came back (the heartbeat is every 5 s).
    let r = room.clone();
    let row = until("both clients with an RTT in the overview", Duration::from_secs(20), move || {
        let o = api(addr, "/monitor/api/overview");
        let row = o["rooms"].as_array()?.iter().find(|x| x["id"] == r.as_str())?.clone();
        let clients = row["clients"].as_array()?;
        (clients.len() == 2 && clients.iter().all(|c| c["rtt_ms"].as_f64().is_some_and(|ms| ms >= 0.0))).then_some(row)
    })
    .await;
    assert_eq!(row["room_type"], "arena");
    let protocols: Vec<&str> =
        row["clients"].as_array().unwrap().iter().filter_map(|c| c["protocol"].as_str()).collect();
    assert!(protocols.contains(&"v2.proto") && protocols.contains(&"v1.msgpack"), "{protocols:?}");
    let o = api(addr, "/monitor/api/overview");
    assert_eq!(o["room_types"][0], serde_json::json!({ "room_type": "arena", "rooms": 1, "clients": 2 }));
    assert_eq!(o["connections"], 2);
    assert!(o["nodes"].is_null(), "one process: no nodes");

    // The room: its latest state as JSON with the v2 schema's field names.
    let path = format!("/monitor/api/rooms/{room}");
    let detail = until("the room's decoded state", Duration::from_secs(10), move || {
        let d = api(addr, &path);
        d["state"].is_object().then_some(d)
    })
    .await;
    let state = &detail["state"];
    assert_eq!(state["version"], 2, "shown in the highest version");
    assert!(state["view_of"].is_null(), "arena broadcasts: the room's own state, no client's view");
    // arena's v2 wire state is its `Output` oneof, holding the `State`.
    let game = &state["json"]["kind"]["state"];
    assert_eq!(game["players"].as_array().map(Vec::len), Some(2), "{state}");
    assert!(game["width"].as_f64().is_some_and(|w| w > 0.0), "{state}");
    assert_eq!(detail["clients"].as_array().map(Vec::len), Some(2));

    // The charts have points by now (one a second since the start).
    let o = api(addr, "/monitor/api/overview");
    let series = o["series"].as_array().unwrap();
    assert!(!series.is_empty(), "{o}");
    assert!(series.iter().any(|p| p["bytes_out_per_sec"].as_f64().is_some_and(|b| b > 0.0)), "{series:?}");
    assert!(series.iter().any(|p| p["tick_duration_ms"].is_number()), "{series:?}");

    // Kick: a's connection is closed with 4005 and the documented reason.
    let (status, _, body) = call(addr, "POST", &format!("/monitor/api/rooms/{room}/kick/{id_a}"), Some(TOKEN));
    assert_eq!(status, 200, "{body}");
    loop {
        match next_seen(&mut seen_a, Duration::from_secs(5)).await {
            Seen::Closed(code, reason) => {
                assert_eq!((code, reason.as_str()), (4005, "kicked by an operator"));
                break;
            }
            Seen::Left(_) => {}
        }
    }
    let (status, _, _) = call(addr, "POST", &format!("/monitor/api/rooms/{room}/kick/{id_a}"), Some(TOKEN));
    assert_eq!(status, 404, "a client no longer in the room");
    assert_eq!(call(addr, "POST", &format!("/monitor/api/rooms/{room}/kick/abc"), Some(TOKEN)).0, 400);
    let d = api(addr, &format!("/monitor/api/rooms/{room}"));
    let left: Vec<u64> = d["clients"].as_array().unwrap().iter().filter_map(|c| c["id"].as_u64()).collect();
    assert_eq!(left, vec![u64::from(id_b)]);
    let o = api(addr, "/monitor/api/overview");
    assert!(
        o["closes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == 4005 && c["count"] == 1 && c["meaning"] == "kicked"),
        "{}",
        o["closes"]
    );

    // Dispose: b is told the room is gone, and the room is no longer listed.
    let (status, _, body) = call(addr, "POST", &format!("/monitor/api/rooms/{room}/dispose"), Some(TOKEN));
    assert_eq!(status, 202, "{body}");
    match next_seen(&mut seen_b, Duration::from_secs(5)).await {
        Seen::Left(r) => assert_eq!(r, room.to_string()),
        Seen::Closed(code, reason) => panic!("b was closed ({code} {reason}) instead of told"),
    }
    let r = room.clone();
    until("the disposed room to leave the overview", Duration::from_secs(5), move || {
        let o = api(addr, "/monitor/api/overview");
        (!o["rooms"].as_array()?.iter().any(|x| x["id"] == r.as_str())).then_some(())
    })
    .await;
    assert_eq!(call(addr, "GET", &format!("/monitor/api/rooms/{room}"), Some(TOKEN)).0, 404);
}

#[tokio::test]
async fn a_room_that_sends_only_private_views_says_whose_view_is_shown() {
    let arena = ArenaProcess::spawn(&["--monitor-token", TOKEN]);
    let addr = arena.addr();
    // A view radius: arena sends each player its own view (`send_state`), no broadcast.
    let mut a = Client::connect(&ws_url(addr), &["arena.v2.proto"]).await.unwrap();
    let view = HashMap::from([("view".to_string(), "150".to_string())]);
    let joined_a = a.create("arena", view).await.unwrap();
    let mut b = Client::connect(&ws_url(addr), &["arena.v2.msgpack"]).await.unwrap();
    let joined_b = b.join(&joined_a.room, Default::default()).await.unwrap();
    let _readers = (read_events(a), read_events(b));

    let path = format!("/monitor/api/rooms/{}", joined_a.room);
    let detail = until("the room's captured state", Duration::from_secs(10), move || {
        let d = api(addr, &path);
        d["state"].is_object().then_some(d)
    })
    .await;
    let view_of: Vec<u64> =
        detail["state"]["view_of"].as_array().expect("whose view: {detail}").iter().filter_map(Value::as_u64).collect();
    assert_eq!(view_of.len(), 1, "one player's view: {detail}");
    assert!([u64::from(joined_a.client), u64::from(joined_b.client)].contains(&view_of[0]), "{detail}");
    // Shown on the page as "view of client N".
    let (_, _, js) = call(addr, "GET", "/monitor/monitor.js", None);
    assert!(js.contains("view of client"), "the page says whose view it shows");
}
