/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fast path. Each worker lcore polls its RX queues in bursts: frames
 * from an inside port are parsed into keys, the keys that need it are
 * classified with one rte_acl call per address family, then each frame is
 * forwarded to the paired port or dropped. No locks, syscalls, allocation
 * or logging here; counters are this lcore's own.
 */

#include <stdbool.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "gnnd.h"
#include "notify.h"

_Static_assert(GNN_BURST <= GNN_RULESET_MAX_BURST, "a burst is classified in one go");
_Static_assert(RTE_MAX_ETHPORTS <= GNN_STATS_MAX_PORTS, "port counters are indexed by port id");

/* TX attempts before the rest of a burst counts as dropped. */
#define TX_RETRIES 3

/* Keys and results of one burst, on the worker's stack. */
struct burst_keys {
	struct gnn_frame_info info[GNN_BURST];
	uint32_t result[GNN_BURST];
};

/*
 * Parse one frame. Headers are read from the first segment; a chained frame
 * (jumbo frame, pcap) whose headers run past it is copied out and parsed
 * again, so a long IPv6 extension chain is judged, not called truncated.
 */
static void
parse_mbuf(struct gnn_worker *w, const struct rte_mbuf *m, struct gnn_frame_info *info)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	uint32_t head = rte_pktmbuf_data_len(m);
	const uint8_t *copy;

	gnn_parse_frame_segmented(rte_pktmbuf_mtod(m, const uint8_t *), head, len, info);
	if (likely(info->kind != GNN_PARSE_MALFORMED || head >= len))
		return;
	if (info->reason != GNN_MALFORMED_TRUNCATED && info->reason != GNN_MALFORMED_FRAG_NO_L4)
		return;
	head = RTE_MIN(len, (uint32_t)sizeof(w->linear));
	copy = rte_pktmbuf_read(m, 0, head, w->linear);
	if (copy != NULL)
		gnn_parse_frame_segmented(copy, head, len, info);
}

/* Parse the burst and classify the sources that need it. */
static void
classify_burst(struct gnn_worker *w, const struct gnn_ruleset *rs, struct rte_mbuf **pkts,
	       uint16_t n, struct burst_keys *k)
{
	for (uint16_t i = 0; i < n; i++)
		parse_mbuf(w, pkts[i], &k->info[i]);
	gnn_ruleset_lookup_burst(rs, k->info, n, k->result);
}

/* Judge an inside burst: keeps the frames to forward in pkts, returns their count. */
static uint16_t
judge_burst(struct gnn_worker *w, const struct gnn_ruleset *rs, struct rte_mbuf **pkts, uint16_t n)
{
	struct burst_keys k;
	struct rte_mbuf *drop[GNN_BURST];
	uint16_t n_fwd = 0, n_drop = 0;

	classify_burst(w, rs, pkts, n, &k);
	for (uint16_t i = 0; i < n; i++) {
		enum gnn_verdict v =
			gnn_judge_frame(&w->stats, w->top_ring, rs, &k.info[i], k.result[i]);

		if (gnn_verdict_forwards(v))
			pkts[n_fwd++] = pkts[i];
		else
			drop[n_drop++] = pkts[i];
	}
	if (n_drop > 0)
		rte_pktmbuf_free_bulk(drop, n_drop);
	return n_fwd;
}

static void
send_burst(struct gnn_worker *w, const struct gnn_rx_unit *u, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t sent = 0;

	for (int attempt = 0; attempt < TX_RETRIES && sent < n; attempt++)
		sent += rte_eth_tx_burst(u->tx_port, u->tx_queue, pkts + sent, n - sent);
	w->stats.port_tx[u->tx_port] += sent;
	if (unlikely(sent < n)) {
		w->stats.port_tx_dropped[u->tx_port] += n - sent;
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
}

static void
poll_unit(struct gnn_worker *w, const struct gnn_ruleset *rs, const struct gnn_rx_unit *u)
{
	struct rte_mbuf *pkts[GNN_BURST];
	uint16_t n = rte_eth_rx_burst(u->rx_port, u->rx_queue, pkts, GNN_BURST);

	if (n == 0)
		return;
	w->stats.port_rx[u->rx_port] += n;
	if (u->inside)
		n = judge_burst(w, rs, pkts, n);
	if (n > 0)
		send_burst(w, u, pkts, n);
}

int
gnn_worker_main(void *arg)
{
	struct gnn_worker *w = arg;
	struct rte_rcu_qsbr *rcu = gnnd.rcu;

	rte_rcu_qsbr_thread_register(rcu, w->rcu_id);
	rte_rcu_qsbr_thread_online(rcu, w->rcu_id);
	__atomic_store_n(&w->running, 1, __ATOMIC_RELEASE);

	while (!__atomic_load_n(&gnnd.quit, __ATOMIC_RELAXED)) {
		/* Pairs with the release store that publishes a new ruleset. */
		const struct gnn_ruleset *rs =
			__atomic_load_n(&gnnd.active_on[w->socket_id], __ATOMIC_ACQUIRE);

		for (unsigned int u = 0; u < w->n_units; u++)
			poll_unit(w, rs, &w->units[u]);
		/* The ruleset read above is no longer referenced. */
		rte_rcu_qsbr_quiescent(rcu, w->rcu_id);
		GNN_TEST_STALL_POINT(w);
		__atomic_store_n(&w->loops, w->loops + 1, __ATOMIC_RELAXED);
	}

	rte_rcu_qsbr_thread_offline(rcu, w->rcu_id);
	rte_rcu_qsbr_thread_unregister(rcu, w->rcu_id);
	__atomic_store_n(&w->running, 0, __ATOMIC_RELEASE);
	return 0;
}
