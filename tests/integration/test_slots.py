#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Member counters across reloads that rename every member.

usage: test_slots.py PATH/TO/gnnd PATH/TO/gnnstat

gnnd keeps each member's counters in a slot that stays with the member's
name across reloads, so counters are "since start". It has a fixed number
of slots (twice the members one file may hold); once every slot has been
used, a new name takes the slot of a member that is in neither the running
nor the new file, and starts from zero: its counters are read against a
baseline, and the blocked-source table forgets the old member's sources.

Three reloads of 1024 members each, every one with fresh names, use up the
slots and make the third file's first member reuse the slot of the first
file's member that blocked a workstation. Checks: the renamed member starts
at zero, `gnnstat top` does not credit it with the old member's source, its
own blocked SYNs count exactly, the totals since start keep everything.
Prints one line per check and "N passed, N failed"; run as root.
"""

import json
import logging
import os
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
from testbed import Failure, TestBed, check  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.layers.inet import IP, TCP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402

MEMBERS_PER_FILE = 1024  # GNN_MAX_MEMBERS
WORKSTATION = "198.51.100.10"
SERVER = "192.0.2.1"


def filler_networks(i):
    """A /25 of 198.18.0.0/15 for filler member i (1023 of them fit)."""
    return ["198.%d.%d.%d/25" % (18 + i // 512, (i // 2) % 256, (i % 2) * 128)]


def members(prefix):
    """1024 members named PREFIX-N; the first owns the workstation's /24."""
    ms = [{"name": "%s-0" % prefix, "mode": "enforce", "networks": ["198.51.100.0/24"]}]
    for i in range(1, MEMBERS_PER_FILE):
        ms.append({"name": "%s-%d" % (prefix, i), "mode": "enforce",
                   "networks": filler_networks(i - 1)})
    return ms


def syns(n, first_seq):
    return [Ether(src="02:00:00:00:51:0a", dst="02:00:00:00:00:01") /
            IP(src=WORKSTATION, dst=SERVER) /
            TCP(sport=40000 + i, dport=25, flags="S", seq=first_seq + i) for i in range(n)]


def top_sources(bed, member):
    """gnnstat top -m MEMBER --json: the member's blocked sources."""
    return json.loads(bed.gnnstat("top", "-m", member, "--json").stdout)["sources"]


def main():
    if len(sys.argv) != 3:
        print("usage: %s PATH/TO/gnnd PATH/TO/gnnstat" % sys.argv[0], file=sys.stderr)
        return 2
    gnnd, gnnstat = (os.path.abspath(a) for a in sys.argv[1:3])
    t0 = time.monotonic()
    results = []

    def step(name, fn):
        try:
            fn()
            results.append(True)
            print("ok   %s" % name)
        except Failure as e:
            results.append(False)
            print("FAIL %s: %s" % (name, e))

    with TestBed(gnnd=gnnd, gnnstat=gnnstat) as bed:
        conf = bed.write_config(members("a"))
        bed.start_gnnd(conf)
        state = {}

        def first_member_blocks():
            t = bed.transmit(syns(3, 1000))
            check(not any(t.arrived), "a blocked SYN reached the outside")
            m = bed.member("a-0")
            check(m["blocked"] == 3, "a-0 blocked %r, expected 3" % m["blocked"])
            top = top_sources(bed, "a-0")
            check([s["address"] for s in top] == [WORKSTATION], "top of a-0: %r" % top)

        def reload_to(prefix):
            def fn():
                path = bed.write_config(members(prefix), name="next.conf")
                os.replace(path, conf)
                r = bed.gnnstat("reload", check=False)
                check(r.returncode == 0, "reload to %s-*: %s %s" % (prefix, r.stdout, r.stderr))
                names = {m["name"] for m in bed.stats()["members"]}
                check(names == {m["name"] for m in members(prefix)}, "members after reload")
            return fn

        def renamed_member_starts_at_zero():
            s = bed.stats()
            m = bed.member("c-0", s)
            check(m == dict(m, allowed=0, blocked=0, would_block=0),
                  "c-0 inherited counters: %r" % m)
            check(top_sources(bed, "c-0") == [], "c-0 inherited a-0's sources: %r" %
                  top_sources(bed, "c-0"))
            check(s["totals"]["blocked"] == 3, "totals since start lost: %r" % s["totals"])
            state["generation"] = s["generation"]

        def renamed_member_counts_its_own():
            t = bed.transmit(syns(2, 2000))
            check(not any(t.arrived), "a blocked SYN reached the outside")
            s = bed.stats()
            m = bed.member("c-0", s)
            check(m["blocked"] == 2, "c-0 blocked %r, expected 2" % m["blocked"])
            top = top_sources(bed, "c-0")
            check(len(top) == 1 and top[0]["address"] == WORKSTATION and
                  top[0]["blocked"] == 2, "top of c-0: %r" % top)
            check(s["totals"]["blocked"] == 5, "totals: %r" % s["totals"])
            check(s["generation"] == 3 and s["reloads"] == 2, "generation %r reloads %r" %
                  (s["generation"], s["reloads"]))

        step("first file's member blocks and is listed in top", first_member_blocks)
        step("reload to 1024 new names (b-*)", reload_to("b"))
        step("reload to 1024 new names (c-*): slots reused", reload_to("c"))
        step("renamed member starts at zero, top forgot the old sources",
             renamed_member_starts_at_zero)
        step("renamed member counts its own blocked SYNs", renamed_member_counts_its_own)
        code = bed.stop_filter()
        step("gnnd exits 0", lambda: check(code == 0, "exit %r" % code))

    passed = sum(results)
    print("%d passed, %d failed (%.1f s)" % (passed, len(results) - passed,
                                             time.monotonic() - t0))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
