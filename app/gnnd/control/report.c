/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Snapshots of the counters: the stats reply of the control socket (the
 * JSON contract of docs/design.md, field names in proto/gnn_fields.h), the
 * per-member rates the live view sorts by, and the summary printed at
 * exit. Control lcore only; DPDK telemetry (its own thread) asks the loop
 * through telemetry.c.
 */

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <rte_ethdev.h>

#include "acl/gnn_acl.h"
#include "common/gnn_clock.h"
#include "control/api.h"
#include "control/counters.h"
#include "control/ipfix.h"
#include "control/loop.h"
#include "control/ports.h"
#include "control/report.h"
#include "control/rules.h"
#include "control/slots.h"
#include "control/sources.h"
#include "gnnd.h"
#include "proto/gnn_fields.h"
#include "track/gnn_track.h"

#define RATE_MS 1000

/* Per-slot rates over the last RATE_MS, for sorting by activity. */
static struct {
	struct gnn_member_counters *prev; /* counts at the last sample */
	double *rate;			  /* [slot * GNN_MC_MAX + counter], packets/s */
	uint32_t n;
	double at;
} rates;

static void
sample_rates(void *arg)
{
	uint32_t n = gnn_slots_count();
	struct gnn_stats_total *t = gnn_counters_sum(n);
	double now = gnn_clock_mono(), dt = now - rates.at;

	RTE_SET_USED(arg);
	if (t == NULL)
		return;
	if (n > rates.n) {
		struct gnn_member_counters *p = realloc(rates.prev, sizeof(*p) * n);
		double *r = p != NULL ? realloc(rates.rate, sizeof(*r) * n * GNN_MC_MAX) : NULL;

		if (p != NULL)
			rates.prev = p;
		if (r == NULL) {
			gnn_counters_free(t);
			return;
		}
		rates.rate = r;
		/* New slots start from their current counts: no rate until the next sample. */
		memcpy(rates.prev + rates.n, t->member + rates.n, sizeof(*p) * (n - rates.n));
		memset(rates.rate + (size_t)rates.n * GNN_MC_MAX, 0,
		       sizeof(*r) * (n - rates.n) * GNN_MC_MAX);
		rates.n = n;
	}
	for (uint32_t s = 0; s < n; s++) {
		for (int c = 0; c < GNN_MC_MAX; c++) {
			uint64_t d = t->member[s].c[c] - rates.prev[s].c[c];

			rates.rate[(size_t)s * GNN_MC_MAX + c] = dt > 0 ? (double)d / dt : 0;
		}
		rates.prev[s] = t->member[s];
	}
	rates.at = now;
	gnn_counters_free(t);
}

static double
slot_rate(uint32_t slot, enum gnn_member_counter c)
{
	return slot < rates.n ? rates.rate[(size_t)slot * GNN_MC_MAX + c] : 0;
}

static json_t *
port_json(const struct gnn_port *port, const struct gnn_stats_total *t)
{
	struct rte_eth_stats es = {0};
	uint16_t id = port->port_id;

	rte_eth_stats_get(id, &es);
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:b}", GNN_F_NAME, port->name,
			 GNN_F_ROLE, port->inside ? "inside" : "outside", GNN_F_RX_PACKETS,
			 (json_int_t)t->port_rx[id], GNN_F_TX_PACKETS, (json_int_t)t->port_tx[id],
			 GNN_F_RX_MISSED, (json_int_t)es.imissed, GNN_F_TX_DROPPED,
			 (json_int_t)t->port_tx_dropped[id], GNN_F_RX_NOMBUF,
			 (json_int_t)es.rx_nombuf, GNN_F_LINK_UP, gnn_port_link_state(id) > 0);
}

static json_t *
member_json(const struct gnn_ruleset *rs, uint32_t m, const struct gnn_stats_total *t,
	    bool with_rates)
{
	const struct gnn_member *pm = &rs->policy->members[m];
	uint32_t slot = rs->members[m].slot;
	uint64_t c[GNN_MC_MAX];
	json_t *o;

	gnn_slots_counters(t, slot, c);
	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", GNN_F_NAME, pm->name, GNN_F_MODE,
		      gnn_mode_name(pm->mode), GNN_F_ACTION,
		      pm->action == GNN_ACTION_REJECT ? "reject" : "drop", GNN_F_ALLOWED,
		      (json_int_t)c[GNN_MC_ALLOWED], GNN_F_BLOCKED, (json_int_t)c[GNN_MC_BLOCKED],
		      GNN_F_WOULD_BLOCK, (json_int_t)c[GNN_MC_WOULD_BLOCK]);
	if (o != NULL && with_rates) {
		json_object_set_new(o, GNN_F_ALLOWED_RATE,
				    json_real(slot_rate(slot, GNN_MC_ALLOWED)));
		json_object_set_new(o, GNN_F_BLOCKED_RATE,
				    json_real(slot_rate(slot, GNN_MC_BLOCKED)));
		json_object_set_new(o, GNN_F_WOULD_BLOCK_RATE,
				    json_real(slot_rate(slot, GNN_MC_WOULD_BLOCK)));
	}
	return o;
}

/* How a stats request narrows the member list. */
struct member_query {
	const char *match; /* "" all; else a name, or an fnmatch(3) pattern */
	uint64_t offset;
	uint64_t limit; /* 0: no limit */
	bool by_activity;
	bool rates; /* each member's rates over the last second */
};

static const struct gnn_ruleset *sort_rs;

static double
activity(uint32_t m)
{
	uint32_t slot = sort_rs->members[m].slot;

	return slot_rate(slot, GNN_MC_BLOCKED) + slot_rate(slot, GNN_MC_WOULD_BLOCK);
}

static int
busier_first(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	double ax = activity(x), ay = activity(y);

	if (ax != ay)
		return ax < ay ? 1 : -1;
	return x < y ? -1 : (x > y ? 1 : 0);
}

static json_t *
members_json(const struct gnn_ruleset *rs, const struct gnn_stats_total *t,
	     const struct member_query *q, uint64_t *matched)
{
	json_t *members = json_array();
	uint32_t *order = malloc(sizeof(*order) * RTE_MAX(rs->n_members, 1u));
	uint32_t n = 0;

	*matched = 0;
	if (members == NULL || order == NULL) {
		free(order);
		json_decref(members);
		return NULL;
	}
	for (uint32_t m = 0; m < rs->n_members; m++) {
		const char *name = rs->policy->members[m].name;

		if (q->match[0] != '\0' && strcmp(q->match, name) != 0 &&
		    fnmatch(q->match, name, 0) != 0)
			continue;
		order[n++] = m;
	}
	*matched = n;
	if (q->by_activity) {
		sort_rs = rs;
		qsort(order, n, sizeof(*order), busier_first);
	}
	for (uint64_t i = q->offset; i < n && (q->limit == 0 || i < q->offset + q->limit); i++)
		json_array_append_new(members, member_json(rs, order[i], t, q->rates));
	free(order);
	return members;
}

static json_t *
totals_json(const struct gnn_stats_total *t)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", GNN_F_RX_PACKETS,
			 (json_int_t)t->rx_packets, GNN_F_FORWARDED, (json_int_t)t->forwarded,
			 GNN_F_BLOCKED, (json_int_t)t->blocked, GNN_F_WOULD_BLOCK,
			 (json_int_t)t->would_block, GNN_F_ALLOWED, (json_int_t)t->allowed,
			 GNN_F_MALFORMED_DROPPED, (json_int_t)t->malformed_total,
			 GNN_F_MALFORMED_FORWARDED, (json_int_t)t->malformed_forwarded,
			 GNN_F_TX_DROPPED, (json_int_t)t->tx_dropped,
			 /* source records the tables never saw (ring full) */
			 GNN_F_TOP_EVENTS_LOST, (json_int_t)t->records_lost);
}

/* Counters that say how the workers and the source tables keep up. */
static json_t *
datapath_json(const struct gnn_stats_total *t, const struct gnn_ruleset *rs)
{
	struct gnn_track_counts tc;
	uint64_t stale;
	json_t *dp;

	gnn_sources_stats(&tc, &stale);
	dp = json_pack(
		"{s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		GNN_F_RECORDS_LOST, (json_int_t)t->records_lost, GNN_F_SIGHTINGS_LOST,
		(json_int_t)t->sightings_lost, GNN_F_REJECTS_SENT, (json_int_t)t->rejects_sent,
		GNN_F_REJECTS_LIMITED, (json_int_t)t->rejects_limited, GNN_F_CACHE_HITS,
		(json_int_t)t->cache_hits, GNN_F_CACHE_MISSES, (json_int_t)t->cache_misses,
		GNN_F_CLASSIFY_ALG, rs->classify_alg != NULL ? rs->classify_alg : "default",
		GNN_F_SOURCES_TRACKED, (json_int_t)tc.sources, GNN_F_ACCEPTS_TRACKED,
		(json_int_t)tc.accepts, GNN_F_SERVERS_TRACKED, (json_int_t)tc.servers,
		GNN_F_EVICTED, (json_int_t)tc.evicted, GNN_F_AGED, (json_int_t)tc.aged,
		GNN_F_STALE_RECORDS, (json_int_t)stale, GNN_F_WORKERS, (json_int_t)gnnd.n_workers);
	gnn_ipfix_stats_json(dp);
	return dp;
}

/* Each worker's own share: who polls what, and that every one forwards. */
static json_t *
workers_json(void)
{
	json_t *list = json_array();

	for (unsigned int i = 0; i < gnnd.n_workers; i++) {
		const struct gnn_worker *w = gnnd.workers[i];
		uint64_t rx = 0, tx = 0;

		for (unsigned int p = 0; p < GNN_STATS_MAX_PORTS; p++) {
			rx += __atomic_load_n(&w->stats.port_rx[p], __ATOMIC_RELAXED);
			tx += __atomic_load_n(&w->stats.port_tx[p], __ATOMIC_RELAXED);
		}
		json_array_append_new(list,
				      json_pack("{s:I, s:I, s:I, s:I}", GNN_F_LCORE,
						(json_int_t)w->lcore_id, GNN_F_QUEUES,
						(json_int_t)w->n_units, GNN_F_RX_PACKETS,
						(json_int_t)rx, GNN_F_TX_PACKETS, (json_int_t)tx));
	}
	return list;
}

#ifdef GNN_STAGE_CYCLES
/* The benchmark build's cycles per stage, summed over the workers. */
static json_t *
stage_cycles_json(void)
{
	uint64_t sum[GNN_STAGE_MAX] = {0}, classify = 0, packets = 0, bursts = 0;
	json_t *o;

	for (unsigned int i = 0; i < gnnd.n_workers; i++) {
		const struct gnn_worker *w = gnnd.workers[i];

		for (int s = 0; s < GNN_STAGE_MAX; s++)
			sum[s] += __atomic_load_n(&w->stage.cycles[s], __ATOMIC_RELAXED);
		classify += __atomic_load_n(&w->judge.classify_cycles, __ATOMIC_RELAXED);
		packets += __atomic_load_n(&w->stage.packets, __ATOMIC_RELAXED);
		bursts += __atomic_load_n(&w->stage.bursts, __ATOMIC_RELAXED);
	}
	/* The judge stage's rte_acl calls are timed apart: classify. */
	sum[GNN_STAGE_JUDGE] -= RTE_MIN(classify, sum[GNN_STAGE_JUDGE]);
	o = json_object();
	json_object_set_new(o, GNN_F_STAGE_RX, json_integer((json_int_t)sum[GNN_STAGE_RX]));
	json_object_set_new(o, GNN_F_STAGE_PARSE, json_integer((json_int_t)sum[GNN_STAGE_PARSE]));
	json_object_set_new(o, GNN_F_STAGE_CLASSIFY, json_integer((json_int_t)classify));
	json_object_set_new(o, GNN_F_STAGE_JUDGE, json_integer((json_int_t)sum[GNN_STAGE_JUDGE]));
	json_object_set_new(o, GNN_F_STAGE_ACT, json_integer((json_int_t)sum[GNN_STAGE_ACT]));
	json_object_set_new(o, GNN_F_STAGE_TX, json_integer((json_int_t)sum[GNN_STAGE_TX]));
	json_object_set_new(o, GNN_F_STAGE_PKTS, json_integer((json_int_t)packets));
	json_object_set_new(o, GNN_F_STAGE_BURSTS, json_integer((json_int_t)bursts));
	json_object_set_new(o, GNN_F_STAGE_TSC_HZ, json_integer((json_int_t)rte_get_tsc_hz()));
	return o;
}
#endif

static json_t *
rules_json(const struct gnn_ruleset *rs, const struct gnn_rules_state *st)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:f}", GNN_F_MEMBERS_TOTAL,
			 (json_int_t)rs->n_members, GNN_F_SERVERS, (json_int_t)rs->n_servers,
			 GNN_F_RULES4, (json_int_t)rs->n_rules4, GNN_F_RULES6,
			 (json_int_t)rs->n_rules6, GNN_F_ACL_MEMORY, (json_int_t)rs->acl_memory,
			 GNN_F_BUILD_SECONDS, st->last_build_s);
}

json_t *
gnn_report_stats(const struct gnn_request *req)
{
	const struct gnn_ruleset *rs = gnn_rules_active();
	struct member_query q = {.match = ""};
	struct gnn_rules_state st;
	struct gnn_stats_total *t;
	json_t *root, *ports, *malformed, *members;
	uint64_t matched;

	if (rs == NULL)
		return json_pack("{s:s}", "error", "gnnd is stopping");
	if (req != NULL) {
		q.match = gnn_request_string(req, "member", "");
		q.offset = gnn_request_uint(req, "offset", 0);
		q.limit = gnn_request_uint(req, "limit", 0);
		q.by_activity = strcmp(gnn_request_string(req, "sort", ""), "activity") == 0;
		q.rates = gnn_request_bool(req, "rates", q.by_activity);
	}
	gnn_sources_drain();
	t = gnn_counters_sum(gnn_slots_count());
	if (t == NULL)
		return NULL;
	gnn_rules_state(&st);
	ports = json_array();
	for (unsigned int p = 0; p < gnnd.n_ports; p++)
		json_array_append_new(ports, port_json(&gnnd.ports[p], t));
	malformed = json_object();
	for (int r = GNN_MALFORMED_NONE + 1; r < GNN_MALFORMED_MAX; r++)
		json_object_set_new(malformed, gnn_parse_reason_name(r),
				    json_integer((json_int_t)t->malformed_dropped[r]));
	members = members_json(rs, t, &q, &matched);
	root = json_pack(
		"{s:i, s:I, s:I, s:I, s:s?, s:o, s:f, s:f, s:b, s:I, s:o, s:o, "
		"s:o, s:o, s:o, s:I}",
		GNN_F_API_VERSION, GNN_API_VERSION, GNN_F_GENERATION, (json_int_t)st.generation,
		GNN_F_RELOADS, (json_int_t)st.reloads, GNN_F_RELOAD_FAILURES,
		(json_int_t)st.failures, GNN_F_LAST_ERROR, st.last_error, GNN_F_LAST_RELOAD,
		st.last_reload > 0 ? json_real(st.last_reload) : json_null(), GNN_F_STARTED,
		st.started, GNN_F_TIME, gnn_clock_wall(), GNN_F_RELOAD_IN_PROGRESS, st.busy,
		GNN_F_MBUFS_IN_USE, (json_int_t)gnn_ports_mbufs_in_use(), GNN_F_PORTS, ports,
		GNN_F_TOTALS, totals_json(t), GNN_F_MALFORMED, malformed, GNN_F_MEMBERS, members,
		GNN_F_DATAPATH, datapath_json(t, rs), GNN_F_MEMBERS_MATCHED, (json_int_t)matched);
	if (root != NULL) {
		json_object_set_new(root, GNN_F_RULES, rules_json(rs, &st));
		json_object_set_new(json_object_get(root, GNN_F_DATAPATH), GNN_F_PER_WORKER,
				    workers_json());
#ifdef GNN_STAGE_CYCLES
		json_object_set_new(json_object_get(root, GNN_F_DATAPATH), GNN_F_STAGE_CYCLES,
				    stage_cycles_json());
#endif
	}
	gnn_counters_free(t);
	return root;
}

static json_t *
handle_stats(const struct gnn_request *req, struct gnn_api_ctx *ctx)
{
	RTE_SET_USED(ctx);
	return gnn_report_stats(req);
}

void
gnn_report_print_summary(void)
{
	json_t *s = gnn_report_stats(NULL);
	json_t *v, *totals;
	size_t i;

	if (s == NULL || json_object_get(s, GNN_F_TOTALS) == NULL) {
		json_decref(s);
		return;
	}
	totals = json_object_get(s, GNN_F_TOTALS);
	printf("gnnd: final statistics (generation %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT
	       " reloads, %" JSON_INTEGER_FORMAT " failed)\n",
	       json_integer_value(json_object_get(s, GNN_F_GENERATION)),
	       json_integer_value(json_object_get(s, GNN_F_RELOADS)),
	       json_integer_value(json_object_get(s, GNN_F_RELOAD_FAILURES)));
	json_array_foreach(json_object_get(s, GNN_F_PORTS), i, v)
	{
		printf("  port %-20s %-7s rx %" JSON_INTEGER_FORMAT " tx %" JSON_INTEGER_FORMAT
		       " missed %" JSON_INTEGER_FORMAT " tx_dropped %" JSON_INTEGER_FORMAT "\n",
		       json_string_value(json_object_get(v, GNN_F_NAME)),
		       json_string_value(json_object_get(v, GNN_F_ROLE)),
		       json_integer_value(json_object_get(v, GNN_F_RX_PACKETS)),
		       json_integer_value(json_object_get(v, GNN_F_TX_PACKETS)),
		       json_integer_value(json_object_get(v, GNN_F_RX_MISSED)),
		       json_integer_value(json_object_get(v, GNN_F_TX_DROPPED)));
	}
	printf("  total rx %" JSON_INTEGER_FORMAT " forwarded %" JSON_INTEGER_FORMAT
	       " blocked %" JSON_INTEGER_FORMAT " would_block %" JSON_INTEGER_FORMAT
	       " allowed %" JSON_INTEGER_FORMAT " malformed_dropped %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(totals, GNN_F_RX_PACKETS)),
	       json_integer_value(json_object_get(totals, GNN_F_FORWARDED)),
	       json_integer_value(json_object_get(totals, GNN_F_BLOCKED)),
	       json_integer_value(json_object_get(totals, GNN_F_WOULD_BLOCK)),
	       json_integer_value(json_object_get(totals, GNN_F_ALLOWED)),
	       json_integer_value(json_object_get(totals, GNN_F_MALFORMED_DROPPED)));
	json_array_foreach(json_object_get(s, GNN_F_MEMBERS), i, v)
	{
		/* A summary, not a dump: the busiest members, counted, when there are many. */
		if (i == 100) {
			printf("  ... %zu more members (gnnstat --json has them all)\n",
			       json_array_size(json_object_get(s, GNN_F_MEMBERS)) - i);
			break;
		}
		printf("  member %-24s %-8s allowed %" JSON_INTEGER_FORMAT
		       " blocked %" JSON_INTEGER_FORMAT " would_block %" JSON_INTEGER_FORMAT "\n",
		       json_string_value(json_object_get(v, GNN_F_NAME)),
		       json_string_value(json_object_get(v, GNN_F_MODE)),
		       json_integer_value(json_object_get(v, GNN_F_ALLOWED)),
		       json_integer_value(json_object_get(v, GNN_F_BLOCKED)),
		       json_integer_value(json_object_get(v, GNN_F_WOULD_BLOCK)));
	}
	fflush(stdout);
	json_decref(s);
}

int
gnn_report_init(void)
{
	int rc;

	rates.at = gnn_clock_mono();
	rc = gnn_loop_add_timer(RATE_MS, sample_rates, NULL);
	if (rc == 0)
		rc = gnn_api_register(&gnn_proto_cmd_stats, handle_stats);
	return rc;
}

void
gnn_report_fini(void)
{
	free(rates.prev);
	free(rates.rate);
	memset(&rates, 0, sizeof(rates));
}
