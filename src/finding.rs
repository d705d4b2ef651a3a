//! The vocabulary every part of certprobe shares: a probe step yields a [`Finding`].
//!
//! Probes build findings and never print; renderers read them and never probe.
//! User-facing text is carried as [`Text`] (English and Japanese side by side) so that
//! the language is chosen once, at render time.

use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// The language of everything a person reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ja,
}

impl Lang {
    /// `--lang` wins; else `LC_ALL`, `LC_MESSAGES`, `LANG` in that order (the first one set
    /// decides, as POSIX has it); else, on Windows and macOS (which set none of those), the
    /// operating system's UI language; `ja*` means Japanese; anything else English.
    pub fn detect(explicit: Option<Lang>) -> Lang {
        if let Some(l) = explicit {
            return l;
        }
        Self::from_env_vars(|k| std::env::var(k).ok())
            .or_else(Self::from_os)
            .unwrap_or_default()
    }

    /// From the locale variables alone; English when none is set.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Lang {
        Self::from_env_vars(get).unwrap_or_default()
    }

    fn from_env_vars(get: impl Fn(&str) -> Option<String>) -> Option<Lang> {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|key| get(key).filter(|v| !v.is_empty()))
            .map(|v| Self::from_tag(&v))
    }

    /// A locale name or BCP 47 tag (`ja_JP.UTF-8`, `ja-JP`, `en-US`) to a language.
    pub fn from_tag(tag: &str) -> Lang {
        if tag.to_ascii_lowercase().starts_with("ja") {
            Lang::Ja
        } else {
            Lang::En
        }
    }

    /// The UI language of Windows or macOS. Elsewhere the locale variables are the system's
    /// setting, already read.
    fn from_os() -> Option<Lang> {
        if cfg!(any(windows, target_os = "macos")) {
            sys_locale::get_locale().map(|t| Self::from_tag(&t))
        } else {
            None
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }
}

/// A piece of user-facing text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text {
    pub en: String,
    pub ja: String,
}

impl Text {
    pub fn new(en: impl Into<String>, ja: impl Into<String>) -> Text {
        Text {
            en: en.into(),
            ja: ja.into(),
        }
    }

    /// Text that reads the same in both languages (names, numbers, file paths).
    pub fn same(s: impl Into<String>) -> Text {
        let s = s.into();
        Text {
            en: s.clone(),
            ja: s,
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ja if self.ja.is_empty() => &self.en,
            Lang::Ja => &self.ja,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.en.is_empty() && self.ja.is_empty()
    }

    /// `{name}` placeholders filled with ja/en texts, each language with its own words.
    pub fn filled(self, args: &[(&str, &Text)]) -> Text {
        let (mut en, mut ja) = (self.en, self.ja);
        for (k, v) in args {
            let key = format!("{{{k}}}");
            en = en.replace(&key, &v.en);
            ja = ja.replace(&key, &v.ja);
        }
        Text::new(en, ja)
    }

    /// Texts joined by `sep` in each language.
    pub fn joined(parts: &[Text], sep: &str) -> Text {
        let side = |get: fn(&Text) -> &str| parts.iter().map(get).collect::<Vec<_>>().join(sep);
        Text::new(side(|t| &t.en), side(|t| &t.ja))
    }
}

/// The outcome of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Info,
    Skip,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Info => "info",
            Status::Skip => "skip",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }

    pub const ALL: [Status; 5] = [
        Status::Pass,
        Status::Info,
        Status::Skip,
        Status::Warn,
        Status::Fail,
    ];
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which group of probes a finding belongs to; the check runs them in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Local,
    Environment,
    Network,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Local => "local",
            Phase::Environment => "environment",
            Phase::Network => "network",
        }
    }
}

/// One step's result.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Stable identifier, e.g. `cert.chain`, `net.login.tls`. Scripts match on it.
    pub id: String,
    pub phase: Phase,
    /// Short name of the step ("Client certificate chain").
    pub title: Text,
    /// File, host:port or other object the step looked at.
    pub target: String,
    pub status: Status,
    /// One line: what was seen.
    pub detail: Text,
    /// The guide section a person should read, e.g. `2-1 (7)`; an id of the guide catalogue.
    pub section: Option<String>,
    /// What to do about it, for today's systems.
    pub fix: Option<Text>,
    pub elapsed: Option<Duration>,
    /// Structured facts for JSON (addresses, versions, fingerprints…).
    pub data: serde_json::Value,
    /// When this failure is explained by an earlier one, that finding's id.
    pub consequence_of: Option<String>,
}

impl Finding {
    pub fn new(
        id: impl Into<String>,
        phase: Phase,
        title: Text,
        target: impl Into<String>,
    ) -> Finding {
        Finding {
            id: id.into(),
            phase,
            title,
            target: target.into(),
            status: Status::Info,
            detail: Text::default(),
            section: None,
            fix: None,
            elapsed: None,
            data: serde_json::Value::Null,
            consequence_of: None,
        }
    }

    pub fn status(mut self, status: Status, detail: Text) -> Finding {
        self.status = status;
        self.detail = detail;
        self
    }
    pub fn pass(self, detail: Text) -> Finding {
        self.status(Status::Pass, detail)
    }
    pub fn warn(self, detail: Text) -> Finding {
        self.status(Status::Warn, detail)
    }
    pub fn fail(self, detail: Text) -> Finding {
        self.status(Status::Fail, detail)
    }
    pub fn info(self, detail: Text) -> Finding {
        self.status(Status::Info, detail)
    }
    pub fn skip(self, detail: Text) -> Finding {
        self.status(Status::Skip, detail)
    }
    pub fn section(mut self, section: impl Into<String>) -> Finding {
        self.section = Some(section.into());
        self
    }
    pub fn fix(mut self, fix: Text) -> Finding {
        self.fix = Some(fix);
        self
    }
    pub fn elapsed(mut self, d: Duration) -> Finding {
        self.elapsed = Some(d);
        self
    }
    pub fn data(mut self, data: serde_json::Value) -> Finding {
        self.data = data;
        self
    }
    pub fn consequence_of(mut self, id: impl Into<String>) -> Finding {
        self.consequence_of = Some(id.into());
        self
    }

    pub fn is_failure(&self, strict: bool) -> bool {
        self.status == Status::Fail || (strict && self.status == Status::Warn)
    }
}

/// What the diagnosis decided for a whole run: the root cause, what it explains, and which
/// rule decided. Built by `crate::diagnose`; renderers only show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Id of the finding that is the root cause; `None` when nothing failed or warned.
    pub cause: Option<String>,
    /// Ids of the findings this cause explains (directly or through another consequence).
    pub consequences: Vec<String>,
    /// Name of the rule that chose the cause (`diagnose::rules`), empty before diagnosis.
    pub rule: String,
    /// What to do first when it is not the cause's own fix.
    pub first_do: Option<Text>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_from_os_tags() {
        for (tag, want) in [
            ("ja-JP", Lang::Ja),
            ("ja", Lang::Ja),
            ("JA_jp.UTF-8", Lang::Ja),
            ("en-US", Lang::En),
            ("fr-FR", Lang::En),
            ("", Lang::En),
        ] {
            assert_eq!(Lang::from_tag(tag), want, "{tag}");
        }
    }

    #[test]
    fn lang_from_env_follows_posix_precedence() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Lang::from_env(env(&[("LANG", "ja_JP.UTF-8")])), Lang::Ja);
        assert_eq!(
            Lang::from_env(env(&[("LC_ALL", "C"), ("LANG", "ja_JP.UTF-8")])),
            Lang::En
        );
        assert_eq!(
            Lang::from_env(env(&[("LC_MESSAGES", "ja"), ("LANG", "C")])),
            Lang::Ja
        );
        assert_eq!(
            Lang::from_env(env(&[("LC_ALL", ""), ("LANG", "ja_JP")])),
            Lang::Ja
        );
        assert_eq!(Lang::from_env(env(&[])), Lang::En);
    }

    #[test]
    fn japanese_falls_back_to_english_when_missing() {
        let t = Text::new("hello", "");
        assert_eq!(t.get(Lang::Ja), "hello");
        assert_eq!(Text::new("a", "b").get(Lang::Ja), "b");
    }

    #[test]
    fn status_orders_by_severity() {
        assert!(Status::Fail > Status::Warn);
        assert!(Status::Warn > Status::Pass);
    }
}
