//! Sec-WebSocket-Protocol header lines against a Negotiator (first byte: versions and codecs).
//! The input layout and the invariants: `playhouse::fuzzing::subprotocol`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    playhouse::fuzzing::subprotocol(data);
});
