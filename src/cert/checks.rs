//! Checks of the client certificate itself against the profile: name, issuer, dates, usages,
//! key, signature, and whether the private key belongs to it.

use crate::cert::chain::{ChainReport, Problem};
use crate::cert::info::{show_date, CertInfo};
use crate::cert::source::LoadedKey;
use crate::finding::{Finding, Phase, Text};
use crate::guide::fix;
use crate::profile::{CaRole, ClientCertSpec, Profile};
use crate::text;
use rustls::pki_types::CertificateDer;
use rustls::SignatureScheme;
use serde_json::json;
use time::OffsetDateTime;

fn finding(id: &str, title: Text, target: &str) -> Finding {
    Finding::new(id, Phase::Local, title, target)
}

/// `*` and `?` wildcards, case-insensitive. Iterative, with one backtrack point per `*`
/// (no regex is compiled: this runs for every certificate name a profile pattern meets).
pub fn glob_match(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
    let t: Vec<char> = s.chars().flat_map(char::to_lowercase).collect();
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// The leaf's own findings: subject, issuer, validity, EKU, key usage, key, signature.
pub fn leaf_findings(
    info: &CertInfo,
    spec: &ClientCertSpec,
    target: &str,
    at: OffsetDateTime,
) -> Vec<Finding> {
    let name = &info.subject_name;
    let mut out = Vec::new();

    // Subject.
    let f = finding(
        "cert.subject",
        Text::new("Certificate subject", "証明書の発行先"),
        target,
    )
    .data(json!({ "subject": info.subject, "pattern": spec.subject_pattern }));
    out.push(match &spec.subject_pattern {
        Some(p) if !glob_match(p, name) => f
            .fail(text!(
                ("the certificate is issued to `{name}`, not to `{p}` as this service expects"),
                ("証明書の発行先は「{name}」で、このサービスが求める「{p}」ではありません")
            ))
            .section("2-1 (6)")
            .fix(fix("cert.wrong_subject", &[("pattern", p), ("name", name)])),
        Some(p) => f.pass(text!(
            ("`{name}` matches `{p}`"),
            ("「{name}」は「{p}」に一致します")
        )),
        None => f.info(text!(("issued to `{name}`"), ("発行先「{name}」"))),
    });

    // Issuer.
    let issuer = &info.issuer_name;
    let expected = spec.issuers.iter().any(|i| i.eq_ignore_ascii_case(issuer))
        || spec.issuer_patterns.iter().any(|p| glob_match(p, issuer));
    let wanted = if spec.issuers.is_empty() {
        spec.issuer_patterns.join(", ")
    } else {
        spec.issuers.join(", ")
    };
    let f = finding(
        "cert.issuer",
        Text::new("Certificate issuer", "証明書の発行者"),
        target,
    )
    .data(json!({ "issuer": info.issuer, "expected": wanted }));
    out.push(
        if spec.issuers.is_empty() && spec.issuer_patterns.is_empty() {
            f.info(text!(("issued by `{issuer}`"), ("発行者「{issuer}」")))
        } else if expected {
            f.pass(text!(("issued by `{issuer}`"), ("発行者「{issuer}」")))
        } else {
            f.fail(text!(
            ("issued by `{issuer}`, but this service accepts certificates from `{wanted}` only"),
            ("発行者が「{issuer}」です。このサービスは「{wanted}」発行の証明書のみ受け付けます")
        ))
            .section("2-1 (6)")
            .fix(fix(
                "cert.wrong_issuer",
                &[("issuer", issuer), ("expected", &wanted)],
            ))
        },
    );

    // Validity.
    let days = info.days_left(at);
    let f = finding(
        "cert.validity",
        Text::new("Validity period", "有効期間"),
        target,
    )
    .data(json!({
        "not_before": show_date(info.not_before),
        "not_after": show_date(info.not_after),
        "days_left": days,
    }));
    let until = show_date(info.not_after);
    out.push(if at > info.not_after {
        f.fail(text!(
            ("the certificate `{name}` expired on {until}"),
            ("証明書「{name}」は {until} に有効期限が切れています")
        ))
        .section("2-1 (6)")
        .fix(fix("cert.expired", &[("date", &until)]))
    } else if at < info.not_before {
        let from = show_date(info.not_before);
        f.fail(text!(
            ("the certificate `{name}` is not valid until {from}"),
            ("証明書「{name}」は {from} まで有効になりません")
        ))
        .section("2-1 (6)")
        .fix(fix("cert.not_yet_valid", &[("date", &from)]))
    } else if days < i64::from(spec.expiry_warning_days) {
        f.warn(text!(
            ("the certificate expires in {days} days ({until})"),
            ("証明書はあと {days} 日で有効期限が切れます ({until})")
        ))
        .section("2-1 (6)")
        .fix(fix("cert.expiring", &[("date", &until)]))
    } else {
        f.pass(text!(
            ("valid until {until} ({days} days left)"),
            ("{until} まで有効 (残り {days} 日)")
        ))
    });

    // Extended key usage.
    let f = finding(
        "cert.eku",
        Text::new("Extended key usage", "拡張キー使用法"),
        target,
    )
    .data(json!({ "eku": info.eku }));
    out.push(match &info.eku {
        None if spec.require_client_auth_eku => f
            .fail(Text::new(
                "the certificate has no extended key usage; this service requires clientAuth",
                "証明書に拡張キー使用法がありません。このサービスは clientAuth を必要とします",
            ))
            .section("2-1 (6)")
            .fix(fix("cert.wrong_usage", &[])),
        None => f.pass(Text::new(
            "no extended key usage extension (usable for any purpose)",
            "拡張キー使用法の拡張なし (すべての用途に使用可)",
        )),
        Some(_) if info.client_auth => f.pass(Text::new(
            "clientAuth (TLS client authentication) allowed",
            "clientAuth (TLS クライアント認証) が許可されています",
        )),
        Some(list) => {
            let l = list.join(", ");
            f.fail(text!(
                ("the certificate is for {l} only, not for client authentication (clientAuth)"),
                ("証明書の用途は {l} のみで、クライアント認証 (clientAuth) に使えません")
            ))
            .section("2-1 (6)")
            .fix(fix("cert.wrong_usage", &[]))
        }
    });

    // Key usage.
    let f = finding(
        "cert.key_usage",
        Text::new("Key usage", "キー使用法"),
        target,
    )
    .data(json!({ "key_usage": info.key_usage }));
    out.push(match &info.key_usage {
        None => f.pass(Text::new(
            "no key usage extension (any use)",
            "キー使用法の拡張なし (すべての用途に使用可)",
        )),
        Some(_) if info.digital_signature => f.pass(Text::new(
            "digitalSignature allowed",
            "digitalSignature が許可されています",
        )),
        Some(list) => {
            let l = list.join(", ");
            f.fail(text!(
                ("key usage is {l}; TLS client authentication needs digitalSignature"),
                ("キー使用法は {l} です。TLS クライアント認証には digitalSignature が必要です")
            ))
            .section("2-1 (6)")
            .fix(fix("cert.wrong_usage", &[]))
        }
    });

    // Key algorithm and size.
    let kind = format!("{} {} bits", info.key_type, info.key_bits);
    let f = finding(
        "cert.key",
        Text::new("Key algorithm and size", "鍵の種類と長さ"),
        target,
    )
    .data(json!({ "type": info.key_type, "bits": info.key_bits }));
    let weak_rsa = info.key_type == "RSA" && info.key_bits < 2048;
    out.push(if weak_rsa || info.key_type == "DSA" {
        f.fail(text!(
            ("{kind}: too weak; current servers refuse it"),
            ("{kind}: 弱すぎるため現在のサーバーは受け付けません")
        ))
        .section("2-1 (6)")
        .fix(fix("cert.weak_key", &[]))
    } else {
        f.pass(Text::same(kind))
    });

    // Signature algorithm.
    let alg = &info.signature_algorithm;
    let f = finding(
        "cert.signature",
        Text::new("Signature algorithm", "署名アルゴリズム"),
        target,
    )
    .data(json!({ "algorithm": alg }));
    out.push(if info.weak_signature {
        f.warn(text!(
            ("signed with {alg}, which current TLS software refuses"),
            ("{alg} で署名されています。現在の TLS ソフトウェアは受け付けません")
        ))
        .section("2-1 (6)")
        .fix(fix("cert.weak_signature", &[]))
    } else {
        f.pass(Text::same(alg.clone()))
    });
    out
}

/// Does this key sign in a way the certificate's public key verifies? Proved by signing.
pub fn key_matches(leaf: &CertificateDer<'_>, key: &LoadedKey) -> Result<bool, String> {
    const SCHEMES: [SignatureScheme; 6] = [
        SignatureScheme::ECDSA_NISTP256_SHA256,
        SignatureScheme::ECDSA_NISTP384_SHA384,
        SignatureScheme::ED25519,
        SignatureScheme::RSA_PSS_SHA256,
        SignatureScheme::RSA_PKCS1_SHA256,
        SignatureScheme::ECDSA_NISTP521_SHA512,
    ];
    let signer = key
        .key
        .choose_scheme(&SCHEMES)
        .ok_or("the key offers no usable signature scheme")?;
    let mut msg = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut msg)
        .map_err(|_| "no random numbers")?;
    let sig = signer.sign(&msg).map_err(|e| e.to_string())?;
    // Verified against the certificate's public key alone: the rest of the certificate (a
    // huge SAN list, an extension webpki refuses) has no say in whether the key matches.
    use ring::signature as sig_alg;
    let alg: &dyn sig_alg::VerificationAlgorithm = match signer.scheme() {
        SignatureScheme::ECDSA_NISTP256_SHA256 => &sig_alg::ECDSA_P256_SHA256_ASN1,
        SignatureScheme::ECDSA_NISTP384_SHA384 => &sig_alg::ECDSA_P384_SHA384_ASN1,
        SignatureScheme::ED25519 => &sig_alg::ED25519,
        SignatureScheme::RSA_PSS_SHA256 => &sig_alg::RSA_PSS_2048_8192_SHA256,
        SignatureScheme::RSA_PKCS1_SHA256 => &sig_alg::RSA_PKCS1_2048_8192_SHA256,
        other => return Err(format!("unsupported scheme {other:?}")),
    };
    let (_, cert) = x509_parser::parse_x509_certificate(leaf).map_err(|e| e.to_string())?;
    let public_key = cert
        .tbs_certificate
        .subject_pki
        .subject_public_key
        .data
        .as_ref();
    Ok(sig_alg::UnparsedPublicKey::new(alg, public_key)
        .verify(&msg, &sig)
        .is_ok())
}

/// `cert.key_match`.
pub fn key_finding(leaf: &CertificateDer<'_>, key: Option<&LoadedKey>, target: &str) -> Finding {
    let f = finding("cert.key_match", Text::new("Private key", "秘密鍵"), target);
    let Some(key) = key else {
        return f
            .fail(Text::new(
                "no private key: the certificate alone cannot log in (give the .p12/.pfx, or --key)",
                "秘密鍵がありません。証明書だけではログインできません (.p12/.pfx か --key を指定してください)",
            ))
            .section("2-1 (6)")
            .fix(fix("cert.no_key", &[]));
    };
    let origin = format!("{} ({})", key.origin, key.format);
    match key_matches(leaf, key) {
        Ok(true) => f.pass(text!(
            ("the private key from {origin} belongs to the certificate (checked by signing)"),
            ("{origin} の秘密鍵は証明書と一致します (署名して確認)")
        )),
        Ok(false) => f
            .fail(text!(
                ("the private key from {origin} does not belong to this certificate"),
                ("{origin} の秘密鍵はこの証明書のものではありません")
            ))
            .section("2-1 (6)")
            .fix(fix("cert.key_mismatch", &[])),
        Err(e) => f
            .fail(text!(
                ("the private key from {origin} could not sign: {e}"),
                ("{origin} の秘密鍵で署名できませんでした: {e}")
            ))
            .section("2-1 (6)")
            .fix(fix("cert.key_mismatch", &[])),
    }
}

/// `cert.chain`: the validated path, or the broken link.
pub fn chain_finding(report: &ChainReport, target: &str, profile: &Profile) -> Finding {
    let f = finding(
        "cert.chain",
        Text::new("Certificate chain", "証明書チェーン"),
        target,
    )
    .data(serde_json::to_value(report).unwrap_or_default());
    if report.valid {
        let path = report
            .path
            .iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>()
            .join(" → ");
        return f.pass(text!(("{path}"), ("{path}")));
    }
    let Some(first) = report.problems.first() else {
        return f.fail(Text::new(
            "path validation failed",
            "証明書パスの検証に失敗しました",
        ));
    };
    let (en, ja) = first.describe();
    let more: Vec<(String, String)> = report.problems[1..].iter().map(Problem::describe).collect();
    let (en, ja) = if more.is_empty() {
        (en, ja)
    } else {
        let (me, mj): (Vec<String>, Vec<String>) = more.into_iter().unzip();
        (
            format!("{en}; also: {}", me.join("; ")),
            format!("{ja}。ほかに: {}", mj.join("。")),
        )
    };
    let (key, section) = first.fix_key();
    f.fail(Text::new(en, ja))
        .section(section)
        .fix(problem_fix(first, key, profile))
}

/// The fix text of a chain problem, with its names filled in. A download address is the
/// profile's only for a CA the profile names; for any other chain it is the issuer's site.
pub fn problem_fix(p: &Problem, key: &str, profile: &Profile) -> Text {
    let date = match p {
        Problem::LeafExpired { date, .. }
        | Problem::LeafNotYetValid { date, .. }
        | Problem::IntermediateExpired { date, .. }
        | Problem::IntermediateNotYetValid { date, .. }
        | Problem::RootExpired { date, .. }
        | Problem::RootNotYetValid { date, .. } => date.as_str(),
        _ => "",
    };
    let role = match p {
        Problem::RootNotTrusted { .. } | Problem::RootExpired { .. } => CaRole::Root,
        _ => CaRole::Intermediate,
    };
    let url = profile
        .cas
        .iter()
        .find(|c| c.role == role && c.name.eq_ignore_ascii_case(p.name()))
        .and_then(|c| c.url.clone());
    let site = crate::guide::phrase("chain.issuer_site", &[]);
    let successors = profile.client_cert.successor_roots.join(", ");
    let fill = |url: &str| {
        fix(
            key,
            &[
                ("name", p.name()),
                ("date", date),
                ("url", url),
                ("successors", &successors),
            ],
        )
    };
    match url {
        Some(u) => fill(&u),
        None => Text::new(fill(&site.en).en, fill(&site.ja).ja),
    }
}

/// `cert.strict`: what a strict verifier (openssl -x509_strict) refuses in a valid path; a
/// warning (a failure with `--strict`). `None` when there is nothing to say.
pub fn strict_finding(report: &ChainReport, target: &str) -> Option<Finding> {
    let first = report.warnings.first()?;
    let title = crate::guide::phrase("chain.lint.title", &[]);
    let intro = crate::guide::phrase("chain.lint.intro", &[]);
    let (en, ja): (Vec<String>, Vec<String>) =
        report.warnings.iter().map(Problem::describe).unzip();
    Some(
        finding("cert.strict", title, target)
            .warn(Text::new(
                format!("{}: {}", intro.en, en.join("; ")),
                format!("{}: {}", intro.ja, ja.join("。")),
            ))
            .section("2-1 (7)")
            .fix(fix("cert.strict_lint", &[("name", first.name())]))
            .data(serde_json::json!({ "warnings": report.warnings, "path": report.path })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("S47*", "S47000001"));
        assert!(glob_match("s47*", "S47000001"));
        assert!(!glob_match("S47*", "T47000001"));
        assert!(glob_match(
            "SECOM Passport for Member PUB CA*",
            "SECOM Passport for Member PUB CA8"
        ));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a.c", "abc"), "a dot is literal");
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        assert!(glob_match("*CA?", "SECOM CA1"));
    }
}
