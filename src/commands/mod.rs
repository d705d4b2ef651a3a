//! One function per subcommand: each turns parsed flags into library calls and prints the
//! result. Returns the exit code; errors become one line on stderr in `main`.

use crate::cli::{Cli, ColorChoice, Command, Format, GlobalArgs};
use crate::error::AppError;
use crate::finding::Lang;
use crate::profile::Profile;
use crate::report::{RenderOptions, Report};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub mod check;
pub mod demo;
pub mod double_click;
pub mod explain;
pub mod fetch_ca;
pub mod inspect;
pub mod profile;
pub mod report;
pub mod serve;
pub mod settings;
pub mod tls;
pub mod verify;

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
            ColorChoice::Always => {
                crate::platform::console::enable_colour();
                true
            }
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && crate::platform::console::enable_colour()
            }
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
        COLOUR.store(color, Ordering::Relaxed);
        JSON.store(global.format == Format::Json, Ordering::Relaxed);
        crate::guide::set_message_lang(lang);
        let render = RenderOptions {
            lang,
            color,
            strict: global.strict,
            quiet: global.quiet,
            details: global.details,
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
            Format::Table if o.details => (
                crate::report::table::render(report, o),
                report.exit_code(o.strict),
            ),
            Format::Table => (
                crate::report::compact::render(report, o),
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
            Format::Html => (
                crate::report::html::render(report, o),
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

/// The diagnosis stage between probing and rendering: causes, consequences and the verdict.
pub fn diagnosed(mut report: Report) -> Report {
    report.verdict = crate::diagnose::decide(&mut report.findings);
    report
}

/// Whether colour was chosen for stdout, and whether stdout is JSON (set by [`Context::new`]).
static COLOUR: AtomicBool = AtomicBool::new(false);
static JSON: AtomicBool = AtomicBool::new(false);

/// Write to stdout through the one output gate ([`crate::text::out`]); a closed pipe
/// (`certprobe … | head`) is not an error worth a message.
pub fn print(s: &str) -> Result<(), AppError> {
    use crate::text::out::Gate;
    let gate = if JSON.load(Ordering::Relaxed) {
        Gate::Json
    } else if COLOUR.load(Ordering::Relaxed) {
        Gate::Colour
    } else {
        Gate::Text
    };
    crate::text::out::stdout(s, gate).map_err(|e| {
        AppError::internal(
            "errors.write_output",
            &[("error", &crate::guide::io_reason(&e))],
        )
    })
}

/// Room the run gets beyond `--timeout` for start-up, local work and rendering.
pub const RUN_ALLOWANCE: Duration = Duration::from_secs(5);

/// The whole run, local work included, ends within `--timeout` plus [`RUN_ALLOWANCE`]: the
/// watchdog ends the process (exit 2) if anything — a decoder, a regex compile, a PKCS#12 key
/// derivation — takes longer. Time at a password prompt does not count.
fn start_watchdog(timeout: Duration) {
    crate::watchdog::start(timeout.saturating_add(RUN_ALLOWANCE), move || {
        crate::text::out::stderr(&format!(
            "certprobe: {}\n",
            crate::guide::message(
                "input.run_timeout",
                &[
                    ("timeout", &crate::text::human::duration(timeout)),
                    ("allowance", &crate::text::human::duration(RUN_ALLOWANCE)),
                ],
            )
        ));
        std::process::exit(2);
    });
}

/// A multi-threaded tokio runtime for the network commands.
pub fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            AppError::internal("errors.runtime", &[("error", &crate::guide::io_reason(&e))])
        })
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
    // Log lines carry server text too: they leave through the same gate, without colour.
    let _ = tracing_subscriber::fmt()
        .with_writer(crate::text::out::LogLine::new)
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_target(false)
        .try_init();
}

pub fn run(cli: Cli) -> Result<u8, AppError> {
    init_logging(cli.global.verbose);
    if !matches!(
        cli.command,
        // A server runs until stopped: each of its probes has its own deadline instead.
        Some(Command::Completions { .. } | Command::Explain { .. } | Command::Serve { .. })
    ) {
        start_watchdog(cli.global.timeout);
    }
    let ctx = Context::new(cli.global);
    let result = dispatch(&ctx, cli.command);
    match result {
        // A monitoring system reads stdout and the exit code: an input or internal error is
        // UNKNOWN (3) there, with the reason in the status line.
        Err(e) if ctx.global.format == Format::Nagios => {
            crate::text::out::stderr(&format!("certprobe: {e}\n"));
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
            force,
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
            force,
        ),
        Some(Command::Demo { scenario, list }) => demo::run(ctx, &scenario, list),
        Some(Command::Serve { listen, config }) => serve::run(ctx, listen.as_deref(), &config),
        Some(Command::FetchCa {
            out,
            force,
            keep_expired,
            net,
        }) => fetch_ca::run(ctx, &out, force, keep_expired, &net),
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
