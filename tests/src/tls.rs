//! Certificates for TLS tests, made by the shipped `sbin/make-certs.sh`
//! into a temporary directory, and the `[tls]` configuration and client
//! sessions that use them.

use duet_rpc::client::{Session, SessionConfig};
use duet_rpc::tls::TlsClient;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A CA and one certificate per node, each for `localhost` and 127.0.0.1.
pub struct Certs {
    pub dir: tempfile::TempDir,
}

impl Certs {
    /// Runs `sbin/make-certs.sh DIR name,localhost,127.0.0.1 ...`.
    pub fn make(nodes: &[&str]) -> Certs {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sbin/make-certs.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg(dir.path())
            .args(nodes.iter().map(|n| format!("{n},localhost,127.0.0.1")))
            .output()
            .expect("run sbin/make-certs.sh");
        assert!(
            out.status.success(),
            "make-certs.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Certs { dir }
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    pub fn cert(&self, node: &str) -> PathBuf {
        self.dir.path().join(format!("{node}.crt"))
    }

    pub fn key(&self, node: &str) -> PathBuf {
        self.dir.path().join(format!("{node}.key"))
    }

    /// A `[tls]` section for `node`, with `extra` lines
    /// (`clients = "required"`, ...).
    pub fn config(&self, node: &str, extra: &str) -> String {
        format!(
            "[tls]\ncert_file = {:?}\nkey_file = {:?}\nca_file = {:?}\n{extra}\n",
            self.cert(node),
            self.key(node),
            self.ca()
        )
    }

    /// A TLS client trusting this CA, presenting no certificate.
    pub fn client(&self) -> TlsClient {
        TlsClient::new(&self.ca(), None).expect("TLS client")
    }

    /// A TLS client trusting this CA and presenting `node`'s certificate.
    pub fn client_as(&self, node: &str) -> TlsClient {
        TlsClient::new(&self.ca(), Some((&self.cert(node), &self.key(node)))).expect("TLS client")
    }

    /// A root session over TLS to `127.0.0.1:port`.
    pub fn session(&self, port: u16) -> Result<Session, duet_rpc::client::ClientError> {
        Session::open(SessionConfig {
            hosts: vec![("127.0.0.1".into(), port)],
            tls: Some(self.client()),
            ..SessionConfig::default()
        })
    }
}
