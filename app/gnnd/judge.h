/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_JUDGE_H
#define GNND_JUDGE_H

/*
 * One inside frame's verdict turned into what the worker does with it: its
 * counters, and the event that tells the control lcore who was blocked.
 * Worker lcores only (the classify benchmark times this same code).
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "acl/gnn_acl.h"
#include "stats/gnn_stats.h"

/* A blocked or would-block source, passed from a worker to the control lcore. */
struct gnn_top_event {
	uint8_t family;
	uint8_t counter; /* GNN_MC_BLOCKED or GNN_MC_WOULD_BLOCK */
	uint16_t slot;
	uint8_t addr[16];
};

static inline bool
gnn_verdict_forwards(enum gnn_verdict v)
{
	return v == GNN_VERDICT_FORWARD || v == GNN_VERDICT_ALLOWED || v == GNN_VERDICT_WOULD_BLOCK;
}

/* Tell the control lcore; a full ring costs the event, never the frame. */
static inline void
gnn_judge_report_source(struct gnn_lcore_stats *stats, struct rte_ring *top_ring,
			const struct gnn_frame_info *info, uint16_t slot,
			enum gnn_member_counter counter)
{
	struct gnn_top_event ev = {
		.family = info->family,
		.counter = (uint8_t)counter,
		.slot = slot,
	};

	memcpy(ev.addr, info->src, sizeof(ev.addr));
	if (rte_ring_sp_enqueue_elem(top_ring, &ev, sizeof(ev)) != 0)
		stats->top_lost++;
}

/*
 * Judge one parsed inside frame whose ACL result is known, and count it.
 * The caller forwards the frame when gnn_verdict_forwards() says so.
 */
static inline enum gnn_verdict
gnn_judge_frame(struct gnn_lcore_stats *stats, struct rte_ring *top_ring,
		const struct gnn_ruleset *rs, const struct gnn_frame_info *info, uint32_t result)
{
	int member;
	enum gnn_verdict v = gnn_ruleset_decide(rs, info, result, &member);
	uint16_t slot = member >= 0 ? rs->members[member].slot : 0;

	switch (v) {
	case GNN_VERDICT_FORWARD:
		if (unlikely(info->kind == GNN_PARSE_MALFORMED))
			stats->malformed_forwarded++;
		break;
	case GNN_VERDICT_ALLOWED:
		stats->member[slot][GNN_MC_ALLOWED]++;
		break;
	case GNN_VERDICT_WOULD_BLOCK:
		stats->member[slot][GNN_MC_WOULD_BLOCK]++;
		gnn_judge_report_source(stats, top_ring, info, slot, GNN_MC_WOULD_BLOCK);
		break;
	case GNN_VERDICT_BLOCKED:
		stats->member[slot][GNN_MC_BLOCKED]++;
		gnn_judge_report_source(stats, top_ring, info, slot, GNN_MC_BLOCKED);
		break;
	case GNN_VERDICT_MALFORMED_DROP:
		stats->malformed_dropped[info->reason]++;
		break;
	}
	return v;
}

#endif /* GNND_JUDGE_H */
