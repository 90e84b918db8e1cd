//! `wss://`: which servers the client trusts (feature `tls`, on by default).
//!
//! [`Client::connect`](crate::Client::connect) trusts Mozilla's root CAs
//! (webpki-roots) for a `wss://` URL, like a browser would. A server with a
//! private CA or a self-signed certificate (tests, a LAN party) is reached
//! with [`Client::connect_tls`](crate::Client::connect_tls) and a
//! [`TlsTrust`] built from that certificate:
//!
//! ```no_run
//! use playhouse_client::{Client, TlsTrust};
//!
//! # async fn run() -> Result<(), playhouse_client::ClientError> {
//! let trust = TlsTrust::pem_file("ca.pem")?;
//! let client = Client::connect_tls("wss://127.0.0.1:8443/ws", &["arena.v2.proto"], &trust).await?;
//! # Ok(()) }
//! ```
//!
//! rustls runs on the ring provider, chosen explicitly (never the process
//! default), speaks TLS 1.3 and 1.2 only and offers ALPN `http/1.1` (a
//! WebSocket upgrade is an HTTP/1.1 request).

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a [`TlsTrust`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The PEM file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid PEM.
    #[error("not valid PEM: {0}")]
    Pem(String),
    /// No `CERTIFICATE` section in the PEM.
    #[error("no certificate (-----BEGIN CERTIFICATE-----) in the PEM")]
    NoCertificate,
    /// A certificate was refused as a trust anchor (it does not parse).
    #[error("certificate not usable as a trust anchor: {0}")]
    BadCertificate(rustls::Error),
    /// rustls refused the configuration (not expected with the ring provider).
    #[error("rustls configuration: {0}")]
    Config(rustls::Error),
}

/// Which servers a `wss://` connection trusts: a rustls client
/// configuration. Cheap to clone.
#[derive(Clone, Debug)]
pub struct TlsTrust(Arc<ClientConfig>);

impl TlsTrust {
    /// Mozilla's root CAs (webpki-roots): what [`Client::connect`](crate::Client::connect)
    /// uses for `wss://`.
    pub fn webpki_roots() -> Result<Self, TrustError> {
        let roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        Self::with_roots(roots)
    }

    /// Trusts only the certificates in `pem`: a private CA, or the
    /// server's own self-signed certificate (one that is not a CA itself).
    pub fn pem(pem: &[u8]) -> Result<Self, TrustError> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, pem::Error>>()
            .map_err(|e| TrustError::Pem(e.to_string()))?;
        if certs.is_empty() {
            return Err(TrustError::NoCertificate);
        }
        let mut roots = RootCertStore::empty();
        for c in certs {
            roots.add(c).map_err(TrustError::BadCertificate)?;
        }
        Self::with_roots(roots)
    }

    /// [`TlsTrust::pem`] from a file.
    pub fn pem_file(path: impl AsRef<Path>) -> Result<Self, TrustError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| TrustError::Read { path: path.to_path_buf(), source })?;
        Self::pem(&bytes)
    }

    /// A rustls configuration of your own (client certificates, pinning,
    /// other protocol versions). Its ALPN list is used as it is.
    pub fn from_config(config: Arc<ClientConfig>) -> Self {
        TlsTrust(config)
    }

    /// The rustls configuration (to open a TLS stream yourself).
    pub fn config(&self) -> Arc<ClientConfig> {
        self.0.clone()
    }

    fn with_roots(roots: RootCertStore) -> Result<Self, TrustError> {
        let mut config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(TrustError::Config)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsTrust(Arc::new(config)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_without_a_certificate_is_refused() {
        assert!(matches!(TlsTrust::pem(b"hello"), Err(TrustError::NoCertificate)));
        let broken = b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        assert!(matches!(TlsTrust::pem(broken), Err(TrustError::Pem(_))));
        let junk = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(TlsTrust::pem(junk), Err(TrustError::BadCertificate(_))));
        assert!(matches!(TlsTrust::pem_file("/nonexistent/ca.pem"), Err(TrustError::Read { .. })));
    }

    #[test]
    fn the_default_trust_has_roots_and_offers_http_1_1() {
        let t = TlsTrust::webpki_roots().expect("builds");
        assert_eq!(t.config().alpn_protocols, vec![b"http/1.1".to_vec()]);
    }
}
