/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_NOTIFY_H
#define GNND_NOTIFY_H

/*
 * gnnd under systemd (a Type=notify unit): readiness, status, reload and
 * stop notifications through sd_notify(), the service watchdog, and log
 * priorities the journal understands.
 *
 * The notifications do nothing outside such a unit (no NOTIFY_SOCKET) and
 * when gnnd is built without libsystemd; the log priorities need only
 * systemd's JOURNAL_STREAM. The control lcore (the main thread) calls all of
 * these. Test builds (meson -Dtest_hooks=true, or the gnnd-test-hooks
 * binary) read GNN_TEST_STALL_WORKER=SECONDS: the first launched worker then
 * stops looping SECONDS after ready (struct gnn_worker.test_stall_tsc).
 */

/*
 * First thing in main(), before EAL logs anything. When stderr is the
 * journal (JOURNAL_STREAM names it), every line DPDK logs goes to stderr
 * prefixed with "<N>", its syslog priority, instead of to stderr and syslog
 * both. Test builds also read GNN_TEST_STALL_WORKER here.
 */
void gnn_notify_init(void);

/*
 * Every port is started, every launched worker polls, the control socket
 * accepts: READY=1 and STATUS=. Arms the watchdog when systemd asks for one
 * (WATCHDOG_USEC). Control lcore only, once.
 */
void gnn_notify_ready(void);

/* Around a reload (SIGHUP or the socket): RELOADING=1 before it, READY=1
 * and STATUS= with its outcome after it. Control lcore only. */
void gnn_notify_reloading(void);
void gnn_notify_reloaded(void);

/* Shutdown has begun: STOPPING=1. Control lcore only. */
void gnn_notify_stopping(void);

/*
 * Call from the control loop at least every 100 ms. At half the watchdog
 * interval it sends WATCHDOG=1 if every launched worker's loop counter
 * (struct gnn_worker.loops) has moved since the last such check; while one
 * has not, it sends nothing, and systemd ends gnnd when the interval runs
 * out. Control lcore only.
 */
void gnn_notify_watchdog(void);

#endif /* GNND_NOTIFY_H */
