/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer harness of the control socket's request parser: the input is
 * one request line as gnnd's transport hands it over (newline removed; any
 * bytes, NULs included), parsed against the whole command table and once
 * more against a part of it (drawn from the input's length), as gnnd does
 * with the commands its modules registered. Invariants (a trap when
 * broken):
 * - success: the command is one of the table's; the arguments are a JSON
 *   object holding only the command's own fields, each of its type and
 *   range (strings: valid UTF-8 without control characters, at most max
 *   bytes; integers within min..max; booleans), every required one given;
 *   the accessors read them back; the request written out as JSON (when
 *   that fits in a line) parses again to the same command and arguments;
 * - failure: -EINVAL, the request untouched, and an error message that is
 *   a NUL-terminated, non-empty line of printable ASCII which
 *   gnn_proto_error_reply() turns into {"error": message} verbatim; a
 *   small error buffer only truncates it.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto/gnn_proto.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct gnn_proto_command *const all[] = {
	&gnn_proto_cmd_stats,	&gnn_proto_cmd_reload,	&gnn_proto_cmd_top,
	&gnn_proto_cmd_servers, &gnn_proto_cmd_suggest, &gnn_proto_cmd_diff,
};

/* A sentinel the parser must not touch when it refuses a request. */
static const struct gnn_proto_command sentinel_cmd = {"sentinel", "", 0, NULL};

static const struct gnn_proto_arg *
arg_of(const struct gnn_proto_command *cmd, const char *name)
{
	for (unsigned int i = 0; i < cmd->n_args; i++)
		if (strcmp(cmd->args[i].name, name) == 0)
			return &cmd->args[i];
	return NULL;
}

static void
check_arg(const struct gnn_request *req, const struct gnn_proto_arg *a, const json_t *v)
{
	json_int_t i;

	switch (a->type) {
	case GNN_ARG_STRING:
		CHECK(json_is_string(v));
		CHECK(json_string_length(v) <= a->max);
		/* jansson holds valid UTF-8; a NUL inside would cut it short in C. */
		CHECK(strlen(json_string_value(v)) == json_string_length(v));
		for (const char *c = json_string_value(v); *c != '\0'; c++)
			CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
		CHECK(gnn_request_string(req, a->name, NULL) == json_string_value(v));
		return;
	case GNN_ARG_UINT:
		CHECK(json_is_integer(v));
		i = json_integer_value(v);
		CHECK(i >= (json_int_t)a->min && i <= (json_int_t)a->max);
		CHECK(gnn_request_uint(req, a->name, 0) == (uint64_t)i);
		CHECK(gnn_request_uint(req, a->name, 1) == (uint64_t)i);
		return;
	case GNN_ARG_BOOL:
		CHECK(json_is_boolean(v));
		CHECK(gnn_request_bool(req, a->name, false) == json_is_true(v));
		CHECK(gnn_request_bool(req, a->name, true) == json_is_true(v));
		return;
	}
	CHECK(0);
}

static void
check_request(const struct gnn_request *req, const struct gnn_proto_command *const *table,
	      unsigned int n)
{
	const struct gnn_proto_command *cmd = req->cmd;
	bool known = false;
	const char *key;
	json_t *v;

	for (unsigned int i = 0; i < n; i++)
		known |= table[i] == cmd;
	CHECK(known);
	CHECK(json_is_object(req->args));
	json_object_foreach(req->args, key, v)
	{
		const struct gnn_proto_arg *a = arg_of(cmd, key);

		CHECK(a != NULL);
		check_arg(req, a, v);
	}
	for (unsigned int i = 0; i < cmd->n_args; i++) {
		const struct gnn_proto_arg *a = &cmd->args[i];

		if (a->required)
			CHECK(json_object_get(req->args, a->name) != NULL);
		/* Absent: the accessors give the default back. */
		if (json_object_get(req->args, a->name) == NULL) {
			CHECK(gnn_request_uint(req, a->name, 7) == 7);
			CHECK(gnn_request_string(req, a->name, NULL) == NULL);
		}
	}
}

/* The request as JSON, parsed again: the same command and arguments. */
static void
check_round_trip(const struct gnn_request *req, const struct gnn_proto_command *const *table,
		 unsigned int n)
{
	json_t *obj = json_deep_copy(req->args);
	struct gnn_request again = {0};
	char err[256];
	char *text;

	CHECK(obj != NULL);
	CHECK(json_object_set_new(obj, "cmd", json_string(req->cmd->name)) == 0);
	text = json_dumps(obj, JSON_COMPACT);
	CHECK(text != NULL);
	/* Escapes can make the JSON form longer than a line (a path of quotes). */
	if (strlen(text) >= GNN_PROTO_MAX_REQUEST) {
		free(text);
		json_decref(obj);
		return;
	}
	CHECK(gnn_proto_parse_request(text, strlen(text), table, n, &again, err, sizeof(err)) == 0);
	CHECK(again.cmd == req->cmd);
	CHECK(json_equal(again.args, req->args));
	gnn_request_clear(&again);
	free(text);
	json_decref(obj);
}

static void
check_error(const char *err, size_t errlen)
{
	size_t len = strnlen(err, errlen);
	json_t *reply;
	char *text;

	CHECK(len < errlen); /* terminated */
	CHECK(len > 0 || errlen == 1);
	for (size_t i = 0; i < len; i++)
		CHECK(err[i] >= 0x20 && err[i] < 0x7f);
	text = gnn_proto_error_reply(err);
	CHECK(text != NULL);
	len = strlen(text);
	CHECK(len > 0 && text[len - 1] == '\n' && memchr(text, '\n', len - 1) == NULL);
	reply = json_loadb(text, len, 0, NULL);
	CHECK(json_is_object(reply) && json_object_size(reply) == 1);
	CHECK(strcmp(json_string_value(json_object_get(reply, "error")), err) == 0);
	json_decref(reply);
	free(text);
}

static void
parse_with(const uint8_t *data, size_t size, const struct gnn_proto_command *const *table,
	   unsigned int n, size_t errlen)
{
	struct gnn_request req = {.cmd = &sentinel_cmd, .args = (json_t *)(uintptr_t)&sentinel_cmd};
	char *err = malloc(errlen);
	int rc;

	CHECK(err != NULL);
	memset(err, 0xa5, errlen); /* no NUL: a message not written shows */
	rc = gnn_proto_parse_request((const char *)data, size, table, n, &req, err, errlen);
	if (rc == 0) {
		check_request(&req, table, n);
		check_round_trip(&req, table, n);
		/* A line holding a NUL is refused whatever follows. */
		CHECK(memchr(data, '\0', size) == NULL);
		CHECK(size < GNN_PROTO_MAX_REQUEST);
		gnn_request_clear(&req);
		CHECK(req.cmd == NULL && req.args == NULL);
	} else {
		CHECK(rc == -EINVAL);
		CHECK(req.cmd == &sentinel_cmd);
		CHECK(req.args == (json_t *)(uintptr_t)&sentinel_cmd);
		check_error(err, errlen);
	}
	free(err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct gnn_proto_command *part[N_ELEM(all)];
	unsigned int n = 0, mask = (unsigned int)(size * 2654435761u >> 7);

	/* The line gnnd reads is at most this long; longer ones are refused. */
	if (size > 2 * GNN_PROTO_MAX_REQUEST)
		return 0;
	parse_with(data, size, all, N_ELEM(all), 256);
	for (unsigned int i = 0; i < N_ELEM(all); i++)
		if ((mask >> i) & 1)
			part[n++] = all[i];
	if (n > 0)
		parse_with(data, size, part, n, 1 + (size % 64));
	return 0;
}
