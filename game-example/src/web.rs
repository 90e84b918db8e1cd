//! Serves the browser client at `/`.
//!
//! The files are the committed build output in `game-example/web/dist/`
//! (built from `game-example/web/src/` by `npm run build` in
//! `game-example/web`; the test command checks the committed build is
//! current), embedded in the binary so `cargo run -p arena` needs nothing
//! but the Rust toolchain.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{web, HttpResponse};

const INDEX_HTML: &str = include_str!("../web/dist/index.html");
const APP_JS: &str = include_str!("../web/dist/app.js");
const STYLE_CSS: &str = include_str!("../web/dist/style.css");

fn asset(body: &'static str, content_type: &'static str) -> HttpResponse {
    HttpResponse::Ok().content_type(content_type).insert_header(CacheControl(vec![CacheDirective::NoCache])).body(body)
}

/// Adds `/`, `/index.html`, `/app.js` and `/style.css`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }))
        .route("/index.html", web::get().to(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }))
        .route("/app.js", web::get().to(|| async { asset(APP_JS, "text/javascript; charset=utf-8") }))
        .route("/style.css", web::get().to(|| async { asset(STYLE_CSS, "text/css; charset=utf-8") }));
}
