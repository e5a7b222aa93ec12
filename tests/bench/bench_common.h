/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_BENCH_COMMON_H
#define GNN_BENCH_COMMON_H

/*
 * Shared by the benchmarks: EAL start-up, timing, and a generated policy of
 * n members. Member i owns 198.(18 + i / 256).(i % 256).0/24 and
 * 2001:db8:(i + 1)::/48; its two dual-stacked mail servers are .25/.26 and
 * ::25/::26. Every fifth member is in monitor mode, every seventeenth is off,
 * the rest enforce. Single-threaded; main lcore only.
 */

#include <stdint.h>

#include "policy/gnn_policy.h"

#define BENCH_SERVER_A	  25
#define BENCH_MAX_MEMBERS 1024 /* what the address plan below holds */
#define BENCH_SERVER_B	  26

/* rte_eal_init with the test arguments; exits on failure. */
void bench_eal_init(const char *prog, const char *prefix);

/* rte_eal_cleanup() and removal of the runtime directory EAL leaves. */
void bench_eal_cleanup(void);

/* Monotonic clock in seconds. */
double bench_now(void);

/* Seconds each timed case runs: GNN_BENCH_SECONDS, else dflt. */
double bench_case_seconds(double dflt);

/* Mode of generated member i. */
enum gnn_mode bench_member_mode(unsigned int i);

/* libconfig text of a policy with n members (n <= BENCH_MAX_MEMBERS); free() it. */
char *bench_policy_text(unsigned int n);

/* Load the text; exits with the diagnostics on failure. */
struct gnn_policy *bench_policy_load(const char *text);

/* Bytes allocated from the rte_malloc heaps, all sockets. */
uint64_t bench_heap_allocated(void);

#endif /* GNN_BENCH_COMMON_H */
