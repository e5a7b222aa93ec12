/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The operator's lifecycle, live: the workers' source records and
 * sightings are drained from their rings into the tables of lib/track, and
 * the commands top, servers, suggest and diff are answered from them.
 * After a reload every tracked source is judged again under the new rules,
 * so `top` shows a source's current verdict, not the history of the old
 * one. A source newly blocked (or would-be blocked) is logged once per
 * source and window, at most LOG_PER_SECOND times a second overall, with
 * the count of what was left out. Control lcore only.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <rte_cycles.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "acl/gnn_acl.h"
#include "common/gnn_clock.h"
#include "control/api.h"
#include "control/loop.h"
#include "control/rules.h"
#include "control/slots.h"
#include "control/sources.h"
#include "gnnd.h"
#include "track/gnn_track.h"

RTE_LOG_REGISTER(gnn_logtype_sources, gnn.sources, INFO);
#define GNN_LOGTYPE gnn_logtype_sources

#define DRAIN_MS       50
#define AGE_MS	       10000
#define DRAIN_BURST    256
#define LOG_PER_SECOND 5
#define LOG_WINDOW     3600.0 /* a source is logged again after this long */
#define MAX_SOURCES    65536
#define MAX_ACCEPTS    16384
#define MAX_AGE	       86400.0 /* a day without a record and a source is forgotten */

/* The mail_servers entries of one generation, by the index records carry. */
struct server_map {
	uint32_t generation;
	uint32_t n;
	struct gnn_track_server *servers;
};

static struct {
	struct gnn_track *t;
	struct server_map cur, prev;
	uint64_t stale_records; /* from a generation too old to name its server */
	/* the log's rate limit */
	int64_t log_second;
	unsigned int logged;
	uint64_t suppressed;
	/* TSC to wall clock */
	double tsc_hz;
} trk;

/* ---- log ---- */

/*
 * Once the second is over, say how many events it left out: from the drain
 * timer too, so the count of a burst's last second does not wait for the
 * next event (which may be hours away).
 */
static void
log_flush(int64_t sec)
{
	if (sec != trk.log_second && trk.suppressed > 0) {
		GNN_LOG(INFO, "%" PRIu64 " more source events not logged", trk.suppressed);
		trk.suppressed = 0;
	}
}

static bool
log_allowed(void)
{
	int64_t sec = gnn_clock_mono_ms() / 1000;

	log_flush(sec);
	if (sec != trk.log_second) {
		trk.log_second = sec;
		trk.logged = 0;
	}
	if (trk.logged++ < LOG_PER_SECOND)
		return true;
	trk.suppressed++;
	return false;
}

static const char *
addr_text(uint8_t family, const uint8_t *addr, char *buf, size_t size)
{
	return inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)size);
}

static void
log_sighting(const struct gnn_sighting *s)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];

	if (s->slot == GNN_SLOT_NONE || s->generation < (uint32_t)gnn_slots_since(s->slot))
		return;
	if (!gnn_track_log_due(trk.t, s->slot, s->family, s->src, s->verdict, gnn_clock_wall(),
			       LOG_WINDOW) ||
	    !log_allowed())
		return;
	GNN_LOG(INFO, "%s SMTP from %s to %s port %u (member %s)",
		s->verdict == GNN_VERDICT_BLOCKED ? "blocking" : "would block",
		addr_text(s->family, s->src, src, sizeof(src)),
		addr_text(s->family, s->dst, dst, sizeof(dst)), s->dport, gnn_slots_name(s->slot));
}

/* ---- draining ---- */

static const struct gnn_prefix *
server_of(const struct gnn_source_record *r)
{
	const struct server_map *m = r->generation == trk.cur.generation    ? &trk.cur
				     : r->generation == trk.prev.generation ? &trk.prev
									    : NULL;

	if (r->server == 0)
		return NULL;
	if (m == NULL || r->server > m->n) {
		trk.stale_records++;
		return NULL;
	}
	return &m->servers[r->server - 1].prefix;
}

static void
add_record(const struct gnn_source_record *r, uint64_t tsc_now, double wall_now)
{
	double first = wall_now - (double)(tsc_now - r->first) / trk.tsc_hz;
	double last = wall_now - (double)(tsc_now - r->last) / trk.tsc_hz;

	/* Judged while its slot still served an earlier member's name. */
	if (r->slot != GNN_SLOT_NONE && r->generation < (uint32_t)gnn_slots_since(r->slot))
		return;
	gnn_track_add(trk.t, r, first, last, server_of(r));
}

static void
drain(void *arg)
{
	struct gnn_source_record recs[DRAIN_BURST];
	struct gnn_sighting sights[64];
	uint64_t tsc_now = rte_rdtsc();
	double wall_now = gnn_clock_wall();

	RTE_SET_USED(arg);
	log_flush(gnn_clock_mono_ms() / 1000);
	/*
	 * Sightings first, of every worker: a source's first sighting is
	 * logged before its first record enters the table, which marks it
	 * logged (gnn_track_log_due), so it is logged once, not again when a
	 * worker meets it anew.
	 */
	for (unsigned int w = 0; w < gnnd.n_workers; w++) {
		struct gnn_judge *j = &gnnd.workers[w]->judge;
		unsigned int n;
		/* At most what the ring held on entry: a worker that keeps it full
		 * (a flood of new sources) must not keep the loop from its other work. */
		unsigned int left = rte_ring_count(j->sightings);

		while (left > 0) {
			n = rte_ring_sc_dequeue_burst_elem(j->sightings, sights, sizeof(sights[0]),
							   RTE_MIN(left, RTE_DIM(sights)), NULL);
			for (unsigned int i = 0; i < n; i++)
				log_sighting(&sights[i]);
			left = n == 0 ? 0 : left - n;
		}
	}
	for (unsigned int w = 0; w < gnnd.n_workers; w++) {
		struct gnn_judge *j = &gnnd.workers[w]->judge;
		unsigned int n, left = rte_ring_count(j->records);

		while (left > 0) {
			n = rte_ring_sc_dequeue_burst_elem(j->records, recs, sizeof(recs[0]),
							   RTE_MIN(left, (unsigned int)DRAIN_BURST),
							   NULL);
			for (unsigned int i = 0; i < n; i++)
				add_record(&recs[i], tsc_now, wall_now);
			left = n == 0 ? 0 : left - n;
		}
	}
}

#define SYNC_WAIT_MS 100

/*
 * Ask every running worker to send what its source cache holds, wait
 * (briefly: a worker answers within one poll loop) and drain, so a reply
 * shows the traffic up to now. A stalled worker is not waited for.
 */
static void
sync_workers(void)
{
	uint64_t want[RTE_MAX_LCORE];
	int64_t deadline = gnn_clock_mono_ms() + SYNC_WAIT_MS;
	bool waiting;

	for (unsigned int w = 0; w < gnnd.n_workers; w++) {
		struct gnn_worker *wk = gnnd.workers[w];

		want[w] = wk->flush_req + 1;
		if (__atomic_load_n(&wk->running, __ATOMIC_ACQUIRE))
			__atomic_store_n(&wk->flush_req, want[w], __ATOMIC_RELEASE);
	}
	do {
		drain(NULL);
		waiting = false;
		for (unsigned int w = 0; w < gnnd.n_workers; w++) {
			struct gnn_worker *wk = gnnd.workers[w];

			waiting |= __atomic_load_n(&wk->running, __ATOMIC_ACQUIRE) &&
				   __atomic_load_n(&wk->flush_done, __ATOMIC_ACQUIRE) < want[w];
		}
	} while (waiting && gnn_clock_mono_ms() < deadline);
	drain(NULL);
}

void
gnn_sources_drain(void)
{
	drain(NULL);
}

void
gnn_sources_flush_workers(void)
{
	/* The workers have stopped: their pending entries are sent from here. */
	for (int round = 0; round < 64; round++) {
		uint32_t left = 0;

		for (unsigned int w = 0; w < gnnd.n_workers; w++)
			left += gnn_judge_flush_all(&gnnd.workers[w]->judge);
		drain(NULL);
		if (left == 0)
			break;
	}
}

static void
age(void *arg)
{
	RTE_SET_USED(arg);
	gnn_track_age(trk.t, gnn_clock_wall());
}

/* ---- judging an address as the workers would ---- */

static uint16_t
probe_port(const struct gnn_ruleset *rs)
{
	const struct gnn_policy *p = rs->policy;

	for (unsigned int i = 0; i < p->n_blocked_ports; i++)
		if (p->blocked_ports[i] == 25)
			return 25;
	return p->n_blocked_ports > 0 ? p->blocked_ports[0] : 25;
}

/* What a candidate from addr gets under rs; *member is the policy index or -1. */
static uint8_t
judge_address(const struct gnn_ruleset *rs, uint8_t family, const uint8_t *addr, int *member)
{
	struct gnn_frame_info f = {
		.kind = GNN_PARSE_TCP,
		.family = family,
		.l4_proto = 6,
		.dport = probe_port(rs),
		.tcp_flags = GNN_TCP_SYN,
	};
	const uint8_t *data = (const uint8_t *)&f;
	uint32_t result = 0;

	memcpy(f.src, addr, family == 4 ? 4 : 16);
	gnn_ruleset_lookup(rs, family, &data, &result, 1);
	return (uint8_t)gnn_ruleset_decide(rs, &f, result, member);
}

static uint8_t
verdict_now(void *arg, uint8_t family, const uint8_t *addr, uint32_t *slot)
{
	const struct gnn_ruleset *rs = arg;
	int member;
	uint8_t v = judge_address(rs, family, addr, &member);

	*slot = member >= 0 ? rs->members[member].slot : GNN_SLOT_NONE;
	return v;
}

static void
verdict_changed(void *arg, uint32_t slot, uint8_t family, const uint8_t *addr, uint8_t old,
		uint8_t now)
{
	char buf[INET6_ADDRSTRLEN];

	RTE_SET_USED(arg);
	if (!log_allowed())
		return;
	GNN_LOG(INFO, "%s (member %s): %s -> %s under the new rules",
		addr_text(family, addr, buf, sizeof(buf)), gnn_slots_name(slot),
		gnn_verdict_name(old), gnn_verdict_name(now));
}

/* The mail_servers entries of rs, in the order records number them. */
static int
map_servers(const struct gnn_ruleset *rs, struct server_map *m)
{
	m->generation = (uint32_t)rs->generation;
	m->n = rs->n_servers;
	m->servers = calloc(RTE_MAX(rs->n_servers, 1u), sizeof(*m->servers));
	if (m->servers == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < rs->n_servers; i++) {
		const struct gnn_ruleset_server *s = &rs->servers[i];

		m->servers[i].slot = rs->members[s->member].slot;
		m->servers[i].prefix = rs->policy->members[s->member].mail_servers[s->index];
	}
	return 0;
}

static void
on_publish(const struct gnn_ruleset *now, void *arg)
{
	struct server_map next;

	RTE_SET_USED(arg);
	/* Records judged by the rules going away are counted under them first. */
	drain(NULL);
	if (map_servers(now, &next) != 0) {
		GNN_LOG(WARNING, "out of memory: servers not tracked for generation %" PRIu64,
			now->generation);
		return;
	}
	free(trk.prev.servers);
	trk.prev = trk.cur;
	trk.cur = next;
	if (gnn_track_set_servers(trk.t, next.servers, next.n, gnn_clock_wall()) != 0)
		GNN_LOG(WARNING, "out of memory: servers table kept from before");
	gnn_track_reclassify(trk.t, verdict_now, verdict_changed, (void *)(uintptr_t)now);
}

static void
on_slot_reuse(uint32_t slot, void *arg)
{
	RTE_SET_USED(arg);
	drain(NULL);
	gnn_track_forget_slot(trk.t, slot);
}

/* ---- requests ---- */

static const char *
slot_name(void *arg, uint32_t slot)
{
	RTE_SET_USED(arg);
	return gnn_slots_name(slot);
}

/* The slot of the member named by the request, or an error reply in *err. */
static uint32_t
requested_slot(const struct gnn_request *req, json_t **err)
{
	const char *name = gnn_request_string(req, "member", "");
	const struct gnn_ruleset *rs = gnn_rules_active();
	int m;

	*err = NULL;
	if (name[0] == '\0')
		return GNN_TRACK_ALL_SLOTS;
	m = gnn_policy_find_member(rs->policy, name);
	if (m < 0) {
		*err = json_pack("{s:s+}", "error", "no member named ", name);
		return GNN_SLOT_NONE;
	}
	return rs->members[m].slot;
}

static json_t *
handle_top(const struct gnn_request *req, struct gnn_api_ctx *ctx)
{
	json_t *err, *reply;
	uint32_t slot = requested_slot(req, &err);

	RTE_SET_USED(ctx);
	if (err != NULL)
		return err;
	sync_workers();
	reply = gnn_track_top_json(trk.t, slot,
				   (unsigned int)gnn_request_uint(req, "n", GNN_PROTO_TOP_DEFAULT),
				   slot_name, NULL);
	if (reply != NULL)
		json_object_set_new(reply, "time", json_real(gnn_clock_wall()));
	return reply;
}

static json_t *
handle_servers(const struct gnn_request *req, struct gnn_api_ctx *ctx)
{
	json_t *err, *reply;
	uint32_t slot = requested_slot(req, &err);

	RTE_SET_USED(ctx);
	if (err != NULL)
		return err;
	sync_workers();
	reply = gnn_track_servers_json(trk.t, slot, slot_name, NULL);
	if (reply != NULL)
		json_object_set_new(reply, "time", json_real(gnn_clock_wall()));
	return reply;
}

/* Per member: its listed servers, the unlisted hosts seen accepting, the line to paste. */
static json_t *
handle_suggest(const struct gnn_request *req, struct gnn_api_ctx *ctx)
{
	const struct gnn_ruleset *rs = gnn_rules_active();
	json_t *err, *hosts, *members, *h;
	uint32_t slot = requested_slot(req, &err);
	char buf[64];
	size_t i;

	RTE_SET_USED(ctx);
	if (err != NULL)
		return err;
	sync_workers();
	hosts = gnn_track_accepts_json(trk.t, slot, slot_name, NULL);
	members = json_array();
	if (hosts == NULL || members == NULL) {
		json_decref(hosts);
		json_decref(members);
		return NULL;
	}
	for (uint32_t m = 0; m < rs->n_members; m++) {
		const struct gnn_member *pm = &rs->policy->members[m];
		json_t *listed = json_array(), *suggested = json_array(), *entry;

		if (slot != GNN_TRACK_ALL_SLOTS && rs->members[m].slot != slot)
			continue;
		for (unsigned int s = 0; s < pm->n_mail_servers; s++)
			json_array_append_new(listed,
					      json_string(gnn_prefix_format(&pm->mail_servers[s],
									    buf, sizeof(buf))));
		json_array_foreach(json_object_get(hosts, "hosts"), i, h)
		{
			if (strcmp(json_string_value(json_object_get(h, "member")), pm->name) ==
				    0 &&
			    !json_is_true(json_object_get(h, "listed")))
				json_array_append(suggested, h);
		}
		/* Members with nothing to suggest are left out of "all members". */
		if (slot == GNN_TRACK_ALL_SLOTS && json_array_size(suggested) == 0) {
			json_decref(listed);
			json_decref(suggested);
			continue;
		}
		entry = json_pack("{s:s, s:s, s:o, s:o}", "member", pm->name, "mode",
				  gnn_mode_name(pm->mode), "listed", listed, "suggested",
				  suggested);
		json_array_append_new(members, entry);
	}
	json_decref(hosts);
	return json_pack("{s:o, s:f}", "members", members, "time", gnn_clock_wall());
}

/* ---- diff ---- */

struct diff {
	uint64_t token;
	const struct gnn_ruleset *cur, *next;
	json_t *newly_blocked, *newly_allowed, *other_changes;
	uint64_t compared;
	/* each address once: sources, accepts and servers may name it thrice */
	json_t *seen;
};

static const char *
member_of(const struct gnn_ruleset *rs, int member)
{
	return member >= 0 ? rs->policy->members[member].name : NULL;
}

static bool
blocks(uint8_t v)
{
	return v == GNN_VERDICT_BLOCKED;
}

static bool
passes(uint8_t v)
{
	return v == GNN_VERDICT_ALLOWED || v == GNN_VERDICT_FORWARD;
}

/*
 * A host met again in another table (a source that also accepted, a
 * listed server that also accepted): the row gets what that table knows.
 * Outbound attempts come from the sources and servers tables, inbound
 * connections from the accepts table.
 */
static void
diff_merge(json_t *row, const struct gnn_track_host *host)
{
	const json_t *last = json_object_get(row, "last_seen");

	if (host->accepted) {
		json_object_set_new(row, "accepted", json_true());
		json_object_set_new(row, "inbound", json_integer((json_int_t)host->attempts));
	} else if ((json_int_t)host->attempts >
		   json_integer_value(json_object_get(row, "attempts"))) {
		json_object_set_new(row, "attempts", json_integer((json_int_t)host->attempts));
	}
	if (host->last_s > 0 && (!json_is_real(last) || host->last_s > json_real_value(last)))
		json_object_set_new(row, "last_seen", json_real(host->last_s));
}

static void
diff_host(void *arg, const struct gnn_track_host *host)
{
	struct diff *d = arg;
	char buf[INET6_ADDRSTRLEN];
	int m_cur, m_next;
	uint8_t was, now;
	json_t *row, *list;
	const char *addr = addr_text(host->family, host->addr, buf, sizeof(buf));

	/* Each address once; seen maps it to its row, or null when unchanged. */
	row = json_object_get(d->seen, addr);
	if (row != NULL) {
		if (json_is_object(row))
			diff_merge(row, host);
		return;
	}
	d->compared++;
	was = judge_address(d->cur, host->family, host->addr, &m_cur);
	now = judge_address(d->next, host->family, host->addr, &m_next);
	if (was == now && (member_of(d->cur, m_cur) == member_of(d->next, m_next) ||
			   (m_cur >= 0 && m_next >= 0 &&
			    strcmp(member_of(d->cur, m_cur), member_of(d->next, m_next)) == 0))) {
		json_object_set_new(d->seen, addr, json_null());
		return;
	}
	if (blocks(now) && !blocks(was))
		list = d->newly_blocked;
	else if (passes(now) && !passes(was))
		list = d->newly_allowed;
	else
		list = d->other_changes;
	row = json_pack("{s:s, s:s?, s:s?, s:s, s:s, s:I, s:I, s:o, s:b}", "address", addr,
			"member", member_of(d->cur, m_cur), "new_member",
			member_of(d->next, m_next), "was", gnn_verdict_name(was), "now",
			gnn_verdict_name(now), "attempts",
			(json_int_t)(host->accepted ? 0 : host->attempts), "inbound",
			(json_int_t)(host->accepted ? host->attempts : 0), "last_seen",
			host->last_s > 0 ? json_real(host->last_s) : json_null(), "accepted",
			host->accepted);
	if (row == NULL)
		return;
	json_array_append_new(list, row);
	json_object_set(d->seen, addr, row);
}

static void
diff_built(struct gnn_ruleset *rs, json_t *errors, void *arg)
{
	struct diff *d = arg;
	json_t *reply;

	if (rs == NULL) {
		const char *first = json_string_value(json_array_get(errors, 0));

		reply = json_pack("{s:b, s:s, s:O}", "ok", 0, "error",
				  first != NULL ? first : "cannot load the config", "errors",
				  errors);
	} else {
		sync_workers();
		d->cur = gnn_rules_active();
		d->next = rs;
		d->newly_blocked = json_array();
		d->newly_allowed = json_array();
		d->other_changes = json_array();
		d->seen = json_object();
		gnn_track_foreach(trk.t, diff_host, d);
		reply = json_pack("{s:b, s:s, s:I, s:o, s:o, s:o, s:I, s:I}", "ok", 1, "config",
				  rs->policy->path, "compared", (json_int_t)d->compared,
				  "newly_blocked", d->newly_blocked, "newly_allowed",
				  d->newly_allowed, "other_changes", d->other_changes,
				  "members_now", (json_int_t)d->cur->n_members, "members_new",
				  (json_int_t)rs->n_members);
		json_decref(d->seen);
		gnn_rules_free_built(rs);
	}
	gnn_api_answer(d->token, reply);
	free(d);
}

static json_t *
handle_diff(const struct gnn_request *req, struct gnn_api_ctx *ctx)
{
	struct diff *d = calloc(1, sizeof(*d));
	int rc;

	if (d == NULL)
		return NULL;
	rc = gnn_rules_build(gnn_request_string(req, "config", ""), diff_built, d);
	if (rc != 0) {
		free(d);
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 rc == -EBUSY ? "busy: a reload is in progress, try again"
					      : "cannot start the dry run");
	}
	d->token = gnn_api_defer(ctx);
	return NULL;
}

/* ---- set-up ---- */

void
gnn_sources_stats(struct gnn_track_counts *counts, uint64_t *stale)
{
	gnn_track_counts(trk.t, counts);
	*stale = trk.stale_records;
}

int
gnn_sources_init(void)
{
	struct gnn_track_limits limits = {
		.max_sources = MAX_SOURCES,
		.max_accepts = MAX_ACCEPTS,
		.max_age = MAX_AGE,
	};
	int rc = 0;

	trk.tsc_hz = (double)rte_get_tsc_hz();
	trk.t = gnn_track_create(&limits);
	if (trk.t == NULL)
		return -ENOMEM;
	rc |= gnn_loop_add_timer(DRAIN_MS, drain, NULL);
	rc |= gnn_loop_add_timer(AGE_MS, age, NULL);
	rc |= gnn_rules_on_publish(on_publish, NULL);
	rc |= gnn_slots_on_reuse(on_slot_reuse, NULL);
	rc |= gnn_api_register(&gnn_proto_cmd_top, handle_top);
	rc |= gnn_api_register(&gnn_proto_cmd_servers, handle_servers);
	rc |= gnn_api_register(&gnn_proto_cmd_suggest, handle_suggest);
	rc |= gnn_api_register(&gnn_proto_cmd_diff, handle_diff);
	return rc == 0 ? 0 : -EINVAL;
}

void
gnn_sources_fini(void)
{
	gnn_track_destroy(trk.t);
	trk.t = NULL;
	free(trk.cur.servers);
	free(trk.prev.servers);
	memset(&trk.cur, 0, sizeof(trk.cur));
	memset(&trk.prev, 0, sizeof(trk.prev));
}
