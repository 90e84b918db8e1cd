//! Binary deltas between two encodings of a game state (`State.baseline`,
//! docs/protocol.md §4.3).
//!
//! A delta turns the payload of an earlier state (the *baseline*, one the
//! client has applied and acknowledged) into the payload of a new one. It
//! works on the encoded bytes, so it needs nothing from the game's schema
//! and serves every (version, codec) group alike: the server encodes the
//! state as usual, then diffs the bytes against what that client holds.
//!
//! Why written here and not taken from a library: the general binary delta
//! formats (VCDIFF/xdelta, bsdiff, Fossil's delta) find matches through a
//! rolling hash over blocks of 16 bytes or more, or a suffix sort of the
//! source, which suits files of kilobytes to megabytes. A game state of a
//! few hundred bytes changes every 6 to 12 bytes (a position here, a health
//! there), so few blocks survive and those formats send most of it again.
//! This format is the small thing such states need: copies and literals
//! that keep the two encodings aligned, plus a cursor seek for the byte a
//! varint gained or lost, in a form the JavaScript SDK applies in a few
//! lines (`framework/js/src/delta.js`).
//!
//! # Format
//!
//! `varint(target length)`, then operations until the target is complete.
//! Each operation is `varint(n << 2 | kind)`:
//!
//! | kind | name | meaning |
//! | --- | --- | --- |
//! | 0 | COPY n | append `n` bytes of the baseline at the cursor; cursor += n |
//! | 1 | ADD n | append the `n` bytes that follow; cursor += n (a substitution keeps the alignment) |
//! | 2 | SKIP n | cursor += n |
//! | 3 | BACK n | cursor -= n |
//!
//! Varints are LEB128 (7 bits a byte, least significant first). `n` is at
//! least 1. A delta that reads past either input, moves the cursor before
//! the baseline's start, or ends before or after the target's length is
//! refused ([`DeltaError`]), never half applied.
//!
//! ```
//! use playhouse_protocol::delta;
//!
//! let before = b"players: alice 100 100, bob 250 40";
//! let after = b"players: alice 101 100, bob 250 41, carol 5 5";
//! let mut d = Vec::new();
//! delta::encode(before, after, &mut d);
//! assert!(d.len() < after.len() / 2);
//! let mut out = Vec::new();
//! delta::apply(before, &d, 1 << 20, &mut out).unwrap();
//! assert_eq!(out, after);
//! ```

use thiserror::Error;

const COPY: u64 = 0;
const ADD: u64 = 1;
const SKIP: u64 = 2;
const BACK: u64 = 3;

/// A copy shorter than this is sent as literal bytes (a COPY costs a byte
/// or two of header, and a short match inside changed data is usually
/// chance).
const MIN_COPY: usize = 4;

/// How far the encoder looks, either way, for the baseline to line up
/// again after a mismatch (bytes a varint or a string gained or lost).
const REALIGN_WINDOW: usize = 16;

/// Why a delta could not be applied.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DeltaError {
    /// The delta ended in the middle of a varint or a literal.
    #[error("delta truncated")]
    Truncated,
    /// A varint had more than 64 bits.
    #[error("delta varint overflows")]
    Overflow,
    /// The target would exceed the caller's size limit.
    #[error("delta target of {0} bytes exceeds the limit")]
    TooLarge(u64),
    /// An operation of length 0.
    #[error("delta operation of length 0")]
    Empty,
    /// A COPY past the baseline's end, or a BACK before its start.
    #[error("delta reads outside the baseline")]
    OutOfBaseline,
    /// The operations produce more or fewer bytes than announced, or bytes
    /// follow the last operation.
    #[error("delta does not match its announced length")]
    Length,
}

/// Appends to `out` a delta that turns `baseline` into `target`.
///
/// The delta may be longer than `target` when the two have little in
/// common: callers compare and send the whole target then.
pub fn encode(baseline: &[u8], target: &[u8], out: &mut Vec<u8>) {
    put_varint(out, target.len() as u64);
    let mut enc = Encoder { out, literal_from: None, cursor: 0 };
    let mut i = 0;
    while i < target.len() {
        let run = common_prefix(&target[i..], baseline.get(enc.cursor..).unwrap_or(&[]));
        if run >= MIN_COPY || (run > 0 && i + run == target.len()) {
            enc.flush_literal(target, i);
            put_op(enc.out, COPY, run);
            i += run;
            enc.cursor += run;
            continue;
        }
        if let Some(shift) = realign(baseline, enc.cursor, &target[i..]) {
            enc.flush_literal(target, i);
            match shift {
                s if s > 0 => put_op(enc.out, SKIP, s as usize),
                s => put_op(enc.out, BACK, s.unsigned_abs()),
            }
            enc.cursor = enc.cursor.checked_add_signed(shift).expect("realign stays inside the baseline");
            continue;
        }
        enc.literal_from.get_or_insert(i);
        i += 1;
        enc.cursor += 1;
    }
    enc.flush_literal(target, target.len());
}

struct Encoder<'a> {
    out: &'a mut Vec<u8>,
    /// Where the pending literal run starts in the target.
    literal_from: Option<usize>,
    /// The baseline cursor.
    cursor: usize,
}

impl Encoder<'_> {
    fn flush_literal(&mut self, target: &[u8], upto: usize) {
        if let Some(from) = self.literal_from.take() {
            put_op(self.out, ADD, upto - from);
            self.out.extend_from_slice(&target[from..upto]);
        }
    }
}

/// The nearest shift (smallest first, forward before back) at which the
/// baseline matches the next [`MIN_COPY`] target bytes again, if any.
fn realign(baseline: &[u8], cursor: usize, target: &[u8]) -> Option<isize> {
    let want = target.get(..MIN_COPY)?;
    (1..=REALIGN_WINDOW as isize).flat_map(|d| [d, -d]).find(|&s| {
        cursor
            .checked_add_signed(s)
            .and_then(|from| baseline.get(from..from + MIN_COPY))
            .is_some_and(|have| have == want)
    })
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn put_op(out: &mut Vec<u8>, kind: u64, n: usize) {
    put_varint(out, (n as u64) << 2 | kind);
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Applies `delta` to `baseline`, replacing the contents of `out` with the
/// target. Refuses a target longer than `max_len` before allocating it.
pub fn apply(baseline: &[u8], delta: &[u8], max_len: usize, out: &mut Vec<u8>) -> Result<(), DeltaError> {
    out.clear();
    let mut r = Reader { data: delta, at: 0 };
    let len = r.varint()?;
    if len > max_len as u64 {
        return Err(DeltaError::TooLarge(len));
    }
    let len = len as usize;
    out.reserve(len);
    let mut cursor = 0usize;
    while out.len() < len {
        let op = r.varint()?;
        let n = usize::try_from(op >> 2).map_err(|_| DeltaError::Length)?;
        if n == 0 {
            return Err(DeltaError::Empty);
        }
        match op & 3 {
            COPY | ADD if n > len - out.len() => return Err(DeltaError::Length),
            COPY => {
                let from = baseline.get(cursor..).and_then(|b| b.get(..n)).ok_or(DeltaError::OutOfBaseline)?;
                out.extend_from_slice(from);
                cursor += n;
            }
            ADD => {
                out.extend_from_slice(r.bytes(n)?);
                cursor = cursor.saturating_add(n);
            }
            SKIP => cursor = cursor.saturating_add(n),
            _ => cursor = cursor.checked_sub(n).ok_or(DeltaError::OutOfBaseline)?,
        }
    }
    if r.at != delta.len() {
        return Err(DeltaError::Length);
    }
    Ok(())
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, DeltaError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.data.get(self.at).ok_or(DeltaError::Truncated)?;
            self.at += 1;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(DeltaError::Overflow);
            }
            v |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DeltaError::Overflow)
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], DeltaError> {
        let end = self.at.checked_add(n).ok_or(DeltaError::Truncated)?;
        let b = self.data.get(self.at..end).ok_or(DeltaError::Truncated)?;
        self.at = end;
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(base: &[u8], target: &[u8]) -> Vec<u8> {
        let mut d = Vec::new();
        encode(base, target, &mut d);
        let mut out = vec![0xAA; 3];
        apply(base, &d, usize::MAX, &mut out).expect("applies");
        assert_eq!(out, target);
        d
    }

    #[test]
    fn unchanged_state_is_a_few_bytes() {
        let s: Vec<u8> = (0..600u32).map(|i| (i * 7 % 251) as u8).collect();
        assert!(roundtrip(&s, &s).len() <= 4);
    }

    #[test]
    fn scattered_changes_cost_about_their_size() {
        let base: Vec<u8> = (0..512u32).map(|i| (i * 13 % 256) as u8).collect();
        let mut target = base.clone();
        for k in (0..512).step_by(32) {
            target[k] ^= 0x55;
            target[k + 1] ^= 0x11;
        }
        // 16 changes of 2 bytes: header, COPY and ADD each.
        assert!(roundtrip(&base, &target).len() < 16 * 6, "{}", roundtrip(&base, &target).len());
    }

    #[test]
    fn an_inserted_or_removed_byte_realigns() {
        let base: Vec<u8> = (0..300u32).map(|i| (i * 31 % 256) as u8).collect();
        let mut grown = base.clone();
        grown.insert(100, 9);
        assert!(roundtrip(&base, &grown).len() < 12);
        let mut shrunk = base.clone();
        shrunk.remove(100);
        assert!(roundtrip(&base, &shrunk).len() < 12);
    }

    #[test]
    fn empty_inputs() {
        roundtrip(b"", b"");
        roundtrip(b"abc", b"");
        roundtrip(b"", b"abc");
    }

    #[test]
    fn bad_deltas_are_refused() {
        let mut out = Vec::new();
        let base = b"0123456789";
        assert_eq!(apply(base, &[], 100, &mut out), Err(DeltaError::Truncated));
        assert_eq!(apply(base, &[200, 1], 100, &mut out), Err(DeltaError::TooLarge(200)));
        // COPY 4 past the end after SKIP 8.
        assert_eq!(apply(base, &[4, 8 << 2 | 2, 4 << 2], 100, &mut out), Err(DeltaError::OutOfBaseline));
        // BACK 1 at the start.
        assert_eq!(apply(base, &[1, 1 << 2 | 3], 100, &mut out), Err(DeltaError::OutOfBaseline));
        // ADD 2 when only 1 byte is announced.
        assert_eq!(apply(base, &[1, 2 << 2 | 1, b'a', b'b'], 100, &mut out), Err(DeltaError::Length));
        // Trailing bytes.
        assert_eq!(apply(base, &[1, 1 << 2, 0], 100, &mut out), Err(DeltaError::Length));
        assert_eq!(apply(base, &[1, 0], 100, &mut out), Err(DeltaError::Empty));
        assert_eq!(apply(base, &[0xff; 11], 100, &mut out), Err(DeltaError::Overflow));
    }

    /// An edit of a baseline, as a new state's encoding differs from an
    /// older one's.
    #[derive(Debug, Clone)]
    enum Edit {
        Set(usize, u8),
        Insert(usize, Vec<u8>),
        Remove(usize, usize),
        Truncate(usize),
        Append(Vec<u8>),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            4 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
            1 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8)).prop_map(|(i, b)| Edit::Insert(i, b)),
            1 => (any::<usize>(), 1..8usize).prop_map(|(i, n)| Edit::Remove(i, n)),
            1 => any::<usize>().prop_map(Edit::Truncate),
            1 => proptest::collection::vec(any::<u8>(), 1..40).prop_map(Edit::Append),
        ]
    }

    fn edited(base: &[u8], edits: &[Edit]) -> Vec<u8> {
        let mut t = base.to_vec();
        for e in edits {
            let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
            match e {
                Edit::Set(i, b) if !t.is_empty() => {
                    let i = i % t.len();
                    t[i] = *b;
                }
                Edit::Set(..) => {}
                Edit::Insert(i, b) => {
                    let i = at(*i, t.len());
                    t.splice(i..i, b.iter().copied());
                }
                Edit::Remove(i, n) => {
                    let i = at(*i, t.len());
                    let end = (i + n).min(t.len());
                    t.drain(i..end);
                }
                Edit::Truncate(n) => t.truncate(at(*n, t.len())),
                Edit::Append(b) => t.extend_from_slice(b),
            }
        }
        t
    }

    proptest! {
        #[test]
        fn applying_a_delta_gives_the_target(
            base in proptest::collection::vec(any::<u8>(), 0..700),
            edits in proptest::collection::vec(edit(), 0..40),
        ) {
            let target = edited(&base, &edits);
            roundtrip(&base, &target);
        }

        #[test]
        fn unrelated_inputs_roundtrip(
            base in proptest::collection::vec(0..4u8, 0..300),
            target in proptest::collection::vec(0..4u8, 0..300),
        ) {
            // A small alphabet makes chance matches and realignments common.
            roundtrip(&base, &target);
        }

        #[test]
        fn garbage_is_refused_or_bounded(
            base in proptest::collection::vec(any::<u8>(), 0..64),
            delta in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut out = Vec::new();
            if apply(&base, &delta, 4096, &mut out).is_ok() {
                prop_assert!(out.len() <= 4096);
            }
        }
    }
}
