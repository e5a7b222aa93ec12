/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fast path. Each worker lcore polls its RX queues in bursts: frames
 * from an inside port are parsed into keys and judged (lib/judge: a verdict
 * cache in front of rte_acl), then forwarded to the paired port or dropped;
 * a blocked SYN of a member whose action is reject is turned into an
 * RST+ACK and sent back out of the port it came in on. No locks, syscalls,
 * allocation or logging here; counters are this lcore's own.
 */

#include <stdbool.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include "datapath/reject.h"
#include "datapath/worker.h"

_Static_assert(GNN_BURST <= GNN_JUDGE_MAX_BURST, "a burst is judged in one go");
_Static_assert(RTE_MAX_ETHPORTS <= GNN_STATS_MAX_PORTS, "port counters are indexed by port id");

/* TX attempts before the rest of a burst counts as dropped. */
#define TX_RETRIES 3
/* Frames ahead whose headers are prefetched while one is parsed. */
#define PREFETCH_AHEAD 4

#ifdef GNN_STAGE_CYCLES
/* Benchmark builds: the cycles since the previous mark go to stage s. */
#define STAGE_BEGIN(w) ((w)->stage.last = rte_rdtsc())
#define STAGE_MARK(w, s)                                                                           \
	do {                                                                                       \
		uint64_t now_ = rte_rdtsc();                                                       \
		(w)->stage.cycles[(s)] += now_ - (w)->stage.last;                                  \
		(w)->stage.last = now_;                                                            \
	} while (0)
#else
#define STAGE_BEGIN(w)	 ((void)0)
#define STAGE_MARK(w, s) ((void)0)
#endif

/*
 * Parse one frame. Headers are read from the first segment; a chained frame
 * (jumbo frame, pcap) whose headers run past it is copied out and parsed
 * again, so a long IPv6 extension chain is judged, not called truncated.
 */
static inline void
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

/* One more reject this second, if the worker's budget allows. */
static inline bool
reject_allowed(struct gnn_worker *w, uint64_t now)
{
	if (now - w->reject_tsc >= w->tsc_hz) {
		w->reject_tsc = now;
		w->reject_left = GNN_REJECT_PER_SECOND;
	}
	if (w->reject_left == 0)
		return false;
	w->reject_left--;
	return true;
}

static void
send_rejects(struct gnn_worker *w, const struct gnn_rx_unit *u, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t sent = rte_eth_tx_burst(u->rx_port, u->reply_queue, pkts, n);

	w->stats.rejects_sent += sent;
	if (unlikely(sent < n)) {
		w->stats.port_tx_dropped[u->rx_port] += n - sent;
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
}

/* Judge an inside burst: keeps the frames to forward in pkts, returns their count. */
static uint16_t
judge_burst(struct gnn_worker *w, const struct gnn_ruleset *rs, const struct gnn_rx_unit *u,
	    struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	struct gnn_frame_info info[GNN_BURST];
	uint8_t verdict[GNN_BURST];
	struct rte_mbuf *drop[GNN_BURST], *reply[GNN_BURST];
	uint16_t n_fwd = 0, n_drop = 0, n_reply = 0;
	struct gnn_flows *fl;

	/* Headers of the first frames: Ethernet, tags, IP and TCP fit 128 bytes. */
	for (uint16_t i = 0; i < RTE_MIN(n, (uint16_t)PREFETCH_AHEAD); i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		parse_mbuf(w, pkts[i], &info[i]);
		/* A large source cache lives in memory: fetch while the rest parse. */
		gnn_judge_prepare(&w->judge, rs, &info[i]);
	}
	STAGE_MARK(w, GNN_STAGE_PARSE);
	gnn_judge_burst(&w->judge, rs, info, n, now, verdict);
	STAGE_MARK(w, GNN_STAGE_JUDGE);
	/* The IPFIX export's one flag, once per burst: NULL unless it is configured. */
	fl = __atomic_load_n(&w->flows_on, __ATOMIC_RELAXED);
	if (unlikely(fl != NULL))
		gnn_flows_burst(fl, info, verdict, n, now);
	for (uint16_t i = 0; i < n; i++) {
		if (gnn_verdict_forwards(verdict[i])) {
			pkts[n_fwd++] = pkts[i];
		} else if (unlikely(verdict[i] & GNN_JUDGE_REJECT)) {
			if (reject_allowed(w, now) && gnn_reject_rewrite(pkts[i], &info[i]) == 0) {
				reply[n_reply++] = pkts[i];
			} else {
				w->stats.rejects_limited++;
				drop[n_drop++] = pkts[i];
			}
		} else {
			drop[n_drop++] = pkts[i];
		}
	}
	if (n_drop > 0)
		rte_pktmbuf_free_bulk(drop, n_drop);
	if (unlikely(n_reply > 0))
		send_rejects(w, u, reply, n_reply);
	STAGE_MARK(w, GNN_STAGE_ACT);
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

static inline void
poll_unit(struct gnn_worker *w, const struct gnn_ruleset *rs, const struct gnn_rx_unit *u,
	  uint64_t now)
{
	struct rte_mbuf *pkts[GNN_BURST];
	uint16_t n;

	STAGE_BEGIN(w);
	n = rte_eth_rx_burst(u->rx_port, u->rx_queue, pkts, GNN_BURST);
	if (n == 0)
		return;
	STAGE_MARK(w, GNN_STAGE_RX);
#ifdef GNN_STAGE_CYCLES
	w->stage.packets += n;
	w->stage.bursts++;
#endif
	w->stats.port_rx[u->rx_port] += n;
	if (u->inside)
		n = judge_burst(w, rs, u, pkts, n, now);
	if (n > 0)
		send_burst(w, u, pkts, n);
	STAGE_MARK(w, GNN_STAGE_TX);
}

int
gnn_worker_main(void *arg)
{
	struct gnn_worker *w = arg;
	struct rte_rcu_qsbr *rcu = w->rcu;

	rte_rcu_qsbr_thread_register(rcu, w->rcu_id);
	rte_rcu_qsbr_thread_online(rcu, w->rcu_id);
	__atomic_store_n(&w->running, 1, __ATOMIC_RELEASE);

	while (!__atomic_load_n(&w->quit, __ATOMIC_RELAXED)) {
		/* Pairs with the release store that publishes a new ruleset. */
		const struct gnn_ruleset *rs = __atomic_load_n(&w->ruleset, __ATOMIC_ACQUIRE);
		uint64_t now = rte_rdtsc();

		for (unsigned int u = 0; u < w->n_units; u++)
			poll_unit(w, rs, &w->units[u], now);
		gnn_judge_tick(&w->judge, now);
		gnn_flows_tick(&w->flows, now);
		/* The control lcore wants the tables current (a top or servers request). */
		if (unlikely(__atomic_load_n(&w->flush_req, __ATOMIC_RELAXED) != w->flush_done)) {
			uint64_t req = __atomic_load_n(&w->flush_req, __ATOMIC_ACQUIRE);

			gnn_judge_flush_all(&w->judge);
			__atomic_store_n(&w->flush_done, req, __ATOMIC_RELEASE);
		}
		__atomic_store_n(&w->loops, w->loops + 1, __ATOMIC_RELAXED);
		/* The ruleset read above is no longer referenced. */
		rte_rcu_qsbr_quiescent(rcu, w->rcu_id);
#ifdef GNN_TEST_HOOKS
		/* The watchdog test's stuck worker: spins without looping until stopped. */
		if (unlikely(w->test_stall_tsc != 0 &&
			     now >= __atomic_load_n(&w->test_stall_tsc, __ATOMIC_ACQUIRE)))
			while (!__atomic_load_n(&w->quit, __ATOMIC_RELAXED))
				rte_pause();
#endif
	}

	rte_rcu_qsbr_thread_offline(rcu, w->rcu_id);
	rte_rcu_qsbr_thread_unregister(rcu, w->rcu_id);
	__atomic_store_n(&w->running, 0, __ATOMIC_RELEASE);
	return 0;
}
