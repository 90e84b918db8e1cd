//! Any MessagePack value shown as JSON, for people and tools (the
//! `playhouse` CLI, the server's monitor page): not a wire format.
//!
//! MessagePack holds what JSON cannot, so some values are written in a
//! documented form rather than refused:
//!
//! | MessagePack | JSON |
//! | --- | --- |
//! | a map key that is not a string (`HashMap<u32, _>`) | the key as text: `{"7": …}`, `{"true": …}` |
//! | `bin` (`Bytes`, a JS `Uint8Array`) | a base64 string |
//! | `ext` | `{"ext": type, "base64": "…"}` |
//! | a float that is NaN or infinite | `null` |
//! | a string that is not UTF-8 | the string with U+FFFD for bad bytes |
//!
//! ```
//! let bytes = rmp_serde::to_vec_named(&std::collections::BTreeMap::from([(7u32, "seven")])).unwrap();
//! let json = playhouse_protocol::json::msgpack_to_json(&bytes).unwrap();
//! assert_eq!(json, serde_json::json!({"7": "seven"}));
//! ```

use base64::Engine as _;
use rmpv::Value as Mp;
use serde_json::{Map, Number, Value};

/// Why bytes are not one MessagePack value.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// Not MessagePack (or nested deeper than [`crate::MAX_MSGPACK_DEPTH`]).
    #[error("not MessagePack: {0}")]
    Decode(String),
    /// A whole value, then more bytes.
    #[error("{0} bytes after the MessagePack value")]
    Trailing(usize),
}

/// The one MessagePack value `bytes` holds, as JSON.
pub fn msgpack_to_json(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut rest = bytes;
    let v = rmpv::decode::read_value_with_max_depth(&mut rest, crate::MAX_MSGPACK_DEPTH)
        .map_err(|e| JsonError::Decode(e.to_string()))?;
    if !rest.is_empty() {
        return Err(JsonError::Trailing(rest.len()));
    }
    Ok(to_json(v))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn key(k: Mp) -> String {
    match k {
        Mp::String(s) => s.into_str().unwrap_or_else(|| "\u{fffd}".into()),
        other => match to_json(other) {
            Value::String(s) => s,
            v => v.to_string(),
        },
    }
}

fn to_json(v: Mp) -> Value {
    match v {
        Mp::Nil => Value::Null,
        Mp::Boolean(b) => Value::Bool(b),
        Mp::Integer(i) => match (i.as_u64(), i.as_i64()) {
            (Some(u), _) => Value::from(u),
            (None, Some(s)) => Value::from(s),
            (None, None) => Value::Null,
        },
        Mp::F32(f) => Number::from_f64(f64::from(f)).map_or(Value::Null, Value::Number),
        Mp::F64(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        Mp::String(s) => match s.into_str() {
            Some(s) => Value::String(s),
            None => Value::Null,
        },
        Mp::Binary(b) => Value::String(b64(&b)),
        Mp::Array(a) => Value::Array(a.into_iter().map(to_json).collect()),
        Mp::Map(m) => Value::Object(m.into_iter().map(|(k, v)| (key(k), to_json(v))).collect::<Map<_, _>>()),
        Mp::Ext(t, data) => serde_json::json!({"ext": t, "base64": b64(&data)}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    #[derive(serde::Serialize)]
    struct State {
        #[serde(with = "serde_bytes_as_bin")]
        blob: Vec<u8>,
        by_id: BTreeMap<u32, String>,
        ok: bool,
        f: f32,
        neg: i64,
    }

    mod serde_bytes_as_bin {
        pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }
    }

    #[test]
    fn what_json_cannot_hold_is_written_in_its_documented_form() {
        let s =
            State { blob: vec![0xfb, 0xff], by_id: BTreeMap::from([(7, "seven".into())]), ok: true, f: 0.5, neg: -3 };
        let bytes = rmp_serde::to_vec_named(&s).unwrap();
        assert_eq!(
            msgpack_to_json(&bytes).unwrap(),
            json!({"blob": "+/8=", "by_id": {"7": "seven"}, "ok": true, "f": 0.5, "neg": -3})
        );
    }

    #[test]
    fn ext_and_non_finite_floats_and_odd_keys() {
        let mut buf = Vec::new();
        rmpv::encode::write_value(
            &mut buf,
            &Mp::Map(vec![
                (Mp::Boolean(true), Mp::Ext(5, vec![1])),
                (Mp::from(-1), Mp::F64(f64::NAN)),
                (Mp::Nil, Mp::Array(vec![])),
            ]),
        )
        .unwrap();
        assert_eq!(
            msgpack_to_json(&buf).unwrap(),
            json!({"true": {"ext": 5, "base64": "AQ=="}, "-1": null, "null": []})
        );
    }

    #[test]
    fn garbage_trailing_bytes_and_depth_are_refused() {
        assert!(matches!(msgpack_to_json(&[0xa5, b'a']), Err(JsonError::Decode(_))), "cut short");
        assert!(matches!(msgpack_to_json(&[0x01, 0x02]), Err(JsonError::Trailing(1))));
        // 100 nested one-element arrays: past MAX_MSGPACK_DEPTH.
        let mut deep = vec![0x91; 100];
        deep.push(0x00);
        assert!(matches!(msgpack_to_json(&deep), Err(JsonError::Decode(_))));
        let mut ok = vec![0x91; 10];
        ok.push(0x00);
        assert!(msgpack_to_json(&ok).is_ok());
    }
}
