/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_RECORD_H
#define GNN_RECORD_H

/*
 * What the workers tell the control lcore about the sources they judged,
 * over one single-producer ring each (docs/design.md, "Who owns what"):
 *
 * - a source record sums what one source did under one ruleset generation
 *   since its previous record: packets, attempts (SYNs without ACK), a
 *   sketch of the destinations, first and last time. Workers aggregate in
 *   their source cache and send a record when the entry is evicted or has
 *   been pending for a while, so the ring carries far fewer records than
 *   frames;
 * - a sighting is sent when a worker first meets a blocked (or would-be
 *   blocked) source: one destination and port, for the event log.
 *
 * Plain C, no EAL: gnnaudit and the unit tests make records too.
 */

#include <stdint.h>

/* Verdict of one inside frame (docs/design.md, "Policy semantics"). */
enum gnn_verdict {
	GNN_VERDICT_FORWARD = 0,    /* not a candidate, or no member, or mode off */
	GNN_VERDICT_ALLOWED,	    /* candidate from a mail server: forward, count */
	GNN_VERDICT_WOULD_BLOCK,    /* candidate from a monitored member: forward, count */
	GNN_VERDICT_BLOCKED,	    /* candidate from an enforced member: drop, count */
	GNN_VERDICT_MALFORMED_DROP, /* cannot be judged, from an enforced member or unknown */
};

/* A source in no member network has no counter slot. */
#define GNN_SLOT_NONE UINT32_MAX

enum gnn_record_kind {
	GNN_RECORD_SENT = 0, /* the source sent to a blocked port */
	GNN_RECORD_ACCEPTED, /* the source answered on a blocked port (SYN-ACK) */
};

struct gnn_source_record {
	uint8_t family;	     /* 4 or 6 */
	uint8_t kind;	     /* enum gnn_record_kind */
	uint8_t verdict;     /* enum gnn_verdict a candidate from the source gets */
	uint8_t flags;	     /* GNN_RECORD_F_* */
	uint32_t slot;	     /* member counter slot */
	uint8_t src[16];     /* network order; IPv4 in src[0..3], the rest zero */
	uint32_t generation; /* low 32 bits of the generation that judged it */
	uint32_t server;     /* 1 + entry in rs->servers; 0: not a listed server */
	uint32_t packets;
	uint32_t attempts;   /* SENT: SYNs without ACK; ACCEPTED: SYN-ACKs */
	uint64_t dst_sketch; /* gnn_hll of the destinations of the attempts */
	uint64_t first;	     /* ticks (the worker's TSC, or ns for gnnaudit) */
	uint64_t last;
};

#define GNN_RECORD_F_REJECT 0x01 /* the member's action is reject */

struct gnn_sighting {
	uint8_t family;
	uint8_t verdict; /* GNN_VERDICT_BLOCKED or GNN_VERDICT_WOULD_BLOCK */
	uint16_t dport;
	uint32_t slot;
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t generation;
	uint16_t sport;
	uint16_t pad;
	uint64_t when; /* ticks */
	uint64_t reserved;
};

_Static_assert(sizeof(struct gnn_source_record) == 64, "a record is one cache line");
_Static_assert(sizeof(struct gnn_sighting) == 64, "a sighting is one cache line");

/*
 * Distinct destinations, approximately: a HyperLogLog of 16 four-bit
 * registers in one 64-bit word (standard error about 26%, enough to tell
 * a bot spraying thousands of servers from a host that talks to three).
 */
static inline uint64_t
gnn_hll_add(uint64_t sketch, uint32_t hash)
{
	unsigned int reg = hash & 15;
	uint32_t rest = hash >> 4;
	unsigned int rank = rest == 0 ? 28 : (unsigned int)__builtin_ctz(rest) + 1;
	uint64_t cur = (sketch >> (4 * reg)) & 15;

	if (rank > 15)
		rank = 15;
	if (rank > cur)
		sketch = (sketch & ~(UINT64_C(15) << (4 * reg))) | ((uint64_t)rank << (4 * reg));
	return sketch;
}

/* Register-wise maximum: the sketch of both sets. */
static inline uint64_t
gnn_hll_merge(uint64_t a, uint64_t b)
{
	uint64_t out = 0;

	for (unsigned int r = 0; r < 16; r++) {
		uint64_t x = (a >> (4 * r)) & 15, y = (b >> (4 * r)) & 15;

		out |= (x > y ? x : y) << (4 * r);
	}
	return out;
}

/* Estimated number of distinct values added (0 for an empty sketch). */
double gnn_hll_estimate(uint64_t sketch);

#endif /* GNN_RECORD_H */
