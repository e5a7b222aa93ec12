/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Unit tests for lib/proto: request parsing (every accepted form and every
 * kind of refusal), the error reply, and the client call against tiny
 * servers on sockets in a temporary directory.
 */

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "proto/gnn_proto.h"

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

static char tmpdir[64];

/* ---- request parsing ---- */

/* The commands gnnd serves, as it hands them to the parser. */
static const struct gnn_proto_command *const commands[] = {
	&gnn_proto_cmd_stats,	&gnn_proto_cmd_reload,	&gnn_proto_cmd_top,
	&gnn_proto_cmd_servers, &gnn_proto_cmd_suggest, &gnn_proto_cmd_diff,
};

static int
parse_n(const char *line, size_t len, struct gnn_request *req, char *err, size_t errlen)
{
	return gnn_proto_parse_request(line, len, commands, N_ELEM(commands), req, err, errlen);
}

static int
parse(const char *line, struct gnn_request *req, char *err, size_t errlen)
{
	return parse_n(line, strlen(line), req, err, errlen);
}

struct good_case {
	const char *line;
	const struct gnn_proto_command *type;
	const char *member;
	unsigned int n;
};

#define GNN_REQ_STATS  (&gnn_proto_cmd_stats)
#define GNN_REQ_RELOAD (&gnn_proto_cmd_reload)
#define GNN_REQ_TOP    (&gnn_proto_cmd_top)

static void
test_parse_valid(void **state)
{
	static const struct good_case cases[] = {
		{"stats", GNN_REQ_STATS, "", GNN_PROTO_TOP_DEFAULT},
		{"reload", GNN_REQ_RELOAD, "", GNN_PROTO_TOP_DEFAULT},
		{"top", GNN_REQ_TOP, "", GNN_PROTO_TOP_DEFAULT},
		{"top 5", GNN_REQ_TOP, "", 5},
		{"top 1000", GNN_REQ_TOP, "", 1000},
		{"top example-college", GNN_REQ_TOP, "example-college", GNN_PROTO_TOP_DEFAULT},
		{"top example-college 7", GNN_REQ_TOP, "example-college", 7},
		{"top\t42 3", GNN_REQ_TOP, "42", 3}, /* a numeric member needs N too */
		{"  stats \r", GNN_REQ_STATS, "", GNN_PROTO_TOP_DEFAULT},
		{"reload\r\n", GNN_REQ_RELOAD, "", GNN_PROTO_TOP_DEFAULT},
		{"{\"cmd\":\"stats\"}", GNN_REQ_STATS, "", GNN_PROTO_TOP_DEFAULT},
		{" { \"cmd\" : \"reload\" } ", GNN_REQ_RELOAD, "", GNN_PROTO_TOP_DEFAULT},
		{"{\"cmd\":\"top\"}", GNN_REQ_TOP, "", GNN_PROTO_TOP_DEFAULT},
		{"{\"cmd\":\"top\",\"n\":1}", GNN_REQ_TOP, "", 1},
		{"{\"n\":1000,\"member\":\"m\",\"cmd\":\"top\"}", GNN_REQ_TOP, "m", 1000},
		{"{\"cmd\":\"top\",\"member\":\"\"}", GNN_REQ_TOP, "", GNN_PROTO_TOP_DEFAULT},
		{"{\"cmd\":\"top\",\"member\":"
		 "\"123456789012345678901234567890123456789012345678901234567890123\"}",
		 GNN_REQ_TOP, "123456789012345678901234567890123456789012345678901234567890123",
		 GNN_PROTO_TOP_DEFAULT},
		{"servers", &gnn_proto_cmd_servers, "", GNN_PROTO_TOP_DEFAULT},
		{"servers example-college", &gnn_proto_cmd_servers, "example-college",
		 GNN_PROTO_TOP_DEFAULT},
		{"{\"cmd\":\"suggest\",\"member\":\"m\"}", &gnn_proto_cmd_suggest, "m",
		 GNN_PROTO_TOP_DEFAULT},
		{"{\"cmd\":\"stats\",\"member\":\"college\"}", GNN_REQ_STATS, "college",
		 GNN_PROTO_TOP_DEFAULT},
		{"{\"cmd\":\"stats\",\"limit\":5,\"sort\":\"activity\"}", GNN_REQ_STATS, "",
		 GNN_PROTO_TOP_DEFAULT},
	};
	struct gnn_request req;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEM(cases); i++) {
		memset(&req, 0xa5, sizeof(req));
		err[0] = '\0';
		if (parse(cases[i].line, &req, err, sizeof(err)) != 0)
			fail_msg("\"%s\" refused: %s", cases[i].line, err);
		assert_ptr_equal(req.cmd, cases[i].type);
		assert_string_equal(gnn_request_string(&req, "member", ""), cases[i].member);
		assert_int_equal(gnn_request_uint(&req, "n", GNN_PROTO_TOP_DEFAULT), cases[i].n);
		gnn_request_clear(&req);
	}
}

static void
test_parse_diff_and_limits(void **state)
{
	struct gnn_request req;
	char err[256];

	(void)state;
	assert_int_equal(parse("diff /etc/gnn/new.conf", &req, err, sizeof(err)), 0);
	assert_ptr_equal(req.cmd, &gnn_proto_cmd_diff);
	assert_string_equal(gnn_request_string(&req, "config", ""), "/etc/gnn/new.conf");
	gnn_request_clear(&req);
	assert_int_equal(parse("diff", &req, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "diff: CONFIG is required"));
	assert_int_equal(parse("{\"cmd\":\"diff\"}", &req, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "CONFIG is required"));
	assert_int_equal(parse("{\"cmd\":\"stats\",\"limit\":-1}", &req, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "\"limit\" must be between 0 and"));
	assert_int_equal(parse("servers a b", &req, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "servers: too many arguments (usage: servers [MEMBER])"));
	assert_int_equal(parse("nuke", &req, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "(expected stats, reload, top, servers, suggest or diff)"));
}

struct bad_case {
	const char *line;
	const char *reason; /* a substring of the error */
};

static void
test_parse_invalid(void **state)
{
	static const struct bad_case cases[] = {
		{"", "empty"},
		{" \t\r ", "empty"},
		{"status", "unknown command \"status\""},
		{"STATS", "unknown command"},
		{"\xff\xfe", "unknown command \"??\""},
		{"stats now", "stats takes no arguments"},
		{"reload x", "reload takes no arguments"},
		{"stats\x01", "control character"},
		{"top a\x1b[2J", "control character"},
		{"top 0", "between 1 and 1000"},
		{"top 1001", "between 1 and 1000"},
		{"top 99999999999999999999999", "between 1 and 1000"},
		{"top m x", "between 1 and 1000"},
		{"top m -1", "between 1 and 1000"},
		{"top m 5 x", "too many arguments"},
		{"top 1234567890123456789012345678901234567890123456789012345678901234x",
		 "member name too long"},
		{"{\"cmd\":\"stats\"} x", "bad JSON"},
		{"{\"cmd\":\"stats\"}}", "bad JSON"},
		{"{\"cmd\":\"stats\"", "bad JSON"},
		{"{\"cmd\":\"stats\",\"cmd\":\"reload\"}", "bad JSON"},
		{"{\"cmd\":\"top\",\"member\":\"a\\u0000b\"}", "bad JSON"},
		{"{\"cmd\":\"\xff\"}", "bad JSON"},
		{"[\"stats\"]", "must be a JSON object"},
		{"\"stats\"", "must be a JSON object"},
		{"{}", "missing \"cmd\""},
		{"{\"cmd\":1}", "\"cmd\" must be a string"},
		{"{\"cmd\":null}", "\"cmd\" must be a string"},
		{"{\"cmd\":\"nuke\"}", "unknown command \"nuke\""},
		{"{\"cmd\":\"stats\",\"n\":5}", "unknown field \"n\""},
		{"{\"cmd\":\"reload\",\"force\":true}", "unknown field \"force\""},
		{"{\"cmd\":\"top\",\"limit\":5}", "unknown field \"limit\""},
		{"{\"cmd\":\"top\",\"n\":\"5\"}", "\"n\" must be an integer"},
		{"{\"cmd\":\"top\",\"n\":5.0}", "\"n\" must be an integer"},
		{"{\"cmd\":\"top\",\"n\":0}", "\"n\" must be between 1 and 1000"},
		{"{\"cmd\":\"top\",\"n\":-3}", "\"n\" must be between 1 and 1000"},
		{"{\"cmd\":\"top\",\"n\":1001}", "\"n\" must be between 1 and 1000"},
		{"{\"cmd\":\"top\",\"n\":99999999999999999999}", "bad JSON"},
		{"{\"cmd\":\"top\",\"member\":5}", "\"member\" must be a string"},
		{"{\"cmd\":\"top\",\"member\":"
		 "\"1234567890123456789012345678901234567890123456789012345678901234\"}",
		 "member name too long (max 63 bytes)"},
	};
	struct gnn_request req, untouched;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEM(cases); i++) {
		memset(&req, 0x5a, sizeof(req));
		untouched = req;
		err[0] = '\0';
		if (parse(cases[i].line, &req, err, sizeof(err)) != -EINVAL)
			fail_msg("\"%s\" accepted", cases[i].line);
		if (strstr(err, cases[i].reason) == NULL)
			fail_msg("\"%s\": error \"%s\" lacks \"%s\"", cases[i].line, err,
				 cases[i].reason);
		assert_memory_equal(&req, &untouched, sizeof(req));
	}
}

static void
test_parse_nul_and_length(void **state)
{
	static const char with_nul[] = "stats\0reload";
	char line[GNN_PROTO_MAX_REQUEST + 1];
	struct gnn_request req;
	char err[256];

	(void)state;
	assert_int_equal(parse_n(with_nul, sizeof(with_nul) - 1, &req, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "NUL"));

	/* GNN_PROTO_MAX_REQUEST counts the newline: one byte less is the longest line. */
	memset(line, ' ', sizeof(line));
	memcpy(line, "stats", 5);
	assert_int_equal(parse_n(line, GNN_PROTO_MAX_REQUEST - 1, &req, err, sizeof(err)), 0);
	assert_ptr_equal(req.cmd, GNN_REQ_STATS);
	gnn_request_clear(&req);
	assert_int_equal(parse_n(line, GNN_PROTO_MAX_REQUEST, &req, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too long"));

	/* A tiny error buffer is truncated, not overrun; a NULL one is allowed. */
	memset(err, 'x', sizeof(err));
	assert_int_equal(parse("nope", &req, err, 8), -EINVAL);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(parse("nope", &req, NULL, 0), -EINVAL);
	assert_int_equal(parse_n(NULL, 0, &req, err, sizeof(err)), -EINVAL);
}

/* ---- error reply ---- */

static void
assert_error_reply(const char *msg, const char *expect)
{
	json_error_t jerr;
	char *reply = gnn_proto_error_reply(msg);
	size_t len;
	json_t *obj;

	assert_non_null(reply);
	len = strlen(reply);
	assert_true(len > 1);
	assert_int_equal(reply[len - 1], '\n');
	assert_null(memchr(reply, '\n', len - 1)); /* one line */
	obj = json_loads(reply, 0, &jerr);
	if (obj == NULL)
		fail_msg("reply \"%s\" is not JSON: %s", reply, jerr.text);
	assert_true(json_is_object(obj));
	assert_int_equal(json_object_size(obj), 1);
	assert_string_equal(json_string_value(json_object_get(obj, "error")), expect);
	json_decref(obj);
	free(reply);
}

static void
test_error_reply(void **state)
{
	struct gnn_request req;
	char err[256];

	(void)state;
	assert_error_reply("unknown command", "unknown command");
	assert_error_reply("quote \" backslash \\ newline \n tab \t",
			   "quote \" backslash \\ newline \n tab \t");
	assert_error_reply(NULL, "unknown error");
	assert_error_reply("", "");
	/* Not UTF-8: still a valid reply rather than none. */
	assert_error_reply("bad \xff byte", "internal error (unprintable message)");
	/* Errors quoting the client's input stay valid JSON whatever it sent. */
	assert_int_equal(parse("\xc3\x28\x01", &req, err, sizeof(err)), -EINVAL);
	assert_error_reply(err, err);
	assert_int_equal(parse("\xc3\x28", &req, err, sizeof(err)), -EINVAL);
	assert_error_reply(err, err);
}

/* ---- client call against in-test servers ---- */

enum server_mode {
	SERVE_REPLY, /* read the request, send reply (in two parts) */
	SERVE_CLOSE, /* read the request, close without answering */
	SERVE_FLOOD, /* read the request, send bytes without a newline */
};

struct server {
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	int fd;
	enum server_mode mode;
	const char *reply;
	char got[GNN_PROTO_MAX_REQUEST + 1];
	pthread_t thread;
};

static void
sock_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

/* A bound socket; listening if listen_too. The caller closes and unlinks. */
static int
bind_socket(const char *path, int listen_too)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	unlink(path);
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	if (listen_too)
		assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static void
read_request(int fd, char *got, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while (n < len - 1) {
		r = read(fd, got + n, 1);
		if (r <= 0 || got[n] == '\n')
			break;
		n++;
	}
	got[n] = '\0';
}

static void
flood(int fd)
{
	static char junk[65536];
	size_t sent = 0;
	ssize_t n;

	memset(junk, ' ', sizeof(junk));
	/* Stops when the client gives up and closes (EPIPE), or well past its limit. */
	while (sent < (64u << 20)) {
		n = send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
		if (n <= 0)
			break;
		sent += (size_t)n;
	}
}

static void *
serve_one(void *arg)
{
	struct server *s = arg;
	size_t half;
	int c;

	c = accept(s->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	read_request(c, s->got, sizeof(s->got));
	if (s->mode == SERVE_REPLY) {
		/* Two writes with a pause: the client must gather a split reply. */
		half = strlen(s->reply) / 2;
		if (write(c, s->reply, half) < 0)
			goto out;
		usleep(20000);
		if (write(c, s->reply + half, strlen(s->reply) - half) < 0)
			goto out;
	} else if (s->mode == SERVE_FLOOD) {
		flood(c);
	}
out:
	close(c);
	return NULL;
}

static void
server_start(struct server *s, const char *name, enum server_mode mode, const char *reply)
{
	memset(s, 0, sizeof(*s));
	sock_path(s->path, sizeof(s->path), name);
	s->fd = bind_socket(s->path, 1);
	s->mode = mode;
	s->reply = reply;
	assert_int_equal(pthread_create(&s->thread, NULL, serve_one, s), 0);
}

static void
server_stop(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->fd);
	unlink(s->path);
}

static void
test_call_good(void **state)
{
	struct server s;
	char err[512] = "";
	json_t *obj;

	(void)state;
	/* Anything after the first newline is not part of this reply. */
	server_start(&s, "good.sock", SERVE_REPLY,
		     "{\"ok\":true,\"generation\":2}\n{\"extra\":1}\n");
	obj = gnn_proto_call(s.path, "{\"cmd\":\"reload\"}", 2000, err, sizeof(err));
	server_stop(&s);
	if (obj == NULL)
		fail_msg("call failed: %s", err);
	assert_string_equal(s.got, "{\"cmd\":\"reload\"}");
	assert_true(json_is_true(json_object_get(obj, "ok")));
	assert_int_equal(json_integer_value(json_object_get(obj, "generation")), 2);
	assert_null(json_object_get(obj, "extra"));
	json_decref(obj);
}

static void
expect_call_error(const char *path, int timeout_ms, const char *request, const char *what)
{
	char err[512] = "";
	json_t *obj;

	obj = gnn_proto_call(path, request, timeout_ms, err, sizeof(err));
	assert_null(obj);
	if (strstr(err, what) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, what);
}

static void
test_call_no_server(void **state)
{
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];

	(void)state;
	sock_path(path, sizeof(path), "missing.sock");
	expect_call_error(path, 1000, "stats", "is gnnd running");
	expect_call_error(path, 1000, "stats", "No such file or directory");
	expect_call_error(path, 1000, "stats", "cannot connect to ");
	expect_call_error(path, 1000, "stats", path);
}

static void
test_call_refused(void **state)
{
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	int fd;

	(void)state;
	/* Bound but not listening: what a crashed gnnd leaves behind. */
	sock_path(path, sizeof(path), "stale.sock");
	fd = bind_socket(path, 0);
	expect_call_error(path, 1000, "stats", "Connection refused");
	expect_call_error(path, 1000, "stats", "is gnnd running");
	close(fd);
	unlink(path);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_call_timeout(void **state)
{
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	double t0, elapsed;
	int fd;

	(void)state;
	/* Listening but never accepting: connect and send succeed, no reply comes. */
	sock_path(path, sizeof(path), "silent.sock");
	fd = bind_socket(path, 1);
	t0 = now_s();
	expect_call_error(path, 200, "stats", "no reply within 200 ms (is gnnd running?)");
	elapsed = now_s() - t0;
	close(fd);
	unlink(path);
	assert_true(elapsed >= 0.19);
	assert_true(elapsed < 2.0);
}

static void
test_call_bad_replies(void **state)
{
	struct server s;

	(void)state;
	server_start(&s, "close.sock", SERVE_CLOSE, NULL);
	expect_call_error(s.path, 2000, "stats", "connection closed before a reply");
	server_stop(&s);

	server_start(&s, "garbage.sock", SERVE_REPLY, "{\"ok\":tru}\n");
	expect_call_error(s.path, 2000, "stats", "bad reply from");
	server_stop(&s);

	server_start(&s, "array.sock", SERVE_REPLY, "[1,2]\n");
	expect_call_error(s.path, 2000, "stats", "not a JSON object");
	server_stop(&s);

	server_start(&s, "empty.sock", SERVE_REPLY, "\n");
	expect_call_error(s.path, 2000, "stats", "bad reply from");
	server_stop(&s);

	server_start(&s, "flood.sock", SERVE_FLOOD, NULL);
	expect_call_error(s.path, 5000, "stats", "longer than 16777216 bytes");
	server_stop(&s);
}

static void
test_call_bad_arguments(void **state)
{
	char path[200];

	(void)state;
	expect_call_error("/nonexistent.sock", 1000, "stats\nreload", "one line");
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	expect_call_error(path, 1000, "stats", "socket path too long");
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/gnn-proto-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_diff_and_limits),
		cmocka_unit_test(test_parse_nul_and_length),
		cmocka_unit_test(test_error_reply),
		cmocka_unit_test(test_call_good),
		cmocka_unit_test(test_call_no_server),
		cmocka_unit_test(test_call_refused),
		cmocka_unit_test(test_call_timeout),
		cmocka_unit_test(test_call_bad_replies),
		cmocka_unit_test(test_call_bad_arguments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
