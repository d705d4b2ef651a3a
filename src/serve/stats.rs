//! The exporter's own health for `/metrics`: requests, their durations, probes in flight and
//! waiting, refusals, and the process's CPU time and memory.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the probe-duration histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Default)]
struct Hist {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Stats {
    /// (path, status code) → requests.
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// path → (seconds, requests).
    durations: Mutex<BTreeMap<&'static str, (f64, u64)>>,
    /// (module, success) → probes run.
    probes: Mutex<BTreeMap<(String, bool), u64>>,
    probe_hist: Mutex<Hist>,
    pub in_flight: AtomicUsize,
    pub queued: AtomicUsize,
    pub rejected: AtomicU64,
    pub timed_out: AtomicU64,
    pub connections_refused: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Stats {
    pub fn request(&self, path: &'static str, code: u16, took: Duration) {
        *lock(&self.requests).entry((path, code)).or_default() += 1;
        let mut d = lock(&self.durations);
        let e = d.entry(path).or_default();
        e.0 += took.as_secs_f64();
        e.1 += 1;
    }

    pub fn probe(&self, module: &str, success: bool, took: Duration) {
        *lock(&self.probes)
            .entry((module.to_string(), success))
            .or_default() += 1;
        let s = took.as_secs_f64();
        let mut h = lock(&self.probe_hist);
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                h.counts[i] += 1;
            }
        }
        h.sum += s;
        h.count += 1;
    }

    pub fn render(&self, esc: impl Fn(&str) -> String) -> String {
        let mut o = String::new();
        o.push_str("# HELP certprobe_serve_requests_total HTTP requests answered, by path and status code.\n");
        o.push_str("# TYPE certprobe_serve_requests_total counter\n");
        for ((path, code), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                o,
                "certprobe_serve_requests_total{{path=\"{path}\",code=\"{code}\"}} {n}"
            );
        }
        o.push_str("# HELP certprobe_serve_request_duration_seconds Time spent answering requests, by path.\n");
        o.push_str("# TYPE certprobe_serve_request_duration_seconds summary\n");
        for (path, (sum, n)) in lock(&self.durations).iter() {
            let _ = writeln!(
                o,
                "certprobe_serve_request_duration_seconds_sum{{path=\"{path}\"}} {sum}"
            );
            let _ = writeln!(
                o,
                "certprobe_serve_request_duration_seconds_count{{path=\"{path}\"}} {n}"
            );
        }
        o.push_str("# HELP certprobe_serve_probes_total Probes run, by module and result.\n");
        o.push_str("# TYPE certprobe_serve_probes_total counter\n");
        for ((module, ok), n) in lock(&self.probes).iter() {
            let _ = writeln!(
                o,
                "certprobe_serve_probes_total{{module=\"{}\",success=\"{ok}\"}} {n}",
                esc(module)
            );
        }
        o.push_str("# HELP certprobe_serve_probe_duration_seconds How long probes took.\n");
        o.push_str("# TYPE certprobe_serve_probe_duration_seconds histogram\n");
        {
            let h = lock(&self.probe_hist);
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    o,
                    "certprobe_serve_probe_duration_seconds_bucket{{le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                o,
                "certprobe_serve_probe_duration_seconds_bucket{{le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(o, "certprobe_serve_probe_duration_seconds_sum {}", h.sum);
            let _ = writeln!(
                o,
                "certprobe_serve_probe_duration_seconds_count {}",
                h.count
            );
        }
        let gauges = [
            (
                "certprobe_serve_probes_in_flight",
                "Probes running now.",
                self.in_flight.load(Ordering::Relaxed) as u64,
            ),
            (
                "certprobe_serve_probes_queued",
                "Probes waiting for a slot now.",
                self.queued.load(Ordering::Relaxed) as u64,
            ),
        ];
        for (name, help, v) in gauges {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        let counters = [
            (
                "certprobe_serve_probes_rejected_total",
                "Scrapes answered 503 because the queue was full or no slot came in time.",
                self.rejected.load(Ordering::Relaxed),
            ),
            (
                "certprobe_serve_probes_timed_out_total",
                "Probes cut off by the scrape's timeout.",
                self.timed_out.load(Ordering::Relaxed),
            ),
            (
                "certprobe_serve_connections_refused_total",
                "Connections closed at once because too many were open.",
                self.connections_refused.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        }
        process_metrics(&mut o);
        o
    }
}

/// CPU time and resident memory of this process (Linux; elsewhere nothing).
fn process_metrics(o: &mut String) {
    #[cfg(target_os = "linux")]
    {
        if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
            // Fields after the command name, which is in parentheses and may hold spaces.
            if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
                let f: Vec<&str> = rest.split_whitespace().collect();
                // utime and stime are fields 14 and 15 of the line, in USER_HZ (100 on Linux).
                if let (Some(u), Some(s)) = (
                    f.get(11).and_then(|x| x.parse::<f64>().ok()),
                    f.get(12).and_then(|x| x.parse::<f64>().ok()),
                ) {
                    let _ = writeln!(
                        o,
                        "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}",
                        (u + s) / 100.0
                    );
                }
            }
        }
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            let kb = |key: &str| {
                status
                    .lines()
                    .find(|l| l.starts_with(key))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
            };
            if let Some(rss) = kb("VmRSS:") {
                let _ = writeln!(
                    o,
                    "# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}",
                    rss * 1024
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = o;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_histogram() {
        let s = Stats::default();
        s.request("/probe", 200, Duration::from_millis(20));
        s.request("/probe", 400, Duration::from_millis(1));
        s.probe("a\"b", true, Duration::from_millis(20));
        let out = s.render(crate::report::prometheus::esc);
        assert!(out.contains("certprobe_serve_requests_total{path=\"/probe\",code=\"400\"} 1"));
        assert!(out.contains("certprobe_serve_probes_total{module=\"a\\\"b\",success=\"true\"} 1"));
        assert!(out.contains("certprobe_serve_probe_duration_seconds_bucket{le=\"0.025\"} 1"));
        assert!(out.contains("certprobe_serve_probe_duration_seconds_bucket{le=\"0.01\"} 0"));
        assert!(out.contains("certprobe_serve_probes_in_flight 0"));
    }
}
