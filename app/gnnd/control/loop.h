/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_LOOP_H
#define GNND_LOOP_H

/*
 * The control lcore's event loop: file descriptors with a callback each,
 * and periodic timers. Modules register what they serve; the loop knows
 * none of them. Control lcore only.
 */

#include <stdbool.h>
#include <stdint.h>

typedef void (*gnn_loop_fd_cb)(int fd, uint32_t events, void *arg);
typedef void (*gnn_loop_timer_cb)(void *arg);

int gnn_loop_init(void);
void gnn_loop_fini(void);

/* Watch fd for events (EPOLLIN, EPOLLOUT ...); 0 or -errno. */
int gnn_loop_add_fd(int fd, uint32_t events, gnn_loop_fd_cb cb, void *arg);
int gnn_loop_mod_fd(int fd, uint32_t events);
/* Forget fd (before closing it). */
void gnn_loop_del_fd(int fd);

/* Call cb about every period_ms, from the loop. 0 or -ENOSPC. */
int gnn_loop_add_timer(unsigned int period_ms, gnn_loop_timer_cb cb, void *arg);

/* Run until gnn_loop_stop(). */
void gnn_loop_run(void);
void gnn_loop_stop(void);
bool gnn_loop_stopping(void);

#endif /* GNND_LOOP_H */
