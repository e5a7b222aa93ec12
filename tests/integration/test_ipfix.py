#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""IPFIX export from gnnd to a real nfcapd, on the namespace test bed.

usage: test_ipfix.py PATH/TO/gnnd PATH/TO/gnnstat

gnnd runs inline with an enforced member (workstation, mail servers) and a
monitored one, and `ipfix = { collector = ...; interval = 2; }`. The
collector is Debian's nfcapd (nfdump 1.7), in the namespace gnnd runs in
(the wire namespace), where the control lcore's UDP goes: on 127.0.0.1,
and on ::1 after a reload. Each phase sends one batch of crafted frames
from the inside: SYNs from a blocked workstation (to two destinations, and
over IPv6), segments with payload from the listed mail servers (IPv4 and
IPv6), SYNs from the monitored member's workstation, and what must not be
exported (the workstation to port 587, a host in no member's network).
What the inside sent is counted from a capture on its end.

  export        after an interval, `nfdump -R DIR -o csv 'dst port 25'` has
                one flow per source, destination and port with the packets
                and IP octets of the capture, within the time it was sent;
                its observationPointID (and firewallEvent) is 3 for blocked,
                1 for allowed, 4 for would block; nothing for 587 or the
                non-member; ipfix_records_sent grew by the flows, nothing lost
  many flows    3000 destinations of one workstation, more than a worker's
                cache holds: every flow at the collector with its packets
  collector down  nfcapd stopped: every frame forwarded or dropped as before
                (outside capture), counters exact, each record counted sent
                or lost (send errors counted), gnnd keeps serving
  reload moves  collector "[::1]:4740": the new nfcapd gets the flows, a
                nfcapd started again on the old address gets none
  unreachable   a collector without a route: frames as before, every record
                counted lost
  removed       `ipfix` taken out of the file: nothing sent any more
  check         `gnnd --check` refuses bad ipfix settings with file:line,
                and shows a good one (interval 10 s by default)

Prints one line per check and "N passed, N failed"; exits non-zero on any
failure. Run as root with /usr/bin/python3.
"""

import collections
import ipaddress
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.dont_write_bytecode = True  # keep tests/integration free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
import testbed  # noqa: E402
from testbed import TestBed, check  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.layers.inet import IP, TCP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402

INTERVAL = 2  # s, the config's ipfix interval
FLUSH = 1  # s a worker keeps a flow before it goes to the control lcore
COLLECTOR_A = ("127.0.0.1", 4739)
COLLECTOR_B = ("::1", 4740)
UNREACHABLE = "192.0.2.200:4739"  # the wire namespace has no route to it
DST_MAC = "02:00:5e:00:99:99"  # no one's: the outside kernel does not answer
SRC_MAC = testbed.MAC_IN

MEMBERS = [
    {"name": "example-college", "mode": "enforce",
     "networks": ["198.51.100.0/24", "2001:db8:10::/48"],
     "mail_servers": ["198.51.100.25", "2001:db8:10::25"]},
    {"name": "example-library", "mode": "monitor",
     "networks": ["203.0.113.0/24", "2001:db8:20::/48"],
     "mail_servers": ["203.0.113.25"]},
]
WS4, WS6 = "198.51.100.10", "2001:db8:10::10"   # blocked
MS4, MS6 = "198.51.100.25", "2001:db8:10::25"   # allowed
LIB4 = "203.0.113.10"                           # would block
NM4 = "198.18.0.10"                             # no member
DST4, DST4B, DST6 = "192.0.2.1", "192.0.2.2", "2001:db8:99::1"
VERDICT = {WS4: "blocked", WS6: "blocked", MS4: "allowed", MS6: "allowed",
           LIB4: "would_block"}
# observationPointId / firewallEvent per verdict (docs/monitoring.md)
CODE = {"allowed": 1, "blocked": 3, "would_block": 4}

# One batch: (source, destination, port, frames, payload bytes, TCP flags)
BATCH = [
    (WS4, DST4, 25, 5, 0, "S"),
    (WS4, DST4B, 25, 2, 0, "S"),
    (MS4, DST4, 25, 3, 120, "PA"),
    (LIB4, DST4, 25, 4, 0, "S"),
    (WS6, DST6, 25, 2, 0, "S"),
    (MS6, DST6, 25, 3, 64, "PA"),
    (WS4, DST4, 587, 3, 0, "S"),   # not a candidate: not exported
    (NM4, DST4, 25, 2, 0, "S"),    # no member: not exported
]


def norm(addr):
    return str(ipaddress.ip_address(addr))


def batch_frames(seq0):
    """The batch's frames, each unique (source port, sequence number)."""
    frames, n = [], 0
    for src, dst, dport, count, payload, flags in BATCH:
        for _ in range(count):
            l3 = (IP(src=src, dst=dst) if ":" not in src else IPv6(src=src, dst=dst))
            tcp = TCP(sport=30000 + (seq0 + n) % 30000, dport=dport, flags=flags,
                      seq=seq0 * 1000 + n)
            frames.append(Ether(src=SRC_MAC, dst=DST_MAC) / l3 / tcp / (b"m" * payload))
            n += 1
    return [bytes(f) for f in frames]


MANY = 3000  # destinations of one blocked workstation in the many-flows check


def many_frames(n):
    """SYNs from the workstation to n destinations (198.19.0.0/16), the
    first 100 of them twice: once at the start, once at the end."""
    dsts = ["198.19.%d.%d" % (i // 250, 1 + i % 250) for i in range(n)]
    order = dsts + dsts[:100]
    return [bytes(Ether(src=SRC_MAC, dst=DST_MAC) / IP(src=WS4, dst=d) /
                  TCP(sport=20000 + i % 40000, dport=25, flags="S", seq=i))
            for i, d in enumerate(order)]


def flow_of(frame):
    """((source, destination, dport), IP length) of a TCP frame, else None."""
    p = Ether(frame)
    if IP in p and TCP in p[IP]:
        return (norm(p[IP].src), norm(p[IP].dst), p[TCP].dport), p[IP].len
    if IPv6 in p and TCP in p[IPv6]:
        return (norm(p[IPv6].src), norm(p[IPv6].dst), p[TCP].dport), 40 + p[IPv6].plen
    return None


def expected_flows(frames):
    """{(src, dst, dport): [packets, octets]} of the candidates among frames
    that a member's verdict covers."""
    flows = collections.defaultdict(lambda: [0, 0])
    for f in frames:
        fl = flow_of(f)
        if fl is None:
            continue
        (src, dst, dport), length = fl
        if dport == 25 and src in VERDICT:
            flows[(src, dst, dport)][0] += 1
            flows[(src, dst, dport)][1] += length
    return dict(flows)


# ------------------------------------------------------------ the collector

class Collector:
    """nfcapd in the wire namespace, writing to its own directory."""

    def __init__(self, bed, addr, port):
        self.bed, self.addr, self.port = bed, addr, port
        self.dir = bed.workdir / ("flows-%s" % uuid.uuid4().hex[:6])
        self.dir.mkdir()
        log = self.dir.with_suffix(".log")
        cmd = bed.wire_cmd() + ["nfcapd", "-w", self.dir, "-b", addr, "-p", str(port),
                                "-t", "2"] + (["-6"] if ":" in addr else [])
        self.proc = bed.spawn(cmd, log)
        deadline = time.monotonic() + 10
        while not self._bound():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise testbed.BedError("nfcapd did not start: %s" % testbed.tail(log))
            time.sleep(0.05)

    def _bound(self):
        p = testbed.sh(*self.bed.wire_cmd(), "ss", "-Hlun", "sport = :%d" % self.port,
                       check=False)
        return str(self.port) in p.stdout

    def stop(self):
        """Stop nfcapd (it writes out what it holds); idempotent."""
        if self.proc is not None:
            testbed._stop_proc(self.proc)
            self.bed.forget(self.proc)
            self.proc = None

    def nfdump(self, *args):
        p = testbed.sh("nfdump", "-R", self.dir, *args, check=False)
        if p.returncode != 0 and "Empty file list" not in p.stderr + p.stdout:
            raise testbed.BedError("nfdump: %s" % (p.stderr or p.stdout))
        return p.stdout

    def flows(self, filt="dst port 25"):
        """{(src, dst, dport): [packets, octets, first, last]} from
        `nfdump -o csv -q FILTER`, summed per key."""
        out = collections.defaultdict(lambda: [0, 0, None, None])
        for line in self.nfdump("-q", "-o", "csv", filt).splitlines():
            f = [x.strip() for x in line.split(",")]
            if len(f) < 13 or not re.match(r"\d{4}-", f[0]):
                continue
            key = (norm(f[3]), norm(f[4]), int(f[6]))
            e = out[key]
            e[0] += int(f[11])
            e[1] += int(f[12])
            ts = time.mktime(time.strptime(f[0], "%Y-%m-%d %H:%M:%S"))
            te = time.mktime(time.strptime(f[1], "%Y-%m-%d %H:%M:%S"))
            e[2] = ts if e[2] is None else min(e[2], ts)
            e[3] = te if e[3] is None else max(e[3], te)
        return dict(out)

    def points(self):
        """{(src, dst, dport): set of observationPointIDs} from -o json."""
        text = self.nfdump("-o", "json").strip()
        out = collections.defaultdict(set)
        for r in json.loads(text) if text.startswith("[") else []:
            src = r.get("src4_addr") or r.get("src6_addr")
            dst = r.get("dst4_addr") or r.get("dst6_addr")
            out[(norm(src), norm(dst), r["dst_port"])].add(r.get("observationPointID"))
        return dict(out)


# ------------------------------------------------------------ checks

class Ctx:
    def __init__(self, bed, gnnd):
        self.bed = bed
        self.gnnd = gnnd
        self.conf = None
        self.seq = 1
        self.collectors = []

    def collector(self, addr, port):
        c = Collector(self.bed, addr, port)
        self.collectors.append(c)
        return c

    def write_conf(self, ipfix):
        """The bed's config with `ipfix = { collector = ipfix; ... }` (None: none)."""
        path = self.bed.write_config(MEMBERS, name="next.conf")
        if ipfix is not None:
            with open(path, "a") as f:
                f.write('ipfix = { collector = "%s"; interval = %d; };\n' % (ipfix, INTERVAL))
        if self.conf is None:
            self.conf = self.bed.workdir / "gnn.conf"
        os.replace(path, self.conf)
        return self.conf

    def reload(self, ipfix):
        self.write_conf(ipfix)
        r = self.bed.gnnstat("reload", check=False)
        check(r.returncode == 0, "reload: %s %s" % (r.stdout, r.stderr))

    def ipfix_counters(self):
        dp = self.bed.stats()["datapath"]
        return {k: dp[k] for k in dp if k.startswith("ipfix_")}

    def send_batch(self):
        """Send one batch; returns (expected flows, totals delta, transfer,
        frames, send time window)."""
        frames = batch_frames(self.seq)
        self.seq += 1
        before = self.bed.stats()["totals"]
        t0 = time.time()
        with self.bed.capture("in", direction="out") as cin:
            t = self.bed.transmit(frames)
        t1 = time.time()
        sent = [f for f in cin.frames if flow_of(f) is not None]
        check(sorted(sent) == sorted(frames),
              "the inside capture holds %d TCP frames, %d sent" % (len(sent), len(frames)))
        after = self.bed.stats()["totals"]
        delta = {k: after[k] - before[k] for k in ("blocked", "allowed", "would_block")}
        return expected_flows(sent), delta, t, frames, (t0, t1)

    def check_frames(self, exp, delta, t, frames):
        """Every frame forwarded or dropped as the policy says; counters exact."""
        want = collections.Counter()
        for (src, _, _), (pkts, _) in exp.items():
            want[VERDICT[src]] += pkts
        check(delta == dict(want), "counters grew by %r, the batch holds %r" %
              (delta, dict(want)))
        for f, arrived in zip(frames, t.arrived):
            (src, dst, dport), _ = flow_of(f)
            blocked = dport == 25 and VERDICT.get(src) == "blocked"
            check(arrived != blocked, "%s -> %s:%d %s" %
                  (src, dst, dport, "arrived though blocked" if arrived else "lost"))

    def wait_records(self, before, n, timeout=4 * INTERVAL + FLUSH + 5):
        """Wait until ipfix_records_sent + _lost grew by n; return the counters."""
        deadline = time.monotonic() + timeout
        while True:
            c = self.ipfix_counters()
            got = (c["ipfix_records_sent"] + c["ipfix_records_lost"] -
                   before["ipfix_records_sent"] - before["ipfix_records_lost"])
            if got >= n or time.monotonic() > deadline:
                return c
            time.sleep(0.2)


def check_collected(col, exp, window):
    got = col.flows()
    check(set(got) == set(exp), "flows at the collector %s, sent %s" %
          (sorted(got), sorted(exp)))
    for key, (pkts, octets) in exp.items():
        g = got[key]
        check(g[0] == pkts and g[1] == octets, "%s -> %s:%d: %d packets %d octets, sent %d "
              "packets %d octets" % (key + (g[0], g[1], pkts, octets)))
        # nfdump prints whole seconds
        check(window[0] - 2 <= g[2] <= g[3] <= window[1] + 2,
              "%s -> %s:%d: first/last %s/%s outside the sending time %s" %
              (key + (g[2], g[3], window)))
    points = col.points()
    for key in exp:
        want = CODE[VERDICT[key[0]]]
        check(points.get(key) == {want}, "%s -> %s:%d: observationPointID %r, want %d" %
              (key + (points.get(key), want)))
    check(col.flows("dst port 587") == {}, "port 587 exported: %r" % col.flows("dst port 587"))


def run(ctx):
    bed = ctx.bed
    state = {}

    def export(_):
        col = ctx.collector(*COLLECTOR_A)
        state["a"] = col
        before = ctx.ipfix_counters()
        check(before["ipfix_collector"] == "127.0.0.1:4739",
              "ipfix_collector %r" % before["ipfix_collector"])
        exp, delta, t, frames, window = ctx.send_batch()
        ctx.check_frames(exp, delta, t, frames)
        c = ctx.wait_records(before, len(exp))
        check(c["ipfix_records_sent"] - before["ipfix_records_sent"] == len(exp) and
              c["ipfix_records_lost"] == before["ipfix_records_lost"],
              "%d flows sent, counters before %r after %r" % (len(exp), before, c))
        check(c["ipfix_send_errors"] == before["ipfix_send_errors"], "send errors: %r" % c)
        col.stop()
        check_collected(col, exp, window)

    def many_flows(_):
        # More flows than a worker's cache holds (2048): evictions, many messages.
        col = ctx.collector(*COLLECTOR_A)
        before = ctx.ipfix_counters()
        totals = bed.stats()["totals"]
        port_missed = sum(p["rx_missed"] for p in bed.stats()["ports"])
        frames = many_frames(MANY)
        with bed.capture("in", direction="out", buffer_kib=16384) as cin:
            for i in range(0, len(frames), 256):
                bed.send_frames("in", frames[i:i + 256])
                time.sleep(0.02)
        sent = [f for f in cin.frames if flow_of(f) is not None]
        check(sorted(sent) == sorted(frames) and cin.kernel_drops() in (0, None),
              "the inside capture holds %d of %d frames" % (len(sent), len(frames)))
        s = bed.stats()
        check(sum(p["rx_missed"] for p in s["ports"]) == port_missed,
              "gnnd's ports missed frames: the bed was too slow to measure")
        check(s["totals"]["blocked"] - totals["blocked"] == len(frames),
              "blocked %d of %d" % (s["totals"]["blocked"] - totals["blocked"], len(frames)))
        exp = expected_flows(sent)
        c = ctx.wait_records(before, len(exp))
        d_sent = c["ipfix_records_sent"] - before["ipfix_records_sent"]
        check(d_sent >= len(exp) and c["ipfix_records_lost"] == before["ipfix_records_lost"],
              "%d flows: %d records sent, lost %d -> %d" %
              (len(exp), d_sent, before["ipfix_records_lost"], c["ipfix_records_lost"]))
        time.sleep(0.5)
        col.stop()
        got = col.flows()
        wrong = [(k, got.get(k), v) for k, v in exp.items()
                 if got.get(k) is None or got[k][:2] != v]
        check(set(got) == set(exp) and not wrong, "%d flows at the collector, %d sent; "
              "first differences %r" % (len(got), len(exp), wrong[:3]))
        print("     %d flows in %d records, %d messages" %
              (len(exp), d_sent, c["ipfix_messages_sent"] - before["ipfix_messages_sent"]))

    def collector_down(_):
        # nfcapd on COLLECTOR_A is stopped: its port is unreachable.
        before = ctx.ipfix_counters()
        exp, delta, t, frames, _ = ctx.send_batch()
        ctx.check_frames(exp, delta, t, frames)
        c = ctx.wait_records(before, len(exp))
        d_sent = c["ipfix_records_sent"] - before["ipfix_records_sent"]
        d_lost = c["ipfix_records_lost"] - before["ipfix_records_lost"]
        check(d_sent + d_lost == len(exp), "%d flows; %d sent, %d lost" %
              (len(exp), d_sent, d_lost))
        check(d_lost == 0 or c["ipfix_send_errors"] > before["ipfix_send_errors"],
              "records lost without a send error: %r" % c)
        check(bed.filter.alive(), "gnnd died")
        print("     collector down: %d sent (to a closed port), %d lost, %d send errors" %
              (d_sent, d_lost, c["ipfix_send_errors"] - before["ipfix_send_errors"]))

    def reload_moves_export(_):
        old = ctx.collector(*COLLECTOR_A)
        new = ctx.collector(*COLLECTOR_B)
        ctx.reload("[%s]:%d" % COLLECTOR_B)
        before = ctx.ipfix_counters()
        check(before["ipfix_collector"] == "[::1]:4740",
              "ipfix_collector %r after the reload" % before["ipfix_collector"])
        exp, delta, t, frames, window = ctx.send_batch()
        ctx.check_frames(exp, delta, t, frames)
        c = ctx.wait_records(before, len(exp))
        check(c["ipfix_records_sent"] - before["ipfix_records_sent"] == len(exp),
              "%d flows sent, counters before %r after %r" % (len(exp), before, c))
        new.stop()
        old.stop()
        check_collected(new, exp, window)
        check(old.flows() == {}, "the old collector still got %r" % old.flows())

    def unreachable_collector(_):
        ctx.reload(UNREACHABLE)
        before = ctx.ipfix_counters()
        exp, delta, t, frames, _ = ctx.send_batch()
        ctx.check_frames(exp, delta, t, frames)
        c = ctx.wait_records(before, len(exp))
        check(c["ipfix_records_lost"] - before["ipfix_records_lost"] == len(exp) and
              c["ipfix_records_sent"] == before["ipfix_records_sent"],
              "%d flows to no route: before %r after %r" % (len(exp), before, c))
        check(c["ipfix_send_errors"] > before["ipfix_send_errors"], "no send error: %r" % c)

    def removed(_):
        col = ctx.collector(*COLLECTOR_B)
        ctx.reload(None)
        before = ctx.ipfix_counters()
        check(before["ipfix_collector"] is None, "ipfix_collector %r" %
              before["ipfix_collector"])
        exp, delta, t, frames, _ = ctx.send_batch()
        ctx.check_frames(exp, delta, t, frames)
        time.sleep(2 * INTERVAL + FLUSH + 1)
        c = ctx.ipfix_counters()
        check(c == before, "counters moved with the export off: %r -> %r" % (before, c))
        col.stop()
        check(col.flows() == {}, "flows exported after ipfix was removed: %r" % col.flows())

    def check_refuses_bad_settings(_):
        cases = [
            ('collector = "mail.example.org:4739";', "not an IPv4 address"),
            ('collector = "192.0.2.200";', "no ':PORT'"),
            ('collector = "192.0.2.200:70000";', "port out of range"),
            ('collector = "2001:db8::1:4739";', "an IPv6 address goes in brackets"),
            ('collector = "192.0.2.200:4739"; interval = 0;', "interval 0 out of range"),
            ('interval = 10;', "missing 'collector'"),
            ('collector = "192.0.2.200:4739"; intervall = 10;', "did you mean 'interval'"),
        ]
        base = bed.write_config(MEMBERS, name="bad.conf").read_text()
        line = base.count("\n") + 1
        for setting, reason in cases:
            path = bed.workdir / "bad.conf"
            path.write_text(base + "ipfix = { %s };\n" % setting)
            p = testbed.sh(ctx.gnnd, "--check", "-f", path, check=False)
            check(p.returncode == 1 and ("bad.conf:%d:" % line) in p.stderr and
                  reason in p.stderr, "%s: exit %d, %r" % (setting, p.returncode, p.stderr))
        path = bed.workdir / "good.conf"
        path.write_text(base + 'ipfix = { collector = "[2001:db8::200]:4739"; };\n')
        p = testbed.sh(ctx.gnnd, "--check", "-f", path, check=False)
        check(p.returncode == 0 and "ipfix: to [2001:db8::200]:4739 every 10 s" in p.stdout,
              "a valid ipfix setting: exit %d, %r %r" % (p.returncode, p.stdout, p.stderr))

    def gnnd_exits_0(_):
        code = bed.stop_filter()
        check(code == 0, "exit %r" % code)

    return [export, many_flows, collector_down, reload_moves_export, unreachable_collector, removed,
            check_refuses_bad_settings, gnnd_exits_0]


def main():
    gnnd, gnnstat = testbed.binaries_from_argv()
    for tool in ("nfcapd", "nfdump"):
        if shutil.which(tool) is None:
            print("%s not found (Debian package nfdump)" % tool, file=sys.stderr)
            return 2
    t0 = time.monotonic()
    with TestBed(gnnd=gnnd, gnnstat=gnnstat) as bed:
        # The collector listens where gnnd runs: loopback of the wire namespace.
        testbed.sh("ip", "-n", bed.ns_wire, "link", "set", "lo", "up")
        testbed.sh(*bed.wire_cmd(), "sysctl", "-qw", "net.ipv6.conf.lo.disable_ipv6=0")
        ctx = Ctx(bed, gnnd)
        bed.start_gnnd(ctx.write_conf("%s:%d" % COLLECTOR_A))
        try:
            passed, failed = testbed.run_checks(bed, run(ctx), None)
        finally:
            for c in ctx.collectors:
                c.stop()
    print("%d passed, %d failed (%.1f s)" % (passed, failed, time.monotonic() - t0))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
