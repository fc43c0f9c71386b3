//! TLS for the blocking side of the wire: clients (the CLI, tests, the
//! load generator) and pipe sinks.
//!
//! - [`load_certs`] / [`load_key`] read PEM files (parsed by
//!   `rustls-pki-types`); every error names the file and what it was for.
//! - [`TlsClient`] is a rustls client configuration: it trusts the
//!   certificates of one PEM file (the CA that signed the server's
//!   certificate, or a server's own self-signed certificate) and may
//!   present a certificate of its own (a pipe sink does: the peer's node
//!   checks it).
//! - [`TlsClient::connect`] runs the handshake on a connected `TcpStream`
//!   and gives a [`Connected`]: the stream, plain or TLS, in the two halves
//!   the generated thrift client takes. A handshake that fails on a
//!   certificate is a [`HandshakeError::Certificate`] (configuration: retrying
//!   will not help), anything else is [`HandshakeError::Io`].
//!
//! The server side (tokio, the accept loop) lives in `duet-server`; it uses
//! the same loaders.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The crypto used everywhere: rustls' `ring` provider.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS file or setting that cannot be used; the message names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(pub String);

/// Every certificate of a PEM file; `what` says what the file is for
/// ("tls.cert_file"), so the error names both.
pub fn load_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bad = |e: &dyn std::fmt::Display| {
        TlsError(format!(
            "{what} {}: cannot read certificates: {e}",
            path.display()
        ))
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&e))?;
    if certs.is_empty() {
        return Err(TlsError(format!(
            "{what} {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file",
            path.display()
        )));
    }
    Ok(certs)
}

/// The first private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn load_key(path: &Path, what: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| {
        let e = match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "no PEM private key (-----BEGIN PRIVATE KEY-----) in the file".to_string()
            }
            other => format!("cannot read a private key: {other}"),
        };
        TlsError(format!("{what} {}: {e}", path.display()))
    })
}

/// The trust anchors of a PEM file: each certificate in it is trusted to
/// sign (a CA) or to be (a self-signed peer) the other side's certificate.
pub fn load_roots(path: &Path, what: &str) -> Result<rustls::RootCertStore, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in load_certs(path, what)? {
        roots.add(cert).map_err(|e| {
            TlsError(format!(
                "{what} {}: a certificate cannot be a trust anchor: {e}",
                path.display()
            ))
        })?;
    }
    Ok(roots)
}

/// A certificate and the key that goes with it, checked to match.
pub fn load_identity(
    cert: &Path,
    key: &Path,
    cert_what: &str,
    key_what: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let chain = load_certs(cert, cert_what)?;
    let key_der = load_key(key, key_what)?;
    // Checked here so the error names both files, not at first handshake.
    rustls::sign::CertifiedKey::from_der(chain.clone(), key_der.clone_key(), &provider()).map_err(
        |e| {
            TlsError(format!(
                "{key_what} {} does not go with {cert_what} {}: {e}",
                key.display(),
                cert.display()
            ))
        },
    )?;
    Ok((chain, key_der))
}

/// A client's TLS settings, loaded: whom to trust and (optionally) which
/// certificate to present.
#[derive(Clone)]
pub struct TlsClient {
    config: Arc<rustls::ClientConfig>,
    trust: PathBuf,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TlsClient(trusting {})", self.trust.display())
    }
}

/// Why a TLS handshake failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// A certificate was refused, on either side: fix the files, a retry
    /// will not help.
    #[error("{0}")]
    Certificate(String),
    /// The connection failed or timed out during the handshake.
    #[error("{0}")]
    Io(String),
}

impl TlsClient {
    /// `trust`: a PEM file of the CA (or self-signed certificates) that the
    /// server's certificate must chain to. `identity`: certificate and key
    /// files to present when the server asks for one.
    pub fn new(trust: &Path, identity: Option<(&Path, &Path)>) -> Result<TlsClient, TlsError> {
        Self::with_names(trust, identity, ("trust store", "certificate", "key"))
    }

    /// As [`TlsClient::new`], with the names of the settings the files came
    /// from, for the errors (`("sink.ssl.trust-store-path", ...)`).
    pub fn with_names(
        trust: &Path,
        identity: Option<(&Path, &Path)>,
        names: (&str, &str, &str),
    ) -> Result<TlsClient, TlsError> {
        let roots = load_roots(trust, names.0)?;
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(format!("TLS versions: {e}")))?
            .with_root_certificates(roots);
        let config = match identity {
            Some((cert, key)) => {
                let (chain, key) = load_identity(cert, key, names.1, names.2)?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| TlsError(format!("{}: {e}", cert.display())))?
            }
            None => builder.with_no_client_auth(),
        };
        Ok(TlsClient {
            config: Arc::new(config),
            trust: trust.to_path_buf(),
        })
    }

    /// The trust store file.
    pub fn trust_store(&self) -> &Path {
        &self.trust
    }

    /// Runs the handshake over `tcp` (its timeouts apply) and checks that
    /// the server's certificate names `host` (a DNS name or an IP address).
    pub fn connect(&self, tcp: TcpStream, host: &str) -> Result<Connected, HandshakeError> {
        let name = ServerName::try_from(host.to_string()).map_err(|e| {
            HandshakeError::Certificate(format!("{host:?} cannot name a TLS server: {e}"))
        })?;
        let conn = rustls::ClientConnection::new(self.config.clone(), name)
            .map_err(|e| HandshakeError::Certificate(format!("TLS setup: {e}")))?;
        let control = tcp
            .try_clone()
            .map_err(|e| HandshakeError::Io(e.to_string()))?;
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        while stream.conn.is_handshaking() {
            if let Err(e) = stream.conn.complete_io(&mut stream.sock) {
                return Err(self.handshake_error(&e));
            }
        }
        Ok(Connected {
            tcp: control,
            tls: Some(SharedTls(Arc::new(Mutex::new(TlsState {
                stream,
                failure: None,
            })))),
            trust: self.trust.clone(),
        })
    }

    fn handshake_error(&self, e: &io::Error) -> HandshakeError {
        match rustls_error(e) {
            Some(r) => HandshakeError::Certificate(describe(r, &self.trust)),
            None => HandshakeError::Io(format!("TLS handshake: {e}")),
        }
    }
}

/// The rustls error inside an i/o error, if there is one.
fn rustls_error(e: &io::Error) -> Option<&rustls::Error> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

/// What a rustls failure means for whoever configured the files.
fn describe(e: &rustls::Error, trust: &Path) -> String {
    use rustls::AlertDescription as A;
    match e {
        rustls::Error::InvalidCertificate(_) => format!(
            "TLS: certificate verification failed: {e} (the server's certificate must be \
             signed by a CA in {} and name the host connected to)",
            trust.display()
        ),
        rustls::Error::AlertReceived(
            A::BadCertificate
            | A::UnknownCA
            | A::CertificateRequired
            | A::CertificateUnknown
            | A::UnsupportedCertificate
            | A::AccessDenied,
        ) => format!(
            "TLS: the server refused this side's certificate ({e}): it must be signed by a CA \
             in the server's tls.ca_file"
        ),
        other => format!("TLS: {other}"),
    }
}

/// A connected stream, plain or TLS.
pub struct Connected {
    /// The socket, for timeouts and shutdown (a clone of the one the TLS
    /// session reads and writes).
    tcp: TcpStream,
    tls: Option<SharedTls>,
    /// The trust store, for errors.
    trust: PathBuf,
}

/// A boxed reader and writer over one connection.
pub type Halves = (Box<dyn Read + Send>, Box<dyn Write + Send>);

impl Connected {
    /// A plain-text connection.
    pub fn plain(tcp: TcpStream) -> Connected {
        Connected {
            tcp,
            tls: None,
            trust: PathBuf::new(),
        }
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The socket (set timeouts or shut it down through it).
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// A reader and a writer for the thrift client. With TLS both go
    /// through one session under a lock: a thrift client writes a request
    /// and then reads its reply, never both at once.
    pub fn halves(&self) -> io::Result<Halves> {
        Ok(match &self.tls {
            Some(t) => (Box::new(t.clone()), Box::new(t.clone())),
            None => (
                Box::new(self.tcp.try_clone()?),
                Box::new(self.tcp.try_clone()?),
            ),
        })
    }

    /// If the connection failed on a TLS error after the handshake (with
    /// TLS 1.3 the server refuses a client certificate after the client
    /// has finished): what it means. Thrift keeps only the text of an i/o
    /// error, so the session remembers the error itself.
    pub fn tls_failure(&self) -> Option<HandshakeError> {
        let t = self.tls.as_ref()?;
        let state = t.0.lock().unwrap_or_else(|e| e.into_inner());
        let e = state.failure.as_ref()?;
        Some(match e {
            rustls::Error::InvalidCertificate(_) | rustls::Error::AlertReceived(_) => {
                HandshakeError::Certificate(describe(e, &self.trust))
            }
            other => HandshakeError::Io(format!("TLS: {other}")),
        })
    }
}

struct TlsState {
    stream: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
    /// The first rustls error seen on the connection.
    failure: Option<rustls::Error>,
}

#[derive(Clone)]
struct SharedTls(Arc<Mutex<TlsState>>);

impl SharedTls {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut rustls::StreamOwned<rustls::ClientConnection, TcpStream>) -> io::Result<T>,
    ) -> io::Result<T> {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let r = f(&mut state.stream);
        if let Err(e) = &r {
            if let (None, Some(tls)) = (&state.failure, rustls_error(e)) {
                state.failure = Some(tls.clone());
            }
        }
        r
    }
}

impl Read for SharedTls {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.with(|s| s.read(buf))
    }
}

impl Write for SharedTls {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.with(|s| s.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.with(|s| s.flush())
    }
}
