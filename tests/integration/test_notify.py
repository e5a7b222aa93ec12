#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""gnnd as systemd runs it in its Type=notify unit, on the namespace test bed.

usage: test_notify.py GNND GNNSTAT GNND_TEST_HOOKS GNND_SERVICE notify|no-notify

The test plays systemd's part: NOTIFY_SOCKET names a datagram socket it
listens on (with SO_PASSCRED, so each message names its sender),
WATCHDOG_USEC asks for a 1 s watchdog, JOURNAL_STREAM names gnnd's stderr.
Three runs of gnnd, one check per line, "N passed, N failed" at the end:

  1. gnnd: READY=1 comes once, from gnnd's own pid, and when it comes the
     control socket accepts at once and frames cross the bed; its STATUS=
     names generation and members. WATCHDOG=1 comes again and again, never
     a watchdog interval apart. A reload sends RELOADING=1 then READY=1
     (generation 2); a refused file the same, with the failure in STATUS=.
     Log lines carry "<N>" syslog priorities (info for "ready", err for the
     refused reload). SIGTERM: STOPPING=1, exit 0.
  2. gnnd-test-hooks with GNN_TEST_STALL_WORKER, two workers: WATCHDOG=1
     comes until the first worker stalls, then never again while the other
     worker still loops; gnnd logs the stalled lcore and says it in STATUS=;
     SIGTERM still stops it with exit 0. Without JOURNAL_STREAM the log has
     no priority prefixes.
  3. gnnd under the unit's CapabilityBoundingSet= and NoNewPrivileges=
     (setpriv), with --socket-group (it needs CAP_CHOWN): ready, forwarding,
     the socket's group set, exit 0 on SIGTERM.

With "no-notify" (gnnd built without libsystemd) run 1 checks that gnnd
starts and stops as usual and sends nothing at all.
"""

import contextlib
import grp
import logging
import os
import re
import shlex
import signal
import socket
import struct
import sys
import threading
import time
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
from testbed import Failure, TestBed, check, tail  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402

WATCHDOG_USEC = 1_000_000
STALL_AFTER = 2.0  # seconds after ready, GNN_TEST_STALL_WORKER
SOCKET_GROUP = "daemon"  # a group every Debian system has

MEMBERS_A = [{"name": "example-college", "mode": "enforce", "networks": ["198.51.100.0/24"],
              "mail_servers": ["198.51.100.25"]}]
MEMBERS_B = MEMBERS_A + [{"name": "example-library", "mode": "monitor",
                          "networks": ["203.0.113.0/24"]}]


class NotifyListener:
    """The systemd side of NOTIFY_SOCKET: every datagram, with its time and
    sender pid. on_ready(msg) runs in the receiving thread the moment a
    READY=1 arrives."""

    def __init__(self, path, on_ready=None):
        self.path = str(path)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages = []  # (monotonic time, pid, {key: value})
        self.on_ready = on_ready
        self.ready_results = []
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        ucred = struct.calcsize("3i")
        while not self.stopping:
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(ucred))
            except socket.timeout:
                continue
            except OSError:
                return
            t = time.monotonic()
            pid = None
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", cdata[:ucred])[0]
            fields = dict(line.split("=", 1) for line in data.decode().splitlines()
                          if "=" in line)
            if fields.get("READY") == "1" and self.on_ready is not None:
                self.ready_results.append(self.on_ready(fields))
            with self.lock:
                self.messages.append((t, pid, fields))

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def wait_for(self, key, value="1", after=0, timeout=10):
        """The first message after index `after` with key=value, and its index."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msgs = self.snapshot()
            for i in range(after, len(msgs)):
                if msgs[i][2].get(key) == value:
                    return i, msgs[i]
            time.sleep(0.02)
        raise Failure("no %s=%s within %ss; got %r" %
                      (key, value, timeout, [m[2] for m in self.snapshot()[after:]]))

    def close(self):
        self.stopping = True
        self.thread.join()
        self.sock.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


@contextlib.contextmanager
def environ(**values):
    """os.environ with values set (None: removed) for the block; the bed's
    children inherit it."""
    old = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def frames_cross(bed, n=5):
    """n UDP frames from a non-member across the bed: how many arrived."""
    frames = [Ether(src=bed.mac_in, dst=bed.mac_out) /
              IP(src="198.18.0.10", dst="192.0.2.1") / UDP(sport=4000 + i, dport=9) /
              (b"notify-%d" % i) for i in range(n)]
    return sum(bed.transmit(frames).arrived)


def accepts(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(str(path))
            return True
        except OSError as e:
            return "connect: %s" % e


def watchdog_times(msgs):
    return [t for t, _, f in msgs if f.get("WATCHDOG") == "1"]


def unit_capabilities(unit):
    """CapabilityBoundingSet= of the unit file, as setpriv wants it."""
    m = re.search(r"^CapabilityBoundingSet=(.*)$", Path(unit).read_text(), re.M)
    check(m is not None, "%s has no CapabilityBoundingSet=" % unit)
    caps = m.group(1).split()
    check(caps, "empty CapabilityBoundingSet= in %s" % unit)
    return ",".join("+" + c.lower().removeprefix("cap_") for c in caps)


class Runner:
    def __init__(self, bed, gnnd, hooks, unit, notify):
        self.bed, self.gnnd, self.hooks, self.unit = bed, gnnd, hooks, unit
        self.notify = notify
        self.results = []
        self.state = {}

    def step(self, name, fn):
        try:
            fn()
            self.results.append(True)
            print("ok   %s" % name)
        except Failure as e:
            self.results.append(False)
            print("FAIL %s: %s" % (name, e))
        except Exception as e:  # a broken step must not hide the others
            self.results.append(False)
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
        sys.stdout.flush()

    def log_since(self, offset):
        log = self.bed.workdir / "gnnd.log"
        return log.read_text(errors="replace")[offset:] if log.exists() else ""

    def log_size(self):
        log = self.bed.workdir / "gnnd.log"
        return len(log.read_text(errors="replace")) if log.exists() else 0

    # -- run 1: the unit's life, as systemd sees it -------------------------

    def run_lifecycle(self):
        bed, st = self.bed, self.state
        conf = bed.write_config(MEMBERS_A)
        sock = bed.workdir / "gnnd.sock"
        log = bed.workdir / "gnnd.log"
        log.touch()
        info = os.stat(log)
        offset = self.log_size()

        def on_ready(fields):
            # Right now, before anything else: the socket must accept.
            return accepts(sock)

        lst = NotifyListener(bed.workdir / "notify.sock", on_ready)
        st["listener"] = lst
        try:
            with environ(NOTIFY_SOCKET=lst.path, WATCHDOG_USEC=str(WATCHDOG_USEC),
                         WATCHDOG_PID=None,
                         JOURNAL_STREAM="%d:%d" % (info.st_dev, info.st_ino)):
                bed.gnnd = Path(self.gnnd)
                f = bed.start_gnnd(conf, sock)
            st["pid"] = f.pid
            if not self.notify:
                self.run_no_notify(lst, conf, offset)
                return
            self.step("ready_once_from_main_pid_when_socket_accepts",
                      lambda: self.check_ready(lst, f.pid))
            self.step("forwarding_at_ready", lambda: check(
                frames_cross(bed) == 5, "frames did not cross right after READY=1"))
            self.step("watchdog_pings_repeatedly", lambda: self.check_pings(lst))
            self.step("reload_reloading_then_ready", lambda: self.check_reload(lst, conf))
            self.step("refused_reload_reloading_then_ready_with_failure",
                      lambda: self.check_bad_reload(lst, conf))
            self.step("stopping_on_sigterm", lambda: self.check_stop(lst))
            self.step("journal_priorities_on_log_lines",
                      lambda: self.check_priorities(self.log_since(offset)))
        finally:
            bed.stop_filter()
            lst.close()

    def check_ready(self, lst, pid):
        i, (t, sender, fields) = lst.wait_for("READY")
        check(lst.ready_results[:1] == [True],
              "control socket did not accept when READY=1 came: %r" % lst.ready_results)
        check(sender == pid, "READY=1 from pid %r, gnnd is %d" % (sender, pid))
        status = fields.get("STATUS", "")
        check(re.search(r"generation 1\b.*1 members", status), "STATUS=%r" % status)
        time.sleep(0.3)
        readies = [m for m in lst.snapshot() if m[2].get("READY") == "1"]
        check(len(readies) == 1, "%d READY=1 before any reload" % len(readies))
        others = {m[1] for m in lst.snapshot()} - {pid}
        check(not others, "messages from other pids: %r" % others)

    def check_pings(self, lst):
        t0 = time.monotonic()
        time.sleep(3.2)
        pings = [t for t in watchdog_times(lst.snapshot()) if t >= t0]
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        print("     %d pings in 3.2 s, gaps %.2f..%.2f s" %
              (len(pings), min(gaps or [0]), max(gaps or [0])))
        check(len(pings) >= 4, "%d WATCHDOG=1 in 3.2 s (1 s watchdog)" % len(pings))
        check(max(gaps) < WATCHDOG_USEC / 1e6,
              "WATCHDOG=1 %.2f s apart: systemd would have killed gnnd" % max(gaps))

    def reload(self, lst, conf, text=None, members=None, expect_rc=0):
        n = len(lst.snapshot())
        if text is not None:
            Path(conf).write_text(text)
        else:
            tmp = self.bed.write_config(members, name="next.conf")
            os.replace(tmp, conf)
        r = self.bed.gnnstat("reload", check=False)
        check(r.returncode == expect_rc, "gnnstat reload exit %d: %s%s" %
              (r.returncode, r.stdout, r.stderr))
        i, _ = lst.wait_for("RELOADING", after=n)
        j, (_, _, done) = lst.wait_for("READY", after=i + 1)
        return done

    def check_reload(self, lst, conf):
        done = self.reload(lst, conf, members=MEMBERS_B)
        status = done.get("STATUS", "")
        check(re.search(r"generation 2\b.*2 members", status) and "failed" not in status,
              "after the reload: STATUS=%r" % status)

    def check_bad_reload(self, lst, conf):
        done = self.reload(lst, conf, text="blocked_ports = [ 25 ];\nports = (;\n", expect_rc=1)
        status = done.get("STATUS", "")
        check("generation 2" in status and "last reload failed" in status,
              "after the refused reload: STATUS=%r" % status)

    def check_stop(self, lst):
        n = len(lst.snapshot())
        rc = self.bed.stop_filter()
        check(rc == 0, "gnnd exit %r on SIGTERM" % rc)
        _, (_, _, fields) = lst.wait_for("STOPPING", after=n, timeout=2)

    def check_priorities(self, log):
        check(re.search(r"^<6>gnnd: ready: generation 1", log, re.M),
              "no '<6>gnnd: ready' line:\n%s" % log[-2000:])
        check(re.search(r"^<3>gnnd: reload failed", log, re.M),
              "no '<3>gnnd: reload failed' line:\n%s" % log[-2000:])
        check(re.search(r"^<[0-7]>EAL: ", log, re.M), "no EAL line with a priority")
        bare = [ln for ln in log.splitlines() if re.match(r"(EAL|gnnd|[A-Z_]+): ", ln) and
                not ln.startswith("gnnd: final") and "statistics" not in ln]
        check(not bare, "log lines without a priority: %r" % bare[:5])

    def run_no_notify(self, lst, conf, offset):
        def nothing_sent():
            check(frames_cross(self.bed) == 5, "frames did not cross")
            time.sleep(1.5)
            check(self.bed.gnnstat("reload", check=False).returncode == 0, "reload failed")
            check(self.bed.stop_filter() == 0, "gnnd did not exit 0")
            time.sleep(0.2)
            check(lst.snapshot() == [], "gnnd without libsystemd sent %r" %
                  [m[2] for m in lst.snapshot()])
        self.step("without_libsystemd_nothing_is_sent", nothing_sent)

    # -- run 2: a stalled worker starves the watchdog ------------------------

    def run_stall(self):
        bed = self.bed
        conf = bed.write_config(MEMBERS_A)
        offset = self.log_size()
        lst = NotifyListener(bed.workdir / "notify2.sock")
        bed.lcores, bed.qpairs = "0@0,1@1,2@1", 2  # two workers, one queue of each port each
        try:
            with environ(NOTIFY_SOCKET=lst.path, WATCHDOG_USEC=str(WATCHDOG_USEC),
                         WATCHDOG_PID=None, JOURNAL_STREAM=None,
                         GNN_TEST_STALL_WORKER=str(STALL_AFTER)):
                bed.gnnd = Path(self.hooks)
                f = bed.start_gnnd(conf)
            _, (t_ready, _, _) = lst.wait_for("READY")

            def pings_then_silence():
                time.sleep(STALL_AFTER + 3.5)
                pings = watchdog_times(lst.snapshot())
                before = [t for t in pings if t < t_ready + STALL_AFTER]
                after = [t for t in pings if t > t_ready + STALL_AFTER + WATCHDOG_USEC / 1e6]
                print("     %d pings before the stall, %d more than 1 s after it" %
                      (len(before), len(after)))
                check(len(before) >= 2, "only %d WATCHDOG=1 before the stall" % len(before))
                check(not after, "WATCHDOG=1 kept coming after the worker stalled: %r" %
                      [round(t - t_ready, 2) for t in after])
                check(f.alive(), "gnnd died of the stall")

            def says_so():
                log = self.log_since(offset)
                check(re.search(r"worker lcore \d+ has not looped for \d+ ms: watchdog not fed",
                                log), "no stall in the log:\n%s" % tail(bed.filter.log, 15))
                status = [m[2]["STATUS"] for m in lst.snapshot() if "STATUS" in m[2]]
                check(any("stalled" in s for s in status), "STATUS= never said stalled: %r" %
                      status)
                check(not re.search(r"^<\d>", log, re.M),
                      "priority prefixes without JOURNAL_STREAM")

            def stops():
                rc = bed.stop_filter()
                check(rc == 0, "gnnd with a stalled worker: exit %r on SIGTERM" % rc)
                lst.wait_for("STOPPING", timeout=2)

            self.step("watchdog_stops_when_a_worker_stalls", pings_then_silence)
            self.step("stall_logged_and_in_status", says_so)
            self.step("stalled_gnnd_stops_on_sigterm", stops)
        finally:
            bed.stop_filter()
            bed.lcores, bed.qpairs = "0,1", None
            lst.close()

    # -- run 3: the unit's capability bounding set ---------------------------

    def run_hardened(self):
        bed = self.bed
        conf = bed.write_config(MEMBERS_A)
        sock = bed.workdir / "hardened.sock"
        wrapper = bed.workdir / "gnnd-hardened"

        def hardened():
            caps = unit_capabilities(self.unit)
            wrapper.write_text("#!/bin/sh\nexec setpriv --bounding-set=-all,%s --inh-caps=-all "
                               "--no-new-privs %s \"$@\"\n" % (caps, shlex.quote(self.gnnd)))
            wrapper.chmod(0o755)
            bed.gnnd = wrapper
            try:
                with environ(NOTIFY_SOCKET=None, WATCHDOG_USEC=None):
                    bed.start_gnnd(conf, sock, args=["--socket-group", SOCKET_GROUP])
                status = Path("/proc/%d/status" % bed.filter.pid).read_text()
                bnd = re.search(r"^CapBnd:\s*(\w+)", status, re.M).group(1)
                check(int(bnd, 16) != 0 and int(bnd, 16) < (1 << 40) - 1,
                      "CapBnd %s: the bounding set was not applied" % bnd)
                check(re.search(r"^NoNewPrivs:\s*1", status, re.M), "NoNewPrivs not set")
                check(os.stat(sock).st_gid == grp.getgrnam(SOCKET_GROUP).gr_gid,
                      "socket group not %s" % SOCKET_GROUP)
                check(frames_cross(bed) == 5, "frames did not cross")
                rc = bed.stop_filter()
                check(rc == 0, "exit %r on SIGTERM" % rc)
            finally:
                bed.stop_filter()
                bed.gnnd = Path(self.gnnd)

        self.step("runs_under_the_units_capability_bounding_set", hardened)


def main():
    if len(sys.argv) != 6 or sys.argv[5] not in ("notify", "no-notify"):
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2
    gnnd, gnnstat, hooks, unit = (os.path.abspath(a) for a in sys.argv[1:5])
    notify = sys.argv[5] == "notify"
    t0 = time.monotonic()
    with TestBed(gnnd=gnnd, gnnstat=gnnstat) as bed:
        r = Runner(bed, gnnd, hooks, unit, notify)
        r.run_lifecycle()
        if notify:
            r.run_stall()
        r.run_hardened()
    passed = sum(r.results)
    failed = len(r.results) - passed
    print("%d passed, %d failed (%.1f s)" % (passed, failed, time.monotonic() - t0))
    return 1 if failed or not r.results else 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
