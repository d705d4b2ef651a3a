//! Every file certprobe writes goes through here (`report --out`, the default report name,
//! `fetch-ca --out DIR`).
//!
//! A file is never opened for writing at the path the person named. The bytes go into a new
//! temporary file in the same folder, created with `O_CREAT|O_EXCL` (which does not follow a
//! symlink; on Windows `CREATE_NEW`) and mode 0600, and that file is then renamed onto the
//! path. So a symlink, a FIFO or a device node planted at the path is never written through,
//! truncated or chmodded, and an existing file is replaced only when the caller says so — and
//! then by rename, never by writing into it.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why a file could not be written. Each says what to do.
#[derive(Debug)]
pub enum OutError {
    /// The path is a symlink (never followed).
    Symlink(PathBuf),
    /// The path exists and is not a regular file (folder, FIFO, device, socket).
    NotRegular(PathBuf, &'static str),
    /// A regular file is there and replacing it was not asked for.
    Exists(PathBuf),
    /// The operating system refused.
    Io(PathBuf, std::io::Error),
}

impl OutError {
    /// The catalogue key and the placeholders of this error's message.
    pub fn key_and_args(&self) -> (&'static str, Vec<(&'static str, String)>) {
        match self {
            OutError::Symlink(p) => ("input.out_symlink", vec![("file", shown(p))]),
            OutError::NotRegular(p, kind) => (
                "input.out_not_regular",
                vec![("file", shown(p)), ("kind", kind_words(kind))],
            ),
            OutError::Exists(p) => ("input.out_exists", vec![("file", shown(p))]),
            OutError::Io(p, e) => (
                "input.out_io",
                vec![("file", shown(p)), ("error", crate::guide::io_reason(e))],
            ),
        }
    }
}

fn shown(p: &Path) -> String {
    p.display().to_string()
}

impl fmt::Display for OutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutError::Symlink(p) => write!(f, "{} is a symbolic link", p.display()),
            OutError::NotRegular(p, kind) => write!(f, "{} is a {kind}", p.display()),
            OutError::Exists(p) => write!(f, "{} exists", p.display()),
            OutError::Io(p, e) => write!(f, "cannot write {}: {e}", p.display()),
        }
    }
}

impl std::error::Error for OutError {}

/// What is at a path, without following a symlink there.
/// A kind named by [`kind_of`], in words of the run's language.
pub fn kind_words(kind: &str) -> String {
    let key = match kind {
        "symbolic link" => "errors.kind.symlink",
        "folder" => "errors.kind.folder",
        "file" => "errors.kind.file",
        "named pipe (FIFO)" => "errors.kind.fifo",
        "device" => "errors.kind.device",
        "socket" => "errors.kind.socket",
        _ => "errors.kind.other",
    };
    crate::guide::message(key, &[])
}

pub fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_symlink() {
        return "symbolic link";
    }
    if t.is_dir() {
        return "folder";
    }
    if t.is_file() {
        return "file";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "named pipe (FIFO)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "device";
        }
        if t.is_socket() {
            return "socket";
        }
    }
    "special file"
}

/// Check that `path` may be written: absent, or (with `replace`) a regular file. Nothing is
/// opened. Callers that write several files check them all before any network work.
pub fn check_target(path: &Path, replace: bool) -> Result<(), OutError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(OutError::Io(path.to_path_buf(), e)),
        Ok(m) if m.file_type().is_symlink() => Err(OutError::Symlink(path.to_path_buf())),
        Ok(m) if !m.file_type().is_file() => {
            Err(OutError::NotRegular(path.to_path_buf(), kind_of(&m)))
        }
        Ok(_) if !replace => Err(OutError::Exists(path.to_path_buf())),
        Ok(_) => Ok(()),
    }
}

/// Write `bytes` to a new file at `path`, readable by its owner only (0600 on Unix). An
/// existing regular file is replaced (by rename) only when `replace` is set; a symlink or
/// anything that is not a regular file is refused.
pub fn write_new(path: &Path, bytes: &[u8], replace: bool) -> Result<(), OutError> {
    check_target(path, replace)?;
    let io = |e: std::io::Error| OutError::Io(path.to_path_buf(), e);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // tempfile creates with O_CREAT|O_EXCL (CREATE_NEW on Windows), mode 0600, a random name.
    let mut tmp = tempfile::Builder::new()
        .prefix(".certprobe-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file_mut().sync_all())
        .map_err(io)?;
    if replace {
        // Checked again just before the rename; a rename replaces the directory entry (a link
        // planted in between is replaced, never followed).
        check_target(path, true)?;
        tmp.persist(path).map_err(|e| io(e.error))?;
    } else {
        // Atomic "create only if absent": a file or link planted since the check wins.
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                match check_target(path, false) {
                    Err(why) => why,
                    Ok(()) => OutError::Exists(path.to_path_buf()),
                }
            } else {
                io(e.error)
            }
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_new_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.md");
        write_new(&p, b"hello", false).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"hello");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // Only the file itself: no temporary left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn existing_file_needs_replace_and_is_replaced_by_rename() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.md");
        std::fs::write(&p, b"old").unwrap();
        assert!(matches!(
            write_new(&p, b"new", false),
            Err(OutError::Exists(_))
        ));
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        // A hard link to the old file keeps the old contents: the file was not written into.
        let other = dir.path().join("other");
        std::fs::hard_link(&p, &other).unwrap();
        write_new(&p, b"new", true).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(std::fs::read(&other).unwrap(), b"old");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_and_special_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        for replace in [false, true] {
            assert!(matches!(
                write_new(&link, b"x", replace),
                Err(OutError::Symlink(_))
            ));
            assert!(matches!(
                write_new(dir.path(), b"x", replace),
                Err(OutError::NotRegular(_, "folder"))
            ));
            assert!(matches!(
                write_new(Path::new("/dev/null"), b"x", replace),
                Err(OutError::NotRegular(_, "device"))
            ));
        }
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    }
}
