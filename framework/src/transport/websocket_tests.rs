//! Tests of the socket task (`websocket.rs`) over in-memory streams.

use super::*;
use crate::transport::Doorbell;
use crate::transport::{Link, WholeMessage};
use actix_codec::Decoder;
use actix_codec::Encoder;
use actix_http::ws::{CloseReason, Frame};
use bytes::Bytes;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// Echoes messages; on a wake-up sends `burst` frames of 100 bytes;
/// records what happened to it.
#[derive(Default)]
struct Probe {
    log: Rc<RefCell<Vec<String>>>,
    burst: usize,
    bell: Rc<RefCell<Option<Doorbell>>>,
    direct: Rc<RefCell<Option<crate::transport::DirectWriter>>>,
}

impl Endpoint for Probe {
    fn started(&mut self, link: &mut Link<'_>) {
        *self.bell.borrow_mut() = Some(link.doorbell());
        *self.direct.borrow_mut() = link.direct();
    }
    fn on_message(&mut self, msg: WholeMessage, link: &mut Link<'_>) {
        self.log.borrow_mut().push(format!("message {}", msg.len()));
        if let WholeMessage::Binary(b) = msg {
            link.binary(b);
        }
    }
    fn on_wake(&mut self, link: &mut Link<'_>) {
        self.log.borrow_mut().push("wake".into());
        for _ in 0..self.burst {
            link.binary(Bytes::from(vec![7u8; 100]));
        }
    }
    fn on_pong(&mut self, link: &mut Link<'_>) {
        self.log.borrow_mut().push(format!("pong, rtt measured: {}", link.rtt().is_some()));
    }
    fn stopped(&mut self, how: Ending) {
        self.log.borrow_mut().push(format!("stopped {how:?}"));
    }
}

fn client_frame(msg: ws::Message) -> Vec<u8> {
    let mut out = BytesMut::new();
    ws::Codec::new().client_mode().encode(msg, &mut out).unwrap();
    out.to_vec()
}

/// Decodes every frame the server wrote until it closes the stream.
async fn frames_until_eof(client: &mut DuplexStream) -> Vec<Frame> {
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut raw)).await.unwrap().unwrap();
    let mut buf = BytesMut::from(&raw[..]);
    let mut codec = ws::Codec::new().client_mode();
    let mut frames = Vec::new();
    while let Some(f) = codec.decode(&mut buf).unwrap() {
        frames.push(f);
    }
    frames
}

fn start(probe: Probe, config: TransportConfig, capacity: usize) -> DuplexStream {
    let (client, server) = tokio::io::duplex(capacity);
    let t = Transport::new(probe, config, Arc::new(()));
    tokio::task::spawn_local(t.run(Box::new(server), BytesMut::new(), None, None));
    client
}

async fn local<F: Future<Output = ()>>(f: F) {
    tokio::task::LocalSet::new().run_until(f).await
}

#[tokio::test]
async fn echoes_then_answers_a_close_and_ends() {
    local(async {
        let probe = Probe::default();
        let log = probe.log.clone();
        let mut client = start(probe, TransportConfig::default(), 4096);
        client.write_all(&client_frame(ws::Message::Binary(Bytes::from_static(b"hi")))).await.unwrap();
        let close = CloseReason { code: ws::CloseCode::Normal, description: None };
        client.write_all(&client_frame(ws::Message::Close(Some(close)))).await.unwrap();
        let frames = frames_until_eof(&mut client).await;
        assert_eq!(frames.len(), 2, "{frames:?}");
        assert!(matches!(&frames[0], Frame::Binary(b) if &b[..] == b"hi"));
        assert!(matches!(&frames[1], Frame::Close(Some(r)) if r.code == ws::CloseCode::Normal));
        assert_eq!(*log.borrow(), ["message 2", "stopped PeerClosed(Some(1000))"]);
    })
    .await
}

#[tokio::test]
async fn an_oversized_frame_is_refused_by_its_header_with_1009() {
    local(async {
        let config = TransportConfig { max_message_size: 1000, ..TransportConfig::default() };
        let mut client = start(Probe::default(), config, 4096);
        // A whole small frame, then only the header of a 1 MiB one.
        let mut bytes = client_frame(ws::Message::Binary(Bytes::from_static(b"ok")));
        let big = client_frame(ws::Message::Binary(Bytes::from(vec![0u8; 1 << 20])));
        bytes.extend_from_slice(&big[..14]);
        client.write_all(&bytes).await.unwrap();
        let frames = frames_until_eof(&mut client).await;
        assert!(matches!(&frames[0], Frame::Binary(b) if &b[..] == b"ok"), "{frames:?}");
        let Some(Frame::Close(Some(r))) = frames.last() else { panic!("{frames:?}") };
        assert_eq!(u16::from(r.code), 1009);
        assert!(r.description.as_deref().unwrap_or("").contains("1048576"), "{r:?}");
    })
    .await
}

#[tokio::test]
async fn a_peer_that_does_not_read_stops_the_draining_until_it_does() {
    local(async {
        // 500 bytes of pipe: one burst of five 102-byte frames fills it.
        let probe = Probe { burst: 5, ..Probe::default() };
        let (log, bell) = (probe.log.clone(), probe.bell.clone());
        let mut client = start(probe, TransportConfig::default(), 500);
        tokio::task::yield_now().await;
        let bell = bell.borrow().clone().expect("started");
        for _ in 0..20 {
            bell.ring();
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let wakes = || log.borrow().iter().filter(|l| *l == "wake").count();
        assert_eq!(wakes(), 1, "drained again while its last burst still waits: {:?}", log.borrow());
        // The peer reads: the rest of the burst goes out, and the 19
        // rings that came meanwhile are answered with one drain.
        let mut sink = vec![0u8; 4096];
        let mut got = 0;
        while got < 5 * 102 {
            got += client.read(&mut sink).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(wakes(), 2, "{:?}", log.borrow());
    })
    .await
}

/// Counts the writes that reached the stream it wraps.
struct CountingIo {
    inner: DuplexStream,
    writes: Rc<std::cell::Cell<usize>>,
}

impl tokio::io::AsyncRead for CountingIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountingIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.writes.set(self.writes.get() + 1);
        }
        polled
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Issue 14, item 3: what an endpoint sends in one wake-up (a tick's
/// state, its reliable messages, channel messages) leaves in one write.
#[tokio::test]
async fn the_frames_of_one_wake_up_leave_in_one_write() {
    local(async {
        let probe = Probe { burst: 3, ..Probe::default() };
        let bell = probe.bell.clone();
        let (mut client, server) = tokio::io::duplex(4096);
        let writes = Rc::new(std::cell::Cell::new(0));
        let io = CountingIo { inner: server, writes: writes.clone() };
        let t = Transport::new(probe, TransportConfig::default(), Arc::new(()));
        tokio::task::spawn_local(t.run(Box::new(io), BytesMut::new(), None, None));
        tokio::task::yield_now().await;
        bell.borrow().clone().expect("started").ring();
        let mut got = vec![0u8; 3 * 102];
        tokio::time::timeout(Duration::from_secs(5), client.read_exact(&mut got)).await.unwrap().unwrap();
        let mut buf = BytesMut::from(&got[..]);
        let mut codec = ws::Codec::new().client_mode();
        let mut frames = 0;
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            assert!(matches!(&f, Frame::Binary(b) if b.len() == 100), "{f:?}");
            frames += 1;
        }
        assert_eq!(frames, 3);
        assert_eq!(writes.get(), 1, "three frames of one wake-up, written one by one");
    })
    .await
}

/// The future boxed per connection is the task's state and little
/// else. As an `async fn`, `run` kept its arguments, the moved-from
/// transport and the task each in their own slot: a future three to
/// four times the transport (4,696 bytes with the game's endpoint).
#[tokio::test]
async fn the_future_of_a_connection_holds_its_transport_once() {
    let (_client, server) = tokio::io::duplex(64);
    let transport = std::mem::size_of::<Transport<Probe>>();
    let run = Transport::new(Probe::default(), TransportConfig::default(), Arc::new(())).run(
        Box::new(server),
        BytesMut::new(),
        None,
        None,
    );
    let future = std::mem::size_of_val(&run);
    // The transport, the socket (a boxed stream, two buffers, the kill
    // switch's guard), the phase's decoder and frame scanner, a timer.
    assert!(future <= transport + 512, "the future is {future} bytes around a {transport}-byte transport");
}

#[tokio::test(start_paused = true)]
async fn a_silent_peer_is_pinged_then_closed_with_1008_as_lost() {
    local(async {
        let probe = Probe::default();
        let log = probe.log.clone();
        let config = TransportConfig {
            heartbeat_interval: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(3),
            ..TransportConfig::default()
        };
        let mut client = start(probe, config, 4096);
        let frames = frames_until_eof(&mut client).await;
        let pings = frames.iter().filter(|f| matches!(f, Frame::Ping(_))).count();
        assert!(pings >= 2, "{frames:?}");
        let Some(Frame::Close(Some(r))) = frames.last() else { panic!("{frames:?}") };
        assert_eq!(u16::from(r.code), 1008);
        assert_eq!(log.borrow().last().map(String::as_str), Some("stopped Lost"));
    })
    .await
}

/// Wake-ups between two pings skip the timer (it keeps the task's waker
/// while its deadline stands); when they stop, the timer alone still
/// sends each ping on time, re-armed for the next.
#[tokio::test(start_paused = true)]
async fn a_connection_woken_every_tick_still_pings_on_time() {
    local(async {
        let probe = Probe { burst: 1, ..Probe::default() };
        let bell = probe.bell.clone();
        let config = TransportConfig { heartbeat_interval: Duration::from_secs(1), ..TransportConfig::default() };
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let t = Transport::new(probe, config, Arc::new(()));
        tokio::task::spawn_local(t.run(Box::new(server), BytesMut::new(), None, None));
        tokio::task::yield_now().await;
        let bell = bell.borrow().clone().expect("started");
        // 30 Hz of wake-ups for 0.66 s, then none until 2.2 s: the pings
        // due at 1 s and 2 s have only the timer to send them.
        for _ in 0..20 {
            bell.ring();
            tokio::time::sleep(Duration::from_millis(33)).await;
        }
        tokio::time::sleep(Duration::from_millis(1540)).await;
        let mut raw = vec![0u8; 1 << 16];
        let n = client.read(&mut raw).await.unwrap();
        let mut buf = BytesMut::from(&raw[..n]);
        let mut codec = ws::Codec::new().client_mode();
        let (mut binary, mut pings) = (0, 0);
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            match f {
                Frame::Binary(_) => binary += 1,
                Frame::Ping(_) => pings += 1,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(binary, 20);
        assert_eq!(pings, 2, "the pings due at 1 s and 2 s");
    })
    .await
}

/// A real loopback TCP pair: (client, server).
async fn tcp_pair() -> (tokio::net::TcpStream, tokio::net::TcpStream) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = tokio::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Runs `probe` on the server side of a TCP pair, open to direct writes.
async fn start_tcp(probe: Probe) -> (tokio::net::TcpStream, crate::transport::DirectWriter) {
    use std::os::fd::AsRawFd;
    let direct = probe.direct.clone();
    let (client, server) = tcp_pair().await;
    let fd = server.as_raw_fd();
    let t = Transport::new(probe, TransportConfig::default(), Arc::new(()));
    tokio::task::spawn_local(t.run(Box::new(server), BytesMut::new(), None, Some(fd)));
    // The task's first poll: nothing of its own waits, so it opens.
    tokio::task::yield_now().await;
    let writer = direct.borrow().expect("a plain TCP socket takes direct writes");
    (client, writer)
}

/// Reads frames from `client` until `n` have arrived.
async fn read_frames(client: &mut tokio::net::TcpStream, n: usize) -> Vec<Frame> {
    let mut codec = ws::Codec::new().client_mode().max_size(4 << 20);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    while frames.len() < n {
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            frames.push(f);
        }
        if frames.len() < n {
            let read = tokio::time::timeout(Duration::from_secs(5), client.read_buf(&mut buf)).await.unwrap().unwrap();
            assert!(read > 0, "the server closed after {frames:?}");
        }
    }
    frames
}

/// A producer on the socket's thread writes a frame straight to the
/// socket; on another thread, or once the connection has ended, nothing.
#[tokio::test]
async fn a_direct_write_reaches_the_client_as_a_binary_frame_only_from_the_sockets_thread() {
    local(async {
        let (mut client, writer) = start_tcp(Probe::default()).await;
        assert!(writer.write(b"state"));
        let elsewhere = std::thread::spawn(move || writer.write(b"from another thread")).join().unwrap();
        assert!(!elsewhere, "another thread writes nothing");
        let big = vec![3u8; 70_000]; // a 64-bit length in the header
        assert!(writer.write(&big));
        let frames = read_frames(&mut client, 2).await;
        assert!(matches!(&frames[0], Frame::Binary(b) if &b[..] == b"state"), "{frames:?}");
        assert!(matches!(&frames[1], Frame::Binary(b) if b.len() == 70_000), "{frames:?}");
        // The client leaves: once the task has ended, writes go nowhere.
        let close = CloseReason { code: ws::CloseCode::Normal, description: None };
        client.write_all(&client_frame(ws::Message::Close(Some(close)))).await.unwrap();
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut rest)).await.unwrap().unwrap();
        assert!(!writer.write(b"too late"));
    })
    .await
}

/// A direct write the socket takes only part of leaves the rest to the
/// task, which writes it before anything of its own; meanwhile direct
/// writes wait, even with room in the socket (nothing may overtake the
/// rest).
#[tokio::test]
async fn a_partial_direct_write_is_finished_by_the_task_ahead_of_its_own_frames() {
    local(async {
        let probe = Probe { burst: 1, ..Probe::default() };
        let bell = probe.bell.clone();
        let (client, writer) = start_tcp(probe).await;
        // 32 MiB against loopback's buffers, with the client not reading.
        let big: Vec<u8> = (0..32 << 20).map(|i| (i % 251) as u8).collect();
        assert!(writer.write(&big), "part of it was written");
        // Drain the kernel's buffers without letting the task run (a
        // blocking read, no await): the socket has room again.
        let std_client = client.into_std().unwrap();
        std_client.set_nonblocking(false).unwrap();
        std_client.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let mut buf = BytesMut::new();
        let drain = |buf: &mut BytesMut| {
            let mut chunk = vec![0u8; 1 << 16];
            while let Ok(n @ 1..) = std::io::Read::read(&mut &std_client, &mut chunk) {
                buf.extend_from_slice(&chunk[..n]);
            }
        };
        drain(&mut buf);
        assert!(!buf.is_empty() && buf.len() < big.len(), "{} bytes arrived", buf.len());
        assert!(!writer.write(b"next state"), "the rest waits in the task");
        // The task takes the rest into its own output and writes what the
        // socket takes; what is left of it still bars direct writes.
        bell.borrow().clone().expect("started").ring();
        tokio::task::yield_now().await;
        drain(&mut buf);
        assert!(buf.len() < big.len(), "{} bytes arrived", buf.len());
        assert!(!writer.write(b"next state"), "the task's output waits");
        std_client.set_nonblocking(true).unwrap();
        let mut client = tokio::net::TcpStream::from_std(std_client).unwrap();
        let mut codec = ws::Codec::new().client_mode().max_size(64 << 20);
        let mut frames = Vec::new();
        while frames.len() < 2 {
            match codec.decode(&mut buf).unwrap() {
                Some(f) => frames.push(f),
                None => {
                    let read = client.read_buf(&mut buf);
                    assert!(tokio::time::timeout(Duration::from_secs(5), read).await.unwrap().unwrap() > 0);
                }
            }
        }
        assert!(matches!(&frames[0], Frame::Binary(b) if b[..] == big[..]), "the big frame intact, first");
        assert!(matches!(&frames[1], Frame::Binary(b) if b.len() == 100), "then the task's own: {:?}", frames[1]);
        // All written: direct writes go again.
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(writer.write(b"again"));
        let frames = read_frames(&mut client, 1).await;
        assert!(matches!(&frames[0], Frame::Binary(b) if &b[..] == b"again"), "{frames:?}");
    })
    .await
}

/// The endpoint hears of each pong once the RTT it measured is in place
/// (the game connection publishes it to its rooms there).
#[tokio::test(start_paused = true)]
async fn the_endpoint_hears_of_a_pong_with_its_rtt_measured() {
    local(async {
        let probe = Probe::default();
        let log = probe.log.clone();
        let config = TransportConfig { heartbeat_interval: Duration::from_secs(1), ..TransportConfig::default() };
        let mut client = start(probe, config, 4096);
        let mut codec = ws::Codec::new().client_mode();
        let mut buf = BytesMut::new();
        let ping = loop {
            if let Some(Frame::Ping(p)) = codec.decode(&mut buf).unwrap() {
                break p;
            }
            let mut chunk = [0u8; 256];
            let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut chunk)).await.unwrap().unwrap();
            buf.extend_from_slice(&chunk[..n]);
        };
        client.write_all(&client_frame(ws::Message::Pong(ping))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(*log.borrow(), ["pong, rtt measured: true"]);
    })
    .await
}
