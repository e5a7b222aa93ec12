# SPDX-License-Identifier: BSD-3-Clause
"""Shared by the file-to-file integration tests (test_replay, test_evasion):
pcap/pcapng reading and writing, and one gnnd over two net_pcap vdevs.

    input.pcap --rx--> net_pcap0 (inside) --gnnd--> net_pcap1 (outside) --tx--> out.pcap

The outside port reads an empty capture; what leaves the inside port is
written to out-inside.pcap. Stdlib only.
"""

import difflib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time

LINKTYPE_ETHERNET = 1
READY_TIMEOUT = 20.0
DRAIN_TIMEOUT = 20.0
EXIT_TIMEOUT = 10.0


class Failure(Exception):
    pass


# ---------------------------------------------------------------- captures


# Classic pcap magic numbers (microsecond or nanosecond stamps) -> byte order.
PCAP_MAGICS = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
               b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}


def read_capture(path):
    """(linktype, [frame bytes]) of a pcap or pcapng file (first interface's
    link type for pcapng); raises ValueError on anything else."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        return read_pcapng(data)
    if data[:4] not in PCAP_MAGICS or len(data) < 24:
        raise ValueError("not a pcap or pcapng file")
    linktype, frames = read_pcap(data)
    return linktype & 0x0FFFFFFF, frames


def read_pcap(data, strict=True):
    """(link type field, [frame bytes]) of a classic pcap file's bytes, in
    either byte order. The field is as stored: its upper bits may say how
    long a frame check sequence is. strict: a record cut short, or bytes
    after the last record, raise ValueError; otherwise a cut record's frame
    is what there is of it."""
    if data[:4] not in PCAP_MAGICS:
        raise ValueError("not a pcap file")
    e = PCAP_MAGICS[data[:4]]
    linktype = struct.unpack(e + "I", data[20:24])[0]
    frames, off = [], 24
    while off + 16 <= len(data):
        caplen = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        off += 16
        if strict and off + caplen > len(data):
            raise ValueError("last record cut short")
        frames.append(data[off:off + caplen])
        off += caplen
    if strict and off != len(data):
        raise ValueError("trailing bytes after the last record")
    return linktype, frames


def read_pcapng(data):
    """Enhanced and simple packet blocks of a pcapng file."""
    frames, linktypes, off, e = [], [], 0, "<"
    while off + 12 <= len(data):
        if data[off:off + 4] == b"\x0a\x0d\x0d\x0a":
            e = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        btype, blen = struct.unpack(e + "II", data[off:off + 8])
        if blen < 12 or off + blen > len(data):
            raise ValueError("bad pcapng block length")
        body = data[off + 8:off + blen - 4]
        if btype == 1:  # interface description
            linktypes.append(struct.unpack(e + "H", body[:2])[0])
        elif btype == 6:  # enhanced packet
            caplen = struct.unpack(e + "I", body[12:16])[0]
            frames.append(body[20:20 + caplen])
        elif btype == 3:  # simple packet
            olen = struct.unpack(e + "I", body[:4])[0]
            frames.append(body[4:4 + min(olen, len(body) - 4)])
        off += blen
    if not linktypes:
        raise ValueError("pcapng without an interface")
    if any(lt != linktypes[0] for lt in linktypes):
        raise ValueError("pcapng with mixed link types")
    return linktypes[0], frames


def ip_checksum(data):
    """The Internet checksum (RFC 1071) of data, as a number."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def write_pcap(path, frames, snaplen=65535):
    """Classic little-endian pcap, Ethernet, one record per frame (caplen =
    len = the frame's length; timestamps count up in microseconds)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, LINKTYPE_ETHERNET))
        for i, b in enumerate(frames):
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(b), len(b)))
            f.write(b)


def write_empty_pcap(path):
    write_pcap(path, [])


# ------------------------------------------------------------------ gnnd


def request_stats(path):
    """One "stats" request on the control socket: its JSON answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(b"stats\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf)


def port_stats(stats, name):
    for p in stats["ports"]:
        if p["name"] == name:
            return p
    raise Failure("no port %s in the stats: %s" % (name, json.dumps(stats["ports"])))


def log_tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    return "\n".join("      | " + line for line in lines[-n:])


class Gnnd:
    """One gnnd on two net_pcap vdevs; stop() always reaps it.

    gnnd: the binary; workdir: a private directory, which must hold the
    config as gnn.conf; capture: what the inside port (net_pcap0) reads;
    prefix: EAL file prefix, unique per instance. Output: self.out (what
    left the outside port), self.out_inside, self.log (gnnd's output)."""

    def __init__(self, gnnd, workdir, capture, prefix):
        self.workdir = workdir
        self.sock = os.path.join(workdir, "gnnd.sock")
        self.log = os.path.join(workdir, "gnnd.log")
        self.out = os.path.join(workdir, "out.pcap")
        self.out_inside = os.path.join(workdir, "out-inside.pcap")
        self.prefix = prefix
        empty = os.path.join(workdir, "empty.pcap")
        write_empty_pcap(empty)
        # vdev arguments are comma-separated: keep the capture's path out of that.
        if "," in capture or "=" in capture:
            shutil.copyfile(capture, os.path.join(workdir, "in.pcap"))
            capture = os.path.join(workdir, "in.pcap")
        self.argv = [
            gnnd, "-l", "0,1", "--no-pci", "--no-huge", "-m", "512", "--no-shconf",
            "--file-prefix", self.prefix,
            "--vdev=net_pcap0,rx_pcap=%s,tx_pcap=%s" % (capture, self.out_inside),
            "--vdev=net_pcap1,rx_pcap=%s,tx_pcap=%s" % (empty, self.out),
            "--", "-f", os.path.join(workdir, "gnn.conf"), "-s", self.sock,
        ]
        self.proc = None
        self.rc = None

    def start(self):
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise Failure("gnnd exited with %d before it was ready\n%s"
                              % (self.proc.returncode, log_tail(self.log)))
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.connect(self.sock)
                return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise Failure("gnnd not ready after %.0f s\n%s"
                              % (READY_TIMEOUT, log_tail(self.log)))
            time.sleep(0.05)

    def drain(self, n_in):
        """Stats once the inside port has read all n_in frames and the
        counters stand still."""
        deadline = time.monotonic() + DRAIN_TIMEOUT
        last = None
        while True:
            stats = request_stats(self.sock)
            rx = port_stats(stats, "net_pcap0")["rx_packets"]
            if rx > n_in:
                raise Failure("inside port read %d frames, the capture holds %d" % (rx, n_in))
            snap = json.dumps([stats["ports"], stats["totals"], stats["members"]],
                              sort_keys=True)
            if rx == n_in and snap == last:
                return stats
            last = snap if rx == n_in else None
            if time.monotonic() > deadline:
                raise Failure("inside port read %d of %d frames in %.0f s\n%s"
                              % (rx, n_in, DRAIN_TIMEOUT, log_tail(self.log)))
            time.sleep(0.05)

    def stop(self):
        """SIGTERM, wait for exit; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(EXIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.rc = "killed after %.0f s" % EXIT_TIMEOUT
                return self.rc
        self.rc = self.proc.returncode
        return self.rc

    def cleanup(self):
        self.stop()
        # EAL's runtime directory for this (unique) prefix, if it made one.
        for base in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
                                                   "dpdk")):
            shutil.rmtree(os.path.join(base, self.prefix), ignore_errors=True)


# ------------------------------------------------------------------ checks


def describe_diff(expected, exp_numbers, output):
    """Human-readable differences between the expected and actual output,
    naming input frame numbers (1-based, as tcpdump -# / Wireshark count)."""
    msgs = []
    sm = difflib.SequenceMatcher(None, expected, output, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        if op == "delete":
            msgs.append("missing from the output: input frame(s) %s"
                        % ", ".join(str(exp_numbers[i]) for i in range(i1, i2)))
        elif op == "insert":
            msgs.append("output frame(s) %s not expected at all (%s bytes)"
                        % (", ".join(str(j + 1) for j in range(j1, j2)),
                           ", ".join(str(len(output[j])) for j in range(j1, j2))))
        else:
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                if i < i2 and j < j2:
                    a, b = expected[i], output[j]
                    first = next((x for x in range(min(len(a), len(b))) if a[x] != b[x]),
                                 min(len(a), len(b)))
                    msgs.append("input frame %d (%d bytes) came out altered as output "
                                "frame %d (%d bytes), first difference at byte %d"
                                % (exp_numbers[i], len(a), j + 1, len(b), first))
                elif i < i2:
                    msgs.append("missing from the output: input frame %d" % exp_numbers[i])
                else:
                    msgs.append("output frame %d not expected (%d bytes)" % (j + 1, len(output[j])))
    return msgs
