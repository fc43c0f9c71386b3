//! Test harness for real Duet processes: start a node on free ports in a
//! temporary directory, talk to it with the real client, kill it with
//! SIGKILL or SIGTERM, restart it on the same data, run `duet-cli`, and wait
//! on conditions with a deadline (never a fixed sleep). [`tls`] makes
//! certificates with `sbin/make-certs.sh` for nodes that use TLS.

pub mod proxy;
pub mod tls;

use duet_rpc::client::{Field, Outcome, Session, SessionConfig};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Directory holding the workspace's built binaries (next to `deps/`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf();
    for b in ["duet-server", "duet-cli"] {
        assert!(dir.join(b).exists(), "{} not built: run `cargo test --workspace` (or cargo build -p duet-server -p duet-cli)", dir.join(b).display());
    }
    dir
}

/// Polls `probe` until it returns `Ok`, or panics after `within` with the
/// last value it reported.
pub fn wait_until<T>(
    within: Duration,
    what: &str,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + within;
    let mut last = String::from("(never ran)");
    while Instant::now() < deadline {
        match probe() {
            Ok(v) => return v,
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out after {within:?} waiting for {what}; last seen: {last}");
}

pub struct Node {
    pub dir: tempfile::TempDir,
    pub rpc: SocketAddr,
    pub http: SocketAddr,
    pub node_id: u32,
    extra: Vec<String>,
    env: Vec<(String, String)>,
    child: Option<Child>,
    /// The RPC bind address (loopback unless a test asks otherwise).
    rpc_address: String,
}

impl Node {
    pub fn start() -> Node {
        Self::start_with(&[])
    }

    /// Starts with extra command-line arguments (e.g. `--config file`).
    pub fn start_with(extra: &[&str]) -> Node {
        Self::start_with_env(&[], extra)
    }

    /// Starts with a configuration file holding `toml` (read at start).
    pub fn start_with_config(toml: &str) -> Node {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("duet.toml");
        std::fs::write(&path, toml).expect("write config");
        Self::start_with(&["--config", path.to_str().expect("utf-8 path")])
    }

    /// Starts with environment variables (kept for restarts), e.g.
    /// `DUET_CLOCK_OFFSET_MS` for a node whose clock is off.
    pub fn start_with_env(env: &[(&str, &str)], extra: &[&str]) -> Node {
        Self::start_on("127.0.0.1", env, extra)
    }

    /// Starts with its RPC bound to `address` (e.g. 0.0.0.0).
    pub fn start_on(address: &str, env: &[(&str, &str)], extra: &[&str]) -> Node {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut node = Node {
            dir,
            rpc: "0.0.0.0:0".parse().unwrap(),
            http: "0.0.0.0:0".parse().unwrap(),
            node_id: 0,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            child: None,
            rpc_address: address.to_string(),
        };
        node.launch(0, 0);
        node
    }

    /// Sets (or with `None` removes) an environment variable for the next
    /// start, e.g. a clock offset that a restart puts on or takes off.
    pub fn set_env(&mut self, key: &str, value: Option<&str>) {
        self.env.retain(|(k, _)| k != key);
        if let Some(v) = value {
            self.env.push((key.to_string(), v.to_string()));
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Where `BACKUP TO` writes by default (`storage.backup_dir` unset: the
    /// data directory's path with `-backups`).
    pub fn backup_root(&self) -> PathBuf {
        self.dir.path().join("data-backups")
    }

    fn launch(&mut self, rpc_port: u16, http_port: u16) {
        let mut cmd = Command::new(bin_dir().join("duet-server"));
        cmd.arg("--data-dir")
            .arg(self.data_dir())
            .args([
                "--rpc-address",
                self.rpc_address.as_str(),
                "--rpc-port",
                &rpc_port.to_string(),
                "--http-port",
                &http_port.to_string(),
            ])
            .args(&self.extra)
            // Warnings and errors, unless the test asks for more.
            .env("RUST_LOG", "warn")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn duet-server");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("READY ") {
                    let _ = tx.send(line);
                }
            }
        });
        let log = self.dir.path().join("server.log");
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .expect("log file");
            let mut buf = Vec::new();
            let _ = BufReader::new(stderr).read_to_end(&mut buf);
            let _ = f.write_all(&buf);
        });
        let ready = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "duet-server did not print READY within 60 s; log:\n{}",
                    self.log()
                );
            }
        };
        let field = |k: &str| {
            ready
                .split_whitespace()
                .find_map(|f| f.strip_prefix(k))
                .expect("READY field")
                .to_string()
        };
        self.rpc = field("rpc=").parse().expect("rpc addr");
        self.http = field("http=").parse().expect("http addr");
        self.node_id = field("node_id=").parse().expect("node id");
        self.child = Some(child);
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    pub fn session(&self) -> Session {
        self.session_as("root", "root").expect("open session")
    }

    pub fn session_as(
        &self,
        user: &str,
        password: &str,
    ) -> Result<Session, duet_rpc::client::ClientError> {
        Session::open(SessionConfig {
            hosts: vec![("127.0.0.1".into(), self.rpc.port())],
            user: user.into(),
            password: password.into(),
            ..SessionConfig::default()
        })
    }

    /// SIGKILL, no cleanup.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut c = self.child.take().expect("running");
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(st)) = c.try_wait() {
                return st;
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                panic!("duet-server ignored SIGTERM for 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the node, deletes its data, and starts a new node (new id) on
    /// the same ports: a machine rebuilt from scratch.
    pub fn wipe_and_restart(&mut self) {
        self.kill9();
        std::fs::remove_dir_all(self.data_dir()).expect("remove data dir");
        self.restart();
    }

    /// Starts again on the same data and the same ports.
    pub fn restart(&mut self) {
        self.kill9();
        let (rpc, http) = (self.rpc.port(), self.http.port());
        // The old process is gone; its ports may linger briefly in the kernel.
        wait_until(Duration::from_secs(10), "ports to be free", || {
            std::net::TcpListener::bind(("127.0.0.1", rpc))
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        self.launch(rpc, http);
    }

    pub fn http_get(&self, path: &str) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.http.port())).expect("connect http");
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        let code = out
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = out
            .split_once("\r\n\r\n")
            .map(|x| x.1.to_string())
            .unwrap_or_default();
        (code, body)
    }

    /// Runs `duet-cli` against this node with `args`, feeding `stdin`.
    pub fn cli(&self, args: &[&str], stdin: &str) -> std::process::Output {
        cli(&[("127.0.0.1", self.rpc.port())], args, stdin)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Runs `duet-cli -h <hosts>` with `args`.
pub fn cli(hosts: &[(&str, u16)], args: &[&str], stdin: &str) -> std::process::Output {
    let h: Vec<String> = hosts.iter().map(|(h, p)| format!("{h}:{p}")).collect();
    let mut child = Command::new(bin_dir().join("duet-cli"))
        .args(["-h", &h.join(","), "--history-file", ""])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn duet-cli");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("duet-cli output")
}

/// Every row of a query as strings (`Time` first when present).
pub fn query(s: &mut Session, sql: &str) -> Result<Vec<Vec<String>>, String> {
    match s.execute(sql).map_err(|e| e.to_string())? {
        Outcome::Done => Err(format!("{sql} returned no result set")),
        Outcome::Rows(mut rows) => {
            let mut out = Vec::new();
            while let Some(r) = rows.next_row().map_err(|e| e.to_string())? {
                out.push(r.iter().map(Field::to_string).collect());
            }
            Ok(out)
        }
    }
}

pub fn exec(s: &mut Session, sql: &str) {
    if let Err(e) = s.execute(sql) {
        panic!("{sql}: {e}");
    }
}

/// Did the server close `c` (end of stream or a reset) within `within`? A
/// read that merely times out is not a close: it returns false.
pub fn closed_by_server(c: &mut TcpStream, within: Duration) -> bool {
    c.set_read_timeout(Some(within)).expect("set read timeout");
    let mut b = [0u8; 64];
    loop {
        match c.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => continue, // a reply or error frame before the close
            Err(e) => {
                return matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::ConnectionAborted
                        | std::io::ErrorKind::BrokenPipe
                )
            }
        }
    }
}

/// The generated RPC client on a clone of `stream` (binary protocol), not
/// logged in: for tests that send exactly what an IoTDB client sends.
pub fn raw_client(stream: &TcpStream) -> duet_rpc::service::RpcClient {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    duet_rpc::service::new_client(
        stream.try_clone().expect("clone"),
        stream.try_clone().expect("clone"),
        duet_rpc::Protocol::Binary,
        64 << 20,
    )
    .expect("client")
}

/// openSession as `user` with `password`; the reply, whatever it says.
pub fn raw_open_session(
    c: &mut duet_rpc::service::RpcClient,
    user: &str,
    password: &str,
) -> duet_rpc::generated::TSOpenSessionResp {
    use duet_rpc::generated::{TIClientRPCServiceSyncClient, TSOpenSessionReq, TSProtocolVersion};
    c.open_session(TSOpenSessionReq::new(
        TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3,
        "UTC".to_string(),
        user.to_string(),
        password.to_string(),
        None,
    ))
    .expect("openSession reply")
}

/// Logs `c` in as root/root; its session id.
pub fn raw_login(c: &mut duet_rpc::service::RpcClient) -> i64 {
    let resp = raw_open_session(c, "root", "root");
    assert_eq!(resp.status.code, duet_rpc::status::SUCCESS_STATUS);
    resp.session_id.expect("session id")
}

/// Resident memory of a process in KiB (Linux).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl Node {
    /// The newest change-log sequence (from /metrics).
    pub fn log_last_seq(&self) -> u64 {
        self.metric("duet_changelog_last_seq").unwrap_or(0.0) as u64
    }

    /// Peers' changes this node applied, ever (each once).
    pub fn peer_changes_applied(&self) -> u64 {
        self.metric("duet_peer_changes_applied").unwrap_or(0.0) as u64
    }

    /// A sample of /metrics by its full name (labels included).
    pub fn metric(&self, name: &str) -> Option<f64> {
        let (_, body) = self.http_get("/metrics");
        body.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    }

    /// SHOW PIPES as (name, state, exception, remaining events).
    pub fn pipes(&self) -> Vec<(String, String, String, i64)> {
        let mut s = self.session();
        query(&mut s, "SHOW PIPES")
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                (
                    r[0].clone(),
                    r[2].clone(),
                    r[6].clone(),
                    r[7].parse().unwrap_or(-1),
                )
            })
            .collect()
    }

    /// Runs one statement, panicking with its error.
    pub fn sql(&self, sql: &str) {
        exec(&mut self.session(), sql);
    }

    /// Rows of a query, or the error text.
    pub fn rows(&self, sql: &str) -> Result<Vec<Vec<String>>, String> {
        let mut s = self.session_as("root", "root").map_err(|e| e.to_string())?;
        query(&mut s, sql)
    }
}

/// `CREATE PIPE name` on `from`, double-living, to `port` on localhost.
pub fn pipe_sql(name: &str, port: u16) -> String {
    format!(
        "CREATE PIPE {name} WITH SOURCE ('source.mode.double-living'='true') \
         WITH SINK ('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', 'sink.port'='{port}')"
    )
}

/// A node started elsewhere, reached by port (for threads).
pub struct NodeRef {
    port: u16,
}

impl NodeRef {
    pub fn new(port: u16) -> NodeRef {
        NodeRef { port }
    }

    pub fn sql(&self, sql: &str) {
        if let Err(e) = self.try_sql(sql) {
            panic!("{sql}: {e}");
        }
    }

    /// One statement on a new session; the error as `code: message`.
    pub fn try_sql(&self, sql: &str) -> Result<(), String> {
        let mut s = Session::open(SessionConfig {
            hosts: vec![("127.0.0.1".into(), self.port)],
            ..SessionConfig::default()
        })
        .map_err(|e| e.to_string())?;
        s.execute(sql).map(|_| ()).map_err(|e| e.to_string())
    }
}
