//! The Internet Settings values that decide how Windows programs reach the web
//! (`HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings`), as a plain struct.
//!
//! [`super::windows::registry::internet_settings`] reads them on Windows; the proxy probes parse
//! the strings. This module only holds the values and decodes the `SecureProtocols` bit mask.

/// The registry path under HKEY_CURRENT_USER.
pub const INTERNET_SETTINGS_KEY: &str =
    r"Software\Microsoft\Windows\CurrentVersion\Internet Settings";

/// The values as stored; `None` when a value is absent (or of an unexpected type).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InternetSettings {
    /// `ProxyEnable` (REG_DWORD): the manual proxy is switched on.
    pub proxy_enable: Option<bool>,
    /// `ProxyServer`: `host:port`, or `http=host:port;https=host:port;…`.
    pub proxy_server: Option<String>,
    /// `ProxyOverride`: `;`-separated exceptions, `<local>` for names without a dot.
    pub proxy_override: Option<String>,
    /// `AutoConfigURL`: the PAC script's address.
    pub auto_config_url: Option<String>,
    /// `SecureProtocols` (REG_DWORD): the TLS versions Internet Options allows.
    pub secure_protocols: Option<SecureProtocols>,
}

/// This user's Internet Settings, read from the registry on Windows; `None` elsewhere, or when
/// the registry cannot be read.
pub fn current() -> Option<InternetSettings> {
    #[cfg(windows)]
    {
        super::windows::internet_settings().ok()
    }
    #[cfg(not(windows))]
    {
        None
    }
}

/// The `SecureProtocols` bit mask (Internet Options → Advanced → Security: "Use TLS 1.2" …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecureProtocols(pub u32);

impl SecureProtocols {
    pub const SSL2: u32 = 0x0008;
    pub const SSL3: u32 = 0x0020;
    pub const TLS1_0: u32 = 0x0080;
    pub const TLS1_1: u32 = 0x0200;
    pub const TLS1_2: u32 = 0x0800;
    pub const TLS1_3: u32 = 0x2000;

    const NAMES: [(u32, &'static str); 6] = [
        (Self::SSL2, "SSL 2.0"),
        (Self::SSL3, "SSL 3.0"),
        (Self::TLS1_0, "TLS 1.0"),
        (Self::TLS1_1, "TLS 1.1"),
        (Self::TLS1_2, "TLS 1.2"),
        (Self::TLS1_3, "TLS 1.3"),
    ];

    /// The protocols switched on, oldest first.
    pub fn enabled(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(bit, _)| self.0 & bit != 0)
            .map(|(_, n)| *n)
            .collect()
    }

    pub fn tls12(self) -> bool {
        self.0 & Self::TLS1_2 != 0
    }

    pub fn tls13(self) -> bool {
        self.0 & Self::TLS1_3 != 0
    }

    /// Any of SSL 2.0, SSL 3.0, TLS 1.0, TLS 1.1 switched on.
    pub fn legacy(self) -> bool {
        self.0 & (Self::SSL2 | Self::SSL3 | Self::TLS1_0 | Self::TLS1_1) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_secure_protocols() {
        // Windows 11's default: TLS 1.2 and 1.3.
        let p = SecureProtocols(0x2800);
        assert_eq!(p.enabled(), vec!["TLS 1.2", "TLS 1.3"]);
        assert!(p.tls12() && p.tls13() && !p.legacy());
        // Windows 7's old default: SSL 3.0 and TLS 1.0 only.
        let p = SecureProtocols(0xA0);
        assert_eq!(p.enabled(), vec!["SSL 3.0", "TLS 1.0"]);
        assert!(!p.tls12() && p.legacy());
        assert!(SecureProtocols(0).enabled().is_empty());
    }
}
