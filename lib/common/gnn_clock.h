/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_CLOCK_H
#define GNN_CLOCK_H

/*
 * Clocks for the control plane and the tools (never the fast path, which
 * counts TSC ticks): a monotonic clock for timeouts and intervals, which no
 * date change moves, and the wall clock for timestamps in reports.
 * Header only, plain C. Any thread.
 */

#include <stdint.h>
#include <time.h>

/* Monotonic time in milliseconds. */
static inline int64_t
gnn_clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Monotonic time in seconds, with fractions. */
static inline double
gnn_clock_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds since the epoch, with fractions: for timestamps in reports. */
static inline double
gnn_clock_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif /* GNN_CLOCK_H */
