/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_JUDGE_H
#define GNN_JUDGE_H

/*
 * The per-burst judge: parsed inside frames in, a verdict per frame out,
 * counted on the caller's lcore, with what the control lcore needs to know
 * about the sources sent as records (track/gnn_record.h). The worker, the
 * classify benchmark, the unit tests and gnnaudit all judge through
 * gnn_judge_burst(), so there is one copy of this logic.
 *
 * Each judge keeps a source cache: a set-associative table keyed by
 * (family, source, kind) that holds the source's verdict under one ruleset
 * generation and what it did since its last record. A candidate whose
 * source is cached under the running generation is judged without rte_acl
 * (rte_acl stays the authority: a new generation invalidates every entry);
 * the others are classified in one rte_acl call per address family.
 *
 * One judge per lcore; nothing here locks, allocates or makes a syscall
 * after gnn_judge_init().
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_hash_crc.h>
#include <rte_prefetch.h>

#include "acl/gnn_acl.h"
#include "parse/gnn_parse.h"
#include "stats/gnn_stats.h"
#include "track/gnn_record.h"

struct rte_ring;

#define GNN_JUDGE_MAX_BURST GNN_RULESET_MAX_BURST
#define GNN_JUDGE_WAYS	    2
/* Sightings sent per flush_ticks at most: the log shows a few a second, and a
 * flood of new sources must not cost a copy each. */
#define GNN_JUDGE_SIGHTINGS 256
/* In a verdict byte: the frame is a blocked SYN to answer with RST+ACK. */
#define GNN_JUDGE_REJECT     0x80
#define GNN_JUDGE_VERDICT(v) ((enum gnn_verdict)((v) & ~GNN_JUDGE_REJECT))

struct gnn_judge_config {
	uint32_t cache_entries; /* source cache size, a power of two >= GNN_JUDGE_WAYS */
	uint64_t flush_ticks;	/* a pending cache entry is sent after this many ticks */
	bool verdict_cache;	/* false: every candidate is classified by rte_acl */
};

struct gnn_judge {
	struct gnn_source_record *cache; /* worker: rw; n_sets * GNN_JUDGE_WAYS */
	uint32_t set_mask;
	uint32_t sweep; /* next cache entry the aging sweep looks at */
	uint64_t flush_ticks;
	bool verdict_cache;
	struct gnn_lcore_stats *stats; /* the caller's counters */
	struct rte_ring *records;      /* worker: enqueue, ctrl: dequeue; may be NULL */
	struct rte_ring *sightings;    /* likewise */
	uint32_t n_staged;
	uint32_t n_sighted;
	uint32_t sightings_left; /* of this window's budget (GNN_JUDGE_SIGHTINGS) */
	uint64_t sightings_window;
	uint64_t classify_cycles; /* TSC in rte_acl; counted only with -DGNN_STAGE_CYCLES */
	/* The next burst's frames prepared so far (gnn_judge_prepare()): each
	 * one's record kind and cache set. */
	uint32_t n_prepared;
	uint8_t kind[GNN_JUDGE_MAX_BURST];
	struct gnn_source_record *set[GNN_JUDGE_MAX_BURST];
	struct gnn_source_record staged[2 * GNN_JUDGE_MAX_BURST];
	struct gnn_sighting sighted[GNN_JUDGE_MAX_BURST];
};

/*
 * Set up j on NUMA socket socket_id. records and sightings are
 * single-producer rings of gnn_source_record / gnn_sighting elements (or
 * NULL: nothing is sent, for benchmarks). 0 or -ENOMEM / -EINVAL.
 * Control lcore, before the worker starts (needs EAL).
 */
int gnn_judge_init(struct gnn_judge *j, const struct gnn_judge_config *cfg,
		   struct gnn_lcore_stats *stats, struct rte_ring *records,
		   struct rte_ring *sightings, int socket_id);

/* Free the cache. Control lcore, after the worker stopped. */
void gnn_judge_fini(struct gnn_judge *j);

/*
 * Judge info[0..n) (n <= GNN_JUDGE_MAX_BURST), frames that came in on an
 * inside port, at time now (ticks), the first of them perhaps prepared
 * (gnn_judge_prepare(), under the same rs): verdicts[i] is frame i's enum
 * gnn_verdict, with GNN_JUDGE_REJECT set for a blocked SYN of a member
 * whose action is reject. Counters are added to j->stats; records and
 * sightings are sent before it returns.
 * The judge's own lcore only; lock-free.
 */
void gnn_judge_burst(struct gnn_judge *j, const struct gnn_ruleset *rs,
		     const struct gnn_frame_info *info, uint32_t n, uint64_t now,
		     uint8_t *verdicts);

/*
 * Send the records of a few entries pending for longer than flush_ticks
 * (an incremental sweep). Call once per poll loop.
 * The judge's own lcore only; lock-free.
 */
void gnn_judge_tick(struct gnn_judge *j, uint64_t now);

/*
 * Send the record of every pending entry. Returns how many could not be
 * sent (ring full: drain it and call again).
 * The judge's own lcore, or any once it stopped.
 */
uint32_t gnn_judge_flush_all(struct gnn_judge *j);

/* CRC32-C of an address (4 or 16 bytes): one instruction or two. */
static inline uint32_t
gnn_judge_hash_addr(uint8_t family, const uint8_t *addr, uint32_t seed)
{
	uint64_t w[2];
	uint32_t v4;

	if (family == 4) {
		memcpy(&v4, addr, sizeof(v4));
		return rte_hash_crc_4byte(v4, seed);
	}
	memcpy(w, addr, sizeof(w));
	return rte_hash_crc_8byte(w[1], rte_hash_crc_8byte(w[0], seed));
}

/* The cache set of (family, kind, src). */
static inline struct gnn_source_record *
gnn_judge_cache_set(const struct gnn_judge *j, uint8_t family, uint8_t kind, const uint8_t *src)
{
	uint32_t h = gnn_judge_hash_addr(family, src, 0x9747b28cu ^ ((uint32_t)family << 8 | kind));

	return &j->cache[(h & j->set_mask) * GNN_JUDGE_WAYS];
}

/* In gnn_judge_candidate(): TCP, but neither to nor from a blocked port, or not TCP. */
#define GNN_JUDGE_NOT_CANDIDATE 0xff

/* The record kind a frame is cached under, or GNN_JUDGE_NOT_CANDIDATE. */
static inline uint8_t
gnn_judge_candidate(const struct gnn_ruleset *rs, const struct gnn_frame_info *f)
{
	if (f->kind != GNN_PARSE_TCP)
		return GNN_JUDGE_NOT_CANDIDATE;
	if (gnn_ruleset_port_blocked(rs, f->dport))
		return GNN_RECORD_SENT;
	if (gnn_ruleset_is_accept(rs, f))
		return GNN_RECORD_ACCEPTED;
	return GNN_JUDGE_NOT_CANDIDATE;
}

/*
 * Prepare the next frame of the burst that gnn_judge_burst() will judge:
 * find its cache set and start fetching it. Optional: a caller that parses
 * frame by frame calls it after each, in order and for at most
 * GNN_JUDGE_MAX_BURST frames, so that a cache larger than the CPU's caches
 * is read while the rest of the burst is parsed; the judge prepares the
 * frames that were not. The judge's own lcore only.
 */
static inline void
gnn_judge_prepare(struct gnn_judge *j, const struct gnn_ruleset *rs, const struct gnn_frame_info *f)
{
	uint32_t i = j->n_prepared++;

	j->kind[i] = gnn_judge_candidate(rs, f);
	if (j->kind[i] == GNN_JUDGE_NOT_CANDIDATE)
		return;
	j->set[i] = gnn_judge_cache_set(j, f->family, j->kind[i], f->src);
	rte_prefetch0(j->set[i]);
	rte_prefetch0(j->set[i] + 1);
}

/* The frame is forwarded under verdict v (a judge verdict byte). */
static inline bool
gnn_verdict_forwards(uint8_t v)
{
	enum gnn_verdict verdict = GNN_JUDGE_VERDICT(v);

	return verdict == GNN_VERDICT_FORWARD || verdict == GNN_VERDICT_ALLOWED ||
	       verdict == GNN_VERDICT_WOULD_BLOCK;
}

#endif /* GNN_JUDGE_H */
