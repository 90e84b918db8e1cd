//! Raw client bytes through the frame guard, actix-http's frame decoder and the assembler.
//! The input layout and the invariants: `playhouse::fuzzing::wire`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    playhouse::fuzzing::wire(data);
});
