/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNNSTAT_EXPORTER_H
#define GNNSTAT_EXPORTER_H

/*
 * `gnnstat exporter`: an HTTP server (libmicrohttpd) whose /metrics is one
 * fresh stats snapshot of gnnd per scrape, in Prometheus text format.
 */

#include <stdbool.h>

struct exporter_config {
	const char *socket; /* gnnd's control socket */
	/* "ADDR:PORT": IPv4, [IPv6] or a name, every address it resolves to;
	 * ":PORT" every address of the host; port 0 any free one */
	const char *listen;
	int timeout_ms;	     /* what gnnd has for one scrape, every page of it */
	const char *members; /* NULL: every member's series; else only the matching ones
			      * (a name or an fnmatch(3) pattern) */
	bool no_members;     /* no per-member series at all */
};

/*
 * Serve cfg->listen, asking gnnd for each scrape. Runs until SIGINT or
 * SIGTERM. Returns the exit status: 0 after a signal, 2 after saying why it
 * could not start (bad address, cannot listen).
 * Main thread only; it blocks SIGINT, SIGTERM and SIGHUP in the caller.
 */
int exporter_run(const struct exporter_config *cfg);

#endif /* GNNSTAT_EXPORTER_H */
