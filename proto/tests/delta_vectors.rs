//! Cross-language vectors of the state delta format (`delta`): what
//! `delta::encode` writes for a fixed set of (baseline, target) pairs, and
//! how `delta::apply` refuses a set of malformed deltas, committed as
//! `tests/delta_vectors.json`. The JavaScript SDK applies the same deltas
//! (`framework/js/test/delta.test.js`), so both sides keep one format.
//!
//! After a change of the encoder or of the vectors, write the file again
//! and commit it:
//!
//! ```sh
//! UPDATE_DELTA_VECTORS=1 cargo test -p playhouse-protocol --test delta_vectors
//! ```

use std::path::PathBuf;

use playhouse_protocol::delta::{self, DeltaError};
use serde_json::{json, Value};

mod common;
use common::{noise, pattern};

/// The (name, baseline, target) pairs whose deltas are committed.
fn pairs() -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    let base = pattern(300, 1);
    let mut substituted = base.clone();
    for k in (5..300).step_by(40) {
        substituted[k] ^= 0x55;
        substituted[k + 1] ^= 0x11;
    }
    let mut inserted = base.clone();
    inserted.insert(100, 9);
    let mut inserted5 = base.clone();
    inserted5.splice(150..150, [1, 2, 3, 4, 5]);
    let mut removed = base.clone();
    removed.remove(100);
    let mut removed7 = base.clone();
    removed7.drain(200..207);
    let grown = [&base[..], &noise(60, 7)].concat();
    let shrunk = base[..180].to_vec();
    let small = |b: Vec<u8>| b.iter().map(|x| x % 3).collect::<Vec<u8>>();
    vec![
        ("unchanged", base.clone(), base.clone()),
        ("substitutions", base.clone(), substituted),
        ("inserted byte", base.clone(), inserted),
        ("inserted bytes", base.clone(), inserted5),
        ("removed byte", base.clone(), removed),
        ("removed bytes", base.clone(), removed7),
        ("grown", base.clone(), grown),
        ("shrunk", base.clone(), shrunk),
        ("shrunk to a byte", base.clone(), vec![base[0]]),
        ("empty to empty", vec![], vec![]),
        ("empty baseline", vec![], noise(40, 3)),
        ("empty target", base, vec![]),
        ("unrelated", noise(120, 1), noise(150, 2)),
        ("small alphabet", small(noise(64, 4)), small(noise(70, 5))),
        (
            "text state",
            b"players: alice 100 100, bob 250 40".to_vec(),
            b"players: alice 101 100, bob 250 41, carol 5 5".to_vec(),
        ),
        (
            "a number grows a digit and another loses one",
            b"x=9 y=120 hp=100 name=ann score=7;x=31 y=5 hp=80 name=bob score=12".to_vec(),
            b"x=10 y=120 hp=100 name=ann score=7;x=31 y=5 hp=8 name=bob score=12".to_vec(),
        ),
    ]
}

/// Malformed deltas, the limit they are applied with and the error, named
/// as the JavaScript SDK names them (`DeltaErrorKind`).
fn refused() -> Vec<(&'static str, Vec<u8>, Vec<u8>, usize)> {
    let base = b"0123456789".to_vec();
    let mut huge = vec![0x80; 9];
    huge.push(0x01); // 2^63
    let mut wide = vec![0xff; 9];
    wide.push(0x02); // bit 64
    vec![
        ("empty delta", base.clone(), vec![], 100),
        ("length varint cut", base.clone(), vec![0x80], 100),
        ("target over the limit", base.clone(), vec![200, 1], 100),
        ("target of 2^63 bytes", base.clone(), huge, 100),
        ("varint of 65 bits", base.clone(), wide, 100),
        ("varint of 11 bytes", base.clone(), vec![0xff; 11], 100),
        ("copy past the baseline", base.clone(), vec![4, 8 << 2 | 2, 4 << 2], 100),
        ("copy longer than the baseline", base.clone(), vec![11, 11 << 2], 100),
        ("back before the start", base.clone(), vec![1, 1 << 2 | 3], 100),
        ("add more than announced", base.clone(), vec![1, 2 << 2 | 1, b'a', b'b'], 100),
        ("copy more than announced", base.clone(), vec![1, 2 << 2], 100),
        ("literal cut", base.clone(), vec![3, 3 << 2 | 1, b'a'], 100),
        ("ends before the target", base.clone(), vec![4, 2 << 2], 100),
        ("trailing bytes", base.clone(), vec![1, 1 << 2, 0], 100),
        ("operation of length 0", base.clone(), vec![1, 0], 100),
        ("trailing bytes after an empty target", base, vec![0, 1 << 2], 100),
    ]
}

fn error_name(e: &DeltaError) -> &'static str {
    match e {
        DeltaError::Truncated => "truncated",
        DeltaError::Overflow => "overflow",
        DeltaError::TooLarge(_) => "too-large",
        DeltaError::Empty => "empty",
        DeltaError::OutOfBaseline => "out-of-baseline",
        DeltaError::Length => "length",
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The kinds of the operations of `d` (a valid delta), to check that the
/// vectors use each.
fn op_kinds(d: &[u8]) -> Vec<u64> {
    fn varint(d: &[u8], at: &mut usize) -> u64 {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let b = d[*at];
            *at += 1;
            v |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                return v;
            }
        }
    }
    let mut at = 0;
    let len = varint(d, &mut at);
    let (mut kinds, mut made) = (Vec::new(), 0);
    while made < len {
        let op = varint(d, &mut at);
        let n = op >> 2;
        if op & 3 == 1 {
            at += n as usize;
        }
        if op & 3 <= 1 {
            made += n;
        }
        kinds.push(op & 3);
    }
    kinds
}

/// The vectors, as committed.
fn vectors() -> Value {
    let mut kinds = [false; 4];
    let applies: Vec<Value> = pairs()
        .into_iter()
        .map(|(name, baseline, target)| {
            let mut d = Vec::new();
            delta::encode(&baseline, &target, &mut d);
            let mut out = Vec::new();
            delta::apply(&baseline, &d, usize::MAX, &mut out).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(out, target, "{name}: the delta does not give the target");
            for k in op_kinds(&d) {
                kinds[k as usize] = true;
            }
            json!({ "name": name, "baseline": hex(&baseline), "target": hex(&target), "delta": hex(&d) })
        })
        .collect();
    assert_eq!(kinds, [true; 4], "the vectors use every operation (COPY, ADD, SKIP, BACK)");
    let refused: Vec<Value> = refused()
        .into_iter()
        .map(|(name, baseline, d, max_len)| {
            let err = delta::apply(&baseline, &d, max_len, &mut Vec::new()).expect_err(name);
            json!({ "name": name, "baseline": hex(&baseline), "delta": hex(&d), "maxLen": max_len, "error": error_name(&err) })
        })
        .collect();
    json!({
        "about": "Deltas of playhouse_protocol::delta (proto/src/delta.rs). `applies`: delta::encode(baseline, target); \
                  `refused`: malformed deltas and how delta::apply refuses them. Hex bytes. Written by \
                  `UPDATE_DELTA_VECTORS=1 cargo test -p playhouse-protocol --test delta_vectors`; \
                  read by framework/js/test/delta.test.js.",
        "applies": applies,
        "refused": refused,
    })
}

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/delta_vectors.json")
}

#[test]
fn committed_vectors_are_what_the_encoder_writes() {
    let fresh = vectors();
    if std::env::var_os("UPDATE_DELTA_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&fresh).expect("json") + "\n";
        std::fs::write(path(), text).expect("write tests/delta_vectors.json");
        return;
    }
    let text = std::fs::read_to_string(path()).expect("read tests/delta_vectors.json");
    let committed: Value = serde_json::from_str(&text).expect("tests/delta_vectors.json is JSON");
    assert!(
        committed == fresh,
        "proto/tests/delta_vectors.json differs from what delta::encode and delta::apply give now: \
         if the change of the format is meant, write it again with \
         `UPDATE_DELTA_VECTORS=1 cargo test -p playhouse-protocol --test delta_vectors`, check the \
         JavaScript SDK still applies it (framework/js: node --test test/delta.test.js) and commit both"
    );
}
