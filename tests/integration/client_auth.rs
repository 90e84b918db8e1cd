//! The Rust `ReconnectingClient` with authentication, over real sockets: a
//! cut link is re-authenticated (a fresh token from the source, `Auth`
//! before `Resume`) and the same session resumed; a token source that gives
//! an expired token ends the client with one attempt instead of a loop, in
//! both server modes; an expiring credential is refreshed by itself, or the
//! client stops with the 1008 as an auth failure; a refresh for another user
//! stops it too.

use arena::proto::v2;
use jsonwebtoken::{encode, EncodingKey, Header};
use playhouse::auth::{AuthConfig, JwtAuthenticator};
use playhouse_client::reconnect::{
    Backoff, Jitter, ReconnectConfig, ReconnectError, ReconnectEvent, ReconnectingClient, StopReason,
};
use playhouse_client::{AuthFailure, AuthVia, Client, ClientAuth, Credential, Event};
use playhouse_tests::proxy::Proxy;
use playhouse_tests::{metric_labeled, metrics_text, options, start, ALL_TOKENS};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SECRET: &[u8] = b"client auth test secret";

/// An HS256 JWT for `user`, expiring `secs` seconds from now (negative: in
/// the past).
fn jwt(user: &str, secs: i64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs() as i64;
    let claims = serde_json::json!({ "sub": user, "exp": now + secs });
    encode(&Header::default(), &claims, &EncodingKey::from_secret(SECRET)).expect("encodes")
}

/// A server with HS256 auth and no clock skew, by first message or at the upgrade.
fn server(first_message: bool) -> playhouse::server::RunningServer {
    start(move |c| {
        let config = AuthConfig::new(JwtAuthenticator::hs256(SECRET).leeway(Duration::ZERO));
        c.auth = Some(if first_message { config.first_message(Duration::from_secs(1)) } else { config });
    })
}

/// A token source for `user` counting its calls; once `expired` is set it
/// gives tokens that expired a minute ago.
fn source(user: &'static str, secs: i64) -> (ClientAuth, Arc<AtomicU32>, Arc<AtomicBool>) {
    let calls = Arc::new(AtomicU32::new(0));
    let expired = Arc::new(AtomicBool::new(false));
    let (c, e) = (calls.clone(), expired.clone());
    let auth = ClientAuth::from_fn(move || {
        c.fetch_add(1, Ordering::SeqCst);
        let token = if e.load(Ordering::SeqCst) { jwt(user, -60) } else { jwt(user, secs) };
        async move { Ok(token) }
    });
    (auth, calls, expired)
}

fn config(url: String, auth: ClientAuth) -> ReconnectConfig {
    ReconnectConfig {
        backoff: Backoff { base: Duration::from_millis(20), cap: Duration::from_millis(200), max_tries: 40 },
        jitter: Jitter::seeded(7),
        attempt_timeout: Duration::from_secs(5),
        auth: Some(auth),
        ..ReconnectConfig::new([url], ALL_TOKENS)
    }
}

/// The next event within `secs` seconds, or the error.
async fn next(client: &mut ReconnectingClient, secs: u64) -> Result<ReconnectEvent, ReconnectError> {
    match tokio::time::timeout(Duration::from_secs(secs), client.next_event()).await {
        Ok(r) => r,
        Err(_) => panic!("no event within {secs} s"),
    }
}

/// Events other than server messages, until `done` accepts one (or `secs` pass).
async fn changes_until(
    client: &mut ReconnectingClient,
    secs: u64,
    done: impl Fn(&ReconnectEvent) -> bool,
) -> Vec<ReconnectEvent> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    loop {
        assert!(Instant::now() < deadline, "not done in time: {seen:?}");
        let ev = next(client, secs).await.expect("the client runs");
        let stop = done(&ev);
        if !matches!(ev, ReconnectEvent::Server(Event::State(_) | Event::Message(_))) {
            seen.push(ev);
        }
        if stop {
            return seen;
        }
    }
}

#[tokio::test]
async fn a_cut_link_reauthenticates_before_it_resumes_the_same_session() {
    let server = server(true);
    let proxy = Proxy::start(server.addr()).await;
    let (auth, calls, _) = source("ann", 60);
    let mut client = ReconnectingClient::connect(config(proxy.ws_url(), auth)).await.expect("connects");
    assert_eq!(client.authenticated().map(|a| a.user.as_str()), Some("ann"));
    // The room knows the user: Probe tells the others "user <user> is client <id>".
    let url = playhouse_tests::ws_url(server.addr());
    let cred = Credential { token: &jwt("wat", 60), via: AuthVia::Message };
    let mut watcher = Client::connect_with(&url, &ALL_TOKENS, Some(cred)).await.expect("watcher connects");
    let room = watcher.create("probe30", options(&[("chatter", "1")])).await.expect("creates").room;
    let joined = client.join(&room, options(&[])).await.expect("joins");
    let want = format!("user ann is client {}", joined.client);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        assert!(Instant::now() < deadline, "no {want:?}");
        if let Ok(Event::Message(m)) = watcher.next_event_timeout(Duration::from_secs(2)).await {
            let out: v2::Output = watcher.decode(&m.payload).expect("decodes");
            if matches!(out.kind, Some(v2::output::Kind::Event(e)) if e.text == want) {
                break;
            }
        }
    }
    let session = client.session().to_string();

    proxy.cut_all();
    let seen = changes_until(&mut client, 10, |e| matches!(e, ReconnectEvent::Resumed { .. })).await;
    assert!(matches!(seen.first(), Some(ReconnectEvent::Reconnecting { attempt: 1, .. })), "{seen:?}");
    let n = seen.len();
    assert!(
        matches!(&seen[n - 2], ReconnectEvent::Server(Event::Authenticated(a)) if a.user == "ann"),
        "Authenticated, then Resumed: {seen:?}"
    );
    let ReconnectEvent::Resumed { rooms, .. } = &seen[n - 1] else { unreachable!() };
    assert_eq!(rooms.iter().map(|j| j.room.as_str()).collect::<Vec<_>>(), [room.as_str()]);
    assert_eq!(client.session(), session, "the same session");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "the source was asked again for the new connection");
    assert!(client.ping().await.is_ok());
    let m = metrics_text(server.addr());
    assert_eq!(metric_labeled(&m, "playhouse_session_resumes_total", "result=\"replayed\""), 1.0, "{m}");
}

#[tokio::test]
async fn an_expired_token_source_ends_the_client_after_one_attempt_in_either_mode() {
    for (first_message, via) in [(true, AuthVia::Message), (false, AuthVia::Query), (false, AuthVia::Header)] {
        let server = server(first_message);
        let proxy = Proxy::start(server.addr()).await;
        let (auth, calls, expired) = source("bob", 60);
        let mut client = ReconnectingClient::connect(config(proxy.ws_url(), auth.via(via))).await.expect("connects");
        client.create("probe30", options(&[])).await.expect("creates");
        expired.store(true, Ordering::SeqCst);
        let started = Instant::now();
        proxy.cut_all();
        let seen = changes_until(&mut client, 10, |e| matches!(e, ReconnectEvent::Unauthorized { .. })).await;
        let reconnecting = seen.iter().filter(|e| matches!(e, ReconnectEvent::Reconnecting { .. })).count();
        assert_eq!(reconnecting, 1, "{via:?}: one attempt, no loop: {seen:?}");
        assert!(
            matches!(seen.last(), Some(ReconnectEvent::Unauthorized { failure: AuthFailure::Unauthorized, .. })),
            "{via:?}: {seen:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert!(matches!(
            next(&mut client, 2).await,
            Err(ReconnectError::Stopped(StopReason::Unauthorized(AuthFailure::Unauthorized)))
        ));
        // The first connection with such a token is refused at once too.
        let (auth, calls, expired) = source("bob", 60);
        expired.store(true, Ordering::SeqCst);
        match ReconnectingClient::connect(config(proxy.ws_url(), auth.via(via))).await {
            Err(ReconnectError::Refused { failure: Some(AuthFailure::Unauthorized), reason }) => {
                assert!(reason.contains("expired"), "{via:?}: {reason}")
            }
            other => panic!("{via:?}: expected a refusal, got {other:?}"),
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "{via:?}: no retry");
    }
}

#[tokio::test]
async fn an_expiring_credential_is_refreshed_by_itself_or_ends_the_client_with_1008() {
    let server = server(true);
    let url = playhouse_tests::ws_url(server.addr());
    let (auth, calls, _) = source("cat", 3);
    let mut client = ReconnectingClient::connect(config(url.clone(), auth)).await.expect("connects");
    let first = client.authenticated().expect("authenticated").expires_at;
    // Until the clock is a second past the first token's expiry and the
    // client has refreshed twice, however long a busy machine takes (the
    // connection must survive all of it without an unexpected event).
    let unix_ms = || SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_millis() as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut refreshed = 0;
    while refreshed < 2 || unix_ms() <= first + 1000 {
        assert!(Instant::now() < deadline, "refreshed {refreshed} times in 30 s");
        // One wait per event: `next_event` is not to be cancelled midway.
        if let Ok(r) = tokio::time::timeout(deadline - Instant::now(), client.next_event()).await {
            match r.expect("the client runs") {
                ReconnectEvent::Server(Event::Authenticated(a)) if a.user == "cat" => refreshed += 1,
                ReconnectEvent::Server(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert!(calls.load(Ordering::SeqCst) >= 3, "refreshed {refreshed} times");
    assert!(client.authenticated().expect("authenticated").expires_at > first);
    assert!(client.ping().await.is_ok());

    // A fixed token is never refreshed: the server closes 1008, the client stops.
    let fixed = ClientAuth::token(jwt("dan", 2));
    let mut lapsing = ReconnectingClient::connect(config(url.clone(), fixed)).await.expect("connects");
    let seen = changes_until(&mut lapsing, 5, |e| matches!(e, ReconnectEvent::Unauthorized { .. })).await;
    assert!(
        matches!(seen.as_slice(), [ReconnectEvent::Unauthorized { failure: AuthFailure::Expired, reason }] if reason.contains("expired")),
        "{seen:?}"
    );

    // By hand: the same user renews; another user's token is refused (4003).
    let (auth, _, _) = source("eve", 60);
    let mut eve = ReconnectingClient::connect(config(url, auth.refresh_before(None))).await.expect("connects");
    assert_eq!(eve.refresh().await.expect("refreshes").user, "eve");
    assert!(eve.refresh_with(&jwt("mallory", 60)).await.is_err());
    let seen = changes_until(&mut eve, 5, |e| matches!(e, ReconnectEvent::Unauthorized { .. })).await;
    assert!(
        matches!(seen.as_slice(), [ReconnectEvent::Unauthorized { failure: AuthFailure::Forbidden, .. }]),
        "{seen:?}"
    );
}
