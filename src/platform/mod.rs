//! Operating-system specifics (Windows certificate store and registry) behind `cfg`.
//!
//! The parts that only interpret data ([`select`], [`ca`], [`internet`]) build and are tested on
//! every platform; the parts that talk to Windows live in [`windows`] and exist only there.
//!
//! - [`select`]: which certificate of a store to use, and why each other one was not chosen.
//! - [`ca`]: presence and expiry of the profile's root and intermediate CAs in a set of stores.
//! - [`internet`]: the Internet Settings values (proxy, PAC, SecureProtocols) as a plain struct.

pub mod ca;
pub mod internet;
pub mod select;

#[cfg(windows)]
pub mod windows;

/// Fix texts for Windows users, in the guide catalogue's format (`[fix]` table, keys
/// `windows.<name>`, `en` and `ja`).
pub const FIXES_TOML: &str = include_str!("fixes.toml");

#[cfg(test)]
mod tests {
    #[test]
    fn windows_fixes_parse_and_have_both_languages() {
        let v: toml::Value = toml::from_str(super::FIXES_TOML).unwrap();
        let fixes = v.get("fix").and_then(|f| f.as_table()).unwrap();
        assert!(fixes.len() >= 8);
        for (key, text) in fixes {
            assert!(key.starts_with("windows."), "{key}");
            for lang in ["en", "ja"] {
                let s = text.get(lang).and_then(|s| s.as_str()).unwrap_or("");
                assert!(!s.is_empty(), "{key} lacks {lang}");
            }
        }
    }
}
