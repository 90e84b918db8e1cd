//! TLS over real sockets (`ServerConfig::tls`, `arena --tls-cert/--tls-key`):
//! certificates generated here with rcgen, the Rust client over `wss://`,
//! refusals (plain `ws://` to the TLS port, an untrusted certificate, TLS
//! 1.1 and 1.0), ALPN, certificate reload (in process and by SIGHUP to the
//! real `arena`), typed load errors at bind time, and the kill switch on a
//! stalled TLS reader.

use futures_util::{SinkExt, StreamExt};
use playhouse::prelude::*;
use playhouse::protocol::envelope::{client_msg::Kind as C, server_msg::Kind as S, ClientMsg, Join, ServerMsg};
use playhouse::server::{BoundServer, TlsConfig, TlsError};
use playhouse_client::{rustls, Client, ClientError, Event, TlsTrust};
use playhouse_tests::process::{arena_binary, ArenaProcess};
use playhouse_tests::tls::TestPki;
use playhouse_tests::{metric, metric_labeled, options, start, test_config};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::SEC_WEBSOCKET_PROTOCOL;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{Connector, MaybeTlsStream};

fn wss(addr: SocketAddr) -> String {
    format!("wss://{addr}/ws")
}

/// A test server (arena + probe rooms) speaking TLS with a fresh certificate
/// named `first`; also returns the PKI that issued it.
fn tls_server(tweak: impl FnOnce(&mut ServerConfig) + Send + 'static) -> (RunningServer, TestPki, Vec<u8>) {
    let pki = TestPki::new("tls");
    let first = pki.issue("first");
    let config = pki.install(&first);
    let server = start(move |c| {
        c.tls = Some(config);
        tweak(c);
    });
    (server, pki, first.der)
}

/// The certificate the server presented to `c`, the TLS version and ALPN.
fn session_of(c: &mut Client) -> (Vec<u8>, Option<rustls::ProtocolVersion>, Option<Vec<u8>>) {
    let MaybeTlsStream::Rustls(s) = c.socket().get_ref() else { panic!("not a TLS connection") };
    let conn = s.get_ref().1;
    let cert = conn.peer_certificates().and_then(|c| c.first()).map(|c| c.to_vec()).expect("a server certificate");
    (cert, conn.protocol_version(), conn.alpn_protocol().map(<[u8]>::to_vec))
}

/// Reads events until `n` states of `room` arrived (5 s at most); returns their ticks.
async fn states(c: &mut Client, room: &str, n: usize) -> Vec<u64> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut ticks = Vec::new();
    while ticks.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match c.next_event_timeout(left).await {
            Ok(Event::State(s)) if s.room == room => ticks.push(s.tick),
            Ok(_) => {}
            Err(e) => panic!("after {} states: {e}", ticks.len()),
        }
    }
    ticks
}

#[tokio::test]
async fn rust_client_over_wss_negotiates_joins_and_receives_states() {
    let (server, pki, served) = tls_server(|_| {});
    let url = wss(server.addr());
    let mut c = Client::connect_tls(&url, &["arena.v1.msgpack", "arena.v2.proto"], &pki.trust()).await.unwrap();
    assert_eq!(c.protocol().to_string(), "arena.v2.proto", "negotiation is the same over TLS");
    let (cert, version, alpn) = session_of(&mut c);
    assert_eq!(cert, served);
    assert_eq!(version, Some(rustls::ProtocolVersion::TLSv1_3), "TLS 1.3 when both sides can");
    assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
    let room = c.create("probe30", Default::default()).await.unwrap().room;
    let ticks = states(&mut c, &room, 10).await;
    assert!(ticks.windows(2).all(|w| w[0] < w[1]), "ticks in order: {ticks:?}");
    c.ping().await.expect("ping over TLS");
    c.close().await.expect("clean close over TLS");
}

#[tokio::test]
async fn the_server_picks_http_1_1_even_when_the_client_offers_h2_first() {
    let (server, pki, _) = tls_server(|_| {});
    let mut config = (*pki.trust().config()).clone();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let trust = TlsTrust::from_config(Arc::new(config));
    let mut c = Client::connect_tls(&wss(server.addr()), &["arena.v2.proto"], &trust).await.unwrap();
    assert_eq!(session_of(&mut c).2.as_deref(), Some(&b"http/1.1"[..]), "a WebSocket upgrade needs HTTP/1.1");
}

#[tokio::test]
async fn plain_ws_to_the_tls_port_and_an_untrusted_certificate_are_refused() {
    let (server, pki, _) = tls_server(|_| {});
    let addr = server.addr();
    let plain =
        tokio::time::timeout(Duration::from_secs(5), Client::connect(&format!("ws://{addr}/ws"), &["arena.v2.proto"]))
            .await
            .expect("plain ws:// to a TLS port fails promptly, it does not hang");
    assert!(plain.is_err(), "plain ws:// to the TLS port must fail");

    // Client::connect trusts Mozilla's roots, which did not issue this certificate.
    let untrusted = Client::connect(&wss(addr), &["arena.v2.proto"]).await;
    match untrusted {
        Err(ClientError::Ws(e)) => assert!(e.to_string().contains("certificate"), "a certificate error: {e}"),
        Err(e) => panic!("expected a certificate error, got {e}"),
        Ok(_) => panic!("a certificate from an unknown CA was accepted"),
    }
    // A CA that did not issue it is refused too.
    let other = TestPki::new("other-ca");
    assert!(Client::connect_tls(&wss(addr), &["arena.v2.proto"], &other.trust()).await.is_err());
    // The server still serves the right client.
    Client::connect_tls(&wss(addr), &["arena.v2.proto"], &pki.trust()).await.expect("still serving");
}

/// A hand-made TLS ClientHello whose legacy version is `version` and which
/// has no supported_versions extension (so it cannot ask for TLS 1.3):
/// ECDHE-ECDSA/RSA-AES128-GCM (and AES128-SHA for old versions), x25519 and
/// P-256, the usual signature algorithms.
fn client_hello(version: u16) -> Vec<u8> {
    fn ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
        out.extend(kind.to_be_bytes());
        out.extend((data.len() as u16).to_be_bytes());
        out.extend(data);
    }
    let mut exts = Vec::new();
    ext(&mut exts, 0x000a, &[0x00, 0x04, 0x00, 0x1d, 0x00, 0x17]); // supported_groups
    ext(&mut exts, 0x000b, &[0x01, 0x00]); // ec_point_formats: uncompressed
    ext(&mut exts, 0x000d, &[0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01]); // signature_algorithms
    let mut body = Vec::new();
    body.extend(version.to_be_bytes());
    body.extend([7u8; 32]); // random
    body.push(0); // no session id
    body.extend([0x00, 0x06, 0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x2f]); // cipher suites
    body.extend([0x01, 0x00]); // compression: null
    body.extend((exts.len() as u16).to_be_bytes());
    body.extend(exts);
    let mut handshake = vec![0x01]; // ClientHello
    handshake.extend(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend(body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend((handshake.len() as u16).to_be_bytes());
    record.extend(handshake);
    record
}

/// Sends `hello` and returns the type and payload of the server's first record.
fn first_record(addr: SocketAddr, hello: &[u8]) -> (u8, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    s.write_all(hello).expect("send the ClientHello");
    let mut header = [0u8; 5];
    s.read_exact(&mut header).expect("a TLS record back");
    let len = u16::from_be_bytes([header[3], header[4]]) as usize;
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).expect("the whole record");
    (header[0], payload)
}

#[tokio::test]
async fn tls_1_1_and_1_0_are_refused_and_tls_1_2_is_served() {
    let (server, pki, served) = tls_server(|_| {});
    let addr = server.addr();
    // The same hand-made hello, only the version differs: 1.2 gets a
    // ServerHello for 1.2, so a refusal of 1.1 is the version's doing.
    let (kind, payload) = tokio::task::spawn_blocking(move || first_record(addr, &client_hello(0x0303))).await.unwrap();
    assert_eq!(kind, 0x16, "a handshake record for TLS 1.2");
    assert_eq!((payload[0], &payload[4..6]), (0x02, &[0x03, 0x03][..]), "ServerHello, version TLS 1.2");
    for (name, version) in [("TLS 1.1", 0x0302u16), ("TLS 1.0", 0x0301)] {
        let (kind, payload) =
            tokio::task::spawn_blocking(move || first_record(addr, &client_hello(version))).await.unwrap();
        assert_eq!((kind, payload.as_slice()), (0x15, &[2u8, 70][..]), "{name}: fatal protocol_version alert");
    }
    // And a real TLS 1.2 client gets all the way to a game.
    let tls12 = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(pki.roots())
        .with_no_client_auth();
    let mut c =
        Client::connect_tls(&wss(addr), &["arena.v2.msgpack"], &TlsTrust::from_config(Arc::new(tls12))).await.unwrap();
    let (cert, version, _) = session_of(&mut c);
    assert_eq!((cert, version), (served, Some(rustls::ProtocolVersion::TLSv1_2)));
    let room = c.create("probe30", Default::default()).await.unwrap().room;
    states(&mut c, &room, 3).await;
}

#[tokio::test]
async fn a_reload_serves_the_new_certificate_to_new_connections_and_keeps_open_ones() {
    let (server, pki, first) = tls_server(|_| {});
    let url = wss(server.addr());
    // A fresh trust (so a fresh rustls session cache) per connection: a
    // client that resumes a TLS session is not shown a certificate again
    // and keeps the identity of its first handshake.
    let mut old = Client::connect_tls(&url, &["arena.v2.proto"], &pki.trust()).await.unwrap();
    assert_eq!(session_of(&mut old).0, first);
    let room = old.create("probe30", Default::default()).await.unwrap().room;

    let second = pki.issue("second");
    pki.install(&second);
    let reloader = server.tls_reloader().expect("a TLS server has a reloader");
    reloader.reload().expect("the new files load");
    let mut new = Client::connect_tls(&url, &["arena.v2.proto"], &pki.trust()).await.unwrap();
    assert_eq!(session_of(&mut new).0, second.der, "a new connection gets the new certificate");
    states(&mut old, &room, 5).await; // the open connection goes on

    // A reload that fails (a key that is not the certificate's) is a typed
    // error, and the server keeps serving the certificate it had.
    std::fs::write(pki.dir().join("server.key"), pki.issue("stray").key_pem).unwrap();
    assert!(matches!(reloader.reload(), Err(TlsError::KeyMismatch { .. })));
    let mut after = Client::connect_tls(&url, &["arena.v2.proto"], &pki.trust()).await.unwrap();
    assert_eq!(session_of(&mut after).0, second.der);
}

#[tokio::test]
async fn sighup_makes_the_arena_binary_serve_the_new_certificate() {
    let pki = TestPki::new("sighup");
    let first = pki.issue("first");
    let config = pki.install(&first);
    let (cert, key) =
        (config.cert_chain.to_string_lossy().into_owned(), config.private_key.to_string_lossy().into_owned());
    let mut arena = ArenaProcess::spawn(&["--tls-cert", &cert, "--tls-key", &key]);
    let url = wss(arena.addr());
    let mut old = Client::connect_tls(&url, &["arena.v2.proto"], &pki.trust()).await.unwrap();
    assert_eq!(session_of(&mut old).0, first.der);
    let room = old.join_or_create("arena", options(&[("name", "old")])).await.unwrap().room;

    let second = pki.issue("second");
    pki.install(&second);
    arena.signal("HUP");
    // The signal is handled on the server's own time: poll new connections.
    let t0 = Instant::now();
    loop {
        // A fresh session cache each time: a full handshake, never a resumption.
        let mut c = Client::connect_tls(&url, &["arena.v2.proto"], &pki.trust()).await.unwrap();
        if session_of(&mut c).0 == second.der {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(5), "still the old certificate 5 s after SIGHUP");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("SIGHUP to the new certificate on a new connection: {:?}", t0.elapsed());
    assert!(arena.is_running(), "SIGHUP reloads, it does not stop arena");
    states(&mut old, &room, 5).await;
}

#[test]
fn a_certificate_that_does_not_load_is_a_typed_error_at_bind_time() {
    let pki = TestPki::new("bind");
    let good = pki.issue("good");
    let config = pki.install(&good);
    let bind = |tls: TlsConfig| {
        let build = move || {
            let mut c = test_config();
            c.tls = Some(tls);
            arena::server(c)
        };
        BoundServer::spawn(build, "127.0.0.1:0".parse().expect("literal")).err().expect("bind fails")
    };
    let missing = bind(TlsConfig::new(pki.dir().join("nope.pem"), &config.private_key));
    assert!(matches!(TlsError::from_io(&missing), Some(TlsError::Read { .. })), "{missing}");
    assert!(missing.to_string().contains("nope.pem"), "names the file: {missing}");
    let stray = pki.dir().join("stray.key");
    std::fs::write(&stray, pki.issue("stray").key_pem).unwrap();
    let mismatch = bind(TlsConfig::new(&config.cert_chain, &stray));
    assert!(matches!(TlsError::from_io(&mismatch), Some(TlsError::KeyMismatch { .. })), "{mismatch}");
    let swapped = bind(TlsConfig::new(&config.private_key, &config.cert_chain));
    assert!(matches!(TlsError::from_io(&swapped), Some(TlsError::NoCertificate { .. })), "{swapped}");

    // arena exits 1 and says why, in words.
    let mut child = std::process::Command::new(arena_binary())
        .args(["--addr", "127.0.0.1:0", "--tls-cert"])
        .arg(&config.cert_chain)
        .arg("--tls-key")
        .arg(&stray)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("arena starts");
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("arena with a mismatched key did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child.stderr.take().expect("piped").read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("does not belong to the first certificate"), "{stderr}");
}

const STALL: Duration = Duration::from_secs(2);

#[tokio::test]
async fn a_stalled_tls_reader_is_cut_off_by_the_kill_switch_without_reading() {
    let (server, pki, _) = tls_server(|c| c.outbox.stall_timeout = STALL);
    let addr = server.addr();
    let trust = pki.trust();
    let mut good = Client::connect_tls(&wss(addr), &["arena.v2.proto"], &trust).await.unwrap();
    let room = good.create("probe", options(&[("state_bytes", "16000")])).await.unwrap().room;
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let reader = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stop_rx => return good,
                ev = good.next_event_timeout(Duration::from_secs(2)) => {
                    if let Err(e) = ev { panic!("the good client stopped getting events: {e}") }
                }
            }
        }
    });

    // The stalled client: TLS over a socket with a 4 KiB receive buffer,
    // joins, then never reads again.
    let sock =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, Some(socket2::Protocol::TCP)).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect(&addr.into()).unwrap();
    sock.set_nonblocking(true).unwrap();
    let tcp = tokio::net::TcpStream::from_std(sock.into()).unwrap();
    let mut req = wss(addr).into_client_request().unwrap();
    req.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, "arena.v2.proto".parse().unwrap());
    let connector = Some(Connector::Rustls(trust.config()));
    let (mut ws, _) = tokio_tungstenite::client_async_tls_with_config(req, tcp, None, connector).await.unwrap();
    let join =
        ClientMsg { kind: Some(C::Join(Join { request: 7, room, options: Default::default(), ..Default::default() })) };
    ws.send(WsMessage::Binary(Codec::Proto.encode_to_vec(&join).unwrap().into())).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let msg = tokio::time::timeout(left, ws.next()).await.expect("joined within 5 s").expect("open").unwrap();
        if let WsMessage::Binary(b) = msg {
            match Codec::Proto.decode::<ServerMsg>(&b).unwrap().kind {
                Some(S::Joined(j)) if j.request == 7 => break,
                Some(S::JoinError(e)) => panic!("join refused: {e:?}"),
                _ => {}
            }
        }
    }

    let metrics = server.metrics();
    let wait_for = |what: &'static str, within: Duration, ok: fn(&str) -> bool| {
        let metrics = metrics.clone();
        async move {
            let t0 = Instant::now();
            loop {
                let m = metrics.render();
                if ok(&m) {
                    return (t0.elapsed(), m);
                }
                assert!(t0.elapsed() < within, "{what} not within {within:?}:\n{m}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    // The kernel's buffers absorb a few seconds of states first (see slow_reader.rs).
    let (detected, _) = wait_for("slow client detected", STALL + Duration::from_secs(8), |m| {
        metric(m, "playhouse_slow_clients_total") >= 1.0
    })
    .await;
    // The stalled client still reads nothing: only the kill switch (a
    // shutdown of the TCP socket under the TLS stream) can end it now.
    let (cut_off, m) = wait_for("stalled connection dropped", Duration::from_secs(3), |m| {
        metric(m, "playhouse_connections_open") == 1.0
    })
    .await;
    assert_eq!(metric_labeled(&m, "playhouse_closes_total", "code=\"4008\""), 1.0, "{m}");
    eprintln!("stalled TLS reader: detected after {detected:?}, dropped {cut_off:?} later");

    // What is left in its socket ends (EOF, reset or a TLS error), promptly.
    let drained =
        tokio::time::timeout(Duration::from_secs(5), async { while let Some(Ok(_)) = ws.next().await {} }).await;
    assert!(drained.is_ok(), "the cut-off socket still delivers data after 5 s");
    let _ = stop_tx.send(());
    let mut good = reader.await.unwrap();
    good.ping().await.expect("the good client is still connected");
}
