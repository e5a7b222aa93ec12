/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_REPORT_H
#define GNND_REPORT_H

/* The stats reply and the exit summary (see report.c). Control lcore only. */

struct gnn_request;
struct json_t;

/* Registers "stats" and the rate sampler. */
int gnn_report_init(void);
void gnn_report_fini(void);

/* The stats reply for req (NULL: everything). NULL when out of memory. */
struct json_t *gnn_report_stats(const struct gnn_request *req);

void gnn_report_print_summary(void);

#endif /* GNND_REPORT_H */
