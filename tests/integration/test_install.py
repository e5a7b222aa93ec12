#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""`meson install` as an operator gets it, for a /usr and a /usr/local build.

usage: test_install.py MESON

Builds the source tree (GNN_SOURCE_ROOT, or the tree holding this file) in
two temporary build directories, --prefix=/usr and --prefix=/usr/local,
installs each into a DESTDIR, and checks, one line per check:
  - exactly the expected files, at the prefix's paths, with their modes:
    gnnd, gnnstat (and gnnaudit with gnnaudit(8) once app/gnnaudit exists),
    the man pages, <sysconfdir>/gnn/gnn.conf (the example, 0644) and
    members.d/, both units, the hugepages helper in <libexecdir>/gnn;
  - the units name the installed paths (ExecStart, ExecStartPre,
    ExecReload, -f), are Type=notify with NotifyAccess=main, WatchdogSec=,
    Restart=on-failure, reload through `gnnstat reload` on gnnd's socket;
  - `systemd-analyze verify` passes them, silently, with their paths
    pointed into the DESTDIR (it checks that each command exists and runs,
    and that each Documentation= man page is found);
  - a second install keeps an operator's changed gnn.conf;
  - every man page renders with `man --warnings` and `groff -ww` silent,
    and has a NAME line (lexgrog);
  - the installed gnnd has no test hook, and accepts the installed example
    config with --check;
  - the hugepages helper refuses bad arguments.
Prints "N passed, N failed".
"""

import filecmp
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(os.environ.get("GNN_SOURCE_ROOT", Path(__file__).resolve().parents[2]))
UNITS = ("gnnd.service", "gnn-exporter.service")


class Failure(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def run(*cmd, env=None, timeout=600, check_rc=True):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env,
                       timeout=timeout)
    if check_rc and p.returncode != 0:
        raise Failure("%s: exit %d:\n%s%s" % (" ".join(map(str, cmd)), p.returncode,
                                             p.stdout[-3000:], p.stderr[-3000:]))
    return p


def has_gnnaudit():
    return (SRC / "app/gnnaudit/meson.build").exists()


class Install:
    """One build directory and its DESTDIR."""

    def __init__(self, meson, tmp, prefix):
        self.meson = meson
        self.prefix = prefix
        name = prefix.strip("/").replace("/", "-")
        self.build = Path(tmp) / ("build-" + name)
        self.dest = Path(tmp) / ("dest-" + name)
        self.sysconfdir = "/etc" if prefix == "/usr" else prefix + "/etc"
        self.unitdir = prefix + "/lib/systemd/system"
        self.libexecdir = prefix + "/libexec/gnn"

    def d(self, path):
        """path (absolute, as installed) inside the DESTDIR."""
        return self.dest / str(path).lstrip("/")

    def setup_and_install(self):
        run(self.meson, "setup", self.build, SRC, "--prefix", self.prefix, "-Dtests=false")
        run("ninja", "-C", self.build)
        return self.install()

    def install(self):
        return run(self.meson, "install", "-C", self.build, "--destdir", self.dest)

    def expected(self):
        """{installed path: (kind, mode)}: every file and directory that must
        be there, and nothing else (the directories leading to them aside)."""
        p, e = self.prefix, {}
        bins = ["gnnd", "gnnstat"] + (["gnnaudit"] if has_gnnaudit() else [])
        for b in bins:
            e["%s/bin/%s" % (p, b)] = ("file", 0o755)
        pages = ["man8/gnnd.8", "man8/gnnstat.8", "man5/gnn.conf.5"]
        if has_gnnaudit():
            pages.append("man8/gnnaudit.8")
        for m in pages:
            e["%s/share/man/%s" % (p, m)] = ("file", 0o644)
        e["%s/gnn/gnn.conf" % self.sysconfdir] = ("file", 0o644)
        e["%s/gnn/members.d" % self.sysconfdir] = ("dir", None)
        for u in UNITS:
            e["%s/%s" % (self.unitdir, u)] = ("file", 0o644)
        e["%s/gnn-hugepages" % self.libexecdir] = ("file", 0o755)
        return e

    def has_libsystemd(self):
        """Whether this build found libsystemd (gnnd then speaks sd_notify)."""
        deps = json.loads((self.build / "meson-info/intro-dependencies.json").read_text())
        return any(d["name"] == "libsystemd" for d in deps)

    def unit(self, name):
        return self.d("%s/%s" % (self.unitdir, name)).read_text()


def directives(text):
    """[(key, value)] of a unit file, in order."""
    out = []
    for line in text.splitlines():
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            k, v = line.split("=", 1)
            out.append((k.strip(), v.strip()))
    return out


def values(text, key):
    return [v for k, v in directives(text) if k == key]


# ---- checks -----------------------------------------------------------------

def check_files(inst):
    exp = inst.expected()
    found = {}
    for root, dirs, files in os.walk(inst.dest):
        for n in dirs + files:
            full = Path(root) / n
            rel = "/" + str(full.relative_to(inst.dest))
            st = os.lstat(full)
            found[rel] = ("dir" if stat.S_ISDIR(st.st_mode) else "file", stat.S_IMODE(st.st_mode))
    missing = sorted(set(exp) - set(found))
    check(not missing, "not installed: %s" % missing)
    parents = {str(Path(x).parent) for x in exp}
    while True:  # every ancestor of an expected path
        more = {str(Path(x).parent) for x in parents} - parents
        if not more:
            break
        parents |= more
    extra = sorted(x for x in found if x not in exp and x not in parents)
    check(not extra, "installed but not expected: %s" % extra)
    for path, (kind, mode) in exp.items():
        check(found[path][0] == kind, "%s: a %s, expected a %s" % (path, found[path][0], kind))
        if mode is not None:
            check(found[path][1] == mode, "%s: mode %o, expected %o" % (path, found[path][1], mode))
    check(filecmp.cmp(inst.d(inst.sysconfdir + "/gnn/gnn.conf"), SRC / "config/gnn.conf",
                      shallow=False), "the installed gnn.conf is not config/gnn.conf")
    check(not any(inst.d(inst.sysconfdir + "/gnn/members.d").iterdir()), "members.d not empty")


def check_unit_paths(inst):
    p, conf = inst.prefix, inst.sysconfdir + "/gnn/gnn.conf"
    u = inst.unit("gnnd.service")
    start = values(u, "ExecStart")
    check(len(start) == 1, "ExecStart=: %r" % start)
    argv = start[0].split()
    check(argv[0] == p + "/bin/gnnd", "ExecStart runs %s, not %s/bin/gnnd" % (argv[0], p))
    check(argv[argv.index("-f") + 1] == conf, "ExecStart -f %s, expected %s" %
          (argv[argv.index("-f") + 1], conf))
    sock = argv[argv.index("-s") + 1]
    pre = values(u, "ExecStartPre")
    check(any(v.split()[0] == "+" + inst.libexecdir + "/gnn-hugepages" for v in pre),
          "no privileged ExecStartPre of %s/gnn-hugepages: %r" % (inst.libexecdir, pre))
    check(any(v.split()[:4] == [p + "/bin/gnnd", "--check", "-f", conf] for v in pre),
          "no ExecStartPre=%s/bin/gnnd --check -f %s: %r" % (p, conf, pre))
    check(values(u, "ExecReload") == ["%s/bin/gnnstat -s %s reload" % (p, sock)],
          "ExecReload=%r, expected gnnstat reload on %s" % (values(u, "ExecReload"), sock))
    notify = inst.has_libsystemd()
    for key, want in (("Type", "notify" if notify else "simple"), ("NotifyAccess", "main"),
                      ("Restart", "on-failure"), ("RuntimeDirectory", "gnn"),
                      ("LimitMEMLOCK", "infinity"), ("WantedBy", "multi-user.target")):
        check(values(u, key) == [want], "gnnd.service %s=%r, expected %s" %
              (key, values(u, key), want))
    wd = values(u, "WatchdogSec")
    check(len(wd) == 1 and re.fullmatch(r"[1-9]\d*s?", wd[0]) if notify else wd == [],
          "WatchdogSec=%r (libsystemd %s)" % (wd, "found" if notify else "not found"))
    check(sock.startswith("/run/gnn/"), "socket %s not under RuntimeDirectory /run/gnn" % sock)

    e = inst.unit("gnn-exporter.service")
    start = values(e, "ExecStart")
    check(len(start) == 1 and start[0].split()[:4] == [p + "/bin/gnnstat", "-s", sock,
                                                        "exporter"] and
          "--listen" in start[0], "gnn-exporter ExecStart=%r" % start)
    check(values(e, "Environment") == ["GNN_EXPORTER_LISTEN=127.0.0.1:9877"],
          "exporter listens on %r, expected 127.0.0.1:9877" % values(e, "Environment"))
    for text in (u, e):
        check(not re.search(r"@[A-Z_]+@", text), "an unreplaced @VARIABLE@ in a unit")


def check_verify(inst, tmp):
    """systemd-analyze verify, with every installed path pointed into the
    DESTDIR, so that it finds the commands (and MANPATH the man pages)."""
    vdir = Path(tmp) / ("verify-" + inst.dest.name)
    vdir.mkdir()
    roots = sorted({inst.prefix, inst.sysconfdir}, key=len, reverse=True)
    pattern = re.compile(r"(?<=[=+ ])(%s)/" % "|".join(re.escape(r) for r in roots))
    for name in UNITS:
        text = pattern.sub(lambda m: str(inst.d(m.group(1))) + "/", inst.unit(name))
        (vdir / name).write_text(text)
    env = dict(os.environ, MANPATH=str(inst.d(inst.prefix + "/share/man")))
    p = run("systemd-analyze", "verify", *[vdir / n for n in UNITS], env=env, check_rc=False)
    check(p.returncode == 0 and not (p.stdout + p.stderr).strip(),
          "systemd-analyze verify: exit %d:\n%s%s" % (p.returncode, p.stdout, p.stderr))
    # A unit naming a command that is not there must fail: the check can fail.
    bad = vdir / "bad"
    bad.mkdir()
    (bad / "gnnd.service").write_text((vdir / "gnnd.service").read_text().replace(
        "/bin/gnnstat ", "/bin/gnnstat-missing "))
    p = run("systemd-analyze", "verify", bad / "gnnd.service", env=env, check_rc=False)
    check(p.returncode != 0, "verify accepted a unit whose ExecReload does not exist")


def check_conf_kept(inst):
    conf = inst.d(inst.sysconfdir + "/gnn/gnn.conf")
    mine = conf.read_text() + "# changed by the operator\n"
    conf.write_text(mine)
    inst.install()
    check(conf.read_text() == mine, "a second install overwrote the operator's gnn.conf")
    conf.unlink()
    inst.install()
    check(filecmp.cmp(conf, SRC / "config/gnn.conf", shallow=False),
          "gnn.conf not installed again once removed")


def check_man(inst):
    pages = [inst.d(x) for x in inst.expected() if "/share/man/" in x]
    for page in pages:
        p = run("man", "--warnings", "-l", page, env=dict(os.environ, MANWIDTH="80"),
                check_rc=False)
        check(p.returncode == 0 and not p.stderr.strip(), "man --warnings %s: exit %d: %s" %
              (page.name, p.returncode, p.stderr.strip()))
        check(len(p.stdout.splitlines()) > 20, "%s renders to almost nothing" % page.name)
        p = run("groff", "-ww", "-man", "-z", page, check_rc=False)
        check(p.returncode == 0 and not (p.stdout + p.stderr).strip(),
              "groff -ww %s: %s" % (page.name, p.stderr.strip()))
        p = run("lexgrog", page, check_rc=False)
        check(p.returncode == 0 and " - " in p.stdout, "%s: no NAME line (lexgrog: %s)" %
              (page.name, (p.stdout + p.stderr).strip()))
    for opt in ("--socket-group", "--mbufs", "--client-timeout", "--check", "SIGHUP",
                "EXIT STATUS", "WATCHDOG=1", "READY=1"):
        check(opt.replace("-", "\\-") in inst.d(inst.prefix + "/share/man/man8/gnnd.8")
              .read_text(), "gnnd(8) does not mention %s" % opt)
    text = inst.d(inst.prefix + "/share/man/man8/gnnstat.8").read_text()
    for cmd in ("top", "servers", "suggest", "diff", "reload", "exporter", "--json",
                "--prometheus"):
        check(cmd.replace("-", "\\-") in text, "gnnstat(8) does not mention %s" % cmd)
    text = inst.d(inst.prefix + "/share/man/man5/gnn.conf.5").read_text()
    for key in ("blocked_ports", "ports", "members", "name", "mode", "networks",
                "mail_servers", "members_dir", "action", "ipfix", "collector", "interval"):
        check(re.search(r"^\.B %s$" % key, text, re.M), "gnn.conf(5) does not describe %s" % key)


def check_binaries(inst):
    gnnd = inst.d(inst.prefix + "/bin/gnnd")
    check(b"GNN_TEST_STALL_WORKER" not in gnnd.read_bytes(),
          "the installed gnnd carries the test hook")
    p = run(gnnd, "--check", "-f", inst.d(inst.sysconfdir + "/gnn/gnn.conf"), check_rc=False)
    check(p.returncode == 0 and ": OK" in p.stdout,
          "gnnd --check on the installed example: exit %d\n%s%s" %
          (p.returncode, p.stdout, p.stderr))
    p = run(inst.d(inst.prefix + "/bin/gnnstat"), "--help", check_rc=False)
    check(p.returncode == 0 and "usage" in p.stdout, "gnnstat --help: exit %d" % p.returncode)


def check_hugepages_helper(inst):
    helper = inst.d(inst.libexecdir + "/gnn-hugepages")
    run("sh", "-n", helper)
    for args in ([], ["many"], ["1", "x"], ["1", "999"], ["1", "2", "3"]):
        p = run(helper, *args, check_rc=False)
        check(p.returncode == 1 and p.stderr.startswith("gnn-hugepages: "),
              "gnn-hugepages %s: exit %d, %r" % (" ".join(args), p.returncode, p.stderr))
    with open("/proc/mounts") as f:
        mounted = any(line.split()[2] == "hugetlbfs" for line in f)
    if mounted:  # then asking for what is reserved already changes nothing here
        knob = Path("/sys/devices/system/node/node0/hugepages/hugepages-%skB/nr_hugepages" %
                    re.search(r"Hugepagesize:\s*(\d+)", Path("/proc/meminfo").read_text())[1])
        have = Path("/proc/sys/vm/nr_hugepages").read_text().strip()
        for args in (["0"], [have]) + (([knob.read_text().strip(), "0"],) if knob.exists() else ()):
            p = run(helper, *args, check_rc=False)
            check(p.returncode == 0 and not p.stdout + p.stderr,
                  "gnn-hugepages %s: exit %d, %r" % (" ".join(args), p.returncode,
                                                    p.stdout + p.stderr))


def main():
    if len(sys.argv) != 2:
        print("usage: test_install.py MESON", file=sys.stderr)
        return 2
    meson = sys.argv[1]
    results = []
    tmp = tempfile.mkdtemp(prefix="gnn-install-")
    try:
        for prefix in ("/usr", "/usr/local"):
            inst = Install(meson, tmp, prefix)
            steps = [("files", check_files), ("unit_paths", check_unit_paths),
                     ("systemd_analyze_verify", lambda i: check_verify(i, tmp)),
                     ("man_pages_render", check_man), ("binaries", check_binaries),
                     ("hugepages_helper", check_hugepages_helper),
                     ("existing_conf_kept", check_conf_kept)]
            try:
                inst.setup_and_install()
            except Failure as e:
                print("FAIL %s install: %s" % (prefix, e))
                results.append(False)
                continue
            for name, fn in steps:
                try:
                    fn(inst)
                    print("ok   %s %s" % (prefix, name))
                    results.append(True)
                except Failure as e:
                    print("FAIL %s %s: %s" % (prefix, name, e))
                    results.append(False)
                sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
