/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The whole stats snapshot, read in pages of members (see snapshot.h).
 *
 * The first request asks for the first page; its reply says how many
 * members there are (members_matched). The next pages are asked for at the
 * offset reached so far, until every member is in. A gnnd that says no
 * members_matched answered everything at once: its reply is the snapshot.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/gnn_clock.h"
#include "proto/gnn_fields.h"
#include "proto/gnn_proto.h"
#include "snapshot.h"

/* Readings started again after a reload between pages, before giving up. */
#define SNAPSHOT_TRIES 3

static void set_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

struct reader {
	const struct snapshot_request *rq;
	int64_t deadline; /* ms, monotonic; 0: none */
	unsigned int calls;
};

/* {"cmd":"stats","limit":N[,"offset":N][,"member":M]} as a line; NULL: no memory. */
static char *
page_line(const struct snapshot_request *rq, size_t offset, size_t limit)
{
	json_t *req = json_pack("{s:s, s:I}", "cmd", "stats", "limit", (json_int_t)limit);
	char *line = NULL;

	if (req == NULL)
		return NULL;
	if (offset > 0 && json_object_set_new(req, "offset", json_integer((json_int_t)offset)) < 0)
		goto out;
	if (rq->member != NULL && rq->member[0] != '\0' &&
	    json_object_set_new(req, "member", json_string(rq->member)) < 0)
		goto out;
	line = json_dumps(req, JSON_COMPACT);
out:
	json_decref(req);
	return line;
}

/* One page; NULL with *status and err. */
static json_t *
read_page(struct reader *r, size_t offset, size_t limit, enum snapshot_status *status, char *err,
	  size_t errlen)
{
	int timeout = r->rq->call_timeout_ms;
	const json_t *e;
	json_t *reply;
	char *line;

	/* The first request has the whole time; the later ones what is left of it. */
	if (r->deadline != 0 && r->calls > 0) {
		int64_t left = r->deadline - gnn_clock_mono_ms();

		if (left <= 0) {
			set_err(err, errlen,
				"%s: no complete snapshot within %d ms (%u requests answered)",
				r->rq->socket, r->rq->total_timeout_ms, r->calls);
			*status = SNAPSHOT_NO_GNND;
			return NULL;
		}
		if (left < timeout)
			timeout = (int)left;
	}
	line = page_line(r->rq, offset, limit);
	if (line == NULL) {
		set_err(err, errlen, "cannot build the request (a member pattern not in UTF-8?)");
		*status = SNAPSHOT_FAILED;
		return NULL;
	}
	reply = gnn_proto_call(r->rq->socket, line, timeout, err, errlen);
	free(line);
	r->calls++;
	if (reply == NULL) {
		*status = SNAPSHOT_NO_GNND;
		return NULL;
	}
	e = json_object_get(reply, "error");
	if (e != NULL && !json_is_null(e)) {
		set_err(err, errlen, "gnnd: %s",
			json_is_string(e) ? json_string_value(e) : "error (no reason given)");
		json_decref(reply);
		*status = SNAPSHOT_FAILED;
		return NULL;
	}
	return reply;
}

/* Both missing, or both there and equal. */
static bool
same_field(const json_t *a, const json_t *b, const char *key)
{
	const json_t *x = json_object_get(a, key), *y = json_object_get(b, key);

	return (x == NULL && y == NULL) || (x != NULL && y != NULL && json_equal(x, y));
}

/* The pages come from the same ruleset of the same gnnd: the same member list. */
static bool
same_members(const json_t *first, const json_t *page)
{
	return same_field(first, page, GNN_F_GENERATION) &&
	       same_field(first, page, GNN_F_STARTED) &&
	       same_field(first, page, GNN_F_MEMBERS_MATCHED);
}

enum outcome {
	READ_DONE,
	READ_AGAIN, /* the member list changed under the reading */
	READ_FAILED,
};

/* Append the pages after the first to its members. */
static enum outcome
read_rest(struct reader *r, json_t *first, enum snapshot_status *status, char *err, size_t errlen)
{
	json_t *members = json_object_get(first, GNN_F_MEMBERS);
	const json_t *matched = json_object_get(first, GNN_F_MEMBERS_MATCHED);
	json_int_t want;
	json_t *page;
	size_t got, n;

	if (!json_is_array(members) || !json_is_integer(matched))
		return READ_DONE; /* a gnnd that does not page: this is all */
	want = json_integer_value(matched);
	got = json_array_size(members);
	while ((json_int_t)got < want) {
		page = read_page(r, got, SNAPSHOT_PAGE, status, err, errlen);
		if (page == NULL)
			return READ_FAILED;
		if (!same_members(first, page)) {
			json_decref(page);
			return READ_AGAIN;
		}
		n = json_array_size(json_object_get(page, GNN_F_MEMBERS));
		if (n == 0) {
			set_err(err, errlen,
				"bad reply from %s: no members at offset %zu of "
				"%" JSON_INTEGER_FORMAT,
				r->rq->socket, got, want);
			json_decref(page);
			*status = SNAPSHOT_NO_GNND;
			return READ_FAILED;
		}
		json_array_extend(members, json_object_get(page, GNN_F_MEMBERS));
		json_decref(page);
		got += n;
	}
	return READ_DONE;
}

json_t *
snapshot_get(const struct snapshot_request *rq, enum snapshot_status *status, char *err,
	     size_t errlen)
{
	struct reader r = {.rq = rq};
	json_t *first;
	int tries;

	*status = SNAPSHOT_OK;
	if (rq->total_timeout_ms > 0)
		r.deadline = gnn_clock_mono_ms() + rq->total_timeout_ms;
	for (tries = 0; tries < SNAPSHOT_TRIES; tries++) {
		/* limit 0 would mean "every member": one is the fewest there is. */
		first = read_page(&r, 0, rq->no_members ? 1 : SNAPSHOT_PAGE, status, err, errlen);
		if (first == NULL)
			return NULL;
		if (rq->no_members) {
			json_object_del(first, GNN_F_MEMBERS);
			return first;
		}
		switch (read_rest(&r, first, status, err, errlen)) {
		case READ_DONE:
			return first;
		case READ_FAILED:
			json_decref(first);
			return NULL;
		case READ_AGAIN:
			json_decref(first);
			break;
		}
	}
	set_err(err, errlen,
		"%s: the member list changed while it was read, %d times (reloads in a row?); "
		"try again",
		rq->socket, SNAPSHOT_TRIES);
	*status = SNAPSHOT_FAILED;
	return NULL;
}
