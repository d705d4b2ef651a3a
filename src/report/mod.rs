//! Renderers: they read a [`Report`] and write text. They never probe, open sockets, or read
//! files they were not handed.

use crate::finding::{Finding, Lang, Status, Text, Verdict};
use serde::Serialize;
use std::time::Duration;

pub mod compact;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod nagios;
pub mod prometheus;
pub mod support;
pub mod table;

/// Version of the JSON document's shape; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

/// Everything one run found.
#[derive(Debug, Clone)]
pub struct Report {
    pub tool_version: String,
    pub profile: String,
    pub started: time::OffsetDateTime,
    pub duration: Duration,
    /// In dependency order: local, environment, then network per endpoint, steps in order.
    pub findings: Vec<Finding>,
    /// What the diagnosis (`crate::diagnose::decide`) decided; renderers only show it.
    pub verdict: Verdict,
    /// The verdict when nothing failed, when the command checked less than a whole log-in
    /// (`verify`: a chain); `None`: the catalogue's "everything works".
    pub ok_verdict: Option<Text>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub info: usize,
    pub skip: usize,
    pub warn: usize,
    pub fail: usize,
}

impl Summary {
    pub fn count(&self, s: Status) -> usize {
        match s {
            Status::Pass => self.pass,
            Status::Info => self.info,
            Status::Skip => self.skip,
            Status::Warn => self.warn,
            Status::Fail => self.fail,
        }
    }
}

/// The diagnosis' verdict with its findings looked up, for renderers.
#[derive(Debug, Clone)]
pub struct VerdictView<'a> {
    /// The finding the diagnosis named as the root cause.
    pub cause: Option<&'a Finding>,
    /// The findings it explains.
    pub consequences: Vec<&'a Finding>,
    /// The name of the rule that decided.
    pub rule: &'a str,
    /// What to do first: the verdict's own step, else the cause's fix.
    pub first_do: Option<&'a Text>,
}

impl Report {
    pub fn new(profile: impl Into<String>) -> Report {
        Report {
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            profile: profile.into(),
            started: time::OffsetDateTime::now_utc(),
            duration: Duration::ZERO,
            findings: Vec::new(),
            verdict: Verdict::default(),
            ok_verdict: None,
        }
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for f in &self.findings {
            match f.status {
                Status::Pass => s.pass += 1,
                Status::Info => s.info += 1,
                Status::Skip => s.skip += 1,
                Status::Warn => s.warn += 1,
                Status::Fail => s.fail += 1,
            }
        }
        s
    }

    pub fn verdict(&self) -> VerdictView<'_> {
        let by_id = |id: &str| self.findings.iter().find(|f| f.id == id);
        let cause = self.verdict.cause.as_deref().and_then(by_id);
        VerdictView {
            cause,
            consequences: {
                // One pass over the findings however many consequences there are.
                let wanted: std::collections::HashSet<&str> = self
                    .verdict
                    .consequences
                    .iter()
                    .map(String::as_str)
                    .collect();
                let mut found: std::collections::HashMap<&str, &Finding> =
                    std::collections::HashMap::new();
                for f in &self.findings {
                    if wanted.contains(f.id.as_str()) {
                        found.entry(f.id.as_str()).or_insert(f);
                    }
                }
                self.verdict
                    .consequences
                    .iter()
                    .filter_map(|id| found.get(id.as_str()).copied())
                    .collect()
            },
            rule: &self.verdict.rule,
            first_do: self
                .verdict
                .first_do
                .as_ref()
                .or_else(|| cause.and_then(|c| c.fix.as_ref())),
        }
    }

    /// 0 nothing failed, 1 something failed (warnings too with `strict`).
    pub fn exit_code(&self, strict: bool) -> u8 {
        if self.findings.iter().any(|f| f.is_failure(strict)) {
            1
        } else {
            0
        }
    }

    /// The one-line verdict in the given language.
    pub fn verdict_line(&self, lang: Lang) -> String {
        let v = self.verdict();
        match v.cause {
            None => match &self.ok_verdict {
                Some(t) => crate::text::escape::clean(t.get(lang)),
                None => crate::guide::label("verdict.ok", lang),
            },
            Some(f) => format!(
                "{}: {}",
                crate::text::escape::clean(f.title.get(lang)),
                crate::text::escape::clean(f.detail.get(lang))
            ),
        }
    }
}

/// Options every renderer shares.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub lang: Lang,
    pub color: bool,
    pub strict: bool,
    pub quiet: bool,
    /// The full step table instead of the compact first screen.
    pub details: bool,
    /// Table width; `None` for no limit.
    pub width: Option<u16>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            lang: Lang::En,
            color: false,
            strict: false,
            quiet: false,
            details: false,
            width: None,
        }
    }
}

pub(crate) fn text(t: &Text, lang: Lang) -> String {
    crate::text::escape::clean(t.get(lang))
}

/// A finding's target as a person reads it: the few fixed targets the probes name in words
/// (`proxy`, `local clock`, `client certificate`) in the reader's language, anything else (a host,
/// a file, a URL) as it is, cleaned. JSON and the machine formats keep the target unchanged.
pub(crate) fn shown_target(target: &str, lang: Lang) -> String {
    let key = match target {
        "proxy" => "report.target_proxy",
        "local clock" => "report.target_local_clock",
        "client certificate" => "report.target_client_certificate",
        _ => return crate::text::escape::clean(target),
    };
    crate::guide::label(key, lang)
}

pub(crate) fn ms(d: Option<Duration>) -> Option<f64> {
    d.map(|d| (d.as_secs_f64() * 1e6).round() / 1e3)
}

#[cfg(test)]
pub(crate) mod sample {
    use super::*;
    use crate::finding::{Finding, Phase, Text};

    /// A report with one of each status and a consequence, for renderer tests.
    pub fn report() -> Report {
        let mut r = Report::new("ebunsho");
        r.started = time::macros::datetime!(2026-11-25 12:00:00 UTC);
        r.duration = Duration::from_millis(842);
        r.findings = vec![
            Finding::new(
                "cert.load",
                Phase::Local,
                Text::new("Client certificate", "クライアント証明書"),
                "me.p12",
            )
            .pass(Text::new(
                "S47000001, issued by SECOM Passport for Member PUB CA1",
                "S47000001（発行者 SECOM Passport for Member PUB CA1）",
            ))
            .elapsed(Duration::from_micros(1200)),
            Finding::new(
                "cert.chain",
                Phase::Local,
                Text::new("Chain to root", "ルートまでのチェーン"),
                "me.p12",
            )
            .fail(Text::new(
                "intermediate `SECOM Passport for Member PUB CA1` not found",
                "中間証明書 `SECOM Passport for Member PUB CA1` が見つかりません",
            ))
            .section("2-1 (7)")
            .fix(Text::new(
                "Import the intermediate certificate.",
                "中間証明書をインポートしてください。",
            )),
            Finding::new(
                "env.clock",
                Phase::Environment,
                Text::new("Clock", "時計"),
                "local",
            )
            .warn(Text::new(
                "clock is 4 min ahead\u{1b}]0;pwned\u{7}",
                "時計が4分進んでいます",
            )),
            Finding::new(
                "net.login.tls",
                Phase::Network,
                Text::new("TLS handshake", "TLS ハンドシェイク"),
                "ds.e-kakushin.com:443",
            )
            .fail(Text::new(
                "server rejected the certificate: unknown_ca",
                "サーバーが証明書を拒否: unknown_ca",
            ))
            .section("2-1 (6)")
            .consequence_of("cert.chain")
            .elapsed(Duration::from_millis(31)),
            Finding::new(
                "net.login.http",
                Phase::Network,
                Text::new("HTTP", "HTTP"),
                "ds.e-kakushin.com:443",
            )
            .skip(Text::new("not run: TLS failed", "未実行: TLS が失敗")),
            Finding::new(
                "trust.roots",
                Phase::Local,
                Text::new("Trust store", "信頼ストア"),
                "system",
            )
            .info(Text::new("145 roots", "ルート 145 件")),
        ];
        r.verdict = Verdict {
            cause: Some("cert.chain".into()),
            consequences: vec!["net.login.tls".into()],
            rule: "cause_of_observed_failures".into(),
            first_do: None,
        };
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_looks_up_what_the_diagnosis_decided() {
        let r = sample::report();
        let v = r.verdict();
        assert_eq!(v.cause.map(|f| f.id.as_str()), Some("cert.chain"));
        assert_eq!(v.consequences.len(), 1);
        assert_eq!(v.consequences[0].id, "net.login.tls");
        assert_eq!(v.rule, "cause_of_observed_failures");
        assert_eq!(
            v.first_do.map(|t| t.en.as_str()),
            Some("Import the intermediate certificate.")
        );
    }

    #[test]
    fn an_undiagnosed_report_has_no_cause() {
        let mut r = sample::report();
        r.verdict = Verdict::default();
        assert!(r.verdict().cause.is_none());
        assert!(r.verdict().first_do.is_none());
    }

    #[test]
    fn exit_codes() {
        let mut r = sample::report();
        assert_eq!(r.exit_code(false), 1);
        r.findings.retain(|f| f.status != Status::Fail);
        assert_eq!(r.exit_code(false), 0);
        assert_eq!(r.exit_code(true), 1);
    }

    #[test]
    fn summary_counts() {
        let s = sample::report().summary();
        assert_eq!((s.pass, s.fail, s.warn, s.skip, s.info), (1, 2, 1, 1, 1));
    }
}
