#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Two workers: both forward, and the counters add up.

usage: test_workers.py PATH/TO/gnnd PATH/TO/gnnstat

gnnd with two worker lcores (oversubscribed on one CPU: correctness, not
speed) over af_packet ports of two queue pairs each; the PMD spreads flows
over the queues by hash, and queue q of both ports belongs to one worker.
Frames of many flows from the inside: an enforced workstation's SYNs to
port 25 (blocked), its mail server's SYNs (allowed), port-443 traffic
(forwarded). Checks: each worker polls queues and received frames; the
per-worker rx sums to the ports' rx; blocked/allowed equal the frames that
crossed (inside capture); every forwarded frame arrived outside and no
blocked one did; the reverse direction passes too. Prints one line per
check and "N passed, N failed"; run as root with /usr/bin/python3.
"""

import logging
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
import testbed  # noqa: E402
from testbed import MAC_IN, MAC_OUT, TestBed, check  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.layers.inet import IP, TCP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402

MEMBERS = [{"name": "example-college", "mode": "enforce",
            "networks": ["198.51.100.0/24"], "mail_servers": ["198.51.100.25"]}]
FLOWS = 400  # per class: enough that the hash puts some on each queue
OTHER_MAC = "02:00:5e:00:09:09"


def frames_for(src, dst, dport, n, base):
    return [Ether(src=MAC_IN, dst=OTHER_MAC) / IP(src=src, dst=dst) /
            TCP(sport=base + i, dport=dport, flags="S", seq=i) for i in range(n)]


def tcp_of(frame):
    p = Ether(frame)
    if not p.haslayer(IP) or not p.haslayer(TCP):
        return None
    return p[IP].src, p[TCP].dport


class Run:
    pass


def check_both_poll(run):
    per = run.stats["datapath"]["per_worker"]
    check(len(per) == 2, "%d workers in the JSON" % len(per))
    for w in per:
        check(w["queues"] == 2, "worker lcore %d polls %d queues, expected 2 (one per port)"
              % (w["lcore"], w["queues"]))


check_both_poll.__name__ = "each worker polls one queue of each port"


def check_both_forward(run):
    per = run.stats["datapath"]["per_worker"]
    print("     per worker: %s" % ", ".join("lcore %d rx %d tx %d" % (
        w["lcore"], w["rx_packets"], w["tx_packets"]) for w in per))
    for w in per:
        check(w["rx_packets"] > 0 and w["tx_packets"] > 0,
              "worker lcore %d: rx %d tx %d" % (w["lcore"], w["rx_packets"], w["tx_packets"]))


check_both_forward.__name__ = "both workers receive and forward"


def check_sums(run):
    s = run.stats
    per = s["datapath"]["per_worker"]
    rx = sum(p["rx_packets"] for p in s["ports"])
    tx = sum(p["tx_packets"] for p in s["ports"])
    check(sum(w["rx_packets"] for w in per) == rx == s["totals"]["rx_packets"],
          "workers rx %d, ports rx %d, totals %d" % (
              sum(w["rx_packets"] for w in per), rx, s["totals"]["rx_packets"]))
    check(sum(w["tx_packets"] for w in per) == tx == s["totals"]["forwarded"],
          "workers tx %d, ports tx %d" % (sum(w["tx_packets"] for w in per), tx))
    t = s["totals"]
    check(t["forwarded"] + t["blocked"] + t["malformed_dropped"] + t["tx_dropped"] ==
          t["rx_packets"], "forwarded + blocked + malformed + tx_dropped != rx: %r" % t)


check_sums.__name__ = "per-worker counters add up to the ports and totals"


def check_verdicts(run):
    sent = [tcp_of(f) for f in run.inside.frames]
    blocked = sum(1 for x in sent if x == (run.ws, 25))
    allowed = sum(1 for x in sent if x == (run.ms, 25))
    m = run.stats["members"][0]
    check(m["blocked"] == blocked and m["allowed"] == allowed,
          "blocked %d allowed %d, on the wire %d and %d" % (m["blocked"], m["allowed"],
                                                            blocked, allowed))
    out = [tcp_of(f) for f in run.outside.frames]
    check(sum(1 for x in out if x == (run.ws, 25)) == 0, "a blocked SYN reached the outside")
    check(sum(1 for x in out if x == (run.ms, 25)) == allowed, "allowed SYNs lost")
    check(sum(1 for x in out if x == (run.ws, 443)) ==
          sum(1 for x in sent if x == (run.ws, 443)), "port-443 frames lost")


check_verdicts.__name__ = "verdicts and delivery exact with two workers"


def check_reverse(run):
    def port(s, role):
        return next(p for p in s["ports"] if p["role"] == role)
    back = [Ether(src=MAC_OUT, dst=OTHER_MAC) / IP(src=run.smtp, dst=run.ws) /
            TCP(sport=25, dport=20000 + i, flags="SA") for i in range(100)]
    before = run.bed.stats()
    cap = run.bed.capture("in", buffer_kib=65536, counted=True)
    cap.start()
    run.bed.send_frames("out", back)
    time.sleep(1.0)
    cap.stop()
    after = run.bed.stats()
    got = port(after, "outside")["rx_packets"] - port(before, "outside")["rx_packets"]
    sent = port(after, "inside")["tx_packets"] - port(before, "inside")["tx_packets"]
    arrived = sum(1 for f in cap.frames if tcp_of(f) is not None and Ether(f)[TCP].sport == 25
                  and Ether(f)[TCP].dport >= 20000)
    check(got > 0 and sent == got, "outside rx %d, inside tx %d" % (got, sent))
    why = cap.complete()
    check(why is not None or arrived == sent, "inside tx %d, arrived %d" % (sent, arrived))


check_reverse.__name__ = "outside to inside forwarded by both"


def main():
    gnnd, gnnstat = testbed.binaries_from_argv()
    t0 = time.monotonic()
    # Three lcores on two CPUs: the main one, two workers sharing CPU 1.
    with TestBed(gnnd=gnnd, gnnstat=gnnstat, lcores="0@0,1@1,2@1", qpairs=2) as bed:
        run = Run()
        run.bed = bed
        run.ws, run.ms = bed.addr("workstation"), bed.addr("mail_server")
        run.smtp = bed.addr("smtp")
        bed.start_gnnd(bed.write_config(MEMBERS))
        frames = (frames_for(run.ws, run.smtp, 25, FLOWS, 10000) +
                  frames_for(run.ms, run.smtp, 25, FLOWS, 20000) +
                  frames_for(run.ws, run.smtp, 443, FLOWS, 30000))
        run.inside = bed.capture("in", direction="out", buffer_kib=65536, counted=True)
        run.outside = bed.capture("out", buffer_kib=65536)
        run.inside.start()
        run.outside.start()
        for i in range(0, len(frames), 100):
            bed.send_frames("in", frames[i:i + 100])
        time.sleep(1.5)
        run.inside.stop()
        run.outside.stop()
        why = run.inside.complete()
        run.stats = bed.stats()
        todo = [check_both_poll, check_both_forward, check_sums, check_verdicts,
                check_reverse]
        if why is not None:
            print("     the inside capture is incomplete (%s): counts compared anyway" % why)
        passed, failed = testbed.run_checks(bed, todo, run)
    print("%d passed, %d failed (%.1f s)" % (passed, failed, time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
