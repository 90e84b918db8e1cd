//! What a person (or a script, on stdin or with `--do`) asks `playhouse
//! connect` to do: one command a line.
//!
//! ```text
//! join <room> [key=value ...]            join a room by id
//! join-or-create <type> [key=value ...]  join any open room of a type, or create one
//! create <type> [key=value ...]          create a room and join it
//! leave [<room>]                         leave a room (the last joined by default)
//! input [<room>] <json>                  send an input, given as the game's JSON
//! ping                                   measure a round trip
//! wait <seconds>                         read frames for a while before the next command
//! quit                                   close the connection and exit
//! ```
//!
//! ```
//! use playhouse_cli::command::Command;
//! let c = Command::parse(r#"input {"moveX": 1}"#).unwrap();
//! assert_eq!(c, Command::Input { room: None, json: serde_json::json!({"moveX": 1}) });
//! ```

use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// One command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Join room `room` by id.
    Join {
        /// The room id.
        room: String,
        /// Join options.
        options: HashMap<String, String>,
    },
    /// Join an open room of `room_type`, or create one.
    JoinOrCreate {
        /// The room type.
        room_type: String,
        /// Join options.
        options: HashMap<String, String>,
    },
    /// Create a room of `room_type` and join it.
    Create {
        /// The room type.
        room_type: String,
        /// Create options.
        options: HashMap<String, String>,
    },
    /// Leave `room` (`None`: the room joined last).
    Leave {
        /// The room id.
        room: Option<String>,
    },
    /// Send `json` as an input to `room` (`None`: the room joined last).
    Input {
        /// The room id.
        room: Option<String>,
        /// The input, as the game's JSON.
        json: Value,
    },
    /// Ping the server.
    Ping,
    /// Read frames for a while.
    Wait(Duration),
    /// Close and exit.
    Quit,
}

/// Why a line is not a command; the text says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CommandError(pub String);

/// The longest `wait` (and `--for`): 30 days, far from what an `Instant`
/// can hold, so adding it to now cannot overflow.
pub const MAX_SECONDS: u64 = 30 * 86_400;

/// `text` as a duration of 0 to [`MAX_SECONDS`] seconds (fractions allowed).
pub fn seconds(text: &str) -> Option<Duration> {
    let secs: f64 = text.parse().ok()?;
    Duration::try_from_secs_f64(secs).ok().filter(|d| *d <= Duration::from_secs(MAX_SECONDS))
}

fn err<T>(msg: impl Into<String>) -> Result<T, CommandError> {
    Err(CommandError(msg.into()))
}

fn options(words: &[&str]) -> Result<HashMap<String, String>, CommandError> {
    words
        .iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => err(format!("option {w:?} is not key=value")),
        })
        .collect()
}

impl Command {
    /// Parses one line. Blank lines and lines starting with `#` are
    /// `Ok(None)`-like: they are refused here, and skipped by the caller
    /// with [`Command::is_blank`].
    pub fn parse(line: &str) -> Result<Command, CommandError> {
        let line = line.trim();
        let (verb, rest) = line.split_once(char::is_whitespace).map(|(v, r)| (v, r.trim())).unwrap_or((line, ""));
        let words: Vec<&str> = rest.split_whitespace().collect();
        match verb {
            "join" | "join-or-create" | "create" => {
                let Some((&target, opts)) = words.split_first() else {
                    return err(format!("{verb} needs a {}", if verb == "join" { "room id" } else { "room type" }));
                };
                let options = options(opts)?;
                Ok(match verb {
                    "join" => Command::Join { room: target.into(), options },
                    "create" => Command::Create { room_type: target.into(), options },
                    _ => Command::JoinOrCreate { room_type: target.into(), options },
                })
            }
            "leave" => match words.as_slice() {
                [] => Ok(Command::Leave { room: None }),
                [room] => Ok(Command::Leave { room: Some(room.to_string()) }),
                _ => err("leave takes at most a room id"),
            },
            "input" => {
                // `input <json>` or `input <room> <json>`: a room id never
                // starts a JSON value.
                let (room, json) = match rest.chars().next() {
                    None => return err("input needs the input as JSON, e.g. input {\"moveX\": 1}"),
                    Some('{' | '[' | '"') => (None, rest),
                    Some(_) => match rest.split_once(char::is_whitespace) {
                        Some((room, json)) => (Some(room.to_string()), json.trim()),
                        None => return err("input needs the input as JSON after the room id"),
                    },
                };
                let json =
                    serde_json::from_str(json).map_err(|e| CommandError(format!("the input is not JSON: {e}")))?;
                Ok(Command::Input { room, json })
            }
            "ping" if words.is_empty() => Ok(Command::Ping),
            "wait" => match words.as_slice() {
                [s] => match seconds(s) {
                    Some(d) => Ok(Command::Wait(d)),
                    None => err(format!("wait takes seconds (0 to {MAX_SECONDS}), not {s:?}")),
                },
                _ => err("wait takes seconds"),
            },
            "quit" | "exit" if words.is_empty() => Ok(Command::Quit),
            "" => err("empty command"),
            other => err(format!(
                "unknown command {other:?}: join, join-or-create, create, leave, input, ping, wait or quit"
            )),
        }
    }

    /// Whether `line` holds no command (blank, or a `#` comment).
    pub fn is_blank(line: &str) -> bool {
        let t = line.trim();
        t.is_empty() || t.starts_with('#')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(kv: &[(&str, &str)]) -> HashMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_command_parses() {
        assert_eq!(Command::parse("join abc").unwrap(), Command::Join { room: "abc".into(), options: opts(&[]) });
        assert_eq!(
            Command::parse("join-or-create arena name=ann view=300").unwrap(),
            Command::JoinOrCreate { room_type: "arena".into(), options: opts(&[("name", "ann"), ("view", "300")]) }
        );
        assert_eq!(
            Command::parse("  create arena name=a=b ").unwrap(),
            Command::Create { room_type: "arena".into(), options: opts(&[("name", "a=b")]) }
        );
        assert_eq!(Command::parse("leave").unwrap(), Command::Leave { room: None });
        assert_eq!(Command::parse("leave r1").unwrap(), Command::Leave { room: Some("r1".into()) });
        assert_eq!(
            Command::parse(r#"input r1 {"moveX": -1, "fire": true}"#).unwrap(),
            Command::Input { room: Some("r1".into()), json: json!({"moveX": -1, "fire": true}) }
        );
        assert_eq!(Command::parse("input {}").unwrap(), Command::Input { room: None, json: json!({}) });
        assert_eq!(Command::parse("ping").unwrap(), Command::Ping);
        assert_eq!(Command::parse("wait 0.5").unwrap(), Command::Wait(Duration::from_millis(500)));
        assert_eq!(Command::parse("quit").unwrap(), Command::Quit);
    }

    #[test]
    fn bad_lines_say_what_was_expected() {
        for (line, says) in [
            ("join", "needs a room id"),
            ("create", "needs a room type"),
            ("join-or-create arena name", "not key=value"),
            ("join-or-create arena =x", "not key=value"),
            ("leave a b", "at most a room id"),
            ("input", "needs the input as JSON"),
            ("input r1", "JSON after the room id"),
            ("input {moveX: 1}", "not JSON"),
            ("wait soon", "takes seconds"),
            ("wait -1", "takes seconds"),
            ("wait NaN", "takes seconds"),
            ("wait 1e20", "takes seconds"),
            ("wait 1e15", "takes seconds"),
            ("dance", "unknown command \"dance\""),
            ("", "empty"),
        ] {
            let e = Command::parse(line).expect_err(line);
            assert!(e.0.contains(says), "{line:?}: {e}");
        }
    }

    #[test]
    fn blank_and_comment_lines_hold_nothing() {
        assert!(Command::is_blank("   "));
        assert!(Command::is_blank("# join a"));
        assert!(!Command::is_blank("ping"));
    }
}
