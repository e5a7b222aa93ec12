#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Reject: a blocked SYN of a member with action = "reject" is answered
with an RST+ACK, so the sender's mail client fails at once.

usage: test_reject.py PATH/TO/gnnd PATH/TO/gnnstat

On the namespace bed, two enforced members: example-college (action
reject) and example-library (action drop). Real swaks from the college's
workstation to the outside mail server, IPv4 and IPv6: refused at once
(the transcript says the connection was refused, and it ends well inside
swaks' own timeout; the time is printed), while the library's workstation,
whose SYNs are dropped, waits for its timeout. Crafted SYNs under an
802.1Q tag (scapy; no VLAN interfaces on these kernels), IPv4 and IPv6:
the RST+ACK comes back out of the inside port with the same tag, swapped
MAC addresses, from the SYN's destination address and port, ack = seq + 1.
Nothing the college's workstation sends to port 25 reaches the outside;
`rejects_sent` equals the SYNs that crossed the wire (inside capture). A
burst of SYNs beyond the per-worker rate is partly answered and the rest
counted as `rejects_limited`. Prints one line per check and "N passed,
N failed"; run as root with /usr/bin/python3.
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
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.l2 import Dot1Q, Ether  # noqa: E402

MEMBERS = [
    {"name": "example-college", "mode": "enforce", "action": "reject",
     "networks": ["198.51.100.0/24", "2001:db8:10::/48"],
     "mail_servers": ["198.51.100.25", "2001:db8:10::25"]},
    {"name": "example-library", "mode": "enforce", "action": "drop",
     "networks": ["203.0.113.0/25", "2001:db8:20::/48"]},
]
SWAKS_TIMEOUT = 10  # s: a dropped SYN makes swaks wait this long
TAG = 100
BURST = 5000  # SYNs sent at once: more than the 1,000 rejects a second allowed
GNND_MAC = "02:00:5e:00:09:09"  # where the crafted SYNs are addressed (anyone's)


class Run:
    def __init__(self, bed):
        self.bed = bed
        self.ws4, self.ws6 = bed.addr("workstation", 4), bed.addr("workstation", 6)
        self.smtp4, self.smtp6 = bed.addr("smtp", 4), bed.addr("smtp", 6)
        self.results = {}
        self.inside = None
        self.outside = None

    def stats(self):
        return self.bed.stats()


def is_port25_from(frame, src):
    p = Ether(frame)
    ip = p.getlayer(IP) or p.getlayer(IPv6)
    return ip is not None and ip.src == src and p.haslayer(TCP) and p[TCP].dport == 25


def tagged_syn(src, dst, sport, seq):
    l3 = IP(src=src, dst=dst) if ":" not in src else IPv6(src=src, dst=dst)
    return (Ether(src=MAC_IN, dst=GNND_MAC) / Dot1Q(vlan=TAG) / l3 /
            TCP(sport=sport, dport=25, flags="S", seq=seq))


def check_swaks_refused(fam):
    def fn(run):
        src, dst = (run.ws4, run.smtp4) if fam == 4 else (run.ws6, run.smtp6)
        r = run.bed.send_mail(src, dst, timeout=SWAKS_TIMEOUT)
        run.results["reject%d" % fam] = r
        print("     swaks from the reject member's workstation (IPv%d) failed after %.3f s "
              "(its timeout: %d s)" % (fam, r.elapsed, SWAKS_TIMEOUT))
        check(not r.delivered, "delivered: %s" % r.transcript[-300:])
        check("refused" in r.transcript.lower(),
              "not refused (a timeout?): %s" % r.transcript[-300:])
        check(r.elapsed < SWAKS_TIMEOUT, "took %.1f s: swaks waited for its timeout" % r.elapsed)
    fn.__name__ = "reject member's client refused at once, IPv%d" % fam
    return fn


def check_drop_waits(run):
    src = run.bed.addr("library_workstation", 4)
    r = run.bed.send_mail(src, run.smtp4, timeout=3)
    print("     swaks from the drop member's workstation failed after %.3f s (timeout 3 s)"
          % r.elapsed)
    check(not r.delivered, "delivered")
    check("refused" not in r.transcript.lower(), "refused: %s" % r.transcript[-300:])
    check(r.elapsed >= 3, "failed after %.1f s, before its timeout" % r.elapsed)


check_drop_waits.__name__ = "drop member's client waits for its timeout"


def check_tagged(fam):
    def fn(run):
        src, dst = (run.ws4, run.smtp4) if fam == 4 else (run.ws6, run.smtp6)
        sport, seq = 40000 + fam, 123456789
        with run.bed.capture("in") as cap:
            run.bed.send_frames("in", [tagged_syn(src, dst, sport, seq)])
            time.sleep(0.5)
        replies = []
        for f in cap.frames:
            p = Ether(f)
            if p.haslayer(TCP) and p[TCP].sport == 25 and p[TCP].dport == sport:
                replies.append(p)
        check(len(replies) == 1, "%d replies to the tagged SYN" % len(replies))
        p = replies[0]
        check(p.haslayer(Dot1Q) and p[Dot1Q].vlan == TAG, "reply not under tag %d" % TAG)
        check(p.src == GNND_MAC and p.dst == MAC_IN,
              "MACs %s -> %s, expected swapped" % (p.src, p.dst))
        ip = p.getlayer(IP) or p.getlayer(IPv6)
        check(ip.src == dst and ip.dst == src, "addresses %s -> %s" % (ip.src, ip.dst))
        t = p[TCP]
        check(str(t.flags) == "RA", "flags %s, expected RA" % t.flags)
        check(t.ack == seq + 1, "ack %d, expected %d" % (t.ack, seq + 1))
    fn.__name__ = "tagged SYN answered under its tag, IPv%d" % fam
    return fn


def check_nothing_out(run):
    bad = [f for f in run.outside.frames
           if is_port25_from(f, run.ws4) or is_port25_from(f, run.ws6)]
    check(not bad, "%d port-25 frames of the workstation reached the outside" % len(bad))


check_nothing_out.__name__ = "nothing of the workstation's reaches the outside"


def check_counted(run):
    syns = sum(1 for f in run.inside.frames
               if (is_port25_from(f, run.ws4) or is_port25_from(f, run.ws6)) and
               str(Ether(f)[TCP].flags) == "S")
    s = run.stats()
    d = s["datapath"]
    college = next(m for m in s["members"] if m["name"] == "example-college")
    check(d["rejects_sent"] == syns, "rejects_sent %d, SYNs on the wire %d"
          % (d["rejects_sent"], syns))
    check(d["rejects_limited"] == 0, "rejects_limited %d" % d["rejects_limited"])
    check(college["blocked"] == syns, "college blocked %d, SYNs %d" % (college["blocked"], syns))
    check(college["action"] == "reject", "action %r" % college["action"])
    run.base = d


check_counted.__name__ = "rejects counted as the SYNs on the wire"


def college_blocked(s):
    return next(m for m in s["members"] if m["name"] == "example-college")["blocked"]


def check_rate_limit(run):
    frames = [tagged_syn(run.ws4, run.smtp4, 1024 + i % 60000, i) for i in range(BURST)]
    before = college_blocked(run.stats())
    run.bed.send_frames("in", frames)
    time.sleep(1.0)
    s = run.stats()
    d = s["datapath"]
    judged = college_blocked(s) - before  # what reached gnnd (af_packet may drop some)
    sent = d["rejects_sent"] - run.base["rejects_sent"]
    limited = d["rejects_limited"] - run.base["rejects_limited"]
    print("     burst of %d SYNs, %d reached gnnd: %d answered, %d over the rate"
          % (BURST, judged, sent, limited))
    check(sent + limited == judged, "answered %d + limited %d != %d blocked SYNs"
          % (sent, limited, judged))
    check(limited > 0, "nothing limited")
    check(sent <= 2 * 1000, "%d answered: more than two seconds' worth" % sent)


check_rate_limit.__name__ = "rejects rate-limited per worker"


def main():
    gnnd, gnnstat = testbed.binaries_from_argv()
    t0 = time.monotonic()
    with TestBed(gnnd=gnnd, gnnstat=gnnstat) as bed:
        run = Run(bed)
        conf = bed.write_config(MEMBERS)
        bed.start_smtp("out")
        bed.start_gnnd(conf)
        run.inside = bed.capture("in", direction="out", buffer_kib=16384)
        run.outside = bed.capture("out", buffer_kib=16384)
        run.inside.start()
        run.outside.start()
        todo = [check_swaks_refused(4), check_swaks_refused(6), check_drop_waits,
                check_tagged(4), check_tagged(6)]
        passed, failed = testbed.run_checks(bed, todo, run)
        time.sleep(0.5)
        run.inside.stop()
        run.outside.stop()
        p2, f2 = testbed.run_checks(bed, [check_nothing_out, check_counted, check_rate_limit],
                                    run)
        passed, failed = passed + p2, failed + f2
    print("%d passed, %d failed (%.1f s)" % (passed, failed, time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
