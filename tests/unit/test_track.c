/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/track, the tables behind top, servers and suggest:
 * the bounded heavy-hitter table under a flood, its exact counts and
 * error bounds, ageing, forgetting a slot, reclassification after new
 * rules, the servers list kept across reloads by (slot, prefix), accepts
 * listed or not, the event log's window. Replies are read back as JSON,
 * as gnnstat reads them. No EAL.
 */

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "track/gnn_track.h"

#define NOW	    1700000000.0
#define N_ELEM(a)   (sizeof(a) / sizeof((a)[0]))
#define SLOT_A	    0
#define SLOT_B	    1
#define SLOT_C	    2
#define ALL	    GNN_TRACK_ALL_SLOTS
#define NAMES_SLOTS 3

static const char *const names[NAMES_SLOTS] = {"college", "school", "library"};
static int name_arg; /* what the replies pass their name callback */

static const char *
name_of(void *arg, uint32_t slot)
{
	assert_ptr_equal(arg, &name_arg);
	return slot < NAMES_SLOTS ? names[slot] : "";
}

static struct gnn_track *
make(uint32_t sources, uint32_t accepts, double max_age)
{
	struct gnn_track_limits limits = {
		.max_sources = sources, .max_accepts = accepts, .max_age = max_age};
	struct gnn_track *t = gnn_track_create(&limits);

	assert_non_null(t);
	return t;
}

/* An IPv4 address in the benchmark prefix 198.18.0.0/15 from a number
 * below 2^17 (its bit 16 picks 198.18 or 198.19). */
static void
v4(uint32_t n, uint8_t *addr)
{
	assert_true(n < 1u << 17);
	memset(addr, 0, 16);
	addr[0] = 198;
	addr[1] = (uint8_t)(18 + (n >> 16));
	addr[2] = (uint8_t)(n >> 8);
	addr[3] = (uint8_t)n;
}

static void
text_addr(const char *text, uint8_t *family, uint8_t *addr)
{
	memset(addr, 0, 16);
	if (strchr(text, ':') != NULL) {
		*family = 6;
		assert_int_equal(inet_pton(AF_INET6, text, addr), 1);
	} else {
		*family = 4;
		assert_int_equal(inet_pton(AF_INET, text, addr), 1);
	}
}

static void
feed(struct gnn_track *t, uint32_t slot, const char *addr, uint8_t kind, uint8_t verdict,
     uint32_t packets, uint32_t attempts, double last, const struct gnn_prefix *server)
{
	struct gnn_source_record r = {
		.kind = kind,
		.verdict = verdict,
		.slot = slot,
		.packets = packets,
		.attempts = attempts,
		.server = server != NULL,
	};

	text_addr(addr, &r.family, r.src);
	gnn_track_add(t, &r, last - 1, last, server);
}

static void
sent(struct gnn_track *t, uint32_t slot, const char *addr, uint8_t verdict, uint32_t attempts,
     double last)
{
	feed(t, slot, addr, GNN_RECORD_SENT, verdict, attempts + 1, attempts, last, NULL);
}

static void
feed_n(struct gnn_track *t, uint32_t slot, uint32_t n, uint8_t verdict, uint32_t attempts,
       double last)
{
	struct gnn_source_record r = {
		.family = 4,
		.kind = GNN_RECORD_SENT,
		.verdict = verdict,
		.slot = slot,
		.packets = attempts,
		.attempts = attempts,
	};

	v4(n, r.src);
	gnn_track_add(t, &r, last, last, NULL);
}

static json_t *
top(struct gnn_track *t, uint32_t slot, unsigned int n)
{
	json_t *j = gnn_track_top_json(t, slot, n, name_of, &name_arg);

	assert_non_null(j);
	return j;
}

static json_int_t
num(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static const char *
str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

/* The row of addr (and member) in a list, or NULL. */
static const json_t *
row(const json_t *list, const char *key, const char *addr, const char *member)
{
	size_t i;
	const json_t *r;

	json_array_foreach(list, i, r)
	{
		if (strcmp(str(r, key), addr) == 0 &&
		    (member == NULL || strcmp(str(r, "member"), member) == 0))
			return r;
	}
	return NULL;
}

static const json_t *
source(const json_t *reply, const char *addr)
{
	return row(json_object_get(reply, "sources"), "address", addr, NULL);
}

/* ---- the heavy-hitter table ---- */

#define FLOOD	 100000
#define CAPACITY 1000
#define HEAVIES	 10

/*
 * 10 heavy sources send 500 attempts each (in records of 10), then 100,000
 * light sources one attempt each flood the 1,000-entry table, then one more
 * heavy source sends 300. The heavies are the top 11, the ten from before
 * the flood with exact counts and no error, the late one with its exact
 * count since it came in and the error it inherited.
 */
static void
test_heavy_hitters_survive_a_flood(void **state)
{
	struct gnn_track *t = make(CAPACITY, 16, 1e9);
	json_t *reply, *list;
	char addr[32];
	json_int_t error;

	(void)state;
	for (unsigned int rec = 0; rec < 50; rec++)
		for (uint32_t h = 0; h < HEAVIES; h++)
			feed_n(t, SLOT_A, 0x1ff00 + h, GNN_VERDICT_BLOCKED, 10, NOW + rec);
	for (uint32_t i = 0; i < FLOOD; i++)
		feed_n(t, SLOT_A, i, GNN_VERDICT_BLOCKED, 1, NOW + 100 + i * 1e-3);
	for (unsigned int rec = 0; rec < 30; rec++)
		feed_n(t, SLOT_A, 0x1fe00, GNN_VERDICT_BLOCKED, 10, NOW + 300 + rec);

	reply = top(t, ALL, HEAVIES + 1);
	list = json_object_get(reply, "sources");
	assert_int_equal(json_array_size(list), HEAVIES + 1);
	assert_int_equal(num(reply, "tracked"), CAPACITY);
	assert_int_equal(num(reply, "capacity"), CAPACITY);
	/* Every source but the ones that fit was evicted once to make room. */
	assert_int_equal(num(reply, "evicted"), HEAVIES + FLOOD + 1 - CAPACITY);
	for (uint32_t h = 0; h < HEAVIES; h++) {
		/* The first ten rows are the heavies from before the flood. */
		assert_memory_equal(str(json_array_get(list, h), "address"), "198.19.255.", 11);
		snprintf(addr, sizeof(addr), "198.19.255.%u", h);
		assert_non_null(source(reply, addr));
		assert_int_equal(num(source(reply, addr), "attempts"), 500);
		assert_int_equal(num(source(reply, addr), "packets"), 500);
		assert_int_equal(num(source(reply, addr), "attempts_error"), 0);
	}
	/* The late one: 300 counted since it came in, after every heavy. */
	assert_string_equal(str(json_array_get(list, HEAVIES), "address"), "198.19.254.0");
	assert_int_equal(num(json_array_get(list, HEAVIES), "attempts"), 300);
	error = num(json_array_get(list, HEAVIES), "attempts_error");
	/* It took the lightest entry's place: about FLOOD / CAPACITY attempts. */
	assert_true(error > 0 && error < 500);
	assert_true(error >= FLOOD / CAPACITY - 1);
	json_decref(reply);

	/* The rest are light: the 12th row counts one attempt. */
	reply = top(t, ALL, 1000);
	list = json_object_get(reply, "sources");
	assert_int_equal(json_array_size(list), CAPACITY);
	for (size_t i = 1; i < json_array_size(list); i++)
		assert_true(num(json_array_get(list, i - 1), "attempts") >=
			    num(json_array_get(list, i), "attempts"));
	assert_true(num(json_array_get(list, HEAVIES + 1), "attempts") <= 1);
	json_decref(reply);
	gnn_track_destroy(t);
}

/* A full table: the newcomer takes the lightest place and inherits its estimate. */
static void
test_attempts_error_is_the_estimate_replaced(void **state)
{
	struct gnn_track *t = make(2, 2, 1e9);
	json_t *reply;

	(void)state;
	sent(t, SLOT_A, "192.0.2.1", GNN_VERDICT_BLOCKED, 5, NOW);
	sent(t, SLOT_A, "192.0.2.2", GNN_VERDICT_BLOCKED, 3, NOW);
	sent(t, SLOT_A, "192.0.2.3", GNN_VERDICT_BLOCKED, 1, NOW + 1); /* replaces .2 (3) */
	reply = top(t, ALL, 10);
	assert_null(source(reply, "192.0.2.2"));
	assert_int_equal(num(source(reply, "192.0.2.3"), "attempts"), 1);
	assert_int_equal(num(source(reply, "192.0.2.3"), "attempts_error"), 3);
	assert_int_equal(num(source(reply, "192.0.2.1"), "attempts_error"), 0);
	assert_int_equal(num(reply, "evicted"), 1);
	json_decref(reply);

	/* .3 estimates 4 < 5: it goes next, and .4 inherits 4. */
	sent(t, SLOT_A, "192.0.2.4", GNN_VERDICT_BLOCKED, 2, NOW + 2);
	reply = top(t, ALL, 10);
	assert_null(source(reply, "192.0.2.3"));
	assert_int_equal(num(source(reply, "192.0.2.4"), "attempts"), 2);
	assert_int_equal(num(source(reply, "192.0.2.4"), "attempts_error"), 4);
	assert_int_equal(num(source(reply, "192.0.2.1"), "attempts"), 5);
	/* Heaviest first by what was counted, not by the estimate (2 + 4 > 5). */
	assert_string_equal(str(json_array_get(json_object_get(reply, "sources"), 0), "address"),
			    "192.0.2.1");
	json_decref(reply);

	/* Of two as light, the staler makes room. */
	gnn_track_destroy(t);
	t = make(2, 2, 1e9);
	sent(t, SLOT_A, "192.0.2.1", GNN_VERDICT_BLOCKED, 1, NOW + 10);
	sent(t, SLOT_A, "192.0.2.2", GNN_VERDICT_BLOCKED, 1, NOW);
	sent(t, SLOT_A, "192.0.2.3", GNN_VERDICT_BLOCKED, 1, NOW + 20);
	reply = top(t, ALL, 10);
	assert_null(source(reply, "192.0.2.2"));
	assert_non_null(source(reply, "192.0.2.1"));
	json_decref(reply);
	gnn_track_destroy(t);
}

/* What a top row holds, the member filter, n, and the order of ties. */
static void
test_top_rows_filter_and_order(void **state)
{
	struct gnn_track *t = make(64, 8, 1e9);
	struct gnn_source_record r = {
		.family = 6,
		.kind = GNN_RECORD_SENT,
		.verdict = GNN_VERDICT_WOULD_BLOCK,
		.slot = SLOT_B,
		.packets = 9,
		.attempts = 4,
	};
	const json_t *s;
	json_t *reply;

	(void)state;
	sent(t, SLOT_A, "198.51.100.7", GNN_VERDICT_BLOCKED, 7, NOW);
	sent(t, SLOT_A, "198.51.100.8", GNN_VERDICT_BLOCKED, 2, NOW);
	feed(t, SLOT_A, "198.51.100.9", GNN_RECORD_SENT, GNN_VERDICT_BLOCKED, 5, 2, NOW, NULL);
	text_addr("2001:db8:10::1234", &r.family, r.src);
	for (uint32_t d = 0; d < 3; d++)
		r.dst_sketch = gnn_hll_add(r.dst_sketch, (d + 1) * 2654435761u);
	gnn_track_add(t, &r, NOW - 30, NOW - 5, NULL);
	/* Not tracked: no member, no packet, a verdict that is no block. */
	sent(t, GNN_SLOT_NONE, "198.18.0.1", GNN_VERDICT_BLOCKED, 50, NOW);
	feed(t, SLOT_A, "198.51.100.10", GNN_RECORD_SENT, GNN_VERDICT_BLOCKED, 0, 50, NOW, NULL);
	sent(t, SLOT_A, "198.51.100.25", GNN_VERDICT_ALLOWED, 50, NOW);
	sent(t, SLOT_A, "198.51.100.26", GNN_VERDICT_FORWARD, 50, NOW);

	reply = top(t, ALL, 10);
	assert_int_equal(num(reply, "tracked"), 4);
	assert_int_equal(json_array_size(json_object_get(reply, "sources")), 4);
	s = source(reply, "2001:db8:10::1234");
	assert_non_null(s);
	assert_string_equal(str(s, "member"), "school");
	assert_string_equal(str(s, "verdict"), "would_block");
	assert_int_equal(num(s, "attempts"), 4);
	assert_int_equal(num(s, "packets"), 9);
	assert_int_equal(num(s, "destinations"), 3);
	assert_int_equal(num(s, "would_block"), 9);
	assert_int_equal(num(s, "blocked"), 0);
	assert_true(json_real_value(json_object_get(s, "first_seen")) == NOW - 30);
	assert_true(json_real_value(json_object_get(s, "last_seen")) == NOW - 5);
	s = source(reply, "198.51.100.7");
	assert_int_equal(num(s, "blocked"), 8);
	assert_int_equal(num(s, "destinations"), 0);
	/* Same attempts: more packets first. */
	assert_string_equal(str(json_array_get(json_object_get(reply, "sources"), 0), "address"),
			    "198.51.100.7");
	assert_string_equal(str(json_array_get(json_object_get(reply, "sources"), 2), "address"),
			    "198.51.100.9");
	assert_string_equal(str(json_array_get(json_object_get(reply, "sources"), 3), "address"),
			    "198.51.100.8");
	json_decref(reply);

	reply = top(t, SLOT_A, 2);
	assert_int_equal(json_array_size(json_object_get(reply, "sources")), 2);
	assert_null(source(reply, "2001:db8:10::1234"));
	json_decref(reply);
	reply = top(t, SLOT_C, 10);
	assert_int_equal(json_array_size(json_object_get(reply, "sources")), 0);
	json_decref(reply);

	/* A new verdict starts a new history. */
	sent(t, SLOT_B, "2001:db8:10::1234", GNN_VERDICT_BLOCKED, 1, NOW);
	reply = top(t, SLOT_B, 10);
	s = source(reply, "2001:db8:10::1234");
	assert_string_equal(str(s, "verdict"), "blocked");
	assert_int_equal(num(s, "attempts"), 1);
	assert_int_equal(num(s, "packets"), 2);
	assert_int_equal(num(s, "destinations"), 0);
	json_decref(reply);

	/* The same address under two members: two sources. */
	sent(t, SLOT_C, "198.51.100.7", GNN_VERDICT_BLOCKED, 1, NOW);
	reply = top(t, ALL, 10);
	assert_non_null(
		row(json_object_get(reply, "sources"), "address", "198.51.100.7", "library"));
	assert_non_null(
		row(json_object_get(reply, "sources"), "address", "198.51.100.7", "college"));
	json_decref(reply);
	gnn_track_destroy(t);
}

/* ---- ageing, forgetting, reclassifying ---- */

static void
test_ageing_forgets_what_was_not_seen(void **state)
{
	struct gnn_track *t = make(16, 16, 100);
	struct gnn_track_counts c;
	json_t *reply;

	(void)state;
	sent(t, SLOT_A, "192.0.2.1", GNN_VERDICT_BLOCKED, 1, NOW - 200);
	sent(t, SLOT_A, "192.0.2.2", GNN_VERDICT_BLOCKED, 1, NOW - 50);
	feed(t, SLOT_A, "192.0.2.3", GNN_RECORD_ACCEPTED, GNN_VERDICT_BLOCKED, 2, 1, NOW - 101,
	     NULL);
	feed(t, SLOT_A, "192.0.2.4", GNN_RECORD_ACCEPTED, GNN_VERDICT_BLOCKED, 2, 1, NOW - 99,
	     NULL);
	gnn_track_age(t, NOW);
	gnn_track_counts(t, &c);
	assert_int_equal(c.sources, 1);
	assert_int_equal(c.accepts, 1);
	assert_int_equal(c.aged, 2);
	reply = top(t, ALL, 10);
	assert_null(source(reply, "192.0.2.1"));
	assert_non_null(source(reply, "192.0.2.2"));
	assert_int_equal(num(reply, "aged"), 1);
	json_decref(reply);
	/* Seen again: back, counted from zero. */
	sent(t, SLOT_A, "192.0.2.1", GNN_VERDICT_BLOCKED, 2, NOW);
	reply = top(t, ALL, 10);
	assert_int_equal(num(source(reply, "192.0.2.1"), "attempts"), 2);
	json_decref(reply);
	gnn_track_age(t, NOW + 1000);
	gnn_track_counts(t, &c);
	assert_int_equal(c.sources + c.accepts, 0);
	assert_int_equal(c.aged, 5);
	gnn_track_destroy(t);
}

static void
test_forget_slot_leaves_other_members(void **state)
{
	struct gnn_track *t = make(16, 16, 1e9);
	struct gnn_track_counts c;
	json_t *reply;

	(void)state;
	for (uint32_t i = 0; i < 6; i++)
		feed_n(t, i % 2 ? SLOT_B : SLOT_A, i, GNN_VERDICT_BLOCKED, 1, NOW);
	feed(t, SLOT_A, "192.0.2.3", GNN_RECORD_ACCEPTED, GNN_VERDICT_BLOCKED, 2, 1, NOW, NULL);
	feed(t, SLOT_B, "192.0.2.4", GNN_RECORD_ACCEPTED, GNN_VERDICT_BLOCKED, 2, 1, NOW, NULL);
	gnn_track_forget_slot(t, SLOT_A);
	gnn_track_counts(t, &c);
	assert_int_equal(c.sources, 3);
	assert_int_equal(c.accepts, 1);
	assert_int_equal(c.aged + c.evicted, 0);
	reply = top(t, ALL, 10);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(
			str(json_array_get(json_object_get(reply, "sources"), i), "member"),
			"school");
	json_decref(reply);
	/* The table still finds the ones left (its index survived the removals). */
	for (uint32_t i = 1; i < 6; i += 2)
		feed_n(t, SLOT_B, i, GNN_VERDICT_BLOCKED, 1, NOW);
	gnn_track_counts(t, &c);
	assert_int_equal(c.sources, 3);
	reply = top(t, ALL, 10);
	assert_int_equal(num(json_array_get(json_object_get(reply, "sources"), 0), "attempts"), 2);
	json_decref(reply);
	gnn_track_destroy(t);
}

struct change {
	char addr[48];
	uint32_t slot;
	uint8_t old, now;
};

static struct {
	struct change seen[16];
	unsigned int n;
} changes;

/* The new rules: .1 monitored now, .2 a mail server, .3 in another member. */
static uint8_t
new_rules(void *arg, uint8_t family, const uint8_t *addr, uint32_t *slot)
{
	assert_ptr_equal(arg, &changes);
	assert_int_equal(family, 4);
	*slot = SLOT_A;
	switch (addr[3]) {
	case 1:
		return GNN_VERDICT_WOULD_BLOCK;
	case 2:
		return GNN_VERDICT_ALLOWED;
	case 3:
		*slot = SLOT_B;
		return GNN_VERDICT_BLOCKED;
	case 4:
		*slot = GNN_SLOT_NONE;
		return GNN_VERDICT_FORWARD;
	case 5:
		return GNN_VERDICT_ALLOWED; /* an accept that becomes listed */
	}
	return GNN_VERDICT_BLOCKED;
}

static void
changed(void *arg, uint32_t slot, uint8_t family, const uint8_t *addr, uint8_t old, uint8_t now)
{
	struct change *c = &changes.seen[changes.n++];

	assert_ptr_equal(arg, &changes);
	inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, c->addr, sizeof(c->addr));
	c->slot = slot;
	c->old = old;
	c->now = now;
}

static void
test_reclassify_changes_verdicts_and_removes_sources(void **state)
{
	struct gnn_track *t = make(16, 16, 1e9);
	const json_t *h;
	json_t *reply;

	(void)state;
	memset(&changes, 0, sizeof(changes));
	for (unsigned int i = 1; i <= 4; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "192.0.2.%u", i);
		sent(t, SLOT_A, addr, GNN_VERDICT_BLOCKED, 10 * i, NOW);
	}
	sent(t, SLOT_A, "192.0.2.9", GNN_VERDICT_BLOCKED, 7, NOW); /* unchanged */
	feed(t, SLOT_A, "192.0.2.5", GNN_RECORD_ACCEPTED, GNN_VERDICT_BLOCKED, 4, 2, NOW, NULL);
	reply = gnn_track_accepts_json(t, ALL, name_of, &name_arg);
	assert_false(json_is_true(
		json_object_get(json_array_get(json_object_get(reply, "hosts"), 0), "listed")));
	json_decref(reply);

	gnn_track_reclassify(t, new_rules, changed, &changes);
	assert_int_equal(changes.n, 4);
	for (unsigned int i = 0; i < changes.n; i++) {
		assert_int_equal(changes.seen[i].slot, SLOT_A);
		assert_int_equal(changes.seen[i].old, GNN_VERDICT_BLOCKED);
		if (strcmp(changes.seen[i].addr, "192.0.2.1") == 0)
			assert_int_equal(changes.seen[i].now, GNN_VERDICT_WOULD_BLOCK);
		else if (strcmp(changes.seen[i].addr, "192.0.2.2") == 0)
			assert_int_equal(changes.seen[i].now, GNN_VERDICT_ALLOWED);
		else if (strcmp(changes.seen[i].addr, "192.0.2.3") == 0)
			assert_int_equal(changes.seen[i].now, GNN_VERDICT_BLOCKED);
		else
			assert_string_equal(changes.seen[i].addr, "192.0.2.4");
	}
	reply = top(t, ALL, 10);
	assert_int_equal(num(reply, "tracked"), 2);
	/* Would block now: kept, its counts start again. */
	assert_string_equal(str(source(reply, "192.0.2.1"), "verdict"), "would_block");
	assert_int_equal(num(source(reply, "192.0.2.1"), "attempts"), 0);
	assert_int_equal(num(source(reply, "192.0.2.9"), "attempts"), 7);
	assert_null(source(reply, "192.0.2.2")); /* allowed now */
	assert_null(source(reply, "192.0.2.3")); /* another member's now */
	assert_null(source(reply, "192.0.2.4")); /* in no member now */
	json_decref(reply);
	/* Accepts keep their counts; only whether the host is listed changed. */
	reply = gnn_track_accepts_json(t, ALL, name_of, &name_arg);
	h = json_array_get(json_object_get(reply, "hosts"), 0);
	assert_true(json_is_true(json_object_get(h, "listed")));
	assert_int_equal(num(h, "inbound"), 2);
	json_decref(reply);
	/* No change callback is fine. */
	gnn_track_reclassify(t, new_rules, NULL, &changes);
	gnn_track_destroy(t);
}

/* ---- servers ---- */

static struct gnn_track_server
server(uint32_t slot, const char *text)
{
	struct gnn_track_server s = {.slot = slot};

	assert_int_equal(gnn_prefix_parse(text, &s.prefix, NULL), 0);
	return s;
}

static const json_t *
server_row(const json_t *reply, const char *prefix, const char *member)
{
	return row(json_object_get(reply, "servers"), "server", prefix, member);
}

static void
test_servers_kept_across_reloads_by_key(void **state)
{
	struct gnn_track *t = make(16, 16, 1e9);
	struct gnn_track_server first[] = {
		server(SLOT_A, "192.0.2.25/32"),
		server(SLOT_A, "2001:db8:10::25/128"),
		server(SLOT_B, "203.0.113.0/28"),
	};
	struct gnn_track_server second[] = {
		server(SLOT_B, "203.0.113.0/28"),
		server(SLOT_C, "192.0.2.25/32"), /* same prefix, another member */
		server(SLOT_A, "192.0.2.25/32"),
		server(SLOT_A, "192.0.2.26/32"),
	};
	const json_t *s;
	json_t *reply;

	(void)state;
	assert_int_equal(gnn_track_set_servers(t, first, N_ELEM(first), NOW - 100), 0);
	reply = gnn_track_servers_json(t, ALL, name_of, &name_arg);
	assert_int_equal(json_array_size(json_object_get(reply, "servers")), 3);
	s = server_row(reply, "192.0.2.25", "college");
	assert_true(json_is_true(json_object_get(s, "never")));
	assert_true(json_is_null(json_object_get(s, "last_seen")));
	json_decref(reply);

	feed(t, SLOT_A, "192.0.2.25", GNN_RECORD_SENT, GNN_VERDICT_ALLOWED, 6, 3, NOW - 10,
	     &first[0].prefix);
	feed(t, SLOT_A, "192.0.2.25", GNN_RECORD_ACCEPTED, GNN_VERDICT_ALLOWED, 2, 2, NOW - 5,
	     &first[0].prefix);
	feed(t, SLOT_B, "203.0.113.5", GNN_RECORD_SENT, GNN_VERDICT_ALLOWED, 1, 1, NOW - 1,
	     &first[2].prefix);
	/* A prefix the list does not hold: nothing counted. */
	feed(t, SLOT_A, "198.51.100.1", GNN_RECORD_SENT, GNN_VERDICT_ALLOWED, 1, 1, NOW,
	     &second[3].prefix);
	reply = gnn_track_servers_json(t, SLOT_A, name_of, &name_arg);
	assert_int_equal(json_array_size(json_object_get(reply, "servers")), 2);
	s = server_row(reply, "192.0.2.25", "college");
	assert_false(json_is_true(json_object_get(s, "never")));
	assert_int_equal(num(s, "attempts"), 3);
	assert_int_equal(num(s, "packets"), 6);
	assert_int_equal(num(s, "accepted"), 2);
	/* last seen sending: the accepted connection at NOW - 5 is counted, not "seen" */
	assert_true(json_real_value(json_object_get(s, "last_seen")) == NOW - 10);
	json_decref(reply);

	/* Reordered, one gone, two new: the kept ones keep what they saw. */
	assert_int_equal(gnn_track_set_servers(t, second, N_ELEM(second), NOW), 0);
	reply = gnn_track_servers_json(t, ALL, name_of, &name_arg);
	assert_int_equal(json_array_size(json_object_get(reply, "servers")), 4);
	assert_null(server_row(reply, "2001:db8:10::25", NULL));
	s = server_row(reply, "192.0.2.25", "college");
	assert_int_equal(num(s, "attempts"), 3);
	assert_true(json_real_value(json_object_get(s, "loaded")) == NOW - 100);
	s = server_row(reply, "203.0.113.0/28", "school");
	assert_int_equal(num(s, "attempts"), 1);
	s = server_row(reply, "192.0.2.25", "library");
	assert_true(json_is_true(json_object_get(s, "never")));
	assert_int_equal(num(s, "attempts"), 0);
	assert_true(json_real_value(json_object_get(s, "loaded")) == NOW);
	s = server_row(reply, "192.0.2.26", "college");
	assert_true(json_is_true(json_object_get(s, "never")));
	/* In the order of the list given (the file's), not sorted. */
	assert_string_equal(str(json_array_get(json_object_get(reply, "servers"), 0), "member"),
			    "school");
	assert_string_equal(str(json_array_get(json_object_get(reply, "servers"), 1), "member"),
			    "library");
	assert_string_equal(str(json_array_get(json_object_get(reply, "servers"), 3), "server"),
			    "192.0.2.26");
	json_decref(reply);

	/* An empty list empties the table. */
	assert_int_equal(gnn_track_set_servers(t, NULL, 0, NOW), 0);
	reply = gnn_track_servers_json(t, ALL, name_of, &name_arg);
	assert_int_equal(json_array_size(json_object_get(reply, "servers")), 0);
	json_decref(reply);
	gnn_track_destroy(t);
}

/* ---- accepts ---- */

static void
test_accepts_listed_and_unlisted(void **state)
{
	struct gnn_track *t = make(16, 2, 1e9);
	struct gnn_track_counts c;
	const json_t *h;
	json_t *reply;

	(void)state;
	/* A listed server answering inbound mail, and an unlisted host. */
	feed(t, SLOT_A, "192.0.2.25", GNN_RECORD_ACCEPTED, GNN_VERDICT_ALLOWED, 3, 3, NOW, NULL);
	feed(t, SLOT_A, "192.0.2.30", GNN_RECORD_ACCEPTED, GNN_VERDICT_BLOCKED, 8, 5, NOW, NULL);
	/* The unlisted one also tries to send out. */
	sent(t, SLOT_A, "192.0.2.30", GNN_VERDICT_BLOCKED, 4, NOW);
	/* From no member, or judged "forward": not an accept to suggest. */
	feed(t, GNN_SLOT_NONE, "198.18.0.1", GNN_RECORD_ACCEPTED, GNN_VERDICT_BLOCKED, 1, 1, NOW,
	     NULL);
	feed(t, SLOT_A, "192.0.2.40", GNN_RECORD_ACCEPTED, GNN_VERDICT_FORWARD, 1, 1, NOW, NULL);
	reply = gnn_track_accepts_json(t, ALL, name_of, &name_arg);
	assert_int_equal(num(reply, "tracked"), 2);
	h = row(json_object_get(reply, "hosts"), "address", "192.0.2.25", NULL);
	assert_true(json_is_true(json_object_get(h, "listed")));
	assert_int_equal(num(h, "inbound"), 3);
	assert_int_equal(num(h, "outbound_attempts"), 0);
	h = row(json_object_get(reply, "hosts"), "address", "192.0.2.30", NULL);
	assert_false(json_is_true(json_object_get(h, "listed")));
	assert_int_equal(num(h, "inbound"), 5);
	assert_int_equal(num(h, "packets"), 8);
	assert_int_equal(num(h, "outbound_attempts"), 4);
	/* Heaviest first. */
	assert_string_equal(str(json_array_get(json_object_get(reply, "hosts"), 0), "address"),
			    "192.0.2.30");
	json_decref(reply);
	/* Bounded like the sources: a third host takes the lightest place. */
	feed(t, SLOT_B, "203.0.113.9", GNN_RECORD_ACCEPTED, GNN_VERDICT_WOULD_BLOCK, 1, 1, NOW,
	     NULL);
	gnn_track_counts(t, &c);
	assert_int_equal(c.accepts, 2);
	assert_int_equal(c.evicted, 1);
	reply = gnn_track_accepts_json(t, SLOT_B, name_of, &name_arg);
	assert_int_equal(json_array_size(json_object_get(reply, "hosts")), 1);
	json_decref(reply);
	gnn_track_destroy(t);
}

/* ---- the event log ---- */

static void
test_log_due_once_per_window(void **state)
{
	struct gnn_track *t = make(16, 16, 1e9);
	uint8_t a[16], b[16], fam;

	(void)state;
	text_addr("192.0.2.1", &fam, a);
	text_addr("192.0.2.2", &fam, b);
	/* Not in the table: always due (nothing to remember it by). */
	assert_true(gnn_track_log_due(t, SLOT_A, 4, a, GNN_VERDICT_BLOCKED, NOW, 60));
	assert_true(gnn_track_log_due(t, SLOT_A, 4, a, GNN_VERDICT_BLOCKED, NOW, 60));
	/* A source entering the table counts as logged then (its sighting was logged). */
	sent(t, SLOT_A, "192.0.2.1", GNN_VERDICT_BLOCKED, 1, NOW);
	assert_false(gnn_track_log_due(t, SLOT_A, 4, a, GNN_VERDICT_BLOCKED, NOW, 60));
	assert_false(gnn_track_log_due(t, SLOT_A, 4, a, GNN_VERDICT_BLOCKED, NOW + 58, 60));
	assert_true(gnn_track_log_due(t, SLOT_A, 4, a, GNN_VERDICT_BLOCKED, NOW + 61, 60));
	assert_false(gnn_track_log_due(t, SLOT_A, 4, a, GNN_VERDICT_BLOCKED, NOW + 62, 60));
	/* Another verdict is news at once; so is another member's same address. */
	assert_true(gnn_track_log_due(t, SLOT_A, 4, a, GNN_VERDICT_WOULD_BLOCK, NOW + 63, 60));
	sent(t, SLOT_B, "192.0.2.1", GNN_VERDICT_BLOCKED, 1, NOW + 63);
	assert_false(gnn_track_log_due(t, SLOT_B, 4, a, GNN_VERDICT_BLOCKED, NOW + 64, 60));
	assert_true(gnn_track_log_due(t, SLOT_B, 4, a, GNN_VERDICT_BLOCKED, NOW + 124, 60));
	assert_true(gnn_track_log_due(t, SLOT_A, 4, b, GNN_VERDICT_BLOCKED, NOW + 64, 60));
	gnn_track_destroy(t);
}

/* ---- foreach, names ---- */

struct seen_hosts {
	unsigned int sources, accepts, listed;
};

static void
count_host(void *arg, const struct gnn_track_host *host)
{
	struct seen_hosts *s = arg;

	if (host->listed)
		s->listed++;
	else if (host->accepted)
		s->accepts++;
	else
		s->sources++;
}

static void
test_foreach_and_names(void **state)
{
	struct gnn_track *t = make(16, 16, 1e9);
	struct gnn_track_server list[] = {server(SLOT_A, "192.0.2.25/32"),
					  server(SLOT_A, "192.0.2.26/32")};
	struct seen_hosts seen = {0};

	(void)state;
	assert_int_equal(gnn_track_set_servers(t, list, 2, NOW), 0);
	sent(t, SLOT_A, "192.0.2.1", GNN_VERDICT_BLOCKED, 1, NOW);
	sent(t, SLOT_B, "192.0.2.1", GNN_VERDICT_WOULD_BLOCK, 1, NOW);
	feed(t, SLOT_A, "192.0.2.30", GNN_RECORD_ACCEPTED, GNN_VERDICT_BLOCKED, 1, 1, NOW, NULL);
	feed(t, SLOT_A, "192.0.2.25", GNN_RECORD_SENT, GNN_VERDICT_ALLOWED, 1, 1, NOW,
	     &list[0].prefix);
	gnn_track_foreach(t, count_host, &seen);
	assert_int_equal(seen.sources, 2);
	assert_int_equal(seen.accepts, 1);
	assert_int_equal(seen.listed, 1); /* the one never seen is left out */
	assert_string_equal(gnn_verdict_name(GNN_VERDICT_BLOCKED), "blocked");
	assert_string_equal(gnn_verdict_name(GNN_VERDICT_WOULD_BLOCK), "would_block");
	assert_string_equal(gnn_verdict_name(GNN_VERDICT_ALLOWED), "allowed");
	assert_string_equal(gnn_verdict_name(GNN_VERDICT_FORWARD), "forward");
	assert_string_equal(gnn_verdict_name(GNN_VERDICT_MALFORMED_DROP), "malformed_drop");
	assert_string_equal(gnn_verdict_name(200), "unknown");
	gnn_track_destroy(t);
	gnn_track_destroy(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heavy_hitters_survive_a_flood),
		cmocka_unit_test(test_attempts_error_is_the_estimate_replaced),
		cmocka_unit_test(test_top_rows_filter_and_order),
		cmocka_unit_test(test_ageing_forgets_what_was_not_seen),
		cmocka_unit_test(test_forget_slot_leaves_other_members),
		cmocka_unit_test(test_reclassify_changes_verdicts_and_removes_sources),
		cmocka_unit_test(test_servers_kept_across_reloads_by_key),
		cmocka_unit_test(test_accepts_listed_and_unlisted),
		cmocka_unit_test(test_log_due_once_per_window),
		cmocka_unit_test(test_foreach_and_names),
	};

	return cmocka_run_group_tests_name("track", tests, NULL, NULL);
}
