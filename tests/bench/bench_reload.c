/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Benchmark of a reload as the control lcore does it on SIGHUP, for a policy
 * of 1000 members: load and validate the text, build the new ruleset (both
 * rte_acl contexts) under a new generation, then free the previous one (in
 * gnnd, after rte_rcu_qsbr_synchronize; no worker runs here). Prints the time
 * of each step over several reloads; never fails on timing.
 * GNN_BENCH_RELOADS sets how many reloads are timed.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_debug.h>
#include <rte_eal.h>
#include <rte_lcore.h>

#include "acl/gnn_acl.h"
#include "policy/gnn_policy.h"

#include "bench_common.h"

#define MEMBERS		1000
#define DEFAULT_RELOADS 15
#define MAX_RELOADS	1000

enum step { STEP_LOAD, STEP_BUILD, STEP_FREE, STEP_TOTAL, STEP_MAX };

static const char *const step_names[STEP_MAX] = {
	[STEP_LOAD] = "gnn_policy_load_string",
	[STEP_BUILD] = "gnn_ruleset_build",
	[STEP_FREE] = "gnn_ruleset_free (old)",
	[STEP_TOTAL] = "reload total",
};

static double ms[STEP_MAX][MAX_RELOADS];

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct gnn_ruleset *
build(const char *text, uint64_t generation)
{
	struct gnn_policy *policy = bench_policy_load(text);
	struct gnn_ruleset *rs;
	char err[256];

	rs = gnn_ruleset_build(policy, NULL, generation, (int)rte_socket_id(), err, sizeof(err));
	if (rs == NULL)
		rte_exit(EXIT_FAILURE, "gnn_ruleset_build: %s\n", err);
	return rs;
}

int
main(int argc, char **argv)
{
	const char *env = getenv("GNN_BENCH_RELOADS");
	int reloads = env != NULL ? atoi(env) : DEFAULT_RELOADS;
	struct gnn_ruleset *active;
	uint64_t generation = 1, heap_base, heap_one;
	char *text;

	(void)argc;
	if (reloads < 1 || reloads > MAX_RELOADS)
		reloads = DEFAULT_RELOADS;
	bench_eal_init(argv[0], "bench_reload");
	text = bench_policy_text(MEMBERS);

	heap_base = bench_heap_allocated();
	active = build(text, generation);
	heap_one = bench_heap_allocated() - heap_base;

	for (int r = 0; r < reloads; r++) {
		double t0 = bench_now();
		struct gnn_policy *policy = bench_policy_load(text);
		double t1 = bench_now();
		char err[256];
		struct gnn_ruleset *next = gnn_ruleset_build(
			policy, NULL, ++generation, (int)rte_socket_id(), err, sizeof(err));
		double t2 = bench_now();

		if (next == NULL)
			rte_exit(EXIT_FAILURE, "gnn_ruleset_build: %s\n", err);
		/* gnnd: publish next, rte_rcu_qsbr_synchronize, then free the old one. */
		gnn_ruleset_free(active);
		active = next;
		double t3 = bench_now();

		ms[STEP_LOAD][r] = (t1 - t0) * 1e3;
		ms[STEP_BUILD][r] = (t2 - t1) * 1e3;
		ms[STEP_FREE][r] = (t3 - t2) * 1e3;
		ms[STEP_TOTAL][r] = (t3 - t0) * 1e3;
	}

	printf("gnn reload benchmark: %u members (%u IPv4 + %u IPv6 ACL rules, %zu bytes of "
	       "config text), %d reloads\n",
	       MEMBERS, active->n_rules4, active->n_rules6, strlen(text), reloads);
	printf("%-24s %9s %9s %9s\n", "step (ms)", "min", "median", "max");
	for (int s = 0; s < STEP_MAX; s++) {
		qsort(ms[s], (size_t)reloads, sizeof(double), cmp_double);
		printf("%-24s %9.2f %9.2f %9.2f\n", step_names[s], ms[s][0], ms[s][reloads / 2],
		       ms[s][reloads - 1]);
	}
	printf("ruleset heap %.1f KiB; heap held after %d reloads beyond one ruleset: %" PRId64
	       " bytes\n",
	       (double)heap_one / 1024.0, reloads,
	       (int64_t)(bench_heap_allocated() - heap_base) - (int64_t)heap_one);

	gnn_ruleset_free(active);
	free(text);
	bench_eal_cleanup();
	return 0;
}
