//! Dialing: the TLS connector for a URL, the upgrade request (with a
//! credential in the query or a header), and the negotiated token check.

use crate::auth::{self, AuthVia, Credential};
use crate::{Client, ClientError};
#[cfg(feature = "tls")]
use crate::{Event, ResumeOutcome, TlsTrust};
use playhouse_protocol::envelope::Welcome;
use playhouse_protocol::Token;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use tokio_tungstenite::Connector;

/// The connector for `url`: for `wss://`, rustls with Mozilla's roots on
/// the ring provider (never tungstenite's own default, which would take the
/// process-wide rustls provider); for `ws://`, none.
fn default_connector(url: &str) -> Result<Option<Connector>, ClientError> {
    #[cfg(feature = "tls")]
    if url.get(..6).is_some_and(|s| s.eq_ignore_ascii_case("wss://")) {
        return Ok(Some(Connector::Rustls(TlsTrust::webpki_roots()?.config())));
    }
    let _ = url;
    Ok(None)
}

/// How a client dialed, so that it can dial another node of a cluster the
/// same way when a `Redirect` sends it there.
#[derive(Clone)]
pub(crate) struct Redial {
    /// The URL this connection dialed.
    pub(crate) url: String,
    tokens: Vec<String>,
    cred: Option<(String, AuthVia)>,
    connector: Option<Connector>,
}

impl Client {
    /// Dials `url` as this client dialed its server, authenticates as it
    /// did, and takes that connection (and its new session) over: what
    /// following a `Redirect` does.
    pub(crate) async fn redial(&mut self, url: &str) -> Result<(), ClientError> {
        let d = self.redial.clone();
        let tokens: Vec<&str> = d.tokens.iter().map(String::as_str).collect();
        let cred = d.cred.as_ref().map(|(token, via)| Credential { token, via: *via });
        // A connection that asked for compression asks the next node too.
        let url = match self.compression() {
            Some(c) if !url.contains(playhouse_protocol::compress::QUERY_PARAM) => c.ask(url),
            _ => url.to_string(),
        };
        let mut fresh = Self::open(&url, &tokens, cred.as_ref(), d.connector).await?;
        fresh.timeout = self.timeout;
        fresh.welcomed().await?;
        fresh.resume_token = fresh.welcome.resume_token.clone();
        if let Some(c) = cred.filter(|c| c.via == AuthVia::Message) {
            fresh.authenticate(c.token).await?;
        }
        let old = std::mem::replace(self, fresh);
        // The old session ends with its connection; its close handshake
        // finishes in the background (waiting for it would add the server's
        // close timeout to the join).
        tokio::spawn(async move {
            let _ = old.close().await;
        });
        Ok(())
    }

    /// Like [`Client::connect`], for a `wss://` URL whose certificate
    /// `trust` accepts (a private CA, a self-signed certificate).
    #[cfg(feature = "tls")]
    pub async fn connect_tls(url: &str, tokens: &[&str], trust: &TlsTrust) -> Result<Client, ClientError> {
        let mut client = Self::open(url, tokens, None, Some(Connector::Rustls(trust.config()))).await?;
        client.welcomed().await?;
        client.resume_token = client.welcome.resume_token.clone();
        Ok(client)
    }

    /// Like [`Client::resume`], for a `wss://` URL whose certificate `trust`
    /// accepts.
    #[cfg(feature = "tls")]
    pub async fn resume_tls(
        url: &str,
        tokens: &[&str],
        token: &str,
        last_seq: u64,
        trust: &TlsTrust,
    ) -> Result<Client, ClientError> {
        let mut client = Self::open(url, tokens, None, Some(Connector::Rustls(trust.config()))).await?;
        client.welcomed().await?;
        match client.resume_session(token, last_seq).await? {
            (mut client, ResumeOutcome::Resumed(r)) => {
                client.backlog.push_front(Event::Resumed(r));
                Ok(client)
            }
            (_, ResumeOutcome::Refused(e)) => Err(ClientError::Resume(e)),
        }
    }

    /// Dials `url` offering `tokens`; `cred` with [`AuthVia::Query`] or
    /// [`AuthVia::Header`] goes on the upgrade request. `connector`: the TLS
    /// setup for a `wss://` URL (`None`: Mozilla's roots).
    pub(crate) async fn open(
        url: &str,
        tokens: &[&str],
        cred: Option<&Credential<'_>>,
        connector: Option<Connector>,
    ) -> Result<Client, ClientError> {
        // A redirect dials another node the same way (the same trust).
        let connector_for_redial = connector.clone();
        let connector = match connector {
            Some(c) => Some(c),
            None => default_connector(url)?,
        };
        for t in tokens {
            t.parse::<Token>().map_err(|e| ClientError::BadToken(t.to_string(), e))?;
        }
        let mut req = match cred {
            Some(c) if c.via == AuthVia::Query => auth::with_token(url, c.token).into_client_request()?,
            _ => url.into_client_request()?,
        };
        if let Some(c) = cred.filter(|c| c.via == AuthVia::Header) {
            let value = format!("Bearer {}", c.token)
                .parse()
                .map_err(|_| ClientError::TokenSource("the token cannot go in an HTTP header".into()))?;
            req.headers_mut().insert(AUTHORIZATION, value);
        }
        if !tokens.is_empty() {
            let value = tokens
                .join(", ")
                .parse()
                .map_err(|_| ClientError::Protocol("token list is not a valid header".into()))?;
            req.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, value);
        }
        #[cfg(feature = "tls")]
        // TCP_NODELAY: a game's messages are small and latency-bound; with
        // Nagle on, a message sent right after another (the Join after the
        // Hello) would wait for the first one's ACK (up to 40 ms).
        let connected = tokio_tungstenite::connect_async_tls_with_config(req, None, true, connector).await;
        #[cfg(not(feature = "tls"))]
        let connected = {
            let _ = connector; // always None: a wss:// URL fails in tungstenite with "TLS support not compiled in"
            tokio_tungstenite::connect_async_with_config(req, None, true).await
        };
        let (ws, resp) = match connected {
            Ok(ok) => ok,
            Err(tungstenite::Error::Http(resp)) => {
                let status = resp.status().as_u16();
                let body =
                    resp.body().as_ref().map(|b| String::from_utf8_lossy(b).trim().to_string()).unwrap_or_default();
                return Err(ClientError::Refused { status, body });
            }
            Err(e) => return Err(e.into()),
        };
        let chosen = resp.headers().get(SEC_WEBSOCKET_PROTOCOL).and_then(|v| v.to_str().ok()).map(str::to_string);
        let token = match chosen.as_deref() {
            Some(c) if tokens.contains(&c) => {
                c.parse::<Token>().map_err(|e| ClientError::BadToken(c.to_string(), e))?
            }
            _ => return Err(ClientError::BadProtocol(chosen)),
        };
        let redial = Redial {
            url: url.to_string(),
            tokens: tokens.iter().map(|t| t.to_string()).collect(),
            cred: cred.map(|c| (c.token.to_string(), c.via)),
            connector: connector_for_redial,
        };
        Ok(Client {
            ws,
            redial,
            token,
            welcome: Welcome::default(),
            next_request: 1,
            backlog: VecDeque::new(),
            rooms: HashMap::new(),
            timeout: Duration::from_secs(10),
            last_seq: 0,
            resume_token: String::new(),
            resynced: false,
            last_heard: Instant::now(),
            authenticated: None,
            positions: HashMap::new(),
            deltas: crate::deltas::Deltas::new(true),
            bytes_in: 0,
        })
    }
}
