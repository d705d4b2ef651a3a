//! The one way text leaves the program: stdout, stderr and the report files all pass through
//! [`sanitize`]. Renderers already escape each untrusted field with [`super::escape::clean`];
//! this is the last gate, so that a field a renderer forgot still cannot reach a terminal or a
//! file with a raw control, bidi or zero-width character.
//!
//! Kept as they are: newlines (the output is lines) and, only when colour was asked for, the
//! colour sequences our own renderers write (`ESC [ digits ; … m`, which can only change the
//! colour, never move the cursor, set a title or reach the clipboard).

use std::io::Write;

/// How the text going out is escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Visible `\u{1b}` escapes.
    Text,
    /// As `Text`, but our own SGR colour sequences survive.
    Colour,
    /// JSON: the character's own JSON escape (`\u001b`), so the document stays valid and
    /// means the same (such characters can only stand inside JSON strings).
    Json,
}

/// `s` with every control (C0 except the newline, DEL, C1), bidi and zero-width character
/// escaped as `gate` says.
pub fn sanitize(s: &str, gate: Gate) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if gate == Gate::Colour && c == '\u{1b}' {
            if let Some(len) = sgr_len(rest) {
                out.push_str(&rest[..len]);
                rest = &rest[len..];
                continue;
            }
        }
        if c == '\n' {
            out.push('\n');
        } else if gate == Gate::Json && super::escape::needs_escape(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else if super::escape::needs_escape(c) {
            out.push_str(&super::escape::clean(c.encode_utf8(&mut [0; 4])));
        } else {
            // What `clean` keeps as it is, without a string made for each character.
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The length of an SGR sequence (`ESC [ 0-9 ; … m`) at the start of `s`.
fn sgr_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 3 || b[0] != 0x1b || b[1] != b'[' {
        return None;
    }
    let params = b[2..]
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == b';')
        .count();
    (params <= 32 && b.get(2 + params) == Some(&b'm')).then_some(3 + params)
}

/// Write to stdout through [`sanitize`]; a closed pipe (`certprobe … | head`) is not an error.
pub fn stdout(s: &str, gate: Gate) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out
        .write_all(sanitize(s, gate).as_bytes())
        .and_then(|_| out.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// One message on stderr through [`sanitize`] (never colour).
pub fn stderr(s: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(sanitize(s, Gate::Text).as_bytes());
    let _ = err.flush();
}

/// A writer for log lines (`-v`): each event is buffered and goes out sanitized when dropped.
pub struct LogLine(Vec<u8>);

impl LogLine {
    pub fn new() -> LogLine {
        LogLine(Vec::new())
    }
}

impl Default for LogLine {
    fn default() -> Self {
        LogLine::new()
    }
}

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            stderr(&String::from_utf8_lossy(&self.0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_newlines_and_asked_for_colour_survive() {
        assert_eq!(
            sanitize("a\u{1b}]52;c;eA==\u{7}\tb\r\n", Gate::Text),
            "a\\u{1b}]52;c;eA==\\u{7}\\u{9}b\\u{d}\n"
        );
        assert_eq!(
            sanitize("\u{1b}[1;31mFAIL\u{1b}[0m", Gate::Colour),
            "\u{1b}[1;31mFAIL\u{1b}[0m"
        );
        assert_eq!(sanitize("\u{1b}[31mX", Gate::Text), "\\u{1b}[31mX");
        // Cursor movement, title setting and other CSI are not colour.
        assert_eq!(
            sanitize("\u{1b}[2J\u{1b}[H", Gate::Colour),
            "\\u{1b}[2J\\u{1b}[H"
        );
        assert_eq!(
            sanitize("\u{202e}x\u{200b}", Gate::Colour),
            "\\u{202e}x\\u{200b}"
        );
        assert_eq!(sanitize("証明書 ok", Gate::Text), "証明書 ok");
    }

    #[test]
    fn json_stays_json() {
        let doc = "{\"s\": \"a\u{9b}b\u{202e}c\"}\n";
        let out = sanitize(doc, Gate::Json);
        assert_eq!(out, "{\"s\": \"a\\u009bb\\u202ec\"}\n");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["s"], "a\u{9b}b\u{202e}c");
    }
}
