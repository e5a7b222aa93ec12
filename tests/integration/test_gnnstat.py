#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""gnnstat against a fake gnnd: a Unix-socket server speaking the control
protocol with canned replies whose counters advance on every stats request.

usage: test_gnnstat.py PATH/TO/gnnstat
Stdlib only. Prints "N passed, N failed"; exits non-zero on any failure.
"""

import json
import math
import os
import re
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import traceback

GNNSTAT = None

# Per stats request, the fake clock moves TIME_STEP seconds and each counter
# moves by its step: so a correct gnnstat shows step / TIME_STEP packets/s,
# whatever -i is (the test uses a short -i to stay fast).
TIME_STEP = 1.0
STARTED = 1700000000
MEMBER_STEPS = {
    "example-college": ("enforce", {"allowed": 100, "blocked": 50, "would_block": 0}),
    "example-school": ("monitor", {"allowed": 10, "blocked": 0, "would_block": 25}),
}
WEIRD_MEMBER = 'we"ird\\name\nx'
PORT_STEPS = {"rx_packets": 1000, "tx_packets": 990, "rx_missed": 3, "tx_dropped": 1,
              "rx_nombuf": 0}
TOTAL_STEPS = {"rx_packets": 2000, "forwarded": 1940, "blocked": 50, "would_block": 25,
               "allowed": 110, "malformed_dropped": 10, "malformed_forwarded": 5,
               "tx_dropped": 2}
MALFORMED_STEPS = {"vlan_depth": 1, "truncated": 2, "bad_header": 3, "tiny_fragment": 4,
                   "frag_no_l4": 0, "ext_chain": 0}


class FakeGnnd:
    """State shared by the handler threads; tests tweak it between runs."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.tick = 0
        self.requests = []
        self.last_stats = None
        self.weird = False
        self.silent = False
        self.reload_ok = True
        self.error_reply = None
        self.restart_at = None  # tick from which "started" changes and counters reset

    def stats(self):
        with self.lock:
            self.tick += 1
            t = self.tick
        base = t
        started = STARTED
        if self.restart_at is not None and t >= self.restart_at:
            base = t - self.restart_at + 1
            started = STARTED + 500
        # Fields no gnnstat knows yet ("future_*"): fields are only ever added.
        members = [{"name": n, "mode": mode, "future_list": [1, 2],
                    **{k: 1000 + v * base for k, v in steps.items()}}
                   for n, (mode, steps) in MEMBER_STEPS.items()]
        if self.weird:
            members.append({"name": WEIRD_MEMBER, "mode": "off", "allowed": 1,
                            "blocked": 2, "would_block": 3})
        ports = []
        for name, role in (("net_af_packet0", "inside"), ("net_af_packet1", "outside")):
            port = {"name": name, "role": role, "link_up": role == "inside",
                    "future_counter": 3}
            port.update({k: 5000 + v * base for k, v in PORT_STEPS.items()})
            ports.append(port)
        obj = {
            "api_version": 1, "future_number": 7, "future_object": {"a": [1, {"b": None}]},
            "generation": 3, "reloads": 2, "reload_failures": 1,
            "last_error": "/etc/gnn/gnn.conf:12: bad CIDR \"198.18.0.1/33\"",
            "last_reload": STARTED + 60.5,
            "started": started,
            "mbufs_in_use": 1234,
            "time": started + 100.0 + TIME_STEP * base,
            "ports": ports,
            "totals": dict({k: 10000 + v * base for k, v in TOTAL_STEPS.items()},
                           future_total=4),
            "malformed": {k: 7 + v * base for k, v in MALFORMED_STEPS.items()},
            "members": members,
        }
        self.last_stats = obj
        return obj

    def answer(self, line):
        try:
            req = json.loads(line)
        except ValueError:
            req = {"cmd": line.strip()}
        self.requests.append(req)
        if self.error_reply is not None:
            return {"error": self.error_reply}
        cmd = req.get("cmd")
        if cmd == "stats":
            return self.stats()
        if cmd == "reload":
            if self.reload_ok:
                return {"ok": True, "generation": 4}
            return {"ok": False, "error": "gnn.conf:7: unknown mode \"enforcing\"",
                    "errors": ["gnn.conf:7: unknown mode \"enforcing\"",
                               "gnn.conf:9: bad CIDR \"192.0.2.0/33\""]}
        if cmd == "top":
            return {"sources": [
                {"address": "198.51.100.7", "member": "example-college", "blocked": 12,
                 "would_block": 0},
                {"address": "2001:db8:10::1234", "member": "example-school", "blocked": 0,
                 "would_block": 9},
            ]}
        return {"error": "unknown command"}


def make_handler(fake):
    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            for raw in self.rfile:
                if fake.silent:
                    continue  # read and never answer: the client must time out
                reply = json.dumps(fake.answer(raw.decode()), separators=(",", ":"))
                self.wfile.write(reply.encode() + b"\n")
                self.wfile.flush()
    return Handler


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def run(args, timeout=20):
    return subprocess.run([GNNSTAT] + args, capture_output=True, text=True, timeout=timeout)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


# ---- Prometheus text format, strictly ----

NAME_RE = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_RE = r"[a-zA-Z_][a-zA-Z0-9_]*"
VALUE_RE = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN"
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def parse_label_value(s, i, lineno):
    """s[i] is just past the opening quote; return (value, index past the closing quote)."""
    out = []
    while True:
        check(i < len(s), "line %d: unterminated label value" % lineno)
        c = s[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\":
            check(i + 1 < len(s), "line %d: dangling backslash" % lineno)
            esc = s[i + 1]
            check(esc in ('\\', '"', 'n'), "line %d: bad escape \\%s" % (lineno, esc))
            out.append("\n" if esc == "n" else esc)
            i += 2
            continue
        check(c != "\n", "line %d: raw newline in label value" % lineno)
        out.append(c)
        i += 1


def parse_labels(s, lineno):
    """s starts just after '{'; return (dict, rest after '}')."""
    labels = {}
    i = 0
    while True:
        if s[i:i + 1] == "}":
            return labels, s[i + 1:]
        m = re.compile(LABEL_RE).match(s, i)
        check(m is not None, "line %d: bad label name at %r" % (lineno, s[i:]))
        name = m.group(0)
        check(not name.startswith("__"), "line %d: reserved label %s" % (lineno, name))
        check(name not in labels, "line %d: duplicate label %s" % (lineno, name))
        i = m.end()
        check(s[i:i + 2] == '="', "line %d: expected =\" after %s" % (lineno, name))
        labels[name], i = parse_label_value(s, i + 2, lineno)
        if s[i:i + 1] == ",":
            i += 1
        else:
            check(s[i:i + 1] == "}", "line %d: expected , or }" % lineno)


def parse_prometheus(text):
    """Return {(name, frozenset(labels.items())): float}; raise on any violation.

    Each family is one group: its HELP and TYPE, then its samples, with no
    line of another family in between and no line of it after the group.
    """
    check(text.endswith("\n"), "exposition must end with a newline")
    samples = {}
    helps, types, done = set(), {}, set()
    current = None

    def enter(name, lineno):
        nonlocal current
        if name == current:
            return
        check(name not in done, "line %d: %s is split into two groups" % (lineno, name))
        if current is not None:
            done.add(current)
        current = name

    for lineno, line in enumerate(text[:-1].split("\n"), 1):
        check(line != "", "line %d: empty line" % lineno)
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (%s) (.*)" % NAME_RE, line)
            if m is None:
                continue  # a plain comment
            kind, name, rest = m.groups()
            enter(name, lineno)
            if kind == "HELP":
                check(name not in helps, "line %d: second HELP for %s" % (lineno, name))
                helps.add(name)
            else:
                check(name not in types, "line %d: second TYPE for %s" % (lineno, name))
                check(rest in TYPES, "line %d: bad type %r" % (lineno, rest))
                types[name] = rest
            continue
        m = re.match(NAME_RE, line)
        check(m is not None, "line %d: bad metric name in %r" % (lineno, line))
        name, rest = m.group(0), line[m.end():]
        enter(name, lineno)
        labels = {}
        if rest.startswith("{"):
            labels, rest = parse_labels(rest[1:], lineno)
        m = re.fullmatch(r" (%s)" % VALUE_RE, rest)
        check(m is not None, "line %d: bad value (or a timestamp) in %r" % (lineno, line))
        check(name in types and name in helps,
              "line %d: sample of %s before its HELP and TYPE" % (lineno, name))
        if types[name] == "counter":
            check(name.endswith("_total"), "line %d: counter %s lacks _total" % (lineno, name))
            check(float(m.group(1)) >= 0, "line %d: negative counter" % lineno)
        key = (name, frozenset(labels.items()))
        check(key not in samples, "line %d: duplicate series %r" % (lineno, key))
        samples[key] = float(m.group(1))
    return samples


def sample(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    check(key in samples, "missing sample %s%r" % (name, labels))
    return samples[key]


# ---- tests ----

def test_json(fake, sock):
    r = run(["-s", sock, "--json"])
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    obj = json.loads(r.stdout)
    check(r.stdout.count("\n") == 1, "--json off a terminal is one compact line")
    check(obj == fake.last_stats, "--json must print exactly the server's object")
    for k in ("generation", "reloads", "reload_failures", "last_error", "ports", "totals",
              "members"):
        check(k in obj, "missing %s" % k)
    for k in ("name", "role", "rx_packets", "tx_packets", "rx_missed", "tx_dropped"):
        check(k in obj["ports"][0], "ports[0] lacks %s" % k)
    for k in ("rx_packets", "forwarded", "blocked", "would_block", "allowed",
              "malformed_dropped"):
        check(k in obj["totals"], "totals lacks %s" % k)
    for k in ("name", "mode", "allowed", "blocked", "would_block"):
        check(k in obj["members"][0], "members[0] lacks %s" % k)
    check(fake.requests[-1] == {"cmd": "stats"}, "request was %r" % fake.requests[-1])


def rows(text):
    """First word of each line -> the rest split on blanks (last block wins)."""
    out = {}
    for line in text.splitlines():
        words = line.split()
        if words:
            out[words[0]] = words[1:]
    return out


def test_rates(fake, sock):
    t0 = time.monotonic()
    r = run(["-s", sock, "-i", "0.2"])
    elapsed = time.monotonic() - t0
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    check("\033" not in r.stdout, "escape sequences in non-TTY output")
    check(elapsed >= 0.2, "did not wait -i between snapshots")
    check(r.stdout.count("gnnd generation 3") == 1, "off a terminal -n defaults to 1 block")
    last = fake.last_stats
    t = rows(r.stdout)
    # MEMBER MODE ALLOWED/s BLOCKED/s WOULD_BLK/s ALLOWED BLOCKED WOULD_BLOCK
    college = t["example-college"]
    check(college[:4] == ["enforce", "100.0", "50.0", "0.0"], "college rates %r" % college)
    check(college[4:] == [str(last["members"][0][k]) for k in ("allowed", "blocked",
                                                                "would_block")],
          "college totals %r" % college)
    school = t["example-school"]
    check(school[:4] == ["monitor", "10.0", "0.0", "25.0"], "school rates %r" % school)
    # PORT ROLE RX/s TX/s MISSED/s DROPPED/s LINK
    check(t["net_af_packet0"] == ["inside", "1000.0", "990.0", "3.0", "1.0", "up"],
          "port0 %r" % t["net_af_packet0"])
    check(t["net_af_packet1"][-1] == "down", "port1 link %r" % t["net_af_packet1"])
    for k, step in TOTAL_STEPS.items():
        check(t[k] == ["%.1f" % (step / TIME_STEP), str(last["totals"][k])],
              "totals %s: %r" % (k, t[k]))
    check("gnn.conf:12: bad CIDR" in r.stdout, "last error not shown")
    check("failures 1" in r.stdout and "reloads 2" in r.stdout, "header counts")


def test_rates_count(fake, sock):
    r = run(["-s", sock, "-i", "0.05", "-n", "3"])
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    check(r.stdout.count("gnnd generation") == 3, "-n 3 must print 3 blocks")
    check(r.stdout.count("\n\ngnnd generation") == 2, "blocks separated by a blank line")
    check("\033" not in r.stdout, "escape sequences in non-TTY output")
    lines = [l.split() for l in r.stdout.splitlines() if l.startswith("example-college")]
    check(all(l[2:5] == ["100.0", "50.0", "0.0"] for l in lines), "rates %r" % lines)


def test_rates_restart(fake, sock):
    fake.restart_at = fake.tick + 2  # second snapshot comes from a "new" gnnd
    r = run(["-s", sock, "-i", "0.05"])
    fake.restart_at = None
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    check("restarted" in r.stdout, "restart not reported")
    check(rows(r.stdout)["example-college"][1:4] == ["-", "-", "-"], "rates after restart")


def test_tty(fake, sock):
    """On a terminal the screen is cleared before each block."""
    import pty
    master, slave = pty.openpty()
    p = subprocess.Popen([GNNSTAT, "-s", sock, "-i", "0.05", "-n", "2"], stdout=slave,
                         stderr=subprocess.PIPE)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    p.wait(timeout=10)
    os.close(master)
    check(p.returncode == 0, "exit %d" % p.returncode)
    check(out.count(b"\033[H\033[2J") == 3, "expected a clear per block (and the first)")


def test_prometheus(fake, sock):
    fake.weird = True
    try:
        r = run(["-s", sock, "--prometheus"])
    finally:
        fake.weird = False
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    s = parse_prometheus(r.stdout)
    last = fake.last_stats
    check(sample(s, "gnn_up") == 1, "gnnd answered: gnn_up 1")
    check(0 <= sample(s, "gnn_scrape_duration_seconds") < 5, "scrape duration")
    check(sample(s, "gnn_start_time_seconds") == STARTED, "start time")
    check(sample(s, "gnn_generation") == 3, "generation")
    check(sample(s, "gnn_reloads_total") == 2, "reloads")
    check(sample(s, "gnn_reload_failures_total") == 1, "reload failures")
    check(sample(s, "gnn_last_error") == 1, "last error flag")
    p0 = last["ports"][0]
    check(sample(s, "gnn_port_rx_packets_total", port="net_af_packet0", role="inside")
          == p0["rx_packets"], "port rx")
    check(sample(s, "gnn_port_link_up", port="net_af_packet1", role="outside") == 0, "link")
    for m in last["members"]:
        for k in ("allowed", "blocked", "would_block"):
            check(sample(s, "gnn_member_%s_total" % k, member=m["name"]) == m[k],
                  "member %s %s" % (m["name"], k))
    # The mode is a gauge of its own: a switch to enforce keeps the counter series.
    modes = {"off": 0, "monitor": 1, "enforce": 2}
    for m in last["members"]:
        check(sample(s, "gnn_member_mode", member=m["name"]) == modes[m["mode"]],
              "mode of %s" % m["name"])
    for name, labels in s:
        if name.startswith("gnn_member_"):
            check({k for k, _ in labels} == {"member"}, "%s labels %r" % (name, labels))
        check("future" not in name, "unknown field %s became a metric" % name)
    check(sample(s, "gnn_member_would_block_total", member=WEIRD_MEMBER) == 3,
          "escaped member name must round-trip")
    check('member="we\\"ird\\\\name\\nx"' in r.stdout, "label escaping")
    for reason, v in last["malformed"].items():
        check(sample(s, "gnn_malformed_dropped_total", reason=reason) == v, reason)
    check(sample(s, "gnn_blocked_total") == last["totals"]["blocked"], "totals blocked")
    check(sample(s, "gnn_malformed_forwarded_total") == last["totals"]["malformed_forwarded"],
          "totals malformed forwarded")
    check(sample(s, "gnn_mbufs_in_use") == 1234, "mbufs in use")
    check(math.isclose(sample(s, "gnn_last_reload_timestamp_seconds"), STARTED + 60.5),
          "last reload time")


def test_prometheus_parser_is_strict(fake, sock):
    bad = [
        "gnn_x_total 1\n",                                          # no HELP/TYPE
        "# HELP a x\n# TYPE a gauge\na{l=\"v} 1\n",                 # unterminated
        "# HELP a x\n# TYPE a gauge\na{l=\"\\t\"} 1\n",             # bad escape
        "# HELP a x\n# TYPE a gauge\na one\n",                      # not a number
        "# HELP a x\n# TYPE a gauge\na 1 123\n",                    # timestamp
        "# HELP a x\n# TYPE a gauge\n# HELP b x\n# TYPE b gauge\nb 1\na 1\n",
        "# HELP a x\n# TYPE a gauge\na 1\n# HELP b x\n# TYPE b gauge\nb 1\na 2\n",
        "# HELP 1a x\n# TYPE 1a gauge\n1a 1\n",                     # bad name
        "# HELP a_total x\n# TYPE a_total counter\na_total{x=\"1\",x=\"2\"} 1\n",
    ]
    for text in bad:
        try:
            parse_prometheus(text)
        except AssertionError:
            continue
        raise AssertionError("parser accepted %r" % text)
    parse_prometheus("# HELP a_total x\n# TYPE a_total counter\na_total{x=\"\\\\\\\"\\n\"} 1\n")


def test_reload_ok(fake, sock):
    r = run(["-s", sock, "reload"])
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    check(r.stdout.strip() == "reloaded: generation 4", "stdout %r" % r.stdout)
    check(fake.requests[-1] == {"cmd": "reload"}, "request %r" % fake.requests[-1])


def test_reload_fail(fake, sock):
    fake.reload_ok = False
    try:
        r = run(["-s", sock, "reload"])
    finally:
        fake.reload_ok = True
    check(r.returncode == 1, "exit %d" % r.returncode)
    check('gnn.conf:7: unknown mode "enforcing"' in r.stderr, "stderr %r" % r.stderr)
    check('gnn.conf:9: bad CIDR' in r.stderr, "every error shown: %r" % r.stderr)
    check(r.stdout == "", "nothing on stdout")


def test_server_error(fake, sock):
    fake.error_reply = "busy, try again"
    try:
        r = run(["-s", sock, "--json"])
    finally:
        fake.error_reply = None
    check(r.returncode == 1, "exit %d" % r.returncode)
    check("busy, try again" in r.stderr, "stderr %r" % r.stderr)


def test_top(fake, sock):
    r = run(["-s", sock, "top", "-m", "example-college", "-n", "5"])
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    check(fake.requests[-1] == {"cmd": "top", "member": "example-college", "n": 5},
          "request %r" % fake.requests[-1])
    lines = [l.split() for l in r.stdout.splitlines()]
    check(lines[0] == ["ADDRESS", "MEMBER", "BLOCKED", "WOULD_BLOCK"], "header %r" % lines[0])
    check(lines[1] == ["198.51.100.7", "example-college", "12", "0"], "row %r" % lines[1])
    check(lines[2] == ["2001:db8:10::1234", "example-school", "0", "9"], "row %r" % lines[2])
    r = run(["-s", sock, "top", "--json"])
    check(r.returncode == 0 and json.loads(r.stdout)["sources"][0]["blocked"] == 12,
          "top --json")
    check(fake.requests[-1] == {"cmd": "top"}, "request %r" % fake.requests[-1])
    r = run(["-s", sock, "top", "-n", "1001"])
    check(r.returncode == 2, "top -n 1001 must be a usage error")


def test_no_socket(fake, sock):
    missing = os.path.join(os.path.dirname(sock), "missing.sock")
    for args in (["-s", missing], ["-s", missing, "--json"], ["-s", missing, "reload"],
                 ["-s", missing, "top"], ["-s", missing, "--prometheus"]):
        r = run(args)
        check(r.returncode == 2, "%r: exit %d" % (args, r.returncode))
        check("cannot connect to %s" % missing in r.stderr, "stderr %r" % r.stderr)
        check("is gnnd running" in r.stderr, "stderr %r" % r.stderr)
        check(r.stdout == "", "nothing on stdout")


def test_refused(fake, sock):
    stale = os.path.join(os.path.dirname(sock), "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stale)  # bound, never listening: what a crashed gnnd leaves behind
    try:
        r = run(["-s", stale, "--json"])
    finally:
        s.close()
    check(r.returncode == 2, "exit %d" % r.returncode)
    check("Connection refused" in r.stderr and "is gnnd running" in r.stderr,
          "stderr %r" % r.stderr)


def test_timeout(fake, sock):
    fake.silent = True
    try:
        t0 = time.monotonic()
        r = run(["-s", sock, "--json"], timeout=30)
        elapsed = time.monotonic() - t0
    finally:
        fake.silent = False
    check(r.returncode == 2, "exit %d" % r.returncode)
    check("is gnnd running" in r.stderr and "no reply" in r.stderr, "stderr %r" % r.stderr)
    check(4 <= elapsed < 15, "timed out after %.1f s" % elapsed)


def test_usage(fake, sock):
    for args in (["--bogus"], ["frobnicate"], ["-i", "0"], ["-i", "x"], ["-n", "0"],
                 ["-n", "-3"], ["--json", "--prometheus"], ["reload", "-m", "x"],
                 ["top", "-i", "1"], ["top", "reload"], ["-s"], ["exporter"],
                 ["--listen", "127.0.0.1:9617"], ["top", "--timeout", "1"],
                 ["exporter", "--listen", "127.0.0.1:9617", "--json"],
                 ["exporter", "--listen", "127.0.0.1:9617", "--timeout", "0"],
                 ["exporter", "--listen", "127.0.0.1:9617", "--prometheus"]):
        r = run(["-s", sock] + args)
        check(r.returncode == 2, "%r: exit %d" % (args, r.returncode))
        check("usage:" in r.stderr, "%r: no usage text" % args)
    r = run(["-h"])
    check(r.returncode == 0 and "usage:" in r.stdout, "-h")
    r = run(["--help"])
    check(r.returncode == 0 and "--prometheus" in r.stdout and "exporter --listen" in r.stdout,
          "--help")


TESTS = [test_json, test_rates, test_rates_count, test_rates_restart, test_tty,
         test_prometheus, test_prometheus_parser_is_strict, test_reload_ok, test_reload_fail,
         test_server_error, test_top, test_no_socket, test_refused, test_usage, test_timeout]


def main():
    global GNNSTAT
    if len(sys.argv) != 2:
        print("usage: %s PATH/TO/gnnstat" % sys.argv[0], file=sys.stderr)
        return 2
    GNNSTAT = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="gnnstat-test-")
    sock = os.path.join(tmp, "gnnd.sock")
    fake = FakeGnnd(sock)
    server = Server(sock, make_handler(fake))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    passed = failed = 0
    try:
        for test in TESTS:
            try:
                test(fake, sock)
                print("ok   %s" % test.__name__)
                passed += 1
            except Exception:
                print("FAIL %s" % test.__name__)
                traceback.print_exc(file=sys.stdout)
                failed += 1
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
