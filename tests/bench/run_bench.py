#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Throughput of gnnd against dpdk-testpmd (io) and l3fwd (--lookup acl).

Run by tools/bench, which builds the programs and passes their paths. For
each traffic case and size it writes a gnnd config (tests/scale/
make_config.py), the capture (make_pcap.py) and the same rules for l3fwd
(make_l3fwd_rules.py), then runs gnnd, testpmd and l3fwd in turn, ROUNDS
times, on the same virtual devices and lcores:

    -l 0,1 (main lcore 0, one worker on lcore 1) --no-pci --no-huge -m MEM
    --vdev net_pcap0,rx_pcap=CASE.pcap,infinite_rx=1,tx_pcap=/dev/null,tx_pcap=/dev/null
    --vdev net_null0,no-rx=1

net_pcap replays the capture in a loop as fast as the worker pulls it, so
the rate at which frames leave net_pcap0 is the program's throughput. Each
run waits until the program forwards, lets it warm up, then reads the
program's own counters at both ends of a window: gnnd's `gnnstat --json`
(ports[inside].rx_packets and the snapshot's time), testpmd's and l3fwd's
port 0 ipackets through DPDK telemetry (/ethdev/stats,0). A gnnd built with
-Dstage_cycles=true runs once per case for the cycles per stage.

It prints figures and asserts nothing about time. Every process it starts
is stopped (SIGINT, then SIGKILL), every file it writes is removed, except
the results it is asked to keep (--results).
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_CONFIG = os.path.join(HERE, "..", "scale", "make_config.py")
MAKE_PCAP = os.path.join(HERE, "make_pcap.py")
MAKE_RULES = os.path.join(HERE, "make_l3fwd_rules.py")
PY = "/usr/bin/python3"
L3FWD_MAX_RULES = 1000000  # MAX_ACL_RULE_NUM as tools/bench builds l3fwd (DPDK's: 100,000)
SPREAD_FRAMES = 1 << 20

# (label, members, prefixes or None for make_config's default)
SIZES = {
    "10": (10, None),
    "1k": (1000, None),
    "100k": (100000, 200000),
    "100k/250k": (100000, None),
}
# case: (description, make_config --v4 as a function of members or None)
CASES = {
    "v4-worst": ("IPv4 worst case: SYNs to 25 from workstations, all dropped", None),
    "allowed": ("IPv4 SYNs to 25 from listed mail servers, all forwarded", None),
    "v6-worst": ("IPv6 worst case, all dropped", lambda m: 0),
    "vlan": ("802.1Q-tagged IPv4 worst case, all dropped", None),
    "mix": ("typical mix: 0.1% TCP/25, 60% TCP/443, rest UDP/53; v4 and v6", lambda m: m // 2),
    "spread": ("IPv6 worst case, 1,048,576 distinct sources", lambda m: 0),
}
FULL_PLAN = [(c, s) for c in CASES for s in ("10", "1k", "100k")]
FULL_PLAN.insert(3, ("v4-worst", "100k/250k"))
QUICK_PLAN = [("v4-worst", "10"), ("v4-worst", "1k"), ("mix", "1k"), ("spread", "10")]

HUGE_NR = "/proc/sys/vm/nr_hugepages"


class Hugepages:
    """2 MiB pages reserved for the runs, given back at the end."""

    def __init__(self):
        self.added = 0
        self.orig = None

    @staticmethod
    def free():
        with open("/proc/meminfo") as f:
            m = re.search(r"HugePages_Free:\s+(\d+)", f.read())
        return int(m.group(1)) if m else 0

    @staticmethod
    def total():
        with open(HUGE_NR) as f:
            return int(f.read())

    def ensure(self, pages):
        """At least pages free 2 MiB pages (reserving more if need be)?"""
        try:
            if not any(l.split()[2] == "hugetlbfs" for l in open("/proc/mounts")):
                return False
            free = self.free()
            if free >= pages:
                return True
            before = self.total()
            if self.orig is None:
                self.orig = before
            with open(HUGE_NR, "w") as f:
                f.write(str(before + pages - free))
            self.added += max(0, self.total() - before)
            return self.free() >= pages
        except OSError:
            return False

    def release(self):
        if self.added == 0:
            return
        try:
            with open(HUGE_NR, "w") as f:
                f.write(str(max(self.orig, self.total() - self.added)))
        except OSError:
            pass
        self.added = 0


huge = Hugepages()
procs = []  # every process started, for cleanup
prefixes = []  # DPDK runtime directories (--file-prefix)


def log(msg):
    print(msg, flush=True)


class Failed(Exception):
    pass


# -- processes -----------------------------------------------------------

def start(cmd, logpath, env=None, stdin=None):
    f = open(logpath, "wb")
    p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=stdin, env=env,
                         start_new_session=True)
    f.close()
    procs.append(p)
    return p


def stop(p, timeout=20):
    if p.poll() is None:
        try:
            os.kill(p.pid, signal.SIGINT)
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
        except ProcessLookupError:
            pass
    if p.stdin is not None:
        p.stdin.close()
    if p in procs:
        procs.remove(p)


def cleanup():
    for p in list(procs):
        stop(p, timeout=5)
    for pre in list(prefixes):
        shutil.rmtree(os.path.join("/var/run/dpdk", pre), ignore_errors=True)
        prefixes.remove(pre)


def on_signal(signum, frame):
    raise KeyboardInterrupt()


# -- counters ------------------------------------------------------------

def telemetry(prefix, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    try:
        s.connect("/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix)
        s.recv(1 << 16)  # the greeting
        s.send(cmd.encode())
        return json.loads(s.recv(1 << 20).decode())
    finally:
        s.close()


def gnnstat_json(args, sock, patience=0):
    """One snapshot; retried for up to patience seconds (a busy control lcore)."""
    t_end = time.monotonic() + patience
    while True:
        r = subprocess.run([args.gnnstat, "-s", sock, "--json"], capture_output=True, timeout=60)
        if r.returncode == 0:
            return json.loads(r.stdout)
        if time.monotonic() >= t_end:
            return None
        time.sleep(0.2)


def port_rx(prefix):
    """Port 0's ipackets through telemetry, and when (the middle of the call)."""
    t0 = time.monotonic()
    n = telemetry(prefix, "/ethdev/stats,0")["/ethdev/stats"]["ipackets"]
    return (t0 + time.monotonic()) / 2, n


def rate(a, b):
    return (b[1] - a[1]) / (b[0] - a[0]) / 1e6


def inside_rx(stats):
    return next(p["rx_packets"] for p in stats["ports"] if p["role"] == "inside")


# -- one run -------------------------------------------------------------

def eal(args, tag, pcap, mem):
    """mem: (MiB, hugepages or not)."""
    prefix = "gnnbench%d-%s" % (os.getpid(), tag)
    prefixes.append(prefix)
    vdev0 = ("net_pcap0,rx_pcap=%s,infinite_rx=1,tx_pcap=/dev/null,tx_pcap=/dev/null" % pcap)
    memargs = ["-m", str(mem[0])] + (["--in-memory"] if mem[1] else ["--no-huge"])
    return prefix, ["-l", "0,1", "--main-lcore", "0", "--no-pci"] + memargs + [
        "--file-prefix", prefix, "--vdev", vdev0, "--vdev", "net_null0,no-rx=1"]


def wait_until(pred, timeout, p, what, logpath):
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if p.poll() is not None:
            raise Failed("%s exited (%d) before it forwarded; last lines of its log:\n%s"
                         % (what, p.returncode, tail(logpath)))
        try:
            v = pred()
            if v:
                return v
        except (OSError, ValueError, KeyError, TypeError, StopIteration,
                subprocess.TimeoutExpired):
            pass
        time.sleep(0.2)
    raise Failed("%s did not forward within %d s:\n%s" % (what, timeout, tail(logpath)))


def tail(path, n=12):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def run_gnnd(args, w, binary, conf, pcap, mem, mbufs, tag, reloads=0):
    """Start gnnd, measure; returns a dict of figures."""
    prefix, ealargs = eal(args, tag, pcap, mem)
    sock = os.path.join(w, tag + ".sock")
    logpath = os.path.join(w, tag + ".log")
    p = start([binary] + ealargs + ["--", "-f", conf, "-s", sock, "--mbufs", str(mbufs)],
              logpath)
    res = {}
    try:
        # Ready once the control socket exists (gnnd makes it after every port
        # started) and frames flow; telemetry answers even when the control
        # lcore is too busy to.
        wait_until(lambda: os.path.exists(sock) and port_rx(prefix)[1] > 0, args.start_timeout,
                   p, "gnnd", logpath)
        time.sleep(args.warmup)
        ta = port_rx(prefix)
        a = gnnstat_json(args, sock, patience=30)
        time.sleep(args.window)
        tb = port_rx(prefix)
        b = gnnstat_json(args, sock, patience=30)
        res["mpps"] = rate(ta, tb)
        if a is None or b is None:
            # The rate stands (telemetry); gnnd's own figures are missing.
            res["gnnstat_silent"] = True
            log("   gnnd's control socket gave no stats for 30 s (the rate is telemetry's)")
            return res
        # gnnd's own view: its inside port's rx over its snapshots' times
        res["mpps_gnnstat"] = (inside_rx(b) - inside_rx(a)) / (b["time"] - a["time"]) / 1e6
        res["gnnstat_seconds"] = b["time"] - a["time"]
        res["cache_hit"] = ratio(b["datapath"]["cache_hits"] - a["datapath"]["cache_hits"],
                                 b["datapath"]["cache_misses"] - a["datapath"]["cache_misses"])
        res["alg"] = b["datapath"].get("classify_alg")
        sa, sb = a["datapath"].get("stage_cycles"), b["datapath"].get("stage_cycles")
        if sa and sb:
            n = sb["packets"] - sa["packets"]
            st = {k: (sb[k] - sa[k]) / n for k in ("rx", "parse", "classify", "judge", "act", "tx")}
            total = (b["time"] - a["time"]) * sb["tsc_hz"]
            st["other"] = (total - sum(sb[k] - sa[k] for k in st)) / n
            st["total"] = total / n
            st["packets_per_burst"] = n / max(1, sb["bursts"] - sa["bursts"])
            res["stages"] = st
        if reloads:
            res.update(reload_test(args, prefix, sock, logpath, reloads))
    finally:
        stop(p)
        shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)
        prefixes.remove(prefix)
    if reloads:
        res.update(final_counts(logpath))
    return res


def ratio(hits, misses):
    return hits / (hits + misses) if hits + misses else None


def reload_test(args, prefix, sock, logpath, n):
    """n reloads back to back while the traffic runs."""
    a = port_rx(prefix)
    walls = []
    for _ in range(n):
        t0 = time.monotonic()
        r = subprocess.run([args.gnnstat, "-s", sock, "reload"], capture_output=True, timeout=300)
        walls.append(time.monotonic() - t0)
        if r.returncode != 0:
            raise Failed("gnnstat reload failed: %s" % r.stdout.decode() + r.stderr.decode())
    b = port_rx(prefix)
    gen = gnnstat_json(args, sock, patience=60)["generation"]
    with open(logpath, errors="replace") as f:
        builds = [float(x) for x in re.findall(r"reloaded .* built in ([0-9.]+) s", f.read())]
    return {"reloads": n, "reload_wall": walls, "reload_build": builds,
            "mpps_reloading": rate(a, b), "generation": gen}


def final_counts(logpath):
    """gnnd's final statistics, printed once the workers have stopped."""
    text = open(logpath, errors="replace").read()
    m = re.search(r"total rx (\d+) forwarded (\d+) blocked (\d+) would_block (\d+) allowed (\d+) "
                  r"malformed_dropped (\d+)", text)
    ports = re.findall(r"port (\S+)\s+(inside|outside)\s+rx (\d+) tx (\d+) missed (\d+) "
                       r"tx_dropped (\d+)", text)
    if m is None:
        return {"lost": None}
    rx, fwd, blk, _, _, mal = (int(x) for x in m.groups())
    return {"final_rx": rx, "lost": rx - fwd - blk - mal,
            "missed": sum(int(x[4]) for x in ports), "tx_dropped": sum(int(x[5]) for x in ports)}


def run_dpdk_app(args, w, name, cmd_tail, pcap, mem, tag, env=None, stdin=None):
    prefix, ealargs = eal(args, tag, pcap, mem)
    logpath = os.path.join(w, tag + ".log")
    binary = args.testpmd if name == "testpmd" else args.l3fwd
    p = start([binary] + ealargs + ["--"] + cmd_tail, logpath, env=env, stdin=stdin)

    try:
        wait_until(lambda: port_rx(prefix)[1] > 0, args.start_timeout, p, name, logpath)
        time.sleep(args.warmup)
        a = port_rx(prefix)
        time.sleep(args.window)
        return {"mpps": rate(a, port_rx(prefix))}
    finally:
        stop(p)
        shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)
        prefixes.remove(prefix)


def run_testpmd(args, w, pcap, mem, mbufs, tag):
    return run_dpdk_app(args, w, "testpmd",
                        ["--forward-mode=io", "--nb-cores=1", "--rxq=1", "--txq=1",
                         "--total-num-mbufs=%d" % mbufs, "--auto-start"],
                        pcap, mem, tag, stdin=subprocess.PIPE)


def run_l3fwd(args, w, pcap, mem, rules4, rules6, frames, tag):
    # net_pcap preloads every frame into the pool: the same number of mbufs
    # as gnnd and testpmd get, through the floor tools/bench's l3fwd reads
    env = dict(os.environ, LD_PRELOAD=args.shim, L3FWD_MIN_MBUFS=str(frames + 16384))
    return run_dpdk_app(args, w, "l3fwd",
                        ["-p", "0x3", "--config=(0,0,1)", "--lookup", "acl",
                         "--rule_ipv4=" + rules4, "--rule_ipv6=" + rules6, "--parse-ptype"],
                        pcap, mem, tag, env=env)


# -- one case ------------------------------------------------------------

def gnnd_check(args, conf):
    r = subprocess.run([args.gnnd, "--", "-f", conf, "--check"], capture_output=True, timeout=600)
    out = r.stdout.decode()
    m = re.search(r"rules: (\d+) IPv4, (\d+) IPv6; ACL memory ([0-9.]+) (\w+)", out)
    b = re.search(r"loaded in ([0-9.]+) s, rules built in ([0-9.]+) s", out)
    if r.returncode != 0 or m is None or b is None:
        raise Failed("gnnd --check %s failed:\n%s%s" % (conf, out, r.stderr.decode()))
    scale = {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}.get(m.group(4), 1)
    return {"rules4": int(m.group(1)), "rules6": int(m.group(2)),
            "acl_mib": float(m.group(3)) * scale, "load_s": float(b.group(1)),
            "build_s": float(b.group(2))}


def prepare(args, w, case, size):
    members, prefixes_n = SIZES[size]
    v4 = CASES[case][1]
    lay = []
    if v4 is not None:
        lay += ["--v4", str(v4(members))]
    if prefixes_n is not None:
        lay += ["--prefixes", str(prefixes_n)]
    base = os.path.join(w, "%s-%s" % (case, size.replace("/", "-")))
    conf, pcap = base + ".conf", base + ".pcap"
    r4, r6 = base + ".rules4", base + ".rules6"
    subprocess.run([PY, MAKE_CONFIG, "--members", str(members), "--inside", "net_pcap0",
                    "--outside", "net_null0", "-o", conf] + lay, check=True)
    frames = SPREAD_FRAMES if case == "spread" else max(65536, members)
    if case == "spread" and args.quick:
        frames = SPREAD_FRAMES // 4
    subprocess.run([PY, MAKE_PCAP, "--case", case, "--members", str(members), "--frames",
                    str(frames), "-o", pcap] + lay, check=True)
    out = subprocess.run([PY, MAKE_RULES, conf, "--ipv4", r4, "--ipv6", r6], check=True,
                         capture_output=True).stdout
    counts = json.loads(out)
    return conf, pcap, r4, r6, frames, counts


def l3fwd_skip(case, counts, frames):
    if case == "vlan":
        return "l3fwd reads no VLAN tag: it drops tagged frames as non-IP"
    if max(counts.values()) > L3FWD_MAX_RULES:
        return ("needs %d rules in one context; l3fwd holds %d (MAX_ACL_RULE_NUM)"
                % (max(counts.values()), L3FWD_MAX_RULES))
    return None


def run_case(args, w, case, size, reloads):
    conf, pcap, r4, r6, frames, counts = prepare(args, w, case, size)
    chk = gnnd_check(args, conf)
    mbufs = frames + 16384
    mib = 6144 if frames > 200000 else 1024
    use_huge = args.memory == "huge" or (args.memory == "auto" and mib <= 1024)
    if use_huge and not huge.ensure(mib // 2):
        if args.memory == "huge":
            raise Failed("cannot reserve %d hugepages of 2 MiB" % (mib // 2))
        use_huge = False
    mem = (mib, use_huge)
    skip = l3fwd_skip(case, counts, frames)
    res = {"case": case, "size": size, "frames": frames, "check": chk, "l3fwd_rules": counts,
           "l3fwd_skip": skip,
           "memory": ("-m %d --in-memory (2 MiB hugepages)" if use_huge else "-m %d --no-huge")
           % mib, "gnnd": [], "testpmd": [], "l3fwd": []}
    tag = "%s-%s" % (case, size.replace("/", "-"))
    for r in range(args.rounds):
        g = run_gnnd(args, w, args.gnnd, conf, pcap, mem, mbufs, "g-%s-%d" % (tag, r))
        res["gnnd"].append(g["mpps"])
        res.setdefault("gnnd_gnnstat", []).append(g.get("mpps_gnnstat"))
        if g.get("gnnstat_silent"):
            res["gnnstat_silent"] = res.get("gnnstat_silent", 0) + 1
        res["cache_hit"] = g.get("cache_hit")
        res["alg"] = g.get("alg")
        res["testpmd"].append(run_testpmd(args, w, pcap, mem, mbufs, "t-%s-%d" % (tag, r))["mpps"])
        if skip is None:
            res["l3fwd"].append(run_l3fwd(args, w, pcap, mem, r4, r6, frames,
                                          "l-%s-%d" % (tag, r))["mpps"])
    if args.gnnd_stages:
        s = run_gnnd(args, w, args.gnnd_stages, conf, pcap, mem, mbufs, "s-" + tag)
        res["stages"] = s.get("stages")
        res["stages_mpps"] = s["mpps"]
        if s.get("gnnstat_silent"):
            res["gnnstat_silent"] = res.get("gnnstat_silent", 0) + 1
    if reloads:
        res["reload"] = run_gnnd(args, w, args.gnnd, conf, pcap, mem, mbufs, "r-" + tag,
                                 reloads=reloads)
    for f in (conf, pcap, r4, r6):
        os.unlink(f)
    return res


# -- report --------------------------------------------------------------

def med(xs):
    return statistics.median(xs) if xs else None


def fmt_rate(xs):
    if not xs:
        return "n/a"
    if len(xs) == 1:
        return "%.2f" % xs[0]
    return "%.2f (%.2f–%.2f)" % (med(xs), min(xs), max(xs))


def fmt_ratio(a, b):
    return "%.2f" % (med(a) / med(b)) if a and b else "n/a"


def report(results, meta):
    lines = []
    out = lines.append
    out("Throughput, Mpps: median (min–max) of %d round(s); %s; %s" % (
        meta["rounds"], meta["windows"], meta["cpu"]))
    out("")
    out("| case | members | frames | memory | gnnd | testpmd io | l3fwd acl | gnnd/testpmd "
        "| gnnd/l3fwd |")
    out("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        out("| %s | %s | %d | %s | %s | %s | %s | %s | %s |" % (
            r["case"], r["size"], r["frames"], "hugepages" if "huge" in r["memory"] and
            "no-huge" not in r["memory"] else "no-huge", fmt_rate(r["gnnd"]),
            fmt_rate(r["testpmd"]), fmt_rate(r["l3fwd"]), fmt_ratio(r["gnnd"], r["testpmd"]),
            fmt_ratio(r["gnnd"], r["l3fwd"])))
    out("")
    out("gnnd's rules (gnnd --check) and cycles per packet by stage (-Dstage_cycles=true build)")
    out("")
    out("| case | members | rules v4/v6 | ACL MiB | build s | cache hits | rx | parse | classify "
        "| judge | act | tx | loop | total | Mpps (stage build) |")
    out("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        c, st = r["check"], r.get("stages") or {}
        hit = "%.0f%%" % (100 * r["cache_hit"]) if r.get("cache_hit") is not None else "n/a"

        def cyc(k):
            return "%.0f" % st[k] if k in st else "n/a"
        out("| %s | %s | %d/%d | %.2f | %.2f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["case"], r["size"], c["rules4"], c["rules6"], c["acl_mib"], c["build_s"], hit,
            cyc("rx"), cyc("parse"), cyc("classify"), cyc("judge"), cyc("act"), cyc("tx"), cyc("other"),
            cyc("total"), "%.2f" % r["stages_mpps"] if r.get("stages_mpps") else "n/a"))
    silent = [r for r in results if r.get("gnnstat_silent")]
    if silent:
        out("")
        out("gnnd's control socket answered no stats request for 30 s (its rate is telemetry's; "
            "no cache or stage figures) in %d run(s) of: %s" % (
                sum(r["gnnstat_silent"] for r in silent),
                ", ".join("%s %s" % (r["case"], r["size"]) for r in silent)))
    notes = [(r["case"], r["size"], r["l3fwd_skip"]) for r in results if r["l3fwd_skip"]]
    if notes:
        out("")
        out("l3fwd not run:")
        for c, s, why in notes:
            out("- %s %s: %s" % (c, s, why))
    for r in results:
        rl = r.get("reload")
        if not rl:
            continue
        out("")
        out("Reloads during %s %s: %d reloads (generation %d), gnnstat reload wall median %.2f s "
            "(%.2f–%.2f), rules built in median %.2f s; %.2f Mpps while reloading (%.2f before);"
            % (r["case"], r["size"], rl["reloads"], rl["generation"],
               med(rl["reload_wall"]), min(rl["reload_wall"]), max(rl["reload_wall"]),
               med(rl["reload_build"]) if rl["reload_build"] else float("nan"),
               rl["mpps_reloading"], rl["mpps"]))
        out("packets lost over the run: %s (rx %s = forwarded + blocked + malformed_dropped; "
            "port missed %s, tx_dropped %s)" % (rl.get("lost"), rl.get("final_rx"),
                                               rl.get("missed"), rl.get("tx_dropped")))
    return "\n".join(lines)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
    return "%s, %d cores" % (m.group(1) if m else "unknown CPU", os.cpu_count())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gnnd", required=True)
    ap.add_argument("--gnnd-stages", help="gnnd built with -Dstage_cycles=true")
    ap.add_argument("--gnnstat", required=True)
    ap.add_argument("--testpmd", required=True)
    ap.add_argument("--l3fwd", required=True)
    ap.add_argument("--shim", required=True, help="offload_shim.so for l3fwd")
    ap.add_argument("--quick", action="store_true",
                    help="one round, short windows, four cases: checks the harness")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds before the window")
    ap.add_argument("--window", type=float, default=4.0, help="seconds measured")
    ap.add_argument("--reloads", type=int, default=20,
                    help="reloads during the IPv4 worst case at its largest size")
    ap.add_argument("--only", action="append", default=[],
                    help="CASE or CASE:SIZE to run (repeatable); default: all")
    ap.add_argument("--memory", choices=["auto", "huge", "nohuge"], default="auto",
                    help="EAL memory: 2 MiB hugepages (reserved for the run and given back), "
                         "--no-huge, or auto: hugepages where 1 GiB does (all but the "
                         "1M-frame case) and the pages can be had")
    ap.add_argument("--start-timeout", type=float, default=180)
    ap.add_argument("--results", help="also write the results here (.json and .md)")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.warmup, args.window, args.reloads = 1, 1.0, 2.0, 3
    plan = QUICK_PLAN if args.quick else FULL_PLAN
    if args.only:
        plan = [(c, s) for c, s in FULL_PLAN + QUICK_PLAN
                if c in args.only or "%s:%s" % (c, s) in args.only]
        plan = list(dict.fromkeys(plan))
    # the largest v4-worst size: most members, then most prefixes (None: make_config's 2.5 each)
    reload_at = max((s for c, s in plan if c == "v4-worst"),
                    key=lambda s: (SIZES[s][0], SIZES[s][1] or 1 << 40), default=None)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    w = tempfile.mkdtemp(prefix="gnn-bench-")
    results, failed = [], []
    t_start = time.monotonic()
    meta = {"rounds": args.rounds, "windows": "%.0f s warm-up, %.0f s window"
            % (args.warmup, args.window), "load_before": os.getloadavg(), "cpu": cpu_model()}
    try:
        for case, size in plan:
            log("== %s, %s members: %s" % (case, size, CASES[case][0]))
            try:
                r = run_case(args, w, case, size,
                             args.reloads if case == "v4-worst" and size == reload_at else 0)
            except Failed as e:
                # the other cases still run; this one is reported as failed
                log("bench: %s %s failed: %s" % (case, size, e))
                failed.append((case, size, str(e).splitlines()[0]))
                cleanup()
                continue
            log("   gnnd %s  testpmd %s  l3fwd %s%s" % (
                fmt_rate(r["gnnd"]), fmt_rate(r["testpmd"]), fmt_rate(r["l3fwd"]),
                "  (%s)" % r["l3fwd_skip"] if r["l3fwd_skip"] else ""))
            results.append(r)
    except KeyboardInterrupt:
        log("bench: interrupted; cleaning up")
        return 130
    except (Failed, subprocess.CalledProcessError) as e:
        log("bench: %s" % e)
        return 1
    finally:
        cleanup()
        huge.release()
        shutil.rmtree(w, ignore_errors=True)
    meta["load_after"] = os.getloadavg()
    meta["minutes"] = (time.monotonic() - t_start) / 60
    text = report(results, meta)
    if failed:
        text += "\n\nfailed:\n" + "\n".join("- %s %s: %s" % f for f in failed)
    log("")
    log(text)
    log("")
    text += ("\n\nload average before %.2f %.2f %.2f, after %.2f %.2f %.2f; %.0f minutes"
             % (meta["load_before"] + meta["load_after"] + (meta["minutes"],)))
    log(text.rsplit("\n", 1)[-1])
    if args.results:
        with open(args.results + ".json", "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)
        with open(args.results + ".md", "w") as f:
            f.write(text + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
