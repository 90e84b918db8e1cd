//! A deliberately minimal WebSocket client on a plain `TcpStream`, for tests
//! that must do what a real client library refuses to: stop reading,
//! send malformed frames, never answer pings.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Opens a TCP connection and completes the upgrade offering `token`.
/// Returns the stream positioned after the response headers, plus any bytes
/// already read past them.
pub fn connect(addr: SocketAddr, token: &str) -> (TcpStream, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
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
pub fn write_frame(s: &mut TcpStream, fin: bool, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
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
    let mut out = Vec::new();
    loop {
        if buf.len() < 2 {
            return out;
        }
        let (fin, op) = (buf[0] & 0x80 != 0, buf[0] & 0x0f);
        let (len, hdr) = match buf[1] & 0x7f {
            126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
            127 if buf.len() >= 10 => (u64::from_be_bytes(buf[2..10].try_into().expect("8 bytes")) as usize, 10),
            126 | 127 => return out,
            n => (n as usize, 2),
        };
        if buf.len() < hdr + len {
            return out;
        }
        out.push((fin, op, buf[hdr..hdr + len].to_vec()));
        buf.drain(..hdr + len);
    }
}

/// Reads frames until a close frame arrives or the socket ends; returns the
/// close code (None if the socket ended without one) and the reason.
pub fn read_until_close(s: &mut TcpStream, mut buf: Vec<u8>) -> (Option<u16>, String) {
    let mut chunk = [0u8; 16384];
    loop {
        for (_, op, payload) in parse_frames(&mut buf) {
            if op == 8 {
                let code = (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                let reason = String::from_utf8_lossy(payload.get(2..).unwrap_or_default()).to_string();
                return (code, reason);
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return (None, String::new()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}
