#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""What reloads cost the worker: its rate in steady state and during reloads.

usage: bench_reload_storm.py PATH/TO/gnnd PATH/TO/gnnstat

gnnd runs with one worker: net_pcap0 (inside) replays a capture forever
(infinite_rx) and net_null0 (outside) drops what it is sent and receives
nothing. The capture's frames come from the members of a 1,000-member file
(tests/scale/make_config.py): TCP SYNs to port 25 from workstations
(blocked) and from mail servers (allowed), and UDP from outside any member.
The worker's rate is the inside port's rx_packets delta between two
"gnnstat --json" snapshots, over their own timestamps. Phases, each
GNN_BENCH_SECONDS long (default 4):

  steady       nothing else happens;
  reloads      "gnnstat reload" of the 1,000-member file back to back
               (GNN_BENCH_RELOADS of them, default 20; more if they end
               before the phase does);
  sighup       a SIGHUP every 80 ms (220 in 17.7 s is where the dip was
               seen): gnnd coalesces those that come during a build;
  check-loop   "gnnd --check" of the same file over and over on the
               control lcore's CPU: the same load and build in another
               process, never published to the worker;
  busy-core    no reload: a busy loop on the control lcore's CPU, as
               much as a build uses there;
with a steady phase between any two others, since the machine drifts.

This script, gnnstat and the busy loop run on the control lcore's CPU, so
the worker's CPU carries only the worker (and whatever else the machine
runs). Prints a table (mean and lowest rate per phase, ratio to steady)
and the reload figures; asserts nothing about time. On a shared machine
the numbers are noisy: compare phases of one run, not runs.
"""

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import pcaprun  # noqa: E402
import testbed  # noqa: E402  (eal_memory_args: hugepages when there are some)

PYTHON = "/usr/bin/python3"
MAKE_CONFIG = os.path.join(REPO, "tests", "scale", "make_config.py")
CONTROL_CPU, WORKER_CPU = 0, 1
SAMPLE_EVERY = 0.25
MEMBERS = 1000
FRAMES = 1024


def frames():
    """SYNs to 25 from member workstations and servers, UDP from elsewhere."""
    out = []
    eth = bytes.fromhex("02005e009999") + bytes.fromhex("02005e000101") + b"\x08\x00"
    for k in range(FRAMES):
        m = k % MEMBERS
        net = (198 << 24) | (18 << 16) | (2 * m)  # member m's /31, its server the first address
        kind = k % 4
        if kind < 2:
            src, proto, dport = net + 1, 6, 25      # workstation: blocked
        elif kind == 2:
            src, proto, dport = net, 6, 25          # mail server: allowed
        else:
            src, proto, dport = (192 << 24) | (0 << 16) | (2 << 8) | (k & 255), 17, 9
        if proto == 6:
            l4 = struct.pack("!HHIIBBHHH", 40000 + k, dport, k, 0, 5 << 4, 0x02, 64240, 0, 0)
        else:
            l4 = struct.pack("!HHHH", 40000 + k, dport, 8 + 18, 0) + b"x" * 18
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), k, 0, 64, proto, 0,
                         src.to_bytes(4, "big"), bytes([192, 0, 2, 1]))
        out.append(eth + ip + l4)
    return out


def snapshot(gnnstat, sock):
    p = subprocess.run([gnnstat, "-s", sock, "--json"], capture_output=True, text=True,
                       timeout=30)
    if p.returncode != 0:
        raise RuntimeError("gnnstat --json: %s" % p.stderr.strip())
    s = json.loads(p.stdout)
    rx = next(x["rx_packets"] for x in s["ports"] if x["name"] == "net_pcap0")
    misses = s.get("datapath", {}).get("cache_misses", 0)
    return s["time"], rx, s["reloads"], s["reload_failures"], misses


class Sampler:
    """Rates between successive snapshots, on a thread, until stopped."""

    def __init__(self, gnnstat, sock):
        self.gnnstat, self.sock = gnnstat, sock
        self.rates, self.stop_flag = [], threading.Event()
        self.first = self.last = None
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        prev = snapshot(self.gnnstat, self.sock)
        self.first = prev
        while not self.stop_flag.is_set():
            time.sleep(SAMPLE_EVERY)
            cur = snapshot(self.gnnstat, self.sock)
            if cur[0] > prev[0]:
                self.rates.append((cur[1] - prev[1]) / (cur[0] - prev[0]))
            prev = cur
        self.last = prev

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        self.t.join()

    def mean(self, field=1):
        """Per second over the whole phase, first to last snapshot."""
        t0, t1 = self.first[0], self.last[0]
        return (self.last[field] - self.first[field]) / (t1 - t0) if t1 > t0 else 0.0


def busy_loop(seconds):
    """A child spinning on the control CPU for seconds."""
    code = "import time\nt=time.monotonic()+%f\nwhile time.monotonic()<t: pass\n" % seconds
    return subprocess.Popen([PYTHON, "-c", code])


def main():
    if len(sys.argv) != 3:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    gnnd, gnnstat = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    seconds = float(os.environ.get("GNN_BENCH_SECONDS", "4"))
    n_reloads = int(os.environ.get("GNN_BENCH_RELOADS", "20"))
    if os.cpu_count() < 2:
        print("needs two CPUs: one for the control lcore, one for the worker")
        return 77
    os.sched_setaffinity(0, {CONTROL_CPU})
    work = tempfile.mkdtemp(prefix="gnn-bench-storm-")
    conf, cap, sock, log = (os.path.join(work, n) for n in ("gnn.conf", "in.pcap", "gnnd.sock",
                                                            "gnnd.log"))
    subprocess.run([PYTHON, MAKE_CONFIG, "--members", str(MEMBERS), "--inside", "net_pcap0",
                    "--outside", "net_null0", "-o", conf], check=True)
    pcaprun.write_pcap(cap, frames())
    prefix = "gnn-bench-storm-%d" % os.getpid()
    argv = [gnnd, "-l", "%d,%d" % (CONTROL_CPU, WORKER_CPU), "--no-pci", "--file-prefix", prefix]
    mem = testbed.eal_memory_args()
    argv += mem + (["--in-memory"] if not mem else [])
    argv += ["--vdev=net_pcap0,rx_pcap=%s,infinite_rx=1" % cap, "--vdev=net_null0,no-rx=1",
             "--", "-f", conf, "-s", sock]
    logf = open(log, "wb")
    proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT)
    rows = []
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                print("gnnd exited %d:\n%s" % (proc.returncode, pcaprun.log_tail(log)))
                return 1
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(sock)
                break
            except OSError:
                if time.monotonic() > deadline:
                    print("gnnd not ready:\n%s" % pcaprun.log_tail(log))
                    return 1
                time.sleep(0.1)
        print("gnnd: one worker; EAL memory: %s; this script and gnnstat on CPU %d (the "
              "control lcore's), the worker on CPU %d" % (" ".join(mem) or "hugepages",
                                                          CONTROL_CPU, WORKER_CPU))
        time.sleep(1.0)  # warm up

        def phase(name, action):
            with Sampler(gnnstat, sock) as smp:
                extra = action()
            rows.append((name, smp.mean(), min(smp.rates or [0]), smp.mean(4), extra,
                         smp.last[2] - smp.first[2], smp.last[3] - smp.first[3]))

        def steady():
            phase("steady", lambda: time.sleep(seconds))

        steady()

        def reloads():
            t0, n, times = time.monotonic(), 0, []
            while n < n_reloads or time.monotonic() - t0 < seconds:
                t1 = time.monotonic()
                p = subprocess.run([gnnstat, "-s", sock, "reload"], capture_output=True,
                                   text=True, timeout=60)
                times.append(time.monotonic() - t1)
                if p.returncode != 0:
                    print("reload failed: %s" % p.stderr.strip())
                n += 1
            took = time.monotonic() - t0
            times.sort()
            return "%d reloads in %.1f s (%.1f/s), each %.0f ms median, %.0f ms longest" % (
                n, took, n / took, 1000 * times[len(times) // 2], 1000 * times[-1])
        phase("reloads", reloads)
        steady()

        def sighups():
            t0, n = time.monotonic(), 0
            while time.monotonic() - t0 < seconds:
                proc.send_signal(signal.SIGHUP)
                n += 1
                time.sleep(0.08)
            time.sleep(0.5)
            return "%d SIGHUPs" % n
        phase("sighup", sighups)
        steady()

        def checks():
            t0, n = time.monotonic(), 0
            while time.monotonic() - t0 < seconds:
                subprocess.run([gnnd, "--check", "-f", conf], capture_output=True, timeout=60)
                n += 1
            return "%d x gnnd --check (the same build, never published)" % n
        phase("check-loop", checks)
        steady()

        def busy():
            b = busy_loop(seconds)
            b.wait()
            return "a busy loop on CPU %d" % CONTROL_CPU
        phase("busy-core", busy)
        steady()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        logf.close()
        for base in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
                                                   "dpdk")):
            subprocess.run(["rm", "-rf", os.path.join(base, prefix)])
        subprocess.run(["rm", "-rf", work])

    print("%-11s %9s %9s %6s %11s %8s  %s" % ("phase", "mean Mpps", "low Mpps", "ratio",
                                              "misses/s", "reloads", "what ran"))
    for i, (name, mean, low, misses, extra, nrel, nfail) in enumerate(rows):
        # Against the steady phases around it: the machine drifts.
        around = [rows[j][1] for j in (i - 1, i + 1)
                  if 0 <= j < len(rows) and rows[j][0] == "steady"]
        ref = sum(around) / len(around) if around and name != "steady" else mean
        print("%-11s %9.2f %9.2f %6.2f %11.0f %8d  %s%s" % (
            name, mean / 1e6, low / 1e6, mean / ref if ref else 0, misses, nrel, extra or "",
            " (%d failed)" % nfail if nfail else ""))
    print("(rates from %.2f s snapshots; mean over the whole phase, low its slowest interval;\n"
          " ratio to the mean of the steady phases next to it; misses/s: the workers' verdict\n"
          " cache misses, i.e. rte_acl lookups)" % SAMPLE_EVERY)
    return 0


if __name__ == "__main__":
    sys.exit(main())
