#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""How long a gnnd restart cuts the wire, measured on the namespace test bed.

usage: measure_restart.py [PATH/TO/gnnd [PATH/TO/gnnstat]] [--runs N]

A paced stream (2000 frames/s, numbered and time-stamped) crosses gnnd from
the inside; tcpdump on the outside end records when each frame arrives.
Each run: SIGTERM the running gnnd, start a new one the moment the old has
exited (what `systemctl restart` or Restart=always with RestartSec=0 does),
and time:

  exit      SIGTERM -> the old process has exited
  ready     new process spawned -> its control socket accepts (EAL init,
            mbuf pool, ports started, rules built, workers polling)
  first     new process spawned -> the first frame it forwards arrives
  restart   SIGTERM -> the first frame the new process forwards arrives
  gap       last frame the old process forwarded -> first the new one did:
            how long the wire is cut (frames sent meanwhile are lost)
  check     `gnnd -- --check -f CONF` on its own (systemd's ExecStartPre)

with hugepages (--in-memory) and with --no-huge -m 512. Benchmark style:
prints the figures (min / median / max over the runs), asserts nothing
about time; exits non-zero only when a run could not be measured.
Run as root with /usr/bin/python3.
"""

import argparse
import os
import platform
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # keep tests/integration free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
import testbed  # noqa: E402
from testbed import TestBed  # noqa: E402

PPS = 2000
MEMBERS = [
    {"name": "example-college", "mode": "enforce",
     "networks": ["198.51.100.0/24", "2001:db8:10::/48"],
     "mail_servers": ["198.51.100.25", "2001:db8:10::25"]},
]
HUGE = "hugepages (--in-memory)"
NOHUGE = "--no-huge -m 512"


def spawn_gnnd(bed, config, sock):
    """Start gnnd inline; returns (proc, t_spawn, t_ready), polling the
    control socket every 2 ms."""
    log = bed.workdir / "gnnd.log"
    cmd = bed.wire_cmd() + [bed.gnnd] + bed.eal_args() + \
        ["--", "-f", str(config), "-s", str(sock)]
    t_spawn = time.time()
    proc = bed.spawn(cmd, log)
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise testbed.BedError("gnnd exited %s:\n%s" % (proc.returncode,
                                                           testbed.tail(log)))
        if sock.exists():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                try:
                    s.connect(str(sock))
                    return proc, t_spawn, time.time()
                except OSError:
                    pass
        if time.monotonic() > deadline:
            raise testbed.BedError("gnnd not ready:\n%s" % testbed.tail(log))
        time.sleep(0.002)


def start_capture(bed, path):
    log = path.with_suffix(".log")
    cmd = ["ip", "netns", "exec", bed.ns_out, "tcpdump", "-n", "-B", "16384", "-i",
           bed.ns_if_out, "-Q", "in", "-U", "--immediate-mode", "-w", str(path),
           "udp and dst port 9"]
    proc = bed.spawn(cmd, log)
    deadline = time.monotonic() + 10
    while "listening on" not in testbed.tail(log):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise testbed.BedError("tcpdump did not start: %s" % testbed.tail(log))
        time.sleep(0.02)
    return proc


def arrivals(path):
    """(arrival time, seq) of the stream's frames in a pcap (µs stamps)."""
    data = Path(path).read_bytes()
    out, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        i = frame.find(b"GNNR")
        if i >= 0:
            out.append((sec + usec / 1e6, struct.unpack("!I", frame[i + 4:i + 8])[0]))
    return out


def stream(iface, seconds):
    """Internal: numbered UDP frames at PPS from a non-member, for seconds."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    mac = lambda m: bytes.fromhex(m.replace(":", ""))  # noqa: E731
    eth = mac(testbed.MAC_OUT) + mac(testbed.MAC_IN) + b"\x08\x00"
    src, dst = socket.inet_aton("198.18.0.10"), socket.inet_aton("192.0.2.99")
    t0, seq = time.monotonic(), 0
    while time.monotonic() - t0 < seconds:
        while seq < int((time.monotonic() - t0) * PPS):
            payload = b"GNNR" + struct.pack("!I", seq) + b"\0" * 10
            udp = struct.pack("!HHHH", 40000, 9, 8 + len(payload), 0) + payload
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), seq & 0xffff, 0, 64, 17,
                             0, src, dst)
            c = sum(struct.unpack("!10H", ip))
            c = (c & 0xffff) + (c >> 16)
            c = (c & 0xffff) + (c >> 16)
            ip = ip[:10] + struct.pack("!H", ~c & 0xffff) + ip[12:]
            try:
                s.send(eth + ip + udp)
            except OSError:
                pass
            seq += 1
        time.sleep(0.0005)
    return 0


def one_run(bed, config, sock, old):
    """Restart old (a running gnnd) under a stream; returns (figures, new proc)."""
    pcap = bed.workdir / ("restart-%d.pcap" % time.monotonic_ns())
    cap = start_capture(bed, pcap)
    sender = bed.spawn(["ip", "netns", "exec", bed.ns_in, testbed.PYTHON, Path(__file__),
                         "_stream", bed.ns_if_in, "4"], bed.workdir / "stream.log")
    time.sleep(1.5)
    t_term = time.time()
    old.send_signal(signal.SIGTERM)
    rc = old.wait(timeout=20)
    t_exit = time.time()
    bed.forget(old)
    if rc != 0:
        raise testbed.BedError("gnnd exit %d on SIGTERM" % rc)
    proc, t_spawn, t_ready = spawn_gnnd(bed, config, sock)
    sender.wait(timeout=30)
    bed.forget(sender)
    time.sleep(0.3)
    cap.send_signal(signal.SIGINT)
    cap.wait(timeout=10)
    bed.forget(cap)
    got = arrivals(pcap)
    pcap.unlink()
    before = [t for t, _ in got if t <= t_exit]
    after = [t for t, _ in got if t >= t_spawn]
    if not before or not after:
        raise testbed.BedError("no frame forwarded before the SIGTERM or after the restart "
                               "(%d, %d)" % (len(before), len(after)))
    first = min(after)
    return {
        "exit": t_exit - t_term,
        "ready": t_ready - t_spawn,
        "first": first - t_spawn,
        "restart": first - t_term,
        "gap": first - max(before),
    }, proc


def time_check(bed, config, runs):
    out = []
    for _ in range(runs):
        t0 = time.monotonic()
        p = subprocess.run([str(bed.gnnd), "--", "--check", "-f", str(config)],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise testbed.BedError("--check failed: %s" % p.stderr)
        out.append(time.monotonic() - t0)
    return out


def machine():
    cpus = os.cpu_count()
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = testbed._meminfo()
    return "%d vCPU (%s), %d MiB RAM, kernel %s; hugepages %d x %d kB" % (
        cpus, model, mem.get("MemTotal", 0) // 1024, platform.release(),
        mem.get("HugePages_Total", 0), mem.get("Hugepagesize", 0))


def fmt(xs):
    ms = [x * 1000 for x in xs]
    return "%7.0f %7.0f %7.0f" % (min(ms), statistics.median(ms), max(ms))


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "_stream":
        return stream(sys.argv[2], float(sys.argv[3]))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gnnd", nargs="?", default=str(testbed.GNND))
    ap.add_argument("gnnstat", nargs="?", default=str(testbed.GNNSTAT))
    ap.add_argument("--runs", type=int, default=int(os.environ.get("GNN_BENCH_RESTARTS", 5)))
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2
    huge = testbed.eal_memory_args()
    modes = ([HUGE] if huge == [] else []) + [NOHUGE]
    print("machine: %s" % machine())
    print("bed: net_af_packet vdevs on veths, -l 0,1 (1 worker), 1 queue pair per port, "
          "default mbuf pool; stream %d frames/s; %d runs per mode" % (PPS, a.runs))
    results = {}
    with TestBed(gnnd=os.path.abspath(a.gnnd), gnnstat=os.path.abspath(a.gnnstat)) as bed:
        config = bed.write_config(MEMBERS)
        sock = bed.workdir / "gnnd.sock"
        checks = time_check(bed, config, a.runs)
        for mode in modes:
            bed._mem_args = [] if mode == HUGE else ["--no-huge", "-m", "512"]
            proc, _, _ = spawn_gnnd(bed, config, sock)
            runs = []
            for _ in range(a.runs):
                fig, proc = one_run(bed, config, sock, proc)
                runs.append(fig)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
            bed.forget(proc)
            results[mode] = runs
    print("\n%-28s %-9s %7s %7s %7s   (ms)" % ("memory", "figure", "min", "median", "max"))
    print("%-28s %-9s %s" % ("(either)", "check", fmt(checks)))
    for mode, runs in results.items():
        for k in ("exit", "ready", "first", "restart", "gap"):
            print("%-28s %-9s %s" % (mode, k, fmt([r[k] for r in runs])))
    if HUGE not in results:
        print("(no hugepages could be set up: --no-huge only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
