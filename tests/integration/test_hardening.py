#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The control plane cannot be hung, crashed or locked out.

usage: test_hardening.py PATH/TO/gnnd PATH/TO/gnnstat

gnnd runs file to file on net_pcap vdevs that read an empty capture (no
namespace needed, --no-pci, --no-huge), one instance per group of checks,
each with its own file prefix, socket and config. Each check is named; the
run ends with "N passed, N failed" and exits 1 on any failure. Times are
printed; the few limits asserted are far above what a working gnnd needs
and far below what the faults cost when they are not handled (a build in
the event loop takes seconds, a hang forever).

  nul-config-check      "#" and 64,000 NUL bytes: --check refuses it with
                        file:line at once (a parser fed NULs took 13.8 s);
  nul-config-reload     the same file at reload: "gnnstat reload" has the
                        error at once, "gnnstat --json" answers, SIGTERM
                        right after a reload exits within 2 s with the final
                        statistics;
  fifo-config-reload    the config replaced by a FIFO: the reload is refused
                        ("not a regular file") instead of blocking in open(),
                        gnnd answers, SIGTERM works;
  big-build             a 100,000-member / 250,000-prefix file: while it
                        builds, "gnnstat --json" answers every 50 ms (the
                        longest answer printed, each under 1 s; the ones
                        after the publication list 100,000 members and are
                        printed apart), a second
                        "gnnstat reload" gets "reload in progress", the
                        reload then succeeds; SIGTERM during another build
                        of it exits within 2 s with the final statistics;
  idle-clients          300 idle clients: "gnnstat --json" still answers,
                        the longest idle were closed to make room;
  connection-flood      thousands of connections at once on a full table:
                        gnnd keeps answering (no crash), and logs the
                        evictions once a second, not once per client;
  no-newline-at-eof     a last request without its newline, then
                        shutdown(SHUT_WR): answered;
  infinite-rx-pool      net_pcap infinite_rx with a capture larger than
                        --mbufs 64: exit 1 with a message naming the port
                        and the pool, no crash;
  socket-dir-missing    the socket two missing directories deep: refused
                        before any port starts, exit 1;
  gnnstat-messages      a gnnd that accepts and never answers: "no reply
                        within ... (is gnnd running?); the connection was
                        accepted"; a full table: gnnstat says "too many
                        clients".
"""

import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.dont_write_bytecode = True  # keep tests/integration free of __pycache__
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pcaprun  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
MAKE_CONFIG = os.path.join(REPO, "tests", "scale", "make_config.py")
PYTHON = "/usr/bin/python3"

GNND = GNNSTAT = None
WORK = None
READY_TIMEOUT = 30.0
EXIT_LIMIT = 2.0  # s from SIGTERM to exit
ANSWER_LIMIT = 1.0  # s for one "gnnstat --json" while a build runs
PROMPT_LIMIT = 3.0  # s for a refused reload or --check
POLL_EVERY = 0.05

SMALL_CONF = """blocked_ports = [ 25 ];
ports = ( { inside = "net_pcap0"; outside = "net_pcap1"; } );
members = (
  { name = "example-college"; mode = "enforce"; networks = [ "198.51.100.0/24" ];
    mail_servers = [ "198.51.100.25" ]; }
);
"""


class Failure(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def note(msg):
    print("    " + msg, flush=True)


_seq = [0]


def unique(name):
    _seq[0] += 1
    return "gnn-hard-%d-%d-%s" % (os.getpid(), _seq[0], name)


def run(argv, timeout=30, **kw):
    t0 = time.monotonic()
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout,
                       **kw)
    return p, time.monotonic() - t0


def gnnstat(sock, *args, timeout=40):
    return run([GNNSTAT, "-s", sock] + list(args), timeout=timeout)


def request(sock, line, timeout=5.0):
    """One request on a fresh connection: the reply object."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock)
        s.sendall(line.encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf)


def write_atomic(path, data):
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class Daemon:
    """One gnnd on net_pcap vdevs reading an empty capture; stop() reaps it."""

    def __init__(self, name, conf_text=SMALL_CONF, extra=(), vdevs=None, socket_path=None):
        self.dir = os.path.join(WORK, name)
        os.makedirs(self.dir, exist_ok=True)
        self.prefix = unique(name)
        self.conf = os.path.join(self.dir, "gnn.conf")
        self.sock = socket_path or os.path.join(self.dir, "gnnd.sock")
        self.log = os.path.join(self.dir, "gnnd.log")
        empty = os.path.join(self.dir, "empty.pcap")
        pcaprun.write_empty_pcap(empty)
        if conf_text is not None:
            write_atomic(self.conf, conf_text.encode())
        if vdevs is None:
            vdevs = ["net_pcap0,rx_pcap=%s,tx_pcap=%s" % (empty, os.path.join(self.dir, "in.pcap")),
                     "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (empty, os.path.join(self.dir, "out.pcap"))]
        self.argv = [GNND, "-l", "0,1", "--no-pci", "--no-huge", "-m", "1024", "--no-shconf",
                     "--file-prefix", self.prefix]
        self.argv += ["--vdev=" + v for v in vdevs]
        self.argv += ["--", "-f", self.conf, "-s", self.sock] + list(extra)
        self.proc = None

    def spawn(self):
        self.logf = open(self.log, "wb")
        self.proc = subprocess.Popen([str(a) for a in self.argv], stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        return self

    def start(self):
        self.spawn()
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise Failure("gnnd exited %d before it was ready\n%s"
                              % (self.proc.returncode, pcaprun.log_tail(self.log)))
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.connect(self.sock)
                return self
            except OSError:
                pass
            check(time.monotonic() < deadline, "gnnd not ready after %.0f s\n%s"
                  % (READY_TIMEOUT, pcaprun.log_tail(self.log)))
            time.sleep(0.05)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def run_to_exit(self, timeout):
        """Start gnnd and wait for it to exit by itself; (exit code or None, output)."""
        try:
            self.spawn()
            rc = self.wait(timeout)
            return rc, self.output()
        finally:
            self.stop()

    def sigterm(self):
        """SIGTERM; (exit code or None, seconds to exit)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.wait(EXIT_LIMIT + 8)
        return rc, time.monotonic() - t0

    def output(self):
        self.logf.flush()
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait(15) is None:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.logf.close()
        for base in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
                                                   "dpdk")):
            shutil.rmtree(os.path.join(base, self.prefix), ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def check_sigterm(d, what):
    rc, took = d.sigterm()
    note("SIGTERM %s: exit %s after %.2f s" % (what, rc, took))
    check(rc is not None, "SIGTERM %s: still running %.0f s later" % (what, took))
    check(rc == 0, "SIGTERM %s: exit %d\n%s" % (what, rc, pcaprun.log_tail(d.log)))
    check(took <= EXIT_LIMIT, "SIGTERM %s: exit took %.2f s (limit %.1f)" % (what, took, EXIT_LIMIT))
    check("final statistics" in d.output(), "SIGTERM %s: no final statistics printed\n%s"
          % (what, pcaprun.log_tail(d.log)))


# ---------------------------------------------------------------- checks

NUL_CONF = b"#" + b"\0" * 64000


def test_nul_config_check():
    path = os.path.join(WORK, "nul.conf")
    with open(path, "wb") as f:
        f.write(NUL_CONF)
    p, took = run([GNND, "--check", "-f", path], timeout=60)
    note("gnnd --check on '#' + 64,000 NULs: exit %d in %.3f s: %s"
         % (p.returncode, took, p.stderr.strip().splitlines()[0] if p.stderr.strip() else ""))
    check(p.returncode == 1, "exit %d: %s" % (p.returncode, p.stderr))
    check(re.search(re.escape(path) + r":1: .*NUL", p.stderr), "no %s:1: ... NUL: %r"
          % (path, p.stderr))
    check(took < PROMPT_LIMIT, "took %.1f s" % took)


def test_nul_config_reload():
    with Daemon("nul") as d:
        d.start()
        write_atomic(d.conf, NUL_CONF)
        p, took = gnnstat(d.sock, "reload")
        note("gnnstat reload of it: exit %d in %.3f s: %s"
             % (p.returncode, took, p.stderr.strip()))
        check(p.returncode == 1, "reload exit %d: %s %s" % (p.returncode, p.stdout, p.stderr))
        check(re.search(re.escape(d.conf) + r":1: .*NUL", p.stderr),
              "no file:1: NUL message: %r" % p.stderr)
        check(took < PROMPT_LIMIT, "reload answered after %.1f s" % took)
        p, took = gnnstat(d.sock, "--json")
        check(p.returncode == 0, "--json exit %d: %s" % (p.returncode, p.stderr))
        stats = json.loads(p.stdout)
        check(stats["reload_failures"] == 1 and stats["generation"] == 1,
              "after the refusal: %r" % {k: stats[k] for k in ("generation", "reload_failures")})
        check("NUL" in (stats["last_error"] or ""), "last_error %r" % stats["last_error"])
        # SIGTERM while the next reload of it is under way.
        rl = subprocess.Popen([GNNSTAT, "-s", d.sock, "reload"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        time.sleep(0.02)
        try:
            check_sigterm(d, "during a reload of the NUL file")
        finally:
            rl.kill()
            rl.wait()


def test_fifo_config_reload():
    with Daemon("fifo") as d:
        d.start()
        os.unlink(d.conf)
        os.mkfifo(d.conf)
        p, took = gnnstat(d.sock, "reload")
        note("gnnstat reload of a FIFO: exit %d in %.3f s: %s"
             % (p.returncode, took, p.stderr.strip()))
        check(p.returncode == 1, "reload exit %d: %s %s" % (p.returncode, p.stdout, p.stderr))
        check("not a regular file" in p.stderr, "stderr %r" % p.stderr)
        check(took < PROMPT_LIMIT, "reload answered after %.1f s" % took)
        p, took = gnnstat(d.sock, "--json")
        check(p.returncode == 0, "--json exit %d after the FIFO: %s" % (p.returncode, p.stderr))
        check(json.loads(p.stdout)["reload_failures"] == 1, "reload_failures not 1")
        # A SIGHUP of it too, then the end.
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        p, took = gnnstat(d.sock, "--json")
        check(p.returncode == 0 and json.loads(p.stdout)["reload_failures"] == 2,
              "after SIGHUP: exit %d %s" % (p.returncode, p.stderr))
        check_sigterm(d, "after the FIFO")


def big_config(path):
    p, took = run([PYTHON, MAKE_CONFIG, "--inside", "net_pcap0", "--outside", "net_pcap1",
                   "-o", path], timeout=120)
    check(p.returncode == 0, "make_config.py: %s" % p.stderr)
    note("100,000 members / 250,000 prefixes written in %.1f s (%.1f MB)"
         % (took, os.path.getsize(path) / 1e6))


def stats_small(sock):
    """stats with one member row: the reply stays small with 100,000 members."""
    return request(sock, '{"cmd":"stats","limit":1}', timeout=10)


def test_big_build():
    with Daemon("big") as d:
        d.start()
        big = os.path.join(d.dir, "big.conf")
        big_config(big)
        shutil.copyfile(big, d.conf + ".new")
        os.replace(d.conf + ".new", d.conf)
        t0 = time.monotonic()
        reload = subprocess.Popen([GNNSTAT, "-s", d.sock, "reload"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        answers, in_progress, second, after = [], 0, None, []
        while reload.poll() is None:
            p, took = gnnstat(d.sock, "--json", timeout=30)
            check(p.returncode == 0, "--json during the build: exit %d: %s"
                  % (p.returncode, p.stderr))
            snap = json.loads(p.stdout)
            # Once published, a snapshot lists 100,000 members: not the build's time.
            (answers if snap["generation"] == 1 else after).append(took)
            if snap.get("reload_in_progress"):
                in_progress += 1
                if second is None:
                    second = gnnstat(d.sock, "reload")[0]
            time.sleep(POLL_EVERY)
            check(time.monotonic() - t0 < 120, "the reload did not finish in 120 s")
        build_s = time.monotonic() - t0
        out, err = reload.communicate()
        note("reload of it: exit %d after %.1f s: %s" % (reload.returncode, build_s,
                                                        (out + err).strip()))
        note("gnnstat --json during the build: %d answers, longest %.0f ms, median %.0f ms"
             % (len(answers), 1000 * max(answers or [0]),
                1000 * sorted(answers or [0])[len(answers) // 2]))
        p, took = gnnstat(d.sock, "--json", timeout=30)
        note("gnnstat --json of 100,000 members afterwards: %.0f ms, %.1f MB"
             % (1000 * took, len(p.stdout) / 1e6))
        check(reload.returncode == 0, "the reload failed: %s %s" % (out, err))
        check(in_progress >= 3, "only %d answers saw the build in progress" % in_progress)
        check(max(answers) < ANSWER_LIMIT, "an answer took %.2f s during the build" % max(answers))
        check(second is not None, "no second reload sent")
        note("second gnnstat reload during it: exit %d: %s"
             % (second.returncode, (second.stdout + second.stderr).strip()))
        check(second.returncode == 1 and "reload in progress" in second.stdout + second.stderr,
              "second reload: exit %d %r" % (second.returncode, second.stdout + second.stderr))
        stats = stats_small(d.sock)
        check(stats["generation"] == 2, "generation %r" % stats["generation"])
        # SIGTERM while it builds once more.
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while not stats_small(d.sock).get("reload_in_progress"):
            check(time.monotonic() < deadline, "SIGHUP started no build")
            time.sleep(0.05)
        time.sleep(0.5)
        check_sigterm(d, "during a build of 100,000 members")


def idle_clients(sock, n):
    held = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock)
        held.append(s)
    return held


def closed_by_peer(s):
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_idle_clients(d):
    held = idle_clients(d.sock, 300)
    try:
        time.sleep(0.5)
        p, took = gnnstat(d.sock, "--json")
        note("gnnstat --json with 300 idle clients: exit %d in %.3f s" % (p.returncode, took))
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
        check(json.loads(p.stdout)["generation"] == 1, "bad reply")
        time.sleep(0.2)
        closed = [i for i, s in enumerate(held) if closed_by_peer(s)]
        note("%d of the 300 closed by gnnd, the first at #%s" % (len(closed),
                                                                  closed[0] if closed else "-"))
        # 256 served: the rest and gnnstat made room by closing the longest idle.
        check(len(closed) >= 300 - 256, "only %d idle clients closed" % len(closed))
        check(closed[:300 - 256] == list(range(300 - 256)),
              "not the longest idle first: %r" % closed[:50])
    finally:
        for s in held:
            s.close()


def test_connection_flood(d):
    held = idle_clients(d.sock, 300)
    lock = threading.Lock()

    def burst(n):
        for _ in range(n):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(d.sock)
            except OSError:
                s.close()
                continue
            with lock:
                held.append(s)

    before = d.output().count("client table full")
    t0 = time.monotonic()
    threads = [threading.Thread(target=burst, args=(1500,)) for _ in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.monotonic() - t0
        time.sleep(0.3)
        check(d.proc.poll() is None, "gnnd died under the flood: exit %s\n%s"
              % (d.proc.returncode, pcaprun.log_tail(d.log)))
        p, _ = gnnstat(d.sock, "--json")
        check(p.returncode == 0, "after the flood: exit %d: %s" % (p.returncode, p.stderr))
        lines = d.output().count("client table full") - before
        note("%d connections in %.2f s on a full table: gnnd answers, %d log lines about it"
             % (len(held) - 300, took, lines))
        check(lines <= 2 + 2 * (took + 1), "%d log lines for the evictions" % lines)
    finally:
        for s in held:
            s.close()


def test_no_newline_at_eof(d):
    for line in (b"stats", b'{"cmd":"top","n":3}', b"  reload\r"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(d.sock)
            s.sendall(line)
            s.shutdown(socket.SHUT_WR)
            buf = b""
            while True:
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                buf += chunk
        check(buf.endswith(b"\n"), "%r: no reply line before EOF: %r" % (line, buf[:80]))
        reply = json.loads(buf)
        check("error" not in reply, "%r: %r" % (line, reply))
        key = {b"stats": "generation", b'{"cmd":"top","n":3}': "sources"}.get(line, "ok")
        check(key in reply, "%r: reply without %s: %r" % (line, key, list(reply)[:8]))
    # The reload asked that way was done.
    deadline = time.monotonic() + 10
    while request(d.sock, "stats")["reloads"] < 1:
        check(time.monotonic() < deadline, "the reload asked before EOF never ran")
        time.sleep(0.05)


def test_infinite_rx_pool():
    wd = os.path.join(WORK, "infinite")
    os.makedirs(wd, exist_ok=True)
    capture = os.path.join(wd, "big.pcap")
    frames = []
    for i in range(1000):
        eth = bytes.fromhex("02005e009999") + bytes.fromhex("02005e000101") + b"\x08\x00"
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 46, i, 0, 64, 17, 0,
                         bytes([198, 18, 0, 10]), bytes([192, 0, 2, 1]))
        frames.append(eth + ip + struct.pack("!HHHH", 40000 + i, 9, 26, 0) + b"x" * 18)
    pcaprun.write_pcap(capture, frames)
    conf = SMALL_CONF.replace('"net_pcap1"', '"net_null0"')
    for attempt in range(3):
        d = Daemon("infinite", conf_text=conf, extra=["--mbufs", "64"],
                   vdevs=["net_pcap0,rx_pcap=%s,infinite_rx=1" % capture, "net_null0"])
        rc, out = d.run_to_exit(30)
        if attempt == 0:
            note("1,000 frames replayed forever, --mbufs 64: exit %s; %s" % (
                rc, " / ".join(l for l in out.splitlines() if l.startswith("gnnd:"))))
        check(rc is not None, "gnnd still running 30 s later")
        check(rc != -signal.SIGSEGV and rc != 139, "gnnd crashed (SIGSEGV)\n%s"
              % pcaprun.log_tail(d.log))
        check(rc == 1, "exit %d\n%s" % (rc, pcaprun.log_tail(d.log)))
        check(re.search(r"gnnd: .*net_pcap0.*64 mbufs", out),
              "no message naming the port and the pool:\n%s" % pcaprun.log_tail(d.log))
        check("ready" not in out, "gnnd said it was ready")


def test_socket_dir_missing():
    missing = os.path.join(WORK, "no", "such", "gnnd.sock")
    d = Daemon("nodir", socket_path=missing)
    rc, out = d.run_to_exit(30)
    first = [l for l in out.splitlines() if l.startswith("gnnd:")]
    note("socket %s: exit %s: %s" % (missing, rc, " / ".join(first[:2])))
    check(rc == 1, "exit %s\n%s" % (rc, pcaprun.log_tail(d.log)))
    check(not re.search(r"port \S+ \(\w+\) started", out), "ports were started first:\n%s"
          % pcaprun.log_tail(d.log))
    check(os.path.dirname(os.path.dirname(missing)) in out or os.path.dirname(missing) in out,
          "the message does not name the directory:\n%s" % pcaprun.log_tail(d.log))
    check(not os.path.exists(os.path.dirname(os.path.dirname(missing))),
          "gnnd made the directories")


class FakeServer:
    """A Unix socket that accepts and then stays silent, or answers as a full
    gnnd does ({"error": "too many clients"}, then close)."""

    def __init__(self, path, mode):
        self.path, self.mode, self.held = path, mode, []
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.bind(path)
        self.s.listen(16)
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        while True:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            if self.mode == "silent":
                self.held.append(c)
            else:
                c.sendall(b'{"error":"too many clients"}\n')
                c.close()

    def close(self):
        self.s.close()
        for c in self.held:
            c.close()


def test_gnnstat_messages():
    silent = FakeServer(os.path.join(WORK, "silent.sock"), "silent")
    full = FakeServer(os.path.join(WORK, "full.sock"), "full")
    try:
        p, took = gnnstat(silent.path, "--json")
        note("gnnd accepts, never answers: exit %d after %.1f s: %s"
             % (p.returncode, took, p.stderr.strip()))
        check(p.returncode == 2, "exit %d" % p.returncode)
        check(re.search(r"no reply within .*\(is gnnd running\?\); the connection was accepted",
                        p.stderr), "stderr %r" % p.stderr)
        p, took = gnnstat(full.path, "--json")
        note("a full table: exit %d: %s" % (p.returncode, p.stderr.strip()))
        check(p.returncode != 0, "exit 0")
        check("too many clients" in p.stderr, "stderr %r" % p.stderr)
        p, took = gnnstat(full.path, "reload")
        check(p.returncode != 0 and "too many clients" in p.stderr,
              "reload on a full table: exit %d %r" % (p.returncode, p.stderr))
    finally:
        silent.close()
        full.close()


# ---------------------------------------------------------------- main


def main():
    global GNND, GNNSTAT, WORK
    if len(sys.argv) != 3:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    GNND, GNNSTAT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    WORK = tempfile.mkdtemp(prefix="gnn-hardening-")
    passed = failed = 0
    t_all = time.monotonic()

    def one(name, fn, *args):
        nonlocal passed, failed
        t0 = time.monotonic()
        print("%s:" % name, flush=True)
        try:
            fn(*args)
        except Failure as e:
            failed += 1
            print("FAIL %s (%.1f s): %s" % (name, time.monotonic() - t0, e), flush=True)
            return
        except Exception:  # noqa: BLE001  (a broken check is a failure, with its trace)
            failed += 1
            print("FAIL %s: %s" % (name, traceback.format_exc()), flush=True)
            return
        passed += 1
        print("ok   %s (%.1f s)" % (name, time.monotonic() - t0), flush=True)

    try:
        one("nul-config-check", test_nul_config_check)
        one("nul-config-reload", test_nul_config_reload)
        one("fifo-config-reload", test_fifo_config_reload)
        one("big-build", test_big_build)
        with Daemon("clients", extra=["--client-timeout", "60"]) as d:
            try:
                d.start()
            except Failure as e:
                print("FAIL clients: %s" % e)
                failed += 3
            else:
                one("idle-clients", test_idle_clients, d)
                one("connection-flood", test_connection_flood, d)
                one("no-newline-at-eof", test_no_newline_at_eof, d)
        one("infinite-rx-pool", test_infinite_rx_pool)
        one("socket-dir-missing", test_socket_dir_missing)
        one("gnnstat-messages", test_gnnstat_messages)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    print("%d passed, %d failed (%.0f s)" % (passed, failed, time.monotonic() - t_all))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
