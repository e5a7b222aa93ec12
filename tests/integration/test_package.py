#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The Debian package that tools/package builds.

usage: test_package.py VERSION

Runs tools/package (dpkg-buildpackage with debian/, in a copy of the tree)
into a temporary directory and checks, one line per check:
  - it prints the directory holding gnn_VERSION_ARCH.deb;
  - `dpkg-deb -c` holds gnnd, gnnstat (and gnnaudit once it exists), their
    man pages and gnn.conf(5), /etc/gnn/gnn.conf, /etc/gnn/members.d/, both
    units in /lib/systemd/system, the hugepages helper; nothing in /usr/local;
  - /etc/gnn/gnn.conf is a conffile; Depends comes from shlibs (librte-eal23,
    libsystemd0, ...) plus the mempool driver DPDK loads as a plugin;
  - the maintainer scripts are debhelper's: they enable a unit only if it
    was enabled before, start only enabled units, never stop or restart
    gnnd on upgrade, stop it on removal;
  - the packaged units name /usr/bin and /usr/libexec, and the packaged man
    pages render without warnings;
  - lintian reports no error.
Prints how long the build took, "N passed, N failed".
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(os.environ.get("GNN_SOURCE_ROOT", Path(__file__).resolve().parents[2]))


class Failure(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def run(*cmd, check_rc=True, timeout=900, **kw):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
                       **kw)
    if check_rc and p.returncode != 0:
        raise Failure("%s: exit %d:\n%s%s" % (" ".join(map(str, cmd)), p.returncode,
                                             p.stdout[-3000:], p.stderr[-3000:]))
    return p


def expected_paths():
    e = ["./usr/bin/gnnd", "./usr/bin/gnnstat",
         "./usr/share/man/man8/gnnd.8.gz", "./usr/share/man/man8/gnnstat.8.gz",
         "./usr/share/man/man5/gnn.conf.5.gz",
         "./etc/gnn/gnn.conf", "./etc/gnn/members.d/",
         "./lib/systemd/system/gnnd.service", "./lib/systemd/system/gnn-exporter.service",
         "./usr/libexec/gnn/gnn-hugepages", "./usr/share/doc/gnn/copyright"]
    if (SRC / "app/gnnaudit/meson.build").exists():
        e += ["./usr/bin/gnnaudit", "./usr/share/man/man8/gnnaudit.8.gz"]
    return e


class Package:
    def __init__(self, version, tmp):
        self.version = version
        self.tmp = Path(tmp)
        self.arch = run("dpkg", "--print-architecture").stdout.strip()
        self.out = self.tmp / "out"
        self.deb = self.out / ("gnn_%s_%s.deb" % (version, self.arch))
        self.ctrl = self.tmp / "control"
        self.root = self.tmp / "root"

    def build(self):
        t0 = time.monotonic()
        p = run(SRC / "tools/package", self.out, check_rc=False)
        self.seconds = time.monotonic() - t0
        print("     tools/package took %.0f s" % self.seconds)
        check(p.returncode == 0, "tools/package: exit %d:\n%s" % (p.returncode, p.stderr[-3000:]))
        lines = p.stdout.strip().splitlines()
        check(lines and Path(lines[-1]) == self.out.resolve(),
              "tools/package printed %r, not the output directory %s" % (lines[-1:], self.out))
        check(self.deb.exists(), "no %s in %s: %s" % (self.deb.name, self.out,
                                                      sorted(os.listdir(self.out))))
        run("dpkg-deb", "-e", self.deb, self.ctrl)
        run("dpkg-deb", "-x", self.deb, self.root)

    def contents(self):
        listing = run("dpkg-deb", "-c", self.deb).stdout
        paths = {line.split()[5] for line in listing.splitlines() if len(line.split()) >= 6}
        missing = [p for p in expected_paths() if p not in paths]
        check(not missing, "not in the package: %s" % missing)
        local = sorted(p for p in paths if p.startswith("./usr/local"))
        check(not local, "the package installs into /usr/local: %s" % local)
        modes = {line.split()[5]: line.split()[0] for line in listing.splitlines()
                 if len(line.split()) >= 6}
        for exe in ("./usr/bin/gnnd", "./usr/bin/gnnstat", "./usr/libexec/gnn/gnn-hugepages"):
            check(modes[exe] == "-rwxr-xr-x", "%s: %s" % (exe, modes[exe]))
        check(modes["./etc/gnn/members.d/"].startswith("d"), "members.d is not a directory")
        conf = (self.root / "etc/gnn/gnn.conf").read_bytes()
        check(conf == (SRC / "config/gnn.conf").read_bytes(), "gnn.conf is not config/gnn.conf")

    def control(self):
        conffiles = (self.ctrl / "conffiles").read_text().split()
        check(conffiles == ["/etc/gnn/gnn.conf"], "conffiles: %r" % conffiles)
        fields = run("dpkg-deb", "-f", self.deb, "Depends").stdout
        deps = {d.strip().split()[0] for d in fields.split(",") if d.strip()}
        for d in ("librte-eal23", "librte-ethdev23", "librte-acl23", "libsystemd0",
                  "libconfig9", "libjansson4", "libc6", "librte-mempool-ring23"):
            check(d in deps, "Depends lacks %s: %s" % (d, fields.strip()))

    def maintainer_scripts(self):
        scripts = {p.name: p.read_text() for p in self.ctrl.iterdir()
                   if p.name in ("preinst", "postinst", "prerm", "postrm")}
        for name, text in scripts.items():
            check("Automatically added by dh_" in text, "%s is not debhelper's" % name)
            body = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
            own = [ln for ln in body if not re.search(
                r"deb-systemd-|systemctl|^\s*(if|fi|then|else|set -e|esac)\b|^\s*_dh_action", ln)]
            check(not own, "%s has lines debhelper did not write: %r" % (name, own[:3]))
        post = scripts.get("postinst", "")
        lines = post.splitlines()
        for i, ln in enumerate(lines):
            if "deb-systemd-helper enable" in ln:
                # Only on an upgrade of a unit the operator had enabled: inside
                # "if debian-installed" (false on a first install), "if was-enabled".
                start = max(j for j in range(i) if "Automatically added" in lines[j])
                snippet = "\n".join(lines[start:i])
                check("deb-systemd-helper debian-installed" in snippet and
                      "was-enabled" in snippet,
                      "postinst enables a unit on a first install: %r" % ln)
            if "deb-systemd-invoke" in ln:
                check(re.search(r"deb-systemd-invoke start\b", ln),
                      "postinst does more than start enabled units: %r" % ln)
        check("deb-systemd-invoke start" in post and "gnnd.service" in post,
              "postinst does not hand gnnd.service to deb-systemd-invoke (which starts only "
              "enabled units)")
        check("stop" not in scripts.get("preinst", ""), "preinst stops gnnd on upgrade")
        prerm = scripts.get("prerm", "")
        check(re.search(r'"\$1" = remove.*\n.*deb-systemd-invoke stop .*gnnd\.service', prerm),
              "prerm does not stop gnnd on removal:\n%s" % prerm)

    def units(self):
        u = (self.root / "lib/systemd/system/gnnd.service").read_text()
        for line in ("ExecStartPre=+/usr/libexec/gnn/gnn-hugepages $GNN_HUGEPAGES",
                     "ExecStartPre=/usr/bin/gnnd --check -f /etc/gnn/gnn.conf",
                     "ExecReload=/usr/bin/gnnstat -s /run/gnn/gnnd.sock reload",
                     "Type=notify", "NotifyAccess=main"):
            check(re.search(r"^%s$" % re.escape(line), u, re.M), "gnnd.service lacks %s" % line)
        check(re.search(r"^ExecStart=/usr/bin/gnnd .* -f /etc/gnn/gnn.conf ", u, re.M),
              "gnnd.service ExecStart")
        e = (self.root / "lib/systemd/system/gnn-exporter.service").read_text()
        check(re.search(r"^ExecStart=/usr/bin/gnnstat -s /run/gnn/gnnd.sock exporter --listen ",
                        e, re.M), "gnn-exporter.service ExecStart")

    def man(self):
        for page in sorted((self.root / "usr/share/man").rglob("*.gz")):
            p = run("man", "--warnings", "-l", page, check_rc=False,
                    env=dict(os.environ, MANWIDTH="80"))
            check(p.returncode == 0 and not p.stderr.strip(), "%s: %s" % (page.name, p.stderr))

    def lintian(self):
        changes = self.out / ("gnn_%s_%s.changes" % (self.version, self.arch))
        p = run("lintian", "--fail-on", "error", "--pedantic", changes, check_rc=False)
        tags = [ln for ln in p.stdout.splitlines() if re.match(r"[EWIPX]: ", ln)]
        for ln in tags:
            print("     " + ln)
        errors = [ln for ln in tags if ln.startswith("E: ")]
        check(p.returncode == 0 and not errors, "lintian: exit %d, %d errors:\n%s%s" %
              (p.returncode, len(errors), p.stdout[-2000:], p.stderr[-2000:]))


def main():
    if len(sys.argv) != 2:
        print("usage: test_package.py VERSION", file=sys.stderr)
        return 2
    results = []
    tmp = tempfile.mkdtemp(prefix="gnn-package-test-")
    try:
        pkg = Package(sys.argv[1], tmp)
        for name, fn in (("build", pkg.build), ("contents", pkg.contents),
                         ("control", pkg.control), ("maintainer_scripts", pkg.maintainer_scripts),
                         ("units", pkg.units), ("man_pages", pkg.man), ("lintian", pkg.lintian)):
            try:
                fn()
                print("ok   %s" % name)
                results.append(True)
            except (Failure, OSError) as e:
                print("FAIL %s: %s" % (name, e))
                results.append(False)
                if name == "build":
                    break
            sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
