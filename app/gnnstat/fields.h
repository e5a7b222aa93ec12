/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNNSTAT_FIELDS_H
#define GNNSTAT_FIELDS_H

/*
 * Reading gnnd's replies: getters that tolerate a missing or mistyped field
 * (NULL, false, or "-" in the text), so one odd field never fails a whole
 * view. Shared by the renderers (view.c, reports.c).
 */

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* obj[key] as a string, or NULL. */
const char *field_str(const json_t *obj, const char *key);

/* obj[key] as a number into *v; false when it is none. */
bool field_num(const json_t *obj, const char *key, double *v);

/* s, or "-" when NULL. */
const char *or_dash(const char *s);

/*
 * obj[key], Unix seconds, as local time "YYYY-MM-DD HH:MM:SS" into buf;
 * none when the field is null or missing. Returns buf.
 */
const char *field_time(char *buf, size_t len, const json_t *obj, const char *key, const char *none);

/* obj[key], a count, as decimal text into buf ("-" when it is none). Returns buf. */
const char *field_count(char *buf, size_t len, const json_t *obj, const char *key);

#endif /* GNNSTAT_FIELDS_H */
