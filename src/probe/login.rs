//! `check --login`: submit the profile's log-in form **once** over the client-certificate
//! connection and say whether the log-in worked, or which error code the service answered.
//!
//! Never retried (repeated wrong passwords lock the account: code 46), never run without an
//! explicit `--login`, and the password is never logged or put in a finding.

use crate::cert::LocalOutcome;
use crate::error::AppError;
use crate::finding::{Finding, Phase, Text};
use crate::guide::phrase;
use crate::net::{self, NetContext};
use crate::probe::{CheckOptions, LoginOptions};
use crate::profile::{parse_url, Profile};
use std::time::Instant;

const ID: &str = "net.login.form";
const BODY_CAP: usize = 1024 * 1024;

/// The password from `--login-password-env` or `--login-password-file` (first line).
fn password(args: &LoginOptions) -> Result<String, AppError> {
    if let Some(var) = &args.password_env {
        return std::env::var(var)
            .map_err(|_| AppError::catalogued("probe.login_password_env_unset", &[("var", var)]));
    }
    if let Some(path) = &args.password_file {
        return Ok(crate::infile::first_line(path)?);
    }
    Err(AppError::catalogued("probe.login_password_missing", &[]))
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, NON_ALPHANUMERIC),
                utf8_percent_encode(v, NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Check the inputs before anything is sent: bad input ends the run (exit 2).
pub fn prepare(profile: &Profile, args: &CheckOptions) -> Result<Option<Prepared>, AppError> {
    let l = &args.login;
    if !l.enabled {
        return Ok(None);
    }
    let form = profile.login.clone().ok_or_else(|| {
        AppError::catalogued("probe.login_no_form", &[("profile", &profile.name)])
    })?;
    let url = parse_url(&form.url)
        .map_err(|e| AppError::catalogued("probe.login_bad_url", &[("error", &e.to_string())]))?;
    if url.scheme != "https" || !profile.may_present_certificate(&url.host) {
        return Err(AppError::catalogued(
            "probe.login_url_not_allowed",
            &[("url", &form.url)],
        ));
    }
    let success = crate::profile::compile_pattern(&form.success_pattern)
        .map(|(re, _)| re)
        .map_err(|(e, _)| {
            AppError::catalogued("probe.login_bad_pattern", &[("error", &e.to_string())])
        })?;
    let user = l
        .user
        .clone()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| AppError::catalogued("probe.login_user_missing", &[]))?;
    let password = password(l)?;
    let mut pairs: Vec<(String, String)> = form
        .extra_fields
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    pairs.push((form.user_field.clone(), user));
    pairs.push((form.password_field.clone(), password));
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Ok(Some(Prepared {
        url,
        body: form_encode(&borrowed),
        success,
    }))
}

/// A form ready to submit. The body holds the password: it is never printed.
pub struct Prepared {
    url: crate::profile::EndpointUrl,
    body: String,
    success: regex::Regex,
}

/// Submit the form once and read the answer.
pub async fn run(
    profile: &Profile,
    args: &CheckOptions,
    local: &LocalOutcome,
    prepared: Prepared,
    deadline: Instant,
) -> Result<Finding, AppError> {
    let start = Instant::now();
    let u = &prepared.url;
    let f = Finding::new(
        ID,
        Phase::Network,
        phrase("probe.login_title", &[]),
        format!("https://{}{}", u.authority(), u.path),
    );
    if local.client.is_none() {
        return Ok(f
            .skip(phrase("probe.login_no_certificate", &[]))
            .consequence_of("cert.load"));
    }
    let ctx = NetContext::new(
        profile,
        &args.net,
        local.client.clone(),
        local.roots.clone(),
        deadline,
    )?;
    let answer = tokio::time::timeout_at(deadline.into(), submit(&ctx, &prepared)).await;
    let f = f.elapsed(start.elapsed());
    let (status, html) = match answer {
        Err(_) => return Ok(f.fail(phrase("probe.login_timeout", &[])).section("2-4")),
        Ok(Err(why)) => {
            return Ok(f
                .fail(text_of(&why))
                .section("2-4")
                .fix(crate::guide::fix("demo.login_unreachable", &[])))
        }
        Ok(Ok(v)) => v,
    };
    if prepared.success.is_match(&html) {
        return Ok(f.pass(phrase(
            "probe.login_success",
            &[("status", &status.to_string())],
        )));
    }
    if let Some(m) = net::page::read_page(profile, &html) {
        let section = m.section.clone();
        let fix = crate::guide::catalogue()
            .find(&section)
            .map(|s| s.fix.clone())
            .unwrap_or_default();
        return Ok(f
            .fail(phrase("probe.login_refused", &[("matched", &m.matched)]))
            .section(section)
            .fix(fix));
    }
    Ok(f.fail(phrase(
        "probe.login_unknown_answer",
        &[("status", &status.to_string())],
    ))
    .section("2-4")
    .fix(crate::guide::fix("demo.login_unknown", &[])))
}

fn text_of(why: &str) -> Text {
    phrase("probe.login_not_submitted", &[("why", why)])
}

/// One POST with the client certificate, through `reqwest` on the one route (the proxy when
/// the settings route the host there, as the endpoint probes do), following the service's
/// redirects (POST → 302 → GET) with a cookie store, as a browser would; returns the final
/// status and the decoded page. Never retried.
async fn submit(ctx: &NetContext, p: &Prepared) -> Result<(u16, String), String> {
    let url = net::endpoint::to_url(&p.url)?;
    let client = net::fetch::client(
        ctx,
        net::fetch::FetchOptions {
            present_cert: true,
            cookies: true,
        },
    )
    .map_err(|e| e.text().en)?;
    let req = client
        .post(url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(p.body.clone());
    tracing::info!(url = %net::endpoint::redacted(&net::endpoint::to_url(&p.url)?), "log-in: submitting the form once");
    let r = net::fetch::send(ctx, req, BODY_CAP)
        .await
        .map_err(|e| e.text().en)?;
    tracing::info!(status = r.status, url = %net::endpoint::redacted(&r.final_url), "log-in: answer");
    let (html, _) = net::http::decode_body(r.content_type.as_deref(), &r.body);
    Ok((r.status, html))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_are_encoded() {
        assert_eq!(
            form_encode(&[("userId", "S47 01"), ("password", "p&w=ö")]),
            "userId=S47%2001&password=p%26w%3D%C3%B6"
        );
    }
}
