#!/usr/bin/env python3
"""certprobe benchmark: certprobe side by side with curl, openssl, testssl.sh and sslyze.

Started by scripts/bench.sh (which builds the release binaries first). Python standard library
only. Starts on 127.0.0.1: nginx (client certificate required / not asked / TLS 1.0 only), a
TLS 1.0-only `openssl s_server`, tinyproxy, and a delaying TCP relay (examples/delay_relay.rs)
in front of every server, once per round-trip time. Every command runs N times per RTT,
interleaved; each run's wall time, CPU time (user+sys, the process and all its children) and
peak RSS come from wait4(2). Writes bench/results/<stamp>/samples.json and summary.json, and
(through bench/report.py) docs/performance.md and docs/performance-rtt.svg.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKI = os.path.join(ROOT, "fixtures", "pki")
PAGES = os.path.join(ROOT, "fixtures", "nginx", "pages")
BENCH = os.path.join(ROOT, "bench")


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def die(msg):
    log("error: " + msg)
    sys.exit(1)


def need(name, package):
    path = shutil.which(name)
    if not path:
        die(f"`{name}` not found: install {package}")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, what, seconds=10.0):
    end = time.time() + seconds
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    die(f"{what} did not listen on 127.0.0.1:{port}")


def drain(stream, sink=None):
    """Read a child's pipe to the end in a thread so that it never blocks on a full pipe."""

    def run():
        for line in iter(stream.readline, b""):
            if sink is not None:
                sink(line.decode("utf-8", "replace"))

    t = threading.Thread(target=run, daemon=True)
    t.start()


def readline_within(stream, seconds):
    """One line of a child's output, or "" when none comes in time."""
    import select

    end = time.time() + seconds
    buf = b""
    fd = stream.fileno()
    while not buf.endswith(b"\n"):
        left = end - time.time()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        c = os.read(fd, 1)
        if not c:
            break
        buf += c
    return buf.decode("utf-8", "replace")


class Servers:
    """nginx, openssl s_server and tinyproxy on 127.0.0.1; stopped by PID in stop()."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []

    def start(self):
        nginx = need("nginx", "nginx-light")
        openssl = need("openssl", "openssl")
        tinyproxy = need("tinyproxy", "tinyproxy")

        # nginx: three server blocks.
        d = os.path.join(self.tmp, "nginx")
        os.makedirs(d)
        self.port_verify, self.port_open, self.port_legacy = free_port(), free_port(), free_port()
        conf = open(os.path.join(BENCH, "nginx.conf.in"), encoding="utf-8").read()
        for k, v in {
            "DIR": d,
            "PKI": PKI,
            "PAGES": PAGES,
            "PORT_VERIFY": self.port_verify,
            "PORT_OPEN": self.port_open,
            "PORT_LEGACY": self.port_legacy,
        }.items():
            conf = conf.replace(f"@{k}@", str(v))
        open(os.path.join(d, "nginx.conf"), "w", encoding="utf-8").write(conf)
        self.spawn([nginx, "-p", d, "-c", os.path.join(d, "nginx.conf"), "-e", os.path.join(d, "error.log")])
        for p in (self.port_verify, self.port_open, self.port_legacy):
            wait_port(p, "nginx")

        # openssl s_server: TLS 1.0 only (it serves one connection at a time).
        p = subprocess.Popen(
            [openssl, "s_server", "-accept", "127.0.0.1:0", "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0",
             "-cert", os.path.join(PKI, "server.pem"), "-key", os.path.join(PKI, "server.key"), "-www"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self.procs.append(p)
        m, line = None, "?"
        while not m and line:
            line = readline_within(p.stdout, 10.0)
            m = re.match(r"ACCEPT 127\.0\.0\.1:(\d+)", line)
        if not m:
            die(f"openssl s_server did not start: {line!r}")
        self.port_sserver = int(m.group(1))
        drain(p.stdout)

        # tinyproxy: a plain CONNECT proxy.
        self.port_proxy = free_port()
        tconf = os.path.join(self.tmp, "tinyproxy.conf")
        open(tconf, "w").write(
            f"Port {self.port_proxy}\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 60\nMaxClients 100\n"
            "LogLevel Critical\n"
        )
        self.spawn([tinyproxy, "-d", "-c", tconf])
        wait_port(self.port_proxy, "tinyproxy")

    def spawn(self, argv):
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class Relay:
    """examples/delay_relay in front of each upstream port, with one RTT."""

    def __init__(self, binary, rtt_ms, upstreams):
        self.p = subprocess.Popen(
            [binary, "--rtt-ms", str(rtt_ms)] + [f"127.0.0.1:{u}" for u in upstreams],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self.port = {}
        while True:
            line = readline_within(self.p.stdout, 10.0)
            if not line:
                die("delay_relay exited before READY")
            if line.strip() == "READY":
                break
            _, local, up = line.split()
            self.port[int(up.rsplit(":", 1)[1])] = int(local.rsplit(":", 1)[1])

    def stop(self):
        self.p.stdin.close()  # the relay exits when its standard input closes
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.p.terminate()
            self.p.wait()


DEVNULL_ACTIONS = [
    (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
    (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
    (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0),
]


def run_once(argvs, env):
    """Run argv lists in sequence. Returns wall s, cpu s (user+sys incl. children), peak RSS KiB,
    exit codes."""
    cpu = 0.0
    rss = 0
    codes = []
    start = time.perf_counter()
    for argv in argvs:
        pid = os.posix_spawn(argv[0], argv, env, file_actions=DEVNULL_ACTIONS)
        _, status, ru = os.wait4(pid, 0)
        codes.append(os.waitstatus_to_exitcode(status))
        cpu += ru.ru_utime + ru.ru_stime
        rss = max(rss, ru.ru_maxrss)
    wall = time.perf_counter() - start
    return wall, cpu, rss, codes


def peak_rss_kib(argvs, env, gnu_time, tmp):
    """Peak RSS in KiB of the biggest process of a run, measured through GNU time: a child of
    this Python process would inherit its high-water mark (wait4 reports the maximum of the
    Python image and the command), a child of the small `time` process does not."""
    out = os.path.join(tmp, "rss")
    peak = 0
    for argv in argvs:
        pid = os.posix_spawn(gnu_time, [gnu_time, "-f", "%M", "-o", out] + argv, env,
                             file_actions=DEVNULL_ACTIONS)
        os.wait4(pid, 0)
        try:
            peak = max(peak, int(open(out).read().split()[-1]))
        except (OSError, ValueError, IndexError):
            pass
    return peak


def capture(argv, env, timeout=120):
    r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def clean_env():
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["LC_ALL"] = "C.UTF-8"
    env.pop("CERTPROBE_PROFILE", None)
    return env


class Bench:
    def __init__(self, a):
        self.a = a
        self.certprobe = os.path.abspath(a.certprobe)
        self.relay_bin = os.path.abspath(a.relay)
        for f in (self.certprobe, self.relay_bin):
            if not os.access(f, os.X_OK):
                die(f"{f} is missing: run scripts/bench.sh, which builds both")
        self.curl = need("curl", "curl")
        self.openssl = need("openssl", "openssl")
        self.testssl = shutil.which("testssl") or shutil.which("testssl.sh")
        if not self.testssl:
            die("`testssl` not found: install the Debian package testssl.sh")
        self.sslyze = a.sslyze or shutil.which("sslyze")
        if not a.no_slow and (not self.sslyze or not os.access(self.sslyze, os.X_OK)):
            die("`sslyze` not found: `python3 -m venv /tmp/sslyze-venv && /tmp/sslyze-venv/bin/pip install sslyze`,"
                " then pass --sslyze /tmp/sslyze-venv/bin/sslyze")
        self.env = clean_env()
        self.tmp = tempfile.mkdtemp(prefix="certprobe-bench.")
        self.samples = []  # dicts: cmd, rtt_ms, wall_s, cpu_s, exit
        self.rss = []  # dicts: cmd, rtt_ms, rss_kib
        self.gnu_time = "/usr/bin/time"
        if not os.access(self.gnu_time, os.X_OK):
            die("/usr/bin/time (GNU time) not found: install the Debian package `time`")

    # -- the commands ---------------------------------------------------------------------------

    def identity(self):
        return ["--cert", f"{PKI}/client-chain.pem", "--key", f"{PKI}/client.key",
                "--trust", f"{PKI}/server-root.pem", "--trust", f"{PKI}/root.pem"]

    def profile_for(self, relay):
        s = self.servers
        text = open(os.path.join(BENCH, "profile.toml.in"), encoding="utf-8").read()
        for k, port in {"PORT_VERIFY": s.port_verify, "PORT_OPEN": s.port_open,
                        "PORT_LEGACY": s.port_legacy}.items():
            text = text.replace(f"@{k}@", str(relay.port[port]))
        path = os.path.join(self.tmp, f"profile-{relay.rtt}.toml")
        open(path, "w", encoding="utf-8").write(text)
        return path

    def sserver_profile(self, relay):
        """The same profile with every endpoint on the single-threaded TLS 1.0 `openssl s_server`."""
        text = open(os.path.join(BENCH, "profile.toml.in"), encoding="utf-8").read()
        port = relay.port[self.servers.port_sserver]
        for k in ("PORT_VERIFY", "PORT_OPEN", "PORT_LEGACY"):
            text = text.replace(f"@{k}@", str(port))
        path = os.path.join(self.tmp, f"profile-sserver-{relay.rtt}.toml")
        open(path, "w", encoding="utf-8").write(text)
        return path

    def network_commands(self, relay, profile):
        s = self.servers
        cp = [self.certprobe, "--profile", profile, "--timeout", "60s", "--format", "json", "--lang", "en"]
        verify, open_, legacy = (relay.port[s.port_verify], relay.port[s.port_open], relay.port[s.port_legacy])
        urls = [f"https://localhost:{verify}/utf8/login.html", f"https://localhost:{open_}/utf8/login.html",
                f"https://localhost:{legacy}/utf8/login.html", f"https://localhost:{verify}/utf8/login.html"]
        curl = [self.curl, "-s", "-o", "/dev/null", "--max-time", "60", "--cert", f"{PKI}/client-chain.pem",
                "--key", f"{PKI}/client.key", "--cacert", f"{PKI}/server-root.pem"]
        proxy = f"http://127.0.0.1:{s.port_proxy}"
        sserver = [self.certprobe, "--profile", self.sserver_profile(relay), "--timeout", "60s", "--format",
                   "json", "--lang", "en"]
        c = {
            "certprobe check": [cp + ["check"] + self.identity()],
            "certprobe check, 1 endpoint": [cp + ["check", "--only", "network", "--endpoint", "login"]
                                            + self.identity()],
            "certprobe check, 1 endpoint on openssl s_server -tls1": [
                sserver + ["check", "--only", "network", "--endpoint", "issuance"] + self.identity()],
            "certprobe check via proxy": [cp + ["check", "--proxy", proxy] + self.identity()],
            "curl ×1": [curl + [urls[0]]],
            "curl ×4 in sequence": [curl + [u] for u in urls],
            "curl ×4 via proxy": [curl + ["--proxy", proxy, u] for u in urls],
            "openssl s_client": [[self.openssl, "s_client", "-connect", f"127.0.0.1:{verify}",
                                  "-servername", "localhost", "-cert", f"{PKI}/client.pem",
                                  "-cert_chain", f"{PKI}/inter.pem", "-key", f"{PKI}/client.key",
                                  "-CAfile", f"{PKI}/server-root.pem", "-verify_return_error", "-brief"]],
        }
        for label, binary in self.a.also:
            # Every certprobe command again with the other binary (same arguments).
            alt = os.path.abspath(binary)
            for name in [n for n in c if n.startswith("certprobe ")]:
                c[f"{name} ({label})"] = [[alt] + argv[1:] for argv in c[name]]
        if self.a.only:
            c = {n: v for n, v in c.items() if any(n == o or n.startswith(o + " (") for o in self.a.only)}
        if not self.a.no_slow:
            c["testssl.sh --protocols"] = [[self.testssl, "--protocols", "--quiet", "--color", "0",
                                            "--warnings", "off", "--nodns", "none", "--ip", "127.0.0.1",
                                            f"localhost:{verify}"]]
            c["sslyze (versions only)"] = [[self.sslyze, "--sslv2", "--sslv3", "--tlsv1", "--tlsv1_1",
                                            "--tlsv1_2", "--tlsv1_3", "--mozilla_config", "disable",
                                            f"localhost:{verify}"]]
        return c

    def local_commands(self, profile):
        cp = [self.certprobe, "--profile", profile, "--format", "json", "--lang", "en"]
        return {
            "certprobe check --only local": [cp + ["check", "--only", "local"] + self.identity()],
            "certprobe verify": [[self.certprobe, "--lang", "en", "verify", "--cert", f"{PKI}/client-chain.pem",
                                  "--trust", f"{PKI}/root.pem", "--no-system-trust", "--purpose", "client"]],
            "openssl verify": [[self.openssl, "verify", "-purpose", "sslclient", "-CAfile", f"{PKI}/root.pem",
                                "-untrusted", f"{PKI}/inter.pem", f"{PKI}/client.pem"]],
            "certprobe --help": [[self.certprobe, "--help"]],
            "true (process start floor)": [["/bin/true"]],
        }

    SLOW = ("testssl.sh --protocols", "sslyze (versions only)")

    # -- running --------------------------------------------------------------------------------

    def measure(self, cmds, rtt, runs, slow_runs):
        for name, argvs in cmds.items():  # warm-up, not recorded; also shows the exit codes
            if name in self.SLOW:
                continue
            _, _, _, codes = run_once(argvs, self.env)
            log(f"  warm-up {name}: exit {codes}")
        rounds = max([runs] + [slow_runs for n in cmds if n in self.SLOW])
        for i in range(rounds):
            for name, argvs in cmds.items():
                if i >= (slow_runs if name in self.SLOW else runs):
                    continue
                wall, cpu, _, codes = run_once(argvs, self.env)
                self.samples.append({"cmd": name, "rtt_ms": rtt, "wall_s": wall, "cpu_s": cpu,
                                     "exit": codes})
            log(f"  rtt {rtt} ms: round {i + 1} done")
        # Peak RSS: one more run of each through GNU time (the slow tools only at the first RTT).
        for name, argvs in cmds.items():
            if name in self.SLOW and rtt != self.a.rtts[0]:
                continue
            self.rss.append({"cmd": name, "rtt_ms": rtt,
                             "rss_kib": peak_rss_kib(argvs, self.env, self.gnu_time, self.tmp)})

    def snapshot(self, relay, profile, rtt):
        """One certprobe check with its JSON kept: per-step times show where the round trips go."""
        cp = [self.certprobe, "--profile", profile, "--timeout", "60s", "--format", "json", "--lang", "en",
              "check"] + self.identity()
        code, out, err = capture(cp, self.env)
        path = os.path.join(self.out, f"check-rtt{rtt}.json")
        open(path, "w", encoding="utf-8").write(out)
        try:
            rep = json.loads(out)
        except ValueError:
            die(f"certprobe check did not give JSON (exit {code}): {err[:400]}")
        steps = {f["id"]: (f.get("status"), f.get("elapsed_ms")) for f in rep.get("findings", [])}
        return {"exit": code, "steps": steps}

    def versions_crosscheck(self):
        """certprobe's version list against testssl.sh's, on every server (no delay)."""
        s = self.servers
        targets = {"nginx (client cert required)": s.port_verify, "nginx (TLS 1.0 only)": s.port_legacy,
                   "openssl s_server -tls1": s.port_sserver}
        out = {}
        for label, port in targets.items():
            prof = os.path.join(self.tmp, f"one-{port}.toml")
            text = open(os.path.join(BENCH, "profile.toml.in"), encoding="utf-8").read()
            text = text.replace("@PORT_VERIFY@", str(port)).replace("@PORT_OPEN@", str(port)).replace(
                "@PORT_LEGACY@", str(port))
            open(prof, "w", encoding="utf-8").write(text)
            code, rep, err = capture([self.certprobe, "--profile", prof, "--format", "json", "--lang", "en",
                                      "check", "--only", "network", "--endpoint", "issuance"] + self.identity(),
                                     self.env)
            mine = {}
            try:
                for f in json.loads(rep)["findings"]:
                    if f["id"].endswith(".versions"):
                        mine = versions_from_certprobe(f)
            except (ValueError, KeyError):
                pass
            # testssl needs a SECLEVEL 0 OpenSSL to see TLS 1.0 servers: an OPENSSL_CONF for it.
            code2, txt, _ = capture([self.testssl, "--protocols", "--quiet", "--color", "0", "--warnings", "off",
                                     "--nodns", "none", "--ip", "127.0.0.1", "--openssl", self.openssl_wrapper(),
                                     f"localhost:{port}"], self.env, timeout=300)
            theirs = versions_from_testssl(txt)
            out[label] = {"certprobe": mine, "testssl": theirs,
                          "agree": bool(mine) and all(mine.get(k) == theirs.get(k) for k in theirs)}
            log(f"  versions {label}: certprobe {mine} testssl {theirs}")
        return out

    def openssl_wrapper(self):
        path = os.path.join(self.tmp, "openssl-seclevel0")
        if not os.path.exists(path):
            conf = os.path.join(self.tmp, "openssl-seclevel0.cnf")
            open(conf, "w").write(
                "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n"
                "[sys]\nCipherString = DEFAULT:@SECLEVEL=0\nMinProtocol = None\n"
            )
            open(path, "w").write(f"#!/bin/sh\nOPENSSL_CONF={conf} exec {self.openssl} \"$@\"\n")
            os.chmod(path, 0o755)
        return path

    def run(self):
        a = self.a
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H%MZ")
        self.out = os.path.abspath(os.path.join(a.out, stamp))
        os.makedirs(self.out, exist_ok=True)
        self.servers = Servers(self.tmp)
        snapshots = {}
        cross = {}
        try:
            self.servers.start()
            s = self.servers
            log(f"servers: nginx {s.port_verify}/{s.port_open}/{s.port_legacy}, s_server {s.port_sserver}, "
                f"tinyproxy {s.port_proxy}")
            upstreams = [s.port_verify, s.port_open, s.port_legacy, s.port_sserver]
            for rtt in a.rtts:
                relay = Relay(self.relay_bin, rtt, upstreams)
                relay.rtt = rtt
                try:
                    profile = self.profile_for(relay)
                    log(f"RTT {rtt} ms (relay ports {relay.port})")
                    snapshots[rtt] = self.snapshot(relay, profile, rtt)
                    self.measure(self.network_commands(relay, profile), rtt, a.runs, a.slow_runs)
                    if rtt == a.rtts[0] and not a.only:
                        self.measure(self.local_commands(profile), rtt, a.local_runs, a.local_runs)
                finally:
                    relay.stop()
            if not a.no_crosscheck:
                cross = self.versions_crosscheck()
        finally:
            self.servers.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)

        meta = machine_meta()
        meta["command"] = a.command_line
        meta["rtts_ms"] = a.rtts
        meta["runs"] = {"default": a.runs, "slow": a.slow_runs, "local": a.local_runs}
        json.dump({"meta": meta, "samples": self.samples, "rss": self.rss},
                  open(os.path.join(self.out, "samples.json"), "w"), indent=1)
        summary = summarize(self.samples, self.rss, a.rtts)
        summary["meta"] = meta
        summary["snapshots"] = snapshots
        summary["versions_crosscheck"] = cross
        json.dump(summary, open(os.path.join(self.out, "summary.json"), "w"), indent=1, ensure_ascii=False)
        log(f"results in {self.out}")
        return self.out


def versions_from_certprobe(f):
    """{'TLSv1.3': True, ...} from a `net.<id>.versions` finding's data."""
    data = f.get("data") or {}
    per = data.get("versions") or {}
    res = {}
    for key in ("TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3"):
        r = (per.get(key) or {}).get("result")
        res[key] = True if r == "accepted" else False if r == "refused" else None
    return res


def versions_from_testssl(txt):
    names = {"SSLv3": "SSLv3", "TLS 1": "TLSv1", "TLS 1.1": "TLSv1.1", "TLS 1.2": "TLSv1.2", "TLS 1.3": "TLSv1.3"}
    res = {}
    for line in txt.splitlines():
        m = re.match(r"\s*(SSLv3|TLS 1(?:\.[123])?)\s+(.*)", line)
        if m and m.group(1) in names:
            rest = m.group(2)
            res[names[m.group(1)]] = "offered" in rest and "not offered" not in rest
    return res


def machine_meta():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024 // 1024} GiB"
    except OSError:
        pass

    def ver(argv):
        try:
            return subprocess.run(argv, capture_output=True, timeout=30).stdout.decode().strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu}, {os.cpu_count()} cores, {mem}, Linux {platform.release()}",
        "load_avg_at_start": os.getloadavg()[0],
        "curl": ver(["curl", "--version"]),
        "openssl": ver(["openssl", "version"]),
    }


def summarize(samples, rss_samples, rtts):
    by = {}
    for s in samples:
        by.setdefault(s["cmd"], {}).setdefault(s["rtt_ms"], []).append(s)
    peak = {}
    for s in rss_samples:
        k = (s["cmd"], s["rtt_ms"])
        peak[k] = max(peak.get(k, 0), s["rss_kib"])
    out = {"commands": {}}
    for cmd, per in by.items():
        e = {}
        for rtt, ss in sorted(per.items()):
            walls = sorted(x["wall_s"] * 1000 for x in ss)
            cpus = sorted(x["cpu_s"] * 1000 for x in ss)
            e[str(rtt)] = {
                "n": len(ss),
                "wall_ms_median": statistics.median(walls),
                "wall_ms_min": walls[0],
                "wall_ms_max": walls[-1],
                "cpu_ms_median": statistics.median(cpus),
                "rss_mib_max": peak[(cmd, rtt)] / 1024 if (cmd, rtt) in peak else None,
                "exit": sorted({tuple(x["exit"]) for x in ss}),
            }
        fit = None
        pts = [(float(r), e[str(r)]["wall_ms_median"]) for r in rtts if str(r) in e and r is not None]
        if len(pts) >= 2:
            xs, ys = zip(*pts)
            mx, my = statistics.mean(xs), statistics.mean(ys)
            sxx = sum((x - mx) ** 2 for x in xs)
            if sxx > 0:
                b = sum((x - mx) * (y - my) for x, y in pts) / sxx
                a = my - b * mx
                ss_tot = sum((y - my) ** 2 for y in ys)
                ss_res = sum((y - (a + b * x)) ** 2 for x, y in pts)
                fit = {"a_ms": a, "b_rtts": b, "r2": 1 - ss_res / ss_tot if ss_tot else 1.0}
        out["commands"][cmd] = {"by_rtt": e, "fit": fit}
    return out


def main():
    # SIGTERM/SIGHUP end the run through the `finally` blocks, which stop every server by PID.
    import signal

    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rtts", default="0,25,50,100", help="round-trip times in ms (default 0,25,50,100)")
    ap.add_argument("--runs", type=int, default=9, help="runs per command and RTT (default 9)")
    ap.add_argument("--slow-runs", type=int, default=3, help="runs of testssl.sh and sslyze (default 3)")
    ap.add_argument("--local-runs", type=int, default=30, help="runs of the offline commands (default 30)")
    ap.add_argument("--certprobe", default=os.path.join(ROOT, "target", "release", "certprobe"))
    ap.add_argument("--relay", default=os.path.join(ROOT, "target", "bench", "delay_relay"))
    ap.add_argument("--also", action="append", default=[], metavar="LABEL=PATH",
                    help="also time every certprobe command with another binary (e.g. an older build)")
    ap.add_argument("--sslyze", default=None, help="sslyze executable (default: on PATH)")
    ap.add_argument("--no-slow", action="store_true", help="leave out testssl.sh and sslyze")
    ap.add_argument("--no-crosscheck", action="store_true", help="skip the certprobe/testssl version cross-check")
    ap.add_argument("--out", default=os.path.join(BENCH, "results"))
    ap.add_argument("--no-report", action="store_true", help="do not rewrite docs/performance.md")
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="time only this network command (repeatable; e.g. \"certprobe check, 1 endpoint on "
                         "openssl s_server -tls1\"); its --also variants go with it")
    a = ap.parse_args()
    a.rtts = [int(x) for x in a.rtts.split(",")]
    a.also = [tuple(x.split("=", 1)) for x in a.also if "=" in x]
    a.command_line = os.environ.get("BENCH_COMMAND", "scripts/bench.sh " + " ".join(sys.argv[1:])).strip()
    out = Bench(a).run()
    if not a.no_report:
        subprocess.run([sys.executable, os.path.join(BENCH, "report.py"), out], check=True)


if __name__ == "__main__":
    main()
