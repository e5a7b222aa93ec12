/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the ruleset: policies written as config text are compiled
 * with gnn_ruleset_build(), and real frames (Ethernet, VLAN tags, IPv4 or
 * IPv6, TCP) built on the stack go the workers' way: gnn_parse_frame(),
 * then gnn_judge_burst() (one rte_acl lookup per address family for the
 * whole burst, or the source cache). Each case asserts the verdict and the
 * member, i.e. the "Policy semantics" table of docs/design.md.
 * Needs EAL (rte_acl allocates from its heap): --no-huge -m 512 --no-pci.
 */

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_memory.h>

#include "acl/gnn_acl.h"
#include "judge/gnn_judge.h"
#include "parse/gnn_parse.h"
#include "policy/gnn_policy.h"

#define FRAME_MAX 256
#include "frame_builder.h"

/* Short names for the verdict column of the tables below. */
#define FWD	  GNN_VERDICT_FORWARD
#define ALLOW	  GNN_VERDICT_ALLOWED
#define WOULD	  GNN_VERDICT_WOULD_BLOCK
#define BLOCK	  GNN_VERDICT_BLOCKED
#define MDROP	  GNN_VERDICT_MALFORMED_DROP
#define NO_MEMBER (-1)

/* Destinations do not matter to the policy; documentation addresses. */
static const uint8_t dst4[4] = {192, 0, 2, 254};
static const uint8_t dst6[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

/* ---- frames ------------------------------------------------------------ */

enum shape {
	SHAPE_TCP = 0,	  /* untagged, well-formed TCP */
	SHAPE_TCP_VLAN,	  /* one 802.1Q tag */
	SHAPE_TCP_QINQ,	  /* 802.1ad + 802.1Q */
	SHAPE_UDP,	  /* UDP to the same port: never a candidate */
	SHAPE_TRUNCATED,  /* IP length runs past the frame end; source known */
	SHAPE_FRAGMENT,	  /* first fragment without the TCP ports; source known */
	SHAPE_VLAN_DEPTH, /* three tags: no source known */
};

/* One frame to judge and what the policy must say about it. */
struct probe {
	const char *src;
	uint16_t dport;
	enum shape shape;
	enum gnn_verdict verdict;
	int member;
};

/* Address text to 4 or 16 bytes; returns the family. */
static int
addr_parse(const char *text, uint8_t *addr)
{
	if (strchr(text, ':') != NULL) {
		assert_int_equal(inet_pton(AF_INET6, text, addr), 1);
		return 6;
	}
	assert_int_equal(inet_pton(AF_INET, text, addr), 1);
	return 4;
}

static void
l4(struct frame *f, uint8_t proto, uint16_t dport)
{
	uint8_t *p;

	if (proto == P_UDP) {
		p = push(f, 8);
		wr16(p, 40000);
		wr16(p + 2, dport);
		wr16(p + 4, 8);
		return;
	}
	tcp(f, dport, 5);
}

static void
build_frame(struct frame *f, const struct probe *pr)
{
	/* one tag is plain 802.1Q, two are 802.1ad outside 802.1Q */
	static const uint16_t vlan[1] = {ET_VLAN};
	static const uint16_t tpids[3] = {ET_QINQ, ET_VLAN, ET_VLAN};
	uint8_t src[16];
	int family = addr_parse(pr->src, src);
	uint8_t proto = pr->shape == SHAPE_UDP ? P_UDP : P_TCP;
	unsigned int n_tags = 0;
	uint32_t l3;
	uint8_t *p;

	if (pr->shape == SHAPE_TCP_VLAN)
		n_tags = 1;
	else if (pr->shape == SHAPE_TCP_QINQ)
		n_tags = 2;
	else if (pr->shape == SHAPE_VLAN_DEPTH)
		n_tags = 3;

	eth(f, n_tags == 1 ? vlan : tpids, n_tags, family == 4 ? ET_IPV4 : ET_IPV6);
	if (family == 4) {
		l3 = ipv4_hdr(f, 5, proto, pr->shape == SHAPE_FRAGMENT ? V4_MF : 0, src, dst4);
	} else {
		l3 = ipv6_hdr(f, pr->shape == SHAPE_FRAGMENT ? P_FRAGMENT : proto, src, dst6);
		if (pr->shape == SHAPE_FRAGMENT) {
			p = push(f, 8);
			p[0] = P_TCP;
			wr16(p + 2, 0x0001); /* offset 0, M set: first fragment */
			wr16(p + 4, 0x4321);
		}
	}

	if (pr->shape == SHAPE_FRAGMENT) {
		/* Two bytes of TCP: the source port only. */
		p = push(f, 2);
		wr16(p, 40000);
	} else {
		l4(f, proto, pr->dport);
	}

	/* IP lengths cover what was pushed; a truncated frame then loses 8 bytes. */
	if (family == 4)
		ipv4_finish(f, l3);
	else
		ipv6_finish(f, l3);
	if (pr->shape == SHAPE_TRUNCATED)
		f->len -= 8;
	else if (pr->shape == SHAPE_FRAGMENT && family == 4)
		push(f, 60 - f->len); /* Ethernet padding is not more of the datagram */
}

/* What gnn_parse_frame() must make of a shape before the policy sees it. */
static void
check_parsed(const struct probe *pr, const struct gnn_frame_info *info, const char *file, int line)
{
	uint8_t src[16] = {0};
	int family = addr_parse(pr->src, src);
	bool ok;

	switch (pr->shape) {
	case SHAPE_TCP:
	case SHAPE_TCP_VLAN:
	case SHAPE_TCP_QINQ:
		ok = info->kind == GNN_PARSE_TCP && info->dport == pr->dport;
		break;
	case SHAPE_UDP:
		ok = info->kind == GNN_PARSE_OTHER;
		break;
	case SHAPE_VLAN_DEPTH:
		ok = info->kind == GNN_PARSE_MALFORMED && info->family == 0 &&
		     info->reason == GNN_MALFORMED_VLAN_DEPTH;
		family = 0;
		break;
	case SHAPE_TRUNCATED:
		ok = info->kind == GNN_PARSE_MALFORMED && info->reason == GNN_MALFORMED_TRUNCATED;
		break;
	case SHAPE_FRAGMENT:
		ok = info->kind == GNN_PARSE_MALFORMED &&
		     info->reason ==
			     (family == 4 ? GNN_MALFORMED_TINY_FRAGMENT : GNN_MALFORMED_FRAG_NO_L4);
		break;
	default:
		ok = false;
	}
	if (family != 0)
		ok = ok && info->family == family &&
		     memcmp(info->src, src, family == 4 ? 4 : 16) == 0;
	if (!ok) {
		print_error("%s (shape %d): parsed as kind %u reason %u family %u\n", pr->src,
			    (int)pr->shape, info->kind, info->reason, info->family);
		_fail(file, line);
	}
}

/* ---- judging ----------------------------------------------------------- */

static const char *
verdict_name(enum gnn_verdict v)
{
	switch (v) {
	case GNN_VERDICT_FORWARD:
		return "FORWARD";
	case GNN_VERDICT_ALLOWED:
		return "ALLOWED";
	case GNN_VERDICT_WOULD_BLOCK:
		return "WOULD_BLOCK";
	case GNN_VERDICT_BLOCKED:
		return "BLOCKED";
	case GNN_VERDICT_MALFORMED_DROP:
		return "MALFORMED_DROP";
	}
	return "?";
}

/*
 * Judge n probes as bursts through gnn_judge_burst(), the function the
 * workers call: once with an empty source cache (every candidate goes to
 * rte_acl), then again from the cache, and the verdicts must not differ.
 * The member of each probe is what gnn_ruleset_decide() names for its ACL
 * result. Every probe whose verdict or member differs is printed, then the
 * test fails at the caller's line. looked_up (may be NULL) tells which
 * probes needed a lookup.
 */
static void
judge_burst(const struct gnn_ruleset *rs, const struct probe *probes, uint32_t n, bool *looked_up,
	    const char *file, int line)
{
	struct gnn_judge_config cfg = {
		.cache_entries = 1024, .flush_ticks = 1, .verdict_cache = true};
	struct frame *frames = calloc(n, sizeof(*frames));
	struct gnn_frame_info *info = calloc(n, sizeof(*info));
	uint8_t *verdict = calloc(n, sizeof(*verdict));
	uint8_t *cached = calloc(n, sizeof(*cached));
	struct gnn_member_counters *member = calloc(rs->n_members + 1, sizeof(*member));
	struct gnn_lcore_stats stats = {.member = member, .n_member_slots = rs->n_members + 1};
	struct gnn_judge judge;
	unsigned int failures = 0;

	assert_non_null(frames);
	assert_non_null(info);
	assert_non_null(verdict);
	assert_non_null(cached);
	assert_non_null(member);
	assert_int_equal(gnn_judge_init(&judge, &cfg, &stats, NULL, NULL, SOCKET_ID_ANY), 0);

	for (uint32_t i = 0; i < n; i++) {
		build_frame(&frames[i], &probes[i]);
		gnn_parse_frame(frames[i].b, frames[i].len, &info[i]);
		check_parsed(&probes[i], &info[i], file, line);
	}
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t first = 0; first < n; first += GNN_JUDGE_MAX_BURST) {
			uint32_t k = RTE_MIN(n - first, (uint32_t)GNN_JUDGE_MAX_BURST);

			gnn_judge_burst(&judge, rs, info + first, k, 1,
					(pass == 0 ? verdict : cached) + first);
		}
	}

	for (uint32_t i = 0; i < n; i++) {
		const struct probe *pr = &probes[i];
		const uint8_t *data = (const uint8_t *)&info[i];
		enum gnn_verdict v = GNN_JUDGE_VERDICT(verdict[i]);
		uint32_t result = 0;
		int member_index = -1;

		if (looked_up != NULL)
			looked_up[i] = gnn_ruleset_needs_lookup(rs, &info[i]);
		if (gnn_ruleset_needs_lookup(rs, &info[i])) {
			gnn_ruleset_lookup(rs, info[i].family, &data, &result, 1);
			gnn_ruleset_decide(rs, &info[i], result, &member_index);
		}
		if (v == pr->verdict && member_index == pr->member && cached[i] == verdict[i])
			continue;
		print_error(
			"#%u %s port %u shape %d: got %s member %d (from the cache %s), want %s "
			"member %d (ACL result %#x)\n",
			i, pr->src, pr->dport, (int)pr->shape, verdict_name(v), member_index,
			verdict_name(GNN_JUDGE_VERDICT(cached[i])), verdict_name(pr->verdict),
			pr->member, result);
		failures++;
	}

	gnn_judge_fini(&judge);
	free(frames);
	free(info);
	free(verdict);
	free(cached);
	free(member);
	if (failures > 0)
		_fail(file, line);
}

#define JUDGE(rs, probes) judge_burst((rs), (probes), RTE_DIM(probes), NULL, __FILE__, __LINE__)

/* ---- rulesets ---------------------------------------------------------- */

/* One member of a policy; networks and servers are space-separated prefixes. */
struct member_def {
	const char *name;
	const char *mode;
	const char *networks;
	const char *servers;
};

/* Each build gets a generation of its own, as gnnd's reloads do. */
static uint64_t next_generation = 1;

/* "a b" -> "\"a\", \"b\"" */
static void
write_list(FILE *f, const char *items)
{
	const char *sep = "";
	size_t len;

	for (const char *p = items; *p != '\0'; p += len) {
		p += strspn(p, " ");
		len = strcspn(p, " ");
		if (len == 0)
			break;
		fprintf(f, "%s \"%.*s\"", sep, (int)len, p);
		sep = ",";
	}
}

static char *
members_text(const struct member_def *defs, unsigned int n)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	assert_non_null(f);
	for (unsigned int i = 0; i < n; i++) {
		fprintf(f, "%s{ name = \"%s\"; mode = \"%s\"; networks = [", i ? ",\n" : "",
			defs[i].name, defs[i].mode);
		write_list(f, defs[i].networks);
		fputs(" ]; mail_servers = [", f);
		write_list(f, defs[i].servers);
		fputs(" ]; }", f);
	}
	assert_int_equal(fclose(f), 0);
	return text;
}

/* A policy from its blocked ports ("25, 2525") and members (config text). */
static struct gnn_policy *
policy_from_text(const char *blocked, const char *members, const char *file, int line)
{
	struct gnn_diag diag = {0};
	struct gnn_policy *policy;
	char *text;

	assert_true(asprintf(&text,
			     "blocked_ports = [ %s ];\n"
			     "ports = ( { inside = \"a\"; outside = \"b\"; } );\n"
			     "members = ( %s );\n",
			     blocked, members) > 0);
	policy = gnn_policy_load_string(text, "test.conf", NULL, NULL, &diag);
	free(text);
	if (policy == NULL) {
		for (unsigned int i = 0; i < diag.n_errors; i++)
			print_error("  error: %s\n", diag.errors[i]);
		gnn_diag_clear(&diag);
		_fail(file, line);
	}
	gnn_diag_clear(&diag); /* warnings (servers outside networks ...) are expected */
	return policy;
}

static struct gnn_policy *
policy_from(const char *blocked, const struct member_def *defs, unsigned int n, const char *file,
	    int line)
{
	char *members = members_text(defs, n);
	struct gnn_policy *policy = policy_from_text(blocked, members, file, line);

	free(members);
	return policy;
}

/* Compile policy with slots[i] = i; the ruleset owns the policy. */
static struct gnn_ruleset *
build(struct gnn_policy *policy, uint64_t generation, const char *file, int line)
{
	uint32_t *slots = calloc(RTE_MAX(policy->n_members, 1u), sizeof(*slots));
	struct gnn_ruleset *rs;
	char err[256] = "";

	assert_non_null(slots);
	for (unsigned int i = 0; i < policy->n_members; i++)
		slots[i] = i;
	rs = gnn_ruleset_build(policy, slots, generation, SOCKET_ID_ANY, err, sizeof(err));
	free(slots);
	if (rs == NULL) {
		print_error("gnn_ruleset_build: %s (rte_errno %d)\n", err, rte_errno);
		gnn_policy_free(policy);
		_fail(file, line);
	}
	assert_true(rs->generation == generation);
	assert_ptr_equal(rs->policy, policy);
	return rs;
}

#define POLICY(blocked, defs)  policy_from((blocked), (defs), RTE_DIM(defs), __FILE__, __LINE__)
#define RULESET(blocked, defs) build(POLICY(blocked, defs), next_generation++, __FILE__, __LINE__)
#define RULESET_TEXT(blocked, text)                                                                \
	build(policy_from_text((blocked), (text), __FILE__, __LINE__), next_generation++,          \
	      __FILE__, __LINE__)

/* ---- EAL --------------------------------------------------------------- */

#define EAL_ARGS 9
/* eal_setup()'s arguments: EAL keeps and rearranges eal_argv, owned has them to free. */
static char *eal_argv[EAL_ARGS], *owned[EAL_ARGS];

static int
eal_setup(void **state)
{
	static const char *const args[] = {
		"test_acl",
		"--no-huge",
		"-m",
		"512",
		"--no-pci",
		"--no-shconf",
		"--file-prefix=test_acl",
		"--no-telemetry",
		"--log-level=*:warning",
	};
	(void)state;
	RTE_BUILD_BUG_ON(RTE_DIM(args) != EAL_ARGS);
	/* rte_eal_init() takes char **: give it copies it may keep (freed at teardown). */
	for (size_t i = 0; i < RTE_DIM(args); i++)
		assert_non_null(eal_argv[i] = owned[i] = strdup(args[i]));
	if (rte_eal_init(EAL_ARGS, eal_argv) < 0) {
		print_error("rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int
eal_teardown(void **state)
{
	char dir[PATH_MAX];
	int rc;

	(void)state;
	/* EAL leaves its runtime directory behind: the test leaves nothing. */
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rc = rte_eal_cleanup();
	rmdir(dir);
	for (size_t i = 0; i < EAL_ARGS; i++) {
		free(owned[i]);
		owned[i] = eal_argv[i] = NULL;
	}
	return rc;
}

/* ---- the semantics table ------------------------------------------------ */

/* One member of the given mode, in both families, with a server in each. */
static struct gnn_ruleset *
table_ruleset(const char *mode, const char *file, int line)
{
	const struct member_def defs[] = {
		{"college", mode, "192.0.2.0/24 2001:db8:10::/48", "192.0.2.25 2001:db8:10::25"},
	};

	return build(policy_from("25", defs, RTE_DIM(defs), file, line), next_generation++, file,
		     line);
}

static void
test_enforce_allows_servers_blocks_other_hosts_forwards_non_members(void **state)
{
	struct gnn_ruleset *rs = table_ruleset("enforce", __FILE__, __LINE__);
	const struct probe probes[] = {
		{"192.0.2.25", 25, SHAPE_TCP, ALLOW, 0},
		{"192.0.2.10", 25, SHAPE_TCP, BLOCK, 0},
		{"192.0.2.0", 25, SHAPE_TCP, BLOCK, 0},
		{"192.0.2.255", 25, SHAPE_TCP, BLOCK, 0},
		{"198.51.100.10", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.3.1", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"2001:db8:10::25", 25, SHAPE_TCP, ALLOW, 0},
		{"2001:db8:10::10", 25, SHAPE_TCP, BLOCK, 0},
		{"2001:db8:10:ffff:ffff:ffff:ffff:ffff", 25, SHAPE_TCP, BLOCK, 0},
		{"2001:db8:11::10", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"2001:db8::25", 25, SHAPE_TCP, FWD, NO_MEMBER},
		/* Tags do not change who sent it. */
		{"192.0.2.10", 25, SHAPE_TCP_VLAN, BLOCK, 0},
		{"192.0.2.25", 25, SHAPE_TCP_QINQ, ALLOW, 0},
		{"2001:db8:10::10", 25, SHAPE_TCP_QINQ, BLOCK, 0},
		{"2001:db8:10::25", 25, SHAPE_TCP_VLAN, ALLOW, 0},
	};

	(void)state;
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_monitor_allows_servers_would_block_other_hosts(void **state)
{
	struct gnn_ruleset *rs = table_ruleset("monitor", __FILE__, __LINE__);
	const struct probe probes[] = {
		{"192.0.2.25", 25, SHAPE_TCP, ALLOW, 0},
		{"192.0.2.10", 25, SHAPE_TCP, WOULD, 0},
		{"198.51.100.10", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"2001:db8:10::25", 25, SHAPE_TCP, ALLOW, 0},
		{"2001:db8:10::10", 25, SHAPE_TCP, WOULD, 0},
		{"2001:db8:11::10", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.10", 25, SHAPE_TCP_VLAN, WOULD, 0},
	};

	(void)state;
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_off_forwards_servers_and_hosts_but_names_the_member(void **state)
{
	struct gnn_ruleset *rs = table_ruleset("off", __FILE__, __LINE__);
	const struct probe probes[] = {
		{"192.0.2.25", 25, SHAPE_TCP, FWD, 0},
		{"192.0.2.10", 25, SHAPE_TCP, FWD, 0},
		{"198.51.100.10", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"2001:db8:10::25", 25, SHAPE_TCP, FWD, 0},
		{"2001:db8:10::10", 25, SHAPE_TCP, FWD, 0},
		{"2001:db8:11::10", 25, SHAPE_TCP, FWD, NO_MEMBER},
	};

	(void)state;
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_other_ports_and_udp_are_forwarded_without_a_lookup(void **state)
{
	struct gnn_ruleset *rs = table_ruleset("enforce", __FILE__, __LINE__);
	const struct probe probes[] = {
		{"192.0.2.10", 587, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.10", 465, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.10", 2525, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.10", 80, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.10", 24, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.10", 26, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.10", 25, SHAPE_UDP, FWD, NO_MEMBER},
		{"2001:db8:10::10", 587, SHAPE_TCP, FWD, NO_MEMBER},
		{"2001:db8:10::10", 465, SHAPE_TCP, FWD, NO_MEMBER},
		{"2001:db8:10::10", 2525, SHAPE_TCP_VLAN, FWD, NO_MEMBER},
		{"2001:db8:10::10", 25, SHAPE_UDP, FWD, NO_MEMBER},
		/* the only candidates of the burst */
		{"192.0.2.10", 25, SHAPE_TCP, BLOCK, 0},
		{"2001:db8:10::10", 25, SHAPE_TCP, BLOCK, 0},
	};
	bool looked_up[RTE_DIM(probes)];

	(void)state;
	judge_burst(rs, probes, RTE_DIM(probes), looked_up, __FILE__, __LINE__);
	for (unsigned int i = 0; i < RTE_DIM(probes); i++)
		assert_int_equal(looked_up[i], probes[i].verdict != FWD);
	gnn_ruleset_free(rs);
}

static void
test_each_of_several_blocked_ports_is_judged(void **state)
{
	const struct member_def defs[] = {
		{"college", "enforce", "192.0.2.0/24 2001:db8:10::/48", "192.0.2.25"},
	};
	struct gnn_ruleset *rs = RULESET("25, 2525", defs);
	const struct probe probes[] = {
		{"192.0.2.10", 25, SHAPE_TCP, BLOCK, 0},
		{"192.0.2.10", 2525, SHAPE_TCP, BLOCK, 0},
		{"192.0.2.25", 25, SHAPE_TCP, ALLOW, 0},
		{"192.0.2.25", 2525, SHAPE_TCP, ALLOW, 0},
		{"2001:db8:10::10", 2525, SHAPE_TCP, BLOCK, 0},
		{"192.0.2.10", 587, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.10", 2524, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.10", 2526, SHAPE_TCP, FWD, NO_MEMBER},
		{"198.51.100.1", 2525, SHAPE_TCP, FWD, NO_MEMBER},
	};

	(void)state;
	assert_true(gnn_ruleset_port_blocked(rs, 25));
	assert_true(gnn_ruleset_port_blocked(rs, 2525));
	assert_false(gnn_ruleset_port_blocked(rs, 0));
	assert_false(gnn_ruleset_port_blocked(rs, 587));
	assert_false(gnn_ruleset_port_blocked(rs, 65535));
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_blocked_ports_at_bitmap_word_edges_are_judged(void **state)
{
	const struct member_def defs[] = {
		{"college", "enforce", "192.0.2.0/24", ""},
	};
	struct gnn_ruleset *rs = RULESET("1, 63, 64, 65535", defs);
	const struct probe probes[] = {
		{"192.0.2.10", 1, SHAPE_TCP, BLOCK, 0},
		{"192.0.2.10", 63, SHAPE_TCP, BLOCK, 0},
		{"192.0.2.10", 64, SHAPE_TCP, BLOCK, 0},
		{"192.0.2.10", 65535, SHAPE_TCP, BLOCK, 0},
		{"192.0.2.10", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.10", 62, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.10", 65, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.10", 65534, SHAPE_TCP, FWD, NO_MEMBER},
	};

	(void)state;
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_members_keep_their_mode_slot_and_policy_order(void **state)
{
	const struct member_def defs[] = {
		{"a", "off", "192.0.2.0/26", ""},
		{"b", "monitor", "192.0.2.64/26", ""},
		{"c", "enforce", "192.0.2.128/26", ""},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"192.0.2.130", 25, SHAPE_TCP, BLOCK, 2},
		{"192.0.2.1", 25, SHAPE_TCP, FWD, 0},
		{"192.0.2.70", 25, SHAPE_TCP, WOULD, 1},
		{"192.0.2.200", 25, SHAPE_TCP, FWD, NO_MEMBER},
	};

	(void)state;
	assert_int_equal(rs->n_members, 3);
	assert_int_equal(rs->members[0].mode, GNN_MODE_OFF);
	assert_int_equal(rs->members[1].mode, GNN_MODE_MONITOR);
	assert_int_equal(rs->members[2].mode, GNN_MODE_ENFORCE);
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(rs->members[i].slot, i);
	assert_non_null(rs->acl4);
	assert_null(rs->acl6);
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_acl_userdata_round_trips_member_and_server_flag(void **state)
{
	/* Server entry s belongs to member s / 3. */
	static struct gnn_ruleset_server servers[1 << 17];
	struct gnn_ruleset rs = {.servers = servers, .n_servers = RTE_DIM(servers)};

	(void)state;
	for (uint32_t s = 0; s < RTE_DIM(servers); s++)
		servers[s] = (struct gnn_ruleset_server){.member = s / 3, .index = s % 3};
	for (uint32_t m = 0; m < RTE_DIM(servers); m += 97) {
		uint32_t host = gnn_acl_userdata(m, false);
		uint32_t server = gnn_acl_userdata(m, true);

		assert_int_not_equal(host, 0); /* 0 means "no match" */
		assert_int_not_equal(server, 0);
		assert_int_equal(gnn_ruleset_result_member(&rs, host), m);
		assert_int_equal(gnn_ruleset_result_member(&rs, server), m / 3);
		assert_int_equal(gnn_acl_result_server(server), m);
		assert_int_equal(gnn_acl_result_server(host), -1);
		assert_false(gnn_acl_result_is_server(host));
		assert_true(gnn_acl_result_is_server(server));
	}
}

/* ---- longest prefix ---------------------------------------------------- */

static void
test_nested_member_owns_its_hosts_and_outer_member_the_rest(void **state)
{
	/* A's server .130 lies in B's network: the address is B's. */
	const struct member_def defs[] = {
		{"A", "enforce", "198.51.100.0/24", "198.51.100.25 198.51.100.130"},
		{"B", "monitor", "198.51.100.128/25", "198.51.100.200"},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"198.51.100.10", 25, SHAPE_TCP, BLOCK, 0},
		{"198.51.100.127", 25, SHAPE_TCP, BLOCK, 0},
		{"198.51.100.25", 25, SHAPE_TCP, ALLOW, 0},
		{"198.51.100.128", 25, SHAPE_TCP, WOULD, 1},
		{"198.51.100.129", 25, SHAPE_TCP, WOULD, 1},
		{"198.51.100.130", 25, SHAPE_TCP, WOULD, 1},
		{"198.51.100.255", 25, SHAPE_TCP, WOULD, 1},
		{"198.51.100.200", 25, SHAPE_TCP, ALLOW, 1},
		{"203.0.113.1", 25, SHAPE_TCP, FWD, NO_MEMBER},
	};

	(void)state;
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_host_listed_by_both_nested_members_is_the_inner_ones(void **state)
{
	/* Both list .130 (it is in both's networks): only B, the inner one, owns it. */
	const struct member_def defs[] = {
		{"A", "enforce", "198.51.100.0/24", "198.51.100.130 2001:db8:10::130"},
		{"B", "enforce", "198.51.100.128/25 2001:db8:10:8000::/49",
		 "198.51.100.130 2001:db8:10::130"},
		{"C", "enforce", "2001:db8:10::/48", "2001:db8:10::130 2001:db8:10:8000::1"},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"198.51.100.130", 25, SHAPE_TCP, ALLOW, 1},
		{"198.51.100.131", 25, SHAPE_TCP, BLOCK, 1},
		/* B's 2001:db8:10::130 lies outside B's networks: C lists it and owns it */
		{"2001:db8:10::130", 25, SHAPE_TCP, ALLOW, 2},
		/* C's server inside B's /49 is B's address, and B does not list it */
		{"2001:db8:10:8000::1", 25, SHAPE_TCP, BLOCK, 1},
	};

	(void)state;
	assert_int_equal(rs->hosts4.n, 2);
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_nested_member_listed_first_still_wins(void **state)
{
	/* Order in the file does not matter: the inner member comes first. */
	const struct member_def defs[] = {
		{"B", "monitor", "198.51.100.128/25", "198.51.100.200"},
		{"A", "enforce", "198.51.100.0/24", "198.51.100.25 198.51.100.130"},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"198.51.100.10", 25, SHAPE_TCP, BLOCK, 1},
		{"198.51.100.25", 25, SHAPE_TCP, ALLOW, 1},
		{"198.51.100.130", 25, SHAPE_TCP, WOULD, 0},
		{"198.51.100.200", 25, SHAPE_TCP, ALLOW, 0},
		{"198.51.100.201", 25, SHAPE_TCP, WOULD, 0},
	};

	(void)state;
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_three_levels_of_nesting_ipv4(void **state)
{
	/* outer's and middle's servers inside inner's network are inner's hosts. */
	const struct member_def defs[] = {
		{"outer", "enforce", "198.18.0.0/15", "198.18.0.25 198.18.72.1"},
		{"middle", "monitor", "198.18.64.0/18", "198.18.64.25 198.18.72.2"},
		{"inner", "enforce", "198.18.72.0/24", "198.18.72.25"},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"198.18.0.25", 25, SHAPE_TCP, ALLOW, 0},
		{"198.18.0.26", 25, SHAPE_TCP, BLOCK, 0},
		{"198.19.255.255", 25, SHAPE_TCP, BLOCK, 0},
		{"198.18.63.255", 25, SHAPE_TCP, BLOCK, 0},
		{"198.18.128.0", 25, SHAPE_TCP, BLOCK, 0},
		{"198.18.64.0", 25, SHAPE_TCP, WOULD, 1},
		{"198.18.64.25", 25, SHAPE_TCP, ALLOW, 1},
		{"198.18.127.255", 25, SHAPE_TCP, WOULD, 1},
		{"198.18.71.255", 25, SHAPE_TCP, WOULD, 1},
		{"198.18.73.0", 25, SHAPE_TCP, WOULD, 1},
		{"198.18.72.0", 25, SHAPE_TCP, BLOCK, 2},
		{"198.18.72.1", 25, SHAPE_TCP, BLOCK, 2},
		{"198.18.72.2", 25, SHAPE_TCP, BLOCK, 2},
		{"198.18.72.25", 25, SHAPE_TCP, ALLOW, 2},
		{"198.18.72.255", 25, SHAPE_TCP, BLOCK, 2},
		{"198.17.255.255", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"198.20.0.0", 25, SHAPE_TCP, FWD, NO_MEMBER},
	};

	(void)state;
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_three_levels_of_nesting_ipv6(void **state)
{
	const struct member_def defs[] = {
		{"outer", "enforce", "2001:db8::/32", "2001:db8::25 2001:db8:100:1::1"},
		{"middle", "monitor", "2001:db8:100::/48", "2001:db8:100::25 2001:db8:100:1::2"},
		{"inner", "off", "2001:db8:100:1::/64", "2001:db8:100:1::25"},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"2001:db8::25", 25, SHAPE_TCP, ALLOW, 0},
		{"2001:db8::26", 25, SHAPE_TCP, BLOCK, 0},
		{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 25, SHAPE_TCP, BLOCK, 0},
		{"2001:db8:ff::1", 25, SHAPE_TCP, BLOCK, 0},
		{"2001:db8:101::1", 25, SHAPE_TCP, BLOCK, 0},
		{"2001:db8:100::1", 25, SHAPE_TCP, WOULD, 1},
		{"2001:db8:100::25", 25, SHAPE_TCP, ALLOW, 1},
		{"2001:db8:100:2::1", 25, SHAPE_TCP, WOULD, 1},
		{"2001:db8:100:0:ffff:ffff:ffff:ffff", 25, SHAPE_TCP, WOULD, 1},
		{"2001:db8:100:1::1", 25, SHAPE_TCP, FWD, 2},
		{"2001:db8:100:1::2", 25, SHAPE_TCP, FWD, 2},
		{"2001:db8:100:1::25", 25, SHAPE_TCP, FWD, 2},
		{"2001:db9::1", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"2001:db7:ffff::1", 25, SHAPE_TCP, FWD, NO_MEMBER},
	};

	(void)state;
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_nested_ipv6_48_in_32_with_servers_at_both_levels(void **state)
{
	const struct member_def defs[] = {
		{"A", "enforce", "2001:db8::/32", "2001:db8:1::25 2001:db8:20::130"},
		{"B", "monitor", "2001:db8:20::/48", "2001:db8:20::25"},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"2001:db8:1::25", 25, SHAPE_TCP, ALLOW, 0},
		{"2001:db8:1::26", 25, SHAPE_TCP, BLOCK, 0},
		{"2001:db8:21::1", 25, SHAPE_TCP, BLOCK, 0},
		{"2001:db8:20::130", 25, SHAPE_TCP, WOULD, 1},
		{"2001:db8:20::25", 25, SHAPE_TCP, ALLOW, 1},
		{"2001:db8:20:ffff::1", 25, SHAPE_TCP, WOULD, 1},
	};

	(void)state;
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_member_with_own_nested_networks_keeps_servers_in_the_inner_one(void **state)
{
	/*
	 * A holds 198.18.0.0/16 and 198.18.5.0/24; B's 198.18.5.0/25 sits
	 * inside both. A's server .200 in A's own /24 is A's server; A's
	 * server .10 lies in B's more specific /25 and is B's host.
	 */
	const struct member_def defs[] = {
		{"A", "enforce", "198.18.0.0/16 198.18.5.0/24", "198.18.5.200 198.18.5.10"},
		{"B", "enforce", "198.18.5.0/25", ""},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"198.18.5.200", 25, SHAPE_TCP, ALLOW, 0},
		{"198.18.5.201", 25, SHAPE_TCP, BLOCK, 0},
		{"198.18.5.10", 25, SHAPE_TCP, BLOCK, 1},
		{"198.18.5.11", 25, SHAPE_TCP, BLOCK, 1},
		{"198.18.6.1", 25, SHAPE_TCP, BLOCK, 0},
	};

	(void)state;
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_default_route_network_builds_and_yields_to_longer_prefixes(void **state)
{
	/* A /0 network is legal; rte_acl refuses rules of priority 0. */
	const struct member_def defs[] = {
		{"everyone", "monitor", "0.0.0.0/0 ::/0", "192.0.2.25 2001:db8:20::25"},
		{"college", "enforce", "198.51.100.0/24 2001:db8:10::/48", "198.51.100.25"},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"192.0.2.10", 25, SHAPE_TCP, WOULD, 0},
		{"192.0.2.25", 25, SHAPE_TCP, ALLOW, 0},
		{"203.0.113.1", 25, SHAPE_TCP, WOULD, 0},
		{"2001:db8:20::10", 25, SHAPE_TCP, WOULD, 0},
		{"2001:db8:20::25", 25, SHAPE_TCP, ALLOW, 0},
		{"198.51.100.10", 25, SHAPE_TCP, BLOCK, 1},
		{"198.51.100.25", 25, SHAPE_TCP, ALLOW, 1},
		{"2001:db8:10::10", 25, SHAPE_TCP, BLOCK, 1},
	};

	(void)state;
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

/* ---- server prefixes --------------------------------------------------- */

static void
test_server_prefix_31_allows_both_addresses_and_no_neighbour(void **state)
{
	const struct member_def defs[] = {
		{"college", "enforce", "192.0.2.0/24 2001:db8:10::/48",
		 "192.0.2.26/31 2001:db8:10::24/126"},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"192.0.2.25", 25, SHAPE_TCP, BLOCK, 0},
		{"192.0.2.26", 25, SHAPE_TCP, ALLOW, 0},
		{"192.0.2.27", 25, SHAPE_TCP, ALLOW, 0},
		{"192.0.2.28", 25, SHAPE_TCP, BLOCK, 0},
		{"2001:db8:10::23", 25, SHAPE_TCP, BLOCK, 0},
		{"2001:db8:10::24", 25, SHAPE_TCP, ALLOW, 0},
		{"2001:db8:10::27", 25, SHAPE_TCP, ALLOW, 0},
		{"2001:db8:10::28", 25, SHAPE_TCP, BLOCK, 0},
	};

	(void)state;
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_server_prefix_wider_than_network_allows_only_the_network(void **state)
{
	/*
	 * wide's network is a /26 but its server prefix the whole /24: the /26
	 * is allowed; the rest of the /24 is neighbour's or nobody's.
	 */
	const struct member_def defs[] = {
		{"wide", "enforce", "203.0.113.0/26 2001:db8:10::/48",
		 "203.0.113.0/24 2001:db8::/32"},
		{"neighbour", "enforce", "203.0.113.64/26 2001:db8:11::/48", ""},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"203.0.113.0", 25, SHAPE_TCP, ALLOW, 0},
		{"203.0.113.10", 25, SHAPE_TCP, ALLOW, 0},
		{"203.0.113.63", 25, SHAPE_TCP, ALLOW, 0},
		{"203.0.113.64", 25, SHAPE_TCP, BLOCK, 1},
		{"203.0.113.127", 25, SHAPE_TCP, BLOCK, 1},
		{"203.0.113.128", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"203.0.113.255", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"2001:db8:10::1", 25, SHAPE_TCP, ALLOW, 0},
		{"2001:db8:10:ffff::1", 25, SHAPE_TCP, ALLOW, 0},
		{"2001:db8:11::1", 25, SHAPE_TCP, BLOCK, 1},
		{"2001:db8:12::1", 25, SHAPE_TCP, FWD, NO_MEMBER},
	};

	(void)state;
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_server_prefix_wider_than_network_spares_a_nested_member(void **state)
{
	const struct member_def defs[] = {
		{"wide", "enforce", "203.0.113.0/26", "203.0.113.0/24"},
		{"inner", "monitor", "203.0.113.16/28", "203.0.113.17"},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"203.0.113.15", 25, SHAPE_TCP, ALLOW, 0},
		{"203.0.113.16", 25, SHAPE_TCP, WOULD, 1},
		{"203.0.113.17", 25, SHAPE_TCP, ALLOW, 1},
		{"203.0.113.31", 25, SHAPE_TCP, WOULD, 1},
		{"203.0.113.32", 25, SHAPE_TCP, ALLOW, 0},
		{"203.0.113.64", 25, SHAPE_TCP, FWD, NO_MEMBER},
	};

	(void)state;
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_server_outside_its_members_networks_has_no_effect(void **state)
{
	/* A's servers .200 (in no member) and B's addresses change nothing. */
	const struct member_def defs[] = {
		{"A", "enforce", "192.0.2.0/25 2001:db8:10::/48",
		 "192.0.2.25 192.0.2.200 198.51.100.5 2001:db8:11::5"},
		{"B", "enforce", "198.51.100.0/24 2001:db8:11::/48", ""},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"192.0.2.25", 25, SHAPE_TCP, ALLOW, 0},
		{"192.0.2.26", 25, SHAPE_TCP, BLOCK, 0},
		{"192.0.2.200", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"198.51.100.5", 25, SHAPE_TCP, BLOCK, 1},
		{"2001:db8:11::5", 25, SHAPE_TCP, BLOCK, 1},
		{"2001:db8:10::5", 25, SHAPE_TCP, BLOCK, 0},
	};

	(void)state;
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

/* ---- families and empty policies ----------------------------------------- */

static void
test_ipv4_and_ipv6_members_side_by_side(void **state)
{
	const struct member_def defs[] = {
		{"v4only", "enforce", "192.0.2.0/24", "192.0.2.25"},
		{"v6only", "enforce", "2001:db8:20::/48", "2001:db8:20::25"},
		{"both", "monitor", "198.51.100.0/24 2001:db8:30::/48",
		 "198.51.100.25 2001:db8:30::25"},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	/* Interleaved families: the burst path must map each result back. */
	const struct probe probes[] = {
		{"192.0.2.10", 25, SHAPE_TCP, BLOCK, 0},
		{"2001:db8:20::10", 25, SHAPE_TCP, BLOCK, 1},
		{"198.51.100.10", 25, SHAPE_TCP, WOULD, 2},
		{"2001:db8:30::10", 25, SHAPE_TCP, WOULD, 2},
		{"192.0.2.25", 25, SHAPE_TCP, ALLOW, 0},
		{"2001:db8:20::25", 25, SHAPE_TCP, ALLOW, 1},
		{"198.51.100.25", 25, SHAPE_TCP, ALLOW, 2},
		{"2001:db8:30::25", 25, SHAPE_TCP, ALLOW, 2},
		{"203.0.113.10", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"2001:db8:40::10", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.10", 587, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.11", 25, SHAPE_TCP, BLOCK, 0},
		{"2001:db8:20::10", 587, SHAPE_TCP, FWD, NO_MEMBER},
		{"2001:db8:20::11", 25, SHAPE_TCP, BLOCK, 1},
	};

	(void)state;
	assert_non_null(rs->acl4);
	assert_non_null(rs->acl6);
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_ipv4_only_policy_forwards_all_ipv6(void **state)
{
	const struct member_def defs[] = {
		{"college", "enforce", "192.0.2.0/24", "192.0.2.25"},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"2001:db8:10::10", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.10", 25, SHAPE_TCP, BLOCK, 0},
		{"2001:db8::25", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"2001:db8:10::10", 25, SHAPE_TRUNCATED, FWD, NO_MEMBER},
		{"192.0.2.25", 25, SHAPE_TCP, ALLOW, 0},
	};

	(void)state;
	assert_non_null(rs->acl4);
	assert_null(rs->acl6);
	assert_int_equal(rs->n_rules6, 0);
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_ipv6_only_policy_forwards_all_ipv4(void **state)
{
	const struct member_def defs[] = {
		{"college", "enforce", "2001:db8:10::/48", "2001:db8:10::25"},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"192.0.2.10", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"2001:db8:10::10", 25, SHAPE_TCP, BLOCK, 0},
		{"192.0.2.10", 25, SHAPE_FRAGMENT, FWD, NO_MEMBER},
		{"2001:db8:10::25", 25, SHAPE_TCP, ALLOW, 0},
	};

	(void)state;
	assert_null(rs->acl4);
	assert_non_null(rs->acl6);
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_empty_members_list_forwards_everything_with_a_source(void **state)
{
	struct gnn_ruleset *rs = RULESET_TEXT("25", "");
	const struct probe probes[] = {
		{"192.0.2.10", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"2001:db8:10::10", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.10", 25, SHAPE_TRUNCATED, FWD, NO_MEMBER},
		{"2001:db8:10::10", 25, SHAPE_FRAGMENT, FWD, NO_MEMBER},
		{"192.0.2.10", 25, SHAPE_VLAN_DEPTH, MDROP, NO_MEMBER},
	};

	(void)state;
	assert_int_equal(rs->n_members, 0);
	assert_null(rs->acl4);
	assert_null(rs->acl6);
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

/* ---- malformed frames -------------------------------------------------- */

static void
test_malformed_from_enforced_member_is_dropped_even_from_its_server(void **state)
{
	const struct member_def defs[] = {
		{"enf", "enforce", "192.0.2.0/24 2001:db8:10::/48", "192.0.2.25 2001:db8:10::25"},
		{"mon", "monitor", "198.51.100.0/24 2001:db8:20::/48", "198.51.100.25"},
		{"off", "off", "203.0.113.0/24 2001:db8:30::/48", "203.0.113.25"},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"192.0.2.10", 25, SHAPE_TRUNCATED, MDROP, 0},
		{"192.0.2.25", 25, SHAPE_TRUNCATED, MDROP, 0},
		{"192.0.2.10", 25, SHAPE_FRAGMENT, MDROP, 0},
		{"192.0.2.25", 25, SHAPE_FRAGMENT, MDROP, 0},
		{"2001:db8:10::10", 25, SHAPE_TRUNCATED, MDROP, 0},
		{"2001:db8:10::25", 25, SHAPE_FRAGMENT, MDROP, 0},
		/* a malformed frame is judged whatever port it was for */
		{"192.0.2.10", 587, SHAPE_TRUNCATED, MDROP, 0},
		{"198.51.100.10", 25, SHAPE_TRUNCATED, FWD, 1},
		{"198.51.100.25", 25, SHAPE_FRAGMENT, FWD, 1},
		{"2001:db8:20::10", 25, SHAPE_FRAGMENT, FWD, 1},
		{"203.0.113.10", 25, SHAPE_TRUNCATED, FWD, 2},
		{"2001:db8:30::10", 25, SHAPE_TRUNCATED, FWD, 2},
		{"192.0.3.10", 25, SHAPE_TRUNCATED, FWD, NO_MEMBER},
		{"2001:db8:40::10", 25, SHAPE_FRAGMENT, FWD, NO_MEMBER},
		/* well-formed neighbours in the same burst keep their verdicts */
		{"192.0.2.10", 25, SHAPE_TCP, BLOCK, 0},
		{"198.51.100.10", 25, SHAPE_TCP, WOULD, 1},
	};

	(void)state;
	JUDGE(rs, probes);
	gnn_ruleset_free(rs);
}

static void
test_too_many_vlan_tags_is_dropped_whoever_sent_it(void **state)
{
	const struct member_def defs[] = {
		{"mon", "monitor", "198.51.100.0/24", "198.51.100.25"},
		{"off", "off", "2001:db8:30::/48", ""},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	const struct probe probes[] = {
		{"198.51.100.10", 25, SHAPE_VLAN_DEPTH, MDROP, NO_MEMBER},
		{"198.51.100.25", 25, SHAPE_VLAN_DEPTH, MDROP, NO_MEMBER},
		{"2001:db8:30::10", 25, SHAPE_VLAN_DEPTH, MDROP, NO_MEMBER},
		{"203.0.113.10", 80, SHAPE_VLAN_DEPTH, MDROP, NO_MEMBER},
		{"198.51.100.10", 25, SHAPE_TCP_QINQ, WOULD, 0},
	};
	bool looked_up[RTE_DIM(probes)];

	(void)state;
	judge_burst(rs, probes, RTE_DIM(probes), looked_up, __FILE__, __LINE__);
	/* No source, nothing to look up. */
	for (unsigned int i = 0; i < 4; i++)
		assert_false(looked_up[i]);
	gnn_ruleset_free(rs);
}

static void
test_decide_on_hand_made_infos_follows_the_table(void **state)
{
	/* One server each: server entry m belongs to member m. */
	const struct member_def defs[] = {
		{"off", "off", "192.0.2.0/26", "192.0.2.1"},
		{"mon", "monitor", "192.0.2.64/26", "192.0.2.65"},
		{"enf", "enforce", "192.0.2.128/26", "192.0.2.129"},
	};
	struct gnn_ruleset *rs = RULESET("25", defs);
	struct gnn_frame_info info = {.kind = GNN_PARSE_TCP, .family = 4, .dport = 25};
	int member;

	(void)state;
	/* A candidate without a lookup result is nobody's. */
	assert_int_equal(gnn_ruleset_decide(rs, &info, 0, &member), FWD);
	assert_int_equal(member, NO_MEMBER);
	assert_int_equal(gnn_ruleset_decide(rs, &info, gnn_acl_userdata(0, false), &member), FWD);
	assert_int_equal(member, 0);
	assert_int_equal(gnn_ruleset_decide(rs, &info, gnn_acl_userdata(0, true), &member), FWD);
	assert_int_equal(gnn_ruleset_decide(rs, &info, gnn_acl_userdata(1, false), &member), WOULD);
	assert_int_equal(member, 1);
	assert_int_equal(gnn_ruleset_decide(rs, &info, gnn_acl_userdata(1, true), &member), ALLOW);
	assert_int_equal(gnn_ruleset_decide(rs, &info, gnn_acl_userdata(2, false), &member), BLOCK);
	assert_int_equal(member, 2);
	assert_int_equal(gnn_ruleset_decide(rs, &info, gnn_acl_userdata(2, true), &member), ALLOW);

	info.kind = GNN_PARSE_MALFORMED;
	info.reason = GNN_MALFORMED_TRUNCATED;
	assert_true(gnn_ruleset_needs_lookup(rs, &info));
	assert_int_equal(gnn_ruleset_decide(rs, &info, 0, &member), FWD);
	assert_int_equal(member, NO_MEMBER);
	assert_int_equal(gnn_ruleset_decide(rs, &info, gnn_acl_userdata(2, true), &member), MDROP);
	assert_int_equal(member, 2);
	assert_int_equal(gnn_ruleset_decide(rs, &info, gnn_acl_userdata(1, false), &member), FWD);
	assert_int_equal(gnn_ruleset_decide(rs, &info, gnn_acl_userdata(0, false), &member), FWD);

	info.family = 0;
	info.reason = GNN_MALFORMED_VLAN_DEPTH;
	assert_false(gnn_ruleset_needs_lookup(rs, &info));
	assert_int_equal(gnn_ruleset_decide(rs, &info, 0, &member), MDROP);
	assert_int_equal(member, NO_MEMBER);

	info.kind = GNN_PARSE_OTHER;
	info.family = 4;
	info.reason = GNN_MALFORMED_NONE;
	assert_false(gnn_ruleset_needs_lookup(rs, &info));
	assert_int_equal(gnn_ruleset_decide(rs, &info, 0, &member), FWD);
	gnn_ruleset_free(rs);
}

/* ---- generations ------------------------------------------------------- */

static void
test_same_generation_built_twice_gives_independent_rulesets(void **state)
{
	const struct member_def defs_first[] = {
		{"A", "enforce", "192.0.2.0/24 2001:db8:10::/48", "192.0.2.25"},
	};
	const struct member_def defs_second[] = {
		{"X", "off", "203.0.113.0/24", ""},
		{"B", "monitor", "192.0.2.0/25 2001:db8:20::/48", "192.0.2.26"},
	};
	const struct probe by_first[] = {
		{"192.0.2.10", 25, SHAPE_TCP, BLOCK, 0},
		{"192.0.2.200", 25, SHAPE_TCP, BLOCK, 0},
		{"192.0.2.25", 25, SHAPE_TCP, ALLOW, 0},
		{"2001:db8:10::10", 25, SHAPE_TCP, BLOCK, 0},
		{"2001:db8:20::10", 25, SHAPE_TCP, FWD, NO_MEMBER},
	};
	const struct probe by_second[] = {
		{"192.0.2.10", 25, SHAPE_TCP, WOULD, 1},
		{"192.0.2.200", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"192.0.2.25", 25, SHAPE_TCP, WOULD, 1},
		{"192.0.2.26", 25, SHAPE_TCP, ALLOW, 1},
		{"2001:db8:10::10", 25, SHAPE_TCP, FWD, NO_MEMBER},
		{"2001:db8:20::10", 25, SHAPE_TCP, WOULD, 1},
	};
	struct gnn_ruleset *first, *second;

	(void)state;
	/* rte_acl_create() returns the live context when a name is reused. */
	first = build(POLICY("25", defs_first), 1000, __FILE__, __LINE__);
	second = build(POLICY("25", defs_second), 1000, __FILE__, __LINE__);
	assert_ptr_not_equal(first->acl4, second->acl4);
	assert_ptr_not_equal(first->acl6, second->acl6);
	JUDGE(first, by_first);
	JUDGE(second, by_second);

	/* Freeing one leaves the other whole. */
	gnn_ruleset_free(first);
	JUDGE(second, by_second);

	/* The number can be used again once both are gone. */
	gnn_ruleset_free(second);
	first = build(POLICY("25", defs_first), 1000, __FILE__, __LINE__);
	JUDGE(first, by_first);
	gnn_ruleset_free(first);
}

/* A copy for another NUMA socket judges the same with contexts of its own. */
static void
test_replica_judges_like_its_original_and_borrows_the_policy(void **state)
{
	const struct member_def defs[] = {
		{"A", "enforce", "192.0.2.0/24 2001:db8:10::/48", "192.0.2.25 2001:db8:10::25"},
		{"B", "monitor", "192.0.2.128/25", ""},
	};
	const struct probe probes[] = {
		{"192.0.2.10", 25, SHAPE_TCP, BLOCK, 0},
		{"192.0.2.25", 25, SHAPE_TCP, ALLOW, 0},
		{"192.0.2.200", 25, SHAPE_TCP, WOULD, 1},
		{"2001:db8:10::10", 25, SHAPE_TCP, BLOCK, 0},
		{"2001:db8:10::25", 25, SHAPE_TCP, ALLOW, 0},
		{"203.0.113.10", 25, SHAPE_TCP, FWD, NO_MEMBER},
	};
	struct gnn_ruleset *original, *replica;
	char err[256];

	(void)state;
	original = build(POLICY("25", defs), 2000, __FILE__, __LINE__);
	replica = gnn_ruleset_replicate(original, (int)rte_socket_id(), err, sizeof(err));
	assert_non_null(replica);
	assert_true(original->owns_policy);
	assert_false(replica->owns_policy);
	assert_ptr_equal(replica->policy, original->policy);
	assert_int_equal(replica->generation, original->generation);
	assert_int_equal(replica->socket_id, (int)rte_socket_id());
	assert_ptr_not_equal(replica->acl4, original->acl4);
	assert_ptr_not_equal(replica->acl6, original->acl6);
	for (uint32_t m = 0; m < original->n_members; m++)
		assert_int_equal(replica->members[m].slot, original->members[m].slot);
	JUDGE(original, probes);
	JUDGE(replica, probes);
	/* The replica goes first: it borrows the original's policy. */
	gnn_ruleset_free(replica);
	JUDGE(original, probes);
	gnn_ruleset_free(original);
}

static void
test_next_generation_replaces_rules_while_old_stays_valid(void **state)
{
	const struct member_def defs_old[] = {
		{"college", "monitor", "192.0.2.0/24", ""},
	};
	const struct member_def defs_new[] = {
		{"college", "enforce", "192.0.2.0/24", "192.0.2.25"},
	};
	struct gnn_ruleset *old = RULESET("25", defs_old);
	struct gnn_ruleset *new = RULESET("25", defs_new);
	const struct probe by_old[] = {
		{"192.0.2.10", 25, SHAPE_TCP, WOULD, 0},
		{"192.0.2.25", 25, SHAPE_TCP, WOULD, 0},
	};
	const struct probe by_new[] = {
		{"192.0.2.10", 25, SHAPE_TCP, BLOCK, 0},
		{"192.0.2.25", 25, SHAPE_TCP, ALLOW, 0},
	};

	(void)state;
	assert_true(new->generation > old->generation);
	JUDGE(old, by_old);
	JUDGE(new, by_new);
	gnn_ruleset_free(old);
	JUDGE(new, by_new);
	gnn_ruleset_free(new);
}

static void
test_free_of_null_ruleset_is_harmless(void **state)
{
	(void)state;
	gnn_ruleset_free(NULL);
}

/* ---- a large policy ---------------------------------------------------- */

#define LARGE_MEMBERS 1000

/* Member i: the i-th /25 of 198.18.0.0/15, and 2001:db8:i::/48 (i in hex). */
static void
large_v4(unsigned int i, unsigned int host, char *buf, size_t size)
{
	uint32_t a = (198u << 24 | 18u << 16) + i * 128 + host;

	snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

static const char *
large_mode(unsigned int i)
{
	static const char *const modes[] = {"enforce", "monitor", "off"};

	return modes[i % 3];
}

static enum gnn_verdict
large_host_verdict(unsigned int i)
{
	static const enum gnn_verdict verdicts[] = {BLOCK, WOULD, FWD};

	return verdicts[i % 3];
}

/* Appends a well-formed TCP probe; returns the new count. */
static uint32_t
add_probe(struct probe *probes, uint32_t n, const char *src, uint16_t dport,
	  enum gnn_verdict verdict, int member)
{
	probes[n] = (struct probe){src, dport, SHAPE_TCP, verdict, member};
	return n + 1;
}

static void
test_thousand_members_build_and_judge_a_sample(void **state)
{
	struct probe probes[6 * (LARGE_MEMBERS / 7 + 1) + 2];
	char(*addr)[48] = calloc(RTE_DIM(probes), sizeof(*addr));
	char *members = NULL;
	struct gnn_ruleset *rs;
	size_t size = 0;
	uint32_t n = 0;
	FILE *f;

	(void)state;
	assert_non_null(addr);
	f = open_memstream(&members, &size);
	assert_non_null(f);
	for (unsigned int i = 0; i < LARGE_MEMBERS; i++) {
		char net[32], server[32];

		large_v4(i, 0, net, sizeof(net));
		large_v4(i, 25, server, sizeof(server));
		fprintf(f,
			"%s{ name = \"m%u\"; mode = \"%s\";"
			" networks = [ \"%s/25\", \"2001:db8:%x::/48\" ];"
			" mail_servers = [ \"%s\", \"2001:db8:%x::25\" ]; }\n",
			i ? ", " : "", i, large_mode(i), net, i, server, i);
	}
	assert_int_equal(fclose(f), 0);
	rs = RULESET_TEXT("25", members);
	free(members);
	assert_int_equal(rs->n_members, LARGE_MEMBERS);
	/* The networks are ACL rules; the host servers sit in the exact-match tables. */
	assert_int_equal(rs->n_rules4, LARGE_MEMBERS);
	assert_int_equal(rs->n_rules6, LARGE_MEMBERS);
	assert_int_equal(rs->hosts4.n, LARGE_MEMBERS);
	assert_int_equal(rs->hosts6.n, LARGE_MEMBERS);

	/* Every 7th member, in one burst: hosts and servers of both families. */
	for (unsigned int i = 0; i < LARGE_MEMBERS; i += 7) {
		enum gnn_verdict server = i % 3 == 2 ? FWD : ALLOW;
		enum gnn_verdict host = large_host_verdict(i);

		large_v4(i, 10, addr[n], sizeof(addr[n]));
		n = add_probe(probes, n, addr[n], 25, host, (int)i);
		snprintf(addr[n], sizeof(addr[n]), "2001:db8:%x::25", i);
		n = add_probe(probes, n, addr[n], 25, server, (int)i);
		large_v4(i, 25, addr[n], sizeof(addr[n]));
		n = add_probe(probes, n, addr[n], 25, server, (int)i);
		snprintf(addr[n], sizeof(addr[n]), "2001:db8:%x:ffff::1", i);
		n = add_probe(probes, n, addr[n], 25, host, (int)i);
		large_v4(i, 127, addr[n], sizeof(addr[n]));
		n = add_probe(probes, n, addr[n], 25, host, (int)i);
		large_v4(i, 26, addr[n], sizeof(addr[n]));
		n = add_probe(probes, n, addr[n], 587, FWD, NO_MEMBER);
	}
	/* Past the last member: 198.18.0.0 + 1000 * 128 is 198.19.244.0. */
	n = add_probe(probes, n, "198.19.244.1", 25, FWD, NO_MEMBER);
	n = add_probe(probes, n, "2001:db8:3e8::1", 25, FWD, NO_MEMBER);
	assert_true(n <= RTE_DIM(probes));

	judge_burst(rs, probes, n, NULL, __FILE__, __LINE__);
	free(addr);
	gnn_ruleset_free(rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_enforce_allows_servers_blocks_other_hosts_forwards_non_members),
		cmocka_unit_test(test_monitor_allows_servers_would_block_other_hosts),
		cmocka_unit_test(test_off_forwards_servers_and_hosts_but_names_the_member),
		cmocka_unit_test(test_other_ports_and_udp_are_forwarded_without_a_lookup),
		cmocka_unit_test(test_each_of_several_blocked_ports_is_judged),
		cmocka_unit_test(test_blocked_ports_at_bitmap_word_edges_are_judged),
		cmocka_unit_test(test_members_keep_their_mode_slot_and_policy_order),
		cmocka_unit_test(test_acl_userdata_round_trips_member_and_server_flag),
		cmocka_unit_test(test_nested_member_owns_its_hosts_and_outer_member_the_rest),
		cmocka_unit_test(test_nested_member_listed_first_still_wins),
		cmocka_unit_test(test_host_listed_by_both_nested_members_is_the_inner_ones),
		cmocka_unit_test(test_three_levels_of_nesting_ipv4),
		cmocka_unit_test(test_three_levels_of_nesting_ipv6),
		cmocka_unit_test(test_nested_ipv6_48_in_32_with_servers_at_both_levels),
		cmocka_unit_test(
			test_member_with_own_nested_networks_keeps_servers_in_the_inner_one),
		cmocka_unit_test(test_default_route_network_builds_and_yields_to_longer_prefixes),
		cmocka_unit_test(test_server_prefix_31_allows_both_addresses_and_no_neighbour),
		cmocka_unit_test(test_server_prefix_wider_than_network_allows_only_the_network),
		cmocka_unit_test(test_server_prefix_wider_than_network_spares_a_nested_member),
		cmocka_unit_test(test_server_outside_its_members_networks_has_no_effect),
		cmocka_unit_test(test_ipv4_and_ipv6_members_side_by_side),
		cmocka_unit_test(test_ipv4_only_policy_forwards_all_ipv6),
		cmocka_unit_test(test_ipv6_only_policy_forwards_all_ipv4),
		cmocka_unit_test(test_empty_members_list_forwards_everything_with_a_source),
		cmocka_unit_test(
			test_malformed_from_enforced_member_is_dropped_even_from_its_server),
		cmocka_unit_test(test_too_many_vlan_tags_is_dropped_whoever_sent_it),
		cmocka_unit_test(test_decide_on_hand_made_infos_follows_the_table),
		cmocka_unit_test(test_same_generation_built_twice_gives_independent_rulesets),
		cmocka_unit_test(test_replica_judges_like_its_original_and_borrows_the_policy),
		cmocka_unit_test(test_next_generation_replaces_rules_while_old_stays_valid),
		cmocka_unit_test(test_free_of_null_ruleset_is_harmless),
		cmocka_unit_test(test_thousand_members_build_and_judge_a_sample),
	};

	return cmocka_run_group_tests_name("acl", tests, eal_setup, eal_teardown);
}
