#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The operator's lifecycle with a real mail relay that nobody listed.

usage: test_lifecycle.py PATH/TO/gnnd PATH/TO/gnnstat

On the namespace bed, inside the network of member example-college, a real
Postfix (a private instance of Debian's) relays mail for an outside client
to an outside mail server; it is not in the member's mail_servers. The
member's listed server (an aiosmtpd) only receives mail. A second member,
enforced, has a workstation that tries to send. Step by step, each a check
that stops the run when it fails:

  monitor        the member in monitor mode: mail from the outside client
                 through the relay arrives at the outside server; `gnnstat
                 suggest` names the relay (inbound connections seen), with
                 the mail_servers line to paste; `top` shows it would-block
  diff_without   the member file switched to enforce, relay still unlisted:
                 `gnnstat diff` names exactly the relay as newly blocked
  enforce        reload: new mail to the relay is accepted, its relaying is
                 blocked, the messages wait deferred in Postfix's queue
                 (none delivered, none lost)
  diff_with      the relay added to mail_servers: `gnnstat diff` names
                 exactly it as newly allowed
  listed         reload and flush: the queue drains, every message arrives
                 (by its token); `servers` shows the relay sending recently
                 and the listed server that only receives as "never"; `top`
                 no longer lists the relay
  log            gnnd's log: the relay's "would block" and "blocking" lines
                 once each, and its two verdict changes
  unknown_member `top -m nosuch` and friends: exit 1 with the error

GNN_TRANSCRIPT=FILE appends each gnnstat command and its text output to
FILE (docs/onboarding.md shows such a run). Prints "N passed, N failed";
exits non-zero on any failure. Run as root with /usr/bin/python3.
"""

import json
import os
import re
import sys
import time
import traceback
from pathlib import Path

sys.dont_write_bytecode = True  # keep tests/integration free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
import testbed  # noqa: E402
from testbed import TestBed, check  # noqa: E402

MEMBER = "example-college"
RELAY = "198.51.100.30"            # the unlisted Postfix relay
LISTED = "198.51.100.25"           # the listed server: receives, never sends
LIBRARY_WS = "203.0.113.10"        # a workstation of an enforced member
CLIENT = "192.0.2.20"              # outside: sends mail to the relay
SINK = "192.0.2.1"                 # outside: the relay's relayhost

INSIDE = {
    "relay": (RELAY, None),
    "mail_server": (LISTED, None),
    "library_workstation": (LIBRARY_WS, None),
}
OUTSIDE = {"smtp": (SINK, None), "client": (CLIENT, None)}

N_MONITOR = 2   # messages relayed while the member is monitored
N_HELD = 3      # messages that wait in the queue while the relay is blocked
WAIT = 40       # seconds any one wait may take
BACKOFF = 4     # seconds between the relay's delivery attempts


def college(mode, servers):
    return {"name": MEMBER, "mode": mode, "networks": ["198.51.100.0/24"],
            "mail_servers": servers}


LIBRARY = {"name": "example-library", "mode": "enforce", "networks": ["203.0.113.0/24"],
           "mail_servers": ["203.0.113.25"]}


def wait_for(what, fn, timeout=WAIT, every=0.25):
    """fn() until it returns something true; Failure naming what after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise testbed.Failure("%s: not after %d s" % (what, timeout))
        time.sleep(every)


class Run:
    def __init__(self, bed):
        self.bed = bed
        self.transcript = os.environ.get("GNN_TRANSCRIPT")
        self.tokens_monitor = []
        self.tokens_held = []

    # -- helpers ------------------------------------------------------------

    def gnnstat(self, *args, want=0):
        """gnnstat args (text or --json); check its exit code; the output."""
        p = self.bed.gnnstat(*args, check=False, timeout=40)
        if self.transcript and "--json" not in args:
            with open(self.transcript, "a") as f:
                f.write("$ gnnstat %s\n%s%s\n" % (" ".join(str(a) for a in args), p.stdout,
                                                  p.stderr))
        check(p.returncode == want, "gnnstat %s: exit %d (want %d): %s%s" % (
            " ".join(str(a) for a in args), p.returncode, want, p.stdout, p.stderr))
        return p

    def json(self, *args):
        return json.loads(self.gnnstat(*(args + ("--json",))).stdout)

    def write_config(self, members):
        """The running config, rewritten in place (as an operator edits it)."""
        tmp = self.bed.write_config(members, name="gnn.conf.new")
        os.replace(tmp, self.config)

    def relay_mail(self, n):
        """n messages from the outside client to the relay; all accepted."""
        tokens = []
        for _ in range(n):
            r = self.bed.send_mail(CLIENT, RELAY, timeout=5)
            check(r.delivered, "the relay refused mail from outside: %s" % r.transcript[-500:])
            tokens.append(r.token)
        return tokens

    def arrived(self, tokens):
        return [t for t in tokens if self.sink.find(t)]

    def source(self, addr, top):
        return next((s for s in top["sources"] if s["address"] == addr), None)

    # -- the steps ----------------------------------------------------------

    def start(self):
        bed = self.bed
        self.config = bed.write_config([college("monitor", [LISTED]), LIBRARY])
        bed.start_gnnd(self.config)
        self.sink = bed.start_smtp("out", listens=[(SINK, 25)])
        self.inside_sink = bed.start_smtp("in", listens=[(LISTED, 25)])
        # Retries every BACKOFF s: between two, every held message sits deferred.
        self.postfix = bed.start_postfix(RELAY, SINK, ["%s/32" % CLIENT], backoff=BACKOFF)

    def monitor(self):
        bed = self.bed
        self.tokens_monitor = self.relay_mail(N_MONITOR)
        wait_for("relayed mail at the outside server",
                 lambda: len(self.arrived(self.tokens_monitor)) == N_MONITOR)
        # The listed server receives mail (it accepts inbound, never sends).
        r = bed.send_mail(CLIENT, LISTED)
        check(r.delivered and self.inside_sink.find(r.token), "inbound to the listed server")
        # The enforced member's workstation cannot send.
        r = bed.send_mail(LIBRARY_WS, SINK, timeout=2)
        check(not r.delivered, "the enforced workstation's mail got through")
        s = self.json("suggest", "-m", MEMBER)
        check(len(s["members"]) == 1, "suggest -m: one member: %r" % s)
        m = s["members"][0]
        check(m["listed"] == [LISTED], "listed %r" % m["listed"])
        check([h["address"] for h in m["suggested"]] == [RELAY],
              "suggested %r: the relay, and only it" % m["suggested"])
        h = m["suggested"][0]
        check(h["inbound"] >= N_MONITOR, "inbound %d < %d connections" % (
            h["inbound"], N_MONITOR))
        check(h["outbound_attempts"] >= 1 and h["verdict"] == "would_block", "evidence %r" % h)
        text = self.gnnstat("suggest", "-m", MEMBER).stdout
        lines = text.splitlines()
        check(lines[0] == "%s (monitor): 1 unlisted host accepted connections on a blocked "
              "port" % MEMBER, "suggest: %r" % lines[0])
        check(lines[2].split()[:3] == [RELAY, "would_block", str(h["inbound"])],
              "suggest row %r" % lines[2])
        check(lines[-1] == 'mail_servers = [ "%s", "%s" ];' % (LISTED, RELAY),
              "the line to paste: %r" % lines[-1])
        top = self.json("top")
        src = self.source(RELAY, top)
        check(src is not None and src["verdict"] == "would_block" and src["member"] == MEMBER,
              "top: the relay as would_block: %r" % top["sources"])
        check(src["attempts"] >= 1 and src["packets"] > src["attempts"], "top counts %r" % src)
        lib = self.source(LIBRARY_WS, top)
        check(lib is not None and lib["verdict"] == "blocked", "top: the workstation %r" % lib)
        text = self.gnnstat("top").stdout
        row = next(line.split() for line in text.splitlines() if line.startswith(RELAY + " "))
        check(row[:4] == [RELAY, MEMBER, "would_block", str(src["attempts"])], "top row %r" % row)
        self.gnnstat("servers")

    def diff_without(self):
        """The member file switched to enforce, the relay still unlisted."""
        self.write_config([college("enforce", [LISTED]), LIBRARY])
        d = self.json("diff", self.config)
        check(d["ok"] is True and d["config"] == str(self.config), "diff %r" % d)
        check([r["address"] for r in d["newly_blocked"]] == [RELAY],
              "newly blocked %r: exactly the relay" % d["newly_blocked"])
        r = d["newly_blocked"][0]
        check((r["member"], r["was"], r["now"]) == (MEMBER, "would_block", "blocked"), "%r" % r)
        check(r["accepted"] is True, "the relay accepted inbound mail: %r" % r)
        check(d["newly_allowed"] == [] and d["other_changes"] == [], "nothing else: %r" % d)
        check(d["compared"] >= 3, "relay, listed server, workstation compared: %d" % d["compared"])
        text = self.gnnstat("diff", self.config).stdout
        check("newly blocked: 1\n" in text and "newly allowed: none\n" in text, text)
        row = next(line.split() for line in text.splitlines() if line.startswith("  " + RELAY))
        check(row[:5] == [RELAY, MEMBER, "would_block", "->", "blocked"], "diff row %r" % row)

    def enforce(self):
        out = self.gnnstat("reload").stdout
        check(out.startswith("reloaded: generation 2"), out)
        self.tokens_held = self.relay_mail(N_HELD)

        def deferred():
            q = self.postfix.queue()
            held = [m for m in q if m["queue_name"] == "deferred"]
            return q if len(held) == N_HELD == len(q) else None
        q = wait_for("%d messages deferred in the relay's queue" % N_HELD, deferred)
        for m in q:
            reasons = " ".join(r.get("delay_reason", "") for r in m["recipients"])
            check(SINK in reasons and "timed out" in reasons,
                  "deferred for another reason: %r" % reasons)
        # Retries keep failing: a new attempt after BACKOFF s, blocked again.
        time.sleep(BACKOFF + 2)
        check(len(self.postfix.queue()) == N_HELD, "none lost: %r" % self.postfix.queue())
        check(self.arrived(self.tokens_held) == [], "held mail was delivered")
        top = self.json("top", "-m", MEMBER)
        src = self.source(RELAY, top)
        check(src is not None and src["verdict"] == "blocked" and src["attempts"] >= 1,
              "top: the relay blocked, its counts restarted: %r" % src)
        check(self.bed.member(MEMBER)["blocked"] >= src["attempts"], "member blocked counter")
        self.gnnstat("top", "-m", MEMBER)

    def diff_with(self):
        self.write_config([college("enforce", [LISTED, RELAY]), LIBRARY])
        d = self.json("diff", self.config)
        check([r["address"] for r in d["newly_allowed"]] == [RELAY],
              "newly allowed %r: exactly the relay" % d["newly_allowed"])
        r = d["newly_allowed"][0]
        check((r["was"], r["now"]) == ("blocked", "allowed") and r["attempts"] >= 1,
              "%r" % r)
        check(d["newly_blocked"] == [] and d["other_changes"] == [], "nothing else: %r" % d)
        self.gnnstat("diff", self.config)

    def listed(self):
        reloaded = time.time()
        out = self.gnnstat("reload").stdout
        check(out.startswith("reloaded: generation 3"), out)
        self.postfix.flush()
        wait_for("every held message at the outside server",
                 lambda: len(self.arrived(self.tokens_held)) == N_HELD)
        wait_for("the relay's queue empty", lambda: self.postfix.queue() == [])
        check(len(self.arrived(self.tokens_monitor + self.tokens_held)) ==
              N_MONITOR + N_HELD, "every message once")
        check(all(len(self.sink.find(t)) == 1 for t in self.tokens_held), "no duplicates")
        servers = {s["server"]: s for s in self.json("servers", "-m", MEMBER)["servers"]}
        check(list(servers) == [LISTED, RELAY], "servers in file order: %r" % list(servers))
        relay, listed = servers[RELAY], servers[LISTED]
        check(relay["never"] is False and relay["attempts"] >= 1, "relay %r" % relay)
        check(reloaded - 1 <= relay["last_seen"] <= time.time() + 1,
              "relay last seen %r, reloaded at %r" % (relay["last_seen"], reloaded))
        check(listed["never"] is True and listed["last_seen"] is None and
              listed["accepted"] >= 1, "the listed server received but never sent: %r" % listed)
        text = self.gnnstat("servers", "-m", MEMBER).stdout
        lines = text.splitlines()
        check(lines[1].split()[:2] == [MEMBER, LISTED] and lines[1].split()[5] == "never",
              "servers row %r" % lines[1])
        check(lines[2].split()[:2] == [MEMBER, RELAY] and lines[2].split()[5] != "never",
              "servers row %r" % lines[2])
        check(lines[-1] == "1 of 2 listed servers never seen sending since loaded", lines[-1])
        top = self.json("top")
        check(self.source(RELAY, top) is None, "top still lists the relay: %r" % top["sources"])
        check(self.source(LIBRARY_WS, top) is not None, "the workstation stays in top")
        self.gnnstat("top")
        s = self.json("suggest", "-m", MEMBER)
        check(s["members"][0]["suggested"] == [], "a listed relay is no suggestion: %r" % s)

    def log(self):
        log = self.bed.filter.output()
        where = "(member %s)" % MEMBER
        lines = {
            "would block": "would block SMTP from %s to %s port 25 %s" % (RELAY, SINK, where),
            "blocking": "blocking SMTP from %s to %s port 25 %s" % (RELAY, SINK, where),
            "to blocked": "%s %s: would_block -> blocked under the new rules" % (RELAY, where),
            "to allowed": "%s %s: blocked -> allowed under the new rules" % (RELAY, where),
        }
        for what, line in lines.items():
            n = log.count(line)
            check(n == 1, "%r logged %d times, not once:\n%s" % (line, n, log[-3000:]))
        check("blocking SMTP from %s" % LIBRARY_WS in log, "the workstation's line")

    def unknown_member(self):
        for args in (("top", "-m", "nosuch"), ("servers", "-m", "nosuch"),
                     ("suggest", "-m", "nosuch"), ("top", "-m", "nosuch", "--json")):
            p = self.bed.gnnstat(*args, check=False)
            check(p.returncode == 1 and p.stdout == "" and
                  p.stderr == "gnnstat: gnnd: no member named nosuch\n",
                  "%r: exit %d, %r %r" % (args, p.returncode, p.stdout, p.stderr))
        bad = self.bed.workdir / "bad.conf"
        bad.write_text(Path(self.config).read_text().replace('"enforce"', '"enforcing"', 1))
        p = self.bed.gnnstat("diff", bad, check=False)
        check(p.returncode == 1 and re.search(r"%s:\d+: " % re.escape(str(bad)), p.stderr),
              "an invalid file: exit %d, %r" % (p.returncode, p.stderr))

    def stop(self):
        self.postfix.stop()
        rc = self.bed.stop_filter()
        check(rc == 0, "gnnd exit %r" % rc)


STEPS = ["monitor", "diff_without", "enforce", "diff_with", "listed", "log", "unknown_member",
         "stop"]


def main():
    gnnd, gnnstat = testbed.binaries_from_argv()
    t0 = time.monotonic()
    passed = failed = 0
    with TestBed(inside=INSIDE, outside=OUTSIDE, gnnd=gnnd, gnnstat=gnnstat) as bed:
        run = Run(bed)
        for name in ["start"] + STEPS:
            t1 = time.monotonic()
            try:
                getattr(run, name)()
                print("ok   %s (%.1f s)" % (name, time.monotonic() - t1))
                passed += 1
                sys.stdout.flush()
                continue
            except testbed.Failure as e:
                print("FAIL %s: %s" % (name, e))
            except Exception:
                print("FAIL %s" % name)
                traceback.print_exc(file=sys.stdout)
            failed += 1
            rest = STEPS[STEPS.index(name) + 1:] if name in STEPS else STEPS
            for later in rest:
                print("skip %s" % later)
            if bed.filter is not None:
                print("--- gnnd output (tail)\n%s" % testbed.tail(bed.filter.log, 30))
            if getattr(run, "postfix", None) is not None:
                print("--- postfix log (tail)\n%s" % "\n".join(
                    run.postfix.log().splitlines()[-20:]))
            break
    print("%d passed, %d failed (%.1f s)" % (passed, failed, time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
