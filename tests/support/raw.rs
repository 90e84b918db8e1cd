//! A deliberately minimal WebSocket client on a plain `TcpStream`, for tests
//! that must do what a real client library refuses to: stop reading,
//! send malformed frames, never answer pings.

use playhouse::protocol::envelope::{
    client_msg::Kind as ClientKind, server_msg::Kind as ServerKind, ClientMsg, ServerMsg,
};
use playhouse::protocol::Codec;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Opens a TCP connection and completes the upgrade offering `token`.
/// Returns the stream positioned after the response headers, plus any bytes
/// already read past them.
pub fn connect(addr: SocketAddr, token: &str) -> (TcpStream, Vec<u8>) {
    handshake(TcpStream::connect(addr).expect("connect"), addr, token)
}

/// Completes the upgrade offering `token` on an already connected stream
/// (for sockets with special options, e.g. a small `SO_RCVBUF`). Like
/// [`connect`], returns the stream and any bytes read past the headers.
pub fn handshake(mut s: TcpStream, addr: SocketAddr, token: &str) -> (TcpStream, Vec<u8>) {
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let req = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: {token}\r\n\r\n"
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).expect("read response");
        assert!(n > 0, "connection closed during handshake");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            assert!(head.starts_with("HTTP/1.1 101"), "upgrade refused: {head}");
            return (s, buf[end + 4..].to_vec());
        }
    }
}

/// Writes one masked client frame.
pub fn write_frame(s: &mut impl Write, fin: bool, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
    let mut f = vec![if fin { 0x80 } else { 0 } | opcode];
    let len = payload.len();
    if len < 126 {
        f.push(0x80 | len as u8);
    } else if len <= 0xffff {
        f.push(0x80 | 126);
        f.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        f.push(0x80 | 127);
        f.extend_from_slice(&(len as u64).to_be_bytes());
    }
    let mask = [0x12, 0x34, 0x56, 0x78];
    f.extend_from_slice(&mask);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    s.write_all(&f)
}

/// A server frame: (fin, opcode, payload).
pub type Frame = (bool, u8, Vec<u8>);

/// Parses every complete server (unmasked) frame in `buf`, leaving the rest.
pub fn parse_frames(buf: &mut Vec<u8>) -> Vec<Frame> {
    std::iter::from_fn(|| parse_frame(buf)).collect()
}

/// Parses the first frame in `buf` if it is complete, removing it.
pub fn parse_frame(buf: &mut Vec<u8>) -> Option<Frame> {
    if buf.len() < 2 {
        return None;
    }
    let (fin, op) = (buf[0] & 0x80 != 0, buf[0] & 0x0f);
    let (len, hdr) = match buf[1] & 0x7f {
        126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
        127 if buf.len() >= 10 => (u64::from_be_bytes(buf[2..10].try_into().expect("8 bytes")) as usize, 10),
        126 | 127 => return None,
        n => (n as usize, 2),
    };
    if buf.len() < hdr + len {
        return None;
    }
    let frame = (fin, op, buf[hdr..hdr + len].to_vec());
    buf.drain(..hdr + len);
    Some(frame)
}

/// The (code, reason) of a close frame's payload.
pub fn close_payload(payload: &[u8]) -> (Option<u16>, String) {
    let code = (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
    let reason = String::from_utf8_lossy(payload.get(2..).unwrap_or_default()).to_string();
    (code, reason)
}

/// Reads the next whole frame, reading more from `s` into `buf` as needed.
/// `None` if the socket ends, fails or times out first (the stream's read
/// timeout bounds each wait).
pub fn next_frame(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Frame> {
    let mut chunk = [0u8; 16384];
    loop {
        if let Some(f) = parse_frame(buf) {
            return Some(f);
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Reads frames until a close frame arrives or the socket ends; returns
/// every frame before the close, the close code (None if the socket ended
/// without one) and the reason.
pub fn frames_until_close(s: &mut TcpStream, mut buf: Vec<u8>) -> (Vec<Frame>, Option<u16>, String) {
    let mut seen = Vec::new();
    while let Some(f) = next_frame(s, &mut buf) {
        if f.1 == 8 {
            let (code, reason) = close_payload(&f.2);
            return (seen, code, reason);
        }
        seen.push(f);
    }
    (seen, None, String::new())
}

/// Reads frames until a close frame arrives or the socket ends; returns the
/// close code (None if the socket ended without one) and the reason.
pub fn read_until_close(s: &mut TcpStream, buf: Vec<u8>) -> (Option<u16>, String) {
    let (_, code, reason) = frames_until_close(s, buf);
    (code, reason)
}

/// Writes one client envelope as a single masked binary frame, encoded with
/// `codec` (the raw client must use the codec of the token it offered).
pub fn send_envelope(s: &mut TcpStream, codec: Codec, kind: ClientKind) -> std::io::Result<()> {
    let bytes = codec.encode_to_vec(&ClientMsg { kind: Some(kind) }).expect("envelope encodes");
    write_frame(s, true, 2, &bytes)
}

/// Decodes a server envelope from a binary frame's payload.
pub fn decode_server(codec: Codec, payload: &[u8]) -> Option<ServerKind> {
    codec.decode::<ServerMsg>(payload).ok()?.kind
}
