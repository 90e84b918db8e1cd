//! A game input payload (first byte: codec and schema version) through the arena schema.
//! The input layout and the invariants: `playhouse::fuzzing::input_payload`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    playhouse::fuzzing::input_payload(data);
});
