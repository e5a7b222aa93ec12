/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of gnnd's request-handler table (app/gnnd/control/api.c),
 * which needs no EAL: registration (a name once, a full table), dispatch
 * of every kind of line (a command, a refusal by the parser, a command
 * nobody registered, a handler out of memory), and replies deferred and
 * answered later through a fake transport, for a connection still there
 * or gone.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "control/api.h"
#include "proto/gnn_proto.h"

#define MAX_HANDLERS 32 /* api.c's table */

/* What the handlers saw, and what the fake transport was handed. */
static struct {
	unsigned int calls;
	uint64_t conn;
	const struct gnn_proto_command *cmd;
	char member[64];
	uint64_t n;
	uint64_t token;
	unsigned int delivered;
	uint64_t delivered_conn;
	char *delivered_text;
} seen;

static int
reset(void **state)
{
	(void)state;
	gnn_api_reset();
	gnn_api_set_transport(NULL);
	free(seen.delivered_text);
	memset(&seen, 0, sizeof(seen));
	return 0;
}

static json_t *
echo(const struct gnn_request *req, struct gnn_api_ctx *ctx)
{
	seen.calls++;
	seen.conn = ctx->conn;
	seen.cmd = req->cmd;
	snprintf(seen.member, sizeof(seen.member), "%s", gnn_request_string(req, "member", "-"));
	seen.n = gnn_request_uint(req, "n", 0);
	return json_pack("{s:s, s:s}", "cmd", req->cmd->name, "member", seen.member);
}

static json_t *
out_of_memory(const struct gnn_request *req, struct gnn_api_ctx *ctx)
{
	(void)req;
	(void)ctx;
	seen.calls++;
	return NULL;
}

static json_t *
later(const struct gnn_request *req, struct gnn_api_ctx *ctx)
{
	(void)req;
	seen.calls++;
	seen.token = gnn_api_defer(ctx);
	assert_true(ctx->deferred);
	return NULL;
}

static void
deliver(uint64_t conn, char *text)
{
	seen.delivered++;
	seen.delivered_conn = conn;
	free(seen.delivered_text);
	seen.delivered_text = text;
}

/* Dispatch line on conn: the reply parsed (one line, one object). */
static json_t *
call(uint64_t conn, const char *line)
{
	bool deferred = true;
	char *text = gnn_api_dispatch(conn, line, strlen(line), &deferred);
	json_t *reply;
	size_t len;

	assert_false(deferred);
	assert_non_null(text);
	len = strlen(text);
	assert_true(len > 1 && text[len - 1] == '\n');
	assert_null(memchr(text, '\n', len - 1));
	reply = json_loads(text, 0, NULL);
	assert_true(json_is_object(reply));
	free(text);
	return reply;
}

static const char *
error_of(const json_t *reply)
{
	const json_t *e = json_object_get(reply, "error");

	return json_is_string(e) ? json_string_value(e) : NULL;
}

static void
test_register_once_per_name_and_up_to_the_limit(void **state)
{
	static struct gnn_proto_command many[MAX_HANDLERS];
	static char names[MAX_HANDLERS][8];
	const struct gnn_proto_command top_again = {"top", "another top", 0, NULL};
	json_t *reply;

	(void)state;
	assert_int_equal(gnn_api_register(&gnn_proto_cmd_top, echo), 0);
	assert_int_equal(gnn_api_register(&gnn_proto_cmd_top, echo), -EEXIST);
	/* The name counts, not the table entry. */
	assert_int_equal(gnn_api_register(&top_again, echo), -EEXIST);
	for (unsigned int i = 0; i < MAX_HANDLERS; i++) {
		snprintf(names[i], sizeof(names[i]), "c%u", i);
		many[i] = (struct gnn_proto_command){names[i], "", 0, NULL};
		assert_int_equal(gnn_api_register(&many[i], echo),
				 i + 1 < MAX_HANDLERS ? 0 : -ENOSPC);
	}
	/* The last command that fit is served, the one refused is not. */
	json_decref(call(1, "c30"));
	assert_int_equal(seen.calls, 1);
	assert_ptr_equal(seen.cmd, &many[30]);
	reply = call(1, "c31");
	assert_non_null(strstr(error_of(reply), "unknown command"));
	json_decref(reply);
	assert_int_equal(seen.calls, 1);
	/* After a reset, the table is empty and takes them again. */
	gnn_api_reset();
	assert_int_equal(gnn_api_register(&gnn_proto_cmd_top, echo), 0);
}

static void
test_dispatch_hands_checked_arguments_to_the_handler(void **state)
{
	json_t *reply;

	(void)state;
	assert_int_equal(gnn_api_register(&gnn_proto_cmd_top, echo), 0);
	assert_int_equal(gnn_api_register(&gnn_proto_cmd_stats, echo), 0);
	reply = call(7, "top example-college 5");
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.conn, 7);
	assert_ptr_equal(seen.cmd, &gnn_proto_cmd_top);
	assert_string_equal(seen.member, "example-college");
	assert_int_equal(seen.n, 5);
	assert_string_equal(json_string_value(json_object_get(reply, "cmd")), "top");
	json_decref(reply);
	json_decref(call(8, "{\"cmd\":\"stats\",\"member\":\"m*\"}"));
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.conn, 8);
	assert_ptr_equal(seen.cmd, &gnn_proto_cmd_stats);
	assert_string_equal(seen.member, "m*");
}

static void
test_refusals_are_error_replies(void **state)
{
	static const struct {
		const char *line;
		const char *error;
	} cases[] = {
		/* Only what is registered is known, and named in the refusal. */
		{"reload", "unknown command \"reload\" (expected top or stats)"},
		{"{\"cmd\":\"servers\"}", "unknown command \"servers\" (expected top or stats)"},
		{"top 0", "top: N must be a number between 1 and 1000"},
		{"{\"cmd\":\"top\",\"nn\":1}", "unknown field \"nn\""},
		{"stats now", "stats takes no arguments"},
		{"", "empty request"},
		{"{\"cmd\":", "bad JSON"},
		{"top \x01", "request contains a control character"},
		{"top \xc3\x28", "top: MEMBER is not valid UTF-8"},
	};
	json_t *reply;

	(void)state;
	assert_int_equal(gnn_api_register(&gnn_proto_cmd_top, echo), 0);
	assert_int_equal(gnn_api_register(&gnn_proto_cmd_stats, echo), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reply = call(1, cases[i].line);
		assert_non_null(error_of(reply));
		if (strncmp(error_of(reply), cases[i].error, strlen(cases[i].error)) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].line, error_of(reply),
				 cases[i].error);
		assert_int_equal(json_object_size(reply), 1);
		json_decref(reply);
	}
	assert_int_equal(seen.calls, 0);
	/* A line longer than the protocol allows never reaches a handler. */
	{
		char *line = malloc(GNN_PROTO_MAX_REQUEST + 1);

		assert_non_null(line);
		memset(line, 'x', GNN_PROTO_MAX_REQUEST);
		memcpy(line, "top ", 4);
		line[GNN_PROTO_MAX_REQUEST] = '\0';
		reply = call(1, line);
		assert_non_null(strstr(error_of(reply), "too long"));
		json_decref(reply);
		free(line);
	}
	/* Nothing registered at all. */
	gnn_api_reset();
	reply = call(1, "stats");
	assert_non_null(error_of(reply));
	json_decref(reply);
	assert_int_equal(seen.calls, 0);
}

static void
test_a_handler_out_of_memory_gets_an_error_reply(void **state)
{
	json_t *reply;

	(void)state;
	assert_int_equal(gnn_api_register(&gnn_proto_cmd_stats, out_of_memory), 0);
	reply = call(1, "stats");
	assert_int_equal(seen.calls, 1);
	assert_string_equal(error_of(reply), "out of memory");
	json_decref(reply);
}

static void
test_deferred_replies_reach_their_connection(void **state)
{
	bool deferred = false;
	json_t *reply;
	char *text;

	(void)state;
	gnn_api_set_transport(deliver);
	assert_int_equal(gnn_api_register(&gnn_proto_cmd_reload, later), 0);
	assert_int_equal(gnn_api_register(&gnn_proto_cmd_stats, echo), 0);
	text = gnn_api_dispatch(42, "reload", 6, &deferred);
	assert_null(text);
	assert_true(deferred);
	assert_int_equal(seen.token, 42);
	assert_int_equal(seen.delivered, 0);
	/* Other connections are answered meanwhile. */
	json_decref(call(43, "stats"));
	assert_int_equal(seen.delivered, 0);

	gnn_api_answer(seen.token, json_pack("{s:b, s:i}", "ok", 1, "generation", 2));
	assert_int_equal(seen.delivered, 1);
	assert_int_equal(seen.delivered_conn, 42);
	assert_non_null(seen.delivered_text);
	assert_string_equal(seen.delivered_text, "{\"ok\":true,\"generation\":2}\n");

	/* An answer out of memory still reaches the client, as an error. */
	gnn_api_answer(seen.token, NULL);
	assert_int_equal(seen.delivered, 2);
	reply = json_loads(seen.delivered_text, 0, NULL);
	assert_string_equal(error_of(reply), "out of memory");
	json_decref(reply);

	/* Without a transport (shut down) an answer is dropped, not leaked. */
	gnn_api_set_transport(NULL);
	gnn_api_answer(seen.token, json_pack("{s:b}", "ok", 1));
	assert_int_equal(seen.delivered, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_register_once_per_name_and_up_to_the_limit, reset),
		cmocka_unit_test_setup(test_dispatch_hands_checked_arguments_to_the_handler, reset),
		cmocka_unit_test_setup(test_refusals_are_error_replies, reset),
		cmocka_unit_test_setup(test_a_handler_out_of_memory_gets_an_error_reply, reset),
		cmocka_unit_test_setup(test_deferred_replies_reach_their_connection, reset),
	};
	int rc = cmocka_run_group_tests_name("api", tests, NULL, NULL);

	reset(NULL);
	return rc;
}
