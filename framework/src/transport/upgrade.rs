//! From an HTTP request to a running [`Transport`]: [`accept`] (called by a
//! route handler that has decided to take the socket) and the upgrade
//! service that actix-http hands upgrade requests to, with their socket.
//!
//! The route handlers stay ordinary actix-web handlers: every refusal is an
//! HTTP status written by the same App. A handler that accepts returns the
//! `101` from [`accept`], which carries the transport in the response's
//! extensions; the upgrade service writes the `101` and then starts the
//! transport on the socket as a task of its own, with no HTTP dispatcher in
//! between, and the request's HTTP task ends.

use super::websocket::{Io, Transport};
use super::{Endpoint, KillSwitch};
use actix_codec::Framed;
use actix_http::body::{self, BodySize, BoxBody, MessageBody};
use actix_http::header::{self, HeaderValue};
use actix_http::{h1, ws, Request, Response};
use actix_rt::net::TcpStream;
use actix_service::Service;
use actix_web::{HttpRequest, HttpResponse};
use bytes::BytesMut;
use futures_util::future::LocalBoxFuture;
use futures_util::SinkExt;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use tokio::io::{AsyncRead, AsyncWrite};

/// Why a request is not a WebSocket handshake we can accept (its status is
/// the answer: 400, 405 or 426).
pub type HandshakeError = ws::HandshakeError;

/// A started transport, waiting in the `101` response for its socket.
type Start = Box<dyn FnOnce(Box<dyn Io>, BytesMut, Option<KillSwitch>, Option<RawFd>) -> LocalBoxFuture<'static, ()>>;

/// What [`accept`] leaves in the response's extensions.
struct Accepted(Start);

/// Checks that `req` is a WebSocket handshake and returns the `101` that
/// completes it, carrying `transport`, which starts once the `101` is
/// written. `protocol` is the subprotocol token to echo (already negotiated
/// by the caller), or `None` for endpoints without one (the echo example).
///
/// The response must travel back through the App unchanged to the upgrade
/// service ([`super::serve`] sets one up); a server without it would send
/// the `101` and then nothing.
pub fn accept<E: Endpoint>(
    transport: Transport<E>,
    req: &HttpRequest,
    protocol: Option<&str>,
) -> Result<HttpResponse, HandshakeError> {
    ws::verify_handshake(req.head())?;
    let key = req.headers().get(header::SEC_WEBSOCKET_KEY).map(|k| ws::hash_key(k.as_bytes())).unwrap_or_default();
    let mut res = HttpResponse::SwitchingProtocols();
    res.upgrade("websocket");
    res.insert_header((
        header::SEC_WEBSOCKET_ACCEPT,
        HeaderValue::from_bytes(&key).unwrap_or(HeaderValue::from_static("")),
    ));
    if let Some(p) = protocol.and_then(|p| HeaderValue::from_str(p).ok()) {
        res.insert_header((header::SEC_WEBSOCKET_PROTOCOL, p));
    }
    let mut res = res.finish();
    let start: Start = Box::new(move |io, read, kill, fd| Box::pin(transport.run(io, read, kill, fd)));
    res.extensions_mut().insert(Accepted(start));
    Ok(res)
}

/// Handles one upgrade request: asks the App, writes its answer, and runs
/// the transport the answer carries (if it is a `101` from [`accept`]).
/// Anything else (a refusal, a route that is not a WebSocket) is written
/// whole and the connection closed.
pub(super) async fn upgrade<T, S, B>(
    app: Rc<S>,
    req: Request,
    mut framed: Framed<T, h1::Codec>,
) -> Result<(), actix_web::Error>
where
    T: AsyncRead + AsyncWrite + Unpin + 'static,
    S: Service<Request>,
    S::Response: Into<Response<B>>,
    S::Error: Into<Response<BoxBody>>,
    B: MessageBody + 'static,
{
    let kill = req.conn_data::<KillSwitch>().cloned();
    let mut res: Response<BoxBody> = match app.call(req).await {
        Ok(r) => r.into().map_into_boxed_body(),
        Err(e) => e.into(),
    };
    let accepted = res.extensions_mut().remove::<Accepted>();
    let (mut head, body) = res.into_parts();
    match accepted {
        Some(Accepted(start)) if head.status() == actix_http::StatusCode::SWITCHING_PROTOCOLS => {
            framed.send(h1::Message::Item((head, BodySize::None))).await.map_err(failed)?;
            let (io, read) = socket_of(framed);
            // Plain TCP only may be written to directly (see `direct.rs`).
            let fd = (&io as &dyn std::any::Any).downcast_ref::<TcpStream>().map(AsRawFd::as_raw_fd);
            // The socket's task runs on its own, on this thread, and this
            // future ends here. Awaited instead, it would keep the request's
            // whole HTTP future alive for the WebSocket's life: actix-http's
            // dispatcher inside actix-server's per-connection task, 2.1 KiB
            // of every connection (measured with massif), holding nothing
            // the socket needs. It also takes WebSockets out of
            // actix-server's per-worker connection count (25,600 by
            // default, a cliff): the server's own cap
            // (`ServerConfig::max_connections`) counts them.
            actix_rt::spawn(start(Box::new(io), read, kill, fd));
        }
        _ => {
            let bytes = body::to_bytes(body).await.map_err(|e| failed(e.to_string()))?;
            head.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            let size = BodySize::Sized(bytes.len() as u64);
            // Head and body leave in one write: a client may read no further
            // than the segment that completed the head (tungstenite does).
            framed.feed(h1::Message::Item((head, size))).await.map_err(failed)?;
            if !bytes.is_empty() {
                framed.feed(h1::Message::Chunk(Some(bytes))).await.map_err(failed)?;
            }
            framed.send(h1::Message::Chunk(None)).await.map_err(failed)?;
            framed.close().await.map_err(failed)?;
        }
    }
    Ok(())
}

/// The socket of an upgraded connection, and any bytes that came after the
/// request. Everything else of the HTTP layer (its codec, its 8 KiB write
/// buffer) is dropped here, not kept for the connection's life by the
/// future that runs it.
fn socket_of<T: AsyncRead + AsyncWrite + Unpin>(framed: Framed<T, h1::Codec>) -> (T, BytesMut) {
    let parts = framed.into_parts();
    // Only what arrived, not the HTTP layer's 8 KiB read buffer.
    let read = if parts.read_buf.is_empty() { BytesMut::new() } else { BytesMut::from(&parts.read_buf[..]) };
    (parts.io, read)
}

/// The socket failed while the answer to an upgrade request was written
/// (nobody is left to read an error; actix-http logs it).
fn failed(e: impl std::fmt::Display) -> actix_web::Error {
    actix_web::error::ErrorInternalServerError(e.to_string())
}
