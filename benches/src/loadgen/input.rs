//! The `[input]` table of a scenario: the payload every client sends as its
//! inputs, encoded once when the file is read (so a payload that does not
//! fit the game's schema is a file error with its line, not a run of
//! failed inputs).
//!
//! ```toml
//! [input]
//! json = { move_x = 1, fire = true }     # MessagePack: as is (named fields)
//! proto_file = "../game/schemas/v2.proto" # Protobuf: the JSON mapped onto this message,
//! proto_message = "mygame.v2.Input"       # path relative to the scenario file
//! # or: hex = "0802"                      # the encoded bytes, any codec
//! ```

use super::tomlfile::{Checker, FileError};
use playhouse_protocol::Codec;
use prost::Message as _;
use prost_reflect::DynamicMessage;
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

/// The `[input]` table as written.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct InputTable {
    json: Option<Spanned<serde_json::Value>>,
    hex: Option<Spanned<String>>,
    proto_file: Option<Spanned<String>>,
    proto_message: Option<Spanned<String>>,
}

/// What each client sends as the payload of its inputs, per codec.
#[derive(Debug, Clone, PartialEq)]
pub enum InputPayload {
    /// The all-defaults input of any game: no bytes in Protobuf, an empty
    /// map in MessagePack (Playhouse's generated types fill in defaults).
    Empty,
    /// These bytes, whatever the codec.
    Raw(Vec<u8>),
    /// A JSON value: MessagePack as is, and Protobuf when the scenario
    /// named the game's `.proto` and input message.
    Json {
        /// The MessagePack encoding (named fields).
        msgpack: Vec<u8>,
        /// The Protobuf encoding, if a schema was given.
        proto: Option<Vec<u8>>,
    },
}

impl InputPayload {
    /// The payload bytes for a connection that negotiated `codec`.
    pub fn encode(&self, codec: Codec) -> Result<Vec<u8>, String> {
        match (self, codec) {
            (InputPayload::Empty, Codec::Proto) => Ok(Vec::new()),
            // An empty payload would not decode in MessagePack (close 1007).
            (InputPayload::Empty, Codec::MsgPack) => Ok(vec![0x80]),
            (InputPayload::Raw(b), _) => Ok(b.clone()),
            (InputPayload::Json { msgpack, .. }, Codec::MsgPack) => Ok(msgpack.clone()),
            (InputPayload::Json { proto: Some(p), .. }, Codec::Proto) => Ok(p.clone()),
            (InputPayload::Json { proto: None, .. }, Codec::Proto) => Err("the server chose Protobuf: give \
                 input.proto_file and input.proto_message to encode input.json, or the bytes as input.hex"
                .into()),
        }
    }

    /// Checks and encodes the `[input]` table; relative `proto_file` paths
    /// are taken from the scenario file's directory.
    pub(crate) fn read(c: &Checker<'_>, table: Option<Spanned<InputTable>>) -> Result<InputPayload, FileError> {
        let Some(table) = table else { return Ok(InputPayload::Empty) };
        let span = table.span();
        let t = table.into_inner();
        match (t.json, t.hex) {
            (Some(_), Some(h)) => {
                Err(c.invalid(h.span(), "input.hex", "give either input.json or input.hex, not both"))
            }
            (None, Some(h)) => {
                if let Some(p) = t.proto_file.or(t.proto_message) {
                    return Err(c.invalid(p.span(), "input.proto_file", "goes with input.json, not input.hex"));
                }
                decode_hex(h.get_ref())
                    .map(InputPayload::Raw)
                    .ok_or_else(|| c.invalid(h.span(), "input.hex", "expected pairs of hex digits, e.g. \"0802\""))
            }
            (Some(json), None) => {
                let msgpack = rmp_serde::to_vec_named(json.get_ref())
                    .map_err(|e| c.invalid(json.span(), "input.json", format!("not encodable as MessagePack: {e}")))?;
                let proto = match (t.proto_file, t.proto_message) {
                    (None, None) => None,
                    (Some(file), Some(message)) => Some(encode_proto(c, &file, &message, &json)?),
                    (Some(f), None) => {
                        return Err(c.invalid(
                            f.span(),
                            "input.proto_message",
                            "missing: name the input message, e.g. \"mygame.v2.Input\"",
                        ))
                    }
                    (None, Some(m)) => {
                        return Err(c.invalid(m.span(), "input.proto_file", "missing: the .proto that defines it"))
                    }
                };
                Ok(InputPayload::Json { msgpack, proto })
            }
            (None, None) => Err(c.invalid(span, "input", "give input.json or input.hex (or leave [input] out)")),
        }
    }
}

/// `json` as the Protobuf message `message` of `file` (compiled at run
/// time by the `playhouse` CLI's schema loader: no `protoc`; imports
/// resolve from the file's directory).
fn encode_proto(
    c: &Checker<'_>,
    file: &Spanned<String>,
    message: &Spanned<String>,
    json: &Spanned<serde_json::Value>,
) -> Result<Vec<u8>, FileError> {
    let path = c.path.parent().unwrap_or(Path::new(".")).join(file.get_ref());
    let schema = playhouse_cli::schema::GameSchema::load(std::slice::from_ref(&path), &[])
        .map_err(|e| c.invalid(file.span(), "input.proto_file", format!("{}: {e}", path.display())))?;
    let descriptor = schema.message(message.get_ref()).ok_or_else(|| {
        c.invalid(
            message.span(),
            "input.proto_message",
            format!("no message {:?} in {}", message.get_ref(), path.display()),
        )
    })?;
    let dynamic = DynamicMessage::deserialize(descriptor, json.get_ref().clone())
        .map_err(|e| c.invalid(json.span(), "input.json", format!("does not fit {}: {e}", message.get_ref())))?;
    Ok(dynamic.encode_to_vec())
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.trim().is_empty() {
        return Some(Vec::new()); // an empty input, as before
    }
    playhouse_cli::bytes_arg::parse(s, playhouse_cli::bytes_arg::Encoding::Hex).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadgen::tomlfile::parse_toml;

    #[derive(Deserialize)]
    struct File {
        input: Option<Spanned<InputTable>>,
    }

    /// Reads `[input]` from `text` as if from `benches/scenarios/t.toml`.
    fn read(text: &str) -> Result<InputPayload, FileError> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/t.toml");
        let f: File = parse_toml(&path, text)?;
        InputPayload::read(&Checker { path: &path, text }, f.input)
    }

    const ARENA: &str =
        "proto_file = \"../../game-example/schemas/arena/v2.proto\"\nproto_message = \"arena.v2.Input\"";

    #[test]
    fn json_goes_as_msgpack_and_through_the_games_schema_as_protobuf() {
        let p = read(&format!("[input]\njson = {{ move_x = 1, fire = true }}\n{ARENA}\n")).expect("good");
        let back: serde_json::Value =
            rmp_serde::from_slice(&p.encode(Codec::MsgPack).expect("msgpack")).expect("msgpack");
        assert_eq!(back, serde_json::json!({"move_x": 1, "fire": true}));
        // sint32 move_x = 1 → field 1 varint, zigzag 2; bool fire = 4 → field 4 varint 1.
        assert_eq!(p.encode(Codec::Proto).expect("proto"), vec![0x08, 0x02, 0x20, 0x01]);
        let without = read("[input]\njson = { move_x = 1 }\n").expect("good");
        assert!(without.encode(Codec::Proto).expect_err("no schema").contains("input.proto_file"));
    }

    #[test]
    fn hex_for_any_codec_and_defaults_without_input() {
        let p = read("[input]\nhex = \"08 02\"\n").expect("good");
        assert_eq!(p, InputPayload::Raw(vec![8, 2]));
        assert_eq!(p.encode(Codec::MsgPack).expect("raw"), vec![8, 2]);
        let none = read("").expect("good");
        let empty: serde_json::Value =
            rmp_serde::from_slice(&none.encode(Codec::MsgPack).expect("msgpack")).expect("decodes");
        assert_eq!(empty, serde_json::json!({}));
        assert!(none.encode(Codec::Proto).expect("proto").is_empty());
    }

    #[test]
    fn each_bad_input_is_named_with_its_line() {
        let cases = [
            ("[input]\nhex = \"0g\"\n", "t.toml:2: input.hex: expected pairs"),
            ("[input]\n", "t.toml:1: input: give input.json or input.hex"),
            ("[input]\njson = 1\nhex = \"00\"\n", "t.toml:3: input.hex: give either"),
            ("[input]\nhex = \"00\"\nproto_message = \"a.B\"\n", "t.toml:3: input.proto_file: goes with input.json"),
            ("[input]\njson = {}\nproto_message = \"a.B\"\n", "t.toml:3: input.proto_file: missing"),
            ("[input]\njson = {}\nproto_file = \"x.proto\"\n", "t.toml:3: input.proto_message: missing"),
            (
                "[input]\njson = {}\nproto_file = \"missing.proto\"\nproto_message = \"a.B\"\n",
                "t.toml:3: input.proto_file: ",
            ),
            (
                "[input]\njson = {}\nproto_file = \"../../game-example/schemas/arena/v2.proto\"\nproto_message = \"arena.v2.Nope\"\n",
                "t.toml:4: input.proto_message: no message \"arena.v2.Nope\"",
            ),
            (
                &format!("[input]\njson = {{ move_z = 1 }}\n{ARENA}\n"),
                "t.toml:2: input.json: does not fit arena.v2.Input",
            ),
        ];
        for (text, want) in cases {
            let got = read(text).expect_err("refused").to_string();
            let got = got.replacen(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/"), "", 1);
            assert!(got.starts_with(want), "{text:?}: got {got:?}, want {want:?}");
        }
    }
}
