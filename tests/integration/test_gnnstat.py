#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""gnnstat against a fake gnnd: a Unix-socket server speaking the control
protocol with canned replies whose counters advance on every stats request,
and canned lifecycle replies (top, servers, suggest, diff) whose text and
exit codes are checked.

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

# The lifecycle replies (top, servers, suggest, diff), times around NOW.
NOW = 1700003600.25
TOP_SOURCES = [
    {"address": "198.51.100.7", "member": "example-college", "verdict": "blocked",
     "attempts": 3000, "packets": 3010, "destinations": 48, "attempts_error": 0,
     "first_seen": NOW - 3600, "last_seen": NOW - 1, "blocked": 3010, "would_block": 0},
    {"address": "2001:db8:10::1234", "member": "example-school", "verdict": "would_block",
     "attempts": 20, "packets": 25, "destinations": 2, "attempts_error": 3,
     "first_seen": NOW - 60, "last_seen": NOW - 30.5, "blocked": 0, "would_block": 25,
     "future_field": 1},
]
SERVERS = [
    {"member": "example-college", "server": "198.51.100.25", "attempts": 120, "packets": 900,
     "accepted": 40, "first_seen": NOW - 3000, "last_seen": NOW - 5, "never": False,
     "loaded": NOW - 7200},
    {"member": "example-college", "server": "198.51.100.26/31", "attempts": 0, "packets": 0,
     "accepted": 0, "first_seen": None, "last_seen": None, "never": True,
     "loaded": NOW - 7200},
    {"member": "example-school", "server": "2001:db8:20::25", "attempts": 0, "packets": 0,
     "accepted": 7, "first_seen": None, "last_seen": None, "never": True,
     "loaded": NOW - 600},
]
SUGGEST = [
    {"member": "example-college", "mode": "monitor",
     "listed": ["198.51.100.25", "198.51.100.26/31"],
     "suggested": [
         {"address": "198.51.100.30", "member": "example-college", "listed": False,
          "verdict": "would_block", "inbound": 12, "packets": 60, "peers": 4,
          "outbound_attempts": 9, "first_seen": NOW - 500, "last_seen": NOW - 20},
         {"address": "198.51.100.31", "member": "example-college", "listed": False,
          "verdict": "would_block", "inbound": 1, "packets": 3, "peers": 1,
          "outbound_attempts": 0, "first_seen": NOW - 100, "last_seen": NOW - 100}]},
    {"member": "example-school", "mode": "enforce", "listed": [], "suggested": []},
]
DIFF = {"ok": True, "compared": 42, "members_now": 2, "members_new": 3,
        "newly_blocked": [
            {"address": "198.51.100.30", "member": "example-college",
             "new_member": "example-college", "was": "would_block", "now": "blocked",
             "attempts": 9, "inbound": 12, "last_seen": NOW - 20, "accepted": True}],
        "newly_allowed": [
            {"address": "2001:db8:10::1234", "member": "example-school",
             "new_member": "example-school", "was": "blocked", "now": "allowed",
             "attempts": 20, "inbound": 0, "last_seen": NOW - 30, "accepted": False}],
        "other_changes": [
            {"address": "198.51.100.99", "member": "example-college",
             "new_member": "example-museum", "was": "would_block", "now": "would_block",
             "attempts": 1, "inbound": 0, "last_seen": None, "accepted": False}]}


def local(t):
    """A Unix time as gnnstat shows it: local time, to the second."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(t)))


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
        self.old_top = False

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
        if cmd in ("top", "servers", "suggest") and req.get("member") not in (
                None, "example-college", "example-school"):
            return {"error": "no member named %s" % req["member"]}
        if cmd == "top":
            if self.old_top:  # the reply of a gnnd from before the lifecycle commands
                return {"sources": [
                    {"address": "198.51.100.7", "member": "example-college", "blocked": 12,
                     "would_block": 0}]}
            sources = [s for s in TOP_SOURCES
                       if req.get("member") in (None, s["member"])][:req.get("n", 10)]
            return {"sources": sources, "tracked": 65536, "capacity": 65536,
                    "evicted": 34467, "aged": 2, "time": NOW}
        if cmd == "servers":
            return {"servers": [s for s in SERVERS if req.get("member") in (None, s["member"])],
                    "time": NOW}
        if cmd == "suggest":
            return {"members": [m for m in SUGGEST if req.get("member") in (None, m["member"])],
                    "time": NOW}
        if cmd == "diff":
            config = req.get("config", "")
            if config.endswith("bad.conf"):
                return {"ok": False, "error": config + ":7: unknown mode 'enforcing'",
                        "errors": [config + ":7: unknown mode 'enforcing'",
                                   config + ":9: bad CIDR \"192.0.2.0/33\""]}
            if config.endswith("busy.conf"):
                return {"ok": False, "error": "busy: a reload is in progress, try again"}
            return dict(DIFF, config=config)
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
    lines = r.stdout.splitlines()
    check(lines[0].split() == ["ADDRESS", "MEMBER", "VERDICT", "ATTEMPTS", "PACKETS",
                               "DESTINATIONS", "FIRST", "SEEN", "LAST", "SEEN"],
          "header %r" % lines[0])
    src = TOP_SOURCES[0]
    check(lines[1].split() == ["198.51.100.7", "example-college", "blocked", "3000", "3010",
                               "48"] + local(src["first_seen"]).split() +
          local(src["last_seen"]).split(), "row %r" % lines[1])
    check(lines[-1] == "1 shown; tracked 65536 of capacity 65536 (all members), "
          "evicted 34467, aged 2", "footer %r" % lines[-1])
    check(len(lines) == 3, "one source of that member: %r" % lines)
    check(all(l == l.rstrip() for l in lines), "trailing blanks")
    r = run(["-s", sock, "top"])
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    lines = r.stdout.splitlines()
    check(lines[2].split()[:6] == ["2001:db8:10::1234", "example-school", "would_block", "20",
                                   "25", "2"], "row %r" % lines[2])
    # Columns line up: each field starts where its title does.
    check(lines[2].index("example-school") == lines[0].index("MEMBER"), "columns")
    check(lines[2].index("would_block") == lines[0].index("VERDICT"), "columns")
    check(lines[1].index("3000") + 4 == lines[0].index("ATTEMPTS") + 8, "right-aligned")
    check("1 of these came in while the table was full" in r.stdout,
          "a count with an error bound must say so: %r" % r.stdout)
    r = run(["-s", sock, "top", "--json"])
    check(r.returncode == 0 and json.loads(r.stdout)["sources"] == TOP_SOURCES, "top --json")
    check(fake.requests[-1] == {"cmd": "top"}, "request %r" % fake.requests[-1])
    r = run(["-s", sock, "top", "-n", "1001"])
    check(r.returncode == 2, "top -n 1001 must be a usage error")


def test_top_unknown_member(fake, sock):
    """An unknown member is an error (exit 1), never an empty report."""
    for args in (["top", "-m", "nosuch"], ["top", "-m", "nosuch", "--json"],
                 ["servers", "-m", "nosuch"], ["suggest", "-m", "nosuch"],
                 ["suggest", "-m", "nosuch", "--json"]):
        r = run(["-s", sock] + args)
        check(r.returncode == 1, "%r: exit %d" % (args, r.returncode))
        check(r.stderr == "gnnstat: gnnd: no member named nosuch\n", "%r: stderr %r" % (
            args, r.stderr))
        check(r.stdout == "", "%r: stdout %r" % (args, r.stdout))
        check(fake.requests[-1]["member"] == "nosuch", "request %r" % fake.requests[-1])


def test_top_empty_and_old(fake, sock):
    r = run(["-s", sock, "top", "-m", "example-school", "-n", "1"])
    check(r.returncode == 0, "exit %d" % r.returncode)
    fake_top = [s for s in TOP_SOURCES if s["member"] == "example-school"]
    check(r.stdout.splitlines()[1].split()[0] == fake_top[0]["address"], r.stdout)
    saved = TOP_SOURCES[:]
    TOP_SOURCES.clear()
    try:
        r = run(["-s", sock, "top", "-m", "example-college"])
    finally:
        TOP_SOURCES.extend(saved)
    check(r.returncode == 0, "exit %d" % r.returncode)
    check(r.stdout.splitlines()[0] ==
          "no blocked or would-be blocked sources of member example-college", r.stdout)
    # An older gnnd's reply: what it has, dashes for the rest, no failure.
    fake.old_top = True
    try:
        r = run(["-s", sock, "top"])
    finally:
        fake.old_top = False
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    row = r.stdout.splitlines()[1].split()
    check(row[:2] == ["198.51.100.7", "example-college"] and set(row[2:]) == {"-"},
          "old reply row %r" % row)


def test_servers(fake, sock):
    r = run(["-s", sock, "servers"])
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    check(fake.requests[-1] == {"cmd": "servers"}, "request %r" % fake.requests[-1])
    lines = r.stdout.splitlines()
    check(lines[0].split() == ["MEMBER", "SERVER", "ATTEMPTS", "PACKETS", "ACCEPTED", "LAST",
                               "SEEN", "LOADED"], "header %r" % lines[0])
    s0 = SERVERS[0]
    check(lines[1].split() == ["example-college", "198.51.100.25", "120", "900", "40"] +
          local(s0["last_seen"]).split() + local(s0["loaded"]).split(), "row %r" % lines[1])
    check(lines[2].split()[:6] == ["example-college", "198.51.100.26/31", "0", "0", "0",
                                   "never"], "row %r" % lines[2])
    # It accepted inbound mail but never sent: still "never".
    check(lines[3].split()[:6] == ["example-school", "2001:db8:20::25", "0", "0", "7",
                                   "never"], "row %r" % lines[3])
    check(lines[4] == "2 of 3 listed servers never seen sending since loaded",
          "summary %r" % lines[4])
    r = run(["-s", sock, "servers", "-m", "example-college", "--json"])
    check(r.returncode == 0, "exit %d" % r.returncode)
    check(fake.requests[-1] == {"cmd": "servers", "member": "example-college"},
          "request %r" % fake.requests[-1])
    check(json.loads(r.stdout)["servers"] == SERVERS[:2], "servers --json")
    r = run(["-s", sock, "servers", "-m", "example-college"])
    check(r.stdout.splitlines()[-1] ==
          "1 of 2 listed servers never seen sending since loaded", r.stdout)


def test_suggest(fake, sock):
    r = run(["-s", sock, "suggest"])
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    check(fake.requests[-1] == {"cmd": "suggest"}, "request %r" % fake.requests[-1])
    lines = r.stdout.splitlines()
    check(lines[0] == "example-college (monitor): 2 unlisted hosts accepted connections on a "
          "blocked port", "line %r" % lines[0])
    check(lines[1].split() == ["ADDRESS", "VERDICT", "INBOUND", "PEERS", "OUTBOUND", "FIRST",
                               "SEEN", "LAST", "SEEN"], "header %r" % lines[1])
    h = SUGGEST[0]["suggested"][0]
    check(lines[2].split() == ["198.51.100.30", "would_block", "12", "4", "9"] +
          local(h["first_seen"]).split() + local(h["last_seen"]).split(), "row %r" % lines[2])
    check(lines[3].split()[:5] == ["198.51.100.31", "would_block", "1", "1", "0"],
          "row %r" % lines[3])
    # Listed first in file order, then the suggested: one line to paste.
    check(lines[4] == 'mail_servers = [ "198.51.100.25", "198.51.100.26/31", '
          '"198.51.100.30", "198.51.100.31" ];', "paste line %r" % lines[4])
    check(lines[5] == "", "a blank line between members")
    check(lines[6] == "example-school (enforce): no unlisted host accepted connections on a "
          "blocked port", "line %r" % lines[6])
    check(lines[7] == "mail_servers = [ ];", "paste line %r" % lines[7])
    r = run(["-s", sock, "suggest", "-m", "example-college", "--json"])
    check(r.returncode == 0, "exit %d" % r.returncode)
    check(fake.requests[-1] == {"cmd": "suggest", "member": "example-college"},
          "request %r" % fake.requests[-1])
    check(json.loads(r.stdout)["members"] == SUGGEST[:1], "suggest --json")
    saved = SUGGEST[:]
    SUGGEST.clear()
    try:
        r = run(["-s", sock, "suggest"])
    finally:
        SUGGEST.extend(saved)
    check(r.returncode == 0 and r.stdout == "no unlisted host of any member accepted "
          "connections on a blocked port\n", "empty suggest %r" % r.stdout)


def test_diff(fake, sock):
    tmp = os.path.dirname(sock)
    r = subprocess.run([GNNSTAT, "-s", sock, "diff", "./next.conf"], capture_output=True,
                       text=True, timeout=20, cwd=tmp)
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    want = os.path.join(os.path.realpath(tmp), "next.conf")
    check(fake.requests[-1] == {"cmd": "diff", "config": want},
          "CONFIG must go as an absolute path: %r" % fake.requests[-1])
    lines = r.stdout.splitlines()
    check(lines[0] == "%s is valid; members: 2 now, 3 in the file" % want, lines[0])
    check(lines[1] == "newly blocked: 1", lines[1])
    check(lines[2].split() == ["ADDRESS", "MEMBER", "WAS", "->", "NOW", "ATTEMPTS", "LAST",
                               "SEEN", "NOTE"], "header %r" % lines[2])
    check(lines[3].split()[:7] == ["198.51.100.30", "example-college", "would_block", "->",
                                   "blocked", "9"] + local(NOW - 20).split()[:1],
          "row %r" % lines[3])
    check(lines[3].endswith("accepted inbound connections: a mail server?"), lines[3])
    check(lines[4] == "newly allowed: 1", lines[4])
    check(lines[6].split()[:6] == ["2001:db8:10::1234", "example-school", "blocked", "->",
                                   "allowed", "20"], "row %r" % lines[6])
    check(lines[7] == "other changes: 1", lines[7])
    check(lines[9].split()[:9] == ["198.51.100.99", "example-college", "->", "example-museum",
                                   "would_block", "->", "would_block", "1", "-"],
          "a member change: %r" % lines[9])
    check(lines[10] == "42 sources compared: 1 newly blocked, 1 newly allowed, 1 other change",
          lines[10])
    check(all(l == l.rstrip() for l in lines), "trailing blanks")
    r = run(["-s", sock, "diff", "/etc/gnn/next.conf", "--json"])
    check(r.returncode == 0, "exit %d" % r.returncode)
    check(json.loads(r.stdout) == dict(DIFF, config="/etc/gnn/next.conf"), "diff --json")


def test_diff_invalid(fake, sock):
    r = run(["-s", sock, "diff", "/etc/gnn/bad.conf"])
    check(r.returncode == 1, "an invalid CONFIG: exit %d" % r.returncode)
    check(r.stdout == "", "stdout %r" % r.stdout)
    check("/etc/gnn/bad.conf:7: unknown mode 'enforcing'\n" in r.stderr and
          '/etc/gnn/bad.conf:9: bad CIDR "192.0.2.0/33"\n' in r.stderr,
          "every error, file:line: %r" % r.stderr)
    r = run(["-s", sock, "diff", "/etc/gnn/bad.conf", "--json"])
    check(r.returncode == 1, "--json, invalid: exit %d" % r.returncode)
    check(json.loads(r.stdout)["ok"] is False, "--json prints the reply")
    check("bad CIDR" in r.stderr, "and the errors on stderr: %r" % r.stderr)
    r = run(["-s", sock, "diff", "/etc/gnn/busy.conf"])
    check(r.returncode == 1 and "busy: a reload is in progress" in r.stderr,
          "busy: exit %d, %r" % (r.returncode, r.stderr))
    fake.error_reply = "diff: CONFIG is required"
    try:
        r = run(["-s", sock, "diff", "x.conf"])
    finally:
        fake.error_reply = None
    check(r.returncode == 1 and "CONFIG is required" in r.stderr, "error reply")


def test_no_socket(fake, sock):
    missing = os.path.join(os.path.dirname(sock), "missing.sock")
    for args in (["-s", missing], ["-s", missing, "--json"], ["-s", missing, "reload"],
                 ["-s", missing, "top"], ["-s", missing, "--prometheus"],
                 ["-s", missing, "servers"], ["-s", missing, "suggest", "-m", "x"],
                 ["-s", missing, "diff", "/etc/gnn/gnn.conf"]):
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
                 ["exporter", "--listen", "127.0.0.1:9617", "--prometheus"],
                 ["servers", "-n", "3"], ["suggest", "-i", "1"], ["diff"],
                 ["diff", "a.conf", "b.conf"], ["diff", "a.conf", "-m", "x"],
                 ["diff", ""], ["suggest", "extra"], ["servers", "--prometheus"]):
        r = run(["-s", sock] + args)
        check(r.returncode == 2, "%r: exit %d" % (args, r.returncode))
        check("usage:" in r.stderr, "%r: no usage text" % args)
    r = run(["-h"])
    check(r.returncode == 0 and "usage:" in r.stdout, "-h")
    r = run(["--help"])
    check(r.returncode == 0 and "--prometheus" in r.stdout and "exporter --listen" in r.stdout,
          "--help")
    for word in ("top [-m MEMBER]", "servers [-m MEMBER]", "suggest [-m MEMBER]",
                 "diff CONFIG"):
        check(word in r.stdout, "--help lacks %r" % word)


TESTS = [test_json, test_rates, test_rates_count, test_rates_restart, test_tty,
         test_prometheus, test_prometheus_parser_is_strict, test_reload_ok, test_reload_fail,
         test_server_error, test_top, test_top_unknown_member, test_top_empty_and_old,
         test_servers, test_suggest, test_diff, test_diff_invalid, test_no_socket, test_refused,
         test_usage, test_timeout]


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
