//! URLs shown or written without their credentials.
//!
//! A proxy setting such as `http://user:pa#ss@proxy:3128` is not a valid URL once its password
//! holds `#`, `/`, `?` or `@` unencoded, yet people write them so (and tools accept them).
//! Credentials are what the `url` crate parses as user and password, and also everything up to
//! the last `@` (hiding too much is safe, too little is not); the text shown starts after that
//! last `@`, so no reading of the URL leaves a part of the password in it.

/// What a URL-like setting looks like to people: scheme, host, port, path — never user or
/// password (`http://u:p@proxy:8080` → `http://proxy:8080`).
///
/// The url crate finds the userinfo where the URL is well-formed; the text shown is then what
/// follows the last `@` of the original, which is where the authority begins in every reading
/// (the url crate's, and that of tools that allow `#`, `/`, `?` unencoded in a password).
pub fn without_credentials(value: &str) -> String {
    let raw = split(value);
    if raw.userinfo.is_none() {
        // No `@` anywhere: no credentials, whatever the parser would say.
        return value.to_string();
    }
    format!("{}{}", raw.scheme, raw.host)
}

/// The user and password of a URL-like setting, raw and percent-decoded, longest first: to
/// scrub wherever they appear (an error message, a header echoed by a proxy).
pub fn credentials(value: &str) -> Vec<String> {
    let Some(userinfo) = split(value).userinfo else {
        return Vec::new();
    };
    let mut out = vec![userinfo.to_string()];
    if let Some((user, password)) = userinfo.split_once(':') {
        out.push(user.to_string());
        out.push(password.to_string());
    }
    // What the url crate takes as user and password, when it parses.
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    if let Ok(u) = ::url::Url::parse(&with_scheme) {
        out.push(u.username().to_string());
        out.extend(u.password().map(str::to_string));
    }
    let decoded: Vec<String> = out
        .iter()
        .filter_map(|p| percent_encoding::percent_decode_str(p).decode_utf8().ok())
        .map(|d| d.into_owned())
        .collect();
    out.extend(decoded);
    out.retain(|s| !s.is_empty());
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out
}

struct Split<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    host: &'a str,
}

/// `scheme://` (may be empty), everything up to the last `@` (the widest possible userinfo),
/// and what follows it.
fn split(value: &str) -> Split<'_> {
    let (scheme, rest) = match value.find("://") {
        Some(i) => value.split_at(i + 3),
        None => ("", value),
    };
    match rest.rfind('@') {
        Some(i) => Split {
            scheme,
            userinfo: Some(&rest[..i]),
            host: &rest[i + 1..],
        },
        None => Split {
            scheme,
            userinfo: None,
            host: rest,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character with a meaning in a URL, raw and percent-encoded, in the password.
    #[test]
    fn no_password_survives() {
        let specials = "#/?@:%[]!$&'()*+,;= ~\\\"<>^`{|}";
        for c in specials.chars() {
            let raw = format!("pa{c}ss{c}");
            let enc: String =
                percent_encoding::utf8_percent_encode(&raw, percent_encoding::NON_ALPHANUMERIC)
                    .to_string();
            for pw in [raw.clone(), enc.clone()] {
                for url in [
                    format!("http://user:{pw}@proxy.example:3128"),
                    format!("http://user:{pw}@proxy.example:3128/"),
                    format!("user:{pw}@proxy.example:3128"),
                    format!("http://{pw}@proxy.example:3128"),
                ] {
                    let shown = without_credentials(&url);
                    assert!(!shown.contains("pa"), "{url} shown as {shown}");
                    assert!(shown.contains("proxy.example:3128"), "{url} → {shown}");
                    let creds = credentials(&url);
                    assert!(creds.contains(&pw), "{url}: {creds:?}");
                    assert!(creds.contains(&raw), "{url}: {creds:?}");
                }
            }
        }
    }

    #[test]
    fn urls_without_credentials_are_unchanged() {
        assert_eq!(
            without_credentials("http://proxy:8080"),
            "http://proxy:8080"
        );
        assert_eq!(without_credentials("proxy:3128"), "proxy:3128");
        assert!(credentials("http://proxy:8080/").is_empty());
        assert_eq!(
            without_credentials("http://alice:s%40cret@proxy.example:8080/"),
            "http://proxy.example:8080/"
        );
        assert_eq!(without_credentials("u:p@proxy:3128"), "proxy:3128");
        assert_eq!(
            without_credentials("http://user:pa#ss@proxy:3128"),
            "http://proxy:3128"
        );
    }
}
