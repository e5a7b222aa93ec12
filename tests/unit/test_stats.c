/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the counter sums: gnn_stats_sum() over several per-lcore
 * counter sets adds every counter, overwrites the total, and derives the
 * totals gnnstat shows. No EAL needed.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats/gnn_stats.h"

#define N_LCORES	    3
#define GNN_STATS_MAX_SLOTS 2048 /* member slots every lcore's array holds here */

/* Counter sets are large (tens of KiB): keep them off the stack. */
static struct gnn_lcore_stats lcore[N_LCORES];
static struct gnn_stats_total total;
static struct gnn_member_counters lcore_members[N_LCORES][GNN_STATS_MAX_SLOTS];
static struct gnn_member_counters total_members[GNN_STATS_MAX_SLOTS];

static const struct gnn_lcore_stats *const lcores[N_LCORES] = {&lcore[0], &lcore[1], &lcore[2]};

static int
reset(void **state)
{
	(void)state;
	memset(lcore, 0, sizeof(lcore));
	memset(&total, 0, sizeof(total));
	memset(lcore_members, 0, sizeof(lcore_members));
	memset(total_members, 0, sizeof(total_members));
	for (unsigned int l = 0; l < N_LCORES; l++) {
		lcore[l].member = lcore_members[l];
		lcore[l].n_member_slots = GNN_STATS_MAX_SLOTS;
	}
	total.member = total_members;
	total.n_member_slots = GNN_STATS_MAX_SLOTS;
	return 0;
}

/* A value distinct per lcore and per counter, so a misplaced add shows. */
static uint64_t
value(unsigned int l, unsigned int counter)
{
	return (uint64_t)(l + 1) * 1000003u + counter * 7u + 1;
}

/* Every counter of every lcore gets value(l, i), i numbering all counters. */
static void
fill_all(void)
{
	for (unsigned int l = 0; l < N_LCORES; l++) {
		struct gnn_lcore_stats *s = &lcore[l];
		unsigned int c = 0;

		for (unsigned int p = 0; p < GNN_STATS_MAX_PORTS; p++) {
			s->port_rx[p] = value(l, c++);
			s->port_tx[p] = value(l, c++);
			s->port_tx_dropped[p] = value(l, c++);
		}
		for (unsigned int r = 0; r < GNN_MALFORMED_MAX; r++)
			s->malformed_dropped[r] = value(l, c++);
		s->malformed_forwarded = value(l, c++);
		s->records_lost = value(l, c++);
		for (unsigned int m = 0; m < GNN_STATS_MAX_SLOTS; m++) {
			for (unsigned int k = 0; k < GNN_MC_MAX; k++)
				s->member[m].c[k] = value(l, c++);
		}
	}
}

static uint64_t
sum_of(unsigned int n, unsigned int counter)
{
	uint64_t sum = 0;

	for (unsigned int l = 0; l < n; l++)
		sum += value(l, counter);
	return sum;
}

/* ---- tests ------------------------------------------------------------ */

static void
test_sum_of_no_lcores_is_all_zero_and_overwrites_total(void **state)
{
	static struct gnn_stats_total zero;
	static struct gnn_member_counters zero_members[GNN_STATS_MAX_SLOTS];

	(void)state;
	memset(&total, 0xa5, sizeof(total));
	memset(total_members, 0xa5, sizeof(total_members));
	total.member = total_members;
	total.n_member_slots = GNN_STATS_MAX_SLOTS;
	gnn_stats_sum(lcores, 0, NULL, 0, &total);
	/* The member array is the caller's: it stays, and is summed into. */
	zero.member = total_members;
	zero.n_member_slots = GNN_STATS_MAX_SLOTS;
	assert_memory_equal(&total, &zero, sizeof(total));
	assert_memory_equal(total_members, zero_members, sizeof(zero_members));
}

static void
test_sum_of_zeroed_lcores_is_all_zero(void **state)
{
	static struct gnn_stats_total zero;

	(void)state;
	memset(&total, 0x5a, sizeof(total));
	total.member = total_members;
	total.n_member_slots = GNN_STATS_MAX_SLOTS;
	gnn_stats_sum(lcores, N_LCORES, NULL, 0, &total);
	zero.member = total_members;
	zero.n_member_slots = GNN_STATS_MAX_SLOTS;
	assert_memory_equal(&total, &zero, sizeof(total));
}

/* Arrays of different sizes add up to the slots the total asks for; retired counts too. */
static void
test_member_arrays_of_any_size_and_retired_counts_add_up(void **state)
{
	static struct gnn_member_counters retired[GNN_STATS_MAX_SLOTS];

	(void)state;
	memset(retired, 0, sizeof(retired));
	lcore[0].n_member_slots = 64; /* an array not yet grown */
	lcore[0].member[3].c[GNN_MC_BLOCKED] = 5;
	lcore[0].member[100].c[GNN_MC_BLOCKED] = 1000; /* beyond its size: not read */
	lcore[1].member[3].c[GNN_MC_BLOCKED] = 7;
	lcore[1].member[1500].c[GNN_MC_ALLOWED] = 2;
	retired[3].c[GNN_MC_BLOCKED] = 11;
	retired[1500].c[GNN_MC_ALLOWED] = 1;
	total.n_member_slots = 1024; /* the slots in use: 1500 is not asked for */
	gnn_stats_sum(lcores, 2, retired, GNN_STATS_MAX_SLOTS, &total);
	assert_int_equal(total.member[3].c[GNN_MC_BLOCKED], 5 + 7 + 11);
	assert_int_equal(total.member[100].c[GNN_MC_BLOCKED], 0);
	assert_int_equal(total.blocked, 23);
	assert_int_equal(total.allowed, 0);
	/* Retiring an array adds what it counted. */
	gnn_stats_retire(retired, lcore[1].member, GNN_STATS_MAX_SLOTS);
	assert_int_equal(retired[3].c[GNN_MC_BLOCKED], 18);
	assert_int_equal(retired[1500].c[GNN_MC_ALLOWED], 3);
}

static void
test_each_counter_is_summed_over_lcores_in_its_own_place(void **state)
{
	unsigned int c = 0;

	(void)state;
	fill_all();
	gnn_stats_sum(lcores, N_LCORES, NULL, 0, &total);
	for (unsigned int p = 0; p < GNN_STATS_MAX_PORTS; p++) {
		assert_int_equal(total.port_rx[p], sum_of(N_LCORES, c++));
		assert_int_equal(total.port_tx[p], sum_of(N_LCORES, c++));
		assert_int_equal(total.port_tx_dropped[p], sum_of(N_LCORES, c++));
	}
	for (unsigned int r = 0; r < GNN_MALFORMED_MAX; r++)
		assert_int_equal(total.malformed_dropped[r], sum_of(N_LCORES, c++));
	assert_int_equal(total.malformed_forwarded, sum_of(N_LCORES, c++));
	assert_int_equal(total.records_lost, sum_of(N_LCORES, c++));
	for (unsigned int m = 0; m < GNN_STATS_MAX_SLOTS; m++) {
		for (unsigned int k = 0; k < GNN_MC_MAX; k++)
			assert_int_equal(total.member[m].c[k], sum_of(N_LCORES, c++));
	}
}

static void
test_derived_totals_add_ports_reasons_and_member_slots(void **state)
{
	uint64_t rx = 0, tx = 0, tx_dropped = 0, malformed = 0;
	uint64_t allowed = 0, blocked = 0, would_block = 0;
	unsigned int c = 0;

	(void)state;
	fill_all();
	for (unsigned int p = 0; p < GNN_STATS_MAX_PORTS; p++) {
		rx += sum_of(N_LCORES, c++);
		tx += sum_of(N_LCORES, c++);
		tx_dropped += sum_of(N_LCORES, c++);
	}
	for (unsigned int r = 0; r < GNN_MALFORMED_MAX; r++)
		malformed += sum_of(N_LCORES, c++);
	c += 2; /* malformed_forwarded, records_lost: in no derived total */
	for (unsigned int m = 0; m < GNN_STATS_MAX_SLOTS; m++) {
		allowed += sum_of(N_LCORES, c + GNN_MC_ALLOWED);
		blocked += sum_of(N_LCORES, c + GNN_MC_BLOCKED);
		would_block += sum_of(N_LCORES, c + GNN_MC_WOULD_BLOCK);
		c += GNN_MC_MAX;
	}

	gnn_stats_sum(lcores, N_LCORES, NULL, 0, &total);
	assert_int_equal(total.rx_packets, rx);
	assert_int_equal(total.forwarded, tx);
	assert_int_equal(total.tx_dropped, tx_dropped);
	assert_int_equal(total.malformed_total, malformed);
	assert_int_equal(total.allowed, allowed);
	assert_int_equal(total.blocked, blocked);
	assert_int_equal(total.would_block, would_block);
}

/* A small, readable scenario: two workers, two ports, two members. */
static void
test_two_workers_scenario_gives_the_expected_totals(void **state)
{
	(void)state;
	/* worker 0: inside port 0 -> outside port 1 */
	lcore[0].port_rx[0] = 100;
	lcore[0].port_tx[1] = 90;
	lcore[0].port_tx_dropped[1] = 2;
	lcore[0].member[0].c[GNN_MC_ALLOWED] = 10;
	lcore[0].member[0].c[GNN_MC_BLOCKED] = 5;
	lcore[0].member[7].c[GNN_MC_WOULD_BLOCK] = 3;
	lcore[0].malformed_dropped[GNN_MALFORMED_TRUNCATED] = 1;
	lcore[0].malformed_dropped[GNN_MALFORMED_VLAN_DEPTH] = 2;
	lcore[0].malformed_forwarded = 4;
	/* worker 1: outside port 1 -> inside port 0 */
	lcore[1].port_rx[1] = 50;
	lcore[1].port_tx[0] = 50;
	lcore[1].member[0].c[GNN_MC_BLOCKED] = 1;
	lcore[1].member[GNN_STATS_MAX_SLOTS - 1].c[GNN_MC_ALLOWED] = 6;
	lcore[1].malformed_dropped[GNN_MALFORMED_EXT_CHAIN] = 3;
	lcore[1].records_lost = 9;

	gnn_stats_sum(lcores, 2, NULL, 0, &total);
	assert_int_equal(total.port_rx[0], 100);
	assert_int_equal(total.port_rx[1], 50);
	assert_int_equal(total.port_tx[0], 50);
	assert_int_equal(total.port_tx[1], 90);
	assert_int_equal(total.rx_packets, 150);
	assert_int_equal(total.forwarded, 140);
	assert_int_equal(total.tx_dropped, 2);
	assert_int_equal(total.member[0].c[GNN_MC_ALLOWED], 10);
	assert_int_equal(total.member[0].c[GNN_MC_BLOCKED], 6);
	assert_int_equal(total.member[7].c[GNN_MC_WOULD_BLOCK], 3);
	assert_int_equal(total.member[GNN_STATS_MAX_SLOTS - 1].c[GNN_MC_ALLOWED], 6);
	assert_int_equal(total.allowed, 16);
	assert_int_equal(total.blocked, 6);
	assert_int_equal(total.would_block, 3);
	assert_int_equal(total.malformed_dropped[GNN_MALFORMED_TRUNCATED], 1);
	assert_int_equal(total.malformed_dropped[GNN_MALFORMED_VLAN_DEPTH], 2);
	assert_int_equal(total.malformed_dropped[GNN_MALFORMED_EXT_CHAIN], 3);
	/* Forwarded malformed frames are not in the dropped total. */
	assert_int_equal(total.malformed_total, 6);
	assert_int_equal(total.malformed_forwarded, 4);
	assert_int_equal(total.records_lost, 9);
}

static void
test_only_the_first_n_lcores_are_summed(void **state)
{
	(void)state;
	lcore[0].port_rx[3] = 1;
	lcore[1].port_rx[3] = 2;
	lcore[2].port_rx[3] = 4;
	lcore[2].member[1].c[GNN_MC_BLOCKED] = 8;

	gnn_stats_sum(lcores, 2, NULL, 0, &total);
	assert_int_equal(total.port_rx[3], 3);
	assert_int_equal(total.rx_packets, 3);
	assert_int_equal(total.blocked, 0);

	gnn_stats_sum(lcores, 3, NULL, 0, &total);
	assert_int_equal(total.port_rx[3], 7);
	assert_int_equal(total.blocked, 8);
}

static void
test_summing_twice_does_not_accumulate(void **state)
{
	(void)state;
	lcore[0].port_rx[0] = 5;
	lcore[1].member[2].c[GNN_MC_WOULD_BLOCK] = 7;
	gnn_stats_sum(lcores, N_LCORES, NULL, 0, &total);
	gnn_stats_sum(lcores, N_LCORES, NULL, 0, &total);
	assert_int_equal(total.port_rx[0], 5);
	assert_int_equal(total.rx_packets, 5);
	assert_int_equal(total.member[2].c[GNN_MC_WOULD_BLOCK], 7);
	assert_int_equal(total.would_block, 7);
}

/* Counters are packets since start: 64-bit sums past 2^32 must not wrap. */
static void
test_counters_past_32_bits_sum_without_wrapping(void **state)
{
	const uint64_t big = UINT64_C(0x1ffffffff);

	(void)state;
	for (unsigned int l = 0; l < N_LCORES; l++) {
		lcore[l].port_rx[GNN_STATS_MAX_PORTS - 1] = big;
		lcore[l].member[GNN_STATS_MAX_SLOTS - 1].c[GNN_MC_BLOCKED] = big;
		lcore[l].malformed_dropped[GNN_MALFORMED_MAX - 1] = big;
	}
	gnn_stats_sum(lcores, N_LCORES, NULL, 0, &total);
	assert_true(total.port_rx[GNN_STATS_MAX_PORTS - 1] == N_LCORES * big);
	assert_true(total.rx_packets == N_LCORES * big);
	assert_true(total.blocked == N_LCORES * big);
	assert_true(total.malformed_total == N_LCORES * big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_sum_of_no_lcores_is_all_zero_and_overwrites_total,
				       reset),
		cmocka_unit_test_setup(test_sum_of_zeroed_lcores_is_all_zero, reset),
		cmocka_unit_test_setup(test_member_arrays_of_any_size_and_retired_counts_add_up,
				       reset),
		cmocka_unit_test_setup(test_each_counter_is_summed_over_lcores_in_its_own_place,
				       reset),
		cmocka_unit_test_setup(test_derived_totals_add_ports_reasons_and_member_slots,
				       reset),
		cmocka_unit_test_setup(test_two_workers_scenario_gives_the_expected_totals, reset),
		cmocka_unit_test_setup(test_only_the_first_n_lcores_are_summed, reset),
		cmocka_unit_test_setup(test_summing_twice_does_not_accumulate, reset),
		cmocka_unit_test_setup(test_counters_past_32_bits_sum_without_wrapping, reset),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
