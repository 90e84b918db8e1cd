//! A real `redis-server` of the test's own, on a free port of 127.0.0.1,
//! keeping nothing on disk (or, `start_persistent`, an append-only file in
//! a directory of its own); killed when dropped. `restart` brings it back
//! on the same port: empty (what a Redis without persistence does after a
//! crash), or with its data. Needs Debian's `redis-server` (`scripts/test.sh` installs it).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    /// Where it keeps its append-only file, if it persists (removed on drop).
    dir: Option<std::path::PathBuf>,
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// Whether a Redis answers `PING` on `port`.
fn pong(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 16];
    s.write_all(b"PING\r\n").is_ok() && s.read(&mut buf).is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
}

impl RedisServer {
    /// Starts one on a free port and waits (5 s at most) until it answers.
    pub fn start() -> RedisServer {
        let mut r = RedisServer { child: None, port: free_port(), dir: None };
        r.launch();
        r
    }

    /// Starts one that writes every command to an append-only file in a
    /// directory of its own (fsync'd each time), so `restart` brings its
    /// data back, as a production Redis with persistence does.
    pub fn start_persistent() -> RedisServer {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("playhouse-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for the append-only file");
        let mut r = RedisServer { child: None, port, dir: Some(dir) };
        r.launch();
        r
    }

    fn launch(&mut self) {
        let mut command = Command::new("redis-server");
        command.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", ""]);
        match &self.dir {
            Some(dir) => command.args(["--appendonly", "yes", "--appendfsync", "always", "--dir"]).arg(dir),
            None => command.args(["--appendonly", "no"]),
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (Debian's package `redis-server`; `bash scripts/test.sh` installs it)");
        self.child = Some(child);
        let t0 = Instant::now();
        while !pong(self.port) {
            assert!(t0.elapsed() < Duration::from_secs(5), "redis-server on port {} never answered PING", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (SIGKILL: everything in memory is gone).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port: empty, or with its data if it
    /// persists ([`RedisServer::start_persistent`]).
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
