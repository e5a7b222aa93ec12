/* SPDX-License-Identifier: BSD-3-Clause */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_debug.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "bench_common.h"

void
bench_eal_init(const char *prog, const char *prefix)
{
	char file_prefix[64];
	const char *args[] = {
		prog,	     "--no-huge",      "-m",
		"512",	     "--no-pci",       "--no-shconf",
		file_prefix, "--no-telemetry", "--log-level=*:warning",
	};
	char *argv[RTE_DIM(args)];

	snprintf(file_prefix, sizeof(file_prefix), "--file-prefix=%s", prefix);
	/* rte_eal_init() takes char **: give it copies it may keep. */
	for (size_t i = 0; i < RTE_DIM(args); i++)
		if ((argv[i] = strdup(args[i])) == NULL)
			rte_exit(EXIT_FAILURE, "out of memory\n");
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0)
		rte_exit(EXIT_FAILURE, "rte_eal_init failed\n");
}

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double
bench_case_seconds(double dflt)
{
	const char *s = getenv("GNN_BENCH_SECONDS");
	double v = s != NULL ? strtod(s, NULL) : 0;

	return v > 0 ? v : dflt;
}

enum gnn_mode
bench_member_mode(unsigned int i)
{
	if (i % 17 == 16)
		return GNN_MODE_OFF;
	if (i % 5 == 4)
		return GNN_MODE_MONITOR;
	return GNN_MODE_ENFORCE;
}

char *
bench_policy_text(unsigned int n)
{
	size_t cap = 256 + (size_t)n * 320, len = 0;
	char *text = malloc(cap);

	if (text == NULL || n > BENCH_MAX_MEMBERS)
		rte_exit(EXIT_FAILURE, "cannot generate a policy of %u members\n", n);
	len += snprintf(text + len, cap - len,
			"blocked_ports = [ 25 ];\n"
			"ports = ( { inside = \"net_null0\"; outside = \"net_null1\"; } );\n"
			"members = (\n");
	for (unsigned int i = 0; i < n; i++) {
		unsigned int b = 18 + i / 256, c = i % 256, v6 = i + 1;

		len += snprintf(
			text + len, cap - len,
			"  { name = \"member-%04u\"; mode = \"%s\";\n"
			"    networks = [ \"198.%u.%u.0/24\", \"2001:db8:%x::/48\" ];\n"
			"    mail_servers = [ \"198.%u.%u.%u\", \"198.%u.%u.%u\",\n"
			"                     \"2001:db8:%x::%x\", \"2001:db8:%x::%x\" ]; }%s\n",
			i, gnn_mode_name(bench_member_mode(i)), b, c, v6, b, c, BENCH_SERVER_A, b,
			c, BENCH_SERVER_B, v6, BENCH_SERVER_A, v6, BENCH_SERVER_B,
			i + 1 < n ? "," : "");
	}
	if (len + 3 >= cap)
		rte_exit(EXIT_FAILURE, "policy text outgrew its buffer\n");
	snprintf(text + len, cap - len, ");\n");
	return text;
}

struct gnn_policy *
bench_policy_load(const char *text)
{
	struct gnn_diag diag = {0};
	struct gnn_policy *policy = gnn_policy_load_string(text, "bench.conf", NULL, NULL, &diag);

	if (policy == NULL) {
		for (unsigned int i = 0; i < diag.n_errors; i++)
			fprintf(stderr, "%s\n", diag.errors[i]);
		rte_exit(EXIT_FAILURE, "generated policy refused\n");
	}
	gnn_diag_clear(&diag);
	return policy;
}

uint64_t
bench_heap_allocated(void)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats st;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			total += st.heap_allocsz_bytes;
	}
	return total;
}

void
bench_eal_cleanup(void)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);
}
