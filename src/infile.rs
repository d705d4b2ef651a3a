//! Every local file certprobe reads (`--cert --key --ca --trust --profile --password-file
//! --login-password-file`) is read here.
//!
//! The file is opened without blocking (a FIFO with no writer would otherwise hang the open),
//! its type is checked on the open handle (a regular file only: no FIFO, device, folder or
//! socket), and it is read through a hard byte cap that does not trust the size the file
//! system reports (`/dev/zero` and `/proc` files say 0).

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Certificates, keys, PKCS#12 files and CA bundles.
pub const CERT_CAP: u64 = 4 * 1024 * 1024;
/// Profiles.
pub const PROFILE_CAP: u64 = 1024 * 1024;
/// Password files (only the first line is used).
pub const PASSWORD_CAP: u64 = 64 * 1024;

/// Why a local file could not be read.
#[derive(Debug)]
pub enum InError {
    NotFound(PathBuf),
    PermissionDenied(PathBuf),
    /// A folder, FIFO, device or socket.
    NotRegular(PathBuf, &'static str),
    /// More than `cap` bytes.
    TooLarge(PathBuf, u64),
    Empty(PathBuf),
    /// A password file that is not UTF-8 text.
    NotText(PathBuf),
    Io(PathBuf, std::io::Error),
}

impl InError {
    /// The catalogue key and the placeholders of this error's message.
    pub fn key_and_args(&self) -> (&'static str, Vec<(&'static str, String)>) {
        let f = |p: &Path| ("file", p.display().to_string());
        match self {
            InError::NotFound(p) => ("input.not_found", vec![f(p)]),
            InError::PermissionDenied(p) => ("input.permission", vec![f(p)]),
            InError::NotRegular(p, "folder") => ("input.folder", vec![f(p)]),
            InError::NotRegular(p, kind) => (
                "input.not_regular",
                vec![f(p), ("kind", crate::outfile::kind_words(kind))],
            ),
            InError::TooLarge(p, cap) => (
                "input.too_large",
                vec![f(p), ("limit", crate::text::human::bytes(*cap))],
            ),
            InError::Empty(p) => ("input.empty", vec![f(p)]),
            InError::NotText(p) => ("input.not_text", vec![f(p)]),
            InError::Io(p, e) => (
                "input.io",
                vec![f(p), ("error", crate::guide::io_reason(e))],
            ),
        }
    }
}

impl fmt::Display for InError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (key, args) = self.key_and_args();
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        f.write_str(&crate::guide::fix(key, &args).en)
    }
}

impl std::error::Error for InError {}

fn open_error(path: &Path, e: std::io::Error) -> InError {
    match e.kind() {
        std::io::ErrorKind::NotFound => InError::NotFound(path.to_path_buf()),
        std::io::ErrorKind::PermissionDenied => InError::PermissionDenied(path.to_path_buf()),
        _ => InError::Io(path.to_path_buf(), e),
    }
}

/// Open `path` for reading without blocking on a FIFO or a device.
fn open(path: &Path) -> Result<std::fs::File, InError> {
    // A quick look first: a folder or special file is named without opening it at all.
    let meta = std::fs::metadata(path).map_err(|e| open_error(path, e))?;
    if !meta.is_file() {
        return Err(InError::NotRegular(
            path.to_path_buf(),
            crate::outfile::kind_of(&meta),
        ));
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        // It may have been swapped for a FIFO since: do not wait for a writer.
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = opts.open(path).map_err(|e| open_error(path, e))?;
    let meta = file.metadata().map_err(|e| open_error(path, e))?;
    if !meta.is_file() {
        return Err(InError::NotRegular(
            path.to_path_buf(),
            crate::outfile::kind_of(&meta),
        ));
    }
    Ok(file)
}

/// The whole file, at most `cap` bytes; more is an error, and so is an empty file.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, InError> {
    let file = open(path)?;
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| InError::Io(path.to_path_buf(), e))?;
    if bytes.len() as u64 > cap {
        return Err(InError::TooLarge(path.to_path_buf(), cap));
    }
    if bytes.is_empty() {
        return Err(InError::Empty(path.to_path_buf()));
    }
    Ok(bytes)
}

/// The first line of a password file (without its line break).
pub fn first_line(path: &Path) -> Result<String, InError> {
    let bytes = read_capped(path, PASSWORD_CAP)?;
    let text = String::from_utf8(bytes).map_err(|_| InError::NotText(path.to_path_buf()))?;
    Ok(text.lines().next().unwrap_or("").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_small_files_and_refuses_large_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a");
        std::fs::write(&p, b"12345").unwrap();
        assert_eq!(read_capped(&p, 5).unwrap(), b"12345");
        assert!(matches!(read_capped(&p, 4), Err(InError::TooLarge(_, 4))));
        std::fs::write(&p, b"").unwrap();
        assert!(matches!(read_capped(&p, 4), Err(InError::Empty(_))));
        assert!(matches!(
            read_capped(&dir.path().join("none"), 4),
            Err(InError::NotFound(_))
        ));
        assert!(matches!(
            read_capped(dir.path(), 4),
            Err(InError::NotRegular(_, "folder"))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_refused_without_reading() {
        for dev in ["/dev/zero", "/dev/urandom", "/dev/null"] {
            assert!(matches!(
                read_capped(Path::new(dev), CERT_CAP),
                Err(InError::NotRegular(_, "device"))
            ));
        }
    }

    #[test]
    fn password_is_the_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, b"secret\r\nsecond\n").unwrap();
        assert_eq!(first_line(&p).unwrap(), "secret");
    }
}
