#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Self-test of the test bed, with dpdk-testpmd (io forwarding) inline.

Proves the bed before gnnd is judged on it: real mail crosses it both ways
over IPv4 and IPv6, crafted tagged frames cross it byte-identical, and
teardown leaves nothing behind. Run as root with /usr/bin/python3.
"""

import os
import shutil
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import testbed  # noqa: E402
from testbed import TestBed  # noqa: E402

try:
    from scapy.layers.l2 import Dot1AD, Dot1Q, Ether
    from scapy.layers.inet import IP, TCP
    from scapy.layers.inet6 import IPv6
    from scapy.packet import Raw
except ImportError:  # pragma: no cover
    Ether = None

CAN_RUN = os.geteuid() == 0 and shutil.which(testbed.TESTPMD) is not None


def tcp4(dport=25):
    return IP(src="198.51.100.10", dst="192.0.2.1") / \
        TCP(sport=40000, dport=dport, flags="S") / Raw(b"gnn" * 8)


def tcp6(dport=25):
    return IPv6(src="2001:db8:10::10", dst="2001:db8:99::1") / \
        TCP(sport=40000, dport=dport, flags="S")


def tagged_frames():
    """name -> frame; the names of 802.1ad-outer frames start with "ad"."""
    def e(t=None):
        if t is None:
            return Ether(src=testbed.MAC_IN, dst=testbed.MAC_OUT)
        return Ether(src=testbed.MAC_IN, dst=testbed.MAC_OUT, type=t)
    return {
        "untagged v4": e() / tcp4(),
        "untagged v6": e() / tcp6(),
        "1q v4": e() / Dot1Q(vlan=100) / tcp4(),
        "1q v6": e() / Dot1Q(vlan=200) / tcp6(),
        "1q pcp dei vid 4094": e() / Dot1Q(prio=5, id=1, vlan=4094) / tcp4(),
        "1q priority tag vid 0": e() / Dot1Q(prio=3, vlan=0) / tcp4(),
        "1q/1q v4": e() / Dot1Q(vlan=300) / Dot1Q(vlan=100) / tcp4(),
        "ad/1q v4": e() / Dot1AD(vlan=300) / Dot1Q(vlan=100) / tcp4(),
        "ad/1q v6": e() / Dot1AD(vlan=300) / Dot1Q(vlan=100) / tcp6(),
        "ad/1q/1q v4": e() / Dot1AD(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / tcp4(),
        "9100/1q v4": e(0x9100) / Dot1Q(vlan=5) / tcp4(),
        "runt 16 bytes": e(0x88B5) / Raw(b"ab"),
        "1514 bytes": e() / tcp4() / Raw(b"y" * 1436),
        "1q 1518 bytes": e() / Dot1Q(vlan=7) / tcp4() / Raw(b"y" * 1436),
    }


@unittest.skipUnless(CAN_RUN, "needs root and dpdk-testpmd")
class MailAcrossBed(unittest.TestCase):
    """Real SMTP (swaks -> aiosmtpd) through testpmd, both PMDs."""

    def check_mail(self, pmd):
        with TestBed(pmd=pmd) as bed:
            bed.start_testpmd()
            outside = bed.start_smtp("out")
            inside = bed.start_smtp("in")
            cases = [
                ("mail_server", "smtp", 25, outside),
                ("workstation", "smtp", 25, outside),
                ("workstation", "smtp", 587, outside),
                ("non_member", "smtp", 25, outside),
                ("client", "mail_server", 25, inside),   # inbound
            ]
            for family in (4, 6):
                for src, dst, port, sink in cases:
                    s, d = bed.addr(src, family), bed.addr(dst, family)
                    with self.subTest(pmd=pmd, src=s, dst=d, port=port):
                        r = bed.send_mail(s, d, port=port)
                        self.assertTrue(r.delivered, r.transcript)
                        got = sink.find(r.token)
                        self.assertEqual(len(got), 1)
                        self.assertEqual(got[0]["peer"], s)
                        self.assertEqual(got[0]["server_port"], port)
            self.assertEqual(bed.stop_filter(), 0)

    def test_af_packet(self):
        self.check_mail("af_packet")

    def test_pcap(self):
        self.check_mail("pcap")


@unittest.skipUnless(CAN_RUN and Ether is not None, "needs root, testpmd, scapy")
class FramesAcrossBed(unittest.TestCase):
    """Crafted frames sent on one side arrive byte-identical on the other."""

    def transmit_all(self, pmd):
        frames = tagged_frames()
        with TestBed(pmd=pmd) as bed:
            bed.start_testpmd()
            result = {}
            for side in ("in", "out"):
                t = bed.transmit(list(frames.values()), side=side)
                result[side] = dict(zip(frames, t.arrived)), t.captured
        return frames, result

    def test_pcap_keeps_every_frame(self):
        frames, result = self.transmit_all("pcap")
        for side, (arrived, _) in result.items():
            for name, ok in arrived.items():
                with self.subTest(side=side, frame=name):
                    self.assertTrue(ok)

    def test_af_packet_keeps_all_but_802_1ad_outer(self):
        # The kernel strips the outer tag into metadata before af_packet
        # sees the frame; DPDK 22.11's af_packet PMD puts it back, but
        # always with TPID 0x8100 (rte_vlan_insert), so an 802.1ad outer
        # tag arrives as 802.1Q. Everything else is intact.
        frames, result = self.transmit_all("af_packet")
        for side, (arrived, captured) in result.items():
            for name, ok in arrived.items():
                with self.subTest(side=side, frame=name):
                    if not name.startswith("ad"):
                        self.assertTrue(ok)
                        continue
                    self.assertFalse(ok, "af_packet now keeps 802.1ad: "
                                     "drop this special case")
                    sent = bytes(frames[name])
                    rewritten = sent[:12] + b"\x81\x00" + sent[14:]
                    self.assertIn(rewritten, captured)


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class BedLifecycle(unittest.TestCase):

    def test_down_leaves_nothing(self):
        bed = TestBed()
        with bed:
            names = [bed.ns_in, bed.ns_out, bed.ns_wire]
            workdir = bed.workdir
            for ns in names:
                self.assertTrue(Path("/run/netns", ns).exists())
            # The root namespace is untouched: no bed interface in it.
            self.assertFalse(Path("/sys/class/net", bed.host_in).exists())
        for ns in names:
            self.assertFalse(Path("/run/netns", ns).exists())
        self.assertFalse(workdir.exists())

    def test_down_after_failure(self):
        with self.assertRaises(RuntimeError):
            with TestBed() as bed:
                ns = bed.ns_in
                raise RuntimeError("boom")
        self.assertFalse(Path("/run/netns", ns).exists())

    def test_two_beds_side_by_side(self):
        with TestBed() as a, TestBed() as b:
            self.assertNotEqual(a.ns_in, b.ns_in)
            if not CAN_RUN:
                return
            a.start_testpmd()
            b.start_testpmd()
            sa, sb = a.start_smtp("out"), b.start_smtp("out")
            ra = a.send_mail("198.51.100.25", "192.0.2.1")
            rb = b.send_mail("198.51.100.25", "192.0.2.1")
            self.assertTrue(ra.delivered, ra.transcript)
            self.assertTrue(rb.delivered, rb.transcript)
            self.assertEqual(len(sa.find(ra.token)), 1)
            self.assertEqual(sa.find(rb.token), [])
            self.assertEqual(len(sb.find(rb.token)), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
