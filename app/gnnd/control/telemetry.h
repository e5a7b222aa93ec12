/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_TELEMETRY_H
#define GNND_TELEMETRY_H

/*
 * DPDK telemetry commands /gnn/totals, /gnn/ports,<name> and
 * /gnn/members,<name> (or ,page=N for the names). The telemetry thread asks
 * the event loop and waits for its answer, so every reading is made where
 * the counters live. Register after gnn_loop_init().
 */

int gnn_telemetry_init(void);
void gnn_telemetry_fini(void);

#endif /* GNND_TELEMETRY_H */
