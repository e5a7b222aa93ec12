/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_COUNTERS_H
#define GNND_COUNTERS_H

/*
 * The workers' counters as the control plane sees them: their sum, and the
 * member arrays that grow with the member slots in use (lib/stats explains
 * the hand-over). Control lcore only.
 */

#include <stdint.h>

struct gnn_stats_total;

/*
 * Give every worker a member array of at least n_slots (grown ahead, by
 * doubling). The arrays replaced stay readable by the workers until
 * gnn_counters_retire(). 0 or -ENOMEM (nothing changed).
 */
int gnn_counters_reserve(uint32_t n_slots);

/* Fold the replaced arrays into the retired counts and free them: call only
 * after an RCU grace period that followed gnn_counters_reserve(). */
void gnn_counters_retire(void);

/* Every worker's counters summed, with n_slots member slots; NULL when out
 * of memory. Free with gnn_counters_free(). */
struct gnn_stats_total *gnn_counters_sum(uint32_t n_slots);
void gnn_counters_free(struct gnn_stats_total *total);

/* Free every array (after the workers stopped). */
void gnn_counters_fini(void);

#endif /* GNND_COUNTERS_H */
