#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write a large, valid gnnd config file for scale tests and benchmarks.

The layout is the one docs/design.md gives for scale files ("Scale"):

- the first members (65,536 by default, or --v4) get one /31 each in
  198.18.0.0/15, in address order: network 198.18.x.y/31, mail server the
  first address 198.18.x.y (with --servers 2, both addresses);
- the other members live in 2001:db8::/32. Each gets an equal block of it
  (a /48 while there are at most 65,536 of them), lists one or more
  networks inside that block and its mail servers as host addresses in its
  first network (2001:db8:<block>::1, ::2, ...).

Prefixes (networks plus mail servers) beyond one network and the servers of
each member are spread as extra networks over the IPv6 members, the first
ones taking one more when they do not divide evenly. With no arguments the
file holds 100,000 members and 250,000 prefixes; --members, --servers and
--prefixes make smaller or larger ones (by default 2.5 prefixes per member
where the IPv6 members can carry them). The same arguments always write the
same bytes. Every member is named m<number>, in file order, from m000001.

    make_config.py -o big.conf                       # 100,000 / 250,000
    make_config.py --members 1000 -o 1k.conf         # 1,000 / 2,000
    make_config.py --members 10 --v4 0 --prefixes 100000 -o wide.conf
"""

import argparse
import ipaddress
import sys

V4_NET = ipaddress.IPv4Network("198.18.0.0/15")
V6_NET = ipaddress.IPv6Network("2001:db8::/32")
V4_MAX = V4_NET.num_addresses // 2  # one /31 each: 65,536
DENSITY = 2.5  # prefixes per member by default, as in the 100,000-member file


def bits_for(count):
    """Smallest b with 2**b >= count (0 for count <= 1)."""
    return max(0, (count - 1).bit_length())


class Layout:
    def __init__(self, members, v4, servers, prefixes):
        if members < 0:
            raise ValueError("--members must be 0 or more")
        if servers < 0:
            raise ValueError("--servers must be 0 or more")
        self.members = members
        self.n4 = min(members, V4_MAX) if v4 is None else v4
        if not 0 <= self.n4 <= min(members, V4_MAX):
            raise ValueError("--v4 must be 0..min(--members, %d)" % V4_MAX)
        self.n6 = members - self.n4
        self.servers = servers
        # A /31 has two addresses: no room for more servers.
        self.servers4 = min(servers, 2)
        natural = self.n4 * (1 + self.servers4) + self.n6 * (1 + servers)
        if prefixes is None:
            prefixes = natural
            if self.n6 > 0:
                prefixes = max(natural, int(members * DENSITY))
        if prefixes < natural:
            raise ValueError("--prefixes %d is fewer than the %d that %d members with %d "
                             "server(s) each need" % (prefixes, natural, members, servers))
        extra = prefixes - natural
        if extra > 0 and self.n6 == 0:
            raise ValueError("extra prefixes go to members in 2001:db8::/32: lower --v4")
        self.prefixes = prefixes
        # Networks per IPv6 member: one, plus its share of the extra ones.
        self.nets_base = 1 + (extra // self.n6 if self.n6 else 0)
        self.nets_rest = extra % self.n6 if self.n6 else 0
        # Each IPv6 member's block, and its networks' length inside it.
        self.block_len = V6_NET.prefixlen + bits_for(self.n6)
        most_nets = self.nets_base + (1 if self.nets_rest else 0)
        self.net6_len = self.block_len + bits_for(most_nets)
        if self.net6_len > 64:
            raise ValueError("too many IPv6 members or networks for 2001:db8::/32 "
                             "(networks would be longer than /64)")
        # Servers are ::1, ::2, ... of the first network.
        if servers >= 2 ** (128 - self.net6_len):
            raise ValueError("--servers does not fit in one network")

    def v4_member(self, i):
        net = int(V4_NET.network_address) + 2 * i
        networks = ["%s/31" % ipaddress.IPv4Address(net)]
        servers = [str(ipaddress.IPv4Address(net + s)) for s in range(self.servers4)]
        return networks, servers

    def v6_member(self, j):
        block = int(V6_NET.network_address) + (j << (128 - self.block_len))
        n_nets = self.nets_base + (1 if j < self.nets_rest else 0)
        step = 1 << (128 - self.net6_len)
        networks = ["%s/%d" % (ipaddress.IPv6Address(block + k * step), self.net6_len)
                    for k in range(n_nets)]
        servers = [str(ipaddress.IPv6Address(block + s + 1)) for s in range(self.servers)]
        return networks, servers


def quoted(items):
    return ", ".join('"%s"' % x for x in items)


def write(out, layout, mode, inside, outside):
    out.write("# Written by tests/scale/make_config.py: %d members, %d prefixes.\n"
              % (layout.members, layout.prefixes))
    out.write("blocked_ports = [ 25 ];\n")
    out.write('ports = ( { inside = "%s"; outside = "%s"; } );\n' % (inside, outside))
    out.write("members = (\n")
    for i in range(layout.members):
        if i < layout.n4:
            networks, servers = layout.v4_member(i)
        else:
            networks, servers = layout.v6_member(i - layout.n4)
        out.write('  { name = "m%06d"; mode = "%s"; networks = [ %s ]; mail_servers = [ %s ]; }%s\n'
                  % (i + 1, mode, quoted(networks), quoted(servers),
                     "," if i + 1 < layout.members else ""))
    out.write(");\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    ap.add_argument("--members", type=int, default=100000, help="members (default 100000)")
    ap.add_argument("--v4", type=int, default=None,
                    help="how many of them get a /31 in 198.18.0.0/15 "
                         "(default: as many as fit, up to 65536)")
    ap.add_argument("--servers", type=int, default=1,
                    help="mail servers per member (default 1; at most 2 on a /31)")
    ap.add_argument("--prefixes", type=int, default=None,
                    help="networks plus mail servers in total (default: 2.5 per member "
                         "where IPv6 members can carry the extra networks)")
    ap.add_argument("--mode", choices=["enforce", "monitor", "off"], default="enforce")
    ap.add_argument("--inside", default="net_af_packet0", help="inside port name")
    ap.add_argument("--outside", default="net_af_packet1", help="outside port name")
    args = ap.parse_args()
    try:
        layout = Layout(args.members, args.v4, args.servers, args.prefixes)
    except ValueError as e:
        ap.error(str(e))
    if args.output == "-":
        try:
            write(sys.stdout, layout, args.mode, args.inside, args.outside)
        except BrokenPipeError:  # | head: the rest is not wanted
            sys.stderr.close()
            return 0
    else:
        with open(args.output, "w", encoding="ascii", newline="\n") as f:
            write(f, layout, args.mode, args.inside, args.outside)
    return 0


if __name__ == "__main__":
    sys.exit(main())
