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

/* The "top" reply as a table. */
void view_top(FILE *out, const json_t *top);

#endif /* GNNSTAT_VIEW_H */
