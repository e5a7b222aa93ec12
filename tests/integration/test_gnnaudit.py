#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""gnnaudit on the captures of tests/data/captures, and on flow records
made from them by the real nfpcapd and printed by nfdump -o csv.

usage: test_gnnaudit.py PATH/TO/gnnaudit

The expected senders and accepting hosts are computed here, from the
capture's bytes, by a reference reader of the plain frames these captures
hold (Ethernet, one optional 802.1Q tag, IPv4 or IPv6 with TCP right
behind): per source, the frames to port 25 (packets), the SYNs without ACK
among them (attempts), their destinations and times; per source, the
SYN-ACKs from port 25 (accepted connections). The configs name the
captures' real addresses as member networks: the analysis is offline, no
frame is sent anywhere.

Needs nfpcapd and nfdump (nfdump 1.7). Stdlib only. Prints one line per
test and "N passed, N failed"; exits non-zero on any failure.
"""

import ipaddress
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import traceback

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURES = os.path.join(REPO_ROOT, "tests", "data", "captures")
SMTP = os.path.join(CAPTURES, "zeek", "smtp.pcap")
IPV6 = os.path.join(CAPTURES, "zeek", "communityid", "ipv6.pcap")
PCAPNG = os.path.join(CAPTURES, "zeek", "vlan-pcp-dei.pcapng")

# zeek/smtp.pcap: 10.10.1.4 sends to 74.53.140.153:25, which answers with a SYN-ACK.
SMTP_CLIENT, SMTP_SERVER = "10.10.1.4", "74.53.140.153"
# zeek/communityid/ipv6.pcap: the same over IPv6.
V6_CLIENT, V6_SERVER = "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a"

# Captures whose port-25 frames the reference reader reads whole.
PLAIN_CAPTURES = [
    "zeek/smtp.pcap",
    "zeek/communityid/ipv6.pcap",
    "zeek/smtp-multi-addr.pcap",
    "zeek/smtp-one-side-only.pcap",
    "zeek/smtp-mail-transactions-invalid.pcap",
    "zeek/smtp/smtp-bdat-pipeline-8bitmime.pcap",
    "zeek/smtp/smtp-many-addresses.pcap",
    "zeek/tls/smtp-starttls.pcap",
    "arkime/smtp-decrypted.pcap",
    "arkime/smtp-starttls.pcap",
    "arkime/smtp-zip.pcap",
]
# Made into flows by nfpcapd and compared with the capture's analysis.
FLOW_CAPTURES = [
    "zeek/smtp.pcap",
    "zeek/communityid/ipv6.pcap",
    "zeek/smtp-multi-addr.pcap",
    "zeek/smtp-one-side-only.pcap",
    "zeek/tls/smtp-starttls.pcap",
    "arkime/smtp-decrypted.pcap",
]

GNNAUDIT = None
TMP = None
ENV = dict(os.environ, TZ="UTC")  # nfdump prints local time; so does the text report


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


# ---------------------------------------------------------------- files


def read_pcap(path):
    """(linktype, [(ns, bytes, orig_len)], [record offsets]) of a classic pcap."""
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise Failure("%s: not a classic pcap" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(end + "I", data[20:24])[0] & 0x0FFFFFFF
    frames, offsets, off = [], [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(end + "IIII", data[off:off + 16])
        if off + 16 + incl > len(data):
            break
        offsets.append(off)
        frames.append((sec * 10**9 + frac * (1 if nano else 1000),
                       data[off + 16:off + 16 + incl], orig))
        off += 16 + incl
    return linktype, frames, offsets


def write_pcap(path, linktype, frames):
    """Nanosecond pcap."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, linktype))
        for ns, data, orig in frames:
            f.write(struct.pack("<IIII", ns // 10**9, ns % 10**9, len(data), orig))
            f.write(data)


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def pcapng_block(btype, body):
    body = pad4(body)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def write_pcapng(path, linktype, frames):
    """One section, one interface with nanosecond stamps, enhanced packet blocks."""
    out = [pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    tsresol = struct.pack("<HH", 9, 1) + b"\x09\0\0\0" + struct.pack("<HH", 0, 0)
    out.append(pcapng_block(1, struct.pack("<HHI", linktype, 0, 262144) + tsresol))
    for ns, data, orig in frames:
        out.append(pcapng_block(6, struct.pack("<IIIII", 0, ns >> 32, ns & 0xFFFFFFFF,
                                               len(data), orig) + data))
    with open(path, "wb") as f:
        f.write(b"".join(out))


def as_linux_sll(frames):
    """Ethernet frames as Linux cooked (SLL) frames of the same network layer."""
    out = []
    for ns, data, orig in frames:
        hdr = struct.pack(">HHH8sH", 0, 1, 6, data[6:12] + b"\0\0", rd16(data, 12))
        out.append((ns, hdr + data[14:], orig - 14 + 16))
    return out


# ------------------------------------------------------ reference reader


def rd16(b, off):
    return b[off] << 8 | b[off + 1]


def tcp_of(frame):
    """(src, dst, sport, dport, flags) of a plain TCP frame, else None."""
    off, etype = 14, rd16(frame, 12)
    if etype == 0x8100:
        etype, off = rd16(frame, 16), 18
    if etype == 0x0800:
        ihl = (frame[off] & 15) * 4
        if frame[off + 9] != 6 or rd16(frame, off + 6) & 0x3FFF:
            return None  # not TCP, or a fragment
        src = ipaddress.ip_address(frame[off + 12:off + 16])
        dst = ipaddress.ip_address(frame[off + 16:off + 20])
        l4 = off + ihl
    elif etype == 0x86DD:
        if frame[off + 6] != 6:
            return None  # extension headers: not in these captures' SMTP
        src = ipaddress.ip_address(frame[off + 8:off + 24])
        dst = ipaddress.ip_address(frame[off + 24:off + 40])
        l4 = off + 40
    else:
        return None
    if len(frame) < l4 + 20:
        return None
    return src, dst, rd16(frame, l4), rd16(frame, l4 + 2), frame[l4 + 13]


def reference(frames, networks):
    """Senders and accepting hosts whose address lies in one of networks."""
    senders, accepts = {}, {}
    for ns, frame, _ in frames:
        t = tcp_of(frame)
        if t is None:
            continue
        src, dst, sport, dport, flags = t
        if not any(src in n for n in networks):
            continue
        syn, ack = flags & 0x02, flags & 0x10
        if dport == 25:
            s = senders.setdefault(str(src), {"packets": 0, "attempts": 0, "dsts": set(),
                                              "first": ns, "last": ns})
            s["packets"] += 1
            if syn and not ack:
                s["attempts"] += 1
                s["dsts"].add(dst)
            s["first"], s["last"] = min(s["first"], ns), max(s["last"], ns)
        elif sport == 25 and syn and ack:
            a = accepts.setdefault(str(src), {"inbound": 0, "peers": set(), "first": ns,
                                              "last": ns})
            a["inbound"] += 1
            a["peers"].add(dst)
            a["first"], a["last"] = min(a["first"], ns), max(a["last"], ns)
    return senders, accepts


def same_count(got, want):
    """Distinct destinations are a 16-register sketch's estimate (about 26% error)."""
    if want <= 1:
        return got == want
    return abs(got - want) <= max(1, math.ceil(0.5 * want))


def tcp_frame(src, dst, sport, dport, flags):
    """Ethernet, IPv4 or IPv6, TCP without payload (checksums left zero)."""
    src, dst = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    tcp = struct.pack(">HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, flags, 65535, 0, 0)
    if src.version == 4:
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0,
                         src.packed, dst.packed)
        etype = 0x0800
    else:
        ip = struct.pack(">IHBB16s16s", 6 << 28, len(tcp), 6, 64, src.packed, dst.packed)
        etype = 0x86DD
    frame = b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + struct.pack(">H", etype) + ip + tcp
    return frame


SYN, SYNACK, ACK = 0x02, 0x12, 0x10


# -------------------------------------------------------------- running


def run(args, stdin=None, expect=None):
    p = subprocess.run([GNNAUDIT] + args, input=stdin, capture_output=True, env=ENV,
                       timeout=120)
    out, err = p.stdout.decode(), p.stderr.decode()
    if expect is not None and p.returncode != expect:
        raise Failure("gnnaudit %s: exit %d, expected %d\nstdout:\n%s\nstderr:\n%s"
                      % (" ".join(args), p.returncode, expect, out, err))
    noise = [line for line in err.splitlines() if not line.startswith("warning: ")]
    if p.returncode == 0 and noise:  # the config's warnings, nothing else
        raise Failure("gnnaudit %s: exit 0 with messages:\n%s" % (" ".join(args), err))
    return p.returncode, out, err


def audit_json(args, expect=0, stdin=None):
    _, out, err = run(["--json"] + args, stdin=stdin, expect=expect)
    try:
        return json.loads(out), err
    except ValueError as e:
        raise Failure("not one JSON object (%s):\n%s" % (e, out))


def config(name, members, ports=(25,)):
    """A config file of members: (name, mode, networks, mail_servers)."""
    lines = ["blocked_ports = [ %s ];" % ", ".join(str(p) for p in ports),
             'ports = ( { inside = "net_null0"; outside = "net_null1"; } );',
             "members = ("]
    groups = []
    for mname, mode, networks, servers in members:
        groups.append('  { name = "%s"; mode = "%s"; networks = [ %s ]; mail_servers = [ %s ]; }'
                      % (mname, mode, ", ".join('"%s"' % n for n in networks),
                         ", ".join('"%s"' % s for s in servers)))
    lines.append(",\n".join(groups))
    lines.append(");")
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def member(report, name):
    for m in report["members"]:
        if m["member"] == name:
            return m
    raise Failure("member %s not in the report: %s" % (name, [m["member"] for m in report["members"]]))


def by_address(rows):
    return {r["address"]: r for r in rows}


def close(t, ns, what):
    check(t is not None and abs(t - ns / 1e9) < 2e-6, "%s: %s, expected %.9f" % (what, t, ns / 1e9))


def check_against_reference(m, frames, networks, verdict, times=True):
    """m's senders and accepts are exactly the reference's for these networks."""
    want_s, want_a = reference(frames, [ipaddress.ip_network(n) for n in networks])
    got_s, got_a = by_address(m["senders"]), by_address(m["accepts"])
    check(set(got_s) == set(want_s), "%s senders %s, expected %s"
          % (m["member"], sorted(got_s), sorted(want_s)))
    check(set(got_a) == set(want_a), "%s accepting hosts %s, expected %s"
          % (m["member"], sorted(got_a), sorted(want_a)))
    for addr, w in want_s.items():
        g = got_s[addr]
        check(g["verdict"] == verdict, "%s: verdict %s, expected %s" % (addr, g["verdict"], verdict))
        check((g["attempts"], g["packets"]) == (w["attempts"], w["packets"]),
              "%s: attempts, packets %s, expected %s" % (addr, (g["attempts"], g["packets"]),
                                                         (w["attempts"], w["packets"])))
        check(same_count(g["destinations"], len(w["dsts"])),
              "%s: %d destinations, expected %d" % (addr, g["destinations"], len(w["dsts"])))
        if times:
            close(g["first_seen"], w["first"], addr + " first_seen")
            close(g["last_seen"], w["last"], addr + " last_seen")
    for addr, w in want_a.items():
        g = got_a[addr]
        check(g["inbound"] == w["inbound"] and g["packets"] == w["inbound"],
              "%s: inbound %d (packets %d), expected %d" % (addr, g["inbound"], g["packets"], w["inbound"]))
        check(same_count(g["peers"], len(w["peers"])),
              "%s: %d peers, expected %d" % (addr, g["peers"], len(w["peers"])))
        check(g["outbound_attempts"] == want_s.get(addr, {"attempts": 0})["attempts"],
              "%s: outbound attempts %d" % (addr, g["outbound_attempts"]))
        if times:
            close(g["first_seen"], w["first"], addr + " first_seen")
            close(g["last_seen"], w["last"], addr + " last_seen")
    # Suggested: exactly the unlisted accepting hosts; never a host that only sends.
    want_sugg = [a for a in sorted(want_a) if not got_a[a]["listed"]]
    check(sorted(m["suggested"]) == want_sugg, "%s suggested %s, expected %s"
          % (m["member"], m["suggested"], want_sugg))
    check(m["mail_servers"] == m["listed"] + m["suggested"], "mail_servers %s" % m["mail_servers"])
    for addr in want_s:
        if addr not in want_a:
            check(addr not in m["suggested"], "%s only sends, yet it is suggested" % addr)
    return want_s, want_a


def text_rows(text, title):
    """Rows of the table under "  TITLE: N hosts" in a text report, as lists of cells."""
    lines, rows = text.splitlines(), []
    for i, line in enumerate(lines):
        if line.startswith("  " + title + ":"):
            j = i + 2  # past the column heads
            while j < len(lines) and lines[j].startswith("    "):
                rows.append(lines[j].split())
                j += 1
            break
    return rows


def mail_servers_lines(text):
    return [line.strip() for line in text.splitlines() if line.strip().startswith("mail_servers")]


# -------------------------------------------------------- captures (1)


def test_client_enforced():
    """Only the SMTP client in the member: reported as blocked, never suggested."""
    cfg = config("client.conf", [("college", "enforce", ["10.10.1.0/24"], ["10.10.1.25"])])
    _, frames, _ = read_pcap(SMTP)
    report, _ = audit_json(["-f", cfg, SMTP])
    check(report["complete"] and not report["truncated"], "complete, not truncated")
    check(report["frames"] == len(frames) == 125, "frames %d" % report["frames"])
    m = member(report, "college")
    want_s, want_a = check_against_reference(m, frames, ["10.10.1.0/24"], "blocked")
    check(list(want_s) == [SMTP_CLIENT] and not want_a, "the reference sees the client only")
    check(m["senders"][0]["packets"] == 28 and m["senders"][0]["attempts"] == 1,
          "28 packets, 1 attempt: %s" % m["senders"][0])
    check(m["suggested"] == [] and m["mail_servers"] == ["10.10.1.25"],
          "nothing suggested: %s" % m["mail_servers"])
    check(m["packets"]["blocked"] == 28, "judge counted %s" % m["packets"])
    check(m["servers"][0]["never"] is True, "the listed server never sent")
    # The text report says the same.
    _, text, _ = run(["-f", cfg, SMTP], expect=0)
    rows = text_rows(text, "sent to blocked ports")
    check(rows == [[SMTP_CLIENT, "blocked", "1", "28", "1", "2009-10-05", "06:06:07",
                    "2009-10-05", "06:06:15"]], "text senders %s\n%s" % (rows, text))
    check(text_rows(text, "accepted inbound on blocked ports") == [], "no accepts\n" + text)
    check(mail_servers_lines(text) == ['mail_servers = [ "10.10.1.25" ];'], text)
    check("listed, not seen sending: 10.10.1.25" in text, text)


def test_client_monitored():
    cfg = config("client-mon.conf", [("college", "monitor", ["10.10.1.0/24"], [])])
    _, frames, _ = read_pcap(SMTP)
    report, _ = audit_json(["-f", cfg, SMTP])
    m = member(report, "college")
    check_against_reference(m, frames, ["10.10.1.0/24"], "would_block")
    check(m["packets"]["would_block"] == 28 and m["packets"]["blocked"] == 0, str(m["packets"]))
    _, text, _ = run(["-f", cfg, SMTP], expect=0)
    rows = text_rows(text, "sent to blocked ports")
    check(rows and rows[0][:3] == [SMTP_CLIENT, "would", "block"], "text %s" % rows)
    check(mail_servers_lines(text) == ["mail_servers = [ ];"], text)


def test_client_off_judged_as_monitor():
    cfg = config("client-off.conf", [("college", "off", ["10.10.1.0/24"], [])])
    report, _ = audit_json(["-f", cfg, SMTP])
    m = member(report, "college")
    check(m["mode"] == "off" and m["judged_as"] == "monitor", "%s %s" % (m["mode"], m["judged_as"]))
    check([s["verdict"] for s in m["senders"]] == ["would_block"], str(m["senders"]))


def test_client_listed():
    """Listed: the client's traffic is allowed, counted under its entry, not suggested."""
    cfg = config("client-listed.conf",
                 [("college", "enforce", ["10.10.1.0/24"], [SMTP_CLIENT, "10.10.1.25"])])
    report, _ = audit_json(["-f", cfg, SMTP])
    m = member(report, "college")
    check(len(m["senders"]) == 1, str(m["senders"]))
    s = m["senders"][0]
    check((s["address"], s["verdict"], s["listed"]) == (SMTP_CLIENT, "allowed", True), str(s))
    check((s["attempts"], s["packets"], s["destinations"]) == (1, 28, 1), str(s))
    check(m["packets"]["allowed"] == 28 and m["packets"]["blocked"] == 0, str(m["packets"]))
    servers = {x["server"]: x for x in m["servers"]}
    check(servers[SMTP_CLIENT]["never"] is False and servers["10.10.1.25"]["never"] is True,
          str(servers))
    check(m["suggested"] == [] and m["mail_servers"] == [SMTP_CLIENT, "10.10.1.25"],
          str(m["mail_servers"]))
    _, text, _ = run(["-f", cfg, SMTP], expect=0)
    rows = text_rows(text, "sent to blocked ports")
    check(rows and rows[0][:2] == [SMTP_CLIENT, "allowed"], "text %s" % rows)


def test_server_side_suggested():
    """The host answering with SYN-ACK from port 25 is suggested."""
    cfg = config("server.conf", [("hosting", "monitor", ["74.53.140.0/24"], [])])
    _, frames, _ = read_pcap(SMTP)
    report, _ = audit_json(["-f", cfg, SMTP])
    m = member(report, "hosting")
    check_against_reference(m, frames, ["74.53.140.0/24"], "would_block")
    check(m["senders"] == [], "the server sends nothing to port 25: %s" % m["senders"])
    check(m["suggested"] == [SMTP_SERVER] and m["mail_servers"] == [SMTP_SERVER],
          str(m["mail_servers"]))
    _, text, _ = run(["-f", cfg, SMTP], expect=0)
    rows = text_rows(text, "accepted inbound on blocked ports")
    check(rows and rows[0][:4] == [SMTP_SERVER, "no", "1", "1"], "text %s\n%s" % (rows, text))
    check(mail_servers_lines(text) == ['mail_servers = [ "%s" ];' % SMTP_SERVER], text)


def test_mirror_both_members():
    """Both directions on one link: each side lands in its own member."""
    cfg = config("mirror.conf", [
        ("college", "enforce", ["10.10.1.0/24"], ["10.10.1.25"]),
        ("hosting", "enforce", ["74.53.140.0/24"], []),
        ("quiet", "enforce", ["198.51.100.0/24"], []),
    ])
    _, frames, _ = read_pcap(SMTP)
    report, _ = audit_json(["-f", cfg, SMTP])
    check([m["member"] for m in report["members"]] == ["college", "hosting"],
          "members with traffic: %s" % [m["member"] for m in report["members"]])
    check(report["members_quiet"] == 1, "one quiet member")
    check_against_reference(member(report, "college"), frames, ["10.10.1.0/24"], "blocked")
    check_against_reference(member(report, "hosting"), frames, ["74.53.140.0/24"], "blocked")
    check(member(report, "college")["suggested"] == [], "the client is never suggested")
    check(member(report, "hosting")["suggested"] == [SMTP_SERVER], "the server is suggested")
    # -m: that member only, even a quiet one.
    one, _ = audit_json(["-f", cfg, "-m", "hosting", SMTP])
    check([m["member"] for m in one["members"]] == ["hosting"], "-m hosting")
    quiet, _ = audit_json(["-f", cfg, "-m", "quiet", SMTP])
    q = quiet["members"]
    check(len(q) == 1 and q[0]["senders"] == [] and q[0]["accepts"] == [], "-m quiet: %s" % q)
    _, text, _ = run(["-f", cfg, "-m", "quiet", SMTP], expect=0)
    check("member quiet (enforce)" in text and "member college" not in text, text)


def test_ipv6():
    cfg = config("v6.conf", [("v6-client", "enforce", ["2001:470:e5bf:dead::/64"], []),
                             ("v6-server", "monitor", ["2607:f8b0:400c:c03::/64"], [])])
    _, frames, _ = read_pcap(IPV6)
    report, _ = audit_json(["-f", cfg, IPV6])
    c = member(report, "v6-client")
    s = member(report, "v6-server")
    want_s, _ = check_against_reference(c, frames, ["2001:470:e5bf:dead::/64"], "blocked")
    check(list(want_s) == [V6_CLIENT], "reference: the IPv6 client")
    _, want_a = check_against_reference(s, frames, ["2607:f8b0:400c:c03::/64"], "would_block")
    check(list(want_a) == [V6_SERVER], "reference: the IPv6 server")
    check(c["suggested"] == [] and s["suggested"] == [V6_SERVER], "suggested")
    _, text, _ = run(["-f", cfg, IPV6], expect=0)
    check('mail_servers = [ "%s" ];' % V6_SERVER in mail_servers_lines(text), text)


def test_pcapng():
    """The same capture as pcapng gives the same report; a third-party pcapng reads."""
    _, frames, _ = read_pcap(SMTP)
    ng = os.path.join(TMP, "smtp.pcapng")
    write_pcapng(ng, 1, frames)
    cfg = config("ng.conf", [("college", "enforce", ["10.10.1.0/24"], []),
                             ("hosting", "monitor", ["74.53.140.0/24"], [])])
    a, _ = audit_json(["-f", cfg, SMTP])
    b, _ = audit_json(["-f", cfg, ng])
    check(b["inputs"][0]["format"] == "pcapng" and a["inputs"][0]["format"] == "pcap", "formats")
    check(a["members"] == b["members"], "pcap and pcapng reports differ:\n%s\n%s"
          % (a["members"], b["members"]))
    check(b["frames"] == 125, "frames")
    c, _ = audit_json(["-f", cfg, PCAPNG])
    check(c["inputs"][0]["format"] == "pcapng" and c["frames"] == 9 and c["complete"],
          "vlan-pcp-dei.pcapng: %s" % c["inputs"])
    check(c["members"] == [] and c["members_quiet"] == 2, "no port-25 traffic in it")


def test_linux_cooked():
    """Linux cooked (SLL) frames get an Ethernet header: the same report."""
    _, frames, _ = read_pcap(SMTP)
    sll = os.path.join(TMP, "smtp-sll.pcap")
    write_pcap(sll, 113, as_linux_sll(frames))
    cfg = config("sll.conf", [("college", "enforce", ["10.10.1.0/24"], []),
                              ("hosting", "monitor", ["74.53.140.0/24"], [])])
    a, _ = audit_json(["-f", cfg, SMTP])
    b, _ = audit_json(["-f", cfg, sll])
    check(b["inputs"][0]["link"] == "LINUX_SLL", "link %s" % b["inputs"][0]["link"])
    check(a["members"] == b["members"], "Ethernet and SLL reports differ")


def test_several_captures_and_stdin():
    cfg = config("both.conf", [("college", "enforce", ["10.10.1.0/24"], []),
                               ("v6-server", "monitor", ["2607:f8b0:400c:c03::/64"], [])])
    report, _ = audit_json(["-f", cfg, SMTP, IPV6])
    check([i["file"] for i in report["inputs"]] == [SMTP, IPV6], "inputs in order")
    check(report["frames"] == 125 + 17, "frames %d" % report["frames"])
    check(by_address(member(report, "college")["senders"]).keys() == {SMTP_CLIENT}, "v4 sender")
    check(member(report, "v6-server")["suggested"] == [V6_SERVER], "v6 accept")
    with open(SMTP, "rb") as f:
        piped, _ = audit_json(["-f", cfg, "-"], stdin=f.read())
    check(piped["frames"] == 125 and piped["inputs"][0]["file"] == "-", "stdin")
    check(member(piped, "college") == member(audit_json(["-f", cfg, SMTP])[0], "college"),
          "stdin and file differ")


def test_reference_all_plain_captures():
    """Every host a member (0.0.0.0/0, ::/0): senders and accepts as the reference says."""
    cfg = config("all.conf", [("all", "monitor", ["0.0.0.0/0", "::/0"], [])])
    for rel in PLAIN_CAPTURES:
        path = os.path.join(CAPTURES, rel)
        _, frames, _ = read_pcap(path)
        report, _ = audit_json(["-f", cfg, path])
        check(report["complete"], rel + ": incomplete")
        if not report["members"]:
            want_s, want_a = reference(frames, [ipaddress.ip_network("0.0.0.0/0"),
                                                ipaddress.ip_network("::/0")])
            check(not want_s and not want_a, rel + ": nothing reported")
            continue
        try:
            check_against_reference(report["members"][0], frames, ["0.0.0.0/0", "::/0"],
                                    "would_block")
        except Failure as e:
            raise Failure("%s: %s" % (rel, e))


def test_bot_and_relay():
    """Made-up traffic: a bot spraying port 25 is reported, never suggested; the
    member's relay (accepts inbound and sends out) is suggested."""
    t0 = 1700000000 * 10**9
    frames, ns = [], t0
    for i in range(40):  # the bot: 40 servers, each SYN sent twice
        for _ in range(2):
            ns += 1000
            frames.append((ns, tcp_frame("192.0.2.66", "198.51.100.%d" % (i + 1), 40000 + i, 25, SYN), 54))
    for i in range(3):
        ns += 1000
        frames.append((ns, tcp_frame("2001:db8:1::66", "2001:db8:ff::%d" % (i + 1), 41000 + i, 25, SYN), 74))
    ns += 10**9
    frames.append((ns, tcp_frame("203.0.113.9", "192.0.2.25", 50000, 25, SYN), 54))
    frames.append((ns + 500, tcp_frame("192.0.2.25", "203.0.113.9", 25, 50000, SYNACK), 54))
    frames.append((ns + 900, tcp_frame("203.0.113.9", "192.0.2.25", 50000, 25, ACK), 54))
    frames.append((ns + 2000, tcp_frame("192.0.2.25", "203.0.113.50", 51000, 25, SYN), 54))
    frames.append((ns + 3000, tcp_frame("192.0.2.77", "203.0.113.50", 52000, 587, SYN), 54))
    path = os.path.join(TMP, "bot.pcap")
    write_pcap(path, 1, frames)
    nets = ["192.0.2.0/24", "2001:db8:1::/48"]
    cfg = config("bot.conf", [("example-college", "enforce", nets, [])])
    report, _ = audit_json(["-f", cfg, path])
    m = member(report, "example-college")
    want_s, want_a = check_against_reference(m, frames, nets, "blocked")
    check(set(want_s) == {"192.0.2.66", "2001:db8:1::66", "192.0.2.25"} and set(want_a) == {"192.0.2.25"},
          "reference %s %s" % (sorted(want_s), sorted(want_a)))
    bot = by_address(m["senders"])["192.0.2.66"]
    check(bot["attempts"] == 80 and m["senders"][0]["address"] == "192.0.2.66", "heaviest first: %s" % bot)
    check(20 <= bot["destinations"] <= 60, "about 40 destinations: %d" % bot["destinations"])
    check(m["suggested"] == ["192.0.2.25"] and m["mail_servers"] == ["192.0.2.25"], str(m["mail_servers"]))
    check(by_address(m["accepts"])["192.0.2.25"]["outbound_attempts"] == 1, str(m["accepts"]))
    _, text, _ = run(["-f", cfg, path], expect=0)
    check(mail_servers_lines(text) == ['mail_servers = [ "192.0.2.25" ];'], text)
    # Listed, the relay sends allowed and is no longer suggested.
    cfg = config("bot-listed.conf", [("example-college", "enforce", nets, ["192.0.2.25"])])
    report, _ = audit_json(["-f", cfg, path])
    m = member(report, "example-college")
    relay = by_address(m["senders"])["192.0.2.25"]
    check(relay["verdict"] == "allowed" and relay["attempts"] == 1, str(relay))
    check(by_address(m["accepts"])["192.0.2.25"]["listed"] is True, str(m["accepts"]))
    check(m["suggested"] == [] and m["mail_servers"] == ["192.0.2.25"], str(m["mail_servers"]))


def test_snaplen_cut():
    """zeek/tcp/truncated-header.pcap: every frame cut by the snap length."""
    path = os.path.join(CAPTURES, "zeek", "tcp", "truncated-header.pcap")
    cfg = config("cut.conf", [("all", "monitor", ["0.0.0.0/0"], [])])
    report, _ = audit_json(["-f", cfg, path])
    check(report["complete"] and report["inputs"][0]["cut_by_snaplen"] == 24, str(report["inputs"]))
    check(report["unjudged"]["frames"] >= 1, "frames whose TCP header was cut are not judged")
    m = report["members"][0]
    check([a["address"] for a in m["accepts"]] == ["128.3.26.249"], str(m["accepts"]))


# ---------------------------------------------------------- flows (2)


def nfdump_csv(capture, quiet=False):
    d = tempfile.mkdtemp(dir=TMP)
    p = subprocess.run(["nfpcapd", "-r", capture, "-w", d], capture_output=True, env=ENV,
                       timeout=120)
    check(p.returncode == 0, "nfpcapd: %s" % p.stderr.decode())
    check(os.listdir(d), "nfpcapd wrote no flow file from %s" % capture)
    p = subprocess.run(["nfdump", "-R", d, "-o", "csv"] + (["-q"] if quiet else []),
                       capture_output=True, env=ENV, timeout=120)
    check(p.returncode == 0, "nfdump: %s" % p.stderr.decode())
    return p.stdout


def comparable(m):
    """What flows keep of a capture's analysis (times to the second: nfdump's csv)."""
    s = sorted((r["address"], r["verdict"], r["attempts"], r["packets"], r["destinations"],
                math.floor(r["first_seen"]), math.floor(r["last_seen"])) for r in m["senders"])
    a = sorted((r["address"], r["listed"], r["inbound"], r["packets"], r["peers"],
                r["outbound_attempts"], math.floor(r["first_seen"])) for r in m["accepts"])
    return s, a, m["mail_servers"]


def test_flows_match_captures():
    cfg = config("flows.conf", [("all", "enforce", ["0.0.0.0/0", "::/0"], [])])
    for rel in FLOW_CAPTURES:
        path = os.path.join(CAPTURES, rel)
        csv = os.path.join(TMP, os.path.basename(rel) + ".csv")
        with open(csv, "wb") as f:
            f.write(nfdump_csv(path))
        cap, _ = audit_json(["-f", cfg, path])
        flo, _ = audit_json(["-f", cfg, "--flows", csv])
        check(flo["complete"] and flo["inputs"][0]["format"] == "flows", rel + ": flows read")
        check(flo["tcp_flows"] > 0, rel + ": no TCP flow")
        check(len(cap["members"]) == 1 and len(flo["members"]) == 1, rel + ": one member each")
        want, got = comparable(cap["members"][0]), comparable(flo["members"][0])
        check(want == got, "%s: capture and flows differ:\ncapture %s\nflows   %s" % (rel, want, got))
        check(want[0], rel + ": no sender at all")


def test_flows_stdin_and_headerless():
    cfg = config("flows2.conf", [("college", "monitor", ["10.10.1.0/24"], []),
                                 ("hosting", "monitor", ["74.53.140.0/24"], [])])
    cap, _ = audit_json(["-f", cfg, SMTP])
    piped, _ = audit_json(["-f", cfg, "--flows", "-"], stdin=nfdump_csv(SMTP))
    bare, _ = audit_json(["-f", cfg, "--flows", "-"], stdin=nfdump_csv(SMTP, quiet=True))
    for name in ("college", "hosting"):
        want = comparable(member(cap, name))
        check(comparable(member(piped, name)) == want, name + ": stdin flows differ")
        check(comparable(member(bare, name)) == want, name + ": nfdump -q flows differ")
    check(piped["flows"] == bare["flows"] > 0, "flows read %d, %d" % (piped["flows"], bare["flows"]))
    check(member(piped, "hosting")["suggested"] == [SMTP_SERVER], "accept from flows")
    check(member(piped, "college")["suggested"] == [], "a sender from flows is not suggested")


def test_flows_malformed_line():
    lines = nfdump_csv(SMTP).decode().splitlines()
    # Line 3 (the second flow) loses its source address; the rest is read.
    fields = lines[2].split(",")
    fields[3] = "not-an-address"
    lines[2] = ",".join(fields)
    bad = os.path.join(TMP, "bad.csv")
    with open(bad, "w") as f:
        f.write("\n".join(lines) + "\n")
    cfg = config("bad-flows.conf", [("college", "monitor", ["10.10.1.0/24"], [])])
    rc, out, err = run(["-f", cfg, "--flows", bad])
    check(rc == 1, "exit %d" % rc)
    check("%s:3: sa is not an address" % bad in err, "stderr names the line: " + err)
    check("incomplete: %s:3:" % bad in out, "the report says it: " + out)
    check(text_rows(out, "sent to blocked ports")[0][0] == SMTP_CLIENT, "the rest is reported")
    report, _ = audit_json(["-f", cfg, "--flows", bad], expect=1)
    check(report["complete"] is False and report["inputs"][0]["malformed_lines"] == 1,
          str(report["inputs"]))
    # A header without a column gnnaudit needs.
    nohdr = os.path.join(TMP, "nohdr.csv")
    with open(nohdr, "w") as f:
        f.write("ts,te,sa,da,sp,dp,pr,ipkt\n")
    rc, out, err = run(["-f", cfg, "--flows", nohdr])
    check(rc == 1 and '%s:1: header has no column "flg"' % nohdr in err, "rc %d: %s" % (rc, err))


# ------------------------------------------------------- truncated (3)


def test_truncated_capture():
    linktype, frames, offsets = read_pcap(SMTP)
    data = open(SMTP, "rb").read()
    k = 60  # records read whole before the cut
    cut = os.path.join(TMP, "cut.pcap")
    with open(cut, "wb") as f:
        f.write(data[:offsets[k] + 16 + 10])  # record k's header and 10 of its bytes
    cfg = config("cut.conf", [("college", "enforce", ["10.10.1.0/24"], []),
                              ("hosting", "monitor", ["74.53.140.0/24"], [])])
    rc, out, err = run(["-f", cfg, cut])
    check(rc == 1, "exit %d" % rc)
    check("%s: truncated after %d frames" % (cut, k) in err, "stderr: " + err)
    check("truncated after %d frames" % k in out and cut in out, "the report names it: " + out)
    report, _ = audit_json(["-f", cfg, cut], expect=1)
    check(report["truncated"] is True and report["complete"] is False, "flags")
    check(report["inputs"][0]["truncated"] and report["inputs"][0]["frames"] == k,
          str(report["inputs"]))
    check(any("truncated after %d frames" % k in e for e in report["errors"]), str(report["errors"]))
    check_against_reference(member(report, "college"), frames[:k], ["10.10.1.0/24"], "blocked")
    check_against_reference(member(report, "hosting"), frames[:k], ["74.53.140.0/24"],
                            "would_block")
    # Cut inside a record header, then a whole file after it: both are read.
    cut2 = os.path.join(TMP, "cut2.pcap")
    with open(cut2, "wb") as f:
        f.write(data[:offsets[k] + 7])
    report, err = audit_json(["-f", cfg, cut2, IPV6], expect=1)
    check("%s: truncated after %d frames" % (cut2, k) in err, err)
    check([i["truncated"] for i in report["inputs"]] == [True, False], str(report["inputs"]))
    check(report["frames"] == k + 17, "frames %d" % report["frames"])


def test_truncated_pcapng():
    _, frames, _ = read_pcap(SMTP)
    ng = os.path.join(TMP, "full.pcapng")
    write_pcapng(ng, 1, frames)
    data = open(ng, "rb").read()
    cut = os.path.join(TMP, "cut.pcapng")
    with open(cut, "wb") as f:
        f.write(data[:len(data) - 30])  # into the last block
    cfg = config("cutng.conf", [("college", "enforce", ["10.10.1.0/24"], [])])
    report, err = audit_json(["-f", cfg, cut], expect=1)
    check("%s: truncated after 124 frames" % cut in err, err)
    check(report["truncated"] and report["inputs"][0]["frames"] == 124, str(report["inputs"]))


# --------------------------------------------------------- errors (4)


def test_usage_errors():
    cfg = config("usage.conf", [("college", "enforce", ["10.10.1.0/24"], [])])
    for args, words in [
        ([], "-f CONFIG is required"),
        ([SMTP], "-f CONFIG is required"),
        (["-f", cfg], "no input"),
        (["-f", cfg, "--flows", "x.csv", SMTP], "--flows"),
        (["-f", cfg, "--flows", "a.csv", "--flows", "b.csv"], "--flows given twice"),
        (["-f", cfg, "--bogus", SMTP], "usage"),
        (["-f", cfg, "-m", "", SMTP], "-m needs"),
        (["-f", cfg, "-m", "nosuch", SMTP], 'no member named "nosuch"'),
    ]:
        rc, out, err = run(args)
        check(rc == 2, "%s: exit %d, expected 2" % (args, rc))
        check(words in err, "%s: stderr lacks %r: %s" % (args, words, err))
        check(out == "", "%s: nothing on stdout: %s" % (args, out))
    rc, out, _ = run(["--help"])
    check(rc == 0 and "usage: gnnaudit -f CONFIG" in out and "--flows FILE" in out, out)


def test_bad_config():
    bad = os.path.join(TMP, "bad.conf")
    with open(bad, "w") as f:
        f.write('blocked_ports = [ 25 ];\nports = ( { inside = "a"; outside = "b"; } );\n'
                'members = (\n  { name = "x"; mode = "enforce";\n'
                '    networks = [ "10.10.1.0/33" ]; }\n);\n')
    rc, out, err = run(["-f", bad, SMTP])
    check(rc == 1 and out == "", "exit %d, stdout %r" % (rc, out))
    check(err.startswith(bad + ":5:"), "file:line first: " + err)
    rc, out, err = run(["-f", os.path.join(TMP, "missing.conf"), SMTP])
    check(rc == 1 and "missing.conf" in err and out == "", "missing config: %d %s" % (rc, err))


def test_unreadable_inputs():
    cfg = config("unread.conf", [("college", "enforce", ["10.10.1.0/24"], [])])
    missing = os.path.join(TMP, "missing.pcap")
    rc, out, err = run(["-f", cfg, missing, SMTP])
    check(rc == 1 and "%s: cannot open" % missing in err, "%d %s" % (rc, err))
    check(text_rows(out, "sent to blocked ports")[0][0] == SMTP_CLIENT, "the rest is reported")
    rc, out, err = run(["-f", cfg, cfg])
    check(rc == 1 and "%s: not a pcap or pcapng capture" % cfg in err, "%d %s" % (rc, err))
    rc, out, err = run(["-f", cfg, "--flows", missing])
    check(rc == 1 and "%s: cannot open" % missing in err, "%d %s" % (rc, err))


TESTS = [
    test_client_enforced,
    test_client_monitored,
    test_client_off_judged_as_monitor,
    test_client_listed,
    test_server_side_suggested,
    test_mirror_both_members,
    test_ipv6,
    test_pcapng,
    test_linux_cooked,
    test_several_captures_and_stdin,
    test_reference_all_plain_captures,
    test_bot_and_relay,
    test_snaplen_cut,
    test_flows_match_captures,
    test_flows_stdin_and_headerless,
    test_flows_malformed_line,
    test_truncated_capture,
    test_truncated_pcapng,
    test_usage_errors,
    test_bad_config,
    test_unreadable_inputs,
]


def main():
    global GNNAUDIT, TMP
    if len(sys.argv) != 2:
        print("usage: %s PATH/TO/gnnaudit" % sys.argv[0], file=sys.stderr)
        return 2
    GNNAUDIT = os.path.abspath(sys.argv[1])
    only = os.environ.get("GNN_TEST_ONLY")
    TMP = tempfile.mkdtemp(prefix="gnnaudit-test-")
    passed = failed = 0
    try:
        for test in TESTS:
            if only and only not in test.__name__:
                continue
            try:
                test()
                print("ok   %s" % test.__name__)
                passed += 1
            except Exception:
                print("FAIL %s" % test.__name__)
                traceback.print_exc(file=sys.stdout)
                failed += 1
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
