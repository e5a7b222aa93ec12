/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_SLOTS_H
#define GNND_SLOTS_H

/*
 * Member counter slots: a member keeps its slot across reloads by name, so
 * its counters are "since start". A new name takes a fresh slot, or, once
 * the slots outnumber twice the members, the slot of a name in neither the
 * running nor the next file; that slot's counters are then read against a
 * baseline so the new member starts at zero, and the listeners are told
 * (the source tables forget the old member). Control lcore only.
 */

#include <stdint.h>

#include "stats/gnn_stats.h"
#include "track/gnn_record.h"

struct gnn_policy;

/*
 * Slots for the members of next (slots[m] for member m), given the running
 * policy (NULL at start), for rules of the given generation.
 * 0 or -ENOMEM (nothing changed).
 */
int gnn_slots_assign(const struct gnn_policy *running, const struct gnn_policy *next,
		     uint64_t generation, uint32_t *slots);

/* Slots handed out so far: counter arrays must hold this many. */
uint32_t gnn_slots_count(void);

/* The name the slot serves ("" for none). */
const char *gnn_slots_name(uint32_t slot);

/* The generation since which the slot serves its name. */
uint64_t gnn_slots_since(uint32_t slot);

/* The member's counters since its name got the slot. */
void gnn_slots_counters(const struct gnn_stats_total *total, uint32_t slot,
			uint64_t out[GNN_MC_MAX]);

/* Told when a slot passes to another name. */
typedef void (*gnn_slots_reuse_fn)(uint32_t slot, void *arg);
int gnn_slots_on_reuse(gnn_slots_reuse_fn fn, void *arg);

void gnn_slots_fini(void);

#endif /* GNND_SLOTS_H */
