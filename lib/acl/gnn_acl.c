/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy -> rte_acl contexts.
 *
 * Longest-prefix membership is expressed with ACL priorities: a member
 * network of length L gets priority 2L+1, so the most specific network wins
 * (not 2L: rte_acl refuses priority 0, which a /0 network would get).
 * A mail-server prefix gets 2E+2, where E is the length of the member's own
 * network that encloses it: it beats exactly that network (and shorter
 * ones), but never a longer network of another member nested inside. A
 * server prefix wider than a network of its member is cut down to that
 * network. Identical networks in two members are refused by the policy, so
 * no two overlapping rules of different meaning share a priority.
 */

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "acl/gnn_acl.h"
#include "log/gnn_log.h"

RTE_LOG_REGISTER(gnn_logtype_acl, gnn.acl, INFO);
#define GNN_LOGTYPE gnn_logtype_acl

#define ACL_FIELDS4 2
#define ACL_FIELDS6 5
#define SRC_OFFSET  offsetof(struct gnn_frame_info, src)

/* rte_acl reads the source address straight out of struct gnn_frame_info. */
_Static_assert(offsetof(struct gnn_frame_info, kind) == 0, "ACL field 0 is the kind byte");
_Static_assert(offsetof(struct gnn_frame_info, src) % 4 == 0, "ACL reads 32-bit words");

RTE_ACL_RULE_DEF(gnn_acl_rule4, ACL_FIELDS4);
RTE_ACL_RULE_DEF(gnn_acl_rule6, ACL_FIELDS6);

/* The first field must be one byte wide; it matches anything. */
#define KIND_FIELD                                                                                 \
	{                                                                                          \
		.type = RTE_ACL_FIELD_TYPE_BITMASK, .size = sizeof(uint8_t), .field_index = 0,     \
		.input_index = 0, .offset = 0,                                                     \
	}
#define SRC_FIELD(i)                                                                               \
	{                                                                                          \
		.type = RTE_ACL_FIELD_TYPE_MASK, .size = sizeof(uint32_t), .field_index = (i) + 1, \
		.input_index = (i) + 1, .offset = SRC_OFFSET + 4 * (i),                            \
	}

static const struct rte_acl_field_def acl_defs4[ACL_FIELDS4] = {KIND_FIELD, SRC_FIELD(0)};
static const struct rte_acl_field_def acl_defs6[ACL_FIELDS6] = {
	KIND_FIELD, SRC_FIELD(0), SRC_FIELD(1), SRC_FIELD(2), SRC_FIELD(3),
};

/* Classify methods, best first, as gnn_ruleset_set_classify() names them. */
static const struct {
	const char *name;
	enum rte_acl_classify_alg alg;
} classify_algs[] = {
	{"avx512x32", RTE_ACL_CLASSIFY_AVX512X32}, {"avx512x16", RTE_ACL_CLASSIFY_AVX512X16},
	{"avx2", RTE_ACL_CLASSIFY_AVX2},	   {"sse", RTE_ACL_CLASSIFY_SSE},
	{"scalar", RTE_ACL_CLASSIFY_SCALAR},
};

/* "auto": the best the CPU and EAL's SIMD width allow; else one name. */
static const char *classify_choice = "auto";

int
gnn_ruleset_set_classify(const char *name)
{
	if (strcmp(name, "auto") == 0 || strcmp(name, "default") == 0) {
		classify_choice = name;
		return 0;
	}
	for (size_t i = 0; i < RTE_DIM(classify_algs); i++) {
		if (strcmp(classify_algs[i].name, name) == 0) {
			classify_choice = classify_algs[i].name;
			return 0;
		}
	}
	return -EINVAL;
}

/* Set ctx's classify method as chosen; the name of the one it got. */
static const char *
choose_classify(struct rte_acl_ctx *ctx)
{
	if (strcmp(classify_choice, "default") == 0)
		return "default";
	for (size_t i = 0; i < RTE_DIM(classify_algs); i++) {
		if (strcmp(classify_choice, "auto") != 0 &&
		    strcmp(classify_choice, classify_algs[i].name) != 0)
			continue;
		/* Refused when the CPU or EAL's SIMD width does not allow it. */
		if (rte_acl_set_ctx_classify(ctx, classify_algs[i].alg) == 0)
			return classify_algs[i].name;
	}
	return "default";
}

static uint64_t
heap_allocated(void)
{
	struct rte_malloc_socket_stats st;
	uint64_t n = 0;

	for (unsigned int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if (rte_malloc_get_socket_stats((int)s, &st) == 0)
			n += st.heap_allocsz_bytes;
	return n;
}

/* Rules of one family, grown on the control lcore while building. */
struct rule_list {
	int family;
	uint32_t n;
	uint32_t cap;
	struct gnn_acl_rule6 *rules; /* big enough for either family */
};

static int
rule_list_add(struct rule_list *list, const struct gnn_prefix *prefix, int32_t priority,
	      uint32_t userdata)
{
	struct gnn_acl_rule6 *rule;
	unsigned int words = prefix->family == 4 ? 1 : 4;

	if (list->n == list->cap) {
		uint32_t cap = list->cap ? list->cap * 2 : 64;
		struct gnn_acl_rule6 *grown = realloc(list->rules, cap * sizeof(*grown));

		if (grown == NULL)
			return -ENOMEM;
		list->rules = grown;
		list->cap = cap;
	}
	rule = &list->rules[list->n++];
	memset(rule, 0, sizeof(*rule));
	rule->data.category_mask = 1;
	rule->data.priority = priority;
	rule->data.userdata = userdata;
	/* field 0 (kind) stays value 0 / mask 0: any */
	for (unsigned int w = 0; w < words; w++) {
		int bits = (int)prefix->len - 32 * (int)w;
		uint32_t word;

		memcpy(&word, &prefix->addr[4 * w], sizeof(word));
		rule->field[w + 1].value.u32 = rte_be_to_cpu_32(word);
		rule->field[w + 1].mask_range.u32 = bits < 0 ? 0 : (bits > 32 ? 32 : bits);
	}
	return 0;
}

static struct rule_list *
list_for(struct rule_list *v4, struct rule_list *v6, const struct gnn_prefix *p)
{
	return p->family == 4 ? v4 : v6;
}

static bool
is_host(const struct gnn_prefix *p)
{
	return p->len == (p->family == 4 ? 32 : 128);
}

/* Room for n hosts, at most half full. */
static int
host_table_init(struct gnn_host_table *t, uint32_t n, int socket_id)
{
	uint32_t slots = 16;

	memset(t, 0, sizeof(*t));
	if (n == 0)
		return 0;
	while (slots < 2 * n)
		slots *= 2;
	t->slots = rte_zmalloc_socket("gnn_host_table", sizeof(*t->slots) * slots,
				      RTE_CACHE_LINE_SIZE, socket_id);
	if (t->slots == NULL)
		return -ENOMEM;
	t->mask = slots - 1;
	return 0;
}

/* A host listed twice (two members cannot both own it) keeps its first entry. */
static void
host_table_add(struct gnn_host_table *t, const struct gnn_prefix *p, uint32_t server,
	       uint32_t member)
{
	uint32_t i = gnn_host_hash(p->family, p->addr) & t->mask;

	for (;; i = (i + 1) & t->mask) {
		struct gnn_host_entry *e = &t->slots[i];

		if (e->server == 0)
			break;
		if (memcmp(e->addr, p->addr, p->family == 4 ? 4 : 16) == 0 && e->member == member)
			return;
	}
	memcpy(t->slots[i].addr, p->addr, sizeof(t->slots[i].addr));
	t->slots[i].server = server + 1;
	t->slots[i].member = member;
	t->n++;
}

/*
 * Networks at 2L+1; servers at 2E+2 as explained at the top of the file,
 * host servers into the exact-match tables (hosts4/hosts6 non-NULL) instead.
 * Server entries are numbered in policy order, as in rs->servers.
 */
static int
collect_rules(const struct gnn_policy *policy, struct rule_list *v4, struct rule_list *v6,
	      struct gnn_host_table *hosts4, struct gnn_host_table *hosts6)
{
	uint32_t server_index = 0;

	for (uint32_t m = 0; m < policy->n_members; m++) {
		const struct gnn_member *member = &policy->members[m];
		int rc;

		for (uint32_t n = 0; n < member->n_networks; n++) {
			const struct gnn_prefix *net = &member->networks[n];

			rc = rule_list_add(list_for(v4, v6, net), net, 2 * net->len + 1,
					   gnn_acl_userdata(m, false));
			if (rc < 0)
				return rc;
		}
		for (uint32_t s = 0; s < member->n_mail_servers; s++, server_index++) {
			const struct gnn_prefix *server = &member->mail_servers[s];
			const struct gnn_prefix *enclosing = NULL;

			for (uint32_t n = 0; n < member->n_networks; n++) {
				const struct gnn_prefix *net = &member->networks[n];

				if (gnn_prefix_contains(net, server)) {
					if (enclosing == NULL || net->len > enclosing->len)
						enclosing = net;
				} else if (gnn_prefix_contains(server, net)) {
					rc = rule_list_add(list_for(v4, v6, net), net,
							   2 * net->len + 2,
							   gnn_acl_userdata(server_index, true));
					if (rc < 0)
						return rc;
				}
			}
			if (enclosing == NULL)
				continue; /* outside its member's networks: never matched */
			if (is_host(server) && hosts4 != NULL) {
				host_table_add(server->family == 4 ? hosts4 : hosts6, server,
					       server_index, m);
				continue;
			}
			rc = rule_list_add(list_for(v4, v6, server), server, 2 * enclosing->len + 2,
					   gnn_acl_userdata(server_index, true));
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static struct rte_acl_ctx *
build_context(const struct rule_list *list, uint64_t generation, int socket_id, char *err,
	      size_t errlen, const char **alg)
{
	const int n_fields = list->family == 4 ? ACL_FIELDS4 : ACL_FIELDS6;
	const size_t rule_size = RTE_ACL_RULE_SZ(n_fields);
	struct rte_acl_config cfg = {
		.num_categories = 1,
		.num_fields = n_fields,
	};
	struct rte_acl_param param = {
		.socket_id = socket_id,
		.rule_size = rule_size,
		.max_rule_num = list->n,
	};
	static uint32_t build_seq; /* any builder thread: taken atomically */
	char name[RTE_ACL_NAMESIZE];
	struct rte_acl_ctx *ctx;
	int rc;

	if (list->n == 0)
		return NULL;
	/*
	 * rte_acl_create() hands back the live context when a name is reused:
	 * a second build of the same generation would add its rules to (and on
	 * failure free) a context in use. The build sequence keeps each name
	 * unique; hex keeps the longest name within RTE_ACL_NAMESIZE.
	 */
	snprintf(name, sizeof(name), "gnn%d_%" PRIx64 "_%" PRIx32, list->family, generation,
		 __atomic_fetch_add(&build_seq, 1, __ATOMIC_RELAXED));
	param.name = name;
	memcpy(cfg.defs, list->family == 4 ? acl_defs4 : acl_defs6,
	       n_fields * sizeof(struct rte_acl_field_def));

	ctx = rte_acl_create(&param);
	if (ctx == NULL) {
		snprintf(err, errlen, "rte_acl_create(%s): %s", name, rte_strerror(rte_errno));
		return NULL;
	}
	for (uint32_t i = 0; i < list->n; i++) {
		struct gnn_acl_rule4 rule4;
		const struct rte_acl_rule *rule = (const struct rte_acl_rule *)&list->rules[i];

		if (list->family == 4) {
			/* The list stores v6-sized rules; v4 contexts want the short ones. */
			memcpy(&rule4, &list->rules[i], sizeof(rule4));
			rule = (const struct rte_acl_rule *)&rule4;
		}
		rc = rte_acl_add_rules(ctx, rule, 1);
		if (rc != 0) {
			snprintf(err, errlen, "rte_acl_add_rules(%s): %s", name, strerror(-rc));
			goto free_ctx;
		}
	}
	rc = rte_acl_build(ctx, &cfg);
	if (rc != 0) {
		snprintf(err, errlen, "rte_acl_build(%s): %s", name, strerror(-rc));
		goto free_ctx;
	}
	*alg = choose_classify(ctx);
	return ctx;

free_ctx:
	rte_acl_free(ctx);
	rte_errno = -rc;
	return NULL;
}

/* Everything of a ruleset on one NUMA socket; rs->policy is borrowed. */
/* Size the host-server tables for the hosts the policy lists. */
static int
count_hosts(struct gnn_ruleset *rs, const struct gnn_policy *policy, int socket_id)
{
	uint32_t n[2] = {0, 0};

	for (uint32_t m = 0; m < policy->n_members; m++)
		for (uint32_t s = 0; s < policy->members[m].n_mail_servers; s++)
			if (is_host(&policy->members[m].mail_servers[s]))
				n[policy->members[m].mail_servers[s].family == 6]++;
	if (host_table_init(&rs->hosts4, n[0], socket_id) != 0 ||
	    host_table_init(&rs->hosts6, n[1], socket_id) != 0)
		return -ENOMEM;
	return 0;
}

/* rs->servers: one entry per mail_servers entry, in policy order. */
static int
fill_servers(struct gnn_ruleset *rs, const struct gnn_policy *policy)
{
	uint32_t n = 0;

	for (uint32_t m = 0; m < policy->n_members; m++)
		n += policy->members[m].n_mail_servers;
	rs->servers =
		rte_zmalloc_socket("gnn_ruleset_servers", sizeof(*rs->servers) * RTE_MAX(n, 1u),
				   RTE_CACHE_LINE_SIZE, rs->socket_id);
	if (rs->servers == NULL)
		return -ENOMEM;
	rs->n_servers = n;
	n = 0;
	for (uint32_t m = 0; m < policy->n_members; m++) {
		for (uint32_t s = 0; s < policy->members[m].n_mail_servers; s++) {
			rs->servers[n].member = m;
			rs->servers[n++].index = s;
		}
	}
	return 0;
}

static struct gnn_ruleset *
ruleset_create(struct gnn_policy *policy, const uint32_t *slots, uint64_t generation, int socket_id,
	       char *err, size_t errlen)
{
	struct rule_list v4 = {.family = 4}, v6 = {.family = 6};
	uint64_t heap_before = heap_allocated();
	struct gnn_ruleset *rs;
	int rc;

	rs = rte_zmalloc_socket("gnn_ruleset", sizeof(*rs), RTE_CACHE_LINE_SIZE, socket_id);
	if (rs == NULL) {
		snprintf(err, errlen, "out of memory for the ruleset");
		rte_errno = ENOMEM;
		return NULL;
	}
	rs->generation = generation;
	rs->socket_id = socket_id;
	rs->n_members = policy->n_members;
	rs->members = rte_zmalloc_socket("gnn_ruleset_members",
					 sizeof(*rs->members) * RTE_MAX(policy->n_members, 1u),
					 RTE_CACHE_LINE_SIZE, socket_id);
	if (rs->members == NULL) {
		snprintf(err, errlen, "out of memory for the ruleset");
		rc = ENOMEM;
		goto free_rs;
	}
	for (uint32_t m = 0; m < policy->n_members; m++) {
		rs->members[m].mode = policy->members[m].mode;
		rs->members[m].action = policy->members[m].action;
		rs->members[m].slot = slots != NULL ? slots[m] : 0;
	}
	if (fill_servers(rs, policy) != 0) {
		snprintf(err, errlen, "out of memory for the ruleset");
		rc = ENOMEM;
		goto free_members;
	}
	for (uint32_t p = 0; p < policy->n_blocked_ports; p++) {
		uint16_t port = policy->blocked_ports[p];

		rs->blocked_ports[port >> 6] |= UINT64_C(1) << (port & 63);
	}

	rc = count_hosts(rs, policy, socket_id);
	if (rc == 0)
		rc = collect_rules(policy, &v4, &v6, &rs->hosts4, &rs->hosts6);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory for the ACL rules");
		rc = -rc;
		goto free_rules;
	}
	rs->n_rules4 = v4.n;
	rs->n_rules6 = v6.n;
	rs->classify_alg = "default";
	rs->acl4 = build_context(&v4, generation, socket_id, err, errlen, &rs->classify_alg);
	if (rs->acl4 == NULL && v4.n > 0) {
		rc = rte_errno;
		goto free_rules;
	}
	rs->acl6 = build_context(&v6, generation, socket_id, err, errlen, &rs->classify_alg);
	if (rs->acl6 == NULL && v6.n > 0) {
		rc = rte_errno;
		goto free_acl4;
	}
	free(v4.rules);
	free(v6.rules);
	rs->policy = policy;
	/* Approximate if another thread allocates meanwhile: the ACL contexts dominate. */
	rs->acl_memory = heap_allocated() - heap_before;
	GNN_LOG(DEBUG, "generation %" PRIu64 " on socket %d: %u IPv4 and %u IPv6 rules", generation,
		socket_id, v4.n, v6.n);
	return rs;

free_acl4:
	rte_acl_free(rs->acl4);
free_rules:
	free(v4.rules);
	free(v6.rules);
	rte_free(rs->hosts4.slots);
	rte_free(rs->hosts6.slots);
	rte_free(rs->servers);
free_members:
	rte_free(rs->members);
free_rs:
	rte_free(rs);
	rte_errno = rc;
	return NULL;
}

struct gnn_ruleset *
gnn_ruleset_build(struct gnn_policy *policy, const uint32_t *slots, uint64_t generation,
		  int socket_id, char *err, size_t errlen)
{
	struct gnn_ruleset *rs = ruleset_create(policy, slots, generation, socket_id, err, errlen);

	if (rs != NULL)
		rs->owns_policy = true;
	return rs;
}

struct gnn_ruleset *
gnn_ruleset_replicate(const struct gnn_ruleset *src, int socket_id, char *err, size_t errlen)
{
	uint32_t *slots = malloc(sizeof(*slots) * RTE_MAX(src->n_members, 1u));
	struct gnn_ruleset *rs;

	if (slots == NULL) {
		snprintf(err, errlen, "out of memory for the ruleset");
		rte_errno = ENOMEM;
		return NULL;
	}
	for (uint32_t m = 0; m < src->n_members; m++)
		slots[m] = src->members[m].slot;
	rs = ruleset_create(src->policy, slots, src->generation, socket_id, err, errlen);
	free(slots);
	return rs;
}

void
gnn_ruleset_set_slots(struct gnn_ruleset *rs, const uint32_t *slots)
{
	for (uint32_t m = 0; m < rs->n_members; m++)
		rs->members[m].slot = slots[m];
}

void
gnn_ruleset_free(struct gnn_ruleset *rs)
{
	if (rs == NULL)
		return;
	rte_acl_free(rs->acl4);
	rte_acl_free(rs->acl6);
	rte_free(rs->members);
	rte_free(rs->servers);
	rte_free(rs->hosts4.slots);
	rte_free(rs->hosts6.slots);
	if (rs->owns_policy)
		gnn_policy_free(rs->policy);
	rte_free(rs);
}
