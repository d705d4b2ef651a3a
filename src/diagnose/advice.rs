//! Advice that fits what was observed: rules that replace a finding's text and fix when
//! something else the probes saw makes that advice wrong or harmful.

use super::endpoint_step;
use crate::finding::{Finding, Status, Text};
use serde_json::Value;

/// An advice rule rewrites findings in place.
pub type AdviceRule = fn(&mut [Finding]);

pub const RULES: &[AdviceRule] = &[keep_the_proxy_where_direct_fails];

/// What the probes saw of the direct path on a run through a proxy.
#[derive(Debug, PartialEq)]
pub enum DirectPath {
    /// Nothing was tried or seen.
    Unknown,
    /// A direct look reached a server.
    Works,
    /// Direct traffic did not get through; the words say what was seen.
    Fails(Text),
}

/// The direct path as the findings show it: a direct look beside the proxy that reached the
/// server (any comparison result but `unavailable`) proves it works; one that could not connect,
/// or a service name that does not resolve here while the proxy resolves it, shows it fails.
pub fn direct_path(fs: &[Finding]) -> DirectPath {
    let mut failed: Option<Text> = None;
    for f in fs {
        if let Some(c) = f.data.get("direct_comparison") {
            match c.get("result").and_then(Value::as_str) {
                Some("unavailable") => {
                    let reason = c.get("reason").and_then(Value::as_str).unwrap_or_default();
                    failed.get_or_insert_with(|| {
                        crate::guide::phrase(
                            "diagnose.direct_seen.connect",
                            &[("host", host_of(f)), ("reason", reason)],
                        )
                    });
                }
                Some(_) => return DirectPath::Works,
                None => {}
            }
        }
        let unresolved = endpoint_step(f).is_some_and(|(_, step)| step == "dns")
            && f.data.get("via_proxy").and_then(Value::as_bool) == Some(true)
            && f.data.get("error").and_then(Value::as_str).is_some();
        if unresolved {
            let error = f.data["error"].as_str().unwrap_or_default();
            failed.get_or_insert_with(|| {
                crate::guide::phrase(
                    "diagnose.direct_seen.dns",
                    &[("host", host_of(f)), ("error", error)],
                )
            });
        }
    }
    failed.map_or(DirectPath::Unknown, DirectPath::Fails)
}

/// The host a network finding is about (its target without the port).
fn host_of(f: &Finding) -> &str {
    let t = f.target.as_str();
    match t.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => t,
    }
}

/// Does this finding advise going around the proxy (a proxy exception, NO_PROXY, DIRECT)?
/// `env.proxy` and `net.<endpoint>.proxy` warn that certificate hosts go through the proxy and
/// advise the exception; an interception finding advises it beside the inspection exception.
fn advises_bypass(f: &Finding) -> bool {
    if f.status != Status::Warn && f.status != Status::Fail {
        return false;
    }
    if f.id == "env.proxy" {
        let via = f
            .data
            .get("routes")
            .and_then(Value::as_object)
            .is_some_and(|r| {
                r.values()
                    .any(|v| v.as_str().is_some_and(|s| s.starts_with("proxy ")))
            });
        let problems = f
            .data
            .get("problems")
            .and_then(Value::as_array)
            .is_some_and(|p| !p.is_empty());
        return via && !problems;
    }
    match endpoint_step(f) {
        // A proxy that asks for a log-in is answered by logging in, not by going around it.
        Some((_, "proxy")) => {
            f.data.get("route").and_then(Value::as_str) == Some("proxy")
                && f.data.get("error").and_then(Value::as_str) != Some("proxy_auth_required")
        }
        Some((_, "tls")) => f.data.get("interception").and_then(Value::as_bool) == Some(true),
        _ => false,
    }
}

/// Guide 1-3 (5)-(8): the guide's step for a LAN proxy is to add the service to its
/// exceptions — right where direct traffic gets out, harmful where it does not. When
/// certprobe's own direct look failed (and none succeeded), every finding that advises the
/// bypass says instead that the proxy is the only way out and must pass the service's hosts
/// unchanged (no HTTPS inspection); what was seen of the direct path is named.
pub fn keep_the_proxy_where_direct_fails(fs: &mut [Finding]) {
    let DirectPath::Fails(seen) = direct_path(fs) else {
        return;
    };
    for f in fs.iter_mut().filter(|f| advises_bypass(f)) {
        let proxy = f
            .data
            .get("proxy")
            .or_else(|| f.data.get("https_proxy"))
            .or_else(|| f.data.get("http_proxy"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| routed_proxy(&f.data))
            .unwrap_or_default();
        // A tunnel the proxy could not open keeps its own words (what the proxy answered).
        let tunnel_failed = f.data.get("error").is_some();
        let key = match endpoint_step(f) {
            Some((_, "tls")) => None,
            Some((_, "proxy")) if tunnel_failed => None,
            _ if f.id == "env.proxy" => Some("diagnose.proxy_only.settings"),
            _ => Some("diagnose.proxy_only.route"),
        };
        if let Some(key) = key {
            let mut detail =
                crate::guide::phrase(key, &[("proxy", &proxy)]).filled(&[("seen", &seen)]);
            // Where a PAC script chose the proxy, the script stays named.
            if let Some(pac) = f.data.get("pac").and_then(Value::as_str) {
                let by = crate::guide::phrase("diagnose.proxy_only.pac", &[("pac", pac)]);
                detail = Text::new(
                    format!("{} {}", detail.en, by.en),
                    format!("{}{}", detail.ja, by.ja),
                );
            }
            f.detail = detail;
        }
        f.fix = Some(if tunnel_failed && endpoint_step(f).is_some() {
            crate::guide::fix(
                "diagnose.proxy_only.tunnel",
                &[("proxy", &proxy), ("target", &f.target)],
            )
            .filled(&[("seen", &seen)])
        } else {
            crate::guide::fix("diagnose.proxy_only", &[])
        });
        if let Some(o) = f.data.as_object_mut() {
            o.insert("proxy_only".into(), Value::Bool(true));
        }
    }
}

/// The proxy the settings route the service's hosts through (`routes`: `"proxy URL"` per host),
/// where no single proxy variable names it (a PAC script chose it).
fn routed_proxy(data: &Value) -> Option<String> {
    data.get("routes")?
        .as_object()?
        .values()
        .filter_map(Value::as_str)
        .find_map(|r| r.strip_prefix("proxy "))
        .map(|p| p.split_whitespace().next().unwrap_or(p).to_string())
}

#[cfg(test)]
mod tests {
    use super::super::decide;
    use super::super::sample::*;
    use super::*;
    use serde_json::json;

    fn env_proxy() -> Finding {
        with(
            sec(f("env.proxy", Status::Warn), "1-3 (5)-(8)"),
            json!({"routes": {"login.test": "proxy http://p:8080"}, "problems": [], "https_proxy": "http://p:8080"}),
        )
    }

    fn route() -> Finding {
        with(
            sec(f("net.login.proxy", Status::Warn), "1-3 (5)-(8)"),
            json!({"route": "proxy", "proxy": "http://p:8080", "source": "--proxy"}),
        )
    }

    fn unresolved() -> Finding {
        let mut d = with(
            f("net.login.dns", Status::Info),
            json!({"error": "nxdomain", "via_proxy": true}),
        );
        d.target = "login.test".into();
        d
    }

    fn refused(result: &str) -> Finding {
        let mut t = with(
            sec(f("net.login.tls", Status::Fail), "2-1 (6)"),
            json!({"direct_comparison": {"result": result, "reason": "connection refused"}}),
        );
        t.target = "login.test:443".into();
        t
    }

    fn no_bypass_anywhere(fs: &[Finding]) {
        for f in fs {
            let fix = f.fix.as_ref().map(|t| t.en.as_str()).unwrap_or_default();
            assert!(!fix.starts_with("fix "), "{}: own fix kept: {fix}", f.id);
        }
    }

    #[test]
    fn a_name_only_the_proxy_resolves_means_direct_fails() {
        let mut fs = vec![env_proxy(), unresolved(), route(), refused("x")];
        fs[3].data = json!({});
        let v = decide(&mut fs);
        no_bypass_anywhere(&fs[..3]);
        assert!(fs[0].detail.en.contains("login.test cannot be resolved"));
        assert!(fs[2].detail.en.contains("only way"), "{}", fs[2].detail.en);
        assert!(
            !fs[2].detail.en.contains("exception"),
            "{}",
            fs[2].detail.en
        );
        assert_eq!(fs[2].data["proxy_only"], true);
        // The refusal behind the proxy stays the cause, with its own fix.
        assert_eq!(v.cause.as_deref(), Some("net.login.tls"));
        assert_eq!(fs[3].fix.as_ref().unwrap().en, "fix net.login.tls");
    }

    #[test]
    fn a_failed_direct_look_means_direct_fails() {
        let mut fs = vec![env_proxy(), route(), refused("unavailable")];
        decide(&mut fs);
        no_bypass_anywhere(&fs[..2]);
        assert!(
            fs[1].detail.en.contains("connection refused"),
            "{}",
            fs[1].detail.en
        );
    }

    /// A PAC script chose the proxy: no proxy variable names it, the route does, and the
    /// script stays named in the settings finding.
    #[test]
    fn a_proxy_chosen_by_pac_is_named_with_its_script() {
        let mut settings = env_proxy();
        settings.data = json!({
            "routes": {"login.test": "proxy http://p:8080"},
            "problems": [],
            "pac": "http://127.0.0.1:9/proxy.pac",
        });
        let mut fs = vec![settings, route(), refused("unavailable")];
        decide(&mut fs);
        let d = &fs[0].detail;
        assert!(d.en.contains("http://p:8080"), "{}", d.en);
        assert!(d.en.contains("http://127.0.0.1:9/proxy.pac"), "{}", d.en);
        assert!(
            d.ja.contains("http://p:8080") && d.ja.contains("proxy.pac"),
            "{}",
            d.ja
        );
    }

    #[test]
    fn one_direct_look_that_worked_keeps_the_exception_advice() {
        let mut fs = vec![env_proxy(), unresolved(), route(), refused("same")];
        decide(&mut fs);
        assert_eq!(direct_path(&fs), DirectPath::Works);
        assert_eq!(fs[0].fix.as_ref().unwrap().en, "fix env.proxy");
        assert_eq!(fs[2].fix.as_ref().unwrap().en, "fix net.login.proxy");
    }

    #[test]
    fn nothing_seen_of_the_direct_path_changes_nothing() {
        let mut fs = vec![env_proxy(), route()];
        decide(&mut fs);
        assert_eq!(direct_path(&fs), DirectPath::Unknown);
        assert_eq!(fs[1].fix.as_ref().unwrap().en, "fix net.login.proxy");
    }

    #[test]
    fn interception_on_a_proxy_only_network_is_not_told_to_bypass() {
        let mut t = with(
            sec(f("net.login.tls", Status::Fail), "1-3 (5)-(8)"),
            json!({"interception": true}),
        );
        t.detail.en = "intercepted by X".into();
        let mut fs = vec![unresolved(), t];
        decide(&mut fs);
        assert_eq!(fs[1].detail.en, "intercepted by X");
        assert!(fs[1].fix.as_ref().unwrap().en.starts_with("Do not add"));
    }

    #[test]
    fn a_refused_tunnel_keeps_its_words_and_is_not_told_to_bypass() {
        let mut p = with(
            sec(f("net.login.proxy", Status::Fail), "1-3 (5)-(8)"),
            json!({"route": "proxy", "error": "proxy_refused"}),
        );
        p.target = "login.test:8443".into();
        p.detail.en = "the proxy answered 403".into();
        let mut fs = vec![unresolved(), p];
        decide(&mut fs);
        assert_eq!(fs[1].detail.en, "the proxy answered 403");
        let fix = &fs[1].fix.as_ref().unwrap().en;
        assert!(fix.contains("login.test:8443"), "{fix}");
        assert!(!fix.contains("exempt"), "{fix}");
        assert_eq!(fs[1].data["proxy_only"], true);
    }

    #[test]
    fn a_proxy_that_wants_a_log_in_keeps_its_advice() {
        let p = with(
            sec(f("net.login.proxy", Status::Fail), "1-3 (5)-(8)"),
            json!({"route": "proxy", "error": "proxy_auth_required"}),
        );
        let mut fs = vec![unresolved(), p];
        decide(&mut fs);
        assert_eq!(fs[1].fix.as_ref().unwrap().en, "fix net.login.proxy");
    }

    #[test]
    fn a_proxy_setting_that_cannot_be_used_keeps_its_own_fix() {
        let mut e = env_proxy();
        e.data["problems"] = json!(["HTTPS_PROXY: not a URL"]);
        let mut fs = vec![e, unresolved()];
        decide(&mut fs);
        assert_eq!(fs[0].fix.as_ref().unwrap().en, "fix env.proxy");
    }
}
