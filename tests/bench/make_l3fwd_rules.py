#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Express a gnnd config as rule files for DPDK's l3fwd example (--lookup acl).

Reads a config in the one-member-per-line form that
tests/scale/make_config.py writes (blocked_ports, then members with name,
mode, networks and mail_servers) and writes an IPv4 and an IPv6 rule file
in l3fwd's ClassBench format:

    @SRC/LEN DST/LEN SPORT_LO : SPORT_HI DPORT_LO : DPORT_HI PROTO/MASK
    R... the same fields, then the port to forward to

In l3fwd an '@' line is a drop rule, an 'R' line a route, and of the rules
that match a packet the one written first wins. gnnd's policy becomes:

  - for each member network, most specific first: one route for each of
    the member's mail servers inside it to each blocked port (TCP), then one
    rule for the network itself to each blocked port: a drop for an
    enforced member, a route for one in monitor or off mode (it forwards,
    but is still looked up);
  - last, one route for everything else (0/0, any port, any protocol).

So every packet is classified against the same prefixes as in gnnd, and
the verdict is the same as gnnd's for member networks that do not nest
(make_config.py writes none that do).

l3fwd refuses more than its MAX_ACL_RULE_NUM rules in one context (100,000
in DPDK 22.11); the counts are printed as one JSON object so that the
caller can tell.

    make_l3fwd_rules.py CONFIG --ipv4 rules4.txt --ipv6 rules6.txt [--port 1]
"""

import argparse
import ipaddress
import json
import re
import sys

MEMBER = re.compile(r'name\s*=\s*"([^"]*)";\s*mode\s*=\s*"(\w+)";\s*networks\s*=\s*\[([^\]]*)\];'
                    r'\s*mail_servers\s*=\s*\[([^\]]*)\];')
BLOCKED = re.compile(r"^\s*blocked_ports\s*=\s*\[([^\]]*)\];")


def strings(text):
    return re.findall(r'"([^"]*)"', text)


def prefix(net):
    """l3fwd reads IPv6 addresses as eight groups of hex digits, never "::"."""
    if net.version == 6:
        return "%s/%d" % (net.network_address.exploded, net.prefixlen)
    return str(net)


def rule(lead, src, dst, sport, dport, proto, port=None):
    line = "%s%s %s %d : %d %d : %d %s" % (lead, prefix(src), prefix(dst), sport[0], sport[1],
                                          dport[0], dport[1], proto)
    return line + (" %d" % port if port is not None else "") + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("config")
    ap.add_argument("--ipv4", required=True, help="IPv4 rule file to write")
    ap.add_argument("--ipv6", required=True, help="IPv6 rule file to write")
    ap.add_argument("--port", type=int, default=1, help="port l3fwd forwards to (default 1)")
    args = ap.parse_args()

    blocked = None
    nets = []  # (prefix length, network, mode, servers inside it)
    with open(args.config, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            m = BLOCKED.match(line)
            if m:
                blocked = [int(p) for p in m.group(1).replace(",", " ").split()]
                continue
            m = MEMBER.search(line)
            if not m:
                continue
            mode = m.group(2)
            servers = [ipaddress.ip_network(s) for s in strings(m.group(4))]
            for n in strings(m.group(3)):
                net = ipaddress.ip_network(n)
                inside = [s for s in servers if s.version == net.version and s.subnet_of(net)]
                nets.append((net.prefixlen, net, mode, inside))
    if blocked is None or not nets:
        sys.exit("%s: no blocked_ports or no members in the form make_config.py writes"
                 % args.config)
    # Most specific first; file order among equals (a stable sort).
    nets.sort(key=lambda x: -x[0])
    counts = {"ipv4": 0, "ipv6": 0}
    out = {4: open(args.ipv4, "w", encoding="ascii"), 6: open(args.ipv6, "w", encoding="ascii")}
    anyv = {4: ipaddress.ip_network("0.0.0.0/0"), 6: ipaddress.ip_network("::/0")}
    allp = (0, 65535)
    for _, net, mode, inside in nets:
        f, fam = out[net.version], "ipv%d" % net.version
        for port in blocked:
            for s in inside:
                f.write(rule("R", s, anyv[net.version], allp, (port, port), "6/0xff", args.port))
                counts[fam] += 1
            if mode == "enforce":
                f.write(rule("@", net, anyv[net.version], allp, (port, port), "6/0xff"))
            else:
                f.write(rule("R", net, anyv[net.version], allp, (port, port), "6/0xff",
                             args.port))
            counts[fam] += 1
    for v in (4, 6):
        out[v].write(rule("R", anyv[v], anyv[v], allp, allp, "0/0", args.port))
        counts["ipv%d" % v] += 1
        out[v].close()
    json.dump(counts, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
