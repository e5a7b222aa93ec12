#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of the libFuzzer harnesses (tests/fuzz/corpus/).

  corpus/parse/   frames taken from tests/data/captures (at most 10 per
                  capture: the first frame of each distinct header layout,
                  named <origin>-<capture>-<packet number>) and handcrafted
                  frames (hand-*) for layouts the captures lack.
  corpus/policy/  the example configs (config/*.conf) and handcrafted
                  variants: one per error the loader reports, IPv6 only,
                  many members, syntax corners.
  corpus/request/ control socket request lines: every command, bare and
                  JSON, arguments at their limits, one per kind of refusal.
  corpus/api/     scripts of fuzz_api: source records, then requests,
                  reclassification, ageing, deferred replies.

Every file in these directories is rewritten, so the output depends on the
captures and this script only:

  tests/fuzz/make_corpus.py [--pcaps DIR]   (default: tests/data/captures)

Standard library only.
"""

import argparse
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # keep tests/integration free of __pycache__
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import pcaprun  # noqa: E402  (classic pcap reading, shared with the integration tests)

PER_CAPTURE = 10
LINKTYPE_ETHERNET = 1

# ---- capture reading ------------------------------------------------------


def read_pcap(data):
    """Frames of a classic pcap (either byte order, us or ns stamps)."""
    linktype, frames = pcaprun.read_pcap(data, strict=False)
    return [(linktype & 0xFFFF, frame) for frame in frames]


def read_pcapng(data):
    """Frames of a pcapng file (EPB, SPB and the obsolete packet block)."""
    off = 0
    e = "<"
    ifaces = []  # (linktype, snaplen) per interface of the current section
    while off + 12 <= len(data):
        btype = struct.unpack(e + "I", data[off:off + 4])[0]
        if btype == 0x0A0D0D0A:  # section header: byte order may change
            e = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        blen = struct.unpack(e + "I", data[off + 4:off + 8])[0]
        if blen < 12 or off + blen > len(data):
            break
        body = data[off + 8:off + blen - 4]
        if btype == 1:  # interface description
            linktype, _, snaplen = struct.unpack(e + "HHI", body[:8])
            ifaces.append((linktype, snaplen))
        elif btype == 6:  # enhanced packet
            iface, _, _, caplen, _ = struct.unpack(e + "IIIII", body[:20])
            yield ifaces[iface][0], body[20:20 + caplen]
        elif btype == 3:  # simple packet: the interface is the first one
            origlen = struct.unpack(e + "I", body[:4])[0]
            snaplen = ifaces[0][1] or origlen
            yield ifaces[0][0], body[4:4 + min(origlen, snaplen)]
        elif btype == 2:  # obsolete packet block
            iface, _, _, _, caplen, _ = struct.unpack(e + "HHIIII", body[:20])
            yield ifaces[iface][0], body[20:20 + caplen]
        off += blen


def read_capture(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        frames = read_pcapng(data)
    else:
        frames = read_pcap(data)
    return [fr for lt, fr in frames if lt == LINKTYPE_ETHERNET]


# ---- header layout, to pick diverse frames --------------------------------

IPV6_EXT = (0, 43, 44, 51, 60, 135, 139, 140)


def layout(fr):
    """A short tuple describing what the parser walks through in fr."""
    sig = []
    if len(fr) < 14:
        return ("short",)
    off = 12
    et = int.from_bytes(fr[off:off + 2], "big")
    while et in (0x8100, 0x88A8, 0x9100) and off + 6 <= len(fr):
        sig.append("tag%04x" % et)
        off += 4
        et = int.from_bytes(fr[off:off + 2], "big")
    off += 2
    sig.append("et%04x" % et)
    ip = fr[off:]
    proto = None
    l4 = b""
    if et == 0x0800 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        frag = int.from_bytes(ip[6:8], "big")
        proto = ip[9]
        sig.append("ihl%d" % ihl)
        if frag & 0x1FFF:
            sig.append("frag-later")
        elif frag & 0x2000:
            sig.append("frag-first")
        l4 = ip[ihl:]
    elif et == 0x86DD and len(ip) >= 40:
        proto = ip[6]
        off6 = 40
        while proto in IPV6_EXT and off6 + 8 <= len(ip):
            h = ip[off6:]
            sig.append("ext%d" % proto)
            if proto == 44:
                fo = int.from_bytes(h[2:4], "big")
                sig.append("frag-later" if fo & 0xFFF8 else
                           "frag-first" if fo & 1 else "frag-atomic")
                hl = 8
            elif proto == 51:
                hl = (h[1] + 2) * 4
            else:
                hl = (h[1] + 1) * 8
            proto = h[0]
            off6 += hl
        l4 = ip[off6:]
    if proto is not None:
        sig.append("p%d" % proto)
    if proto == 6:
        if len(l4) < 20:
            sig.append("tcp-cut")
        else:
            sport = int.from_bytes(l4[0:2], "big")
            dport = int.from_bytes(l4[2:4], "big")
            sig.append("to25" if dport == 25 else "from25" if sport == 25 else "port")
            sig.append("fl%02x" % (l4[13] & 0x17))  # FIN SYN RST ACK
            sig.append("opt" if (l4[12] >> 4) > 5 else "noopt")
            sig.append("data" if len(l4) > (l4[12] >> 4) * 4 else "nodata")
    return tuple(sig)


def capture_frames(pcaps):
    """(name, frame) for the captures under pcaps, sorted by path."""
    paths = []
    for top, dirs, files in os.walk(pcaps):
        dirs.sort()
        for f in files:
            if f.endswith((".pcap", ".pcapng")):
                paths.append(os.path.join(top, f))
    out = []
    for path in sorted(paths):
        rel = os.path.relpath(path, pcaps)
        stem = os.path.splitext(rel)[0].replace(os.sep, "-")
        seen = set()
        picked = 0
        for i, fr in enumerate(read_capture(path), 1):
            sig = layout(fr)
            if sig in seen:
                continue
            seen.add(sig)
            out.append(("%s-%04d" % (stem, i), fr))
            picked += 1
            if picked == PER_CAPTURE:
                break
        if picked == 0:
            print("warning: no Ethernet frame in %s" % rel, file=sys.stderr)
    return out


# ---- handcrafted frames ---------------------------------------------------

MAC = bytes.fromhex("020000000001020000000002")
SRC4 = bytes([192, 0, 2, 10])
DST4 = bytes([198, 51, 100, 25])
SRC6 = bytes.fromhex("20010db8000100000000000000000010")
DST6 = bytes.fromhex("20010db8000200000000000000000025")


def u16(v):
    return v.to_bytes(2, "big")


def eth(et, payload, tags=()):
    b = MAC
    for tpid, vid in tags:
        b += u16(tpid) + u16(vid)
    return b + u16(et) + payload


def tcp(dport=25, sport=40000, flags=0x02, doff=5, data=b""):
    opts = b"\x01" * (doff * 4 - 20) if doff > 5 else b""
    return (u16(sport) + u16(dport) + bytes(8) + bytes([doff << 4, flags]) +
            u16(65535) + bytes(4) + opts + data)


def ipv4(payload, proto=6, opts=b"", frag=0, tot=None, ihl=None, ver=4):
    hl = 20 + len(opts)
    if ihl is None:
        ihl = hl // 4
    if tot is None:
        tot = hl + len(payload)
    return (bytes([ver << 4 | ihl, 0]) + u16(tot) + u16(1) + u16(frag) +
            bytes([64, proto]) + bytes(2) + SRC4 + DST4 + opts + payload)


def ipv6(payload, nh=6, plen=None):
    if plen is None:
        plen = len(payload)
    return (bytes([0x60, 0, 0, 0]) + u16(plen) + bytes([nh, 64]) + SRC6 + DST6 +
            payload)


def ext(nh, units=0):
    """Options-style extension header of (units + 1) * 8 bytes (PadN)."""
    size = (units + 1) * 8
    return bytes([nh, units, 1, size - 4]) + bytes(size - 4)


def ah(nh, words=4):
    """Authentication header of (words + 2) * 4 bytes."""
    size = (words + 2) * 4
    return bytes([nh, words]) + bytes(size - 2)


def frag6(nh, offset=0, more=False):
    return bytes([nh, 0]) + u16(offset << 3 | (1 if more else 0)) + bytes(4)


def handcrafted():
    t = tcp()
    t4 = ipv4(t)
    t6 = ipv6(t)
    f = {}
    # VLAN tags: one, 802.1ad + 802.1Q, the old 0x9100, three (too deep).
    f["vlan1-v4-tcp25"] = eth(0x0800, t4, [(0x8100, 10)])
    f["vlan-prio0-v6-tcp25"] = eth(0x86DD, t6, [(0x8100, 0xA000)])
    f["qinq-88a8-v4-tcp25"] = eth(0x0800, t4, [(0x88A8, 100), (0x8100, 10)])
    f["qinq-9100-v6-tcp25"] = eth(0x86DD, t6, [(0x9100, 100), (0x8100, 10)])
    f["vlan3-v4-tcp25"] = eth(0x0800, t4, [(0x88A8, 30), (0x8100, 20), (0x8100, 10)])
    f["vlan2-cut-after-tag"] = eth(0x0800, b"", [(0x8100, 1)])[:16]
    # IPv4: options, the largest header, padding, bad fields, truncation.
    f["v4-opts-rr"] = eth(0x0800, ipv4(t, opts=bytes([7, 11, 4]) + bytes(9)))
    f["v4-ihl15"] = eth(0x0800, ipv4(t, opts=bytes([1]) * 40))
    f["v4-ihl15-cut"] = eth(0x0800, ipv4(t, opts=bytes([1]) * 40)[:30])
    f["v4-padding"] = eth(0x0800, ipv4(tcp(flags=0x10)) + bytes(6))
    f["v4-ihl4"] = eth(0x0800, ipv4(t, ihl=4))
    f["v4-version6"] = eth(0x0800, ipv4(t, ver=6))
    f["v4-tot-lt-ihl"] = eth(0x0800, ipv4(t, tot=16))
    f["v4-tot-past-frame"] = eth(0x0800, ipv4(t, tot=1500))
    f["v4-cut-before-src"] = eth(0x0800, t4[:14])
    f["v4-cut-after-src"] = eth(0x0800, t4[:17])
    f["v4-tcp-doff4"] = eth(0x0800, ipv4(tcp(doff=4)))
    f["v4-tcp-doff15-cut"] = eth(0x0800, ipv4(tcp(doff=15)[:40]))
    f["v4-tcp-doff15"] = eth(0x0800, ipv4(tcp(doff=15, data=b"EHLO x\r\n")))
    f["v4-tcp-cut"] = eth(0x0800, ipv4(t[:12]))
    f["v4-udp25"] = eth(0x0800, ipv4(bytes(8), proto=17))
    # IPv4 fragments: first with the whole header, with the ports only,
    # tiny (no ports), later fragments.
    f["v4-frag-first"] = eth(0x0800, ipv4(t, frag=0x2000))
    f["v4-frag-first-ports"] = eth(0x0800, ipv4(t[:8], frag=0x2000))
    f["v4-frag-first-doff-bad"] = eth(0x0800, ipv4(tcp(doff=2)[:16], frag=0x2000))
    f["v4-frag-tiny"] = eth(0x0800, ipv4(t[:2], frag=0x2000))
    f["v4-frag-later"] = eth(0x0800, ipv4(t, frag=0x2000 | 3))
    f["v4-frag-last"] = eth(0x0800, ipv4(t, frag=185))
    f["v4-frag-df"] = eth(0x0800, ipv4(t, frag=0x4000))
    # IPv6 extension chains.
    f["v6-hbh-tcp25"] = eth(0x86DD, ipv6(ext(6) + t, nh=0))
    f["v6-chain-hbh-dst-rt-dst"] = eth(
        0x86DD, ipv6(ext(60) + ext(43, 1) + ext(60, 2) + ext(6) + t, nh=0))
    f["v6-ah-tcp25"] = eth(0x86DD, ipv6(ah(6) + t, nh=51))
    f["v6-mh-hip-shim6"] = eth(0x86DD, ipv6(ext(139) + ext(140) + ext(6) + t, nh=135))
    f["v6-chain-8"] = eth(0x86DD, ipv6(ext(60) * 7 + ext(6) + t, nh=60))
    f["v6-chain-9"] = eth(0x86DD, ipv6(ext(60) * 8 + ext(6) + t, nh=60))
    f["v6-hbh-not-first"] = eth(0x86DD, ipv6(ext(0) + ext(6) + t, nh=60))
    f["v6-ext-cut"] = eth(0x86DD, ipv6(ext(6, 3)[:16], nh=60))
    f["v6-ext-len-past-end"] = eth(0x86DD, ipv6(ext(6, 3)[:24], nh=60, plen=24))
    f["v6-esp"] = eth(0x86DD, ipv6(bytes(16), nh=50))
    f["v6-no-next"] = eth(0x86DD, ipv6(b"", nh=59))
    f["v6-icmp"] = eth(0x86DD, ipv6(bytes(8), nh=58))
    f["v6-padding"] = eth(0x86DD, ipv6(t) + bytes(4))
    f["v6-plen-past-frame"] = eth(0x86DD, ipv6(t, plen=400))
    f["v6-version4"] = eth(0x86DD, bytes([0x40]) + ipv6(t)[1:])
    f["v6-cut-before-src"] = eth(0x86DD, t6[:20])
    f["v6-cut-after-src"] = eth(0x86DD, t6[:30])
    # IPv6 fragments: first with TCP, first split inside the chain, first
    # without the TCP header, later, atomic.
    f["v6-frag-first"] = eth(0x86DD, ipv6(frag6(6, more=True) + t, nh=44))
    f["v6-frag-first-ports"] = eth(0x86DD, ipv6(frag6(6, more=True) + t[:4], nh=44))
    f["v6-frag-first-split-chain"] = eth(
        0x86DD, ipv6(frag6(60, more=True) + ext(6, 2)[:8], nh=44))
    f["v6-frag-first-no-l4"] = eth(0x86DD, ipv6(frag6(6, more=True) + t[:2], nh=44))
    f["v6-frag-later"] = eth(0x86DD, ipv6(frag6(6, offset=181, more=True) + t, nh=44))
    f["v6-frag-atomic"] = eth(0x86DD, ipv6(frag6(6) + t, nh=44))
    f["v6-hbh-frag-dst-tcp"] = eth(
        0x86DD, ipv6(ext(44) + frag6(60, more=True) + ext(6) + t, nh=0))
    # Neither IPv4 nor IPv6, and frames too short for Ethernet.
    f["arp"] = eth(0x0806, bytes(28))
    f["mpls-v4"] = eth(0x8847, bytes([0, 0, 0x11, 64]) + t4)
    f["ieee8023-len"] = eth(0x0040, bytes(64))
    f["eth-13-bytes"] = eth(0x0800, b"")[:13]
    f["eth-only"] = eth(0x0800, b"")
    f["empty"] = b""
    return [("hand-" + k, v) for k, v in f.items()]


# ---- policy files ---------------------------------------------------------

PORTS = 'ports = ( { inside = "net_af_packet0"; outside = "net_af_packet1"; } );\n'


def member(name, nets, servers=None, mode="enforce"):
    s = '  { name = "%s"; mode = "%s";\n    networks = [ %s ];\n' % (
        name, mode, ", ".join('"%s"' % n for n in nets))
    if servers is not None:
        s += "    mail_servers = [ %s ];\n" % ", ".join('"%s"' % n for n in servers)
    return s + "  }"


def conf(members, blocked="[ 25 ]", ports=PORTS, extra=""):
    return "blocked_ports = %s;\n%smembers = (\n%s\n);\n%s" % (
        blocked, ports, ",\n".join(members), extra)


M1 = member("college", ["192.0.2.0/24", "2001:db8:10::/48"],
            ["192.0.2.25", "2001:db8:10::25"])
M2 = member("library", ["198.51.100.0/25"], ["198.51.100.25"], mode="monitor")


def policies():
    p = {}
    for f in ("gnn.conf", "gnn-demo.conf"):
        with open(os.path.join(ROOT, "config", f)) as fh:
            p["example-" + f[:-5]] = fh.read()
    # Valid files.
    p["ok-v6-only"] = conf([member("v6", ["2001:db8:10::/48", "2001:db8:11::/64"],
                                   ["2001:db8:10::25", "2001:db8:11::/126"])])
    p["ok-v4-only-no-servers"] = conf([member("v4", ["198.18.0.0/15"], mode="off")])
    p["ok-nested-members"] = conf([
        member("isp", ["198.18.0.0/15"], ["198.18.2.25"]),
        member("customer", ["198.19.0.0/16"], ["198.19.0.26"], mode="monitor")])
    p["ok-many-members"] = conf(
        [member("m%02d" % i, ["198.18.%d.0/24" % i, "2001:db8:%x::/48" % i],
                ["198.18.%d.25" % i]) for i in range(32)])
    p["ok-ports-lists-and-ints"] = conf(
        [M1], blocked="( 25, 0x1d1L, 587 )",
        ports='ports = ( { inside = "a"; outside = "b"; },\n'
              '  { inside = "c"; outside = "d"; } );\n')
    p["ok-syntax-corners"] = (
        "// line comment\n/* block\n comment */\n"
        "blocked_ports : [ 25 ]\n"
        'ports = ( { inside = "net" "_af_packet0"; outside = "net_af_\\x70acket1" } );\n'
        'members = [ ];\n')
    p["ok-members-empty"] = conf([])
    p["ok-servers-empty-and-host-prefixes"] = conf(
        [member("h", ["192.0.2.0/32", "::/0", "0.0.0.0/0"], [])])
    # One error (or warning) per file, in the order the loader checks.
    p["err-syntax"] = "blocked_ports = [ 25 ;\n"
    p["err-syntax-string"] = 'ports = ( { inside = "unterminated; } );\n'
    p["err-empty-file"] = ""
    p["err-unknown-top-field"] = conf([M1], extra="blocked_port = [ 25 ];\nfoo = 1;\n")
    p["err-blocked-not-list"] = conf([M1], blocked="25")
    p["err-blocked-empty"] = conf([M1], blocked="[ ]")
    p["err-blocked-entry-type"] = conf([M1], blocked='( 25, "587", 1.5, true, { } )')
    p["err-blocked-range"] = conf([M1], blocked="( 0, 65536, -25, 9223372036854775807L )")
    p["err-blocked-twice"] = conf([M1], blocked="[ 25, 587, 25 ]")
    p["err-ports-missing"] = conf([M1], ports="")
    p["err-ports-not-list"] = conf([M1], ports='ports = "net_af_packet0";\n')
    p["err-ports-empty"] = conf([M1], ports="ports = ( );\n")
    p["err-ports-too-many"] = conf([M1], ports="ports = (\n%s\n);\n" % ",\n".join(
        '  { inside = "i%d"; outside = "o%d"; }' % (i, i) for i in range(17)))
    p["err-port-not-found"] = conf([M1], ports=(
        'ports = ( { inside = "missing0"; outside = "net_af_packet1"; } );\n'))
    p["err-pair-not-group"] = conf([M1], ports='ports = ( "a", [ 1 ] );\n')
    p["err-pair-fields"] = conf([M1], ports=(
        'ports = ( { inside = 1; outsid = "b"; },\n'
        '  { inside = ""; outside = "%s"; },\n'
        '  { inside = "x"; outside = "x"; } );\n' % ("p" * 80)))
    p["err-members-missing"] = "blocked_ports = [ 25 ];\n" + PORTS
    p["err-members-not-list"] = conf([M1]).replace("members = (", "members = { m = (") \
        .replace("\n);\n", "\n); };\n")
    p["err-members-1025-empty"] = conf(["{}"] * 1025)
    p["err-member-not-group"] = conf([M1, '"library"', "( 1 )"])
    p["err-member-name"] = conf([
        '  { mode = "enforce"; networks = [ "192.0.2.0/24" ]; }',
        '  { name = 7; mode = "enforce"; networks = [ "192.0.3.0/24" ]; }',
        '  { name = ""; mode = "enforce"; networks = [ "192.0.4.0/24" ]; }',
        '  { name = "%s"; mode = "enforce"; networks = [ "192.0.5.0/24" ]; }' % ("n" * 64)])
    p["err-member-duplicate"] = conf([M1, member("college", ["203.0.113.0/24"])])
    p["err-member-fields"] = conf([
        '  { name = "a"; mod = "enforce"; network = [ "192.0.2.0/24" ];\n'
        '    mail_server = [ ]; colour = "blue"; }'])
    p["err-member-mode"] = conf([
        member("a", ["192.0.2.0/24"], mode="block"),
        '  { name = "b"; mode = 1; networks = [ "192.0.3.0/24" ]; }',
        '  { name = "c"; networks = [ "192.0.4.0/24" ]; }'])
    p["err-networks"] = conf([
        '  { name = "a"; mode = "off"; }',
        '  { name = "b"; mode = "off"; networks = "192.0.2.0/24"; }',
        '  { name = "c"; mode = "off"; networks = [ ]; }',
        '  { name = "d"; mode = "off"; networks = ( 1, [ "198.18.0.0/15" ] ); }'])
    p["err-prefixes"] = conf([member("a", [
        "", "192.0.2.0/33", "2001:db8::/129", "192.0.2.0/", "192.0.2.0/024",
        "192.0.2.0/2a", "198/8", "0198.18.0.0/15", "::ffff:192.0.2.0/120",
        "fe80::1%eth0", "192.0.2.1/24", "2001:db8::1/32", "x" * 70])])
    p["err-prefix-twice"] = conf([member("a", ["192.0.2.0/24", "192.0.2.0/24"],
                                         ["192.0.2.25", "192.0.2.25/32"])])
    p["err-network-two-owners"] = conf([
        member("a", ["192.0.2.0/24", "2001:db8::/32"]),
        member("b", ["192.0.2.0/24"]),
        member("c", ["2001:db8::/32", "192.0.2.0/24"])])
    p["err-servers-not-list"] = conf([
        member("a", ["192.0.2.0/24"]).replace("  }", '    mail_servers = "192.0.2.25";\n  }')])
    p["warn-server-outside"] = conf([member("a", ["192.0.2.0/24"], ["198.51.100.25"])])
    p["warn-server-in-other-member"] = conf([
        member("isp", ["198.18.0.0/15"], ["198.19.0.25"]),
        member("customer", ["198.19.0.0/16"])])
    p["ok-action-ipfix"] = conf([
        member("a", ["192.0.2.0/25"]).replace("  }", '    action = "reject";\n  }'),
        member("b", ["192.0.2.128/25"]).replace("  }", '    action = "drop";\n  }')],
        extra='ipfix = { collector = "192.0.2.200:4739"; interval = 10; };\n')
    p["ok-ipfix-v6-default-interval"] = conf(
        [M1], extra='ipfix = { collector = "[2001:db8::200]:4739"; };\n')
    p["err-action"] = conf([
        member("a", ["192.0.2.0/25"]).replace("  }", '    action = "Reject";\n  }'),
        member("b", ["192.0.2.128/25"]).replace("  }", "    action = 1;\n  }")])
    p["err-ipfix"] = conf([M1], extra=(
        'ipfix = { collector = "2001:db8::1:4739"; interval = 0; intervall = 5; };\n'))
    p["err-ipfix-not-group"] = conf([M1], extra='ipfix = "192.0.2.200:4739";\n')
    p["err-ipfix-port"] = conf([M1], extra=(
        'ipfix = { collector = "[2001:db8::1]:65536"; interval = 3601; };\n'))
    p["err-integers-truncated"] = conf([M1], blocked=(
        "( 25,\n 4294967321,\n 0x100000019,\n -2147483649,\n 99999999999999999999L,\n"
        " 0x8000000000000000L, 1e5, .5, 0x1fLL )"))
    p["err-include"] = conf([M1]) + '@include "other.conf"\n'
    p["err-nesting"] = conf([M1], extra="x = " + "(" * 70 + "\n")
    p["err-group-settings"] = conf([M1], extra="".join("s%d = %d;\n" % (i, i) for i in range(70)))
    p["ok-comment-at-end"] = conf([M1]) + "# no newline after this"
    p["warn-server-covers-network"] = conf([
        member("a", ["198.18.0.0/15", "198.18.4.0/24"], ["198.18.4.0/23", "198.18.0.0/15"])])
    p["warn-enforced-default"] = conf([member("all", ["0.0.0.0/0", "::/0"], ["192.0.2.25"])])
    p["err-no-follow-on"] = conf([member("x", ["192.0.2.1/24"], ["192.0.2.25"])])
    p["err-many-kinds"] = (
        "blocked_ports = [ 25, 25, 0 ];\nports = ( { inside = \"a\"; } );\n"
        "members = ( { name = \"a\"; mode = \"x\"; networks = [ \"1.2.3.4/8\" ]; },\n"
        "  { name = \"a\"; networks = [ \"1.0.0.0/8\" ]; mail_servers = [ 3 ]; } );\n"
        "extra = 1;\n")
    items = [(k, v.encode()) for k, v in p.items()]
    # Bytes as a file may hold them: NULs, text that is no UTF-8, a BOM.
    head = conf([M1]).encode()
    items += [
        ("err-nul-in-comment", head + b"#" + b"\0" * 64),
        ("err-nul-in-string", head.replace(b'"college"', b'"col\0lege"')),
        ("err-utf8-latin1", head + "# caf\xe9\n".encode("latin-1")),
        ("err-utf8-overlong", head.replace(b'"college"', b'"\xc0\xafcollege"')),
        ("err-utf8-surrogate", head + b"# \xed\xa0\x80\n"),
        ("ok-utf8-bom", b"\xef\xbb\xbf" + head),
    ]
    return items


# ---- control socket requests ----------------------------------------------


def requests():
    """Request lines for fuzz_request: every command in both forms, every
    argument at and past its limits, and one line per kind of refusal."""
    r = {}
    for cmd in ("stats", "reload", "top", "servers", "suggest"):
        r["bare-" + cmd] = cmd
        r["json-" + cmd] = '{"cmd":"%s"}' % cmd
    r["bare-top-n"] = "top 5"
    r["bare-top-member"] = "top example-college"
    r["bare-top-member-n"] = "top\texample-college 1000"
    r["bare-top-numeric-member"] = "top 42 3"
    r["bare-servers-member"] = "servers example-college"
    r["bare-suggest-member"] = "suggest caf\u00e9"
    r["bare-diff"] = "diff /etc/gnn/gnn.conf"
    r["bare-crlf-blanks"] = "  stats \r\n"
    r["json-top-all"] = '{"n":1000,"member":"m","cmd":"top"}'
    r["json-stats-all"] = ('{"cmd":"stats","member":"m*","limit":4294967295,"offset":0,'
                           '"sort":"blocked","rates":true}')
    r["json-diff"] = '{"cmd":"diff","config":"/tmp/x y.conf"}'
    r["json-escapes"] = '{"cmd":"top","member":"\\u00e9\\"\\\\\\/"}'
    r["json-member-63"] = '{"cmd":"top","member":"%s"}' % ("m" * 63)
    r["err-json-member-64"] = '{"cmd":"top","member":"%s"}' % ("m" * 64)
    r["err-bare-member-64"] = "top " + "m" * 64
    r["err-unknown-cmd"] = "frobnicate"
    r["err-unknown-field"] = '{"cmd":"top","membr":"m"}'
    r["err-cmd-type"] = '{"cmd":7}'
    r["err-no-cmd"] = '{"n":1}'
    r["err-not-object"] = "[1,2]"
    r["err-string"] = '"stats"'
    r["err-duplicate-key"] = '{"cmd":"top","n":1,"n":2}'
    r["err-trailing"] = '{"cmd":"stats"} x'
    r["err-json-n-0"] = '{"cmd":"top","n":0}'
    r["err-json-n-1001"] = '{"cmd":"top","n":1001}'
    r["err-json-n-negative"] = '{"cmd":"top","n":-1}'
    r["err-json-n-float"] = '{"cmd":"top","n":1.5}'
    r["err-json-n-huge"] = '{"cmd":"top","n":99999999999999999999}'
    r["err-json-bool"] = '{"cmd":"stats","rates":1}'
    r["err-json-nested"] = '{"cmd":"top","member":{"a":[[[]]]}}'
    r["err-bare-n-0"] = "top 0"
    r["err-bare-n-11-digits"] = "top m 99999999999"
    r["err-bare-too-many"] = "top a 1 b"
    r["err-bare-reload-args"] = "reload now"
    r["err-diff-missing"] = "diff"
    r["err-json-diff-missing"] = '{"cmd":"diff"}'
    r["err-control-char"] = "top \x1b[2J"
    r["err-empty"] = ""
    r["err-blank"] = " \t\r\n"
    r["err-too-long"] = "top " + "x" * 4100
    items = [(k, v.encode()) for k, v in r.items()]
    items += [
        ("err-nul", b"stats\0top"),
        ("err-bare-not-utf8", b"top \xc3\x28 3"),
        ("err-json-not-utf8", b'{"cmd":"top","member":"\xed\xa0\x80"}'),
        ("err-json-nul-escape", b'{"cmd":"top","member":"a\\u0000b"}'),
    ]
    return items


def record(slot, flags, addr, packets, attempts, dests=b"\0\0\0\0", ago=0, length=0):
    """One "!r" step of fuzz_api: 16 bytes (see add_record there)."""
    return (b"!r" + bytes([slot, flags]) + bytes(addr) + struct.pack("<HH", packets, attempts)
            + dests + bytes([ago, length]) + b"\n")


# flags of a record: bit 0 IPv6, bit 1 accepted (SYN-ACK), bit 2 a listed
# server, bits 3.. the verdict (enum gnn_verdict)
SENT_BLOCKED = 3 << 3
SENT_WOULD = 2 << 3
SENT_ALLOWED = 1 << 3
ACCEPTED = 2 | (2 << 3)


def api_scripts():
    """Scripts for fuzz_api: records of several members, then requests,
    reclassification, ageing, deferred replies."""
    s = {}
    feed = b"".join(record(m % 6, SENT_BLOCKED if m % 2 else SENT_WOULD,
                           (198, 51, 100, m), 10 + m, m * 3, bytes([m, m + 1, 7, 9]), m, 2)
                    for m in range(12))
    feed6 = b"".join(record(m % 6, 1 | SENT_BLOCKED, (0, 16, 0, m), 5, m, ago=3)
                     for m in range(4))
    accepts = b"".join(record(m % 6, ACCEPTED, (192, 0, 2, m + 1), 2, 1) for m in range(6))
    servers = b"".join(record(m, 4 | SENT_ALLOWED, (m, 0, 0, 0), 3, 1) for m in range(6))
    s["top-all"] = feed + b"top\n"
    s["top-member"] = feed + feed6 + b"top college 3\n{\"cmd\":\"top\",\"member\":\"school\",\"n\":1}\n"
    s["top-unknown-member"] = feed + b"top nobody\n"
    s["top-evictions"] = feed + feed + feed6 + b"top 1000\n"
    s["servers"] = servers + b"servers\nservers library\n!servers\x05\nservers\n"
    s["suggest"] = accepts + feed + b"suggest\nsuggest m3\n{\"cmd\":\"suggest\",\"member\":\"caf\xc3\xa9\"}\n"
    s["reclassify"] = feed + accepts + b"!reclassify\ntop\nsuggest\n"
    s["forget-age"] = feed + b"!forget1\ntop\n!tick\ntop\n!age\ntop\n"
    s["deferred"] = (b"reload\n{\"cmd\":\"diff\",\"config\":\"x\"}\nstats\n!answer\n"
                     b"reload\n!close\x01\n!answer\nstats\n")
    s["errors"] = b"frobnicate\ntop 0\n{\"cmd\":7}\nx3\n\n"
    s["stats"] = b'{"cmd":"stats","limit":5,"rates":false}\nstats\n'
    return list(s.items())


# ---- output ---------------------------------------------------------------


def write_dir(path, items):
    os.makedirs(path, exist_ok=True)
    for f in os.listdir(path):
        os.unlink(os.path.join(path, f))
    seen = {}
    n = size = 0
    for name, data in items:
        digest = hashlib.sha1(data).digest()
        if digest in seen:  # same bytes twice: keep the first name
            continue
        seen[digest] = name
        with open(os.path.join(path, name), "wb") as f:
            f.write(data)
        n += 1
        size += len(data)
    print("%s: %d files, %d bytes" % (os.path.relpath(path, ROOT), n, size))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pcaps", default=os.path.join(ROOT, "tests", "data", "captures"),
                    help="directory of the captures (default: tests/data/captures)")
    ap.add_argument("--out", default=os.path.join(HERE, "corpus"),
                    help="corpus directory (parse/, policy/, request/ and api/ below it)")
    args = ap.parse_args()
    write_dir(os.path.join(args.out, "parse"), capture_frames(args.pcaps) + handcrafted())
    write_dir(os.path.join(args.out, "policy"), policies())
    write_dir(os.path.join(args.out, "request"), requests())
    write_dir(os.path.join(args.out, "api"), api_scripts())


if __name__ == "__main__":
    main()
