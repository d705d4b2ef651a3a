use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Started by a double-click: no flags, one console window that must not vanish.
    if std::env::args_os().len() == 1 && certprobe::platform::console::started_by_double_click() {
        return ExitCode::from(certprobe::commands::double_click::run());
    }
    let cli = match certprobe::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; usage errors exit 2.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match certprobe::commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // File names and profile text reach the message: no raw control characters.
            let msg = certprobe::text::escape::clean_multiline(&e.to_string());
            eprintln!("certprobe: {msg}");
            ExitCode::from(e.exit_code())
        }
    }
}
