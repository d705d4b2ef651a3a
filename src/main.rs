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
            // --help and --version print to stdout and succeed (our own text); usage errors
            // exit 2, and they repeat what was typed, so they leave through the output gate.
            if !e.use_stderr() {
                let _ = e.print();
                return ExitCode::from(0);
            }
            certprobe::text::out::stderr(&e.render().to_string());
            return ExitCode::from(2);
        }
    };
    match certprobe::commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // File names and profile text reach the message: it leaves through the output
            // gate, which escapes every control, bidi and zero-width character.
            certprobe::text::out::stderr(&format!("certprobe: {e}\n"));
            ExitCode::from(e.exit_code())
        }
    }
}
