//! A game payload (the bytes inside `Input`, `State` and `Message`) to
//! JSON and back, in the token's codec.
//!
//! - `proto`: through the schema's message type, in protobuf's JSON
//!   mapping (camelCase names, every field shown, defaults included).
//! - `msgpack`: MessagePack is self-describing, so a payload turns into
//!   JSON without a schema (`playhouse_protocol::json`: binary as base64,
//!   non-string map keys as text). With a schema, an input's JSON is first
//!   checked against the input type, so a misspelt field is an error here
//!   rather than an input the room ignores; then it is sent as written.

use crate::schema::GameTypes;
use playhouse_protocol::json::msgpack_to_json;
use playhouse_protocol::Codec;
use prost::Message as _;
use prost_reflect::{DynamicMessage, MessageDescriptor, SerializeOptions};
use serde_json::Value;

/// Which of a game's payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A client's input.
    Input,
    /// A room's state.
    State,
    /// A reliable room message.
    Message,
}

/// Why a payload does not convert.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// A `proto` payload needs the game's schema (`--proto FILE`).
    #[error("a proto payload needs the game's schema: pass --proto <file.proto>")]
    NoSchema,
    /// The bytes are not a message of the type.
    #[error("not a {ty}: {why}")]
    Decode {
        /// The message type.
        ty: String,
        /// The decoder's words.
        why: String,
    },
    /// The JSON does not fit the type.
    #[error("the JSON is not a {ty}: {why}")]
    Json {
        /// The message type.
        ty: String,
        /// What does not fit.
        why: String,
    },
    /// The bytes are not MessagePack.
    #[error("not MessagePack: {0}")]
    MsgPack(String),
}

/// Converts one token's game payloads.
#[derive(Debug, Clone)]
pub struct Payloads {
    codec: Codec,
    types: Option<GameTypes>,
}

impl Payloads {
    /// Payloads in `codec`, typed by `types` when a schema was given.
    pub fn new(codec: Codec, types: Option<GameTypes>) -> Payloads {
        Payloads { codec, types }
    }

    /// The codec.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    fn descriptor(&self, kind: Kind) -> Option<&MessageDescriptor> {
        self.types.as_ref().map(|t| match kind {
            Kind::Input => &t.input,
            Kind::State => &t.state,
            Kind::Message => &t.message,
        })
    }

    /// The payload `bytes` of `kind` as JSON.
    pub fn to_json(&self, kind: Kind, bytes: &[u8]) -> Result<Value, PayloadError> {
        match self.codec {
            Codec::Proto => {
                let desc = self.descriptor(kind).ok_or(PayloadError::NoSchema)?;
                let msg = DynamicMessage::decode(desc.clone(), bytes)
                    .map_err(|e| PayloadError::Decode { ty: desc.full_name().to_string(), why: e.to_string() })?;
                let opts = SerializeOptions::new().skip_default_fields(false);
                msg.serialize_with_options(serde_json::value::Serializer, &opts)
                    .map_err(|e| PayloadError::Decode { ty: desc.full_name().to_string(), why: e.to_string() })
            }
            Codec::MsgPack => msgpack_to_json(bytes).map_err(|e| PayloadError::MsgPack(e.to_string())),
        }
    }

    /// `json` as a payload of `kind`, encoded.
    pub fn from_json(&self, kind: Kind, json: &Value) -> Result<Vec<u8>, PayloadError> {
        let desc = self.descriptor(kind);
        match self.codec {
            Codec::Proto => {
                let desc = desc.ok_or(PayloadError::NoSchema)?;
                let msg = DynamicMessage::deserialize(desc.clone(), json.clone())
                    .map_err(|e| PayloadError::Json { ty: desc.full_name().to_string(), why: e.to_string() })?;
                Ok(msg.encode_to_vec())
            }
            // MessagePack carries the game's serde form, which is not
            // protobuf's JSON form (a oneof sits under its own name,
            // `{"kind": {"fire": {}}}`; map keys keep their type): the JSON
            // goes as written, its field names checked first.
            Codec::MsgPack => {
                if let Some(desc) = desc {
                    check_names(desc, json)?;
                }
                rmp_serde::to_vec_named(json).map_err(|e| PayloadError::MsgPack(e.to_string()))
            }
        }
    }
}

/// `some_name` → `someName`: how the game's serde names a field or a
/// oneof (`proto/build`: `rename_all = "camelCase"`).
fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut up = false;
    for c in name.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Every key of `json` (an object) must be a field of `desc` as the
/// game's serde names it: a misspelt or snake_case field would reach the
/// room as an input without it.
fn check_names(desc: &MessageDescriptor, json: &Value) -> Result<(), PayloadError> {
    let refuse = |why: String| PayloadError::Json { ty: desc.full_name().to_string(), why };
    let Value::Object(fields) = json else {
        return Err(refuse(format!("expected a JSON object, got {json}")));
    };
    // Plain fields (proto3 `optional` ones too: their oneof is synthetic)
    // by their own name; a real oneof's members under the oneof's name.
    let mut known: Vec<String> = desc
        .fields()
        .filter(|f| f.containing_oneof().is_none_or(|o| o.is_synthetic()))
        .map(|f| camel(f.name()))
        .collect();
    known.extend(desc.oneofs().filter(|o| !o.is_synthetic()).map(|o| camel(o.name())));
    match fields.keys().find(|k| !known.contains(k)) {
        Some(k) => Err(refuse(format!("no field {k:?}; its fields are {}", known.join(", ")))),
        None => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::schema::{GameSchema, TypeNames};
    use serde_json::json;
    use std::path::PathBuf;

    /// arena's own v2 schema, as a studio would pass it.
    pub(crate) fn arena(codec: Codec) -> Payloads {
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../game-example/schemas/arena/v2.proto");
        let schema = GameSchema::load(&[file], &[]).expect("arena's schema compiles");
        let token = format!("arena.v2.{codec}").parse().expect("token");
        let names =
            TypeNames { state: Some("arena.v2.Output".into()), message: Some("arena.v2.Output".into()), input: None };
        Payloads::new(codec, Some(schema.types(&token, &names).expect("types")))
    }

    #[test]
    fn an_input_given_as_json_reaches_the_wire_as_the_game_encodes_it() {
        let input = json!({"moveX": 1, "fire": true, "aimX": 0.5});
        // proto: the bytes prost gives for the same message.
        let bytes = arena(Codec::Proto).from_json(Kind::Input, &input).unwrap();
        let want = arena::proto::v2::Input { move_x: 1, fire: true, aim_x: 0.5, ..Default::default() };
        assert_eq!(bytes, prost::Message::encode_to_vec(&want));
        // msgpack: what the server's serde decoder reads back.
        let bytes = arena(Codec::MsgPack).from_json(Kind::Input, &input).unwrap();
        let back: arena::proto::v2::Input = Codec::MsgPack.decode(&bytes).unwrap();
        assert_eq!(back, want);
        // protobuf's own names are not the game's serde names: refused,
        // naming the fields there are.
        let e = arena(Codec::MsgPack).from_json(Kind::Input, &json!({"move_x": 1})).unwrap_err();
        assert!(e.to_string().contains("\"move_x\"") && e.to_string().contains("moveX"), "{e}");
    }

    #[test]
    fn a_state_decodes_to_the_same_json_in_both_codecs() {
        use arena::proto::v2;
        let state = v2::Output {
            kind: Some(v2::output::Kind::State(v2::State {
                players: vec![v2::Player { id: 3, name: "ann".into(), x: 1.5, ..Default::default() }],
                width: 1000.0,
                ..Default::default()
            })),
        };
        let proto = arena(Codec::Proto).to_json(Kind::State, &Codec::Proto.encode_to_vec(&state).unwrap()).unwrap();
        assert_eq!(proto["state"]["players"][0]["name"], "ann");
        assert_eq!(proto["state"]["players"][0]["x"], 1.5);
        // Defaults are shown, not left out.
        assert_eq!(proto["state"]["players"][0]["score"], 0);
        let msgpack =
            arena(Codec::MsgPack).to_json(Kind::State, &Codec::MsgPack.encode_to_vec(&state).unwrap()).unwrap();
        // The game's serde form wraps the oneof in `kind`.
        assert_eq!(msgpack["kind"]["state"]["players"][0]["name"], "ann");
        assert_eq!(msgpack["kind"]["state"]["width"], 1000.0);
    }

    #[test]
    fn json_that_does_not_fit_the_type_is_refused_with_its_reason() {
        for codec in [Codec::Proto, Codec::MsgPack] {
            let e = arena(codec).from_json(Kind::Input, &json!({"moveZ": 1})).unwrap_err();
            assert!(
                matches!(&e, PayloadError::Json { ty, why } if ty == "arena.v2.Input" && why.contains("moveZ")),
                "{e}"
            );
        }
        let e = arena(Codec::Proto).from_json(Kind::Input, &json!({"moveX": "left"})).unwrap_err();
        assert!(matches!(e, PayloadError::Json { .. }), "{e}");
        let e = arena(Codec::MsgPack).from_json(Kind::Input, &json!([1, 2])).unwrap_err();
        assert!(e.to_string().contains("expected a JSON object"), "{e}");
    }

    #[test]
    fn a_msgpack_oneof_goes_in_the_games_serde_form() {
        // arena's Output holds a oneof `kind`: the serde form the server
        // decodes is {"kind": {"event": {...}}}, which passes the check.
        let out = json!({"kind": {"event": {"text": "hi", "kind": 0, "actor": 1, "target": 0}}});
        let bytes = arena(Codec::MsgPack).from_json(Kind::Message, &out).unwrap();
        let back: arena::proto::v2::Output = Codec::MsgPack.decode(&bytes).unwrap();
        assert!(matches!(back.kind, Some(arena::proto::v2::output::Kind::Event(e)) if e.text == "hi"));
        assert_eq!(camel("remaining_ms"), "remainingMs");
    }

    #[test]
    fn without_a_schema_msgpack_still_shows_and_proto_says_what_it_needs() {
        let bare = Payloads::new(Codec::MsgPack, None);
        let bytes = bare.from_json(Kind::Input, &json!({"anything": [1, 2]})).unwrap();
        assert_eq!(bare.to_json(Kind::Input, &bytes).unwrap(), json!({"anything": [1, 2]}));
        let proto = Payloads::new(Codec::Proto, None);
        assert!(matches!(proto.to_json(Kind::State, &[8, 1]), Err(PayloadError::NoSchema)));
        assert!(proto.to_json(Kind::State, &[8, 1]).unwrap_err().to_string().contains("--proto"));
    }

    #[test]
    fn bytes_that_are_not_the_type_say_so() {
        let e = arena(Codec::Proto).to_json(Kind::State, &[0xff, 0xff, 0xff]).unwrap_err();
        assert!(matches!(e, PayloadError::Decode { .. }), "{e}");
        let e = arena(Codec::MsgPack).to_json(Kind::State, &[0xa5, b'a']).unwrap_err();
        assert!(matches!(e, PayloadError::MsgPack(_)), "{e}");
    }
}
