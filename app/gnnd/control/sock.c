/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: a transport that knows no request. Each complete
 * line goes to gnn_api_dispatch() and its reply back to the client. Served
 * from the control lcore's event loop; nothing a client does can stall the
 * datapath or lock the operator out: sockets are non-blocking, a request is
 * at most GNN_PROTO_MAX_REQUEST bytes, a client gets one reply at a time
 * (no reading while its reply is unsent or still being worked on), idle
 * and stuck clients are dropped, and when the table is full the longest
 * idle client makes room for the new one.
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
#include <rte_common.h>
#include <rte_log.h>

#include "common/gnn_clock.h"
#include "control/api.h"
#include "control/loop.h"
#include "control/sock.h"
#include "gnnd.h"
#include "proto/gnn_proto.h"

RTE_LOG_REGISTER(gnn_logtype_sock, gnn.sock, INFO);
#define GNN_LOGTYPE gnn_logtype_sock

#define MAX_CLIENTS 256
#define SOCKET_MODE 0660

struct client {
	int fd;
	uint64_t id; /* the connection, as the API knows it */
	bool busy;   /* a deferred reply is being worked on */
	bool eof;    /* the client shut its side: answer what it sent, then close */
	time_t last_active;
	size_t in_len;
	char in[GNN_PROTO_MAX_REQUEST];
	char *out; /* reply not yet written */
	size_t out_len;
	size_t out_done;
	bool close_after_reply;
};

static struct {
	int listen_fd;
	unsigned int idle_timeout;  /* seconds */
	time_t accept_paused_until; /* out of descriptors: stop accepting a while */
	uint64_t next_id;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct client *clients[MAX_CLIENTS];
	unsigned int n_clients;
} sock = {.listen_fd = -1, .next_id = 1};

static time_t
monotonic_s(void)
{
	return (time_t)(gnn_clock_mono_ms() / 1000);
}

static void on_client(int fd, uint32_t events, void *arg);

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
 * The socket's directory must exist (one missing level is made, as for
 * /run/gnn) and be a directory gnnd can write: checked before any port
 * starts, so a typo fails at once.
 */
static int
check_parent_dir(const char *path)
{
	char dir[sizeof(sock.path)];
	struct stat st;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		GNN_LOG(ERR, "control socket %s: cannot create directory %s: %s", path, dir,
			strerror(errno));
		return -errno;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		GNN_LOG(ERR, "control socket %s: %s is not a directory", path, dir);
		return -ENOTDIR;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		GNN_LOG(ERR, "control socket %s: cannot write to %s: %s", path, dir,
			strerror(errno));
		return -errno;
	}
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
	rc = check_parent_dir(path);
	if (rc != 0)
		return rc;
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

static void on_listen(int fd, uint32_t events, void *arg);
static void on_tick(void *arg);

int
gnn_sock_open(const char *path, const char *group, unsigned int idle_timeout)
{
	struct sockaddr_un addr;
	mode_t old_umask;
	int rc;

	rc = gnn_sock_check_free(path);
	if (rc != 0)
		return rc;
	make_address(path, &addr);
	snprintf(sock.path, sizeof(sock.path), "%s", path);
	sock.idle_timeout = idle_timeout;

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

	rc = gnn_loop_add_fd(sock.listen_fd, EPOLLIN, on_listen, NULL);
	if (rc == 0)
		rc = gnn_loop_add_timer(1000, on_tick, NULL);
	if (rc != 0) {
		errno = -rc;
		goto fail_unlink;
	}
	gnn_api_set_transport(gnn_sock_deliver);
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
	gnn_loop_del_fd(c->fd);
	close(c->fd);
	free(c->out);
	free(c);
}

static void
client_watch(struct client *c, uint32_t events)
{
	gnn_loop_mod_fd(c->fd, events);
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
	client_watch(c, c->eof ? 0 : EPOLLIN);
	return true;
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

/*
 * Answer the complete requests buffered, one reply in flight at a time.
 * After the client's EOF, what it sent last counts as a request even
 * without its newline. Returns false when the client is done.
 */
static bool
client_process(struct client *c)
{
	while (c->out == NULL && !c->busy) {
		char *nl = memchr(c->in, '\n', c->in_len);
		size_t line_len, used;
		bool deferred;
		char *text;

		if (nl == NULL && c->eof && c->in_len > 0) {
			line_len = used = c->in_len;
		} else if (nl == NULL) {
			if (c->eof)
				return false;
			if (c->in_len < sizeof(c->in))
				return true;
			client_reply(c, gnn_proto_error_reply("request too long"));
			c->close_after_reply = true;
			return c->out != NULL && client_flush(c);
		} else {
			line_len = (size_t)(nl - c->in);
			used = line_len + 1;
		}
		if (line_len > 0 && c->in[line_len - 1] == '\r')
			line_len--;
		text = gnn_api_dispatch(c->id, c->in, line_len, &deferred);
		/* Only complete requests count as activity, not a byte now and then. */
		c->last_active = monotonic_s();
		/* Keep what followed the newline for the next request. */
		c->in_len -= used;
		memmove(c->in, c->in + used, c->in_len);
		if (deferred) {
			c->busy = true; /* gnn_sock_deliver() resumes it */
			client_watch(c, 0);
			return true;
		}
		client_reply(c, text);
		if (c->out == NULL || !client_flush(c))
			return false;
	}
	return true;
}

static struct client *
client_by_id(uint64_t id)
{
	for (unsigned int i = 0; i < sock.n_clients; i++)
		if (sock.clients[i]->id == id)
			return sock.clients[i];
	return NULL;
}

void
gnn_sock_deliver(uint64_t conn, char *text)
{
	struct client *c = client_by_id(conn);

	if (c == NULL) {
		free(text); /* it left while the reply was being made */
		return;
	}
	c->busy = false;
	c->last_active = monotonic_s();
	client_reply(c, text);
	if (c->out == NULL || !client_flush(c) || (c->out == NULL && !client_process(c)))
		client_close(c);
}

/* Read what the client sent; returns false when the client is done. */
static bool
client_read(struct client *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);

	if (n == 0) {
		c->eof = true;
		client_watch(c, 0);
		return client_process(c);
	}
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	c->in_len += (size_t)n;
	return client_process(c);
}

/* A flood of connections must not flood the log: a line a second at most. */
static void
log_room_made(void)
{
	static time_t last = -1;
	static unsigned int quiet;
	time_t now = monotonic_s();

	if (now == last) {
		quiet++;
		return;
	}
	if (quiet > 0)
		GNN_LOG(INFO,
			"client table full: closing the longest idle client (%u more since the "
			"last line)",
			quiet);
	else
		GNN_LOG(INFO, "client table full: closing the longest idle client");
	last = now;
	quiet = 0;
}

/*
 * The table is full: close the client idle longest (not one whose reply is
 * being worked on), so that an operator is never locked out by clients
 * that connect and wait. Returns false when every client is busy.
 */
static bool
make_room(void)
{
	struct client *idlest = NULL;

	for (unsigned int i = 0; i < sock.n_clients; i++) {
		struct client *c = sock.clients[i];

		/* Idle since the same second: the older connection goes first. */
		if (!c->busy && (idlest == NULL || c->last_active < idlest->last_active ||
				 (c->last_active == idlest->last_active && c->id < idlest->id)))
			idlest = c;
	}
	if (idlest == NULL)
		return false;
	log_room_made();
	client_close(idlest);
	return true;
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
				GNN_LOG(WARNING, "out of file descriptors: not accepting for 1 s");
				gnn_loop_mod_fd(sock.listen_fd, 0);
				sock.accept_paused_until = monotonic_s() + 1;
			}
			return;
		}
		if (sock.n_clients >= MAX_CLIENTS && !make_room()) {
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
		c->id = sock.next_id++;
		c->last_active = monotonic_s();
		if (gnn_loop_add_fd(fd, EPOLLIN, on_client, c) != 0) {
			close(fd);
			free(c);
			continue;
		}
		sock.clients[sock.n_clients++] = c;
	}
}

/* Drop idle clients; resume accepting after a pause for descriptors. */
static void
on_tick(void *arg)
{
	time_t t = monotonic_s();

	RTE_SET_USED(arg);
	if (sock.accept_paused_until != 0 && t >= sock.accept_paused_until) {
		gnn_loop_mod_fd(sock.listen_fd, EPOLLIN);
		sock.accept_paused_until = 0;
	}
	for (unsigned int i = 0; i < sock.n_clients;) {
		struct client *c = sock.clients[i];

		/* No complete request, or a reply left unread, for this long. */
		if (!c->busy && t - c->last_active > (time_t)sock.idle_timeout)
			client_close(c); /* moves the last client into slot i */
		else
			i++;
	}
}

static void
on_listen(int fd, uint32_t events, void *arg)
{
	RTE_SET_USED(fd);
	RTE_SET_USED(events);
	RTE_SET_USED(arg);
	accept_clients();
}

static void
on_client(int fd, uint32_t events, void *arg)
{
	struct client *c = arg;
	bool alive;

	RTE_SET_USED(fd);
	/* Gone altogether while its reply is being made: nobody to answer. */
	if (c->busy && (events & (EPOLLHUP | EPOLLERR))) {
		client_close(c);
		return;
	}
	/* On a hang-up, too: requests sent before it are still to be read. */
	if (c->out != NULL)
		alive = client_flush(c) && (c->out != NULL || client_process(c));
	else if (c->busy)
		alive = true;
	else
		alive = client_read(c);
	if (!alive)
		client_close(c);
}

void
gnn_sock_close(void)
{
	while (sock.n_clients > 0)
		client_close(sock.clients[0]);
	if (sock.listen_fd >= 0) {
		gnn_loop_del_fd(sock.listen_fd);
		close(sock.listen_fd);
		unlink(sock.path);
	}
	sock.listen_fd = -1;
	gnn_api_set_transport(NULL);
}
