//! The Windows certificate stores in the local probes: the personal store ("MY") as the source
//! of the client certificate when no `--cert` is given, and the "Root" and "CA" stores in the
//! `trust.root` / `trust.intermediate` findings.
//!
//! The findings are built from plain data ([`selection_findings`], [`apply_ca_presence`]) and
//! tested on every platform; only the functions behind `cfg(windows)` open the stores.

use super::phrase_with;
use crate::cert::IdentityOptions;
use crate::error::AppError;
use crate::finding::{Finding, Phase, Status, Text};
use crate::guide::phrase;
use crate::platform::ca::CaPresence;
use crate::platform::select::{Reason, Selection, Verdict};
use crate::profile::{CaRole, Profile};
use serde_json::json;

/// The flags that choose a certificate from the Windows store, by name, as given.
pub fn store_flags(args: &IdentityOptions) -> Vec<&'static str> {
    let mut out = Vec::new();
    if args.cert_thumbprint.is_some() {
        out.push("--cert-thumbprint");
    }
    if args.cert_subject.is_some() {
        out.push("--cert-subject");
    }
    if args.machine_store {
        out.push("--machine-store");
    }
    out
}

/// The store flags act only on Windows and only without `--cert`; anything else is bad input.
pub fn check_store_flags(args: &IdentityOptions) -> Result<(), AppError> {
    let given = store_flags(args);
    if given.is_empty() {
        return Ok(());
    }
    let names = given.join(", ");
    if !cfg!(windows) {
        return Err(AppError::catalogued(
            "local.store_windows_only",
            &[("names", &names)],
        ));
    }
    if let Some(cert) = &args.cert {
        return Err(AppError::catalogued(
            "local.store_and_cert",
            &[("names", &names), ("file", &cert.display().to_string())],
        ));
    }
    Ok(())
}

fn date(t: time::OffsetDateTime) -> String {
    crate::text::human::date(t)
}

fn reasons_text(v: &Verdict) -> Text {
    let (en, ja): (Vec<String>, Vec<String>) = v
        .reasons
        .iter()
        .map(|r| {
            let t = r.describe();
            (t.en, t.ja)
        })
        .unzip();
    Text::new(en.join("; "), ja.join("、"))
}

fn verdict_json(v: &Verdict) -> serde_json::Value {
    let c = &v.candidate.cert;
    json!({
        "subject": c.subject,
        "issuer": c.issuer,
        "thumbprint": c.thumbprint,
        "not_after": date(c.not_after),
        "has_private_key": v.candidate.has_private_key,
        "key_provider": v.candidate.key_provider,
        "chosen": v.chosen,
        "reasons": v.reasons.iter().map(|r| r.describe().en).collect::<Vec<_>>(),
    })
}

/// A stand-in for the file name in the fix texts (the person knows the real one).
const PFX_FILE: &str = "file.pfx";

/// The fix when nothing in the store fits: the problem of the closest candidates.
fn none_fits_fix(sel: &Selection) -> Text {
    // Candidates the person may have meant: the explicit choice or the profile's pattern matched.
    let close: Vec<&Verdict> = sel
        .verdicts
        .iter()
        .filter(|v| {
            !v.reasons.iter().any(|r| {
                matches!(
                    r,
                    Reason::ThumbprintMismatch
                        | Reason::SubjectMismatch { .. }
                        | Reason::SubjectPatternMismatch { .. }
                        | Reason::IsCa
                )
            })
        })
        .collect();
    if let Some(v) = close
        .iter()
        .find(|v| v.reasons.contains(&Reason::NoPrivateKey))
    {
        return crate::guide::fix(
            "windows.no_private_key",
            &[
                ("name", v.candidate.cert.display_name()),
                ("file", PFX_FILE),
            ],
        );
    }
    if let Some(v) = close.iter().find(|v| {
        v.reasons
            .iter()
            .any(|r| matches!(r, Reason::Expired { .. }))
    }) {
        return crate::guide::fix(
            "windows.expired_in_store",
            &[
                ("name", v.candidate.cert.display_name()),
                ("date", &date(v.candidate.cert.not_after)),
            ],
        );
    }
    crate::guide::fix("windows.no_cert_in_store", &[("file", PFX_FILE)])
}

/// `cert.store` (the choice, or why there is none) and one `cert.store.candidate` per
/// certificate of the store with the reasons it was or was not chosen.
pub fn selection_findings(store: &str, sel: &Selection) -> Vec<Finding> {
    let title = phrase("local.store_title", &[]);
    let data = json!({
        "store": store,
        "candidates": sel.verdicts.iter().map(verdict_json).collect::<Vec<_>>(),
    });
    let n = sel.verdicts.len();
    let summary = Finding::new("cert.store", Phase::Local, title, store).data(data);
    let summary = match sel.chosen() {
        Some(v) => {
            let c = &v.candidate.cert;
            let (name, thumb, until) = (c.display_name(), &c.thumbprint, date(c.not_after));
            let others = (n - 1).to_string();
            let args = [
                ("name", name),
                ("thumb", thumb.as_str()),
                ("store", store),
                ("until", until.as_str()),
                ("others", others.as_str()),
            ];
            let detail = if v.reasons.is_empty() {
                phrase("local.store_chosen", &args)
            } else {
                phrase_with(
                    "local.store_chosen_although",
                    &args,
                    "reasons",
                    &reasons_text(v),
                )
            };
            summary.pass(detail)
        }
        None => {
            let detail = if n == 0 {
                phrase("local.store_empty", &[("store", store)])
            } else {
                phrase(
                    "local.store_none_fits",
                    &[("store", store), ("n", &n.to_string())],
                )
            };
            summary
                .fail(detail)
                .section("2-1 (6)")
                .fix(none_fits_fix(sel))
        }
    };
    let mut out = vec![summary];
    for v in &sel.verdicts {
        let c = &v.candidate.cert;
        let issuer = c.issuer_cn.as_deref().unwrap_or(&c.issuer);
        let (name, until) = (c.display_name(), date(c.not_after));
        let args = [
            ("name", name),
            ("issuer", issuer),
            ("until", until.as_str()),
        ];
        let detail = if v.chosen {
            phrase("local.candidate_chosen", &args)
        } else {
            phrase_with(
                "local.candidate_not_chosen",
                &args,
                "reasons",
                &reasons_text(v),
            )
        };
        out.push(
            Finding::new(
                "cert.store.candidate",
                Phase::Local,
                phrase("local.candidate_title", &[]),
                format!("{store} {}", c.thumbprint),
            )
            .info(detail)
            .data(verdict_json(v)),
        );
    }
    out
}

/// The CA names to look for in the Windows stores: the profile's roots and intermediates, and
/// the issuer of the client certificate when there is one.
pub fn wanted_cas(profile: &Profile, leaf_issuer: Option<&str>) -> Vec<(CaRole, String)> {
    let mut out: Vec<(CaRole, String)> = Vec::new();
    let mut push = |role: CaRole, name: &str| {
        if !out
            .iter()
            .any(|(r, n)| *r == role && n.eq_ignore_ascii_case(name))
        {
            out.push((role, name.to_string()));
        }
    };
    for r in &profile.client_cert.roots {
        push(CaRole::Root, r);
    }
    if let Some(i) = leaf_issuer {
        push(CaRole::Intermediate, i);
    }
    for i in &profile.client_cert.issuers {
        push(CaRole::Intermediate, i);
    }
    for c in &profile.cas {
        push(c.role, &c.name);
    }
    out
}

fn presence_text(p: &CaPresence) -> Text {
    if p.found.is_empty() {
        return phrase("local.presence_none", &[("name", &p.name)]);
    }
    let (en, ja): (Vec<String>, Vec<String>) = p
        .found
        .iter()
        .map(|f| {
            let args = [("store", f.store.as_str()), ("date", &date(f.not_after))];
            let key = if f.expired {
                "local.presence_expired"
            } else {
                "local.presence_valid"
            };
            let t = phrase(key, &args);
            (t.en, t.ja)
        })
        .unzip();
    phrase_with(
        "local.presence_in",
        &[("name", &p.name)],
        "stores",
        &Text::new(en.join(", "), ja.join("、")),
    )
}

fn presence_json(p: &CaPresence) -> serde_json::Value {
    json!({
        "name": p.name,
        "role": match p.role { CaRole::Root => "root", CaRole::Intermediate => "intermediate" },
        "usable": p.usable(),
        "found": p.found.iter().map(|f| json!({
            "store": f.store,
            "thumbprint": f.thumbprint,
            "not_after": date(f.not_after),
            "expired": f.expired,
        })).collect::<Vec<_>>(),
    })
}

/// Add to `trust.root` and `trust.intermediate` where Windows keeps each CA (which store, and
/// whether that copy expired). A failing or warning finding gets the Windows fix
/// (certmgr.msc, `certutil -user -addstore`); a root the checks trust (e.g. from `--trust`)
/// but that no Windows store holds becomes a warning, since browsers on the PC use the stores.
pub fn apply_ca_presence(findings: &mut [Finding], presences: &[CaPresence]) {
    for f in findings.iter_mut() {
        let role = match f.id.as_str() {
            "trust.root" => CaRole::Root,
            "trust.intermediate" => CaRole::Intermediate,
            _ => continue,
        };
        let mine: Vec<&CaPresence> = presences.iter().filter(|p| p.role == role).collect();
        // The intermediate finding is about the leaf's issuer when that one is listed.
        let relevant: Vec<&CaPresence> = match role {
            CaRole::Intermediate => {
                let named: Vec<&CaPresence> = mine
                    .iter()
                    .copied()
                    .filter(|p| f.detail.en.contains(&format!("`{}`", p.name)))
                    .collect();
                if named.is_empty() {
                    mine
                } else {
                    named
                }
            }
            CaRole::Root => mine,
        };
        if relevant.is_empty() {
            continue;
        }
        let (en, ja): (Vec<String>, Vec<String>) = relevant
            .iter()
            .map(|p| {
                let t = presence_text(p);
                (t.en, t.ja)
            })
            .unzip();
        let note = phrase_with(
            "local.windows_note",
            &[],
            "list",
            &Text::new(en.join("; "), ja.join("。")),
        );
        f.detail.en.push_str(&note.en);
        f.detail.ja.push_str(&note.ja);
        let windows = relevant
            .iter()
            .map(|p| presence_json(p))
            .collect::<Vec<_>>();
        match &mut f.data {
            serde_json::Value::Object(m) => {
                m.insert("windows_stores".into(), windows.into());
            }
            other => *other = json!({ "windows_stores": windows }),
        }
        let missing = relevant.iter().find(|p| !p.usable());
        if role == CaRole::Root && f.status == Status::Pass {
            if let Some(p) = missing {
                f.status = Status::Warn;
                let note = phrase("local.browsers_use_stores", &[("name", &p.name)]);
                f.detail.en.push_str(&note.en);
                f.detail.ja.push_str(&note.ja);
            }
        }
        if matches!(f.status, Status::Fail | Status::Warn) {
            let name = missing.unwrap_or(&relevant[0]).name.clone();
            let (key, file) = match role {
                CaRole::Root => ("windows.root_missing", "root.cer"),
                CaRole::Intermediate => ("windows.intermediate_missing", "file.cer"),
            };
            f.section = Some("2-1 (7)".into());
            f.fix = Some(crate::guide::fix(key, &[("name", &name), ("file", file)]));
        }
    }
}

/// A note on `trust.root` / `trust.intermediate` when the Windows stores could not be read.
pub fn note_unreadable(findings: &mut [Finding], error: &str) {
    for f in findings
        .iter_mut()
        .filter(|f| f.id == "trust.root" || f.id == "trust.intermediate")
    {
        let note = phrase("local.stores_unreadable", &[("error", error)]);
        f.detail.en.push_str(&note.en);
        f.detail.ja.push_str(&note.ja);
    }
}

#[cfg(windows)]
pub use self::win::{ca_details, from_personal_store};

#[cfg(windows)]
mod win {
    use super::*;
    use crate::cert::source::{Identity, IdentitySource, Passwords};
    use crate::platform::select::Criteria;
    use crate::platform::windows::store::{self, Location};
    use time::OffsetDateTime;

    /// Choose the client certificate in the personal store (no `--cert` given): the identity
    /// (its key kept in the store) and the findings about the choice.
    pub fn from_personal_store(
        args: &IdentityOptions,
        profile: &Profile,
        at: OffsetDateTime,
    ) -> Result<(Option<Identity>, Vec<Finding>), AppError> {
        let criteria = Criteria::from_profile(
            &profile.client_cert,
            args.cert_thumbprint.as_deref(),
            args.cert_subject.as_deref(),
        )
        .map_err(AppError::input)?;
        let location = if args.machine_store {
            Location::LocalMachine
        } else {
            Location::CurrentUser
        };
        let sel = match store::select_client_cert(location, &criteria, at) {
            Ok(s) => s,
            Err(e) => {
                let target = format!("{}\\MY", location.as_str());
                let f = Finding::new(
                    "cert.store",
                    Phase::Local,
                    phrase("local.store_title", &[]),
                    target,
                )
                .fail(phrase(
                    "local.store_read_failed",
                    &[("error", &e.to_string())],
                ))
                .section("2-1 (6)")
                .fix(crate::guide::fix(
                    "windows.no_cert_in_store",
                    &[("file", PFX_FILE)],
                ));
                return Ok((None, vec![f]));
            }
        };
        let findings = selection_findings(&sel.store, &sel.selection);
        let identity = match sel.chosen() {
            Some(cert) => {
                use std::io::IsTerminal;
                // Let Windows ask for a PIN or consent only when someone is there to answer.
                let silent = !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal());
                Some(
                    IdentitySource::Store {
                        store: sel.store.clone(),
                        cert: cert.clone(),
                        silent,
                    }
                    .load(&Passwords::default())?,
                )
            }
            None => None,
        };
        Ok((identity, findings))
    }

    /// Where Windows keeps the profile's CAs, added to the trust findings.
    pub fn ca_details(
        findings: &mut [Finding],
        profile: &Profile,
        leaf_issuer: Option<&str>,
        at: OffsetDateTime,
    ) {
        match store::ca_presence(&wanted_cas(profile, leaf_issuer), at) {
            Ok(p) => apply_ca_presence(findings, &p),
            Err(e) => note_unreadable(findings, &e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::ca::FoundCa;
    use crate::platform::select::{select, Candidate, CertSummary, Criteria};
    use time::macros::datetime;

    fn pki(name: &str) -> Vec<u8> {
        let pem = std::fs::read(
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/pki")
                .join(name),
        )
        .unwrap();
        crate::cert::source::pem_blocks(&pem).unwrap().remove(0).der
    }

    fn cand(name: &str, key: bool) -> Candidate {
        Candidate {
            cert: CertSummary::from_der(&pki(name)).unwrap(),
            has_private_key: key,
            key_provider: None,
        }
    }

    fn criteria() -> Criteria {
        Criteria::from_profile(&Profile::builtin().client_cert, None, None).unwrap()
    }

    #[test]
    fn store_flags_are_an_input_error_off_windows() {
        let args = IdentityOptions {
            cert_thumbprint: Some("00".repeat(20)),
            machine_store: true,
            ..Default::default()
        };
        let r = check_store_flags(&args);
        if cfg!(windows) {
            assert!(r.is_ok());
        } else {
            let msg = r.unwrap_err().to_string();
            assert!(msg.contains("--cert-thumbprint, --machine-store"), "{msg}");
            assert!(
                msg.contains("Windows-only") && msg.contains("--cert"),
                "{msg}"
            );
        }
        assert!(check_store_flags(&IdentityOptions::default()).is_ok());
    }

    #[test]
    fn the_choice_and_every_candidate_are_reported() {
        let at = datetime!(2026-06-01 00:00 UTC);
        let sel = select(
            vec![
                cand("client.pem", true),
                cand("client-expired.pem", true),
                cand("inter.pem", false),
            ],
            &criteria(),
            at,
        );
        let fs = selection_findings("CurrentUser\\MY", &sel);
        assert_eq!(fs.len(), 4);
        assert_eq!(fs[0].id, "cert.store");
        assert_eq!(fs[0].status, Status::Pass, "{:?}", fs[0].detail);
        assert!(fs[0].detail.en.contains("chosen from CurrentUser\\MY"));
        assert!(fs[1..].iter().all(|f| f.id == "cert.store.candidate"));
        assert!(fs[1].detail.en.ends_with(": chosen"), "{}", fs[1].detail.en);
        assert!(fs[2].detail.en.contains("not chosen: expired on"));
        assert!(fs[3].detail.en.contains("a CA certificate"));
        assert_eq!(fs[0].data["candidates"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn nothing_usable_fails_with_the_closest_fix() {
        let at = datetime!(2026-06-01 00:00 UTC);
        let sel = select(vec![cand("client.pem", false)], &criteria(), at);
        let fs = selection_findings("CurrentUser\\MY", &sel);
        assert_eq!(fs[0].status, Status::Fail);
        assert_eq!(fs[0].section.as_deref(), Some("2-1 (6)"));
        let fix = fs[0].fix.clone().unwrap();
        assert!(fix.en.contains("without its private key"), "{}", fix.en);
        assert!(!fix.ja.is_empty());

        let sel = select(vec![cand("client-expired.pem", true)], &criteria(), at);
        let fix = selection_findings("CurrentUser\\MY", &sel)[0]
            .fix
            .clone()
            .unwrap();
        assert!(fix.en.contains("expired on"), "{}", fix.en);

        let sel = select(vec![], &criteria(), at);
        let fs = selection_findings("CurrentUser\\MY", &sel);
        assert_eq!(fs.len(), 1);
        assert!(fs[0].detail.en.contains("holds no certificate"));
        assert!(fs[0]
            .fix
            .as_ref()
            .unwrap()
            .en
            .contains("certutil -user -importpfx"));
    }

    #[test]
    fn trust_findings_say_where_windows_keeps_the_cas() {
        let root = Finding::new("trust.root", Phase::Local, Text::same("r"), "x").pass(Text::same(
            "root `Security Communication RootCA1` is trusted (--trust root.pem)",
        ));
        let inter = Finding::new("trust.intermediate", Phase::Local, Text::same("i"), "x")
            .fail(Text::same(
                "intermediate `SECOM Passport for Member PUB CA1` not found",
            ))
            .section("2-1 (7)");
        let mut fs = vec![root, inter];
        let presences = vec![
            CaPresence {
                role: CaRole::Root,
                name: "Security Communication RootCA1".into(),
                found: vec![FoundCa {
                    store: "CurrentUser\\Root".into(),
                    thumbprint: "AB".into(),
                    not_after: datetime!(2023-09-30 00:00 UTC),
                    expired: true,
                }],
            },
            CaPresence {
                role: CaRole::Intermediate,
                name: "SECOM Passport for Member PUB CA1".into(),
                found: vec![],
            },
        ];
        apply_ca_presence(&mut fs, &presences);
        assert_eq!(fs[0].status, Status::Warn);
        assert!(fs[0]
            .detail
            .en
            .contains("CurrentUser\\Root (expired on 2023-09-30)"));
        assert!(fs[0].fix.as_ref().unwrap().en.contains("certmgr.msc"));
        assert_eq!(fs[0].section.as_deref(), Some("2-1 (7)"));
        assert_eq!(fs[1].status, Status::Fail);
        assert!(fs[1].detail.en.contains("in none of the Windows stores"));
        assert!(fs[1]
            .fix
            .as_ref()
            .unwrap()
            .en
            .contains("certutil -user -addstore CA file.cer"));
        assert_eq!(
            fs[1].data["windows_stores"][0]["usable"],
            serde_json::Value::Bool(false)
        );
    }

    #[test]
    fn wanted_cas_lists_roots_and_intermediates_once() {
        let p = Profile::builtin();
        let w = wanted_cas(&p, Some("SECOM Passport for Member PUB CA1"));
        assert!(w.contains(&(CaRole::Root, "Security Communication RootCA1".into())));
        let inter: Vec<_> = w
            .iter()
            .filter(|(r, n)| {
                *r == CaRole::Intermediate
                    && n.eq_ignore_ascii_case("SECOM Passport for Member PUB CA1")
            })
            .collect();
        assert_eq!(inter.len(), 1);
    }
}
