#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Capture replay: third-party SMTP captures through gnnd, file to file.

usage: test_replay.py PATH/TO/gnnd

Every capture under tests/data/captures (relative to the repository root;
env GNN_PCAPS overrides) that holds TCP port-25 traffic, plus two negative
controls without any, is replayed through gnnd with DPDK's net_pcap vdev,
never onto an interface:

    capture --rx--> net_pcap0 (inside) --gnnd--> net_pcap1 (outside) --tx--> out.pcap

The inside port reads the whole capture (both directions). The generated
config makes the capture's SMTP client (the source of its first SYN to port
25, else of its first frame to port 25; for a negative control the source
of its first SYN) the only network of one enforced member. The expected
output is computed from the docs/design.md rules by a reference parser here:
the client's TCP frames to port 25 are blocked, frames the parser cannot
judge are dropped when the client sent them (and when no source can be
read), everything else must come out byte-identical and in order. The
output is compared with the input minus those frames exactly, and gnnd's
JSON counters (member blocked, totals, per-reason malformed, ports'
rx/tx) are checked against the same numbers.

Stdlib only. Prints one line per capture and "N passed, N failed"; exits
non-zero on any failure. Captures whose link type is not Ethernet cannot go
through net_pcap as Ethernet and are skipped with a reason.
"""

import ipaddress
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # keep tests/integration free of __pycache__
from pcaprun import (LINKTYPE_ETHERNET, Failure, Gnnd, describe_diff, log_tail,  # noqa: E402
                     port_stats, read_capture)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PCAP_DIR = os.environ.get("GNN_PCAPS") or os.path.join(REPO_ROOT, "tests", "data", "captures")

# Captures without port-25 traffic that are replayed anyway: nothing may go.
NEGATIVE_CONTROLS = (
    "arkime/smtp-data-250.pcap",  # submission on 587
    "zeek/http/connect-with-smtp.pcap",  # SMTP tunnelled through an HTTP proxy
)

SMTP_PORT = 25
# Data room of gnnd's mbufs (RTE_MBUF_DEFAULT_DATAROOM): only for a hint.
MBUF_DATA_ROOM = 2048

GNND = None


# ----------------------------------------- reference parser (docs/design.md)


def rd16(b, off):
    return b[off] << 8 | b[off + 1]


class Frame:
    """What the policy of docs/design.md needs of one frame."""

    def __init__(self):
        self.src = None  # ipaddress object, when the header reaches it
        self.tcp = False
        self.sport = None
        self.dport = None
        self.flags = None
        self.malformed = None  # reason name as in gnnd's JSON "malformed"


def _bad(fr, reason):
    fr.malformed = reason
    return fr


def _tcp(fr, b, off, avail, first_frag, short_frag):
    """TCP header at off, avail bytes of it inside the datagram."""
    if first_frag:
        # A first fragment only has to carry the ports.
        if avail < 4:
            return _bad(fr, short_frag)
        if avail > 12 and (b[off + 12] >> 4) * 4 < 20:
            return _bad(fr, "bad_header")
    else:
        if avail < 20:
            return _bad(fr, "truncated")
        doff = (b[off + 12] >> 4) * 4
        if doff < 20:
            return _bad(fr, "bad_header")
        if doff > avail:
            return _bad(fr, "truncated")
        fr.flags = b[off + 13]
    fr.tcp = True
    fr.sport, fr.dport = rd16(b, off), rd16(b, off + 2)
    return fr


# IP version -> (address class, source address from, to; fixed header length)
_IP = {4: (ipaddress.IPv4Address, 12, 16, 20), 6: (ipaddress.IPv6Address, 8, 24, 40)}


def _ip(fr, b, off, version):
    """Start of an IP header at off: the source once the frame reaches it,
    then the fixed header's length and the version. Returns the bytes left
    from off, or None when that made fr malformed."""
    addr, src, src_end, fixed = _IP[version]
    rem = len(b) - off
    if rem >= src_end:
        fr.src = addr(b[off + src:off + src_end])
    if rem < fixed:
        _bad(fr, "truncated")
        return None
    if b[off] >> 4 != version:
        _bad(fr, "bad_header")
        return None
    return rem


def _ipv4(fr, b, off):
    rem = _ip(fr, b, off, 4)
    if rem is None:
        return fr
    hlen = (b[off] & 15) * 4
    if hlen < 20:
        return _bad(fr, "bad_header")
    if hlen > rem:
        return _bad(fr, "truncated")
    tot = rd16(b, off + 2)
    if tot < hlen:
        return _bad(fr, "bad_header")
    if tot > rem:  # bytes past tot are Ethernet padding, fewer is a cut frame
        return _bad(fr, "truncated")
    frag = rd16(b, off + 6)
    if frag & 0x1FFF or b[off + 9] != 6:  # non-first fragment, or not TCP
        return fr
    return _tcp(fr, b, off + hlen, tot - hlen, bool(frag & 0x2000), "tiny_fragment")


def _ipv6(fr, b, off):
    rem = _ip(fr, b, off, 6)
    if rem is None:
        return fr
    end = 40 + rd16(b, off + 4)
    if end > rem:
        return _bad(fr, "truncated")
    nh, pos, n_ext, first_frag = b[off + 6], 40, 0, False
    while True:
        if nh == 6:
            return _tcp(fr, b, off + pos, end - pos, first_frag, "frag_no_l4")
        if nh not in (0, 43, 44, 51, 60, 135, 139, 140):
            return fr
        if n_ext == 8:
            return _bad(fr, "ext_chain")
        if nh == 0 and n_ext:
            return _bad(fr, "bad_header")
        n_ext += 1
        if end - pos < 8:
            break
        h = off + pos
        hlen = 8 if nh == 44 else (b[h + 1] + 2) * 4 if nh == 51 else (b[h + 1] + 1) * 8
        if end - pos < hlen:
            break
        if nh == 44:
            fo = rd16(b, h + 2)
            if fo & 0xFFF8:
                return fr  # non-first fragment
            first_frag = first_frag or bool(fo & 1)
        nh, pos = b[h], pos + hlen
    return _bad(fr, "frag_no_l4" if first_frag else "truncated")


def parse(b):
    fr = Frame()
    if len(b) < 14:
        return _bad(fr, "truncated")
    off, tags = 12, 0
    etype = rd16(b, off)
    while etype in (0x8100, 0x88A8, 0x9100):
        if tags == 2:
            return _bad(fr, "vlan_depth")
        tags += 1
        off += 4
        if len(b) < off + 2:
            return _bad(fr, "truncated")
        etype = rd16(b, off)
    off += 2
    if etype == 0x0800:
        return _ipv4(fr, b, off)
    if etype == 0x86DD:
        return _ipv6(fr, b, off)
    return fr


def verdict(fr, client):
    """The docs/design.md verdict for an inside frame when only client is enforced:
    "forward", "blocked" or "malformed"."""
    if fr.malformed is not None:
        if fr.src is None or fr.src == client:
            return "malformed"
        return "forward"
    if fr.tcp and fr.dport == SMTP_PORT and fr.src == client:
        return "blocked"
    return "forward"


def find_client(parsed, port):
    """Source of the first SYN (no ACK) to port (any TCP port when None),
    else of the first TCP frame to it."""
    def to_port(fr):
        return fr.tcp and fr.src is not None and (port is None or fr.dport == port)
    for fr in parsed:
        if to_port(fr) and fr.flags is not None and fr.flags & 0x12 == 0x02:
            return fr.src
    for fr in parsed:
        if to_port(fr):
            return fr.src
    return None


# ------------------------------------------------------------------ gnnd


def write_config(path, client):
    plen = 32 if client.version == 4 else 128
    with open(path, "w") as f:
        f.write('blocked_ports = [ %d ];\n'
                'ports = ( { inside = "net_pcap0"; outside = "net_pcap1"; } );\n'
                'members = (\n'
                '  { name = "replay"; mode = "enforce";\n'
                '    networks = [ "%s/%d" ]; mail_servers = [ ]; }\n'
                ');\n' % (SMTP_PORT, client, plen))


# ------------------------------------------------------------------ checks


def check_counters(stats, n_in, n_fwd, n_blocked, malformed, n_malformed_fwd):
    errs = []

    def want(what, got, exp):
        if got != exp:
            errs.append("%s is %r, expected %r" % (what, got, exp))

    inside, outside = port_stats(stats, "net_pcap0"), port_stats(stats, "net_pcap1")
    want("inside role", inside["role"], "inside")
    want("outside role", outside["role"], "outside")
    want("inside rx_packets", inside["rx_packets"], n_in)
    want("inside tx_packets", inside["tx_packets"], 0)
    want("outside rx_packets", outside["rx_packets"], 0)
    want("outside tx_packets", outside["tx_packets"], n_fwd)
    for p in (inside, outside):
        want(p["name"] + " rx_missed", p["rx_missed"], 0)
        want(p["name"] + " tx_dropped", p["tx_dropped"], 0)
    members = stats["members"]
    if len(members) != 1 or members[0].get("name") != "replay":
        errs.append("members: %s" % json.dumps(members))
    else:
        m = members[0]
        want("member mode", m["mode"], "enforce")
        want("member blocked", m["blocked"], n_blocked)
        want("member allowed", m["allowed"], 0)
        want("member would_block", m["would_block"], 0)
    t = stats["totals"]
    want("totals rx_packets", t["rx_packets"], n_in)
    want("totals forwarded", t["forwarded"], n_fwd)
    want("totals blocked", t["blocked"], n_blocked)
    want("totals would_block", t["would_block"], 0)
    want("totals allowed", t["allowed"], 0)
    want("totals malformed_dropped", t["malformed_dropped"], sum(malformed.values()))
    if "malformed_forwarded" in t:
        want("totals malformed_forwarded", t["malformed_forwarded"], n_malformed_fwd)
    if "malformed" in stats:
        got = {k: v for k, v in stats["malformed"].items() if v}
        want("malformed by reason", got, malformed)
    return errs


def replay(rel, path, negative, tag):
    """Returns (status, line): status is "pass", "fail" or "skip"."""
    try:
        linktype, frames = read_capture(path)
    except (OSError, ValueError) as e:
        return "skip", "%-45s skipped: unreadable (%s)" % (rel, e)
    if linktype != LINKTYPE_ETHERNET:
        return "skip", ("%-45s skipped: link type %d is not Ethernet; net_pcap would hand "
                        "its frames on as Ethernet" % (rel, linktype))
    parsed = [parse(b) for b in frames]
    client = find_client(parsed, None if negative else SMTP_PORT)
    if client is None:
        return "fail", "%-45s FAIL: no TCP client found" % rel
    verdicts = [verdict(fr, client) for fr in parsed]
    n_in = len(frames)
    n_blocked = verdicts.count("blocked")
    malformed = {}
    for fr, v in zip(parsed, verdicts):
        if v == "malformed":
            malformed[fr.malformed] = malformed.get(fr.malformed, 0) + 1
    exp_numbers = [i + 1 for i, v in enumerate(verdicts) if v == "forward"]
    expected = [frames[i - 1] for i in exp_numbers]
    n_removed = n_in - len(expected)
    n_malformed_fwd = sum(1 for fr, v in zip(parsed, verdicts)
                          if fr.malformed is not None and v == "forward")
    if negative and n_removed:
        return "fail", "%-45s FAIL: negative control expects removals (test bug)" % rel

    errs = []
    workdir = tempfile.mkdtemp(prefix="gnn-replay-")
    g = None
    try:
        write_config(os.path.join(workdir, "gnn.conf"), client)
        g = Gnnd(GNND, workdir, path, "gnnreplay%d-%s" % (os.getpid(), tag))
        g.start()
        stats = g.drain(n_in)
        rc = g.stop()
        if rc != 0:
            errs.append("gnnd exit status %r after SIGTERM, expected 0\n%s" % (rc, log_tail(g.log)))
        try:
            out_lt, output = read_capture(g.out)
        except (OSError, ValueError) as e:
            raise Failure("cannot read gnnd's output capture: %s" % e)
        if out_lt != LINKTYPE_ETHERNET:
            errs.append("output link type %d" % out_lt)
        try:
            _, back = read_capture(g.out_inside)
            if back:
                errs.append("%d frame(s) went out of the inside port" % len(back))
        except (OSError, ValueError) as e:
            errs.append("cannot read the inside port's output capture: %s" % e)

        # The one property that must hold whatever else is wrong.
        leaked = [j + 1 for j, b in enumerate(output)
                  if verdict(parse(b), client) == "blocked"]
        if leaked:
            errs.append("%d port-25 frame(s) from the client %s in the output (output frames %s)"
                        % (len(leaked), client, ", ".join(map(str, leaked[:20]))))
        if output != expected:
            errs.append("output holds %d frames, expected %d:" % (len(output), len(expected)))
            errs.extend("  " + m for m in describe_diff(expected, exp_numbers, output)[:30])
        cerrs = check_counters(stats, n_in, len(expected), n_blocked, malformed,
                               n_malformed_fwd)
        big = ["%d (%d bytes)" % (i + 1, len(b)) for i, b in enumerate(frames)
               if len(b) > MBUF_DATA_ROOM]
        if cerrs and big:
            cerrs.append("note: net_pcap hands frames longer than %d bytes on as multi-"
                         "segment mbufs; such input frames: %s"
                         % (MBUF_DATA_ROOM, ", ".join(big[:20])))
        errs.extend(cerrs)
    except Failure as e:
        errs.append(str(e))
    except Exception:  # a test bug: report it against this capture, go on
        errs.append(traceback.format_exc().rstrip())
    finally:
        if g is not None:
            g.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)

    detail = "client %s, %d in, %d removed (%d blocked" % (client, n_in, n_removed, n_blocked)
    if malformed:
        detail += ", malformed dropped %s" % ", ".join(
            "%s=%d" % kv for kv in sorted(malformed.items()))
    if n_malformed_fwd:
        detail += ", %d malformed forwarded" % n_malformed_fwd
    detail += ")"
    if negative:
        detail += ", negative control"
    if errs:
        return "fail", "%-45s FAIL: %s\n%s" % (rel, detail, "\n".join("    " + e for e in errs))
    return "pass", "%-45s ok: %s" % (rel, detail)


def discover():
    """(relative name, path, negative) of every capture to replay; the rest
    is listed with the reason it is left out."""
    chosen, left_out = [], []
    for dirpath, dirnames, filenames in os.walk(PCAP_DIR):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith((".pcap", ".pcapng")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, PCAP_DIR)
            if rel in NEGATIVE_CONTROLS:
                chosen.append((rel, path, True))
                continue
            try:
                linktype, frames = read_capture(path)
            except (OSError, ValueError) as e:
                left_out.append("%s (unreadable: %s)" % (rel, e))
                continue
            if linktype != LINKTYPE_ETHERNET:
                # Cannot tell its ports; replay() prints why it skips it.
                chosen.append((rel, path, False))
                continue
            if any(fr.tcp and SMTP_PORT in (fr.sport, fr.dport) for fr in map(parse, frames)):
                chosen.append((rel, path, False))
            else:
                left_out.append(rel)
    for rel in NEGATIVE_CONTROLS:
        if not any(c[0] == rel for c in chosen):
            left_out.append("%s (negative control: not found)" % rel)
    return chosen, left_out


def main():
    global GNND
    if len(sys.argv) != 2:
        print("usage: %s PATH/TO/gnnd" % sys.argv[0], file=sys.stderr)
        return 2
    GNND = os.path.abspath(sys.argv[1])
    if not os.access(GNND, os.X_OK):
        print("gnnd not executable: %s" % GNND, file=sys.stderr)
        return 2
    if not os.path.isdir(PCAP_DIR):
        print("capture directory not found: %s (set GNN_PCAPS)" % PCAP_DIR, file=sys.stderr)
        return 2
    # Killed from outside: unwind through the finally blocks, which stop gnnd.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = time.monotonic()
    chosen, left_out = discover()
    print("captures in %s: %d replayed, %d without TCP port-25 traffic left out"
          % (os.path.normpath(PCAP_DIR), len(chosen), len(left_out)))
    passed = failed = skipped = 0
    for n, (rel, path, negative) in enumerate(chosen):
        status, line = replay(rel, path, negative, str(n))
        print(line, flush=True)
        if status == "pass":
            passed += 1
        elif status == "fail":
            failed += 1
        else:
            skipped += 1
    if passed + failed == 0:
        print("no capture with port-25 traffic was replayed")
        failed += 1
    print("%d passed, %d failed%s (%.1f s)" % (passed, failed,
                                               ", %d skipped" % skipped if skipped else "",
                                               time.monotonic() - started))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
