/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "control/api.h"

#define MAX_HANDLERS 32

static struct {
	unsigned int n;
	const struct gnn_proto_command *cmds[MAX_HANDLERS];
	gnn_api_fn fns[MAX_HANDLERS];
	gnn_api_deliver_fn deliver;
} api;

int
gnn_api_register(const struct gnn_proto_command *cmd, gnn_api_fn fn)
{
	for (unsigned int i = 0; i < api.n; i++)
		if (strcmp(api.cmds[i]->name, cmd->name) == 0)
			return -EEXIST;
	if (api.n == MAX_HANDLERS)
		return -ENOSPC;
	api.cmds[api.n] = cmd;
	api.fns[api.n++] = fn;
	return 0;
}

void
gnn_api_reset(void)
{
	api.n = 0;
}

void
gnn_api_set_transport(gnn_api_deliver_fn deliver)
{
	api.deliver = deliver;
}

uint64_t
gnn_api_defer(struct gnn_api_ctx *ctx)
{
	ctx->deferred = true;
	return ctx->conn;
}

/* The reply object as one line of text, or NULL. */
static char *
reply_line(json_t *reply)
{
	char *text, *line;
	size_t len;

	if (reply == NULL)
		return gnn_proto_error_reply("out of memory");
	text = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	if (text == NULL)
		return gnn_proto_error_reply("cannot encode the reply");
	len = strlen(text);
	line = realloc(text, len + 2);
	if (line == NULL) {
		free(text);
		return NULL;
	}
	line[len] = '\n';
	line[len + 1] = '\0';
	return line;
}

void
gnn_api_answer(uint64_t token, json_t *reply)
{
	char *text = reply_line(reply);

	if (api.deliver != NULL)
		api.deliver(token, text);
	else
		free(text);
}

char *
gnn_api_dispatch(uint64_t conn, const char *line, size_t len, bool *deferred)
{
	struct gnn_api_ctx ctx = {.conn = conn};
	struct gnn_request req;
	char err[256];
	json_t *reply = NULL;

	*deferred = false;
	if (gnn_proto_parse_request(line, len, api.cmds, api.n, &req, err, sizeof(err)) != 0)
		return gnn_proto_error_reply(err);
	for (unsigned int i = 0; i < api.n; i++) {
		if (api.cmds[i] == req.cmd) {
			reply = api.fns[i](&req, &ctx);
			break;
		}
	}
	gnn_request_clear(&req);
	if (ctx.deferred) {
		*deferred = true;
		return NULL;
	}
	return reply_line(reply);
}
