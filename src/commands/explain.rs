use super::{print, Context};
use crate::cli::Format;
use crate::error::AppError;
use crate::guide::{catalogue, explain};

pub fn run(ctx: &Context, section: Option<&str>, list: bool) -> Result<u8, AppError> {
    let cat = catalogue();
    let lang = ctx.lang;
    let style = explain::Style {
        lang,
        color: ctx.render.color,
        width: ctx.render.width,
    };
    let json = |v: serde_json::Value| {
        let mut s = serde_json::to_string_pretty(&v)
            .map_err(|e| AppError::internal("errors.json", &[("error", &e.to_string())]))?;
        s.push('\n');
        Ok::<_, AppError>(s)
    };
    let out = if list {
        match ctx.global.format {
            Format::Table => explain::list_table(cat, &style),
            Format::Json => json(explain::list_json(cat, lang))?,
            Format::Markdown => explain::list_markdown(cat, lang),
            other => return Err(unsupported(other)),
        }
    } else {
        let query = section.unwrap_or_default();
        let s = cat
            .find(query)
            .ok_or_else(|| AppError::Input(explain::unknown_section(query, lang)))?;
        match ctx.global.format {
            Format::Table => explain::section_table(cat, s, &style),
            Format::Json => json(explain::section_json(cat, s, lang))?,
            Format::Markdown => explain::section_markdown(cat, s, lang),
            other => return Err(unsupported(other)),
        }
    };
    print(&out)?;
    Ok(0)
}

fn unsupported(f: Format) -> AppError {
    use clap::ValueEnum;
    let name = f
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default();
    AppError::catalogued("errors.explain_format", &[("format", &name)])
}
