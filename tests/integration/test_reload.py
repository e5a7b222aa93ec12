#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Reloads, bad files, socket abuse, gnnstat and telemetry against a real
gnnd inline on the namespace test bed, all under a steady traffic stream.

usage: test_reload.py PATH/TO/gnnd PATH/TO/gnnstat

One bed, one gnnd (started over a stale socket file), two long-lived helper
processes (this file, run as "_tx" / "_rx"):
  _tx in the inside namespace: a packet socket sending a steady stream of
      marked frames (UDP, TCP/25 from a workstation, a mail server, a
      monitored host, TCP/80, IPv4 and IPv6) at a set rate, and on request
      a "probe": a SYN to port 25 from host H over IPv4 and IPv6, then a
      control frame. gnnd has one worker and one queue, so frames stay in
      order: when the control frame arrives, the SYNs have arrived if they
      were forwarded. One probe gives the verdict for H in a few ms.
  _rx in the outside namespace: counts the marked frames per class and
      reports probe frames as they arrive.
Host H (198.51.100.40, 2001:db8:10::40) is a mail server in config A and a
workstation in config B, so every swap changes its verdict.

The sequence (each step a named check; "N passed, N failed" at the end):
  stale socket replaced at start, socket mode; 50 reloads under traffic
  (SIGHUP and "gnnstat reload" alternating, the file swapped by rename)
  with H's verdict after each, then the no-loss / no-leak accounting; each
  kind of bad file; a SIGHUP burst; socket abuse while traffic flows;
  gnnstat (--json, --prometheus, rates) against the real counters;
  DPDK telemetry; idle clients expired; clean stop; gnnstat without gnnd.
"""

import collections
import grp
import json
import os
import queue
import re
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True  # keep tests/integration free of __pycache__
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pcaprun  # noqa: E402  (the Internet checksum)

# ------------------------------------------------------------ addresses

H4, H6 = "198.51.100.40", "2001:db8:10::40"  # mail server in A, workstation in B
MARK = b"GNNRL"
DST_MAC = bytes.fromhex("02005e009999")  # no one's: the outside kernel ignores it
SRC_MAC = bytes.fromhex("02005e000101")
DST4, DST6 = "192.0.2.1", "2001:db8:99::1"

# Stream classes: (family, source, protocol, dport, verdict in both configs)
CLASSES = {
    "u": (4, "198.18.0.10", "udp", 9, "pass"),          # no member
    "b": (4, "198.51.100.10", "tcp", 25, "blocked"),     # college workstation
    "a": (4, "198.51.100.25", "tcp", 25, "allowed"),     # college mail server
    "w": (4, "203.0.113.10", "tcp", 25, "would_block"),  # library (monitor)
    "h": (4, "198.51.100.10", "tcp", 80, "pass"),        # not a candidate
    "v": (6, "2001:db8:30::10", "udp", 9, "pass"),
    "B": (6, "2001:db8:10::10", "tcp", 25, "blocked"),
    "A": (6, "2001:db8:10::25", "tcp", 25, "allowed"),
}
PATTERN = "uubawhvBAu"  # 10 frames: 2 blocked, 2 allowed, 1 would-block
PROBES = {"H": (4, H4, "tcp", 25), "I": (6, H6, "tcp", 25), "C": (4, "198.18.0.10", "udp", 7)}
RATE = 3000  # packets/s of the steady stream
CLIENT_TIMEOUT = 5  # gnnd --client-timeout: idle control clients are closed after it
SOCKET_GROUP = "daemon"  # gnnd --socket-group: a group every Debian system has
RELOAD_EVERY = 0.05  # s: 50 reloads span 2.5 s of the stream

# ------------------------------------------------------------ frames


def make_frame(family, src, proto, dport, cls, sport=40000):
    """Ethernet/IPv4|IPv6/UDP|TCP-SYN with payload MARK+cls+seq(8), at least 60 bytes.
    Returns (bytearray, offset of the 8-byte sequence number)."""
    payload = MARK + cls.encode() + bytes(8) + bytes(16)
    if proto == "udp":
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
        pnum = 17
    else:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x02, 64240, 0, 0)
        pnum = 6
    body = l4 + payload
    if family == 4:
        hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 1, 0, 64, pnum, 0,
                                    socket.inet_pton(socket.AF_INET, src),
                                    socket.inet_pton(socket.AF_INET, DST4)))
        hdr[10:12] = struct.pack("!H", pcaprun.ip_checksum(bytes(hdr)))
        eth = DST_MAC + SRC_MAC + b"\x08\x00"
    else:
        hdr = struct.pack("!IHBB16s16s", 0x60000000, len(body), pnum, 64,
                          socket.inet_pton(socket.AF_INET6, src),
                          socket.inet_pton(socket.AF_INET6, DST6))
        eth = DST_MAC + SRC_MAC + b"\x86\xdd"
    frame = bytearray(eth + bytes(hdr) + body)
    return frame, frame.index(MARK) + len(MARK) + 1


# ------------------------------------------------------------ helper processes


def helper_tx(iface):
    """Steady stream + probes out of iface. stdin: "rate N", "probe ID",
    "count", "quit". stdout: "ready", JSON counts."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.setsockopt(socket.SOL_SOCKET, 32, 4 << 20)  # SO_SNDBUFFORCE
    s.bind((iface, 0))
    stream = [make_frame(*CLASSES[c][:4], c) for c in PATTERN]
    probes = {c: make_frame(*PROBES[c], c) for c in "HIC"}
    cmds = queue.Queue()

    def read_stdin():
        for line in sys.stdin:
            cmds.put(line.strip())
        cmds.put("quit")

    threading.Thread(target=read_stdin, daemon=True).start()
    sent = collections.Counter()
    rate, n, base_t, base_n = 0, 0, 0.0, 0
    print("ready", flush=True)
    while True:
        while True:
            try:
                cmd = cmds.get(timeout=0.05) if rate == 0 else cmds.get_nowait()
            except queue.Empty:
                break
            words = cmd.split()
            if not words:
                continue
            if words[0] == "quit":
                print(json.dumps({"sent": sent}), flush=True)
                return 0
            if words[0] == "rate":
                rate, base_t, base_n = int(words[1]), time.monotonic(), n
            elif words[0] == "probe":
                pid = int(words[1])
                for c in "HIC":
                    frame, off = probes[c]
                    frame[off:off + 8] = struct.pack("!Q", pid)
                    s.send(frame)
                    sent["probe_" + c] += 1
            elif words[0] == "count":
                print(json.dumps({"sent": sent, "seq": n}), flush=True)
            if rate == 0:
                continue
        if rate == 0:
            continue
        due = base_n + int((time.monotonic() - base_t) * rate)
        if due - n > rate // 10:  # stalled for 100 ms: do not burst to catch up
            base_t, base_n, due = time.monotonic(), n, n + 1
        for _ in range(min(due - n, 64)):
            frame, off = stream[n % len(stream)]
            frame[off:off + 8] = struct.pack("!Q", n)
            s.send(frame)
            sent[PATTERN[n % len(PATTERN)]] += 1
            n += 1
        if n >= due:
            time.sleep(0.001)


def helper_rx(iface):
    """Count marked frames arriving on iface. stdin: "count", "quit".
    stdout: "ready", "P CLS ID" per probe frame, JSON counts."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE: past rmem_max
    s.bind((iface, 0))
    s.setblocking(False)
    got = collections.Counter()
    drops = 0
    buf = b""
    print("ready", flush=True)
    while True:
        r, _, _ = select.select([s, 0], [], [], 0.5)
        if s in r:
            while True:
                try:
                    frame, addr = s.recvfrom(65536)
                except BlockingIOError:
                    break
                if addr[2] == socket.PACKET_OUTGOING:
                    continue
                i = frame.find(MARK)
                if i < 0:
                    got["other"] += 1
                    continue
                cls = chr(frame[i + len(MARK)])
                seq = struct.unpack("!Q", frame[i + len(MARK) + 1:i + len(MARK) + 9])[0]
                got[cls] += 1
                if cls in PROBES:
                    print("P %s %d" % (cls, seq), flush=True)
        if 0 in r:
            data = os.read(0, 4096)
            if not data:
                return 0
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                cmd = line.decode().strip()
                if cmd in ("count", "quit"):
                    st = s.getsockopt(263, 6, 8)  # SOL_PACKET, PACKET_STATISTICS
                    drops += struct.unpack("II", st)[1]
                    print(json.dumps({"got": got, "drops": drops}), flush=True)
                if cmd == "quit":
                    return 0


# ------------------------------------------------------------ test side

GNND = GNNSTAT = None
PYTHON = "/usr/bin/python3"


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


class Peer:
    """A helper process (_tx or _rx) in one side's namespace."""

    def __init__(self, bed, side, mode):
        from testbed import die_with_parent
        self.log = open(bed.workdir / ("%s.log" % mode), "w")
        cmd = ["ip", "netns", "exec", bed.ns(side), PYTHON, "-u", os.path.abspath(__file__),
               mode, bed.ns_if(side)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, bufsize=1,
                                     start_new_session=True, preexec_fn=die_with_parent)
        self.replies = queue.Queue()
        self.probes = set()
        self.cv = threading.Condition()
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        check(self.ready.wait(10), "%s helper did not start" % mode)

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("P "):
                _, cls, pid = line.split()
                with self.cv:
                    self.probes.add((cls, int(pid)))
                    self.cv.notify_all()
            elif line.startswith("{"):
                self.replies.put(json.loads(line))
            elif line.strip() == "ready":
                self.ready.set()

    def cmd(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def query(self, timeout=5):
        self.cmd("count")
        return self.replies.get(timeout=timeout)

    def wait_probe(self, key, timeout):
        with self.cv:
            return self.cv.wait_for(lambda: key in self.probes, timeout)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.cmd("quit")
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()  # by our own Popen: our pid
                self.proc.wait()
        self.log.close()


def call(path, request, timeout=5):
    """One request on a fresh connection to the control socket; the reply as a dict."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        s.sendall(request + b"\n")
        return json.loads(read_line(s))


def read_line(s):
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError("connection closed after %r" % data[:200])
        data += chunk
    return data


def closed_by_peer(s, timeout):
    """True when gnnd has closed its end of s within timeout seconds."""
    p = select.poll()
    p.register(s, select.POLLHUP | select.POLLERR)
    return any(ev & (select.POLLHUP | select.POLLERR) for _, ev in p.poll(timeout * 1000))


class Ctx:
    """What the checks share."""

    def __init__(self, bed):
        self.bed = bed
        self.conf = bed.workdir / "gnn.conf"
        self.sock = bed.workdir / "gnnd.sock"
        self.gnnd = None
        self.tx = self.rx = None
        self.current = None  # "A" or "B": the config gnnd runs
        self.next_probe = 1
        self.probe_counts = collections.Counter()  # "allowed"/"blocked": H probes judged so
        self.idle_client = None
        self.idle_since = None
        self.stuck_client = None
        self.stuck_since = None
        self.start = None  # stats at start, before any traffic
        self.snapshot = None  # stats with the stream stopped (gnnstat checks)
        self.stream_started = self.stream_paused = None
        self.figures = []

    # -- config files --------------------------------------------------

    def conf_text(self, which, edit=None):
        servers = ['"198.51.100.25"', '"2001:db8:10::25"']
        if which == "A":
            servers += ['"%s"' % H4, '"%s"' % H6]
        inside, outside = self.bed.port_names()
        lines = [
            "# gnn test config %s: H is a %s" % (which, "mail server" if which == "A"
                                                 else "workstation"),
            "blocked_ports = [ 25 ];",
            'ports = ( { inside = "%s"; outside = "%s"; } );' % (inside, outside),
            "members = (",
            "  {",
            '    name = "college";',
            '    mode = "enforce";',
            '    networks = [ "198.51.100.0/24", "2001:db8:10::/48" ];',
            "    mail_servers = [ %s ];" % ", ".join(servers),
            "  },",
            "  {",
            '    name = "library";',
            '    mode = "monitor";',
            '    networks = [ "203.0.113.0/24", "2001:db8:20::/48" ];',
            '    mail_servers = [ "203.0.113.25" ];',
            "  }",
            ");",
        ]
        text = "\n".join(lines) + "\n"
        if edit is not None:
            old, new = edit
            check(text.count(old) >= 1, "edit %r not applicable" % old)
            text = text.replace(old, new, 1)
        return text

    def install(self, text):
        """Replace the config atomically (write a temporary file, rename it)."""
        if os.path.isdir(self.conf):
            os.rmdir(self.conf)
        tmp = self.conf.with_suffix(".tmp")
        tmp.write_text(text)
        os.rename(tmp, self.conf)

    # -- gnnd ----------------------------------------------------------

    def stats(self):
        return call(self.sock, b'{"cmd":"stats"}')

    def gnnstat(self, *args, timeout=20):
        return subprocess.run([GNNSTAT, "-s", str(self.sock)] + list(args),
                              capture_output=True, text=True, timeout=timeout)

    def wait_generation(self, gen, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            s = self.stats()
            if s["generation"] >= gen:
                return s
            check(time.monotonic() < deadline,
                  "generation %d not reached in %ss (at %d)" % (gen, timeout, s["generation"]))
            time.sleep(0.002)

    def probe(self, timeout=3):
        """H's verdict now: "pass" or "drop" (the same for IPv4 and IPv6)."""
        pid = self.next_probe
        self.next_probe += 1
        self.tx.cmd("probe %d" % pid)
        check(self.rx.wait_probe(("C", pid), timeout),
              "probe %d: control frame did not arrive in %ss" % (pid, timeout))
        v4 = ("H", pid) in self.rx.probes
        v6 = ("I", pid) in self.rx.probes
        check(v4 == v6, "probe %d: IPv4 %s but IPv6 %s" % (pid, v4, v6))
        self.probe_counts["allowed" if v4 else "blocked"] += 2
        return "pass" if v4 else "drop"

    def expect_verdict(self, which, what=""):
        want = "pass" if which == "A" else "drop"
        got = self.probe()
        check(got == want, "%sH under config %s: %s, expected %s" % (what, which, got, want))

    def flowing(self, what, timeout=2.0):
        """The stream keeps arriving: the receiver's count grows."""
        before = sum(self.rx.query()["got"].values())
        deadline = time.monotonic() + timeout
        while True:
            time.sleep(0.1)
            now = sum(self.rx.query()["got"].values())
            if now > before:
                return
            check(time.monotonic() < deadline, "traffic stopped flowing: %s" % what)

    def pause_and_drain(self):
        """Stop the stream; wait until the receiver's counts stand still.
        Returns (sent, got)."""
        self.tx.cmd("rate 0")
        sent = self.tx.query()["sent"]
        self.stream_paused = time.monotonic()
        last, stable_since = None, time.monotonic()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = self.rx.query()
            if got != last:
                last, stable_since = got, time.monotonic()
            elif time.monotonic() - stable_since > 0.4:
                break
            time.sleep(0.05)
        return sent, last

    def expected_counters(self, sent):
        """Member counters the traffic sent since start must have produced."""
        blocked = sent.get("b", 0) + sent.get("B", 0) + self.probe_counts["blocked"]
        allowed = sent.get("a", 0) + sent.get("A", 0) + self.probe_counts["allowed"]
        return {"college": {"allowed": allowed, "blocked": blocked, "would_block": 0},
                "library": {"allowed": 0, "blocked": 0, "would_block": sent.get("w", 0)}}

    def check_delivery(self, sent, got):
        """Every frame the policy passes arrived, none it drops did."""
        check(got["drops"] == 0, "the receiver's socket dropped %d frames" % got["drops"])
        bad = []
        for cls, (_, _, _, _, verdict) in CLASSES.items():
            want = 0 if verdict == "blocked" else sent.get(cls, 0)
            if got["got"].get(cls, 0) != want:
                bad.append("%s: sent %d, arrived %d, expected %d" % (
                    cls, sent.get(cls, 0), got["got"].get(cls, 0), want))
        check(got["got"].get("C", 0) == sent.get("probe_C", 0),
              "control probes: sent %d, arrived %d" % (sent.get("probe_C", 0),
                                                       got["got"].get("C", 0)))
        check(not bad, "stream delivery: " + "; ".join(bad))


def port(stats, role):
    return next(p for p in stats["ports"] if p["role"] == role)


# ------------------------------------------------------------ checks

def test_stale_socket_replaced(ctx):
    """A socket file left by a dead process is removed; gnnd starts over it."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(ctx.sock))
    s.close()  # no unlink: the file stays, nobody listens
    check(stat.S_ISSOCK(os.lstat(ctx.sock).st_mode), "stale socket not made")
    ctx.install(ctx.conf_text("A"))
    ctx.current = "A"
    t0 = time.monotonic()
    ctx.gnnd = ctx.bed.start_gnnd(ctx.conf, ctx.sock,
                                  args=["--client-timeout", str(CLIENT_TIMEOUT),
                                        "--socket-group", SOCKET_GROUP])
    ctx.figures.append("gnnd ready in %.1f s" % (time.monotonic() - t0))
    with open("/proc/%d/comm" % ctx.gnnd.pid) as f:
        check(f.read().strip() == "gnnd", "the bed's filter pid is not gnnd's")
    check("removing stale socket %s" % ctx.sock in ctx.gnnd.output(),
          "no 'removing stale socket' in the log")
    s = ctx.stats()
    check(s["generation"] == 1 and s["reloads"] == 0, "fresh gnnd: %r" % s["generation"])
    ctx.start = s


def test_socket_mode(ctx):
    st = os.lstat(ctx.sock)
    check(stat.S_ISSOCK(st.st_mode), "not a socket")
    check(stat.S_IMODE(st.st_mode) == 0o660,
          "mode %s, expected srw-rw----" % stat.filemode(st.st_mode))
    check(st.st_gid == grp.getgrnam(SOCKET_GROUP).gr_gid,
          "socket group %d, expected %s" % (st.st_gid, SOCKET_GROUP))


def test_start_stream(ctx):
    ctx.rx = Peer(ctx.bed, "out", "_rx")
    ctx.tx = Peer(ctx.bed, "in", "_tx")
    ctx.expect_verdict("A", "before traffic: ")
    ctx.tx.cmd("rate %d" % RATE)
    ctx.stream_started = time.monotonic()
    ctx.flowing("stream start")


def test_50_reloads_under_traffic(ctx):
    """SIGHUP and gnnstat reload alternating, A and B alternating; H's verdict after each."""
    gen = ctx.stats()["generation"]
    times = {"sighup": [], "gnnstat": []}
    t_all = time.monotonic()
    for i in range(50):
        nxt = "B" if ctx.current == "A" else "A"
        ctx.install(ctx.conf_text(nxt))
        t0 = time.monotonic()
        if i % 2 == 0:
            os.kill(ctx.gnnd.pid, signal.SIGHUP)
            ctx.wait_generation(gen + 1)
            times["sighup"].append(time.monotonic() - t0)
        else:
            r = ctx.gnnstat("reload")
            times["gnnstat"].append(time.monotonic() - t0)
            check(r.returncode == 0, "reload %d: exit %d: %s" % (i + 1, r.returncode, r.stderr))
            check(r.stdout.strip() == "reloaded: generation %d" % (gen + 1),
                  "reload %d: %r" % (i + 1, r.stdout))
        gen += 1
        ctx.current = nxt
        ctx.expect_verdict(nxt, "after reload %d (generation %d): " % (i + 1, gen))
        # Spread the reloads over the stream: one every RELOAD_EVERY seconds at most.
        time.sleep(max(0.0, t_all + (i + 1) * RELOAD_EVERY - time.monotonic()))
    s = ctx.stats()
    check(s["generation"] == 51, "generation %d, expected 51" % s["generation"])
    check(s["reloads"] == 50, "reloads %d, expected 50" % s["reloads"])
    check(s["reload_failures"] == 0 and s["last_error"] is None,
          "failures %d, last_error %r" % (s["reload_failures"], s["last_error"]))
    ctx.figures.append(
        "50 reloads + verdict probes in %.2f s; SIGHUP->generation visible median %.1f ms, "
        "gnnstat reload median %.1f ms" % (
            time.monotonic() - t_all, 1000 * sorted(times["sighup"])[12],
            1000 * sorted(times["gnnstat"])[12]))


def test_no_loss_no_leak(ctx):
    """After the reloads, traffic stopped: every frame accounted for, no mbuf held."""
    sent, got = ctx.pause_and_drain()
    n = sum(v for k, v in sent.items() if not k.startswith("probe_"))
    ctx.figures.append("stream during the reloads: %d frames in %.1f s, %.0f pps (nominal %d)" % (
        n, ctx.stream_paused - ctx.stream_started,
        n / (ctx.stream_paused - ctx.stream_started), RATE))
    ctx.check_delivery(sent, got)
    s = ctx.stats()
    ins, out = port(s, "inside"), port(s, "outside")
    t = s["totals"]
    check(ins["rx_packets"] == out["tx_packets"] + t["blocked"] + t["malformed_dropped"] +
          out["tx_dropped"],
          "inside rx %d != outside tx %d + blocked %d + malformed_dropped %d + tx_dropped %d" % (
              ins["rx_packets"], out["tx_packets"], t["blocked"], t["malformed_dropped"],
              out["tx_dropped"]))
    check(out["rx_packets"] == ins["tx_packets"] + ins["tx_dropped"], "outside->inside")
    for role in ("inside", "outside"):
        p0, p1 = port(ctx.start, role), port(s, role)
        check(p1["rx_missed"] == p0["rx_missed"],
              "%s rx_missed %d -> %d" % (role, p0["rx_missed"], p1["rx_missed"]))
        check(p1["tx_dropped"] == 0, "%s tx_dropped %d" % (role, p1["tx_dropped"]))
        check(p1.get("rx_nombuf", 0) == 0, "%s rx_nombuf %d" % (role, p1["rx_nombuf"]))
    check(t["malformed_dropped"] == 0, "malformed_dropped %d" % t["malformed_dropped"])
    exp = ctx.expected_counters(sent)
    for m in s["members"]:
        for k, v in exp[m["name"]].items():
            check(m[k] == v, "member %s %s = %d, expected %d" % (m["name"], k, m[k], v))
    # mbufs: back to the start value once nothing is in flight
    deadline = time.monotonic() + 3
    while ctx.stats()["mbufs_in_use"] != ctx.start["mbufs_in_use"] and \
            time.monotonic() < deadline:
        time.sleep(0.1)
    check(ctx.stats()["mbufs_in_use"] == ctx.start["mbufs_in_use"],
          "mbufs_in_use %d, at start %d" % (ctx.stats()["mbufs_in_use"],
                                            ctx.start["mbufs_in_use"]))
    ctx.figures.append("inside rx %d, outside tx %d, blocked %d, mbufs_in_use %d (start %d)" % (
        ins["rx_packets"], out["tx_packets"], t["blocked"], s["mbufs_in_use"],
        ctx.start["mbufs_in_use"]))
    ctx.tx.cmd("rate %d" % RATE)


BAD_FILES = [
    # name, edit (old, new) of the good text, or "missing"/"directory"; reason (regex).
    # The error's line is the line of the edit ("ports_changed": the ports line).
    ("syntax_error", ('mode = "monitor";', 'mode = = "monitor";'), r"syntax error"),
    ("bad_cidr", ("203.0.113.0/24", "203.0.113.0/33"), r"bad network '203\.0\.113\.0/33'"),
    ("host_bits", ("203.0.113.0/24", "203.0.113.1/24"),
     r"network 203\.0\.113\.1/24 has host bits set"),
    ("unknown_mode", ('"monitor"', '"monitoring"'), r"unknown mode 'monitoring'"),
    ("duplicate_member", ('name = "library";', 'name = "college";'),
     r"duplicate member name 'college'"),
    ("ports_changed", "swap", r"ports differ from the running ones; restart gnnd"),
    ("missing_file", "missing", r"cannot open: No such file or directory"),
    # root reads a chmod 000 file: a directory in its place is what root cannot read
    ("unreadable_file", "directory", r"cannot open: Is a directory"),
]


def make_bad_file_test(name, edit, reason):
    def test(ctx):
        good = "B" if ctx.current == "A" else "A"
        before = ctx.stats()
        path = str(ctx.conf)
        line = None
        if edit == "missing":
            os.rename(ctx.conf, ctx.conf.with_suffix(".away"))
        elif edit == "directory":
            os.unlink(ctx.conf)
            os.mkdir(ctx.conf)
        else:
            if edit == "swap":  # both ports exist, the pair is not the running one
                inside, outside = ctx.bed.port_names()
                ed = ('inside = "%s"; outside = "%s"' % (inside, outside),
                      'inside = "%s"; outside = "%s"' % (outside, inside))
            else:
                ed = edit
            plain = ctx.conf_text(good)
            line = plain[:plain.index(ed[0])].count("\n") + 1
            ctx.install(ctx.conf_text(good, ed))
        r = ctx.gnnstat("reload")
        after = ctx.stats()
        check(r.returncode == 1, "gnnstat reload exit %d: %s%s" % (r.returncode, r.stdout,
                                                                  r.stderr))
        where = re.escape(path) + (":%d: " % line if line else ": ")
        pat = "^" + where + ".*" + reason
        err = after["last_error"]
        check(err is not None and re.search(pat, err), "last_error %r !~ %r" % (err, pat))
        check(err in r.stderr.splitlines(), "gnnstat stderr lacks %r: %r" % (err, r.stderr))
        check(after["reload_failures"] == before["reload_failures"] + 1,
              "reload_failures %d -> %d" % (before["reload_failures"],
                                            after["reload_failures"]))
        check(after["generation"] == before["generation"], "generation changed")
        check(after["reloads"] == before["reloads"], "reloads changed")
        ctx.expect_verdict(ctx.current, "after the refused %s: " % name)
        # a good reload
        if edit == "missing":
            os.unlink(ctx.conf.with_suffix(".away"))
        ctx.install(ctx.conf_text(good))
        r = ctx.gnnstat("reload")
        check(r.returncode == 0, "good reload: exit %d: %s" % (r.returncode, r.stderr))
        s = ctx.stats()
        check(s["generation"] == before["generation"] + 1, "good reload: generation")
        check(s["last_error"] is None, "good reload: last_error %r" % s["last_error"])
        check(s["reload_failures"] == after["reload_failures"], "good reload: failures")
        ctx.current = good
        ctx.expect_verdict(good, "after the good reload: ")
        ctx.flowing(name)
    test.__name__ = "test_bad_file_" + name
    return test


def test_sighup_bad_file(ctx):
    """A bad file by SIGHUP: counted, reported, rules stay."""
    before = ctx.stats()
    plain = ctx.conf_text(ctx.current)
    line = plain[:plain.index("198.51.100.0/24")].count("\n") + 1
    ctx.install(ctx.conf_text("B" if ctx.current == "A" else "A",
                              ("198.51.100.0/24", "198.51.100.0/24x")))
    os.kill(ctx.gnnd.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while ctx.stats()["reload_failures"] == before["reload_failures"]:
        check(time.monotonic() < deadline, "SIGHUP with a bad file: no failure counted")
        time.sleep(0.01)
    s = ctx.stats()
    check(s["generation"] == before["generation"], "generation changed")
    check(re.match(re.escape(str(ctx.conf)) + ":%d: " % line, s["last_error"] or ""),
          "last_error %r" % s["last_error"])
    ctx.expect_verdict(ctx.current, "after the refused SIGHUP: ")
    ctx.install(ctx.conf_text(ctx.current))
    check(ctx.gnnstat("reload").returncode == 0, "good reload")
    check(ctx.stats()["last_error"] is None, "last_error not cleared")


def test_sighup_burst(ctx):
    """100 SIGHUPs as fast as possible make few reloads, and no failure."""
    nxt = "B" if ctx.current == "A" else "A"
    ctx.install(ctx.conf_text(nxt))
    before = ctx.stats()
    t0 = time.monotonic()
    for _ in range(100):
        os.kill(ctx.gnnd.pid, signal.SIGHUP)
    burst = time.monotonic() - t0
    last, stable_since = None, time.monotonic()
    while time.monotonic() - stable_since < 1.0:
        s = ctx.stats()
        if s["reloads"] != last:
            last, stable_since = s["reloads"], time.monotonic()
        time.sleep(0.05)
    check(ctx.gnnd.alive(), "gnnd died")
    s = ctx.stats()
    n = s["reloads"] - before["reloads"]
    ctx.figures.append("100 SIGHUPs in %.1f ms -> %d reload(s)" % (burst * 1000, n))
    check(1 <= n <= 20, "%d reloads for a burst of 100 SIGHUPs" % n)
    check(s["generation"] == before["generation"] + n, "generation")
    check(s["reload_failures"] == before["reload_failures"] and s["last_error"] is None,
          "a failure: %r" % s["last_error"])
    ctx.current = nxt
    ctx.expect_verdict(nxt, "after the burst: ")
    ctx.flowing("SIGHUP burst")


def test_socket_garbage(ctx):
    """Binary, bad JSON, unknown commands: an {"error": ...} each; the connection lives on."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(ctx.sock))
        for junk in (b"\x00\x01\xfe\xff\x80binary\x7f", b'{"cmd": "stats"', b"[1, 2, 3]",
                     b'{"cmd": "frobnicate"}', b"frobnicate", b'{"cmd": 7}', b"\xc3\x28",
                     b'{"nocmd": true}'):
            s.sendall(junk + b"\n")
            reply = json.loads(read_line(s))
            check(isinstance(reply, dict) and isinstance(reply.get("error"), str) and
                  set(reply) == {"error"}, "%r -> %r" % (junk, reply))
        s.sendall(b"stats\n")
        check("generation" in json.loads(read_line(s)), "stats after garbage")
    ctx.flowing("garbage")


def test_socket_huge_request(ctx):
    """1 MiB without a newline: an error reply and/or close; gnnd answers others."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(ctx.sock))
    result = {}

    def send_all():
        try:
            s.sendall(b"x" * (1 << 20))
            result["sent"] = True
        except OSError as e:
            result["error"] = e

    t = threading.Thread(target=send_all, daemon=True)
    t.start()
    s.settimeout(5)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout) as e:
        check(not isinstance(e, socket.timeout), "no reply and no close within 5 s")
    t.join(5)
    s.close()
    if data:
        reply = json.loads(data.split(b"\n")[0])
        check("error" in reply, "reply %r" % reply)
    ctx.figures.append("1 MiB request: %s, then closed" % (
        "reply %s" % data.strip().decode() if data else "no reply"))
    check(not data or data.count(b"\n") == 1, "one reply at most: %r" % data[:200])
    check(not result.get("sent"), "gnnd swallowed 1 MiB without a newline")
    check("generation" in ctx.stats(), "gnnd does not answer after the 1 MiB request")
    ctx.flowing("1 MiB request")


def test_socket_100_clients(ctx):
    """100 clients at once (threads released together), each gets a valid stats reply.
    A blocking connect waits while the listen backlog is full, as gnnstat retries."""
    n = 100
    barrier = threading.Barrier(n)
    replies, errors = [None] * n, []

    def client(i):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
                barrier.wait(10)
                c.connect(str(ctx.sock))
                c.settimeout(10)
                c.sendall(b'{"cmd":"stats"}\n')
                replies[i] = json.loads(read_line(c))
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append("client %d: %r" % (i, e))

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    elapsed = time.monotonic() - t0
    check(not errors, "; ".join(errors[:5]))
    bad = [r for r in replies if not (isinstance(r, dict) and "totals" in r and "members" in r)]
    check(not bad, "%d bad replies, e.g. %r" % (len(bad), str(bad[0])[:200] if bad else ""))
    check(len({r["generation"] for r in replies}) == 1, "generations differ")
    ctx.figures.append("100 concurrent stats clients served in %.0f ms" % (1000 * elapsed))
    ctx.flowing("100 clients")


def test_socket_client_never_reads(ctx):
    """A client that floods requests and never reads blocks nobody."""
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(str(ctx.sock))
    c.setblocking(False)
    n, deadline = 0, time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            c.send(b'{"cmd":"stats"}\n')
            n += 1
        except BlockingIOError:
            time.sleep(0.05)  # let gnnd answer and stall on the unread replies
            try:
                c.send(b'{"cmd":"stats"}\n')
                n += 1
            except BlockingIOError:
                break
    check(time.monotonic() < deadline, "the socket never filled up (%d requests)" % n)
    ctx.stuck_client, ctx.stuck_since = c, time.monotonic()
    worst = 0
    for _ in range(10):
        t0 = time.monotonic()
        check("generation" in call(ctx.sock, b"stats", timeout=2), "stats while stuck")
        worst = max(worst, time.monotonic() - t0)
    r = ctx.gnnstat("--json")
    check(r.returncode == 0, "gnnstat while a client is stuck: %s" % r.stderr)
    ctx.figures.append("stuck client: %d requests unread; others answered in <= %.1f ms" %
                       (n, worst * 1000))
    ctx.flowing("client that never reads")


def test_second_gnnd_refused(ctx):
    """A second gnnd on the same socket path exits with a clear message; the first goes on."""
    eal = [a for a in ctx.bed.eal_args() if not a.startswith("--file-prefix")]
    prefix2 = ctx.bed.prefix + "x"
    cmd = ctx.bed.wire_cmd() + [GNND] + eal + ["--file-prefix=%s" % prefix2, "--",
                                                "-f", str(ctx.conf), "-s", str(ctx.sock)]
    try:
        p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree("/run/dpdk/%s" % prefix2, ignore_errors=True)
    out = p.stdout + p.stderr
    check(p.returncode != 0, "second gnnd exit 0")
    check("another gnnd is serving %s" % ctx.sock in out, "message: %s" % out[-600:])
    check(ctx.gnnd.alive(), "the first gnnd died")
    check(stat.S_ISSOCK(os.lstat(ctx.sock).st_mode), "socket file gone")
    check("generation" in ctx.stats(), "the first gnnd does not answer")
    ctx.expect_verdict(ctx.current, "after the second gnnd: ")
    ctx.flowing("second gnnd")


def test_gnnstat_rates(ctx):
    """Plain gnnstat -i 0.5 -n 2 (not a TTY): per-member rates near the stream's."""
    from test_gnnstat import rows
    r = ctx.gnnstat("-i", "0.5", "-n", "2")
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    check("\033" not in r.stdout, "escape sequences off a terminal")
    check(r.stdout.count("gnnd generation") == 2, "two blocks: %r" % r.stdout)
    blocks = [b for b in re.split(r"(?m)^(?=gnnd generation)", r.stdout) if b.strip()]
    check(len(blocks) == 2, "blocks %r" % blocks)
    for block in blocks:
        t = rows(block)
        check("college" in t and "library" in t, "no member rows in %r" % block)
        college, library = t["college"], t["library"]
        check(college[0] == "enforce" and library[0] == "monitor",
              "modes %r %r" % (college, library))
        # ALLOWED/s BLOCKED/s WOULD_BLK/s: per 10 stream frames 2, 2 and 1 (no probes now)
        want = {"college": (0.2 * RATE, 0.2 * RATE, 0.0), "library": (0.0, 0.0, 0.1 * RATE)}
        for name, row in (("college", college), ("library", library)):
            rates = [float(x) for x in row[1:4]]
            for got, exp in zip(rates, want[name]):
                check(abs(got - exp) <= 0.5 * exp + 1, "%s rates %r, expected about %r:\n%s" % (
                    name, rates, want[name], block))


def test_gnnstat_json_counters(ctx):
    """gnnstat --json (traffic stopped): fields of docs/design.md, numbers = traffic sent."""
    sent, got = ctx.pause_and_drain()
    ctx.check_delivery(sent, got)
    r = ctx.gnnstat("--json")
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    s = json.loads(r.stdout)
    for k in ("generation", "reloads", "reload_failures", "last_error", "ports", "totals",
              "members", "mbufs_in_use"):
        check(k in s, "missing %s" % k)
    for p in s["ports"]:
        for k in ("name", "role", "rx_packets", "tx_packets", "rx_missed", "tx_dropped"):
            check(k in p, "port lacks %s" % k)
    check([p["name"] for p in s["ports"]] == list(ctx.bed.port_names()), "port names")
    t = s["totals"]
    exp = ctx.expected_counters(sent)
    check({m["name"]: m["mode"] for m in s["members"]} == {"college": "enforce",
                                                          "library": "monitor"}, "members")
    for m in s["members"]:
        for k, v in exp[m["name"]].items():
            check(m[k] == v, "member %s %s = %d, expected %d" % (m["name"], k, m[k], v))
    check(t["blocked"] == exp["college"]["blocked"], "totals blocked")
    check(t["allowed"] == exp["college"]["allowed"], "totals allowed")
    check(t["would_block"] == exp["library"]["would_block"], "totals would_block")
    ins, out = port(s, "inside"), port(s, "outside")
    n_sent = sum(sent.values())
    n_got = sum(v for k, v in got["got"].items() if k != "other")
    check(ins["rx_packets"] >= n_sent, "inside rx %d < %d sent" % (ins["rx_packets"], n_sent))
    check(out["tx_packets"] >= n_got, "outside tx %d < %d arrived" % (out["tx_packets"], n_got))
    check(ins["rx_packets"] - n_sent == out["tx_packets"] - n_got,
          "inside frames not sent by the test (%d) != outside frames not counted (%d)" % (
              ins["rx_packets"] - n_sent, out["tx_packets"] - n_got))
    check(t["rx_packets"] == sum(p["rx_packets"] for p in s["ports"]), "totals rx")
    check(t["forwarded"] == sum(p["tx_packets"] for p in s["ports"]), "totals forwarded")
    check(t["rx_packets"] == t["forwarded"] + t["blocked"] + t["malformed_dropped"] +
          t["tx_dropped"], "totals do not add up: %r" % t)
    ctx.snapshot = s


def test_gnnstat_prometheus(ctx):
    """--prometheus against the real gnnd, by test_gnnstat.py's strict parser."""
    from test_gnnstat import parse_prometheus, sample
    r = ctx.gnnstat("--prometheus")
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    smp = parse_prometheus(r.stdout)
    s = ctx.snapshot  # traffic is stopped: the counters stand still
    check(sample(smp, "gnn_generation") == s["generation"], "generation")
    check(sample(smp, "gnn_reloads_total") == s["reloads"], "reloads")
    check(sample(smp, "gnn_reload_failures_total") == s["reload_failures"], "failures")
    check(sample(smp, "gnn_last_error") == 0, "last error flag")
    check(sample(smp, "gnn_blocked_total") == s["totals"]["blocked"], "blocked")
    for p in s["ports"]:
        check(sample(smp, "gnn_port_rx_packets_total", port=p["name"], role=p["role"]) ==
              p["rx_packets"], "port rx %s" % p["name"])
    for m in s["members"]:
        for k in ("allowed", "blocked", "would_block"):
            check(sample(smp, "gnn_member_%s_total" % k, member=m["name"]) == m[k],
                  "member %s %s" % (m["name"], k))


def test_telemetry(ctx):
    """dpdk-telemetry.py -f PREFIX: /gnn/totals and /gnn/members,<name> = the JSON numbers."""
    prefix = ctx.bed.prefix
    sock = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
    check(os.path.exists(sock), "no telemetry socket %s" % sock)
    cmds = ["/gnn/totals", "/gnn/members,college", "/gnn/members,library",
            "/gnn/ports,%s" % ctx.bed.port_names()[0]]
    p = subprocess.run([PYTHON, "/usr/bin/dpdk-telemetry.py", "-f", prefix],
                       input="\n".join(cmds) + "\n", capture_output=True, text=True, timeout=20)
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    replies = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    check(len(replies) == len(cmds), "replies: %r" % p.stdout)
    s = ctx.stats()
    check(s["totals"] == ctx.snapshot["totals"], "counters moved while traffic is stopped")
    tot = replies[0]["/gnn/totals"]
    for k, v in s["totals"].items():
        if isinstance(v, int):
            check(tot.get(k) == v, "/gnn/totals %s = %r, JSON %r" % (k, tot.get(k), v))
    for k in ("generation", "reloads", "reload_failures"):
        check(tot.get(k) == s[k], "/gnn/totals %s = %r, JSON %r" % (k, tot.get(k), s[k]))
    for i, name in ((1, "college"), (2, "library")):
        tm = replies[i]["/gnn/members"]
        m = next(m for m in s["members"] if m["name"] == name)
        check(tm == m, "/gnn/members,%s = %r, JSON %r" % (name, tm, m))
    tp = replies[3]["/gnn/ports"]
    p0 = port(s, "inside")
    for k in ("rx_packets", "tx_packets", "rx_missed", "tx_dropped"):
        check(tp.get(k) == p0[k], "/gnn/ports %s = %r, JSON %r" % (k, tp.get(k), p0[k]))
    ctx.tx.cmd("rate %d" % RATE)
    ctx.flowing("after telemetry")


def test_idle_clients_closed(ctx):
    """An idle client is closed after the timeout (not before), so is the one that never read."""
    ctx.idle_client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ctx.idle_client.connect(str(ctx.sock))
    ctx.idle_since = time.monotonic()
    early = ctx.idle_since + CLIENT_TIMEOUT - 0.5 - time.monotonic()
    check(early <= 0 or not closed_by_peer(ctx.idle_client, early),
          "idle client closed after %.1f s, before the %d s timeout" % (
              time.monotonic() - ctx.idle_since, CLIENT_TIMEOUT))
    check(closed_by_peer(ctx.idle_client, max(0.0, ctx.idle_since + CLIENT_TIMEOUT + 4 -
                                              time.monotonic())),
          "idle client still open after %.0f s" % (time.monotonic() - ctx.idle_since))
    closed_at = time.monotonic() - ctx.idle_since
    check(ctx.idle_client.recv(16) == b"", "idle client: not EOF")
    if ctx.stuck_client is not None:
        check(closed_by_peer(ctx.stuck_client, max(0.0, ctx.stuck_since + CLIENT_TIMEOUT + 4 -
                                                    time.monotonic())),
              "stuck client still open after %.0f s" % (time.monotonic() - ctx.stuck_since))
    ctx.figures.append("idle client closed %.1f s after connecting" % closed_at)
    check("generation" in ctx.stats(), "gnnd answers")
    ctx.flowing("after the idle timeouts")


def test_final_accounting(ctx):
    """Whole run: no frame lost, none leaked, gnnd stops cleanly."""
    sent, got = ctx.pause_and_drain()
    ctx.check_delivery(sent, got)
    s = ctx.stats()
    ins, out = port(s, "inside"), port(s, "outside")
    t = s["totals"]
    check(ins["rx_packets"] == out["tx_packets"] + t["blocked"] + t["malformed_dropped"] +
          out["tx_dropped"], "inside rx != outside tx + drops")
    for role in ("inside", "outside"):
        check(port(s, role)["rx_missed"] == port(ctx.start, role)["rx_missed"],
              "%s rx_missed" % role)
    check(s["mbufs_in_use"] == ctx.start["mbufs_in_use"], "mbufs_in_use %d, start %d" % (
        s["mbufs_in_use"], ctx.start["mbufs_in_use"]))
    n = sum(v for k, v in sent.items() if not k.startswith("probe_"))
    ctx.figures.append("whole run: %d stream frames, %d probes, %d reloads, %d failures" % (
        n, sent.get("probe_C", 0), s["reloads"], s["reload_failures"]))
    ctx.tx.stop()
    ctx.rx.stop()
    rc = ctx.bed.stop_filter()
    check(rc == 0, "gnnd exit %s" % rc)
    check(not os.path.exists(ctx.sock), "socket file left after a clean stop")


def test_gnnstat_without_gnnd(ctx):
    for args in (["--json"], ["reload"], []):
        r = ctx.gnnstat(*args)
        check(r.returncode == 2, "%r: exit %d" % (args, r.returncode))
        check("is gnnd running" in r.stderr, "%r: stderr %r" % (args, r.stderr))


TESTS = [test_stale_socket_replaced, test_socket_mode, test_start_stream,
         test_50_reloads_under_traffic, test_no_loss_no_leak] + \
    [make_bad_file_test(*b) for b in BAD_FILES] + \
    [test_sighup_bad_file, test_sighup_burst, test_socket_garbage, test_socket_huge_request,
     test_socket_100_clients, test_socket_client_never_reads, test_second_gnnd_refused,
     test_gnnstat_rates, test_gnnstat_json_counters, test_gnnstat_prometheus, test_telemetry,
     test_idle_clients_closed, test_final_accounting, test_gnnstat_without_gnnd]


def main():
    global GNND, GNNSTAT
    if len(sys.argv) >= 3 and sys.argv[1] in ("_tx", "_rx"):
        return helper_tx(sys.argv[2]) if sys.argv[1] == "_tx" else helper_rx(sys.argv[2])
    if len(sys.argv) != 3:
        print("usage: %s PATH/TO/gnnd PATH/TO/gnnstat" % sys.argv[0], file=sys.stderr)
        return 2
    GNND, GNNSTAT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    from testbed import TestBed

    passed = failed = 0
    t_start = time.monotonic()
    # gnnd's EAL under the bed's own --file-prefix, so that dpdk-telemetry.py
    # -f PREFIX finds it (the bed removes /run/dpdk/PREFIX).
    with TestBed(gnnd=GNND, gnnstat=GNNSTAT) as bed:
        ctx = Ctx(bed)
        try:
            for test in TESTS:
                t0 = time.monotonic()
                try:
                    test(ctx)
                    print("ok   %-40s %6.1f s" % (test.__name__, time.monotonic() - t0),
                          flush=True)
                    passed += 1
                except Exception:
                    print("FAIL %-40s %6.1f s" % (test.__name__, time.monotonic() - t0),
                          flush=True)
                    traceback.print_exc(file=sys.stdout)
                    failed += 1
                    if ctx.gnnd is None or (ctx.gnnd.returncode is None and
                                            not ctx.gnnd.alive()):
                        print("gnnd is not running; log tail:\n%s" % (
                            ctx.gnnd.output()[-2000:] if ctx.gnnd else ""))
                        break
        finally:
            for peer in (ctx.tx, ctx.rx):
                if peer is not None:
                    peer.stop()
            for c in (ctx.idle_client, ctx.stuck_client):
                if c is not None:
                    c.close()
    for f in ctx.figures:
        print("# " + f)
    print("# total %.1f s" % (time.monotonic() - t_start))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
