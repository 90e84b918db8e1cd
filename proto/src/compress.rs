//! Compression of large state payloads (`State.compression`,
//! docs/protocol.md §4.6).
//!
//! actix-http has no permessage-deflate, and the WebSocket extension would
//! compress each connection's frames on its own, while a room encodes a
//! state once for every client of a (version, codec) group. So Playhouse
//! compresses the *payload* of a `State` (whole or delta) once, where it is
//! encoded, and every client of the group that asked for compression shares
//! the compressed frame.
//!
//! The algorithm is raw DEFLATE (RFC 1951), each payload on its own (no
//! dictionary, no context between frames: one frame serves many clients).
//! The server uses `flate2` (miniz_oxide, pure Rust) at its fastest level;
//! the JavaScript SDK inflates with `fflate`, and a browser could use
//! `DecompressionStream("deflate-raw")`. Not zstd: browsers have no zstd
//! decoder, and a JavaScript one is several times larger than `fflate`'s
//! inflate.
//!
//! A client asks for it at the handshake, with the query parameter
//! `compress=deflate` on the WebSocket URL (a browser cannot add headers to
//! its upgrade request, and `Sec-WebSocket-Protocol` names one game token);
//! the server says in `Welcome.compression` whether it will compress.
//!
//! ```
//! use playhouse_protocol::compress::{deflate, inflate, Compression};
//!
//! let payload = b"state state state state state state state state".repeat(8);
//! let mut z = Vec::new();
//! deflate(&payload, &mut z).unwrap();
//! assert!(z.len() < payload.len() / 4);
//! let mut back = Vec::new();
//! inflate(&z, 1 << 20, &mut back).unwrap();
//! assert_eq!(back, payload);
//! assert_eq!(Compression::offered("room=a&compress=zstd,deflate"), Some(Compression::Deflate));
//! ```

/// The query parameter that asks for compression at the handshake.
pub const QUERY_PARAM: &str = "compress";

/// The largest whole state a client rebuilds (from a delta) or inflates:
/// a hostile or broken server cannot make a client allocate more. The Rust
/// client and the `playhouse` CLI use it; the JS SDK inflates to as much.
pub const MAX_STATE_BYTES: usize = 16 << 20;

/// Payloads smaller than this are never compressed: DEFLATE saves little
/// on them and the client would inflate for nothing.
pub const MIN_BYTES: usize = 256;

/// A compression of `State` payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Raw DEFLATE (RFC 1951). `State.compression` = 1.
    Deflate,
}

impl Compression {
    /// Every compression this crate implements, best first.
    pub const ALL: [Compression; 1] = [Compression::Deflate];

    /// The name in the query parameter and in `Welcome.compression`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Deflate => "deflate",
        }
    }

    /// The compression named `name`, if implemented.
    pub fn from_name(name: &str) -> Option<Compression> {
        Compression::ALL.into_iter().find(|c| c.name() == name.trim())
    }

    /// The number in `State.compression`.
    pub fn wire(self) -> u32 {
        match self {
            Compression::Deflate => 1,
        }
    }

    /// The compression numbered `n` in `State.compression` (0: none).
    pub fn from_wire(n: u32) -> Option<Compression> {
        Compression::ALL.into_iter().find(|c| c.wire() == n)
    }

    /// What a handshake's query string (without the `?`) asks for: the
    /// first implemented name among the comma-separated values of
    /// [`QUERY_PARAM`]. Unknown names are ignored, as a subprotocol token
    /// is, so a newer client's offer still works on this server.
    pub fn offered(query: &str) -> Option<Compression> {
        Compression::choose(query, &Compression::ALL)
    }

    /// The first of `served` (the server's preference, best first) that the
    /// handshake's query string asks for.
    pub fn choose(query: &str, served: &[Compression]) -> Option<Compression> {
        let asked: Vec<Compression> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .filter(|(k, _)| *k == QUERY_PARAM)
            .flat_map(|(_, v)| v.split(','))
            .filter_map(Compression::from_name)
            .collect();
        served.iter().copied().find(|c| asked.contains(c))
    }

    /// `url` with this compression asked for (appended to its query).
    ///
    /// ```
    /// use playhouse_protocol::compress::Compression;
    /// assert_eq!(Compression::Deflate.ask("ws://h/ws"), "ws://h/ws?compress=deflate");
    /// assert_eq!(Compression::Deflate.ask("ws://h/ws?a=1"), "ws://h/ws?a=1&compress=deflate");
    /// ```
    pub fn ask(self, url: &str) -> String {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}{QUERY_PARAM}={}", self.name())
    }
}

/// How a connection's large state payloads are compressed: the algorithm,
/// and the smallest payload it is applied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Compressing {
    /// The algorithm.
    pub algorithm: Compression,
    /// Payloads smaller than this go as they are ([`MIN_BYTES`] by default).
    pub min_bytes: usize,
}

/// Why a compressed payload could not be inflated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InflateError {
    /// Not valid DEFLATE data, or cut short.
    #[error("compressed payload is corrupt: {0}")]
    Corrupt(String),
    /// It inflates to more than the caller's limit.
    #[error("compressed payload inflates past {0} bytes")]
    TooLarge(usize),
    /// `State.compression` names a compression this side does not know.
    #[error("unknown compression {0}")]
    Unknown(u32),
}

/// Appends `input` compressed with raw DEFLATE at the fastest level to `out`.
/// A server that compresses every tick keeps a [`Deflater`] instead.
pub fn deflate(input: &[u8], out: &mut Vec<u8>) -> Result<(), DeflateError> {
    Deflater::new().deflate(input, out)
}

/// The encoder failed (miniz_oxide reports no such case for a fresh or
/// reset stream; the payload then goes uncompressed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("compression failed: {0}")]
pub struct DeflateError(String);

/// A raw-DEFLATE encoder kept from one payload to the next: its state
/// (hash chains and buffers, a few hundred KiB in miniz_oxide) is allocated
/// once, not per state.
pub struct Deflater {
    c: flate2::Compress,
}

impl Default for Deflater {
    fn default() -> Self {
        Deflater::new()
    }
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater").finish_non_exhaustive()
    }
}

impl Deflater {
    /// An encoder at the fastest level, raw DEFLATE (no zlib header).
    pub fn new() -> Self {
        Deflater { c: flate2::Compress::new(flate2::Compression::fast(), false) }
    }

    /// Appends `input` compressed, on its own (no context from the payload
    /// before), to `out`.
    pub fn deflate(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), DeflateError> {
        self.c.reset();
        let start = out.len();
        out.reserve(input.len() / 2 + 64);
        loop {
            let consumed = usize::try_from(self.c.total_in()).unwrap_or(usize::MAX).min(input.len());
            match self.c.compress_vec(&input[consumed..], out, flate2::FlushCompress::Finish) {
                Ok(flate2::Status::StreamEnd) => return Ok(()),
                Ok(_) => out.reserve(out.capacity().max(64)),
                Err(e) => {
                    out.truncate(start);
                    return Err(DeflateError(e.to_string()));
                }
            }
        }
    }
}

/// Appends `input` inflated to `out`, refusing more than `limit` bytes
/// (a payload is bounded like any frame, whatever its compressed size).
/// A client that inflates many states keeps an [`Inflater`] instead.
pub fn inflate(input: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), InflateError> {
    Inflater::new().inflate(input, limit, out)
}

/// The payload of a `State` with `compression` (its field), inflated if
/// compressed, into `out`; `Ok(false)` (and `out` untouched) if it was not.
pub fn inflate_state(compression: u32, payload: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<bool, InflateError> {
    Inflater::new().inflate_state(compression, payload, limit, out)
}

/// A raw-DEFLATE decoder kept from one payload to the next: its state (a
/// 32 KiB window and tables, about 40 KiB) is allocated once, which is most
/// of the cost of inflating a state of a few hundred bytes.
pub struct Inflater {
    d: flate2::Decompress,
}

impl Default for Inflater {
    fn default() -> Self {
        Inflater::new()
    }
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater").finish_non_exhaustive()
    }
}

impl Inflater {
    /// A decoder for raw DEFLATE (no zlib header).
    pub fn new() -> Self {
        Inflater { d: flate2::Decompress::new(false) }
    }

    /// [`inflate`] with this decoder.
    pub fn inflate(&mut self, input: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), InflateError> {
        self.d.reset(false);
        let start = out.len();
        let result = self.run(input, start, limit, out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn run(&mut self, input: &[u8], start: usize, limit: usize, out: &mut Vec<u8>) -> Result<(), InflateError> {
        // Room for a few times the input at first, never past limit + 1
        // bytes of output (one more than allowed tells "too large").
        let mut grow = input.len().saturating_mul(4).max(256);
        loop {
            let written = out.len() - start;
            if written > limit {
                return Err(InflateError::TooLarge(limit));
            }
            if out.len() == out.capacity() {
                out.reserve(grow.min(limit.saturating_add(1) - written));
                grow = grow.saturating_mul(2);
            }
            let (in_before, out_before) = (self.d.total_in(), out.len());
            let consumed = usize::try_from(in_before).unwrap_or(usize::MAX).min(input.len());
            let status = self
                .d
                .decompress_vec(&input[consumed..], out, flate2::FlushDecompress::None)
                .map_err(|e| InflateError::Corrupt(e.to_string()))?;
            if out.len() - start > limit {
                return Err(InflateError::TooLarge(limit));
            }
            match status {
                flate2::Status::StreamEnd => return Ok(()),
                _ if self.d.total_in() == in_before && out.len() == out_before && out.len() < out.capacity() => {
                    return Err(InflateError::Corrupt("cut short".into()));
                }
                _ => {}
            }
        }
    }

    /// [`inflate_state`] with this decoder.
    pub fn inflate_state(
        &mut self,
        compression: u32,
        payload: &[u8],
        limit: usize,
        out: &mut Vec<u8>,
    ) -> Result<bool, InflateError> {
        if compression == 0 {
            return Ok(false);
        }
        Compression::from_wire(compression).ok_or(InflateError::Unknown(compression))?;
        self.inflate(payload, limit, out).map(|()| true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_offer_is_read_from_the_query() {
        assert_eq!(Compression::offered(""), None);
        assert_eq!(Compression::offered("compress="), None);
        assert_eq!(Compression::offered("compress=zstd"), None);
        assert_eq!(Compression::offered("x=1&compress=zstd,%20deflate"), None, "not URL-decoded: not offered");
        assert_eq!(Compression::offered("x=1&compress=zstd, deflate"), Some(Compression::Deflate));
        assert_eq!(Compression::offered("compress=deflate&x"), Some(Compression::Deflate));
        assert_eq!(Compression::offered("nocompress=deflate"), None);
        assert_eq!(Compression::choose("compress=deflate", &[]), None, "a server that serves none");
    }

    #[test]
    fn bombs_and_garbage_are_refused() {
        let mut z = Vec::new();
        deflate(&vec![0u8; 100_000], &mut z).unwrap();
        let mut out = vec![7];
        assert_eq!(inflate(&z, 65_536, &mut out), Err(InflateError::TooLarge(65_536)));
        assert_eq!(out, [7], "nothing appended on refusal");
        assert!(matches!(inflate(&[0xff, 0xff, 0xff], 1024, &mut out), Err(InflateError::Corrupt(_))));
        assert!(matches!(inflate(&z[..z.len() / 2], 1 << 20, &mut Vec::new()), Err(InflateError::Corrupt(_))));
        assert_eq!(inflate_state(9, &z, 1 << 20, &mut Vec::new()), Err(InflateError::Unknown(9)));
        assert_eq!(inflate_state(0, &z, 1 << 20, &mut out), Ok(false));
    }

    #[test]
    fn one_inflater_serves_many_payloads_and_survives_bad_ones() {
        let (mut i, mut d) = (Inflater::new(), Deflater::new());
        for n in [0usize, 1, 300, 70_000] {
            let data: Vec<u8> = (0..n).map(|k| (k % 251) as u8).collect();
            let mut z = Vec::new();
            d.deflate(&data, &mut z).unwrap();
            let mut out = Vec::new();
            i.inflate(&z, n, &mut out).expect("inflates");
            assert_eq!(out, data);
            let mut unbounded = Vec::new();
            i.inflate(&z, usize::MAX, &mut unbounded).expect("no limit");
            assert_eq!(unbounded, data);
            assert!(matches!(i.inflate(&z[..z.len() / 2], 1 << 20, &mut out), Err(InflateError::Corrupt(_))));
            assert_eq!(out, data, "nothing appended on refusal");
            if n > 0 {
                assert_eq!(i.inflate(&z, n - 1, &mut Vec::new()), Err(InflateError::TooLarge(n - 1)));
            }
        }
    }

    proptest! {
        #[test]
        fn garbage_never_panics_and_stays_bounded(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut out = Vec::new();
            if Inflater::new().inflate(&data, 4096, &mut out).is_ok() {
                prop_assert!(out.len() <= 4096);
            } else {
                prop_assert!(out.is_empty());
            }
        }

        #[test]
        fn inflate_undoes_deflate(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let mut z = Vec::new();
            deflate(&data, &mut z).unwrap();
            let mut back = Vec::new();
            prop_assert_eq!(inflate_state(1, &z, data.len(), &mut back), Ok(true));
            prop_assert_eq!(back, data);
        }
    }
}
