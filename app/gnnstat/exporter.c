/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * gnnstat exporter: Prometheus scrapes http://ADDR:PORT/metrics, and each
 * scrape asks gnnd for a fresh snapshot over the control socket. No cache:
 * what Prometheus stores is what gnnd said at that moment, or gnn_up 0.
 *
 * libmicrohttpd runs one thread per connection, so a scrape that waits for
 * a slow gnnd (at most the timeout) does not hold up another. The listening
 * sockets are made here, so that every address a name resolves to is served
 * and a failure names the address. Signals are taken by sigwait() in the
 * main thread; every other thread has them blocked.
 */

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>
#include <microhttpd.h>

#include "exporter.h"
#include "metrics.h"
#include "snapshot.h"

#define EXIT_CANNOT_START 2
#define MAX_LISTEN	  8  /* sockets: addresses one name may resolve to */
#define CONNECTION_LIMIT  64 /* concurrent HTTP connections per socket */
#define IDLE_TIMEOUT	  30 /* s: an HTTP client that sends nothing is closed */

static const char index_page[] =
	"<!DOCTYPE html>\n"
	"<html><head><title>gnn exporter</title></head>\n"
	"<body><h1>gnn exporter</h1>\n"
	"<p>gnnd's counters in Prometheus text format: <a href=\"/metrics\">/metrics</a></p>\n"
	"</body></html>\n";
static const char not_found_page[] = "not found: the metrics are at /metrics\n";
static const char not_allowed_page[] = "only GET and HEAD\n";

struct exporter {
	const struct exporter_config *cfg;
	pthread_mutex_t lock; /* guards up */
	int up;		      /* gnnd at the last scrape: 1, 0, or -1 before the first */
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gnnstat exporter: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- --listen ADDR:PORT ---- */

struct listen_addr {
	char host[256]; /* "" for every address of the host */
	char port[6];
	bool v6;   /* host was bracketed */
	bool name; /* host is a name to resolve */
};

static bool
all_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

static int
parse_port(const char *s, struct listen_addr *la, const char *arg)
{
	size_t len = strlen(s);

	if (len == 0 || len > 5 || !all_digits(s, len) || strtoul(s, NULL, 10) > 65535) {
		say("--listen %s: port \"%s\" is not a number from 0 to 65535", arg, s);
		return -1;
	}
	memcpy(la->port, s, len + 1);
	return 0;
}

/* A dotted-decimal IPv4 address, an IPv6 one in brackets, or a DNS name. */
static int
check_host(const struct listen_addr *la, const char *arg)
{
	unsigned char buf[sizeof(struct in6_addr)];
	const char *s = la->host;
	size_t i;

	if (la->v6) {
		if (inet_pton(AF_INET6, s, buf) != 1) {
			say("--listen %s: \"%s\" is not an IPv6 address", arg, s);
			return -1;
		}
		return 0;
	}
	if (*s == '\0' || inet_pton(AF_INET, s, buf) == 1)
		return 0;
	if (strspn(s, "0123456789.") == strlen(s)) {
		say("--listen %s: \"%s\" is not an IPv4 address", arg, s);
		return -1;
	}
	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.')) {
			say("--listen %s: \"%s\" is neither an address nor a host name", arg, s);
			return -1;
		}
	}
	return 0;
}

static int
parse_listen(const char *arg, struct listen_addr *la)
{
	const char *colon, *host = arg, *end;

	memset(la, 0, sizeof(*la));
	if (arg[0] == '[') {
		end = strchr(arg, ']');
		if (end == NULL || end[1] != ':') {
			say("--listen %s: want [IPv6]:PORT, e.g. [::1]:9877", arg);
			return -1;
		}
		host = arg + 1;
		colon = end + 1;
		la->v6 = true;
	} else {
		colon = strrchr(arg, ':');
		if (colon == NULL) {
			say("--listen %s: want ADDR:PORT, e.g. 127.0.0.1:9877, [::1]:9877, "
			    "localhost:9877 or :9877",
			    arg);
			return -1;
		}
		end = colon;
		if (memchr(arg, ':', (size_t)(colon - arg)) != NULL) {
			say("--listen %s: an IPv6 address goes in brackets: [%.*s]:%s", arg,
			    (int)(colon - arg), arg, colon + 1);
			return -1;
		}
	}
	if ((size_t)(end - host) >= sizeof(la->host) || (la->v6 && end == host)) {
		say("--listen %s: bad address", arg);
		return -1;
	}
	memcpy(la->host, host, (size_t)(end - host));
	if (parse_port(colon + 1, la, arg) < 0 || check_host(la, arg) < 0)
		return -1;
	la->name = !la->v6 && la->host[0] != '\0' &&
		   strspn(la->host, "0123456789.") != strlen(la->host);
	return 0;
}

/* "ADDR:PORT" of a bound socket, IPv6 in brackets. */
static void
describe(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

static uint16_t
bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void
set_port(struct sockaddr *sa, uint16_t port)
{
	if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)sa)->sin_port = htons(port);
}

/* A listening socket on ai, or -errno. */
static int
listen_on(const struct addrinfo *ai)
{
	int fd, one = 1, ret;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* IPv4 has its own socket when a name or ":PORT" gives both families. */
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/*
 * Listening sockets for every address of la, into fds; returns how many, or
 * -1 after saying why. An address of a family this host lacks is skipped
 * when another one works; any other failure refuses the whole --listen. With
 * port 0 the sockets after the first take the first one's port.
 */
static int
open_listeners(const struct listen_addr *la, const char *arg, int *fds)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res, *ai;
	char where[NI_MAXHOST + 16];
	uint16_t port = 0;
	int n = 0, ret, skipped = 0;

	if (!la->name)
		hints.ai_flags |= AI_NUMERICHOST;
	if (la->v6)
		hints.ai_family = AF_INET6;
	ret = getaddrinfo(la->host[0] != '\0' ? la->host : NULL, la->port, &hints, &res);
	if (ret != 0) {
		say("--listen %s: cannot resolve \"%s\": %s", arg, la->host,
		    ret == EAI_SYSTEM ? strerror(errno) : gai_strerror(ret));
		return -1;
	}
	for (ai = res; ai != NULL && n < MAX_LISTEN; ai = ai->ai_next) {
		if (port != 0)
			set_port(ai->ai_addr, port);
		ret = listen_on(ai);
		if (ret == -EAFNOSUPPORT || ret == -EADDRNOTAVAIL) {
			skipped = -ret;
			continue;
		}
		if (ret < 0) {
			getnameinfo(ai->ai_addr, ai->ai_addrlen, where, sizeof(where), NULL, 0,
				    NI_NUMERICHOST);
			say("--listen %s: cannot listen on %s port %u: %s", arg, where,
			    port != 0 ? port : (unsigned int)strtoul(la->port, NULL, 10),
			    strerror(-ret));
			goto fail;
		}
		fds[n++] = ret;
		if (port == 0)
			port = bound_port(ret);
	}
	if (n == 0) {
		say("--listen %s: no address to listen on%s%s", arg, skipped ? ": " : "",
		    skipped ? strerror(skipped) : "");
		goto fail;
	}
	freeaddrinfo(res);
	return n;
fail:
	while (n > 0)
		close(fds[--n]);
	freeaddrinfo(res);
	return -1;
}

/* ---- HTTP ---- */

static void
note_gnnd(struct exporter *ex, bool up, const char *err)
{
	pthread_mutex_lock(&ex->lock);
	if (!up && ex->up != 0)
		say("gnnd not answering, scrapes say gnn_up 0: %s", err);
	else if (up && ex->up == 0)
		say("gnnd answering again");
	ex->up = up ? 1 : 0;
	pthread_mutex_unlock(&ex->lock);
}

/* One snapshot of gnnd as exposition text (malloc'd, *len bytes), or NULL. */
static char *
scrape(struct exporter *ex, size_t *len)
{
	/* The whole scrape, every page of members, within the timeout. */
	struct snapshot_request rq = {.socket = ex->cfg->socket,
				      .member = ex->cfg->members,
				      .no_members = ex->cfg->no_members,
				      .call_timeout_ms = ex->cfg->timeout_ms,
				      .total_timeout_ms = ex->cfg->timeout_ms};
	enum snapshot_status status;
	char err[512] = "";
	double t0 = mono_now();
	json_t *stats;
	char *buf = NULL;
	FILE *mem;

	stats = snapshot_get(&rq, &status, err, sizeof(err));
	note_gnnd(ex, stats != NULL, err);
	mem = open_memstream(&buf, len);
	if (mem != NULL) {
		metrics_write(mem, stats, mono_now() - t0);
		if (fclose(mem) != 0) {
			free(buf);
			buf = NULL;
		}
	}
	json_decref(stats);
	return buf;
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned int status, const char *type, char *body, size_t len,
      enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, mode);
	if (resp == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
reply_static(struct MHD_Connection *conn, unsigned int status, const char *type, const char *text)
{
	/* PERSISTENT: MHD neither copies nor frees, and never writes to it. */
	return reply(conn, status, type, (char *)(uintptr_t)text, strlen(text),
		     MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
       const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	static int first_call;
	struct exporter *ex = cls;
	char *body;
	size_t len = 0;

	(void)version;
	(void)upload_data;
	/* Answer once the whole request is in (a body, if any, is discarded). */
	if (*req_cls == NULL) {
		*req_cls = &first_call;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
				    not_allowed_page);
	if (strcmp(url, "/") == 0)
		return reply_static(conn, MHD_HTTP_OK, "text/html; charset=utf-8", index_page);
	if (strcmp(url, "/metrics") != 0)
		return reply_static(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8",
				    not_found_page);
	body = scrape(ex, &len);
	if (body == NULL)
		return reply_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				    "text/plain; charset=utf-8", "out of memory\n");
	return reply(conn, MHD_HTTP_OK, METRICS_CONTENT_TYPE, body, len, MHD_RESPMEM_MUST_FREE);
}

static struct MHD_Daemon *
start_daemon(struct exporter *ex, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			     MHD_USE_AUTO | MHD_USE_ERROR_LOG;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	return MHD_start_daemon(flags, 0, NULL, NULL, answer, ex, MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNECTION_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT,
				MHD_OPTION_END);
}

/* ---- the process ---- */

int
exporter_run(const struct exporter_config *cfg)
{
	struct exporter ex = {.cfg = cfg, .up = -1};
	const char *listen = cfg->listen;
	struct MHD_Daemon *daemons[MAX_LISTEN];
	int fds[MAX_LISTEN], n, i, started = 0, sig = 0;
	struct listen_addr la;
	char where[NI_MAXHOST + 16];
	sigset_t set;

	if (parse_listen(listen, &la) < 0)
		return EXIT_CANNOT_START;
	/* Before any thread: libmicrohttpd's threads inherit the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	n = open_listeners(&la, listen, fds);
	if (n < 0)
		return EXIT_CANNOT_START;
	pthread_mutex_init(&ex.lock, NULL);
	for (i = 0; i < n; i++) {
		describe(fds[i], where, sizeof(where));
		daemons[i] = start_daemon(&ex, fds[i]);
		if (daemons[i] == NULL) {
			say("cannot serve on %s", where);
			break;
		}
		started++;
		say("serving http://%s/metrics from gnnd at %s (timeout %d ms%s%s%s)", where,
		    cfg->socket, cfg->timeout_ms, cfg->no_members ? ", no member series" : "",
		    cfg->members != NULL ? ", members matching " : "",
		    cfg->members != NULL ? cfg->members : "");
	}
	for (i = started; i < n; i++)
		close(fds[i]);
	while (started == n) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		say("SIGHUP: nothing to reload");
	}
	for (i = 0; i < started; i++)
		MHD_stop_daemon(daemons[i]); /* closes its socket */
	pthread_mutex_destroy(&ex.lock);
	if (started < n)
		return EXIT_CANNOT_START;
	say("stopped by %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	return 0;
}
