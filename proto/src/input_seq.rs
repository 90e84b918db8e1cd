//! Input sequence numbers and acks.
//!
//! A client numbers its inputs to a room with a `u32` that may wrap (a bot
//! that plays long enough, or a client that starts anywhere). The room acks,
//! per client, **the seq of the last input it processed**, in arrival order
//! (one connection delivers a client's inputs in the order it sent them).
//! So a stream that wraps from `u32::MAX` to 0 keeps being acked, and one
//! stray seq (say `u32::MAX` from a buggy or hostile client) shows in one
//! ack and is gone with the next input. Taking the largest seq instead, as
//! Playhouse once did, froze the ack for good after either.
//!
//! A client comparing seqs — to drop the buffered inputs an ack covers —
//! uses serial-number arithmetic (RFC 1982, [`is_newer`]), so its own
//! wrap-around is handled too.
//!
//! ```
//! use playhouse_protocol::input_seq::{is_acked, is_newer};
//!
//! assert!(is_newer(1, 0));
//! assert!(is_newer(0, u32::MAX), "a stream that wraps keeps going");
//! assert!(!is_newer(5, 5));
//! // After an ack of 0 (following 2³²−1), inputs 2³²−1 and 0 are covered, 1 is not.
//! assert!(is_acked(u32::MAX, 0) && is_acked(0, 0) && !is_acked(1, 0));
//! ```

/// Whether input seq `seq` is newer than `than` (RFC 1982 serial-number
/// comparison over 32 bits: `seq - than (mod 2³²)` is in `1..2³¹`). Seqs
/// exactly 2³¹ apart are not ordered; the answer is then `false`.
pub fn is_newer(seq: u32, than: u32) -> bool {
    let d = seq.wrapping_sub(than);
    d != 0 && d < 1 << 31
}

/// Whether the input with `seq` is covered by an ack of `ack` (it is not
/// newer than the ack): a predicting client drops it from its buffer.
pub fn is_acked(seq: u32, ack: u32) -> bool {
    !is_newer(seq, ack)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_wrapping_stream_is_ordered_across_the_wrap() {
        let seqs: Vec<u32> = (u32::MAX - 3..=u32::MAX).chain(0..4).collect();
        for w in seqs.windows(2) {
            assert!(is_newer(w[1], w[0]) && !is_newer(w[0], w[1]), "{w:?}");
        }
    }

    proptest! {
        #[test]
        fn within_half_the_range_newer_is_a_strict_order(a: u32, d in 1u32..(1 << 31)) {
            let b = a.wrapping_add(d);
            prop_assert!(is_newer(b, a));
            prop_assert!(!is_newer(a, b));
            prop_assert!(is_acked(a, b));
            prop_assert!(!is_acked(b, a));
        }
    }
}
