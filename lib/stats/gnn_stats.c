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

void
gnn_stats_sum(const struct gnn_lcore_stats *const *lcores, unsigned int n,
	      struct gnn_stats_total *total)
{
	memset(total, 0, sizeof(*total));
	for (unsigned int l = 0; l < n; l++) {
		const struct gnn_lcore_stats *s = lcores[l];

		add_counters(total->port_rx, s->port_rx, GNN_STATS_MAX_PORTS);
		add_counters(total->port_tx, s->port_tx, GNN_STATS_MAX_PORTS);
		add_counters(total->port_tx_dropped, s->port_tx_dropped, GNN_STATS_MAX_PORTS);
		add_counters(total->malformed_dropped, s->malformed_dropped, GNN_MALFORMED_MAX);
		add_counters(&total->malformed_forwarded, &s->malformed_forwarded, 1);
		add_counters(&total->top_lost, &s->top_lost, 1);
		add_counters(&total->member[0][0], &s->member[0][0],
			     GNN_STATS_MAX_SLOTS * GNN_MC_MAX);
	}
	for (unsigned int p = 0; p < GNN_STATS_MAX_PORTS; p++) {
		total->rx_packets += total->port_rx[p];
		total->forwarded += total->port_tx[p];
		total->tx_dropped += total->port_tx_dropped[p];
	}
	for (unsigned int r = 0; r < GNN_MALFORMED_MAX; r++)
		total->malformed_total += total->malformed_dropped[r];
	for (unsigned int m = 0; m < GNN_STATS_MAX_SLOTS; m++) {
		total->allowed += total->member[m][GNN_MC_ALLOWED];
		total->blocked += total->member[m][GNN_MC_BLOCKED];
		total->would_block += total->member[m][GNN_MC_WOULD_BLOCK];
	}
}
