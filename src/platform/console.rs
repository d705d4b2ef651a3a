//! The console certprobe runs in: whether it shows colour, whether a person started certprobe by
//! double-clicking it, and where their documents go.

use std::path::PathBuf;

/// Turns on ANSI colour where the console needs it (Windows: virtual-terminal processing) and
/// says whether colour can be shown. The legacy Windows console without VT support gets `false`,
/// so it never shows raw escape sequences.
pub fn enable_colour() -> bool {
    #[cfg(windows)]
    {
        enable_ansi_support::enable_ansi_support().is_ok()
    }
    #[cfg(not(windows))]
    {
        true
    }
}

/// Whether certprobe was started by a double-click: on Windows, it is the only process attached
/// to its console (Explorer made a console for it alone). `CERTPROBE_DOUBLE_CLICK=1` asks for the
/// same behaviour on any system (for a support person's shortcut, and for tests).
pub fn started_by_double_click() -> bool {
    if std::env::var_os("CERTPROBE_DOUBLE_CLICK").is_some_and(|v| v == "1") {
        return true;
    }
    #[cfg(windows)]
    {
        let mut ids = [0u32; 2];
        // SAFETY: the buffer holds `ids.len()` process ids; the call writes at most that many.
        let n = unsafe {
            windows_sys::Win32::System::Console::GetConsoleProcessList(
                ids.as_mut_ptr(),
                ids.len() as u32,
            )
        };
        n == 1
    }
    #[cfg(not(windows))]
    {
        false
    }
}

/// The user's Documents folder (Windows: the known folder, wherever it was moved to), else the
/// home folder's `Documents`, else the home folder, else the current directory.
pub fn documents_dir() -> PathBuf {
    #[cfg(windows)]
    if let Some(d) = dirs::document_dir() {
        return d;
    }
    let home =
        std::env::var_os(if cfg!(windows) { "USERPROFILE" } else { "HOME" }).map(PathBuf::from);
    match home {
        Some(h) if h.join("Documents").is_dir() => h.join("Documents"),
        Some(h) => h,
        None => PathBuf::from("."),
    }
}

/// Opens a file with the program the system uses for it (Windows: as if double-clicked in
/// Explorer; macOS: `open`) and says whether it was handed over. Elsewhere nothing is opened (the
/// caller shows the path). Under Wine neither: its explorer.exe has no desktop to show the file on
/// and would stay behind. The opener never inherits our console or pipes.
pub fn open_file(path: &std::path::Path) -> bool {
    #[cfg(windows)]
    if crate::platform::windows::is_wine() {
        return false;
    }
    let opener = if cfg!(windows) {
        Some("explorer.exe")
    } else if cfg!(target_os = "macos") {
        Some("open")
    } else {
        None
    };
    match opener {
        Some(p) => std::process::Command::new(p)
            .arg(path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok(),
        None => false,
    }
}
