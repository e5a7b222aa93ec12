/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The analysis (see audit.h): the judge of lib/judge sends its source
 * records over an rte_ring, as a worker's does; they are drained after each
 * burst into the tables of lib/track, as gnnd's control lcore drains them
 * (app/gnnd/control/sources.c). The member "slot" is the member's index.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_memory.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "audit.h"
#include "track/gnn_track.h"

/* Records of one burst are at most 2 * GNN_JUDGE_MAX_BURST: drained after each. */
#define RECORD_RING_SIZE 4096
/* Source cache of the capture judge (a worker's is 4096 too). */
#define CAPTURE_CACHE 4096
/* Flows are judged one at a time and flushed: two ways are enough. */
#define FLOW_CACHE GNN_JUDGE_WAYS
/* A pending cache entry is sent after a second of capture time. */
#define FLUSH_NS    GNNAUDIT_NS
#define DRAIN_BURST 256
/* The tables: far more than gnnd keeps, for a long capture of a large member. */
#define MAX_SOURCES (1u << 20)
#define MAX_ACCEPTS (1u << 18)
/* Error messages shown and kept; the rest are counted. */
#define MAX_ERRORS 100

const char *
audit_slot_name(void *arg, uint32_t slot)
{
	const struct gnn_ruleset *rs = arg;

	if (slot >= rs->policy->n_members)
		return "?";
	return rs->policy->members[slot].name;
}

static const struct gnn_prefix *
server_of(const struct audit *a, const struct gnn_source_record *r)
{
	if (r->server == 0 || r->server > a->rs->n_servers)
		return NULL;
	return &a->servers[r->server - 1].prefix;
}

static void
add_record(struct audit *a, const struct gnn_source_record *r)
{
	gnn_track_add(a->track, r, (double)r->first / 1e9, (double)r->last / 1e9, server_of(a, r));
}

static void
drain(struct audit *a)
{
	struct gnn_source_record recs[DRAIN_BURST];
	unsigned int n;

	do {
		n = rte_ring_sc_dequeue_burst_elem(a->records, recs, sizeof(recs[0]), DRAIN_BURST,
						   NULL);
		for (unsigned int i = 0; i < n; i++)
			add_record(a, &recs[i]);
	} while (n == DRAIN_BURST);
}

void
audit_saw_time(struct audit *a, uint64_t ns)
{
	if (a->first_ns == 0 || ns < a->first_ns)
		a->first_ns = ns;
	if (ns > a->last_ns)
		a->last_ns = ns;
}

void
audit_judge(struct audit *a, const struct gnn_frame_info *info, uint32_t n, uint64_t now_ns)
{
	uint8_t verdicts[GNN_JUDGE_MAX_BURST];

	gnn_judge_burst(&a->judge, a->rs, info, n, now_ns, verdicts);
	gnn_judge_tick(&a->judge, now_ns);
	drain(a);
}

void
audit_judge_flow(struct audit *a, const struct gnn_frame_info *f, uint32_t packets,
		 uint64_t first_ns, uint64_t last_ns)
{
	struct gnn_source_record recs[2 * GNN_JUDGE_MAX_BURST];
	uint8_t verdict;
	unsigned int n;

	/*
	 * Every entry of the cache was sent after the previous flow, so what
	 * comes out now is this flow's record alone (none when its source is
	 * in no member, or its member's mode is off).
	 */
	gnn_judge_burst(&a->judge, a->rs, f, 1, first_ns, &verdict);
	gnn_judge_flush_all(&a->judge);
	n = rte_ring_sc_dequeue_burst_elem(a->records, recs, sizeof(recs[0]), RTE_DIM(recs), NULL);
	for (unsigned int i = 0; i < n; i++) {
		struct gnn_source_record *r = &recs[i];

		r->first = first_ns;
		if (r->kind == GNN_RECORD_SENT) {
			r->packets = packets;
			r->last = last_ns > first_ns ? last_ns : first_ns;
		} else {
			/* The SYN-ACK, at the start of the flow. */
			r->packets = 1;
			r->last = first_ns;
		}
		add_record(a, r);
	}
}

void
audit_finish(struct audit *a)
{
	for (int round = 0; round < 64; round++) {
		uint32_t left = gnn_judge_flush_all(&a->judge);

		drain(a);
		if (left == 0)
			break;
	}
}

struct audit_input *
audit_add_input(struct audit *a, const char *name, const char *format)
{
	struct audit_input *grown = realloc(a->inputs, sizeof(*grown) * (a->n_inputs + 1));
	struct audit_input *in;

	if (grown == NULL) {
		fprintf(stderr, "gnnaudit: out of memory\n");
		exit(1);
	}
	a->inputs = grown;
	in = &a->inputs[a->n_inputs++];
	memset(in, 0, sizeof(*in));
	in->name = name;
	in->format = format;
	return in;
}

void
audit_input_error(struct audit *a, struct audit_input *in, const char *fmt, ...)
{
	va_list ap;
	char *text = NULL, **grown;

	a->incomplete = true;
	if (a->n_errors >= MAX_ERRORS) {
		if (a->errors_left_out++ == 0)
			fprintf(stderr,
				"gnnaudit: more errors follow; they are counted, not shown\n");
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	grown = realloc(a->errors, sizeof(*grown) * (a->n_errors + 1));
	if (text == NULL || grown == NULL) {
		fprintf(stderr, "gnnaudit: out of memory\n");
		exit(1);
	}
	fprintf(stderr, "%s\n", text);
	a->errors = grown;
	a->errors[a->n_errors++] = text;
	if (in != NULL && in->error == NULL)
		in->error = text;
}

/* The mail_servers entries in the order records number them. */
static int
map_servers(struct audit *a)
{
	const struct gnn_ruleset *rs = a->rs;

	a->servers = calloc(rs->n_servers ? rs->n_servers : 1, sizeof(*a->servers));
	if (a->servers == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < rs->n_servers; i++) {
		const struct gnn_ruleset_server *s = &rs->servers[i];

		a->servers[i].slot = s->member;
		a->servers[i].prefix = rs->policy->members[s->member].mail_servers[s->index];
	}
	return gnn_track_set_servers(a->track, a->servers, rs->n_servers, 0.0);
}

int
audit_init(struct audit *a, struct gnn_policy *policy, bool flows)
{
	struct gnn_track_limits limits = {
		.max_sources = MAX_SOURCES,
		.max_accepts = MAX_ACCEPTS,
		.max_age = 1e30, /* nothing is aged: the capture is the window */
	};
	struct gnn_judge_config cfg = {
		.cache_entries = flows ? FLOW_CACHE : CAPTURE_CACHE,
		.flush_ticks = FLUSH_NS,
		.verdict_cache = true,
	};
	unsigned int n = policy->n_members;
	uint32_t *slots;
	char err[256];

	memset(a, 0, sizeof(*a));
	a->flows = flows;
	slots = calloc(n ? n : 1, sizeof(*slots));
	a->file_mode = calloc(n ? n : 1, sizeof(*a->file_mode));
	a->stats.member = calloc(n ? n : 1, sizeof(*a->stats.member));
	if (slots == NULL || a->file_mode == NULL || a->stats.member == NULL) {
		fprintf(stderr, "gnnaudit: out of memory\n");
		free(slots);
		gnn_policy_free(policy);
		return -1;
	}
	a->stats.n_member_slots = n;
	for (unsigned int i = 0; i < n; i++) {
		slots[i] = i;
		a->file_mode[i] = (uint8_t)policy->members[i].mode;
		/* The analysis is what enforce would do: off is judged as monitor. */
		if (policy->members[i].mode == GNN_MODE_OFF)
			policy->members[i].mode = GNN_MODE_MONITOR;
	}
	a->rs = gnn_ruleset_build(policy, slots, 1, SOCKET_ID_ANY, err, sizeof(err));
	free(slots);
	if (a->rs == NULL) {
		fprintf(stderr, "%s: cannot build the rules: %s\n", policy->path, err);
		gnn_policy_free(policy);
		return -1;
	}
	a->records = rte_ring_create_elem("gnnaudit_rec", sizeof(struct gnn_source_record),
					  RECORD_RING_SIZE, SOCKET_ID_ANY,
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (a->records == NULL) {
		fprintf(stderr, "gnnaudit: cannot create the record ring: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	if (gnn_judge_init(&a->judge, &cfg, &a->stats, a->records, NULL, SOCKET_ID_ANY) != 0) {
		fprintf(stderr, "gnnaudit: cannot set up the judge: out of memory\n");
		return -1;
	}
	a->judge_ready = true;
	a->track = gnn_track_create(&limits);
	if (a->track == NULL || map_servers(a) != 0) {
		fprintf(stderr, "gnnaudit: out of memory for the tables\n");
		return -1;
	}
	return 0;
}

void
audit_fini(struct audit *a)
{
	if (a->judge_ready)
		gnn_judge_fini(&a->judge);
	rte_ring_free(a->records);
	gnn_track_destroy(a->track);
	gnn_ruleset_free(a->rs);
	for (unsigned int i = 0; i < a->n_errors; i++)
		free(a->errors[i]);
	free(a->errors);
	free(a->inputs);
	free(a->servers);
	free(a->stats.member);
	free(a->file_mode);
	memset(a, 0, sizeof(*a));
}
