"""Shared helpers of the `certprobe serve` scripts (bench/serve_load.py,
bench/blackbox_vs_certprobe.py): nginx with the test PKI, the loopback profile, certprobe serve,
Prometheus and the blackbox exporter on free ports of 127.0.0.1. Python standard library only."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKI = os.path.join(ROOT, "fixtures", "pki")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def need(name, package):
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.path.exists(p)), None
    )
    if not path:
        sys.exit(f"`{name}` not found: apt-get install {package}")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=20.0):
    end = time.time() + seconds
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listens on 127.0.0.1:{port}")


def fill(text, values):
    for k, v in values.items():
        text = text.replace(f"@{k}@", str(v))
    return text


def pki(name):
    return os.path.join(PKI, name)


def get(url, headers=None, timeout=60):
    """(status, body) of a GET; HTTP errors are answers too."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


class Procs:
    """Children started by a script, stopped (by their own ids) when it ends."""

    def __init__(self):
        self.children = []
        self.tmp = tempfile.mkdtemp(prefix="certprobe-serve-")

    def start(self, args, **kw):
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, **kw)
        self.children.append(p)
        return p

    def stop(self):
        for p in reversed(self.children):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def nginx(procs):
    """nginx with the fixture configuration: (verify_port, open_port, unknown_port, pid)."""
    bin_ = need("nginx", "nginx-light")
    d = os.path.join(procs.tmp, "nginx")
    os.makedirs(d)
    ports = dict(PORT_VERIFY=free_port(), PORT_OPEN=free_port(), PORT_UNKNOWN=free_port())
    conf = fill(
        open(os.path.join(ROOT, "fixtures/nginx/nginx.conf.in")).read(),
        dict(DIR=d, PKI=PKI, PAGES=os.path.join(ROOT, "fixtures/nginx/pages"), **ports),
    )
    conf = conf.replace("worker_connections 64;", "worker_connections 1024;")
    path = os.path.join(d, "nginx.conf")
    open(path, "w").write(conf)
    p = procs.start([bin_, "-p", d, "-c", path, "-e", os.path.join(d, "error.log")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for port in ports.values():
        wait_port(port)
    return ports["PORT_VERIFY"], ports["PORT_OPEN"], ports["PORT_UNKNOWN"], p.pid


def profile(procs, verify_port, open_port, name="profile.toml", host="localhost"):
    text = fill(
        open(os.path.join(ROOT, "fixtures/profiles/loopback.toml.in")).read(),
        dict(HOST=host, PORT_VERIFY=verify_port, PORT_OPEN=open_port,
             PATH_LOGIN="/utf8/login.html", PATH_CHECK="/whoami"),
    )
    path = os.path.join(procs.tmp, name)
    open(path, "w").write(text)
    return path


def certprobe_bin():
    for p in ("target/release/certprobe", "target/debug/certprobe"):
        full = os.path.join(ROOT, p)
        if os.path.exists(full):
            return full
    sys.exit("build certprobe first: cargo build --release")


def serve(procs, config):
    """certprobe serve on a port of its own choosing: (address, process)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["LANG"] = "C"
    p = procs.start([certprobe_bin(), "serve", "--listen", "127.0.0.1:0", "--config", config],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    first = p.stderr.readline()
    if "http://" not in first:
        sys.exit(f"certprobe serve did not start: {first}{p.stderr.read()}")
    # Drain the log so the pipe never fills.
    threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
    return first.split("http://")[1].split("/")[0], p


def prometheus(procs, config_text):
    """Prometheus with a temporary storage folder: (port, process)."""
    bin_ = need("prometheus", "prometheus")
    d = os.path.join(procs.tmp, "prometheus")
    os.makedirs(d)
    path = os.path.join(d, "prometheus.yml")
    open(path, "w").write(config_text)
    port = free_port()
    p = procs.start([bin_, f"--config.file={path}", f"--storage.tsdb.path={d}/data",
                     f"--web.listen-address=127.0.0.1:{port}"],
                    stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "log"), "w"))
    wait_port(port)
    return port, p


def prom_query(port, q, at=None):
    params = {"query": q}
    if at is not None:
        params["time"] = str(at)
    _, body = get(f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode(params))
    return json.loads(body)["data"]["result"]


def proc_stat(pid):
    """(cpu seconds, rss bytes) of a process from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    return cpu, rss
