//! One abusive connection over a raw socket: it joins a room (or not),
//! sends non-fatal faults and checks each documented answer, then one fatal
//! fault and checks the close code. Failures come back as text, so that the
//! threads running many of these report every mismatch at the end.

use super::faults::{self, close_frame, Answer, Ctx, Fault};
use playhouse::protocol::envelope::{client_msg::Kind as C, server_msg::Kind as S, Join};
use playhouse::protocol::Codec;
use playhouse_tests::raw;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

/// One connection's plan.
pub struct Plan<'a> {
    /// Subprotocol token to offer.
    pub token: &'a str,
    /// A room to join first, if any.
    pub join: Option<&'a str>,
    /// A live room it does not join (for inputs to a room not joined).
    pub other_room: &'a str,
    /// Which faults: non-fatal ones from `first`, then fatal number `first`.
    pub first: usize,
    /// How many non-fatal faults before the fatal one.
    pub non_fatal: usize,
}

/// What one connection did.
#[derive(Debug, Default)]
pub struct Report {
    /// Faults sent (non-fatal and fatal).
    pub faults: usize,
    /// WebSocket frames those faults were made of.
    pub frames: usize,
    /// The server's answers, in order.
    pub answers: Vec<Answer>,
    /// Whether the join succeeded (it may find the room full).
    pub joined: bool,
}

/// A raw client connection.
pub struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
    codec: Codec,
}

impl Conn {
    /// Connects, upgrades offering `token`, and reads the `Welcome`.
    pub fn open(addr: SocketAddr, token: &str) -> Result<Conn, String> {
        let (s, buf) = raw::connect(addr, token);
        let codec = if token.ends_with("msgpack") { Codec::MsgPack } else { Codec::Proto };
        let mut c = Conn { s, buf, codec };
        match raw::next_frame(&mut c.s, &mut c.buf) {
            Some((_, 2, p)) if matches!(raw::decode_server(codec, &p), Some(S::Welcome(_))) => Ok(c),
            other => Err(format!("expected Welcome first, got {other:?}")),
        }
    }

    /// Writes raw bytes.
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.s.write_all(bytes)
    }

    /// Joins `room`; false if it is full (a legitimate answer under load).
    pub fn join(&mut self, room: &str) -> Result<bool, String> {
        let join = Join {
            request: u32::MAX,
            room: room.into(),
            options: [("name".into(), "eve".into())].into(),
            ..Default::default()
        };
        raw::send_envelope(&mut self.s, self.codec, C::Join(join)).map_err(|e| format!("join: {e}"))?;
        loop {
            match self.next_frame()? {
                (2, p) => match raw::decode_server(self.codec, &p) {
                    Some(S::Joined(j)) if j.request == u32::MAX => return Ok(true),
                    Some(S::JoinError(e))
                        if e.code == playhouse::protocol::envelope::JoinErrorCode::RoomFull as i32 =>
                    {
                        return Ok(false)
                    }
                    Some(S::JoinError(e)) => return Err(format!("join refused: {e:?}")),
                    _ => {}
                },
                (8, p) => return Err(format!("closed while joining: {:?}", raw::close_payload(&p))),
                _ => {}
            }
        }
    }

    fn next_frame(&mut self) -> Result<(u8, Vec<u8>), String> {
        raw::next_frame(&mut self.s, &mut self.buf)
            .map(|(_, op, p)| (op, p))
            .ok_or_else(|| "the socket ended or timed out without a close frame".to_string())
    }

    /// The next answer to a fault: an `Error`, a `JoinError` or a close.
    /// Skips everything else (states and messages of a joined room, pings).
    pub fn next_answer(&mut self) -> Result<Answer, String> {
        loop {
            match self.next_frame()? {
                (2, p) => match raw::decode_server(self.codec, &p) {
                    Some(S::Error(e)) => return Ok(Answer::Error(e.code)),
                    Some(S::JoinError(e)) => return Ok(Answer::JoinError(e.code)),
                    Some(_) => {}
                    None => return Err(format!("a server message that does not decode: {p:?}")),
                },
                (8, p) => return Ok(Answer::Close(raw::close_payload(&p).0.unwrap_or(1005))),
                _ => {}
            }
        }
    }

    /// After the server's close: answer it (best effort; the server may
    /// have dropped the connection already) and wait briefly for the server
    /// to drop TCP first, as RFC 6455 §7.1.1 has it.
    pub fn finish(mut self, code: u16) {
        let _ = self.s.write_all(&close_frame(if code == 1005 { 1000 } else { code }));
        let _ = self.s.shutdown(Shutdown::Write);
        let _ = self.s.set_read_timeout(Some(Duration::from_millis(500)));
        let mut sink = [0u8; 4096];
        while matches!(self.s.read(&mut sink), Ok(n) if n > 0) {}
    }
}

/// Runs one abusive connection by `plan`, checking every answer.
pub fn run(addr: SocketAddr, plan: &Plan<'_>) -> Result<Report, String> {
    let mut c = Conn::open(addr, plan.token)?;
    let mut report = Report::default();
    let joined = match plan.join {
        Some(room) => c.join(room)?.then_some(room),
        None => None,
    };
    report.joined = joined.is_some();
    let ctx = Ctx { codec: c.codec, joined, other_room: plan.other_room };
    let mut expected = Vec::new();
    let mut sent = |c: &mut Conn, f: &Fault, report: &mut Report| {
        report.faults += 1;
        report.frames += f.frames;
        expected.push((f.name, f.answer));
        // A fatal fault may be refused before all of it is written.
        let _ = c.write(&f.bytes);
    };
    // Non-fatal faults are pipelined; their answers come back in order.
    for k in 0..plan.non_fatal {
        sent(&mut c, &faults::non_fatal(plan.first + k, &ctx), &mut report);
    }
    sent(&mut c, &faults::fatal(plan.first, &ctx), &mut report);
    for (name, want) in expected {
        let got = c.next_answer().map_err(|e| format!("{name} ({}): {e} after {:?}", plan.token, report.answers))?;
        report.answers.push(got);
        if got != want {
            return Err(format!("{name} ({}, joined {}): expected {want:?}, got {got:?}", plan.token, report.joined));
        }
    }
    if let Some(Answer::Close(code)) = report.answers.last() {
        c.finish(*code);
    }
    Ok(report)
}
