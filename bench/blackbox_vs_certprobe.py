#!/usr/bin/env python3
"""The same broken client-certificate log-ins probed by prometheus-blackbox-exporter (Debian
package) and by `certprobe serve`, side by side, on nginx at 127.0.0.1. Prints a Markdown table of
what each reports (the README's "Monitoring many sites" table comes from here) and writes
bench/results/blackbox-vs-certprobe-<stamp>.json.

    cargo build --release && python3 bench/blackbox_vs_certprobe.py
"""

import datetime
import json
import os
import re
import sys
import subprocess
import time
import urllib.parse

sys.dont_write_bytecode = True
from serve_common import (ROOT, Procs, free_port, get, log, need, nginx, pki, profile, serve,
                          wait_port)


def metrics(text):
    """name{labels} value lines → list of (name, labels dict, value)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        if not m:
            continue
        labels = dict(re.findall(r'([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def first(ms, name, **want):
    for n, labels, v in ms:
        if n == name and all(labels.get(k) == w for k, w in want.items()):
            return labels, v
    return None, None


def expiring_chain(tmp, days):
    openssl = need("openssl", "openssl")
    csr, leaf, ext = (os.path.join(tmp, n) for n in ("e.csr", "e.pem", "ext.cnf"))
    open(ext, "w").write("extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n")
    subprocess.run([openssl, "req", "-new", "-key", pki("client.key"), "-subj",
                    "/C=JP/O=SECOM Trust Systems CO.,LTD./OU=certprobe test/CN=S47000009",
                    "-out", csr], check=True)
    subprocess.run([openssl, "x509", "-req", "-in", csr, "-CA", pki("inter.pem"), "-CAkey",
                    pki("inter.key"), "-set_serial", "4243", "-days", str(days), "-extfile", ext,
                    "-out", leaf], check=True, stderr=subprocess.DEVNULL)
    chain = os.path.join(tmp, "expiring-chain.pem")
    open(chain, "w").write(open(leaf).read() + open(pki("inter.pem")).read())
    return chain


def main():
    bbe = need("prometheus-blackbox-exporter", "prometheus-blackbox-exporter")
    procs = Procs()
    try:
        verify, open_, unknown, _ = nginx(procs)
        closed = free_port()
        profiles = {
            "login": profile(procs, verify, open_, "p-login.toml"),
            "unreachable": profile(procs, closed, closed, "p-closed.toml"),
            "unknown_ca": profile(procs, unknown, unknown, "p-unknown.toml"),
        }
        # The error page: the service answers 200 with its error code 46.
        text = open(profiles["login"]).read().replace("/utf8/login.html", "/utf8/error-46.html")
        profiles["page46"] = os.path.join(procs.tmp, "p-46.toml")
        open(profiles["page46"], "w").write(text)
        expiring = expiring_chain(procs.tmp, 10)
        good = (pki("client-chain.pem"), pki("client.key"))
        # (name, what is wrong, profile, (cert, key) or None, URL blackbox probes)
        url = f"https://localhost:{verify}/utf8/login.html"
        cases = [
            ("healthy", "nothing", "login", good, url),
            ("expiring", "client certificate expires in 10 days", "login",
             (expiring, pki("client.key")), url),
            ("expired", "client certificate expired", "login",
             (pki("client-expired.pem"), pki("client.key")), url),
            ("wrong_issuer", "client certificate from another CA of the same root", "login",
             (pki("client-wrong-issuer-chain.pem"), pki("client.key")), url),
            ("no_cert", "no client certificate configured", "login", None, url),
            ("unreachable", "server down (port closed)", "unreachable", good,
             f"https://localhost:{closed}/utf8/login.html"),
            ("unknown_ca", "server certificate from an untrusted CA (interception)", "unknown_ca",
             good, f"https://localhost:{unknown}/utf8/login.html"),
            ("page46", "log-in page answers 200 with error code 46", "page46", good,
             f"https://localhost:{verify}/utf8/error-46.html"),
        ]
        conf = ["[server]\nversions_cache = \"0\"\n"]
        bb = ["modules:"]
        trust = f'trust = ["{pki("server-root.pem")}", "{pki("root.pem")}"]\nno_system_trust = true\n'
        for name, _, prof, ident, _ in cases:
            conf.append(f'[module.{name}]\nprofile = "{profiles[prof]}"\nendpoints = ["login"]\n'
                        f'timeout = "5s"\n{trust}' +
                        (f'cert = "{ident[0]}"\nkey = "{ident[1]}"\n' if ident else ""))
            bb.append(f"  {name}:\n    prober: http\n    timeout: 5s\n    http:\n"
                      f"      fail_if_not_ssl: true\n      tls_config:\n"
                      f"        ca_file: {pki('server-root.pem')}\n" +
                      (f"        cert_file: {ident[0]}\n        key_file: {ident[1]}\n"
                       if ident else ""))
        cfg = os.path.join(procs.tmp, "serve.toml")
        open(cfg, "w").write("\n".join(conf))
        bbcfg = os.path.join(procs.tmp, "blackbox.yml")
        open(bbcfg, "w").write("\n".join(bb) + "\n")
        addr, _ = serve(procs, cfg)
        bport = free_port()
        procs.start([bbe, f"--config.file={bbcfg}", f"--web.listen-address=127.0.0.1:{bport}"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(bport)
        rows = []
        now = time.time()
        for name, what, _, _, target in cases:
            q = urllib.parse.urlencode({"module": name, "target": target})
            _, btext = get(f"http://127.0.0.1:{bport}/probe?{q}")
            q = urllib.parse.urlencode({"module": name, "target": "login"})
            code, ctext = get(f"http://{addr}/probe?{q}")
            b, c = metrics(btext), metrics(ctext)
            _, b_ok = first(b, "probe_success")
            _, b_status = first(b, "probe_http_status_code")
            _, b_expiry = first(b, "probe_ssl_earliest_cert_expiry")
            _, c_ok = first(c, "probe_success")
            verdict, _ = first(c, "certprobe_verdict_info")
            _, leaf = first(c, "certprobe_client_cert_expiry_timestamp_seconds", role="leaf")
            server, _ = first(c, "certprobe_server_cert_expiry_timestamp_seconds", depth="0")
            _, c_status = first(c, "probe_http_status_code", endpoint="login")
            rows.append({
                "setup": name, "what": what,
                "blackbox": {"probe_success": b_ok, "http_status": b_status,
                             "server_cert_expiry": b_expiry is not None,
                             "client_cert_expiry": any(n.startswith("probe_ssl_client") for n, _, _ in b)},
                "certprobe": {"http": code, "probe_success": c_ok, "http_status": c_status,
                              "reason": (verdict or {}).get("reason"),
                              "finding": (verdict or {}).get("finding"),
                              "section": (verdict or {}).get("section"),
                              "client_cert_days_left": None if leaf is None else round((leaf - now) / 86400),
                              "server_cert": None if server is None else server.get("handshake")},
            })
        print("| set-up | blackbox_exporter 0.23 | certprobe serve |")
        print("|---|---|---|")
        for r in rows:
            b, c = r["blackbox"], r["certprobe"]
            bt = (f"success {b['probe_success']:.0f}, HTTP {b['http_status']:.0f}, server cert expiry "
                  f"{'yes' if b['server_cert_expiry'] else 'none'}, client cert expiry none")
            ct = (f"success {c['probe_success']:.0f}, reason `{c['reason']}`"
                  + (f", `{c['finding']}`, guide {c['section']}" if c["finding"] else "")
                  + (f", client cert {c['client_cert_days_left']} days left"
                     if c["client_cert_days_left"] is not None else ", no client cert")
                  + (f", server cert (handshake {c['server_cert']})" if c["server_cert"] else ", no server cert"))
            print(f"| {r['what']} | {bt} | {ct} |")
        out = os.path.join(ROOT, "bench", "results", "blackbox-vs-certprobe-"
                           + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + ".json")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        doc = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "rows": rows}
        open(out, "w").write(json.dumps(doc, indent=2) + "\n")
        log(f"wrote {out}")
    finally:
        procs.stop()


if __name__ == "__main__":
    main()
