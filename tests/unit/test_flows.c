/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the per-worker flow cache of the IPFIX export
 * (lib/judge/gnn_flows.c): which frames of a judged burst are counted,
 * how they aggregate per (family, source, destination, port, verdict),
 * when a record goes to the ring (eviction, age, flush) and what a full
 * ring costs (a record counted lost, or kept in the cache).
 * Needs EAL (rte_malloc, rte_ring): --no-huge -m 512 --no-pci.
 */

#include <arpa/inet.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "judge/gnn_flows.h"
#include "judge/gnn_judge.h"
#include "track/gnn_record.h"

#define FLUSH_TICKS 1000

struct fixture {
	struct gnn_flows fl;
	struct rte_ring *ring;
};

static int ring_seq;

/* A cache of entries and a ring that holds exactly ring_size records. */
static struct fixture *
fixture_new(uint32_t entries, unsigned int ring_size)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char name[RTE_RING_NAMESIZE];

	assert_non_null(fx);
	snprintf(name, sizeof(name), "test_flows_%d", ring_seq++);
	fx->ring =
		rte_ring_create_elem(name, sizeof(struct gnn_flow_record), ring_size, SOCKET_ID_ANY,
				     RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	assert_non_null(fx->ring);
	assert_int_equal(gnn_flows_init(&fx->fl, entries, FLUSH_TICKS, fx->ring, SOCKET_ID_ANY), 0);
	return fx;
}

static void
fixture_free(struct fixture *fx)
{
	gnn_flows_fini(&fx->fl);
	rte_ring_free(fx->ring);
	free(fx);
}

/* What the ring holds now, in order. */
static unsigned int
take(struct fixture *fx, struct gnn_flow_record *out, unsigned int max)
{
	return rte_ring_sc_dequeue_burst_elem(fx->ring, out, sizeof(*out), max, NULL);
}

/* A parsed TCP frame from src to dst:dport (text addresses), ip_len bytes. */
static struct gnn_frame_info
frame(const char *src, const char *dst, uint16_t dport, uint16_t ip_len)
{
	struct gnn_frame_info f;
	int af = strchr(src, ':') != NULL ? AF_INET6 : AF_INET;

	memset(&f, 0, sizeof(f));
	f.kind = GNN_PARSE_TCP;
	f.family = af == AF_INET ? 4 : 6;
	f.l4_proto = 6;
	f.dport = dport;
	f.sport = 40000;
	f.tcp_flags = GNN_TCP_SYN;
	f.ip_len = ip_len;
	assert_int_equal(inet_pton(af, src, f.src), 1);
	assert_int_equal(inet_pton(af, dst, f.dst), 1);
	return f;
}

static void
assert_record(const struct gnn_flow_record *r, const char *src, const char *dst, uint16_t dport,
	      uint8_t verdict, uint32_t packets, uint64_t octets)
{
	struct gnn_frame_info f = frame(src, dst, dport, 0);

	assert_int_equal(r->family, f.family);
	assert_memory_equal(r->src, f.src, 16);
	assert_memory_equal(r->dst, f.dst, 16);
	assert_int_equal(r->dport, dport);
	assert_int_equal(r->verdict, verdict);
	assert_int_equal(r->packets, packets);
	assert_int_equal(r->octets, octets);
}

/* ---- which frames count ------------------------------------------------- */

static void
test_burst_counts_allowed_would_block_and_blocked_only(void **state)
{
	struct fixture *fx = fixture_new(64, 64);
	struct gnn_frame_info info[6] = {
		frame("192.0.2.10", "198.51.100.1", 25, 40),
		frame("192.0.2.25", "198.51.100.1", 25, 52),
		frame("203.0.113.10", "198.51.100.1", 25, 60),
		frame("192.0.2.11", "198.51.100.1", 25, 40),
		frame("198.18.0.10", "198.51.100.1", 25, 40),
		frame("192.0.2.12", "198.51.100.1", 25, 40),
	};
	const uint8_t verdicts[6] = {
		GNN_VERDICT_BLOCKED,
		GNN_VERDICT_ALLOWED,
		GNN_VERDICT_WOULD_BLOCK,
		GNN_VERDICT_BLOCKED | GNN_JUDGE_REJECT, /* answered with RST+ACK: still blocked */
		GNN_VERDICT_FORWARD,			/* no member: not exported */
		GNN_VERDICT_MALFORMED_DROP,		/* not a candidate */
	};
	struct gnn_flow_record r[8];

	(void)state;
	gnn_flows_burst(&fx->fl, info, verdicts, 6, 100);
	assert_int_equal(fx->fl.n_pending, 4);
	assert_int_equal(gnn_flows_flush_all(&fx->fl), 0);
	assert_int_equal(take(fx, r, 8), 4);
	for (unsigned int i = 0; i < 4; i++) {
		const char *src = i == 0   ? "192.0.2.10"
				  : i == 1 ? "192.0.2.25"
				  : i == 2 ? "203.0.113.10"
					   : "192.0.2.11";
		uint8_t v = i == 1   ? GNN_VERDICT_ALLOWED
			    : i == 2 ? GNN_VERDICT_WOULD_BLOCK
				     : GNN_VERDICT_BLOCKED;
		int found = 0;

		for (unsigned int k = 0; k < 4; k++) {
			struct gnn_frame_info f = frame(src, "198.51.100.1", 25, 0);

			if (memcmp(r[k].src, f.src, 16) == 0) {
				assert_record(&r[k], src, "198.51.100.1", 25, v, 1, info[i].ip_len);
				found++;
			}
		}
		assert_int_equal(found, 1);
	}
	assert_int_equal(fx->fl.n_pending, 0);
	assert_int_equal(fx->fl.lost, 0);
	fixture_free(fx);
}

/* ---- aggregation -------------------------------------------------------- */

static void
test_one_record_per_source_destination_port_and_verdict(void **state)
{
	struct fixture *fx = fixture_new(64, 64);
	struct gnn_frame_info a = frame("2001:db8:10::10", "2001:db8:99::1", 25, 60);
	struct gnn_frame_info a_big = frame("2001:db8:10::10", "2001:db8:99::1", 25, 1500);
	struct gnn_frame_info other_dst = frame("2001:db8:10::10", "2001:db8:99::2", 25, 60);
	struct gnn_frame_info other_port = frame("2001:db8:10::10", "2001:db8:99::1", 465, 60);
	struct gnn_flow_record r[8];
	unsigned int n, seen = 0;

	(void)state;
	gnn_flows_add(&fx->fl, &a, GNN_VERDICT_BLOCKED, 10);
	gnn_flows_add(&fx->fl, &a_big, GNN_VERDICT_BLOCKED, 20);
	gnn_flows_add(&fx->fl, &a, GNN_VERDICT_BLOCKED, 30);
	/* The same flow under another verdict (a reload in between) is its own. */
	gnn_flows_add(&fx->fl, &a, GNN_VERDICT_WOULD_BLOCK, 40);
	gnn_flows_add(&fx->fl, &other_dst, GNN_VERDICT_BLOCKED, 50);
	gnn_flows_add(&fx->fl, &other_port, GNN_VERDICT_BLOCKED, 60);
	assert_int_equal(fx->fl.n_pending, 4);
	assert_int_equal(take(fx, r, 8), 0); /* nothing sent before it is due */
	assert_int_equal(gnn_flows_flush_all(&fx->fl), 0);
	n = take(fx, r, 8);
	assert_int_equal(n, 4);
	for (unsigned int k = 0; k < n; k++) {
		if (r[k].dport == 465) {
			assert_record(&r[k], "2001:db8:10::10", "2001:db8:99::1", 465,
				      GNN_VERDICT_BLOCKED, 1, 60);
		} else if (r[k].dst[15] == 2) {
			assert_record(&r[k], "2001:db8:10::10", "2001:db8:99::2", 25,
				      GNN_VERDICT_BLOCKED, 1, 60);
		} else if (r[k].verdict == GNN_VERDICT_WOULD_BLOCK) {
			assert_record(&r[k], "2001:db8:10::10", "2001:db8:99::1", 25,
				      GNN_VERDICT_WOULD_BLOCK, 1, 60);
			assert_int_equal(r[k].first, 40);
		} else {
			assert_record(&r[k], "2001:db8:10::10", "2001:db8:99::1", 25,
				      GNN_VERDICT_BLOCKED, 3, 60 + 1500 + 60);
			assert_int_equal(r[k].first, 10);
			assert_int_equal(r[k].last, 30);
		}
		seen |= 1u << k;
	}
	assert_int_equal(seen, 0xf);
	fixture_free(fx);
}

/* ---- when records leave ------------------------------------------------- */

static void
test_sweep_sends_a_flow_once_it_is_due_and_starts_it_afresh(void **state)
{
	struct fixture *fx = fixture_new(64, 64);
	struct gnn_frame_info f = frame("192.0.2.10", "198.51.100.1", 25, 40);
	struct gnn_flow_record r[2];

	(void)state;
	gnn_flows_add(&fx->fl, &f, GNN_VERDICT_BLOCKED, 1000);
	gnn_flows_add(&fx->fl, &f, GNN_VERDICT_BLOCKED, 1500);
	/* A whole sweep (64 entries, 8 a tick) before the flow is due: nothing. */
	for (int i = 0; i < 8; i++)
		gnn_flows_tick(&fx->fl, 1000 + FLUSH_TICKS - 1);
	assert_int_equal(take(fx, r, 2), 0);
	for (int i = 0; i < 8; i++)
		gnn_flows_tick(&fx->fl, 1000 + FLUSH_TICKS);
	assert_int_equal(take(fx, r, 2), 1);
	assert_record(&r[0], "192.0.2.10", "198.51.100.1", 25, GNN_VERDICT_BLOCKED, 2, 80);
	assert_int_equal(r[0].first, 1000);
	assert_int_equal(r[0].last, 1500);
	assert_int_equal(fx->fl.n_pending, 0);
	/* The next packet of the flow starts a new record with its own times. */
	gnn_flows_add(&fx->fl, &f, GNN_VERDICT_BLOCKED, 5000);
	assert_int_equal(gnn_flows_flush_all(&fx->fl), 0);
	assert_int_equal(take(fx, r, 2), 1);
	assert_record(&r[0], "192.0.2.10", "198.51.100.1", 25, GNN_VERDICT_BLOCKED, 1, 40);
	assert_int_equal(r[0].first, 5000);
	fixture_free(fx);
}

static void
test_a_new_flow_evicts_the_one_seen_least_recently(void **state)
{
	/* One set of GNN_FLOWS_WAYS entries: the fifth flow needs a victim. */
	struct fixture *fx = fixture_new(GNN_FLOWS_WAYS, 16);
	char dst[32];
	struct gnn_flow_record r[8];

	(void)state;
	for (int i = 0; i < GNN_FLOWS_WAYS; i++) {
		struct gnn_frame_info f;

		snprintf(dst, sizeof(dst), "198.51.100.%d", i + 1);
		f = frame("192.0.2.10", dst, 25, 40);
		gnn_flows_add(&fx->fl, &f, GNN_VERDICT_BLOCKED, (uint64_t)(10 + i));
	}
	/* Flow 1 is seen again: flow 2 is now the one seen least recently. */
	{
		struct gnn_frame_info f = frame("192.0.2.10", "198.51.100.1", 25, 40);

		gnn_flows_add(&fx->fl, &f, GNN_VERDICT_BLOCKED, 20);
	}
	assert_int_equal(take(fx, r, 8), 0);
	{
		struct gnn_frame_info f = frame("192.0.2.10", "198.51.100.99", 25, 40);

		gnn_flows_add(&fx->fl, &f, GNN_VERDICT_BLOCKED, 30);
	}
	assert_int_equal(take(fx, r, 8), 1);
	assert_record(&r[0], "192.0.2.10", "198.51.100.2", 25, GNN_VERDICT_BLOCKED, 1, 40);
	assert_int_equal(fx->fl.n_pending, GNN_FLOWS_WAYS);
	assert_int_equal(gnn_flows_flush_all(&fx->fl), 0);
	assert_int_equal(take(fx, r, 8), GNN_FLOWS_WAYS);
	assert_int_equal(fx->fl.lost, 0);
	fixture_free(fx);
}

static void
test_a_full_ring_counts_evictions_lost_and_keeps_the_rest(void **state)
{
	struct fixture *fx = fixture_new(GNN_FLOWS_WAYS, 2);
	struct gnn_flow_record r[8];
	char dst[32];

	(void)state;
	/* Ten flows through one set: six evictions, two fit the ring. */
	for (int i = 0; i < 10; i++) {
		struct gnn_frame_info f;

		snprintf(dst, sizeof(dst), "198.51.100.%d", i + 1);
		f = frame("192.0.2.10", dst, 25, 40);
		gnn_flows_add(&fx->fl, &f, GNN_VERDICT_BLOCKED, (uint64_t)i);
	}
	assert_int_equal(fx->fl.lost, 4);
	/* The sweep does not lose what is due: it waits for room. */
	for (int i = 0; i < 4; i++)
		gnn_flows_tick(&fx->fl, 10 * FLUSH_TICKS);
	assert_int_equal(fx->fl.lost, 4);
	assert_int_equal(fx->fl.n_pending, GNN_FLOWS_WAYS);
	/* Flushing with a full ring leaves the entries in the cache. */
	assert_int_equal(gnn_flows_flush_all(&fx->fl), GNN_FLOWS_WAYS);
	assert_int_equal(take(fx, r, 8), 2);
	assert_int_equal(gnn_flows_flush_all(&fx->fl), GNN_FLOWS_WAYS - 2);
	assert_int_equal(take(fx, r, 8), 2);
	assert_int_equal(gnn_flows_flush_all(&fx->fl), 0);
	assert_int_equal(take(fx, r, 8), 2);
	assert_int_equal(fx->fl.n_pending, 0);
	assert_int_equal(fx->fl.lost, 4);
	fixture_free(fx);
}

static void
test_init_refuses_a_bad_cache_size(void **state)
{
	struct fixture *fx = fixture_new(64, 4);
	struct gnn_flows other;

	(void)state;
	assert_int_equal(gnn_flows_init(&other, 3, 1, fx->ring, SOCKET_ID_ANY), -EINVAL);
	assert_int_equal(gnn_flows_init(&other, 96, 1, fx->ring, SOCKET_ID_ANY), -EINVAL);
	assert_int_equal(gnn_flows_init(&other, 64, 1, NULL, SOCKET_ID_ANY), -EINVAL);
	fixture_free(fx);
}

/* ---- EAL --------------------------------------------------------------- */

/* EAL may keep its arguments: they are freed after rte_eal_cleanup(). */
static char *eal_argv[9];

static int
eal_setup(void **state)
{
	static const char *const args[] = {
		"test_flows",
		"--no-huge",
		"-m",
		"512",
		"--no-pci",
		"--no-shconf",
		"--file-prefix=test_flows",
		"--no-telemetry",
		"--log-level=*:warning",
	};
	char *argv[RTE_DIM(args)];

	_Static_assert(RTE_DIM(args) == RTE_DIM(eal_argv), "one copy per argument");
	(void)state;
	for (size_t i = 0; i < RTE_DIM(args); i++)
		assert_non_null(argv[i] = eal_argv[i] = strdup(args[i]));
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0) {
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
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rc = rte_eal_cleanup();
	rmdir(dir);
	for (size_t i = 0; i < RTE_DIM(eal_argv); i++)
		free(eal_argv[i]);
	return rc;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_counts_allowed_would_block_and_blocked_only),
		cmocka_unit_test(test_one_record_per_source_destination_port_and_verdict),
		cmocka_unit_test(test_sweep_sends_a_flow_once_it_is_due_and_starts_it_afresh),
		cmocka_unit_test(test_a_new_flow_evicts_the_one_seen_least_recently),
		cmocka_unit_test(test_a_full_ring_counts_evictions_lost_and_keeps_the_rest),
		cmocka_unit_test(test_init_refuses_a_bad_cache_size),
	};

	return cmocka_run_group_tests(tests, eal_setup, eal_teardown);
}
