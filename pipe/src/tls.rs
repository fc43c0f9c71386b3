//! A sink's TLS settings: the `sink.ssl.*` parameters (IoTDB's names, and
//! Duet's own `sink.ssl.cert-path` / `sink.ssl.key-path`), and how what a
//! pipe leaves out comes from the node's `[tls]` section. Loading the files
//! and the handshake are `duet_rpc::tls`'s.

use crate::config::{flag, Params};
use crate::error::PipeError;
use std::path::PathBuf;

/// A sink's TLS files as given; what is not given comes from the node's
/// own `[tls]` section ([`SinkTls::resolve`]), so certificates are set up
/// once per node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkTls {
    /// `sink.ssl.trust-store-path`: a PEM file of the CA that signed the
    /// peer's certificate (or the peer's self-signed certificate). IoTDB
    /// names a JKS key store here; Duet reads PEM.
    pub trust_store: Option<PathBuf>,
    /// `sink.ssl.cert-path` / `sink.ssl.key-path` (Duet's): the certificate
    /// this node presents to the peer.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// The node's own TLS files (its `[tls]` section), the defaults of a
/// sink's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: Option<PathBuf>,
}

/// A sink's TLS files with the node's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedTls {
    pub trust_store: PathBuf,
    pub identity: Option<(PathBuf, PathBuf)>,
    /// Where each file came from (trust store, certificate, key), for errors.
    pub names: (&'static str, &'static str, &'static str),
}

/// The `sink.ssl.*` keys Duet knows; any other is refused.
pub const SSL_KEYS: &[&str] = &[
    "sink.ssl.enable",
    "sink.ssl.trust-store-path",
    "sink.ssl.trust-store-pwd",
    "sink.ssl.cert-path",
    "sink.ssl.key-path",
];

impl ResolvedTls {
    /// Reads the files: a missing or unreadable one is named in the error.
    pub fn load(&self) -> Result<duet_rpc::tls::TlsClient, PipeError> {
        duet_rpc::tls::TlsClient::with_names(
            &self.trust_store,
            self.identity
                .as_ref()
                .map(|(c, k)| (c.as_path(), k.as_path())),
            self.names,
        )
        .map_err(|e| PipeError::Config(e.to_string()))
    }
}

impl SinkTls {
    pub(crate) fn from_params(p: &Params, ssl_sink: bool) -> Result<Option<SinkTls>, PipeError> {
        if let Some(k) = p
            .keys()
            .find(|k| k.starts_with("sink.ssl.") && !SSL_KEYS.contains(&k.as_str()))
        {
            return Err(PipeError::Config(format!(
                "unknown sink parameter '{k}'; the TLS ones are {}",
                SSL_KEYS.join(", ")
            )));
        }
        if !flag(p, "sink.ssl.enable", ssl_sink) {
            return Ok(None);
        }
        let path = |k: &str| p.get(k).map(PathBuf::from);
        let tls = SinkTls {
            trust_store: path("sink.ssl.trust-store-path"),
            cert: path("sink.ssl.cert-path"),
            key: path("sink.ssl.key-path"),
        };
        if tls.cert.is_some() != tls.key.is_some() {
            return Err(PipeError::Config(
                "sink.ssl.cert-path and sink.ssl.key-path go together: give both or neither \
                 (neither: the node's [tls] cert_file and key_file)"
                    .into(),
            ));
        }
        // sink.ssl.trust-store-pwd unlocks IoTDB's JKS; a PEM file has no
        // password, so it is accepted and not used.
        Ok(Some(tls))
    }

    /// The files to use: the sink's own, else the node's `[tls]` ones.
    pub fn resolve(&self, node: Option<&NodeTls>) -> Result<ResolvedTls, PipeError> {
        let trust_store = self
            .trust_store
            .clone()
            .or_else(|| node.and_then(|n| n.ca.clone()))
            .ok_or_else(|| {
                PipeError::Config(
                    "sink.ssl.enable: no trust store: set sink.ssl.trust-store-path (a PEM file \
                     of the CA that signed the peer's certificate), or [tls] ca_file on this node"
                        .into(),
                )
            })?;
        let (identity, cert_name, key_name) = match (&self.cert, &self.key) {
            (Some(c), Some(k)) => (
                Some((c.clone(), k.clone())),
                "sink.ssl.cert-path",
                "sink.ssl.key-path",
            ),
            _ => (
                node.map(|n| (n.cert.clone(), n.key.clone())),
                "tls.cert_file",
                "tls.key_file",
            ),
        };
        let trust_name = if self.trust_store.is_some() {
            "sink.ssl.trust-store-path"
        } else {
            "tls.ca_file"
        };
        Ok(ResolvedTls {
            trust_store,
            identity,
            names: (trust_name, cert_name, key_name),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::params;

    #[test]
    fn ssl_parameters() {
        let sink = |kv: &[(&str, &str)]| {
            let mut all = vec![("sink.ip", "b"), ("sink.port", "6667")];
            all.extend_from_slice(kv);
            crate::config::SinkConfig::from_params(&params(&all))
        };
        let plain = sink(&[("sink", "iotdb-thrift-sink")]).unwrap();
        assert_eq!(plain.tls, None);
        // IoTDB's SSL sink means TLS; the flag can say so for any thrift sink.
        let ssl = sink(&[("sink", "iotdb-thrift-ssl-sink")]).unwrap();
        assert_eq!(ssl.tls, Some(SinkTls::default()));
        assert_eq!(ssl.kind, plain.kind);
        let off = sink(&[
            ("sink", "iotdb-thrift-ssl-sink"),
            ("sink.ssl.enable", "false"),
        ])
        .unwrap();
        assert_eq!(off.tls, None);
        let on = sink(&[
            ("sink", "iotdb-thrift-sink"),
            ("sink.ssl.enable", "true"),
            ("sink.ssl.trust-store-path", "/ca.pem"),
            ("sink.ssl.trust-store-pwd", "changeit"),
        ])
        .unwrap();
        let tls = on.tls.unwrap();
        assert_eq!(tls.trust_store, Some(PathBuf::from("/ca.pem")));

        let e = sink(&[("sink", "iotdb-thrift-sink"), ("sink.ssl.trust-store", "x")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("'sink.ssl.trust-store'") && e.contains("sink.ssl.trust-store-path"),
            "{e}"
        );
        let e = sink(&[
            ("sink", "iotdb-thrift-ssl-sink"),
            ("sink.ssl.cert-path", "/c.pem"),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("sink.ssl.key-path"), "{e}");

        // What is not given comes from the node's [tls].
        let node = NodeTls {
            cert: "/n.crt".into(),
            key: "/n.key".into(),
            ca: Some("/n-ca.pem".into()),
        };
        let r = SinkTls::default().resolve(Some(&node)).unwrap();
        assert_eq!(r.trust_store, PathBuf::from("/n-ca.pem"));
        assert_eq!(r.identity, Some(("/n.crt".into(), "/n.key".into())));
        let own = SinkTls {
            trust_store: Some("/other-ca.pem".into()),
            cert: Some("/s.crt".into()),
            key: Some("/s.key".into()),
        };
        let r = own.resolve(Some(&node)).unwrap();
        assert_eq!(r.trust_store, PathBuf::from("/other-ca.pem"));
        assert_eq!(r.identity, Some(("/s.crt".into(), "/s.key".into())));
        let e = SinkTls::default().resolve(None).unwrap_err().to_string();
        assert!(e.contains("sink.ssl.trust-store-path"), "{e}");
    }
}
