//! Windows: the certificate stores (with keys used in place through CNG), the registry, and the
//! proxy the automatic configuration script chooses (WinHTTP).
//!
//! Everything here runs only on Windows. What can be decided from data alone lives in the
//! platform-independent modules beside this one, so that it is tested everywhere.

pub mod registry;
pub mod store;
pub mod winhttp;

pub use registry::{internet_settings, is_wine};

/// Text as Windows APIs take it: UTF-16, NUL-terminated.
pub(crate) fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// A NUL-terminated UTF-16 string from a Windows API, read up to its NUL.
///
/// # Safety
/// `p` is null or points to a NUL-terminated UTF-16 string.
pub(crate) unsafe fn from_wide_ptr(p: *const u16) -> Option<String> {
    if p.is_null() {
        return None;
    }
    let mut len = 0usize;
    // SAFETY: the caller promises a NUL-terminated string.
    unsafe {
        while *p.add(len) != 0 {
            len += 1;
        }
        Some(String::from_utf16_lossy(std::slice::from_raw_parts(p, len)))
    }
}
