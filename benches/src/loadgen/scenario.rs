//! The scenario file of `loadgen scenario`: what load to put on which
//! server, read from TOML into plain, checked types ([`Scenario`]).
//!
//! ```toml
//! name = "arena smoke"
//!
//! [target]
//! start_arena = true            # or: url = "ws://10.0.0.5:8080/ws"
//! tokens = ["arena.v2.msgpack"] # offered best first
//! # metrics = "http://10.0.0.5:8080/metrics"  # default: the url's host, /metrics; "off": none
//!
//! [room]
//! type = "arena"
//! rooms = 2                     # clients are dealt round-robin over them
//! options = { seed = 1 }        # create/join options (values become strings)
//! # state_every_ticks = 1       # the room sends a state every N ticks
//!
//! [load]
//! clients = 6
//! inputs_per_sec = 10           # per client; 0: none (then no latency figure)
//! duration_s = 8                # the measured window, after the ramp
//! ramp_s = 2                    # clients join evenly over this long
//!
//! [input]                       # see [`super::input`]
//! json = { move_x = 1 }         # MessagePack as is; Protobuf with proto_file and proto_message
//!
//! [link]                        # optional: every client through the link emulator
//! latency_ms = 40               # one way, each direction
//! jitter_ms = 10
//! loss_percent = 1
//! bandwidth_kbit = 512          # each direction, per client
//! ```
//!
//! Every mistake is a [`FileError`] that names the file and the line:
//! TOML syntax, an unknown key, a missing one or a wrong type through the
//! TOML parser's own message (line and column); a value out of range, or
//! two keys that exclude each other, as `path:line: key: why`.

pub use super::input::InputPayload;
use super::input::InputTable;
use super::link::LinkConditions;
pub use super::tomlfile::FileError;
use super::tomlfile::{num, parse_toml, read, Checker, Number};
use playhouse_protocol::Token;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use toml::Spanned;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct File {
    name: Option<String>,
    target: Spanned<TargetTable>,
    room: RoomTable,
    load: LoadTable,
    #[serde(default)]
    input: Option<Spanned<InputTable>>,
    link: Option<LinkTable>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct TargetTable {
    url: Option<Spanned<String>>,
    #[serde(default)]
    start_arena: bool,
    #[serde(default = "no_args")]
    arena_args: Spanned<Vec<String>>,
    tokens: Spanned<Vec<Spanned<String>>>,
    metrics: Option<Spanned<String>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RoomTable {
    #[serde(rename = "type")]
    room_type: Spanned<String>,
    #[serde(default = "one")]
    rooms: Spanned<i64>,
    #[serde(default)]
    options: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default = "one")]
    state_every_ticks: Spanned<i64>,
}

fn no_args() -> Spanned<Vec<String>> {
    Spanned::new(0..0, Vec::new())
}

fn one() -> Spanned<i64> {
    Spanned::new(0..0, 1)
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct LoadTable {
    clients: Spanned<i64>,
    inputs_per_sec: Spanned<Number>,
    duration_s: Spanned<Number>,
    ramp_s: Option<Spanned<Number>>,
    connect_timeout_s: Option<Spanned<Number>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct LinkTable {
    latency_ms: Option<Spanned<Number>>,
    jitter_ms: Option<Spanned<Number>>,
    loss_percent: Option<Spanned<Number>>,
    bandwidth_kbit: Option<Spanned<Number>>,
}

/// Where the load goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A running server (a studio's own game).
    Url {
        /// `ws://host:port/path`.
        url: String,
        /// Where `/metrics` is (`host:port` and path), unless turned off.
        metrics: Option<(String, String)>,
    },
    /// `arena --addr 127.0.0.1:0` from the release directory, stopped at the end.
    StartArena {
        /// More arguments for it.
        args: Vec<String>,
    },
}

/// A checked scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Its name (the file's stem when not given).
    pub name: String,
    /// The server.
    pub target: Target,
    /// Subprotocol tokens offered, best first.
    pub tokens: Vec<String>,
    /// The room type created and joined.
    pub room_type: String,
    /// Rooms; client `i` is in room `i % rooms` and the first client of a
    /// room creates it.
    pub rooms: usize,
    /// Create and join options.
    pub options: BTreeMap<String, String>,
    /// The room sends a state every this many ticks (for the delivery ratio).
    pub state_every_ticks: u64,
    /// Clients in all.
    pub clients: usize,
    /// Inputs per second per client (0: none).
    pub inputs_per_sec: f64,
    /// The measured window, after the ramp.
    pub duration: Duration,
    /// Clients start evenly over this long.
    pub ramp: Duration,
    /// Budget of one client's connect and join.
    pub connect_timeout: Duration,
    /// The inputs' payload.
    pub input: InputPayload,
    /// The emulated link, if any.
    pub link: Option<LinkConditions>,
}

impl Scenario {
    /// Reads and checks the scenario file at `path`.
    pub fn load(path: &Path) -> Result<Scenario, FileError> {
        Scenario::parse(path, &read(path)?)
    }

    /// Checks the scenario in `text` (read from `path`, named in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Scenario, FileError> {
        let f: File = parse_toml(path, text)?;
        let c = Checker { path, text };
        let target_span = f.target.span();
        let t = f.target.into_inner();
        let target = match (t.url, t.start_arena) {
            (Some(_), false) if !t.arena_args.get_ref().is_empty() => {
                return Err(c.invalid(t.arena_args.span(), "target.arena_args", "only with start_arena = true"))
            }
            (Some(url), false) => {
                let (host, _) = split_url(url.get_ref(), "ws://").ok_or_else(|| {
                    c.invalid(url.span(), "target.url", "expected ws://host:port/path (wss:// is not supported)")
                })?;
                let metrics = match t.metrics {
                    Some(m) if m.get_ref() == "off" => None,
                    Some(m) => Some(split_url(m.get_ref(), "http://").ok_or_else(|| {
                        c.invalid(m.span(), "target.metrics", "expected http://host:port/path or \"off\"")
                    })?),
                    None => Some((host, "/metrics".to_string())),
                };
                Target::Url { url: url.into_inner(), metrics }
            }
            (None, true) => {
                if let Some(m) = t.metrics {
                    return Err(c.invalid(m.span(), "target.metrics", "not with start_arena (its /metrics is read)"));
                }
                Target::StartArena { args: t.arena_args.into_inner() }
            }
            (Some(url), true) => {
                return Err(c.invalid(url.span(), "target.url", "give either url or start_arena = true, not both"))
            }
            (None, false) => {
                return Err(c.invalid(
                    target_span,
                    "target",
                    "give url = \"ws://host:port/path\" or start_arena = true",
                ))
            }
        };
        let tokens_span = t.tokens.span();
        let mut tokens = Vec::new();
        for tok in t.tokens.into_inner() {
            if let Err(e) = tok.get_ref().parse::<Token>() {
                return Err(c.invalid(tok.span(), "target.tokens", format!("{:?}: {e}", tok.get_ref())));
            }
            tokens.push(tok.into_inner());
        }
        if tokens.is_empty() {
            return Err(c.invalid(tokens_span, "target.tokens", "offer at least one token, e.g. \"arena.v2.proto\""));
        }

        let r = f.room;
        if r.room_type.get_ref().is_empty() {
            return Err(c.invalid(r.room_type.span(), "room.type", "must not be empty"));
        }
        let rooms = positive(&c, &r.rooms, "room.rooms", 10_000)?;
        let state_every_ticks = positive(&c, &r.state_every_ticks, "room.state_every_ticks", 1_000)? as u64;
        let mut options = BTreeMap::new();
        for (k, v) in r.options {
            let s = match v.get_ref() {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                _ => return Err(c.invalid(v.span(), &format!("room.options.{k}"), "must be a string, number or bool")),
            };
            options.insert(k, s);
        }

        let l = f.load;
        let clients = positive(&c, &l.clients, "load.clients", 100_000)?;
        if clients < rooms {
            return Err(c.invalid(
                l.clients.span(),
                "load.clients",
                format!("{clients} clients cannot fill {rooms} rooms"),
            ));
        }
        let inputs_per_sec = c.range(&num(&l.inputs_per_sec), "load.inputs_per_sec", 0.0, 1000.0)?;
        let duration = c.range(&num(&l.duration_s), "load.duration_s", 0.5, 86_400.0)?;
        let ramp = l.ramp_s.as_ref().map(|r| c.range(&num(r), "load.ramp_s", 0.0, 3_600.0)).transpose()?.unwrap_or(0.0);
        let connect_timeout =
            l.connect_timeout_s.as_ref().map(|r| c.range(&num(r), "load.connect_timeout_s", 0.1, 600.0)).transpose()?;

        let input = InputPayload::read(&c, f.input)?;

        let link = match f.link {
            None => None,
            Some(k) => {
                let ms = |v: &Option<Spanned<Number>>, key: &str, hi: f64| {
                    v.as_ref().map(|v| c.range(&num(v), key, 0.0, hi)).transpose().map(|v| v.unwrap_or(0.0))
                };
                let bandwidth = match &k.bandwidth_kbit {
                    Some(b) => Some((c.range(&num(b), "link.bandwidth_kbit", 8.0, 10_000_000.0)? * 1000.0) as u64),
                    None => None,
                };
                Some(LinkConditions {
                    latency: secs_ms(ms(&k.latency_ms, "link.latency_ms", 60_000.0)?),
                    jitter: secs_ms(ms(&k.jitter_ms, "link.jitter_ms", 60_000.0)?),
                    loss: ms(&k.loss_percent, "link.loss_percent", 100.0)? / 100.0,
                    bandwidth_bps: bandwidth,
                })
            }
        };

        let name =
            f.name.unwrap_or_else(|| path.file_stem().map_or("scenario".into(), |s| s.to_string_lossy().into_owned()));
        Ok(Scenario {
            name,
            target,
            tokens,
            room_type: r.room_type.into_inner(),
            rooms,
            options,
            state_every_ticks,
            clients,
            inputs_per_sec,
            duration: Duration::from_secs_f64(duration),
            ramp: Duration::from_secs_f64(ramp),
            connect_timeout: Duration::from_secs_f64(connect_timeout.unwrap_or(10.0)),
            input,
            link,
        })
    }
}

fn positive(c: &Checker<'_>, v: &Spanned<i64>, key: &str, max: i64) -> Result<usize, FileError> {
    match *v.get_ref() {
        n if (1..=max).contains(&n) => Ok(n as usize),
        n => Err(c.invalid(v.span(), key, format!("{n} is out of range: 1 to {max}"))),
    }
}

fn secs_ms(ms: f64) -> Duration {
    Duration::from_secs_f64(ms / 1000.0)
}

/// `scheme://host:port/path` → (`host:port`, `/path`); `None` if it is not
/// of that shape or the port is missing.
pub fn split_url(url: &str, scheme: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix(scheme)?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = authority.rsplit_once(':')?;
    if host.is_empty() || port.parse::<u16>().is_err() {
        return None;
    }
    Some((authority.to_string(), path.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "smoke"

[target]
start_arena = true
tokens = ["arena.v2.msgpack", "arena.v2.proto"]

[room]
type = "arena"
rooms = 2
options = { seed = 1, view = 40.5, name = "bot" }

[load]
clients = 6
inputs_per_sec = 10
duration_s = 8
ramp_s = 2.5

[input]
json = { move_x = 1, fire = true }

[link]
latency_ms = 40
jitter_ms = 10
loss_percent = 1
bandwidth_kbit = 512
"#;

    fn parse(text: &str) -> Result<Scenario, FileError> {
        Scenario::parse(Path::new("s.toml"), text)
    }

    /// The `path:line: key: reason` of a value error, or the syntax message.
    fn error(text: &str) -> String {
        parse(text).expect_err("the file is refused").to_string()
    }

    #[test]
    fn a_good_file_reads_into_plain_values() {
        let s = parse(GOOD).expect("good");
        assert_eq!(s.name, "smoke");
        assert_eq!(s.target, Target::StartArena { args: vec![] });
        assert_eq!(s.tokens, ["arena.v2.msgpack", "arena.v2.proto"]);
        assert_eq!((s.rooms, s.clients, s.state_every_ticks), (2, 6, 1));
        assert_eq!(s.options["seed"], "1");
        assert_eq!(s.options["view"], "40.5");
        assert_eq!(s.inputs_per_sec, 10.0);
        assert_eq!(s.duration, Duration::from_secs(8));
        assert_eq!(s.ramp, Duration::from_millis(2500));
        let msgpack = rmp_serde::to_vec_named(&serde_json::json!({"move_x": 1, "fire": true})).expect("msgpack");
        assert_eq!(s.input, InputPayload::Json { msgpack, proto: None });
        let link = s.link.expect("a link");
        assert_eq!(link.latency, Duration::from_millis(40));
        assert_eq!(link.jitter, Duration::from_millis(10));
        assert!((link.loss - 0.01).abs() < 1e-12);
        assert_eq!(link.bandwidth_bps, Some(512_000));
    }

    #[test]
    fn a_url_target_gets_its_metrics_beside_it() {
        let text = GOOD.replace("start_arena = true", "url = \"ws://10.0.0.5:8080/ws?x=1\"");
        let s = parse(&text).expect("good");
        let metrics = Some(("10.0.0.5:8080".to_string(), "/metrics".to_string()));
        assert_eq!(s.target, Target::Url { url: "ws://10.0.0.5:8080/ws?x=1".into(), metrics });
        let off = text.replace("tokens =", "metrics = \"off\"\ntokens =");
        assert!(matches!(parse(&off).expect("good").target, Target::Url { metrics: None, .. }));
    }

    #[test]
    fn each_bad_value_is_named_with_its_line() {
        let cases = [
            ("clients = 6", "clients = 0", "s.toml:14: load.clients: 0 is out of range"),
            ("clients = 6", "clients = 1", "s.toml:14: load.clients: 1 clients cannot fill 2 rooms"),
            ("rooms = 2", "rooms = -1", "s.toml:10: room.rooms: -1 is out of range"),
            ("duration_s = 8", "duration_s = 0", "s.toml:16: load.duration_s: 0 is out of range"),
            ("inputs_per_sec = 10", "inputs_per_sec = -2", "s.toml:15: load.inputs_per_sec"),
            ("ramp_s = 2.5", "ramp_s = nan", "s.toml:17: load.ramp_s: NaN is out of range"),
            ("loss_percent = 1", "loss_percent = 101", "s.toml:25: link.loss_percent: 101 is out of range"),
            ("bandwidth_kbit = 512", "bandwidth_kbit = 0", "s.toml:26: link.bandwidth_kbit"),
            ("latency_ms = 40", "latency_ms = -1", "s.toml:23: link.latency_ms"),
            ("\"arena.v2.proto\"", "\"arena.2.proto\"", "s.toml:6: target.tokens: \"arena.2.proto\""),
            ("tokens = [\"arena.v2.msgpack\", \"arena.v2.proto\"]", "tokens = []", "s.toml:6: target.tokens"),
            ("type = \"arena\"", "type = \"\"", "s.toml:9: room.type: must not be empty"),
            ("seed = 1,", "seed = [1],", "s.toml:11: room.options.seed"),
            ("json = { move_x = 1, fire = true }", "hex = \"0g\"", "s.toml:20: input.hex: expected pairs"),
            ("json = { move_x = 1, fire = true }", "", "s.toml:19: input: give input.json or input.hex"),
            (
                "json = { move_x = 1, fire = true }",
                "json = 1\nhex = \"00\"",
                "s.toml:21: input.hex: give either input.json or input.hex, not both",
            ),
            ("start_arena = true", "start_arena = false", "s.toml:4: target: give url"),
            ("start_arena = true", "start_arena = true\nurl = \"ws://h:1/ws\"", "s.toml:6: target.url: give either"),
            ("start_arena = true", "url = \"wss://h:1/ws\"", "s.toml:5: target.url: expected ws://host:port/path"),
            ("start_arena = true", "url = \"ws://h/ws\"", "s.toml:5: target.url"),
            (
                "start_arena = true",
                "url = \"ws://h:1/ws\"\narena_args = [\"--max-rooms\", \"5\"]",
                "s.toml:6: target.arena_args: only with start_arena",
            ),
        ];
        for (from, to, want) in cases {
            assert!(GOOD.contains(from), "{from}");
            let got = error(&GOOD.replacen(from, to, 1));
            assert!(got.starts_with(want), "{from} → {to}: got {got:?}, want {want:?}");
        }
    }

    #[test]
    fn syntax_unknown_keys_missing_keys_and_types_name_line_and_column() {
        let unknown = error(&GOOD.replace("ramp_s = 2.5", "ramp_secs = 2.5"));
        assert!(unknown.contains("line 17") && unknown.contains("ramp_secs"), "{unknown}");
        let missing = error(&GOOD.replace("clients = 6\n", ""));
        assert!(missing.contains("clients"), "{missing}");
        let typed = error(&GOOD.replace("clients = 6", "clients = \"six\""));
        assert!(typed.contains("line 14"), "{typed}");
        let typed = error(&GOOD.replace("duration_s = 8", "duration_s = \"8s\""));
        assert!(typed.contains("line 16") && typed.contains("expected a number"), "{typed}");
        let broken = error("[target\n");
        assert!(broken.starts_with("s.toml: TOML parse error at line 1"), "{broken}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let e = Scenario::load(Path::new("/nonexistent/x.toml")).expect_err("missing");
        assert!(e.to_string().starts_with("/nonexistent/x.toml: cannot read"), "{e}");
    }
}
