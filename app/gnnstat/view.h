/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNNSTAT_VIEW_H
#define GNNSTAT_VIEW_H

/*
 * gnnstat's renderers: they only read the server's JSON replies (see
 * docs/design.md for their fields) and write text. A missing or mistyped field
 * shows as "-" (or no sample) rather than failing the whole view.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* How a frame of the live view is laid out. */
struct live_frame {
	int rows;	    /* terminal rows: the frame takes at most rows - 1; 0: no bound */
	int cols;	    /* terminal columns: no line is longer; 0: no bound */
	size_t max_members; /* rows == 0: member rows at most */
	const char *member; /* the -m pattern the members were asked for, or NULL */
};

/*
 * One frame of the live view: the header, the ports and the totals with
 * their rates between the stats snapshots prev and cur (packets/s over
 * their "time" difference, or over local_dt seconds when the server's times
 * are unusable) and their counts since start, then the members of cur in
 * its order (gnnd sorts them busiest first) with gnnd's per-member rates,
 * cut to the rows left, and a line counting the members not shown.
 */
void view_live(FILE *out, const json_t *prev, const json_t *cur, double local_dt,
	       const struct live_frame *f);

/*
 * How many members to ask gnnd for so that a frame of f is full: the rows
 * left below the part above the member table, which has the shape of cur
 * (its ports, totals); cur NULL: as if that part took no row. At least 1.
 */
size_t view_live_member_rows(const json_t *cur, const struct live_frame *f);

/*
 * The lifecycle reports (reports.c), each from gnnd's reply to the command
 * of the same name. member: the -m argument, or NULL for every member.
 */

/* Sources blocked or would-be blocked, heaviest first, and the table's size. */
void view_top(FILE *out, const json_t *top, const char *member);

/* Each listed mail server, and how many were never seen sending. */
void view_servers(FILE *out, const json_t *servers, const char *member);

/* Per member, the unlisted hosts that accepted mail, and a mail_servers line. */
void view_suggest(FILE *out, const json_t *suggest, const char *member);

/* What a config would change (a reply with "ok": true). */
void view_diff(FILE *out, const json_t *diff);

#endif /* GNNSTAT_VIEW_H */
