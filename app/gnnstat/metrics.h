/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNNSTAT_METRICS_H
#define GNNSTAT_METRICS_H

/*
 * One stats snapshot of gnnd as Prometheus text exposition (format 0.0.4):
 * the one renderer behind `gnnstat --prometheus` and `gnnstat exporter`.
 *
 * The JSON fields become metrics through a table in metrics.c (field ->
 * name, type, help, labels); fields the table does not name are ignored, and
 * a field that is missing or of the wrong type gives no sample rather than a
 * made-up value. docs/monitoring.md lists the metrics.
 */

#include <stdio.h>

#include <jansson.h>

/* The Content-Type of what metrics_write() produces. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Write the exposition of stats (gnnd's reply to "stats") to out, with
 * gnn_up 1 and gnn_scrape_duration_seconds (the seconds it took to get it).
 * stats NULL means gnnd did not answer: then only gnn_up 0 and the duration
 * are written, so no gnnd series outlives the gnnd that reported it.
 * Any thread; reads stats only.
 */
void metrics_write(FILE *out, const json_t *stats, double scrape_seconds);

#endif /* GNNSTAT_METRICS_H */
