/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "control/counters.h"
#include "gnnd.h"

#define MIN_SLOTS 64

static struct {
	/* Arrays replaced by gnn_counters_reserve(), until the grace period. */
	struct gnn_member_counters *old[RTE_MAX_LCORE];
	uint32_t old_slots[RTE_MAX_LCORE];
	/* What replaced arrays counted, by slot. */
	struct gnn_member_counters *retired;
	uint32_t n_retired;
} counters;

static int
grow_retired(uint32_t n_slots)
{
	struct gnn_member_counters *r;

	if (n_slots <= counters.n_retired)
		return 0;
	r = realloc(counters.retired, sizeof(*r) * n_slots);
	if (r == NULL)
		return -ENOMEM;
	memset(r + counters.n_retired, 0, sizeof(*r) * (n_slots - counters.n_retired));
	counters.retired = r;
	counters.n_retired = n_slots;
	return 0;
}

int
gnn_counters_reserve(uint32_t n_slots)
{
	struct gnn_member_counters *fresh[RTE_MAX_LCORE] = {0};
	uint32_t want = MIN_SLOTS;
	bool grow = false;

	for (unsigned int i = 0; i < gnnd.n_workers; i++)
		grow |= gnnd.workers[i]->stats.n_member_slots < n_slots;
	if (!grow)
		return 0;
	while (want < n_slots)
		want *= 2;
	if (grow_retired(want) != 0)
		return -ENOMEM;
	for (unsigned int i = 0; i < gnnd.n_workers; i++) {
		struct gnn_worker *w = gnnd.workers[i];

		if (counters.old[i] != NULL) {
			/* A reserve without retire in between: nothing to hand over yet. */
			goto fail;
		}
		fresh[i] = rte_zmalloc_socket("gnn_member_counters", sizeof(*fresh[i]) * want,
					      RTE_CACHE_LINE_SIZE, (int)w->socket_id);
		if (fresh[i] == NULL)
			goto fail;
	}
	for (unsigned int i = 0; i < gnnd.n_workers; i++) {
		struct gnn_lcore_stats *s = &gnnd.workers[i]->stats;

		counters.old[i] = s->member;
		counters.old_slots[i] = s->n_member_slots;
		/* The array first, then its size (readers load them in the other order). */
		__atomic_store_n(&s->member, fresh[i], __ATOMIC_RELEASE);
		__atomic_store_n(&s->n_member_slots, want, __ATOMIC_RELEASE);
	}
	return 0;
fail:
	for (unsigned int i = 0; i < gnnd.n_workers; i++)
		rte_free(fresh[i]);
	return -ENOMEM;
}

void
gnn_counters_retire(void)
{
	for (unsigned int i = 0; i < gnnd.n_workers; i++) {
		if (counters.old[i] == NULL)
			continue;
		gnn_stats_retire(counters.retired, counters.old[i], counters.old_slots[i]);
		rte_free(counters.old[i]);
		counters.old[i] = NULL;
	}
}

struct gnn_stats_total *
gnn_counters_sum(uint32_t n_slots)
{
	const struct gnn_lcore_stats *lcores[RTE_MAX_LCORE];
	struct gnn_stats_total *total = calloc(1, sizeof(*total));

	if (total == NULL)
		return NULL;
	total->member = calloc(RTE_MAX(n_slots, 1u), sizeof(*total->member));
	if (total->member == NULL) {
		free(total);
		return NULL;
	}
	total->n_member_slots = n_slots;
	for (unsigned int w = 0; w < gnnd.n_workers; w++)
		lcores[w] = &gnnd.workers[w]->stats;
	/* Replaced arrays not yet retired are summed too: nothing counts twice or never. */
	gnn_stats_sum(lcores, gnnd.n_workers, counters.retired, counters.n_retired, total);
	for (unsigned int w = 0; w < gnnd.n_workers; w++) {
		if (counters.old[w] == NULL)
			continue;
		for (uint32_t m = 0; m < RTE_MIN(n_slots, counters.old_slots[w]); m++) {
			uint64_t c[GNN_MC_MAX];

			for (int k = 0; k < GNN_MC_MAX; k++) {
				c[k] = __atomic_load_n(&counters.old[w][m].c[k], __ATOMIC_RELAXED);
				total->member[m].c[k] += c[k];
			}
			total->allowed += c[GNN_MC_ALLOWED];
			total->blocked += c[GNN_MC_BLOCKED];
			total->would_block += c[GNN_MC_WOULD_BLOCK];
		}
	}
	return total;
}

void
gnn_counters_free(struct gnn_stats_total *total)
{
	if (total == NULL)
		return;
	free(total->member);
	free(total);
}

void
gnn_counters_fini(void)
{
	gnn_counters_retire();
	for (unsigned int i = 0; i < gnnd.n_workers; i++) {
		struct gnn_lcore_stats *s = &gnnd.workers[i]->stats;

		rte_free(s->member);
		s->member = NULL;
		s->n_member_slots = 0;
	}
	free(counters.retired);
	counters.retired = NULL;
	counters.n_retired = 0;
}
