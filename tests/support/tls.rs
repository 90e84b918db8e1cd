//! TLS material for tests, generated with rcgen in the test itself: a CA
//! and server certificates it issues (for `localhost` and `127.0.0.1`),
//! written as PEM files to a temporary folder that is removed on drop.

use playhouse::server::TlsConfig;
use playhouse_client::TlsTrust;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A test CA and a folder for the certificates it issues.
pub struct TestPki {
    dir: PathBuf,
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate issued by a [`TestPki`].
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate's DER, to compare with what a server presents.
    pub der: Vec<u8>,
    /// PEM of the certificate (the whole chain: the CA is the trust anchor).
    pub cert_pem: String,
    /// PEM of its private key (PKCS#8).
    pub key_pem: String,
}

impl TestPki {
    /// A fresh CA and an empty folder named after `name`.
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("playhouse-{name}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the temp folder");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "Playhouse test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("CA key")).expect("CA certificate");
        let pki = TestPki { dir, ca };
        std::fs::write(pki.ca_path(), pki.ca.pem()).expect("write ca.pem");
        pki
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `ca.pem` in the folder.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A client trust that accepts exactly this CA.
    pub fn trust(&self) -> TlsTrust {
        TlsTrust::pem(self.ca.pem().as_bytes()).expect("the test CA is a valid trust anchor")
    }

    /// A rustls root store holding this CA (for a client configuration of
    /// the test's own).
    pub fn roots(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.der().clone()).expect("the test CA is a valid trust anchor");
        roots
    }

    /// A new server certificate for `localhost` and `127.0.0.1` with common
    /// name `cn`, and a new key.
    pub fn issue(&self, cn: &str) -> Issued {
        let key = KeyPair::generate().expect("server key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).expect("server params");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = params.signed_by(&key, &self.ca).expect("issue the server certificate");
        Issued { der: cert.der().to_vec(), cert_pem: cert.pem(), key_pem: key.serialize_pem() }
    }

    /// Writes `issued` as `server.pem` / `server.key` (replacing what was
    /// there) and returns the config that points at them.
    pub fn install(&self, issued: &Issued) -> TlsConfig {
        let config = TlsConfig::new(self.dir.join("server.pem"), self.dir.join("server.key"));
        std::fs::write(&config.cert_chain, &issued.cert_pem).expect("write server.pem");
        std::fs::write(&config.private_key, &issued.key_pem).expect("write server.key");
        config
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
