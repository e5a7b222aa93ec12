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
#include <string.h>

#include <rte_acl.h>
#include <rte_common.h>

#include "parse/gnn_parse.h"
#include "policy/gnn_policy.h"
#include "track/gnn_record.h"

struct gnn_ruleset_member {
	uint8_t mode;	/* enum gnn_mode */
	uint8_t action; /* enum gnn_action */
	uint32_t slot;	/* index of the member's counters (stable across reloads) */
};

/*
 * Mail servers that are single hosts (/32, /128), the usual case, are kept
 * out of the ACL: a host rule costs rte_acl a path to the trie's last byte,
 * which made a 100,000-server build several times slower. They sit in an
 * exact-match table consulted after the ACL found the host's network: a
 * listed host whose most specific network is its own member's is that
 * member's server, exactly what the 2E+2 priority of a server rule gives.
 */
struct gnn_host_entry {
	uint8_t addr[16]; /* IPv4 in addr[0..3], the rest zero */
	uint32_t server;  /* 1 + entry in rs->servers; 0: empty slot */
	uint32_t member;
};

struct gnn_host_table {
	uint32_t mask; /* slots - 1, a power of two minus one; 0 with no slots */
	uint32_t n;
	struct gnn_host_entry *slots;
};

/* One mail_servers entry of the policy, numbered across all members. */
struct gnn_ruleset_server {
	uint32_t member; /* index in the policy */
	uint32_t index;	 /* in that member's mail_servers */
};

struct gnn_ruleset {
	uint64_t generation;
	struct rte_acl_ctx *acl4; /* NULL when no IPv4 rule exists */
	struct rte_acl_ctx *acl6; /* NULL when no IPv6 rule exists */
	uint32_t n_rules4;
	uint32_t n_rules6;
	uint32_t n_members;
	struct gnn_ruleset_member *members;
	uint32_t n_servers;
	struct gnn_ruleset_server *servers;
	struct gnn_host_table hosts4; /* host mail servers, see gnn_host_table */
	struct gnn_host_table hosts6;
	const char *classify_alg;  /* rte_acl algorithm chosen, for reports */
	uint64_t acl_memory;	   /* bytes of the ACL contexts (rte_acl_dump) */
	struct gnn_policy *policy; /* names for the control lcore */
	bool owns_policy;	   /* false in a replica: the original frees it */
	int socket_id;		   /* NUMA socket of the ACL contexts */
	uint64_t blocked_ports[65536 / 64];
};

/*
 * ACL results are nonzero for a match. A network rule carries its member's
 * index in the policy; a mail-server rule the index of its entry in
 * rs->servers (which names the member), with the low bit set.
 */
static inline uint32_t
gnn_acl_userdata(uint32_t index, bool mail_server)
{
	return ((index + 1) << 1) | (mail_server ? 1 : 0);
}

static inline bool
gnn_acl_result_is_server(uint32_t result)
{
	return (result & 1) != 0;
}

/* Server entry of a mail-server result, or -1. */
static inline int
gnn_acl_result_server(uint32_t result)
{
	return gnn_acl_result_is_server(result) ? (int)(result >> 1) - 1 : -1;
}

/* Member of a nonzero result. */
static inline int
gnn_ruleset_result_member(const struct gnn_ruleset *rs, uint32_t result)
{
	int index = (int)(result >> 1) - 1;

	return gnn_acl_result_is_server(result) ? (int)rs->servers[index].member : index;
}

/*
 * Compile policy (ownership moves to the ruleset on success) into a ruleset
 * of the given generation on NUMA socket socket_id. slots[i] is the counter
 * slot of policy member i (slots may be NULL: all 0, set them with
 * gnn_ruleset_set_slots() before publishing). Returns NULL with rte_errno
 * set and a reason in err.
 * Any control-plane thread (needs EAL); not on a worker lcore.
 */
struct gnn_ruleset *gnn_ruleset_build(struct gnn_policy *policy, const uint32_t *slots,
				      uint64_t generation, int socket_id, char *err, size_t errlen);

/*
 * The same ruleset (rules, members, slots, generation) with its ACL contexts
 * on another NUMA socket, for the workers there. It borrows src's policy:
 * free it before src. NULL with rte_errno and err set.
 * Control lcore only (needs EAL).
 */
struct gnn_ruleset *gnn_ruleset_replicate(const struct gnn_ruleset *src, int socket_id, char *err,
					  size_t errlen);

/*
 * How rulesets built from now on classify: "auto" (the best method the CPU
 * and EAL's SIMD width allow, e.g. avx512x32 with --force-max-simd-bitwidth=512),
 * "default" (rte_acl's own choice), or one of "avx512x32", "avx512x16",
 * "avx2", "sse", "scalar". 0 or -EINVAL. Before building, any thread.
 */
int gnn_ruleset_set_classify(const char *name);

/* Set the counter slot of every member (slots[i] for member i) of a ruleset
 * no worker sees yet. */
void gnn_ruleset_set_slots(struct gnn_ruleset *rs, const uint32_t *slots);

/* Free a ruleset no worker can see any more. NULL-safe. Control plane only. */
void gnn_ruleset_free(struct gnn_ruleset *rs);

static inline bool
gnn_ruleset_port_blocked(const struct gnn_ruleset *rs, uint16_t port)
{
	return (rs->blocked_ports[port >> 6] >> (port & 63)) & 1;
}

/* A candidate: TCP to a blocked port (docs/design.md, "Policy semantics"). */
static inline bool
gnn_ruleset_is_candidate(const struct gnn_ruleset *rs, const struct gnn_frame_info *info)
{
	return info->kind == GNN_PARSE_TCP && gnn_ruleset_port_blocked(rs, info->dport);
}

/*
 * A host accepting a connection on a blocked port: a SYN-ACK from it. Its
 * source is looked up too (a likely mail server), but it is never dropped.
 */
static inline bool
gnn_ruleset_is_accept(const struct gnn_ruleset *rs, const struct gnn_frame_info *info)
{
	return info->kind == GNN_PARSE_TCP &&
	       (info->tcp_flags & (GNN_TCP_SYN | GNN_TCP_ACK)) == (GNN_TCP_SYN | GNN_TCP_ACK) &&
	       gnn_ruleset_port_blocked(rs, info->sport);
}

/* The frame needs an ACL lookup of its source before it can be judged. */
static inline bool
gnn_ruleset_needs_lookup(const struct gnn_ruleset *rs, const struct gnn_frame_info *info)
{
	if (info->kind == GNN_PARSE_TCP)
		return gnn_ruleset_port_blocked(rs, info->dport) || gnn_ruleset_is_accept(rs, info);
	return info->kind == GNN_PARSE_MALFORMED && info->family != 0;
}

static inline uint32_t
gnn_host_hash(int family, const uint8_t *addr)
{
	/* FNV-1a over the address: the build and the lookup agree, no SIMD needed. */
	uint32_t h = 2166136261u;
	for (int i = 0; i < (family == 4 ? 4 : 16); i++)
		h = (h ^ addr[i]) * 16777619u;
	return h ^ (h >> 16);
}

/*
 * The host-server entry of member for addr, or NULL (a host may be listed
 * by two nested members: each entry names its own). Any lcore, lock-free.
 */
static inline const struct gnn_host_entry *
gnn_host_find(const struct gnn_host_table *t, int family, const uint8_t *addr, uint32_t member)
{
	if (t->n == 0)
		return NULL;
	for (uint32_t i = gnn_host_hash(family, addr) & t->mask;; i = (i + 1) & t->mask) {
		const struct gnn_host_entry *e = &t->slots[i];

		if (e->server == 0)
			return NULL;
		if (e->member == member && memcmp(e->addr, addr, family == 4 ? 4 : 16) == 0)
			return e;
	}
}

/*
 * Classify n frames of one family (4 or 6) whose sources need a lookup;
 * results[i] is 0 (no member) or a gnn_acl_userdata() value. A network
 * match of a listed host of that member becomes its server's result.
 * Any lcore, lock-free.
 */
static inline void
gnn_ruleset_lookup(const struct gnn_ruleset *rs, int family, const uint8_t **data,
		   uint32_t *results, uint32_t n)
{
	const struct rte_acl_ctx *ctx = family == 4 ? rs->acl4 : rs->acl6;
	const struct gnn_host_table *hosts = family == 4 ? &rs->hosts4 : &rs->hosts6;

	if (ctx == NULL || rte_acl_classify(ctx, data, results, n, 1) != 0) {
		for (uint32_t i = 0; i < n; i++)
			results[i] = 0;
		return;
	}
	if (hosts->n == 0)
		return;
	for (uint32_t i = 0; i < n; i++) {
		const struct gnn_host_entry *h;

		if (results[i] == 0 || gnn_acl_result_is_server(results[i]))
			continue;
		h = gnn_host_find(hosts, family,
				  ((const struct gnn_frame_info *)(const void *)data[i])->src,
				  (results[i] >> 1) - 1);
		if (h != NULL)
			results[i] = gnn_acl_userdata(h->server - 1, true);
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
 * made). The semantics table of docs/design.md, in one place. A SYN-ACK
 * from a blocked port that is not itself a candidate is forwarded.
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
		*member = gnn_ruleset_result_member(rs, result);
		m = &rs->members[*member];
		return m->mode == GNN_MODE_ENFORCE ? GNN_VERDICT_MALFORMED_DROP
						   : GNN_VERDICT_FORWARD;
	}
	if (result == 0)
		return GNN_VERDICT_FORWARD;
	*member = gnn_ruleset_result_member(rs, result);
	if (!gnn_ruleset_port_blocked(rs, info->dport))
		return GNN_VERDICT_FORWARD; /* a SYN-ACK: noted, never judged */
	m = &rs->members[*member];
	if (m->mode == GNN_MODE_OFF)
		return GNN_VERDICT_FORWARD;
	if (gnn_acl_result_is_server(result))
		return GNN_VERDICT_ALLOWED;
	return m->mode == GNN_MODE_ENFORCE ? GNN_VERDICT_BLOCKED : GNN_VERDICT_WOULD_BLOCK;
}

#endif /* GNN_ACL_H */
