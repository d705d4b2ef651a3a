//! What the local probes are asked to do, as plain values: where the client certificate, its
//! key and the trust anchors come from, the time to check at, and what the certificate is for.
//! The command line builds these in `commands`; any other caller builds them directly.

use std::path::PathBuf;
use time::OffsetDateTime;

/// Where the client certificate, its key and the trust anchors come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityOptions {
    /// Client certificate: PEM, DER, or PKCS#12 (which also carries the key).
    pub cert: Option<PathBuf>,
    /// Private key when not in `cert`.
    pub key: Option<PathBuf>,
    /// Read the PKCS#12 or key password from this environment variable.
    pub password_env: Option<String>,
    /// Read the PKCS#12 or key password from the first line of this file.
    pub password_file: Option<PathBuf>,
    /// Extra intermediate CA certificates.
    pub ca: Vec<PathBuf>,
    /// Extra trust anchors.
    pub trust: Vec<PathBuf>,
    /// Trust only `trust`, not the platform's root store.
    pub no_system_trust: bool,
    /// Leave this computer's certificate stores alone (Windows: the personal, CA and Root
    /// stores), so that a run shows the same on every computer.
    pub no_os_stores: bool,
    /// Windows: the certificate of the personal store with this thumbprint.
    pub cert_thumbprint: Option<String>,
    /// Windows: the certificate of the personal store whose subject contains this text.
    pub cert_subject: Option<String>,
    /// Windows: the machine's personal store instead of the user's.
    pub machine_store: bool,
    /// Check validity at this time instead of now.
    pub at: Option<OffsetDateTime>,
}

/// What a certificate is to be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Purpose {
    #[default]
    Client,
    Server,
}

/// RFC 3339 date-time, or a bare date (midnight UTC).
pub fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| crate::guide::message("local.bad_time", &[("value", s)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_or_a_date() {
        assert_eq!(
            parse_time("2023-09-30T04:20:49Z").unwrap(),
            time::macros::datetime!(2023-09-30 4:20:49 UTC)
        );
        assert_eq!(
            parse_time("2024-01-02").unwrap(),
            time::macros::datetime!(2024-01-02 0:00 UTC)
        );
        let e = parse_time("yesterday").unwrap_err();
        assert!(e.contains("yesterday"), "{e}");
    }
}
