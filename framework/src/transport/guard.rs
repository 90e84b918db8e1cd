//! Refuses an oversized frame when its header arrives, not after its payload.
//!
//! actix-http's frame decoder checks a frame's length against its limit only
//! once the whole frame is buffered. So a client that announces a 1 GiB
//! frame would make the server buffer 1 GiB before it is refused with 1009,
//! whatever the configured limit. [`FrameScanner`] follows the frame
//! boundaries of the bytes as they are read (headers only, never the payload
//! bytes): when a header announces more than the limit, the socket's task
//! decodes the bytes before that header, then closes with 1009.

/// Follows WebSocket frame boundaries through a byte stream (RFC 6455 §5.2).
#[derive(Debug, Clone)]
pub(crate) struct FrameScanner {
    max: u64,
    /// Header bytes collected so far (2 to 14 bytes).
    header: [u8; 14],
    have: usize,
    /// Payload bytes of the current frame still to skip.
    skip: u64,
}

impl FrameScanner {
    /// A scanner that refuses frames with more than `max` payload bytes.
    pub(crate) fn new(max: usize) -> Self {
        FrameScanner { max: max as u64, header: [0; 14], have: 0, skip: 0 }
    }

    /// Feeds the next bytes of the stream. `Err((at, len))`: the frame whose
    /// header starts at `at` in `data` (0 if it started in an earlier chunk)
    /// announces `len` payload bytes, more than the limit.
    pub(crate) fn feed(&mut self, data: &[u8]) -> Result<(), (usize, u64)> {
        let mut i = 0;
        while i < data.len() {
            if self.skip > 0 {
                let n = self.skip.min((data.len() - i) as u64);
                self.skip -= n;
                i += n as usize;
                continue;
            }
            let start = i.saturating_sub(self.have);
            let need = self.header_len();
            let take = (need - self.have).min(data.len() - i);
            self.header[self.have..self.have + take].copy_from_slice(&data[i..i + take]);
            self.have += take;
            i += take;
            // Decide as soon as the length is known, not after the mask key:
            // actix-http's decoder refuses a length with the top bit set on
            // its own once it has the length, so a guard that waited for
            // the key would not always be first (found by fuzzing `wire`).
            if self.have >= self.length_end() && self.payload_len() > self.max {
                return Err((start, self.payload_len()));
            }
            if self.have < self.header_len() {
                continue; // the length byte may have asked for more header
            }
            self.have = 0;
            self.skip = self.payload_len();
        }
        Ok(())
    }

    /// Header size as far as it is known: 2, then 2 + extended length +
    /// masking key once the second byte is in.
    fn header_len(&self) -> usize {
        let mask = if self.have >= 2 && self.header[1] & 0x80 != 0 { 4 } else { 0 };
        self.length_end() + mask
    }

    /// Where the length ends: 2, then 2 + extended length once the second
    /// byte is in.
    fn length_end(&self) -> usize {
        if self.have < 2 {
            return 2;
        }
        match self.header[1] & 0x7f {
            126 => 4,
            127 => 10,
            _ => 2,
        }
    }

    fn payload_len(&self) -> u64 {
        match self.header[1] & 0x7f {
            126 => u64::from(u16::from_be_bytes([self.header[2], self.header[3]])),
            127 => u64::from_be_bytes(self.header[2..10].try_into().expect("8 bytes")),
            n => u64::from(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A masked client frame header announcing `len` bytes.
    fn header(len: u64) -> Vec<u8> {
        let mut h = vec![0x82];
        match len {
            0..=125 => h.push(0x80 | len as u8),
            126..=65535 => {
                h.push(0x80 | 126);
                h.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                h.push(0x80 | 127);
                h.extend_from_slice(&len.to_be_bytes());
            }
        }
        h.extend_from_slice(&[1, 2, 3, 4]);
        h
    }

    fn frame(len: usize) -> Vec<u8> {
        let mut f = header(len as u64);
        f.resize(f.len() + len, 0xaa);
        f
    }

    #[test]
    fn refuses_at_the_header_and_points_at_it() {
        let mut stream = frame(10);
        let at = stream.len();
        stream.extend(header(1 << 30));
        let mut s = FrameScanner::new(1000);
        assert_eq!(s.feed(&stream), Err((at, 1 << 30)));
        // Unmasked frames and the 16-bit length form too.
        let mut s = FrameScanner::new(1000);
        assert_eq!(s.feed(&[0x81, 126, 0x04, 0x00]), Err((0, 1024)));
        assert_eq!(FrameScanner::new(1024).feed(&[0x81, 126, 0x04, 0x00]), Ok(()));
    }

    #[test]
    fn refuses_once_the_length_is_in_without_waiting_for_the_mask_key() {
        // A 64-bit length with the top bit set, and no mask key (yet).
        let mut len = [0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 3];
        assert_eq!(FrameScanner::new(1024).feed(&len), Err((0, (1 << 63) + 3)));
        len[2] = 0;
        let mut s = FrameScanner::new(1024);
        assert_eq!(s.feed(&len[..9]), Ok(()), "the length is not complete yet");
        assert_eq!(s.feed(&len[9..]), Ok(()), "3 bytes are within the limit");
    }

    #[test]
    fn a_header_split_across_chunks_is_found_and_reported_from_0() {
        let h = header(70_000);
        let mut s = FrameScanner::new(65_536);
        assert_eq!(s.feed(&frame(3)), Ok(()));
        assert_eq!(s.feed(&h[..1]), Ok(()));
        assert_eq!(s.feed(&h[1..5]), Ok(()));
        assert_eq!(s.feed(&h[5..]), Err((0, 70_000)));
    }

    proptest! {
        #[test]
        fn frames_within_the_limit_pass_however_they_are_cut(
            sizes in proptest::collection::vec(0usize..70_000, 1..8),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
            over in 70_001u64..u64::MAX,
        ) {
            let mut stream: Vec<u8> = sizes.iter().flat_map(|&n| frame(n)).collect();
            let at = stream.len();
            stream.extend(header(over));
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(stream.len())).collect();
            points.push(stream.len());
            points.sort_unstable();
            points.dedup();
            let mut s = FrameScanner::new(70_000);
            let mut prev = 0;
            let mut result = Ok(());
            for p in points {
                result = s.feed(&stream[prev..p]).map_err(|(off, len)| (prev + off, len));
                if result.is_err() { break; }
                prev = p;
            }
            // Reported from the chunk in which the header completed: at the
            // header itself, or the start of that chunk if the header began
            // in an earlier one.
            let (reported, len) = result.expect_err("the oversized header must be found");
            prop_assert_eq!(len, over);
            prop_assert!(reported <= stream.len());
            prop_assert!(reported == at || (reported > at && reported < stream.len()));
        }
    }
}
