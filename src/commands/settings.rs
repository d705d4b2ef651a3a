//! The one place where parsed flags become the library's plain options: every command builds
//! its options here, and nothing below `commands` sees a clap type.

use crate::cert::{IdentityOptions, Purpose};
use crate::cli::{CheckArgs, IdentityArgs, LoginArgs, NetArgs, PurposeArg};
use crate::net::NetOptions;
use crate::probe::{CheckOptions, LoginOptions};

impl From<&NetArgs> for NetOptions {
    fn from(a: &NetArgs) -> Self {
        NetOptions {
            resolver: a.resolver.clone(),
            proxy: a.proxy.clone(),
            no_proxy: a.no_proxy,
            token: a.token.clone(),
            signup_code: a.signup_code.clone(),
            endpoints: a.endpoints.clone(),
        }
    }
}

impl From<&IdentityArgs> for IdentityOptions {
    fn from(a: &IdentityArgs) -> Self {
        IdentityOptions {
            cert: a.cert.clone(),
            key: a.key.clone(),
            password_env: a.password_env.clone(),
            password_file: a.password_file.clone(),
            ca: a.ca.clone(),
            trust: a.trust.clone(),
            no_system_trust: a.no_system_trust,
            no_os_stores: a.no_os_stores,
            cert_thumbprint: a.cert_thumbprint.clone(),
            cert_subject: a.cert_subject.clone(),
            machine_store: a.machine_store,
            at: a.at,
        }
    }
}

impl From<&LoginArgs> for LoginOptions {
    fn from(a: &LoginArgs) -> Self {
        LoginOptions {
            enabled: a.enabled,
            user: a.login_user.clone(),
            password_env: a.login_password_env.clone(),
            password_file: a.login_password_file.clone(),
        }
    }
}

impl From<&CheckArgs> for CheckOptions {
    fn from(a: &CheckArgs) -> Self {
        CheckOptions {
            identity: (&a.identity).into(),
            net: (&a.net).into(),
            only: a.only.iter().map(|&p| p.into()).collect(),
            login: (&a.login).into(),
        }
    }
}

impl From<PurposeArg> for Purpose {
    fn from(p: PurposeArg) -> Self {
        match p {
            PurposeArg::Client => Purpose::Client,
            PurposeArg::Server => Purpose::Server,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::finding::Phase;
    use clap::Parser;
    use std::path::PathBuf;

    fn check(args: &[&str]) -> CheckOptions {
        let cli = Cli::try_parse_from(args).unwrap();
        match cli.command {
            Some(Command::Check(a)) => (&a).into(),
            other => panic!("not a check: {other:?}"),
        }
    }

    #[test]
    fn check_flags_become_plain_options() {
        let o = check(&[
            "certprobe",
            "check",
            "--cert",
            "c.p12",
            "--trust",
            "a.pem",
            "--trust",
            "b.pem",
            "--no-system-trust",
            "--at",
            "2024-01-02",
            "--proxy",
            "http://127.0.0.1:3128",
            "--only",
            "local",
            "--only",
            "network",
            "--login",
            "--login-user",
            "S47",
            "--login-password-env",
            "PW",
        ]);
        assert_eq!(o.identity.cert, Some(PathBuf::from("c.p12")));
        assert_eq!(
            o.identity.trust,
            [PathBuf::from("a.pem"), PathBuf::from("b.pem")]
        );
        assert!(o.identity.no_system_trust);
        assert_eq!(
            o.identity.at,
            Some(time::macros::datetime!(2024-01-02 0:00 UTC))
        );
        assert_eq!(o.net.proxy.as_deref(), Some("http://127.0.0.1:3128"));
        assert_eq!(o.only, [Phase::Local, Phase::Network]);
        assert_eq!(
            o.login,
            LoginOptions {
                enabled: true,
                user: Some("S47".into()),
                password_env: Some("PW".into()),
                password_file: None,
            }
        );
    }

    #[test]
    fn purposes_map_one_to_one() {
        assert_eq!(Purpose::from(PurposeArg::Client), Purpose::Client);
        assert_eq!(Purpose::from(PurposeArg::Server), Purpose::Server);
    }
}
