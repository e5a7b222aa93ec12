/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNNSTAT_EXPORTER_H
#define GNNSTAT_EXPORTER_H

/*
 * `gnnstat exporter`: an HTTP server (libmicrohttpd) whose /metrics is one
 * fresh stats snapshot of gnnd per scrape, in Prometheus text format.
 */

/*
 * Serve on listen ("ADDR:PORT": IPv4, [IPv6] or a name, every address it
 * resolves to; ":PORT" every address of the host; port 0 any free one),
 * asking gnnd at socket for each scrape and giving it timeout_ms to answer.
 * Runs until SIGINT or SIGTERM. Returns the exit status: 0 after a signal,
 * 2 after saying why it could not start (bad address, cannot listen).
 * Main thread only; it blocks SIGINT, SIGTERM and SIGHUP in the caller.
 */
int exporter_run(const char *socket, const char *listen, int timeout_ms);

#endif /* GNNSTAT_EXPORTER_H */
