/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_SOCK_H
#define GNND_SOCK_H

/* The control socket transport (see sock.c). Control lcore only. */

#include <stdint.h>

/*
 * Refuse a path gnnd cannot serve (too long, its directory missing or not
 * writable, another gnnd listening); remove a stale socket. 0 or -errno,
 * with the reason logged. Start-up, before any port starts.
 */
int gnn_sock_check_free(const char *path);

/* Listen on path (mode 0660, group if not NULL), served by the event loop. */
int gnn_sock_open(const char *path, const char *group, unsigned int idle_timeout);

/* A deferred reply for connection conn (see control/api.h); text taken. */
void gnn_sock_deliver(uint64_t conn, char *text);

void gnn_sock_close(void);

#endif /* GNND_SOCK_H */
