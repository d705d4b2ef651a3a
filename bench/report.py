#!/usr/bin/env python3
"""Turn a benchmark result (bench/results/<stamp>/summary.json) into docs/performance.md (from
bench/performance.md.in) and the plot docs/performance-rtt.svg. Python standard library only.

usage: bench/report.py RESULT_DIR [EARLIER_RESULT_DIR...]

Commands missing from RESULT_DIR (a `--no-slow` run) are taken from the earlier runs and marked.
"""

import json
import math
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
CHECK = "certprobe check"
ONE = "certprobe check, 1 endpoint"

# Order and colours of the network commands (plot and table).
NETWORK = [
    ("certprobe check", "#1f77b4"),
    ("certprobe check, 1 endpoint", "#17becf"),
    ("certprobe check via proxy", "#9467bd"),
    ("curl ×1", "#2ca02c"),
    ("curl ×4 in sequence", "#98df8a"),
    ("curl ×4 via proxy", "#bcbd22"),
    ("openssl s_client", "#ff7f0e"),
    ("testssl.sh --protocols", "#d62728"),
    ("sslyze (versions only)", "#8c564b"),
]
LOCAL = ["certprobe check --only local", "certprobe verify", "openssl verify", "certprobe --help",
         "true (process start floor)"]


def fmt_ms(v):
    if v is None:
        return "–"
    if v >= 1000:
        return f"{v / 1000:.2f} s"
    if v >= 100:
        return f"{v:.0f} ms"
    if v >= 10:
        return f"{v:.1f} ms"
    return f"{v:.2f} ms"


def fmt_x(v):
    if v is None:
        return "–"
    if v >= 10:
        return f"{v:.0f}×"
    return f"{v:.2f}×"


def cell(cmds, name, rtt, key):
    e = cmds.get(name, {}).get("by_rtt", {}).get(str(rtt))
    return None if e is None else e[key]


def network_rows(cmds):
    """The known commands in order, with any `certprobe check (…)` variants after the check."""
    rows = []
    for name, colour in NETWORK:
        rows.append((name, colour))
        if name == CHECK:
            rows += [(n, "#7f7f7f") for n in sorted(cmds) if n.startswith(CHECK + " (")]
    return rows


def network_table(s):
    cmds = s["commands"]
    rtts = s["meta"]["rtts_ms"]
    mid = 50 if 50 in rtts else rtts[-1]
    head = ["Command"] + [f"wall @ {r} ms RTT" for r in rtts] + [
        f"spread @ {mid} ms (min–max)", "RTTs (b)", "fixed (a)", f"CPU user+sys @ {mid}", "peak RSS",
        f"wall ÷ check @ {mid}", "CPU ÷ check"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    base_wall = cell(cmds, CHECK, mid, "wall_ms_median")
    base_cpu = cell(cmds, CHECK, mid, "cpu_ms_median")
    for name, _ in network_rows(cmds):
        if name not in cmds:
            continue
        c = cmds[name]
        fit = c.get("fit") or {}
        walls = [fmt_ms(cell(cmds, name, r, "wall_ms_median")) for r in rtts]
        lo, hi = cell(cmds, name, mid, "wall_ms_min"), cell(cmds, name, mid, "wall_ms_max")
        n = cell(cmds, name, mid, "n")
        wall = cell(cmds, name, mid, "wall_ms_median")
        cpu = cell(cmds, name, mid, "cpu_ms_median")
        rss = max((e["rss_mib_max"] or 0) for e in c["by_rtt"].values())
        mark = f" (run of {c['from_date']})" if c.get("from_run") else ""
        row = [f"`{name}`{mark}"] + walls + [
            f"{fmt_ms(lo)} – {fmt_ms(hi)} (n={n})",
            f"{fit['b_rtts']:.1f}" if fit else "–",
            fmt_ms(fit["a_ms"]) if fit else "–",
            fmt_ms(cpu),
            f"{rss:.1f} MiB",
            fmt_x(wall / base_wall) if wall and base_wall else "–",
            fmt_x(cpu / base_cpu) if cpu and base_cpu else "–",
        ]
        rows.append("| " + " | ".join(row) + " |")
    return "\n".join(rows)


def local_table(s):
    cmds = s["commands"]
    r0 = s["meta"]["rtts_ms"][0]
    head = ["Command (offline)", "wall (median)", "spread (min–max)", "CPU user+sys", "peak RSS"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in LOCAL:
        e = cmds.get(name, {}).get("by_rtt", {}).get(str(r0))
        if not e:
            continue
        rows.append(f"| `{name}` | {fmt_ms(e['wall_ms_median'])} | {fmt_ms(e['wall_ms_min'])} – "
                    f"{fmt_ms(e['wall_ms_max'])} (n={e['n']}) | {fmt_ms(e['cpu_ms_median'])} | "
                    f"{e['rss_mib_max']:.1f} MiB |")
    return "\n".join(rows)


def targets(s):
    cmds = s["commands"]
    rtts = s["meta"]["rtts_ms"]
    mid = 50 if 50 in rtts else rtts[-1]
    r0 = rtts[0]
    g = lambda n, r, k: cell(cmds, n, r, k)  # noqa: E731
    rows = ["| Target | Measured | Met? |", "|---|---|---|"]

    def add(target, measured, ok):
        rows.append(f"| {target} | {measured} | {'yes' if ok else '**no**'} |")

    w = g(CHECK, mid, "wall_ms_median")
    fit = cmds.get(CHECK, {}).get("fit") or {}
    if w is not None and mid > 0:
        add(f"whole `check` (4 endpoints, versions) ≤ 4 RTT of wall time at {mid} ms",
            f"{fmt_ms(w)} = {w / mid:.1f} RTT (fit: {fmt_ms(fit.get('a_ms'))} + {fit.get('b_rtts', 0):.1f} × RTT)",
            w <= 4 * mid)
    c1 = g("curl ×1", mid, "wall_ms_median")
    if w and c1 and mid > 0:
        add(f"whole `check` within 1.3× of one curl request at {mid} ms", f"{w / c1:.2f}× ({fmt_ms(c1)} for curl)",
            w / c1 <= 1.3)
    for other in ("testssl.sh --protocols", "sslyze (versions only)"):
        for r in (r0, mid):
            t = g(other, r, "wall_ms_median")
            one = g(ONE, r, "wall_ms_median")
            if t and one:
                add(f"version enumeration ≥ 50× faster than `{other}` (same server, {r} ms RTT)",
                    f"{t / one:.0f}× ({fmt_ms(one)} vs {fmt_ms(t)}; whole 4-endpoint check: "
                    f"{t / g(CHECK, r, 'wall_ms_median'):.0f}×)", t / one >= 50)
    cpu = g(CHECK, mid, "cpu_ms_median")
    if cpu is not None:
        add("CPU time of a full check < 30 ms", fmt_ms(cpu), cpu < 30)
    rss = max((e["rss_mib_max"] or 0 for e in cmds.get(CHECK, {}).get("by_rtt", {}).values()), default=None)
    if rss is not None:
        add("peak RSS of a full check < 20 MB", f"{rss:.1f} MiB ({rss * 1.048576:.1f} MB)", rss * 1.048576 < 20)
    h = g("certprobe --help", r0, "wall_ms_median")
    if h is not None:
        add("`certprobe --help` < 5 ms", fmt_ms(h), h < 5)
    v, o = g("certprobe verify", r0, "wall_ms_median"), g("openssl verify", r0, "wall_ms_median")
    if v and o:
        add("`certprobe verify` within 1.5× of `openssl verify`", f"{v / o:.2f}× ({fmt_ms(v)} vs {fmt_ms(o)})",
            v / o <= 1.5)
    return "\n".join(rows)


def steps_table(s):
    """Per-step times of one check at each RTT, from its JSON report."""
    snaps = s.get("snapshots") or {}
    if not snaps:
        return ""
    rtts = sorted(snaps, key=lambda k: int(k))
    ids = []
    for r in rtts:
        for i in snaps[r]["steps"]:
            if i.startswith("net.") and i not in ids:
                ids.append(i)
    head = ["Finding"] + [f"{r} ms RTT" for r in rtts]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i in ids:
        cells = []
        for r in rtts:
            st, ms = snaps[r]["steps"].get(i, (None, None))
            cells.append("–" if st is None else f"{st} {fmt_ms(ms)}" if ms is not None else st)
        rows.append(f"| `{i}` | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def cross_table(s):
    cross = s.get("versions_crosscheck") or {}
    if not cross:
        return "(not run)"
    keys = ["TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3"]
    rows = ["| Server | " + " | ".join(keys) + " | agree |", "|---|" + "---|" * (len(keys) + 1)]

    def yn(v):
        return "?" if v is None else "yes" if v else "no"

    for label, r in cross.items():
        cells = [f"{yn(r['certprobe'].get(k))} / {yn(r['testssl'].get(k))}" for k in keys]
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {'yes' if r['agree'] else '**no**'} |")
    if s.get("crosscheck_from"):
        rows.append(f"\n(From the run of {s['crosscheck_from']}.)")
    return "\n".join(rows)


def svg(s, path):
    cmds = s["commands"]
    rtts = s["meta"]["rtts_ms"]
    W, H = 900, 520
    L, R, T, B = 80, 290, 40, 60
    pw, ph = W - L - R, H - T - B
    vals = [e["wall_ms_median"] for n, _ in network_rows(cmds) if n in cmds for e in cmds[n]["by_rtt"].values()]
    if not vals:
        return
    lo = 10 ** math.floor(math.log10(max(min(vals), 0.1)))
    hi = 10 ** math.ceil(math.log10(max(vals)))
    xmax = max(rtts) or 1

    def X(r):
        return L + pw * r / xmax

    def Y(v):
        return T + ph * (1 - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)))

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
         f'font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{L}" y="22" font-size="15" font-weight="bold">Wall time vs round-trip time '
         f'(median, log scale)</text>']
    d = lo
    while d <= hi * 1.0001:
        for m in (1, 2, 5):
            v = d * m
            if lo <= v <= hi:
                y = Y(v)
                o.append(f'<line x1="{L}" y1="{y:.1f}" x2="{L + pw}" y2="{y:.1f}" stroke="#ddd"/>')
                o.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt_ms(v)}</text>')
        d *= 10
    for r in rtts:
        x = X(r)
        o.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{T + ph}" stroke="#eee"/>')
        o.append(f'<text x="{x:.1f}" y="{T + ph + 18}" text-anchor="middle">{r} ms</text>')
    o.append(f'<text x="{L + pw / 2}" y="{H - 15}" text-anchor="middle">round-trip time (added by a delaying '
             f'relay on 127.0.0.1)</text>')
    o.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    ly = T + 10
    for name, colour in network_rows(cmds):
        if name not in cmds:
            continue
        pts = [(X(r), Y(cmds[name]["by_rtt"][str(r)]["wall_ms_median"])) for r in rtts
               if str(r) in cmds[name]["by_rtt"]]
        width = 3 if name.startswith("certprobe") else 1.8
        o.append(f'<polyline fill="none" stroke="{colour}" stroke-width="{width}" points="'
                 + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        for x, y in pts:
            o.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>')
        o.append(f'<line x1="{L + pw + 15}" y1="{ly}" x2="{L + pw + 40}" y2="{ly}" stroke="{colour}" '
                 f'stroke-width="{width}"/>')
        o.append(f'<text x="{L + pw + 46}" y="{ly + 4}">{name.replace("×", "x")}</text>')
        ly += 20
    o.append("</svg>")
    open(path, "w", encoding="utf-8").write("\n".join(o) + "\n")


def runs_text(s):
    r = s["meta"]["runs"]
    slow = any(n in s["commands"] and not s["commands"][n].get("from_run")
               for n in ("testssl.sh --protocols", "sslyze (versions only)"))
    mid = f"{r['slow']} for testssl.sh and sslyze, " if slow else ""
    return f"{r['default']} runs per command and RTT; {mid}{r['local']} for the offline commands"


def notes():
    """The hand-written reading of the results (bench/performance-notes.md), if any."""
    p = os.path.join(ROOT, "bench", "performance-notes.md")
    return open(p, encoding="utf-8").read().strip() if os.path.exists(p) else ""


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    res = os.path.abspath(sys.argv[1])
    s = json.load(open(os.path.join(res, "summary.json"), encoding="utf-8"))
    # Commands the main run left out (e.g. `--no-slow`) are taken from earlier full runs, marked.
    for extra in sys.argv[2:]:
        e = json.load(open(os.path.join(os.path.abspath(extra), "summary.json"), encoding="utf-8"))
        for name, c in e["commands"].items():
            if name not in s["commands"]:
                c["from_run"] = os.path.relpath(os.path.abspath(extra), ROOT)
                c["from_date"] = e["meta"]["date"]
                s["commands"][name] = c
        if not s.get("versions_crosscheck") and e.get("versions_crosscheck"):
            s["versions_crosscheck"] = e["versions_crosscheck"]
            s["crosscheck_from"] = e["meta"]["date"]
    os.makedirs(DOCS, exist_ok=True)
    svg(s, os.path.join(DOCS, "performance-rtt.svg"))
    m = s["meta"]
    tpl = open(os.path.join(ROOT, "bench", "performance.md.in"), encoding="utf-8").read()
    rel = os.path.relpath(res, ROOT)
    subs = {
        "DATE": m["date"],
        "MACHINE": m["machine"],
        "LOAD": f"{m.get('load_avg_at_start', 0):.1f}",
        "COMMAND": m["command"],
        "RUNS": runs_text(s),
        "RESULTS": rel,
        "NETWORK_TABLE": network_table(s),
        "LOCAL_TABLE": local_table(s),
        "TARGETS": targets(s),
        "STEPS": steps_table(s),
        "CROSSCHECK": cross_table(s),
        "TOOLS": f"{' '.join(m.get('curl', '?').split()[:2])}; {' '.join(m.get('openssl', '?').split()[:2])}",
        "NOTES": notes(),
    }
    for k, v in subs.items():
        tpl = tpl.replace(f"@{k}@", v)
    open(os.path.join(DOCS, "performance.md"), "w", encoding="utf-8").write(tpl)
    print(f"wrote docs/performance.md and docs/performance-rtt.svg from {rel}")


if __name__ == "__main__":
    main()
