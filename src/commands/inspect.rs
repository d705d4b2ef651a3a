//! `certprobe inspect FILE...`: every certificate in PEM, DER or PKCS#12 files, and whether a
//! key is present and matches.

use super::{print, Context};
use crate::cert::checks::key_matches;
use crate::cert::info::{show_time, CertInfo};
use crate::cert::source::{read_container, read_key, LoadedKey, Passwords};
use crate::cli::Format;
use crate::error::AppError;
use crate::finding::{Lang, Text};
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
                AppError::input(format!("{}: unreadable certificate: {e}", path.display()))
            })?;
            let key_matches = key.map(|k| key_matches(der, k).unwrap_or(false));
            certificates.push(CertEntry {
                days_left: info.days_left(now),
                info,
                key_matches,
            });
        }
        if certificates.is_empty() && key.is_none() {
            return Err(AppError::input(format!(
                "{}: no certificate or key in this file",
                path.display()
            )));
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
                .map_err(|e| AppError::Internal(e.to_string()))?;
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
    let t = |en: &str, ja: &str| Text::new(en, ja).get(lang).to_string();
    // File names and certificate fields are escaped before the table measures them (the
    // output gate would escape them anyway, after the layout).
    use crate::text::escape::clean;
    let mut out = String::new();
    for file in entries {
        out.push_str(&format!("{} ({})\n", clean(&file.path), file.format));
        if let Some(k) = &file.key {
            out.push_str(&format!(
                "  {}: {} ({})\n",
                t("private key", "秘密鍵"),
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
                t("EXPIRED", "期限切れ")
            } else {
                format!("{} {}", c.days_left, t("days left", "日残り"))
            };
            let none = |o: &Option<Vec<String>>, lang: Lang| match o {
                Some(v) => v.join(", "),
                None => Text::new("(not present: any use)", "(なし: すべての用途)")
                    .get(lang)
                    .to_string(),
            };
            let rows: Vec<(String, String)> = vec![
                (t("Subject", "発行先"), clean(&info.subject)),
                (t("Issuer", "発行者"), clean(&info.issuer)),
                (t("Serial", "シリアル番号"), info.serial.clone()),
                (
                    t("Not before", "有効期間の開始"),
                    show_time(info.not_before),
                ),
                (
                    t("Not after", "有効期間の終了"),
                    format!("{} ({validity})", show_time(info.not_after)),
                ),
                (
                    t("SANs", "サブジェクト代替名"),
                    clean(&info.sans.join(", ")),
                ),
                (
                    t("Extended key usage", "拡張キー使用法"),
                    none(&info.eku, lang),
                ),
                (t("Key usage", "キー使用法"), none(&info.key_usage, lang)),
                (
                    t("Key", "鍵"),
                    format!("{} {} bits", info.key_type, info.key_bits),
                ),
                (
                    t("Signature", "署名アルゴリズム"),
                    info.signature_algorithm.clone(),
                ),
                (t("CA", "CA"), info.is_ca.to_string()),
                ("SHA-256".to_string(), info.sha256.clone()),
                (
                    t("Private key matches", "秘密鍵の一致"),
                    match c.key_matches {
                        Some(true) => t("yes", "はい"),
                        Some(false) => t("no", "いいえ"),
                        None => t("(no key)", "(鍵なし)"),
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
