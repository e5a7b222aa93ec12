/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_STATS_H
#define GNN_STATS_H

/*
 * Counters. Each worker lcore owns one struct gnn_lcore_stats and is its
 * only writer (plain increments, no atomics, no sharing of cache lines);
 * the control lcore reads them all and sums them into a gnn_stats_total.
 * Counters only grow, so a snapshot is a consistent-enough sum and rates
 * are differences of two snapshots. Plain C, no EAL.
 */

#include <stdint.h>

#include "parse/gnn_parse.h"
#include "policy/gnn_policy.h"

#define GNN_STATS_MAX_PORTS 32
/* Counter slots for members; a slot stays with a member name across reloads. */
#define GNN_STATS_MAX_SLOTS (2 * GNN_MAX_MEMBERS)

enum gnn_member_counter {
	GNN_MC_ALLOWED = 0,
	GNN_MC_BLOCKED,
	GNN_MC_WOULD_BLOCK,
	GNN_MC_MAX,
};

struct gnn_lcore_stats {
	uint64_t port_rx[GNN_STATS_MAX_PORTS];	       /* frames received */
	uint64_t port_tx[GNN_STATS_MAX_PORTS];	       /* frames sent */
	uint64_t port_tx_dropped[GNN_STATS_MAX_PORTS]; /* TX refused, freed */
	uint64_t malformed_dropped[GNN_MALFORMED_MAX]; /* by reason */
	uint64_t malformed_forwarded; /* unjudgeable, not from an enforced member */
	uint64_t top_lost;	      /* blocked-source events the ring could not take */
	uint64_t member[GNN_STATS_MAX_SLOTS][GNN_MC_MAX];
} __attribute__((aligned(64)));

struct gnn_stats_total {
	uint64_t port_rx[GNN_STATS_MAX_PORTS];
	uint64_t port_tx[GNN_STATS_MAX_PORTS];
	uint64_t port_tx_dropped[GNN_STATS_MAX_PORTS];
	uint64_t malformed_dropped[GNN_MALFORMED_MAX];
	uint64_t malformed_forwarded;
	uint64_t top_lost;
	uint64_t member[GNN_STATS_MAX_SLOTS][GNN_MC_MAX];
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
 * Sum n per-lcore counter sets into total (overwritten).
 * Control lcore (or any reader); lock-free, tolerates concurrent writers.
 */
void gnn_stats_sum(const struct gnn_lcore_stats *const *lcores, unsigned int n,
		   struct gnn_stats_total *total);

#endif /* GNN_STATS_H */
