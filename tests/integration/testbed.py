#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""gnn test bed: two network namespaces joined through an inline DPDK filter.

    ns <p>-in                    ns <p>-wire                       ns <p>-out
    <p>i1 ==veth== <p>i0 [net_af_packet0] FILTER [net_af_packet1] <p>o0 ==veth== <p>o1

One flat L2 segment crosses the filter: every prefix the bed uses is
on-link on both namespace ends, so no router is needed. Hosts are extra
addresses (/32, /128 nodad) on the namespace ends; a client picks its source
with swaks --local-interface. The filter (gnnd, or dpdk-testpmd in io mode
as a stand-in) runs in a third namespace, <p>-wire, that holds the host ends
(`ip netns exec <p>-wire gnnd ...`): the root namespace is left untouched.

As a library (run tests with /usr/bin/python3: Debian's scapy and aiosmtpd
live there):

    with TestBed() as bed:
        bed.start_gnnd(config_path)            # or bed.start_testpmd()
        sink = bed.start_smtp("out")
        r = bed.send_mail("198.51.100.25", "192.0.2.1")
        assert r.delivered and sink.find(r.token)
        print(bed.stats()["totals"])

As a command (used by tools/demo):

    testbed.py up [--prefix P]      make the bed, leave it up, print shell
                                    assignments (NS_IN, NS_OUT, NS_WIRE,
                                    GNN_EAL, ...); run the filter with
                                    ip netns exec $NS_WIRE
    testbed.py down --prefix P      tear it down (idempotent)
    testbed.py mem-args             set up hugepages, print the EAL memory args

Cleanup is trap-safe: __exit__, atexit, and SIGTERM/SIGHUP (turned into
SystemExit) all tear down every bed this process made. Only processes the
bed started are stopped, by pid.
"""

import argparse
import atexit
import collections
import contextlib
import ctypes
import ipaddress
import itertools
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from pathlib import Path

sys.dont_write_bytecode = True  # keep tests/integration free of __pycache__
import pcaprun  # noqa: E402  (next to this file: pcap reading)

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PYTHON = "/usr/bin/python3"  # Debian's, which sees python3-scapy/-aiosmtpd
BUILD = Path(os.environ.get("GNN_BUILD", REPO / "build"))
GNND = Path(os.environ.get("GNND", BUILD / "app/gnnd/gnnd"))
GNNSTAT = Path(os.environ.get("GNNSTAT", BUILD / "app/gnnstat/gnnstat"))
TESTPMD = os.environ.get("TESTPMD", "dpdk-testpmd")

# Hosts: name -> (IPv4, IPv6). They match config/gnn-demo.conf.
INSIDE_HOSTS = {
    "workstation": ("198.51.100.10", "2001:db8:10::10"),  # example-college
    "mail_server": ("198.51.100.25", "2001:db8:10::25"),  # its mail server
    "library_workstation": ("203.0.113.10", "2001:db8:20::10"),  # monitor
    "library_mail_server": ("203.0.113.25", "2001:db8:20::25"),
    "non_member": ("198.18.0.10", "2001:db8:30::10"),  # in no member net
}
OUTSIDE_HOSTS = {
    "smtp": ("192.0.2.1", "2001:db8:99::1"),  # the outside mail server
    "client": ("192.0.2.20", "2001:db8:99::20"),  # sends inbound mail
}
# Every prefix is on-link on both sides (one flat L2 segment).
ONLINK = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
          "198.18.0.0/15", "2001:db8::/32"]
# Fixed MACs on the namespace ends, handy for crafted frames.
MAC_IN = "02:00:5e:00:01:01"
MAC_OUT = "02:00:5e:00:02:01"
SMTP_PORTS_OUT = (25, 587)

_live_beds = []
_seq = itertools.count()


class BedError(RuntimeError):
    pass


# --------------------------------------------------------------------------
# helpers

def sh(*cmd, check=True, timeout=30, input=None):
    """Run a command, capture its output; raise BedError when check fails."""
    cmd = [str(c) for c in cmd]
    try:
        p = subprocess.run(cmd, input=input, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise BedError("timed out after %ss: %s" % (timeout, shlex.join(cmd))) from e
    if check and p.returncode != 0:
        raise BedError("%s: exit %d: %s" % (shlex.join(cmd), p.returncode,
                                            (p.stderr or p.stdout).strip()))
    return p


def _meminfo():
    info = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, _, v = line.partition(":")
            info[k] = int(v.split()[0])
    return info


def _hugetlbfs_mounted():
    with open("/proc/mounts") as f:
        return any(line.split()[2] == "hugetlbfs" for line in f)


def eal_memory_args(pages=256, min_free_mb=128):
    """Make hugepages usable if possible; return the EAL memory arguments.

    Returns [] when at least min_free_mb of hugepages are free on a mounted
    hugetlbfs (after raising nr_hugepages to `pages` and mounting
    /dev/hugepages if needed), else ["--no-huge", "-m", "512"].
    GNN_EAL_MEM="..." in the environment overrides the choice.
    """
    if "GNN_EAL_MEM" in os.environ:
        return shlex.split(os.environ["GNN_EAL_MEM"])
    fallback = ["--no-huge", "-m", "512"]
    try:
        if _meminfo().get("HugePages_Total", 0) < pages:
            with open("/proc/sys/vm/nr_hugepages", "w") as f:
                f.write("%d\n" % pages)
        if not _hugetlbfs_mounted():
            os.makedirs("/dev/hugepages", exist_ok=True)
            sh("mount", "-t", "hugetlbfs", "nodev", "/dev/hugepages")
        m = _meminfo()
        free_mb = m.get("HugePages_Free", 0) * m.get("Hugepagesize", 0) // 1024
        if _hugetlbfs_mounted() and free_mb >= min_free_mb:
            return []
    except (OSError, BedError):
        pass
    return fallback


def _read_pcap(path):
    """Frames of a classic pcap file (as tcpdump -w writes), as bytes."""
    data = Path(path).read_bytes()
    if len(data) < 24:
        return []
    try:
        linktype, frames = pcaprun.read_pcap(data, strict=False)
    except ValueError:
        raise BedError("%s: not a pcap file" % path) from None
    if linktype != 1:
        raise BedError("%s: link type %d, not Ethernet" % (path, linktype))
    return frames


def _stop_proc(proc, sig=signal.SIGTERM, timeout=10):
    """Stop one process we started: sig, wait, then SIGKILL. Returns rc."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        except ProcessLookupError:
            pass
    return proc.wait()


_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def die_with_parent():
    """In the child before exec (Popen's preexec_fn): SIGTERM it when we
    die, even by SIGKILL, so no filter or server outlives the test that
    started it."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def tail(path, n=30):
    """The last n lines of a log file ("" if it cannot be read)."""
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


# --------------------------------------------------------------------------
# processes the bed runs

class Filter:
    """The DPDK filter process on the host ends (gnnd or testpmd)."""

    def __init__(self, kind, proc, log, socket_path=None):
        self.kind = kind          # "gnnd" or "testpmd"
        self.proc = proc
        self.pid = proc.pid
        self.log = log            # its stdout+stderr
        self.socket = socket_path  # gnnd control socket (None for testpmd)
        self.returncode = None

    def alive(self):
        return self.proc.poll() is None

    def output(self):
        """Everything it printed so far (stdout and stderr)."""
        return Path(self.log).read_text(errors="replace")

    def stop(self, timeout=15):
        """Stop it cleanly (gnnd: SIGTERM; testpmd: EOF on stdin); return rc."""
        if self.returncode is not None:
            return self.returncode
        if self.kind == "testpmd" and self.proc.stdin:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.returncode = _stop_proc(self.proc, signal.SIGTERM, timeout)
        return self.returncode


class SmtpSink:
    """An aiosmtpd server in a namespace that keeps each delivered message."""

    def __init__(self, proc, spool, log, listens):
        self.proc = proc
        self.pid = proc.pid
        self.spool = Path(spool)
        self.log = log
        self.listens = listens    # [(addr, port)]

    def messages(self):
        """All delivered messages so far: dicts (see smtp_sink.py)."""
        out = []
        for p in sorted(self.spool.glob("*.json")):
            with open(p) as f:
                out.append(json.load(f))
        return out

    def find(self, token):
        """The delivered messages whose text contains token."""
        return [m for m in self.messages() if token in m["data"]]

    def stop(self):
        return _stop_proc(self.proc)


class Postfix:
    """A private Postfix instance in one of the bed's namespaces (see
    TestBed.start_postfix): its own config directory, queue and log under
    base, nothing of the system's Postfix used or touched."""

    def __init__(self, bed, side, base, addr):
        self.bed = bed
        self.side = side
        self.base = Path(base)
        self.config = self.base / "etc"
        self.queue_dir = self.base / "queue"
        self.maillog = self.base / "log" / "maillog"
        self.addr = addr

    def postfix(self, *args, check=True, timeout=60):
        """Run `postfix -c CONFIG args...` in the instance's namespace."""
        return self.bed.exec(self.side, "postfix", "-c", self.config, *args, check=check,
                             timeout=timeout)

    def master_pid(self):
        """The master daemon's pid from its pid file, or None."""
        try:
            return int((self.queue_dir / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def queue(self):
        """The messages in the queue: dicts of `postqueue -j` (queue_name,
        queue_id, recipients with delay_reason, ...)."""
        # In the namespace: Postfix's commands want inet_interfaces to exist.
        p = self.bed.exec(self.side, "postqueue", "-c", self.config, "-j", check=True)
        return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]

    def flush(self):
        """Ask for every queued message to be delivered now (`postqueue -f`)."""
        self.bed.exec(self.side, "postqueue", "-c", self.config, "-f", check=True)

    def log(self):
        """The instance's mail log so far."""
        try:
            return self.maillog.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self):
        """`postfix stop`, then SIGKILL for whatever of it is left (by pid:
        the master, and its children in the namespace run as postfix)."""
        pid = self.master_pid()
        self.postfix("stop", check=False, timeout=30)
        deadline = time.monotonic() + 10
        while pid is not None and time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        postfix_uid = _postfix_ids()[0]
        pids = sh("ip", "netns", "pids", self.bed.ns(self.side), check=False).stdout.split()
        for p in pids:
            with contextlib.suppress(OSError, ValueError):
                if os.stat("/proc/%s" % p).st_uid == postfix_uid:
                    os.kill(int(p), signal.SIGKILL)
        with contextlib.suppress(ValueError):
            self.bed._postfixes.remove(self)


def _postfix_ids():
    """(uid, gid) of the postfix user Debian's package made."""
    import pwd
    pw = pwd.getpwnam("postfix")
    return pw.pw_uid, pw.pw_gid


POSTFIX_MASTER_CF = """\
# service type private unpriv chroot wakeup maxproc command
smtp      inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


MailResult = collections.namedtuple(
    "MailResult", "delivered returncode token transcript elapsed")
MailResult.__doc__ = """swaks outcome: delivered (exit 0), its exit code
(2: could not connect), the unique token put in the message (to find it
in a sink), swaks' transcript, seconds taken."""

Transfer = collections.namedtuple("Transfer", "arrived captured")
Transfer.__doc__ = """Frames sent across the filter: arrived[i] is True iff
frame i was captured byte-identical on the other side; captured holds every
frame the other side received meanwhile (including unrelated noise)."""


class Capture:
    """tcpdump on a namespace end, full frames.

    direction: "in" (what the end receives) or "out" (what it sends).
    buffer_kib: tcpdump's kernel buffer (-B), for bursts larger than its
    default buffer takes without dropping (see kernel_drops()); tcpdump
    gives each frame a slot as large as the interface's largest packet
    (64 KiB on a veth), so its default 2 MiB hold only about 30 frames
    while tcpdump waits for a CPU.
    counted: check the capture against the interface's own counters, so
    that a test may take it for what crossed the wire: start() makes sure
    nothing crossed while tcpdump started, stop() waits until tcpdump has
    written as many frames as the interface counted, and complete() says
    whether the file holds exactly those frames."""

    def __init__(self, bed, side, direction="in", buffer_kib=None, counted=False):
        if direction not in ("in", "out"):
            raise ValueError("direction %r: in or out" % direction)
        self.bed = bed
        self.side = side
        self.direction = direction
        self.buffer_kib = buffer_kib
        self.counted = counted
        self.path = bed.workdir / ("cap-%s-%s.pcap" % (side, uuid.uuid4().hex[:8]))
        self.log = self.path.with_suffix(".log")  # tcpdump's output
        self.frames = None
        self.proc = None
        self.counts = {}  # counted: interface counters at "started", "stopping", "stopped"
        self.restarts = 0  # counted: tcpdump started again, frames having crossed meanwhile

    def if_counts(self):
        """(frames the interface passed in the capture's direction, frames
        it dropped after tcpdump saw them). A veth end shows a frame it
        sends to the taps, then counts it sent or dropped; a frame it
        receives reaches the taps once counted received."""
        p = sh("ip", "-n", self.bed.ns(self.side), "-s", "-j", "link", "show", "dev",
               self.bed.ns_if(self.side))
        st = json.loads(p.stdout)[0]["stats64"]
        if self.direction == "out":
            return st["tx"]["packets"], st["tx"]["dropped"]
        return st["rx"]["packets"], 0

    def _spawn(self, timeout):
        buffer = ["-B", str(self.buffer_kib)] if self.buffer_kib else []
        # -Z root: tcpdump would otherwise drop to a user that cannot write
        # the bed's private directory.
        cmd = ["ip", "netns", "exec", self.bed.ns(self.side), "tcpdump", "-n"] + buffer + \
            ["-i", self.bed.ns_if(self.side), "-Q", self.direction, "-U", "--immediate-mode",
             "-s", "0", "-Z", "root", "-w", str(self.path)]
        with contextlib.suppress(FileNotFoundError):
            self.log.unlink()
        self.proc = self.bed.spawn(cmd, self.log)
        deadline = time.monotonic() + timeout
        while "listening on" not in tail(self.log):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BedError("tcpdump did not start: %s" % tail(self.log))
            time.sleep(0.02)

    def _halt(self):
        _stop_proc(self.proc, signal.SIGINT)
        self.bed.forget(self.proc)

    def start(self, timeout=10, tries=10):
        if not self.counted:
            self._spawn(timeout)
            return self
        for attempt in range(tries):
            before = self.if_counts()
            self._spawn(timeout)
            self.counts["started"] = self.if_counts()
            if self.counts["started"] == before or attempt == tries - 1:
                break
            # A frame crossed while tcpdump started: it may or may not be
            # in the file. Start afresh.
            self._halt()
            self.restarts += 1
        self.counts["start_noise"] = self.counts["started"] != before
        return self

    def file_frames(self):
        """The frames tcpdump has written so far."""
        return _read_pcap(self.path) if self.path.exists() else []

    def stop(self, settle=0.3, catch_up=10.0):
        """Stop after `settle` seconds (counted: and once the file holds as
        many frames as the interface counted, or catch_up seconds more);
        return the captured frames."""
        if self.frames is None:
            time.sleep(settle)
            if self.counted:
                self.counts["stopping"] = now = self.if_counts()
                want = sum(now) - sum(self.counts["started"])
                deadline = time.monotonic() + catch_up
                while len(self.file_frames()) < want and time.monotonic() < deadline:
                    time.sleep(0.05)
            self._halt()
            if self.counted:
                self.counts["stopped"] = self.if_counts()
            self.frames = self.file_frames()
        return self.frames

    def complete(self):
        """After stop() of a counted capture: None when the file holds
        exactly the frames that crossed the interface while it ran, else
        why not (a test may then measure again: the capture failed, not
        what it watched)."""
        if not self.counted or self.frames is None:
            raise BedError("complete() needs a counted capture, stopped")
        c = self.counts
        drops = self.kernel_drops()
        if drops:
            return "tcpdump lost %d frames (its buffer was full)" % drops
        if c["start_noise"]:
            return "frames kept crossing while tcpdump started (%d restarts)" % self.restarts
        if c["stopped"] != c["stopping"]:
            return "%d frames crossed while tcpdump stopped" % (
                sum(c["stopped"]) - sum(c["stopping"]))
        dropped = c["stopped"][1] - c["started"][1]
        if dropped:
            return "the interface dropped %d of the frames tcpdump saw" % dropped
        passed = c["stopped"][0] - c["started"][0]
        if len(self.frames) != passed:
            return "the capture holds %d frames, the interface passed %d" % (
                len(self.frames), passed)
        return None

    def kernel_drops(self):
        """Frames the kernel dropped before tcpdump read them, as tcpdump
        reports on exit (after stop()); None if it did not say."""
        m = re.search(r"(\d+) packets? dropped by kernel", tail(self.log))
        return int(m.group(1)) if m else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --------------------------------------------------------------------------
# the bed

class TestBed:
    """Namespaces, veths, addresses, routes; the filter and the peers.

    Names, from the prefix p (at most 13 characters):
      ns_in = "<p>-in", ns_out = "<p>-out"           the two sides
      ns_wire = "<p>-wire"                            the filter runs here
      host_in = "<p>i0" (net_af_packet0, inside),     host ends, in ns_wire
      host_out = "<p>o0" (net_af_packet1, outside)
      ns_if_in = "<p>i1", ns_if_out = "<p>o1"         the sides' ends
    pmd="pcap" takes the host ends with net_pcap0/1 instead (libpcap keeps
    802.1ad tags that the af_packet PMD rewrites to 802.1Q).

    The filter's EAL options (eal_args()) follow attributes that may be
    changed between filters: lcores, an -l list ("0,1"), or a --lcores map
    when it holds "@" ("0@2,(1-4)@3"); qpairs, queue pairs per af_packet
    port (None: the PMD's default); afp_frames, frames in each af_packet
    ring (None: the PMD's default; more ride out a filter that is not
    scheduled for a while on a busy machine).
    """

    __test__ = False  # not a pytest test class

    def __init__(self, prefix=None, inside=None, outside=None, onlink=None,
                 workdir=None, lcores="0,1", pmd="af_packet", gnnd=None,
                 gnnstat=None, qpairs=None):
        if prefix is None:
            prefix = "gnn%d" % os.getpid()
            n = next(_seq)
            if n:
                prefix += chr(ord("a") + n % 26)
        if len(prefix) > 13 or not prefix.replace("-", "").isalnum():
            raise ValueError("prefix %r: 1-13 letters/digits" % prefix)
        self.prefix = prefix
        self.ns_in, self.ns_out = prefix + "-in", prefix + "-out"
        self.ns_wire = prefix + "-wire"
        self.host_in, self.host_out = prefix + "i0", prefix + "o0"
        self.ns_if_in, self.ns_if_out = prefix + "i1", prefix + "o1"
        self.mac_in, self.mac_out = MAC_IN, MAC_OUT
        self.inside = dict(INSIDE_HOSTS if inside is None else inside)
        self.outside = dict(OUTSIDE_HOSTS if outside is None else outside)
        self.onlink = list(ONLINK if onlink is None else onlink)
        self.lcores = lcores
        self.qpairs = qpairs
        self.afp_frames = None
        if pmd not in ("af_packet", "pcap"):
            raise ValueError("pmd %r: af_packet or pcap" % pmd)
        self.pmd = pmd
        self.gnnd = Path(gnnd) if gnnd else GNND
        self.gnnstat_path = Path(gnnstat) if gnnstat else GNNSTAT
        self._workdir = Path(workdir) if workdir else None
        self._own_workdir = workdir is None
        self._addrs = {"in": set(), "out": set()}
        self._procs = []
        self._postfixes = []
        self.filter = None
        self._mem_args = None
        self.is_up = False

    # -- names ------------------------------------------------------------

    def ns(self, side):
        """Namespace name for side "in" or "out"."""
        return {"in": self.ns_in, "out": self.ns_out}[side]

    def ns_if(self, side):
        """Interface name inside the namespace of side "in" or "out"."""
        return {"in": self.ns_if_in, "out": self.ns_if_out}[side]

    def side_of(self, addr):
        """"in" or "out": which namespace holds address addr."""
        a = str(ipaddress.ip_address(addr))
        for side in ("in", "out"):
            if a in self._addrs[side]:
                return side
        raise BedError("%s is on no side of the bed" % addr)

    def addr(self, host, family=4):
        """Address of a named host ("workstation", "smtp", ...)."""
        pair = self.inside.get(host) or self.outside[host]
        return pair[0 if family == 4 else 1]

    @property
    def workdir(self):
        """A private temporary directory for logs, spools, captures."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix=self.prefix + "-"))
        self._workdir.mkdir(parents=True, exist_ok=True)
        return self._workdir

    # -- up / down --------------------------------------------------------

    def __enter__(self):
        return self.up()

    def __exit__(self, *exc):
        self.down()

    def up(self):
        """Make namespaces, veths, addresses, routes. Returns self."""
        _register(self)
        try:
            self._up()
        except BaseException:
            self.down()
            raise
        self.is_up = True
        return self

    def _up(self):
        # The wire namespace holds the host ends and runs the filter. Not
        # the root namespace: DPDK 22.11's af_packet PMD joins a PACKET_FANOUT
        # group numbered getpid() ^ ifindex, unique only per namespace, so
        # two filters side by side in one namespace sometimes collide and
        # lose a port ("could not set PACKET_FANOUT"). It also keeps the
        # host's own addresses (and ARP for them) off the bed.
        sh("ip", "netns", "add", self.ns_wire)
        for key in ("all", "default"):
            # The host ends are only a wire: no IPv6 link-local, ND, MLD.
            sh("ip", "netns", "exec", self.ns_wire, "sysctl", "-qw",
               "net.ipv6.conf.%s.disable_ipv6=1" % key)
        for side in ("in", "out"):
            ns, host, peer = (self.ns(side), self._host(side), self.ns_if(side))
            sh("ip", "netns", "add", ns)
            # Before the interface exists, so it inherits "default": v6 is
            # usable at once (no DAD) and the bed stays quiet (no RS).
            for key, val in (("net.ipv6.conf.all.accept_dad", 0),
                             ("net.ipv6.conf.default.accept_dad", 0),
                             ("net.ipv6.conf.all.router_solicitations", 0),
                             ("net.ipv6.conf.default.router_solicitations", 0)):
                sh("ip", "netns", "exec", ns, "sysctl", "-qw", "%s=%d" % (key, val))
            sh("ip", "-n", self.ns_wire, "link", "add", host, "type", "veth",
               "peer", "name", peer, "netns", ns)
            sh("ip", "-n", self.ns_wire, "link", "set", host, "arp", "off", "up")
            mac = self.mac_in if side == "in" else self.mac_out
            sh("ip", "-n", ns, "link", "set", peer, "address", mac)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "link", "set", peer, "up")
            # TCP through af_packet fails with TX checksum offload on (and
            # "tx off" also turns off TSO: no 64 KiB frames into af_packet).
            sh("ip", "netns", "exec", ns, "ethtool", "-K", peer, "tx", "off")
            for prefix in self.onlink:
                sh("ip", "-n", ns, "route", "add", prefix, "dev", peer)
            hosts = self.inside if side == "in" else self.outside
            for pair in hosts.values():
                for a in pair:
                    if a:
                        self.add_address(side, a)

    def _host(self, side):
        return {"in": self.host_in, "out": self.host_out}[side]

    def add_address(self, side, addr):
        """Add a host address (/32 or /128, no DAD) to a side's interface."""
        a = ipaddress.ip_address(addr)
        cmd = ["ip", "-n", self.ns(side), "addr", "add",
               "%s/%d" % (a, a.max_prefixlen), "dev", self.ns_if(side)]
        if a.version == 6:
            cmd.append("nodad")
        sh(*cmd)
        self._addrs[side].add(str(a))

    def down(self):
        """Stop everything the bed started, delete namespaces and veths.

        Idempotent; also works on a bed made by another process with the
        same prefix (testbed.py down --prefix P)."""
        errors = []
        for pf in list(getattr(self, "_postfixes", [])):
            with contextlib.suppress(Exception):
                pf.stop()
        if self.filter is not None:
            with contextlib.suppress(Exception):
                self.filter.stop()
        for proc in reversed(self._procs):
            with contextlib.suppress(Exception):
                _stop_proc(proc, timeout=5)
        self._procs.clear()
        for ns in (self.ns_wire, self.ns_in, self.ns_out):
            if Path("/run/netns", ns).exists():
                # Whatever still runs in our own namespace was started for
                # this bed (e.g. by a demo that died): stop it by pid.
                pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError, ValueError):
                        os.kill(int(pid), signal.SIGKILL)
                # Deleting a namespace deletes its veth ends, and so the pairs.
                p = sh("ip", "netns", "del", ns, check=False)
                if p.returncode:
                    errors.append(p.stderr.strip())
        # The runtime directory a --file-prefix run leaves behind.
        shutil.rmtree(Path("/run/dpdk", self.prefix), ignore_errors=True)
        if self._own_workdir and self._workdir is not None and \
                not os.environ.get("GNN_KEEP_WORKDIR"):
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        self.is_up = False
        _unregister(self)
        if errors:
            raise BedError("; ".join(errors))

    # -- processes ----------------------------------------------------------

    def spawn(self, cmd, log, stdin=subprocess.DEVNULL, stderr=subprocess.STDOUT):
        """Start cmd with its output appended to the file log (stderr too,
        unless redirected elsewhere). The bed stops it on down() unless
        forget(proc) was called. Returns the Popen."""
        with open(log, "ab") as out:
            # Own session: a terminal's Ctrl-C reaches us, and we stop the
            # children in order.
            proc = subprocess.Popen([str(c) for c in cmd], stdin=stdin,
                                    stdout=out, stderr=stderr,
                                    start_new_session=True,
                                    preexec_fn=die_with_parent)
        self._procs.append(proc)
        return proc

    def forget(self, proc):
        """No longer stop proc on down() (it was stopped or reaped)."""
        with contextlib.suppress(ValueError):
            self._procs.remove(proc)

    def exec(self, side, *cmd, check=False, timeout=30, input=None):
        """Run a command in a side's namespace; returns CompletedProcess."""
        return sh("ip", "netns", "exec", self.ns(side), *cmd, check=check,
                  timeout=timeout, input=input)

    def mem_args(self):
        if self._mem_args is None:
            self._mem_args = eal_memory_args()
        return self._mem_args

    def port_names(self):
        """DPDK names of (inside, outside) ports, for a config's ports."""
        return ("net_%s0" % self.pmd, "net_%s1" % self.pmd)

    def vdev_args(self):
        """--vdev options for the two ports, inside first."""
        if self.pmd == "af_packet":
            qpairs = ",qpairs=%d" % self.qpairs if self.qpairs else ""
            if self.afp_frames:
                qpairs += ",framecnt=%d" % self.afp_frames
            return ["--vdev=net_af_packet0,iface=%s%s" % (self.host_in, qpairs),
                    "--vdev=net_af_packet1,iface=%s%s" % (self.host_out, qpairs)]
        # libpcap; rx_iface_in: only frames arriving, not the ones we send.
        return ["--vdev=net_pcap%d,rx_iface_in=%s,tx_iface=%s" % (i, h, h)
                for i, h in enumerate((self.host_in, self.host_out))]

    def wire_cmd(self):
        """Command prefix that runs a filter where the host ends are:
        ["ip", "netns", "exec", "<p>-wire"]."""
        return ["ip", "netns", "exec", self.ns_wire]

    def write_config(self, members, blocked_ports=(25,), name="gnn.conf"):
        """Write a gnnd config for this bed's two ports into the workdir.

        members: [{"name", "mode", "action", "networks": [...], "mail_servers": [...]}].
        Returns its path."""
        def strings(items):
            return "[ %s ]" % ", ".join(json.dumps(str(i)) for i in items)
        inside, outside = self.port_names()
        lines = ["blocked_ports = [ %s ];" % ", ".join(str(p) for p in blocked_ports),
                 "ports = ( { inside = \"%s\"; outside = \"%s\"; } );" % (inside, outside),
                 "members = ("]
        for i, m in enumerate(members):
            lines += ["  {",
                      "    name = %s;" % json.dumps(m["name"]),
                      "    mode = %s;" % json.dumps(m.get("mode", "enforce")),
                      "    action = %s;" % json.dumps(m.get("action", "drop")),
                      "    networks = %s;" % strings(m.get("networks", [])),
                      "    mail_servers = %s;" % strings(m.get("mail_servers", [])),
                      "  }" + ("," if i < len(members) - 1 else "")]
        lines.append(");")
        path = self.workdir / name
        path.write_text("\n".join(lines) + "\n")
        return path

    def eal_args(self):
        """EAL options for the filter: lcores, --no-pci, the two vdevs
        (net_af_packet0 = inside, net_af_packet1 = outside; or net_pcap0/1),
        memory: hugepages with --in-memory, or else --no-huge -m 512
        (--no-huge implies legacy memory, which --in-memory refuses); always
        --file-prefix=<prefix>, so that side-by-side runs stay apart,
        dpdk-telemetry.py -f <prefix> finds the filter, and down() removes
        the runtime directory it leaves."""
        mem = self.mem_args()
        if "--no-huge" not in mem:
            mem = ["--in-memory"] + mem
        mem = mem + ["--file-prefix=%s" % self.prefix]
        lcores = "--lcores" if "@" in self.lcores else "-l"
        return [lcores, self.lcores, "--no-pci"] + self.vdev_args() + mem

    def start_gnnd(self, config, socket_path=None, args=(), ready_timeout=30):
        """Start gnnd inline with config; wait until its socket accepts.

        Returns the Filter; raises BedError (with gnnd's output) when it
        exits or does not get ready in time."""
        if self.filter is not None and self.filter.alive():
            raise BedError("a filter is already running")
        sock = Path(socket_path) if socket_path else self.workdir / "gnnd.sock"
        log = self.workdir / "gnnd.log"
        cmd = self.wire_cmd() + [self.gnnd] + self.eal_args() + \
            ["--", "-f", str(config), "-s", str(sock)] + list(args)
        f = Filter("gnnd", self.spawn(cmd, log), log, sock)
        self.filter = f
        deadline = time.monotonic() + ready_timeout
        while True:
            if not f.alive():
                raise BedError("gnnd exited %s:\n%s" % (f.proc.returncode, tail(log)))
            if sock.exists():
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    try:
                        s.connect(str(sock))
                        return f
                    except OSError:
                        pass
            if time.monotonic() > deadline:
                raise BedError("gnnd not ready after %ss:\n%s" % (ready_timeout, tail(log)))
            time.sleep(0.05)

    def start_testpmd(self, ready_timeout=30, args=()):
        """Start dpdk-testpmd in io forwarding mode as a stand-in filter.

        Non-interactive: it forwards until EOF on stdin, which we hold open
        (stop() closes it; exit 0). Returns the Filter once forwarding."""
        if self.filter is not None and self.filter.alive():
            raise BedError("a filter is already running")
        log = self.workdir / "testpmd.log"
        # stdbuf: its stdout is a file, and block-buffered it would hold
        # back the "Press enter to exit" we wait for. A small mbuf pool:
        # the default (~340 MB) leaves no hugepages for a second instance.
        cmd = self.wire_cmd() + ["stdbuf", "-oL", "-eL", TESTPMD] + self.eal_args() + \
            ["--", "--forward-mode=io", "--auto-start",
             "--total-num-mbufs=8192"] + list(args)
        f = Filter("testpmd", self.spawn(cmd, log, stdin=subprocess.PIPE), log)
        self.filter = f
        deadline = time.monotonic() + ready_timeout
        while "Press enter to exit" not in f.output():
            if not f.alive():
                raise BedError("testpmd exited %s:\n%s" % (f.proc.returncode, tail(log)))
            if time.monotonic() > deadline:
                raise BedError("testpmd not ready after %ss:\n%s" % (ready_timeout, tail(log)))
            time.sleep(0.05)
        return f

    def stop_filter(self):
        """Stop the filter; returns its exit code (None if none ran)."""
        if self.filter is None:
            return None
        rc = self.filter.stop()
        self.forget(self.filter.proc)
        return rc

    def gnnstat(self, *args, check=True, timeout=15):
        """Run gnnstat -s <socket> args...; returns CompletedProcess."""
        if self.filter is None or self.filter.socket is None:
            raise BedError("no gnnd running")
        return sh(self.gnnstat_path, "-s", self.filter.socket, *args, check=check,
                  timeout=timeout)

    def stats(self):
        """gnnstat --json, parsed: dict (see docs/design.md)."""
        return json.loads(self.gnnstat("--json").stdout)

    def member(self, name, stats=None):
        """One member's counters from stats(): dict or None."""
        stats = stats or self.stats()
        return next((m for m in stats["members"] if m["name"] == name), None)

    def start_smtp(self, side="out", listens=None, ready_timeout=15):
        """A real SMTP server (aiosmtpd) in a namespace. Default listeners:
        outside, the "smtp" host on ports 25 and 587 (v4 and v6); inside,
        the "mail_server" host on port 25. Returns SmtpSink when bound."""
        if listens is None:
            if side == "out":
                listens = [(a, p) for a in self.outside["smtp"] for p in SMTP_PORTS_OUT]
            else:
                listens = [(a, 25) for a in self.inside["mail_server"]]
        name = "smtp-%s-%s" % (side, uuid.uuid4().hex[:6])
        spool, log = self.workdir / name, self.workdir / (name + ".log")
        cmd = ["ip", "netns", "exec", self.ns(side), PYTHON, "-u",
               HERE / "smtp_sink.py", "--spool", spool]
        for addr, port in listens:
            cmd += ["--listen", "[%s]:%d" % (addr, port)]
        proc = self.spawn(cmd, log)
        deadline = time.monotonic() + ready_timeout
        while "ready" not in tail(log).splitlines():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise BedError("smtp sink did not start:\n%s" % tail(log))
            time.sleep(0.05)
        return SmtpSink(proc, spool, log, listens)

    def send_mail(self, src, server, port=25, to="postmaster@example.net",
                  mail_from=None, timeout=3, side=None, extra=()):
        """swaks from address src (its namespace found from the address) to
        server:port. A short --timeout, so a dropped SYN fails fast.
        Returns MailResult (delivered iff swaks exits 0)."""
        side = side or self.side_of(src)
        token = "gnn-" + uuid.uuid4().hex
        mail_from = mail_from or "sender@%s.example.org" % str(src).replace(":", "-")
        cmd = ["swaks", "--server", str(server), "--port", str(port),
               "--local-interface", str(src), "--timeout", str(timeout),
               "--helo", "client.example.org", "--from", mail_from, "--to", to,
               "--header", "Subject: gnn test %s" % token,
               "--header", "X-Gnn-Token: %s" % token,
               "--body", "token %s from %s\n" % (token, src)] + list(extra)
        t0 = time.monotonic()
        p = self.exec(side, *cmd, timeout=timeout * 6 + 10)
        return MailResult(p.returncode == 0, p.returncode, token,
                          p.stdout + p.stderr, time.monotonic() - t0)

    def start_postfix(self, addr, relayhost, mynetworks, side="in", backoff=1,
                      connect_timeout=2, ready_timeout=30):
        """A real Postfix relay (Debian's postfix, a private instance) on
        addr in a side's namespace: it accepts mail for any domain from
        mynetworks ([CIDR...]) and relays it to relayhost (an address:
        "[relayhost]:25", no DNS), from addr. Retries come every `backoff`
        seconds, a connection attempt gives up after connect_timeout. Its
        config, queue and log live under the workdir. Returns Postfix once
        it listens on addr:25; down() stops it."""
        uid, gid = _postfix_ids()
        # Postfix's daemons run as postfix and must reach the queue.
        os.chmod(self.workdir, 0o711)
        base = Path(tempfile.mkdtemp(prefix="postfix-", dir=self.workdir))
        os.chmod(base, 0o755)
        pf = Postfix(self, side, base, addr)
        for d in (pf.config, pf.queue_dir, pf.maillog.parent):
            d.mkdir(mode=0o755)
        data = base / "data"
        data.mkdir(mode=0o700)
        os.chown(data, uid, gid)
        main_cf = {
            "compatibility_level": "3.6",
            "queue_directory": pf.queue_dir,
            "data_directory": data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "relay.example.org",
            "mydomain": "example.org",
            "mydestination": "",
            "local_transport": "error:5.1.1 no local delivery",
            "alias_maps": "",
            "alias_database": "",
            "inet_interfaces": addr,
            "inet_protocols": "ipv4" if ipaddress.ip_address(addr).version == 4 else "ipv6",
            "smtp_bind_address" if ipaddress.ip_address(addr).version == 4
            else "smtp_bind_address6": addr,
            "mynetworks": " ".join(mynetworks),
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "relayhost": "[%s]:25" % relayhost,
            "smtp_dns_support_level": "disabled",
            "smtp_host_lookup": "native",
            "smtp_connect_timeout": "%ds" % connect_timeout,
            "queue_run_delay": "%ds" % backoff,
            "minimal_backoff_time": "%ds" % backoff,
            "maximal_backoff_time": "%ds" % backoff,
            "smtp_tls_security_level": "none",
            "smtpd_tls_security_level": "none",
            "maillog_file": pf.maillog,
            "maillog_file_prefixes": base,
            "biff": "no",
        }
        (pf.config / "main.cf").write_text(
            "".join("%s = %s\n" % (k, v) for k, v in main_cf.items()))
        (pf.config / "master.cf").write_text(POSTFIX_MASTER_CF)
        self._postfixes.append(pf)
        p = pf.postfix("start", check=False)
        if p.returncode != 0:
            raise BedError("postfix start: exit %d: %s%s" % (p.returncode, p.stdout, p.stderr))
        deadline = time.monotonic() + ready_timeout
        while True:
            probe = self.exec(side, PYTHON, "-c",
                              "import socket; socket.create_connection((%r, 25), 1).close()"
                              % addr)
            if probe.returncode == 0:
                return pf
            if time.monotonic() > deadline:
                raise BedError("postfix not listening on %s:25 after %ss:\n%s"
                               % (addr, ready_timeout, pf.log()[-2000:]))
            time.sleep(0.2)

    # -- crafted frames -----------------------------------------------------

    def capture(self, side, direction="in", buffer_kib=None, counted=False):
        """Context manager: capture what a side's namespace end receives
        (or sends: direction="out"). Started (listening) on entry, or by
        .start(); .frames (list of bytes) after exit or .stop(). counted:
        .complete() says whether the frames are all that crossed (see
        Capture)."""
        return Capture(self, side, direction, buffer_kib, counted)

    def send_frames(self, side, frames):
        """Send raw Ethernet frames (bytes, or scapy packets) out of a
        side's namespace end, in order, through an AF_PACKET socket."""
        payload = "".join(bytes(f).hex() + "\n" for f in frames)
        self.exec(side, PYTHON, Path(__file__).resolve(), "_sendraw",
                  self.ns_if(side), check=True, input=payload)

    def transmit(self, frames, side="in", settle=0.5):
        """Send frames from one side, capture on the other. Returns
        Transfer(arrived=[bool per frame: received byte-identical],
        captured=[every frame received there])."""
        frames = [bytes(f) for f in frames]
        other = "out" if side == "in" else "in"
        with self.capture(other) as cap:
            self.send_frames(side, frames)
            time.sleep(settle)
        got = collections.Counter(cap.frames)
        arrived = []
        for f in frames:
            arrived.append(got[f] > 0)
            if got[f]:
                got[f] -= 1
        return Transfer(arrived, cap.frames)

    # -- for the shell ------------------------------------------------------

    def shell_env(self):
        """Shell assignments describing the bed, for eval in bash."""
        env = {
            "GNN_PREFIX": self.prefix,
            "NS_IN": self.ns_in, "NS_OUT": self.ns_out, "NS_WIRE": self.ns_wire,
            "HOST_IN": self.host_in, "HOST_OUT": self.host_out,
            "NS_IF_IN": self.ns_if_in, "NS_IF_OUT": self.ns_if_out,
            "GNN_EAL": shlex.join(self.eal_args()),
        }
        return "".join("%s=%s\n" % (k, shlex.quote(v)) for k, v in env.items())


# --------------------------------------------------------------------------
# for test scripts that run checks on a bed

class Failure(AssertionError):
    """A check that does not hold: reported in one line, no traceback."""


def check(cond, msg):
    """Raise Failure(msg) unless cond."""
    if not cond:
        raise Failure(msg)


def binaries_from_argv():
    """(gnnd, gnnstat), absolute, from the command line "SCRIPT PATH/TO/gnnd
    PATH/TO/gnnstat" of a script run as root; else exit 2 after saying why."""
    if len(sys.argv) != 3:
        print("usage: %s PATH/TO/gnnd PATH/TO/gnnstat" % sys.argv[0], file=sys.stderr)
        sys.exit(2)
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        sys.exit(2)
    return tuple(os.path.abspath(a) for a in sys.argv[1:3])


def run_checks(bed, checks, arg, timed=False):
    """Run each check fn(arg) in order, printing "ok   <name>" (with the
    seconds it took if timed), "FAIL <name>: <why>" on a Failure, or
    "FAIL <name>" and the traceback on any other exception; then the tail
    of the filter's output if any failed. Returns (passed, failed)."""
    passed = failed = 0
    for fn in checks:
        t0 = time.monotonic()
        try:
            fn(arg)
            took = " (%.1f s)" % (time.monotonic() - t0) if timed else ""
            print("ok   %s%s" % (fn.__name__, took))
            passed += 1
        except Failure as e:
            print("FAIL %s: %s" % (fn.__name__, e))
            failed += 1
        except Exception:
            print("FAIL %s" % fn.__name__)
            traceback.print_exc(file=sys.stdout)
            failed += 1
        sys.stdout.flush()
    if failed and bed.filter is not None:
        print("--- gnnd output (tail)\n%s" % tail(bed.filter.log, 40))
    return passed, failed


# --------------------------------------------------------------------------
# trap-safe cleanup

def _register(bed):
    if bed not in _live_beds:
        _live_beds.append(bed)
    _install_handlers()


def _unregister(bed):
    with contextlib.suppress(ValueError):
        _live_beds.remove(bed)


def _cleanup_all():
    for bed in list(_live_beds):
        with contextlib.suppress(Exception):
            bed.down()


def _raise_exit(signum, frame):
    raise SystemExit(128 + signum)


_handlers_installed = False


def _install_handlers():
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    atexit.register(_cleanup_all)
    # SIGINT already raises KeyboardInterrupt; make SIGTERM/SIGHUP unwind
    # the stack too (with-blocks, finally, atexit) instead of killing us.
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, _raise_exit)


# --------------------------------------------------------------------------
# command line

def _sendraw(iface):
    """Internal: send hex-encoded frames from stdin out of iface."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for line in sys.stdin:
        line = line.strip()
        if line:
            s.send(bytes.fromhex(line))
    s.close()
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="gnn namespace test bed")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("up", help="make the bed, leave it up, print shell vars")
    p.add_argument("--prefix")
    p = sub.add_parser("down", help="tear the bed down")
    p.add_argument("--prefix", required=True)
    sub.add_parser("mem-args", help="set up hugepages; print EAL memory args")
    p = sub.add_parser("_sendraw")
    p.add_argument("iface")
    a = ap.parse_args(argv)

    if a.cmd == "_sendraw":
        return _sendraw(a.iface)
    if a.cmd == "mem-args":
        print(shlex.join(eal_memory_args()))
        return 0
    if a.cmd == "up":
        bed = TestBed(prefix=a.prefix)
        bed.up()
        _unregister(bed)  # leave it up when we exit
        sys.stdout.write(bed.shell_env())
        return 0
    if a.cmd == "down":
        TestBed(prefix=a.prefix).down()
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
