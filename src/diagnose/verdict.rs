//! The verdict: which finding is the root cause a person should act on first. The rules are
//! tried in order; the first that names a finding decides, and its name goes into the verdict.

use super::is_step;
use crate::finding::{Finding, Status, Text, Verdict};

/// A verdict rule: the index of the cause it chooses, if it applies.
pub type VerdictRule = fn(&[Finding]) -> Option<usize>;

pub const RULES: &[(&str, VerdictRule)] = &[
    ("service_statement", service_statement),
    ("cause_of_observed_failures", cause_of_observed_failures),
    ("earliest_failure", earliest_failure),
    ("earliest_warning", earliest_warning),
];

/// A rule that replaces the cause's own fix when what else was seen makes it wrong advice.
pub type FirstDoRule = fn(&[Finding], usize) -> Option<Text>;

pub const FIRST_DO: &[FirstDoRule] = &[no_bypass_where_direct_fails];

/// Guide 1-3 (5)-(8): never advise going around the proxy (proxy exceptions, NO_PROXY) when
/// certprobe's own direct look showed that direct traffic does not get through: on such a
/// network only the proxy gets out, and the bypass breaks the log-in. The step is then to have
/// the proxy pass the service's hosts unchanged.
pub fn no_bypass_where_direct_fails(fs: &[Finding], cause: usize) -> Option<Text> {
    let c = &fs[cause];
    let advises_bypass = c.id == "env.proxy"
        || (is_step(c, "tls")
            && (c.data.get("interception").and_then(|v| v.as_bool()) == Some(true)
                || c.data.get("error").and_then(|v| v.as_str()) == Some("unconfirmed")
                || c.status == Status::Warn));
    let direct_fails = matches!(
        super::advice::direct_path(fs),
        super::advice::DirectPath::Fails(_)
    );
    (advises_bypass && direct_fails).then(|| crate::guide::fix("diagnose.proxy_only", &[]))
}

/// The rule name of a run where nothing failed or warned.
pub const NOTHING_WRONG: &str = "nothing_wrong";

/// Choose the verdict over diagnosed findings (links already recorded).
pub fn choose(fs: &[Finding]) -> Verdict {
    for (name, rule) in RULES {
        if let Some(i) = rule(fs) {
            return Verdict {
                cause: Some(fs[i].id.clone()),
                consequences: consequences_of(fs, &fs[i].id),
                rule: (*name).to_string(),
                first_do: FIRST_DO.iter().find_map(|r| r(fs, i)),
            };
        }
    }
    Verdict {
        rule: NOTHING_WRONG.to_string(),
        ..Verdict::default()
    }
}

/// Every finding explained by `cause`, directly or through another consequence, in report order.
pub fn consequences_of(fs: &[Finding], cause: &str) -> Vec<String> {
    let mut explained: std::collections::HashSet<&str> = std::iter::once(cause).collect();
    loop {
        let before = explained.len();
        for f in fs {
            if let Some(c) = &f.consequence_of {
                if explained.contains(c.as_str()) {
                    explained.insert(&f.id);
                }
            }
        }
        if explained.len() == before {
            break;
        }
    }
    fs.iter()
        .filter(|f| f.id != cause && explained.contains(f.id.as_str()))
        .map(|f| f.id.clone())
        .collect()
}

fn is_root(f: &Finding, status: Status) -> bool {
    f.status == status && f.consequence_of.is_none()
}

/// Guide 2-2, 2-3, 1-1: when the service's own page says why (an error code, a dormant
/// account, an unsupported browser), the connection worked and that statement is the cause —
/// not an unrelated finding on this computer.
pub fn service_statement(fs: &[Finding]) -> Option<usize> {
    fs.iter().position(|f| {
        is_root(f, Status::Fail)
            && (is_step(f, "page") || is_step(f, "form"))
            && f.section.as_deref().is_some_and(|s| {
                s.starts_with("2-2") || s.starts_with("2-3") || s.starts_with("1-1")
            })
    })
}

/// Guide 2-1: a failure that explains other observed failures comes before an isolated one
/// (the earliest such cause in check order: local, environment, network).
pub fn cause_of_observed_failures(fs: &[Finding]) -> Option<usize> {
    // The ids that explain something, collected once: linear in the number of findings.
    let causes: std::collections::HashSet<&str> = fs
        .iter()
        .filter_map(|g| g.consequence_of.as_deref())
        .collect();
    fs.iter()
        .position(|f| is_root(f, Status::Fail) && causes.contains(f.id.as_str()))
}

/// Guide 2-1: otherwise the earliest failure that is not a consequence of another.
pub fn earliest_failure(fs: &[Finding]) -> Option<usize> {
    fs.iter().position(|f| is_root(f, Status::Fail))
}

/// Guide 2-1: with no failure, the earliest warning that is not a consequence of another.
pub fn earliest_warning(fs: &[Finding]) -> Option<usize> {
    fs.iter().position(|f| is_root(f, Status::Warn))
}

#[cfg(test)]
mod tests {
    use super::super::decide;
    use super::super::sample::*;
    use super::*;
    use serde_json::json;

    fn ids(v: &Verdict) -> (Option<&str>, &str) {
        (v.cause.as_deref(), v.rule.as_str())
    }

    #[test]
    fn the_service_page_wins_over_an_unrelated_local_finding() {
        let mut fs = vec![
            f("cert.chain", Status::Fail),
            f("net.login.tls", Status::Pass),
            sec(f("net.login.page", Status::Fail), "2-2 46"),
        ];
        let v = decide(&mut fs);
        assert_eq!(ids(&v), (Some("net.login.page"), "service_statement"));
        assert_eq!(fs[2].consequence_of, None);
    }

    #[test]
    fn a_legacy_only_server_is_the_verdict_not_its_handshake_alert() {
        let mut fs = vec![
            sec(f("trust.root", Status::Fail), "2-1 (7)"),
            sec(f("net.login.tls", Status::Fail), "2-1 (4)"),
            with(
                sec(f("net.login.versions", Status::Fail), "2-1 (4)"),
                json!({"accepted": ["TLSv1.1"], "shared": []}),
            ),
        ];
        let v = decide(&mut fs);
        assert_eq!(
            ids(&v),
            (Some("net.login.versions"), "cause_of_observed_failures")
        );
        assert_eq!(v.consequences, vec!["net.login.tls".to_string()]);
    }

    #[test]
    fn consequences_are_followed_through_chains() {
        let fs = vec![
            f("a", Status::Fail),
            f("b", Status::Fail).consequence_of("a"),
            f("c", Status::Fail).consequence_of("b"),
            f("d", Status::Fail),
        ];
        assert_eq!(consequences_of(&fs, "a"), vec!["b", "c"]);
    }

    #[test]
    fn warnings_then_nothing() {
        let mut fs = vec![f("x", Status::Pass), f("env.proxy", Status::Warn)];
        assert_eq!(
            ids(&decide(&mut fs)),
            (Some("env.proxy"), "earliest_warning")
        );
        let mut fs = vec![f("x", Status::Pass)];
        let v = decide(&mut fs);
        assert_eq!(ids(&v), (None, NOTHING_WRONG));
        assert!(v.consequences.is_empty());
    }

    #[test]
    fn no_bypass_is_advised_where_direct_traffic_fails() {
        let proxy_warn = || f("env.proxy", Status::Warn);
        let unavailable = || {
            with(
                f("net.login.tls", Status::Pass),
                json!({"direct_comparison": {"result": "unavailable", "reason": "no route"}}),
            )
        };
        let mut fs = vec![proxy_warn(), unavailable()];
        let v = decide(&mut fs);
        assert_eq!(v.cause.as_deref(), Some("env.proxy"));
        let first = v.first_do.expect("the bypass advice is replaced");
        assert!(first.en.starts_with("Do not add"), "{}", first.en);
        // Direct traffic gets through: the cause's own fix (the exception) stands.
        let mut fs = vec![
            proxy_warn(),
            with(
                f("net.login.tls", Status::Pass),
                json!({"direct_comparison": {"result": "same"}}),
            ),
        ];
        assert!(decide(&mut fs).first_do.is_none());
    }

    #[test]
    fn every_rule_has_words_in_both_languages() {
        let cat = crate::guide::catalogue();
        for name in RULES.iter().map(|(n, _)| *n).chain([NOTHING_WRONG]) {
            let t = cat
                .label_text(&format!("diagnose.rule.{name}"))
                .unwrap_or_else(|| panic!("no words for rule {name}"));
            assert!(!t.en.is_empty() && !t.ja.is_empty(), "{name}");
        }
    }

    #[test]
    fn an_isolated_failure_is_the_earliest_one() {
        let mut fs = vec![
            f("env.proxy", Status::Pass),
            sec(f("net.login.dns", Status::Fail), "2-1"),
            sec(f("net.check.dns", Status::Fail), "2-1"),
        ];
        assert_eq!(
            ids(&decide(&mut fs)),
            (Some("net.login.dns"), "earliest_failure")
        );
    }
}
