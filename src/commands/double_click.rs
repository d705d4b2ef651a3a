//! certprobe started by a double-click (or with `CERTPROBE_DOUBLE_CLICK=1`): the person gave no
//! flags and will see one console window. Run the default check (on Windows with the certificate
//! found in the personal store), write the HTML support report into their Documents folder, open it,
//! and keep the window open until they press Enter.

use crate::finding::Lang;
use crate::guide::label;
use crate::platform::console;
use crate::text::out::{self, Gate};
use clap::Parser;
use std::io::BufRead;

/// Runs the double-click flow and returns the exit code of the check (2 when it could not run).
pub fn run() -> u8 {
    let lang = Lang::detect(None);
    let say = |s: String| {
        let _ = out::stdout(&s, Gate::Text);
    };
    say(format!("{}\n\n", label("doubleclick.intro", lang)));
    let path = console::documents_dir().join(super::report::default_name("html"));
    let args = [
        std::ffi::OsString::from("certprobe"),
        "report".into(),
        "--format".into(),
        "html".into(),
        "--out".into(),
        path.clone().into_os_string(),
    ];
    let code = match crate::cli::Cli::try_parse_from(args) {
        Ok(cli) => match super::run(cli) {
            Ok(code) => {
                say(format!(
                    "{}\n{}\n",
                    label("doubleclick.opened", lang),
                    path.display()
                ));
                console::open_file(&path);
                code
            }
            Err(e) => {
                out::stderr(&format!("certprobe: {e}\n"));
                e.exit_code()
            }
        },
        Err(e) => {
            let _ = e.print();
            2
        }
    };
    say(format!("\n{}\n", label("doubleclick.press_enter", lang)));
    // The person may read the screen for as long as they like: not part of the run's time bound.
    crate::watchdog::paused(|| {
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
    });
    code
}
