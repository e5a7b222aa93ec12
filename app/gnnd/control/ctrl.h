/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_CTRL_H
#define GNND_CTRL_H

/*
 * Signals and housekeeping of the control lcore: SIGHUP reloads (a burst
 * makes one reload), SIGINT/SIGTERM stop the loop in every state, links
 * are watched once a second. Control lcore only.
 */

/* main() blocks the signals before EAL makes its threads; this reads them. */
int gnn_ctrl_init(void);
void gnn_ctrl_fini(void);

#endif /* GNND_CTRL_H */
