//! HTTP routes: the WebSocket upgrade (`/ws`) and the plain endpoints.
//! Refusals before the upgrade are HTTP statuses with a plain-text body a
//! person can read: 403 (origin not allowed), 400 (no shared subprotocol),
//! 401 (authentication), 429 (too many connections from one address), 503 (server full, or shutting down: then
//! `/readyz` is 503 `draining` too).

use super::AppState;
use crate::auth::{token_from_request, AuthError, AuthGate, AuthMode};
use crate::connection::{GameConnection, GameEndpoint};
use crate::protocol::compress::{Compressing, Compression};
use crate::protocol::ConnId;
use crate::transport::{accept, KillSwitch, Transport};
use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

fn refuse(state: &AppState, status: StatusCode, body: String) -> HttpResponse {
    state.metrics.handshake_refused(status.as_u16());
    let mut resp = HttpResponse::build(status);
    resp.content_type(ContentType::plaintext());
    match status {
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => {
            resp.insert_header((header::RETRY_AFTER, "5"));
        }
        StatusCode::UNAUTHORIZED => {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        _ => {}
    }
    resp.body(body + "\n")
}

/// The client's address: the peer, or the last `X-Forwarded-For` hop added
/// by a trusted proxy.
fn client_ip(req: &HttpRequest, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).last();
    forwarded.and_then(|v| v.rsplit(',').next()).and_then(|ip| ip.trim().parse().ok()).or(Some(peer))
}

pub(super) async fn ws(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if state.lifecycle.is_draining() {
        state.metrics.handshake_refused(503);
        let retry = state.config.reconnect_after.as_secs().max(1);
        return HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, retry.to_string()))
            .content_type(ContentType::plaintext())
            .body("server is shutting down; connect to another server or try again later\n");
    }
    // Cross-site WebSocket hijacking: only allowed pages may open a socket.
    let origin = req.headers().get(header::ORIGIN).map(|v| v.to_str().unwrap_or("<not text>"));
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    if let Err(e) = state.config.origins.check(origin, host) {
        return refuse(&state, StatusCode::FORBIDDEN, e.to_string());
    }
    let offered = req.headers().get_all(header::SEC_WEBSOCKET_PROTOCOL).filter_map(|v| v.to_str().ok());
    let token = match state.negotiator.negotiate(offered) {
        Ok(t) => t,
        Err(e) => return refuse(&state, StatusCode::BAD_REQUEST, e.to_string()),
    };
    // Authentication at the upgrade (a token in a first-message server is
    // used too, if the request carries one).
    let auth_config = state.config.auth.as_ref();
    let identity = match auth_config {
        None => None,
        Some(c) => match (token_from_request(&req, c.cookie.as_deref()), c.mode) {
            (Some(t), _) => match c.authenticator.authenticate(&t) {
                Ok(id) => Some(id),
                Err(e) => return refuse(&state, StatusCode::UNAUTHORIZED, e.to_string()),
            },
            (None, AuthMode::Upgrade) => {
                return refuse(&state, StatusCode::UNAUTHORIZED, AuthError::Missing.to_string());
            }
            (None, AuthMode::FirstMessage { .. }) => None,
        },
    };
    // A request that is no WebSocket upgrade (no `Upgrade` header, a wrong
    // version or key) is refused before anything is allocated for it: no
    // slot, no count, no session. Each such request used to leave a session
    // behind (issue: a refused handshake leaked ~650 B, forever).
    if let Err(e) = actix_http::ws::verify_handshake(req.head()) {
        state.metrics.handshake_refused(e.status_code().as_u16());
        return e.error_response();
    }
    let ip_slot = match client_ip(&req, &state.config.trusted_proxies) {
        Some(ip) => match state.per_ip.acquire(ip) {
            Some(slot) => Some(slot),
            None => {
                let max = state.config.max_connections_per_ip;
                let body = format!("too many connections from {ip} (at most {max}); try again later");
                return refuse(&state, StatusCode::TOO_MANY_REQUESTS, body);
            }
        },
        None => None,
    };
    let open = &state.conn.open;
    if open
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < state.config.max_connections).then_some(n + 1))
        .is_err()
    {
        let body = format!("server full: {} connections open; try again later", state.config.max_connections);
        return refuse(&state, StatusCode::SERVICE_UNAVAILABLE, body);
    }
    let id = state.next_conn.fetch_add(1, Ordering::Relaxed);
    let kill = req.conn_data::<KillSwitch>().cloned();
    let gate = AuthGate::new(auth_config, identity, Instant::now());
    let compression = Compression::choose(req.query_string(), &state.config.compression)
        .map(|algorithm| Compressing { algorithm, min_bytes: state.config.compression_min_bytes });
    let conn = GameConnection::new(state.conn.clone(), token.clone(), ConnId(id), kill, gate, ip_slot)
        .with_compression(compression);
    let transport = Transport::new(GameEndpoint::new(conn), state.config.transport.clone(), state.metrics.clone());
    // The token is the one we negotiated: an offer may span several
    // Sec-WebSocket-Protocol lines.
    match accept(transport, &req, Some(&token.to_string())) {
        Ok(resp) => resp,
        Err(e) => {
            // Not reached after the check above; if it were, dropping the
            // connection gave back its count and its session already.
            state.metrics.handshake_refused(e.status_code().as_u16());
            e.error_response()
        }
    }
}

pub(super) async fn info(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(state.info())
}

pub(super) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::plaintext()).body("ok\n")
}

pub(super) async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.lifecycle.is_draining() {
        HttpResponse::ServiceUnavailable().content_type(ContentType::plaintext()).body("draining\n")
    } else if state.registry.cluster().is_some_and(|c| !c.healthy()) {
        HttpResponse::ServiceUnavailable().content_type(ContentType::plaintext()).body("cluster store unreachable\n")
    } else {
        HttpResponse::Ok().content_type(ContentType::plaintext()).body("ready\n")
    }
}

pub(super) async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    state.metrics.sessions.set(i64::try_from(state.conn.sessions.len()).unwrap_or(i64::MAX));
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}

#[derive(Deserialize)]
pub(super) struct RoomsQuery {
    #[serde(rename = "type")]
    room_type: Option<String>,
}

/// `GET /rooms[?room_type=T]`: this server's rooms; on a cluster node,
/// every room of the cluster with its node (503 while the cluster store
/// cannot be reached).
pub(super) async fn rooms(q: web::Query<RoomsQuery>, state: web::Data<AppState>) -> HttpResponse {
    let Some(cluster) = state.registry.cluster() else {
        return HttpResponse::Ok().json(state.registry.list(q.room_type.as_deref()));
    };
    match cluster.backend().list(q.room_type.as_deref()).await {
        Ok(rooms) => HttpResponse::Ok().json(rooms),
        Err(e) => HttpResponse::ServiceUnavailable().content_type(ContentType::plaintext()).body(format!("{e}\n")),
    }
}
