//! TLS on the RPC port, and who may do what over which kind of connection.
//!
//! One port carries plain text and TLS. A TLS connection opens with a
//! handshake record, first byte 0x16 ([`TLS_HANDSHAKE`]); a framed thrift
//! connection opens with the high byte of a frame length, which is 0x16
//! only for frames of 369 MB and more: far over any frame allowed before
//! login. So [`crate::net`] peeks at the first byte and, for 0x16, runs the
//! handshake with [`Tls::acceptor`].
//!
//! What a connection proved is its [`ConnTls`]: whether it is TLS and the
//! client certificate it presented, verified against `tls.ca_file`
//! ([`PeerCert`]: its DNS names, and whether it names a host or address).
//! [`Policy`] decides, in plain code, whether a connection may run client
//! calls (`tls.clients`) and pipe calls (`tls.pipes_require_tls`);
//! [`TlsGate`] wraps a connection's handler and answers a refused call
//! with an error status that says why.

use crate::config::{TlsClients, TlsConfig};
use crate::guard::{handler_methods, FromStatus};
use duet_rpc::generated::*;
use duet_rpc::status::{self, error_status};
use duet_rpc::tls::{load_identity, load_roots, provider};
use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::Arc;

/// The first byte of a TLS connection: a handshake record.
pub const TLS_HANDSHAKE: u8 = 0x16;

/// The node's TLS settings, loaded.
pub struct Tls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub policy: Policy,
}

/// Reads the `[tls]` files. Any that is missing, unreadable or does not go
/// with the others is an error naming it: the node does not start.
pub fn load(cfg: &TlsConfig) -> Result<Tls, String> {
    let (chain, key) = load_identity(
        &cfg.cert_file,
        &cfg.key_file,
        "tls.cert_file",
        "tls.key_file",
    )
    .map_err(|e| e.to_string())?;
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?;
    let builder = match &cfg.ca_file {
        Some(ca) => {
            let roots = load_roots(ca, "tls.ca_file").map_err(|e| e.to_string())?;
            // A client certificate is asked for, not required: clients log
            // in with passwords; only pipes need one (the policy says so).
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                roots.into(),
                provider(),
            )
            .allow_unauthenticated()
            .build()
            .map_err(|e| format!("tls.ca_file {}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|e| format!("tls.cert_file {}: {e}", cfg.cert_file.display()))?;
    Ok(Tls {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        policy: Policy {
            enabled: true,
            clients: cfg.clients,
            pipes_require_tls: cfg.pipes_require_tls(),
        },
    })
}

/// A client certificate that verified against `tls.ca_file`.
#[derive(Debug, Clone)]
pub struct PeerCert {
    der: CertificateDer<'static>,
}

impl PeerCert {
    pub fn new(der: CertificateDer<'static>) -> PeerCert {
        PeerCert { der }
    }

    /// The certificate (DER), for anything the accessors below do not say.
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// The DNS names among its subject alternative names.
    pub fn dns_names(&self) -> Vec<String> {
        webpki::EndEntityCert::try_from(&self.der)
            .map(|c| c.valid_dns_names().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// Whether it names `host`, a DNS name or an IP address (by its SANs,
    /// as a client checks a server's): how a handshake's claims can be
    /// tied to the certificate that came with them.
    pub fn names(&self, host: &str) -> bool {
        let Ok(name) = ServerName::try_from(host) else {
            return false;
        };
        webpki::EndEntityCert::try_from(&self.der)
            .is_ok_and(|c| c.verify_is_valid_for_subject_name(&name).is_ok())
    }
}

/// What one connection proved about itself.
#[derive(Debug, Clone, Default)]
pub struct ConnTls {
    /// The connection is TLS.
    pub tls: bool,
    /// The client certificate, verified against `tls.ca_file`.
    pub peer: Option<PeerCert>,
}

/// Who may do what over which kind of connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The node has a `[tls]` section.
    pub enabled: bool,
    pub clients: TlsClients,
    pub pipes_require_tls: bool,
}

impl Policy {
    /// No `[tls]`: plain text for everyone.
    pub fn plain() -> Policy {
        Policy {
            enabled: false,
            clients: TlsClients::Off,
            pipes_require_tls: false,
        }
    }

    /// Client calls (sessions, statements, inserts).
    pub fn admit_client(&self, conn: &ConnTls) -> Result<(), String> {
        match (self.clients, conn.tls) {
            (TlsClients::Required, false) => Err(
                "this node accepts clients over TLS only (tls.clients = \"required\"): connect \
                 with SSL (duet-cli --ssl, or Session(..., use_ssl=True))"
                    .into(),
            ),
            (TlsClients::Off, true) if self.enabled => Err(
                "this node serves TLS to pipes only (tls.clients = \"off\"): connect in plain text"
                    .into(),
            ),
            _ => Ok(()),
        }
    }

    /// Pipe calls (a sink's handshake and batches).
    pub fn admit_pipe(&self, conn: &ConnTls) -> Result<(), String> {
        if !self.pipes_require_tls {
            return Ok(());
        }
        match (conn.tls, &conn.peer) {
            (true, Some(_)) => Ok(()),
            (false, _) => Err(
                "pipe refused: this node takes pipes over TLS only (tls.pipes_require_tls) and \
                 this connection is plain text: set 'sink.ssl.enable'='true' on the sending pipe"
                    .into(),
            ),
            (true, None) => Err(
                "pipe refused: this node takes pipes only from a peer with a client certificate \
                 signed by its tls.ca_file (tls.pipes_require_tls), and this connection presented \
                 none: give the sending node a [tls] cert_file/key_file or sink.ssl.cert-path"
                    .into(),
            ),
        }
    }
}

/// A connection's handler behind the [`Policy`]: a refused call is answered
/// with an error status, logged, and does not reach the handler.
pub struct TlsGate<H> {
    inner: H,
    conn: ConnTls,
    policy: Policy,
    peer: std::net::IpAddr,
}

impl<H: IClientRPCServiceSyncHandler> TlsGate<H> {
    pub fn new(inner: H, conn: ConnTls, policy: Policy, peer: std::net::IpAddr) -> Self {
        TlsGate {
            inner,
            conn,
            policy,
            peer,
        }
    }

    /// What the connection proved (TLS, the verified client certificate).
    pub fn conn_tls(&self) -> &ConnTls {
        &self.conn
    }

    fn run<T: FromStatus>(
        &self,
        call: &'static str,
        f: impl FnOnce(&H) -> thrift::Result<T>,
    ) -> thrift::Result<T> {
        let refused = match call {
            "handle_pipe_transfer" => self
                .policy
                .admit_pipe(&self.conn)
                .err()
                .map(|m| (status::PIPE_HANDSHAKE_ERROR, m)),
            // A ping proves nothing and reaches nothing.
            "handle_test_connection_empty_r_p_c" => None,
            _ => self
                .policy
                .admit_client(&self.conn)
                .err()
                .map(|m| (status::NO_PERMISSION, m)),
        };
        match refused {
            None => f(&self.inner),
            Some((code, msg)) => {
                let kind = if code == status::PIPE_HANDSHAKE_ERROR {
                    crate::net::Warn::Login
                } else {
                    crate::net::Warn::Connection
                };
                crate::net::warn_limited(kind, &format!("{call} from {}: {msg}", self.peer));
                T::from_status(error_status(code, msg))
            }
        }
    }
}

macro_rules! gated {
    ($($method:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        impl<H: IClientRPCServiceSyncHandler> IClientRPCServiceSyncHandler for TlsGate<H> {
            $(fn $method(&self, $($arg: $ty),*) -> thrift::Result<$ret> {
                self.run(stringify!($method), move |h| h.$method($($arg),*))
            })*
        }
    };
}

handler_methods!(gated);

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(tls: bool, cert: bool) -> ConnTls {
        ConnTls {
            tls,
            peer: cert.then(|| PeerCert::new(CertificateDer::from(vec![0u8]))),
        }
    }

    fn policy(clients: TlsClients, pipes_require_tls: bool) -> Policy {
        Policy {
            enabled: true,
            clients,
            pipes_require_tls,
        }
    }

    #[test]
    fn clients_follow_tls_clients() {
        let (plain, tls) = (conn(false, false), conn(true, false));
        let optional = policy(TlsClients::Optional, true);
        assert!(optional.admit_client(&plain).is_ok() && optional.admit_client(&tls).is_ok());
        let required = policy(TlsClients::Required, true);
        let e = required.admit_client(&plain).unwrap_err();
        assert!(e.contains("tls.clients"), "{e}");
        assert!(required.admit_client(&tls).is_ok());
        let off = policy(TlsClients::Off, true);
        assert!(off.admit_client(&plain).is_ok() && off.admit_client(&tls).is_err());
        let none = Policy::plain();
        assert!(none.admit_client(&plain).is_ok() && none.admit_client(&tls).is_ok());
    }

    #[test]
    fn pipes_need_tls_and_a_verified_certificate() {
        let p = policy(TlsClients::Optional, true);
        let e = p.admit_pipe(&conn(false, false)).unwrap_err();
        assert!(
            e.contains("plain text") && e.contains("sink.ssl.enable"),
            "{e}"
        );
        let e = p.admit_pipe(&conn(true, false)).unwrap_err();
        assert!(e.contains("client certificate"), "{e}");
        assert!(p.admit_pipe(&conn(true, true)).is_ok());
        let lax = policy(TlsClients::Optional, false);
        assert!(lax.admit_pipe(&conn(false, false)).is_ok());
        assert!(Policy::plain().admit_pipe(&conn(false, false)).is_ok());
    }
}
