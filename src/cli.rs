//! The command line, defined once: `--help`, the man page and the shell completions all come
//! from these definitions.

use crate::finding::{Lang, Phase};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  nothing failed (warnings allowed)
  1  at least one finding failed (with --strict, a warning too)
  2  usage or input error: bad flag, unreadable file, wrong password, bad profile
  3  internal error
  With --format nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.";

/// Tells you why a client-certificate log-in to a web service fails, and what to do about it.
///
/// certprobe checks the client certificate and its key, the chain up to the expected root, the
/// trust store, the proxy settings and the clock, then every endpoint of the service (DNS, TCP,
/// TLS with the client certificate, TLS versions, HTTP and what the page says). Every failure
/// names the section of the service's support guide to read and a concrete fix.
///
/// Without a command, `check` runs. The built-in profile describes SECOM's
/// "あんしんエコ文書" (ds.e-kakushin.com); `--profile FILE` describes any other service.
#[derive(Debug, Parser)]
#[command(name = "certprobe", version, propagate_version = true, after_long_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Language of all output [default: from LC_ALL, LC_MESSAGES or LANG; ja* means Japanese]
    #[arg(long, global = true, value_enum)]
    pub lang: Option<Lang>,

    /// When to use colour. `auto` colours only a terminal and honours NO_COLOR.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Bound on the whole run (e.g. 10s, 500ms, 1m).
    #[arg(long, global = true, default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,

    /// Service profile (TOML) [default: the built-in `ebunsho` profile]
    #[arg(long, global = true, value_name = "FILE", env = "CERTPROBE_PROFILE")]
    pub profile: Option<PathBuf>,

    /// Treat warnings as failures for the exit code.
    #[arg(long, global = true)]
    pub strict: bool,

    /// Log to stderr: -v steps and decisions, -vv TLS details, -vvv wire summaries. Never secrets.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Print only the verdict and failures (table format), no progress.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Table format: every step in a full table instead of the compact first screen.
    #[arg(long, global = true)]
    pub details: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people, with the verdict above and fixes below.
    Table,
    /// Versioned JSON (schema in `schema/report.schema.json`).
    Json,
    /// One Nagios/Icinga plugin status line with perfdata.
    Nagios,
    /// Prometheus text exposition (node_exporter textfile collector).
    Prometheus,
    /// JUnit XML, one testcase per finding.
    Junit,
    /// Markdown (the support report's format).
    Markdown,
    /// One self-contained HTML page: verdict, certificate chain and route drawn, printable form.
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Where the client certificate, its key and the trust anchors come from.
#[derive(Debug, Args, Clone, Default)]
pub struct IdentityArgs {
    /// Client certificate: PEM, DER, or PKCS#12 (.p12/.pfx, which also carries the key).
    #[arg(long, value_name = "FILE", env = "CERTPROBE_CERT")]
    pub cert: Option<PathBuf>,

    /// Private key (PEM or DER: PKCS#8, PKCS#1, SEC1, or encrypted PKCS#8) when not in --cert.
    #[arg(long, value_name = "FILE", env = "CERTPROBE_KEY")]
    pub key: Option<PathBuf>,

    /// Read the PKCS#12 or key password from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,

    /// Read the PKCS#12 or key password from the first line of this file.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// Extra intermediate CA certificates (PEM or DER); repeatable.
    #[arg(long = "ca", value_name = "FILE", action = clap::ArgAction::Append)]
    pub ca: Vec<PathBuf>,

    /// Extra trust anchors (root CA certificates, PEM or DER); repeatable.
    #[arg(long = "trust", value_name = "FILE", action = clap::ArgAction::Append)]
    pub trust: Vec<PathBuf>,

    /// Trust only the --trust anchors, not the platform's root store.
    #[arg(long)]
    pub no_system_trust: bool,

    /// Not a flag: leave this computer's certificate stores alone (Windows: the personal, CA and
    /// Root stores). The demo sets it, so that it shows the same on every computer.
    #[arg(skip)]
    pub no_os_stores: bool,

    /// Windows: the certificate of the personal store with this thumbprint (as certmgr.msc shows it).
    #[arg(long, value_name = "HEX")]
    pub cert_thumbprint: Option<String>,

    /// Windows: the certificate of the personal store whose subject contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub cert_subject: Option<String>,

    /// Windows: the machine's personal store (LocalMachine\MY) instead of the user's.
    #[arg(long)]
    pub machine_store: bool,

    /// Check validity at this time instead of now (RFC 3339, e.g. 2026-01-31T00:00:00Z, or a date).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<time::OffsetDateTime>,
}

/// How the network is reached.
#[derive(Debug, Args, Clone, Default)]
pub struct NetArgs {
    /// Ask this DNS server instead of the system resolver (IP or IP:PORT).
    #[arg(long, value_name = "IP[:PORT]")]
    pub resolver: Option<String>,

    /// Use this HTTP proxy (http://[user:pass@]host:port) instead of the environment's settings.
    ///
    /// Endpoints that go through a proxy are probed through an HTTP CONNECT tunnel; beside it,
    /// the server is also looked at directly (a handshake without the client certificate, at
    /// most 3 s), so a proxy that shows its own certificate is reported as TLS interception.
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    pub proxy: Option<String>,

    /// Ignore every proxy setting and connect directly.
    #[arg(long)]
    pub no_proxy: bool,

    /// Per-user token of the issuance URL (from the registration e-mail).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "CERTPROBE_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,

    /// Per-user code of the sign-up URL (from the registration e-mail).
    #[arg(
        long,
        value_name = "CODE",
        env = "CERTPROBE_SIGNUP_CODE",
        hide_env_values = true
    )]
    pub signup_code: Option<String>,

    /// Probe only these endpoints of the profile (by id); repeatable.
    #[arg(long = "endpoint", value_name = "ID", action = clap::ArgAction::Append)]
    pub endpoints: Vec<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct CheckArgs {
    #[command(flatten)]
    pub identity: IdentityArgs,

    #[command(flatten)]
    pub net: NetArgs,

    /// Run only these groups of probes; repeatable.
    #[arg(long, value_enum, value_name = "GROUP", action = clap::ArgAction::Append)]
    pub only: Vec<PhaseArg>,

    #[command(flatten)]
    pub login: LoginArgs,
}

/// A real log-in through the profile's form, submitted once (never retried).
#[derive(Debug, Args, Clone, Default)]
pub struct LoginArgs {
    /// Submit the profile's log-in form once, over the client-certificate connection.
    #[arg(long = "login", requires = "login_user")]
    pub enabled: bool,

    /// User ID for --login.
    #[arg(long, value_name = "ID", env = "CERTPROBE_LOGIN_USER")]
    pub login_user: Option<String>,

    /// Read the log-in password from this environment variable.
    #[arg(long, value_name = "VAR", requires = "enabled")]
    pub login_password_env: Option<String>,

    /// Read the log-in password from the first line of this file.
    #[arg(
        long,
        value_name = "FILE",
        requires = "enabled",
        conflicts_with = "login_password_env"
    )]
    pub login_password_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PhaseArg {
    Local,
    Environment,
    Network,
}

impl From<PhaseArg> for Phase {
    fn from(p: PhaseArg) -> Phase {
        match p {
            PhaseArg::Local => Phase::Local,
            PhaseArg::Environment => Phase::Environment,
            PhaseArg::Network => Phase::Network,
        }
    }
}

/// What a certificate is to be used for (`cert::Purpose` for the library).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum PurposeArg {
    #[default]
    Client,
    Server,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every probe: local certificate, environment, then each endpoint (the default).
    Check(CheckArgs),

    /// Show every certificate in PEM, DER or PKCS#12 files, and whether a key matches.
    Inspect {
        /// Files to read.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,

        /// A private key to match against the certificates.
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,

        /// Read the password from this environment variable.
        #[arg(long, value_name = "VAR")]
        password_env: Option<String>,

        /// Read the password from the first line of this file.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },

    /// Validate a certificate's path to a trust anchor, offline, by OpenSSL's rules (what only
    /// `openssl verify -x509_strict` refuses is a warning, a failure with --strict); exit 0 if
    /// valid, 1 if not.
    Verify {
        #[command(flatten)]
        identity: IdentityArgs,

        /// What the certificate is to be used for.
        #[arg(long, value_enum, default_value_t = PurposeArg::Client)]
        purpose: PurposeArg,
    },

    /// Show TLS handshake details of one server: version, cipher, chain, acceptable client CAs,
    /// and the protocol versions it accepts.
    Tls {
        /// Server as HOST, HOST:PORT or an https:// URL.
        #[arg(value_name = "HOST[:PORT]")]
        target: String,

        #[command(flatten)]
        identity: IdentityArgs,

        #[command(flatten)]
        net: NetArgs,
    },

    /// Explain a guide section or error code (e.g. `2-1`, `2-1 (7)`, `46`).
    Explain {
        /// Section id or error code.
        #[arg(value_name = "SECTION", required_unless_present = "list")]
        section: Option<String>,

        /// List every section.
        #[arg(long)]
        list: bool,
    },

    /// Run the full check and write a support report to attach to an e-mail (Markdown; JSON or a
    /// self-contained HTML page with --format json|html).
    Report {
        #[command(flatten)]
        check: CheckArgs,

        /// [1] The error message you saw.
        #[arg(long, value_name = "TEXT")]
        message: Option<String>,

        /// [3] What you did before the error.
        #[arg(long, value_name = "TEXT")]
        what_i_did: Option<String>,

        /// [4] Your user ID.
        #[arg(long, value_name = "ID")]
        user_id: Option<String>,

        /// Mask user ID, certificate serials and subjects.
        #[arg(long)]
        redact: bool,

        /// Where to write the report [default: certprobe-report-DATE.md (.json, .html) in the current folder].
        /// A new file, readable by you only; never written through a symbolic link.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,

        /// Replace an existing report file (by a new file; never written into).
        #[arg(long)]
        force: bool,
    },

    /// Run the real check against a simulated service on 127.0.0.1 (no certificate or internet needed).
    Demo {
        /// Scenario to simulate.
        #[arg(long, value_name = "NAME", default_value = "healthy")]
        scenario: String,

        /// List the scenarios.
        #[arg(long)]
        list: bool,
    },

    /// Serve checks to Prometheus: /probe?module=NAME&target=ENDPOINT, /metrics, and an index at /.
    ///
    /// Each module of the configuration (TOML) names a profile and a client certificate; a scrape
    /// may target only that profile's endpoints. See deploy/certprobe-serve.toml.
    Serve {
        /// Address to listen on [default: server.listen of the configuration, else 127.0.0.1:9790]
        #[arg(long, value_name = "IP:PORT")]
        listen: Option<String>,

        /// The modules and limits (TOML).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },

    /// Download the profile's CA certificates, checked against their pinned fingerprints.
    FetchCa {
        /// Folder to save the certificates in (new files; never written through a symbolic link).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,

        /// Replace certificate files already in the folder (by new files; never written into).
        #[arg(long)]
        force: bool,

        /// Save a CA certificate even when it has expired (an expired root is otherwise not
        /// saved: importing it makes nothing valid).
        #[arg(long)]
        keep_expired: bool,

        #[command(flatten)]
        net: NetArgs,
    },

    /// Show or check a profile.
    Profile {
        #[command(subcommand)]
        action: ProfileAction,
    },

    /// Print a shell completion script.
    Completions {
        /// Shell to generate for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProfileAction {
    /// Print the effective profile as TOML.
    Show {
        /// Profile file [default: --profile, else the built-in profile]
        file: Option<PathBuf>,
    },
    /// Report every error in a profile file, with file, line and key.
    Check {
        /// Profile file.
        file: PathBuf,
    },
}

/// `10s`, `500ms`, `1m`, `2.5s`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let value: f64 = num
        .parse()
        .map_err(|_| say("errors.usage.duration_not_number", s))?;
    let secs = match unit.trim() {
        "ms" => value / 1000.0,
        "s" | "sec" => value,
        "m" | "min" => value * 60.0,
        _ => return Err(say("errors.usage.duration_unit", s)),
    };
    if !(secs > 0.0 && secs <= 3600.0) {
        return Err(say("errors.usage.duration_range", s));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// RFC 3339 date-time, or a bare date (midnight UTC).
pub use crate::cert::parse_time;

fn say(key: &str, value: &str) -> String {
    crate::guide::message(key, &[("value", value)])
}

/// The language named on the command line (`--lang ja`, `--lang=ja`), read before clap parses
/// it so that clap's own complaints, and the values it checks, speak that language.
pub fn lang_in_args(args: &[std::ffi::OsString]) -> Option<Lang> {
    let mut it = args.iter().filter_map(|a| a.to_str());
    while let Some(a) = it.next() {
        let value = match a.strip_prefix("--lang") {
            Some("") => it.next(),
            Some(v) => v.strip_prefix('='),
            None => None,
        };
        if let Some(v) = value {
            return Some(Lang::from_tag(v));
        }
        if a == "--" {
            break;
        }
    }
    None
}

/// A usage error from clap as one line in the run's language, or `None` where clap's own text
/// is the answer (help shown because a command needs a subcommand).
pub fn usage_message(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    // Values a person may type are quoted as code: `json`, `local`.
    let get = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    };
    let arg = || get(ContextKind::InvalidArg);
    let msg = crate::guide::message;
    Some(match e.kind() {
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => {
            return None
        }
        ErrorKind::InvalidValue => {
            let choices = get(ContextKind::ValidValue);
            let value = get(ContextKind::InvalidValue);
            if choices.is_empty() {
                msg(
                    "errors.usage.invalid_value_plain",
                    &[("arg", &arg()), ("value", &value)],
                )
            } else {
                msg(
                    "errors.usage.invalid_value",
                    &[("arg", &arg()), ("value", &value), ("choices", &choices)],
                )
            }
        }
        ErrorKind::ValueValidation => {
            let reason = std::error::Error::source(e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| get(ContextKind::InvalidValue));
            msg(
                "errors.usage.bad_value",
                &[("arg", &arg()), ("reason", &reason)],
            )
        }
        ErrorKind::UnknownArgument => msg("errors.usage.unknown_argument", &[("arg", &arg())]),
        ErrorKind::InvalidSubcommand => msg(
            "errors.usage.unknown_command",
            &[("name", &get(ContextKind::InvalidSubcommand))],
        ),
        ErrorKind::MissingRequiredArgument => msg("errors.usage.missing", &[("args", &arg())]),
        ErrorKind::ArgumentConflict => msg(
            "errors.usage.conflict",
            &[("arg", &arg()), ("other", &get(ContextKind::PriorArg))],
        ),
        _ => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or_default();
            let detail = first.strip_prefix("error: ").unwrap_or(first);
            msg("errors.usage.other", &[("detail", detail)])
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_language_is_read_before_the_flags_are_parsed() {
        let args = |v: &[&str]| -> Vec<std::ffi::OsString> { v.iter().map(Into::into).collect() };
        assert_eq!(
            lang_in_args(&args(&["certprobe", "--lang", "ja", "x"])),
            Some(Lang::Ja)
        );
        assert_eq!(
            lang_in_args(&args(&["certprobe", "--lang=en"])),
            Some(Lang::En)
        );
        assert_eq!(lang_in_args(&args(&["certprobe", "explain", "46"])), None);
        assert_eq!(
            lang_in_args(&args(&["certprobe", "--", "--lang", "ja"])),
            None
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("10h").is_err());
    }

    #[test]
    fn times() {
        assert!(parse_time("2023-09-30T04:20:49Z").is_ok());
        assert_eq!(
            parse_time("2024-01-02").unwrap().date().to_string(),
            "2024-01-02"
        );
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn no_command_means_check() {
        let cli = Cli::try_parse_from(["certprobe", "--format", "json"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.global.format, Format::Json);
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from(["certprobe", "explain", "46", "--lang", "ja"]).unwrap();
        assert_eq!(cli.global.lang, Some(Lang::Ja));
    }
}
