//! Operating-system specifics (Windows certificate store and registry) behind `cfg`.
//!
//! The parts that only interpret data ([`select`], [`ca`], [`internet`]) build and are tested on
//! every platform; the parts that talk to Windows live in [`windows`] and exist only there.
//!
//! - [`select`]: which certificate of a store to use, and why each other one was not chosen.
//! - [`ca`]: presence and expiry of the profile's root and intermediate CAs in a set of stores.
//! - [`console`]: colour in the Windows console, the double-click start, the Documents folder.
//! - [`internet`]: the Internet Settings values (proxy, PAC, SecureProtocols) as a plain struct.
//!
//! Their fix texts are in the guide catalogue (`src/guide/fixes/windows.toml`, keys `windows.*`).

pub mod ca;
pub mod console;
pub mod internet;
pub mod select;

/// How many files (sockets included) this process may have open at once: the soft
/// `RLIMIT_NOFILE` on Unix; Windows has no such small per-process limit (its socket limit is in
/// the tens of thousands), so a generous fixed number stands in.
pub fn open_file_limit() -> usize {
    #[cfg(unix)]
    {
        let mut l = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct it is given and nothing else.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) } == 0;
        if ok && l.rlim_cur != libc::RLIM_INFINITY {
            return usize::try_from(l.rlim_cur).unwrap_or(usize::MAX);
        }
        usize::MAX
    }
    #[cfg(not(unix))]
    {
        16_384
    }
}

#[cfg(windows)]
pub mod windows;
