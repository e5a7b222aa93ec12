/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_ACL_H
#define GNN_ACL_H

/*
 * Ruleset: a validated policy compiled into what the workers read. One
 * rte_acl context per address family maps a source address to its member
 * (longest-prefix network) and tells whether it is one of that member's
 * mail servers; a bitmap holds the blocked destination ports.
 *
 * A ruleset is immutable once published. The control lcore builds and frees
 * it; workers read it between two RCU quiescent states.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_acl.h>
#include <rte_common.h>

#include "parse/gnn_parse.h"
#include "policy/gnn_policy.h"

/* Verdict of one inside frame. */
enum gnn_verdict {
	GNN_VERDICT_FORWARD = 0,    /* not a candidate, or no member, or mode off */
	GNN_VERDICT_ALLOWED,	    /* candidate from a mail server: forward, count */
	GNN_VERDICT_WOULD_BLOCK,    /* candidate from a monitored member: forward, count */
	GNN_VERDICT_BLOCKED,	    /* candidate from an enforced member: drop, count */
	GNN_VERDICT_MALFORMED_DROP, /* cannot be judged, from an enforced member or unknown */
};

struct gnn_ruleset_member {
	uint8_t mode;  /* enum gnn_mode */
	uint16_t slot; /* index of the member's counters (stable across reloads) */
};

struct gnn_ruleset {
	uint64_t generation;
	struct rte_acl_ctx *acl4; /* NULL when no IPv4 rule exists */
	struct rte_acl_ctx *acl6; /* NULL when no IPv6 rule exists */
	uint32_t n_rules4;
	uint32_t n_rules6;
	uint32_t n_members;
	struct gnn_ruleset_member *members;
	struct gnn_policy *policy; /* names for the control lcore */
	bool owns_policy;	   /* false in a replica: the original frees it */
	int socket_id;		   /* NUMA socket of the ACL contexts */
	uint64_t blocked_ports[65536 / 64];
};

/*
 * ACL results are nonzero for a match: the member's index in the policy and
 * whether the address is one of its mail servers.
 */
static inline uint32_t
gnn_acl_userdata(uint32_t member, bool mail_server)
{
	return ((member + 1) << 1) | (mail_server ? 1 : 0);
}

static inline int
gnn_acl_result_member(uint32_t result)
{
	return (int)(result >> 1) - 1;
}

static inline bool
gnn_acl_result_is_server(uint32_t result)
{
	return (result & 1) != 0;
}

/*
 * Compile policy (ownership moves to the ruleset on success) into a ruleset
 * of the given generation on NUMA socket socket_id. slots[i] is the counter
 * slot of policy member i. Returns NULL with rte_errno set and a reason in
 * err.
 * Control lcore only (needs EAL).
 */
struct gnn_ruleset *gnn_ruleset_build(struct gnn_policy *policy, const uint16_t *slots,
				      uint64_t generation, int socket_id, char *err, size_t errlen);

/*
 * The same ruleset (rules, members, slots, generation) with its ACL contexts
 * on another NUMA socket, for the workers there. It borrows src's policy:
 * free it before src. NULL with rte_errno and err set.
 * Control lcore only (needs EAL).
 */
struct gnn_ruleset *gnn_ruleset_replicate(const struct gnn_ruleset *src, int socket_id, char *err,
					  size_t errlen);

/* Free a ruleset no worker can see any more. NULL-safe. Control lcore only. */
void gnn_ruleset_free(struct gnn_ruleset *rs);

static inline bool
gnn_ruleset_port_blocked(const struct gnn_ruleset *rs, uint16_t port)
{
	return (rs->blocked_ports[port >> 6] >> (port & 63)) & 1;
}

/* The frame needs an ACL lookup of its source before it can be judged. */
static inline bool
gnn_ruleset_needs_lookup(const struct gnn_ruleset *rs, const struct gnn_frame_info *info)
{
	if (info->kind == GNN_PARSE_TCP)
		return gnn_ruleset_port_blocked(rs, info->dport);
	return info->kind == GNN_PARSE_MALFORMED && info->family != 0;
}

/*
 * Classify n frames of one family (4 or 6) whose sources need a lookup;
 * results[i] is 0 (no member) or a gnn_acl_userdata() value.
 * Any lcore, lock-free.
 */
static inline void
gnn_ruleset_lookup(const struct gnn_ruleset *rs, int family, const uint8_t **data,
		   uint32_t *results, uint32_t n)
{
	const struct rte_acl_ctx *ctx = family == 4 ? rs->acl4 : rs->acl6;

	if (ctx == NULL || rte_acl_classify(ctx, data, results, n, 1) != 0) {
		for (uint32_t i = 0; i < n; i++)
			results[i] = 0;
	}
}

/* Most frames gnn_ruleset_lookup_burst() takes at once. */
#define GNN_RULESET_MAX_BURST 64

/*
 * Look up the sources of the parsed frames info[0..n) that need it, with
 * one rte_acl call per address family; results[i] becomes frame i's ACL
 * result (0: no lookup made, or no member). Returns how many lookups were
 * made. n <= GNN_RULESET_MAX_BURST.
 * Any lcore, lock-free.
 */
static inline uint32_t
gnn_ruleset_lookup_burst(const struct gnn_ruleset *rs, const struct gnn_frame_info *info,
			 uint32_t n, uint32_t *results)
{
	const uint8_t *data[2][GNN_RULESET_MAX_BURST];
	uint32_t found[2][GNN_RULESET_MAX_BURST];
	uint8_t frame_of[2][GNN_RULESET_MAX_BURST];
	uint32_t count[2] = {0, 0};

	for (uint32_t i = 0; i < n; i++) {
		results[i] = 0;
		if (gnn_ruleset_needs_lookup(rs, &info[i])) {
			unsigned int fam = info[i].family == 6;

			data[fam][count[fam]] = (const uint8_t *)&info[i];
			frame_of[fam][count[fam]++] = (uint8_t)i;
		}
	}
	for (unsigned int fam = 0; fam < 2; fam++) {
		if (count[fam] == 0)
			continue;
		gnn_ruleset_lookup(rs, fam ? 6 : 4, data[fam], found[fam], count[fam]);
		for (uint32_t j = 0; j < count[fam]; j++)
			results[frame_of[fam][j]] = found[fam][j];
	}
	return count[0] + count[1];
}

/*
 * Verdict for an inside frame, given its ACL result (0 when no lookup was
 * made). The semantics table of docs/design.md, in one place.
 * Any lcore, lock-free.
 */
static inline enum gnn_verdict
gnn_ruleset_decide(const struct gnn_ruleset *rs, const struct gnn_frame_info *info, uint32_t result,
		   int *member)
{
	const struct gnn_ruleset_member *m;

	*member = -1;
	if (info->kind == GNN_PARSE_MALFORMED) {
		/* No readable source (too many tags, header cut before it). */
		if (info->family == 0)
			return GNN_VERDICT_MALFORMED_DROP;
		if (result == 0)
			return GNN_VERDICT_FORWARD;
		*member = gnn_acl_result_member(result);
		m = &rs->members[*member];
		return m->mode == GNN_MODE_ENFORCE ? GNN_VERDICT_MALFORMED_DROP
						   : GNN_VERDICT_FORWARD;
	}
	if (result == 0)
		return GNN_VERDICT_FORWARD;
	*member = gnn_acl_result_member(result);
	m = &rs->members[*member];
	if (m->mode == GNN_MODE_OFF)
		return GNN_VERDICT_FORWARD;
	if (gnn_acl_result_is_server(result))
		return GNN_VERDICT_ALLOWED;
	return m->mode == GNN_MODE_ENFORCE ? GNN_VERDICT_BLOCKED : GNN_VERDICT_WOULD_BLOCK;
}

#endif /* GNN_ACL_H */
