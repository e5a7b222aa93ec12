/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_FLOWS_H
#define GNN_FLOWS_H

/*
 * Per-worker flow aggregation for the IPFIX export (docs/design.md,
 * "Export"). While the export is on, the worker hands every burst the judge
 * settled to gnn_flows_burst(), which counts each candidate allowed, would
 * be blocked or blocked into a small set-associative cache keyed by (family, source,
 * destination, destination port, verdict): packets, IP octets, first and last time. An entry's flow
 * record goes to the control lcore over a single-producer ring when a new flow evicts it, or once
 * it has been pending for flush_ticks; the control lcore merges the records of an interval and
 * exports them. A record the ring refuses is counted in lost.
 *
 * One per worker; nothing here locks, allocates or makes a syscall after
 * gnn_flows_init().
 */

#include <stdint.h>

#include "parse/gnn_parse.h"

struct rte_ring;

#define GNN_FLOWS_WAYS 4

/* One flow of one worker since its previous record; the ring's element. */
struct gnn_flow_record {
	uint8_t family;	 /* 4 or 6; 0: an empty cache entry */
	uint8_t verdict; /* GNN_VERDICT_ALLOWED, _WOULD_BLOCK or _BLOCKED */
	uint16_t dport;	 /* host order */
	uint32_t packets;
	uint8_t src[16]; /* network order; IPv4 in [0..3], the rest zero */
	uint8_t dst[16];
	uint64_t octets; /* IP datagram lengths, headers included */
	uint64_t first;	 /* ticks (the worker's TSC) */
	uint64_t last;
};

_Static_assert(sizeof(struct gnn_flow_record) == 64, "a flow record is one cache line");

struct gnn_flows {
	struct gnn_flow_record *cache; /* worker: rw; n_sets * GNN_FLOWS_WAYS */
	uint32_t set_mask;
	uint32_t sweep;	    /* worker: next entry the aging sweep looks at */
	uint32_t n_pending; /* worker: entries holding packets */
	uint64_t flush_ticks;
	struct rte_ring *ring; /* worker: enqueue; ctrl: dequeue */
	uint64_t lost;	       /* worker: rw, ctrl: ro: records the ring refused */
};

/*
 * Set up fl with a cache of entries (a power of two >= GNN_FLOWS_WAYS) on
 * NUMA socket socket_id; records go to ring (single producer, elements of
 * struct gnn_flow_record). 0, -EINVAL or -ENOMEM.
 * Control lcore, before the worker starts (needs EAL).
 */
int gnn_flows_init(struct gnn_flows *fl, uint32_t entries, uint64_t flush_ticks,
		   struct rte_ring *ring, int socket_id);

/* Free the cache. Control lcore, after the worker stopped. */
void gnn_flows_fini(struct gnn_flows *fl);

/*
 * Count frame f, settled with verdict (ALLOWED, WOULD_BLOCK or BLOCKED),
 * at time now (ticks).
 * The worker's own lcore only; lock-free.
 */
void gnn_flows_add(struct gnn_flows *fl, const struct gnn_frame_info *f, uint8_t verdict,
		   uint64_t now);

/*
 * Count the frames of a judged burst: info[i] with judge verdict byte
 * verdicts[i] (gnn_judge_burst()'s); those allowed, would-be blocked or
 * blocked are added, the others ignored.
 * The worker's own lcore only; lock-free.
 */
void gnn_flows_burst(struct gnn_flows *fl, const struct gnn_frame_info *info,
		     const uint8_t *verdicts, uint32_t n, uint64_t now);

/* Send the records of a few entries pending for flush_ticks (one step of a sweep). */
void gnn_flows_sweep(struct gnn_flows *fl, uint64_t now);

/*
 * Call once per poll loop: one step of the aging sweep, nothing when no
 * entry holds packets (the export is off, or idle).
 * The worker's own lcore only; lock-free.
 */
static inline void
gnn_flows_tick(struct gnn_flows *fl, uint64_t now)
{
	if (__builtin_expect(fl->n_pending != 0, 0))
		gnn_flows_sweep(fl, now);
}

/*
 * Send the record of every pending entry. Returns how many the ring could
 * not take (drain it and call again).
 * Any lcore, once the worker stopped.
 */
uint32_t gnn_flows_flush_all(struct gnn_flows *fl);

#endif /* GNN_FLOWS_H */
