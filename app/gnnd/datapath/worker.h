/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_WORKER_H
#define GNND_WORKER_H

/*
 * A worker lcore: what it polls, what it reads and what it writes. Each
 * field says who writes it; the worker finds everything it reads through
 * this struct (docs/design.md, "Who owns what").
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "judge/gnn_flows.h"
#include "judge/gnn_judge.h"
#include "stats/gnn_stats.h"

struct rte_rcu_qsbr;
struct rte_ring;

#define GNN_BURST     32
#define GNN_MAX_UNITS 16 /* RX queues one worker may poll */
/* Largest header span a chained frame is copied out for: 8 IPv6 extension
 * headers of the longest kind, plus Ethernet, tags, IPv6 and TCP. */
#define GNN_LINEAR_MAX (8 * 2048 + 512)

/* One RX queue and where its frames go. */
struct gnn_rx_unit {
	uint16_t rx_port;
	uint16_t rx_queue;
	uint16_t tx_port;
	uint16_t tx_queue;    /* used by this worker only: TX needs no lock */
	uint16_t reply_queue; /* TX queue of rx_port for rejects: this worker's too */
	bool inside;	      /* frames are judged; outside frames pass untouched */
};

#ifdef GNN_STAGE_CYCLES
/* Fast-path stages whose TSC cycles a -Dstage_cycles=true build counts. */
enum gnn_stage {
	GNN_STAGE_RX,	 /* rte_eth_rx_burst of a burst that brought frames */
	GNN_STAGE_PARSE, /* prefetch and parse every frame of an inside burst */
	GNN_STAGE_JUDGE, /* gnn_judge_burst: source cache, counters, records (less classify) */
	GNN_STAGE_ACT,	 /* sort by verdict, free the dropped, send rejects */
	GNN_STAGE_TX,	 /* rte_eth_tx_burst of the forwarded */
	GNN_STAGE_MAX
};

struct gnn_stage_cycles {
	uint64_t last; /* TSC at the end of the previous stage */
	uint64_t cycles[GNN_STAGE_MAX];
	uint64_t packets; /* frames of the bursts timed */
	uint64_t bursts;
};
#endif

/* Rejects a worker may send per second (docs/design.md, "Reject"). */
#define GNN_REJECT_PER_SECOND 1000

struct gnn_worker {
	/* ctrl: w before launch; worker: ro */
	unsigned int lcore_id;
	unsigned int rcu_id;
	unsigned int n_units;
	unsigned int socket_id; /* the lcore's NUMA socket */
	struct gnn_rx_unit units[GNN_MAX_UNITS];
	struct rte_rcu_qsbr *rcu;
	uint64_t tsc_hz;

	/* worker: ro (acquire), ctrl: rw (release): the rules of the worker's socket */
	struct gnn_ruleset *ruleset __rte_cache_aligned;
	int quit;	    /* worker: ro, ctrl: rw */
	uint64_t flush_req; /* worker: ro, ctrl: rw: send every pending record now */
#ifdef GNN_TEST_HOOKS
	uint64_t test_stall_tsc; /* worker: ro, ctrl: rw: test builds stop looping from then */
#endif
	/* worker: ro, ctrl: rw (release): &flows while the IPFIX export is on, else NULL */
	struct gnn_flows *flows_on;

	/* worker: rw, ctrl: ro */
	int running __rte_cache_aligned;
	uint64_t loops;	      /* bumped once per poll loop: the watchdog's heartbeat */
	uint64_t flush_done;  /* the last flush_req served */
	uint64_t reject_tsc;  /* start of the current reject second */
	uint32_t reject_left; /* rejects still allowed in it */

	/* worker: rw; ctrl: ro (counters), rw (the member array, see gnn_stats.h) */
	struct gnn_lcore_stats stats __rte_cache_aligned;
	/* worker: rw; ctrl: creates and drains the rings */
	struct gnn_judge judge __rte_cache_aligned;
	/* worker: rw (the cache); ctrl: creates and drains the ring */
	struct gnn_flows flows __rte_cache_aligned;
	uint8_t linear[GNN_LINEAR_MAX]; /* worker only: headers of a chained frame */
#ifdef GNN_STAGE_CYCLES
	struct gnn_stage_cycles stage __rte_cache_aligned; /* worker: rw, ctrl: ro */
#endif
} __rte_cache_aligned;

/* What the control lcore writes must not share a line with what the worker writes. */
_Static_assert(offsetof(struct gnn_worker, stats) % RTE_CACHE_LINE_SIZE == 0,
	       "counters start a cache line");
_Static_assert(offsetof(struct gnn_worker, running) % RTE_CACHE_LINE_SIZE == 0,
	       "the worker's own fields start a cache line");
_Static_assert(offsetof(struct gnn_worker, ruleset) % RTE_CACHE_LINE_SIZE == 0,
	       "the fields the control lcore publishes start a cache line");

/* The poll loop. Runs on a worker lcore. */
int gnn_worker_main(void *arg);

#endif /* GNND_WORKER_H */
