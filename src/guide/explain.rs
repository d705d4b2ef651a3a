//! `certprobe explain`: one guide section (with its steps or error codes), or the list of all
//! sections, as a table for people, as JSON for scripts, or as Markdown.

use super::{label, Catalogue, Section};
use crate::finding::Lang;
use comfy_table::{presets::UTF8_FULL, Attribute, Cell, ContentArrangement, Table};
use serde_json::{json, Value};

/// Version of the `explain --format json` documents' shape.
pub const EXPLAIN_SCHEMA_VERSION: u32 = 1;

/// How the table is drawn.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub lang: Lang,
    pub color: bool,
    /// Table width; `None` lets comfy-table measure the terminal.
    pub width: Option<u16>,
}

/// The message for a section that does not exist, in the given language: one line.
pub fn unknown_section(query: &str, lang: Lang) -> String {
    let q = crate::text::escape::clean(query.trim());
    super::fix("errors.explain_unknown", &[("query", &q)])
        .get(lang)
        .to_string()
}

fn new_table(style: &Style) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL);
    t.set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(w) = style.width {
        t.set_width(w);
    }
    if style.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

fn head(s: String, style: &Style) -> Cell {
    let c = Cell::new(s);
    if style.color {
        c.add_attribute(Attribute::Bold)
    } else {
        c
    }
}

/// One section as a two-column table: what the person sees, why, what to do, and the steps
/// or error codes under it.
pub fn section_table(cat: &Catalogue, s: &Section, style: &Style) -> String {
    let lang = style.lang;
    let mut t = new_table(style);
    let mut id = s.id.clone();
    if !s.aliases.is_empty() {
        id.push_str(&format!(
            "  ({} {})",
            label("explain.aliases", lang),
            s.aliases.join(", ")
        ));
    }
    t.add_row(vec![
        head(label("explain.section", lang), style),
        Cell::new(id),
    ]);
    if let Some(parent) = s.parent_id().and_then(|p| cat.find(p)) {
        t.add_row(vec![
            head(label("explain.parent", lang), style),
            Cell::new(format!("{} {}", parent.id, parent.title.get(lang))),
        ]);
    }
    t.add_row(vec![
        head(label("explain.title", lang), style),
        Cell::new(s.title.get(lang)),
    ]);
    if let Some(sym) = &s.symptom {
        t.add_row(vec![
            head(label("explain.symptom", lang), style),
            Cell::new(sym.get(lang)),
        ]);
    }
    t.add_row(vec![
        head(label("explain.cause", lang), style),
        Cell::new(s.cause.get(lang)),
    ]);
    t.add_row(vec![
        head(label("explain.fix", lang), style),
        Cell::new(bullets(s.fix.get(lang))),
    ]);
    let steps: Vec<&Section> = cat.children(&s.id).collect();
    if !steps.is_empty() {
        let list = steps
            .iter()
            .map(|c| format!("{}  {}", c.id, c.title.get(lang)))
            .collect::<Vec<_>>()
            .join("\n");
        t.add_row(vec![
            head(label("explain.steps", lang), style),
            Cell::new(list),
        ]);
    }
    let mut out = t.to_string();
    out.push('\n');
    if !steps.is_empty() {
        out.push_str(&format!(
            "{} certprobe explain \"{}\"\n",
            label("explain.more", lang),
            steps[0].id
        ));
    }
    out
}

/// Several fix lines become a bulleted list; one line stays as it is.
fn bullets(fix: &str) -> String {
    let lines: Vec<&str> = fix.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.len() < 2 {
        return fix.to_string();
    }
    lines
        .iter()
        .map(|l| format!("• {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every section, one row each, steps and codes indented under their section.
pub fn list_table(cat: &Catalogue, style: &Style) -> String {
    let lang = style.lang;
    let mut t = new_table(style);
    t.set_header(vec![
        head(label("explain.section", lang), style),
        head(label("explain.title", lang), style),
        head(label("explain.aliases", lang), style),
    ]);
    for s in cat.sections() {
        let id = if s.parent_id().is_some() {
            format!("  {}", s.id)
        } else {
            s.id.clone()
        };
        t.add_row(vec![
            Cell::new(id),
            Cell::new(s.title.get(lang)),
            Cell::new(s.aliases.join(", ")),
        ]);
    }
    let mut out = t.to_string();
    out.push('\n');
    out.push_str(&format!(
        "{} certprobe explain SECTION\n",
        label("explain.more", lang)
    ));
    out
}

fn section_value(cat: &Catalogue, s: &Section, lang: Lang) -> Value {
    json!({
        "id": s.id,
        "aliases": s.aliases,
        "parent": s.parent_id(),
        "title": s.title.get(lang),
        "symptom": s.symptom.as_ref().map(|t| t.get(lang)),
        "cause": s.cause.get(lang),
        "fix": s.fix.get(lang),
        "steps": cat.children(&s.id).map(|c| json!({
            "id": c.id,
            "title": c.title.get(lang),
        })).collect::<Vec<_>>(),
    })
}

/// `explain SECTION --format json`.
pub fn section_json(cat: &Catalogue, s: &Section, lang: Lang) -> Value {
    json!({
        "schema_version": EXPLAIN_SCHEMA_VERSION,
        "lang": lang.code(),
        "section": section_value(cat, s, lang),
    })
}

/// `explain --list --format json`.
pub fn list_json(cat: &Catalogue, lang: Lang) -> Value {
    json!({
        "schema_version": EXPLAIN_SCHEMA_VERSION,
        "lang": lang.code(),
        "sections": cat.sections().iter().map(|s| json!({
            "id": s.id,
            "aliases": s.aliases,
            "parent": s.parent_id(),
            "title": s.title.get(lang),
        })).collect::<Vec<_>>(),
    })
}

/// `explain SECTION --format markdown`.
pub fn section_markdown(cat: &Catalogue, s: &Section, lang: Lang) -> String {
    let mut out = format!("## {} {}\n\n", s.id, s.title.get(lang));
    if let Some(sym) = &s.symptom {
        out.push_str(&format!(
            "**{}** {}\n\n",
            label("explain.symptom", lang),
            sym.get(lang)
        ));
    }
    out.push_str(&format!(
        "**{}** {}\n\n",
        label("explain.cause", lang),
        s.cause.get(lang)
    ));
    out.push_str(&format!("**{}**\n\n", label("explain.fix", lang)));
    for line in s.fix.get(lang).lines().filter(|l| !l.trim().is_empty()) {
        out.push_str(&format!("- {line}\n"));
    }
    let steps: Vec<&Section> = cat.children(&s.id).collect();
    if !steps.is_empty() {
        out.push_str(&format!("\n**{}**\n\n", label("explain.steps", lang)));
        for c in steps {
            out.push_str(&format!("- {} {}\n", c.id, c.title.get(lang)));
        }
    }
    out
}

/// `explain --list --format markdown`.
pub fn list_markdown(cat: &Catalogue, lang: Lang) -> String {
    let mut out = format!(
        "| {} | {} |\n|---|---|\n",
        label("explain.section", lang),
        label("explain.title", lang)
    );
    for s in cat.sections() {
        out.push_str(&format!(
            "| {} | {} |\n",
            s.id,
            s.title.get(lang).replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guide::catalogue;

    #[test]
    fn a_section_with_steps_lists_them() {
        let cat = catalogue();
        let s = cat.find("2-1").unwrap();
        let out = section_table(cat, s, &Style::default());
        for i in 1..=7 {
            assert!(
                out.contains(&format!("2-1 ({i})")),
                "step {i} missing:\n{out}"
            );
        }
        let v = section_json(cat, s, Lang::En);
        assert_eq!(v["section"]["steps"].as_array().unwrap().len(), 7);
        assert_eq!(v["section"]["parent"], Value::Null);
    }

    #[test]
    fn a_step_names_its_parent() {
        let cat = catalogue();
        let s = cat.find("2-1 (7)").unwrap();
        let v = section_json(cat, s, Lang::Ja);
        assert_eq!(v["section"]["parent"], "2-1");
        assert_eq!(v["lang"], "ja");
        let out = section_table(
            cat,
            s,
            &Style {
                lang: Lang::Ja,
                ..Style::default()
            },
        );
        assert!(out.contains("中間証明書"), "{out}");
        assert!(out.contains("certutil -user -addstore CA"), "{out}");
    }

    #[test]
    fn the_list_has_every_section() {
        let cat = catalogue();
        let out = list_table(cat, &Style::default());
        for s in cat.sections() {
            assert!(out.contains(&s.id), "{} missing", s.id);
        }
        let v = list_json(cat, Lang::En);
        assert_eq!(
            v["sections"].as_array().unwrap().len(),
            cat.sections().len()
        );
    }

    #[test]
    fn unknown_is_one_line_and_suggests_the_list() {
        for lang in [Lang::En, Lang::Ja] {
            let m = unknown_section("9-9\n\u{1b}[31m", lang);
            assert!(!m.contains('\n') && !m.contains('\u{1b}'), "{m}");
            assert!(m.contains("explain --list"), "{m}");
        }
    }

    #[test]
    fn markdown_lists_fixes_as_items() {
        let cat = catalogue();
        let md = section_markdown(cat, cat.find("46").unwrap(), Lang::En);
        assert!(md.starts_with("## 2-2 46 "), "{md}");
        assert!(md.contains("\n- "), "{md}");
        assert!(list_markdown(cat, Lang::Ja).contains("| 2-2 46 |"));
    }
}
