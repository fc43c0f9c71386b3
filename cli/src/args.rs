//! Command-line flags, spelled as IoTDB's `start-cli.sh` spells them:
//! `-h host[,host...] -p port -u user -pw password -e statement
//! -usessl true -ts ca.pem`.
//!
//! `-h` is the host, so clap's `-h` help is off (`--help` stays), and
//! IoTDB's multi-letter short flags, which clap cannot declare, are
//! rewritten by [`preprocess`] before clap sees the arguments: `-pw` to
//! `--password`, `-usessl` to `--ssl`, `-ts` to `--ca-file`, `-tpw` to
//! `--trust-store-pwd`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser};
use duet_rpc::client::{parse_hosts, SessionConfig, DEFAULT_PORT};
use duet_rpc::tls::TlsClient;

/// Duet's command-line shell (IoTDB-compatible client protocol).
#[derive(Debug, Parser)]
#[command(name = "duet-cli", version, disable_help_flag = true)]
pub struct Args {
    /// Server host(s): `-h a,b` tries a, then b, and moves to the next one
    /// when a connection fails. An entry may carry its own port (`a:6668`).
    #[arg(short = 'h', long = "host", default_value = "127.0.0.1")]
    pub host: String,

    /// Port of hosts given without one.
    #[arg(short = 'p', long = "port", default_value_t = DEFAULT_PORT)]
    pub port: u16,

    #[arg(short = 'u', long = "user", default_value = "root")]
    pub user: String,

    /// Password (IoTDB's `-pw` works too). Read from DUET_PASSWORD when not
    /// given, so scripts and cron jobs need not show it to `ps`.
    #[arg(
        long = "password",
        env = "DUET_PASSWORD",
        hide_env_values = true,
        default_value = "root"
    )]
    pub password: String,

    /// Run these statements, print the results and exit (non-zero if one failed).
    #[arg(short = 'e', long = "execute")]
    pub execute: Option<String>,

    /// Where interactive input is remembered; empty to keep none.
    /// [default: ~/.duet_cli_history]
    #[arg(long = "history-file")]
    pub history_file: Option<String>,

    /// Rows per page fetched from the server.
    #[arg(long = "fetch-size", default_value_t = 5000,
          value_parser = clap::value_parser!(i32).range(1..))]
    pub fetch_size: i32,

    /// Seconds to wait for a server's reply before giving up on the
    /// connection (and moving to the next host); 0 waits forever.
    #[arg(long = "timeout", default_value_t = 60)]
    pub timeout: u64,

    /// Time zone for the session and for showing timestamps (IANA name or
    /// +08:00). [default: the system's zone]
    #[arg(long = "zone")]
    pub zone: Option<String>,

    /// `dual`: every query reads this node and its peer and merges them
    /// (`SET READ_MODE = DUAL`, kept across reconnects); `single`: this
    /// node alone.
    #[arg(long = "read-mode", value_parser = ["single", "dual"])]
    pub read_mode: Option<String>,

    /// Connect with TLS (IoTDB's `-usessl true`); needs --ca-file.
    #[arg(long = "ssl", num_args = 0..=1, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub ssl: Option<bool>,

    /// PEM file of the CA that signed the server's certificate (IoTDB's
    /// `-ts`, which names a JKS trust store there); implies --ssl.
    #[arg(long = "ca-file")]
    pub ca_file: Option<PathBuf>,

    /// IoTDB's `-tpw` (its JKS trust store's password): accepted, not
    /// needed for a PEM file.
    #[arg(long = "trust-store-pwd", hide = true)]
    pub trust_store_pwd: Option<String>,

    /// Print help.
    #[arg(long = "help", action = ArgAction::Help)]
    help: Option<bool>,
}

/// Flags whose next argument is a value, never a flag to rewrite.
const TAKES_VALUE: &[&str] = &[
    "-h",
    "--host",
    "-p",
    "--port",
    "-u",
    "--user",
    "--password",
    "-e",
    "--execute",
    "--history-file",
    "--fetch-size",
    "--zone",
    "--read-mode",
    "--ca-file",
    "--trust-store-pwd",
];

/// IoTDB's multi-letter short flags and Duet's long ones.
const IOTDB_FLAGS: &[(&str, &str)] = &[
    ("-pw", "--password"),
    ("-usessl", "--ssl"),
    ("-ts", "--ca-file"),
    ("-tpw", "--trust-store-pwd"),
];

/// Rewrites IoTDB's `-pw x` / `-pw=x` to `--password x` / `--password=x`
/// (and the other [`IOTDB_FLAGS`]), where they are flags, not values.
pub fn preprocess(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut out: Vec<OsString> = Vec::new();
    for arg in args {
        let is_value = out.len() > 1
            && out
                .last()
                .and_then(|prev| prev.to_str())
                .is_some_and(|prev| TAKES_VALUE.contains(&prev));
        let text = arg.to_str().filter(|_| !is_value && !out.is_empty());
        let rewritten = text.and_then(|text| {
            IOTDB_FLAGS.iter().find_map(|(iotdb, ours)| {
                if text == *iotdb {
                    Some(OsString::from(*ours))
                } else {
                    text.strip_prefix(iotdb)
                        .and_then(|rest| rest.strip_prefix('='))
                        .map(|value| OsString::from(format!("{ours}={value}")))
                }
            })
        });
        out.push(rewritten.unwrap_or(arg));
    }
    out
}

impl Args {
    /// Parses the process arguments (after [`preprocess`]).
    pub fn from_env() -> Result<Args, clap::Error> {
        Args::try_parse_from(preprocess(std::env::args_os()))
    }

    /// The session settings these flags ask for.
    pub fn session_config(&self) -> Result<SessionConfig, String> {
        let hosts =
            parse_hosts(&self.host, self.port).map_err(|e| format!("-h {}: {e}", self.host))?;
        Ok(SessionConfig {
            hosts,
            user: self.user.clone(),
            password: self.password.clone(),
            zone_id: self.zone.clone().unwrap_or_else(system_zone),
            fetch_size: self.fetch_size,
            request_timeout: (self.timeout > 0).then(|| Duration::from_secs(self.timeout)),
            setup: self
                .read_mode
                .iter()
                .map(|m| format!("SET READ_MODE = {}", m.to_uppercase()))
                .collect(),
            tls: self.tls()?,
            ..SessionConfig::default()
        })
    }

    /// TLS as asked: `--ssl` needs a CA file; a CA file alone means TLS.
    fn tls(&self) -> Result<Option<TlsClient>, String> {
        match (self.ssl, &self.ca_file) {
            (Some(false), _) | (None, None) => Ok(None),
            (Some(true), None) => Err(
                "--ssl needs --ca-file (IoTDB's -ts): the PEM file of the CA that signed the \
                 server's certificate"
                    .into(),
            ),
            (_, Some(ca)) => TlsClient::with_names(ca, None, ("--ca-file", "", ""))
                .map(Some)
                .map_err(|e| e.to_string()),
        }
    }

    /// The history file: the flag, or ~/.duet_cli_history; `None` if empty
    /// or there is no home directory.
    pub fn history_path(&self) -> Option<PathBuf> {
        match &self.history_file {
            Some(path) if path.is_empty() => None,
            Some(path) => Some(PathBuf::from(path)),
            None => std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|home| PathBuf::from(home).join(".duet_cli_history")),
        }
    }
}

/// The system's IANA zone name, or UTC when it has none.
fn system_zone() -> String {
    jiff::tz::TimeZone::system()
        .iana_name()
        .unwrap_or("UTC")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(argv: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(preprocess(argv.iter().map(OsString::from)))
    }

    #[test]
    fn iotdb_style_flags_parse() {
        let args = parse(&[
            "duet-cli",
            "-h",
            "iotdb-1,iotdb-2:7000",
            "-p",
            "6668",
            "-u",
            "admin",
            "-pw",
            "secret",
        ])
        .unwrap();
        assert_eq!(args.user, "admin");
        assert_eq!(args.password, "secret");
        let cfg = args.session_config().unwrap();
        assert_eq!(
            cfg.hosts,
            [("iotdb-1".to_string(), 6668), ("iotdb-2".to_string(), 7000)]
        );
        assert_eq!(parse(&["duet-cli", "-pw=root2"]).unwrap().password, "root2");
    }

    #[test]
    fn defaults_match_iotdb() {
        let args = parse(&["duet-cli", "--zone", "UTC"]).unwrap();
        let cfg = args.session_config().unwrap();
        assert_eq!(cfg.hosts, [("127.0.0.1".to_string(), 6667)]);
        assert_eq!((cfg.user.as_str(), cfg.password.as_str()), ("root", "root"));
        assert_eq!((cfg.zone_id.as_str(), cfg.fetch_size), ("UTC", 5000));
        assert!(args.execute.is_none());
        assert_eq!(cfg.request_timeout, Some(Duration::from_secs(60)));
        let args = parse(&["duet-cli", "--timeout", "0"]).unwrap();
        assert_eq!(args.session_config().unwrap().request_timeout, None);
    }

    #[test]
    fn pw_is_only_rewritten_as_a_flag() {
        let argv = preprocess(["duet-cli", "-pw", "-pw", "-e", "-pw"].map(OsString::from));
        assert_eq!(
            argv,
            ["duet-cli", "--password", "-pw", "-e", "-pw"].map(OsString::from)
        );
        let args = parse(&["duet-cli", "-pw", "x", "-e", "show pipes"]).unwrap();
        assert_eq!(args.execute.as_deref(), Some("show pipes"));
    }

    #[test]
    fn dash_h_is_the_host_and_help_is_long_only() {
        assert!(parse(&["duet-cli", "-h"]).is_err());
        let err = parse(&["duet-cli", "--help"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::DisplayHelp);
        assert!(parse(&["duet-cli", "--fetch-size", "0"]).is_err());
        assert!(parse(&["duet-cli", "-h", "a,,b"])
            .unwrap()
            .session_config()
            .is_err());
    }

    #[test]
    fn iotdb_ssl_flags() {
        let args = parse(&[
            "duet-cli",
            "-usessl",
            "true",
            "-ts",
            "/x/ca.pem",
            "-tpw",
            "pw",
        ])
        .unwrap();
        assert_eq!(args.ssl, Some(true));
        assert_eq!(args.ca_file, Some(PathBuf::from("/x/ca.pem")));
        let e = args.session_config().unwrap_err();
        assert!(e.contains("--ca-file /x/ca.pem"), "{e}");
        let args = parse(&["duet-cli", "--ssl", "-e", "show version"]).unwrap();
        assert_eq!(args.ssl, Some(true));
        assert_eq!(args.execute.as_deref(), Some("show version"));
        let e = args.session_config().unwrap_err();
        assert!(e.contains("--ca-file"), "{e}");
        let args = parse(&["duet-cli", "-usessl=false", "-ts=/x/ca.pem"]).unwrap();
        assert_eq!(args.ssl, Some(false));
        assert!(args.session_config().unwrap().tls.is_none());
        assert!(parse(&["duet-cli"])
            .unwrap()
            .session_config()
            .unwrap()
            .tls
            .is_none());
    }

    #[test]
    fn history_file_can_be_turned_off() {
        assert_eq!(
            parse(&["duet-cli", "--history-file", ""])
                .unwrap()
                .history_path(),
            None
        );
        let args = parse(&["duet-cli", "--history-file", "/tmp/h"]).unwrap();
        assert_eq!(args.history_path(), Some(PathBuf::from("/tmp/h")));
    }
}
