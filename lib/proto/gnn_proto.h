/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_PROTO_H
#define GNN_PROTO_H

/*
 * Control socket protocol shared by gnnd and gnnstat (no DPDK).
 *
 * A Unix stream socket. The client sends one request line, the server sends
 * one response line (a JSON object, newline-terminated) and keeps the
 * connection open for more requests. A request is a JSON object
 * {"cmd": "top", "member": "m", "n": 10} or, for people typing into socat,
 * the bare words "top [MEMBER] [N]". Errors come back as {"error": "reason"}.
 *
 * The commands and their arguments are a table (gnn_proto_commands): the
 * parser checks every request against it, so a handler only ever sees
 * arguments of the right type and range. gnnd looks each command up in its
 * own table of handlers (app/gnnd/control/api.c).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GNN_PROTO_DEFAULT_SOCKET "/run/gnn/gnnd.sock"
#define GNN_PROTO_MAX_REQUEST	 4096 /* bytes, newline included */
#define GNN_PROTO_TOP_DEFAULT	 10
#define GNN_PROTO_TOP_MAX	 1000
#define GNN_PROTO_NAME_MAX	 63 /* bytes of a member name argument */

enum gnn_proto_arg_type {
	GNN_ARG_STRING = 0, /* max: longest length in bytes */
	GNN_ARG_UINT,	    /* min..max */
	GNN_ARG_BOOL,
};

struct gnn_proto_arg {
	const char *name;  /* JSON field */
	const char *label; /* in usage texts: "MEMBER", "N" */
	enum gnn_proto_arg_type type;
	uint32_t min, max;
	bool positional; /* may be given as a bare word, in table order */
	bool required;
};

struct gnn_proto_command {
	const char *name;
	const char *help; /* one line, for usage texts */
	unsigned int n_args;
	const struct gnn_proto_arg *args;
};

/* Every command of the protocol (docs/design.md, "Control socket"). */
extern const struct gnn_proto_command gnn_proto_cmd_stats;
extern const struct gnn_proto_command gnn_proto_cmd_reload;
extern const struct gnn_proto_command gnn_proto_cmd_top;
extern const struct gnn_proto_command gnn_proto_cmd_servers;
extern const struct gnn_proto_command gnn_proto_cmd_suggest;
extern const struct gnn_proto_command gnn_proto_cmd_diff;

struct json_t;

/* A parsed request: its command and its checked arguments. */
struct gnn_request {
	const struct gnn_proto_command *cmd;
	struct json_t *args; /* object of the arguments given; the request owns it */
};

/*
 * Parse one request line (without its newline) against the n commands of
 * table. Returns 0 (release req with gnn_request_clear()), or -EINVAL with a
 * human reason in err and req untouched.
 * Any thread.
 */
int gnn_proto_parse_request(const char *line, size_t len,
			    const struct gnn_proto_command *const *table, unsigned int n,
			    struct gnn_request *req, char *err, size_t errlen);

void gnn_request_clear(struct gnn_request *req);

/* An argument of a parsed request, or dflt when it was not given. */
const char *gnn_request_string(const struct gnn_request *req, const char *name, const char *dflt);
uint64_t gnn_request_uint(const struct gnn_request *req, const char *name, uint64_t dflt);
bool gnn_request_bool(const struct gnn_request *req, const char *name, bool dflt);

/*
 * Build {"error": msg} as a newline-terminated string; caller frees.
 * Any thread.
 */
char *gnn_proto_error_reply(const char *msg);

/*
 * Client: connect to path, send request (a line without newline), read one
 * response line within timeout_ms, parse it. Returns the JSON object
 * (a jansson json_t *, caller json_decref()s) or NULL with err filled, and
 * errno: ECONNREFUSED/ENOENT "cannot connect to PATH: ... (is gnnd
 * running?)", ETIMEDOUT "no reply from PATH within 5 s", ECONNRESET
 * "PATH closed the connection before replying".
 */
struct json_t *gnn_proto_call(const char *path, const char *request, int timeout_ms, char *err,
			      size_t errlen);

#endif /* GNN_PROTO_H */
