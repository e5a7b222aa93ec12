/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_SOURCES_H
#define GNND_SOURCES_H

/*
 * The sources the workers report (see sources.c): top, servers, suggest and
 * diff. Control lcore only.
 */

#include <stdint.h>

struct gnn_track_counts;

/* Before gnn_rules_init(): it follows every publication from the first. */
int gnn_sources_init(void);
void gnn_sources_fini(void);

/* Take what the workers' rings hold now. */
void gnn_sources_drain(void);

/* After the workers stopped: their pending records, then drain. */
void gnn_sources_flush_workers(void);

/* Table sizes and records too old to name their server, for the stats. */
void gnn_sources_stats(struct gnn_track_counts *counts, uint64_t *stale);

#endif /* GNND_SOURCES_H */
