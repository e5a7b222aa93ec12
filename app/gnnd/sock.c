/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket, served from the control lcore with epoll. Nothing a
 * client does can stall the datapath: sockets are non-blocking, a request
 * is at most GNN_PROTO_MAX_REQUEST bytes, a client gets one reply at a time
 * (no reading while its reply is unsent), idle and stuck clients are
 * dropped, and the number of clients is capped.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "gnnd.h"
#include "proto/gnn_proto.h"

RTE_LOG_REGISTER(gnn_logtype_sock, gnn.sock, INFO);
#define GNN_LOGTYPE gnn_logtype_sock

#define MAX_CLIENTS 256
#define SOCKET_MODE 0660

struct client {
	int fd;
	time_t last_active;
	size_t in_len;
	char in[GNN_PROTO_MAX_REQUEST];
	char *out; /* reply not yet written */
	size_t out_len;
	size_t out_done;
	bool close_after_reply;
};

static struct {
	int epoll_fd;
	int listen_fd;
	int extra_fd;
	time_t accept_paused_until; /* out of descriptors: stop accepting a while */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct client *clients[MAX_CLIENTS];
	unsigned int n_clients;
} sock = {.epoll_fd = -1, .listen_fd = -1, .extra_fd = -1};

/* Seconds on a clock that no date change moves. */
static time_t
monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int
make_address(const char *path, struct sockaddr_un *addr)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	strcpy(addr->sun_path, path);
	return 0;
}

/*
 * Refuse to start over a live gnnd; remove the socket file a crashed one
 * left behind.
 */
int
gnn_sock_check_free(const char *path)
{
	struct sockaddr_un addr;
	struct stat st;
	int fd, rc;

	if (make_address(path, &addr) != 0) {
		GNN_LOG(ERR, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	if (lstat(path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		GNN_LOG(ERR, "%s exists and is not a socket", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	close(fd);
	if (rc == 0) {
		GNN_LOG(ERR, "another gnnd is serving %s", path);
		return -EADDRINUSE;
	}
	/* Only a socket nobody listens on is stale; anything else is a mystery. */
	if (errno != ECONNREFUSED) {
		GNN_LOG(ERR, "cannot tell whether %s is in use: %s", path, strerror(errno));
		return -errno;
	}
	GNN_LOG(INFO, "removing stale socket %s", path);
	unlink(path);
	return 0;
}

static void
make_parent_dir(const char *path)
{
	char dir[sizeof(sock.path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		GNN_LOG(WARNING, "cannot create %s: %s", dir, strerror(errno));
}

static int
epoll_add(int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = {.events = events, .data.ptr = ptr};

	return epoll_ctl(sock.epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

int
gnn_sock_open(const char *path, const char *group, int extra_fd)
{
	struct sockaddr_un addr;
	mode_t old_umask;
	int rc;

	rc = gnn_sock_check_free(path);
	if (rc != 0)
		return rc;
	make_address(path, &addr);
	snprintf(sock.path, sizeof(sock.path), "%s", path);
	make_parent_dir(path);

	sock.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sock.listen_fd < 0)
		goto fail;
	/* The socket is born 0660: nobody else gets a window to connect. */
	old_umask = umask(0117);
	rc = bind(sock.listen_fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_umask);
	if (rc != 0)
		goto fail;
	if (group != NULL) {
		struct group *gr = getgrnam(group);

		if (gr == NULL) {
			GNN_LOG(ERR, "unknown group %s", group);
			errno = EINVAL;
			goto fail_unlink;
		}
		if (chown(path, (uid_t)-1, gr->gr_gid) != 0)
			goto fail_unlink;
	}
	if (listen(sock.listen_fd, 64) != 0)
		goto fail_unlink;

	sock.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (sock.epoll_fd < 0)
		goto fail_unlink;
	sock.extra_fd = extra_fd;
	if (epoll_add(sock.listen_fd, EPOLLIN, &sock.listen_fd) != 0 ||
	    (extra_fd >= 0 && epoll_add(extra_fd, EPOLLIN, &sock.extra_fd) != 0))
		goto fail_unlink;
	return 0;

fail_unlink:
	unlink(path);
fail:
	rc = -errno;
	GNN_LOG(ERR, "control socket %s: %s", path, strerror(errno));
	if (sock.listen_fd >= 0)
		close(sock.listen_fd);
	sock.listen_fd = -1;
	return rc;
}

static void
client_close(struct client *c)
{
	for (unsigned int i = 0; i < sock.n_clients; i++) {
		if (sock.clients[i] == c) {
			sock.clients[i] = sock.clients[--sock.n_clients];
			break;
		}
	}
	close(c->fd); /* also leaves the epoll set */
	free(c->out);
	free(c);
}

static void
client_watch(struct client *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};

	epoll_ctl(sock.epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write what the socket takes; returns false when the client is gone. */
static bool
client_flush(struct client *c)
{
	while (c->out_done < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_done, c->out_len - c->out_done,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				client_watch(c, EPOLLOUT);
				return true;
			}
			return false;
		}
		c->out_done += (size_t)n;
		c->last_active = monotonic_s(); /* a slow reader is still reading */
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_done = 0;
	if (c->close_after_reply)
		return false;
	client_watch(c, EPOLLIN);
	return true;
}

static char *
reply_text(json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);
	char *line;

	json_decref(reply);
	if (text == NULL)
		return gnn_proto_error_reply("cannot encode the reply");
	line = realloc(text, strlen(text) + 2);
	if (line == NULL) {
		free(text);
		return NULL;
	}
	strcat(line, "\n");
	return line;
}

static char *
answer(const char *line, size_t len)
{
	struct gnn_request req;
	char err[256];
	json_t *reply = NULL;

	if (gnn_proto_parse_request(line, len, &req, err, sizeof(err)) != 0)
		return gnn_proto_error_reply(err);
	switch (req.type) {
	case GNN_REQ_STATS:
		gnn_top_drain();
		reply = gnn_report_stats();
		break;
	case GNN_REQ_RELOAD:
		gnn_ctrl_reload(&reply);
		break;
	case GNN_REQ_TOP:
		reply = gnn_top_query(req.member, req.n);
		break;
	}
	if (reply == NULL)
		return gnn_proto_error_reply("out of memory");
	return reply_text(reply);
}

static void
client_reply(struct client *c, char *text)
{
	if (text == NULL) {
		c->close_after_reply = true;
		return;
	}
	c->out = text;
	c->out_len = strlen(text);
	c->out_done = 0;
}

/* Answer the complete requests buffered, one reply in flight at a time. */
static bool
client_process(struct client *c)
{
	while (c->out == NULL) {
		char *nl = memchr(c->in, '\n', c->in_len);
		size_t line_len;

		if (nl == NULL) {
			if (c->in_len < sizeof(c->in))
				return true;
			client_reply(c, gnn_proto_error_reply("request too long"));
			c->close_after_reply = true;
			return c->out != NULL && client_flush(c);
		}
		line_len = (size_t)(nl - c->in);
		if (line_len > 0 && c->in[line_len - 1] == '\r')
			line_len--;
		client_reply(c, answer(c->in, line_len));
		/* Only complete requests count as activity, not a byte now and then. */
		c->last_active = monotonic_s();
		/* Keep what followed the newline for the next request. */
		c->in_len -= (size_t)(nl + 1 - c->in);
		memmove(c->in, nl + 1, c->in_len);
		if (c->out == NULL || !client_flush(c))
			return false;
	}
	return true;
}

/* Read what the client sent; returns false when the client is done. */
static bool
client_read(struct client *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);

	if (n == 0)
		return false;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	c->in_len += (size_t)n;
	return client_process(c);
}

static void
accept_clients(void)
{
	for (;;) {
		int fd = accept4(sock.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* The listener stays readable: without a pause this spins. */
				struct epoll_event ev = {.events = 0, .data.ptr = &sock.listen_fd};

				GNN_LOG(WARNING, "out of file descriptors: not accepting for 1 s");
				epoll_ctl(sock.epoll_fd, EPOLL_CTL_MOD, sock.listen_fd, &ev);
				sock.accept_paused_until = monotonic_s() + 1;
			}
			return;
		}
		if (sock.n_clients >= MAX_CLIENTS) {
			static const char busy[] = "{\"error\":\"too many clients\"}\n";

			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				GNN_LOG(DEBUG, "busy reply: %s", strerror(errno));
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->last_active = monotonic_s();
		if (epoll_add(fd, EPOLLIN, c) != 0) {
			close(fd);
			free(c);
			continue;
		}
		sock.clients[sock.n_clients++] = c;
	}
}

/* Drop idle clients; resume accepting after a pause for descriptors. */
static void
expire_clients(void)
{
	time_t t = monotonic_s();

	if (sock.accept_paused_until != 0 && t >= sock.accept_paused_until) {
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &sock.listen_fd};

		epoll_ctl(sock.epoll_fd, EPOLL_CTL_MOD, sock.listen_fd, &ev);
		sock.accept_paused_until = 0;
	}
	for (unsigned int i = 0; i < sock.n_clients;) {
		struct client *c = sock.clients[i];

		/* No complete request, or a reply left unread, for this long. */
		if (t - c->last_active > (time_t)gnnd.opt.client_timeout)
			client_close(c); /* moves the last client into slot i */
		else
			i++;
	}
}

int
gnn_sock_poll(int timeout_ms, bool *extra_ready)
{
	struct epoll_event events[64];
	int n = epoll_wait(sock.epoll_fd, events, RTE_DIM(events), timeout_ms);

	*extra_ready = false;
	for (int i = 0; i < n; i++) {
		void *ptr = events[i].data.ptr;
		struct client *c = ptr;
		bool alive;

		if (ptr == &sock.listen_fd) {
			accept_clients();
			continue;
		}
		if (ptr == &sock.extra_fd) {
			*extra_ready = true;
			continue;
		}
		/* On a hang-up, too: requests sent before it are still to be read. */
		if (c->out != NULL)
			alive = client_flush(c) && (c->out != NULL || client_process(c));
		else
			alive = client_read(c);
		if (!alive)
			client_close(c);
	}
	expire_clients();
	return n < 0 ? -errno : 0;
}

void
gnn_sock_close(void)
{
	while (sock.n_clients > 0)
		client_close(sock.clients[0]);
	if (sock.listen_fd >= 0) {
		close(sock.listen_fd);
		unlink(sock.path);
	}
	if (sock.epoll_fd >= 0)
		close(sock.epoll_fd);
	sock.listen_fd = sock.epoll_fd = -1;
}
