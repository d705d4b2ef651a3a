//! Prometheus text exposition format 0.0.4, for node_exporter's textfile collector, and the
//! answer of `certprobe serve` to one scrape ([`render_probe`]): blackbox_exporter's metric
//! names where it has one, then what certprobe knows beside them.

use super::{RenderOptions, Report};
use crate::finding::Status;

pub(crate) fn esc(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

pub fn render(report: &Report, opts: &RenderOptions) -> String {
    let mut out = String::new();
    steps(&mut out, report, opts);
    out
}

/// Every finding's status and duration, the summary and the run's time: the textfile output.
fn steps(out: &mut String, report: &Report, opts: &RenderOptions) {
    let profile = esc(&report.profile);
    out.push_str(
        "# HELP certprobe_finding_status 1 for the status a finding has, 0 for the others.\n",
    );
    out.push_str("# TYPE certprobe_finding_status gauge\n");
    for f in &report.findings {
        for st in Status::ALL {
            out.push_str(&format!(
                "certprobe_finding_status{{profile=\"{profile}\",id=\"{}\",phase=\"{}\",target=\"{}\",status=\"{}\"}} {}\n",
                esc(&f.id),
                f.phase.as_str(),
                esc(&f.target),
                st.as_str(),
                u8::from(f.status == st)
            ));
        }
    }
    out.push_str("# HELP certprobe_finding_duration_seconds Time a step took.\n");
    out.push_str("# TYPE certprobe_finding_duration_seconds gauge\n");
    for f in &report.findings {
        if let Some(d) = f.elapsed {
            out.push_str(&format!(
                "certprobe_finding_duration_seconds{{profile=\"{profile}\",id=\"{}\",target=\"{}\"}} {}\n",
                esc(&f.id),
                esc(&f.target),
                d.as_secs_f64()
            ));
        }
    }
    let s = report.summary();
    out.push_str("# HELP certprobe_findings Number of findings by status.\n");
    out.push_str("# TYPE certprobe_findings gauge\n");
    for st in Status::ALL {
        out.push_str(&format!(
            "certprobe_findings{{profile=\"{profile}\",status=\"{}\"}} {}\n",
            st.as_str(),
            s.count(st)
        ));
    }
    out.push_str("# HELP certprobe_success 1 when no finding failed.\n");
    out.push_str("# TYPE certprobe_success gauge\n");
    out.push_str(&format!(
        "certprobe_success{{profile=\"{profile}\"}} {}\n",
        u8::from(report.exit_code(opts.strict) == 0)
    ));
    out.push_str("# HELP certprobe_duration_seconds Time the whole check took.\n");
    out.push_str("# TYPE certprobe_duration_seconds gauge\n");
    out.push_str(&format!(
        "certprobe_duration_seconds{{profile=\"{profile}\"}} {}\n",
        report.duration.as_secs_f64()
    ));
    out.push_str(
        "# HELP certprobe_last_run_timestamp_seconds When the check started (Unix time).\n",
    );
    out.push_str("# TYPE certprobe_last_run_timestamp_seconds gauge\n");
    out.push_str(&format!(
        "certprobe_last_run_timestamp_seconds{{profile=\"{profile}\"}} {}\n",
        report.started.unix_timestamp()
    ));
}

pub mod probe;
pub use probe::{render_probe, Exposition};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn one_gauge_per_status_and_escaped_labels() {
        let out = render(&sample::report(), &RenderOptions::default());
        assert!(out.contains("certprobe_finding_status{profile=\"ebunsho\",id=\"cert.chain\",phase=\"local\",target=\"me.p12\",status=\"fail\"} 1"));
        assert!(out.contains("certprobe_success{profile=\"ebunsho\"} 0"));
        assert_eq!(esc("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
