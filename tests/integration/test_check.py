#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""`gnnd --check -f FILE`, the pre-flight for every change.

usage: test_check.py PATH/TO/gnnd

No devices, no hugepages, no namespaces: --check parses, validates and
builds the rules with a private EAL. Checks: a good file with a members
directory exits 0 and its summary names the members (from both files),
networks, servers, rule counts, the build time and the ACL memory; its
warnings are printed; a bad main file exits 1 with file:line for every
error; a members directory holding one bad file refuses the whole load
with the member file's name and line; a name defined in two files names
both places; options start-up would refuse (an unknown socket group) are
refused here too. Prints one line per check and "N passed, N failed".
"""

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
from testbed import Failure, check  # noqa: E402

MAIN = """blocked_ports = [ 25 ];
ports = ( { inside = "net_af_packet0"; outside = "net_af_packet1"; } );
members_dir = "members.d";
members = (
  { name = "example-college"; mode = "enforce";
    networks = [ "198.51.100.0/24", "2001:db8:10::/48" ];
    mail_servers = [ "198.51.100.25", "2001:db8:10::25" ]; }
);
"""
SCHOOL = """# one member per file, as a sign-up ticket writes it
members = (
  { name = "example-school"; mode = "monitor"; action = "reject";
    networks = [ "203.0.113.0/25" ];
    mail_servers = [ "203.0.113.25", "192.0.2.99" ]; }
);
"""
BAD_MEMBER = """members = (
  { name = "example-library"; mode = "enforce";
    networks = [ "192.0.2.0/24" ];
    mail_servers = [ "192.0.2.300" ]; }
);
"""
DUP_MEMBER = """members = (
  { name = "example-college"; mode = "monitor"; networks = [ "192.0.2.0/25" ]; }
);
"""


class Ctx:
    pass


def gnnd_check(ctx, conf, *extra):
    t0 = time.monotonic()
    p = subprocess.run([ctx.gnnd, "--check", "-f", str(conf)] + list(extra),
                       capture_output=True, text=True, timeout=120)
    p.elapsed = time.monotonic() - t0
    return p


def setup(tmp):
    d = Path(tmp)
    (d / "members.d").mkdir()
    (d / "gnn.conf").write_text(MAIN)
    (d / "members.d" / "10-school.conf").write_text(SCHOOL)
    (d / "members.d" / ".hidden.conf").write_text("this is not read\n")
    (d / "members.d" / "notes.txt").write_text("neither is this\n")
    return d


def t_good(ctx):
    p = gnnd_check(ctx, ctx.dir / "gnn.conf")
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    out = p.stdout
    check("%s: OK" % (ctx.dir / "gnn.conf") in out, "no OK line: %r" % out)
    check("members_dir" in out and "1 member file" in out, "members_dir not shown: %r" % out)
    check(re.search(r"members: 2 \(1 enforce, 1 monitor, 0 off; 1 reject\), 3 networks, "
                    r"4 mail servers", out), "member summary: %r" % out)
    check(re.search(r"rules: \d+ IPv4, \d+ IPv6; ACL memory [\d.]+ KiB", out),
          "no rule counts / ACL memory: %r" % out)
    check(re.search(r"loaded in [\d.]+ s, rules built in [\d.]+ s", out), "no times: %r" % out)
    # 192.0.2.99 lies outside example-school's networks: a warning naming the member file
    check(re.search(r"warning: .*10-school\.conf:\d+: .*192\.0\.2\.99", p.stderr),
          "no warning for the server outside its networks: %r" % p.stderr)


t_good.__name__ = "a good file and members directory pass, with the summary"


def t_bad_main(ctx):
    bad = ctx.dir / "bad.conf"
    bad.write_text(MAIN.replace('"enforce"', '"enforcing"').replace("/24", "/33")
                   .replace('members_dir = "members.d";\n', ""))
    p = gnnd_check(ctx, bad)
    check(p.returncode == 1, "exit %d" % p.returncode)
    lines = p.stderr.splitlines()
    check(any(re.match(r"%s:4: .*mode" % re.escape(str(bad)), ln) for ln in lines),
          "no file:line for the mode: %r" % p.stderr)
    check(any(re.match(r"%s:5: .*/33" % re.escape(str(bad)), ln) for ln in lines),
          "no file:line for the prefix: %r" % p.stderr)
    check("OK" not in p.stdout, "summary printed for a bad file")


t_bad_main.__name__ = "a bad main file: exit 1, file:line for each error"


def t_bad_member_file(ctx):
    f = ctx.dir / "members.d" / "20-library.conf"
    f.write_text(BAD_MEMBER)
    try:
        p = gnnd_check(ctx, ctx.dir / "gnn.conf")
    finally:
        f.unlink()
    check(p.returncode == 1, "exit %d" % p.returncode)
    check(re.search(r"20-library\.conf:4: .*192\.0\.2\.300", p.stderr),
          "the member file's line not named: %r" % p.stderr)


t_bad_member_file.__name__ = "a bad member file refuses the load, naming its file:line"


def t_duplicate(ctx):
    f = ctx.dir / "members.d" / "30-dup.conf"
    f.write_text(DUP_MEMBER)
    try:
        p = gnnd_check(ctx, ctx.dir / "gnn.conf")
    finally:
        f.unlink()
    check(p.returncode == 1, "exit %d" % p.returncode)
    check("30-dup.conf:2" in p.stderr and "gnn.conf:5" in p.stderr,
          "both places not named: %r" % p.stderr)


t_duplicate.__name__ = "a member defined in two files: both places named"


def t_socket_group(ctx):
    p = gnnd_check(ctx, ctx.dir / "gnn.conf", "--socket-group", "no-such-group-gnn")
    check(p.returncode == 1, "exit %d" % p.returncode)
    check("no-such-group-gnn" in p.stderr, "stderr %r" % p.stderr)


t_socket_group.__name__ = "what start-up refuses without devices --check refuses too"


def main():
    if len(sys.argv) != 2:
        print("usage: %s PATH/TO/gnnd" % sys.argv[0], file=sys.stderr)
        return 2
    ctx = Ctx()
    ctx.gnnd = os.path.abspath(sys.argv[1])
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="gnn-check-") as tmp:
        ctx.dir = setup(tmp)
        for fn in (t_good, t_bad_main, t_bad_member_file, t_duplicate, t_socket_group):
            try:
                fn(ctx)
                print("ok   %s" % fn.__name__)
                passed += 1
            except Failure as e:
                print("FAIL %s: %s" % (fn.__name__, e))
                failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
