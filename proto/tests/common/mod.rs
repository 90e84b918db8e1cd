//! Byte generators shared by the vector tests (`delta_vectors.rs`,
//! `compress_vectors.rs`): the same inputs on every run, so the committed
//! JSON can be compared with what the code writes.

/// A byte pattern of `len` bytes, different for each `seed`.
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_mul(31).wrapping_add(seed.wrapping_mul(97)) % 251) as u8).collect()
}

/// Bytes that look like noise (an LCG): two seeds share next to nothing,
/// and DEFLATE cannot shrink them.
pub fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect()
}
