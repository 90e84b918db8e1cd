//! The comparison peer against the load generator's own client code:
//! negotiation, Welcome, room assignment in arrival order, states with a
//! decodable `bench.v1.Tick`, Ping/Pong. Bounded to a few seconds.

use futures_util::{SinkExt, StreamExt};
use playhouse_benches::fanout::{Tick, CODEC, TOKEN};
use playhouse_benches::loadgen::client::{connect_and_join, Stats, Ws};
use playhouse_benches::loadgen::server::Server;
use playhouse_protocol::envelope::{client_msg, server_msg, ClientMsg, Ping, ServerMsg};
use std::path::Path;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue};
use tokio_tungstenite::tungstenite::Message;

const STEP: Duration = Duration::from_secs(5);

async fn peer(room_size: usize) -> Server {
    let args = ["--room-size", &room_size.to_string(), "--hz", "50", "--state-bytes", "100"].map(String::from);
    Server::spawn(Path::new(env!("CARGO_BIN_EXE_fanout_peer")), &args, STEP).await.expect("peer starts")
}

async fn next_msg(ws: &mut Ws) -> ServerMsg {
    loop {
        let msg = tokio::time::timeout(STEP, ws.next())
            .await
            .expect("a message in time")
            .expect("connection open")
            .expect("no websocket error");
        if let Message::Binary(b) = msg {
            return CODEC.decode(&b).expect("decodes");
        }
    }
}

#[tokio::test]
async fn fills_rooms_in_arrival_order_and_ticks() {
    let server = peer(2).await;
    let url = format!("ws://{}/ws", server.addr);
    let mut seats = Vec::new();
    let mut sockets = Vec::new();
    let stats = Stats::new();
    for _ in 0..3 {
        let (ws, joined) = connect_and_join(&url, 1, STEP, &stats).await.expect("joins");
        assert_eq!(joined.request, 1);
        assert_eq!(joined.tick_hz, 50);
        seats.push((joined.room, joined.client));
        sockets.push(ws);
    }
    assert_eq!(seats, [("fanout-1".into(), 1), ("fanout-1".into(), 2), ("fanout-2".into(), 1)]);
    // Each client's way in was timed, both halves.
    {
        let way_in = stats.way_in();
        assert_eq!((way_in.upgrade.len(), way_in.join.len()), (3, 3));
        assert!(way_in.upgrade.min() >= 1 && way_in.join.min() >= 1);
    }
    let ws = &mut sockets[2];
    let Some(server_msg::Kind::State(state)) = next_msg(ws).await.kind else {
        panic!("expected a state");
    };
    assert_eq!(state.room, "fanout-2");
    let tick: Tick = CODEC.decode(&state.payload).expect("tick decodes");
    assert_eq!(tick.tick, state.tick);
    assert_eq!(tick.filler.len(), 100);

    let ping = ClientMsg { kind: Some(client_msg::Kind::Ping(Ping { client_time: 77 })) };
    let bytes = CODEC.encode_to_vec(&ping).expect("encodes");
    ws.send(Message::Binary(bytes.into())).await.expect("sends");
    loop {
        match next_msg(ws).await.kind {
            Some(server_msg::Kind::Pong(p)) => {
                assert_eq!(p.client_time, 77);
                break;
            }
            Some(server_msg::Kind::State(_)) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn welcomes_with_the_token_and_refuses_other_tokens() {
    let server = peer(20).await;
    let url = format!("ws://{}/ws", server.addr);

    let mut req = url.as_str().into_client_request().expect("request");
    req.headers_mut().insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("arena.v2.proto"));
    let refused = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(req)).await.expect("answers in time");
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 400)
        }
        other => panic!("expected HTTP 400, got {other:?}"),
    }

    let mut req = url.as_str().into_client_request().expect("request");
    req.headers_mut()
        .insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("arena.v2.proto, fanout.v1.proto"));
    let (mut ws, resp) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(req))
        .await
        .expect("answers in time")
        .expect("upgrades");
    assert_eq!(resp.headers()[header::SEC_WEBSOCKET_PROTOCOL], TOKEN);
    let Some(server_msg::Kind::Welcome(w)) = next_msg(&mut ws).await.kind else {
        panic!("expected Welcome first");
    };
    assert_eq!(w.protocol, TOKEN);
    server.stop().await;
}
