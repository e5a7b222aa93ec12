/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNNSTAT_SNAPSHOT_H
#define GNNSTAT_SNAPSHOT_H

/*
 * gnnd's whole stats snapshot, however many members it holds. One reply is
 * at most 16 MiB, so the members are read in pages ("limit", "offset"), one
 * request after the other, and joined into one object of the shape of
 * gnnd's full reply: the first page's totals, ports and other fields (one
 * moment), then every member in gnnd's order, and members_matched their
 * number. A reload or a restart of gnnd between two pages (its generation,
 * start time or member count changed) starts the reading again.
 *
 * Used by --json, --prometheus and the exporter; the live view asks for one
 * page of the busiest members only.
 */

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Members per request: about 2 MB of reply, far below the 16 MiB limit. */
#define SNAPSHOT_PAGE 20000

enum snapshot_status {
	SNAPSHOT_OK = 0,
	SNAPSHOT_FAILED = 1,  /* gnnd answered with an error, or kept reloading */
	SNAPSHOT_NO_GNND = 2, /* no answer in time, or an unreadable one */
};

struct snapshot_request {
	const char *socket;
	const char *member;   /* NULL or "": every member; else a name or an fnmatch(3) pattern */
	bool no_members;      /* no "members" at all: one request, the rest of the snapshot */
	int call_timeout_ms;  /* what each request may take */
	int total_timeout_ms; /* what all of them may take together; 0: no bound */
};

/*
 * The joined snapshot (caller json_decref()s), or NULL with *status and a
 * message in err ("gnnd: REASON" for an error reply). Any thread.
 */
json_t *snapshot_get(const struct snapshot_request *rq, enum snapshot_status *status, char *err,
		     size_t errlen);

#endif /* GNNSTAT_SNAPSHOT_H */
