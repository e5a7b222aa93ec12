/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_PROTO_H
#define GNN_PROTO_H

/*
 * Control socket protocol shared by gnnd and gnnstat (no DPDK).
 *
 * A Unix stream socket. The client sends one request line, the server sends
 * one response line (a JSON object, newline-terminated) and keeps the
 * connection open for more requests. A request is a JSON object
 * {"cmd": "stats"} | {"cmd": "reload"} | {"cmd": "top", "member": "m", "n": 10}
 * or, for people typing into socat, the bare words "stats", "reload",
 * "top [MEMBER] [N]". Errors come back as {"error": "reason"}.
 */

#include <stddef.h>
#include <stdint.h>

#define GNN_PROTO_DEFAULT_SOCKET "/run/gnn/gnnd.sock"
#define GNN_PROTO_MAX_REQUEST	 4096 /* bytes, newline included */
#define GNN_PROTO_TOP_DEFAULT	 10
#define GNN_PROTO_TOP_MAX	 1000

enum gnn_request_type {
	GNN_REQ_STATS = 0,
	GNN_REQ_RELOAD,
	GNN_REQ_TOP,
};

struct gnn_request {
	enum gnn_request_type type;
	char member[64]; /* top: "" for all members */
	unsigned int n;	 /* top: how many sources */
};

/*
 * Parse one request line (without its newline). Returns 0, or -EINVAL with
 * a human reason in err.
 * Any thread.
 */
int gnn_proto_parse_request(const char *line, size_t len, struct gnn_request *req, char *err,
			    size_t errlen);

/*
 * Build {"error": msg} as a newline-terminated string; caller frees.
 * Any thread.
 */
char *gnn_proto_error_reply(const char *msg);

/*
 * Client: connect to path, send request (a line without newline), read one
 * response line within timeout_ms, parse it. Returns the JSON object
 * (a jansson json_t *, caller json_decref()s) or NULL with err filled:
 * "cannot connect to PATH: No such file or directory (is gnnd running?)".
 */
struct json_t;
struct json_t *gnn_proto_call(const char *path, const char *request, int timeout_ms, char *err,
			      size_t errlen);

#endif /* GNN_PROTO_H */
