//! Cross-language vectors of compressed state payloads (`compress`): state
//! payloads and deltas as `compress::deflate` wrote them, and payloads
//! `compress::inflate_state` refuses, committed as
//! `tests/compress_vectors.json`. The JavaScript SDK inflates the same bytes
//! with fflate (`framework/js/test/compress.test.js`), a delta after
//! inflating it, so both sides keep one format.
//!
//! The check is that what is committed inflates (and applies) to what it
//! stands for, not that `deflate` still writes those very bytes: a newer
//! flate2 may compress otherwise, and the committed bytes stay valid input.
//! After a change of the vectors, write the file again and commit it:
//!
//! ```sh
//! UPDATE_COMPRESS_VECTORS=1 cargo test -p playhouse-protocol --test compress_vectors
//! ```

use std::path::PathBuf;

use playhouse_protocol::compress::{self, InflateError};
use playhouse_protocol::delta;
use serde_json::{json, Value};

mod common;
use common::{noise, pattern};

/// The limit the vectors are inflated with (the clients take 16 MiB).
const LIMIT: usize = 1 << 20;

/// A state of a few players, as text: what a game state compresses like.
fn players(n: u32, tick: u32) -> Vec<u8> {
    (1..=n)
        .map(|p| format!("player {p} x={} y={} hp=100 score={};", 10 * p + tick, 200 - p, p * tick % 7))
        .collect::<String>()
        .into_bytes()
}

/// The (name, payload) pairs committed deflated.
fn payloads() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty", vec![]),
        ("players", players(6, 1)),
        ("pattern", pattern(400, 1)),
        ("noise", noise(48, 2)),
        ("zeros", vec![0; 1000]),
    ]
}

/// The (name, baseline, target) pairs whose deltas are committed deflated.
fn deltas() -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    vec![("players move", players(6, 1), players(6, 2)), ("a player joins", players(5, 3), players(6, 4))]
}

/// Payloads `inflate_state` refuses: compression, payload, limit, and the
/// error as the JavaScript SDK names it (`InflateErrorKind`).
fn refused() -> Vec<(&'static str, u32, Vec<u8>, usize)> {
    let mut zeros = Vec::new();
    compress::deflate(&[0; 100_000], &mut zeros).unwrap();
    let mut cut = Vec::new();
    compress::deflate(&players(6, 1), &mut cut).unwrap();
    cut.truncate(cut.len() / 2);
    vec![
        ("invalid block type", 1, vec![0xff, 0xff, 0xff], LIMIT),
        ("cut short", 1, cut, LIMIT),
        ("inflates past the limit", 1, zeros, 65_536),
        ("unknown compression", 9, vec![0x03, 0x00], LIMIT),
    ]
}

fn error_name(e: &InflateError) -> &'static str {
    match e {
        InflateError::Corrupt(_) => "corrupt",
        InflateError::TooLarge(_) => "too-large",
        InflateError::Unknown(_) => "unknown",
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn deflated(p: &[u8]) -> Vec<u8> {
    let mut z = Vec::new();
    compress::deflate(p, &mut z).unwrap();
    z
}

fn inflated(compression: u32, z: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    let mut out = Vec::new();
    compress::inflate_state(compression, z, limit, &mut out).map(|_| out)
}

/// The vectors as they would be written now.
fn vectors() -> Value {
    let payloads: Vec<Value> = payloads()
        .into_iter()
        .map(|(name, p)| json!({ "name": name, "payload": hex(&p), "deflated": hex(&deflated(&p)) }))
        .collect();
    let deltas: Vec<Value> = deltas()
        .into_iter()
        .map(|(name, baseline, target)| {
            let mut d = Vec::new();
            delta::encode(&baseline, &target, &mut d);
            json!({ "name": name, "baseline": hex(&baseline), "target": hex(&target), "deflatedDelta": hex(&deflated(&d)) })
        })
        .collect();
    let refused: Vec<Value> = refused()
        .into_iter()
        .map(|(name, compression, z, limit)| {
            let err = inflated(compression, &z, limit).expect_err(name);
            json!({ "name": name, "compression": compression, "payload": hex(&z), "limit": limit, "error": error_name(&err) })
        })
        .collect();
    json!({
        "about": "Compressed state payloads of playhouse_protocol::compress (proto/src/compress.rs), hex bytes. \
                  `payloads`: compress::deflate(payload) (State.compression 1); `deltas`: deflate(delta::encode(\
                  baseline, target)), inflated then applied; `refused`: what inflate_state(compression, payload, \
                  limit) refuses. Written by `UPDATE_COMPRESS_VECTORS=1 cargo test -p playhouse-protocol --test \
                  compress_vectors`; read by framework/js/test/compress.test.js.",
        "payloads": payloads,
        "deltas": deltas,
        "refused": refused,
    })
}

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/compress_vectors.json")
}

fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
}

#[test]
fn committed_vectors_inflate_to_what_they_stand_for() {
    let fresh = vectors();
    if std::env::var_os("UPDATE_COMPRESS_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&fresh).expect("json") + "\n";
        std::fs::write(path(), text).expect("write tests/compress_vectors.json");
        return;
    }
    let text = std::fs::read_to_string(path()).expect("read tests/compress_vectors.json");
    let committed: Value = serde_json::from_str(&text).expect("tests/compress_vectors.json is JSON");
    let update = "write it again with `UPDATE_COMPRESS_VECTORS=1 cargo test -p playhouse-protocol --test \
                  compress_vectors`, check the JavaScript SDK still reads it (framework/js: node --test \
                  test/compress.test.js) and commit both";
    // The same cases, but for the compressed bytes (checked below by inflating them).
    let strip = |v: &Value| {
        let mut v = v.clone();
        for (list, key) in [("payloads", "deflated"), ("deltas", "deflatedDelta")] {
            for e in v[list].as_array_mut().expect(list) {
                e.as_object_mut().expect("object").remove(key);
            }
        }
        v
    };
    assert!(
        strip(&committed) == strip(&fresh),
        "proto/tests/compress_vectors.json differs from the cases here: {update}"
    );
    for v in committed["payloads"].as_array().expect("payloads") {
        let back = inflated(1, &unhex(field(v, "deflated")), LIMIT).unwrap_or_else(|e| panic!("{}: {e}", v["name"]));
        assert_eq!(back, unhex(field(v, "payload")), "{}", v["name"]);
    }
    for v in committed["deltas"].as_array().expect("deltas") {
        let d = inflated(1, &unhex(field(v, "deflatedDelta")), LIMIT).expect("the delta inflates");
        let mut out = Vec::new();
        delta::apply(&unhex(field(v, "baseline")), &d, LIMIT, &mut out).expect("the inflated delta applies");
        assert_eq!(out, unhex(field(v, "target")), "{}", v["name"]);
    }
    let noise = &committed["payloads"].as_array().expect("payloads")[3];
    assert_eq!(noise["name"], "noise");
    // DEFLATE stores what it cannot shrink: the vectors hold a stored block too.
    assert!(field(noise, "deflated").len() > field(noise, "payload").len(), "noise is stored, not shrunk");
}
