/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_IPFIX_H
#define GNND_IPFIX_H

/*
 * The IPFIX exporter (docs/design.md, "Export"; docs/monitoring.md): the
 * flow records the workers aggregate (judge/gnn_flows.h) are drained from
 * their rings, merged per interval and sent to the configured collector as
 * IPFIX over UDP (RFC 7011), encoded by libfixbuf. Sending never blocks: a
 * collector that is down or slow costs records (counted), not time. It
 * follows the running config: a reload that adds, changes or removes
 * `ipfix` starts, moves or stops the export. Control lcore only.
 */

struct json_t;

/* Before gnn_rules_init(): it follows every publication from the first. */
int gnn_ipfix_init(void);

/* After the workers stopped: their pending flows, the last export, the end of the session. */
void gnn_ipfix_stop(void);

void gnn_ipfix_fini(void);

/* Add the export's counters to the stats reply's datapath object. */
void gnn_ipfix_stats_json(struct json_t *datapath);

#endif /* GNND_IPFIX_H */
