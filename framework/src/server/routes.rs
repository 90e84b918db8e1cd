//! HTTP routes: the WebSocket upgrade (`/ws`) and the plain endpoints.
//! Refusals before the upgrade are HTTP statuses with a plain-text body a
//! person can read: 400 (no shared subprotocol), 503 (server full, or
//! shutting down: then `/readyz` is 503 `draining` too).

use super::AppState;
use crate::connection::GameConnection;
use crate::protocol::NegotiationError;
use crate::transport::{accept, KillSwitch, Transport};
use actix_web::http::header::{self, ContentType};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use std::sync::atomic::Ordering;

pub(super) async fn ws(req: HttpRequest, stream: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    if state.lifecycle.is_draining() {
        state.metrics.handshake_refused(503);
        let retry = state.config.reconnect_after.as_secs().max(1);
        return HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, retry.to_string()))
            .content_type(ContentType::plaintext())
            .body("server is shutting down; connect to another server or try again later\n");
    }
    let offered = req.headers().get_all(header::SEC_WEBSOCKET_PROTOCOL).filter_map(|v| v.to_str().ok());
    let token = match state.negotiator.negotiate(offered) {
        Ok(t) => t,
        Err(e) => {
            state.metrics.handshake_refused(400);
            let body = match &e {
                NegotiationError::NoHeader { .. } | NegotiationError::NoSharedToken { .. } => e.to_string(),
            };
            return HttpResponse::BadRequest().content_type(ContentType::plaintext()).body(body + "\n");
        }
    };
    let open = &state.conn.open;
    if open
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < state.config.max_connections).then_some(n + 1))
        .is_err()
    {
        state.metrics.handshake_refused(503);
        return HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "5"))
            .content_type(ContentType::plaintext())
            .body(format!("server full: {} connections open; try again later\n", state.config.max_connections));
    }
    let id = state.next_conn.fetch_add(1, Ordering::Relaxed);
    let kill = req.conn_data::<KillSwitch>().cloned();
    let conn = GameConnection::new(state.conn.clone(), token.clone(), id, kill);
    let transport = Transport::new(conn, state.config.transport.clone(), state.metrics.clone());
    // The token is echoed by us, not by actix's handshake: actix only reads
    // the first Sec-WebSocket-Protocol line, while an offer may span several.
    match accept(transport, &req, stream, None) {
        Ok((_, mut resp)) => {
            if let Ok(v) = header::HeaderValue::from_str(&token.to_string()) {
                resp.headers_mut().insert(header::SEC_WEBSOCKET_PROTOCOL, v);
            }
            resp
        }
        Err(e) => {
            open.fetch_sub(1, Ordering::AcqRel);
            state.metrics.handshake_refused(400);
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
    } else {
        HttpResponse::Ok().content_type(ContentType::plaintext()).body("ready\n")
    }
}

pub(super) async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}

#[derive(Deserialize)]
pub(super) struct RoomsQuery {
    #[serde(rename = "type")]
    room_type: Option<String>,
}

pub(super) async fn rooms(q: web::Query<RoomsQuery>, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(state.conn.registry.list(q.room_type.as_deref()))
}
