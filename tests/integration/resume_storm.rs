//! A reconnect storm: 200 clients in four chattering rooms lose their
//! connections at once (the proxy resets them all) and all resume at once.
//! Every one must resume within the reconnect window, and every one's
//! reliable stream must stay exactly-once and in order across the storm.
//! (How long it takes is measured by `loadgen storm`, not asserted here.)

use arena::proto::v2;
use playhouse_client::{Client, Event};
use playhouse_tests::proxy::Proxy;
use playhouse_tests::{metric_labeled, metrics_text, options, start};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

const CLIENTS: usize = 200;
const ROOMS: usize = 4;
const TOKENS: [&str; 1] = ["arena.v2.proto"];

fn chat(c: &Client, ev: &Event) -> Option<u64> {
    let Event::Message(m) = ev else { return None };
    match c.decode::<v2::Output>(&m.payload).ok()?.kind? {
        v2::output::Kind::Event(e) => e.text.strip_prefix("chat ")?.parse().ok(),
        _ => None,
    }
}

/// Reads until the connection fails; returns the chats seen.
async fn until_cut(c: &mut Client) -> Vec<u64> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match c.next_event_timeout(Duration::from_secs(10)).await {
            Ok(ev) => got.extend(chat(c, &ev)),
            Err(_) => return got,
        }
    }
    panic!("the cut never reached this client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_dropped_at_once_all_resume_without_losing_a_message() {
    let server = start(|c| {
        c.max_connections = 1_000;
        // Every client is 127.0.0.1 here; a real storm (the server's own
        // network blipping) comes from many addresses, each far below the
        // per-address parking cap.
        c.session.max_parked_per_address = CLIENTS;
    });
    let proxy = Proxy::start(server.addr()).await;
    let url = proxy.ws_url();
    let mut rooms = Vec::new();
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let mut c = Client::connect(&url, &TOKENS).await.unwrap();
        if i < ROOMS {
            rooms.push(c.create("probe30", options(&[("chatter", "1")])).await.unwrap().room);
        } else {
            c.join(&rooms[i % ROOMS], HashMap::new()).await.unwrap();
        }
        clients.push(c);
    }
    let mut tasks = JoinSet::new();
    for mut c in clients {
        let url = url.clone();
        tasks.spawn(async move {
            let mut got = until_cut(&mut c).await;
            let (token, last) = (c.resume_token().to_string(), c.last_seq());
            drop(c);
            // Every client retries at once, as a real storm would.
            let window = Instant::now() + Duration::from_secs(20);
            let mut b = loop {
                assert!(Instant::now() < window, "not resumed within the reconnect window");
                match Client::resume(&url, &TOKENS, &token, last).await {
                    Ok(b) => break b,
                    Err(playhouse_client::ClientError::Resume(e)) => panic!("resume refused: {}", e.reason),
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            };
            let Ok(Event::Resumed(r)) = b.next_event().await else { panic!("Resumed first") };
            assert!(!r.resync, "a storm of 200 must fit the replay buffer: {r:?}");
            let target = got.len() + 10;
            while got.len() < target {
                let ev = b.next_event_timeout(Duration::from_secs(10)).await.expect("the stream goes on");
                got.extend(chat(&b, &ev));
            }
            got
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.cut_all();
    let mut done = 0;
    while let Some(r) = tasks.join_next().await {
        let got = r.expect("client task");
        let want: Vec<u64> = (got[0]..got[0] + got.len() as u64).collect();
        assert_eq!(got, want, "a client lost, duplicated or reordered reliable messages");
        done += 1;
    }
    assert_eq!(done, CLIENTS);
    let m = metrics_text(server.addr());
    assert_eq!(metric_labeled(&m, "playhouse_session_resumes_total", "result=\"replayed\""), CLIENTS as f64);
}
