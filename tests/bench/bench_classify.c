/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Benchmark of the worker's per-burst hot path without NICs: synthetic frames
 * are parsed and judged with gnn_judge_burst(), in bursts of 32, the way
 * app/gnnd/datapath/worker.c does it (minus the mbufs and TX): once with the
 * source cache in front of rte_acl, once with every candidate classified. For policies of 10, 100
 * and 1000 members it prints the policy load and ACL build times, the rte_malloc heap the ruleset
 * takes, and the rate of "parse only" and "parse + classify + decide".
 *
 * It prints figures and never fails on timing; it fails only when a verdict
 * differs from the one the frame was built for (then the figures would not
 * describe the real path). GNN_BENCH_SECONDS sets the time per timed case.
 */

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_debug.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "acl/gnn_acl.h"
#include "judge/gnn_judge.h"
#include "parse/gnn_parse.h"
#include "policy/gnn_policy.h"
#include "stats/gnn_stats.h"

#include "bench_common.h"

#define BURST	      32   /* GNN_BURST in app/gnnd/gnnd.h */
#define N_FRAMES      4096 /* frames cycled through: the working set */
#define FRAME_STRIDE  2048 /* one frame per mbuf-sized buffer (RTE_MBUF_DEFAULT_DATAROOM) */
#define FRAME_MAX     128  /* our frames are at most 86 bytes */
#define CACHE_ENTRIES 4096 /* SOURCE_CACHE_ENTRIES in app/gnnd/main.c */
#define BUILD_REPEATS 5

_Static_assert(N_FRAMES % BURST == 0, "whole bursts per pass");

/* What a synthetic frame is; its share of the mix is in mix[]. */
enum frame_class {
	FC_WS4,	   /* IPv4 TCP/25 from a member workstation */
	FC_MS4,	   /* IPv4 TCP/25 from a member mail server */
	FC_NM4,	   /* IPv4 TCP/25 from no member */
	FC_HTTPS4, /* IPv4 TCP/443 from a member workstation */
	FC_WS6,	   /* IPv6 TCP/25 from a member workstation */
	FC_MS6,	   /* IPv6 TCP/25 from a member mail server */
	FC_NM6,	   /* IPv6 TCP/25 from no member */
	FC_VLAN4,  /* 802.1Q-tagged IPv4 TCP/25 from a member workstation */
	FC_EXT6,   /* IPv6 + hop-by-hop header, TCP/25 from a member workstation */
	FC_MAX
};

static const struct {
	const char *name;
	unsigned int percent;
} mix[FC_MAX] = {
	[FC_WS4] = {"v4 tcp/25 workstation", 30},
	[FC_MS4] = {"v4 tcp/25 mail server", 10},
	[FC_NM4] = {"v4 tcp/25 non-member", 10},
	[FC_HTTPS4] = {"v4 tcp/443", 25},
	[FC_WS6] = {"v6 tcp/25 workstation", 5},
	[FC_MS6] = {"v6 tcp/25 mail server", 3},
	[FC_NM6] = {"v6 tcp/25 non-member", 2},
	[FC_VLAN4] = {"802.1Q v4 tcp/25 workstation", 8},
	[FC_EXT6] = {"v6+hop-by-hop tcp/25 workstation", 7},
};

static const char *const verdict_names[] = {
	[GNN_VERDICT_FORWARD] = "forward",
	[GNN_VERDICT_ALLOWED] = "allowed",
	[GNN_VERDICT_WOULD_BLOCK] = "would_block",
	[GNN_VERDICT_BLOCKED] = "blocked",
	[GNN_VERDICT_MALFORMED_DROP] = "malformed_drop",
};
#define N_VERDICTS RTE_DIM(verdict_names)

struct frames {
	uint8_t *data; /* N_FRAMES buffers of FRAME_STRIDE bytes */
	uint32_t len[N_FRAMES];
	uint8_t expect[N_FRAMES]; /* enum gnn_verdict */
};

/* What a worker keeps besides the gnnd counters. */
struct bench_worker {
	struct gnn_lcore_stats stats;
	uint64_t forwarded;
	uint64_t dropped;
	struct gnn_judge judge;
	struct gnn_member_counters member[2048];
} __rte_cache_aligned;

static struct bench_worker worker;
static volatile uint64_t sink;

/* ---- frames ----------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t
put_eth(uint8_t *p, bool vlan, uint16_t ether_type)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
	uint32_t off = 12;

	memcpy(p, macs, sizeof(macs));
	if (vlan) {
		put16(p + off, 0x8100);
		put16(p + off + 2, 100);
		off += 4;
	}
	put16(p + off, ether_type);
	return off + 2;
}

static uint32_t
put_tcp(uint8_t *p, uint16_t dport)
{
	memset(p, 0, 20);
	put16(p, (uint16_t)(32768 + rng() % 28000));
	put16(p + 2, dport);
	p[12] = 5 << 4; /* data offset */
	p[13] = 0x02;	/* SYN */
	put16(p + 14, 64240);
	return 20;
}

/* IPv4 frame from src (4 bytes) to an outside host. */
static uint32_t
build_v4(uint8_t *f, bool vlan, const uint8_t *src, uint16_t dport)
{
	uint32_t off = put_eth(f, vlan, 0x0800);
	uint8_t *ip = f + off;
	static const uint8_t dst[4] = {198, 51, 100, 10};

	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, 40);
	put16(ip + 4, (uint16_t)rng());
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	off += 20;
	off += put_tcp(f + off, dport);
	return RTE_MAX(off, 60u);
}

/* IPv6 frame from src (16 bytes), with a hop-by-hop header when ext. */
static uint32_t
build_v6(uint8_t *f, bool ext, const uint8_t *src, uint16_t dport)
{
	static const uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xfe, 0, 0,
					0,    0,    0,	  0,	0,    0,    0, 0x25};
	uint32_t off = put_eth(f, false, 0x86dd);
	uint8_t *ip = f + off;

	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)(20 + (ext ? 8 : 0)));
	ip[6] = ext ? 0 : 6;
	ip[7] = 64;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	off += 40;
	if (ext) {
		uint8_t *h = f + off;

		memset(h, 0, 8);
		h[0] = 6; /* next: TCP */
		h[1] = 0; /* 8 bytes */
		h[2] = 1; /* PadN */
		h[3] = 4;
		off += 8;
	}
	off += put_tcp(f + off, dport);
	return off;
}

static void
member_v4(unsigned int m, uint8_t host, uint8_t *a)
{
	a[0] = 198;
	a[1] = (uint8_t)(18 + m / 256);
	a[2] = (uint8_t)(m % 256);
	a[3] = host;
}

static void
member_v6(unsigned int m, bool server, uint8_t *a)
{
	uint16_t net = (uint16_t)(m + 1);

	memset(a, 0, 16);
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	put16(a + 4, net);
	if (server) {
		a[15] = (rng() & 1) ? BENCH_SERVER_A : BENCH_SERVER_B;
		return;
	}
	put16(a + 6, (uint16_t)(1 + rng() % 0xfffe)); /* a subnet other than 0 */
	for (int i = 8; i < 16; i++)
		a[i] = (uint8_t)rng();
}

static uint8_t
workstation_host(void)
{
	uint8_t h;

	do {
		h = (uint8_t)(1 + rng() % 254);
	} while (h == BENCH_SERVER_A || h == BENCH_SERVER_B);
	return h;
}

static enum gnn_verdict
expected(enum frame_class fc, unsigned int m)
{
	enum gnn_mode mode = bench_member_mode(m);

	switch (fc) {
	case FC_NM4:
	case FC_NM6:
	case FC_HTTPS4:
		return GNN_VERDICT_FORWARD;
	case FC_MS4:
	case FC_MS6:
		return mode == GNN_MODE_OFF ? GNN_VERDICT_FORWARD : GNN_VERDICT_ALLOWED;
	default:
		break;
	}
	if (mode == GNN_MODE_ENFORCE)
		return GNN_VERDICT_BLOCKED;
	return mode == GNN_MODE_MONITOR ? GNN_VERDICT_WOULD_BLOCK : GNN_VERDICT_FORWARD;
}

static enum frame_class
pick_class(void)
{
	unsigned int r = (unsigned int)(rng() % 100), acc = 0;

	for (unsigned int c = 0; c < FC_MAX; c++) {
		acc += mix[c].percent;
		if (r < acc)
			return (enum frame_class)c;
	}
	return FC_WS4;
}

/* Fill the frames for a policy of n_members; sources spread over all members. */
static void
make_frames(struct frames *fr, unsigned int n_members)
{
	rng_state = 0x9e3779b97f4a7c15ull;
	for (uint32_t i = 0; i < N_FRAMES; i++) {
		uint8_t *f = fr->data + (size_t)i * FRAME_STRIDE;
		enum frame_class fc = pick_class();
		unsigned int m = (unsigned int)(rng() % n_members);
		uint8_t a[16];

		switch (fc) {
		case FC_WS4:
		case FC_HTTPS4:
		case FC_VLAN4:
			member_v4(m, workstation_host(), a);
			fr->len[i] = build_v4(f, fc == FC_VLAN4, a, fc == FC_HTTPS4 ? 443 : 25);
			break;
		case FC_MS4:
			member_v4(m, (rng() & 1) ? BENCH_SERVER_A : BENCH_SERVER_B, a);
			fr->len[i] = build_v4(f, false, a, 25);
			break;
		case FC_NM4:
			/* 192.0.2.0/24 or 203.0.113.0/24 */
			a[0] = (rng() & 1) ? 192 : 203;
			a[1] = 0;
			a[2] = a[0] == 192 ? 2 : 113;
			a[3] = (uint8_t)(1 + rng() % 254);
			fr->len[i] = build_v4(f, false, a, 25);
			break;
		case FC_WS6:
		case FC_EXT6:
		case FC_MS6:
			member_v6(m, fc == FC_MS6, a);
			fr->len[i] = build_v6(f, fc == FC_EXT6, a, 25);
			break;
		case FC_NM6:
			member_v6(0xfffe, false, a); /* 2001:db8:ffff::/48 */
			fr->len[i] = build_v6(f, false, a, 25);
			break;
		default:
			rte_exit(EXIT_FAILURE, "bad frame class\n");
		}
		if (fr->len[i] > FRAME_MAX)
			rte_exit(EXIT_FAILURE, "frame too long\n");
		fr->expect[i] = (uint8_t)expected(fc, m);
	}
}

/* ---- the hot path, as app/gnnd/worker.c runs it ------------------------ */

/* Verdicts of one burst; verdicts (may be NULL) receives them for checking. */
static void
judge_burst(struct bench_worker *w, const struct gnn_ruleset *rs, const struct frames *fr,
	    uint32_t first, uint8_t *verdicts)
{
	struct gnn_frame_info info[BURST];
	uint8_t v[BURST];
	uint32_t fwd[BURST], drop[BURST];
	uint16_t n_fwd = 0, n_drop = 0;

	for (uint32_t i = 0; i < BURST; i++)
		gnn_parse_frame(fr->data + (size_t)(first + i) * FRAME_STRIDE, fr->len[first + i],
				&info[i]);
	gnn_judge_burst(&w->judge, rs, info, BURST, rte_rdtsc(), v);
	for (uint32_t i = 0; i < BURST; i++) {
		if (gnn_verdict_forwards(v[i]))
			fwd[n_fwd++] = first + i;
		else
			drop[n_drop++] = first + i;
		if (verdicts != NULL)
			verdicts[first + i] = GNN_JUDGE_VERDICT(v[i]);
	}
	/* Stand-ins for rte_pktmbuf_free_bulk() and the TX burst. */
	w->dropped += n_drop;
	w->forwarded += n_fwd;
	sink += (n_drop ? drop[0] : 0) + (n_fwd ? fwd[n_fwd - 1] : 0);
}

/* ---- timed passes ----------------------------------------------------- */

struct pass_ctx {
	const struct gnn_ruleset *rs;
	const struct frames *fr;
};

typedef void (*pass_fn)(const struct pass_ctx *ctx);

static void
pass_parse(const struct pass_ctx *ctx)
{
	struct gnn_frame_info info[BURST];
	uint64_t acc = 0;

	for (uint32_t first = 0; first < N_FRAMES; first += BURST) {
		for (uint32_t i = 0; i < BURST; i++) {
			uint32_t f = first + i;

			gnn_parse_frame(ctx->fr->data + (size_t)f * FRAME_STRIDE, ctx->fr->len[f],
					&info[i]);
		}
		for (uint32_t i = 0; i < BURST; i++)
			acc += info[i].kind + info[i].dport;
	}
	sink += acc;
}

static void
pass_full(const struct pass_ctx *ctx)
{
	for (uint32_t first = 0; first < N_FRAMES; first += BURST)
		judge_burst(&worker, ctx->rs, ctx->fr, first, NULL);
}

struct timing {
	double mpps;
	double ns_per_pkt;
	double cycles_per_pkt;
};

static struct timing
time_case(pass_fn fn, const struct pass_ctx *ctx, double seconds)
{
	struct timing t;
	uint64_t passes = 0, tsc0, tsc1;
	double t0, t1;

	fn(ctx); /* warm caches and branch predictors */
	t0 = bench_now();
	tsc0 = rte_rdtsc();
	do {
		fn(ctx);
		passes++;
		t1 = bench_now();
	} while (t1 - t0 < seconds);
	tsc1 = rte_rdtsc();

	double pkts = (double)passes * N_FRAMES;

	t.ns_per_pkt = (t1 - t0) * 1e9 / pkts;
	t.mpps = pkts / (t1 - t0) / 1e6;
	t.cycles_per_pkt = (double)(tsc1 - tsc0) / pkts;
	return t;
}

/* ---- one policy size -------------------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct config_result {
	unsigned int members;
	uint32_t rules4, rules6;
	double load_ms, build_ms;
	uint64_t heap_bytes;
	struct timing parse, full, uncached;
	double lookups_per_pkt;
};

static uint64_t generation;

static struct gnn_ruleset *
build_policy(unsigned int n_members, struct config_result *res)
{
	char *text = bench_policy_text(n_members);
	double load_ms[BUILD_REPEATS], build_ms[BUILD_REPEATS];
	struct gnn_ruleset *rs = NULL;
	char err[256];

	for (int r = 0; r < BUILD_REPEATS; r++) {
		double t0 = bench_now();
		struct gnn_policy *policy = bench_policy_load(text);
		double t1 = bench_now();
		uint64_t heap0 = bench_heap_allocated();

		rs = gnn_ruleset_build(policy, NULL, ++generation, (int)rte_socket_id(), err,
				       sizeof(err));
		double t2 = bench_now();

		if (rs == NULL)
			rte_exit(EXIT_FAILURE, "gnn_ruleset_build: %s\n", err);
		res->heap_bytes = bench_heap_allocated() - heap0;
		load_ms[r] = (t1 - t0) * 1e3;
		build_ms[r] = (t2 - t1) * 1e3;
		if (r + 1 < BUILD_REPEATS)
			gnn_ruleset_free(rs);
	}
	free(text);
	qsort(load_ms, BUILD_REPEATS, sizeof(double), cmp_double);
	qsort(build_ms, BUILD_REPEATS, sizeof(double), cmp_double);
	res->load_ms = load_ms[BUILD_REPEATS / 2];
	res->build_ms = build_ms[BUILD_REPEATS / 2];
	res->rules4 = rs->n_rules4;
	res->rules6 = rs->n_rules6;
	return rs;
}

/* One untimed pass: every verdict must be the one the frame was built for. */
static void
check_verdicts(const struct pass_ctx *ctx, uint64_t *per_verdict)
{
	static uint8_t got[N_FRAMES];
	unsigned int bad = 0;

	for (uint32_t first = 0; first < N_FRAMES; first += BURST)
		judge_burst(&worker, ctx->rs, ctx->fr, first, got);
	for (uint32_t i = 0; i < N_FRAMES; i++) {
		per_verdict[got[i]]++;
		if (got[i] != ctx->fr->expect[i] && bad++ < 5)
			fprintf(stderr, "frame %u: verdict %s, built for %s\n", i,
				verdict_names[got[i]], verdict_names[ctx->fr->expect[i]]);
	}
	if (bad > 0)
		rte_exit(EXIT_FAILURE, "%u of %u verdicts differ from the frames' intent\n", bad,
			 N_FRAMES);
}

static void
run_config(struct frames *fr, unsigned int n_members, double seconds, struct config_result *res)
{
	uint64_t per_verdict[N_VERDICTS] = {0};
	struct pass_ctx ctx = {.fr = fr};
	uint64_t lookups0, pkts0;

	memset(res, 0, sizeof(*res));
	res->members = n_members;
	struct gnn_ruleset *rs = build_policy(n_members, res);

	ctx.rs = rs;
	make_frames(fr, n_members);
	check_verdicts(&ctx, per_verdict);

	printf("\n%u members: %u IPv4 + %u IPv6 ACL rules; load %.2f ms, build %.2f ms "
	       "(median of %d), ruleset heap %.1f KiB\n",
	       n_members, res->rules4, res->rules6, res->load_ms, res->build_ms, BUILD_REPEATS,
	       (double)res->heap_bytes / 1024.0);
	printf("  verdicts per %u frames:", N_FRAMES);
	for (unsigned int v = 0; v < N_VERDICTS; v++)
		printf(" %s %" PRIu64, verdict_names[v], per_verdict[v]);
	printf("\n");

	res->parse = time_case(pass_parse, &ctx, seconds);
	printf("  parse only:                %7.2f Mpps %7.2f ns/pkt %7.1f cycles/pkt\n",
	       res->parse.mpps, res->parse.ns_per_pkt, res->parse.cycles_per_pkt);
	fflush(stdout);

	lookups0 = worker.stats.cache_misses;
	pkts0 = worker.forwarded + worker.dropped;
	res->full = time_case(pass_full, &ctx, seconds);
	res->lookups_per_pkt = (double)(worker.stats.cache_misses - lookups0) /
			       (double)(worker.forwarded + worker.dropped - pkts0);
	printf("  parse + judge (cache):     %7.2f Mpps %7.2f ns/pkt %7.1f cycles/pkt "
	       "(%.2f ACL lookups/pkt)\n",
	       res->full.mpps, res->full.ns_per_pkt, res->full.cycles_per_pkt,
	       res->lookups_per_pkt);
	worker.judge.verdict_cache = false;
	res->uncached = time_case(pass_full, &ctx, seconds);
	worker.judge.verdict_cache = true;
	printf("  parse + judge (no cache):  %7.2f Mpps %7.2f ns/pkt %7.1f cycles/pkt\n",
	       res->uncached.mpps, res->uncached.ns_per_pkt, res->uncached.cycles_per_pkt);
	fflush(stdout);
	gnn_ruleset_free(rs);
}

int
main(int argc, char **argv)
{
	static const unsigned int sizes[] = {10, 100, 1000};
	struct config_result res[RTE_DIM(sizes)];
	double seconds = bench_case_seconds(1.0);
	struct frames fr;

	(void)argc;
	bench_eal_init(argv[0], "bench_classify");
	fr.data = aligned_alloc(RTE_CACHE_LINE_SIZE, (size_t)N_FRAMES * FRAME_STRIDE);
	worker.stats.member = worker.member;
	worker.stats.n_member_slots = RTE_DIM(worker.member);
	if (fr.data == NULL ||
	    gnn_judge_init(&worker.judge,
			   &(struct gnn_judge_config){.cache_entries = CACHE_ENTRIES,
						      .flush_ticks = rte_get_tsc_hz(),
						      .verdict_cache = true},
			   &worker.stats, NULL, NULL, (int)rte_socket_id()) != 0)
		rte_exit(EXIT_FAILURE, "out of memory\n");

	printf("gnn classify benchmark: %u frames cycled (one per %u-byte buffer), bursts of %u, "
	       "%.1f s per case, TSC %.2f GHz, lcore %u\n",
	       N_FRAMES, FRAME_STRIDE, BURST, seconds, (double)rte_get_tsc_hz() / 1e9,
	       rte_lcore_id());
	printf("mix:");
	for (unsigned int c = 0; c < FC_MAX; c++)
		printf("%s %u%% %s", c ? "," : "", mix[c].percent, mix[c].name);
	printf("\npolicies: each member a /24 and a /48, 2 dual-stacked mail servers; "
	       "1 in 5 monitor, 1 in 17 off, rest enforce\n");

	for (unsigned int s = 0; s < RTE_DIM(sizes); s++)
		run_config(&fr, sizes[s], seconds, &res[s]);

	printf("\n%-8s %7s %7s %9s %9s %10s %11s %11s %11s %11s %12s\n", "members", "rules4",
	       "rules6", "load_ms", "build_ms", "heap_KiB", "parse_Mpps", "parse_ns", "full_Mpps",
	       "full_ns", "nocache_Mpps");
	for (unsigned int s = 0; s < RTE_DIM(sizes); s++)
		printf("%-8u %7u %7u %9.2f %9.2f %10.1f %11.2f %11.2f %11.2f %11.2f %12.2f\n",
		       res[s].members, res[s].rules4, res[s].rules6, res[s].load_ms,
		       res[s].build_ms, (double)res[s].heap_bytes / 1024.0, res[s].parse.mpps,
		       res[s].parse.ns_per_pkt, res[s].full.mpps, res[s].full.ns_per_pkt,
		       res[s].uncached.mpps);

	gnn_judge_fini(&worker.judge);
	free(fr.data);
	bench_eal_cleanup();
	return 0;
}
