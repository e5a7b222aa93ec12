/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "stats/gnn_stats.h"

/* A relaxed atomic load: whole 64-bit values even while a worker writes. */
static inline uint64_t
read_counter(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

static void
add_counters(uint64_t *sum, const uint64_t *counters, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		sum[i] += read_counter(&counters[i]);
}

static uint32_t
min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

void
gnn_stats_sum(const struct gnn_lcore_stats *const *lcores, unsigned int n,
	      const struct gnn_member_counters *retired, uint32_t n_retired,
	      struct gnn_stats_total *total)
{
	struct gnn_member_counters *member = total->member;
	uint32_t n_slots = total->n_member_slots;

	memset(total, 0, sizeof(*total));
	total->member = member;
	total->n_member_slots = n_slots;
	if (member != NULL) {
		memset(member, 0, sizeof(*member) * n_slots);
		if (retired != NULL)
			memcpy(member, retired, sizeof(*member) * min_u32(n_slots, n_retired));
	}
	for (unsigned int l = 0; l < n; l++) {
		const struct gnn_lcore_stats *s = lcores[l];
		/* The count first: an array is never smaller than the count stored after it. */
		uint32_t ln = __atomic_load_n(&s->n_member_slots, __ATOMIC_ACQUIRE);
		const struct gnn_member_counters *lm =
			__atomic_load_n(&s->member, __ATOMIC_ACQUIRE);

		add_counters(total->port_rx, s->port_rx, GNN_STATS_MAX_PORTS);
		add_counters(total->port_tx, s->port_tx, GNN_STATS_MAX_PORTS);
		add_counters(total->port_tx_dropped, s->port_tx_dropped, GNN_STATS_MAX_PORTS);
		add_counters(total->malformed_dropped, s->malformed_dropped, GNN_MALFORMED_MAX);
		add_counters(&total->malformed_forwarded, &s->malformed_forwarded, 1);
		add_counters(&total->records_lost, &s->records_lost, 1);
		add_counters(&total->sightings_lost, &s->sightings_lost, 1);
		add_counters(&total->rejects_sent, &s->rejects_sent, 1);
		add_counters(&total->rejects_limited, &s->rejects_limited, 1);
		add_counters(&total->cache_hits, &s->cache_hits, 1);
		add_counters(&total->cache_misses, &s->cache_misses, 1);
		if (member != NULL && lm != NULL)
			add_counters(member[0].c, lm[0].c, min_u32(n_slots, ln) * GNN_MC_MAX);
	}
	for (unsigned int p = 0; p < GNN_STATS_MAX_PORTS; p++) {
		total->rx_packets += total->port_rx[p];
		total->forwarded += total->port_tx[p];
		total->tx_dropped += total->port_tx_dropped[p];
	}
	for (unsigned int r = 0; r < GNN_MALFORMED_MAX; r++)
		total->malformed_total += total->malformed_dropped[r];
	for (uint32_t m = 0; member != NULL && m < n_slots; m++) {
		total->allowed += member[m].c[GNN_MC_ALLOWED];
		total->blocked += member[m].c[GNN_MC_BLOCKED];
		total->would_block += member[m].c[GNN_MC_WOULD_BLOCK];
	}
}

void
gnn_stats_retire(struct gnn_member_counters *retired, const struct gnn_member_counters *old,
		 uint32_t n)
{
	for (uint32_t m = 0; m < n; m++)
		for (int c = 0; c < GNN_MC_MAX; c++)
			retired[m].c[c] += old[m].c[c];
}
