#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""`gnnstat exporter`: Prometheus scrapes over HTTP, against a fake gnnd and
against the real one inline on the namespace test bed.

usage: test_exporter.py PATH/TO/gnnd PATH/TO/gnnstat      (root)

With test_gnnstat.py's fake gnnd: --listen refusals (exit 2), the HTTP paths
(/metrics, /, 404, 405), IPv6 and name listeners, the same text as
`gnnstat --prometheus`, a gnnd that accepts and never answers (gnn_up 0
within --timeout, and gnn_up 1 once it answers), one whose later pages of
members come too late (gnn_up 0 within --timeout), an error reply, no gnnd,
SIGINT/SIGTERM (exit 0), --members PATTERN and --no-members, a snapshot of
100,000 members read in pages (figures printed, promtool check metrics);
config/grafana-gnn.json and docs/monitoring.md (every expression parses, by
promtool check rules, and uses only metrics the exporter serves; every
metric served is listed; the scrape config passes promtool check config).

On the bed: port-25 SYNs from an enforced and a monitored member, then a
scrape that promtool accepts and whose every value equals `gnnstat --json`
taken with the traffic stopped; a switch from monitor to enforce that keeps
the member's counter series; gnnd stopped (HTTP 200, gnn_up 0 and no gnnd
series) and started again (gnn_up 1, fresh counters).

Prints one line per check and "N passed, N failed".
"""

import http.client
import json
import logging
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import test_gnnstat as tg  # noqa: E402  (the fake gnnd, the strict format parser)
from testbed import Failure, TestBed, check, die_with_parent, tail  # noqa: E402

REPO = Path(os.environ.get("GNN_SOURCE_ROOT", HERE.parents[1]))
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
GNND = GNNSTAT = None
TIMEOUT = 1.0  # --timeout of the exporters under test, seconds
DOWN_FAMILIES = {"gnn_up", "gnn_scrape_duration_seconds"}  # all a scrape says without gnnd
MODES = {"off": 0, "monitor": 1, "enforce": 2}

# ------------------------------------------------------------ helpers


class Exporter:
    """One `gnnstat exporter` process; its log is stdout+stderr."""

    def __init__(self, sock, listen="127.0.0.1:0", timeout=TIMEOUT, workdir=None, extra=()):
        self.log = Path(tempfile.mkstemp(prefix="exporter-", suffix=".log",
                                         dir=workdir)[1])
        cmd = [GNNSTAT, "-s", str(sock), "exporter", "--listen", listen] + list(extra)
        if timeout is not None:
            cmd += ["--timeout", str(timeout)]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
        self.addrs = []
        deadline = time.monotonic() + 10
        while not self.addrs:
            self.addrs = re.findall(r"serving http://(\S+)/metrics", self.output())
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise Failure("exporter did not start: %s" % self.output())
            time.sleep(0.02)
        time.sleep(0.05)  # every address printed: the line for each comes before the wait
        self.addrs = re.findall(r"serving http://(\S+)/metrics", self.output())

    def output(self):
        return self.log.read_text(errors="replace")

    def host_port(self, i=0):
        host, _, port = self.addrs[i].rpartition(":")
        return host.strip("[]"), int(port)

    def get(self, path="/metrics", method="GET", i=0, timeout=30, addr=None):
        """(status, headers dict lower-cased, body text, seconds), from the
        i-th address served, or from addr (host, port)."""
        host, port = addr or self.host_port(i)
        t0 = time.monotonic()
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            conn.request(method, path)
            r = conn.getresponse()
            body = r.read().decode("utf-8")
            return r.status, {k.lower(): v for k, v in r.getheaders()}, body, \
                time.monotonic() - t0
        finally:
            conn.close()

    def scrape(self, i=0):
        """The /metrics text of a 200 answer with the exposition's content type."""
        status, headers, body, _ = self.get(i=i)
        check(status == 200, "/metrics: HTTP %d" % status)
        check(headers.get("content-type", "").startswith("text/plain; version=0.0.4"),
              "content type %r" % headers.get("content-type"))
        return body

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        self.log.unlink(missing_ok=True)


def promtool_metrics(text):
    """promtool check metrics must say nothing at all: no error, no lint."""
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=300)
    check(p.returncode == 0 and (p.stdout + p.stderr).strip() == "",
          "promtool check metrics: exit %d: %s" % (p.returncode, (p.stdout + p.stderr)[:2000]))


def families(samples):
    return {name for name, _ in samples}


def without_duration(text):
    return "\n".join(l for l in text.split("\n")
                     if not l.startswith("gnn_scrape_duration_seconds "))


def full_snapshot(fake):
    """A snapshot with every field gnnd sends today (and some it may send later)."""
    snap = fake.stats()
    snap["totals"]["top_events_lost"] = 2
    snap["totals"]["malformed_dropped"] = sum(snap["malformed"].values())
    snap["last_error"] = None
    snap["last_reload"] = None
    return snap


FixedGnnd = tg.FixedGnnd  # one fixed snapshot, its members paged as asked


class SlowPagesGnnd(FixedGnnd):
    """The first page at once, each later one after delay seconds."""

    def __init__(self, path, snapshot, delay):
        super().__init__(path, snapshot)
        self.delay = delay

    def stats(self):
        if len(self.requests) > 1:
            time.sleep(self.delay)
        return self.snapshot


def serve_fake(fake, path):
    server = tg.Server(str(path), tg.make_handler(fake))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ------------------------------------------------------------ against the fake gnnd


def test_listen_refused(env):
    cases = {
        "": "want ADDR:PORT", "9617": "want ADDR:PORT", "127.0.0.1:": "port",
        "127.0.0.1:65536": "port", "127.0.0.1:http": "port", "127.0.0.1:-1": "port",
        "::1:9617": "in brackets", "[::1:9617": "want [IPv6]:PORT", "[::1]9617": "[IPv6]:PORT",
        "[nonsense]:9617": "not an IPv6 address", "[127.0.0.1]:9617": "not an IPv6 address",
        "256.0.0.1:9617": "not an IPv4 address", "1.2.3:9617": "not an IPv4 address",
        "bad_host!:9617": "neither an address nor a host name",
        "no-such-host.invalid:9617": "cannot resolve",
        "192.0.2.77:9617": "Cannot assign requested address",  # not an address of this host
    }
    for arg, why in cases.items():
        r = subprocess.run([GNNSTAT, "-s", env["sock"], "exporter", "--listen", arg],
                           capture_output=True, text=True, timeout=20)
        check(r.returncode == 2, "--listen %r: exit %d" % (arg, r.returncode))
        check(why in r.stderr and "--listen" in r.stderr, "--listen %r: %r" % (arg, r.stderr))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        arg = "127.0.0.1:%d" % busy.getsockname()[1]
        r = subprocess.run([GNNSTAT, "-s", env["sock"], "exporter", "--listen", arg],
                           capture_output=True, text=True, timeout=20)
    check(r.returncode == 2 and "Address already in use" in r.stderr,
          "port in use: exit %d, %r" % (r.returncode, r.stderr))


def test_http_paths(env):
    with Exporter(env["sock"]) as ex:
        text = ex.scrape()
        s = tg.parse_prometheus(text)
        check(tg.sample(s, "gnn_up") == 1, "gnn_up")
        status, headers, body, _ = ex.get("/")
        check(status == 200 and 'href="/metrics"' in body, "/: %d %r" % (status, body))
        check(headers["content-type"].startswith("text/html"), "/ content type")
        for path in ("/nope", "/metrics/", "/metricsx", "/index.html"):
            status, _, body, _ = ex.get(path)
            check(status == 404 and "/metrics" in body, "%s: %d %r" % (path, status, body))
        status, headers, _, _ = ex.get(method="POST")
        check(status == 405 and headers.get("allow") == "GET, HEAD", "POST: %d %r" % (
            status, headers))
        status, headers, body, _ = ex.get(method="HEAD")
        check(status == 200 and body == "" and int(headers["content-length"]) > 0, "HEAD")
        check(ex.stop(signal.SIGTERM) == 0, "SIGTERM: exit %r" % ex.proc.returncode)
        check("stopped by SIGTERM" in ex.output(), "log %r" % ex.output())


def test_addresses(env):
    """[IPv6], a name (every address it resolves to), :PORT (every address)."""
    with socket.socket(socket.AF_INET6) as s6:
        try:
            s6.bind(("::1", 0))
            have6 = True
        except OSError:
            have6 = False
            print("     (no ::1 on this host: [::1] not tried)")
    localhost = {a[4][0] for a in socket.getaddrinfo("localhost", 0, type=socket.SOCK_STREAM)}
    want = {"localhost:0": localhost, ":0": None, "[::1]:0": {"::1"}}
    for listen in ["localhost:0", ":0"] + (["[::1]:0"] if have6 else []):
        with Exporter(env["sock"], listen=listen) as ex:
            hosts = [ex.host_port(i)[0] for i in range(len(ex.addrs))]
            ports = {ex.host_port(i)[1] for i in range(len(ex.addrs))}
            check(len(ports) == 1, "%s: one port for every address: %r" % (listen, ports))
            if want[listen] is not None:
                check(set(hosts) == want[listen], "%s: serves %r, expected %r" % (
                    listen, hosts, want[listen]))
            else:
                check("0.0.0.0" in hosts, "%s serves %r" % (listen, hosts))
            for host in hosts:
                target = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
                if ":" in target and not have6:
                    continue
                status, _, text, _ = ex.get(addr=(target, ports.copy().pop()))
                check(status == 200 and tg.sample(tg.parse_prometheus(text), "gnn_up") == 1,
                      "%s via %s: HTTP %d" % (listen, target, status))
            check(ex.stop(signal.SIGINT) == 0, "SIGINT: exit %r" % ex.proc.returncode)
            check("stopped by SIGINT" in ex.output(), "log %r" % ex.output())


def test_same_as_prometheus(env):
    """One renderer: the exporter and --prometheus give the same text."""
    fixed = env["fixed"]
    with Exporter(fixed["sock"]) as ex:
        text = ex.scrape()
    r = subprocess.run([GNNSTAT, "-s", fixed["sock"], "--prometheus"], capture_output=True,
                       text=True, timeout=20)
    check(r.returncode == 0, "--prometheus: exit %d %s" % (r.returncode, r.stderr))
    check(without_duration(text) == without_duration(r.stdout),
          "exporter and --prometheus differ")
    promtool_metrics(text)
    s = tg.parse_prometheus(text)
    env["emitted"] = families(s)
    snap = fixed["fake"].snapshot
    check(tg.sample(s, "gnn_last_error") == 0, "last_error null: 0")
    check(tg.sample(s, "gnn_last_reload_timestamp_seconds") == 0, "never reloaded: 0")
    check(tg.sample(s, "gnn_top_events_lost_total") == 2, "top events lost")
    check(tg.sample(s, "gnn_member_mode", member=tg.WEIRD_MEMBER) == 0, "off: 0")
    check_values(s, snap)


def test_silent_gnnd(env):
    """A gnnd that accepts and never answers: gnn_up 0 within the timeout."""
    fake = env["fake"]
    with Exporter(env["sock"], timeout=TIMEOUT) as ex:
        fake.silent = True
        try:
            status, _, text, took = ex.get()
            # Meanwhile another client is served: no scrape holds up the server.
            done = {}
            t = threading.Thread(target=lambda: done.update(r=ex.get()))
            t.start()
            time.sleep(0.1)
            status2, _, page, took2 = ex.get("/")
            t.join()
        finally:
            fake.silent = False
        check(status == 200, "HTTP %d" % status)
        s = tg.parse_prometheus(text)
        check(tg.sample(s, "gnn_up") == 0, "gnn_up %r" % tg.sample(s, "gnn_up"))
        check(families(s) == DOWN_FAMILIES, "series without gnnd: %r" % families(s))
        check(TIMEOUT <= tg.sample(s, "gnn_scrape_duration_seconds") < TIMEOUT + 1,
              "duration %r" % tg.sample(s, "gnn_scrape_duration_seconds"))
        check(TIMEOUT <= took < TIMEOUT + 2, "the scrape took %.2f s, timeout %g" % (
            took, TIMEOUT))
        check(status2 == 200 and took2 < TIMEOUT, "/ took %.2f s during a hung scrape" % took2)
        check(tg.parse_prometheus(done["r"][2])[("gnn_up", frozenset())] == 0, "second scrape")
        promtool_metrics(text)
        s = tg.parse_prometheus(ex.scrape())
        check(tg.sample(s, "gnn_up") == 1, "gnnd answers again: gnn_up 1")
        check(tg.sample(s, "gnn_member_blocked_total", member="example-college") ==
              fake.last_stats["members"][0]["blocked"], "fresh values")
        log = ex.output()
        check("gnnd not answering" in log and "no reply within 1000 ms" in log,
              "log %r" % log)
        check("gnnd answering again" in log, "log %r" % log)


def test_slow_pages(env):
    """--timeout bounds the whole scrape, every page of members in it."""
    snap = full_snapshot(tg.FakeGnnd(None))
    snap["members"] = [{"name": "member-%06d.example.org" % i, "mode": "monitor",
                        "allowed": 0, "blocked": 0, "would_block": i} for i in range(45000)]
    path = os.path.join(env["tmp"], "slow.sock")
    fake = SlowPagesGnnd(path, snap, 0.6 * TIMEOUT)
    server = serve_fake(fake, path)
    try:
        with Exporter(path, timeout=TIMEOUT) as ex:
            status, _, text, took = ex.get()
            log = ex.output()
    finally:
        server.shutdown()
        server.server_close()
    check(status == 200, "HTTP %d" % status)
    s = tg.parse_prometheus(text)
    check(tg.sample(s, "gnn_up") == 0 and families(s) == DOWN_FAMILIES,
          "a snapshot without its last page: %r" % families(s))
    # The third page is asked for with what is left of the timeout, or not at
    # all when nothing is left (a slow machine).
    offsets = [r.get("offset", 0) for r in fake.requests]
    check(offsets in ([0, tg.PAGE], [0, tg.PAGE, 2 * tg.PAGE]), "requests %r" % offsets)
    check(TIMEOUT <= took < TIMEOUT + 1, "the scrape took %.2f s, timeout %g" % (took, TIMEOUT))
    check("gnnd not answering" in log and ("no reply within" in log or
                                           "no complete snapshot within" in log),
          "log %r" % log)


def test_member_filter(env):
    """--members PATTERN: the member series of those members only; --no-members: none.
    Every other series stays."""
    fixed = env["fixed"]
    with Exporter(fixed["sock"]) as ex:
        everything = tg.parse_prometheus(ex.scrape())
    with Exporter(fixed["sock"], extra=["--members", "example-c*"]) as ex:
        text = ex.scrape()
        req = fixed["fake"].requests[-1]
        log = ex.output()
    promtool_metrics(text)
    some = tg.parse_prometheus(text)
    check(req == {"cmd": "stats", "limit": tg.PAGE, "member": "example-c*"}, "request %r" % req)
    check("members matching example-c*" in log, "log %r" % log)
    check({dict(l)["member"] for n, l in some if n.startswith("gnn_member_")} ==
          {"example-college"}, "member series %r" % sorted(
              {dict(l)["member"] for n, l in some if n.startswith("gnn_member_")}))
    check(without_member(some) == without_member(everything), "other series differ")
    with Exporter(fixed["sock"], extra=["--no-members"]) as ex:
        text = ex.scrape()
        req = fixed["fake"].requests[-1]
    promtool_metrics(text)
    none = tg.parse_prometheus(text)
    check(req == {"cmd": "stats", "limit": 1}, "request %r" % req)
    check(not any(n.startswith("gnn_member_") for n in families(none)) and
          without_member(none) == without_member(everything),
          "--no-members: %r" % sorted(families(none) ^ families(everything)))
    check(tg.sample(none, "gnn_members") == fixed["fake"].snapshot["rules"]["members"],
          "gnn_members counts every member")
    for args in (["--members", "a", "--no-members"], ["--members", ""],
                 ["--members", "x" * 64]):
        r = subprocess.run([GNNSTAT, "-s", fixed["sock"], "exporter", "--listen",
                            "127.0.0.1:0"] + args, capture_output=True, text=True, timeout=20)
        check(r.returncode == 2 and "usage:" in r.stderr, "%r: exit %d" % (args, r.returncode))


def without_member(samples):
    """The samples but the per-member ones (and the scrape's duration)."""
    return {k: v for k, v in samples.items()
            if not k[0].startswith("gnn_member_") and k[0] != "gnn_scrape_duration_seconds"}


def test_error_reply(env):
    fake = env["fake"]
    with Exporter(env["sock"]) as ex:
        fake.error_reply = "busy, try again"
        try:
            s = tg.parse_prometheus(ex.scrape())
        finally:
            fake.error_reply = None
        check(tg.sample(s, "gnn_up") == 0 and families(s) == DOWN_FAMILIES, "error reply")
        check("busy, try again" in ex.output(), "log %r" % ex.output())


def test_no_gnnd(env):
    missing = os.path.join(os.path.dirname(env["sock"]), "missing.sock")
    with Exporter(missing) as ex:
        text = ex.scrape()
        s = tg.parse_prometheus(text)
        check(tg.sample(s, "gnn_up") == 0 and families(s) == DOWN_FAMILIES, "no gnnd")
        promtool_metrics(text)
        check("No such file or directory" in ex.output(), "log %r" % ex.output())


def test_scale(env):
    """100,000 members: figures printed, promtool accepts the text."""
    n = 100000
    snap = full_snapshot(tg.FakeGnnd(None))
    modes = ("enforce", "monitor", "off")
    snap["members"] = [{"name": "member-%06d.example.org" % i, "mode": modes[i % 3],
                        "allowed": i, "blocked": 2 * i, "would_block": 3 * i}
                       for i in range(n)]
    snap["members"].append({"name": tg.WEIRD_MEMBER, "mode": "monitor", "allowed": 1,
                            "blocked": 2, "would_block": 3})
    path = os.path.join(env["tmp"], "big.sock")
    fake = FixedGnnd(path, snap)
    server = serve_fake(fake, path)
    try:
        json_bytes = len(json.dumps(snap, separators=(",", ":")))
        with Exporter(path, timeout=30) as ex:
            status, _, text, took = ex.get(timeout=120)
        check(status == 200, "HTTP %d" % status)
        t0 = time.monotonic()
        r = subprocess.run([GNNSTAT, "-s", path, "--prometheus"], capture_output=True,
                           text=True, timeout=120)
        took_cli = time.monotonic() - t0
        check(r.returncode == 0 and without_duration(r.stdout) == without_duration(text),
              "--prometheus at scale")
        pages = (n + 1 + tg.PAGE - 1) // tg.PAGE
        check(len(fake.requests) == 2 * pages and
              [q.get("offset", 0) for q in fake.requests[:pages]] ==
              list(range(0, n + 1, tg.PAGE)), "%d requests" % len(fake.requests))
        s = tg.parse_prometheus(text)
        check(tg.sample(s, "gnn_up") == 1, "gnn_up")
        duration = tg.sample(s, "gnn_scrape_duration_seconds")
        got = sum(1 for name, _ in s if name == "gnn_member_blocked_total")
        check(got == n + 1, "%d member series, %d members" % (got, n + 1))
        check(tg.sample(s, "gnn_member_would_block_total", member="member-099999.example.org")
              == 3 * 99999, "last member")
        t0 = time.monotonic()
        promtool_metrics(text)
        took_promtool = time.monotonic() - t0
        print("     %d members: JSON %.1f MB in %d pages; exposition %.1f MB, %d samples; "
              "scrape %.2f s (gnnd's part %.2f s), --prometheus %.2f s, promtool %.1f s" % (
                  n + 1, json_bytes / 1e6, pages, len(text) / 1e6, len(s), took, duration,
                  took_cli, took_promtool))
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------ dashboard and docs

GRAFANA_VARS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h",
                "$instance": ".*", "$member": ".*"}
PROMQL_FUNCS = {"rate", "irate", "increase", "sum", "max", "min", "avg", "count", "topk",
                "bottomk", "by", "without", "on", "ignoring", "group_left", "group_right",
                "and", "or", "unless", "offset", "changes", "time", "absent", "delta",
                "label_values", "bool", "clamp_min", "resets", "absent_over_time"}


def metric_names(expr):
    """The gnn_ metric names an expression uses (label names and strings skipped)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "{}", expr)
    return {w for w in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr) if w.startswith("gnn_")}


def promtool_exprs(env, exprs, what):
    """Each expression must parse: as recording rules, for promtool check rules."""
    lines = ["groups:", "  - name: check", "    rules:"]
    for i, e in enumerate(exprs):
        for k, v in GRAFANA_VARS.items():
            e = e.replace(k, v)
        lines += ["      - record: check:expr_%d" % i, "        expr: %s" % json.dumps(e)]
    path = os.path.join(env["tmp"], "exprs.yml")
    Path(path).write_text("\n".join(lines) + "\n")
    p = subprocess.run([PROMTOOL, "check", "rules", path], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0, "%s: promtool check rules: %s" % (what, p.stdout + p.stderr))


def test_grafana_dashboard(env):
    emitted = env["emitted"]
    with open(REPO / "config/grafana-gnn.json") as f:
        dash = json.load(f)
    check(36 <= dash.get("schemaVersion", 0) <= 39, "schemaVersion %r" % dash.get("schemaVersion"))
    tvars = {v["name"]: v for v in dash["templating"]["list"]}
    check(tvars.get("DS_PROMETHEUS", {}).get("type") == "datasource" and
          tvars["DS_PROMETHEUS"].get("query") == "prometheus", "DS_PROMETHEUS variable")
    member = tvars.get("member", {})
    q = member.get("query")
    q = q.get("query") if isinstance(q, dict) else q
    check(q == "label_values(gnn_member_blocked_total, member)", "member variable: %r" % q)
    check(member.get("datasource", {}).get("uid") == "${DS_PROMETHEUS}", "member datasource")
    panels, stack = [], list(dash["panels"])
    while stack:
        p = stack.pop(0)
        panels.append(p)
        stack += p.get("panels", [])
    ids = [p["id"] for p in panels]
    check(len(ids) == len(set(ids)), "panel ids repeat")
    exprs = []
    for p in panels:
        check("gridPos" in p, "panel %r has no gridPos" % p.get("title"))
        if p["type"] == "row":
            continue
        check(p.get("targets"), "panel %r has no query" % p.get("title"))
        for t in p["targets"]:
            check(t.get("datasource", {}).get("uid") == "${DS_PROMETHEUS}",
                  "panel %r: datasource %r" % (p["title"], t.get("datasource")))
            exprs.append(t["expr"])
            unknown = metric_names(t["expr"]) - emitted
            check(not unknown, "panel %r uses %s, which the exporter does not serve" % (
                p["title"], sorted(unknown)))
    for a in dash.get("annotations", {}).get("list", []):
        if "expr" in a:
            exprs.append(a["expr"])
            check(not metric_names(a["expr"]) - emitted, "annotation %r" % a["expr"])
    text = "\n".join(exprs)
    for want in (r"rate\(gnn_member_blocked_total\{[^}]*\}\[5m\]\)",
                 r"rate\(gnn_member_would_block_total\{[^}]*\}\[5m\]\)",
                 r"topk\(10, sum by \(member\) \(rate\(gnn_member_blocked_total",
                 r"gnn_port_rx_packets_total", r"gnn_port_tx_packets_total",
                 r"gnn_port_rx_missed_total", r"gnn_port_tx_dropped_total",
                 r"gnn_reloads_total", r"gnn_reload_failures_total", r"^gnn_up\{",
                 r"gnn_member_mode"):
        check(re.search(want, text, re.M), "no panel with %s" % want)
    promtool_exprs(env, exprs, "config/grafana-gnn.json")


def doc_blocks(text, lang):
    return re.findall(r"^```%s\n(.*?)^```" % lang, text, re.M | re.S)


def test_docs(env):
    emitted = env["emitted"]
    doc = (REPO / "docs/monitoring.md").read_text()
    rules = [b for b in doc_blocks(doc, "yaml") if b.startswith("groups:")]
    check(len(rules) == 1, "docs/monitoring.md: one ```yaml block of alert rules")
    path = os.path.join(env["tmp"], "gnn-rules.yml")
    Path(path).write_text(rules[0])
    p = subprocess.run([PROMTOOL, "check", "rules", path], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0 and "SUCCESS" in p.stdout, "promtool check rules: %s" % (
        p.stdout + p.stderr))
    unknown = metric_names(rules[0]) - emitted
    check(not unknown, "alert rules use %s" % sorted(unknown))
    scrape = [b for b in doc_blocks(doc, "yaml") if b.startswith("scrape_configs:")]
    check(len(scrape) == 1, "docs/monitoring.md: one ```yaml scrape config")
    # Blocks of a job's further keys belong to that job.
    job_keys = "".join(b for b in doc_blocks(doc, "yaml") if b.startswith("    "))
    path = os.path.join(env["tmp"], "prometheus.yml")
    Path(path).write_text("rule_files: [%s]\n%s%s" % (json.dumps(os.path.join(
        env["tmp"], "gnn-rules.yml")), scrape[0], job_keys))
    p = subprocess.run([PROMTOOL, "check", "config", path], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0, "promtool check config: %s" % (p.stdout + p.stderr))
    exprs = []
    for block in doc_blocks(doc, "promql"):
        for e in re.split(r"\n\s*\n", block):
            e = "\n".join(l for l in e.split("\n") if not l.lstrip().startswith("#"))
            if e.strip():
                exprs.append(e.strip())
    check(len(exprs) >= 4, "docs/monitoring.md: %d PromQL examples" % len(exprs))
    for e in exprs:
        check(not metric_names(e) - emitted, "example %r uses %s" % (
            e, sorted(metric_names(e) - emitted)))
    promtool_exprs(env, exprs, "docs/monitoring.md")
    for name in sorted(emitted):
        check("`%s" % name in doc, "docs/monitoring.md does not list %s" % name)


# ------------------------------------------------------------ the real gnnd

WORKSTATION = ("198.51.100.10", "2001:db8:10::10")
MAIL_SERVER = ("198.51.100.25", "2001:db8:10::25")
LIBRARY_HOST = "203.0.113.10"
LIBRARY_SERVER = "203.0.113.25"
OUTSIDE = ("192.0.2.1", "2001:db8:99::1")


def bed_members(library_mode):
    return [
        {"name": "example-college", "mode": "enforce",
         "networks": ["198.51.100.0/24", "2001:db8:10::/48"],
         "mail_servers": list(MAIL_SERVER)},
        {"name": "example-library", "mode": library_mode,
         "networks": ["203.0.113.0/24", "2001:db8:20::/48"], "mail_servers": [LIBRARY_SERVER]},
    ]


def syns(src, n, dport=25, sport=41000):
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.layers.inet import IP, TCP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Ether
    l3 = IPv6(src=src, dst=OUTSIDE[1]) if ":" in src else IP(src=src, dst=OUTSIDE[0])
    return [Ether(src="02:00:5e:00:01:01", dst="02:00:5e:00:02:01") / l3 /
            TCP(sport=sport + i, dport=dport, flags="S", seq=1000 + i) for i in range(n)]


def wait_member(bed, name, key, value, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        m = bed.member(name)
        if m is not None and m[key] == value:
            return
        if time.monotonic() > deadline:
            raise Failure("%s %s = %r, expected %d" % (name, key, m and m[key], value))
        time.sleep(0.05)


def stable_scrape(ctx):
    """A scrape between two equal --json snapshots (bar their "time"): the
    counters stood still, so the scrape must show exactly those values."""
    for _ in range(20):
        a = ctx.bed.stats()
        text = ctx.ex.scrape()
        b = ctx.bed.stats()
        a.pop("time", None)
        b.pop("time", None)
        if a == b:
            return text, a
        time.sleep(0.2)
    raise Failure("the counters never stood still (stray frames on the bed?)")


def check_values(s, snap):
    """Every metric of the table against the JSON it came from."""
    scalars = {"gnn_generation": "generation", "gnn_reloads_total": "reloads",
               "gnn_reload_failures_total": "reload_failures",
               "gnn_start_time_seconds": "started", "gnn_mbufs_in_use": "mbufs_in_use"}
    for name, key in scalars.items():
        check(math.isclose(tg.sample(s, name), snap[key]), "%s != %s" % (name, key))
    check(tg.sample(s, "gnn_last_error") == (snap["last_error"] is not None), "last_error")
    check(math.isclose(tg.sample(s, "gnn_last_reload_timestamp_seconds"),
                       snap["last_reload"] or 0), "last_reload")
    totals = {"rx_packets": "gnn_rx_packets_total", "forwarded": "gnn_forwarded_total",
              "blocked": "gnn_blocked_total", "would_block": "gnn_would_block_total",
              "allowed": "gnn_allowed_total", "tx_dropped": "gnn_tx_dropped_total",
              "malformed_forwarded": "gnn_malformed_forwarded_total",
              "top_events_lost": "gnn_top_events_lost_total"}
    for key, name in totals.items():
        check(tg.sample(s, name) == snap["totals"][key], "%s != totals.%s" % (name, key))
    for reason, v in snap["malformed"].items():
        check(tg.sample(s, "gnn_malformed_dropped_total", reason=reason) == v, reason)
    check(sum(v for (n, _), v in s.items() if n == "gnn_malformed_dropped_total") ==
          snap["totals"]["malformed_dropped"], "malformed reasons add up")
    for p in snap["ports"]:
        lab = {"port": p["name"], "role": p["role"]}
        for key in ("rx_packets", "tx_packets", "rx_missed", "tx_dropped", "rx_nombuf"):
            check(tg.sample(s, "gnn_port_%s_total" % key, **lab) == p[key],
                  "port %s %s" % (p["name"], key))
        check(tg.sample(s, "gnn_port_link_up", **lab) == int(p["link_up"]), "link_up")
    for m in snap["members"]:
        for key in ("allowed", "blocked", "would_block"):
            check(tg.sample(s, "gnn_member_%s_total" % key, member=m["name"]) == m[key],
                  "member %s %s" % (m["name"], key))
        check(tg.sample(s, "gnn_member_mode", member=m["name"]) == MODES[m["mode"]],
              "member %s mode" % m["name"])
    n_member_series = sum(1 for n, _ in s if n == "gnn_member_blocked_total")
    check(n_member_series == len(snap["members"]), "member series")
    check(tg.sample(s, "gnn_reload_in_progress") == int(snap["reload_in_progress"]),
          "reload_in_progress")
    dp = snap["datapath"]
    for key, name in DATAPATH_METRICS.items():
        check(tg.sample(s, name) == dp[key], "%s != datapath.%s" % (name, key))
    check(tg.sample(s, "gnn_classify_info", algorithm=dp["classify_alg"]) == 1, "classify_alg")
    check(sum(1 for n, _ in s if n == "gnn_classify_info") == 1, "one classify_info")
    for w in dp["per_worker"]:
        lab = {"lcore": str(w["lcore"])}
        check(tg.sample(s, "gnn_worker_rx_packets_total", **lab) == w["rx_packets"], "worker rx")
        check(tg.sample(s, "gnn_worker_tx_packets_total", **lab) == w["tx_packets"], "worker tx")
        check(tg.sample(s, "gnn_worker_queues", **lab) == w["queues"], "worker queues")
    check(sum(1 for n, _ in s if n == "gnn_worker_rx_packets_total") == dp["workers"] ==
          len(dp["per_worker"]), "a series per worker")
    rules = snap["rules"]
    check(tg.sample(s, "gnn_members") == rules["members"], "rules.members")
    check(tg.sample(s, "gnn_mail_servers") == rules["servers"], "rules.servers")
    check(tg.sample(s, "gnn_acl_rules", family="ipv4") == rules["rules_ipv4"], "rules_ipv4")
    check(tg.sample(s, "gnn_acl_rules", family="ipv6") == rules["rules_ipv6"], "rules_ipv6")
    check(tg.sample(s, "gnn_acl_memory_bytes") == rules["acl_memory"], "acl_memory")
    check(math.isclose(tg.sample(s, "gnn_build_seconds"), rules["build_seconds"]),
          "build_seconds")


DATAPATH_METRICS = {
    "records_lost": "gnn_records_lost_total", "sightings_lost": "gnn_sightings_lost_total",
    "rejects_sent": "gnn_rejects_sent_total", "rejects_limited": "gnn_rejects_limited_total",
    "cache_hits": "gnn_cache_hits_total", "cache_misses": "gnn_cache_misses_total",
    "sources_tracked": "gnn_sources_tracked", "accepts_tracked": "gnn_accepts_tracked",
    "servers_tracked": "gnn_servers_tracked", "evicted": "gnn_sources_evicted_total",
    "aged": "gnn_sources_aged_total", "stale_records": "gnn_stale_records_total",
    "workers": "gnn_workers"}


class Ctx:
    pass


def bed_traffic(ctx):
    """SYNs to port 25 and 80 from the inside; counted exactly."""
    bed = ctx.bed
    frames = (syns(WORKSTATION[0], 7) + syns(WORKSTATION[1], 3) + syns(MAIL_SERVER[0], 5) +
              syns(LIBRARY_HOST, 4) + syns(LIBRARY_SERVER, 2) +
              syns(WORKSTATION[0], 6, dport=80))
    bed.send_frames("in", frames)
    wait_member(bed, "example-college", "blocked", 10)
    wait_member(bed, "example-college", "allowed", 5)
    wait_member(bed, "example-library", "would_block", 4)
    wait_member(bed, "example-library", "allowed", 2)


def bed_scrape_equals_json(ctx):
    text, snap = stable_scrape(ctx)
    promtool_metrics(text)
    s = tg.parse_prometheus(text)
    check(tg.sample(s, "gnn_up") == 1, "gnn_up")
    check_values(s, snap)
    check(tg.sample(s, "gnn_member_blocked_total", member="example-college") == 10, "blocked")
    check(tg.sample(s, "gnn_member_would_block_total", member="example-library") == 4,
          "would block")
    check(tg.sample(s, "gnn_blocked_total") == 10, "total blocked")
    check(tg.sample(s, "gnn_member_mode", member="example-library") == 1, "monitor")
    ctx.before = s
    ctx.started = snap["started"]


def bed_switch_to_enforce(ctx):
    """monitor -> enforce: the same counter series go on; the mode gauge says 2."""
    bed = ctx.bed
    path = bed.write_config(bed_members("enforce"), name="next.conf")
    os.replace(path, ctx.conf)
    r = bed.gnnstat("reload", check=False)
    check(r.returncode == 0, "reload: %s %s" % (r.stdout, r.stderr))
    bed.send_frames("in", syns(LIBRARY_HOST, 3, sport=42000))
    wait_member(bed, "example-library", "blocked", 3)
    text, snap = stable_scrape(ctx)
    promtool_metrics(text)
    s = tg.parse_prometheus(text)
    check_values(s, snap)
    check(tg.sample(s, "gnn_member_mode", member="example-library") == 2, "enforce")
    check(tg.sample(s, "gnn_member_would_block_total", member="example-library") == 4,
          "would-block kept since start")
    check(tg.sample(s, "gnn_member_blocked_total", member="example-library") == 3,
          "blocked after the switch")
    check(tg.sample(s, "gnn_generation") == tg.sample(ctx.before, "gnn_generation") + 1,
          "generation")
    check(tg.sample(s, "gnn_reloads_total") == 1, "reloads")
    check(abs(tg.sample(s, "gnn_last_reload_timestamp_seconds") - time.time()) < 60,
          "last reload time")
    series = {k for k in s if k[0].startswith("gnn_member_")}
    check(series == {k for k in ctx.before if k[0].startswith("gnn_member_")},
          "the switch changed the member series")


def bed_gnnd_stopped(ctx):
    check(ctx.bed.stop_filter() == 0, "gnnd did not stop cleanly")
    status, _, text, _ = ctx.ex.get()
    check(status == 200, "HTTP %d with gnnd stopped" % status)
    s = tg.parse_prometheus(text)
    check(tg.sample(s, "gnn_up") == 0, "gnn_up with gnnd stopped")
    check(families(s) == DOWN_FAMILIES, "series without gnnd: %r" % families(s))
    promtool_metrics(text)


def bed_gnnd_restarted(ctx):
    ctx.bed.start_gnnd(ctx.conf)
    text, snap = stable_scrape(ctx)
    promtool_metrics(text)
    s = tg.parse_prometheus(text)
    check(tg.sample(s, "gnn_up") == 1, "gnn_up after the restart")
    check_values(s, snap)
    check(tg.sample(s, "gnn_start_time_seconds") > ctx.started, "start time")
    check(tg.sample(s, "gnn_member_blocked_total", member="example-college") == 0,
          "counters start again")
    check(tg.sample(s, "gnn_member_mode", member="example-library") == 2, "mode")
    log = ctx.ex.output()
    check("gnnd not answering" in log and "gnnd answering again" in log, "log %r" % log)
    check(ctx.ex.stop() == 0, "exporter: exit %r" % ctx.ex.proc.returncode)


# ------------------------------------------------------------ main


def run(tests, arg, filter_log=None):
    passed = failed = 0
    for fn in tests:
        try:
            fn(arg)
            print("ok   %s" % fn.__name__)
            passed += 1
        except Failure as e:
            print("FAIL %s: %s" % (fn.__name__, e))
            failed += 1
        except Exception:
            print("FAIL %s" % fn.__name__)
            traceback.print_exc(file=sys.stdout)
            failed += 1
        sys.stdout.flush()
    if failed and filter_log is not None:
        print("--- gnnd output (tail)\n%s" % tail(filter_log(), 40))
    return passed, failed


def main():
    global GNND, GNNSTAT
    if len(sys.argv) != 3:
        print("usage: %s PATH/TO/gnnd PATH/TO/gnnstat" % sys.argv[0], file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2
    GNND, GNNSTAT = (os.path.abspath(a) for a in sys.argv[1:3])
    if not os.access(PROMTOOL, os.X_OK):
        print("no promtool: install Debian's prometheus package (tools/install-deps)")
        print("0 passed, 1 failed")
        return 1
    tmp = tempfile.mkdtemp(prefix="gnn-exporter-test-")
    env = {"tmp": tmp, "sock": os.path.join(tmp, "gnnd.sock"), "emitted": set()}
    env["fake"] = tg.FakeGnnd(env["sock"])
    env["fake"].weird = True
    servers = [serve_fake(env["fake"], env["sock"])]
    fixed_sock = os.path.join(tmp, "fixed.sock")
    fixed = FixedGnnd(fixed_sock, full_snapshot(tg.FakeGnnd(None)))
    fixed.snapshot["members"].append({"name": tg.WEIRD_MEMBER, "mode": "off", "allowed": 1,
                                      "blocked": 2, "would_block": 3})
    env["fixed"] = {"sock": fixed_sock, "fake": fixed}
    servers.append(serve_fake(fixed, fixed_sock))
    passed = failed = 0
    try:
        p, f = run([test_listen_refused, test_http_paths, test_addresses,
                    test_same_as_prometheus, test_silent_gnnd, test_slow_pages,
                    test_member_filter, test_error_reply, test_no_gnnd,
                    test_grafana_dashboard, test_docs, test_scale], env)
        passed, failed = passed + p, failed + f
        with TestBed(gnnd=GNND, gnnstat=GNNSTAT) as bed:
            ctx = Ctx()
            ctx.bed = bed
            ctx.conf = bed.write_config(bed_members("monitor"))
            bed.start_gnnd(ctx.conf)
            ctx.ex = Exporter(bed.filter.socket, workdir=bed.workdir)
            try:
                p, f = run([bed_traffic, bed_scrape_equals_json, bed_switch_to_enforce,
                            bed_gnnd_stopped, bed_gnnd_restarted], ctx,
                           lambda: bed.filter.log)
                passed, failed = passed + p, failed + f
                if f:
                    print("--- exporter output\n%s" % tail(ctx.ex.log, 20))
            finally:
                ctx.ex.stop()
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
