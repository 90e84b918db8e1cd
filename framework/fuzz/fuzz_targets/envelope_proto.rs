//! A ClientMsg in protobuf, and an Input's payload through the arena schema.
//! The input layout and the invariants: `playhouse::fuzzing::envelope_proto`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    playhouse::fuzzing::envelope_proto(data);
});
