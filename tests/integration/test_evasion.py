#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Evasion suite: crafted frames through gnnd, file to file and on the bed.

usage: test_evasion.py PATH/TO/gnnd [--phase file|bed|all] [--list]

Builds with scapy every frame a sender could use to slip SMTP past the
filter or to make it misjudge a frame -- IPv4 options, impossible and lying
length fields, tiny/overlapping/duplicate/non-first fragments, IPv6
extension chains up to and past the parser's limit, RFC 7112 first
fragments, atomic fragments, stacked and priority VLAN tags, frames cut at
every byte of every header, TCP data offsets < 5, every kind of segment to
port 25 -- plus controls that must pass. Most cases are made for each of
three senders: a workstation of an enforced member, that member's mail
server and a non-member; a few for a monitor member, an "off" member and a
monitor member nested inside the enforced member's network.

Each case states only what the frame *is* (a candidate, not a candidate,
or unjudgeable for a reason, with or without a readable source); its
expected verdict and counter come from expect(), which is the "Policy
semantics" table of docs/design.md written as code, not typed per row. One
reading is ours: the member of an unjudgeable frame's source is found by
longest prefix, as for a candidate (the "nested" member's hosts). Frames
longer than an mbuf (the "jumbo" rows) reach gnnd as chained mbufs; the
semantics make no exception for them.

Phase "file": all frames go through ONE gnnd run, with DPDK's net_pcap
vdevs:

    cases.pcap --rx--> net_pcap0 (inside) --gnnd--> net_pcap1 (outside) --tx--> out.pcap

The output must be exactly the frames expected to pass, byte-identical
and in order, and gnnd's JSON counters (per member, per malformed reason,
totals, ports) must equal what the cases predict. Every frame is unique
(source MAC, IP ID, TCP sequence number carry the case number), so each
output frame names its case.

Phase "bed": a fixed sample of the same cases (BED_SAMPLE: every family
for each sender), sent from the inside namespace of the test bed
(testbed.py) through gnnd on net_af_packet vdevs, with the same config,
and captured on the outside end. The frames expected to pass must arrive
byte-identical and in order, the others not at all, and gnnd's counters
must go up by what the sample predicts (expect() again). The kernel and
the af_packet PMD reassemble IPv4 fragments and rewrite an outer 802.1ad
tag, among other things: the comment at phase "bed" below says what the
sample leaves out or sends otherwise, and why. The outside capture is
checked against the interface's own counters; when it missed frames that
crossed (tcpdump starved of CPU on a busy machine), the sample is sent
again through a fresh bed, up to BED_ATTEMPTS times. Needs root.

Each phase prints one row per case (case | source | expected | got; the
case number is its row in the file phase) and "N passed, N failed"; with
both phases (the default) a last line adds them up. Exits non-zero on any
failure. --list prints the cases and their expectations without running
gnnd.
"""

import collections
import ipaddress
import itertools
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # keep tests/integration free of __pycache__
from pcaprun import (Failure, Gnnd, log_tail, port_stats, read_capture,  # noqa: E402
                     request_stats, write_pcap)
import testbed  # noqa: E402
from testbed import TestBed  # noqa: E402

import logging  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether,  # noqa: E402
                       ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPerror, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrRouting, PadN, Raw, TCPerror)
from scapy.layers.ipsec import AH  # noqa: E402

# ------------------------------------------------------------ the policy

BLOCKED_PORTS = (25,)
# Parser limits (lib/parse/gnn_parse.h) the cases are built around.
MAX_VLAN = 2
MAX_EXT_HDRS = 8

Member = collections.namedtuple("Member", "name mode networks mail_servers")
MEMBERS = (
    Member("enforced", "enforce", ("198.51.100.0/24", "2001:db8:10::/48"),
           ("198.51.100.25", "2001:db8:10::25")),
    Member("monitored", "monitor", ("198.18.20.0/24", "2001:db8:20::/48"),
           ("198.18.20.25", "2001:db8:20::25")),
    Member("switched-off", "off", ("198.18.30.0/24", "2001:db8:40::/48"),
           ("198.18.30.25", "2001:db8:40::25")),
    # Inside the enforced member's /24 and /48: longest prefix makes it the member.
    Member("nested", "monitor", ("198.51.100.192/26", "2001:db8:10:c0::/64"), ()),
)

Source = collections.namedtuple("Source", "role v4 v6")
WS = Source("ws", "198.51.100.10", "2001:db8:10::10")    # enforced member's workstation
MS = Source("ms", "198.51.100.25", "2001:db8:10::25")    # its mail server
NM = Source("nm", "203.0.113.10", "2001:db8:30::10")     # no member
MON_WS = Source("mon-ws", "198.18.20.10", "2001:db8:20::10")
MON_MS = Source("mon-ms", "198.18.20.25", "2001:db8:20::25")
OFF_WS = Source("off-ws", "198.18.30.10", "2001:db8:40::10")
NEST_WS = Source("nest-ws", "198.51.100.200", "2001:db8:10:c0::10")
MAIN = (WS, MS, NM)
DST4, DST6 = "192.0.2.1", "2001:db8:99::1"  # outside
GW_MAC = "02:00:00:00:ff:01"  # the upstream router

# ---------------------------------------------- the semantics, as code

# What a frame is, as its builder knows it. kind: "candidate" (IPv4/IPv6 TCP
# to a blocked port, judgeable), "other" (judgeable, not a candidate) or
# "unjudgeable" (reason: gnnd's malformed counter; source_known: whether
# its source address can be read at all).
What = collections.namedtuple("What", "kind reason source_known")
CANDIDATE = What("candidate", None, True)
OTHER = What("other", None, True)


def unjudgeable(reason, source_known=True):
    return What("unjudgeable", reason, source_known)


def member_of(addr):
    """The member whose network holds addr most specifically, or None."""
    best, best_len = None, -1
    for m in MEMBERS:
        for net in map(ipaddress.ip_network, m.networks):
            if addr.version == net.version and addr in net and net.prefixlen > best_len:
                best, best_len = m, net.prefixlen
    return best


def is_mail_server(member, addr):
    return any(addr.version == n.version and addr in n
               for n in map(ipaddress.ip_network, member.mail_servers))


def expect(what, addr):
    """docs/design.md "Policy semantics" for an inside frame from addr (None when
    the frame carries no IP source): (verdict, counter). Counters:
    "blocked@M", "would_block@M", "allowed@M", "malformed:REASON" (dropped),
    "malformed_forwarded", "-" (none)."""
    if what.kind == "unjudgeable":
        if not what.source_known:  # no known source: dropped whoever sent it
            return "drop", "malformed:" + what.reason
        member = member_of(addr)
        if member is not None and member.mode == "enforce":
            return "drop", "malformed:" + what.reason
        return "pass", "malformed_forwarded"
    if what.kind == "candidate":
        member = member_of(addr)
        if member is None or member.mode == "off":
            return "pass", "-"
        if is_mail_server(member, addr):
            return "pass", "allowed@" + member.name
        if member.mode == "enforce":
            return "drop", "blocked@" + member.name
        return "pass", "would_block@" + member.name
    return "pass", "-"  # other ports, non-TCP, non-IP, non-first fragments


class Case:
    def __init__(self, name, src, family, frame, what):
        self.name = name
        self.src = src  # Source, or None when the frame was cut before any
        self.family = family  # 4, 6 or None (no IP header)
        self.frame = frame
        self.what = what
        addr = None
        if src is not None and family is not None:
            addr = ipaddress.ip_address(src.v4 if family == 4 else src.v6)
        self.verdict, self.counter = expect(what, addr)
        self.got = None
        self.group = None  # the builder that made it (build_cases)
        self.number = None  # its row in the file phase, as a string


# ------------------------------------------------------------ builders

_uid = itertools.count(1)


def mac(uid):
    return "02:00:00:%02x:%02x:%02x" % (uid >> 16 & 255, uid >> 8 & 255, uid & 255)


def l2(uid, payload, tags=(), etype=None):
    """Ethernet (source MAC = uid) with VLAN tags ((tpid, vid[, prio]) from
    the outside in) around payload (scapy packet or bytes)."""
    p = Ether(dst=GW_MAC, src=mac(uid))
    if tags:
        p.type = tags[0][0]
    elif etype is not None:
        p.type = etype
    for i, tag in enumerate(tags):
        q = Dot1Q(vlan=tag[1], prio=tag[2] if len(tag) > 2 else 0)
        if i + 1 < len(tags):
            q.type = tags[i + 1][0]
        elif etype is not None:
            q.type = etype
        p = p / q
    return bytes(p / payload)


def marker(uid):
    return b"gnn-evasion %06d\r\n" % uid


def sport(uid):
    return 32768 + uid % 28000


def ip4(s, uid, **kw):
    kw.setdefault("id", uid & 0xFFFF)
    return IP(src=s.v4, dst=DST4, **kw)


def ip6(s, **kw):
    return IPv6(src=s.v6, dst=DST6, **kw)


def tcp(uid, dport=25, flags="S", **kw):
    return TCP(sport=kw.pop("sport", sport(uid)), dport=dport, seq=uid, flags=flags, **kw)


def tcp4_bytes(s, uid, dport=25, flags="S", data=b"", **kw):
    """A TCP header (+ data) with a correct IPv4 checksum, as bytes."""
    return bytes(ip4(s, uid) / tcp(uid, dport, flags, **kw) / data)[20:]


def tcp6_bytes(s, uid, dport=25, flags="S", data=b"", **kw):
    return bytes(ip6(s) / tcp(uid, dport, flags, **kw) / data)[40:]


def syn4(s, uid, dport=25, tags=(), ip_kw=None, **tcp_kw):
    return l2(uid, ip4(s, uid, **(ip_kw or {})) / tcp(uid, dport, **tcp_kw), tags)


def syn6(s, uid, dport=25, tags=(), **tcp_kw):
    return l2(uid, ip6(s) / tcp(uid, dport, **tcp_kw), tags)


def ext(kind, nh, uid=0, size=None, **kw):
    """One IPv6 extension header, next header nh. size: bytes (multiple of
    8) for options headers."""
    if kind == "hbh":
        return IPv6ExtHdrHopByHop(nh=nh)
    if kind == "dst":
        if size is None:
            return IPv6ExtHdrDestOpt(nh=nh)
        pad, opts = size - 2, []  # PadN options filling size bytes
        while pad:
            n = min(pad, 257)
            if pad - n == 1:
                n -= 2
            opts.append(PadN(optdata=b"\0" * (n - 2)))
            pad -= n
        return IPv6ExtHdrDestOpt(nh=nh, options=opts)
    if kind == "rt":
        return IPv6ExtHdrRouting(nh=nh, addresses=["2001:db8:99::2"], segleft=0)
    if kind == "ah":
        return AH(nh=nh, payloadlen=4, spi=0x100, seq=uid, icv=b"\0" * 12)
    if kind == "frag":  # defaults: atomic fragment
        return IPv6ExtHdrFragment(nh=nh, id=kw.get("id", uid), offset=kw.get("offset", 0),
                                  m=kw.get("m", 0))
    raise ValueError(kind)


EXT_NH = {"hbh": 0, "dst": 60, "rt": 43, "ah": 51, "frag": 44}


def chain6(s, uid, kinds, upper, upper_nh, hlim=64, **frag_kw):
    """IPv6 / extension headers kinds (names or (name, size)) / upper."""
    kinds = [k if isinstance(k, tuple) else (k, None) for k in kinds]
    nhs = [EXT_NH[k] for k, _ in kinds] + [upper_nh]
    p = ip6(s, nh=nhs[0], hlim=hlim)
    for (k, size), nh in zip(kinds, nhs[1:]):
        p = p / ext(k, nh, uid, size, **frag_kw)
    return p / upper


# ------------------------------------------------------------ the cases


def c(cases, name, src, family, frame, what):
    cases.append(Case(name, src, family, frame, what))


def tcp_segments(cases, s):
    for flags, what in (("S", "SYN"), ("SA", "SYN-ACK"), ("R", "RST"), ("RA", "RST-ACK"),
                        ("F", "FIN"), ("FA", "FIN-ACK"), ("A", "ACK"), ("PA", "data"),
                        ("", "no flags"), ("FSRPAUEC", "all flags")):
        for fam in (4, 6):
            u = next(_uid)
            ip = ip4(s, u) if fam == 4 else ip6(s)
            data = marker(u) if "P" in flags else b""
            c(cases, "ipv%d %s to 25" % (fam, what), s, fam,
              l2(u, ip / tcp(u, 25, flags) / data), CANDIDATE)
    u = next(_uid)
    c(cases, "ipv4 SYN 25 -> 25", s, 4, syn4(s, u, sport=25), CANDIDATE)
    u = next(_uid)
    c(cases, "ipv4 SYN to 25, DF set", s, 4, syn4(s, u, ip_kw={"flags": "DF"}), CANDIDATE)


def controls(cases, s):
    for port in (587, 465, 2525, 80, 24, 26, 65535):
        for fam in (4, 6):
            u = next(_uid)
            build = syn4 if fam == 4 else syn6
            c(cases, "ipv%d SYN to %d" % (fam, port), s, fam, build(s, u, port), OTHER)
    u = next(_uid)
    c(cases, "ipv4 from port 25 to 40000 (reply)", s, 4,
      l2(u, ip4(s, u) / tcp(u, 40000, "SA", sport=25)), OTHER)
    for fam in (4, 6):
        u = next(_uid)
        ip = ip4(s, u) if fam == 4 else ip6(s)
        c(cases, "ipv%d UDP to 25" % fam, s, fam,
          l2(u, ip / UDP(sport=sport(u), dport=25) / marker(u)), OTHER)
    u = next(_uid)
    c(cases, "ipv4 SCTP (132) to 25", s, 4,
      l2(u, ip4(s, u, proto=132) / Raw(bytes.fromhex("9c4000190000000000000000") + marker(u))),
      OTHER)
    u = next(_uid)
    c(cases, "ipv4 ICMP error quoting TCP to 25", s, 4,
      l2(u, ip4(s, u) / ICMP(type=3, code=13) / IPerror(src=s.v4, dst=DST4)
         / TCPerror(sport=sport(u), dport=25, seq=u)), OTHER)
    u = next(_uid)
    c(cases, "ARP request", s, None,
      l2(u, ARP(hwsrc=mac(u), psrc=s.v4, pdst="198.51.100.1"), etype=0x0806), OTHER)
    u = next(_uid)
    c(cases, "IPv6 ND neighbour solicitation", s, 6,
      l2(u, IPv6(src=s.v6, dst="ff02::1:ff00:1", hlim=255)
         / ICMPv6ND_NS(tgt="2001:db8:10::1") / ICMPv6NDOptSrcLLAddr(lladdr=mac(u))), OTHER)
    u = next(_uid)
    c(cases, "LLDP", s, None, l2(u, Raw(b"\x02\x07\x04" + bytes.fromhex(mac(u).replace(":", ""))
                                       + b"\x00" * 20), etype=0x88CC), OTHER)
    # By the table the transport protocol must be TCP: tunnels are not candidates.
    u = next(_uid)
    c(cases, "ipv4 IP-in-IP (proto 4) carrying TCP to 25", s, 4,
      l2(u, ip4(s, u) / ip4(s, u) / tcp(u)), OTHER)


def ipv4_options(cases, s):
    for ihl in range(6, 16):
        u = next(_uid)
        olen = (ihl - 5) * 4
        if olen == 4:
            opts = b"\x94\x04\x00\x00"  # router alert
        else:
            k = (olen - 3) // 4  # record route with k slots, EOL padding
            opts = bytes([7, 3 + 4 * k, 4]) + b"\0" * (4 * k) + b"\0" * (olen - 3 - 4 * k)
        c(cases, "ipv4 IHL=%d (%d B options), SYN to 25" % (ihl, olen), s, 4,
          l2(u, ip4(s, u, options=[Raw(opts)]) / tcp(u)), CANDIDATE)
    u = next(_uid)
    c(cases, "ipv4 IHL=15 (40 B options), SYN to 80", s, 4,
      l2(u, ip4(s, u, options=[Raw(b"\x01" * 39 + b"\0")]) / tcp(u, 80)), OTHER)


def impossible_headers(cases, s):
    for ihl in range(0, 5):
        u = next(_uid)
        c(cases, "ipv4 IHL=%d, SYN to 25" % ihl, s, 4,
          l2(u, ip4(s, u, ihl=ihl) / tcp(u)), unjudgeable("bad_header"))
    u = next(_uid)
    c(cases, "ipv4 IHL=4, SYN to 80", s, 4,
      l2(u, ip4(s, u, ihl=4) / tcp(u, 80)), unjudgeable("bad_header"))
    u = next(_uid)
    c(cases, "ethertype IPv4, version 6", s, 4,
      l2(u, ip4(s, u, version=6) / tcp(u)), unjudgeable("bad_header"))
    u = next(_uid)
    c(cases, "ethertype IPv6, version 4", s, 6,
      l2(u, ip6(s, version=4) / tcp(u)), unjudgeable("bad_header"))
    for doff in range(0, 5):
        for fam in (4, 6):
            u = next(_uid)
            build = syn4 if fam == 4 else syn6
            c(cases, "ipv%d TCP data offset %d, to 25" % (fam, doff), s, fam,
              build(s, u, dataofs=doff), unjudgeable("bad_header"))
    u = next(_uid)
    c(cases, "ipv4 TCP data offset 4, to 80", s, 4, syn4(s, u, 80, dataofs=4),
      unjudgeable("bad_header"))
    for doff in range(6, 16):
        u = next(_uid)
        opts = [("MSS", 1460)] + [("NOP", None)] * ((doff - 5) * 4 - 4)
        c(cases, "ipv4 TCP data offset %d (options), to 25" % doff, s, 4,
          syn4(s, u, options=opts), CANDIDATE)
    u = next(_uid)
    c(cases, "ipv4 TCP data offset 15, header 20 B", s, 4, syn4(s, u, dataofs=15),
      unjudgeable("truncated"))
    u = next(_uid)
    c(cases, "ipv6 TCP data offset 15, header 20 B", s, 6, syn6(s, u, dataofs=15),
      unjudgeable("truncated"))


def lengths(cases, s):
    """IP length fields larger or smaller than the frame."""
    def v4(u, tot, pad=b"", data=b""):
        return l2(u, ip4(s, u, len=tot) / tcp(u, 25, "PA" if data else "S") / data) + pad

    for tot in (41, 60, 65535):
        u = next(_uid)
        c(cases, "ipv4 total length %d > datagram 40" % tot, s, 4, v4(u, tot),
          unjudgeable("truncated"))
    u = next(_uid)
    c(cases, "ipv4 SYN padded to 60 B (zeros)", s, 4, v4(u, 40, b"\0" * 6), CANDIDATE)
    u = next(_uid)
    c(cases, "ipv4 total length 40, 100 B trailer", s, 4, v4(u, 40, b"\xee" * 100),
      CANDIDATE)
    u = next(_uid)
    data = marker(u)
    c(cases, "ipv4 total length hides the data (40 < %d)" % (40 + len(data)), s, 4,
      v4(u, 40, data=data), CANDIDATE)
    for tot in (20, 30, 39):
        u = next(_uid)
        c(cases, "ipv4 total length %d cuts the TCP header" % tot, s, 4, v4(u, tot),
          unjudgeable("truncated"))
    for tot in (0, 19):
        u = next(_uid)
        c(cases, "ipv4 total length %d < IHL*4" % tot, s, 4, v4(u, tot),
          unjudgeable("bad_header"))
    u = next(_uid)
    c(cases, "ipv4 total length 30 cuts UDP/53", s, 4,
      l2(u, ip4(s, u, len=30) / UDP(sport=sport(u), dport=53) / marker(u)), OTHER)

    def v6(u, plen, pad=b""):
        return l2(u, ip6(s, plen=plen) / tcp(u)) + pad

    for plen in (21, 1000, 65535):
        u = next(_uid)
        c(cases, "ipv6 payload length %d > 20" % plen, s, 6, v6(u, plen),
          unjudgeable("truncated"))
    u = next(_uid)
    c(cases, "ipv6 payload length 20, 64 B trailer", s, 6, v6(u, 20, b"\xee" * 64),
      CANDIDATE)
    for plen in (0, 10, 19):
        u = next(_uid)
        c(cases, "ipv6 payload length %d cuts the TCP header" % plen, s, 6, v6(u, plen),
          unjudgeable("truncated"))


def ipv4_fragments(cases, s):
    # Tiny first fragments: offset 0, MF, the TCP header cut at k bytes.
    for k in range(0, 21):
        u = next(_uid)
        hdr = tcp4_bytes(s, u)[:k]
        c(cases, "ipv4 first fragment, %2d B of TCP" % k, s, 4,
          l2(u, ip4(s, u, flags="MF", proto=6) / Raw(hdr)),
          CANDIDATE if k >= 4 else unjudgeable("tiny_fragment"))
    for k in (0, 3, 4, 12):
        u = next(_uid)
        hdr = tcp4_bytes(s, u)[:k]
        c(cases, "ipv4 IHL=15 first fragment, %d B of TCP" % k, s, 4,
          l2(u, ip4(s, u, flags="MF", proto=6, options=[Raw(b"\x01" * 40)]) / Raw(hdr)),
          CANDIDATE if k >= 4 else unjudgeable("tiny_fragment"))
    u = next(_uid)
    full = tcp4_bytes(s, u)
    c(cases, "ipv4 first fragment, 2 B of TCP, rest in padding", s, 4,
      l2(u, ip4(s, u, flags="MF", proto=6, len=22) / Raw(full)), unjudgeable("tiny_fragment"))
    u = next(_uid)
    c(cases, "ipv4 first fragment, 0 B of TCP, zero padding", s, 4,
      l2(u, ip4(s, u, flags="MF", proto=6) / Raw(b"")) + b"\0" * 26,
      unjudgeable("tiny_fragment"))
    for k, doff in ((13, 4), (20, 0)):
        u = next(_uid)
        c(cases, "ipv4 first fragment, %d B of TCP, data offset %d" % (k, doff), s, 4,
          l2(u, ip4(s, u, flags="MF", proto=6) / Raw(tcp4_bytes(s, u, dataofs=doff)[:k])),
          unjudgeable("bad_header"))
    u = next(_uid)
    c(cases, "ipv4 first fragment, 20 B of TCP, data offset 15", s, 4,
      l2(u, ip4(s, u, flags="MF", proto=6) / Raw(tcp4_bytes(s, u, dataofs=15)[:20])),
      CANDIDATE)

    # Non-first fragments carry no port: forwarded, even when they look like TCP to 25.
    looks_like = tcp4_bytes(s, 0)
    for off, mf in ((1, "MF"), (2, 0), (185, "MF"), (8190, 0)):
        u = next(_uid)
        c(cases, "ipv4 fragment offset %d%s, TCP-to-25 lookalike" % (off, " MF" if mf else ""),
          s, 4, l2(u, ip4(s, u, flags=mf, frag=off, proto=6) / Raw(looks_like[:8])), OTHER)
    u = next(_uid)
    c(cases, "ipv4 fragment offset 1, UDP", s, 4,
      l2(u, ip4(s, u, flags="MF", frag=1, proto=17) / Raw(marker(u)[:8])), OTHER)
    u = next(_uid)
    c(cases, "ipv4 fragment offset 1, cut short", s, 4,
      l2(u, ip4(s, u, flags="MF", frag=1, proto=6, len=60) / Raw(looks_like)),
      unjudgeable("truncated"))

    # Overlapping and duplicate fragments of one datagram (same IP ID).
    u = next(_uid)
    dg = 0x7000 + u % 0x1000
    c(cases, "ipv4 overlap 1/3: first fragment to 80", s, 4,
      l2(u, ip4(s, u, id=dg, flags="MF", proto=6) / Raw(tcp4_bytes(s, u, 80)[:16])), OTHER)
    u = next(_uid)
    c(cases, "ipv4 overlap 2/3: second offset-0 fragment to 25", s, 4,
      l2(u, ip4(s, u, id=dg, flags="MF", proto=6) / Raw(tcp4_bytes(s, u, 25)[:16])),
      CANDIDATE)
    u = next(_uid)
    c(cases, "ipv4 overlap 3/3: offset 1 rewrites bytes 8-23", s, 4,
      l2(u, ip4(s, u, id=dg, frag=1, proto=6) / Raw(tcp4_bytes(s, u, 25)[8:] + marker(u))),
      OTHER)
    u = next(_uid)
    dg = 0x8000 + u % 0x1000
    first = tcp4_bytes(s, u, 25, "PA", marker(u))[:24]
    for ttl in (64, 63):  # same datagram, same bytes but the TTL
        c(cases, "ipv4 duplicate first fragment to 25 (TTL %d)" % ttl, s, 4,
          l2(u, ip4(s, u, id=dg, flags="MF", proto=6, ttl=ttl) / Raw(first)), CANDIDATE)
    u = next(_uid)
    c(cases, "ipv4 last fragment of the duplicate", s, 4,
      l2(u, ip4(s, u, id=dg, frag=3, proto=6) / Raw(marker(u))), OTHER)


def ipv6_chains(cases, s):
    singles = (["hbh"], ["dst"], ["rt"], ["ah"], ["frag"])
    for kinds in singles:
        u = next(_uid)
        c(cases, "ipv6 %s / TCP to 25" % kinds[0], s, 6,
          l2(u, chain6(s, u, kinds, tcp(u), 6)), CANDIDATE)
    cycle = ("dst", "rt", "ah", "frag", "dst", "rt", "ah", "dst", "dst", "dst")
    for n in range(2, MAX_EXT_HDRS + 3):
        u = next(_uid)
        kinds = ["hbh"] + list(cycle[:n - 1])
        c(cases, "ipv6 chain of %d ext headers / TCP to 25" % n, s, 6,
          l2(u, chain6(s, u, kinds, tcp(u), 6)),
          CANDIDATE if n <= MAX_EXT_HDRS else unjudgeable("ext_chain"))
    for n in (MAX_EXT_HDRS, MAX_EXT_HDRS + 1):
        u = next(_uid)
        c(cases, "ipv6 %d destination options / TCP to 25" % n, s, 6,
          l2(u, chain6(s, u, ["dst"] * n, tcp(u), 6)),
          CANDIDATE if n <= MAX_EXT_HDRS else unjudgeable("ext_chain"))
        u = next(_uid)
        c(cases, "ipv6 %d destination options / UDP to 53" % n, s, 6,
          l2(u, chain6(s, u, ["dst"] * n, UDP(sport=sport(u), dport=53) / marker(u), 17)),
          OTHER if n <= MAX_EXT_HDRS else unjudgeable("ext_chain"))
        u = next(_uid)
        c(cases, "ipv6 %d dst opts, non-first fragment last" % n, s, 6,
          l2(u, chain6(s, u, ["dst"] * (n - 1) + ["frag"], Raw(tcp6_bytes(s, u)[:8]), 6,
                       offset=1, m=1)),
          OTHER if n <= MAX_EXT_HDRS else unjudgeable("ext_chain"))
    u = next(_uid)
    c(cases, "ipv6 dst / hop-by-hop (not first) / TCP to 25", s, 6,
      l2(u, chain6(s, u, ["dst", "hbh"], tcp(u), 6)), unjudgeable("bad_header"))
    u = next(_uid)
    c(cases, "ipv6 dst 808 B / TCP to 25", s, 6,
      l2(u, chain6(s, u, [("dst", 808)], tcp(u), 6)), CANDIDATE)
    u = next(_uid)
    c(cases, "ipv6 hbh / dst 1992 B / TCP to 25 (jumbo frame)", s, 6,
      l2(u, chain6(s, u, ["hbh", ("dst", 1992)], tcp(u), 6)), CANDIDATE)
    u = next(_uid)
    c(cases, "ipv6 dst 2048 B / TCP to 25 (jumbo frame)", s, 6,
      l2(u, chain6(s, u, [("dst", 2048)], tcp(u), 6)), CANDIDATE)
    u = next(_uid)
    c(cases, "ipv6 dst / no next header (59)", s, 6,
      l2(u, chain6(s, u, ["dst"], Raw(marker(u)), 59)), OTHER)
    u = next(_uid)
    c(cases, "ipv6 dst / ESP (50)", s, 6,
      l2(u, chain6(s, u, ["dst"], Raw(b"\0\0\1\0" + marker(u)), 50)), OTHER)

    # Fragments. Atomic (offset 0, M=0): a whole datagram, judged as such.
    u = next(_uid)
    c(cases, "ipv6 atomic fragment / TCP to 25", s, 6,
      l2(u, chain6(s, u, ["frag"], tcp(u), 6)), CANDIDATE)
    u = next(_uid)
    c(cases, "ipv6 atomic fragment / TCP 2 B", s, 6,
      l2(u, chain6(s, u, ["frag"], Raw(tcp6_bytes(s, u)[:2]), 6)), unjudgeable("truncated"))
    u = next(_uid)
    c(cases, "ipv6 atomic fragment / dst cut", s, 6,
      l2(u, chain6(s, u, ["frag"], Raw(b"\x06\x01" + b"\0" * 6), 60)),
      unjudgeable("truncated"))
    # First fragments (offset 0, M=1): the chain must reach the TCP ports (RFC 7112).
    for k in range(0, 21):
        u = next(_uid)
        c(cases, "ipv6 first fragment, %2d B of TCP" % k, s, 6,
          l2(u, chain6(s, u, ["frag"], Raw(tcp6_bytes(s, u)[:k]), 6, m=1)),
          CANDIDATE if k >= 4 else unjudgeable("frag_no_l4"))
    for name, kinds, rest, nh in (
            ("frag / dst in the next fragment", ["frag"], b"", 60),
            ("frag / dst 4 of 8 B", ["frag"], b"\x06\x00\x01\x02", 60),
            ("frag / dst / routing in the next fragment", ["frag", "dst"], b"", 43),
            ("dst / frag / AH 12 of 24 B", ["dst", "frag"], b"\x06\x04" + b"\0" * 10, 51)):
        u = next(_uid)
        c(cases, "ipv6 first fragment: " + name, s, 6,
          l2(u, chain6(s, u, kinds, Raw(rest), nh, m=1)), unjudgeable("frag_no_l4"))
    u = next(_uid)
    c(cases, "ipv6 first fragment, TCP only in padding", s, 6,
      l2(u, chain6(s, u, ["frag"], Raw(b""), 6, m=1)) + tcp6_bytes(s, u)[:10],
      unjudgeable("frag_no_l4"))
    u = next(_uid)
    c(cases, "ipv6 first fragment, 13 B of TCP, offset 4", s, 6,
      l2(u, chain6(s, u, ["frag"], Raw(tcp6_bytes(s, u, dataofs=4)[:13]), 6, m=1)),
      unjudgeable("bad_header"))
    for off, m in ((1, 1), (100, 0)):
        u = next(_uid)
        c(cases, "ipv6 fragment offset %d M=%d, TCP-to-25 lookalike" % (off, m), s, 6,
          l2(u, chain6(s, u, ["frag"], Raw(tcp6_bytes(s, u)), 6, offset=off, m=m)), OTHER)
    u = next(_uid)
    c(cases, "ipv6 hbh / dst / fragment offset 1 / TCP lookalike", s, 6,
      l2(u, chain6(s, u, ["hbh", "dst", "frag"], Raw(tcp6_bytes(s, u)), 6, offset=1, m=1)),
      OTHER)
    u = next(_uid)
    ten = b"".join(bytes([60, 0]) + b"\1\4\0\0\0\0" for _ in range(10))
    c(cases, "ipv6 fragment offset 1 / 10 dst opts in its data", s, 6,
      l2(u, chain6(s, u, ["frag"], Raw(ten), 60, offset=1, m=1)), OTHER)
    # Overlap and duplicates: each offset-0 fragment is judged on its own.
    u = next(_uid)
    dg = 0x60000 + u
    c(cases, "ipv6 overlap: offset-0 fragment to 80", s, 6,
      l2(u, chain6(s, u, ["frag"], Raw(tcp6_bytes(s, u, 80)[:16]), 6, id=dg, m=1)), OTHER)
    u = next(_uid)
    data = tcp6_bytes(s, u, 25, "PA", marker(u))[:24]
    for hlim in (64, 63):  # same datagram, same bytes but the hop limit
        c(cases, "ipv6 overlap: offset-0 fragment to 25 (hlim %d)" % hlim, s, 6,
          l2(u, chain6(s, u, ["frag"], Raw(data), 6, id=dg, m=1, hlim=hlim)), CANDIDATE)


def vlans(cases, s):
    Q, AD, OLD = 0x8100, 0x88A8, 0x9100
    stacks = (
        ("802.1Q", [(Q, 10)]),
        ("802.1ad", [(AD, 10)]),
        ("0x9100", [(OLD, 10)]),
        ("802.1Q VID 0 (priority tag)", [(Q, 0)]),
        ("802.1Q VID 0 PCP 5", [(Q, 0, 5)]),
        ("802.1ad + 802.1Q", [(AD, 100), (Q, 10)]),
        ("802.1Q + 802.1Q", [(Q, 100), (Q, 10)]),
        ("0x9100 + 802.1Q", [(OLD, 100), (Q, 10)]),
        ("802.1ad + 802.1ad", [(AD, 100), (AD, 10)]),
        ("priority tag + 802.1Q", [(Q, 0), (Q, 10)]),
        ("802.1ad + 802.1Q + 802.1Q", [(AD, 100), (Q, 10), (Q, 20)]),
        ("802.1Q x3", [(Q, 100), (Q, 10), (Q, 20)]),
        ("0x9100 + 802.1ad + 802.1Q", [(OLD, 100), (AD, 10), (Q, 20)]),
        ("priority tag + 802.1ad + 802.1Q", [(Q, 0), (AD, 10), (Q, 20)]),
        ("4 tags", [(AD, 100), (Q, 10), (Q, 20), (Q, 30)]),
    )
    for name, tags in stacks:
        deep = len(tags) > MAX_VLAN
        for fam in (4, 6):
            u = next(_uid)
            build = syn4 if fam == 4 else syn6
            c(cases, "%s, ipv%d SYN to 25" % (name, fam), s, fam, build(s, u, tags=tags),
              unjudgeable("vlan_depth", source_known=False) if deep else CANDIDATE)
        if len(tags) in (2, 3):
            u = next(_uid)
            c(cases, "%s, ipv4 SYN to 587" % name, s, 4, syn4(s, u, 587, tags=tags),
              unjudgeable("vlan_depth", source_known=False) if deep else OTHER)
            u = next(_uid)
            c(cases, "%s, ARP" % name, s, None,
              l2(u, ARP(hwsrc=mac(u), psrc=s.v4, pdst="198.51.100.1"), tags, 0x0806),
              unjudgeable("vlan_depth", source_known=False) if deep else OTHER)


def cut_series(cases, s, name, full, l3_off, src_off, src_len, start, family, stop=None):
    """full cut at every length from start to stop (default: its header
    length; the IP length fields still claim the whole datagram). Cut before
    the end of the source address, the frame has no known source."""
    stop = stop if stop is not None else len(full)
    for n in range(start, stop):
        known = n >= l3_off + src_off + src_len
        c(cases, "%s cut at %d" % (name, n), s, family,
          full[:n], unjudgeable("truncated", source_known=known))


def truncations(cases, s):
    # IPv4 with options, TCP with options, data: every byte of every header.
    u = next(_uid)
    full = l2(u, ip4(s, u, options=[Raw(b"\x94\x04\x00\x00")])
              / tcp(u, 25, "PA", options=[("MSS", 1460)]) / marker(u))
    hdrs = 14 + 24 + 24
    cut_series(cases, s, "ipv4+opts/TCP+opts", full, 14, 12, 4, 14, 4, hdrs + 1)
    # Two tags, IPv4, TCP.
    u = next(_uid)
    tags = [(0x88A8, 100), (0x8100, 10)]
    full = l2(u, ip4(s, u) / tcp(u, 25, "PA") / marker(u), tags)
    cut_series(cases, s, "802.1ad+802.1Q/ipv4/TCP", full, 22, 12, 4, 14, 4, 22 + 40 + 1)
    # IPv6, hop-by-hop, dst opts, routing, AH, atomic fragment, TCP + options.
    u = next(_uid)
    ip = chain6(s, u, ["hbh", ("dst", 16), "rt", "ah", "frag"],
                tcp(u, 25, "PA", options=[("MSS", 1440)]) / marker(u), 6)
    full = l2(u, ip)
    cut_series(cases, s, "ipv6/hbh/dst/rt/ah/frag/TCP+opts", full, 14, 8, 16, 14, 6,
               14 + 40 + 8 + 16 + 24 + 24 + 8 + 24 + 1)
    # 802.1Q + IPv6 / TCP, and non-TCP.
    u = next(_uid)
    full = l2(u, ip6(s) / tcp(u), [(0x8100, 10)])
    cut_series(cases, s, "802.1Q/ipv6/TCP", full, 18, 8, 16, 14, 6)
    u = next(_uid)
    full = l2(u, ip4(s, u) / UDP(sport=sport(u), dport=53) / marker(u))
    cut_series(cases, s, "ipv4/UDP 53", full, 14, 12, 4, 14 + 16, 4, 14 + 28 + 1)


def ethernet_cuts(cases):
    """Frames shorter than an Ethernet header: no source whatever the sender."""
    u = next(_uid)
    full = l2(u, ip4(WS, u) / tcp(u))
    for n in range(0, 14):
        c(cases, "ethernet header cut at %d" % n, None, None, full[:n],
          unjudgeable("truncated", source_known=False))


def other_members(cases):
    """Monitor, off and nested members: the other columns of the table."""
    for s in (MON_WS, MON_MS, OFF_WS, NEST_WS):
        for fam in (4, 6):
            u = next(_uid)
            build = syn4 if fam == 4 else syn6
            c(cases, "ipv%d SYN to 25" % fam, s, fam, build(s, u), CANDIDATE)
        u = next(_uid)
        c(cases, "ipv4 data to 25", s, 4,
          l2(u, ip4(s, u) / tcp(u, 25, "PA") / marker(u)), CANDIDATE)
        u = next(_uid)
        c(cases, "ipv4 SYN to 587", s, 4, syn4(s, u, 587), OTHER)
        u = next(_uid)
        c(cases, "ipv4 cut in the TCP header", s, 4,
          l2(u, ip4(s, u) / tcp(u))[:14 + 20 + 10], unjudgeable("truncated"))
        u = next(_uid)
        c(cases, "ipv4 first fragment, 2 B of TCP", s, 4,
          l2(u, ip4(s, u, flags="MF", proto=6) / Raw(tcp4_bytes(s, u)[:2])),
          unjudgeable("tiny_fragment"))
        u = next(_uid)
        c(cases, "ipv6 first fragment, 0 B of TCP", s, 6,
          l2(u, chain6(s, u, ["frag"], Raw(b""), 6, m=1)), unjudgeable("frag_no_l4"))
        u = next(_uid)
        c(cases, "ipv6 9 dst opts / TCP to 25", s, 6,
          l2(u, chain6(s, u, ["dst"] * 9, tcp(u), 6)), unjudgeable("ext_chain"))
        u = next(_uid)
        c(cases, "ipv4 TCP data offset 3, to 25", s, 4, syn4(s, u, dataofs=3),
          unjudgeable("bad_header"))
        u = next(_uid)
        c(cases, "802.1Q x3, ipv4 SYN to 25", s, 4,
          syn4(s, u, tags=[(0x8100, 1), (0x8100, 2), (0x8100, 3)]),
          unjudgeable("vlan_depth", source_known=False))


def build_cases():
    cases = []

    def run(gen, *args):
        n = len(cases)
        gen(cases, *args)
        for k in cases[n:]:
            k.group = gen.__name__  # the family, for the bed sample

    run(ethernet_cuts)
    for gen in (tcp_segments, controls, ipv4_options, impossible_headers, lengths,
                ipv4_fragments, ipv6_chains, vlans, truncations):
        for s in MAIN:
            run(gen, s)
    run(other_members)
    seen = {}
    for i, case in enumerate(cases):
        if case.frame in seen:
            raise AssertionError("test bug: cases %d (%s) and %d (%s) build the same frame"
                                 % (seen[case.frame] + 1, cases[seen[case.frame]].name,
                                    i + 1, case.name))
        seen[case.frame] = i
        case.number = str(i + 1)
    return cases


# ------------------------------------------------------------ gnnd run


def write_config(path):
    def strings(items):
        return ", ".join('"%s"' % i for i in items)

    with open(path, "w") as f:
        f.write("blocked_ports = [ %s ];\n" % ", ".join(map(str, BLOCKED_PORTS)))
        f.write('ports = ( { inside = "net_pcap0"; outside = "net_pcap1"; } );\n')
        f.write("members = (\n")
        f.write(",\n".join('  { name = "%s"; mode = "%s";\n    networks = [ %s ];\n'
                           '    mail_servers = [ %s ]; }'
                           % (m.name, m.mode, strings(m.networks), strings(m.mail_servers))
                           for m in MEMBERS))
        f.write("\n);\n")


def expected_counters(cases):
    members = {m.name: {"blocked": 0, "would_block": 0, "allowed": 0} for m in MEMBERS}
    malformed = {r: 0 for r in ("vlan_depth", "truncated", "bad_header", "tiny_fragment",
                                "frag_no_l4", "ext_chain")}
    fwd = sum(1 for k in cases if k.verdict == "pass")
    malformed_fwd = 0
    for k in cases:
        if "@" in k.counter:
            what, name = k.counter.split("@")
            members[name][what] += 1
        elif k.counter.startswith("malformed:"):
            malformed[k.counter.split(":")[1]] += 1
        elif k.counter == "malformed_forwarded":
            malformed_fwd += 1
    totals = {
        "rx_packets": len(cases), "forwarded": fwd,
        "blocked": sum(m["blocked"] for m in members.values()),
        "would_block": sum(m["would_block"] for m in members.values()),
        "allowed": sum(m["allowed"] for m in members.values()),
        "malformed_dropped": sum(malformed.values()),
        "malformed_forwarded": malformed_fwd,
    }
    return members, malformed, totals


def check_counters(stats, cases):
    errs = []

    def want(what, got, exp):
        if got != exp:
            errs.append("%s is %r, expected %r" % (what, got, exp))

    members, malformed, totals = expected_counters(cases)
    inside, outside = port_stats(stats, "net_pcap0"), port_stats(stats, "net_pcap1")
    want("inside rx_packets", inside["rx_packets"], totals["rx_packets"])
    want("inside tx_packets", inside["tx_packets"], 0)
    want("outside rx_packets", outside["rx_packets"], 0)
    want("outside tx_packets", outside["tx_packets"], totals["forwarded"])
    for p in (inside, outside):
        want(p["name"] + " rx_missed", p["rx_missed"], 0)
        want(p["name"] + " tx_dropped", p["tx_dropped"], 0)
    for k, v in totals.items():
        want("totals " + k, stats["totals"].get(k), v)
    want("malformed by reason", stats.get("malformed"), malformed)
    got_members = {m["name"]: m for m in stats["members"]}
    want("member names", sorted(got_members), sorted(members))
    for name, exp in members.items():
        for k, v in exp.items():
            want("member %s %s" % (name, k), got_members.get(name, {}).get(k), v)
    return errs, members, malformed, totals


def run_gnnd(gnnd, cases):
    """One gnnd over all frames: (output frames, stats, errors)."""
    errs = []
    workdir = tempfile.mkdtemp(prefix="gnn-evasion-")
    g = None
    try:
        write_config(os.path.join(workdir, "gnn.conf"))
        capture = os.path.join(workdir, "cases.pcap")
        write_pcap(capture, [k.frame for k in cases])
        g = Gnnd(gnnd, workdir, capture, "evasion%d" % os.getpid())
        g.start()
        stats = g.drain(len(cases))
        rc = g.stop()
        if rc != 0:
            errs.append("gnnd exit status %r after SIGTERM, expected 0\n%s"
                        % (rc, log_tail(g.log)))
        _, output = read_capture(g.out)
        _, back = read_capture(g.out_inside)
        if back:
            errs.append("%d frame(s) went out of the inside port" % len(back))
        return output, stats, errs
    finally:
        if g is not None:
            g.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


def hexdump(b, limit=256):
    return b[:limit].hex() + ("...(%d B)" % len(b) if len(b) > limit else "")


def src_name(case):
    return case.src.role if case.src is not None else "-"


def show(case, mark=""):
    exp = "%s %s" % (case.verdict, case.counter if case.counter != "-" else "")
    got = case.got or ""
    print("%4s | %-50s | %-7s | %-30s | %s%s" % (case.number, case.name, src_name(case),
                                                exp.strip(), got, mark))


def print_table(cases):
    """One row per case (case.got set); FAIL details. Returns the failed cases."""
    print("%4s | %-50s | %-7s | %-30s | %s" % ("#", "case", "source", "expected", "got"))
    failed = []
    for k in cases:
        bad = k.got != k.verdict
        show(k, "   <-- FAIL" if bad else "")
        if bad:
            failed.append(k)
    print()
    for k in failed:
        print("FAIL #%s %s (source %s): expected %s (%s), got %s\n    frame %s"
              % (k.number, k.name, src_name(k), k.verdict, k.counter, k.got, hexdump(k.frame)))
    return failed


def print_counters(expected, got):
    """The expected and actual counters, one line each."""
    members, malformed, totals = expected
    stats_totals, stats_malformed, stats_members = got
    print("expected counters: %s; malformed %s; members %s"
          % (json.dumps(totals), json.dumps({k: v for k, v in malformed.items() if v}),
             json.dumps(members)))
    print("gnnd counters:     %s; malformed %s; members %s"
          % (json.dumps({k: stats_totals.get(k) for k in totals}),
             json.dumps({k: v for k, v in stats_malformed.items() if v}),
             json.dumps(stats_members)))


def summary(cases, failed, errs, n_pass, started, extra=""):
    """The "N passed, N failed (...)" line; returns (passed, failed)."""
    n_fail = len(failed) + (1 if errs else 0)
    print("%d passed, %d failed (%d case(s)%s; %d frames, %d expected to pass%s, %.1f s)"
          % (len(cases) - len(failed), n_fail, len(failed),
             ", 1 for the output/counter checks above" if errs else "",
             len(cases), n_pass, extra, time.monotonic() - started))
    return len(cases) - len(failed), n_fail


def member_counters(stats):
    return {m["name"]: {k: m[k] for k in ("blocked", "would_block", "allowed")}
            for m in stats["members"]}


# ------------------------------------------------------------ phase "file"


def file_phase(gnnd, cases):
    """All cases through one gnnd on net_pcap, file to file: (passed, failed)."""
    started = time.monotonic()
    try:
        output, stats, errs = run_gnnd(gnnd, cases)
    except Failure as e:
        print("FAIL: %s" % e)
        print("0 passed, %d failed" % len(cases))
        return 0, len(cases)
    except Exception:
        traceback.print_exc()
        print("0 passed, %d failed" % len(cases))
        return 0, len(cases)

    index = {k.frame: i for i, k in enumerate(cases)}
    for b in output:
        if b in index:
            cases[index[b]].got = "pass"
    for k in cases:
        k.got = k.got or "drop"
    unknown = [j for j, b in enumerate(output) if b not in index]
    out_order = [index[b] for b in output if b in index]
    exp_order = [i for i, k in enumerate(cases) if k.verdict == "pass"]

    failed = print_table(cases)
    if unknown:
        errs.append("%d output frame(s) match no input frame (altered?): %s"
                    % (len(unknown), "; ".join("#%d %s" % (j + 1, hexdump(output[j], 64))
                                              for j in unknown[:5])))
    if len(output) != len(set(output)):
        errs.append("some frames came out more than once")
    if not unknown and not failed and out_order != exp_order:
        errs.append("the frames expected to pass came out in another order")
    cerrs, members, malformed, totals = check_counters(stats, cases)
    errs.extend(cerrs)
    for e in errs:
        print("FAIL: " + e)
    print_counters((members, malformed, totals),
                   (stats["totals"], stats.get("malformed", {}), member_counters(stats)))
    return summary(cases, failed, errs, len(exp_order), started)


# ------------------------------------------------------------ phase "bed"
#
# A sample of the same cases, sent from the inside namespace of the test
# bed (testbed.py: veths, gnnd on net_af_packet0/1 in the wire namespace)
# and captured on the outside namespace's end. What the kernel and DPDK
# 22.11's af_packet PMD do to frames on that path decides what the sample
# can hold; each point was seen on the bed, not only read in the sources:
#
# - IPv4 fragments never reach gnnd as sent. The PMD joins its sockets to a
#   PACKET_FANOUT group with PACKET_FANOUT_FLAG_DEFRAG, so the kernel
#   reassembles IPv4 fragments (untagged or under one tag; not under two,
#   whose inner type is still 0x8100) before the ring: a lone fragment is
#   held until it expires (30 s), unseen; a complete datagram reaches
#   gnnd as one frame and leaves unfragmented (one of 2000 B, more than a
#   2048 B ring frame holds, reached gnnd cut short: "truncated"). So the
#   IPv4 fragment cases go over the bed inside two 802.1Q tags (the same
#   frame, tagged: MAX_VLAN allows two, and what the frame is, so its
#   expectation, does not change), plus the one whose length field lies
#   ("fragment offset 1, cut short"), which the kernel passes on as it is.
#   IPv6 fragments are not reassembled: sampled as they are.
# - An outer 802.1ad tag comes out as 802.1Q: the kernel strips the outer
#   tag into metadata and the PMD puts it back with TPID 0x8100
#   (rte_vlan_insert). Two tags on the bed are 0x8100/0x8100: the
#   "802.1Q + 802.1Q" cases, and the tagged truncation series with its outer
#   tag sent as 0x8100. The file phase keeps 802.1ad.
# - A frame whose EtherType is a VLAN TPID but which is shorter than 20 B
#   (the tag and the 2 bytes after it) is dropped by the kernel when it
#   strips the tag, before any packet socket: gnnd never sees it. The
#   shortest tagged cut in the sample is 20 B.
# - Frames shorter than 14 B cannot be sent on an AF_PACKET socket
#   (EINVAL): no ethernet_cuts row. Nor can frames longer than MTU + 14
#   (+ 4 when tagged; EMSGSIZE): no "jumbo" row.
# - Short frames are not padded: veth and af_packet carry a 14 B frame as
#   14 B. A frame shorter than 60 B that came out zero-padded to 60 B would
#   count as arrived (any Ethernet may pad), and is reported; nothing else
#   may differ by a byte.
# - Sent back to back, frames get lost on the way (of all 1771 sendable
#   frames in one burst, hundreds), in no gnnd counter. Paced BED_GAP
#   apart, none was lost in any run.
#
# The namespaces have real kernel stacks. Every frame is addressed to
# GW_MAC, no one's address, so neither namespace answers one; only frames
# with a sample frame's source MAC are looked at on the outside. The inside
# kernel may still send something of its own while the sample goes out
# (e.g. MLD reports after link-up): the inside interface's kernel TX
# counter tells how many, and those frames are allowed for in the port and
# total counters (never in the member or malformed ones).

# Per family (builder), the cases of each main source (ws, ms, nm) in the
# sample. Names as the builders spell them.
BED_SAMPLE = (
    ("tcp_segments", ("ipv4 SYN to 25", "ipv6 SYN-ACK to 25", "ipv4 RST to 25",
                      "ipv6 FIN to 25", "ipv6 data to 25")),
    ("controls", ("ipv6 SYN to 587", "ARP request")),
    ("ipv4_options", ("ipv4 IHL=6 (4 B options), SYN to 25",
                      "ipv4 IHL=15 (40 B options), SYN to 25")),
    ("impossible_headers", ("ipv4 IHL=4, SYN to 25", "ipv4 TCP data offset 4, to 25",
                            "ipv6 TCP data offset 0, to 25")),
    ("lengths", ("ipv4 total length 41 > datagram 40", "ipv4 total length 30 cuts the TCP header",
                 "ipv6 payload length 20, 64 B trailer")),
    ("ipv4_fragments", ("ipv4 fragment offset 1, cut short",)),
    ("ipv6_chains", ("ipv6 chain of 8 ext headers / TCP to 25",
                     "ipv6 chain of 9 ext headers / TCP to 25",
                     "ipv6 atomic fragment / TCP to 25",
                     "ipv6 first fragment,  3 B of TCP",
                     "ipv6 first fragment: dst / frag / AH 12 of 24 B",
                     "ipv6 fragment offset 1 M=1, TCP-to-25 lookalike")),
    ("vlans", ("802.1Q, ipv4 SYN to 25", "802.1Q VID 0 PCP 5, ipv6 SYN to 25",
               "802.1Q + 802.1Q, ipv6 SYN to 25", "802.1Q + 802.1Q, ipv4 SYN to 587",
               "802.1Q x3, ipv4 SYN to 25")),
    ("truncations", ("ipv4+opts/TCP+opts cut at 14", "ipv4+opts/TCP+opts cut at 40",
                     "ipv6/hbh/dst/rt/ah/frag/TCP+opts cut at 100", "802.1Q/ipv6/TCP cut at 20")),
)
# The same for the monitor, "off" and nested members' hosts.
BED_SAMPLE_OTHERS = ("ipv4 SYN to 25", "ipv6 first fragment, 0 B of TCP",
                     "ipv4 TCP data offset 3, to 25")
BED_GAP = 0.002  # seconds between two frames of the sample
BED_SETTLE = 5.0  # seconds at most for gnnd's counters to take the sample in
BED_CAPTURE_KIB = 32768  # tcpdump's buffer outside: a 64 KiB slot per frame
BED_ATTEMPTS = 3  # bed runs, when the outside capture missed frames


def outer_8021q(frame):
    """The frame with its outer 802.1ad TPID written as 802.1Q."""
    if frame[12:14] != b"\x88\xa8":
        raise AssertionError("test bug: no outer 802.1ad tag")
    return frame[:12] + b"\x81\x00" + frame[14:]


def in_two_tags(frame):
    """The frame inside two 802.1Q tags (VIDs 100, 10)."""
    return frame[:12] + b"\x81\x00\x00\x64\x81\x00\x00\x0a" + frame[12:]


# Per main source: (family, case name, how it goes over the bed, row suffix).
BED_VARIANTS = (
    ("ipv4_fragments", "ipv4 first fragment,  3 B of TCP", in_two_tags, " [in 2 tags]"),
    ("ipv4_fragments", "ipv4 fragment offset 1 MF, TCP-to-25 lookalike", in_two_tags,
     " [in 2 tags]"),
    ("truncations", "802.1ad+802.1Q/ipv4/TCP cut at 21", outer_8021q, " [outer 8100]"),
    ("truncations", "802.1ad+802.1Q/ipv4/TCP cut at 45", outer_8021q, " [outer 8100]"),
)


def bed_sample(cases):
    """The bed's sample of cases, in file order (variants after their case):
    new Case objects, expectations from expect() as for the file."""
    by = {}
    for k in cases:
        key = (k.group, src_name(k), k.name)
        if key in by:
            raise AssertionError("test bug: two cases %r" % (key,))
        by[key] = k
    picks = {}  # file index -> [(suffix, transform)]
    want = [(g, s.role, n, None, "") for g, names in BED_SAMPLE for s in MAIN for n in names]
    want += [(g, s.role, n, f, sfx) for g, n, f, sfx in BED_VARIANTS for s in MAIN]
    want += [("other_members", s.role, n, None, "")
             for s in (MON_WS, MON_MS, OFF_WS, NEST_WS) for n in BED_SAMPLE_OTHERS]
    for group, role, name, transform, suffix in want:
        k = by.get((group, role, name))
        if k is None:
            raise AssertionError("test bug: no case %r from %s in %s" % (name, role, group))
        picks.setdefault(int(k.number) - 1, []).append((suffix, transform))
    sample = []
    for i in sorted(picks):
        k = cases[i]
        for suffix, transform in picks[i]:
            frame = transform(k.frame) if transform else k.frame
            b = Case(k.name + suffix, k.src, k.family, frame, k.what)
            b.group, b.number = k.group, k.number  # a variant: the name says how
            sample.append(b)
    if len({b.frame for b in sample}) != len(sample):
        raise AssertionError("test bug: two bed frames are the same")
    for b in sample:  # what an AF_PACKET socket sends on a 1500 B veth
        if not 14 <= len(b.frame) <= 1514 + (4 if b.frame[12:14] == b"\x81\x00" else 0):
            raise AssertionError("test bug: %s cannot cross the bed" % b.name)
    return sample


# Sends hex frames from stdin out of an interface, BED_GAP apart.
PACED_SENDER = r"""
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for line in sys.stdin:
    if line.strip():
        s.send(bytes.fromhex(line))
        time.sleep(float(sys.argv[2]))
"""


def if_tx_packets(bed, side):
    """The kernel's TX packet count of a side's namespace end."""
    p = bed.exec(side, "ip", "-j", "-s", "link", "show", "dev", bed.ns_if(side), check=True)
    return json.loads(p.stdout)[0]["stats64"]["tx"]["packets"]


def run_bed(gnnd, sample):
    """The sample through gnnd on the bed: (frames captured on the outside
    end, stats before, stats after, inside noise, errors, None or why the
    capture is not all that crossed the outside end)."""
    errs = []
    members = [{"name": m.name, "mode": m.mode, "networks": m.networks,
                "mail_servers": m.mail_servers} for m in MEMBERS]
    with TestBed(gnnd=gnnd) as bed:
        inside_port, _ = bed.port_names()
        f = bed.start_gnnd(bed.write_config(members, BLOCKED_PORTS))

        def counts():
            """(what the inside end sent, gnnd's stats, what gnnd read inside)."""
            tx, stats = if_tx_packets(bed, "in"), request_stats(str(f.socket))
            return tx, stats, port_stats(stats, inside_port)["rx_packets"]

        def quiet(settle, n_more=None):
            """Counts once nothing moved for 0.1 s and, given n_more, gnnd
            has read all the inside end sent since tx0, rx0, at least
            n_more frames; None after settle s."""
            deadline, last = time.monotonic() + settle, None
            while True:
                now = counts()
                tx, stats, rx = now
                snap = (tx, json.dumps([stats["ports"], stats["totals"], stats["members"]],
                                       sort_keys=True))
                if snap == last and (n_more is None or
                                     (tx - tx0 >= n_more and rx - rx0 == tx - tx0)):
                    return now
                if time.monotonic() > deadline:
                    return None
                last = snap
                time.sleep(0.1)

        # Before: the inside end sent nothing for a moment, gnnd read it all.
        start = quiet(BED_SETTLE)
        if start is None:
            raise Failure("the bed did not settle before the sample: the inside end "
                          "keeps sending, or gnnd does not read it")
        tx0, before, rx0 = start
        with bed.capture("out", buffer_kib=BED_CAPTURE_KIB, counted=True) as cap:
            bed.exec("in", testbed.PYTHON, "-c", PACED_SENDER, bed.ns_if("in"), str(BED_GAP),
                     check=True, input="".join(b.frame.hex() + "\n" for b in sample))
            end = quiet(BED_SETTLE, len(sample))
        if end is None:
            tx, after, rx = counts()
            errs.append("gnnd read %d frames of the %d the inside end sent (the sample: %d) "
                        "in %.0f s" % (rx - rx0, tx - tx0, len(sample), BED_SETTLE))
        else:
            tx, after, rx = end
        noise = tx - tx0 - len(sample)
        rc = bed.stop_filter()
        if rc != 0:
            errs.append("gnnd exit status %r after SIGTERM, expected 0\n%s"
                        % (rc, testbed.tail(f.log, 15)))
    return cap.frames, before, after, noise, errs, cap.complete()


def check_bed_counters(before, after, sample, noise, ports):
    """gnnd's counters over the sample (after - before) against the sample's
    expectations; noise: frames the inside kernel sent meanwhile."""
    errs = []

    def want(what, got, exp):
        if got != exp:
            errs.append("%s went up by %r, expected %r" % (what, got, exp))

    members, malformed, totals = expected_counters(sample)
    p0 = {n: port_stats(before, n) for n in ports}
    p1 = {n: port_stats(after, n) for n in ports}

    def port(n, k):
        return p1[n][k] - p0[n][k]

    inside, outside = ports
    want("inside rx_packets", port(inside, "rx_packets"), len(sample) + noise)
    want("outside tx_packets", port(outside, "tx_packets"), totals["forwarded"] + noise)
    want("inside tx_packets", port(inside, "tx_packets"), port(outside, "rx_packets"))
    for n in ports:
        want(n + " rx_missed", port(n, "rx_missed"), 0)
        want(n + " tx_dropped", port(n, "tx_dropped"), 0)
    got_totals = {k: after["totals"][k] - before["totals"][k] for k in totals}
    exp_totals = dict(totals)
    # Frames of the inside kernel, and whatever came in from the outside,
    # cross as well: only the port counters and these two totals see them.
    exp_totals["rx_packets"] += noise + port(outside, "rx_packets")
    exp_totals["forwarded"] += noise + port(outside, "rx_packets")
    for k, v in exp_totals.items():
        want("totals " + k, got_totals[k], v)
    got_malformed = {k: after["malformed"][k] - before["malformed"].get(k, 0)
                     for k in after["malformed"]}
    want("malformed by reason", got_malformed, malformed)
    m0, m1 = member_counters(before), member_counters(after)
    want("member names", sorted(m1), sorted(members))
    got_members = {n: {k: m1[n][k] - m0[n][k] for k in m1[n]} for n in m1}
    for name, exp in members.items():
        for k, v in exp.items():
            want("member %s %s" % (name, k), got_members.get(name, {}).get(k), v)
    return errs, (members, malformed, totals), (got_totals, got_malformed, got_members)


def match_bed(sample, captured):
    """Sets sample[i].got from the frames captured on the outside end.
    Returns (indices in capture order, unmatched frames of ours, padded, others)."""
    index = {b.frame: i for i, b in enumerate(sample)}
    macs = {b.frame[6:12] for b in sample}
    order, unknown, padded, others = [], [], [], 0
    for c in captured:
        if c[6:12] not in macs:
            others += 1  # not from a sample source (e.g. the inside kernel's)
            continue
        i = index.get(c)
        if i is None and len(c) == 60:
            # Allowed: a frame shorter than 60 B, zero-padded to 60 B.
            for n in range(len(c.rstrip(b"\0")), 60):
                if c[:n] in index:
                    i = index[c[:n]]
                    padded.append(i)
                    break
        if i is None:
            unknown.append(c)
        else:
            order.append(i)
    for i in order:
        sample[i].got = "pass"
    for b in sample:
        b.got = b.got or "drop"
    return order, unknown, padded, others


def bed_phase(gnnd, cases):
    """The bed sample over af_packet: (passed, failed)."""
    started = time.monotonic()
    sample = bed_sample(cases)
    ports = ("net_af_packet0", "net_af_packet1")
    for attempt in range(1, BED_ATTEMPTS + 1):
        try:
            captured, before, after, noise, errs, missed = run_bed(gnnd, sample)
        except Exception:
            traceback.print_exc(file=sys.stdout)
            print("0 passed, %d failed" % len(sample))
            return 0, len(sample)
        if missed is None:
            break
        if attempt == BED_ATTEMPTS:
            errs.append("the outside capture is incomplete in %d runs: %s"
                        % (BED_ATTEMPTS, missed))
        else:
            # The test's measurement failed, not gnnd: the sample again.
            print("     the outside capture is incomplete (%s); sending the sample "
                  "again (%d of %d)" % (missed, attempt + 1, BED_ATTEMPTS))
    order, unknown, padded, others = match_bed(sample, captured)
    exp_order = [i for i, b in enumerate(sample) if b.verdict == "pass"]
    failed = print_table(sample)
    if unknown:
        errs.append("%d frame(s) from sample sources came out altered: %s"
                    % (len(unknown), "; ".join(hexdump(c, 64) for c in unknown[:5])))
    if len(order) != len(set(order)):
        errs.append("some frames came out more than once")
    if not unknown and not failed and order != exp_order:
        errs.append("the frames expected to pass came out in another order")
    if noise < 0:
        errs.append("the inside end sent %d frames fewer than the sample" % -noise)
    cerrs, expected, got = check_bed_counters(before, after, sample, max(noise, 0), ports)
    errs.extend(cerrs)
    for e in errs:
        print("FAIL: " + e)
    print_counters(expected, got)
    extra = "; %d more from the inside kernel, %d from other sources captured outside" % (
        noise, others)
    if padded:
        extra += "; %d arrived zero-padded to 60 B: %s" % (
            len(padded), ", ".join("#" + sample[i].number for i in padded))
    return summary(sample, failed, errs, len(exp_order), started, extra)


# ------------------------------------------------------------ main


def main():
    args = sys.argv[1:]
    listing = "--list" in args
    args = [a for a in args if a != "--list"]
    phase = "all"
    if "--phase" in args:
        i = args.index("--phase")
        phase = args[i + 1] if i + 1 < len(args) else ""
        del args[i:i + 2]
    if phase not in ("file", "bed", "all") or (len(args) != 1 and not listing):
        print("usage: %s PATH/TO/gnnd [--phase file|bed|all] [--list]" % sys.argv[0],
              file=sys.stderr)
        return 2
    phases = ("file", "bed") if phase == "all" else (phase,)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = time.monotonic()
    cases = build_cases()
    if listing:
        for name in phases:
            rows = cases if name == "file" else bed_sample(cases)
            if len(phases) > 1:
                print("== phase %s" % name)
            for k in rows:
                show(k)
            print("%d cases" % len(rows))
        return 0
    gnnd = os.path.abspath(args[0])
    if not os.access(gnnd, os.X_OK):
        print("gnnd not executable: %s" % gnnd, file=sys.stderr)
        return 2
    if "bed" in phases and os.geteuid() != 0:
        print("the bed phase needs root (network namespaces); --phase file runs without",
              file=sys.stderr)
        return 2

    results = {}
    for name in phases:
        if len(phases) > 1:
            print("== phase %s" % name)
        results[name] = (file_phase if name == "file" else bed_phase)(gnnd, cases)
        if len(phases) > 1:
            print()
        sys.stdout.flush()
    if len(phases) > 1:
        print("%d passed, %d failed (%s; %.1f s)"
              % (sum(p for p, _ in results.values()), sum(f for _, f in results.values()),
                 ", ".join("%s %d/%d" % (n, p, p + f) for n, (p, f) in results.items()),
                 time.monotonic() - started))
    return 1 if any(f for _, f in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
