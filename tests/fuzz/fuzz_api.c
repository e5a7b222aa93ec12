/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer harness of the control socket's request handling without EAL:
 * gnnd's real dispatch table (app/gnnd/control/api.c) filled with the
 * commands of lib/proto, whose handlers answer from a real lib/track
 * tracker the way gnnd's sources module does (top, servers, suggest with a
 * member filter and n), a stub stats, and reload and diff deferred and
 * answered later through a fake transport. 26 more commands fill the
 * table to its limit.
 *
 * The input is a script, one step per line:
 *   "!r" + 16 raw bytes   a source record for the tracker (see add_record)
 *   "!age" "!tick"        time passes a day / a second, then ageing
 *   "!forget" D           forget slot D (a digit)
 *   "!reclassify"         judge every source again (verdict from its bytes)
 *   "!servers" D          the mail_servers list changes (D picks which)
 *   "!answer"             answer the oldest deferred request
 *   "!close" D            connection D goes away (its deferred reply too)
 *   anything else         a request line of connection (line number % 4)
 * Invariants (a trap when broken): registration refuses a name twice and
 * a 33rd command; every reply, direct or deferred, is one line holding one
 * JSON object, reaches the connection it is for and never one that is
 * gone; a refused request gets {"error": printable text}; top lists at
 * most n sources of the member asked for (all of them when n allows),
 * heaviest first, each once, blocked or would-block, with addresses that
 * parse, never more attempts than were fed; servers and suggest keep to
 * the member asked for and list every entry when asked for all.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "control/api.h"
#include "policy/gnn_policy.h"
#include "proto/gnn_proto.h"
#include "track/gnn_track.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

#define N_ELEM(a)      (sizeof(a) / sizeof((a)[0]))
#define RTE_MIN_(a, b) ((a) < (b) ? (a) : (b))
#define N_MEMBERS      6
#define N_CONNS	       4
#define MAX_DEFERRED   16
#define N_FILLERS      26 /* with the six real commands: the table's 32 */
#define RECORD_BYTES   16
#define BASE_TIME      1700000000.0
#define DAY	       86400.0
#define SLOT_UNNAMED   100 /* a slot no member holds */
#define MAX_N_SOURCES  8
#define MAX_N_ACCEPTS  4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const member_names[N_MEMBERS] = {
	"college", "school", "library", "m3", "café", "with space",
};

static const struct gnn_proto_command *const commands[] = {
	&gnn_proto_cmd_stats,	&gnn_proto_cmd_reload,	&gnn_proto_cmd_top,
	&gnn_proto_cmd_servers, &gnn_proto_cmd_suggest, &gnn_proto_cmd_diff,
};

static char filler_names[N_FILLERS][8];
static struct gnn_proto_command fillers[N_FILLERS];

struct pending {
	uint64_t token;
	json_t *reply;
};

static struct {
	struct gnn_track *t;
	double now;
	uint64_t fed_attempts; /* of records that can reach the sources table */
	bool closed[N_CONNS + 1];
	struct pending deferred[MAX_DEFERRED];
	unsigned int n_deferred;
	unsigned int delivered;
	struct gnn_track_server servers[2 * N_MEMBERS];
	uint32_t n_servers;
} h;

/* ---- checks of what goes back ---- */

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

/* One line, one JSON object: returned (the caller decrefs). */
static json_t *
check_line(const char *text)
{
	size_t len;
	json_t *obj;

	CHECK(text != NULL);
	len = strlen(text);
	CHECK(len >= 3 && text[len - 1] == '\n' && memchr(text, '\n', len - 1) == NULL);
	obj = json_loadb(text, len - 1, 0, NULL);
	CHECK(json_is_object(obj));
	return obj;
}

static void
deliver(uint64_t conn, char *text)
{
	json_t *obj = check_line(text);

	CHECK(conn >= 1 && conn <= N_CONNS);
	CHECK(!h.closed[conn]);
	h.delivered++;
	json_decref(obj);
	free(text);
}

/* ---- the handlers ---- */

static const char *
slot_name(void *arg, uint32_t slot)
{
	CHECK(arg == &h);
	return slot < N_MEMBERS ? member_names[slot] : "";
}

/* As gnnd's sources module: the member's slot, all, or an error reply. */
static uint32_t
requested_slot(const struct gnn_request *req, json_t **err)
{
	const char *name = gnn_request_string(req, "member", "");

	*err = NULL;
	if (name[0] == '\0')
		return GNN_TRACK_ALL_SLOTS;
	for (uint32_t s = 0; s < N_MEMBERS; s++)
		if (strcmp(member_names[s], name) == 0)
			return s;
	*err = json_pack("{s:s+}", "error", "no member named ", name);
	CHECK(*err != NULL); /* the parser hands over UTF-8 only */
	return GNN_SLOT_NONE;
}

static json_t *
handle_stats(const struct gnn_request *req, struct gnn_api_ctx *ctx)
{
	CHECK(req->cmd == &gnn_proto_cmd_stats && !ctx->deferred);
	return json_pack("{s:i, s:I}", "api_version", 1, "limit",
			 (json_int_t)gnn_request_uint(req, "limit", 0));
}

static json_t *
handle_later(const struct gnn_request *req, struct gnn_api_ctx *ctx)
{
	CHECK(req->cmd == &gnn_proto_cmd_reload || req->cmd == &gnn_proto_cmd_diff);
	if (h.n_deferred == MAX_DEFERRED)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "reload in progress");
	h.deferred[h.n_deferred].reply = json_pack("{s:b, s:s}", "ok", 1, "cmd", req->cmd->name);
	h.deferred[h.n_deferred++].token = gnn_api_defer(ctx);
	CHECK(ctx->deferred);
	return NULL;
}

static void
check_filter(const json_t *list, uint32_t slot)
{
	size_t i;
	json_t *row;

	CHECK(json_is_array(list));
	json_array_foreach(list, i, row)
	{
		const char *m = json_string_value(json_object_get(row, "member"));

		CHECK(m != NULL);
		CHECK(slot == GNN_TRACK_ALL_SLOTS || strcmp(m, member_names[slot]) == 0);
	}
}

static json_t *
handle_top(const struct gnn_request *req, struct gnn_api_ctx *ctx)
{
	unsigned int n = (unsigned int)gnn_request_uint(req, "n", GNN_PROTO_TOP_DEFAULT);
	uint64_t prev = UINT64_MAX, sum = 0;
	json_t *err, *reply, *list, *row;
	uint32_t slot = requested_slot(req, &err);
	uint8_t addr[16];
	size_t i;

	CHECK(req->cmd == &gnn_proto_cmd_top && !ctx->deferred);
	if (err != NULL)
		return err;
	CHECK(n >= 1 && n <= GNN_PROTO_TOP_MAX);
	reply = gnn_track_top_json(h.t, slot, n, slot_name, &h);
	CHECK(reply != NULL);
	list = json_object_get(reply, "sources");
	CHECK(json_array_size(list) <= n);
	CHECK(json_integer_value(json_object_get(reply, "tracked")) <=
	      json_integer_value(json_object_get(reply, "capacity")));
	check_filter(list, slot);
	/* Every source is listed: a row json_pack failed on would be left out. */
	if (slot == GNN_TRACK_ALL_SLOTS)
		CHECK(json_array_size(list) ==
		      RTE_MIN_((size_t)n,
			       (size_t)json_integer_value(json_object_get(reply, "tracked"))));
	json_array_foreach(list, i, row)
	{
		const char *a = json_string_value(json_object_get(row, "address"));
		const char *v = json_string_value(json_object_get(row, "verdict"));
		uint64_t att = (uint64_t)json_integer_value(json_object_get(row, "attempts"));

		/* Every field is there: a failed json_pack would leave the row out. */
		CHECK(json_object_size(row) == 11);
		CHECK(a != NULL && v != NULL);
		CHECK(inet_pton(strchr(a, ':') != NULL ? AF_INET6 : AF_INET, a, addr) == 1);
		CHECK(strcmp(v, "blocked") == 0 || strcmp(v, "would_block") == 0);
		CHECK(att <= prev);
		prev = att;
		sum += att;
	}
	CHECK(sum <= h.fed_attempts);
	/* One row per source: an index that lost an entry would make a second. */
	for (size_t a = 0; a < json_array_size(list); a++) {
		const json_t *x = json_array_get(list, a);

		for (size_t b = a + 1; b < json_array_size(list); b++) {
			const json_t *y = json_array_get(list, b);

			CHECK(!json_equal(json_object_get(x, "address"),
					  json_object_get(y, "address")) ||
			      !json_equal(json_object_get(x, "member"),
					  json_object_get(y, "member")));
		}
	}
	return reply;
}

static json_t *
handle_servers(const struct gnn_request *req, struct gnn_api_ctx *ctx)
{
	json_t *err, *reply;
	uint32_t slot = requested_slot(req, &err);

	CHECK(!ctx->deferred);
	if (err != NULL)
		return err;
	reply = gnn_track_servers_json(h.t, slot, slot_name, &h);
	CHECK(reply != NULL);
	check_filter(json_object_get(reply, "servers"), slot);
	CHECK(json_array_size(json_object_get(reply, "servers")) <= h.n_servers);
	if (slot == GNN_TRACK_ALL_SLOTS)
		CHECK(json_array_size(json_object_get(reply, "servers")) == h.n_servers);
	return reply;
}

static json_t *
handle_suggest(const struct gnn_request *req, struct gnn_api_ctx *ctx)
{
	json_t *err, *reply;
	uint32_t slot = requested_slot(req, &err);

	CHECK(!ctx->deferred);
	if (err != NULL)
		return err;
	reply = gnn_track_accepts_json(h.t, slot, slot_name, &h);
	CHECK(reply != NULL);
	check_filter(json_object_get(reply, "hosts"), slot);
	CHECK(json_array_size(json_object_get(reply, "hosts")) <= MAX_N_ACCEPTS);
	if (slot == GNN_TRACK_ALL_SLOTS)
		CHECK(json_array_size(json_object_get(reply, "hosts")) ==
		      (size_t)json_integer_value(json_object_get(reply, "tracked")));
	return reply;
}

static json_t *
handle_filler(const struct gnn_request *req, struct gnn_api_ctx *ctx)
{
	CHECK(req->cmd >= fillers && req->cmd < fillers + N_FILLERS && !ctx->deferred);
	return json_pack("{s:s}", "filler", req->cmd->name);
}

static const gnn_api_fn handlers[] = {
	handle_stats, handle_later, handle_top, handle_servers, handle_suggest, handle_later,
};

/* ---- the tracker's side ---- */

static void
make_addr(uint8_t family, const uint8_t *b, uint8_t *addr)
{
	memset(addr, 0, 16);
	if (family == 4) {
		memcpy(addr, b, 4);
	} else {
		addr[0] = 0x20;
		addr[1] = 0x01;
		addr[2] = 0x0d;
		addr[3] = 0xb8;
		memcpy(addr + 12, b, 4);
	}
}

/*
 * 16 bytes: slot (of 8: six members, none, a nameless one), flags (family,
 * kind, a listed server, verdict), address (4), packets (2), attempts (2),
 * destinations (4 hashes), first (seconds ago), length (seconds).
 */
static void
add_record(const uint8_t *b)
{
	struct gnn_source_record r = {0};
	const struct gnn_prefix *server = NULL;
	double first, last;

	r.slot = b[0] % 8 < N_MEMBERS ? b[0] % 8
				      : (b[0] % 8 == N_MEMBERS ? GNN_SLOT_NONE : SLOT_UNNAMED);
	r.family = (b[1] & 1) ? 6 : 4;
	r.kind = (b[1] & 2) ? GNN_RECORD_ACCEPTED : GNN_RECORD_SENT;
	r.verdict = (uint8_t)((b[1] >> 3) % 6); /* 5: not a verdict at all */
	make_addr(r.family, b + 2, r.src);
	r.packets = (uint32_t)(b[6] | b[7] << 8);
	r.attempts = (uint32_t)(b[8] | b[9] << 8);
	for (int i = 10; i < 14; i++)
		r.dst_sketch = gnn_hll_add(r.dst_sketch, (uint32_t)b[i] * 2654435761u);
	first = h.now - b[14];
	last = first + b[15];
	if ((b[1] & 4) && h.n_servers > 0) {
		const struct gnn_track_server *s = &h.servers[b[2] % h.n_servers];

		server = &s->prefix;
		r.slot = s->slot;
		r.server = 1;
	}
	if (r.kind == GNN_RECORD_SENT && r.slot != GNN_SLOT_NONE && r.packets > 0 &&
	    (r.verdict == GNN_VERDICT_BLOCKED || r.verdict == GNN_VERDICT_WOULD_BLOCK))
		h.fed_attempts += r.attempts;
	gnn_track_add(h.t, &r, first, last, server);
}

/* Under "new rules": verdict and member from the address's last bytes. */
static uint8_t
verdict_now(void *arg, uint8_t family, const uint8_t *addr, uint32_t *slot)
{
	const uint8_t *b = family == 4 ? addr : addr + 12;

	CHECK(arg == &h && (family == 4 || family == 6));
	*slot = b[3] % 7 < N_MEMBERS ? b[3] % 7 : GNN_SLOT_NONE;
	return (uint8_t)(b[2] % 5);
}

static void
verdict_changed(void *arg, uint32_t slot, uint8_t family, const uint8_t *addr, uint8_t old,
		uint8_t now)
{
	CHECK(arg == &h && addr != NULL && (family == 4 || family == 6));
	CHECK(slot != GNN_SLOT_NONE);
	CHECK(gnn_verdict_name(old) != NULL && gnn_verdict_name(now) != NULL);
}

/* Two servers a member, some of them left out by pick's bits. */
static void
set_servers(unsigned int pick)
{
	h.n_servers = 0;
	for (uint32_t i = 0; i < 2 * N_MEMBERS; i++) {
		struct gnn_track_server *s = &h.servers[h.n_servers];

		if ((pick >> (i % 8)) & 1)
			continue;
		memset(s, 0, sizeof(*s));
		s->slot = i / 2;
		s->prefix.family = i % 4 == 3 ? 6 : 4;
		s->prefix.len = s->prefix.family == 4 ? 32 : 128;
		if (s->prefix.family == 4) {
			s->prefix.addr[0] = 192;
			s->prefix.addr[2] = 2;
			s->prefix.addr[3] = (uint8_t)(i + 1);
		} else {
			s->prefix.addr[0] = 0x20;
			s->prefix.addr[1] = 0x01;
			s->prefix.addr[15] = (uint8_t)(i + 1);
		}
		h.n_servers++;
	}
	CHECK(gnn_track_set_servers(h.t, h.servers, h.n_servers, h.now) == 0);
}

/* ---- the script ---- */

static void
answer_oldest(void)
{
	struct pending p;

	if (h.n_deferred == 0)
		return;
	p = h.deferred[0];
	memmove(h.deferred, h.deferred + 1, sizeof(h.deferred[0]) * --h.n_deferred);
	gnn_api_answer(p.token, p.reply);
}

static void
close_conn(uint64_t conn)
{
	h.closed[conn] = true;
	/* The transport drops what was deferred for it, as sock.c does. */
	for (unsigned int i = 0; i < h.n_deferred;) {
		if (h.deferred[i].token == conn) {
			json_decref(h.deferred[i].reply);
			memmove(h.deferred + i, h.deferred + i + 1,
				sizeof(h.deferred[0]) * (--h.n_deferred - i));
		} else {
			i++;
		}
	}
}

static void
request(const char *line, size_t len, uint64_t conn)
{
	bool deferred = true;
	unsigned int before = h.n_deferred;
	char *text;
	json_t *reply, *e;

	if (h.closed[conn])
		h.closed[conn] = false; /* a new connection with the same number */
	text = gnn_api_dispatch(conn, line, len, &deferred);
	if (deferred) {
		CHECK(text == NULL && h.n_deferred == before + 1);
		CHECK(h.deferred[h.n_deferred - 1].token == conn);
		return;
	}
	CHECK(h.n_deferred == before);
	reply = check_line(text);
	e = json_object_get(reply, "error");
	if (e != NULL)
		CHECK(json_is_string(e) && printable(json_string_value(e)));
	json_decref(reply);
	free(text);
}

static bool
op(const char *line, size_t len, const char *name, unsigned int *digit)
{
	size_t n = strlen(name);

	if (len < n || memcmp(line, name, n) != 0)
		return false;
	*digit = len > n ? (unsigned int)(uint8_t)line[n] : 0;
	return true;
}

static void
setup(void)
{
	struct gnn_track_limits limits = {
		.max_sources = MAX_N_SOURCES,
		.max_accepts = MAX_N_ACCEPTS,
		.max_age = DAY,
	};

	memset(&h, 0, sizeof(h));
	h.now = BASE_TIME;
	h.t = gnn_track_create(&limits);
	CHECK(h.t != NULL);
	gnn_api_reset();
	gnn_api_set_transport(deliver);
	for (unsigned int i = 0; i < N_ELEM(commands); i++)
		CHECK(gnn_api_register(commands[i], handlers[i]) == 0);
	CHECK(gnn_api_register(&gnn_proto_cmd_top, handle_top) == -EEXIST);
	for (unsigned int i = 0; i < N_FILLERS; i++) {
		snprintf(filler_names[i], sizeof(filler_names[i]), "x%u", i);
		fillers[i] = (struct gnn_proto_command){filler_names[i], "filler", 0, NULL};
		CHECK(gnn_api_register(&fillers[i], handle_filler) == 0);
	}
	CHECK(gnn_api_register(&gnn_proto_cmd_top, handle_top) == -EEXIST);
	{
		static const struct gnn_proto_command one_more = {"one-more", "", 0, NULL};

		CHECK(gnn_api_register(&one_more, handle_filler) == -ENOSPC);
	}
	set_servers(0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	unsigned int line_no = 0, d;

	setup();
	while (p < end) {
		const char *nl;
		size_t len;

		if (end - p >= 2 + RECORD_BYTES && p[0] == '!' && p[1] == 'r') {
			add_record((const uint8_t *)p + 2);
			p += 2 + RECORD_BYTES;
			if (p < end && *p == '\n')
				p++;
			continue;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (op(p, len, "!age", &d)) {
			h.now += DAY + 1;
			gnn_track_age(h.t, h.now);
		} else if (op(p, len, "!tick", &d)) {
			h.now += 1;
			gnn_track_age(h.t, h.now);
		} else if (op(p, len, "!forget", &d)) {
			gnn_track_forget_slot(h.t, d % 8);
		} else if (op(p, len, "!reclassify", &d)) {
			gnn_track_reclassify(h.t, verdict_now, verdict_changed, &h);
		} else if (op(p, len, "!servers", &d)) {
			set_servers(d);
		} else if (op(p, len, "!answer", &d)) {
			answer_oldest();
		} else if (op(p, len, "!close", &d)) {
			close_conn(1 + d % N_CONNS);
		} else {
			request(p, len, 1 + line_no % N_CONNS);
		}
		line_no++;
		p += len + (nl != NULL);
	}
	while (h.n_deferred > 0)
		answer_oldest();
	gnn_track_destroy(h.t);
	gnn_api_reset();
	gnn_api_set_transport(NULL);
	return 0;
}
