//! `playhouse connect`: one connection, commands in (from `--do` first,
//! then stdin, one a line; see [`crate::command`]), every frame out.
//!
//! The connection is [`playhouse_client::Client`]'s, so negotiation, auth,
//! redirects on a cluster, delta states and compression behave as in a
//! game client; states are printed whole (deltas applied, payloads
//! inflated). A join's answer (`joined`, `joinError`), a leave's (`left`)
//! and a ping's are printed as they come back.

use crate::command::{Command, CommandError};
use crate::frame;
use crate::output::Output;
use crate::payload::{Kind, Payloads};
use crate::schema::{GameSchema, SchemaError, TypeNames};
use playhouse_client::{Client, ClientError, Credential};
use playhouse_protocol::envelope::{client_msg, server_msg, Input, ServerMsg};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::time::Instant;

/// What `connect` was asked.
pub struct ConnectArgs<'a> {
    /// The server's WebSocket URL.
    pub url: String,
    /// The tokens offered, best first.
    pub tokens: Vec<String>,
    /// The game's schema, if given.
    pub schema: Option<GameSchema>,
    /// Message types named by hand.
    pub names: TypeNames,
    /// A credential.
    pub credential: Option<Credential<'a>>,
    /// Commands run before stdin is read.
    pub commands: Vec<String>,
    /// Read commands from stdin too.
    pub stdin: bool,
    /// Exit after this long (else at `quit`, or when stdin ends).
    pub duration: Option<Duration>,
}

/// Why `connect` stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The connection failed or broke.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The schema does not fit the token the server chose.
    #[error(transparent)]
    Schema(#[from] SchemaError),
}

/// What the session is doing between frames.
struct Session {
    client: Client,
    payloads: Payloads,
    out: Output,
    /// The room joined last (the default of `leave` and `input`).
    last_room: Option<String>,
    /// Each room's next input seq.
    seqs: HashMap<String, u32>,
}

impl Session {
    fn frame(&self, kind: server_msg::Kind) {
        self.out.frame(&frame::server_json(&ServerMsg { seq: 0, kind: Some(kind) }, &self.payloads));
    }

    fn error(&self, what: &str, e: impl std::fmt::Display) {
        self.out.says("error", json!({"command": what, "error": e.to_string()}));
    }

    fn room_or_last(&self, room: Option<String>) -> Result<String, CommandError> {
        room.or_else(|| self.last_room.clone())
            .ok_or_else(|| CommandError("in no room yet: join one, or name the room".into()))
    }

    /// Runs `cmd`; `Ok(false)` ends the session.
    async fn run(&mut self, line: &str, cmd: Command) -> Result<bool, ClientError> {
        self.out.says("sent", json!({"command": line.trim()}));
        let joined = match cmd {
            Command::Join { room, options } => Some(self.client.join(&room, options).await),
            Command::JoinOrCreate { room_type, options } => Some(self.client.join_or_create(&room_type, options).await),
            Command::Create { room_type, options } => Some(self.client.create(&room_type, options).await),
            Command::Leave { room } => {
                match self.room_or_last(room) {
                    Ok(room) => match self.client.leave(&room).await {
                        Ok(left) => {
                            if self.last_room.as_deref() == Some(room.as_str()) {
                                self.last_room = None;
                            }
                            self.frame(server_msg::Kind::Left(left));
                        }
                        Err(e) => self.fail(line, e)?,
                    },
                    Err(e) => self.error(line, e),
                }
                None
            }
            Command::Input { room, json } => {
                match self.room_or_last(room) {
                    Ok(room) => match self.payloads.from_json(Kind::Input, &json) {
                        Ok(payload) => {
                            let seq = self.seqs.entry(room.clone()).or_insert(1);
                            let input = Input { room, seq: *seq, payload: payload.into() };
                            *seq = seq.wrapping_add(1).max(1);
                            self.client.send(client_msg::Kind::Input(input)).await?;
                        }
                        Err(e) => self.error(line, e),
                    },
                    Err(e) => self.error(line, e),
                }
                None
            }
            Command::Ping => {
                match self.client.ping().await {
                    Ok(rtt) => self.out.says("ping", json!({"rttMicros": rtt.as_micros() as u64})),
                    Err(e) => self.fail(line, e)?,
                }
                None
            }
            Command::Wait(_) => None,
            Command::Quit => return Ok(false),
        };
        match joined {
            Some(Ok(j)) => {
                self.last_room = Some(j.room.clone());
                self.frame(server_msg::Kind::Joined(j));
            }
            Some(Err(ClientError::Join(e))) => self.frame(server_msg::Kind::JoinError(e)),
            Some(Err(e)) => self.fail(line, e)?,
            None => {}
        }
        Ok(true)
    }

    /// A command's error: said, and fatal when the connection is gone.
    fn fail(&self, line: &str, e: ClientError) -> Result<(), ClientError> {
        match e {
            ClientError::Closed(_) | ClientError::Ws(_) => Err(e),
            other => {
                self.error(line, other);
                Ok(())
            }
        }
    }
}

/// Says how the connection ended: the close frame's code and reason.
fn closed(out: &Output, e: &ClientError) {
    match e {
        ClientError::Closed(Some(f)) => {
            out.says("closed", json!({"code": u16::from(f.code), "reason": f.reason.to_string()}))
        }
        ClientError::Closed(None) => out.says("closed", json!({"code": Value::Null, "reason": "no close frame"})),
        other => out.says("closed", json!({"error": other.to_string()})),
    }
}

/// Connects and runs the session. `Ok(())` when it ended as asked
/// (`quit`, stdin's end, `--for`); an error when the connection failed or
/// the server closed it.
pub async fn run(args: ConnectArgs<'_>, out: Output) -> Result<(), ConnectError> {
    let tokens: Vec<&str> = args.tokens.iter().map(String::as_str).collect();
    let client = Client::connect_with(&args.url, &tokens, args.credential).await?;
    let token = client.protocol().clone();
    let types = match &args.schema {
        Some(s) => Some(s.types(&token, &args.names)?),
        None => None,
    };
    let mut session =
        Session { payloads: Payloads::new(token.codec, types), client, out, last_room: None, seqs: HashMap::new() };
    session.frame(server_msg::Kind::Welcome(session.client.welcome().clone()));

    let mut queued: VecDeque<String> = args.commands.into();
    let mut stdin = args.stdin.then(|| BufReader::new(tokio::io::stdin()).lines());
    let end = args.duration.map(|d| Instant::now() + d);
    // Commands wait while a `wait` runs.
    let mut resume_at = Instant::now();
    loop {
        let now = Instant::now();
        let ready = resume_at <= now;
        if ready && queued.is_empty() && stdin.is_none() && end.is_none() {
            break; // nothing more to do and no time to wait out
        }
        let line = tokio::select! {
            ev = session.client.next_event() => {
                match ev {
                    Ok(ev) => session.frame(server_msg::Kind::from(ev)),
                    Err(e) => {
                        closed(&out, &e);
                        return Err(e.into());
                    }
                }
                continue;
            }
            _ = tokio::time::sleep_until(end.unwrap_or(now)), if end.is_some() => break,
            _ = tokio::time::sleep_until(resume_at), if !ready => continue,
            _ = std::future::ready(()), if ready && !queued.is_empty() => queued.pop_front().unwrap_or_default(),
            line = next_line(&mut stdin), if ready && queued.is_empty() && stdin.is_some() => match line {
                Some(l) => l,
                None => {
                    // Stdin ended: go on until `--for` ends, or stop.
                    stdin = None;
                    continue;
                }
            },
        };
        if Command::is_blank(&line) {
            continue;
        }
        match Command::parse(&line) {
            Ok(Command::Wait(d)) => {
                out.says("sent", json!({"command": line.trim()}));
                resume_at = Instant::now() + d;
            }
            Ok(cmd) => match session.run(&line, cmd).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    closed(&out, &e);
                    return Err(e.into());
                }
            },
            Err(e) => session.error(&line, e),
        }
    }
    let _ = session.client.close().await;
    out.says("closed", json!({"code": 1000, "reason": "closed by the client"}));
    Ok(())
}

async fn next_line(stdin: &mut Option<tokio::io::Lines<BufReader<tokio::io::Stdin>>>) -> Option<String> {
    match stdin {
        Some(l) => l.next_line().await.ok().flatten(),
        None => None,
    }
}
