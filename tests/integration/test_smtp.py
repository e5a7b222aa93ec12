#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Real SMTP through gnnd on the namespace test bed, IPv4 and IPv6.

usage: test_smtp.py PATH/TO/gnnd PATH/TO/gnnstat

One gnnd, inline between the inside and outside namespaces, with four
kinds of sender inside: an enforced member (workstation, mail server), a
monitored member (workstation, mail server), a member switched "off" and a
non-member. Real swaks clients talk to real aiosmtpd servers (outside, and
inside for inbound mail):

  enforced workstation -> outside:25      not delivered (its SYNs dropped)
  enforced mail server -> outside:25      delivered, counted allowed
  enforced workstation -> outside:587     delivered, not counted
  outside client -> member's server:25    delivered (inbound), not counted
  monitored workstation -> outside:25     delivered, counted would_block
  monitored mail server -> outside:25     delivered, counted allowed
  "off" member's workstation -> :25       delivered, nothing counted
  non-member -> outside:25                delivered, nothing counted

Delivered messages are looked up in the sink by their token, with the
peer address the sink saw. Tagged SYNs (802.1Q, and QinQ: 802.1ad outer +
802.1Q inner; with pmd af_packet two 802.1Q tags, since that PMD rewrites an
802.1ad tag) crafted with scapy from the workstation are dropped and from
the mail server arrive byte-identical on the outside end. Every frame the
inside namespace sends is captured on its end (tcpdump -Q out), TCP's
retransmissions included; once the wire is quiet (no port-25 connection
left open, gnnd's counters still) the capture stops. The JSON counters must
equal the frames to port 25 in that capture, per member and in total, and
`gnnstat top` the per-source count. The capture is checked against the
interface's own counters first, and what gnnd read against what reached
its inside port: when the capture did not get every frame that crossed
(tcpdump starved of CPU on a busy machine), or the bed lost frames before
gnnd read them, the run is measured again from scratch, up to ATTEMPTS
times. Then SIGTERM: exit 0 and the
final summary. `gnnd --check` passes the config and refuses a broken copy
with file:line for each error.

The filter uses DPDK's net_pcap vdevs (GNN_SMTP_PMD=af_packet to use the
bed's default). Prints one line per check and "N passed, N failed"; exits
non-zero on any failure. Run as root with /usr/bin/python3.
"""

import collections
import concurrent.futures
import ipaddress
import json
import os
import re
import struct
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.dont_write_bytecode = True  # keep tests/integration free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
import testbed  # noqa: E402
from testbed import TestBed, check  # noqa: E402

import logging  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.layers.inet import IP, TCP  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.l2 import Dot1AD, Dot1Q, Ether  # noqa: E402

PMD = os.environ.get("GNN_SMTP_PMD", "pcap")
BLOCKED_TIMEOUT = 2  # swaks --timeout for the attempts that must fail
# tcpdump's buffer for the inside capture: a 64 KiB slot per frame (veth),
# room for every frame of a run (about 450, both directions) should tcpdump
# get no CPU at all until the end.
CAPTURE_KIB = 65536
QUIET = 0.3  # s: the wire counts as quiet when nothing moved for this long
QUIET_TIMEOUT = 20  # s: at most this long for the TCP connections to close
LOST_AFTER = 2  # s: gnnd still short of what reached its port this long: frames lost
ATTEMPTS = 3  # runs, when the test's own capture missed frames

# The bed's hosts, plus a workstation of the member that is switched off.
INSIDE = dict(testbed.INSIDE_HOSTS, off_workstation=("203.0.113.140", "2001:db8:40::10"))

MEMBERS = [
    {"name": "example-college", "mode": "enforce",
     "networks": ["198.51.100.0/24", "2001:db8:10::/48"],
     "mail_servers": ["198.51.100.25", "2001:db8:10::25"]},
    {"name": "example-library", "mode": "monitor",
     "networks": ["203.0.113.0/25", "2001:db8:20::/48"],
     "mail_servers": ["203.0.113.25", "2001:db8:20::25"]},
    {"name": "example-museum", "mode": "off",
     "networks": ["203.0.113.128/25", "2001:db8:40::/48"],
     "mail_servers": ["203.0.113.153", "2001:db8:40::25"]},
]
# host -> (member, counter its port-25 frames go to, or None)
ROLE = {
    "workstation": ("example-college", "blocked"),
    "mail_server": ("example-college", "allowed"),
    "library_workstation": ("example-library", "would_block"),
    "library_mail_server": ("example-library", "allowed"),
    "off_workstation": ("example-museum", None),
    "non_member": (None, None),
}

# (check name, source host, destination host, port, delivered?)
MAIL_CASES = [
    ("enforced workstation :25 not delivered", "workstation", "smtp", 25, False),
    ("enforced mail server :25 delivered", "mail_server", "smtp", 25, True),
    ("enforced workstation :587 delivered", "workstation", "smtp", 587, True),
    ("inbound :25 to member's server delivered", "client", "mail_server", 25, True),
    ("monitored workstation :25 delivered", "library_workstation", "smtp", 25, True),
    ("monitored mail server :25 delivered", "library_mail_server", "smtp", 25, True),
    ("off member's workstation :25 delivered", "off_workstation", "smtp", 25, True),
    ("non-member :25 delivered", "non_member", "smtp", 25, True),
]


def norm(addr):
    return str(ipaddress.ip_address(addr))


# ------------------------------------------------------------ frames

def parse(frame):
    """(source, destination port, tags) of a TCP frame, else None.
    Walks any number of 802.1Q/802.1ad/0x9100 tags; IPv4 options; IPv6
    without extension headers (the test sends none to port 25)."""
    off, tags = 12, []
    while off + 2 <= len(frame):
        (etype,) = struct.unpack_from("!H", frame, off)
        if etype in (0x8100, 0x88A8, 0x9100):
            tags.append(etype)
            off += 4
            continue
        off += 2
        break
    else:
        return None
    if etype == 0x0800 and len(frame) >= off + 20:
        ihl = (frame[off] & 0x0F) * 4
        if frame[off + 9] != 6 or len(frame) < off + ihl + 4:
            return None
        src = str(ipaddress.IPv4Address(frame[off + 12:off + 16]))
        l4 = off + ihl
    elif etype == 0x86DD and len(frame) >= off + 40:
        if frame[off + 6] != 6 or len(frame) < off + 44:
            return None
        src = str(ipaddress.IPv6Address(frame[off + 8:off + 24]))
        l4 = off + 40
    else:
        return None
    sport, dport = struct.unpack_from("!HH", frame, l4)
    return src, sport, dport, tuple(tags)


def tagged_frames(bed):
    """name -> (frame, source host); SYNs to the outside server's port 25."""
    outer = Dot1AD if PMD == "pcap" else Dot1Q
    qinq = "QinQ 802.1ad/802.1Q" if PMD == "pcap" else "QinQ 802.1Q/802.1Q"
    frames = {}
    sport = 41000
    for host in ("workstation", "mail_server"):
        for fam in (4, 6):
            src, dst = bed.addr(host, fam), bed.addr("smtp", fam)
            for tagname, tags in (("802.1Q", lambda: Dot1Q(vlan=100)),
                                  (qinq, lambda: outer(vlan=300) / Dot1Q(vlan=100))):
                sport += 1
                l3 = IP(src=src, dst=dst) if fam == 4 else IPv6(src=src, dst=dst)
                f = Ether(src=bed.mac_in, dst=bed.mac_out) / tags() / l3 / \
                    TCP(sport=sport, dport=25, flags="S", seq=sport * 1000)
                frames["%s %s SYN IPv%d" % (host.replace("_", " "), tagname, fam)] = \
                    (bytes(f), host)
    return frames


# ------------------------------------------------------------ the run

class Run:
    """Everything the checks look at, made once: one bed, one gnnd."""

    def __init__(self, gnnd, gnnstat):
        self.gnnd, self.gnnstat = gnnd, gnnstat
        self.bed = None
        self.mail = {}       # (case name, family) -> (MailResult, src, dst, port, sink)
        self.tagged = {}     # name -> (frame, host, arrived, leaked)
        self.sent = []       # frames the inside namespace sent while gnnd ran
        self.stats = None

    def config_text(self):
        return Path(self.config).read_text()

    def setup(self, bed):
        self.bed = bed
        self.config = bed.write_config(MEMBERS)

    def start(self):
        bed = self.bed
        bed.start_gnnd(self.config)
        # Send direction: every frame the inside puts on the wire (swaks'
        # and the kernel's, and the crafted ones), checked against the
        # interface's counters.
        self.cap = bed.capture("in", direction="out", buffer_kib=CAPTURE_KIB,
                               counted=True).start()
        # What reached gnnd's inside port, by the kernel and by gnnd.
        self.rx0 = self.settled_inside_rx()
        self.out_sink = bed.start_smtp("out")
        self.in_sink = bed.start_smtp("in")

    def send_all_mail(self):
        """All swaks runs at once: the blocked ones cost their timeout."""
        jobs = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as ex:
            for name, src_host, dst_host, port, delivered in MAIL_CASES:
                for fam in (4, 6):
                    src, dst = self.bed.addr(src_host, fam), self.bed.addr(dst_host, fam)
                    sink = self.in_sink if self.bed.side_of(dst) == "in" else self.out_sink
                    timeout = 3 if delivered else BLOCKED_TIMEOUT
                    fut = ex.submit(self.bed.send_mail, src, dst, port=port, timeout=timeout)
                    jobs[(name, fam)] = (fut, src, dst, port, sink)
        for key, (fut, src, dst, port, sink) in jobs.items():
            self.mail[key] = (fut.result(), src, dst, port, sink)

    def send_tagged(self):
        frames = tagged_frames(self.bed)
        t = self.bed.transmit([f for f, _ in frames.values()], side="in")
        for (name, (frame, host)), arrived in zip(frames.items(), t.arrived):
            me = parse(frame)
            # The same SYN in any shape (tags changed, bytes rewritten).
            leaked = [c for c in t.captured
                      if parse(c) is not None and parse(c)[:3] == me[:3]]
            self.tagged[name] = (frame, host, arrived, leaked)

    def open_port25(self):
        """TCP sockets on port 25 in either namespace that may still send:
        every state but LISTEN and TIME-WAIT (which only answers)."""
        out = []
        for side in ("in", "out"):
            p = self.bed.exec(side, "ss", "-Htan", "sport = :25 or dport = :25", check=True)
            out += ["%s: %s" % (side, " ".join(line.split()))
                    for line in p.stdout.splitlines()
                    if line.split() and line.split()[0] not in ("LISTEN", "TIME-WAIT")]
        return out

    def inside_rx(self, stats=None):
        """(frames the kernel delivered to gnnd's inside port, the host end
        of the inside veth; frames gnnd read from it)."""
        bed = self.bed
        p = testbed.sh("ip", "-n", bed.ns_wire, "-s", "-j", "link", "show", "dev", bed.host_in)
        kernel = json.loads(p.stdout)[0]["stats64"]["rx"]["packets"]
        ports = (stats or bed.stats())["ports"]
        return kernel, next(port["rx_packets"] for port in ports if port["role"] == "inside")

    def settled_inside_rx(self, timeout=5):
        """inside_rx() once neither count moved for QUIET seconds: no frame
        between the kernel and gnnd, so the two may be compared later."""
        deadline = time.monotonic() + timeout
        last = self.inside_rx()
        while True:
            time.sleep(QUIET)
            now = self.inside_rx()
            if now == last or time.monotonic() > deadline:
                return now
            last = now

    def wait_quiet(self):
        """Until no port-25 connection is open, gnnd has read every frame
        that reached its inside port, and neither the inside end's counters
        nor gnnd's moved for QUIET seconds: retransmissions and closing
        handshakes of a slow run are on the wire, not after it, and a
        worker that waited for a CPU has caught up."""
        deadline = time.monotonic() + QUIET_TIMEOUT
        last, still_since = None, time.monotonic()
        while True:
            s = self.bed.stats()
            kernel, read = self.inside_rx(s)
            snap = (self.cap.if_counts(), kernel,
                    json.dumps([s["ports"], s["totals"], s["members"]], sort_keys=True))
            still_open = self.open_port25()
            if snap != last:
                still_since = time.monotonic()
            caught_up = kernel - self.rx0[0] == read - self.rx0[1]
            if snap == last and not still_open and (
                    caught_up or time.monotonic() - still_since >= LOST_AFTER):
                return  # not caught up: lost before gnnd (capture_missed() says so)
            if time.monotonic() > deadline:
                print("     the wire did not quiet down in %ds: %s" % (
                    QUIET_TIMEOUT, "; ".join(still_open) or "counters still moving"))
                return
            last = snap
            time.sleep(QUIET)

    def finish_traffic(self):
        self.wait_quiet()
        self.sent = self.cap.stop(settle=0)
        self.stats = self.bed.stats()
        self.rx1 = self.inside_rx(self.stats)

    def capture_missed(self):
        """None when the capture holds exactly what crossed the wire and
        gnnd read all of it, else why not. Frames the bed loses before
        gnnd reads them (its virtual device's ring full while the worker
        waits for a CPU) never reach gnnd's code: gnnd's counters cannot
        match the wire then, whatever gnnd does."""
        missed = self.cap.complete()
        if missed is not None:
            return missed
        kernel, read = (b - a for a, b in zip(self.rx0, self.rx1))
        if kernel != read:
            return ("gnnd read %d frames, %d reached its inside port (lost in the "
                    "device before gnnd)" % (read, kernel))
        return None

    def port25_sent(self):
        """source address -> frames the inside sent to TCP port 25."""
        n = collections.Counter()
        for f in self.sent:
            p = parse(f)
            if p is not None and p[2] == 25:
                n[p[0]] += 1
        return n

    def host_sent(self, host):
        n = self.port25_sent()
        return sum(n[norm(a)] for a in INSIDE[host])


# ------------------------------------------------------------ checks

def check_config_valid(run):
    r = subprocess.run([run.gnnd, "--", "-f", str(run.config), "--check"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "--check exit %d: %s" % (r.returncode, r.stderr))
    check("%s: OK" % run.config in r.stdout, "no OK summary: %r" % r.stdout)
    check("3 members" in r.stdout or "members: 3" in r.stdout,
          "summary does not count 3 members: %r" % r.stdout)


def check_config_broken(run):
    lines = run.config_text().splitlines()
    bad = {}
    for i, line in enumerate(lines):
        if '"monitor"' in line:
            lines[i] = line.replace('"monitor"', '"monitoring"')
            bad["unknown mode"] = i + 1
        elif '"2001:db8:40::/48"' in line:
            lines[i] = line.replace('"2001:db8:40::/48"', '"2001:db8:40::1/48"')
            bad["host bits"] = i + 1
    check(len(bad) == 2, "could not break the config: %r" % bad)
    path = run.bed.workdir / "broken.conf"
    path.write_text("\n".join(lines) + "\n")
    r = subprocess.run([run.gnnd, "--", "-f", str(path), "--check"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 1, "--check on a broken file: exit %d" % r.returncode)
    for what, line in bad.items():
        check(re.search(r"^%s:%d: " % (re.escape(str(path)), line), r.stderr, re.M),
              "no %s error at %s:%d in %r" % (what, path, line, r.stderr))
    check("OK" not in r.stdout, "broken config reported OK: %r" % r.stdout)


def mail_check(name, fam):
    def fn(run):
        r, src, dst, port, sink = run.mail[(name, fam)]
        others = [s for s in (run.in_sink, run.out_sink) if s is not sink]
        delivered = next(c[4] for c in MAIL_CASES if c[0] == name)
        if not delivered:
            check(not r.delivered, "delivered: %s" % r.transcript[-500:])
            check(r.returncode == 2, "swaks exit %d, not 2 (connect timeout): %s"
                  % (r.returncode, r.transcript[-500:]))
            check(not sink.find(r.token) and not others[0].find(r.token),
                  "a message with the token reached a sink")
            return
        check(r.delivered, "not delivered (swaks exit %d): %s"
              % (r.returncode, r.transcript[-800:]))
        got = sink.find(r.token)
        check(len(got) == 1, "%d messages with the token in the sink" % len(got))
        m = got[0]
        check(norm(m["peer"]) == norm(src), "sink saw peer %s, sent from %s" % (m["peer"], src))
        check(norm(m["server"]) == norm(dst) and m["server_port"] == port,
              "arrived at %s:%s, sent to %s:%s" % (m["server"], m["server_port"], dst, port))
        check(not others[0].find(r.token), "also in the other sink")
    fn.__name__ = "%s (IPv%d)" % (name, fam)
    return fn


def tagged_check(name):
    def fn(run):
        frame, host, arrived, leaked = run.tagged[name]
        if host == "workstation":
            check(not arrived and not leaked,
                  "the workstation's SYN reached the outside end: %d frame(s)" % len(leaked))
        else:
            check(arrived, "the mail server's SYN did not arrive byte-identical (%d "
                  "similar frames arrived)" % len(leaked))
    fn.__name__ = "tagged: %s %s" % (name, "dropped" if name.startswith("workstation")
                                     else "passes")
    return fn


def check_capture_sane(run):
    """The capture saw what crossed the wire: else the counter checks are void."""
    missed = run.capture_missed()
    check(missed is None, "the measurement is incomplete in %d runs: %s" % (ATTEMPTS, missed))
    for host in ("workstation", "mail_server", "library_workstation",
                 "library_mail_server", "off_workstation", "non_member"):
        for fam in (4, 6):
            a = norm(INSIDE[host][fam == 6])
            check(run.port25_sent()[a] > 0, "no frame to port 25 from %s captured" % a)
    # Every blocked attempt retransmitted its SYN, each crafted SYN is there once.
    for fam in (4, 6):
        a = norm(INSIDE["workstation"][fam == 6])
        untagged = sum(1 for f in run.sent if (p := parse(f)) and p[0] == a
                       and p[2] == 25 and not p[3])
        tagged = sum(1 for f in run.sent if (p := parse(f)) and p[0] == a
                     and p[2] == 25 and p[3])
        check(untagged >= 1, "no untagged SYN from %s" % a)
        check(tagged == 2, "%d tagged SYNs from %s captured, 2 sent" % (tagged, a))


def check_member_counters(run):
    expect = {m["name"]: {"allowed": 0, "blocked": 0, "would_block": 0} for m in MEMBERS}
    for host, (member, counter) in ROLE.items():
        if member and counter:
            expect[member][counter] += run.host_sent(host)
    got = {}
    for m in run.stats["members"]:
        got[m["name"]] = {k: m[k] for k in ("allowed", "blocked", "would_block")}
    check(set(got) == set(expect), "members %r" % sorted(got))
    modes = {m["name"]: m["mode"] for m in run.stats["members"]}
    check(modes == {m["name"]: m["mode"] for m in MEMBERS}, "modes %r" % modes)
    check(got == expect, "counters %r, frames on the wire %r" % (got, expect))


def check_totals(run):
    t = run.stats["totals"]
    sent = {"blocked": 0, "would_block": 0, "allowed": 0}
    for host, (member, counter) in ROLE.items():
        if counter:
            sent[counter] += run.host_sent(host)
    for k, v in sent.items():
        check(t[k] == v, "totals.%s %d, frames on the wire %d" % (k, t[k], v))
    check(t["malformed_dropped"] == 0, "malformed_dropped %d" % t["malformed_dropped"])
    ports = {p["role"]: p for p in run.stats["ports"]}
    inside, outside = ports["inside"], ports["outside"]
    check(inside["name"] == run.bed.port_names()[0], "inside port %r" % inside["name"])
    # Each frame the inside sent was received once; each was forwarded to
    # the outside port or dropped (gnnd may have seen a frame or two sent
    # before the capture started, never fewer than it).
    check(inside["rx_packets"] >= len(run.sent),
          "inside port received %d frames, the inside sent %d"
          % (inside["rx_packets"], len(run.sent)))
    check(outside["tx_packets"] + outside["tx_dropped"] ==
          inside["rx_packets"] - t["blocked"] - t["malformed_dropped"],
          "outside tx %d + tx_dropped %d != inside rx %d - blocked %d"
          % (outside["tx_packets"], outside["tx_dropped"], inside["rx_packets"],
             t["blocked"]))
    check(t["rx_packets"] == inside["rx_packets"] + outside["rx_packets"],
          "totals.rx_packets %d != sum of the ports" % t["rx_packets"])
    check(t["forwarded"] + t["blocked"] + t["malformed_dropped"] == t["rx_packets"],
          "forwarded %d + blocked %d + malformed %d != rx %d"
          % (t["forwarded"], t["blocked"], t["malformed_dropped"], t["rx_packets"]))


def check_top(run):
    want = {norm(a): run.port25_sent()[norm(a)] for a in INSIDE["workstation"]}
    deadline = time.monotonic() + 5
    while True:  # the control lcore drains the workers' events now and then
        r = run.bed.gnnstat("top", "-m", "example-college", "--json")
        sources = json.loads(r.stdout)["sources"]
        got = {norm(s["address"]): s["blocked"] for s in sources}
        if got == want or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    check(got == want, "top -m example-college: %r, blocked SYNs on the wire %r" % (got, want))
    check(all(s["member"] == "example-college" and s["would_block"] == 0 for s in sources),
          "top rows %r" % sources)
    text = run.bed.gnnstat("top", "-m", "example-college").stdout
    rows = {l.split()[0]: l.split()[1:] for l in text.splitlines() if l.strip()}
    for a, n in want.items():  # ADDRESS MEMBER VERDICT ATTEMPTS PACKETS ...
        row = rows.get(a, [])
        check(row[:2] == ["example-college", "blocked"] and row[3:4] == [str(n)],
              "gnnstat top does not list %s with %d blocked: %r" % (a, n, text))
    # The monitored member's workstation is listed as would-block.
    r = run.bed.gnnstat("top", "-m", "example-library", "--json")
    lib = {norm(s["address"]): (s["blocked"], s["would_block"])
           for s in json.loads(r.stdout)["sources"]}
    want_lib = {norm(a): (0, run.port25_sent()[norm(a)])
                for a in INSIDE["library_workstation"]}
    check(lib == want_lib, "top -m example-library: %r, on the wire %r" % (lib, want_lib))


def check_sigterm(run):
    final = run.bed.stats()
    rc = run.bed.stop_filter()
    out = run.bed.filter.output()
    check(rc == 0, "gnnd exit %s on SIGTERM:\n%s" % (rc, out[-1500:]))
    check("gnnd: final statistics" in out, "no final summary:\n%s" % out[-1500:])
    t = final["totals"]
    m = re.search(r"total rx (\d+) forwarded (\d+) blocked (\d+) would_block (\d+) "
                  r"allowed (\d+) malformed_dropped (\d+)", out)
    check(m is not None, "no totals line:\n%s" % out[-1500:])
    check(int(m.group(3)) == t["blocked"] and int(m.group(4)) == t["would_block"]
          and int(m.group(5)) == t["allowed"],
          "summary %r, JSON %r" % (m.group(0), t))
    for mem in final["members"]:
        line = re.search(r"member\s+%s\s+%s\s+allowed (\d+) blocked (\d+) would_block (\d+)"
                         % (re.escape(mem["name"]), mem["mode"]), out)
        check(line is not None, "no summary line for %s:\n%s" % (mem["name"], out[-1500:]))
        check([int(x) for x in line.groups()] ==
              [mem["allowed"], mem["blocked"], mem["would_block"]],
              "summary %r, JSON %r" % (line.group(0), mem))


def checks(run):
    """The named checks, in order (the last stops gnnd)."""
    out = [check_config_valid, check_config_broken]
    for name, *_ in MAIL_CASES:
        for fam in (4, 6):
            out.append(mail_check(name, fam))
    for name in tagged_frames(run.bed):
        out.append(tagged_check(name))
    out += [check_capture_sane, check_member_counters, check_totals, check_top,
            check_sigterm]
    return out


def main():
    gnnd, gnnstat = testbed.binaries_from_argv()
    t0 = time.monotonic()
    for attempt in range(1, ATTEMPTS + 1):
        run = Run(gnnd, gnnstat)
        with TestBed(pmd=PMD, inside=INSIDE, gnnd=gnnd, gnnstat=gnnstat) as bed:
            run.setup(bed)
            todo = checks(run)
            try:
                run.start()
                run.send_all_mail()
                run.send_tagged()
                run.finish_traffic()
            except Exception:
                print("FAIL setup")
                traceback.print_exc(file=sys.stdout)
                if bed.filter is not None:
                    print(testbed.tail(bed.filter.log, 40))
                print("0 passed, %d failed" % (len(todo) + 1))
                return 1
            missed = run.capture_missed()
            if missed is not None and attempt < ATTEMPTS:
                # The test's measurement failed, not gnnd: a fresh bed and gnnd.
                print("     the measurement is incomplete (%s); measuring again (%d of %d)"
                      % (missed, attempt + 1, ATTEMPTS))
                continue
            passed, failed = testbed.run_checks(bed, todo, run)
        break
    print("%d passed, %d failed (%.1f s)" % (passed, failed, time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
