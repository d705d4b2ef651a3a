//! `certprobe inspect FILE...`: every certificate in PEM, DER or PKCS#12 files, and whether a
//! key is present and matches.

use super::{print, Context};
use crate::cert::checks::key_matches;
use crate::cert::info::{show_time, CertInfo};
use crate::cert::source::{read_container, read_key, LoadedKey, Passwords};
use crate::cli::Format;
use crate::error::AppError;
use comfy_table::{presets::UTF8_FULL, Cell, ContentArrangement, Table};
use serde::Serialize;
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Serialize)]
struct CertEntry {
    #[serde(flatten)]
    info: CertInfo,
    days_left: i64,
    /// Whether the key of this file (or --key) belongs to this certificate.
    key_matches: Option<bool>,
}

#[derive(Serialize)]
struct FileEntry {
    path: String,
    format: &'static str,
    certificates: Vec<CertEntry>,
    key: Option<KeyEntry>,
}

#[derive(Serialize)]
struct KeyEntry {
    origin: String,
    format: &'static str,
}

pub fn run(
    ctx: &Context,
    files: &[PathBuf],
    key: Option<&Path>,
    password_env: Option<&str>,
    password_file: Option<&Path>,
) -> Result<u8, AppError> {
    let passwords = Passwords {
        env: password_env.map(str::to_string),
        file: password_file.map(Path::to_path_buf),
    };
    let extra_key = key.map(|k| read_key(k, &passwords)).transpose()?;
    let now = time::OffsetDateTime::now_utc();
    let mut entries = Vec::new();
    for path in files {
        let contents = read_container(path, &passwords)?;
        let key: Option<&LoadedKey> = extra_key.as_ref().or(contents.key.as_ref());
        let mut certificates = Vec::new();
        for der in &contents.certs {
            let info = CertInfo::parse(der).map_err(|e| {
                AppError::catalogued(
                    "commands.inspect.unreadable_cert",
                    &[
                        ("file", &path.display().to_string()),
                        ("error", &e.to_string()),
                    ],
                )
            })?;
            let key_matches = key.map(|k| key_matches(der, k).unwrap_or(false));
            certificates.push(CertEntry {
                days_left: info.days_left(now),
                info,
                key_matches,
            });
        }
        if certificates.is_empty() && key.is_none() {
            return Err(AppError::catalogued(
                "commands.inspect.empty",
                &[("file", &path.display().to_string())],
            ));
        }
        entries.push(FileEntry {
            path: path.display().to_string(),
            format: contents.format,
            certificates,
            key: key.map(|k| KeyEntry {
                origin: k.origin.clone(),
                format: k.format,
            }),
        });
    }
    let text = match ctx.global.format {
        Format::Json => {
            let doc = json!({ "schema_version": 1, "files": entries });
            let mut s = serde_json::to_string_pretty(&doc)
                .map_err(|e| AppError::internal("errors.json", &[("error", &e.to_string())]))?;
            s.push('\n');
            s
        }
        _ => render_table(&entries, ctx),
    };
    print(&text)?;
    Ok(0)
}

fn render_table(entries: &[FileEntry], ctx: &Context) -> String {
    let lang = ctx.lang;
    let t = |key: &str| crate::guide::label(&format!("commands.inspect.{key}"), lang);
    let with = |key: &str, args: &[(&str, &str)]| {
        crate::guide::phrase(&format!("commands.inspect.{key}"), args)
            .get(lang)
            .to_string()
    };
    let yes_no =
        |b: bool| crate::guide::label(if b { "commands.yes" } else { "commands.no" }, lang);
    // File names and certificate fields are escaped before the table measures them (the
    // output gate would escape them anyway, after the layout).
    use crate::text::escape::clean;
    let mut out = String::new();
    for file in entries {
        out.push_str(&format!("{} ({})\n", clean(&file.path), file.format));
        if let Some(k) = &file.key {
            out.push_str(&format!(
                "  {}: {} ({})\n",
                t("private_key"),
                k.format,
                clean(&k.origin)
            ));
        }
        for (i, c) in file.certificates.iter().enumerate() {
            let info = &c.info;
            let mut table = Table::new();
            table.load_style(UTF8_FULL);
            table.set_content_arrangement(ContentArrangement::Dynamic);
            if let Some(w) = ctx.render.width {
                table.set_width(w);
            }
            table.set_header(vec![
                Cell::new(format!("#{}", i + 1)),
                Cell::new(clean(&info.subject_name)),
            ]);
            let validity = if c.days_left < 0 {
                t("expired")
            } else {
                with("days_left", &[("days", &c.days_left.to_string())])
            };
            let none = |o: &Option<Vec<String>>| match o {
                Some(v) => v.join(", "),
                None => t("any_use"),
            };
            let rows: Vec<(String, String)> = vec![
                (t("subject"), clean(&info.subject)),
                (t("issuer"), clean(&info.issuer)),
                (t("serial"), info.serial.clone()),
                (t("not_before"), show_time(info.not_before)),
                (
                    t("not_after"),
                    format!("{} ({validity})", show_time(info.not_after)),
                ),
                (t("sans"), clean(&info.sans.join(", "))),
                (t("eku"), none(&info.eku)),
                (t("key_usage"), none(&info.key_usage)),
                (
                    t("key"),
                    with(
                        "key_size",
                        &[
                            ("type", &info.key_type),
                            ("bits", &info.key_bits.to_string()),
                        ],
                    ),
                ),
                (t("signature"), info.signature_algorithm.clone()),
                (t("is_ca"), yes_no(info.is_ca)),
                ("SHA-256".to_string(), info.sha256.clone()),
                (
                    t("key_matches"),
                    match c.key_matches {
                        Some(b) => yes_no(b),
                        None => t("no_key"),
                    },
                ),
            ];
            for (k, v) in rows {
                table.add_row(vec![Cell::new(k), Cell::new(v)]);
            }
            out.push_str(&table.to_string());
            out.push('\n');
        }
    }
    out
}
