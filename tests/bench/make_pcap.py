#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the benchmark's input captures: one pcap per traffic case.

The sources lie in the member networks of the file that
tests/scale/make_config.py writes with the same --members, --v4 and
--prefixes (the layout is imported from there, so the two always agree):
the first address of an IPv4 member's /31 is its mail server, the second a
workstation; an IPv6 member's servers are ::1, ::2, ... of its first
network and its workstations the addresses after them.

Cases (every frame from an inside port; destinations in 203.0.113.0/24 and
2001:db8:ffff::/48, documentation prefixes only):

  v4-worst   every frame a TCP SYN to port 25 from a workstation of an
             enforced IPv4 member: every frame judged and dropped
  allowed    every frame a TCP SYN to port 25 from a listed IPv4 mail
             server: judged and forwarded
  v6-worst   as v4-worst from IPv6 members' workstations
  vlan       as v4-worst, each frame with an 802.1Q tag
  mix        0.1% TCP/25 SYNs from workstations (dropped), 60% TCP/443,
             the rest UDP/53; IPv4 and IPv6 members in turn
  spread     --frames TCP SYNs to port 25, each from a different IPv6
             workstation address (round robin over the members): no cache
             of sources can help

Frames are the smallest that hold their headers: 60 bytes for IPv4 (64 on
the wire with the FCS), tagged or not, 74 for IPv6 with TCP and 62 for
IPv6 with UDP. Checksums are correct. The same arguments always write the
same bytes.

    make_pcap.py --case v4-worst --members 1000 -o v4.pcap
    make_pcap.py --case spread --members 10 --v4 0 --frames 1048576 -o s.pcap
"""

import argparse
import ipaddress
import os
import struct
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ in the tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scale"))
import make_config  # noqa: E402  (the layout of the config files)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import pcaprun  # noqa: E402  (the Internet checksum)

CASES = ("v4-worst", "allowed", "v6-worst", "vlan", "mix", "spread")
SRC_MAC = bytes.fromhex("020000000001")
DST_MAC = bytes.fromhex("020000000002")
DST4 = int(ipaddress.IPv4Address("203.0.113.0"))
DST6 = int(ipaddress.IPv6Address("2001:db8:ffff::"))
VLAN_ID = 100
MIN_FRAME = 60  # without the FCS


def l4(proto, sport, dport, seq):
    if proto == 6:  # TCP SYN, no options
        return struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    return struct.pack("!HHHH", sport, dport, 8, 0)  # UDP, no payload


def with_l4_csum(seg, pseudo):
    c = pcaprun.ip_checksum(pseudo + seg)
    off = 16 if len(seg) >= 20 else 6
    if off == 6 and c == 0:
        c = 0xFFFF
    return seg[:off] + struct.pack("!H", c) + seg[off + 2:]


def frame4(src, dst, proto, sport, dport, seq, vlan=False):
    seg = l4(proto, sport, dport, seq)
    s, d = struct.pack("!I", src), struct.pack("!I", dst)
    seg = with_l4_csum(seg, s + d + struct.pack("!BBH", 0, proto, len(seg)))
    hdr = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(seg), seq & 0xFFFF, 0x4000, 64, proto, 0)
    hdr += s + d
    hdr = hdr[:10] + struct.pack("!H", pcaprun.ip_checksum(hdr)) + hdr[12:]
    eth = DST_MAC + SRC_MAC
    if vlan:
        eth += struct.pack("!HH", 0x8100, VLAN_ID)
    eth += struct.pack("!H", 0x0800)
    f = eth + hdr + seg
    return f + b"\0" * (MIN_FRAME - len(f)) if len(f) < MIN_FRAME else f


def frame6(src, dst, proto, sport, dport, seq):
    seg = l4(proto, sport, dport, seq)
    s, d = src.to_bytes(16, "big"), dst.to_bytes(16, "big")
    seg = with_l4_csum(seg, s + d + struct.pack("!IxxxB", len(seg), proto))
    hdr = struct.pack("!IHBB", 6 << 28, len(seg), proto, 64) + s + d
    f = DST_MAC + SRC_MAC + struct.pack("!H", 0x86DD) + hdr + seg
    return f + b"\0" * (MIN_FRAME - len(f)) if len(f) < MIN_FRAME else f


class Sources:
    """Addresses of the members of a make_config.py layout."""

    def __init__(self, layout):
        self.lay = layout

    def v4_net(self, i):
        return int(make_config.V4_NET.network_address) + 2 * i

    def v4_server(self, i):
        return self.v4_net(i)

    def v4_workstation(self, i):
        return self.v4_net(i) + 1

    def v6_first_net(self, j):
        return int(make_config.V6_NET.network_address) + (j << (128 - self.lay.block_len))

    def v6_server(self, j):
        return self.v6_first_net(j) + 1

    def v6_workstation(self, j, k=0):
        """The k-th workstation of IPv6 member j: after its servers."""
        room = 2 ** (128 - self.lay.net6_len) - 1 - self.lay.servers
        if k >= room:
            raise ValueError("IPv6 member %d has room for %d workstations" % (j, room))
        return self.v6_first_net(j) + 1 + self.lay.servers + k


def frames(case, lay, n):
    src = Sources(lay)
    n4, n6 = lay.n4, lay.n6
    need4 = case in ("v4-worst", "allowed", "vlan")
    if need4 and n4 == 0:
        raise ValueError("case %s needs IPv4 members (--v4 > 0)" % case)
    if case in ("v6-worst", "spread") and n6 == 0:
        raise ValueError("case %s needs IPv6 members (--v4 < --members)" % case)
    if case == "allowed" and lay.servers4 == 0:
        raise ValueError("case allowed needs mail servers (--servers > 0)")
    if case == "mix" and (n4 == 0 or n6 == 0):
        raise ValueError("case mix needs IPv4 and IPv6 members")
    for k in range(n):
        sport = 1024 + k % 60000
        dst4 = DST4 + k % 254 + 1
        dst6 = DST6 + k % 65534 + 1
        if case == "v4-worst":
            yield frame4(src.v4_workstation(k % n4), dst4, 6, sport, 25, k)
        elif case == "allowed":
            yield frame4(src.v4_server(k % n4), dst4, 6, sport, 25, k)
        elif case == "vlan":
            yield frame4(src.v4_workstation(k % n4), dst4, 6, sport, 25, k, vlan=True)
        elif case == "v6-worst":
            yield frame6(src.v6_workstation(k % n6), dst6, 6, sport, 25, k)
        elif case == "spread":
            yield frame6(src.v6_workstation(k % n6, k // n6), dst6, 6, sport, 25, k)
        else:  # mix: 1 in 1000 to port 25, 600 in 1000 to 443, the rest UDP/53
            r = k % 1000
            proto, dport = (6, 25) if r == 0 else (6, 443) if r <= 600 else (17, 53)
            m = k // 2
            if k % 2 == 0:
                yield frame4(src.v4_workstation(m % n4), dst4, proto, sport, dport, k)
            else:
                yield frame6(src.v6_workstation(m % n6), dst6, proto, sport, dport, k)


def write_pcap(path, it):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        buf = bytearray()
        for k, fr in enumerate(it):
            buf += struct.pack("<IIII", k // 1000000, k % 1000000, len(fr), len(fr))
            buf += fr
            if len(buf) > 1 << 20:
                f.write(buf)
                buf.clear()
        f.write(buf)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", choices=CASES, required=True)
    ap.add_argument("--members", type=int, required=True)
    ap.add_argument("--v4", type=int, default=None, help="as make_config.py --v4")
    ap.add_argument("--servers", type=int, default=1, help="as make_config.py --servers")
    ap.add_argument("--prefixes", type=int, default=None, help="as make_config.py --prefixes")
    ap.add_argument("--frames", type=int, default=None,
                    help="frames in the file (default: 65536, or one per member "
                         "workstation when there are more)")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    try:
        lay = make_config.Layout(args.members, args.v4, args.servers, args.prefixes)
        n = args.frames if args.frames is not None else max(65536, args.members)
        write_pcap(args.output, frames(args.case, lay, n))
    except ValueError as e:
        try:
            os.unlink(args.output)
        except OSError:
            pass
        ap.error(str(e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
