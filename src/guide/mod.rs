//! The guide catalogue: every section of the service's support guide, and every fix
//! certprobe prints, in English and Japanese. All user-facing advice lives in the TOML files
//! beside this one (`sections.toml`, `labels.toml`, `fixes/*.toml`); code refers to it by id.

use crate::finding::{Lang, Text};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

pub mod explain;

/// The catalogue's files, parsed separately and merged (a key may be defined only once).
const FILES: &[(&str, &str)] = &[
    ("sections.toml", include_str!("sections.toml")),
    ("labels.toml", include_str!("labels.toml")),
    ("html.toml", include_str!("html.toml")),
    ("fixes/cert.toml", include_str!("fixes/cert.toml")),
    ("fixes/chain.toml", include_str!("fixes/chain.toml")),
    ("fixes/env.toml", include_str!("fixes/env.toml")),
    ("fixes/net.toml", include_str!("fixes/net.toml")),
    ("fixes/proxy.toml", include_str!("fixes/proxy.toml")),
    ("fixes/demo.toml", include_str!("fixes/demo.toml")),
    ("fixes/windows.toml", include_str!("fixes/windows.toml")),
    ("fixes/input.toml", include_str!("fixes/input.toml")),
    ("serve.toml", include_str!("serve.toml")),
    ("phrases/net.toml", include_str!("phrases/net.toml")),
    (
        "phrases/versions.toml",
        include_str!("phrases/versions.toml"),
    ),
    ("phrases/cert.toml", include_str!("phrases/cert.toml")),
    ("phrases/trust.toml", include_str!("phrases/trust.toml")),
    ("phrases/probe.toml", include_str!("phrases/probe.toml")),
    (
        "phrases/commands.toml",
        include_str!("phrases/commands.toml"),
    ),
    ("phrases/report.toml", include_str!("phrases/report.toml")),
    ("phrases/demo.toml", include_str!("phrases/demo.toml")),
    (
        "phrases/platform.toml",
        include_str!("phrases/platform.toml"),
    ),
    ("phrases/errors.toml", include_str!("phrases/errors.toml")),
    (
        "phrases/diagnose.toml",
        include_str!("phrases/diagnose.toml"),
    ),
    ("phrases/strict.toml", include_str!("phrases/strict.toml")),
    ("phrases/serve.toml", include_str!("phrases/serve.toml")),
    ("phrases/local.toml", include_str!("phrases/local.toml")),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    #[serde(default)]
    section: Vec<RawSection>,
    #[serde(default)]
    fix: BTreeMap<String, RawText>,
    #[serde(default)]
    label: BTreeMap<String, RawText>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawText {
    en: String,
    ja: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    id: String,
    #[serde(default)]
    aliases: Vec<String>,
    title: RawText,
    #[serde(default)]
    symptom: Option<RawText>,
    cause: RawText,
    fix: RawText,
}

/// One section (or step, or error code) of the guide.
#[derive(Debug, Clone)]
pub struct Section {
    /// As printed in findings: `2-1 (7)`, `2-2 46`.
    pub id: String,
    /// Other names `explain` accepts (`46`, `code-46`).
    pub aliases: Vec<String>,
    pub title: Text,
    pub symptom: Option<Text>,
    pub cause: Text,
    pub fix: Text,
    /// What `find` compares a query with: id and aliases normalised, then the same without
    /// brackets; made once when the catalogue is parsed.
    keys: Vec<String>,
    loose_keys: Vec<String>,
}

impl Section {
    /// The section this one is a step or code of (`2-1 (7)` → `2-1`, `2-2 46` → `2-2`).
    pub fn parent_id(&self) -> Option<&str> {
        self.id.split_once(' ').map(|(p, _)| p)
    }
}

/// The parsed catalogue: the whole of it, or (the one [`catalogue`] gives) each file parsed the
/// first time one of its entries is asked for, so a run pays for the texts it uses.
#[derive(Debug)]
pub struct Catalogue {
    files: &'static [(&'static str, &'static str)],
    /// Each file on its own, parsed on first use.
    parts: Vec<OnceLock<Part>>,
    /// Which files define a key (`"key" =` at the start of a line): the only ones parsed to
    /// look it up. Read from the sources once, without parsing them.
    index: OnceLock<HashMap<&'static str, Vec<usize>>>,
    /// The files merged, every duplicate refused: for listing sections and keys.
    all: OnceLock<Part>,
    /// The file with the `[[section]]` tables, when there is exactly one.
    sections_file: OnceLock<Option<usize>>,
}

/// The entries of one file, or of several merged.
#[derive(Debug, Default)]
struct Part {
    sections: Vec<Section>,
    fixes: BTreeMap<String, Text>,
    labels: BTreeMap<String, Text>,
}

fn text(r: RawText) -> Text {
    Text::new(r.en.trim_end(), r.ja.trim_end())
}

impl Part {
    /// Parse `files` and merge them; a section, fix or label may be defined only once.
    fn parse(files: &[(&str, &str)]) -> Result<Part, String> {
        let mut cat = Part::default();
        for (name, src) in files {
            let raw: RawCatalogue = toml::from_str(src).map_err(|e| format!("{name}: {e}"))?;
            for s in raw.section {
                if cat.sections.iter().any(|have| have.id == s.id) {
                    return Err(format!("{name}: section `{}` defined twice", s.id));
                }
                let keys: Vec<String> = std::iter::once(&s.id)
                    .chain(&s.aliases)
                    .map(|k| normalise(k))
                    .collect();
                let loose_keys = keys.iter().map(|k| loose(k)).collect();
                cat.sections.push(Section {
                    id: s.id,
                    aliases: s.aliases,
                    keys,
                    loose_keys,
                    title: text(s.title),
                    symptom: s.symptom.map(text),
                    cause: text(s.cause),
                    fix: text(s.fix),
                });
            }
            for (k, v) in raw.fix {
                if cat.fixes.insert(k.clone(), text(v)).is_some() {
                    return Err(format!("{name}: fix `{k}` defined twice"));
                }
            }
            for (k, v) in raw.label {
                if cat.labels.insert(k.clone(), text(v)).is_some() {
                    return Err(format!("{name}: label `{k}` defined twice"));
                }
            }
        }
        Ok(cat)
    }
}

/// The catalogue is compiled in and checked by `tests::catalogue_parses`; an empty catalogue
/// here would only hide that test's failure.
fn parsed(r: Result<Part, String>) -> Part {
    r.unwrap_or_else(|e| panic!("built-in guide catalogue is malformed: {e}"))
}

impl Catalogue {
    /// Parse every file now and check that no entry is defined twice.
    #[cfg(test)]
    fn parse(files: &'static [(&'static str, &'static str)]) -> Result<Catalogue, String> {
        let cat = Catalogue::lazy(files);
        let _ = cat.all.set(Part::parse(files)?);
        Ok(cat)
    }

    /// Nothing parsed yet: each file is parsed when an entry of it is first asked for.
    fn lazy(files: &'static [(&'static str, &'static str)]) -> Catalogue {
        Catalogue {
            files,
            parts: files.iter().map(|_| OnceLock::new()).collect(),
            index: OnceLock::new(),
            all: OnceLock::new(),
            sections_file: OnceLock::new(),
        }
    }

    fn part(&self, i: usize) -> &Part {
        self.parts[i].get_or_init(|| parsed(Part::parse(&self.files[i..=i])))
    }

    fn all(&self) -> &Part {
        self.all.get_or_init(|| parsed(Part::parse(self.files)))
    }

    /// The files that may define `key`, from the index of key lines.
    fn files_defining(&self, key: &str) -> &[usize] {
        let index = self.index.get_or_init(|| {
            let mut index: HashMap<&'static str, Vec<usize>> = HashMap::new();
            for (i, (_, src)) in self.files.iter().enumerate() {
                for line in src.lines() {
                    let Some(key) = defined_key(line) else {
                        continue;
                    };
                    let files = index.entry(key).or_default();
                    if files.last() != Some(&i) {
                        files.push(i);
                    }
                }
            }
            index
        });
        index.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    /// An entry found through the index; when the index does not find it (a key written in
    /// another form, or none), the whole catalogue decides.
    fn lookup<'a>(
        &'a self,
        key: &str,
        get: impl Fn(&'a Part) -> Option<&'a Text>,
    ) -> Option<&'a Text> {
        self.files_defining(key)
            .iter()
            .find_map(|&i| get(self.part(i)))
            .or_else(|| get(self.all()))
    }

    /// The guide's sections: parsed from the one file with `[[section]]` tables.
    pub fn sections(&self) -> &[Section] {
        let file = self.sections_file.get_or_init(|| {
            let mut with_sections = self
                .files
                .iter()
                .enumerate()
                .filter(|(_, (_, src))| src.contains("[[section]]"));
            match (with_sections.next(), with_sections.next()) {
                (Some((i, _)), None) => Some(i),
                _ => None,
            }
        });
        match file {
            Some(i) => &self.part(*i).sections,
            None => &self.all().sections,
        }
    }

    /// Look a section up by id or alias, ignoring case, spaces, full-width forms and a leading
    /// "code" / "エラーコード": `2-1`, `2-1 (7)`, `2-1(7)`, `2-1 7`, `46`, `code 46`, `エラーコード４６`.
    pub fn find(&self, query: &str) -> Option<&Section> {
        let q = normalise(query);
        let q_loose = loose(&q);
        let sections = self.sections();
        sections
            .iter()
            .find(|s| s.keys.contains(&q))
            .or_else(|| sections.iter().find(|s| s.loose_keys.contains(&q_loose)))
    }

    /// The steps or codes under a section, in guide order.
    pub fn children<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Section> + 'a {
        self.sections()
            .iter()
            .filter(move |s| s.parent_id() == Some(id))
    }

    pub fn fix_text(&self, key: &str) -> Option<&Text> {
        self.lookup(key, |p| p.fixes.get(key))
    }

    pub fn fix_keys(&self) -> impl Iterator<Item = &str> {
        self.all().fixes.keys().map(String::as_str)
    }

    pub fn label_text(&self, key: &str) -> Option<&Text> {
        self.lookup(key, |p| p.labels.get(key))
    }

    pub fn label_keys(&self) -> impl Iterator<Item = &str> {
        self.all().labels.keys().map(String::as_str)
    }
}

/// The key a TOML line defines: `"quoted.key" = …` or `bare_key = …` (a line inside a
/// value may give a word that is no entry; that only costs a look).
fn defined_key(line: &str) -> Option<&str> {
    let line = line.trim_start();
    if let Some(rest) = line.strip_prefix('"') {
        return rest.find('"').map(|end| &rest[..end]);
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(line.len());
    (end > 0 && line[end..].trim_start().starts_with('=')).then(|| &line[..end])
}

/// A normalised key without brackets: `2-1 7` finds `2-1 (7)`.
fn loose(key: &str) -> String {
    key.replace(['(', ')'], "")
}

fn normalise(s: &str) -> String {
    let lower: String = s
        .chars()
        .map(|c| match c {
            // Full-width ASCII forms (４６, （７）) as typed with a Japanese input method.
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            c => c,
        })
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    // Prefixes in any order and number (`code: エラーコード 46`), so that normalising twice
    // changes nothing.
    let mut rest = lower.as_str();
    loop {
        let next = rest
            .trim_start_matches("エラーコード")
            .trim_start_matches("code")
            .trim_start_matches(['-', ':', '：']);
        if next.len() == rest.len() {
            return next.to_string();
        }
        rest = next;
    }
}

/// The catalogue compiled into the binary, each file parsed when first used; a unit test
/// proves the whole of it parses, and that it reads the same parsed lazily.
pub fn catalogue() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| Catalogue::lazy(FILES))
}

/// A fix from the catalogue with `{name}` placeholders filled in.
/// An unknown key yields the key itself (a test checks every key used in the code exists).
pub fn fix(key: &str, args: &[(&str, &str)]) -> Text {
    let Some(t) = catalogue().fix_text(key) else {
        return Text::same(key);
    };
    Text::new(fill(&t.en, args), fill(&t.ja, args))
}

/// The language of messages made where no renderer's language is at hand (errors that end the
/// run); set once from `--lang` at start-up, else taken from the locale.
static MESSAGE_LANG: OnceLock<Lang> = OnceLock::new();

pub fn set_message_lang(lang: Lang) {
    let _ = MESSAGE_LANG.set(lang);
}

/// A catalogue entry (the `[fix]` table) filled in, in the run's language: for error messages.
pub fn message(key: &str, args: &[(&str, &str)]) -> String {
    let lang = *MESSAGE_LANG.get_or_init(|| Lang::detect(None));
    fix(key, args).get(lang).to_string()
}

/// A finding's text from the catalogue's labels, in both languages, with `{name}`
/// placeholders filled in. An unknown key yields the key itself (a test checks every key used).
pub fn phrase(key: &str, args: &[(&str, &str)]) -> Text {
    let Some(t) = catalogue().label_text(key) else {
        return Text::same(key);
    };
    Text::new(fill(&t.en, args), fill(&t.ja, args))
}

/// A short label (table headers, words of the summary) in the given language.
pub fn label(key: &str, lang: Lang) -> String {
    catalogue()
        .label_text(key)
        .map(|t| t.get(lang).to_string())
        .unwrap_or_else(|| key.to_string())
}

/// What an operating-system error means, in the run's language: the words come from the
/// catalogue by the error's kind, so no English OS message lands in a Japanese sentence.
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    let key = match e.kind() {
        K::NotFound => "errors.io.not_found",
        K::PermissionDenied => "errors.io.permission_denied",
        K::AlreadyExists => "errors.io.already_exists",
        K::IsADirectory => "errors.io.is_a_directory",
        K::NotADirectory => "errors.io.not_a_directory",
        K::ReadOnlyFilesystem => "errors.io.read_only",
        K::StorageFull => "errors.io.storage_full",
        K::BrokenPipe => "errors.io.broken_pipe",
        K::Interrupted => "errors.io.interrupted",
        K::TimedOut => "errors.io.timed_out",
        K::InvalidData => "errors.io.invalid_data",
        K::UnexpectedEof => "errors.io.unexpected_eof",
        K::OutOfMemory => "errors.io.out_of_memory",
        _ => {
            let code = e
                .raw_os_error()
                .map_or_else(|| format!("{:?}", e.kind()), |c| c.to_string());
            return message("errors.io.other", &[("code", &code)]);
        }
    };
    message(key, &[])
}

fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in args {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_parses() {
        Catalogue::parse(FILES).expect("catalogue parses");
    }

    /// Parsed file by file on demand, the catalogue reads exactly as parsed whole.
    #[test]
    fn lazy_lookups_read_as_the_whole_catalogue() {
        let whole = Catalogue::parse(FILES).unwrap();
        let fixes: Vec<&str> = whole.fix_keys().collect();
        let labels: Vec<&str> = whole.label_keys().collect();
        assert!(fixes.len() > 100 && labels.len() > 100);
        let lazy = Catalogue::lazy(FILES);
        for k in &fixes {
            assert_eq!(lazy.fix_text(k), whole.all().fixes.get(*k), "fix {k}");
            assert!(
                lazy.all.get().is_none(),
                "fix {k} needed the whole catalogue"
            );
        }
        for k in &labels {
            assert_eq!(lazy.label_text(k), whole.all().labels.get(*k), "label {k}");
            assert!(
                lazy.all.get().is_none(),
                "label {k} needed the whole catalogue"
            );
        }
        let ids = |c: &Catalogue| {
            c.sections()
                .iter()
                .map(|s| s.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&lazy), ids(&whole));
        assert!(lazy.all.get().is_none());
        assert_eq!(lazy.fix_text("no.such.key"), None);

        // One lookup parses only the file that defines the key.
        let lazy = Catalogue::lazy(FILES);
        assert!(lazy.label_text("html.title").is_some());
        let parsed = lazy.parts.iter().filter(|p| p.get().is_some()).count();
        assert_eq!(parsed, 1);
    }

    #[test]
    fn every_guide_section_is_present_in_both_languages() {
        let cat = catalogue();
        let required = [
            "1-1",
            "1-2",
            "1-3",
            "1-3 (5)-(8)",
            "1-4",
            "1-5",
            "1-6",
            "2-1",
            "2-1 (1)",
            "2-1 (2)",
            "2-1 (3)",
            "2-1 (4)",
            "2-1 (5)",
            "2-1 (6)",
            "2-1 (7)",
            "2-2",
            "2-2 42",
            "2-2 44",
            "2-2 46",
            "2-2 53",
            "2-2 other",
            "2-3",
            "2-4",
        ];
        for id in required {
            let s = cat
                .find(id)
                .unwrap_or_else(|| panic!("section {id} missing"));
            for t in [&s.title, &s.cause, &s.fix] {
                assert!(!t.en.trim().is_empty(), "{id}: empty English text");
                assert!(!t.ja.trim().is_empty(), "{id}: empty Japanese text");
            }
        }
    }

    #[test]
    fn every_id_and_alias_finds_its_own_section() {
        let cat = catalogue();
        for s in cat.sections() {
            for name in std::iter::once(&s.id).chain(&s.aliases) {
                let found = cat.find(name).map(|f| f.id.as_str());
                assert_eq!(found, Some(s.id.as_str()), "`{name}`");
                let upper = name.to_uppercase();
                assert_eq!(cat.find(&upper).map(|f| f.id.as_str()), found, "`{upper}`");
            }
        }
    }

    #[test]
    fn lookup_accepts_aliases_and_loose_spacing() {
        let cat = catalogue();
        assert_eq!(cat.find("46").map(|s| s.id.as_str()), Some("2-2 46"));
        assert_eq!(cat.find("2-1(7)").map(|s| s.id.as_str()), Some("2-1 (7)"));
        assert_eq!(
            cat.find(" 2-1 (7) ").map(|s| s.id.as_str()),
            Some("2-1 (7)")
        );
        assert!(cat.find("9-9").is_none());
        assert_eq!(cat.find("code 46").map(|s| s.id.as_str()), Some("2-2 46"));
        assert_eq!(
            cat.find("code: エラーコード 46").map(|s| s.id.as_str()),
            Some("2-2 46")
        );
        assert_eq!(
            cat.find("エラーコード４６").map(|s| s.id.as_str()),
            Some("2-2 46")
        );
        assert_eq!(cat.find("2-1 7").map(|s| s.id.as_str()), Some("2-1 (7)"));
        assert_eq!(
            cat.find("２－１（７）").map(|s| s.id.as_str()),
            Some("2-1 (7)")
        );
        assert_eq!(
            cat.find("1-3(5)-(8)").map(|s| s.id.as_str()),
            Some("1-3 (5)-(8)")
        );
        assert_eq!(cat.children("2-1").count(), 7);
    }

    #[test]
    fn os_errors_are_named_by_their_kind_in_both_languages() {
        use std::io::{Error, ErrorKind};
        for kind in [
            ErrorKind::NotFound,
            ErrorKind::PermissionDenied,
            ErrorKind::StorageFull,
        ] {
            let words = io_reason(&Error::from(kind));
            assert!(!words.contains("errors.io"), "{kind:?}: no catalogue entry");
        }
        let other = io_reason(&Error::from_raw_os_error(9999));
        assert!(other.contains("9999"), "{other}");
        let cat = catalogue();
        for key in cat.fix_keys().filter(|k| k.starts_with("errors.io.")) {
            let t = cat.fix_text(key).unwrap();
            assert!(!t.en.is_empty() && !t.ja.is_empty(), "{key}");
        }
    }

    #[test]
    fn fix_fills_placeholders() {
        assert_eq!(
            fill("add {p} to {q}", &[("p", "x"), ("q", "y")]),
            "add x to y"
        );
    }

    /// Every fix and label key written as a string literal in the source names an entry of the catalogue.
    #[test]
    fn every_key_used_in_code_exists() {
        let cat = catalogue();
        let re = regex::Regex::new(
            r#"(?:^|[^.\w])(fix|label|message|phrase|catalogued)\(\s*"([a-z0-9_.]+)""#,
        )
        .unwrap();
        let mut stack = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        let mut checked = 0;
        while let Some(p) = stack.pop() {
            for e in std::fs::read_dir(&p).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|x| x == "rs") {
                    let src = std::fs::read_to_string(&path).unwrap();
                    for c in re.captures_iter(&src) {
                        let key = &c[2];
                        let ok = match &c[1] {
                            "fix" | "message" | "catalogued" => cat.fix_text(key).is_some(),
                            _ => cat.label_text(key).is_some(),
                        };
                        assert!(ok, "{}: catalogue has no {} `{key}`", path.display(), &c[1]);
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 0);
    }
}
