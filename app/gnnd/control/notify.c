/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gnnd under systemd: sd_notify() readiness, status, reload and stop
 * messages, the watchdog fed from the control lcore while the workers make
 * progress, and "<N>" syslog priorities on the log lines when stderr is the
 * journal. See notify.h for who calls what.
 *
 * The watchdog proves more than "the process exists": each worker bumps its
 * loop counter once per poll loop, and the control lcore feeds systemd only
 * if every launched worker's counter moved since the last feed. A worker
 * stuck in a loop, or a control lcore stuck itself, stops the feeding, and
 * systemd ends and restarts gnnd when WatchdogSec= runs out.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_pause.h>

#ifdef GNN_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "control/notify.h"
#include "control/rules.h"
#include "gnnd.h"

RTE_LOG_REGISTER(gnn_logtype_notify, gnn.notify, INFO);
#define GNN_LOGTYPE gnn_logtype_notify

static struct {
	uint64_t watchdog_us;	      /* 0: systemd wants no watchdog */
	uint64_t last_check_us;	      /* when the counters were last compared */
	uint64_t seen[RTE_MAX_LCORE]; /* each worker's loops at that check */
	int stalled;		      /* index of a worker that did not move, or -1 */
	char status[256];	      /* the STATUS= line while all is well */
} nt = {.stalled = -1};

/* ---- sd_notify ---- */

static void notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
notify(const char *fmt, ...)
{
#ifdef GNN_HAVE_LIBSYSTEMD
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Fails only when NOTIFY_SOCKET is set and unusable: nothing to do then. */
	sd_notify(0, msg);
#else
	(void)fmt;
#endif
}

static uint64_t
monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* "forwarding: generation 3, 12 members, 2 workers, 2 ports" */
static void
update_status(void)
{
	const struct gnn_ruleset *rs = gnn_rules_active();
	struct gnn_rules_state st;
	int n;

	gnn_rules_state(&st);
	n = snprintf(nt.status, sizeof(nt.status),
		     "forwarding: generation %" PRIu64 ", %u members, %u workers, %u ports",
		     st.generation, rs != NULL ? rs->n_members : 0, gnnd.n_workers, gnnd.n_ports);
	if (st.last_error != NULL && n > 0 && (size_t)n < sizeof(nt.status))
		snprintf(nt.status + n, sizeof(nt.status) - (size_t)n, "; last reload failed: %s",
			 st.last_error);
}

#ifdef GNN_TEST_HOOKS
static struct {
	double seconds; /* from GNN_TEST_STALL_WORKER; 0: no stall */
} stall;

/* The first launched worker stops looping that long after ready (worker.c). */
static void
test_stall_arm(void)
{
	if (stall.seconds <= 0)
		return;
	for (unsigned int i = 0; i < gnnd.n_workers; i++) {
		if (gnnd.workers[i]->n_units == 0)
			continue;
		GNN_LOG(WARNING, "test hook: worker lcore %u stalls in %.1f s",
			gnnd.workers[i]->lcore_id, stall.seconds);
		__atomic_store_n(&gnnd.workers[i]->test_stall_tsc,
				 rte_get_tsc_cycles() +
					 (uint64_t)(stall.seconds * (double)rte_get_tsc_hz()),
				 __ATOMIC_RELEASE);
		return;
	}
}
#endif

void
gnn_notify_ready(void)
{
	update_status();
#ifdef GNN_HAVE_LIBSYSTEMD
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		nt.watchdog_us = usec;
		nt.last_check_us = monotonic_us();
		for (unsigned int i = 0; i < gnnd.n_workers; i++)
			nt.seen[i] = __atomic_load_n(&gnnd.workers[i]->loops, __ATOMIC_RELAXED);
		GNN_LOG(INFO,
			"watchdog: %" PRIu64 " ms, fed every %" PRIu64 " ms while the workers loop",
			usec / 1000, usec / 2000);
	}
#endif
#ifdef GNN_TEST_HOOKS
	test_stall_arm();
#endif
	notify("READY=1\nSTATUS=%s", nt.status);
}

/*
 * Compare every launched worker's loop counter with the last check: true
 * if all moved. Logs and reports (STATUS=) a worker that stops and one that
 * moves again.
 */
static bool
workers_moving(uint64_t now)
{
	int stalled = -1;

	for (unsigned int i = 0; i < gnnd.n_workers; i++) {
		const struct gnn_worker *w = gnnd.workers[i];
		uint64_t loops;

		if (w->n_units == 0)
			continue; /* never launched */
		loops = __atomic_load_n(&w->loops, __ATOMIC_RELAXED);
		if (loops == nt.seen[i] && stalled < 0)
			stalled = (int)i;
		nt.seen[i] = loops;
	}
	if (stalled < 0 && nt.stalled >= 0) {
		GNN_LOG(NOTICE, "worker lcore %u loops again: watchdog fed",
			gnnd.workers[nt.stalled]->lcore_id);
		notify("STATUS=%s", nt.status);
	} else if (stalled >= 0 && nt.stalled < 0) {
		unsigned int lcore = gnnd.workers[stalled]->lcore_id;

		GNN_LOG(ERR,
			"worker lcore %u has not looped for %" PRIu64
			" ms: watchdog not fed, systemd will restart gnnd",
			lcore, (now - nt.last_check_us) / 1000);
		notify("STATUS=worker lcore %u stalled: watchdog not fed", lcore);
	}
	nt.stalled = stalled;
	nt.last_check_us = now;
	return stalled < 0;
}

void
gnn_notify_reloading(void)
{
	uint64_t now = monotonic_us();
	bool feed = false;

	/* A reload holds the control lcore: feed the watchdog first, so that a
	 * build gets the whole interval, if every worker moved since the last
	 * check (a millisecond is thousands of loops; sooner, that check holds). */
	if (nt.watchdog_us != 0)
		feed = now - nt.last_check_us >= 1000 ? workers_moving(now) : nt.stalled < 0;
	/* MONOTONIC_USEC: newer systemd wants it with RELOADING=1. */
	notify("RELOADING=1\nSTATUS=reloading %s\nMONOTONIC_USEC=%" PRIu64 "%s",
	       gnnd.opt.config_path, now, feed ? "\nWATCHDOG=1" : "");
}

void
gnn_notify_reloaded(void)
{
	update_status();
	notify("READY=1\nSTATUS=%s", nt.status);
}

void
gnn_notify_stopping(void)
{
	notify("STOPPING=1\nSTATUS=stopping");
}

void
gnn_notify_watchdog(void)
{
	uint64_t now;

	if (nt.watchdog_us == 0)
		return;
	now = monotonic_us();
	if (now - nt.last_check_us >= nt.watchdog_us / 2 && workers_moving(now))
		notify("WATCHDOG=1");
}

/* ---- log priorities for the journal ---- */

static int log_at_line_start = 1; /* under the stream's lock */

/*
 * The log stream's write: each line gets "<N>" in front, N the syslog
 * priority of the message being logged (DPDK's levels are syslog's + 1).
 * The stream is unbuffered, so one rte_log() call arrives here whole.
 */
static ssize_t
journal_write(void *cookie, const char *buf, size_t size)
{
	int prio = rte_log_cur_msg_loglevel() - 1;
	char out[4096 + 64];
	size_t i = 0, n = 0;

	(void)cookie;
	if (prio < LOG_EMERG || prio > LOG_DEBUG)
		prio = LOG_INFO;
	while (i < size) {
		if (log_at_line_start) {
			n += (size_t)snprintf(out + n, sizeof(out) - n, "<%d>", prio);
			log_at_line_start = 0;
		}
		while (i < size && n < sizeof(out) - 8) {
			out[n++] = buf[i];
			if (buf[i++] == '\n') {
				log_at_line_start = 1;
				break;
			}
		}
		if (n >= sizeof(out) - 64 || i == size) {
			for (size_t off = 0; off < n;) {
				ssize_t w = write(STDERR_FILENO, out + off, n - off);

				if (w <= 0)
					return (ssize_t)size; /* the journal is gone: drop it */
				off += (size_t)w;
			}
			n = 0;
		}
	}
	return (ssize_t)size;
}

/* JOURNAL_STREAM="DEVICE:INODE" names stderr when systemd connected it to
 * the journal (and not after a redirection of our own). */
static bool
stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (env == NULL || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
gnn_notify_init(void)
{
	FILE *f;

#ifdef GNN_TEST_HOOKS
	const char *s = getenv("GNN_TEST_STALL_WORKER");

	if (s != NULL)
		stall.seconds = strtod(s, NULL);
#endif
	if (!stderr_is_journal())
		return;
	f = fopencookie(NULL, "w", (cookie_io_functions_t){.write = journal_write});
	if (f == NULL)
		return;
	setvbuf(f, NULL, _IONBF, 0);
	rte_openlog_stream(f);
}
