/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-burst judge (see gnn_judge.h). Passes over a burst: the first
 * finds and prefetches each candidate's cache set; the second settles every
 * frame it can (not a candidate, or its source cached under the running
 * generation: those once their member's counters are prefetched) and
 * collects the rest for rte_acl; one classify call per address family; the
 * last settles the classified frames and caches their sources. A frame's accounting is done in the
 * pass that settles it, so a cache entry is never used after a later frame of the burst evicted it.
 */

#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "judge/gnn_judge.h"

/* Entries the aging sweep looks at per tick. */
#define SWEEP_PER_TICK 8

_Static_assert(GNN_JUDGE_MAX_BURST <= 255, "frame indices fit a byte");

enum need {
	NEED_NONE = 0, /* settled in the first pass */
	NEED_SOURCE,   /* a candidate or accept: classify, then cache */
	NEED_MALFORMED /* cannot be judged, source known: classify only */
};

static inline uint32_t
hash_dst(const struct gnn_frame_info *f)
{
	return gnn_judge_hash_addr(f->family, f->dst, 0x1b873593u);
}

static inline bool
same_source(const struct gnn_source_record *e, uint8_t family, uint8_t kind, const uint8_t *src)
{
	uint64_t a[2], b[2];

	memcpy(a, e->src, sizeof(a));
	memcpy(b, src, sizeof(b));
	return e->family == family && e->kind == kind && ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
}

static inline struct gnn_source_record *
cache_find(struct gnn_source_record *set, uint8_t family, uint8_t kind, const uint8_t *src)
{
	for (unsigned int w = 0; w < GNN_JUDGE_WAYS; w++)
		if (same_source(&set[w], family, kind, src))
			return &set[w];
	return NULL;
}

/* Queue the entry's record for the control lcore and start it afresh. */
static inline void
stage_record(struct gnn_judge *j, struct gnn_source_record *e)
{
	if (j->records != NULL)
		j->staged[j->n_staged++] = *e;
	e->packets = 0;
	e->attempts = 0;
	e->dst_sketch = 0;
}

static void
send_staged(struct gnn_judge *j)
{
	unsigned int sent;

	if (j->n_staged > 0) {
		sent = rte_ring_sp_enqueue_burst_elem(j->records, j->staged, sizeof(j->staged[0]),
						      j->n_staged, NULL);
		j->stats->records_lost += j->n_staged - sent;
		j->n_staged = 0;
	}
	if (j->n_sighted > 0) {
		sent = rte_ring_sp_enqueue_burst_elem(j->sightings, j->sighted,
						      sizeof(j->sighted[0]), j->n_sighted, NULL);
		j->stats->sightings_lost += j->n_sighted - sent;
		j->n_sighted = 0;
	}
}

static inline enum gnn_member_counter
verdict_counter(enum gnn_verdict v)
{
	return v == GNN_VERDICT_ALLOWED	  ? GNN_MC_ALLOWED
	       : v == GNN_VERDICT_BLOCKED ? GNN_MC_BLOCKED
					  : GNN_MC_WOULD_BLOCK;
}

static inline bool
is_attempt(const struct gnn_frame_info *f)
{
	return (f->tcp_flags & (GNN_TCP_SYN | GNN_TCP_ACK)) == GNN_TCP_SYN;
}

/*
 * Settle a frame whose source entry is known: count it, add it to the
 * entry, and return its verdict byte.
 */
static inline uint8_t
settle(struct gnn_judge *j, struct gnn_source_record *e, const struct gnn_frame_info *f,
       uint64_t now)
{
	enum gnn_verdict v = (enum gnn_verdict)e->verdict;
	uint8_t out = GNN_VERDICT_FORWARD;

	if (v == GNN_VERDICT_FORWARD)
		return out; /* no member, or mode off: nothing to count */
	if (e->kind == GNN_RECORD_SENT) {
		j->stats->member[e->slot].c[verdict_counter(v)]++;
		out = (uint8_t)v;
		if (v == GNN_VERDICT_BLOCKED && (e->flags & GNN_RECORD_F_REJECT) && is_attempt(f))
			out |= GNN_JUDGE_REJECT;
	}
	if (e->packets == 0)
		e->first = now;
	e->packets++;
	e->last = now;
	/* SENT: a connection attempt; ACCEPTED: every SYN-ACK answers one. */
	if (e->kind == GNN_RECORD_ACCEPTED || is_attempt(f)) {
		e->attempts++;
		e->dst_sketch = gnn_hll_add(e->dst_sketch, hash_dst(f));
	}
	return out;
}

/* What a candidate from this source gets, as gnn_ruleset_decide() says. */
static void
fill_entry(struct gnn_source_record *e, const struct gnn_ruleset *rs,
	   const struct gnn_frame_info *f, uint8_t kind, uint32_t result)
{
	e->family = f->family;
	e->kind = kind;
	memcpy(e->src, f->src, sizeof(e->src));
	e->generation = (uint32_t)rs->generation;
	e->packets = 0;
	e->attempts = 0;
	e->dst_sketch = 0;
	e->flags = 0;
	e->server = 0;
	e->slot = GNN_SLOT_NONE;
	e->verdict = GNN_VERDICT_FORWARD;
	if (result != 0) {
		const struct gnn_ruleset_member *m =
			&rs->members[gnn_ruleset_result_member(rs, result)];

		e->slot = m->slot;
		e->server = (uint32_t)(gnn_acl_result_server(result) + 1);
		if (m->action == GNN_ACTION_REJECT)
			e->flags |= GNN_RECORD_F_REJECT;
		if (m->mode != GNN_MODE_OFF)
			e->verdict = gnn_acl_result_is_server(result) ? GNN_VERDICT_ALLOWED
				     : m->mode == GNN_MODE_ENFORCE    ? GNN_VERDICT_BLOCKED
								      : GNN_VERDICT_WOULD_BLOCK;
	}
}

/* The way to (re)use for a new source: an empty one, else the lighter one. */
static inline struct gnn_source_record *
choose_victim(struct gnn_source_record *set)
{
	struct gnn_source_record *v = &set[0];

	for (unsigned int w = 0; w < GNN_JUDGE_WAYS; w++) {
		if (set[w].family == 0)
			return &set[w];
		if (set[w].packets < v->packets)
			v = &set[w];
	}
	return v;
}

static void
note_sighting(struct gnn_judge *j, const struct gnn_source_record *e,
	      const struct gnn_frame_info *f, uint64_t now)
{
	struct gnn_sighting *s;

	if (j->sightings == NULL || j->n_sighted == RTE_DIM(j->sighted))
		return;
	if (now - j->sightings_window >= j->flush_ticks) {
		j->sightings_window = now;
		j->sightings_left = GNN_JUDGE_SIGHTINGS;
	}
	if (j->sightings_left == 0) {
		j->stats->sightings_lost++;
		return;
	}
	j->sightings_left--;
	s = &j->sighted[j->n_sighted++];
	s->family = e->family;
	s->verdict = e->verdict;
	s->dport = f->dport;
	s->slot = e->slot;
	memcpy(s->src, e->src, sizeof(s->src));
	memcpy(s->dst, f->dst, sizeof(s->dst));
	s->generation = e->generation;
	s->sport = f->sport;
	s->pad = 0;
	s->reserved = 0;
	s->when = now;
}

/* Cache the classified source of f (kind, in set) and return its entry. */
static struct gnn_source_record *
cache_insert(struct gnn_judge *j, const struct gnn_ruleset *rs, const struct gnn_frame_info *f,
	     struct gnn_source_record *set, uint8_t kind, uint32_t result, uint64_t now)
{
	uint32_t gen = (uint32_t)rs->generation;
	struct gnn_source_record *e = cache_find(set, f->family, kind, f->src);

	/* Met earlier in this burst, or cached with the verdict cache off. */
	if (e != NULL && e->generation == gen)
		return e;
	if (e == NULL)
		e = choose_victim(set);
	if (e->packets > 0)
		stage_record(j, e); /* evicted, or judged under another generation */
	fill_entry(e, rs, f, kind, result);
	if (kind == GNN_RECORD_SENT &&
	    (e->verdict == GNN_VERDICT_BLOCKED || e->verdict == GNN_VERDICT_WOULD_BLOCK))
		note_sighting(j, e, f, now);
	return e;
}

static void
count_malformed(struct gnn_judge *j, const struct gnn_frame_info *f, enum gnn_verdict v)
{
	if (v == GNN_VERDICT_MALFORMED_DROP)
		j->stats->malformed_dropped[f->reason]++;
	else
		j->stats->malformed_forwarded++;
}

void
gnn_judge_burst(struct gnn_judge *j, const struct gnn_ruleset *rs,
		const struct gnn_frame_info *info, uint32_t n, uint64_t now, uint8_t *verdicts)
{
	const uint8_t *data[2][GNN_JUDGE_MAX_BURST];
	uint32_t found[2][GNN_JUDGE_MAX_BURST];
	uint8_t frame_of[2][GNN_JUDGE_MAX_BURST];
	struct gnn_source_record **set = j->set; /* cache set; a hit's entry */
	uint8_t need[GNN_JUDGE_MAX_BURST];
	const uint8_t *kind = j->kind;
	uint8_t hit[GNN_JUDGE_MAX_BURST]; /* frames whose entry set[i] is cached */
	uint32_t count[2] = {0, 0}, n_hit = 0;
	uint32_t gen = (uint32_t)rs->generation;

	/* Find each candidate's cache set first and prefetch it (two lines), so
	 * the probes below do not wait on the cache one after the other; the
	 * caller may have done so for the first frames already. */
	for (uint32_t i = RTE_MIN(j->n_prepared, n); i < n; i++)
		gnn_judge_prepare(j, rs, &info[i]);
	j->n_prepared = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct gnn_frame_info *f = &info[i];
		struct gnn_source_record *e;
		unsigned int fam;

		need[i] = NEED_NONE;
		verdicts[i] = GNN_VERDICT_FORWARD;
		if (f->kind == GNN_PARSE_TCP) {
			if (kind[i] == GNN_JUDGE_NOT_CANDIDATE)
				continue;
			e = cache_find(set[i], f->family, kind[i], f->src);
			if (e != NULL && e->generation == gen && j->verdict_cache) {
				/* Settled below, once its member's counters are on the way. */
				if (e->slot < j->stats->n_member_slots)
					rte_prefetch0(&j->stats->member[e->slot]);
				set[i] = e;
				hit[n_hit++] = (uint8_t)i;
				continue;
			}
			j->stats->cache_misses++;
			need[i] = NEED_SOURCE;
		} else if (f->kind == GNN_PARSE_MALFORMED) {
			if (f->family == 0) {
				/* No readable source (too many tags, header cut before it). */
				verdicts[i] = GNN_VERDICT_MALFORMED_DROP;
				count_malformed(j, f, GNN_VERDICT_MALFORMED_DROP);
				continue;
			}
			need[i] = NEED_MALFORMED;
		} else {
			continue;
		}
		fam = f->family == 6;
		data[fam][count[fam]] = (const uint8_t *)f;
		frame_of[fam][count[fam]++] = (uint8_t)i;
	}

	/* No frame was inserted since the probes: every hit still holds. */
	j->stats->cache_hits += n_hit;
	for (uint32_t k = 0; k < n_hit; k++)
		verdicts[hit[k]] = settle(j, set[hit[k]], &info[hit[k]], now);

	for (unsigned int fam = 0; fam < 2; fam++) {
		if (count[fam] == 0)
			continue;
#ifdef GNN_STAGE_CYCLES
		uint64_t t0 = rte_rdtsc();
#endif
		gnn_ruleset_lookup(rs, fam ? 6 : 4, data[fam], found[fam], count[fam]);
#ifdef GNN_STAGE_CYCLES
		j->classify_cycles += rte_rdtsc() - t0;
#endif
		for (uint32_t k = 0; k < count[fam]; k++) {
			uint32_t i = frame_of[fam][k];
			const struct gnn_frame_info *f = &info[i];
			struct gnn_source_record *e;
			enum gnn_verdict v;
			int member;

			if (need[i] == NEED_MALFORMED) {
				v = gnn_ruleset_decide(rs, f, found[fam][k], &member);
				count_malformed(j, f, v);
				verdicts[i] = (uint8_t)v;
				continue;
			}
			e = cache_insert(j, rs, f, set[i], kind[i], found[fam][k], now);
			verdicts[i] = settle(j, e, f, now);
		}
	}
	if (j->n_staged > 0 || j->n_sighted > 0)
		send_staged(j);
}

void
gnn_judge_tick(struct gnn_judge *j, uint64_t now)
{
	uint32_t mask = (j->set_mask + 1) * GNN_JUDGE_WAYS - 1;

	if (j->records == NULL)
		return;
	for (unsigned int k = 0; k < SWEEP_PER_TICK; k++) {
		struct gnn_source_record *e = &j->cache[j->sweep++ & mask];

		if (e->packets == 0 || now - e->first < j->flush_ticks)
			continue;
		/* A full ring keeps the counts here rather than lose them. */
		if (rte_ring_free_count(j->records) <= j->n_staged)
			break;
		stage_record(j, e);
	}
	if (j->n_staged > 0)
		send_staged(j);
}

uint32_t
gnn_judge_flush_all(struct gnn_judge *j)
{
	uint32_t n_entries = (j->set_mask + 1) * GNN_JUDGE_WAYS;
	uint32_t left = 0;

	if (j->records == NULL)
		return 0;
	for (uint32_t i = 0; i < n_entries; i++) {
		struct gnn_source_record *e = &j->cache[i];

		if (e->packets == 0)
			continue;
		if (rte_ring_free_count(j->records) <= j->n_staged ||
		    j->n_staged == RTE_DIM(j->staged)) {
			send_staged(j);
			if (rte_ring_free_count(j->records) == 0) {
				left++;
				continue;
			}
		}
		stage_record(j, e);
	}
	send_staged(j);
	return left;
}

int
gnn_judge_init(struct gnn_judge *j, const struct gnn_judge_config *cfg,
	       struct gnn_lcore_stats *stats, struct rte_ring *records, struct rte_ring *sightings,
	       int socket_id)
{
	uint32_t entries = cfg->cache_entries;

	if (entries < GNN_JUDGE_WAYS || (entries & (entries - 1)) != 0)
		return -EINVAL;
	memset(j, 0, sizeof(*j));
	j->cache = rte_zmalloc_socket("gnn_source_cache", sizeof(*j->cache) * entries,
				      RTE_CACHE_LINE_SIZE, socket_id);
	if (j->cache == NULL)
		return -ENOMEM;
	j->set_mask = entries / GNN_JUDGE_WAYS - 1;
	j->flush_ticks = cfg->flush_ticks;
	j->verdict_cache = cfg->verdict_cache;
	j->stats = stats;
	j->records = records;
	j->sightings = sightings;
	return 0;
}

void
gnn_judge_fini(struct gnn_judge *j)
{
	rte_free(j->cache);
	j->cache = NULL;
}
