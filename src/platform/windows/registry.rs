//! The registry: Internet Settings of the current user, and whether this is Wine.

use super::wide;
use crate::platform::internet::{InternetSettings, SecureProtocols, INTERNET_SETTINGS_KEY};
use std::fmt;
use std::ptr;
use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_SUCCESS, WIN32_ERROR};
use windows_sys::Win32::System::Registry::{
    RegCloseKey, RegGetValueW, RegOpenKeyExW, HKEY, HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE,
    KEY_READ, RRF_RT_REG_DWORD, RRF_RT_REG_SZ,
};

/// A registry read that failed for another reason than an absent key or value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    pub key: String,
    pub code: u32,
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot read the registry key HKCU\\{} (Windows error {})",
            self.key, self.code
        )
    }
}

impl std::error::Error for RegistryError {}

/// An open registry key, closed on drop.
struct Key(HKEY);

impl Key {
    fn open(root: HKEY, path: &str) -> Result<Option<Key>, WIN32_ERROR> {
        let path = wide(path);
        let mut h: HKEY = ptr::null_mut();
        // SAFETY: `path` is NUL-terminated and outlives the call; `h` is a valid out pointer.
        let rc = unsafe { RegOpenKeyExW(root, path.as_ptr(), 0, KEY_READ, &mut h) };
        match rc {
            ERROR_SUCCESS => Ok(Some(Key(h))),
            ERROR_FILE_NOT_FOUND => Ok(None),
            e => Err(e),
        }
    }

    fn dword(&self, name: &str) -> Option<u32> {
        let name = wide(name);
        let mut value: u32 = 0;
        let mut size = std::mem::size_of::<u32>() as u32;
        // SAFETY: `value` has room for the `size` bytes announced; pointers live through the call.
        let rc = unsafe {
            RegGetValueW(
                self.0,
                ptr::null(),
                name.as_ptr(),
                RRF_RT_REG_DWORD,
                ptr::null_mut(),
                (&mut value as *mut u32).cast(),
                &mut size,
            )
        };
        (rc == ERROR_SUCCESS).then_some(value)
    }

    fn string(&self, name: &str) -> Option<String> {
        let name = wide(name);
        // REG_SZ, and REG_EXPAND_SZ expanded (RegGetValueW does that unless told not to).
        let flags = RRF_RT_REG_SZ;
        // The value may change between the size query and the read: retry a few times.
        for _ in 0..4 {
            let mut size: u32 = 0;
            // SAFETY: a size query with a null buffer.
            let rc = unsafe {
                RegGetValueW(
                    self.0,
                    ptr::null(),
                    name.as_ptr(),
                    flags,
                    ptr::null_mut(),
                    ptr::null_mut(),
                    &mut size,
                )
            };
            if rc != ERROR_SUCCESS {
                return None;
            }
            let mut buf = vec![0u16; (size as usize).div_ceil(2) + 1];
            let mut bytes = (buf.len() * 2) as u32;
            // SAFETY: `buf` holds `bytes` bytes.
            let rc = unsafe {
                RegGetValueW(
                    self.0,
                    ptr::null(),
                    name.as_ptr(),
                    flags,
                    ptr::null_mut(),
                    buf.as_mut_ptr().cast(),
                    &mut bytes,
                )
            };
            if rc == ERROR_SUCCESS {
                let len = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
                return Some(String::from_utf16_lossy(&buf[..len]));
            }
        }
        None
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: the handle came from RegOpenKeyExW and is closed once.
        unsafe {
            RegCloseKey(self.0);
        }
    }
}

/// Whether this process runs under Wine (which keeps `HKLM\Software\Wine`).
///
/// Wine's CNG cannot sign with a key taken from a certificate store (it hands back an old
/// CryptoAPI handle and the process then faults), so that path is never entered there.
pub fn is_wine() -> bool {
    matches!(Key::open(HKEY_LOCAL_MACHINE, r"Software\Wine"), Ok(Some(_)))
}

/// `HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings`: proxy and TLS values.
/// An absent key gives all-`None` settings.
pub fn internet_settings() -> Result<InternetSettings, RegistryError> {
    let key = match Key::open(HKEY_CURRENT_USER, INTERNET_SETTINGS_KEY) {
        Ok(Some(k)) => k,
        Ok(None) => return Ok(InternetSettings::default()),
        Err(code) => {
            return Err(RegistryError {
                key: INTERNET_SETTINGS_KEY.to_string(),
                code,
            })
        }
    };
    Ok(InternetSettings {
        proxy_enable: key.dword("ProxyEnable").map(|v| v != 0),
        proxy_server: key.string("ProxyServer"),
        proxy_override: key.string("ProxyOverride"),
        auto_config_url: key.string("AutoConfigURL"),
        secure_protocols: key.dword("SecureProtocols").map(SecureProtocols),
    })
}
