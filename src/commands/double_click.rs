//! certprobe started by a double-click (or with `CERTPROBE_DOUBLE_CLICK=1`): the person gave no
//! flags and will see one console window. Run the default check (on Windows with the certificate
//! found in the personal store), write the HTML support report into their Documents folder, open it,
//! and keep the window open until they press Enter.

use crate::finding::Lang;
use crate::guide::label;
use crate::platform::console;
use clap::Parser;
use std::io::BufRead;

/// Runs the double-click flow and returns the exit code of the check (2 when it could not run).
pub fn run() -> u8 {
    let lang = Lang::detect(None);
    println!("{}\n", label("doubleclick.intro", lang));
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
                println!("{}", label("doubleclick.opened", lang));
                println!(
                    "{}",
                    crate::text::escape::clean(&path.display().to_string())
                );
                console::open_file(&path);
                code
            }
            Err(e) => {
                eprintln!(
                    "certprobe: {}",
                    crate::text::escape::clean_multiline(&e.to_string())
                );
                e.exit_code()
            }
        },
        Err(e) => {
            let _ = e.print();
            2
        }
    };
    println!("\n{}", label("doubleclick.press_enter", lang));
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    code
}
