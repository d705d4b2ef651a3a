//! Windows: which proxy the automatic configuration (PAC) script of Internet Settings chooses for
//! a URL, evaluated by Windows itself (WinHTTP), as the browsers on the PC do.
//!
//! Plain values only: the route decision (`crate::net::proxy`) turns a [`PacChoice`] into a route.
//! Answers are remembered for the run (one download and evaluation of the script per URL).

use super::{from_wide_ptr, wide};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use windows_sys::Win32::Foundation::{GetLastError, GlobalFree};
use windows_sys::Win32::Networking::WinHttp::*;

/// The user's proxy configuration as WinHTTP reads it (Internet Options → Connections).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IeProxyConfig {
    /// "Automatically detect settings" (WPAD).
    pub auto_detect: bool,
    /// "Use automatic configuration script": the PAC file's address.
    pub auto_config_url: Option<String>,
    pub proxy: Option<String>,
    pub bypass: Option<String>,
}

/// What the PAC script chose for one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacChoice {
    /// `DIRECT`.
    Direct,
    /// The proxies (`host:port`), in the script's order.
    Proxies(Vec<String>),
}

/// Takes a string WinHTTP allocated and frees it.
///
/// # Safety
/// `p` is null or a NUL-terminated string allocated with `GlobalAlloc`, not used afterwards.
unsafe fn take_string(p: *mut u16) -> Option<String> {
    // SAFETY: the caller's promise.
    let s = unsafe { from_wide_ptr(p) };
    if !p.is_null() {
        // SAFETY: WinHTTP allocated it with GlobalAlloc and hands it to the caller.
        unsafe { GlobalFree(p.cast()) };
    }
    s.filter(|s| !s.trim().is_empty())
}

/// The current user's proxy configuration (`WinHttpGetIEProxyConfigForCurrentUser`).
pub fn ie_proxy_config() -> Result<IeProxyConfig, String> {
    let mut c = WINHTTP_CURRENT_USER_IE_PROXY_CONFIG::default();
    // SAFETY: `c` is a valid out-structure; WinHTTP fills it.
    if unsafe { WinHttpGetIEProxyConfigForCurrentUser(&mut c) } == 0 {
        // SAFETY: no preconditions.
        return Err(format!(
            "WinHttpGetIEProxyConfigForCurrentUser: error {}",
            unsafe { GetLastError() }
        ));
    }
    // SAFETY: the strings are WinHTTP's, each freed once here.
    unsafe {
        Ok(IeProxyConfig {
            auto_detect: c.fAutoDetect != 0,
            auto_config_url: take_string(c.lpszAutoConfigUrl),
            proxy: take_string(c.lpszProxy),
            bypass: take_string(c.lpszProxyBypass),
        })
    }
}

/// WinHTTP's proxy list (`host:port`, separated by `;` or white space) to its entries.
pub fn parse_proxy_list(list: &str) -> Vec<String> {
    list.split(|c: char| c == ';' || c.is_whitespace())
        .map(|p| p.trim().trim_start_matches("http://").trim_end_matches('/'))
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

struct Session(*mut core::ffi::c_void);

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: a handle from WinHttpOpen, closed once.
        unsafe { WinHttpCloseHandle(self.0) };
    }
}

/// Ask Windows which proxy the script at `pac_url` chooses for `url`. Downloading the script
/// (and each of its steps) takes at most `timeout`.
pub fn proxy_for_url(pac_url: &str, url: &str, timeout: Duration) -> Result<PacChoice, String> {
    static CACHE: OnceLock<Mutex<HashMap<(String, String), Result<PacChoice, String>>>> =
        OnceLock::new();
    let key = (pac_url.to_string(), url.to_string());
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return hit;
    }
    let answer = evaluate(pac_url, url, timeout);
    if let Ok(mut c) = cache.lock() {
        c.insert(key, answer.clone());
    }
    answer
}

fn evaluate(pac_url: &str, url: &str, timeout: Duration) -> Result<PacChoice, String> {
    let agent = wide("certprobe");
    // SAFETY: `agent` is NUL-terminated; no proxy names are passed.
    let session = unsafe {
        WinHttpOpen(
            agent.as_ptr(),
            WINHTTP_ACCESS_TYPE_NO_PROXY,
            std::ptr::null(),
            std::ptr::null(),
            0,
        )
    };
    if session.is_null() {
        // SAFETY: no preconditions.
        return Err(format!("WinHttpOpen: error {}", unsafe { GetLastError() }));
    }
    let session = Session(session);
    let ms = i32::try_from(timeout.as_millis())
        .unwrap_or(i32::MAX)
        .max(1);
    // SAFETY: a valid session handle.
    unsafe { WinHttpSetTimeouts(session.0, ms, ms, ms, ms) };
    let pac = wide(pac_url);
    let target = wide(url);
    let mut options = WINHTTP_AUTOPROXY_OPTIONS {
        dwFlags: WINHTTP_AUTOPROXY_CONFIG_URL,
        lpszAutoConfigUrl: pac.as_ptr(),
        fAutoLogonIfChallenged: 0,
        ..Default::default()
    };
    let mut info = WINHTTP_PROXY_INFO::default();
    // SAFETY: the strings outlive the call; `info` is a valid out-structure.
    let ok = unsafe { WinHttpGetProxyForUrl(session.0, target.as_ptr(), &mut options, &mut info) };
    if ok == 0 {
        // SAFETY: no preconditions.
        let code = unsafe { GetLastError() };
        return Err(format!("WinHttpGetProxyForUrl: error {code}"));
    }
    // SAFETY: the strings are WinHTTP's, each freed once here.
    let (proxy, _bypass) = unsafe {
        (
            take_string(info.lpszProxy),
            take_string(info.lpszProxyBypass),
        )
    };
    Ok(match (info.dwAccessType, proxy) {
        (WINHTTP_ACCESS_TYPE_NAMED_PROXY, Some(list)) if !parse_proxy_list(&list).is_empty() => {
            PacChoice::Proxies(parse_proxy_list(&list))
        }
        _ => PacChoice::Direct,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_lists_as_winhttp_writes_them() {
        assert_eq!(parse_proxy_list("127.0.0.1:8080"), ["127.0.0.1:8080"]);
        assert_eq!(
            parse_proxy_list("a.example:3128; b.example:8080"),
            ["a.example:3128", "b.example:8080"]
        );
        assert_eq!(parse_proxy_list("http://p:1/ ;"), ["p:1"]);
        assert!(parse_proxy_list(" ; ").is_empty());
    }

    #[test]
    fn an_unreachable_script_is_an_error_not_a_route() {
        // Nothing listens on port 9 of 127.0.0.1: Windows cannot download the script.
        let r = proxy_for_url(
            "http://127.0.0.1:9/proxy.pac",
            "https://localhost/",
            Duration::from_secs(5),
        );
        assert!(r.is_err(), "{r:?}");
    }
}
