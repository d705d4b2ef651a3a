//! One function per subcommand: each turns parsed flags into library calls and prints the
//! result. Returns the exit code; errors become one line on stderr in `main`.

use crate::cli::{Cli, ColorChoice, Command, Format, GlobalArgs};
use crate::error::AppError;
use crate::finding::Lang;
use crate::profile::Profile;
use crate::report::{RenderOptions, Report};
use std::io::{IsTerminal, Write};

pub mod check;
pub mod demo;
pub mod explain;
pub mod fetch_ca;
pub mod inspect;
pub mod profile;
pub mod report;
pub mod tls;
pub mod verify;

/// The network flags as the library's plain options.
impl From<&crate::cli::NetArgs> for crate::net::NetOptions {
    fn from(a: &crate::cli::NetArgs) -> Self {
        crate::net::NetOptions {
            resolver: a.resolver.clone(),
            proxy: a.proxy.clone(),
            no_proxy: a.no_proxy,
            token: a.token.clone(),
            signup_code: a.signup_code.clone(),
            endpoints: a.endpoints.clone(),
        }
    }
}

/// What every command gets from the global flags.
pub struct Context {
    pub global: GlobalArgs,
    pub lang: Lang,
    pub render: RenderOptions,
}

impl Context {
    pub fn new(global: GlobalArgs) -> Context {
        let lang = Lang::detect(global.lang);
        let tty = std::io::stdout().is_terminal();
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        };
        let width = if tty {
            None // comfy-table measures the terminal itself
        } else {
            Some(
                std::env::var("COLUMNS")
                    .ok()
                    .and_then(|c| c.parse::<u16>().ok())
                    .filter(|w| *w >= 40)
                    .unwrap_or(120),
            )
        };
        let render = RenderOptions {
            lang,
            color,
            strict: global.strict,
            quiet: global.quiet,
            width,
        };
        Context {
            global,
            lang,
            render,
        }
    }

    /// The profile from `--profile`, else the built-in one.
    pub fn profile(&self) -> Result<Profile, AppError> {
        match &self.global.profile {
            Some(p) => Ok(Profile::load(p)?),
            None => Ok(Profile::builtin()),
        }
    }

    /// Render a report in the chosen format and give the exit code for it.
    pub fn emit_report(&self, report: &Report) -> Result<u8, AppError> {
        let o = &self.render;
        let (text, code) = match self.global.format {
            Format::Table => (
                crate::report::table::render(report, o),
                report.exit_code(o.strict),
            ),
            Format::Json => (
                crate::report::json::render(report, o),
                report.exit_code(o.strict),
            ),
            Format::Markdown => (
                crate::report::markdown::render(report, o),
                report.exit_code(o.strict),
            ),
            Format::Junit => (
                crate::report::junit::render(report, o),
                report.exit_code(o.strict),
            ),
            Format::Prometheus => (
                crate::report::prometheus::render(report, o),
                report.exit_code(o.strict),
            ),
            Format::Nagios => {
                let mut code = crate::report::nagios::exit_code(report);
                if o.strict && code == 1 {
                    code = 2;
                }
                (crate::report::nagios::render(report, o), code)
            }
        };
        print(&text)?;
        Ok(code)
    }
}

/// Write to stdout; a closed pipe (`certprobe … | head`) is not an error worth a message.
pub fn print(s: &str) -> Result<(), AppError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(AppError::Internal(format!("cannot write output: {e}"))),
    }
}

/// A multi-threaded tokio runtime for the network commands.
pub fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| AppError::Internal(format!("cannot start the async runtime: {e}")))
}

fn init_logging(verbose: u8) {
    if verbose == 0 {
        return;
    }
    let level = match verbose {
        1 => "certprobe=info",
        2 => "certprobe=debug",
        _ => "certprobe=trace,rustls=debug",
    };
    // `-v`: step boundaries and decisions (routes, redirects, downloads); `-vv`: TLS details
    // and connection attempts; `-vvv`: wire summaries (CONNECT, request lines, response heads).
    // Never a secret: queries are shown as `?…`, proxy credentials as `***`, no bodies.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_target(false)
        .try_init();
}

pub fn run(cli: Cli) -> Result<u8, AppError> {
    init_logging(cli.global.verbose);
    let ctx = Context::new(cli.global);
    let result = dispatch(&ctx, cli.command);
    match result {
        // A monitoring system reads stdout and the exit code: an input or internal error is
        // UNKNOWN (3) there, with the reason in the status line.
        Err(e) if ctx.global.format == Format::Nagios => {
            eprintln!("certprobe: {e}");
            print(&crate::report::nagios::unknown(&e.to_string()))?;
            Ok(3)
        }
        other => other,
    }
}

fn dispatch(ctx: &Context, command: Option<Command>) -> Result<u8, AppError> {
    match command {
        None => check::run(ctx, &Default::default()),
        Some(Command::Check(args)) => check::run(ctx, &args),
        Some(Command::Inspect {
            files,
            key,
            password_env,
            password_file,
        }) => inspect::run(
            ctx,
            &files,
            key.as_deref(),
            password_env.as_deref(),
            password_file.as_deref(),
        ),
        Some(Command::Verify { identity, purpose }) => verify::run(ctx, &identity, purpose),
        Some(Command::Tls {
            target,
            identity,
            net,
        }) => tls::run(ctx, &target, &identity, &net),
        Some(Command::Explain { section, list }) => explain::run(ctx, section.as_deref(), list),
        Some(Command::Report {
            check,
            message,
            what_i_did,
            user_id,
            redact,
            out,
        }) => report::run(
            ctx,
            &check,
            &report::Person {
                message,
                what_i_did,
                user_id,
            },
            redact,
            out.as_deref(),
        ),
        Some(Command::Demo { scenario, list }) => demo::run(ctx, &scenario, list),
        Some(Command::FetchCa { out, net }) => fetch_ca::run(ctx, &out, &net),
        Some(Command::Profile { action }) => profile::run(ctx, action),
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "certprobe", &mut buf);
            print(&String::from_utf8_lossy(&buf))?;
            Ok(0)
        }
    }
}
