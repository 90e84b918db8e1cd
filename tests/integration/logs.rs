//! A log a person can follow (issue 16, item 5): `arena --log-format json`
//! writes one JSON object a line, and the spans of each line carry the ids
//! of its connection (`conn`, `session`) and room (`room`, `room_type`), so
//! one player's story can be picked out of a busy server's log by its
//! session id — and holds nothing of another player's.

use arena::proto::v2;
use playhouse_client::{Client, Event};
use playhouse_tests::process::ArenaProcess;
use playhouse_tests::{expect_close, options, ws_url};
use serde_json::Value;
use std::time::{Duration, Instant};

const TOKENS: [&str; 1] = ["arena.v2.proto"];

/// Whether one of the line's spans has `field` = `value`.
fn in_span(line: &Value, field: &str, value: &str) -> bool {
    line["spans"].as_array().is_some_and(|spans| spans.iter().any(|s| s[field] == value))
}

/// The line's message.
fn message(line: &Value) -> &str {
    line["fields"]["message"].as_str().unwrap_or("")
}

/// The log so far, each line parsed (panics on a line that is not JSON).
fn parsed(server: &ArenaProcess) -> Vec<Value> {
    let lines = server.log_lines();
    lines.iter().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"))).collect()
}

/// The log once `done` holds for it (3 s at most: then as it is).
async fn log_when(server: &ArenaProcess, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let lines = parsed(server);
        if done(&lines) || Instant::now() > deadline {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether a line under a span of session `s` says `what`.
fn said(lines: &[Value], s: &str, what: &str) -> bool {
    lines.iter().any(|l| in_span(l, "session", s) && message(l) == what)
}

/// Where in `story` the first line saying `what` is (panics with the story if none).
fn position(story: &[&Value], what: &str) -> usize {
    story.iter().position(|l| message(l) == what).unwrap_or_else(|| {
        let told: Vec<&str> = story.iter().map(|l| message(l)).collect();
        panic!("no {what:?} in the story: {told:?}")
    })
}

#[tokio::test]
async fn one_sessions_json_log_lines_tell_its_story_and_nothing_of_anothers() {
    let server = ArenaProcess::spawn_logging("warn,playhouse=debug", &["--log-format", "json"]);
    let url = ws_url(server.addr());
    let mut a = Client::connect(&url, &TOKENS).await.expect("A connects");
    let mut b = Client::connect(&url, &TOKENS).await.expect("B connects");
    let (sa, sb) = (a.welcome().session.clone(), b.welcome().session.clone());
    assert_ne!(sa, sb);

    // Both in one room, so the room logs about both.
    let room = a.join_or_create("arena", options(&[])).await.expect("A joins").room;
    b.join(&room, options(&[])).await.expect("B joins A's room");
    let input = v2::Input { move_x: 1, ..Default::default() };
    a.send_input(&room, 1, &input).await.unwrap();
    b.send_input(&room, 1, &input).await.unwrap();
    // An input to a room A is not in: refused, and A is told.
    a.send_input("no-such-room", 2, &input).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match a.next_event_timeout(left).await.expect("A's input refusal") {
            Event::Error(e) if e.room == "no-such-room" => break,
            _ => {}
        }
    }
    a.leave(&room).await.expect("A leaves");
    a.close().await.unwrap();
    b.close().await.unwrap();

    // Both connections are closed once both say so in the log, and both
    // have left the room once the room says so (on its own thread, after
    // the connection's line: the room hears of the close from it).
    let room_said =
        |lines: &[Value], s: &str| lines.iter().any(|l| l["fields"]["session"] == s && message(l) == "client left");
    let closed = |lines: &[Value]| {
        said(lines, &sa, "connection closed")
            && said(lines, &sb, "connection closed")
            && room_said(lines, &sa)
            && room_said(lines, &sb)
    };
    let lines = log_when(&server, closed).await;

    // A's connection: every line under a span that names A's session.
    let story: Vec<&Value> = lines.iter().filter(|l| in_span(l, "session", &sa)).collect();
    let (open, joined, refused, left, closed) = (
        position(&story, "connection open"),
        position(&story, "joined room"),
        position(&story, "input refused"),
        position(&story, "left room"),
        position(&story, "connection closed"),
    );
    assert!(open < joined && joined < refused && refused < left && left < closed, "A's story in order");
    for l in &story {
        let conn = &l["spans"][0];
        assert_eq!(conn["name"], "connection", "the connection span is the outermost: {l}");
        assert!(conn["conn"].as_str().is_some_and(|c| c.starts_with('c')), "the connection id: {l}");
        assert_eq!(conn["protocol"], TOKENS[0], "{l}");
        assert_eq!(l["span"]["session"], sa.as_str(), "the current span names it too: {l}");
    }
    assert_eq!(story[joined]["fields"]["room"], room.as_str());
    assert_eq!(story[refused]["fields"]["room"], "no-such-room");

    // A in the room: the room's lines that name A's session, under the
    // room's span (which names no session: a room is not one player's).
    let in_room: Vec<&Value> = lines.iter().filter(|l| l["fields"]["session"] == sa.as_str()).collect();
    let (joined, left) = (position(&in_room, "client joined"), position(&in_room, "client left"));
    assert!(joined < left, "joined before left");
    for l in &in_room {
        assert!(in_span(l, "room", &room), "under the room's span: {l}");
        assert_eq!(l["span"]["room_type"], "arena", "{l}");
        assert!(!in_span(l, "session", &sa) && !in_span(l, "session", &sb), "no connection span in a room: {l}");
    }

    // Nothing of B in A's lines, nor of A in B's: the spans keep the
    // players apart.
    let raw_lines = server.log_lines();
    let of = |s: &str| {
        raw_lines
            .iter()
            .zip(&lines)
            .filter(|(_, l)| in_span(l, "session", s) || l["fields"]["session"] == s)
            .map(|(raw, _)| raw.clone())
            .collect::<Vec<_>>()
    };
    for (mine, other) in [(&sa, &sb), (&sb, &sa)] {
        let my_lines = of(mine);
        // At least: opened, joined (the connection's line and the room's),
        // left the room, closed.
        assert!(my_lines.len() >= 5, "{mine}: {my_lines:#?}");
        let leaks: Vec<_> = my_lines.iter().filter(|l| l.contains(other.as_str())).collect();
        assert!(leaks.is_empty(), "{mine}'s lines mention {other}: {leaks:#?}");
    }
    assert!(server.panics().is_empty(), "{:?}", server.panics());
}

#[tokio::test]
async fn a_connection_that_resumes_a_session_logs_under_that_session_from_then_on() {
    let server = ArenaProcess::spawn_logging("warn,playhouse=debug", &["--log-format", "json"]);
    let url = ws_url(server.addr());
    let mut a = Client::connect(&url, &TOKENS).await.expect("A connects");
    let sa = a.welcome().session.clone();
    let room = a.join_or_create("arena", options(&[])).await.expect("A joins").room;
    // A second connection takes A's session over (the first is closed 4009).
    let mut again = Client::resume(&url, &TOKENS, a.resume_token(), a.last_seq()).await.expect("resumes");
    assert_eq!(expect_close(&mut a, Duration::from_secs(2)).await.0, 4009, "the first connection is replaced");
    again.leave(&room).await.expect("leaves on the new connection");
    again.close().await.unwrap();

    let both_closed =
        |l: &[Value]| l.iter().filter(|l| in_span(l, "session", &sa) && message(l) == "connection closed").count() == 2;
    let lines = log_when(&server, both_closed).await;
    let story: Vec<&Value> = lines.iter().filter(|l| in_span(l, "session", &sa)).collect();
    let resumed = position(&story, "session resumed");
    // It names the fresh session the connection opened with (and dropped).
    let fresh = story[resumed]["fields"]["fresh"].as_str().expect("the fresh session").to_string();
    assert_ne!(fresh, sa);
    let conn_of = |l: &Value| l["spans"][0]["conn"].as_str().unwrap_or("").to_string();
    let (first, second) = (conn_of(story[0]), conn_of(story[resumed]));
    assert_ne!(first, second, "two connections in one session's story");
    // The first connection: opened, joined, closed for the takeover.
    let of_first: Vec<&Value> = story.iter().copied().filter(|l| conn_of(l) == first).collect();
    assert!(position(&of_first, "connection open") < position(&of_first, "joined room"));
    let closed = position(&of_first, "connection closed");
    assert_eq!(of_first[closed]["fields"]["how"], "ServerClosed(4009)", "closed as replaced");
    let took_over = position(&story, "session taken over from another connection: closing that one with 4009");
    assert_eq!(story[took_over]["fields"]["old"], first.as_str(), "the new connection names the old one");
    // The second, after the resume: the room left under A's session.
    let of_second: Vec<&Value> = story.iter().copied().filter(|l| conn_of(l) == second).collect();
    assert!(position(&of_second, "session resumed") < position(&of_second, "left room"));
    // Its first line (before the resume) is the fresh session's, not A's.
    let opened = lines.iter().find(|l| in_span(l, "session", &fresh) && message(l) == "connection open");
    assert_eq!(opened.map(conn_of), Some(second), "opened under the fresh session");
    assert!(!of_second.iter().any(|l| message(l) == "connection open"), "not under A's");
}
