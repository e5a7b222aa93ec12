/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * gnnstat: gnnd's command-line client. Live per-member rates; the
 * operator's lifecycle (top sources, listed servers, suggested servers, the
 * diff of a config against the traffic seen); reload; the Prometheus
 * exporter. Talks to the control socket only; never links DPDK.
 *
 * Exit status: 0 ok; 1 gnnd answered with a failure (a refused reload, an
 * error reply) or stdout could not be written; 2 bad usage or gnnd could not
 * be reached (no socket, refused, timeout, unreadable reply).
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/ioctl.h>

#include <jansson.h>

#include "proto/gnn_proto.h"
#include "exporter.h"
#include "metrics.h"
#include "snapshot.h"
#include "view.h"

#define EXIT_FAILED  1
#define EXIT_USAGE   2
#define EXIT_NO_GNND 2

#define CALL_TIMEOUT_MS 5000
/* A reload rebuilds every ACL before it answers: give it longer. */
#define RELOAD_TIMEOUT_MS 30000
#define INTERVAL_MAX	  86400.0
/* exporter: gnnd's time to answer a scrape; below Prometheus' scrape_timeout. */
#define EXPORTER_TIMEOUT_S   3.0
#define EXPORTER_TIMEOUT_MAX 60.0

#define CLEAR_SCREEN "\033[H\033[2J"
/* Off a terminal the live view lists the busiest members only. */
#define PLAIN_MEMBERS 20
/* A terminal that does not say its size. */
#define DEFAULT_ROWS 24
#define DEFAULT_COLS 80

enum command {
	CMD_LIVE = 0,
	CMD_TOP,
	CMD_SERVERS,
	CMD_SUGGEST,
	CMD_DIFF,
	CMD_RELOAD,
	CMD_EXPORTER,
};

struct options {
	const char *socket;
	enum command cmd;
	bool json;
	bool prometheus;
	double interval;
	bool interval_set;
	unsigned long count; /* live: refreshes, 0 = until interrupted; top: N */
	bool count_set;
	const char *member; /* -m: live view, --json, --prometheus, top, servers, suggest */
	const char *config; /* diff: CONFIG */
	const char *listen; /* exporter: ADDR:PORT */
	double timeout;	    /* exporter: seconds gnnd has to answer a scrape */
	bool timeout_set;
	const char *members; /* exporter: --members PATTERN */
	bool no_members;     /* exporter: --no-members */
};

enum {
	OPT_JSON = 256,
	OPT_PROMETHEUS,
	OPT_LISTEN,
	OPT_TIMEOUT,
	OPT_MEMBERS,
	OPT_NO_MEMBERS,
};

/* clang-format off */
static const struct option long_options[] = {
	{"socket", required_argument, NULL, 's'},
	{"interval", required_argument, NULL, 'i'},
	{"count", required_argument, NULL, 'n'},
	{"member", required_argument, NULL, 'm'},
	{"json", no_argument, NULL, OPT_JSON},
	{"prometheus", no_argument, NULL, OPT_PROMETHEUS},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"members", required_argument, NULL, OPT_MEMBERS},
	{"no-members", no_argument, NULL, OPT_NO_MEMBERS},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};
/* clang-format on */

static void
usage(FILE *out)
{
	fprintf(out, "usage: gnnstat [-s SOCKET] [-m MEMBER] [--json | --prometheus] [-i SECONDS] "
		     "[-n COUNT]\n"
		     "       gnnstat [-s SOCKET] top [-m MEMBER] [-n N] [--json]\n"
		     "       gnnstat [-s SOCKET] servers [-m MEMBER] [--json]\n"
		     "       gnnstat [-s SOCKET] suggest [-m MEMBER] [--json]\n"
		     "       gnnstat [-s SOCKET] diff CONFIG [--json]\n"
		     "       gnnstat [-s SOCKET] reload\n"
		     "       gnnstat [-s SOCKET] exporter --listen ADDR:PORT [--timeout SECONDS]\n"
		     "                                [--members PATTERN | --no-members]\n");
}

static void
help(void)
{
	usage(stdout);
	printf("\n"
	       "Live per-member rates of gnnd (default); what a member's port-25 traffic\n"
	       "says before and after it is switched to enforce; a reload of gnnd's\n"
	       "configuration; or a Prometheus exporter.\n"
	       "\n"
	       "The live view, like top(1): the totals and ports, then the members busiest\n"
	       "first (blocked + would-block packets/s), as many as the terminal has rows\n"
	       "for (off a terminal the %d busiest), and how many more there are.\n"
	       "\n"
	       "  top       sources blocked or would-be blocked, heaviest first: attempts\n"
	       "            (SYNs), packets, distinct destinations, first and last seen\n"
	       "  servers   each mail_servers entry: what it sent, when last; \"never\" when\n"
	       "            not seen sending since it was loaded\n"
	       "  suggest   unlisted hosts that accepted connections on a blocked port\n"
	       "            (likely mail servers), and a mail_servers line to paste\n"
	       "  diff      what CONFIG would change for the sources seen: newly blocked,\n"
	       "            newly allowed; changes nothing. Exit 1 when CONFIG is invalid\n"
	       "  reload    reload the configuration; exit 1 when it is refused\n"
	       "\n"
	       "  -s, --socket SOCKET  gnnd control socket (default %s)\n"
	       "  -i, --interval SECS  seconds between snapshots, fractions allowed (default 1)\n"
	       "  -n, --count COUNT    refreshes (default 1; on a terminal, until interrupted);\n"
	       "                       with top: how many sources (default %d, at most %d)\n"
	       "  -m, --member MEMBER  only this member; live view, --json, --prometheus: a\n"
	       "                       name or a pattern (fnmatch(3): 'example-*')\n"
	       "      --json           print one snapshot as JSON (every member: read in\n"
	       "                       pages of %d, one after the other)\n"
	       "      --prometheus     print one snapshot in Prometheus text format (for\n"
	       "                       node_exporter: write a temp file, mv it into place)\n"
	       "  -h, --help           show this help\n"
	       "\n"
	       "exporter: serve http://ADDR:PORT/metrics, one fresh snapshot per scrape\n"
	       "(gnn_up 0 when gnnd does not answer), until SIGINT or SIGTERM.\n"
	       "      --listen ADDR:PORT  127.0.0.1:9877, [::1]:9877, localhost:9877 (every\n"
	       "                       address of the name), :9877 (every address); port 0\n"
	       "                       takes a free port, printed at start\n"
	       "      --timeout SECS   how long a scrape waits for gnnd (default %g)\n"
	       "      --members PATTERN  per-member series only for the members whose name\n"
	       "                       matches PATTERN (a name or an fnmatch(3) pattern)\n"
	       "      --no-members     no per-member series at all\n"
	       "\n"
	       "Exit status: 0 ok, 1 gnnd reported a failure (an unknown member, an invalid\n"
	       "CONFIG, a refused reload), 2 bad usage or gnnd unreachable\n"
	       "(the exporter: 2 when it cannot listen).\n",
	       PLAIN_MEMBERS, GNN_PROTO_DEFAULT_SOCKET, GNN_PROTO_TOP_DEFAULT, GNN_PROTO_TOP_MAX,
	       SNAPSHOT_PAGE, EXPORTER_TIMEOUT_S);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gnnstat: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr);
	fprintf(stderr, "Try 'gnnstat --help' for more.\n");
	return -1;
}

/* ---- command line ---- */

static int
parse_interval(const char *arg, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !isfinite(*v) || *v <= 0 ||
	    *v > INTERVAL_MAX)
		return usage_error("-i wants seconds > 0, e.g. 1 or 0.5, not \"%s\"", arg);
	return 0;
}

static int
parse_timeout(const char *arg, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !isfinite(*v) || *v < 0.001 ||
	    *v > EXPORTER_TIMEOUT_MAX)
		return usage_error("--timeout wants seconds from 0.001 to %g, not \"%s\"",
				   EXPORTER_TIMEOUT_MAX, arg);
	return 0;
}

static int
parse_count(const char *arg, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' || *v == 0)
		return usage_error("-n wants a whole number >= 1, not \"%s\"", arg);
	return 0;
}

static int
parse_option(int c, struct options *o)
{
	switch (c) {
	case 's':
		o->socket = optarg;
		return 0;
	case 'i':
		o->interval_set = true;
		return parse_interval(optarg, &o->interval);
	case 'n':
		o->count_set = true;
		return parse_count(optarg, &o->count);
	case 'm':
		o->member = optarg;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_PROMETHEUS:
		o->prometheus = true;
		return 0;
	case OPT_LISTEN:
		o->listen = optarg;
		return 0;
	case OPT_TIMEOUT:
		o->timeout_set = true;
		return parse_timeout(optarg, &o->timeout);
	case OPT_MEMBERS:
		o->members = optarg;
		return 0;
	case OPT_NO_MEMBERS:
		o->no_members = true;
		return 0;
	default: /* getopt has said what was wrong */
		usage(stderr);
		fprintf(stderr, "Try 'gnnstat --help' for more.\n");
		return -1;
	}
}

static int
parse_command(const char *word, struct options *o, bool *seen)
{
	if (*seen && o->cmd == CMD_DIFF && o->config == NULL) {
		o->config = word;
		return 0;
	}
	if (*seen)
		return usage_error("unexpected argument \"%s\"", word);
	*seen = true;
	if (strcmp(word, "top") == 0)
		o->cmd = CMD_TOP;
	else if (strcmp(word, "servers") == 0)
		o->cmd = CMD_SERVERS;
	else if (strcmp(word, "suggest") == 0)
		o->cmd = CMD_SUGGEST;
	else if (strcmp(word, "diff") == 0)
		o->cmd = CMD_DIFF;
	else if (strcmp(word, "reload") == 0)
		o->cmd = CMD_RELOAD;
	else if (strcmp(word, "exporter") == 0)
		o->cmd = CMD_EXPORTER;
	else
		return usage_error("unknown command \"%s\" (expected top, servers, suggest, "
				   "diff, reload or exporter)",
				   word);
	return 0;
}

/* Options that make no sense together are refused rather than ignored. */
static int
check_options(const struct options *o)
{
	bool lifecycle = o->cmd == CMD_TOP || o->cmd == CMD_SERVERS || o->cmd == CMD_SUGGEST;
	const char *pattern = o->member != NULL ? o->member : o->members;

	if (!lifecycle && o->cmd != CMD_LIVE && o->member != NULL)
		return usage_error("-m is only for the live view, --json, --prometheus, top, "
				   "servers and suggest%s",
				   o->cmd == CMD_EXPORTER ? " (exporter: --members PATTERN)" : "");
	if (pattern != NULL && (pattern[0] == '\0' || strlen(pattern) > GNN_PROTO_NAME_MAX))
		return usage_error("a member name or pattern has 1 to %d bytes, not %zu",
				   GNN_PROTO_NAME_MAX, strlen(pattern));
	if ((o->cmd == CMD_SERVERS || o->cmd == CMD_SUGGEST || o->cmd == CMD_DIFF) && o->count_set)
		return usage_error("-n is only for top and the live view");
	if (o->cmd == CMD_DIFF && o->config == NULL)
		return usage_error("diff needs a CONFIG file");
	if (o->cmd == CMD_DIFF && o->config[0] == '\0')
		return usage_error("diff: CONFIG is an empty name");
	if (o->cmd != CMD_LIVE && (o->interval_set || o->prometheus))
		return usage_error("-i and --prometheus are only for the live view");
	if (o->cmd == CMD_RELOAD && (o->json || o->count_set))
		return usage_error("reload takes no options");
	if (o->cmd != CMD_EXPORTER &&
	    (o->listen != NULL || o->timeout_set || o->members != NULL || o->no_members))
		return usage_error("--listen, --timeout, --members and --no-members are only for "
				   "exporter");
	if (o->cmd == CMD_EXPORTER && (o->json || o->count_set))
		return usage_error("exporter takes only --listen, --timeout, --members and "
				   "--no-members");
	if (o->members != NULL && o->no_members)
		return usage_error("--members and --no-members exclude each other");
	if (o->cmd == CMD_EXPORTER && o->listen == NULL)
		return usage_error("exporter needs --listen ADDR:PORT, e.g. 127.0.0.1:9877");
	if (o->json && o->prometheus)
		return usage_error("--json and --prometheus exclude each other");
	if (o->cmd == CMD_LIVE && (o->json || o->prometheus) && (o->interval_set || o->count_set))
		return usage_error("--json and --prometheus print one snapshot: no -i or -n");
	if (o->cmd == CMD_TOP && o->count_set && o->count > GNN_PROTO_TOP_MAX)
		return usage_error("top: -n is at most %d", GNN_PROTO_TOP_MAX);
	return 0;
}

/*
 * Options may come before or after the command word ("gnnstat top -n 5",
 * "gnnstat -s S top"); "+" keeps getopt from permuting so this holds the same
 * way with POSIXLY_CORRECT set. Returns 1 after --help, 0 or -1.
 */
static int
parse_args(int argc, char **argv, struct options *o)
{
	bool seen_command = false;
	int c;

	for (;;) {
		while ((c = getopt_long(argc, argv, "+s:i:n:m:h", long_options, NULL)) != -1) {
			if (c == 'h') {
				help();
				return 1;
			}
			if (parse_option(c, o) < 0)
				return -1;
		}
		if (optind >= argc)
			break;
		if (parse_command(argv[optind++], o, &seen_command) < 0)
			return -1;
	}
	return check_options(o);
}

/* ---- talking to gnnd ---- */

/* Send request (freed here) and return the reply, or NULL after saying why. */
static json_t *
call(const struct options *o, json_t *request, int timeout_ms)
{
	char err[512];
	json_t *reply = NULL;
	char *line;

	line = request != NULL ? json_dumps(request, JSON_COMPACT) : NULL;
	json_decref(request);
	if (line == NULL) {
		fprintf(stderr, "gnnstat: cannot build the request (bad argument encoding?)\n");
		return NULL;
	}
	reply = gnn_proto_call(o->socket, line, timeout_ms, err, sizeof(err));
	free(line);
	if (reply == NULL)
		fprintf(stderr, "gnnstat: %s\n", err);
	return reply;
}

/* An {"error": ...} reply: report it and return true. */
static bool
server_error(const json_t *reply)
{
	const json_t *e = json_object_get(reply, "error");

	if (e == NULL || json_is_null(e))
		return false;
	fprintf(stderr, "gnnstat: gnnd: %s\n",
		json_is_string(e) ? json_string_value(e) : "error (no reason given)");
	return true;
}

/*
 * One page of the live view: the limit busiest members (blocked plus
 * would-block rate), with gnnd's rates; NULL after a message, *status set.
 */
static json_t *
get_live(const struct options *o, size_t limit, int *status)
{
	json_t *req = json_pack("{s:s, s:s, s:b, s:I}", "cmd", "stats", "sort", "activity", "rates",
				1, "limit", (json_int_t)(limit > 0 ? limit : 1));
	json_t *reply;

	if (req != NULL && o->member != NULL &&
	    json_object_set_new(req, "member", json_string(o->member)) < 0) {
		json_decref(req);
		req = NULL;
	}
	reply = call(o, req, CALL_TIMEOUT_MS);
	if (reply == NULL) {
		*status = EXIT_NO_GNND;
		return NULL;
	}
	if (server_error(reply)) {
		json_decref(reply);
		*status = EXIT_FAILED;
		return NULL;
	}
	return reply;
}

static void
print_json(const json_t *obj)
{
	size_t flags = isatty(STDOUT_FILENO) ? JSON_INDENT(2) : JSON_COMPACT;

	json_dumpf(obj, stdout, flags);
	fputc('\n', stdout);
}

/* ---- commands ---- */

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * --json prints the whole snapshot, its members read in pages; --prometheus
 * writes what the exporter serves, so that the textfile collector and a
 * scrape agree. With gnnd down they write nothing (exit 2).
 */
static int
cmd_snapshot(const struct options *o)
{
	struct snapshot_request rq = {
		.socket = o->socket, .member = o->member, .call_timeout_ms = CALL_TIMEOUT_MS};
	enum snapshot_status status;
	double t0 = mono_now();
	char err[512] = "";
	json_t *stats = snapshot_get(&rq, &status, err, sizeof(err));

	if (stats == NULL) {
		fprintf(stderr, "gnnstat: %s\n", err);
		return status == SNAPSHOT_FAILED ? EXIT_FAILED : EXIT_NO_GNND;
	}
	if (o->prometheus)
		metrics_write(stdout, stats, mono_now() - t0);
	else
		print_json(stats);
	json_decref(stats);
	return 0;
}

/* ---- the live view ---- */

static volatile sig_atomic_t resized;

static void
on_sigwinch(int sig)
{
	(void)sig;
	resized = 1;
}

/* The terminal's size into f (a terminal that does not say: its environment's, or 24x80). */
static void
terminal_size(struct live_frame *f)
{
	struct winsize ws = {0};
	const char *env;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0)
		memset(&ws, 0, sizeof(ws));
	f->rows = ws.ws_row;
	f->cols = ws.ws_col;
	if (f->rows == 0)
		f->rows =
			(env = getenv("LINES")) != NULL && atoi(env) > 0 ? atoi(env) : DEFAULT_ROWS;
	if (f->cols == 0)
		f->cols = (env = getenv("COLUMNS")) != NULL && atoi(env) > 0 ? atoi(env)
									     : DEFAULT_COLS;
}

/* What the screen shows, kept to draw it again at a new size. */
struct live_state {
	const struct options *o;
	struct live_frame frame;
	bool tty;
	json_t *prev, *cur; /* the frame's snapshots; cur NULL before the first */
	double local_dt;
	unsigned long frames;
};

static void
draw(struct live_state *ls)
{
	fputs(ls->tty ? CLEAR_SCREEN : (ls->frames > 0 ? "\n" : ""), stdout);
	view_live(stdout, ls->prev, ls->cur, ls->local_dt, &ls->frame);
	fflush(stdout);
	ls->frames++;
}

/* The terminal changed size: take the new one, and draw the frame again at once. */
static void
follow_resize(struct live_state *ls, bool redraw)
{
	if (!resized)
		return;
	resized = 0;
	terminal_size(&ls->frame);
	if (redraw && ls->cur != NULL)
		draw(ls);
}

/* Sleep until t, monotonic; a resize meanwhile redraws. */
static void
live_sleep(struct live_state *ls, double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		follow_resize(ls, true);
}

/*
 * Totals and ports rates need two snapshots: take one, then one per
 * interval, and print the differences; the members' rates are gnnd's own.
 * Each refresh is one request for as many members as there are rows left,
 * so its cost does not grow with the member count. Wake-ups are scheduled
 * on a fixed grid so the display does not drift; the rates themselves use
 * gnnd's own "time" of each snapshot.
 */
static int
cmd_live(const struct options *o)
{
	struct live_state ls = {.o = o, .tty = isatty(STDOUT_FILENO) == 1};
	unsigned long count = o->count_set ? o->count : (ls.tty ? 0 : 1);
	struct sigaction sa = {.sa_handler = on_sigwinch};
	double t_prev, t_cur, next;
	json_t *first, *cur;
	int status = 0;
	unsigned long i;

	ls.frame.member = o->member;
	ls.frame.max_members = PLAIN_MEMBERS;
	if (ls.tty) {
		/* A frame goes out in one write, not line by line: no flicker. */
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
		sigemptyset(&sa.sa_mask);
		sigaction(SIGWINCH, &sa, NULL); /* no SA_RESTART: the sleep wakes up */
		terminal_size(&ls.frame);
	}
	first = get_live(o, view_live_member_rows(NULL, &ls.frame), &status);
	if (first == NULL)
		return status;
	t_prev = next = mono_now();
	if (ls.tty) {
		printf(CLEAR_SCREEN "gnnstat: first snapshot taken, rates in %g s\n", o->interval);
		fflush(stdout);
	}
	for (i = 0; count == 0 || i < count; i++) {
		next += o->interval;
		if (next < mono_now())
			next = mono_now(); /* gnnd was slow: skip, do not burst */
		live_sleep(&ls, next);
		follow_resize(&ls, false);
		cur = get_live(o, view_live_member_rows(ls.cur != NULL ? ls.cur : first, &ls.frame),
			       &status);
		if (cur == NULL)
			break;
		t_cur = mono_now();
		follow_resize(&ls, false);
		json_decref(ls.prev);
		ls.prev = ls.cur != NULL ? ls.cur : first;
		ls.cur = cur;
		ls.local_dt = t_cur - t_prev;
		draw(&ls);
		t_prev = t_cur;
	}
	json_decref(ls.prev);
	json_decref(ls.cur != NULL ? ls.cur : first);
	return status;
}

/* {"cmd": name} with the -m and -n the command was given; NULL: no memory. */
static json_t *
lifecycle_request(const struct options *o, const char *name)
{
	json_t *req = json_pack("{s:s}", "cmd", name);

	if (req == NULL)
		return NULL;
	/* json_string refuses a member name that is not UTF-8: say so, not "no memory". */
	if (o->member != NULL && json_object_set_new(req, "member", json_string(o->member)) < 0) {
		json_decref(req);
		return NULL;
	}
	if (o->cmd == CMD_TOP && o->count_set)
		json_object_set_new(req, "n", json_integer((json_int_t)o->count));
	return req;
}

/*
 * top, servers, suggest: the reply as text or JSON. An error reply (an
 * unknown member) is the error on stderr and exit 1, never an empty report.
 */
static int
cmd_report(const struct options *o)
{
	static const char *const names[] = {
		[CMD_TOP] = "top", [CMD_SERVERS] = "servers", [CMD_SUGGEST] = "suggest"};
	json_t *reply = call(o, lifecycle_request(o, names[o->cmd]), CALL_TIMEOUT_MS);

	if (reply == NULL)
		return EXIT_NO_GNND;
	if (server_error(reply)) {
		json_decref(reply);
		return EXIT_FAILED;
	}
	if (o->json)
		print_json(reply);
	else if (o->cmd == CMD_TOP)
		view_top(stdout, reply, o->member);
	else if (o->cmd == CMD_SERVERS)
		view_servers(stdout, reply, o->member);
	else
		view_suggest(stdout, reply, o->member);
	json_decref(reply);
	return 0;
}

/*
 * CONFIG as gnnd should open it: gnnd runs in a directory of its own, so a
 * relative name is made absolute here (without resolving symbolic links, so
 * that the errors name the file as the operator knows it). NULL: too long.
 */
static char *
absolute_config(const char *config)
{
	char cwd[PATH_MAX];
	char *path = NULL;

	if (config[0] == '/')
		return strdup(config);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	while (config[0] == '.' && config[1] == '/') {
		config += 2;
		while (config[0] == '/')
			config++;
	}
	if (asprintf(&path, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", config) < 0)
		return NULL;
	return path;
}

static void
print_diff_errors(const char *config, const json_t *reply)
{
	const json_t *errors = json_object_get(reply, "errors");
	const char *error = json_string_value(json_object_get(reply, "error"));
	size_t i;

	fprintf(stderr, "gnnstat: %s: not compared:\n", config);
	for (i = 0; i < json_array_size(errors); i++)
		if (json_is_string(json_array_get(errors, i)))
			fprintf(stderr, "%s\n", json_string_value(json_array_get(errors, i)));
	if (json_array_size(errors) == 0)
		fprintf(stderr, "%s\n", error != NULL ? error : "(no reason given)");
}

/*
 * diff: exit 0 when CONFIG is valid, whatever it would change; 1 when gnnd
 * refused it (each error as file:line on stderr) or could not run it.
 */
static int
cmd_diff(const struct options *o)
{
	char *config = absolute_config(o->config);
	json_t *reply, *req;
	const json_t *ok;
	int status = 0;

	if (config == NULL) {
		fprintf(stderr, "gnnstat: %s: cannot make the path absolute: %s\n", o->config,
			strerror(errno));
		return EXIT_USAGE;
	}
	req = json_pack("{s:s, s:s}", "cmd", "diff", "config", config);
	/* Like a reload, the dry run builds every rule before it answers. */
	reply = call(o, req, RELOAD_TIMEOUT_MS);
	if (reply == NULL) {
		free(config);
		return EXIT_NO_GNND;
	}
	ok = json_object_get(reply, "ok");
	if (o->json && json_is_boolean(ok))
		print_json(reply);
	if (json_is_true(ok)) {
		if (!o->json)
			view_diff(stdout, reply);
	} else if (json_is_false(ok)) {
		print_diff_errors(config, reply);
		status = EXIT_FAILED;
	} else if (!server_error(reply)) {
		fprintf(stderr, "gnnstat: bad reply from %s: no \"ok\" in the diff answer\n",
			o->socket);
		status = EXIT_NO_GNND;
	} else {
		status = EXIT_FAILED;
	}
	json_decref(reply);
	free(config);
	return status;
}

static void
print_reload_errors(const json_t *reply)
{
	const json_t *errors = json_object_get(reply, "errors");
	const char *error = json_string_value(json_object_get(reply, "error"));
	size_t i;

	fprintf(stderr, "gnnstat: reload failed, the running rules stay in force:\n");
	for (i = 0; i < json_array_size(errors); i++)
		if (json_is_string(json_array_get(errors, i)))
			fprintf(stderr, "%s\n", json_string_value(json_array_get(errors, i)));
	if (json_array_size(errors) == 0)
		fprintf(stderr, "%s\n", error != NULL ? error : "(no reason given)");
}

static int
cmd_reload(const struct options *o)
{
	json_t *reply = call(o, json_pack("{s:s}", "cmd", "reload"), RELOAD_TIMEOUT_MS);
	const json_t *ok;
	int status = 0;

	if (reply == NULL)
		return EXIT_NO_GNND;
	ok = json_object_get(reply, "ok");
	if (json_is_true(ok)) {
		printf("reloaded: generation");
		if (json_is_integer(json_object_get(reply, "generation")))
			printf(" %" JSON_INTEGER_FORMAT,
			       json_integer_value(json_object_get(reply, "generation")));
		else
			printf(" ?");
		printf("\n");
	} else if (json_is_false(ok)) {
		print_reload_errors(reply);
		status = EXIT_FAILED;
	} else if (!server_error(reply)) {
		fprintf(stderr, "gnnstat: bad reply from %s: no \"ok\" in the reload answer\n",
			o->socket);
		status = EXIT_NO_GNND;
	} else {
		status = EXIT_FAILED;
	}
	json_decref(reply);
	return status;
}

static int
run(const struct options *o)
{
	switch (o->cmd) {
	case CMD_TOP:
	case CMD_SERVERS:
	case CMD_SUGGEST:
		return cmd_report(o);
	case CMD_DIFF:
		return cmd_diff(o);
	case CMD_RELOAD:
		return cmd_reload(o);
	case CMD_EXPORTER: {
		struct exporter_config cfg = {
			.socket = o->socket,
			.listen = o->listen,
			.timeout_ms =
				(int)(1000 * (o->timeout_set ? o->timeout : EXPORTER_TIMEOUT_S)),
			.members = o->members,
			.no_members = o->no_members,
		};

		return exporter_run(&cfg);
	}
	case CMD_LIVE:
	default:
		if (o->json || o->prometheus)
			return cmd_snapshot(o);
		return cmd_live(o);
	}
}

int
main(int argc, char **argv)
{
	struct options o = {.socket = GNN_PROTO_DEFAULT_SOCKET, .interval = 1.0};
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret != 0)
		return ret > 0 ? EXIT_SUCCESS : EXIT_USAGE;
	ret = run(&o);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gnnstat: cannot write output: %s\n", strerror(errno));
		return EXIT_FAILED;
	}
	return ret;
}
