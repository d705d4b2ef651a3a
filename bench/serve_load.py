#!/usr/bin/env python3
"""Load benchmark of `certprobe serve` (not a test): N modules (default 50), each scraped by the
real Prometheus every 15 s for 10 minutes, against nginx with client authentication on 127.0.0.1.

Reports the probe latency (p50/p99 of every probe_duration_seconds sample and of Prometheus's
scrape_duration_seconds), certprobe's CPU time over the run and its RSS at the start (after the
first round of scrapes) and at the end, read from /proc. Writes bench/results/serve-load-<stamp>.json.

    cargo build --release && python3 bench/serve_load.py [--modules 50] [--minutes 10] [--interval 15]
"""

import argparse
import datetime
import json
import os
import sys
import time

sys.dont_write_bytecode = True
from serve_common import (ROOT, Procs, log, nginx, pki, profile, prom_query, proc_stat,
                          prometheus, serve)


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", type=int, default=50)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--interval", type=int, default=15)
    ap.add_argument("--versions-cache", default="1h")
    args = ap.parse_args()

    procs = Procs()
    try:
        verify, open_, _unknown, nginx_pid = nginx(procs)
        prof = profile(procs, verify, open_)
        conf = [f'[server]\nmax_concurrent_probes = 4\nmax_queued_probes = 64\n'
                f'versions_cache = "{args.versions_cache}"\n']
        for i in range(args.modules):
            conf.append(
                f'[module.m{i:02}]\nprofile = "{prof}"\ncert = "{pki("client-chain.pem")}"\n'
                f'key = "{pki("client.key")}"\ntrust = ["{pki("server-root.pem")}", "{pki("root.pem")}"]\n'
                f'no_system_trust = true\nendpoints = ["login"]\n')
        cfg = os.path.join(procs.tmp, "serve.toml")
        open(cfg, "w").write("\n".join(conf))
        addr, sp = serve(procs, cfg)
        groups = "".join(
            f"      - targets: [login]\n        labels:\n          module: m{i:02}\n"
            for i in range(args.modules))
        port, _ = prometheus(procs, f"""global:
  scrape_interval: {args.interval}s
  scrape_timeout: {min(10, args.interval)}s
scrape_configs:
  - job_name: certprobe
    metrics_path: /probe
    static_configs:
{groups}    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [module]
        target_label: __param_module
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: {addr}
""")
        log(f"serve at {addr} (pid {sp.pid}), prometheus at 127.0.0.1:{port}, "
            f"{args.modules} modules every {args.interval} s for {args.minutes} min")
        # Start: after the first round of scrapes.
        time.sleep(args.interval + 2)
        t0 = time.time()
        cpu0, rss0 = proc_stat(sp.pid)
        ncpu0, _ = proc_stat(nginx_pid)
        load0 = os.getloadavg()
        rss_samples = [rss0]
        end = t0 + args.minutes * 60
        while time.time() < end:
            time.sleep(min(30, max(0, end - time.time())))
            rss_samples.append(proc_stat(sp.pid)[1])
            log(f"rss {rss_samples[-1] / 1e6:.1f} MB")
        t1 = time.time()
        cpu1, rss1 = proc_stat(sp.pid)
        ncpu1, _ = proc_stat(nginx_pid)
        load1 = os.getloadavg()
        window = f"{int(t1 - t0)}s"
        probe = [float(v[1]) for s in prom_query(port, f"probe_duration_seconds[{window}]", t1)
                 for v in s.get("values", [])]
        scrape = [float(v[1]) for s in prom_query(
            port, f'scrape_duration_seconds{{job="certprobe"}}[{window}]', t1)
            for v in s.get("values", [])]
        ok = [float(v[1]) for s in prom_query(port, f"probe_success[{window}]", t1)
              for v in s.get("values", [])]
        up = [float(v[1]) for s in prom_query(port, f'up{{job="certprobe"}}[{window}]', t1)
              for v in s.get("values", [])]
        res = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "binary": "release" if "release" in sp.args[0] else "debug",
            "modules": args.modules, "interval_s": args.interval, "seconds": round(t1 - t0, 1),
            "versions_cache": args.versions_cache,
            "probes": len(probe), "probe_success_ratio": round(sum(ok) / len(ok), 4) if ok else None,
            "scrapes_up_ratio": round(sum(up) / len(up), 4) if up else None,
            "probe_p50_ms": round(pct(probe, 50) * 1000, 1),
            "probe_p99_ms": round(pct(probe, 99) * 1000, 1),
            "probe_max_ms": round(max(probe) * 1000, 1) if probe else None,
            "scrape_p50_ms": round(pct(scrape, 50) * 1000, 1),
            "scrape_p99_ms": round(pct(scrape, 99) * 1000, 1),
            "certprobe_cpu_s": round(cpu1 - cpu0, 2),
            "certprobe_cpu_percent_of_one_core": round(100 * (cpu1 - cpu0) / (t1 - t0), 2),
            "nginx_cpu_s": round(ncpu1 - ncpu0, 2),
            "rss_start_mb": round(rss0 / 1e6, 1), "rss_end_mb": round(rss1 / 1e6, 1),
            "rss_max_mb": round(max(rss_samples) / 1e6, 1),
            "loadavg_start": load0, "loadavg_end": load1,
            "cpus": os.cpu_count(),
        }
        print(json.dumps(res, indent=2))
        out = os.path.join(ROOT, "bench", "results",
                           f"serve-load-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        open(out, "w").write(json.dumps(res, indent=2) + "\n")
        log(f"wrote {out}; p50 {res['probe_p50_ms']} ms, p99 {res['probe_p99_ms']} ms")
    finally:
        procs.stop()


if __name__ == "__main__":
    main()
