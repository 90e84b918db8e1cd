//! The monitor: a page for operators at `/monitor` and the JSON API it
//! reads (issue 16). Off unless `ServerConfig::monitor` is set (then
//! `/monitor` is 404, as any unknown path).
//!
//! - `GET /monitor` (and its `monitor.js`, `monitor.css`): the page, embedded
//!   in the binary and served to anyone: it holds no data. It asks for the
//!   credential, keeps it in the tab's `sessionStorage`, and sends it as
//!   `Authorization: Bearer` on every API call (a browser cannot put a header
//!   on a navigation, and a token in the URL would end up in logs).
//! - `GET /monitor/api/overview`: rooms per type (and per node on a cluster
//!   node), every room with its clients and their RTT, one-second charts of
//!   tick lateness, tick duration and bytes in/out over the last minutes,
//!   close codes.
//! - `GET /monitor/api/rooms/{id}`: one room's clients and its latest state
//!   decoded to JSON through the schema (the highest version, MessagePack
//!   with field names).
//! - `POST /monitor/api/rooms/{id}/kick/{client}`: the client leaves as
//!   kicked and its connection is closed with 4005, reason
//!   [`KICK_REASON`].
//! - `POST /monitor/api/rooms/{id}/dispose`: the room is disposed; its clients
//!   get `Left` (disposed), as on any dispose.
//!
//! Every API call needs the credential ([`admit`]): none is 401 with
//! `WWW-Authenticate: Bearer`, one that does not admit is 403.
//!
//! The handlers are thin: admission, sampling and the views are plain code
//! in `auth`, `sampler` and `view`.

mod auth;
mod nodes;
mod sampler;
mod view;

pub use auth::{admit, MonitorConfig, Refusal, DEFAULT_HISTORY};
pub use nodes::{Listing, NODES_FRESH_FOR};
pub use sampler::{Point, Reading, Series};
pub use view::{ClientView, CloseCount, NodeCount, Overview, RoomDetail, RoomRow, StateView, TypeCount};

use super::AppState;
use crate::metrics::Metrics;
use crate::protocol::ClientId;
use actix_web::http::header::{self, CacheControl, CacheDirective, ContentType};
use actix_web::{web, HttpRequest, HttpResponse};
use parking_lot::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The close reason a client kicked from the monitor gets (code 4005).
pub const KICK_REASON: &str = "kicked by an operator";

/// Most rooms whose clients the overview asks for (the rest are counted in
/// `rooms_not_shown`): each is a round trip to the room's actor.
pub const MAX_ROOMS_SHOWN: usize = 100;

/// How long the API waits for rooms (and the cluster directory) to answer.
const ROOM_ANSWER: Duration = Duration::from_secs(2);

const INDEX_HTML: &str = include_str!("page/index.html");
const MONITOR_JS: &str = include_str!("page/monitor.js");
const MONITOR_CSS: &str = include_str!("page/monitor.css");

/// The monitor's state in the server: its config, its charts and the
/// cluster listing it last read.
pub(crate) struct Monitor {
    config: MonitorConfig,
    series: Mutex<Series>,
    nodes: nodes::NodesCache,
}

impl Monitor {
    pub(crate) fn new(config: MonitorConfig) -> Self {
        let series = Mutex::new(Series::new(config.history));
        Monitor { config, series, nodes: nodes::NodesCache::default() }
    }

    /// Takes this second's reading (the server's once-a-second sweep).
    pub(crate) fn sample(&self, metrics: &Metrics) {
        let at_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let ticks = metrics.tick_sums();
        self.series.lock().record(Reading {
            at_ms,
            bytes_in: metrics.bytes_in.get(),
            bytes_out: metrics.bytes_out.get(),
            tick_duration_sum: ticks.duration_sum,
            tick_lateness_sum: ticks.lateness_sum,
            ticks: ticks.count,
        });
    }
}

/// Adds the monitor's routes (called only when it is configured).
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/monitor", web::get().to(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }))
        .route("/monitor/", web::get().to(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }))
        .route("/monitor/monitor.js", web::get().to(|| async { asset(MONITOR_JS, "text/javascript; charset=utf-8") }))
        .route("/monitor/monitor.css", web::get().to(|| async { asset(MONITOR_CSS, "text/css; charset=utf-8") }))
        .route("/monitor/api/overview", web::get().to(overview))
        .route("/monitor/api/rooms/{id}", web::get().to(room))
        .route("/monitor/api/rooms/{id}/kick/{client}", web::post().to(kick))
        .route("/monitor/api/rooms/{id}/dispose", web::post().to(dispose));
}

fn asset(body: &'static str, content_type: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(CacheControl(vec![CacheDirective::NoCache]))
        // The page is for operators: never inside another site's frame.
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .body(body)
}

fn plain(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status).content_type(ContentType::plaintext()).body(body + "\n")
}

/// Why a request is not served: no monitor, or a refused credential.
enum Denied {
    Off,
    Refused(Refusal),
}

impl Denied {
    fn response(self) -> HttpResponse {
        match self {
            Denied::Off => HttpResponse::NotFound().finish(),
            Denied::Refused(r @ Refusal::Missing) => HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"playhouse monitor\""))
                .content_type(ContentType::plaintext())
                .body(format!("{r}\n")),
            Denied::Refused(r) => plain(actix_web::http::StatusCode::FORBIDDEN, r.to_string()),
        }
    }
}

/// The monitor of `state`, if the request's credential admits.
fn admitted<'a>(req: &HttpRequest, state: &'a AppState) -> Result<&'a Monitor, Denied> {
    // Routes are only added with a monitor configured.
    let monitor = state.monitor.as_ref().ok_or(Denied::Off)?;
    let header = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let authenticator = state.config.auth.as_ref().map(|a| a.authenticator.as_ref());
    admit(&monitor.config, header, authenticator).map_err(Denied::Refused)?;
    Ok(monitor)
}

async fn overview(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let monitor = match admitted(&req, &state) {
        Ok(m) => m,
        Err(denied) => return denied.response(),
    };
    let listed = state.registry.list(None);
    let types: Vec<String> = state.registry.room_types().into_iter().map(|t| t.name).collect();
    let shown = &listed[..listed.len().min(MAX_ROOMS_SHOWN)];
    // Ask the rooms concurrently, without holding anything across the wait.
    let asks = shown.iter().map(|r| {
        let ask = state.registry.get(&r.id).and_then(|h| h.port().map(|p| p.inspect(false)));
        async move {
            match ask {
                Some(f) => tokio::time::timeout(ROOM_ANSWER, f).await.ok().flatten(),
                None => None,
            }
        }
    });
    let answers = futures_util::future::join_all(asks).await;
    let rooms = shown
        .iter()
        .zip(answers)
        .map(|(r, a)| RoomRow {
            id: r.id.to_string(),
            room_type: r.room_type.clone(),
            max_clients: r.max_clients,
            locked: r.locked,
            tick: a.as_ref().map(|a| a.tick),
            clients: a.map(|a| a.clients.iter().map(view::client_view).collect()).unwrap_or_default(),
        })
        .collect();
    let (nodes, nodes_error) = match state.registry.cluster() {
        None => (None, None),
        Some(c) => match monitor.nodes.get(std::time::Instant::now(), ROOM_ANSWER, || c.backend().list(None)).await {
            Ok(nodes) => (Some(nodes), None),
            Err(e) => (None, Some(e)),
        },
    };
    let body = Overview {
        app: state.config.app.clone(),
        node: state.registry.cluster().map(|c| c.node().id),
        connections: state.metrics.connections_open.get(),
        room_types: view::per_type(&types, &listed),
        nodes,
        nodes_error,
        rooms_not_shown: listed.len() - shown.len(),
        rooms,
        series: monitor.series.lock().points().copied().collect(),
        closes: view::closes(&state.metrics.closes_by_code()),
    };
    HttpResponse::Ok().insert_header(CacheControl(vec![CacheDirective::NoStore])).json(body)
}

fn no_room(id: &str) -> HttpResponse {
    plain(actix_web::http::StatusCode::NOT_FOUND, format!("no room {id:?} on this node"))
}

async fn room(req: HttpRequest, path: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    if let Err(denied) = admitted(&req, &state) {
        return denied.response();
    }
    let id = path.into_inner();
    let Some(handle) = state.registry.get(&id) else { return no_room(&id) };
    let Some(info) = state.registry.list(Some(&handle.room_type)).into_iter().find(|r| *r.id == *id) else {
        return no_room(&id);
    };
    let Some(ask) = handle.port().map(|p| p.inspect(true)) else { return no_room(&id) };
    drop(handle);
    match tokio::time::timeout(ROOM_ANSWER, ask).await {
        Ok(Some(inspection)) => HttpResponse::Ok()
            .insert_header(CacheControl(vec![CacheDirective::NoStore]))
            .json(view::room_detail(&info, &inspection)),
        Ok(None) => no_room(&id),
        Err(_) => plain(actix_web::http::StatusCode::GATEWAY_TIMEOUT, format!("room {id:?} did not answer in time")),
    }
}

async fn kick(req: HttpRequest, path: web::Path<(String, String)>, state: web::Data<AppState>) -> HttpResponse {
    if let Err(denied) = admitted(&req, &state) {
        return denied.response();
    }
    let (id, client) = path.into_inner();
    let Ok(client) = client.parse::<u32>() else {
        return plain(
            actix_web::http::StatusCode::BAD_REQUEST,
            format!("client {client:?} is not a client id (a number)"),
        );
    };
    let Some(ask) =
        state.registry.get(&id).and_then(|h| h.port().map(|p| p.kick(ClientId(client), KICK_REASON.into())))
    else {
        return no_room(&id);
    };
    match tokio::time::timeout(ROOM_ANSWER, ask).await {
        Ok(true) => {
            tracing::info!(room = %id, client, "client kicked from the monitor");
            HttpResponse::Ok().json(serde_json::json!({ "kicked": client, "close_code": 4005, "reason": KICK_REASON }))
        }
        Ok(false) => plain(actix_web::http::StatusCode::NOT_FOUND, format!("no client {client} in room {id:?}")),
        // The kick is already queued in the room's mailbox: only its answer
        // is late, and the room will still run it.
        Err(_) => plain(
            actix_web::http::StatusCode::GATEWAY_TIMEOUT,
            format!("room {id:?} did not answer in time; the kick may still apply"),
        ),
    }
}

async fn dispose(req: HttpRequest, path: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    if let Err(denied) = admitted(&req, &state) {
        return denied.response();
    }
    let id = path.into_inner();
    match state.registry.get(&id) {
        Some(h) => match h.port() {
            Some(p) => {
                p.dispose();
                tracing::info!(room = %id, "room disposed from the monitor");
                HttpResponse::Accepted().json(serde_json::json!({ "disposing": id }))
            }
            None => no_room(&id),
        },
        None => no_room(&id),
    }
}
