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

#include "proto/gnn_proto.h"

/* A stats reply grows with members and ports; 16 MiB is far beyond any real one. */
#define GNN_PROTO_MAX_REPLY	(16u << 20)
#define GNN_PROTO_REPLY_CHUNK	4096
#define GNN_PROTO_CALL_DEFAULT	5000 /* ms, when the caller passes <= 0 */
#define GNN_PROTO_CONNECT_RETRY 10   /* ms between tries while the backlog is full */
#define GNN_PROTO_ECHO_MAX	32   /* bytes of a bad token quoted back */

#define MEMBER_MAX (sizeof(((struct gnn_request *)NULL)->member) - 1)

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

static int
set_member(struct gnn_request *req, const char *name, size_t len, char *err, size_t errlen)
{
	if (len > MEMBER_MAX) {
		set_err(err, errlen, "member name too long (max %zu bytes)", MEMBER_MAX);
		return -EINVAL;
	}
	memcpy(req->member, name, len);
	req->member[len] = '\0';
	return 0;
}

static int
command_type(const char *word, size_t len, enum gnn_request_type *type, char *err, size_t errlen)
{
	char quoted[GNN_PROTO_ECHO_MAX + 1];

	if (len == 5 && memcmp(word, "stats", 5) == 0)
		*type = GNN_REQ_STATS;
	else if (len == 6 && memcmp(word, "reload", 6) == 0)
		*type = GNN_REQ_RELOAD;
	else if (len == 3 && memcmp(word, "top", 3) == 0)
		*type = GNN_REQ_TOP;
	else {
		echo_token(quoted, sizeof(quoted), word, len);
		set_err(err, errlen, "unknown command \"%s\" (expected stats, reload or top)",
			quoted);
		return -EINVAL;
	}
	return 0;
}

/* ---- JSON requests ---- */

static int
json_top_fields(const json_t *obj, struct gnn_request *req, char *err, size_t errlen)
{
	const json_t *member = json_object_get(obj, "member");
	const json_t *n = json_object_get(obj, "n");
	json_int_t v;

	if (member != NULL) {
		if (!json_is_string(member)) {
			set_err(err, errlen, "\"member\" must be a string");
			return -EINVAL;
		}
		if (set_member(req, json_string_value(member), json_string_length(member), err,
			       errlen) < 0)
			return -EINVAL;
	}
	if (n != NULL) {
		if (!json_is_integer(n)) {
			set_err(err, errlen, "\"n\" must be an integer");
			return -EINVAL;
		}
		v = json_integer_value(n);
		if (v < 1 || v > GNN_PROTO_TOP_MAX) {
			set_err(err, errlen, "\"n\" must be between 1 and %d", GNN_PROTO_TOP_MAX);
			return -EINVAL;
		}
		req->n = (unsigned int)v;
	}
	return 0;
}

/* Only "cmd" everywhere, plus "member" and "n" for top: typos must not pass silently. */
static int
json_check_fields(const json_t *obj, enum gnn_request_type type, char *err, size_t errlen)
{
	char quoted[GNN_PROTO_ECHO_MAX + 1];
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)obj, key, value)
	{
		(void)value;
		if (strcmp(key, "cmd") == 0)
			continue;
		if (type == GNN_REQ_TOP && (strcmp(key, "member") == 0 || strcmp(key, "n") == 0))
			continue;
		echo_token(quoted, sizeof(quoted), key, strlen(key));
		set_err(err, errlen, "unknown field \"%s\"", quoted);
		return -EINVAL;
	}
	return 0;
}

static int
parse_json_request(const char *line, size_t len, struct gnn_request *req, char *err, size_t errlen)
{
	json_error_t jerr;
	const json_t *cmd;
	json_t *obj;
	int ret = -EINVAL;

	/* jansson rejects trailing garbage and \u0000 in strings by default. */
	obj = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (obj == NULL) {
		set_err(err, errlen, "bad JSON at column %d: %s", jerr.column, jerr.text);
		return -EINVAL;
	}
	if (!json_is_object(obj)) {
		set_err(err, errlen, "request must be a JSON object");
		goto out_decref;
	}
	cmd = json_object_get(obj, "cmd");
	if (cmd == NULL) {
		set_err(err, errlen, "missing \"cmd\"");
		goto out_decref;
	}
	if (!json_is_string(cmd)) {
		set_err(err, errlen, "\"cmd\" must be a string");
		goto out_decref;
	}
	if (command_type(json_string_value(cmd), json_string_length(cmd), &req->type, err, errlen) <
	    0)
		goto out_decref;
	if (json_check_fields(obj, req->type, err, errlen) < 0)
		goto out_decref;
	if (req->type == GNN_REQ_TOP && json_top_fields(obj, req, err, errlen) < 0)
		goto out_decref;
	ret = 0;
out_decref:
	json_decref(obj);
	return ret;
}

/* ---- bare-word requests ---- */

#define MAX_WORDS 4 /* "top MEMBER N" and one more, to report "too many" */

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

static int
parse_top_count(const struct word *w, unsigned int *n, char *err, size_t errlen)
{
	unsigned long v = 0;
	size_t i;

	/* Five digits already exceed the maximum: longer words cannot overflow v. */
	if (all_digits(w) && w->len <= 5) {
		for (i = 0; i < w->len; i++)
			v = v * 10 + (unsigned long)(w->p[i] - '0');
	}
	if (v < 1 || v > GNN_PROTO_TOP_MAX) {
		set_err(err, errlen, "top: N must be a number between 1 and %d", GNN_PROTO_TOP_MAX);
		return -EINVAL;
	}
	*n = (unsigned int)v;
	return 0;
}

/* "top", "top N", "top MEMBER", "top MEMBER N"; a lone number is N. */
static int
parse_bare_top(const struct word *words, unsigned int n_words, struct gnn_request *req, char *err,
	       size_t errlen)
{
	if (n_words > 3) {
		set_err(err, errlen, "top: too many arguments (usage: top [MEMBER] [N])");
		return -EINVAL;
	}
	if (n_words == 2 && all_digits(&words[1]))
		return parse_top_count(&words[1], &req->n, err, errlen);
	if (n_words >= 2 && set_member(req, words[1].p, words[1].len, err, errlen) < 0)
		return -EINVAL;
	if (n_words == 3)
		return parse_top_count(&words[2], &req->n, err, errlen);
	return 0;
}

static int
parse_bare_request(const char *line, size_t len, struct gnn_request *req, char *err, size_t errlen)
{
	struct word words[MAX_WORDS];
	unsigned int n_words;
	size_t i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
			set_err(err, errlen, "request contains a control character");
			return -EINVAL;
		}
	}
	n_words = split_words(line, len, words);
	if (command_type(words[0].p, words[0].len, &req->type, err, errlen) < 0)
		return -EINVAL;
	if (req->type == GNN_REQ_TOP)
		return parse_bare_top(words, n_words, req, err, errlen);
	if (n_words > 1) {
		set_err(err, errlen, "%s takes no arguments",
			req->type == GNN_REQ_STATS ? "stats" : "reload");
		return -EINVAL;
	}
	return 0;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
gnn_proto_parse_request(const char *line, size_t len, struct gnn_request *req, char *err,
			size_t errlen)
{
	struct gnn_request r = {.type = GNN_REQ_STATS, .n = GNN_PROTO_TOP_DEFAULT};
	int ret;

	if (line == NULL || req == NULL) {
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
		ret = parse_json_request(line, len, &r, err, errlen);
	else
		ret = parse_bare_request(line, len, &r, err, errlen);
	if (ret == 0)
		*req = r;
	return ret;
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

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline: 0, -ETIMEDOUT or -errno. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int64_t left;
	int ret;

	for (;;) {
		left = deadline - now_ms();
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
		if (now_ms() >= deadline)
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

static void
io_error(const char *path, int ret, int timeout_ms, char *err, size_t errlen)
{
	if (ret == -ETIMEDOUT)
		set_err(err, errlen,
			"cannot connect to %s: no reply within %d ms (is gnnd running?)", path,
			timeout_ms);
	else if (ret == -ECONNRESET || ret == -EPIPE)
		set_err(err, errlen,
			"cannot connect to %s: connection closed before a reply "
			"(is gnnd running?)",
			path);
	else if (ret == -EMSGSIZE)
		set_err(err, errlen, "bad reply from %s: longer than %u bytes", path,
			GNN_PROTO_MAX_REPLY);
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
exchange(const char *path, const char *request, int64_t deadline, struct reply_buf *rb)
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
	ret = connect_unix(fd, &sun, deadline);
	if (ret == 0)
		ret = send_all(fd, line, rlen + 1, deadline);
	if (ret == 0)
		ret = recv_line(fd, rb, deadline);
	close(fd);
out_free:
	free(line);
	return ret;
}

json_t *
gnn_proto_call(const char *path, const char *request, int timeout_ms, char *err, size_t errlen)
{
	struct reply_buf rb = {0};
	json_t *obj = NULL;
	ssize_t ret;

	if (timeout_ms <= 0)
		timeout_ms = GNN_PROTO_CALL_DEFAULT;
	ret = check_request(path, request, err, errlen);
	if (ret < 0) {
		errno = (int)-ret;
		return NULL;
	}
	ret = exchange(path, request, now_ms() + timeout_ms, &rb);
	if (ret < 0) {
		io_error(path, (int)ret, timeout_ms, err, errlen);
		errno = (int)-ret;
	} else {
		obj = parse_reply(path, rb.data, (size_t)ret, err, errlen);
		if (obj == NULL)
			errno = EPROTO;
	}
	free(rb.data);
	return obj;
}
