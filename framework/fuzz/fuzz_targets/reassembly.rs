//! A sequence of continuation frames through MessageAssembler, checked against a model.
//! The input layout and the invariants: `playhouse::fuzzing::reassembly`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    playhouse::fuzzing::reassembly(data);
});
