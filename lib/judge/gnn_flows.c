/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker flow aggregation (see gnn_flows.h). A set of GNN_FLOWS_WAYS
 * entries per hash of the key; a new flow takes an empty way, else the one
 * seen least recently, whose record is sent first. An entry whose record
 * was sent keeps its key with no packets, so the flow's next packet finds
 * it again.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "judge/gnn_flows.h"
#include "judge/gnn_judge.h"

/* Entries the aging sweep looks at per tick. */
#define SWEEP_PER_TICK 8

/* The key's first word: family, verdict and destination port, as they lie in a record. */
static inline uint32_t
key_head(uint8_t family, uint8_t verdict, uint16_t dport)
{
	struct {
		uint8_t family, verdict;
		uint16_t dport;
	} h = {family, verdict, dport};
	uint32_t x;

	memcpy(&x, &h, sizeof(x));
	return x;
}

static inline uint32_t
entry_head(const struct gnn_flow_record *e)
{
	uint32_t x;

	memcpy(&x, e, sizeof(x));
	return x;
}

static inline bool
same_flow(const struct gnn_flow_record *e, uint32_t head, const uint64_t *addrs)
{
	uint64_t a[4];

	memcpy(a, e->src, sizeof(a)); /* src and dst, adjacent */
	return entry_head(e) == head &&
	       ((a[0] ^ addrs[0]) | (a[1] ^ addrs[1]) | (a[2] ^ addrs[2]) | (a[3] ^ addrs[3])) == 0;
}

_Static_assert(offsetof(struct gnn_flow_record, family) == 0 &&
		       offsetof(struct gnn_flow_record, verdict) == 1 &&
		       offsetof(struct gnn_flow_record, dport) == 2,
	       "a record starts with the key's first word");
_Static_assert(offsetof(struct gnn_flow_record, dst) == offsetof(struct gnn_flow_record, src) + 16,
	       "src and dst are compared as one 32-byte key");

/* Hand e's record to the control lcore and leave e empty of packets. */
static inline void
send_one(struct gnn_flows *fl, struct gnn_flow_record *e)
{
	if (rte_ring_sp_enqueue_elem(fl->ring, e, sizeof(*e)) != 0)
		fl->lost++;
	e->packets = 0;
	e->octets = 0;
	fl->n_pending--;
}

static inline void
add(struct gnn_flows *fl, const struct gnn_frame_info *f, uint8_t verdict, uint64_t now)
{
	uint32_t head = key_head(f->family, verdict, f->dport);
	uint64_t addrs[4];
	struct gnn_flow_record *set, *e = NULL;
	uint32_t h;

	memcpy(addrs, f->src, 16);
	memcpy(addrs + 2, f->dst, 16);
	h = rte_hash_crc_4byte(head, 0x9747b28c);
	h = rte_hash_crc_8byte(addrs[0], h);
	h = rte_hash_crc_8byte(addrs[1], h);
	h = rte_hash_crc_8byte(addrs[2], h);
	h = rte_hash_crc_8byte(addrs[3], h);
	set = &fl->cache[(h & fl->set_mask) * GNN_FLOWS_WAYS];
	for (unsigned int w = 0; w < GNN_FLOWS_WAYS; w++) {
		if (same_flow(&set[w], head, addrs)) {
			e = &set[w];
			break;
		}
	}
	if (e == NULL) {
		/* An empty way, else the one seen least recently. */
		e = &set[0];
		for (unsigned int w = 0; w < GNN_FLOWS_WAYS; w++) {
			if (set[w].packets == 0) {
				e = &set[w];
				break;
			}
			if (set[w].last < e->last)
				e = &set[w];
		}
		if (e->packets > 0)
			send_one(fl, e);
		e->family = f->family;
		e->verdict = verdict;
		e->dport = f->dport;
		memcpy(e->src, addrs, sizeof(addrs));
	}
	if (e->packets == 0) {
		e->first = now;
		fl->n_pending++;
	}
	e->packets++;
	e->octets += f->ip_len;
	e->last = now;
}

void
gnn_flows_add(struct gnn_flows *fl, const struct gnn_frame_info *f, uint8_t verdict, uint64_t now)
{
	add(fl, f, verdict, now);
}

void
gnn_flows_burst(struct gnn_flows *fl, const struct gnn_frame_info *info, const uint8_t *verdicts,
		uint32_t n, uint64_t now)
{
	for (uint32_t i = 0; i < n; i++) {
		enum gnn_verdict v = GNN_JUDGE_VERDICT(verdicts[i]);

		if (v == GNN_VERDICT_ALLOWED || v == GNN_VERDICT_WOULD_BLOCK ||
		    v == GNN_VERDICT_BLOCKED)
			add(fl, &info[i], (uint8_t)v, now);
	}
}

void
gnn_flows_sweep(struct gnn_flows *fl, uint64_t now)
{
	uint32_t mask = (fl->set_mask + 1) * GNN_FLOWS_WAYS - 1;

	for (unsigned int k = 0; k < SWEEP_PER_TICK; k++) {
		struct gnn_flow_record *e = &fl->cache[fl->sweep++ & mask];

		if (e->packets == 0 || now - e->first < fl->flush_ticks)
			continue;
		/* A full ring keeps the counts here rather than lose them. */
		if (rte_ring_free_count(fl->ring) == 0)
			break;
		send_one(fl, e);
	}
}

uint32_t
gnn_flows_flush_all(struct gnn_flows *fl)
{
	uint32_t n_entries = (fl->set_mask + 1) * GNN_FLOWS_WAYS;
	uint32_t left = 0;

	if (fl->cache == NULL)
		return 0;
	for (uint32_t i = 0; i < n_entries; i++) {
		struct gnn_flow_record *e = &fl->cache[i];

		if (e->packets == 0)
			continue;
		if (rte_ring_free_count(fl->ring) == 0) {
			left++;
			continue;
		}
		send_one(fl, e);
	}
	return left;
}

int
gnn_flows_init(struct gnn_flows *fl, uint32_t entries, uint64_t flush_ticks, struct rte_ring *ring,
	       int socket_id)
{
	if (entries < GNN_FLOWS_WAYS || (entries & (entries - 1)) != 0 || ring == NULL)
		return -EINVAL;
	memset(fl, 0, sizeof(*fl));
	fl->cache = rte_zmalloc_socket("gnn_flow_cache", sizeof(*fl->cache) * entries,
				       RTE_CACHE_LINE_SIZE, socket_id);
	if (fl->cache == NULL)
		return -ENOMEM;
	fl->set_mask = entries / GNN_FLOWS_WAYS - 1;
	fl->flush_ticks = flush_ticks;
	fl->ring = ring;
	return 0;
}

void
gnn_flows_fini(struct gnn_flows *fl)
{
	rte_free(fl->cache);
	fl->cache = NULL;
}
