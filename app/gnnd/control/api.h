/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_API_H
#define GNND_API_H

/*
 * Requests of the control socket, looked up in a table that the modules
 * fill at start: each module registers the commands it serves (a command
 * of lib/proto's table and a handler) and owns their state. The transport
 * (sock.c) knows no command; nothing here calls back into a module except
 * through the handler it registered. Control lcore only.
 */

#include <stdbool.h>
#include <stdint.h>

#include "proto/gnn_proto.h"

struct json_t;

/* One request being answered. */
struct gnn_api_ctx {
	uint64_t conn; /* the transport's connection */
	bool deferred;
};

/*
 * A handler returns the reply object (the API takes it), or NULL after
 * gnn_api_defer() to answer later with gnn_api_answer(). NULL without
 * deferring means out of memory.
 */
typedef struct json_t *(*gnn_api_fn)(const struct gnn_request *req, struct gnn_api_ctx *ctx);

/* 0, -EEXIST (command taken) or -ENOSPC. */
int gnn_api_register(const struct gnn_proto_command *cmd, gnn_api_fn fn);

/* Answer later; returns the token for gnn_api_answer(). */
uint64_t gnn_api_defer(struct gnn_api_ctx *ctx);
/* The deferred reply (taken); a connection gone since is ignored. */
void gnn_api_answer(uint64_t token, struct json_t *reply);

/* The transport: how a deferred reply reaches its connection (text taken). */
typedef void (*gnn_api_deliver_fn)(uint64_t conn, char *text);
void gnn_api_set_transport(gnn_api_deliver_fn deliver);

/*
 * Answer one request line of connection conn: the reply line (the caller
 * frees it; NULL when out of memory), or NULL with *deferred set when the
 * handler answers later.
 */
char *gnn_api_dispatch(uint64_t conn, const char *line, size_t len, bool *deferred);

/* Forget the handlers (shutdown, tests). */
void gnn_api_reset(void);

#endif /* GNND_API_H */
