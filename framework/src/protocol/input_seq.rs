//! Input sequence numbers and the rule that turns them into acks.
//!
//! A client numbers its inputs to a room with a `u32` that may wrap (a bot
//! that plays for long enough, or a client that starts anywhere). The room
//! acknowledges, per client, the last input it processed; "last" is decided
//! by serial-number arithmetic (RFC 1982): `seq` is newer than `ack` when
//! `seq - ack (mod 2³²)` lies in `1..2³¹`. So an ack follows a stream that
//! wraps from `u32::MAX` to 0, and one stray input with a far-off seq (say
//! `u32::MAX` from a hostile or buggy client) moves the ack once and is
//! overtaken by the next input of the real stream instead of freezing it for
//! good, as taking the maximum did.
//!
//! ```
//! use playhouse::protocol::input_seq::{advance, is_newer};
//!
//! assert!(is_newer(1, 0));
//! assert!(is_newer(0, u32::MAX), "a stream that wraps keeps going");
//! assert!(!is_newer(5, 5));
//! // A stray u32::MAX does not hold the ack back: the next input moves it.
//! let ack = advance(Some(41), u32::MAX);
//! assert_eq!(ack, u32::MAX);
//! assert_eq!(advance(Some(ack), 42), 42);
//! ```

/// Whether input seq `seq` is newer than `than` (RFC 1982 serial-number
/// comparison over 32 bits). Seqs exactly 2³¹ apart are not ordered; the
/// answer is then `false`.
pub fn is_newer(seq: u32, than: u32) -> bool {
    let d = seq.wrapping_sub(than);
    d != 0 && d < 1 << 31
}

/// The ack after processing an input with `seq`, given the ack so far
/// (`None`: no input processed yet, then the first input sets it).
pub fn advance(ack: Option<u32>, seq: u32) -> u32 {
    match ack {
        Some(a) if !is_newer(seq, a) => a,
        _ => seq,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_stream_that_wraps_is_acked_all_the_way() {
        let mut ack = None;
        for seq in (u32::MAX - 3..=u32::MAX).chain(0..4) {
            ack = Some(advance(ack, seq));
            assert_eq!(ack, Some(seq));
        }
    }

    #[test]
    fn an_older_input_arriving_late_does_not_move_the_ack_back() {
        assert_eq!(advance(Some(10), 9), 10);
        assert_eq!(advance(Some(2), u32::MAX), 2, "MAX is older than 2 across the wrap");
    }

    proptest! {
        #[test]
        fn any_stream_of_increasing_seqs_is_acked_at_its_last(start: u32, steps in proptest::collection::vec(1u32..1000, 1..50)) {
            let mut seq = start;
            let mut ack = advance(None, seq);
            for s in steps {
                seq = seq.wrapping_add(s);
                ack = advance(Some(ack), seq);
                prop_assert_eq!(ack, seq);
            }
        }

        #[test]
        fn one_stray_seq_never_freezes_the_ack(start: u32, stray: u32, n in 1u32..100) {
            // Real stream start, start+1, …; one stray input in between.
            let mut ack = advance(None, start);
            ack = advance(Some(ack), stray);
            let mut last = start;
            for i in 1..=n {
                last = start.wrapping_add(i);
                ack = advance(Some(ack), last);
            }
            // Unless the stray is ahead of the whole stream (then it is the
            // newest input processed), the ack is back on the stream.
            let ahead = is_newer(stray, last);
            prop_assert!(ack == last || (ahead && ack == stray));
        }
    }
}
