/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Control socket protocol: request parsing for the server, the error reply,
 * and the blocking client call used by gnnstat. Every JSON text in or out
 * goes through jansson, so quoting and escaping are never done by hand.
 */

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/gnn_clock.h"
#include "proto/gnn_proto.h"

#define RTE_DIM_(a) (sizeof(a) / sizeof((a)[0]))

/* A stats reply grows with members; clients page longer lists (gnnstat does). */
#define GNN_PROTO_MAX_REPLY	(16u << 20)
#define GNN_PROTO_REPLY_CHUNK	4096
#define GNN_PROTO_CALL_DEFAULT	5000 /* ms, when the caller passes <= 0 */
#define GNN_PROTO_CONNECT_RETRY 10   /* ms between tries while the backlog is full */
#define GNN_PROTO_ECHO_MAX	32   /* bytes of a bad token quoted back */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Copy a client-supplied token for quoting in an error message: short, and
 * printable ASCII only, so the reply stays valid UTF-8 and one line.
 */
static void
echo_token(char *dst, size_t dstlen, const char *src, size_t len)
{
	size_t i, n;

	n = len < dstlen - 1 ? len : dstlen - 1;
	if (n > GNN_PROTO_ECHO_MAX)
		n = GNN_PROTO_ECHO_MAX;
	for (i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[n] = '\0';
}

/*
 * jansson's message quotes the input near the error, raw: control bytes and
 * bytes that are no UTF-8 would make the reply unprintable. Replace them.
 */
static void
printable_text(char *dst, size_t dstlen, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < dstlen && src[i] != '\0'; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

/* ---- the commands ---- */

/* A macro, not a copy of a const object: clang wants constant initializers. */
#define MEMBER_ARG                                                                                 \
	{                                                                                          \
		.name = "member", .label = "MEMBER", .type = GNN_ARG_STRING,                       \
		.max = GNN_PROTO_NAME_MAX, .positional = true,                                     \
	}

static const struct gnn_proto_arg member_arg = MEMBER_ARG;

static const struct gnn_proto_arg stats_args[] = {
	/* a name or an fnmatch(3) pattern; JSON only: "stats" takes no words */
	{.name = "member", .label = "MEMBER", .type = GNN_ARG_STRING, .max = GNN_PROTO_NAME_MAX},
	{.name = "limit", .label = "N", .type = GNN_ARG_UINT, .min = 0, .max = UINT32_MAX},
	{.name = "offset", .label = "N", .type = GNN_ARG_UINT, .min = 0, .max = UINT32_MAX},
	{.name = "sort", .label = "KEY", .type = GNN_ARG_STRING, .max = 16},
	{.name = "rates", .label = "BOOL", .type = GNN_ARG_BOOL},
};
static const struct gnn_proto_arg top_args[] = {
	MEMBER_ARG,
	{.name = "n",
	 .label = "N",
	 .type = GNN_ARG_UINT,
	 .min = 1,
	 .max = GNN_PROTO_TOP_MAX,
	 .positional = true},
};
static const struct gnn_proto_arg diff_args[] = {
	{.name = "config",
	 .label = "CONFIG",
	 .type = GNN_ARG_STRING,
	 .max = 4000,
	 .positional = true,
	 .required = true},
};

const struct gnn_proto_command gnn_proto_cmd_stats = {
	"stats", "counters of ports, totals and members", RTE_DIM_(stats_args), stats_args};
const struct gnn_proto_command gnn_proto_cmd_reload = {"reload", "reload the config", 0, NULL};
const struct gnn_proto_command gnn_proto_cmd_top = {
	"top", "sources blocked or would-be blocked, heaviest first", RTE_DIM_(top_args), top_args};
const struct gnn_proto_command gnn_proto_cmd_servers = {
	"servers", "what each listed mail server sent", 1, &member_arg};
const struct gnn_proto_command gnn_proto_cmd_suggest = {
	"suggest", "unlisted hosts that accepted mail", 1, &member_arg};
const struct gnn_proto_command gnn_proto_cmd_diff = {
	"diff", "what a config would change for the sources seen", RTE_DIM_(diff_args), diff_args};

/* ---- parsing ---- */

static const struct gnn_proto_command *
find_command(const struct gnn_proto_command *const *table, unsigned int n, const char *word,
	     size_t len, char *err, size_t errlen)
{
	char quoted[GNN_PROTO_ECHO_MAX + 1];
	char expected[256] = "";
	size_t used = 0;

	for (unsigned int i = 0; i < n; i++)
		if (strlen(table[i]->name) == len && memcmp(table[i]->name, word, len) == 0)
			return table[i];
	for (unsigned int i = 0; i < n && used < sizeof(expected); i++) {
		int w = snprintf(expected + used, sizeof(expected) - used, "%s%s",
				 i == 0 ? "" : (i + 1 == n ? " or " : ", "), table[i]->name);

		used += w > 0 ? (size_t)w : 0;
	}
	echo_token(quoted, sizeof(quoted), word, len);
	set_err(err, errlen, "unknown command \"%s\" (expected %s)", quoted, expected);
	return NULL;
}

static const struct gnn_proto_arg *
find_arg(const struct gnn_proto_command *cmd, const char *name)
{
	for (unsigned int i = 0; i < cmd->n_args; i++)
		if (strcmp(cmd->args[i].name, name) == 0)
			return &cmd->args[i];
	return NULL;
}

/* Check one JSON argument value against its spec. */
static int
check_json_arg(const struct gnn_proto_arg *a, const json_t *v, char *err, size_t errlen)
{
	json_int_t i;

	switch (a->type) {
	case GNN_ARG_STRING:
		if (!json_is_string(v)) {
			set_err(err, errlen, "\"%s\" must be a string", a->name);
			return -EINVAL;
		}
		/* As config names are: no control character reaches a handler or a reply. */
		for (const char *c = json_string_value(v); *c != '\0'; c++) {
			if ((unsigned char)*c < 0x20 || *c == 0x7f) {
				set_err(err, errlen, "\"%s\" holds a control character", a->name);
				return -EINVAL;
			}
		}
		if (json_string_length(v) > a->max) {
			set_err(err, errlen, "%s too long (max %u bytes)",
				a == &member_arg || strcmp(a->name, "member") == 0 ? "member name"
										   : a->name,
				a->max);
			return -EINVAL;
		}
		return 0;
	case GNN_ARG_UINT:
		if (!json_is_integer(v)) {
			set_err(err, errlen, "\"%s\" must be an integer", a->name);
			return -EINVAL;
		}
		i = json_integer_value(v);
		if (i < (json_int_t)a->min || i > (json_int_t)a->max) {
			set_err(err, errlen, "\"%s\" must be between %u and %u", a->name, a->min,
				a->max);
			return -EINVAL;
		}
		return 0;
	case GNN_ARG_BOOL:
		if (!json_is_boolean(v)) {
			set_err(err, errlen, "\"%s\" must be true or false", a->name);
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

static int
check_required(const struct gnn_proto_command *cmd, const json_t *args, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < cmd->n_args; i++) {
		if (cmd->args[i].required && json_object_get(args, cmd->args[i].name) == NULL) {
			set_err(err, errlen, "%s: %s is required", cmd->name, cmd->args[i].label);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- JSON requests ---- */

static int
parse_json_request(const char *line, size_t len, const struct gnn_proto_command *const *table,
		   unsigned int n, struct gnn_request *req, char *err, size_t errlen)
{
	char quoted[GNN_PROTO_ECHO_MAX + 1];
	char reason[sizeof(((json_error_t *)NULL)->text)];
	const struct gnn_proto_command *cmd;
	json_error_t jerr;
	const json_t *name;
	const char *key;
	json_t *obj, *value, *args;

	/* jansson rejects trailing garbage and \u0000 in strings by default. */
	obj = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (obj == NULL) {
		printable_text(reason, sizeof(reason), jerr.text);
		set_err(err, errlen, "bad JSON at column %d: %s", jerr.column, reason);
		return -EINVAL;
	}
	if (!json_is_object(obj)) {
		set_err(err, errlen, "request must be a JSON object");
		goto fail;
	}
	name = json_object_get(obj, "cmd");
	if (name == NULL) {
		set_err(err, errlen, "missing \"cmd\"");
		goto fail;
	}
	if (!json_is_string(name)) {
		set_err(err, errlen, "\"cmd\" must be a string");
		goto fail;
	}
	cmd = find_command(table, n, json_string_value(name), json_string_length(name), err,
			   errlen);
	if (cmd == NULL)
		goto fail;
	/* Typos must not pass silently: only the command's own fields. */
	json_object_foreach(obj, key, value)
	{
		const struct gnn_proto_arg *a;

		if (strcmp(key, "cmd") == 0)
			continue;
		a = find_arg(cmd, key);
		if (a == NULL) {
			echo_token(quoted, sizeof(quoted), key, strlen(key));
			set_err(err, errlen, "unknown field \"%s\"", quoted);
			goto fail;
		}
		if (check_json_arg(a, value, err, errlen) < 0)
			goto fail;
	}
	json_object_del(obj, "cmd");
	args = obj;
	if (check_required(cmd, args, err, errlen) < 0)
		goto fail;
	req->cmd = cmd;
	req->args = args;
	return 0;
fail:
	json_decref(obj);
	return -EINVAL;
}

/* ---- bare-word requests ---- */

#define MAX_WORDS 8

struct word {
	const char *p;
	size_t len;
};

static unsigned int
split_words(const char *line, size_t len, struct word *words)
{
	unsigned int n = 0;
	size_t i = 0, start;

	while (i < len && n < MAX_WORDS) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		words[n].p = line + start;
		words[n].len = i - start;
		n++;
	}
	return n;
}

static bool
all_digits(const struct word *w)
{
	size_t i;

	for (i = 0; i < w->len; i++)
		if (!isdigit((unsigned char)w->p[i]))
			return false;
	return w->len > 0;
}

static void
usage_text(const struct gnn_proto_command *cmd, char *buf, size_t size)
{
	size_t used = (size_t)snprintf(buf, size, "%s", cmd->name);

	for (unsigned int i = 0; i < cmd->n_args && used < size; i++) {
		const struct gnn_proto_arg *a = &cmd->args[i];

		if (!a->positional)
			continue;
		used += (size_t)snprintf(buf + used, size - used, a->required ? " %s" : " [%s]",
					 a->label);
	}
}

/* A bare word as the argument a: a JSON value, or NULL with err set. */
static json_t *
word_value(const struct gnn_proto_command *cmd, const struct gnn_proto_arg *a, const struct word *w,
	   char *err, size_t errlen)
{
	unsigned long long v = 0;
	json_t *s;

	if (a->type == GNN_ARG_STRING) {
		if (w->len > a->max) {
			set_err(err, errlen, "%s too long (max %u bytes)",
				strcmp(a->name, "member") == 0 ? "member name" : a->name, a->max);
			return NULL;
		}
		/* NULL for bytes that are no UTF-8 (the words are the client's raw bytes). */
		s = json_stringn(w->p, w->len);
		if (s == NULL)
			set_err(err, errlen, "%s: %s is not valid UTF-8", cmd->name, a->label);
		return s;
	}
	if (a->type == GNN_ARG_BOOL) {
		if (w->len == 4 && memcmp(w->p, "true", 4) == 0)
			return json_true();
		if (w->len == 5 && memcmp(w->p, "false", 5) == 0)
			return json_false();
		set_err(err, errlen, "%s: %s must be true or false", cmd->name, a->label);
		return NULL;
	}
	/* Eleven digits already exceed any uint32_t: longer words cannot overflow v. */
	if (all_digits(w) && w->len <= 11) {
		for (size_t i = 0; i < w->len; i++)
			v = v * 10 + (unsigned long long)(w->p[i] - '0');
	} else {
		v = (unsigned long long)a->max + 1;
	}
	if (v < a->min || v > a->max) {
		set_err(err, errlen, "%s: %s must be a number between %u and %u", cmd->name,
			a->label, a->min, a->max);
		return NULL;
	}
	return json_integer((json_int_t)v);
}

/*
 * Words to positional arguments, in table order. With fewer words than
 * positional arguments, a lone number goes to the first number argument
 * ("top 5" is N, "top 42 3" is MEMBER 42 and N 3).
 */
static int
bare_args(const struct gnn_proto_command *cmd, const struct word *words, unsigned int n_words,
	  json_t *args, char *err, size_t errlen)
{
	const struct gnn_proto_arg *pos[MAX_WORDS];
	unsigned int n_pos = 0, next = 0;
	char usage[128];

	for (unsigned int i = 0; i < cmd->n_args && n_pos < MAX_WORDS; i++)
		if (cmd->args[i].positional)
			pos[n_pos++] = &cmd->args[i];
	if (n_words > n_pos) {
		if (n_pos == 0) {
			set_err(err, errlen, "%s takes no arguments", cmd->name);
		} else {
			usage_text(cmd, usage, sizeof(usage));
			set_err(err, errlen, "%s: too many arguments (usage: %s)", cmd->name,
				usage);
		}
		return -EINVAL;
	}
	for (unsigned int w = 0; w < n_words; w++) {
		json_t *v;

		if (n_words < n_pos && all_digits(&words[w]) && pos[next]->type != GNN_ARG_UINT) {
			for (unsigned int k = next + 1; k < n_pos; k++) {
				if (pos[k]->type == GNN_ARG_UINT) {
					next = k;
					break;
				}
			}
		}
		v = word_value(cmd, pos[next], &words[w], err, errlen);
		if (v == NULL)
			return -EINVAL;
		json_object_set_new(args, pos[next++]->name, v);
	}
	return check_required(cmd, args, err, errlen);
}

static int
parse_bare_request(const char *line, size_t len, const struct gnn_proto_command *const *table,
		   unsigned int n, struct gnn_request *req, char *err, size_t errlen)
{
	struct word words[MAX_WORDS + 1];
	const struct gnn_proto_command *cmd;
	unsigned int n_words;
	json_t *args;

	for (size_t i = 0; i < len; i++) {
		if (((unsigned char)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f) {
			set_err(err, errlen, "request contains a control character");
			return -EINVAL;
		}
	}
	n_words = split_words(line, len, words);
	cmd = find_command(table, n, words[0].p, words[0].len, err, errlen);
	if (cmd == NULL)
		return -EINVAL;
	args = json_object();
	if (args == NULL) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (bare_args(cmd, words + 1, n_words - 1, args, err, errlen) < 0) {
		json_decref(args);
		return -EINVAL;
	}
	req->cmd = cmd;
	req->args = args;
	return 0;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
gnn_proto_parse_request(const char *line, size_t len, const struct gnn_proto_command *const *table,
			unsigned int n, struct gnn_request *req, char *err, size_t errlen)
{
	struct gnn_request r = {0};
	int ret;

	if (line == NULL || req == NULL || table == NULL || n == 0) {
		set_err(err, errlen, "no request");
		return -EINVAL;
	}
	/* The limit counts the newline, which the caller has already removed. */
	if (len >= GNN_PROTO_MAX_REQUEST) {
		set_err(err, errlen, "request too long (max %d bytes)", GNN_PROTO_MAX_REQUEST - 1);
		return -EINVAL;
	}
	if (memchr(line, '\0', len) != NULL) {
		set_err(err, errlen, "request contains a NUL byte");
		return -EINVAL;
	}
	/* socat and telnet users send "\r\n"; surrounding blanks mean nothing. */
	while (len > 0 && is_space(line[len - 1]))
		len--;
	while (len > 0 && is_space(line[0])) {
		line++;
		len--;
	}
	if (len == 0) {
		set_err(err, errlen, "empty request");
		return -EINVAL;
	}
	if (line[0] == '{' || line[0] == '[' || line[0] == '"')
		ret = parse_json_request(line, len, table, n, &r, err, errlen);
	else
		ret = parse_bare_request(line, len, table, n, &r, err, errlen);
	if (ret == 0)
		*req = r;
	return ret < 0 ? -EINVAL : 0;
}

void
gnn_request_clear(struct gnn_request *req)
{
	json_decref(req->args);
	req->args = NULL;
	req->cmd = NULL;
}

const char *
gnn_request_string(const struct gnn_request *req, const char *name, const char *dflt)
{
	const json_t *v = json_object_get(req->args, name);

	return json_is_string(v) ? json_string_value(v) : dflt;
}

uint64_t
gnn_request_uint(const struct gnn_request *req, const char *name, uint64_t dflt)
{
	const json_t *v = json_object_get(req->args, name);

	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : dflt;
}

bool
gnn_request_bool(const struct gnn_request *req, const char *name, bool dflt)
{
	const json_t *v = json_object_get(req->args, name);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

char *
gnn_proto_error_reply(const char *msg)
{
	json_t *obj;
	char *text, *line;
	size_t len;

	obj = json_pack("{s:s}", "error", msg != NULL ? msg : "unknown error");
	/* json_pack refuses a message that is not UTF-8: still answer something valid. */
	if (obj == NULL)
		obj = json_pack("{s:s}", "error", "internal error (unprintable message)");
	if (obj == NULL)
		return NULL;
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (text == NULL)
		return NULL;
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

/* ---- client ---- */

/* Wait for events on fd until deadline: 0, -ETIMEDOUT or -errno. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int64_t left;
	int ret;

	for (;;) {
		left = deadline - gnn_clock_mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		ret = poll(&pfd, 1, (int)left);
		if (ret > 0)
			return 0;
		if (ret == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int
finish_connect(int fd, int64_t deadline)
{
	socklen_t len = sizeof(int);
	int ret, soerr = 0;

	ret = wait_fd(fd, POLLOUT, deadline);
	if (ret < 0)
		return ret;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -errno;
	return -soerr;
}

/*
 * Non-blocking connect, so the deadline holds. A Unix socket whose listen
 * backlog is full answers EAGAIN instead of EINPROGRESS: retry until then.
 */
static int
connect_unix(int fd, const struct sockaddr_un *sun, int64_t deadline)
{
	for (;;) {
		if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0)
			return 0;
		if (errno == EINPROGRESS || errno == EINTR)
			return finish_connect(fd, deadline);
		if (errno != EAGAIN)
			return -errno;
		if (gnn_clock_mono_ms() >= deadline)
			return -ETIMEDOUT;
		poll(NULL, 0, GNN_PROTO_CONNECT_RETRY);
	}
}

static int
send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	ssize_t n;
	int ret;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		ret = wait_fd(fd, POLLOUT, deadline);
		if (ret < 0)
			return ret;
	}
	return 0;
}

struct reply_buf {
	char *data;
	size_t len;
	size_t cap;
};

static int
reply_grow(struct reply_buf *rb)
{
	size_t cap = rb->cap == 0 ? GNN_PROTO_REPLY_CHUNK : rb->cap * 2;
	char *data;

	if (rb->cap >= GNN_PROTO_MAX_REPLY)
		return -EMSGSIZE;
	if (cap > GNN_PROTO_MAX_REPLY)
		cap = GNN_PROTO_MAX_REPLY;
	data = realloc(rb->data, cap);
	if (data == NULL)
		return -ENOMEM;
	rb->data = data;
	rb->cap = cap;
	return 0;
}

/*
 * Read until the first newline; returns the line length (without it),
 * -ECONNRESET when the peer closed first, -EMSGSIZE, -ETIMEDOUT or -errno.
 */
static ssize_t
recv_line(int fd, struct reply_buf *rb, int64_t deadline)
{
	const char *nl;
	ssize_t n;
	int ret;

	for (;;) {
		if (rb->len == rb->cap && (ret = reply_grow(rb)) < 0)
			return ret;
		n = recv(fd, rb->data + rb->len, rb->cap - rb->len, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if (n < 0) {
			ret = wait_fd(fd, POLLIN, deadline);
			if (ret < 0)
				return ret;
			continue;
		}
		nl = memchr(rb->data + rb->len, '\n', (size_t)n);
		rb->len += (size_t)n;
		if (nl != NULL)
			return nl - rb->data;
	}
}

/* How far an exchange got before it failed: the error message says it. */
enum phase {
	PHASE_CONNECT = 0,
	PHASE_REPLY, /* connected: the request was sent or being sent */
};

static void
io_error(const char *path, int ret, enum phase phase, int timeout_ms, char *err, size_t errlen)
{
	if (ret == -ETIMEDOUT && phase == PHASE_REPLY)
		set_err(err, errlen,
			"%s: no reply within %d ms (is gnnd running?); the connection was "
			"accepted",
			path, timeout_ms);
	else if (ret == -ETIMEDOUT)
		set_err(err, errlen,
			"cannot connect to %s: no answer within %d ms (is gnnd running?)", path,
			timeout_ms);
	else if (ret == -ECONNRESET || ret == -EPIPE)
		set_err(err, errlen, "%s: connection closed before a reply (is gnnd running?)",
			path);
	else if (ret == -EMSGSIZE)
		set_err(err, errlen, "bad reply from %s: longer than %u bytes", path,
			GNN_PROTO_MAX_REPLY);
	else if (phase == PHASE_REPLY)
		set_err(err, errlen, "%s: %s while waiting for the reply", path, strerror(-ret));
	else
		set_err(err, errlen, "cannot connect to %s: %s (is gnnd running?)", path,
			strerror(-ret));
}

static json_t *
parse_reply(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *obj;

	obj = json_loadb(data, len, JSON_DECODE_ANY, &jerr);
	if (obj == NULL) {
		set_err(err, errlen, "bad reply from %s: %s (column %d)", path, jerr.text,
			jerr.column);
		return NULL;
	}
	if (!json_is_object(obj)) {
		set_err(err, errlen, "bad reply from %s: not a JSON object", path);
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static int
check_request(const char *path, const char *request, char *err, size_t errlen)
{
	if (path == NULL || request == NULL) {
		set_err(err, errlen, "no socket path or request");
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		set_err(err, errlen, "cannot connect to %s: socket path too long", path);
		return -ENAMETOOLONG;
	}
	if (strchr(request, '\n') != NULL || strlen(request) >= GNN_PROTO_MAX_REQUEST) {
		set_err(err, errlen, "bad request: one line of at most %d bytes expected",
			GNN_PROTO_MAX_REQUEST - 1);
		return -EINVAL;
	}
	return 0;
}

/* Connect, send "request\n", read one line, all before the deadline. */
static ssize_t
exchange(const char *path, const char *request, int64_t deadline, struct reply_buf *rb,
	 enum phase *phase)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t rlen = strlen(request);
	char *line;
	ssize_t ret;
	int fd;

	strcpy(sun.sun_path, path); /* length checked by check_request */
	line = malloc(rlen + 1);
	if (line == NULL)
		return -ENOMEM;
	memcpy(line, request, rlen);
	line[rlen] = '\n';
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		ret = -errno;
		goto out_free;
	}
	*phase = PHASE_CONNECT;
	ret = connect_unix(fd, &sun, deadline);
	if (ret == 0) {
		*phase = PHASE_REPLY;
		ret = send_all(fd, line, rlen + 1, deadline);
	}
	/*
	 * A server that turns the client away (a full table) answers and closes
	 * without reading: the send fails, the reason waits to be read.
	 */
	if (ret == 0 || ret == -EPIPE || ret == -ECONNRESET) {
		ssize_t got = recv_line(fd, rb, deadline);

		if (ret == 0 || got >= 0)
			ret = got;
	}
	close(fd);
out_free:
	free(line);
	return ret;
}

json_t *
gnn_proto_call(const char *path, const char *request, int timeout_ms, char *err, size_t errlen)
{
	struct reply_buf rb = {0};
	enum phase phase = PHASE_CONNECT;
	json_t *obj = NULL;
	ssize_t ret;

	if (timeout_ms <= 0)
		timeout_ms = GNN_PROTO_CALL_DEFAULT;
	ret = check_request(path, request, err, errlen);
	if (ret < 0) {
		errno = (int)-ret;
		return NULL;
	}
	ret = exchange(path, request, gnn_clock_mono_ms() + timeout_ms, &rb, &phase);
	if (ret < 0) {
		io_error(path, (int)ret, phase, timeout_ms, err, errlen);
		errno = (int)-ret;
	} else {
		obj = parse_reply(path, rb.data, (size_t)ret, err, errlen);
		if (obj == NULL)
			errno = EPROTO;
	}
	free(rb.data);
	return obj;
}
