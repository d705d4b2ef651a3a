//! Figures written for people: durations (`12 ms`, `2.0 s`), sizes (`4 MiB`, `11 bytes`) and
//! dates (`2023-09-30`).

use std::time::Duration;
use time::OffsetDateTime;

/// A day as people read it, in UTC: `2023-09-30`.
pub fn date(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_default()
}

/// `850 µs`, `12 ms`, `2.0 s`, `95 s`, `3 min 5 s`: enough digits to read, never nanoseconds.
pub fn duration(d: Duration) -> String {
    let us = d.as_micros();
    if us < 1_000 {
        return format!("{us} µs");
    }
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1_000.0 {
        return format!("{} ms", ms.round() as u64);
    }
    let s = d.as_secs_f64();
    if s < 60.0 {
        return format!("{s:.1} s");
    }
    let whole = d.as_secs();
    if whole < 600 {
        return format!("{whole} s");
    }
    format!("{} min {} s", whole / 60, whole % 60)
}

/// `11 bytes`, `1 KiB`, `3.5 KiB`, `4 MiB`.
pub fn bytes(n: u64) -> String {
    const K: u64 = 1024;
    let unit = |n: u64, u: u64, name: &str| {
        if n.is_multiple_of(u) {
            format!("{} {name}", n / u)
        } else {
            format!("{:.1} {name}", n as f64 / u as f64)
        }
    };
    match n {
        1 => "1 byte".to_string(),
        n if n < K => format!("{n} bytes"),
        n if n < K * K => unit(n, K, "KiB"),
        n if n < K * K * K => unit(n, K * K, "MiB"),
        n => unit(n, K * K * K, "GiB"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(Duration::from_micros(850)), "850 µs");
        assert_eq!(duration(Duration::from_micros(12_400)), "12 ms");
        assert_eq!(duration(Duration::from_nanos(1_997_745_006)), "2.0 s");
        assert_eq!(duration(Duration::from_secs(95)), "95 s");
        assert_eq!(duration(Duration::from_secs(605)), "10 min 5 s");
        assert_eq!(duration(Duration::ZERO), "0 µs");
    }

    #[test]
    fn dates_are_days_in_utc() {
        assert_eq!(
            date(time::macros::datetime!(2023-09-30 23:30 -02:00)),
            "2023-10-01"
        );
        assert_eq!(
            date(time::macros::datetime!(2023-09-30 4:20 UTC)),
            "2023-09-30"
        );
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(bytes(1), "1 byte");
        assert_eq!(bytes(11), "11 bytes");
        assert_eq!(bytes(1024), "1 KiB");
        assert_eq!(bytes(3584), "3.5 KiB");
        assert_eq!(bytes(4 * 1024 * 1024), "4 MiB");
    }
}
