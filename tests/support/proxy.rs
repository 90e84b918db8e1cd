//! A TCP proxy between clients and a server that can cut every connection
//! through it at once, the way a network does: no close frame, no FIN —
//! a reset (`SO_LINGER` 0) on both sides. The server sees its socket fail
//! mid-stream, exactly as when a player's Wi-Fi drops; bytes it wrote that
//! were still in flight are gone.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;

/// A running proxy (stops accepting when dropped).
pub struct Proxy {
    addr: SocketAddr,
    cut: Arc<Notify>,
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
        let cut = Arc::new(Notify::new());
        let c = cut.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let c = c.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(target).await {
                        pipe(client, server, c).await;
                    }
                });
            }
        });
        Proxy { addr, cut, accept }
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
        self.cut.notify_waiters();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn pipe(mut client: TcpStream, mut server: TcpStream, cut: Arc<Notify>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let cut_now = cut.notified();
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        () = cut_now => {
            for s in [&client, &server] {
                let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
            }
        }
    }
}
