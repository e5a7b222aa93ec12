/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNNSTAT_VIEW_H
#define GNNSTAT_VIEW_H

/*
 * gnnstat's renderers: they only read the server's JSON replies (see
 * docs/design.md for their fields) and write text. A missing or mistyped field
 * shows as "-" (or no sample) rather than failing the whole view.
 */

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/*
 * One block of the live view: rates between the stats snapshots prev and
 * cur (packets/s over their "time" difference, or over local_dt seconds when
 * the server's times are unusable), then the totals since start from cur.
 */
void view_live(FILE *out, const json_t *prev, const json_t *cur, double local_dt);

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
