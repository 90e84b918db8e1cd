//! Byte builders shared by the seed generator and the properties: masked
//! client frames, protobuf varints, and the input layouts the entry points
//! in `playhouse::fuzzing` expect.

/// One client frame: `fin`, `opcode`, masked with a fixed key unless
/// `masked` is false. Lengths use the shortest form.
pub fn frame(fin: bool, opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut f = vec![if fin { 0x80 } else { 0 } | opcode];
    let mask_bit = if masked { 0x80 } else { 0 };
    f.extend(length_header(payload.len() as u64, mask_bit));
    if masked {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        f.extend_from_slice(payload);
    }
    f
}

/// The second byte of a frame header and its extended length.
pub fn length_header(len: u64, mask_bit: u8) -> Vec<u8> {
    match len {
        0..=125 => vec![mask_bit | len as u8],
        126..=65535 => [&[mask_bit | 126][..], &(len as u16).to_be_bytes()].concat(),
        _ => [&[mask_bit | 127][..], &len.to_be_bytes()].concat(),
    }
}

/// A masked frame header announcing `len` bytes, with no payload after it.
pub fn bare_header(opcode: u8, len: u64) -> Vec<u8> {
    let mut h = vec![0x80 | opcode];
    h.extend(length_header(len, 0x80));
    h.extend_from_slice(&[1, 2, 3, 4]);
    h
}

/// Input for `fuzzing::wire`: the limit is `16 × limit` bytes, reads are
/// `chunk + 1` bytes long.
pub fn wire_input(limit: u8, chunk: u8, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![limit, chunk];
    v.extend(frames.concat());
    v
}

/// A protobuf base-128 varint.
pub fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// A MessagePack fixstr (at most 31 bytes).
pub fn fixstr(s: &str) -> Vec<u8> {
    assert!(s.len() < 32, "fixstr holds at most 31 bytes");
    [&[0xa0 | s.len() as u8][..], s.as_bytes()].concat()
}

/// `{"kind": {<case>: <body>}}` in MessagePack, `body` already encoded.
pub fn msgpack_kind(case: &str, body: &[u8]) -> Vec<u8> {
    [&[0x81][..], &fixstr("kind"), &[0x81], &fixstr(case), body].concat()
}

/// Input for `fuzzing::reassembly`: the limit is `4 × limit` bytes; each
/// item is (kind, payload) with kind 0 first text, 1 first binary, 2
/// continue, 3 last, 4 whole binary, 5 whole text.
pub fn reassembly_input(limit: u8, items: &[(u8, &[u8])]) -> Vec<u8> {
    let mut v = vec![limit];
    for (kind, payload) in items {
        let n = payload.len().min(255);
        v.push(*kind);
        v.push(n as u8);
        v.extend_from_slice(&payload[..n]);
    }
    v
}
