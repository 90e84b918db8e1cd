//! TLS: `wss://` served directly by the server, with rustls 0.23 on the
//! ring provider (feature `tls`).
//!
//! Owns loading the certificate chain and private key from PEM files, the
//! rustls server configuration (TLS 1.3 and 1.2 only — rustls has no 1.1 or
//! older —, no client certificates, ALPN `http/1.1`), and swapping the
//! certificate in place when the files change ([`TlsReloader`], called on
//! SIGHUP by a server bound with [`Server::bind`](super::Server::bind)).
//! It does not touch sockets: the listener is actix-web's, and the socket
//! options and kill switch are applied to the TCP stream under the TLS one
//! by `transport::on_connect`.
//!
//! ```no_run
//! use playhouse::server::{ServerConfig, TlsConfig};
//!
//! let mut config = ServerConfig::new("arena");
//! config.tls = Some(TlsConfig::new("/etc/arena/fullchain.pem", "/etc/arena/key.pem"));
//! // Server::new(config)...bind("0.0.0.0:443") now serves https:// and wss://
//! ```
//!
//! How a reload works: rustls asks a [`ResolvesServerCert`] for the
//! certificate on every handshake; ours hands out the `Arc<CertifiedKey>`
//! behind a lock, and a reload replaces that `Arc` after the new files
//! loaded and matched. Connections already open keep the certificate they
//! were made with; a reload that fails changes nothing.
//!
//! [`ResolvesServerCert`]: https://docs.rs/rustls/0.23/rustls/server/trait.ResolvesServerCert.html

use std::io;
use std::path::PathBuf;

/// Where the server's certificate chain and private key are (PEM files).
/// Set [`ServerConfig::tls`](super::ServerConfig::tls) to serve `https://`
/// and `wss://` instead of plain HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// PEM file with the certificate chain: the server's own certificate
    /// first, then any intermediates (a `fullchain.pem`).
    pub cert_chain: PathBuf,
    /// PEM file with the private key: PKCS#8 (`BEGIN PRIVATE KEY`), PKCS#1
    /// RSA or SEC1 EC. The first key in the file is used.
    pub private_key: PathBuf,
}

impl TlsConfig {
    /// A certificate chain file and a key file.
    pub fn new(cert_chain: impl Into<PathBuf>, private_key: impl Into<PathBuf>) -> Self {
        TlsConfig { cert_chain: cert_chain.into(), private_key: private_key.into() }
    }
}

/// Why the certificate or key could not be used. [`Server::bind`] returns
/// it inside an [`io::Error`] of kind `InvalidInput`: get it back with
/// [`TlsError::from_io`].
///
/// [`Server::bind`]: super::Server::bind
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read.
    #[error("TLS: cannot read the {what} file {}: {source}", path.display())]
    Read {
        /// `"certificate chain"` or `"private key"`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A file is not valid PEM (a broken section, bad base64).
    #[error("TLS: {} is not valid PEM: {reason}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What the PEM parser said.
        reason: String,
    },
    /// The chain file holds no `CERTIFICATE` section.
    #[error("TLS: no certificate (-----BEGIN CERTIFICATE-----) in {}", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key file holds no private key section.
    #[error("TLS: no private key (PKCS#8, PKCS#1 RSA or SEC1 EC PEM) in {}", path.display())]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// The key is of a kind the ring provider cannot sign with (or is corrupt).
    #[error("TLS: the private key in {} cannot be used: {reason}", path.display())]
    UnusableKey {
        /// The key file.
        path: PathBuf,
        /// What rustls said.
        reason: String,
    },
    /// The first certificate does not parse as X.509.
    #[error("TLS: the first certificate in {} cannot be used: {reason}", path.display())]
    BadCertificate {
        /// The chain file.
        path: PathBuf,
        /// What rustls said.
        reason: String,
    },
    /// The key is not the one the first certificate was issued for.
    #[error("TLS: the private key in {} does not belong to the first certificate in {}", key.display(), cert.display())]
    KeyMismatch {
        /// The chain file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// rustls refused the configuration (never expected with the ring provider).
    #[error("TLS: rustls refused the configuration: {reason}")]
    Config {
        /// What rustls said.
        reason: String,
    },
    /// TLS is configured, but this build of playhouse has no `tls` feature.
    #[error("TLS is configured, but playhouse was built without its `tls` cargo feature")]
    NotBuilt,
}

impl TlsError {
    /// The `TlsError` inside an error from [`Server::bind`](super::Server::bind), if that is what it was.
    pub fn from_io(e: &io::Error) -> Option<&TlsError> {
        e.get_ref().and_then(|inner| inner.downcast_ref::<TlsError>())
    }

    pub(crate) fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, self)
    }
}

/// Reloads the certificate and key from the files in [`TlsConfig`], for
/// new connections; what SIGHUP does to a server bound with
/// [`Server::bind`](super::Server::bind). Cheap to clone.
#[derive(Clone, Debug)]
pub struct TlsReloader {
    #[cfg(feature = "tls")]
    resolver: std::sync::Arc<imp::Resolver>,
}

impl TlsReloader {
    /// Reads both files again and, if they load and the key matches the
    /// certificate, serves them to every handshake from now on. On an error
    /// the certificate in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        #[cfg(feature = "tls")]
        return self.resolver.reload();
        #[cfg(not(feature = "tls"))]
        Err(TlsError::NotBuilt)
    }
}

#[cfg(feature = "tls")]
pub(crate) use imp::{reload_on_sighup, server_config};

#[cfg(feature = "tls")]
mod imp {
    use super::{TlsConfig, TlsError, TlsReloader};
    use parking_lot::RwLock;
    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::pem::{self, PemObject};
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use rustls::server::{ClientHello, ResolvesServerCert};
    use rustls::sign::CertifiedKey;
    use rustls::{InconsistentKeys, ServerConfig};
    use std::path::Path;
    use std::sync::Arc;

    /// Hands every handshake the current certificate; a reload swaps it.
    #[derive(Debug)]
    pub(crate) struct Resolver {
        config: TlsConfig,
        provider: Arc<CryptoProvider>,
        pub(super) current: RwLock<Arc<CertifiedKey>>,
    }

    impl ResolvesServerCert for Resolver {
        fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
            Some(self.current.read().clone())
        }
    }

    impl Resolver {
        pub(super) fn reload(&self) -> Result<(), TlsError> {
            let fresh = load(&self.config, &self.provider)?;
            *self.current.write() = Arc::new(fresh);
            Ok(())
        }
    }

    fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, TlsError> {
        std::fs::read(path).map_err(|source| TlsError::Read { what, path: path.to_path_buf(), source })
    }

    fn pem_error(path: &Path, e: pem::Error) -> TlsError {
        TlsError::Pem { path: path.to_path_buf(), reason: e.to_string() }
    }

    /// Reads and checks the chain and key of `config`.
    pub(super) fn load(config: &TlsConfig, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
        let (cert_path, key_path) = (&config.cert_chain, &config.private_key);
        let chain_pem = read(cert_path, "certificate chain")?;
        let chain = CertificateDer::pem_slice_iter(&chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error(cert_path, e))?;
        if chain.is_empty() {
            return Err(TlsError::NoCertificate { path: cert_path.clone() });
        }
        let key_pem = read(key_path, "private key")?;
        let key = match PrivateKeyDer::from_pem_slice(&key_pem) {
            Ok(k) => k,
            Err(pem::Error::NoItemsFound) => return Err(TlsError::NoPrivateKey { path: key_path.clone() }),
            Err(e) => return Err(pem_error(key_path, e)),
        };
        let signer = provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| TlsError::UnusableKey { path: key_path.clone(), reason: e.to_string() })?;
        let certified = CertifiedKey::new(chain, signer);
        match certified.keys_match() {
            // Unknown: the key cannot tell its public half; rustls itself accepts that.
            Ok(()) | Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => Ok(certified),
            Err(rustls::Error::InconsistentKeys(_)) => {
                Err(TlsError::KeyMismatch { cert: cert_path.clone(), key: key_path.clone() })
            }
            Err(e) => Err(TlsError::BadCertificate { path: cert_path.clone(), reason: e.to_string() }),
        }
    }

    /// The rustls configuration for the listener, and its reloader.
    pub(crate) fn server_config(config: &TlsConfig) -> Result<(ServerConfig, TlsReloader), TlsError> {
        // The provider is explicit, never the process default: a build that
        // also links aws-lc-rs (through another crate) must not change ours.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let first = load(config, &provider)?;
        let resolver = Arc::new(Resolver {
            config: config.clone(),
            provider: provider.clone(),
            current: RwLock::new(Arc::new(first)),
        });
        let mut server = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsError::Config { reason: e.to_string() })?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        // actix-http puts `http/1.1` first in the ALPN list itself (and `h2`
        // only with its `http2` feature, which this workspace leaves off:
        // WebSocket upgrades need HTTP/1.1).
        server.alpn_protocols = Vec::new();
        Ok((server, TlsReloader { resolver }))
    }

    /// Reloads the certificate on every SIGHUP, for the life of the server.
    pub(crate) async fn reload_on_sighup(reloader: TlsReloader) {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut hup) = signal(SignalKind::hangup()) else {
                tracing::warn!("cannot listen for SIGHUP: the TLS certificate will not be reloaded");
                return;
            };
            while hup.recv().await.is_some() {
                // Two small files, read on the runtime thread: a reload is rare.
                match reloader.reload() {
                    Ok(()) => tracing::info!("SIGHUP: TLS certificate reloaded"),
                    Err(e) => {
                        tracing::error!(error = %e, "SIGHUP: TLS reload failed; still serving the old certificate")
                    }
                }
            }
        }
        #[cfg(not(unix))]
        let _ = reloader;
    }
}

#[cfg(all(test, feature = "tls"))]
mod tests {
    use super::*;
    use rcgen::{CertifiedKey as Generated, KeyPair};
    use std::path::Path;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write test file");
        p
    }

    fn generated() -> Generated<KeyPair> {
        rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("rcgen")
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("playhouse-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    }

    fn load(cert: &Path, key: &Path) -> Result<rustls::sign::CertifiedKey, TlsError> {
        imp::load(&TlsConfig::new(cert, key), &rustls::crypto::ring::default_provider())
    }

    #[test]
    fn a_generated_chain_and_key_load() {
        let d = dir("ok");
        let g = generated();
        let c = write(&d, "cert.pem", &g.cert.pem());
        let k = write(&d, "key.pem", &g.signing_key.serialize_pem());
        let loaded = load(&c, &k).expect("loads");
        assert_eq!(loaded.cert.len(), 1);
        assert_eq!(loaded.cert[0].as_ref(), g.cert.der().as_ref());
        assert!(server_config(&TlsConfig::new(&c, &k)).is_ok());
    }

    #[test]
    fn each_bad_input_is_its_own_error() {
        let d = dir("bad");
        let (a, b) = (generated(), generated());
        let cert = write(&d, "cert.pem", &a.cert.pem());
        let key = write(&d, "key.pem", &a.signing_key.serialize_pem());
        let other_key = write(&d, "other.pem", &b.signing_key.serialize_pem());
        let missing = d.join("missing.pem");
        let empty = write(&d, "empty.pem", "nothing here\n");
        let broken = write(&d, "broken.pem", "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n");
        let junk_key = write(&d, "junk-key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        let junk_cert = write(&d, "junk-cert.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");

        assert!(matches!(load(&missing, &key), Err(TlsError::Read { what: "certificate chain", .. })));
        assert!(matches!(load(&cert, &missing), Err(TlsError::Read { what: "private key", .. })));
        assert!(matches!(load(&empty, &key), Err(TlsError::NoCertificate { .. })));
        assert!(matches!(load(&broken, &key), Err(TlsError::Pem { .. })));
        assert!(matches!(load(&cert, &empty), Err(TlsError::NoPrivateKey { .. })));
        assert!(matches!(load(&cert, &cert), Err(TlsError::NoPrivateKey { .. })), "a certificate is no key");
        assert!(matches!(load(&cert, &junk_key), Err(TlsError::UnusableKey { .. })));
        assert!(matches!(load(&junk_cert, &key), Err(TlsError::BadCertificate { .. })));
        assert!(matches!(load(&cert, &other_key), Err(TlsError::KeyMismatch { .. })));
        let msg = load(&cert, &other_key).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("other.pem") && msg.contains("cert.pem"), "names both files: {msg}");
    }

    #[test]
    fn a_failed_reload_keeps_the_certificate_and_a_good_one_swaps_it() {
        let d = dir("reload");
        let (a, b) = (generated(), generated());
        let cert = write(&d, "cert.pem", &a.cert.pem());
        let key = write(&d, "key.pem", &a.signing_key.serialize_pem());
        let (_, reloader) = server_config(&TlsConfig::new(&cert, &key)).expect("loads");
        let served = |r: &TlsReloader| r.resolver.current.read().cert[0].as_ref().to_vec();
        assert_eq!(served(&reloader), a.cert.der().to_vec());

        write(&d, "cert.pem", &b.cert.pem()); // new cert, old key: a mismatch
        assert!(matches!(reloader.reload(), Err(TlsError::KeyMismatch { .. })));
        assert_eq!(served(&reloader), a.cert.der().to_vec(), "a failed reload changes nothing");

        write(&d, "key.pem", &b.signing_key.serialize_pem());
        reloader.reload().expect("reloads");
        assert_eq!(served(&reloader), b.cert.der().to_vec());
    }
}
