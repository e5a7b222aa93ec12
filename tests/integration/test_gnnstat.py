#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""gnnstat against a fake gnnd: a Unix-socket server speaking the control
protocol with canned replies whose counters advance on every stats request,
and canned lifecycle replies (top, servers, suggest, diff) whose text and
exit codes are checked.

The fake honours the stats request's arguments as gnnd does: "member" (a
name or an fnmatch(3) pattern), "sort": "activity" (blocked + would-block
rate, busiest first), "offset" and "limit" (0: no limit), "rates" (each
member's packets/s; the default with sort=activity), and says
members_matched. The live view is tried on a pseudo-terminal of a given
size (its resize sends SIGWINCH); --json on a snapshot larger than one
reply may be (16 MiB), read in pages.

usage: test_gnnstat.py PATH/TO/gnnstat
Stdlib only. Prints "N passed, N failed"; exits non-zero on any failure.
"""

import fcntl
import fnmatch
import json
import math
import os
import pty
import re
import select
import shutil
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import termios
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
DATAPATH_STEPS = {"records_lost": 1, "sightings_lost": 2, "rejects_sent": 3,
                  "rejects_limited": 1, "cache_hits": 900, "cache_misses": 100, "evicted": 5,
                  "aged": 1, "stale_records": 0}
WORKER_STEPS = {"rx_packets": 1000, "tx_packets": 990}
MAX_REPLY = 16 << 20  # what gnnstat reads of one reply
PAGE = 20000  # members per --json request
STATS_ARGS = {"member": str, "limit": int, "offset": int, "sort": str, "rates": bool}

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
        self.bulk = 0  # members "member-NNNNNN.example.org" after the two above
        self.generation = 3
        self.rates = {}  # name -> {"allowed": packets/s, "blocked": ..., "would_block": ...}
        self.reply_sizes = []  # bytes of each stats reply sent

    @staticmethod
    def bulk_member(i):
        """(name, mode, steps) of the i-th bulk member: enforced ones block, monitored
        ones would block, at rates that differ from one member to the next."""
        if i % 2 == 0:
            return ("member-%06d.example.org" % i, "enforce",
                    {"allowed": i % 7, "blocked": (i * 37) % 101, "would_block": 0})
        return ("member-%06d.example.org" % i, "monitor",
                {"allowed": i % 7, "blocked": 0, "would_block": (i * 53) % 97})

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
        rates = {n: {k: v / TIME_STEP for k, v in steps.items()}
                 for n, (_, steps) in MEMBER_STEPS.items()}
        if self.weird:
            members.append({"name": WEIRD_MEMBER, "mode": "off", "allowed": 1,
                            "blocked": 2, "would_block": 3})
        for i in range(self.bulk):
            name, mode, steps = self.bulk_member(i)
            members.append({"name": name, "mode": mode, "action": "drop",
                            **{k: v * base for k, v in steps.items()}})
            rates[name] = {k: v / TIME_STEP for k, v in steps.items()}
        self.rates = rates
        ports = []
        for name, role in (("net_af_packet0", "inside"), ("net_af_packet1", "outside")):
            port = {"name": name, "role": role, "link_up": role == "inside",
                    "future_counter": 3}
            port.update({k: 5000 + v * base for k, v in PORT_STEPS.items()})
            ports.append(port)
        obj = {
            "api_version": 1, "future_number": 7, "future_object": {"a": [1, {"b": None}]},
            "generation": self.generation, "reloads": 2, "reload_failures": 1,
            "reload_in_progress": False,
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
            "datapath": dict({k: 3 + v * base for k, v in DATAPATH_STEPS.items()},
                             classify_alg="avx2", sources_tracked=4096, accepts_tracked=12,
                             servers_tracked=3, workers=2, future_gauge=1,
                             per_worker=[{"lcore": lc, "queues": 1, "future_worker": 0,
                                          **{k: 50 + v * base for k, v in WORKER_STEPS.items()}}
                                         for lc in (1, 2)]),
            "rules": {"members": len(members), "servers": 3, "rules_ipv4": 7, "rules_ipv6": 2,
                      "acl_memory": 1 << 20, "build_seconds": 0.125, "future_rule": 1},
        }
        return obj

    def rate(self, member, key):
        return self.rates.get(member["name"], {}).get(key, 0.0)

    def select(self, full, req):
        """The reply of gnnd to a stats request with these arguments."""
        for k, v in req.items():
            if k == "cmd":
                continue
            if k not in STATS_ARGS or type(v) is not STATS_ARGS[k]:
                return {"error": "stats: bad argument %s" % k}
            if type(v) is int and not 0 <= v <= 0xffffffff:
                return {"error": "stats: %s out of range" % k}
            if k == "member" and len(v.encode()) > 63:
                return {"error": "stats: member longer than 63 bytes"}
        members = full["members"]
        pattern = req.get("member", "")
        order = [i for i, m in enumerate(members)
                 if pattern == "" or m["name"] == pattern or
                 fnmatch.fnmatchcase(m["name"], pattern)]
        matched = len(order)
        by_activity = req.get("sort") == "activity"
        if by_activity:
            order.sort(key=lambda i: (-(self.rate(members[i], "blocked") +
                                        self.rate(members[i], "would_block")), i))
        offset, limit = req.get("offset", 0), req.get("limit", 0)
        order = order[offset:offset + limit] if limit else order[offset:]
        out = []
        for i in order:
            m = members[i]
            if req.get("rates", by_activity):
                m = dict(m, **{k + "_rate": self.rate(m, k)
                               for k in ("allowed", "blocked", "would_block")})
            out.append(m)
        reply = dict(full, members=out)
        reply["members_matched"] = matched
        return reply

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
            full = self.stats()
            reply = self.select(full, req)
            if "error" not in reply:
                self.last_stats = reply
            return reply
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
                if reply.startswith('{"api_version"'):
                    fake.reply_sizes.append(len(reply) + 1)
                try:
                    self.wfile.write(reply.encode() + b"\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up waiting: what gnnd sees too
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
    check(obj["members_matched"] == len(obj["members"]) == 2, "members_matched")
    check(fake.requests[-1] == {"cmd": "stats", "limit": PAGE},
          "one page is enough: request was %r" % fake.requests[-1])
    r = run(["-s", sock, "--json", "-m", "example-s*"])
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    obj = json.loads(r.stdout)
    check([m["name"] for m in obj["members"]] == ["example-school"] and
          obj["members_matched"] == 1, "--json -m: %r" % obj["members"])
    check(fake.requests[-1] == {"cmd": "stats", "limit": PAGE, "member": "example-s*"},
          "request was %r" % fake.requests[-1])


class FixedGnnd(FakeGnnd):
    """The fake gnnd answering one fixed snapshot (its members paged as asked)."""

    def __init__(self, path, snapshot):
        super().__init__(path)
        self.snapshot = snapshot

    def stats(self):
        return self.snapshot


def serve(fake, path):
    server = Server(str(path), make_handler(fake))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def big_snapshot(n, generation=3, pad=150):
    """n members whose whole reply is larger than gnnstat reads in one (pad bytes each)."""
    snap = FakeGnnd(None).stats()
    snap["generation"] = generation
    snap["members"] = [{"name": "member-%06d.example.org" % i, "mode": "monitor",
                        "allowed": i, "blocked": 2 * i, "would_block": 3 * i,
                        "future_text": "x" * pad} for i in range(n)]
    return snap


def test_json_paged(fake, sock):
    """100,000 members, 24 MB of JSON: read in pages of 20,000, joined into one object."""
    n = 100000
    snap = big_snapshot(n)
    full = len(json.dumps(dict(snap, members_matched=n), separators=(",", ":")))
    check(full > MAX_REPLY, "the snapshot must not fit in one reply: %d bytes" % full)
    path = os.path.join(os.path.dirname(sock), "big.sock")
    big = FixedGnnd(path, snap)
    server = serve(big, path)
    try:
        t0 = time.monotonic()
        r = run(["-s", path, "--json"], timeout=120)
        took = time.monotonic() - t0
    finally:
        server.shutdown()
        server.server_close()
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr[:500]))
    check(r.stdout.count("\n") == 1, "one line")
    obj = json.loads(r.stdout)
    check(obj == dict(snap, members_matched=n), "not the snapshot of gnnd's full reply")
    want = [{"cmd": "stats", "limit": PAGE}] + [
        {"cmd": "stats", "offset": o, "limit": PAGE} for o in range(PAGE, n, PAGE)]
    check(big.requests == want, "requests %r" % big.requests)
    check(max(big.reply_sizes) < MAX_REPLY, "a page of %d bytes" % max(big.reply_sizes))
    print("     %d members: %.1f MB of JSON in %d replies (at most %.1f MB), %.2f s" % (
        n, len(r.stdout) / 1e6, len(big.reply_sizes), max(big.reply_sizes) / 1e6, took))


class ReloadingGnnd(FixedGnnd):
    """A reload after the first page: the next generation, one member fewer."""

    def __init__(self, path, snapshot, reloads):
        super().__init__(path, snapshot)
        self.reloads = reloads  # how many of the first requests are followed by a reload

    def stats(self):
        snap = self.snapshot
        if len(self.requests) <= self.reloads:
            self.snapshot = dict(snap, generation=snap["generation"] + 1,
                                 members=snap["members"][1:])
        return snap


def test_json_reload_between_pages(fake, sock):
    path = os.path.join(os.path.dirname(sock), "reload.sock")
    snap = big_snapshot(45000, pad=0)
    gnnd = ReloadingGnnd(path, snap, reloads=1)
    server = serve(gnnd, path)
    try:
        r = run(["-s", path, "--json"], timeout=60)
        check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr[:500]))
        obj = json.loads(r.stdout)
        check(obj["generation"] == 4 and obj["members"] == snap["members"][1:] and
              obj["members_matched"] == 44999, "not one generation's members")
        offsets = [q.get("offset", 0) for q in gnnd.requests]
        check(offsets == [0, PAGE, 0, PAGE, 2 * PAGE], "read again from the start: %r" % offsets)
        # Reloading at every page: it gives up, and says why.
        gnnd.requests.clear()
        gnnd.reloads = 1000
        r = run(["-s", path, "--json"], timeout=60)
        check(r.returncode == 1 and r.stdout == "", "exit %d" % r.returncode)
        check("member list changed while it was read" in r.stderr, "stderr %r" % r.stderr)
    finally:
        server.shutdown()
        server.server_close()


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


# ---- the live view at scale, on a terminal of a given size ----

CLEAR = "\033[H\033[2J"
MORE_RE = re.compile(r"^\.\.\. ([\d,]+) more members(; -m PATTERN to filter| match (.*))$")


def busiest(fake, n, pattern=None):
    """The names of the n members the fake ranks first by activity."""
    full = fake.stats()
    req = {"cmd": "stats", "sort": "activity", "limit": n}
    if pattern is not None:
        req["member"] = pattern
    return [m["name"] for m in fake.select(full, req)["members"]]


def member_rows(lines):
    """The rows of the member table: {name: words}, in order, and the line after them."""
    start = next(i for i, l in enumerate(lines) if l.startswith("MEMBER "))
    out = []
    for line in lines[start + 1:]:
        if not line or line.startswith("...") or line.startswith("("):
            return out, line
        out.append(line.split())
    return out, None


def check_member_rows(fake, rows_, pattern=None):
    """In the fake's order of activity, with its rates."""
    want = busiest(fake, len(rows_), pattern)
    check([r[0] for r in rows_] == want, "members not busiest first: %r, expected %r" % (
        [r[0] for r in rows_][:5], want[:5]))
    for r in rows_:
        rates = fake.rates[r[0]]
        check(r[2:5] == ["%.1f" % rates[k] for k in ("allowed", "blocked", "would_block")],
              "%s: rates %r, gnnd says %r" % (r[0], r[2:5], rates))


def test_live_plain_cap(fake, sock):
    """Off a terminal: plain lines, the 20 busiest members and a count of the rest."""
    fake.bulk = 1000
    try:
        before = len(fake.requests)
        r = run(["-s", sock, "-i", "0.05", "-n", "2"])
        reqs = fake.requests[before:]
        rows_, more = member_rows(r.stdout.split("\n\ngnnd generation")[-1].splitlines())
        check_member_rows(fake, rows_)
    finally:
        fake.bulk = 0
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    check("\033" not in r.stdout, "escape sequences off a terminal")
    check(len(rows_) == 20, "%d member rows" % len(rows_))
    check(more == "... 982 more members; -m PATTERN to filter", "last line %r" % more)
    check(reqs == [{"cmd": "stats", "sort": "activity", "rates": True, "limit": 20}] * 3,
          "one request per refresh: %r" % reqs)


def test_live_filter(fake, sock):
    fake.bulk = 1000
    fake.weird = True
    try:
        r = run(["-s", sock, "-i", "0.05", "-m", "member-0000*"])
        req = fake.requests[-1]
        rows_, more = member_rows(r.stdout.splitlines())
        check_member_rows(fake, rows_, "member-0000*")
        r2 = run(["-s", sock, "-i", "0.05", "-m", "example-school"])
        r3 = run(["-s", sock, "-i", "0.05", "-m", "we*"])
        r4 = run(["-s", sock, "-i", "0.05", "-m", "nobody-*"])
    finally:
        fake.bulk = 0
        fake.weird = False
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    check(req == {"cmd": "stats", "sort": "activity", "rates": True, "limit": 20,
                  "member": "member-0000*"}, "request %r" % req)
    check(len(rows_) == 20 and all(row[0].startswith("member-0000") for row in rows_),
          "rows %r" % rows_)
    check(more == "... 80 more members match member-0000*", "last line %r" % more)
    rows_, more = member_rows(r2.stdout.splitlines())
    check([row[:5] for row in rows_] == [["example-school", "monitor", "10.0", "0.0", "25.0"]]
          and more is None, "-m example-school: %r %r" % (rows_, more))
    # A name with control characters never moves the cursor.
    check('we"ird\\name?x ' in r3.stdout and "\nx " not in r3.stdout,
          "weird name: %r" % r3.stdout[-300:])
    check(r4.returncode == 0 and "(no member matches nobody-*)" in r4.stdout,
          "no match: %r" % r4.stdout[-200:])
    r = run(["-s", sock, "-m", "x" * 64])
    check(r.returncode == 2 and "1 to 63 bytes" in r.stderr, "a 64-byte pattern: %r" % r.stderr)


class Terminal:
    """gnnstat on a pseudo-terminal of rows x cols that is its controlling
    terminal, so that a resize reaches it as SIGWINCH from the kernel. The
    output is read as it comes, split into frames at each clear."""

    def __init__(self, args, rows, cols):
        self.master, slave = pty.openpty()
        self.resize(rows, cols)
        # A session of its own with the terminal as the controlling one.
        ctty = ("import fcntl, os, sys, termios; fcntl.ioctl(1, termios.TIOCSCTTY, 0); "
                "os.execv(sys.argv[1], sys.argv[1:])")
        self.proc = subprocess.Popen([sys.executable, "-c", ctty, GNNSTAT] + args,
                                     stdin=subprocess.DEVNULL, stdout=slave,
                                     stderr=subprocess.PIPE, start_new_session=True)
        os.close(slave)
        self.out = b""
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def resize(self, rows, cols):
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def read(self):
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.out += chunk

    def frames(self):
        """Every complete frame so far, as lines: the last one only once its last
        line (the count of the members not shown, or the first message) is in."""
        with self.lock:
            text = self.out.decode("utf-8", "replace")
        frames = [p.split("\r\n") for p in text.split(CLEAR)[1:]]
        if frames and self.proc.poll() is None:
            last = frames[-1]
            if len(last) < 2 or last[-1] != "" or not (
                    MORE_RE.match(last[-2]) or last[0].startswith("gnnstat: first")):
                frames.pop()
        return frames

    def wait_frames(self, n, timeout=20):
        deadline = time.monotonic() + timeout
        while len(self.frames()) < n:
            check(time.monotonic() < deadline, "no frame %d within %d s: %r" % (
                n, timeout, self.out[-500:]))
            time.sleep(0.02)
        return self.frames()

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        self.reader.join(timeout=10)
        os.close(self.master)


def check_frame(lines, rows, cols, matched, full=True):
    """A frame of the live view that fits rows x cols (and fills it: full): the
    header, the ports, the totals, then the members and the count of the rest.
    Returns its member rows."""
    if lines[-1] == "":
        lines = lines[:-1]  # the newline that ends the last line
    check(len(lines) <= rows, "%d lines on %d rows" % (len(lines), rows))
    check(len(lines) == rows - 1 or not full,
          "the frame does not fill the terminal: %d lines" % len(lines))
    for line in lines:
        check(len(line) <= cols, "a line of %d columns on %d: %r" % (len(line), cols, line))
    check(lines[0].startswith("gnnd generation"), "first line %r" % lines[0])
    titles = [next((i for i, l in enumerate(lines) if l.startswith(t)), None)
              for t in ("PORT ", "TOTALS ", "MEMBER ")]
    check(None not in titles and titles == sorted(titles), "sections in order: %r" % titles)
    check(lines[titles[1] + 1].split()[0] == "rx_packets", "totals %r" % lines[titles[1] + 1])
    rows_, more = member_rows(lines)
    m = MORE_RE.match(more or "")
    check(m is not None, "no line counting the rest: %r" % more)
    check(int(m.group(1).replace(",", "")) == matched - len(rows_),
          "%r, with %d rows of %d members" % (more, len(rows_), matched))
    check(lines[-1] == more, "the count is the last line")
    return rows_


def test_live_terminal(fake, sock):
    """140x45 and 1,000 members: each frame 44 lines, totals and ports first, the
    busiest members, and the count of the rest; one request per refresh."""
    fake.bulk = 1000
    before = len(fake.requests)
    term = Terminal(["-s", sock, "-i", "0.1", "-n", "4"], 45, 140)
    try:
        frames = term.wait_frames(5)
        check(term.proc.wait(timeout=10) == 0, "exit %d: %s" % (
            term.proc.returncode, term.proc.stderr.read()))
        frames = term.frames()
        reqs = fake.requests[before:]
        check(frames[0][0].startswith("gnnstat: first snapshot taken"), "first %r" % frames[0])
        for lines in frames[1:]:
            rows_ = check_frame(lines, 45, 140, 1002)
            check(len(rows_) == 23, "%d member rows" % len(rows_))
        check_member_rows(fake, rows_)
        # 44 lines: 20 above the members, 23 of them and the count: 24 rows asked for.
        check(len(reqs) == 5 and reqs[1:] == [{"cmd": "stats", "sort": "activity",
                                               "rates": True, "limit": 24}] * 4,
              "requests %r" % reqs)
        print("     a frame, 140x45, 1,002 members:\n" +
              "\n".join("     | " + l for l in frames[-1][:-1]))
    finally:
        fake.bulk = 0
        term.close()


def test_live_resize(fake, sock):
    """A resize redraws at once at the new size, and the next request asks for
    the rows the new size has."""
    fake.bulk = 1000
    term = Terminal(["-s", sock, "-i", "2", "-n", "3"], 45, 140)
    try:
        frames = term.wait_frames(2)
        check_frame(frames[1], 45, 140, 1002)
        n_req = len(fake.requests)
        term.resize(30, 100)
        frames = term.wait_frames(3, timeout=1.5)  # before the next refresh
        check(len(fake.requests) == n_req, "a redraw needs no request")
        rows_ = check_frame(frames[2], 30, 100, 1002)
        check(len(rows_) == 8, "%d member rows on 30" % len(rows_))
        frames = term.wait_frames(4)
        rows_ = check_frame(frames[3], 30, 100, 1002)
        check(len(rows_) == 8, "%d member rows on 30" % len(rows_))
        check(fake.requests[-1]["limit"] == 9, "after the resize: %r" % fake.requests[-1])
        # 100 columns: the counts since start go, the names and rates stay.
        check_member_rows(fake, rows_)
        check(all(len(r) == 5 for r in rows_), "rows at 100 columns: %r" % rows_[:2])
        print("     after a resize to 100x30:\n" +
              "\n".join("     | " + l for l in frames[3][:-1]))
        # Narrower than a name and the rates: the end of each name goes. Taller:
        # the members at hand at once, as many as the rows next time.
        term.resize(50, 60)
        frames = term.wait_frames(5, timeout=1.5)
        rows_ = check_frame(frames[4], 50, 60, 1002, full=False)
        check(len(rows_) == 9, "%d rows before the next request" % len(rows_))
        frames = term.wait_frames(6)
        check(fake.requests[-1]["limit"] == 29, "after the resize: %r" % fake.requests[-1])
        rows_ = check_frame(frames[5], 50, 60, 1002)
        want = busiest(fake, len(rows_))
        check(len(rows_) == 28 and all(
            r[0].endswith("~") and len(r[0]) == 14 and w.startswith(r[0][:-1])
            for r, w in zip(rows_, want)), "cut names %r" % [r[0] for r in rows_])
        check(term.proc.wait(timeout=10) == 0, "exit %d" % term.proc.returncode)
    finally:
        fake.bulk = 0
        term.close()


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
    dp = last["datapath"]
    check(sample(s, "gnn_records_lost_total") == dp["records_lost"], "records lost")
    check(sample(s, "gnn_cache_misses_total") == dp["cache_misses"], "cache misses")
    check(sample(s, "gnn_classify_info", algorithm="avx2") == 1, "classify_alg")
    check(sample(s, "gnn_worker_rx_packets_total", lcore="2") ==
          dp["per_worker"][1]["rx_packets"], "worker rx, an integer label")
    check(sample(s, "gnn_acl_rules", family="ipv6") == last["rules"]["rules_ipv6"], "rules")
    check(sample(s, "gnn_build_seconds") == 0.125, "build seconds")
    check(sample(s, "gnn_reload_in_progress") == 0, "reload in progress")
    # -m: only those members' series, the rest the same.
    r = run(["-s", sock, "--prometheus", "-m", "example-school"])
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    s = parse_prometheus(r.stdout)
    check({dict(l)["member"] for n, l in s if n.startswith("gnn_member_")} ==
          {"example-school"}, "--prometheus -m")


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
                 ["diff", ""], ["suggest", "extra"], ["servers", "--prometheus"],
                 ["--members", "x"], ["--no-members"], ["top", "--no-members"],
                 ["exporter", "--listen", "127.0.0.1:9617", "-m", "x"],
                 ["exporter", "--listen", "127.0.0.1:9617", "--members", "x", "--no-members"],
                 ["-m", ""], ["--json", "-m", "y" * 64]):
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


TESTS = [test_json, test_json_paged, test_json_reload_between_pages, test_rates,
         test_rates_count, test_rates_restart, test_tty, test_live_plain_cap, test_live_filter,
         test_live_terminal, test_live_resize, test_prometheus, test_prometheus_parser_is_strict, test_reload_ok, test_reload_fail,
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
