//! Checks of the client certificate itself against the profile: name, issuer, dates, usages,
//! key, signature, and whether the private key belongs to it.

use crate::cert::chain::{ChainReport, Problem};
use crate::cert::info::{show_date, CertInfo};
use crate::cert::source::LoadedKey;
use crate::finding::{Finding, Phase, Text};
use crate::guide::{fix, phrase};
use crate::profile::{CaRole, ClientCertSpec, Profile};
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
    let f = finding("cert.subject", phrase("cert.title.subject", &[]), target)
        .data(json!({ "subject": info.subject, "pattern": spec.subject_pattern }));
    out.push(match &spec.subject_pattern {
        Some(p) if !glob_match(p, name) => f
            .fail(phrase(
                "cert.subject_wrong",
                &[("name", name), ("pattern", p)],
            ))
            .section("2-1 (6)")
            .fix(fix("cert.wrong_subject", &[("pattern", p), ("name", name)])),
        Some(p) => f.pass(phrase(
            "cert.subject_matches",
            &[("name", name), ("pattern", p)],
        )),
        None => f.info(phrase("cert.subject_is", &[("name", name)])),
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
    let f = finding("cert.issuer", phrase("cert.title.issuer", &[]), target)
        .data(json!({ "issuer": info.issuer, "expected": wanted }));
    out.push(
        if spec.issuers.is_empty() && spec.issuer_patterns.is_empty() {
            f.info(phrase("cert.issuer_is", &[("issuer", issuer)]))
        } else if expected {
            f.pass(phrase("cert.issuer_is", &[("issuer", issuer)]))
        } else {
            f.fail(phrase(
                "cert.issuer_wrong",
                &[("issuer", issuer), ("expected", &wanted)],
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
    let f = finding("cert.validity", phrase("cert.title.validity", &[]), target).data(json!({
        "not_before": show_date(info.not_before),
        "not_after": show_date(info.not_after),
        "days_left": days,
    }));
    let until = show_date(info.not_after);
    let days_text = days.to_string();
    let dates = [
        ("name", name.as_str()),
        ("until", until.as_str()),
        ("days", days_text.as_str()),
    ];
    out.push(if at > info.not_after {
        f.fail(phrase("cert.validity_expired", &dates))
            .section("2-1 (6)")
            .fix(fix("cert.expired", &[("date", &until)]))
    } else if at < info.not_before {
        let from = show_date(info.not_before);
        f.fail(phrase(
            "cert.validity_not_yet",
            &[("name", name), ("from", &from)],
        ))
        .section("2-1 (6)")
        .fix(fix("cert.not_yet_valid", &[("date", &from)]))
    } else if days < i64::from(spec.expiry_warning_days) {
        f.warn(phrase("cert.validity_expiring", &dates))
            .section("2-1 (6)")
            .fix(fix("cert.expiring", &[("date", &until)]))
    } else {
        f.pass(phrase("cert.validity_ok", &dates))
    });

    // Extended key usage.
    let f =
        finding("cert.eku", phrase("cert.title.eku", &[]), target).data(json!({ "eku": info.eku }));
    out.push(match &info.eku {
        None if spec.require_client_auth_eku => f
            .fail(phrase("cert.eku_required", &[]))
            .section("2-1 (6)")
            .fix(fix("cert.wrong_usage", &[])),
        None => f.pass(phrase("cert.eku_none", &[])),
        Some(_) if info.client_auth => f.pass(phrase("cert.eku_client_auth", &[])),
        Some(list) => {
            let l = list.join(", ");
            f.fail(phrase("cert.eku_wrong", &[("usages", &l)]))
                .section("2-1 (6)")
                .fix(fix("cert.wrong_usage", &[]))
        }
    });

    // Key usage.
    let f = finding(
        "cert.key_usage",
        phrase("cert.title.key_usage", &[]),
        target,
    )
    .data(json!({ "key_usage": info.key_usage }));
    out.push(match &info.key_usage {
        None => f.pass(phrase("cert.ku_none", &[])),
        Some(_) if info.digital_signature => f.pass(phrase("cert.ku_digital_signature", &[])),
        Some(list) => {
            let l = list.join(", ");
            f.fail(phrase("cert.ku_wrong", &[("usages", &l)]))
                .section("2-1 (6)")
                .fix(fix("cert.wrong_usage", &[]))
        }
    });

    // Key algorithm and size.
    let bits = info.key_bits.to_string();
    let size = [("type", info.key_type.as_str()), ("bits", bits.as_str())];
    let f = finding("cert.key", phrase("cert.title.key", &[]), target)
        .data(json!({ "type": info.key_type, "bits": info.key_bits }));
    let weak_rsa = info.key_type == "RSA" && info.key_bits < 2048;
    // Fail, not warn: OpenSSL servers at their default security level refuse both
    // ("EE certificate key too weak", "CA signature digest algorithm too weak"), and ring will
    // not sign with an RSA key under 2048 bits.
    out.push(if weak_rsa || info.key_type == "DSA" {
        f.fail(phrase("cert.key_weak", &size))
            .section("2-1 (6)")
            .fix(fix("cert.weak_key", &[]))
    } else {
        f.pass(phrase("cert.key_size", &size))
    });

    // Signature algorithm.
    let alg = &info.signature_algorithm;
    let f = finding(
        "cert.signature",
        phrase("cert.title.signature", &[]),
        target,
    )
    .data(json!({ "algorithm": alg }));
    out.push(if info.weak_signature {
        f.fail(phrase("cert.signature_weak", &[("alg", alg)]))
            .section("2-1 (6)")
            .fix(fix("cert.weak_signature", &[]))
    } else {
        f.pass(Text::same(alg.clone()))
    });
    out
}

/// Does this key sign in a way the certificate's public key verifies? Proved by signing; an
/// RSA key too short to sign with is compared by its public modulus instead.
pub fn key_matches(leaf: &CertificateDer<'_>, key: &LoadedKey) -> Result<bool, String> {
    if let Some(weak) = &key.weak {
        let cert =
            <x509_cert::Certificate as der::Decode>::from_der(leaf).map_err(|e| e.to_string())?;
        let spki = cert.tbs_certificate().subject_public_key_info();
        let modulus = crate::cert::info::rsa_modulus(spki.subject_public_key.raw_bytes())
            .map(|m| &m[m.iter().position(|&b| b != 0).unwrap_or(m.len())..]);
        return Ok(modulus == Some(weak.modulus.as_slice()));
    }
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
        .ok_or_else(|| crate::guide::message("cert.sign_no_scheme", &[]))?;
    let mut msg = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut msg)
        .map_err(|_| crate::guide::message("cert.sign_no_random", &[]))?;
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
        other => {
            let scheme = format!("{other:?}");
            return Err(crate::guide::message(
                "cert.sign_unsupported_scheme",
                &[("scheme", &scheme)],
            ));
        }
    };
    let cert =
        <x509_cert::Certificate as der::Decode>::from_der(leaf).map_err(|e| e.to_string())?;
    let public_key = cert
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .raw_bytes();
    Ok(sig_alg::UnparsedPublicKey::new(alg, public_key)
        .verify(&msg, &sig)
        .is_ok())
}

/// `cert.key_match`.
pub fn key_finding(leaf: &CertificateDer<'_>, key: Option<&LoadedKey>, target: &str) -> Finding {
    let f = finding(
        "cert.key_match",
        phrase("cert.title.key_match", &[]),
        target,
    );
    let Some(key) = key else {
        return f
            .fail(phrase("cert.key_missing", &[]))
            .section("2-1 (6)")
            .fix(fix("cert.no_key", &[]));
    };
    let origin = format!("{} ({})", key.origin, key.format);
    match key_matches(leaf, key) {
        Ok(true) if key.weak.is_some() => {
            let bits = key.weak.as_ref().map_or(0, |w| w.bits).to_string();
            f.pass(phrase(
                "cert.key_match_weak",
                &[("origin", &origin), ("bits", &bits)],
            ))
        }
        Ok(true) => f.pass(phrase("cert.key_match_ok", &[("origin", &origin)])),
        Ok(false) => f
            .fail(phrase("cert.key_match_wrong", &[("origin", &origin)]))
            .section("2-1 (6)")
            .fix(fix("cert.key_mismatch", &[])),
        Err(e) => f
            .fail(phrase(
                "cert.key_match_error",
                &[("origin", &origin), ("error", &e)],
            ))
            .section("2-1 (6)")
            .fix(fix("cert.key_mismatch", &[])),
    }
}

/// `cert.chain`: the validated path, or the broken link.
pub fn chain_finding(report: &ChainReport, target: &str, profile: &Profile) -> Finding {
    let f = finding("cert.chain", phrase("cert.title.chain", &[]), target)
        .data(serde_json::to_value(report).unwrap_or_default());
    if report.valid {
        let path = report
            .path
            .iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>()
            .join(" → ");
        return f.pass(Text::same(path));
    }
    let Some(first) = report.problems.first() else {
        return f.fail(phrase("cert.chain_failed", &[]));
    };
    let (en, ja) = first.describe();
    let more: Vec<(String, String)> = report.problems[1..].iter().map(Problem::describe).collect();
    let (en, ja) = if more.is_empty() {
        (en, ja)
    } else {
        let (me, mj): (Vec<String>, Vec<String>) = more.into_iter().unzip();
        let (me, mj) = (me.join("; "), mj.join("。"));
        (
            phrase("cert.chain_also", &[("first", &en), ("more", &me)]).en,
            phrase("cert.chain_also", &[("first", &ja), ("more", &mj)]).ja,
        )
    };
    let (key, section) = first.fix_key();
    let f = f
        .fail(Text::new(en, ja))
        .section(section)
        .fix(problem_fix(first, key, profile));
    match leaf_weakness(report) {
        Some(cause) => f.consequence_of(cause),
        None => f,
    }
}

/// The leaf finding that explains a chain whose only problem is the leaf's own weak signature
/// or weak key: `cert.signature` or `cert.key` is the cause, the failed path its consequence.
fn leaf_weakness(report: &ChainReport) -> Option<&'static str> {
    let [only] = report.problems.as_slice() else {
        return None;
    };
    let leaf = report.path.first().filter(|l| l.role == "leaf")?;
    match only {
        Problem::WeakSignature { name, .. } if *name == leaf.name => Some("cert.signature"),
        Problem::Cert(b)
            if b.rule == "chain.leaf_weak_key" && b.role == crate::cert::strict::Role::Leaf =>
        {
            Some("cert.key")
        }
        _ => None,
    }
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
        None => fill("{url}").filled(&[("url", &site)]),
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

    fn status_of(findings: &[Finding], id: &str) -> crate::finding::Status {
        findings.iter().find(|f| f.id == id).unwrap().status
    }

    #[test]
    fn a_weak_key_and_a_sha1_signature_fail_as_weak() {
        use crate::finding::Status;
        let der = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/pki/client.der"
        ))
        .unwrap();
        let mut info = CertInfo::parse(&CertificateDer::from(der)).unwrap();
        let spec = Profile::builtin().client_cert;
        let at = info.not_before + time::Duration::days(1);
        let sound = leaf_findings(&info, &spec, "t", at);
        assert_eq!(status_of(&sound, "cert.key"), Status::Pass);
        assert_eq!(status_of(&sound, "cert.signature"), Status::Pass);

        info.key_type = "RSA".into();
        info.key_bits = 1024;
        info.signature_algorithm = "sha1WithRSAEncryption".into();
        info.weak_signature = true;
        let weak = leaf_findings(&info, &spec, "t", at);
        for id in ["cert.key", "cert.signature"] {
            let f = weak.iter().find(|f| f.id == id).unwrap();
            assert_eq!(f.status, Status::Fail, "{id}");
            assert_eq!(f.section.as_deref(), Some("2-1 (6)"), "{id}");
            let words = format!("{} {}", f.detail.en, f.detail.ja);
            assert!(
                !words.contains("damaged") && !words.contains("壊れ"),
                "{words}"
            );
        }
        let key = weak.iter().find(|f| f.id == "cert.key").unwrap();
        assert!(key.detail.en.starts_with("RSA 1024 bits: an intact key"));
        assert!(key.detail.ja.starts_with("RSA 1024 ビット"));
    }

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
