//! Durations written for people: `0.4 ms`, `12 ms`, `2.0 s`, `1 min 5 s`.

use std::time::Duration;

/// A duration as a person reads it: milliseconds below a second (one decimal below 10 ms),
/// seconds with one decimal below a minute, then minutes and seconds.
pub fn duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if d.as_secs() < 60 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} min {} s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_a_person_writes() {
        assert_eq!(duration(Duration::from_micros(420)), "0.4 ms");
        assert_eq!(duration(Duration::from_micros(12_400)), "12 ms");
        assert_eq!(duration(Duration::from_nanos(1_997_745_006)), "2.0 s");
        assert_eq!(duration(Duration::from_secs(65)), "1 min 5 s");
    }
}
