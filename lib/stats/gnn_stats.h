/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_STATS_H
#define GNN_STATS_H

/*
 * Counters. Each worker lcore owns one struct gnn_lcore_stats and is its
 * only writer (plain increments, no atomics, no sharing of cache lines);
 * the control lcore reads them all and sums them into a gnn_stats_total.
 * Counters only grow, so a snapshot is a consistent-enough sum and rates
 * are differences of two snapshots. Plain C, no EAL.
 *
 * Member counters are indexed by counter slot (a member keeps its slot
 * across reloads, see app/gnnd/control/slots.c). Their array grows with the
 * members configured: the control lcore hands a worker a larger array
 * before it publishes rules that use the new slots, and keeps what the old
 * array counted once no worker can write it any more (gnn_stats_retire).
 */

#include <stdint.h>

#include "parse/gnn_parse.h"

#define GNN_STATS_MAX_PORTS 32

enum gnn_member_counter {
	GNN_MC_ALLOWED = 0,
	GNN_MC_BLOCKED,
	GNN_MC_WOULD_BLOCK,
	GNN_MC_MAX,
};

/* One member slot's counters. */
struct gnn_member_counters {
	uint64_t c[GNN_MC_MAX];
};

struct gnn_lcore_stats {
	uint64_t port_rx[GNN_STATS_MAX_PORTS];	       /* frames received */
	uint64_t port_tx[GNN_STATS_MAX_PORTS];	       /* frames sent */
	uint64_t port_tx_dropped[GNN_STATS_MAX_PORTS]; /* TX refused, freed */
	uint64_t malformed_dropped[GNN_MALFORMED_MAX]; /* by reason */
	uint64_t malformed_forwarded; /* unjudgeable, not from an enforced member */
	uint64_t records_lost;	      /* source records the ring to the control lcore refused */
	uint64_t sightings_lost;      /* new-source events not sent: over budget or ring full */
	uint64_t rejects_sent;	      /* RST+ACK answers to blocked SYNs */
	uint64_t rejects_limited;     /* blocked SYNs not answered: rate limit or no mbuf */
	uint64_t cache_hits;	      /* candidates judged from the verdict cache */
	uint64_t cache_misses;	      /* candidates that needed an rte_acl lookup */
	/* worker: rw (the counters); ctrl: rw (the pointer, while no rule uses
	 * slots beyond n_member_slots) */
	struct gnn_member_counters *member;
	uint32_t n_member_slots;
} __attribute__((aligned(64)));

struct gnn_stats_total {
	uint64_t port_rx[GNN_STATS_MAX_PORTS];
	uint64_t port_tx[GNN_STATS_MAX_PORTS];
	uint64_t port_tx_dropped[GNN_STATS_MAX_PORTS];
	uint64_t malformed_dropped[GNN_MALFORMED_MAX];
	uint64_t malformed_forwarded;
	uint64_t records_lost;
	uint64_t sightings_lost;
	uint64_t rejects_sent;
	uint64_t rejects_limited;
	uint64_t cache_hits;
	uint64_t cache_misses;
	/* Caller-owned array of n_member_slots, summed into. */
	struct gnn_member_counters *member;
	uint32_t n_member_slots;
	/* derived */
	uint64_t rx_packets;
	uint64_t forwarded;
	uint64_t tx_dropped;
	uint64_t malformed_total;
	uint64_t allowed;
	uint64_t blocked;
	uint64_t would_block;
};

/*
 * Sum n per-lcore counter sets into total. Every counter of total is
 * overwritten; total->member (n_member_slots entries, caller-owned) first
 * gets the retired counts (may be NULL: none), then each lcore's.
 * Control lcore (or any reader); lock-free, tolerates concurrent writers.
 */
void gnn_stats_sum(const struct gnn_lcore_stats *const *lcores, unsigned int n,
		   const struct gnn_member_counters *retired, uint32_t n_retired,
		   struct gnn_stats_total *total);

/*
 * Add what a member array counted (n slots) into retired (at least n
 * slots): call once no worker can write it any more.
 * Control lcore.
 */
void gnn_stats_retire(struct gnn_member_counters *retired, const struct gnn_member_counters *old,
		      uint32_t n);

#endif /* GNN_STATS_H */
