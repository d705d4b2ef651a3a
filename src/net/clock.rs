//! The local clock against the servers' `Date` headers.

use std::time::SystemTime;

/// Parse an HTTP date (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let t = time::PrimitiveDateTime::parse(s.trim(), &fmt).ok()?;
    Some(t.assume_utc().into())
}

/// Local minus server time, in seconds (positive: the local clock is ahead).
/// `received` is when the response head arrived; the server's second is truncated, so half
/// a second is added to it.
pub fn skew_seconds(server_date: SystemTime, received: SystemTime) -> f64 {
    let server = server_date + std::time::Duration::from_millis(500);
    match received.duration_since(server) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// A skew within this is normal.
pub const OK_SECONDS: f64 = 60.0;
/// A skew beyond this breaks certificate validity checks near their edges and log-in tokens.
pub const FAIL_SECONDS: f64 = 300.0;

/// `+3 min 12 s` / `-2 h 5 min` style, for people.
pub fn human(secs: f64) -> String {
    let sign = if secs < 0.0 { "-" } else { "+" };
    let s = secs.abs().round() as u64;
    if s < 60 {
        format!("{sign}{s} s")
    } else if s < 3600 {
        format!("{sign}{} min {} s", s / 60, s % 60)
    } else if s < 86400 {
        format!("{sign}{} h {} min", s / 3600, (s % 3600) / 60)
    } else {
        format!("{sign}{} d {} h", s / 86400, (s % 86400) / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn http_dates_parse() {
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            784111777
        );
        assert!(parse_http_date("yesterday").is_none());
    }

    #[test]
    fn skew_is_signed() {
        let now = SystemTime::now();
        let ahead = skew_seconds(now - Duration::from_secs(600), now);
        assert!((ahead - 599.5).abs() < 0.01);
        assert!(skew_seconds(now + Duration::from_secs(600), now) < -600.0);
        assert_eq!(human(192.0), "+3 min 12 s");
        assert_eq!(human(-7500.0), "-2 h 5 min");
    }
}
