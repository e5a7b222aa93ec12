#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Faults gnnd must survive, with counters that say what happened.

usage: test_faults.py PATH/TO/gnnd PATH/TO/gnnstat

One namespace test bed (net_af_packet ports), gnnd inline. Paced streams of
numbered frames cross it from the inside: UDP from a non-member, SYNs to
port 25 from the enforced member's mail server (allowed) and from its
workstation (blocked); each frame carries its number and send time, and a
capture on the outside end says which arrived. The checks:

  link flap (4 interfaces in turn: gnnd's outside and inside host ends, the
  outside and inside namespace ends; each down for 3 s mid-stream, then up)
      gnnd lives; JSON link_up of the affected port goes false and back,
      gnnd logs "link down" and "link up"; every frame sent from 0.5 s
      after "up" on arrives, no blocked one ever does; every frame is
      accounted for: gnnd's inside rx = outside tx + tx_dropped + blocked,
      and what gnnd counted as sent is what the outside end received.
      What happens to the frames sent while a link is down is asserted per
      interface (see FLAPS): dropped by the kernel before gnnd (inside),
      refused to the sender (inside namespace end), or taken by gnnd and
      counted tx_dropped except for at most one af_packet TX ring (512
      frames) that the kernel holds and sends late, when the link is back.
  mail after the flaps  a real SMTP session from the mail server delivers.
  reload, config gone   the file deleted, then replaced by a directory:
      `gnnstat reload` exits 1 naming the file, last_error names it,
      reload_failures counts it (SIGHUP too), the generation stays, the
      workstation is still blocked and the mail server still passes; the
      file back, a reload succeeds and clears last_error.
  SIGHUP storm          500 SIGHUPs in a tight loop while a stream flows:
      gnnd lives, reloads >= 1 and no failures, not one frame lost beyond
      the policy's drops, blocked == the blocked SYNs sent.
  smallest pool         --mbufs 63 is refused (exit 2, no EAL); 64 starts.
  pool exhaustion       --mbufs 64 with 4 workers on 4 queue pairs, so the
      workers' bursts (4 x 32) can want more mbufs than exist, under a
      blast from two raw-socket senders: gnnd lives and answers; afterwards
      every frame is accounted for with the counters there are (kernel
      interface counters + gnnd's), mbufs_in_use is back to its idle value,
      a stream passes whole with the policy applied and mail is delivered.
      The af_packet PMD of DPDK 22.11 reports no rx_missed and no rx_nombuf:
      frames lost before gnnd (RX ring full, mbufs short) show only as the
      kernel's rx_packets on the host end minus gnnd's rx_packets; the check
      prints both.
  SIGTERM under load    while two senders blast: exit 0 within 5 s, stdout
      holds "final statistics", whose counters are >= the last JSON and
      balance (inside rx = outside tx + tx_dropped + blocked + malformed).

Prints one line per check (and the figures measured) and "N passed,
N failed"; exits non-zero on any failure. Run as root with /usr/bin/python3;
about a minute.
"""

import json
import os
import re
import signal
import socket
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

MEMBERS = [
    {"name": "example-college", "mode": "enforce",
     "networks": ["198.51.100.0/24", "2001:db8:10::/48"],
     "mail_servers": ["198.51.100.25", "2001:db8:10::25"]},
]
WORKSTATION, MAIL_SERVER, NON_MEMBER = "198.51.100.10", "198.51.100.25", "198.18.0.10"
# Nobody has this address: the outside namespace drops the frames quietly.
SINK_ADDR = "192.0.2.99"
MAGIC = b"GNNF"
STREAM_PPS = 1000
AF_PACKET_RING = 512       # DPDK 22.11 af_packet PMD: frames per TX ring
SMALLEST_POOL = 64
POOL_WORKERS = 4

# Interface flapped -> (namespace attribute, interface attribute, gnnd port
# that loses its link, where the frames sent while it is down go).
FLAPS = [
    ("outside host end", "ns_wire", "host_out", "outside", "gnnd"),
    ("inside host end", "ns_wire", "host_in", "inside", "kernel"),
    ("outside namespace end", "ns_out", "ns_if_out", "outside", "gnnd"),
    ("inside namespace end", "ns_in", "ns_if_in", "inside", "refused"),
]


def note(msg):
    print("     %s" % msg)


class CaptureLost(testbed.Failure):
    """The test's own capture dropped frames: the measurement, not gnnd, failed."""


def measured(fn, tries=3):
    """Run a check again (it starts from fresh counters) when its capture lost
    frames; any other failure, or a capture that keeps losing, still fails."""
    def again(run):
        for attempt in range(1, tries + 1):
            try:
                return fn(run)
            except CaptureLost as e:
                if attempt == tries:
                    raise
                note("%s; measuring again (%d of %d)" % (e, attempt + 1, tries))
    again.__name__ = fn.__name__
    return again


# ------------------------------------------------------------ senders
# Run in a namespace as "test_faults.py _stream|_blast ...": they print JSON.

def _frame(src, sport, dport, proto, payload):
    """An Ethernet/IPv4 frame to SINK_ADDR, built by hand (fast)."""
    if proto == "udp":
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        pnum = 17
    else:  # a SYN, with the payload as data
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 1000 + sport, 0, 5 << 4, 0x02,
                         64240, 0, 0) + payload
        pnum = 6
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), sport & 0xffff, 0, 64, pnum, 0,
                     socket.inet_aton(src), socket.inet_aton(SINK_ADDR))
    s = sum(struct.unpack("!10H", ip))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    ip = ip[:10] + struct.pack("!H", ~s & 0xffff) + ip[12:]
    eth = bytes.fromhex(testbed.MAC_OUT.replace(":", "")) + \
        bytes.fromhex(testbed.MAC_IN.replace(":", "")) + b"\x08\x00"
    return eth + ip + l4


def kind_of(seq):
    """Stream frame seq is: "blocked" (workstation SYN to 25), "allowed"
    (mail server SYN to 25) or "other" (UDP from a non-member)."""
    return {3: "blocked", 7: "allowed"}.get(seq % 10, "other")


def stream_frame(run_id, seq, t):
    payload = MAGIC + struct.pack("!IId", run_id, seq, t)
    k = kind_of(seq)
    if k == "blocked":
        return _frame(WORKSTATION, 20000 + seq % 20000, 25, "tcp", payload)
    if k == "allowed":
        return _frame(MAIL_SERVER, 20000 + seq % 20000, 25, "tcp", payload)
    return _frame(NON_MEMBER, 30000 + seq % 1000, 9, "udp", payload)


def _stream(iface, run_id, seconds, pps):
    """Paced numbered frames; prints [[seq, t_send, sent_ok], ...]."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    out, seq = [], 0
    t0 = time.monotonic()
    while True:
        el = time.monotonic() - t0
        if el >= seconds:
            break
        while seq < int(el * pps):
            t = time.time()
            try:
                s.send(stream_frame(run_id, seq, t))
                ok = 1
            except OSError:
                ok = 0
            out.append([seq, t, ok])
            seq += 1
        time.sleep(0.001)
    print(json.dumps(out))
    return 0


def _blast(iface, seconds, salt):
    """As fast as Python goes: 64 UDP flows, one frame in 16 a blocked SYN.
    Prints {"sent": n, "blocked": n, "errors": n}."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    frames = []
    for i in range(64):
        if i % 16 == 5:
            frames.append((_frame(WORKSTATION, 40000 + salt * 64 + i, 25, "tcp", b"x" * 18), 1))
        else:
            frames.append((_frame(NON_MEMBER, 40000 + salt * 64 + i, 9, "udp", b"x" * 18), 0))
    sent = blocked = errors = 0
    send = s.send
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        for f, b in frames:
            try:
                send(f)
                sent += 1
                blocked += b
            except OSError:
                errors += 1
    print(json.dumps({"sent": sent, "blocked": blocked, "errors": errors}))
    return 0


def parse_stream_frame(frame):
    i = frame.find(MAGIC)
    if i < 0 or len(frame) < i + 20:
        return None
    return struct.unpack("!IId", frame[i + 4:i + 20])  # run_id, seq, t


# ------------------------------------------------------------ the run

def big_capture(bed):
    """tcpdump on the outside namespace end with a 32 MiB buffer: a link
    coming back releases a whole af_packet TX ring at once, more than
    tcpdump's default buffer takes without dropping. Counted: checked
    against the interface's counters (see finish_stream)."""
    return bed.capture("out", buffer_kib=32768, counted=True).start()


class Run:
    def __init__(self, bed):
        self.bed = bed
        self.config = bed.write_config(MEMBERS)
        self.run_id = 0
        self.sink = None
        self.gnnd_args = []
        self.pool_workers = 0
        self.default_lcores = bed.lcores, bed.qpairs

    # -- gnnd --------------------------------------------------------------

    def start(self, args=(), pool_workers=0):
        bed = self.bed
        if bed.filter is not None and bed.filter.alive():
            bed.stop_filter()
        if pool_workers:
            # pool_workers worker lcores (all on one CPU) polling as many
            # queue pairs per port
            cpus = sorted(os.sched_getaffinity(0))
            main_cpu, worker_cpu = cpus[0], cpus[-1]
            bed.lcores = "0@%d,(1-%d)@%d" % (main_cpu, pool_workers, worker_cpu)
            bed.qpairs = pool_workers
        else:
            bed.lcores, bed.qpairs = self.default_lcores
        self.pool_workers = pool_workers
        self.log_mark = len(Path(bed.workdir / "gnnd.log").read_bytes()) \
            if (bed.workdir / "gnnd.log").exists() else 0
        bed.start_gnnd(self.config, args=list(args))
        self.gnnd_args = list(args)

    def ensure(self, args=(), pool_workers=0):
        f = self.bed.filter
        if f is None or not f.alive() or self.gnnd_args != list(args) or \
                self.pool_workers != pool_workers:
            self.start(args, pool_workers)

    def log(self, since=None):
        """gnnd's output since the current instance started (or a mark)."""
        data = Path(self.bed.filter.log).read_bytes()
        return data[self.log_mark if since is None else since:].decode(errors="replace")

    def log_len(self):
        return len(Path(self.bed.filter.log).read_bytes())

    def alive(self):
        return self.bed.filter is not None and self.bed.filter.alive()

    def stats(self):
        return self.bed.stats()

    # -- traffic -----------------------------------------------------------

    def spawn_sender(self, mode, *args):
        self.run_id += 1
        log = self.bed.workdir / ("%s-%d.json" % (mode.strip("_"), self.run_id))
        cmd = ["ip", "netns", "exec", self.bed.ns_in, testbed.PYTHON, Path(__file__).resolve(),
               mode, self.bed.ns_if_in] + [str(a) for a in args]
        proc = self.bed.spawn(cmd, log, stderr=subprocess.DEVNULL)  # stopped if we die
        return proc, log

    def wait_sender(self, proc, log, timeout):
        proc.wait(timeout=timeout)
        self.bed.forget(proc)
        return json.loads(Path(log).read_text())

    def start_stream(self, seconds):
        run_id = self.run_id + 1
        proc, log = self.spawn_sender("_stream", run_id, seconds, STREAM_PPS)
        return run_id, proc, log

    def finish_stream(self, run_id, proc, log, seconds, cap):
        sent = self.wait_sender(proc, log, seconds + 30)
        frames = cap.stop(settle=0.5)
        missed = cap.complete()
        if missed is not None:
            raise CaptureLost("the capture is not all that crossed the outside end: %s; "
                              "tcpdump says %s"
                              % (missed, testbed.tail(cap.log, 3).replace("\n", " | ")))
        got = {}
        for f in frames:
            p = parse_stream_frame(f)
            if p is not None and p[0] == run_id:
                got[p[1]] = f
        return sent, got

    def kernel(self, ns, ifname):
        """The kernel's counters of an interface: {"rx": {...}, "tx": {...}}."""
        p = testbed.sh("ip", "-n", ns, "-s", "-j", "link", "show", ifname)
        return json.loads(p.stdout)[0]["stats64"]


def port(stats, role):
    return next(p for p in stats["ports"] if p["role"] == role)


def delta(after, before, *path):
    a, b = after, before
    for k in path:
        a, b = a[k], b[k]
    return a - b


def counters(run):
    """Everything counted about the inside -> outside direction, now."""
    bed = run.bed
    s = run.stats()
    return {
        "json": s,
        "in_rx": port(s, "inside")["rx_packets"],
        "out_tx": port(s, "outside")["tx_packets"],
        "out_txd": port(s, "outside")["tx_dropped"],
        "blocked": s["totals"]["blocked"],
        "malformed": s["totals"]["malformed_dropped"],
        "k_i1": run.kernel(bed.ns_in, bed.ns_if_in),
        "k_i0": run.kernel(bed.ns_wire, bed.host_in),
        "k_o0": run.kernel(bed.ns_wire, bed.host_out),
        "k_o1": run.kernel(bed.ns_out, bed.ns_if_out),
    }


def settle(run, timeout=5.0):
    """Counters once gnnd has nothing left to forward (two equal reads)."""
    deadline = time.monotonic() + timeout
    prev = counters(run)
    while True:
        time.sleep(0.3)
        cur = counters(run)
        same = all(cur[k] == prev[k] for k in ("in_rx", "out_tx", "out_txd", "blocked"))
        if same and delta(cur, prev, "k_o1", "rx", "packets") == 0 or \
                time.monotonic() > deadline:
            return cur
        prev = cur


def books(before, after):
    return {k: after[k] - before[k] for k in ("in_rx", "out_tx", "out_txd", "blocked",
                                              "malformed")}


def check_balance(before, after, what):
    """gnnd's own books, inside -> outside: every frame it took is sent,
    counted tx_dropped, blocked or malformed; what it counted as sent is
    what the outside namespace end received."""
    d = books(before, after)
    check(d["in_rx"] == d["out_tx"] + d["out_txd"] + d["blocked"] + d["malformed"],
          "%s: inside rx %d != outside tx %d + tx_dropped %d + blocked %d + malformed %d"
          % (what, d["in_rx"], d["out_tx"], d["out_txd"], d["blocked"], d["malformed"]))
    o1 = delta(after, before, "k_o1", "rx", "packets")
    check(o1 == d["out_tx"], "%s: gnnd counted %d sent on the outside port, the outside "
          "end received %d" % (what, d["out_tx"], o1))
    return d


def restore_side(bed, side):
    """A namespace end that went down lost its routes (and IPv6 addresses,
    keep_addr_on_down being 0): put the bed's back."""
    ns, ifname = bed.ns(side), bed.ns_if(side)
    for addr in sorted(bed._addrs[side]):
        v6 = ":" in addr
        testbed.sh("ip", "-n", ns, "addr", "replace", "%s/%d" % (addr, 128 if v6 else 32),
                   "dev", ifname, *(["nodad"] if v6 else []))
    for prefix in bed.onlink:
        testbed.sh("ip", "-n", ns, "route", "replace", prefix, "dev", ifname)


def poll(fn, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def policy_probe(run):
    """One SYN to 25 from the workstation and one from the mail server:
    (workstation's arrived, mail server's arrived), blocked counter delta."""
    b0 = run.stats()["totals"]["blocked"]
    frames = [_frame(WORKSTATION, 33025, 25, "tcp", b"probe"),
              _frame(MAIL_SERVER, 33025, 25, "tcp", b"probe")]
    t = run.bed.transmit(frames, side="in")
    return t.arrived[0], t.arrived[1], run.stats()["totals"]["blocked"] - b0


def check_policy_holds(run, what):
    ws, ms, blocked = policy_probe(run)
    check(not ws and blocked == 1, "%s: the workstation's SYN %s (blocked +%d)"
          % (what, "arrived" if ws else "was dropped", blocked))
    check(ms, "%s: the mail server's SYN did not arrive" % what)


def stream_verdicts(sent, got):
    """Check the policy over a stream; returns the frames sent OK by kind."""
    leaked = [seq for seq, _, ok in sent if kind_of(seq) == "blocked" and seq in got]
    check(not leaked, "%d blocked SYNs arrived outside (first seq %d)"
          % (len(leaked), leaked[0] if leaked else -1))


# ------------------------------------------------------------ checks

def flap_check(label, ns_attr, if_attr, role, fate):
    def fn(run):
        run.ensure()
        bed = run.bed
        ns, ifname = getattr(bed, ns_attr), getattr(bed, if_attr)
        portname = port(run.stats(), role)["name"]
        mark = run.log_len()
        before = counters(run)
        seconds, t_down_at, down_for = 7.0, 1.5, 3.0
        cap = big_capture(bed)
        run_id, proc, log = run.start_stream(seconds)
        time.sleep(t_down_at)
        t_down = time.time()
        testbed.sh("ip", "-n", ns, "link", "set", ifname, "down")
        went_down = poll(lambda: not port(run.stats(), role)["link_up"], 2.5)
        other_up = port(run.stats(), "outside" if role == "inside" else "inside")["link_up"]
        time.sleep(max(0.0, t_down + down_for - time.time()))
        t_up = time.time()
        testbed.sh("ip", "-n", ns, "link", "set", ifname, "up")
        came_up = poll(lambda: port(run.stats(), role)["link_up"], 3.0)
        if ns_attr != "ns_wire":
            restore_side(bed, "in" if ns_attr == "ns_in" else "out")
        sent, got = run.finish_stream(run_id, proc, log, seconds, cap)
        # The log line comes from a once-a-second look at the links.
        poll(lambda: "%s: link up" % portname in run.log(since=mark), 2.5)
        after = settle(run)
        text = run.log(since=mark)

        ok = [(seq, t) for seq, t, good in sent if good]
        refused = [seq for seq, _, good in sent if not good]
        late = [seq for seq, t in ok if t >= t_up + 0.5 and kind_of(seq) != "blocked"
                and seq not in got]
        resumed = min((t for seq, t in ok if seq in got and t >= t_up), default=None)
        d = books(before, after)
        # Frames sent well inside the down window (0.1 s margins).
        window = [seq for seq, t in ok if t_down + 0.1 < t < t_up - 0.1
                  and kind_of(seq) != "blocked"]
        held = [seq for seq in window if seq in got]
        lost = len(window) - len(held)
        passing = [seq for seq, _ in ok if kind_of(seq) != "blocked"]
        missing = sum(1 for seq in passing if seq not in got)
        i1_txd = delta(after, before, "k_i1", "tx", "dropped")
        note("%s down %.1f s: %d frames sent, %d refused to the sender, %d missing outside; "
             "gnnd: inside rx +%d, outside tx +%d, tx_dropped +%d, blocked +%d; kernel: "
             "%s tx_dropped +%d, %s tx +%d tx_dropped +%d, %s rx +%d, captured %d; "
             "of %d sent mid-window %d arrived late; first frame after up sent %.0f ms "
             "after it"
             % (ifname, down_for, len(sent), len(refused), missing, d["in_rx"], d["out_tx"],
                d["out_txd"], d["blocked"], bed.ns_if_in, i1_txd, bed.host_out,
                delta(after, before, "k_o0", "tx", "packets"),
                delta(after, before, "k_o0", "tx", "dropped"), bed.ns_if_out,
                delta(after, before, "k_o1", "rx", "packets"), len(got),
                len(window), len(held), (resumed - t_up) * 1000 if resumed else -1))
        if os.environ.get("GNN_FAULTS_DUMP"):
            Path(os.environ["GNN_FAULTS_DUMP"], "flap-%s.json" % if_attr).write_text(json.dumps(
                {"sent": sent, "got": sorted(got), "t_down": t_down, "t_up": t_up}))

        check(run.alive(), "gnnd died:\n%s" % text[-1500:])
        check(went_down, "JSON link_up of %s stayed true while %s was down" % (portname, ifname))
        check(other_up, "the other port's link_up went false too")
        check(came_up, "JSON link_up of %s did not come back" % portname)
        check("%s: link down" % portname in text and "%s: link up" % portname in text,
              "gnnd logged no 'link down'/'link up' for %s:\n%s" % (portname, text[-800:]))
        stream_verdicts(sent, got)
        check(not late, "%d frames sent 0.5 s or more after 'up' never arrived (first %d)"
              % (len(late), late[0] if late else -1))
        check_balance(before, after, label)
        n_blocked = sum(1 for seq, _ in ok if kind_of(seq) == "blocked")
        if fate == "gnnd":
            # Every frame reached gnnd; the ones it could not send are its
            # tx_dropped, but for one TX ring the kernel holds and sends late.
            check(d["in_rx"] >= len(ok), "gnnd took %d of %d frames" % (d["in_rx"], len(ok)))
            check(d["blocked"] == n_blocked, "blocked +%d, sent %d" % (d["blocked"], n_blocked))
            # tx_dropped beyond the missing stream frames can only be frames
            # of the namespace's own that gnnd took besides the stream.
            check(missing <= d["out_txd"] <= missing + d["in_rx"] - len(ok),
                  "%d stream frames missing outside, gnnd counted %d tx_dropped (and took "
                  "%d frames besides the stream)" % (missing, d["out_txd"], d["in_rx"] - len(ok)))
            check(d["out_txd"] > 0 and lost > 0, "no frame was lost while %s was down "
                  "(tx_dropped %d)" % (ifname, d["out_txd"]))
            check(len(held) <= AF_PACKET_RING, "%d frames of the down window arrived "
                  "(more than one TX ring, %d)" % (len(held), AF_PACKET_RING))
        elif fate == "kernel":
            # The inside host end down: the sender's veth drops them; gnnd never sees them.
            check(not held, "%d frames sent while %s was down arrived" % (len(held), ifname))
            check(i1_txd >= len(window), "the inside namespace end counted %d tx_dropped "
                  "for %d frames sent into a dead link" % (i1_txd, len(window)))
            check(missing <= i1_txd, "%d frames missing, the kernel counted %d dropped"
                  % (missing, i1_txd))
        else:  # refused: the sender's own interface is down, send() fails
            check(not held, "%d frames sent while %s was down arrived" % (len(held), ifname))
            check(len(refused) > 0 and missing == 0,
                  "%d refused, %d accepted frames missing" % (len(refused), missing))
    fn.__name__ = "link flap: %s" % label
    return fn


def check_mail_after_flaps(run):
    run.ensure()
    if run.sink is None:
        run.sink = run.bed.start_smtp("out")
    r = run.bed.send_mail(MAIL_SERVER, "192.0.2.1", timeout=5)
    check(r.delivered and run.sink.find(r.token),
          "the mail server's mail was not delivered (swaks %d)" % r.returncode)
    check_policy_holds(run, "after the flaps")


def reload_failure_check(label, breaker):
    def fn(run):
        run.ensure()
        bed = run.bed
        conf = Path(run.config)
        saved = conf.read_text()
        s0 = run.stats()
        try:
            breaker(conf)
            p = bed.gnnstat("reload", check=False)
            s1 = run.stats()
            # The same by signal: counted again.
            os.kill(bed.filter.pid, signal.SIGHUP)
            poll(lambda: run.stats()["reload_failures"] >= s1["reload_failures"] + 1, 3.0)
            s2 = run.stats()
            check(run.alive(), "gnnd died")
            check(p.returncode == 1, "gnnstat reload exit %d:\n%s%s"
                  % (p.returncode, p.stdout, p.stderr))
            check(str(conf) in p.stdout + p.stderr, "gnnstat reload does not name %s:\n%s%s"
                  % (conf, p.stdout, p.stderr))
            check(s1["last_error"] and str(conf) in s1["last_error"],
                  "last_error %r does not name %s" % (s1["last_error"], conf))
            check(s1["reload_failures"] == s0["reload_failures"] + 1,
                  "reload_failures %d -> %d" % (s0["reload_failures"], s1["reload_failures"]))
            check(s2["reload_failures"] == s1["reload_failures"] + 1,
                  "SIGHUP with the file %s: reload_failures %d -> %d"
                  % (label, s1["reload_failures"], s2["reload_failures"]))
            check(s2["generation"] == s0["generation"] and s2["reloads"] == s0["reloads"],
                  "generation %d -> %d, reloads %d -> %d" % (s0["generation"], s2["generation"],
                                                             s0["reloads"], s2["reloads"]))
            check([m["name"] for m in s2["members"]] == [m["name"] for m in s0["members"]],
                  "members changed: %r" % s2["members"])
            check_policy_holds(run, "with the file %s" % label)
            note("gnnstat reload: %s" % (p.stdout + p.stderr).strip().replace("\n", " | "))
        finally:
            if conf.is_dir():
                conf.rmdir()
            elif conf.exists():
                conf.unlink()
            conf.write_text(saved)
        p = bed.gnnstat("reload", check=False)
        s3 = run.stats()
        check(p.returncode == 0 and s3["last_error"] is None and
              s3["generation"] == s0["generation"] + 1,
              "the file back: reload exit %d, last_error %r, generation %d"
              % (p.returncode, s3["last_error"], s3["generation"]))
    fn.__name__ = "reload with the config file %s" % label
    return fn


def _delete(conf):
    conf.unlink()


def _make_dir(conf):
    conf.unlink()
    conf.mkdir()


def check_sighup_storm(run):
    run.ensure()
    bed = run.bed
    before = counters(run)
    s0 = before["json"]
    seconds = 5.0
    cap = big_capture(bed)
    run_id, proc, log = run.start_stream(seconds)
    time.sleep(1.0)
    t0 = time.monotonic()
    for _ in range(500):
        os.kill(bed.filter.pid, signal.SIGHUP)
    storm = time.monotonic() - t0
    alive_mid = run.alive()
    sent, got = run.finish_stream(run_id, proc, log, seconds, cap)
    after = settle(run)
    s1 = after["json"]
    check(alive_mid and run.alive(), "gnnd died:\n%s" % run.log()[-1500:])
    reloads = s1["reloads"] - s0["reloads"]
    check(reloads >= 1, "no reload counted after 500 SIGHUPs")
    check(s1["reload_failures"] == s0["reload_failures"], "reload failures: %d -> %d"
          % (s0["reload_failures"], s1["reload_failures"]))
    check(s1["generation"] - s0["generation"] == reloads, "generation %d -> %d, reloads +%d"
          % (s0["generation"], s1["generation"], reloads))
    stream_verdicts(sent, got)
    ok = [seq for seq, _, good in sent if good]
    check(len(ok) == len(sent), "%d frames refused to the sender" % (len(sent) - len(ok)))
    lost = [seq for seq in ok if kind_of(seq) != "blocked" and seq not in got]
    check(not lost, "%d frames lost (first seq %d)" % (len(lost), lost[0] if lost else -1))
    d = check_balance(before, after, "SIGHUP storm")
    n_blocked = sum(1 for seq in ok if kind_of(seq) == "blocked")
    check(d["blocked"] == n_blocked, "blocked +%d, blocked SYNs sent %d"
          % (d["blocked"], n_blocked))
    note("500 SIGHUPs in %.0f ms: %d reload(s); %d frames, none lost, %d blocked"
         % (storm * 1000, reloads, len(ok), n_blocked))


def check_smallest_pool(run):
    p = subprocess.run([str(run.bed.gnnd), "--", "-f", str(run.config), "-s",
                        str(run.bed.workdir / "x.sock"), "--mbufs", str(SMALLEST_POOL - 1)],
                       capture_output=True, text=True, timeout=20)
    check(p.returncode == 2 and ">= %d" % SMALLEST_POOL in p.stderr,
          "--mbufs %d: exit %d, %r" % (SMALLEST_POOL - 1, p.returncode, p.stderr.strip()))
    run.ensure(["--mbufs", str(SMALLEST_POOL)], POOL_WORKERS)
    check("%d worker(s)" % POOL_WORKERS in run.log(), "not %d workers:\n%s"
          % (POOL_WORKERS, run.log()[-800:]))


def check_pool_exhaustion(run):
    run.ensure(["--mbufs", str(SMALLEST_POOL)], POOL_WORKERS)
    bed = run.bed
    idle = run.stats()["mbufs_in_use"]
    before = counters(run)
    seconds = 5.0
    senders = [run.spawn_sender("_blast", seconds, i) for i in range(2)]
    peak, answered, polls = 0, 0, 0
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        polls += 1
        try:
            peak = max(peak, run.stats()["mbufs_in_use"])
            answered += 1
        except Exception:
            pass
        time.sleep(0.05)
    blasts = [run.wait_sender(p, log, 30) for p, log in senders]
    check(run.alive(), "gnnd died under load:\n%s" % run.log()[-1500:])
    check(answered == polls, "the control socket failed %d of %d requests under load"
          % (polls - answered, polls))
    after = settle(run)
    back = poll(lambda: run.stats()["mbufs_in_use"] == idle, 5.0)
    now = run.stats()["mbufs_in_use"]

    sent = sum(b["sent"] for b in blasts)
    blocked_sent = sum(b["blocked"] for b in blasts)
    i1_tx = delta(after, before, "k_i1", "tx", "packets")
    i1_txd = delta(after, before, "k_i1", "tx", "dropped")
    i0_rx = delta(after, before, "k_i0", "rx", "packets")
    d = check_balance(before, after, "pool exhaustion")
    inside = port(after["json"], "inside")
    missed = inside["rx_missed"] - port(before["json"], "inside")["rx_missed"]
    nombuf = inside["rx_nombuf"] - port(before["json"], "inside")["rx_nombuf"]
    before_gnnd = i0_rx - d["in_rx"]
    note("blast %.0f s: %d frames sent (%d blocked SYNs), %d reached the inside host end; "
         "gnnd took %d (%d lost before gnnd: af_packet RX ring full or mbufs short), "
         "forwarded %d, blocked %d, tx_dropped %d; rx_missed +%d, rx_nombuf +%d; "
         "mbufs_in_use idle %d, peak seen %d, after %d"
         % (seconds, sent, blocked_sent, i0_rx, d["in_rx"], before_gnnd, d["out_tx"],
            d["blocked"], d["out_txd"], missed, nombuf, idle, peak, now))
    if before_gnnd and not (missed or nombuf):
        note("the %d frames lost before gnnd are in none of gnnd's counters: the "
             "af_packet PMD of DPDK 22.11 reports neither rx_missed nor rx_nombuf"
             % before_gnnd)
    # Every frame sent is somewhere: the senders' counts are the kernel's.
    check(i1_tx + i1_txd >= sent and i0_rx + i1_txd >= sent,
          "the senders sent %d; the inside namespace end counted %d sent, %d dropped; "
          "the inside host end received %d" % (sent, i1_tx, i1_txd, i0_rx))
    check(0 <= before_gnnd, "gnnd took %d, more than arrived (%d)" % (d["in_rx"], i0_rx))
    check(missed + nombuf <= before_gnnd, "rx_missed %d + rx_nombuf %d > %d lost"
          % (missed, nombuf, before_gnnd))
    check(d["blocked"] <= blocked_sent and (d["blocked"] > 0 or blocked_sent == 0),
          "blocked +%d of %d blocked SYNs sent" % (d["blocked"], blocked_sent))
    check(back, "mbufs_in_use %d, idle was %d" % (now, idle))
    # Load gone: a stream passes whole, with the policy applied.
    before = counters(run)
    cap = big_capture(bed)
    run_id, proc, log = run.start_stream(1.5)
    sent_s, got = run.finish_stream(run_id, proc, log, 1.5, cap)
    after = settle(run)
    stream_verdicts(sent_s, got)
    lost = [seq for seq, _, good in sent_s if good and kind_of(seq) != "blocked"
            and seq not in got]
    check(not lost, "after the load: %d of %d frames lost" % (len(lost), len(sent_s)))
    check_balance(before, after, "after the load")
    if run.sink is None:
        run.sink = bed.start_smtp("out")
    r = bed.send_mail(MAIL_SERVER, "192.0.2.1", timeout=5)
    check(r.delivered and run.sink.find(r.token),
          "after the load the mail server's mail was not delivered (swaks %d)" % r.returncode)


def check_sigterm_under_load(run):
    run.ensure()
    bed = run.bed
    f = bed.filter
    seconds = 5.0
    senders = [run.spawn_sender("_blast", seconds, i) for i in range(2)]
    time.sleep(2.0)
    last = run.stats()
    t0 = time.monotonic()
    f.proc.send_signal(signal.SIGTERM)
    try:
        rc = f.proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        rc = None
    took = time.monotonic() - t0
    if rc is None:
        rc = f.stop()
    f.returncode = rc
    bed.forget(f.proc)
    for p, log in senders:
        run.wait_sender(p, log, 30)
    out = run.log()
    check(rc == 0, "exit %s after SIGTERM (%.1f s):\n%s" % (rc, took, out[-1500:]))
    check(took < 5, "exit took %.1f s" % took)
    check("gnnd: final statistics" in out, "no final statistics:\n%s" % out[-1500:])
    ports = {m.group(2): [int(x) for x in m.group(3, 4, 5, 6)] for m in re.finditer(
        r"port (\S+)\s+(inside|outside)\s+rx (\d+) tx (\d+) missed (\d+) tx_dropped (\d+)", out)}
    tot = re.search(r"total rx (\d+) forwarded (\d+) blocked (\d+) would_block (\d+) "
                    r"allowed (\d+) malformed_dropped (\d+)", out)
    check(set(ports) == {"inside", "outside"} and tot, "summary incomplete:\n%s" % out[-1500:])
    in_rx, _, _, _ = ports["inside"]
    _, out_tx, _, out_txd = ports["outside"]
    t_rx, _, blocked, _, _, malformed = (int(x) for x in tot.groups())
    check(in_rx >= port(last, "inside")["rx_packets"] and t_rx >= last["totals"]["rx_packets"]
          and blocked >= last["totals"]["blocked"],
          "final counters below the last JSON: inside rx %d < %d, total rx %d < %d, "
          "blocked %d < %d" % (in_rx, port(last, "inside")["rx_packets"], t_rx,
                               last["totals"]["rx_packets"], blocked, last["totals"]["blocked"]))
    check(in_rx == out_tx + out_txd + blocked + malformed,
          "final: inside rx %d != outside tx %d + tx_dropped %d + blocked %d + malformed %d"
          % (in_rx, out_tx, out_txd, blocked, malformed))
    note("SIGTERM under load: exit 0 in %.0f ms; final inside rx %d (last JSON %d), "
         "blocked %d" % (took * 1000, in_rx, port(last, "inside")["rx_packets"], blocked))


def named(name, fn):
    fn.__name__ = name
    return fn


def checks():
    out = [measured(flap_check(*f)) for f in FLAPS]
    out += [named("mail after the flaps", check_mail_after_flaps),
            reload_failure_check("deleted", _delete),
            reload_failure_check("replaced by a directory", _make_dir),
            measured(named("SIGHUP storm under traffic", check_sighup_storm)),
            named("smallest mbuf pool", check_smallest_pool),
            measured(named("mbuf pool exhaustion under a blast", check_pool_exhaustion)),
            named("SIGTERM under full load", check_sigterm_under_load)]
    return out


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "_stream":
        return _stream(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
    if len(sys.argv) >= 2 and sys.argv[1] == "_blast":
        return _blast(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
    gnnd, gnnstat = testbed.binaries_from_argv()
    t0 = time.monotonic()
    todo = checks()
    with TestBed(gnnd=gnnd, gnnstat=gnnstat) as bed:
        run = Run(bed)
        try:
            run.start()
        except Exception:
            print("FAIL setup")
            traceback.print_exc(file=sys.stdout)
            print("0 passed, %d failed" % (len(todo) + 1))
            return 1
        passed, failed = testbed.run_checks(bed, todo, run, timed=True)
    print("%d passed, %d failed (%.1f s)" % (passed, failed, time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
