/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/gnn_clock.h"
#include "control/loop.h"

#define MAX_FDS	   512 /* the control socket's clients among them */
#define MAX_TIMERS 16
#define TICK_MS	   100 /* longest sleep: timers fire about this precisely */

struct watch {
	int fd;
	gnn_loop_fd_cb cb;
	void *arg;
};

struct timer {
	unsigned int period_ms;
	int64_t next;
	gnn_loop_timer_cb cb;
	void *arg;
};

#define MAX_EVENTS 64 /* per round */

static struct {
	int epoll_fd;
	bool stop;
	struct watch *watches[MAX_FDS];
	/* The round being served: events after next may name a watch deleted since. */
	struct epoll_event events[MAX_EVENTS];
	int n_events, next;
	unsigned int n_timers;
	struct timer timers[MAX_TIMERS];
} loop = {.epoll_fd = -1};

int
gnn_loop_init(void)
{
	loop.stop = false;
	loop.n_events = loop.next = 0;
	loop.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	return loop.epoll_fd < 0 ? -errno : 0;
}

void
gnn_loop_fini(void)
{
	for (unsigned int i = 0; i < MAX_FDS; i++) {
		free(loop.watches[i]);
		loop.watches[i] = NULL;
	}
	if (loop.epoll_fd >= 0)
		close(loop.epoll_fd);
	loop.epoll_fd = -1;
	loop.n_timers = 0;
}

static struct watch **
slot_of(int fd)
{
	for (unsigned int i = 0; i < MAX_FDS; i++)
		if (loop.watches[i] != NULL && loop.watches[i]->fd == fd)
			return &loop.watches[i];
	return NULL;
}

int
gnn_loop_add_fd(int fd, uint32_t events, gnn_loop_fd_cb cb, void *arg)
{
	struct watch *w;
	struct epoll_event ev = {.events = events};

	for (unsigned int i = 0; i < MAX_FDS; i++) {
		if (loop.watches[i] != NULL)
			continue;
		w = malloc(sizeof(*w));
		if (w == NULL)
			return -ENOMEM;
		*w = (struct watch){.fd = fd, .cb = cb, .arg = arg};
		ev.data.ptr = w;
		if (epoll_ctl(loop.epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			free(w);
			return -errno;
		}
		loop.watches[i] = w;
		return 0;
	}
	return -ENOSPC;
}

int
gnn_loop_mod_fd(int fd, uint32_t events)
{
	struct watch **w = slot_of(fd);
	struct epoll_event ev = {.events = events};

	if (w == NULL)
		return -ENOENT;
	ev.data.ptr = *w;
	return epoll_ctl(loop.epoll_fd, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -errno;
}

void
gnn_loop_del_fd(int fd)
{
	struct watch **w = slot_of(fd);

	if (w == NULL)
		return;
	epoll_ctl(loop.epoll_fd, EPOLL_CTL_DEL, fd, NULL);
	/*
	 * An event for it may still wait in this round's list: drop it, then
	 * free the watch at once. (Keeping deleted watches until the round ends
	 * needs a list that clients connecting and dropped within one callback
	 * could overflow.)
	 */
	for (int i = loop.next; i < loop.n_events; i++)
		if (loop.events[i].data.ptr == *w)
			loop.events[i].data.ptr = NULL;
	free(*w);
	*w = NULL;
}

int
gnn_loop_add_timer(unsigned int period_ms, gnn_loop_timer_cb cb, void *arg)
{
	if (loop.n_timers == MAX_TIMERS)
		return -ENOSPC;
	loop.timers[loop.n_timers++] = (struct timer){
		.period_ms = period_ms,
		.next = gnn_clock_mono_ms() + period_ms,
		.cb = cb,
		.arg = arg,
	};
	return 0;
}

static int
next_timeout(void)
{
	int64_t now = gnn_clock_mono_ms(), wait = TICK_MS;

	for (unsigned int i = 0; i < loop.n_timers; i++) {
		int64_t left = loop.timers[i].next - now;

		if (left < wait)
			wait = left < 0 ? 0 : left;
	}
	return (int)wait;
}

static void
run_timers(void)
{
	int64_t now = gnn_clock_mono_ms();

	for (unsigned int i = 0; i < loop.n_timers && !loop.stop; i++) {
		struct timer *t = &loop.timers[i];

		if (now < t->next)
			continue;
		/* A late timer runs once, not once per missed period. */
		t->next = now + t->period_ms;
		t->cb(t->arg);
	}
}

void
gnn_loop_run(void)
{
	while (!loop.stop) {
		int n = epoll_wait(loop.epoll_fd, loop.events, MAX_EVENTS, next_timeout());

		loop.n_events = n > 0 ? n : 0;
		for (loop.next = 0; loop.next < loop.n_events && !loop.stop;) {
			const struct epoll_event *e = &loop.events[loop.next++];
			struct watch *w = e->data.ptr;

			if (w != NULL)
				w->cb(w->fd, e->events, w->arg);
		}
		loop.n_events = loop.next = 0;
		run_timers();
	}
}

void
gnn_loop_stop(void)
{
	loop.stop = true;
}

bool
gnn_loop_stopping(void)
{
	return loop.stop;
}
