//! A TCP proxy between clients and a server that can cut every connection
//! through it at once, the way a network does: no close frame, no FIN —
//! a reset (`SO_LINGER` 0) on both sides. The server sees its socket fail
//! mid-stream, exactly as when a player's Wi-Fi drops; bytes it wrote that
//! were still in flight are gone.
//!
//! Two switches make a loss worse: [`Proxy::set_dropping`] throws away what
//! the server sends instead of forwarding it (a link going down: the
//! server's writes succeed, the client gets nothing), so a cut after it
//! surely loses frames the server counts as sent; [`Proxy::set_refusing`]
//! keeps the network down, resetting every new connection as soon as it is
//! accepted.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;

/// What every connection of a proxy shares.
#[derive(Default)]
struct Switches {
    cut: Notify,
    refusing: AtomicBool,
    dropping: AtomicBool,
}

/// A running proxy (stops accepting when dropped).
pub struct Proxy {
    addr: SocketAddr,
    switches: Arc<Switches>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listens on 127.0.0.1 (ephemeral port) and forwards to `target`.
    pub async fn start(target: SocketAddr) -> Proxy {
        // A storm connects hundreds at once: `TcpListener::bind`'s backlog
        // of 128 would drop SYNs (1 s retransmits) that the server would not.
        let socket = TcpSocket::new_v4().expect("proxy socket");
        socket.bind("127.0.0.1:0".parse().expect("literal address")).expect("proxy binds");
        let listener: TcpListener = socket.listen(4096).expect("proxy listens");
        let addr = listener.local_addr().expect("proxy address");
        let switches = Arc::new(Switches::default());
        let s = switches.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if s.refusing.load(Ordering::SeqCst) {
                    let _ = socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO));
                    continue; // dropped with linger 0: a reset
                }
                let s = s.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(target).await {
                        pipe(client, server, s).await;
                    }
                });
            }
        });
        Proxy { addr, switches, accept }
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://addr/ws` through the proxy.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Resets every connection currently open through the proxy, on both
    /// sides. Connections opened afterwards pass as usual.
    pub fn cut_all(&self) {
        self.switches.cut.notify_waiters();
    }

    /// While `true`, connections are reset as soon as they are accepted
    /// (the network is down); connections already open are not touched
    /// (see [`Proxy::cut_all`]).
    pub fn set_refusing(&self, refusing: bool) {
        self.switches.refusing.store(refusing, Ordering::SeqCst);
    }

    /// While `true`, what servers send through the proxy is read and thrown
    /// away: lost in flight. A connection that lost bytes this way forwards
    /// nothing more from its server until it ends (follow with
    /// [`Proxy::cut_all`]); connections opened after it is turned off pass.
    pub fn set_dropping(&self, dropping: bool) {
        self.switches.dropping.store(dropping, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn pipe(mut client: TcpStream, mut server: TcpStream, switches: Arc<Switches>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let cut_now = switches.cut.notified();
    let flow = async {
        let (mut from_client, mut to_client) = client.split();
        let (mut from_server, mut to_server) = server.split();
        let up = async {
            tokio::io::copy(&mut from_client, &mut to_server).await?;
            to_server.shutdown().await
        };
        let down = async {
            let mut buf = vec![0u8; 16 * 1024];
            // Once a connection has lost bytes it forwards nothing more: TCP
            // delivers in order or not at all, never a stream with a hole.
            let mut lost = false;
            loop {
                let n = from_server.read(&mut buf).await?;
                if n == 0 {
                    return to_client.shutdown().await;
                }
                lost |= switches.dropping.load(Ordering::SeqCst);
                if !lost {
                    to_client.write_all(&buf[..n]).await?;
                }
            }
        };
        tokio::try_join!(up, down)
    };
    tokio::select! {
        _ = flow => {}
        () = cut_now => {
            for s in [&client, &server] {
                let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
            }
        }
    }
}
