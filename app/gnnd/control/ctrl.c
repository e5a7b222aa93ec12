/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "control/ctrl.h"
#include "control/loop.h"
#include "control/notify.h"
#include "control/ports.h"
#include "control/rules.h"
#include "gnnd.h"

RTE_LOG_REGISTER(gnn_logtype_ctrl, gnn.ctrl, INFO);
#define GNN_LOGTYPE gnn_logtype_ctrl

#define LINK_WATCH_MS 1000
#define WATCHDOG_MS   100 /* gnn_notify_watchdog() wants at least this often */

static int signal_fd = -1;

/* Read every pending signal; several SIGHUPs make one reload. */
static void
on_signal(int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;
	bool reload = false;

	RTE_SET_USED(events);
	RTE_SET_USED(arg);
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload = true;
		} else {
			GNN_LOG(INFO, "signal %u: stopping", si.ssi_signo);
			gnn_loop_stop();
		}
	}
	if (reload && !gnn_loop_stopping())
		gnn_rules_reload_signal();
}

static void
watch_links(void *arg)
{
	RTE_SET_USED(arg);
	gnn_ports_watch_links();
}

static void
feed_watchdog(void *arg)
{
	RTE_SET_USED(arg);
	gnn_notify_watchdog();
}

int
gnn_ctrl_init(void)
{
	sigset_t set;
	int rc;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (signal_fd < 0) {
		GNN_LOG(ERR, "signalfd: %s", strerror(errno));
		return -errno;
	}
	rc = gnn_loop_add_fd(signal_fd, EPOLLIN, on_signal, NULL);
	if (rc == 0)
		rc = gnn_loop_add_timer(LINK_WATCH_MS, watch_links, NULL);
	if (rc == 0)
		rc = gnn_loop_add_timer(WATCHDOG_MS, feed_watchdog, NULL);
	return rc;
}

void
gnn_ctrl_fini(void)
{
	if (signal_fd >= 0) {
		gnn_loop_del_fd(signal_fd);
		close(signal_fd);
	}
	signal_fd = -1;
}
