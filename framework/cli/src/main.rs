//! `playhouse`: a command-line client for Playhouse servers. See the
//! crate docs (`playhouse_cli`) and `docs/operating.md`.
//!
//! Exit codes: 0 done; 1 the server or the connection failed (a refused
//! upgrade, a close, an unreachable endpoint, a frame that does not
//! decode); 2 bad arguments or a schema that does not load.

use clap::{Parser, Subcommand, ValueEnum};
use playhouse_cli::bytes_arg::{self, Encoding};
use playhouse_cli::command::{seconds, MAX_SECONDS};
use playhouse_cli::connect::{self, ConnectArgs};
use playhouse_cli::frame::{self, Direction};
use playhouse_cli::http;
use playhouse_cli::output::Output;
use playhouse_cli::payload::Payloads;
use playhouse_cli::schema::{GameSchema, TypeNames};
use playhouse_client::{AuthVia, Credential};
use playhouse_protocol::compress::Compression;
use playhouse_protocol::Token;
use serde_json::json;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "playhouse", version, about = "Talks the Playhouse protocol and prints every frame as JSON")]
struct Cli {
    /// One JSON object a line, for scripts.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Cmd,
}

/// The game's schema: where its types come from.
#[derive(clap::Args, Default)]
struct SchemaArgs {
    /// A `.proto` file of the game's schema (repeat for several); needed to
    /// show `proto` payloads, and checks `msgpack` inputs.
    #[arg(long = "proto", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// A directory imports are resolved in (each file's own is searched).
    #[arg(short = 'I', long = "include", value_name = "DIR")]
    includes: Vec<PathBuf>,
    /// The input type (default `<app>.v<N>.Input` for token `app.vN.codec`).
    #[arg(long, value_name = "PKG.TYPE")]
    input_type: Option<String>,
    /// The state type (default `<app>.v<N>.State`).
    #[arg(long, value_name = "PKG.TYPE")]
    state_type: Option<String>,
    /// The reliable message type (default `<app>.v<N>.Message`, or `Event`).
    #[arg(long, value_name = "PKG.TYPE")]
    message_type: Option<String>,
}

impl SchemaArgs {
    fn load(&self) -> Result<Option<GameSchema>, String> {
        if self.files.is_empty() {
            return Ok(None);
        }
        GameSchema::load(&self.files, &self.includes).map(Some).map_err(|e| e.to_string())
    }

    fn names(&self) -> TypeNames {
        TypeNames { input: self.input_type.clone(), state: self.state_type.clone(), message: self.message_type.clone() }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Via {
    /// An `Auth` message after `Welcome`.
    Message,
    /// `?token=` on the URL.
    Query,
    /// An `Authorization: Bearer` header.
    Header,
}

#[derive(Clone, Copy, ValueEnum)]
enum From {
    /// A `ServerMsg`, or a `ClientMsg` when that does not fit.
    Any,
    /// A `ServerMsg`.
    Server,
    /// A `ClientMsg`.
    Client,
}

#[derive(Subcommand)]
enum Cmd {
    /// The server's /info: protocol tokens, room types, limits.
    Info {
        /// The server's URL (ws://host:port/ws, or http://host:port).
        url: String,
    },
    /// The server's rooms (/rooms; on a cluster, every node's).
    Rooms {
        /// The server's URL.
        url: String,
        /// Only rooms of this type.
        #[arg(long = "type", value_name = "ROOM_TYPE")]
        room_type: Option<String>,
    },
    /// Connects, runs commands (from --do, then stdin) and prints every frame.
    ///
    /// Commands, one a line: join <room> [k=v…]; join-or-create <type>
    /// [k=v…]; create <type> [k=v…]; leave [<room>]; input [<room>] <json>;
    /// ping; wait <seconds>; quit.
    Connect {
        /// The server's WebSocket URL.
        url: String,
        /// A protocol token to offer (repeat, best first), e.g. arena.v2.proto.
        #[arg(long = "token", required = true, value_name = "TOKEN")]
        tokens: Vec<String>,
        #[command(flatten)]
        schema: SchemaArgs,
        /// A credential (a JWT) for servers that ask for one.
        #[arg(long, value_name = "JWT", env = "PLAYHOUSE_TOKEN")]
        auth: Option<String>,
        /// How the credential goes.
        #[arg(long, value_enum, default_value = "message")]
        auth_via: Via,
        /// Ask for compressed states (they are printed inflated).
        #[arg(long)]
        compress: bool,
        /// A command to run first (repeat; run in order, before stdin).
        #[arg(long = "do", value_name = "COMMAND")]
        commands: Vec<String>,
        /// Do not read commands from stdin.
        #[arg(long)]
        no_stdin: bool,
        /// Exit after this many seconds (else at quit or the end of stdin).
        #[arg(long = "for", value_name = "SECONDS")]
        duration: Option<String>,
    },
    /// Decodes frames given in hex or base64 (as an argument, or one a line
    /// on stdin).
    Decode {
        /// The protocol token the frame was sent in, e.g. arena.v2.msgpack.
        #[arg(long)]
        token: String,
        #[command(flatten)]
        schema: SchemaArgs,
        /// Which way the frame went.
        #[arg(long, value_enum, default_value = "any")]
        from: From,
        /// How the frame is written.
        #[arg(long, value_enum, default_value = "auto")]
        encoding: Encoding,
        /// The frame; none: read frames from stdin, one a line.
        frame: Option<String>,
    },
}

/// A failure's exit code and words.
struct Failure(u8, String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output::new(cli.json);
    match run(cli.command, out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(code, why)) => {
            if cli.json {
                out.says("error", json!({"error": why}));
            } else {
                eprintln!("playhouse: {why}");
            }
            ExitCode::from(code)
        }
    }
}

fn token(s: &str) -> Result<Token, Failure> {
    s.parse().map_err(|e| Failure(2, format!("{s:?} is not a protocol token (app.vN.codec): {e}")))
}

fn run(cmd: Cmd, out: Output) -> Result<(), Failure> {
    match cmd {
        Cmd::Info { url } => {
            out.document(&http::get_json(&url, "/info", &[]).map_err(|e| Failure(1, e.to_string()))?);
            Ok(())
        }
        Cmd::Rooms { url, room_type } => {
            let query: Vec<(&str, &str)> = room_type.as_deref().map(|t| ("type", t)).into_iter().collect();
            out.document(&http::get_json(&url, "/rooms", &query).map_err(|e| Failure(1, e.to_string()))?);
            Ok(())
        }
        Cmd::Connect { url, tokens, schema, auth, auth_via, compress, commands, no_stdin, duration } => {
            for t in &tokens {
                token(t)?;
            }
            let duration = match duration {
                Some(s) => Some(
                    seconds(&s)
                        .ok_or_else(|| Failure(2, format!("--for takes seconds (0 to {MAX_SECONDS}), not {s:?}")))?,
                ),
                None => None,
            };
            let url = if compress { Compression::Deflate.ask(&url) } else { url };
            let via = match auth_via {
                Via::Message => AuthVia::Message,
                Via::Query => AuthVia::Query,
                Via::Header => AuthVia::Header,
            };
            let args = ConnectArgs {
                url,
                tokens,
                names: schema.names(),
                schema: schema.load().map_err(|e| Failure(2, e))?,
                credential: auth.as_deref().map(|token| Credential { token, via }),
                commands,
                stdin: !no_stdin,
                duration,
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Failure(1, format!("cannot start the runtime: {e}")))?;
            rt.block_on(connect::run(args, out)).map_err(|e| match e {
                // The schema lacks the negotiated token's types: arguments.
                connect::ConnectError::Schema(e) => Failure(2, e.to_string()),
                e => Failure(1, e.to_string()),
            })
        }
        Cmd::Decode { token: t, schema, from, encoding, frame } => {
            let token = token(&t)?;
            let types = match schema.load().map_err(|e| Failure(2, e))? {
                Some(s) => Some(s.types(&token, &schema.names()).map_err(|e| Failure(2, e.to_string()))?),
                None => None,
            };
            let payloads = Payloads::new(token.codec, types);
            let dir = match from {
                From::Any => None,
                From::Server => Some(Direction::FromServer),
                From::Client => Some(Direction::FromClient),
            };
            let decode_one = |text: &str| -> Result<(), Failure> {
                let bytes = bytes_arg::parse(text, encoding).map_err(|e| Failure(1, e.to_string()))?;
                let v = frame::decode(&bytes, dir, &payloads).map_err(|e| Failure(1, e.to_string()))?;
                out.document(&v);
                Ok(())
            };
            match frame {
                Some(f) => decode_one(&f),
                None => {
                    // Every line decoded; a bad one is said and the rest go on.
                    let mut failed = None;
                    for line in std::io::stdin().lock().lines() {
                        let line = line.map_err(|e| Failure(1, format!("reading stdin: {e}")))?;
                        if line.trim().is_empty() {
                            continue;
                        }
                        if let Err(Failure(code, why)) = decode_one(&line) {
                            out.says("error", json!({"error": why}));
                            failed = Some(Failure(code, "some frames did not decode".into()));
                        }
                    }
                    failed.map_or(Ok(()), Err)
                }
            }
        }
    }
}
