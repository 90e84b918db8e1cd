//! The `playhouse` command-line client (framework/cli) against a real
//! arena process: `info`, `rooms`, `connect` in both codecs (commands from
//! `--do` and from stdin), and `decode` of a frame a real server sent.

use futures_util::StreamExt;
use playhouse_client::Client;
use playhouse_tests::process::ArenaProcess;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// `target/<profile>/playhouse`, next to this test's binary.
fn cli() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps/<test>");
    let bin = dir.join(format!("playhouse{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "{} not found: `cargo build -p playhouse-cli` (scripts/test.sh does)", bin.display());
    bin
}

fn schema() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../game-example/schemas/arena/v2.proto").to_string()
}

/// arena wraps its states and events in `Output` on the wire.
const ARENA_TYPES: [&str; 4] = ["--state-type", "arena.v2.Output", "--message-type", "arena.v2.Output"];

/// Runs the CLI to its end (20 s at most) off the test's runtime.
async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let child = Command::new(cli())
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run playhouse");
        let pid = child.id();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(child.wait_with_output()));
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(out) => out.expect("playhouse output"),
            Err(_) => {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                panic!("playhouse {args:?} did not end within 20 s");
            }
        }
    })
    .await
    .expect("join")
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// Every stdout line, each a JSON object (`--json`).
fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

fn kinds(lines: &[Value]) -> Vec<&str> {
    lines.iter().map(|l| l["kind"].as_str().unwrap_or("?")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_and_rooms_print_the_servers_documents_and_a_dead_server_is_an_error() {
    let arena = ArenaProcess::spawn(&[]);
    let url = format!("ws://{}/ws", arena.addr());
    let mut player = Client::connect(&url, &["arena.v2.msgpack"]).await.expect("connect");
    let room = player.join_or_create("arena", HashMap::new()).await.expect("join").room;

    let out = run(strings(&["--json", "info", &url])).await;
    assert!(out.status.success(), "{out:?}");
    let info = &lines(&out)[0];
    assert_eq!(info["app"], "arena", "{info}");
    assert!(info["protocols"].as_array().unwrap().iter().any(|p| p == "arena.v2.proto"), "{info}");

    let out = run(strings(&["--json", "rooms", &url, "--type", "arena"])).await;
    assert!(out.status.success(), "{out:?}");
    let rooms = &lines(&out)[0];
    assert!(rooms.as_array().unwrap().iter().any(|r| r["id"] == room.as_str()), "room {room} in {rooms}");
    // Without --json: pretty, for people.
    let out = run(strings(&["info", &format!("http://{}", arena.addr())])).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("\n  \"app\": \"arena\""), "{out:?}");

    drop(arena);
    let out = run(strings(&["info", &url])).await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("GET http://"), "{out:?}");
    let out = run(strings(&["info", "ftp://nowhere"])).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a ws://"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_plays_in_both_codecs_and_prints_every_frame_decoded_through_the_schema() {
    let arena = ArenaProcess::spawn(&[]);
    let url = format!("ws://{}/ws", arena.addr());
    for token in ["arena.v2.proto", "arena.v2.msgpack"] {
        let mut args = strings(&["--json", "connect", &url, "--token", token, "--proto", &schema(), "--no-stdin"]);
        args.extend(strings(&ARENA_TYPES));
        for cmd in [
            "join-or-create arena name=cli",
            r#"input {"moveX": 1}"#,
            "wait 1",
            "input {\"moveZ\": 1}",
            "ping",
            "leave",
        ] {
            args.extend(strings(&["--do", cmd]));
        }
        let out = run(args).await;
        assert!(out.status.success(), "{token}: {out:?}");
        let l = lines(&out);
        let k = kinds(&l);
        assert_eq!(k[0], "welcome", "{token}: {k:?}");
        assert_eq!(l[0]["protocol"], token);
        let joined = l.iter().find(|v| v["kind"] == "joined").unwrap_or_else(|| panic!("{token}: {k:?}"));
        let me = joined["client"].as_u64().unwrap();
        // Every state decoded: the game's JSON, where the proto form has the
        // oneof inline and the msgpack form (the game's serde) under `kind`.
        let states: Vec<&Value> = l.iter().filter(|v| v["kind"] == "state").collect();
        // At 30 Hz a second holds ~30; a loaded machine coalesces some.
        assert!(states.len() >= 2, "{token}: {} states in a second", states.len());
        let moving = states.iter().any(|s| {
            let game = if token.ends_with("proto") { &s["payload"] } else { &s["payload"]["kind"] };
            let players = game["state"]["players"].as_array().unwrap_or_else(|| panic!("{token}: {s}"));
            players.iter().any(|p| p["id"].as_u64() == Some(me) && p["name"] == "cli" && p["vx"].as_f64() > Some(0.0))
        });
        assert!(moving, "{token}: the input moved the player right in some state");
        // The bad input is refused by the tool, named, and the session goes on.
        let refused = l.iter().find(|v| v["kind"] == "cli.error").unwrap_or_else(|| panic!("{token}: {k:?}"));
        assert!(refused["error"].as_str().unwrap().contains("moveZ"), "{refused}");
        let ping = l.iter().find(|v| v["kind"] == "cli.ping").unwrap_or_else(|| panic!("{token}: {k:?}"));
        assert!(ping["rttMicros"].as_u64().is_some(), "{ping}");
        assert!(k.contains(&"left"), "{token}: {k:?}");
        assert_eq!(*k.last().unwrap(), "cli.closed", "{token}: {k:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_takes_commands_from_stdin_and_a_refused_join_is_a_frame_not_an_exit() {
    let arena = ArenaProcess::spawn(&[]);
    let url = format!("ws://{}/ws", arena.addr());
    let mut args = strings(&["--json", "connect", &url, "--token", "arena.v2.msgpack"]);
    args.extend(strings(&["--token", "arena.v1.proto"]));
    let mut child = Command::new(cli())
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run playhouse");
    let mut stdin = child.stdin.take().expect("stdin");
    let (tx, rx) = mpsc::channel::<Value>();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(serde_json::from_str(&line).unwrap_or(Value::String(line)));
        }
    });
    let next = |kind: &str| -> Value {
        loop {
            let v = rx.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| panic!("no {kind} within 10 s"));
            if v["kind"] == kind {
                return v;
            }
        }
    };
    // msgpack without a schema: still readable.
    assert_eq!(next("welcome")["protocol"], "arena.v2.msgpack");
    writeln!(stdin, "# a comment, then a room that does not exist").unwrap();
    writeln!(stdin, "join nosuchroom").unwrap();
    let refused = next("joinError");
    let not_found = playhouse_protocol::envelope::JoinErrorCode::RoomNotFound as i32;
    assert_eq!(refused["code"].as_i64(), Some(not_found.into()), "{refused}");
    assert!(!refused["reason"].as_str().unwrap_or_default().is_empty(), "{refused}");
    writeln!(stdin, "dance").unwrap();
    assert!(next("cli.error")["error"].as_str().unwrap().contains("unknown command"));
    writeln!(stdin, "create arena name=piped").unwrap();
    let room = next("joined")["room"].as_str().unwrap().to_string();
    let state = next("state");
    assert_eq!(state["room"], room.as_str());
    let players = state["payload"]["kind"]["state"]["players"].as_array().expect("decoded without a schema");
    assert_eq!(players[0]["name"], "piped", "{state}");
    writeln!(stdin, "leave").unwrap();
    assert_eq!(next("left")["room"], room.as_str());
    writeln!(stdin, "quit").unwrap();
    assert_eq!(next("cli.closed")["code"], 1000);
    let status = child.wait().expect("exit");
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decode_reads_a_frame_a_real_server_sent_in_hex_and_base64() {
    let arena = ArenaProcess::spawn(&[]);
    // The first frame of a real connection, as a browser's devtools show it.
    let mut req = format!("ws://{}/ws", arena.addr()).into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static("arena.v2.proto"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("connect");
    let welcome = match ws.next().await {
        Some(Ok(Message::Binary(b))) => b.to_vec(),
        other => panic!("expected a binary Welcome, got {other:?}"),
    };
    let hex: String = welcome.iter().map(|b| format!("{b:02x} ")).collect();
    let out = run(strings(&["--json", "decode", "--token", "arena.v2.proto", &hex])).await;
    assert!(out.status.success(), "{out:?}");
    let v = &lines(&out)[0];
    assert_eq!((v["kind"].as_str(), v["protocol"].as_str()), (Some("welcome"), Some("arena.v2.proto")), "{v}");

    // A client's input in base64 (what the browser sent), through the schema.
    use base64::Engine as _;
    let input = playhouse_protocol::Codec::Proto
        .encode_to_vec(&arena::proto::v2::Input { move_x: -1, fire: true, ..Default::default() })
        .unwrap();
    let frame = playhouse_protocol::envelope::ClientMsg {
        kind: Some(playhouse_protocol::envelope::client_msg::Kind::Input(playhouse_protocol::envelope::Input {
            room: "r".into(),
            seq: 3,
            payload: input.into(),
        })),
    };
    let b64 = base64::engine::general_purpose::STANDARD
        .encode(playhouse_protocol::Codec::Proto.encode_to_vec(&frame).unwrap());
    let out = run(strings(&[
        "--json",
        "decode",
        "--token",
        "arena.v2.proto",
        "--proto",
        &schema(),
        "--from",
        "client",
        "--encoding",
        "base64",
        &b64,
    ]))
    .await;
    assert!(out.status.success(), "{out:?}");
    let v = &lines(&out)[0];
    assert_eq!((v["kind"].as_str(), v["payload"]["moveX"].as_i64()), (Some("input"), Some(-1)), "{v}");

    // Bad input: a clear answer and an exit code a script can test.
    let out = run(strings(&["decode", "--token", "arena.v2.proto", "zz"])).await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not"), "{out:?}");
    let out = run(strings(&["decode", "--token", "arena", "00"])).await;
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = run(strings(&[
        "decode",
        "--token",
        "arena.v2.proto",
        "--proto",
        &schema(),
        "--state-type",
        "arena.v2.Nope",
        "00",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--state-type"), "{out:?}");
}
