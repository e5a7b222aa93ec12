#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A real SMTP server (aiosmtpd) that accepts every message and keeps it.

    smtp_sink.py --spool DIR --listen ADDR:PORT [--listen ADDR:PORT ...]

ADDR may be IPv4 or IPv6 ("[2001:db8::1]:25" or "2001:db8::1:25" -- the
last colon separates the port). Each delivered message is written
atomically as DIR/<n>.json:

    {"peer": "198.51.100.25", "peer_port": 40000, "server": "192.0.2.1",
     "server_port": 25, "mail_from": "...", "rcpt_tos": ["..."],
     "data": "<message text>"}

Prints "ready" on stdout once every listener is bound, then serves until
SIGTERM or SIGINT (exit 0). Needs Debian's python3-aiosmtpd, so run it with
/usr/bin/python3.
"""

import argparse
import asyncio
import itertools
import json
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class Spool:
    """aiosmtpd handler: accept everything, write each message to a file."""

    def __init__(self, directory):
        self.directory = directory
        self.seq = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        peer = session.peer or ("", 0)
        sock = server.transport.get_extra_info("sockname") or ("", 0)
        data = envelope.content
        if isinstance(data, bytes):
            data = data.decode("utf-8", "replace")
        record = {
            "peer": peer[0],
            "peer_port": peer[1],
            "server": sock[0],
            "server_port": sock[1],
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": data,
        }
        n = next(self.seq)
        path = os.path.join(self.directory, "%06d.json" % n)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.replace(tmp, path)
        return "250 OK stored as %d" % n


def split_listen(text):
    """'ADDR:PORT', '[v6]:PORT' or 'v6:PORT' -> (addr, port)."""
    if text.startswith("["):
        addr, _, port = text[1:].partition("]:")
    else:
        addr, _, port = text.rpartition(":")
    if not addr or not port.isdigit():
        raise argparse.ArgumentTypeError("expected ADDR:PORT, got %r" % text)
    return addr, int(port)


async def serve(spool, listens):
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    servers = []
    for addr, port in listens:
        # An explicit hostname: the default (getfqdn) can stall without DNS.
        servers.append(await loop.create_server(
            lambda: SMTP(spool, hostname="sink.example.net"),
            host=addr, port=port, reuse_address=True))
    print("ready", flush=True)
    await stop.wait()
    for s in servers:
        s.close()
        await s.wait_closed()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spool", required=True, help="directory for messages")
    ap.add_argument("--listen", required=True, action="append",
            type=split_listen, help="ADDR:PORT, may repeat")
    args = ap.parse_args()
    os.makedirs(args.spool, exist_ok=True)
    asyncio.run(serve(Spool(args.spool), args.listen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
