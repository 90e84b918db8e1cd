//! The HTTP listener: actix-web's App for every request, with upgrade
//! requests routed through [`accept`](super::accept) to a [`Transport`](super::Transport)
//! that owns its socket.
//!
//! Why not `actix_web::HttpServer`: it offers no way to take a socket over
//! after a `101`, so a WebSocket there is an HTTP response body streamed by
//! the HTTP dispatcher (see `websocket.rs` for what that cost). actix-http
//! itself has the hook (`HttpServiceBuilder::upgrade`); this module builds
//! the server around it the way `HttpServer` does, with the same defaults
//! (keep-alive 5 s, request timeout 5 s, disconnect timeout 1 s, backlog
//! 1024).

use super::upgrade::upgrade;
use actix_http::body::MessageBody;
use actix_http::{Extensions, HttpService, Request, Response};
use actix_server::ServerBuilder;
use actix_service::{fn_factory, fn_service, map_config, IntoServiceFactory, ServiceFactory, ServiceFactoryExt};
use actix_web::dev::AppConfig;
use std::any::Any;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// Called for every accepted connection (before TLS, if any, is set up the
/// hook sees the TLS stream): socket options, per-connection data.
pub type OnConnect = Arc<dyn Fn(&dyn Any, &mut Extensions) + Send + Sync>;

/// How [`serve`] listens.
#[derive(Clone)]
pub struct Listen {
    /// Worker threads (each runs its own copy of the App).
    pub workers: usize,
    /// How long a stop waits for open connections (seconds).
    pub shutdown_timeout: u64,
    /// Pending connections the kernel queues before `accept`.
    pub backlog: i32,
    /// The per-connection hook, e.g. [`on_connect`](super::on_connect).
    pub on_connect: Option<OnConnect>,
    /// Called on each worker thread as it starts (before it serves).
    pub on_worker: Option<Arc<dyn Fn() + Send + Sync>>,
    /// Speak TLS with this configuration (feature `tls`).
    #[cfg(feature = "tls")]
    pub tls: Option<rustls::ServerConfig>,
}

impl Default for Listen {
    fn default() -> Self {
        Listen {
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            shutdown_timeout: 30,
            backlog: 1024,
            on_connect: None,
            on_worker: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// Binds `addr` and builds a server that answers with the App `factory`
/// makes (once per worker, twice: plain requests and upgrades each get an
/// instance). Signals are left alone. Returns the builder (call `run`) and
/// the bound addresses.
///
/// ```no_run
/// use actix_web::{web, App, HttpResponse};
/// use playhouse::transport::{serve, Listen};
///
/// # async fn run() -> std::io::Result<()> {
/// let app = || App::new().route("/", web::get().to(|| async { HttpResponse::Ok().body("hi") }));
/// let (server, addrs) = serve(app, "127.0.0.1:0", Listen::default())?;
/// println!("on {}", addrs[0]);
/// server.run().await
/// # }
/// ```
pub fn serve<F, I, S, B>(
    factory: F,
    addr: impl ToSocketAddrs,
    listen: Listen,
) -> io::Result<(ServerBuilder, Vec<SocketAddr>)>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let mut builder =
        ServerBuilder::new().workers(listen.workers.max(1)).disable_signals().shutdown_timeout(listen.shutdown_timeout);
    let mut addrs = Vec::new();
    for a in addr.to_socket_addrs()? {
        let lst = bind(a, listen.backlog)?;
        let local = lst.local_addr()?;
        addrs.push(local);
        let name = format!("playhouse-{local}");
        // One App per worker for plain requests, one for upgrades; built the
        // same way for TCP and TLS, whose socket types differ.
        macro_rules! http_service {
            ($factory:ident, $on_connect:ident, $on_worker:ident) => {{
                if let Some(hook) = &$on_worker {
                    hook();
                }
                let app = {
                    let factory = $factory.clone();
                    move || {
                        map_config(
                            factory().into_factory().map_err(|err: S::Error| err.into().error_response()),
                            |_| AppConfig::default(),
                        )
                    }
                };
                let upgrades = {
                    let app = app.clone();
                    fn_factory(move || {
                        let made = app().new_service(());
                        async move {
                            let svc = Rc::new(made.await.map_err(|e| tracing::error!("app not built: {e:?}"))?);
                            Ok::<_, ()>(fn_service(move |(req, framed)| upgrade(svc.clone(), req, framed)))
                        }
                    })
                };
                let mut http = HttpService::build()
                    .keep_alive(actix_http::KeepAlive::Timeout(Duration::from_secs(5)))
                    .client_request_timeout(Duration::from_secs(5))
                    .client_disconnect_timeout(Duration::from_secs(1))
                    .local_addr(local);
                if let Some(hook) = $on_connect.clone() {
                    http = http.on_connect_ext(move |io: &_, ext: &mut Extensions| hook(io as &dyn Any, ext));
                }
                http.upgrade(upgrades).finish(app())
            }};
        }
        let factory = factory.clone();
        let on_connect = listen.on_connect.clone();
        let on_worker = listen.on_worker.clone();
        #[cfg(feature = "tls")]
        if let Some(tls) = listen.tls.clone() {
            builder = builder
                .listen(name, lst, move || http_service!(factory, on_connect, on_worker).rustls_0_23(tls.clone()))?;
            continue;
        }
        builder = builder.listen(name, lst, move || http_service!(factory, on_connect, on_worker).tcp())?;
    }
    Ok((builder, addrs))
}

/// A listening socket like `HttpServer`'s: address reuse, our backlog.
fn bind(addr: SocketAddr, backlog: i32) -> io::Result<std::net::TcpListener> {
    let socket = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}
