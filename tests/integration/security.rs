//! The security controls over real sockets: each refuses what it must and
//! lets a legitimate client through — origin allowlist, authentication at
//! the upgrade and by first message (JWT HS256 and RS256), credential
//! expiry and refresh, authorization hooks, rate limits, per-address and
//! per-user caps, and sessions bound to their user.

use arena::proto::v2;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use playhouse::auth::{AuthConfig, JwtAuthenticator};
use playhouse::limits::{OriginPolicy, RateLimits, RatePolicy};
use playhouse_client::envelope::client_msg::Kind as C;
use playhouse_client::envelope::{Ping, Resume};
use playhouse_client::{Client, ClientError, ClientId, Event};
use playhouse_tests::auth::{exp_in, expired_jwt, hs256, jwt, jwt_until};
use playhouse_tests::{expect_close, http_get, metric, metrics_text, options, start, ws_url};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const TOKENS: [&str; 1] = ["arena.v2.proto"];

/// A raw upgrade with extra header lines; returns the status and the
/// response head (and body, for a refusal).
fn upgrade(addr: SocketAddr, path: &str, extra: &str) -> (u16, String) {
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: arena.v2.proto\r\n{extra}\r\n"
    );
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // A refusal ends with its body and the server closing; a 101 stays
    // open, so stop at the end of its head.
    while let Ok(n @ 1..) = s.read(&mut chunk) {
        buf.extend_from_slice(&chunk[..n]);
        if buf.starts_with(b"HTTP/1.1 101") && buf.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
        if !buf.starts_with(b"HTTP/1.1 101") && buf.len() > 12 && String::from_utf8_lossy(&buf).contains("\n\n") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&buf).to_string();
    (text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0), text)
}

#[test]
fn only_allowed_origins_may_open_a_socket() {
    let server = start(|c| {
        c.origins = OriginPolicy::allow(["https://game.example", "https://*.cdn.example"]).allow_missing(true);
    });
    let addr = server.addr();
    let (status, body) = upgrade(addr, "/ws", "Origin: https://evil.example\r\n");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("origin \"https://evil.example\" is not allowed"), "{body}");
    assert_eq!(upgrade(addr, "/ws", "Origin: https://game.example\r\n").0, 101);
    assert_eq!(upgrade(addr, "/ws", "Origin: https://eu.cdn.example\r\n").0, 101);
    assert_eq!(upgrade(addr, "/ws", "").0, 101, "native clients allowed explicitly");
    let m = metrics_text(addr);
    assert!(m.contains("playhouse_handshakes_refused_total{status=\"403\"} 1"), "{m}");

    let strict = start(|c| c.origins = OriginPolicy::allow(["https://game.example"]));
    let (status, body) = upgrade(strict.addr(), "/ws", "");
    assert_eq!(status, 403);
    assert!(body.contains("no Origin header"), "{body}");
    // The default: the server's own pages (and native clients).
    let default = start(|_| {});
    let own = format!("Origin: http://{}\r\n", default.addr());
    assert_eq!(upgrade(default.addr(), "/ws", &own).0, 101);
    assert_eq!(upgrade(default.addr(), "/ws", "Origin: http://127.0.0.1:1\r\n").0, 403);
}

#[tokio::test]
async fn upgrade_auth_needs_a_good_token_and_the_user_reaches_the_room() {
    let server = start(|c| c.auth = Some(AuthConfig::new(hs256())));
    let addr = server.addr();
    match Client::connect(&ws_url(addr), &TOKENS).await {
        Err(ClientError::Refused { status: 401, body }) => assert!(body.contains("no credential"), "{body}"),
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }
    let forged = encode(
        &Header::default(),
        &serde_json::json!({"sub": "ann", "aud": "arena", "exp": u64::MAX / 2}),
        &EncodingKey::from_secret(b"not the secret"),
    )
    .unwrap();
    match Client::connect(&format!("{}?token={forged}", ws_url(addr)), &TOKENS).await {
        Err(ClientError::Refused { status: 401, body }) => assert!(body.contains("bad signature"), "{body}"),
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }
    let expired = expired_jwt("ann");
    match Client::connect(&format!("{}?token={expired}", ws_url(addr)), &TOKENS).await {
        Err(ClientError::Refused { status: 401, body }) => assert!(body.contains("expired"), "{body}"),
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }
    // Bearer header (raw) and query token (client) both get through.
    let bearer = format!("Authorization: Bearer {}\r\n", jwt("ann", Duration::from_secs(60)));
    assert_eq!(upgrade(addr, "/ws", &bearer).0, 101);
    let mut watcher =
        Client::connect(&format!("{}?token={}", ws_url(addr), jwt("wat", Duration::from_secs(60))), &TOKENS)
            .await
            .unwrap();
    let room = watcher.create("probe30", HashMap::new()).await.unwrap().room;
    let mut ann = Client::connect(&format!("{}?token={}", ws_url(addr), jwt("ann", Duration::from_secs(60))), &TOKENS)
        .await
        .unwrap();
    let joined = ann.join(&room, HashMap::new()).await.unwrap();
    let want = format!("user ann is client {}", joined.client);
    wait_for_text(&mut watcher, &want).await;
}

fn unix_secs_f64() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs_f64()
}

fn unix_secs() -> u64 {
    unix_secs_f64() as u64
}

async fn wait_for_text(c: &mut Client, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        assert!(Instant::now() < deadline, "no event {want:?}");
        if let Ok(Event::Message(m)) = c.next_event_timeout(Duration::from_secs(2)).await {
            if let Ok(v2::Output { kind: Some(v2::output::Kind::Event(e)) }) = c.decode::<v2::Output>(&m.payload) {
                if e.text == want {
                    return;
                }
            }
        }
    }
}

#[tokio::test]
async fn rs256_tokens_from_an_issuer_key_pair() {
    let public = include_bytes!("../support/keys/jwt-test-public.pem");
    let private = include_bytes!("../support/keys/jwt-test-private.pem");
    let auth = JwtAuthenticator::rs256_pem(public).unwrap().issuer("login");
    let server = start(move |c| c.auth = Some(AuthConfig::new(auth)));
    let exp = (SystemTime::now() + Duration::from_secs(60)).duration_since(UNIX_EPOCH).unwrap().as_secs();
    let claims = serde_json::json!({ "sub": "rita", "exp": exp, "iss": "login" });
    let token = encode(&Header::new(Algorithm::RS256), &claims, &EncodingKey::from_rsa_pem(private).unwrap()).unwrap();
    let mut c = Client::connect(&format!("{}?token={token}", ws_url(server.addr())), &TOKENS).await.unwrap();
    c.create("probe30", HashMap::new()).await.unwrap();
    // An HS256 token signed with the public key as secret (algorithm
    // confusion) is refused.
    let confused = encode(&Header::default(), &claims, &EncodingKey::from_secret(public)).unwrap();
    let url = format!("{}?token={confused}", ws_url(server.addr()));
    assert!(matches!(Client::connect(&url, &TOKENS).await, Err(ClientError::Refused { status: 401, .. })));
}

#[tokio::test]
async fn first_message_auth_deadline_bad_token_and_nothing_before_it() {
    let server = start(|c| c.auth = Some(AuthConfig::new(hs256()).first_message(Duration::from_millis(300))));
    let url = ws_url(server.addr());
    let mut silent = Client::connect(&url, &TOKENS).await.unwrap();
    let (code, reason) = expect_close(&mut silent, Duration::from_secs(3)).await;
    assert_eq!(code, 4002, "{reason}");
    let mut bad = Client::connect(&url, &TOKENS).await.unwrap();
    bad.send(C::Auth(playhouse_client::envelope::Auth { token: "nonsense".into() })).await.unwrap();
    assert_eq!(expect_close(&mut bad, Duration::from_secs(3)).await.0, 4001);
    let mut eager = Client::connect(&url, &TOKENS).await.unwrap();
    eager.send(C::Ping(Ping { client_time: 1 })).await.unwrap();
    let (code, reason) = expect_close(&mut eager, Duration::from_secs(3)).await;
    assert_eq!(code, 4001);
    assert!(reason.contains("first message must be Auth"), "{reason}");
    // The legitimate client.
    let mut ok = Client::connect(&url, &TOKENS).await.unwrap();
    let a = ok.authenticate(&jwt("ann", Duration::from_secs(60))).await.unwrap();
    assert_eq!(a.user, "ann");
    assert!(a.expires_at > 0);
    ok.create("probe30", HashMap::new()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(ok.ping().await.is_ok(), "past the deadline, an authenticated connection stays");
}

#[tokio::test]
async fn an_expiring_credential_must_be_refreshed_by_the_same_user() {
    let server = start(|c| c.auth = Some(AuthConfig::new(hs256()).first_message(Duration::from_secs(5))));
    let url = ws_url(server.addr());
    let mut c = Client::connect(&url, &TOKENS).await.unwrap();
    let first_exp = exp_in(Duration::from_secs(2));
    c.authenticate(&jwt_until("ann", first_exp)).await.unwrap();
    c.authenticate(&jwt("ann", Duration::from_secs(60))).await.unwrap();
    // The first credential's expiry has to pass for the refresh to matter:
    // keep the connection busy until the clock is a second past it (the
    // server would have closed at the expiry), each ping answered.
    while unix_secs() <= first_exp + 1 {
        assert!(c.ping().await.is_ok(), "refreshed in time");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(c.ping().await.is_ok(), "refreshed in time");

    let mut lapsed = Client::connect(&url, &TOKENS).await.unwrap();
    let lapse = exp_in(Duration::from_secs(1));
    lapsed.authenticate(&jwt_until("bob", lapse)).await.unwrap();
    // Closed by the credential check soon after the expiry, well before the
    // 15 s idle timeout (the bound counts from the expiry, not from a
    // sleep, and is generous for a loaded machine).
    let within = Duration::from_secs(lapse + 6).saturating_sub(Duration::from_secs_f64(unix_secs_f64()));
    let (code, reason) = expect_close(&mut lapsed, within).await;
    assert_eq!(code, 1008, "{reason}");
    assert!(reason.contains("expired"), "{reason}");
    assert!(unix_secs() >= lapse, "not closed before the credential expired");

    c.send(C::Auth(playhouse_client::envelope::Auth { token: jwt("eve", Duration::from_secs(60)) })).await.unwrap();
    assert_eq!(expect_close(&mut c, Duration::from_secs(3)).await.0, 4003, "a refresh for another user");
}

#[tokio::test]
async fn authorization_hooks_refuse_joins_and_inputs_with_4003() {
    let server = start(|c| c.auth = Some(AuthConfig::new(hs256())));
    let url = |user: &str| format!("{}?token={}", ws_url(server.addr()), jwt(user, Duration::from_secs(60)));
    let mut mallory = Client::connect(&url("mallory"), &TOKENS).await.unwrap();
    match mallory.create("probe30", HashMap::new()).await {
        Err(ClientError::Join(e)) => {
            assert_eq!(e.code, playhouse_client::envelope::JoinErrorCode::Forbidden as i32);
            assert_eq!(e.reason, "mallory may not play");
        }
        other => panic!("expected FORBIDDEN, got {other:?}"),
    }
    let mut ann = Client::connect(&url("ann"), &TOKENS).await.unwrap();
    let room = ann.create("probe30", HashMap::new()).await.unwrap().room;
    match mallory.join(&room, HashMap::new()).await {
        Err(ClientError::Join(e)) => assert_eq!(e.code, playhouse_client::envelope::JoinErrorCode::Forbidden as i32),
        other => panic!("expected FORBIDDEN, got {other:?}"),
    }
    ann.send_input(&room, 1, &v2::Input { move_x: 99, ..Default::default() }).await.unwrap();
    ann.send_input(&room, 2, &v2::Input { move_x: 1, ..Default::default() }).await.unwrap();
    let mut refused = false;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        assert!(Instant::now() < deadline, "no answer to the inputs");
        match ann.next_event_timeout(Duration::from_secs(2)).await.unwrap() {
            Event::Error(e) if e.code == 4003 => refused = true,
            Event::Message(m) => {
                let out: v2::Output = ann.decode(&m.payload).unwrap();
                if let Some(v2::output::Kind::Event(e)) = out.kind {
                    assert!(!e.text.ends_with(" 99"), "the refused input reached the room: {}", e.text);
                    if e.text.starts_with("input ") && e.text.ends_with(" 1") {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    assert!(refused, "the client is told its input was refused");
    let mut admin = Client::connect(&url("admin"), &TOKENS).await.unwrap();
    admin.join(&room, HashMap::new()).await.unwrap();
    admin.send_input(&room, 1, &v2::Input { move_x: 99, ..Default::default() }).await.unwrap();
    wait_for_text(&mut ann, &format!("input {} 1 99", admin.client_id(&room).unwrap())).await;
}

#[tokio::test]
async fn past_the_rate_limit_messages_are_dropped_or_the_connection_closed() {
    let limits = RateLimits { messages_per_sec: 20, message_burst: 10, ..RateLimits::default() };
    let server = start(move |c| c.rate = limits);
    let mut flood = Client::connect(&ws_url(server.addr()), &TOKENS).await.unwrap();
    for i in 0..100 {
        flood.send(C::Ping(Ping { client_time: i })).await.unwrap();
    }
    let (mut pongs, mut errors) = (0, 0);
    while let Ok(ev) = flood.next_event_timeout(Duration::from_millis(500)).await {
        match ev {
            Event::Pong(_) => pongs += 1,
            Event::Error(e) if e.code == 1008 => errors += 1,
            _ => {}
        }
    }
    // The burst of 10 includes the client's own Hello, sent after Welcome.
    assert!((9..30).contains(&pongs), "a burst of 10 and 20/s passed, not all 100: {pongs}");
    assert_eq!(errors, 1, "one notice per second, not one per dropped message");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(flood.ping().await.is_ok(), "the bucket refills: the connection carries on");
    let m = metrics_text(server.addr());
    assert!(metric(&m, "playhouse_rate_limited_total") >= 70.0, "{m}");

    let close = RateLimits { messages_per_sec: 20, message_burst: 10, policy: RatePolicy::Close, ..limits };
    let strict = start(move |c| c.rate = close);
    let mut c = Client::connect(&ws_url(strict.addr()), &TOKENS).await.unwrap();
    for i in 0..50 {
        if c.send(C::Ping(Ping { client_time: i })).await.is_err() {
            break;
        }
    }
    let (code, reason) = expect_close(&mut c, Duration::from_secs(3)).await;
    assert_eq!((code, reason.as_str()), (1008, "rate limit exceeded"));
    // A client at a game's pace is never limited.
    let mut calm = Client::connect(&ws_url(strict.addr()), &TOKENS).await.unwrap();
    for _ in 0..15 {
        assert!(calm.ping().await.is_ok());
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
}

#[tokio::test]
async fn connections_per_address_are_capped_with_429_and_sessions_per_user_with_4003() {
    let server = start(|c| {
        c.max_connections_per_ip = 3;
        c.max_sessions_per_user = 1;
        c.auth = Some(AuthConfig::new(hs256()));
    });
    let url = |user: &str| format!("{}?token={}", ws_url(server.addr()), jwt(user, Duration::from_secs(60)));
    let mut a = Client::connect(&url("ann"), &TOKENS).await.unwrap();
    let room = a.create("probe30", HashMap::new()).await.unwrap().room;
    // A second session of ann may connect, but not join: the cap counts
    // sessions in use.
    let mut second = Client::connect(&url("ann"), &TOKENS).await.unwrap();
    second
        .send(C::Join(playhouse_client::envelope::Join {
            request: 1,
            room: room.clone(),
            options: HashMap::new(),
            ..Default::default()
        }))
        .await
        .unwrap();
    let (code, reason) = expect_close(&mut second, Duration::from_secs(3)).await;
    assert_eq!(code, 4003, "{reason}");
    assert!(reason.contains("sessions"), "{reason}");
    // At the cap, ann can still resume her session on a new connection.
    let b =
        Client::resume(&url("ann"), &TOKENS, a.resume_token(), a.last_seq()).await.expect("a resume is never capped");
    assert_eq!(expect_close(&mut a, Duration::from_secs(3)).await.0, 4009);
    assert_eq!(b.client_id(&room), Some(ClientId(1)));
    // Per address: three connections are open (b, bob, cat below would be the fourth).
    let _bob = Client::connect(&url("bob"), &TOKENS).await.unwrap();
    let _cat = Client::connect(&url("cat"), &TOKENS).await.unwrap();
    match Client::connect(&url("dan"), &TOKENS).await {
        Err(ClientError::Refused { status: 429, body }) => {
            assert!(body.contains("too many connections from"), "{body}")
        }
        other => panic!("a fourth connection from one address: {:?}", other.map(|_| ())),
    }
    b.close().await.unwrap();
    // The slot is given back when the server has seen the close: retry
    // until it has (every refusal meanwhile must be the cap's 429).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match Client::connect(&url("dan"), &TOKENS).await {
            Ok(_) => break,
            Err(ClientError::Refused { status: 429, .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("a slot was never freed: {e}"),
        }
    }
    let (status, info) = http_get(server.addr(), "/info");
    assert_eq!(status, 200);
    for key in
        ["\"max_connections_per_ip\":3", "\"max_sessions_per_user\":1", "\"auth\":\"upgrade\"", "\"messages_per_sec\""]
    {
        assert!(info.contains(key), "{key} missing from /info: {info}");
    }
}

#[tokio::test]
async fn a_session_resumes_only_for_its_own_user() {
    let server = start(|c| c.auth = Some(AuthConfig::new(hs256())));
    let url = |user: &str| format!("{}?token={}", ws_url(server.addr()), jwt(user, Duration::from_secs(60)));
    let mut ann = Client::connect(&url("ann"), &TOKENS).await.unwrap();
    ann.create("probe30", options(&[])).await.unwrap();
    let token = ann.resume_token().to_string();
    let mut bob = Client::connect(&url("bob"), &TOKENS).await.unwrap();
    bob.send(C::Resume(Resume { token: token.clone(), last_seq: 0 })).await.unwrap();
    match bob.next_event_timeout(Duration::from_secs(3)).await.unwrap() {
        Event::Error(e) => {
            assert_eq!(e.code, 4002);
            assert!(e.reason.contains("another user"), "{}", e.reason);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(ann.ping().await.is_ok(), "ann keeps her session");
}
