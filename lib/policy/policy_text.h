/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_POLICY_TEXT_H
#define GNN_POLICY_TEXT_H

/*
 * Inside lib/policy only: reading a config file into memory, and the checks
 * its text passes before libconfig parses it. Any thread; no state.
 */

#include <stdbool.h>
#include <stddef.h>

/* Lists and groups nested deeper than this are refused before parsing. */
#define POLICY_NEST_MAX 64
/*
 * Settings in one group { } (or at the top of a file). libconfig looks each
 * new name up among the group's earlier ones, so a group's cost grows with
 * the square of its size; no valid group holds more than a handful.
 */
#define POLICY_GROUP_SETTINGS_MAX 64

/* Line numbers, ascending. */
struct policy_lines {
	int *v;
	unsigned int n;
	unsigned int cap;
};

/*
 * Read the regular file at path whole, at most limit bytes. On success
 * returns 0 and *text (malloc'd, *len bytes plus a NUL the file may also
 * hold earlier) is the caller's. Otherwise returns a positive errno value
 * and why holds the reason for a "path: reason" message ("cannot open: No
 * such file or directory", "cannot open: Is a directory", "not a regular
 * file (a FIFO)", "too large (N bytes, at most limit)").
 * A FIFO or device is never read from: open does not block, fstat refuses.
 */
int policy_read_file(const char *path, size_t limit, char **text, size_t *len, char *why,
		     size_t why_size);

/* Called for each problem found, with its line and a complete reason. */
typedef void (*policy_text_report_fn)(void *ctx, int line, const char *reason);

/*
 * Check text[0..len) (text[len] must be NUL) before libconfig sees it:
 * - NUL bytes and invalid UTF-8 (the first one found), @include (every file
 *   is read by policy_read_file(), and members_dir replaces it), lists and
 *   groups nested deeper than POLICY_NEST_MAX, groups of more than
 *   POLICY_GROUP_SETTINGS_MAX settings: fatal, the text must not be parsed;
 *   returns 1.
 * - Integer literals libconfig would store as another number (libconfig 1.5
 *   keeps the low 32 bits of one without an L suffix: 4294967321 reads as
 *   25): each reported, its line appended to bad; returns 0, the text can
 *   still be parsed (settings on those lines are then left unjudged).
 * A UTF-8 byte order mark at the start is blanked to spaces. Returns 0 when
 * the text may be parsed, 1 when not, -ENOMEM when bad cannot grow.
 * Linear in len.
 */
int policy_prescan(char *text, size_t len, struct policy_lines *bad, policy_text_report_fn report,
		   void *ctx);

/* Whether line is in lines (binary search). */
bool policy_lines_has(const struct policy_lines *lines, int line);

#endif /* GNN_POLICY_TEXT_H */
