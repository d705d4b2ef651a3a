use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Started by a double-click: no flags, one console window that must not vanish.
    if std::env::args_os().len() == 1 && certprobe::platform::console::started_by_double_click() {
        return ExitCode::from(certprobe::commands::double_click::run());
    }
    // Messages made while the flags are parsed (a bad --timeout) are already in the language
    // the command line asks for.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let lang = certprobe::Lang::detect(certprobe::cli::lang_in_args(&args));
    certprobe::guide::set_message_lang(lang);
    let cli = match certprobe::cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed (our own text); usage errors
            // exit 2 with one line in the run's language, and they repeat what was typed, so
            // they leave through the output gate.
            if !e.use_stderr() {
                let _ = e.print();
                return ExitCode::from(0);
            }
            let text = match certprobe::cli::usage_message(&e) {
                Some(line) => format!("certprobe: {line}\n"),
                None => e.render().to_string(),
            };
            certprobe::text::out::stderr(&text);
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
