//! The Autobahn conformance endpoint: a WebSocket echo server that runs on
//! exactly the transport the game connections use
//! ([`playhouse::transport`]), so the RFC 6455 suite tests our code, not a
//! stand-in.
//!
//! Every whole message is sent back unchanged: text as text, binary as
//! binary. Fragmented messages are reassembled by the transport first, so a
//! fragmented message comes back as one frame (which RFC 6455 allows, and the
//! Autobahn cases accept). Pings, the close handshake, UTF-8 validation and
//! the size limit are all the transport's.
//!
//! Run the whole conformance suite (cases 1.* to 10.*) from the repository
//! root with
//!
//! ```text
//! scripts/conformance.sh
//! ```
//!
//! which builds this example in release mode, starts it on a free port and
//! drives it with `kosoku` (a native runner of the Autobahn TestSuite case
//! files). By hand:
//!
//! ```text
//! cargo run --release -p playhouse --example echo -- --addr 127.0.0.1:9001
//! kosoku -m fuzzingclient -i '1.*' -o reports/autobahn 127.0.0.1:9001
//! ```
//!
//! Options:
//!
//! * `--addr HOST:PORT` — where to listen (default `127.0.0.1:9001`; port 0
//!   picks a free one). Once bound, `LISTENING <addr>` is printed on stdout.
//! * `--max-message-size BYTES` — the largest whole message (default
//!   16 MiB + 4 KiB: Autobahn case 9.* sends messages of up to 16 MiB).
//!
//! The WebSocket is served on `/` and on `/ws`.

use actix_web::{web, App, HttpRequest, HttpResponse};
use playhouse::transport::{self, Endpoint, Link, Transport, TransportConfig, WholeMessage};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

/// Autobahn case 9.* sends messages of up to 16 MiB; leave a little room.
const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024 + 4096;

/// Sends every whole message back unchanged.
struct Echo;

impl Endpoint for Echo {
    fn on_message(&mut self, msg: WholeMessage, link: &mut Link<'_>) {
        match msg {
            WholeMessage::Binary(b) => link.binary(b),
            WholeMessage::Text(t) => link.text(t),
        }
    }
}

/// Command-line options.
#[derive(Debug)]
struct Options {
    addr: SocketAddr,
    max_message_size: usize,
}

const USAGE: &str = "usage: echo [--addr HOST:PORT] [--max-message-size BYTES]";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut opts = Options { addr: ([127, 0, 0, 1], 9001).into(), max_message_size: DEFAULT_MAX_MESSAGE_SIZE };
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg, None),
        };
        let mut value = || inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{name} needs a value"));
        match name.as_str() {
            "--addr" => opts.addr = value()?.parse().map_err(|e| format!("--addr: {e}"))?,
            "--max-message-size" => {
                opts.max_message_size = value()?.parse().map_err(|e| format!("--max-message-size: {e}"))?
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(opts)
}

async fn ws(req: HttpRequest, cfg: web::Data<TransportConfig>) -> actix_web::Result<HttpResponse> {
    let transport = Transport::new(Echo, cfg.get_ref().clone(), Arc::new(()));
    Ok(transport::accept(transport, &req, None)?)
}

fn main() -> std::io::Result<()> {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    // Heartbeat and timeouts stay at the transport's defaults.
    let cfg = TransportConfig { max_message_size: opts.max_message_size, ..TransportConfig::default() };
    actix_web::rt::System::new().block_on(async move {
        let cfg = web::Data::new(cfg);
        let app =
            move || App::new().app_data(cfg.clone()).route("/", web::get().to(ws)).route("/ws", web::get().to(ws));
        let listen = transport::Listen {
            on_connect: Some(Arc::new(|conn: &dyn std::any::Any, ext: &mut actix_http::Extensions| {
                transport::on_connect(conn, ext, Default::default())
            })),
            ..Default::default()
        };
        let (server, addrs) = transport::serve(app, opts.addr, listen)?;
        let bound = addrs.first().copied().unwrap_or(opts.addr);
        let mut out = std::io::stdout().lock();
        writeln!(out, "LISTENING {bound}")?;
        out.flush()?;
        drop(out);
        server.run().await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> impl Iterator<Item = String> {
        s.iter().map(|a| a.to_string()).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn defaults_and_both_spellings() {
        let o = parse_args(args(&[])).unwrap();
        assert_eq!(o.addr, "127.0.0.1:9001".parse().unwrap());
        assert_eq!(o.max_message_size, DEFAULT_MAX_MESSAGE_SIZE);
        let o = parse_args(args(&["--addr", "127.0.0.1:0", "--max-message-size=100"])).unwrap();
        assert_eq!(o.addr.port(), 0);
        assert_eq!(o.max_message_size, 100);
        assert!(parse_args(args(&["--addr"])).is_err());
        assert!(parse_args(args(&["--bogus"])).is_err());
    }
}
