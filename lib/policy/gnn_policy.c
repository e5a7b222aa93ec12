/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy loader: libconfig file(s) -> validated struct gnn_policy.
 *
 * Validation does not stop at the first problem: an operator editing the
 * file should see every mistake in one run. Messages are collected with
 * their file and line and handed to the caller's gnn_diag sorted by file
 * (main file first, then the members_dir files in name order) and line,
 * the way a compiler prints them. A file with any error yields no policy.
 *
 * Decisions worth knowing:
 * - Text reaches libconfig only through policy_text.c: read whole and
 *   bounded, UTF-8 without NULs, no @include, no integer libconfig would
 *   truncate (those lines' numbers are then left unjudged: one message
 *   per mistake).
 * - members = ( ); is valid (the box forwards everything) but warned about,
 *   unless the member files add members. With members_dir set, the main
 *   file may leave members out.
 * - mail_servers may be left out; it then means "no servers".
 * - blocked_ports, networks and mail_servers take [ ... ] or ( ... ).
 * - A missing top-level setting is reported on line 1.
 * - A member with a refused network (bad text, host bits, another member's)
 *   draws no warnings about its mail servers: its address space is not
 *   known, and such warnings would only mislead.
 * - Checks across members sort, so the whole load is O(n log n) in members
 *   and prefixes: 100,000 members in well under a second.
 */

#include <dirent.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "gnn_policy.h"
#include "policy_text.h"

/* Longest reason text; longer ones are cut, never lost. */
#define REASON_MAX 512
/* Labels such as "member 'example-college'" or "port pair #12". */
#define LABEL_MAX (GNN_NAME_MAX + 32)
/* Field names further than this from every known one get no suggestion. */
#define SUGGEST_MAX_DISTANCE 2
/* Room for "file:line" of another file in a message. */
#define PLACE_MAX 320
/* Prefixes nested in one another: at most one per length, 0..128. */
#define NEST_PREFIXES 129

struct msg {
	unsigned int file; /* index in policy->files */
	int line;	   /* 0: about the file as a whole */
	unsigned int seq;  /* keeps messages on one line in discovery order */
	bool error;
	char *text; /* "file:line: reason" */
};

/* One parsed network or mail server, remembered for cross-member checks. */
struct prefix_ref {
	struct gnn_prefix prefix;
	unsigned int member;
	unsigned int seq;  /* position in its vector: the order of the files */
	unsigned int file; /* index in policy->files */
	int line;
};

struct prefix_vec {
	struct prefix_ref *v;
	unsigned int n;
	unsigned int cap;
};

/* What the loader knows of a member beyond struct gnn_member. */
struct member_info {
	unsigned int file;
	int name_line;	  /* 0: no valid name */
	bool nets_failed; /* a network was refused: its address space is unknown */
};

struct loader {
	gnn_port_exists_fn port_exists;
	void *arg;
	struct gnn_policy *policy;
	unsigned int cap_files;
	unsigned int file;		 /* the file being read */
	struct policy_lines bad_numbers; /* its lines with a misread number */
	struct member_info *info;	 /* one per member */
	unsigned int cap_members;
	struct prefix_vec nets;		  /* every valid network, in file order */
	struct prefix_vec servers;	  /* every valid mail server, in file order */
	unsigned int *by_name;		  /* member indexes sorted by name */
	unsigned int *scratch;		  /* one member's prefixes, for repeats */
	const config_setting_t **entries; /* and their settings */
	unsigned int cap_scratch;
	int members_line; /* the main file's members list, for the empty warning */
	int dir_line;	  /* the main file's members_dir */
	struct msg *msgs;
	unsigned int n_msgs;
	unsigned int cap_msgs;
	unsigned int n_errors;
	bool nomem;
	unsigned int nomem_file;
	int nomem_line;
};

static const char *const top_fields[] = {"blocked_ports", "ports", "members",
					 "members_dir",	  "ipfix", NULL};
static const char *const member_file_fields[] = {"members", NULL};
static const char *const pair_fields[] = {"inside", "outside", NULL};
static const char *const member_fields[] = {"name",	"mode",		"action",
					    "networks", "mail_servers", NULL};
static const char *const ipfix_fields[] = {"collector", "interval", NULL};

static const char *const mode_names[] = {
	[GNN_MODE_OFF] = "off",
	[GNN_MODE_MONITOR] = "monitor",
	[GNN_MODE_ENFORCE] = "enforce",
};

static const char *const action_names[] = {
	[GNN_ACTION_DROP] = "drop",
	[GNN_ACTION_REJECT] = "reject",
};

/* ---- diagnostics ------------------------------------------------------ */

static int
push_message(char ***list, unsigned int *n, char *text)
{
	char **grown = realloc(*list, (*n + 1) * sizeof(**list));

	if (grown == NULL)
		return -ENOMEM;
	grown[*n] = text;
	*list = grown;
	(*n)++;
	return 0;
}

void
gnn_diag_add(struct gnn_diag *diag, bool error, const char *fmt, ...)
{
	va_list ap;
	char *text;
	int len;

	if (diag == NULL || fmt == NULL)
		return;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	text = malloc((size_t)len + 1);
	if (text == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, (size_t)len + 1, fmt, ap);
	va_end(ap);

	if (error ? push_message(&diag->errors, &diag->n_errors, text)
		  : push_message(&diag->warnings, &diag->n_warnings, text))
		free(text);
}

void
gnn_diag_clear(struct gnn_diag *diag)
{
	if (diag == NULL)
		return;
	for (unsigned int i = 0; i < diag->n_errors; i++)
		free(diag->errors[i]);
	for (unsigned int i = 0; i < diag->n_warnings; i++)
		free(diag->warnings[i]);
	free(diag->errors);
	free(diag->warnings);
	memset(diag, 0, sizeof(*diag));
}

/* Remember where memory ran out first; the message says so at the end. */
static void
out_of_memory(struct loader *ld, int line)
{
	if (ld->nomem)
		return;
	ld->nomem = true;
	ld->nomem_file = ld->file;
	ld->nomem_line = line;
}

static const char *
file_name(const struct loader *ld, unsigned int file)
{
	return ld->policy->files[file];
}

static void
vreport(struct loader *ld, unsigned int file, int line, bool error, const char *fmt, va_list ap)
{
	char reason[REASON_MAX];
	const char *name = file_name(ld, file);
	struct msg *m;
	size_t size;

	if (error)
		ld->n_errors++;
	if (ld->n_msgs == ld->cap_msgs) {
		unsigned int cap = ld->cap_msgs ? ld->cap_msgs * 2 : 16;
		struct msg *grown = realloc(ld->msgs, cap * sizeof(*grown));

		if (grown == NULL) {
			out_of_memory(ld, line);
			return;
		}
		ld->msgs = grown;
		ld->cap_msgs = cap;
	}

	vsnprintf(reason, sizeof(reason), fmt, ap);
	size = strlen(name) + strlen(reason) + 16;
	m = &ld->msgs[ld->n_msgs];
	m->text = malloc(size);
	if (m->text == NULL) {
		out_of_memory(ld, line);
		return;
	}
	if (line > 0)
		snprintf(m->text, size, "%s:%d: %s", name, line, reason);
	else
		snprintf(m->text, size, "%s: %s", name, reason);
	m->file = file;
	m->line = line;
	m->seq = ld->n_msgs;
	m->error = error;
	ld->n_msgs++;
}

/* Report at a setting's own line; the root (line 0) reads as line 1. */
static void __attribute__((format(printf, 4, 5)))
report(struct loader *ld, const config_setting_t *s, bool error, const char *fmt, ...)
{
	int line = config_setting_source_line(s);
	va_list ap;

	va_start(ap, fmt);
	vreport(ld, ld->file, line != 0 ? line : 1, error, fmt, ap);
	va_end(ap);
}

/* Report at a remembered place: line 0 is about the file as a whole. */
static void __attribute__((format(printf, 5, 6)))
report_at(struct loader *ld, unsigned int file, int line, bool error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ld, file, line, error, fmt, ap);
	va_end(ap);
}

#define ERROR(ld, s, ...) report(ld, s, true, __VA_ARGS__)
#define WARN(ld, s, ...)  report(ld, s, false, __VA_ARGS__)

/* The pre-scan's findings are errors of the file being read. */
static void
prescan_report(void *ctx, int line, const char *reason)
{
	struct loader *ld = ctx;

	report_at(ld, ld->file, line, true, "%s", reason);
}

/*
 * Where something else is, seen from a message in file from: "on line 4"
 * (or "line 4" with bare) in the same file, "in other.conf:4" ("other.conf:4")
 * in another.
 */
static const char *
place(const struct loader *ld, unsigned int from, unsigned int file, int line, bool bare, char *buf,
      size_t size)
{
	if (file == from)
		snprintf(buf, size, "%sline %d", bare ? "" : "on ", line);
	else
		snprintf(buf, size, "%s%s:%d", bare ? "" : "in ", file_name(ld, file), line);
	return buf;
}

static int
msg_cmp(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hand the messages over in file and line order; the loader's are freed. */
static void
flush_messages(struct loader *ld, struct gnn_diag *diag)
{
	if (ld->n_msgs > 1)
		qsort(ld->msgs, ld->n_msgs, sizeof(*ld->msgs), msg_cmp);
	for (unsigned int i = 0; i < ld->n_msgs; i++) {
		gnn_diag_add(diag, ld->msgs[i].error, "%s", ld->msgs[i].text);
		free(ld->msgs[i].text);
	}
	free(ld->msgs);
	ld->msgs = NULL;
	ld->n_msgs = 0;
	ld->cap_msgs = 0;
}

/* ---- small helpers ---------------------------------------------------- */

/* Levenshtein distance of two short names; large when either is long. */
static unsigned int
edit_distance(const char *a, const char *b)
{
	unsigned int row[GNN_NAME_MAX + 1] = {0};
	size_t la = strlen(a), lb = strlen(b);

	if (la > GNN_NAME_MAX || lb > GNN_NAME_MAX)
		return UINT_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned int)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned int diag = row[0];

		row[0] = (unsigned int)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned int up = row[j];
			unsigned int best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/*
 * Every child of group must be one of known; in and label read "in " and
 * "member 'x'", or "at top level" and "".
 */
static void
check_fields(struct loader *ld, const config_setting_t *group, const char *const *known,
	     const char *in, const char *label)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned int)i);
		const char *name = config_setting_name(s);
		const char *guess = NULL;
		unsigned int best = SUGGEST_MAX_DISTANCE + 1;
		bool found = false;

		if (name == NULL)
			continue;
		for (const char *const *k = known; *k != NULL && !found; k++)
			found = strcmp(name, *k) == 0;
		if (found)
			continue;
		for (const char *const *k = known; *k != NULL; k++) {
			unsigned int d = edit_distance(name, *k);

			if (d < best) {
				best = d;
				guess = *k;
			}
		}
		if (guess != NULL)
			ERROR(ld, s, "unknown field '%s' %s%s (did you mean '%s'?)", name, in,
			      label, guess);
		else
			ERROR(ld, s, "unknown field '%s' %s%s", name, in, label);
	}
}

static bool
is_sequence(const config_setting_t *s)
{
	return config_setting_is_array(s) || config_setting_is_list(s);
}

/* A list of groups; an empty [ ] is accepted as the same as ( ). */
static bool
is_group_list(const config_setting_t *s)
{
	return config_setting_is_list(s) ||
	       (config_setting_is_array(s) && config_setting_length(s) == 0);
}

static const char *
type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group { }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "a number";
	case CONFIG_TYPE_FLOAT:
		return "a decimal number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ]";
	case CONFIG_TYPE_LIST:
		return "a list ( )";
	default:
		return "empty";
	}
}

/*
 * Names end up in JSON, Prometheus labels and logs: well-formed UTF-8
 * without control characters only.
 */
static bool
printable_utf8(const char *text)
{
	const unsigned char *p = (const unsigned char *)text;

	while (*p != '\0') {
		unsigned int extra, cp;

		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0)
			extra = 1, cp = *p & 0x1f;
		else if ((*p & 0xf0) == 0xe0)
			extra = 2, cp = *p & 0x0f;
		else if ((*p & 0xf8) == 0xf0)
			extra = 3, cp = *p & 0x07;
		else
			return false;
		for (unsigned int i = 1; i <= extra; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		/* Overlong forms, surrogates, beyond Unicode, C1 controls. */
		if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
		    (extra == 3 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
		    cp > 0x10ffff || (cp >= 0x80 && cp < 0xa0))
			return false;
		p += extra + 1;
	}
	return true;
}

/*
 * Copy a name setting (member name, port name) into dst after checking its
 * type and length. field and label read "name" and "member #2". false on
 * error.
 */
static bool
copy_name(struct loader *ld, const config_setting_t *s, const char *field, const char *label,
	  char *dst)
{
	const char *v;
	size_t len;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ERROR(ld, s, "'%s' of %s must be a string, not %s", field, label, type_name(s));
		return false;
	}
	v = config_setting_get_string(s);
	len = strlen(v);
	if (len == 0) {
		ERROR(ld, s, "'%s' of %s is empty", field, label);
		return false;
	}
	if (!printable_utf8(v)) {
		ERROR(ld, s, "'%s' of %s is not printable UTF-8 text", field, label);
		return false;
	}
	if (len >= GNN_NAME_MAX) {
		ERROR(ld, s, "'%s' of %s '%.20s...' is too long (%zu bytes, at most %d)", field,
		      label, v, len, GNN_NAME_MAX - 1);
		return false;
	}
	memcpy(dst, v, len + 1);
	return true;
}

static int
prefix_vec_push(struct loader *ld, struct prefix_vec *vec, const struct gnn_prefix *p,
		unsigned int member, const config_setting_t *s)
{
	struct prefix_ref *r;

	if (vec->n == vec->cap) {
		unsigned int cap = vec->cap ? vec->cap * 2 : 64;
		struct prefix_ref *grown =
			cap > vec->cap ? realloc(vec->v, cap * sizeof(*grown)) : NULL;

		if (grown == NULL) {
			out_of_memory(ld, config_setting_source_line(s));
			return -ENOMEM;
		}
		vec->v = grown;
		vec->cap = cap;
	}
	r = &vec->v[vec->n];
	r->prefix = *p;
	r->member = member;
	r->seq = vec->n;
	r->file = ld->file;
	r->line = config_setting_source_line(s);
	vec->n++;
	return 0;
}

static bool
prefix_equal(const struct gnn_prefix *a, const struct gnn_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* Address order; a prefix before the longer ones it holds. */
static int
prefix_cmp(const struct gnn_prefix *a, const struct gnn_prefix *b)
{
	int c;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (c != 0)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

static bool
is_integer(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_INT ||
	       config_setting_type(s) == CONFIG_TYPE_INT64;
}

/*
 * A number on a line where the pre-scan refused a literal: that message
 * stands for it, nothing more is said about it.
 */
static bool
number_refused(const struct loader *ld, const config_setting_t *s)
{
	return policy_lines_has(&ld->bad_numbers, config_setting_source_line(s));
}

/* ---- blocked_ports ---------------------------------------------------- */

static int
u16_cmp(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return (x > y) - (x < y);
}

static void
load_blocked_ports(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *list = config_setting_get_member(root, "blocked_ports");
	struct gnn_policy *pol = ld->policy;
	unsigned int n;
	int *first_line; /* by port number: where it was first listed */

	if (list == NULL) {
		ERROR(ld, root,
		      "missing 'blocked_ports' (TCP destination ports to block, e.g. "
		      "blocked_ports = [ 25 ];)");
		return;
	}
	if (!is_sequence(list)) {
		ERROR(ld, list,
		      "'blocked_ports' must be a list of port numbers such as [ 25 ], "
		      "not %s",
		      type_name(list));
		return;
	}
	n = (unsigned int)config_setting_length(list);
	if (n == 0) {
		ERROR(ld, list, "'blocked_ports' is empty: list at least one port, e.g. [ 25 ]");
		return;
	}

	pol->blocked_ports = calloc(n < 65536 ? n : 65536, sizeof(*pol->blocked_ports));
	first_line = calloc(65536, sizeof(*first_line));
	if (pol->blocked_ports == NULL || first_line == NULL) {
		out_of_memory(ld, config_setting_source_line(list));
		goto free_lines;
	}

	for (unsigned int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, i);
		long long v;

		if (!is_integer(e)) {
			ERROR(ld, e, "blocked_ports entry #%u must be a port number, not %s", i + 1,
			      type_name(e));
			continue;
		}
		if (number_refused(ld, e))
			continue;
		v = config_setting_get_int64(e);
		if (v < 1 || v > 65535) {
			ERROR(ld, e, "blocked port %lld out of range 1..65535", v);
			continue;
		}
		if (first_line[(size_t)v] != 0) {
			ERROR(ld, e, "blocked port %lld listed twice (first on line %d)", v,
			      first_line[(size_t)v]);
			continue;
		}
		first_line[(size_t)v] = config_setting_source_line(e);
		pol->blocked_ports[pol->n_blocked_ports++] = (uint16_t)v;
	}
	qsort(pol->blocked_ports, pol->n_blocked_ports, sizeof(*pol->blocked_ports), u16_cmp);

free_lines:
	free(first_line);
}

/* ---- ports ------------------------------------------------------------ */

struct port_use {
	const char *name;
	int line;
};

/* Check one side of a pair: name, existence, not used before. */
static void
load_port_name(struct loader *ld, const config_setting_t *group, const char *field,
	       const char *label, char *dst, struct port_use *used, unsigned int *n_used)
{
	const config_setting_t *s = config_setting_get_member(group, field);

	if (s == NULL) {
		ERROR(ld, group, "missing '%s' in %s", field, label);
		return;
	}
	if (!copy_name(ld, s, field, label, dst))
		return;

	for (unsigned int i = 0; i < *n_used; i++) {
		if (strcmp(used[i].name, dst) == 0) {
			ERROR(ld, s,
			      "port '%s' is used twice (first on line %d); each port "
			      "belongs to one pair, on one side",
			      dst, used[i].line);
			return;
		}
	}
	used[*n_used].name = dst;
	used[*n_used].line = config_setting_source_line(s);
	(*n_used)++;

	if (ld->port_exists != NULL && !ld->port_exists(dst, ld->arg))
		ERROR(ld, s, "port '%s' (%s of %s) not found", dst, field, label);
}

static void
load_ports(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *list = config_setting_get_member(root, "ports");
	struct port_use used[2 * GNN_MAX_PORT_PAIRS];
	struct gnn_policy *pol = ld->policy;
	unsigned int n_used = 0;
	unsigned int n;

	if (list == NULL) {
		ERROR(ld, root,
		      "missing 'ports' (pairs such as ports = ( { inside = \"...\"; "
		      "outside = \"...\"; } );)");
		return;
	}
	if (!is_group_list(list)) {
		ERROR(ld, list,
		      "'ports' must be a list of groups ( { inside = ...; outside = ...; "
		      "} ), not %s",
		      type_name(list));
		return;
	}
	n = (unsigned int)config_setting_length(list);
	if (n == 0) {
		ERROR(ld, list, "'ports' is empty: give at least one inside/outside pair");
		return;
	}
	if (n > GNN_MAX_PORT_PAIRS) {
		ERROR(ld, list, "too many port pairs (%u, at most %d)", n, GNN_MAX_PORT_PAIRS);
		return;
	}
	pol->port_pairs = calloc(n, sizeof(*pol->port_pairs));
	if (pol->port_pairs == NULL) {
		out_of_memory(ld, config_setting_source_line(list));
		return;
	}
	pol->n_port_pairs = n;

	for (unsigned int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, i);
		struct gnn_port_pair *pp = &pol->port_pairs[i];
		char label[LABEL_MAX];

		snprintf(label, sizeof(label), "port pair #%u", i + 1);
		pp->line = config_setting_source_line(g);
		if (!config_setting_is_group(g)) {
			ERROR(ld, g, "%s must be a group { inside = ...; outside = ...; }, not %s",
			      label, type_name(g));
			continue;
		}
		check_fields(ld, g, pair_fields, "in ", label);
		load_port_name(ld, g, "inside", label, pp->inside, used, &n_used);
		load_port_name(ld, g, "outside", label, pp->outside, used, &n_used);
	}
}

/* ---- ipfix ------------------------------------------------------------ */

/* Decimal 1..65535, digits only; 0 or the reason. */
static const char *
parse_port(const char *text, uint16_t *port)
{
	unsigned long v = 0;
	size_t n = strlen(text);

	if (n == 0)
		return "no port after ':'";
	for (size_t i = 0; i < n; i++) {
		if (text[i] < '0' || text[i] > '9')
			return "the port is not a number";
		if (v <= 65535)
			v = v * 10 + (unsigned long)(text[i] - '0');
	}
	if (v < 1 || v > 65535)
		return "port out of range 1..65535";
	*port = (uint16_t)v;
	return NULL;
}

/*
 * "a.b.c.d:port" or "[IPv6]:port" into ipfix; NULL, or the reason it is
 * refused.
 */
static const char *
parse_collector(const char *text, struct gnn_ipfix *ipfix)
{
	static const uint8_t zero[16];
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char addr[sizeof(ipfix->collector)];
	const char *port;
	size_t len = strlen(text);

	if (len == 0)
		return "empty; write ADDR:PORT, e.g. \"192.0.2.200:4739\"";
	if (len >= sizeof(ipfix->collector))
		return "too long for ADDR:PORT";
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL)
			return "no ']' after the IPv6 address";
		if (close[1] != ':')
			return "no ':PORT' after ']'";
		memcpy(addr, text + 1, (size_t)(close - text - 1));
		addr[close - text - 1] = '\0';
		if (inet_pton(AF_INET6, addr, ipfix->addr) != 1)
			return "not an IPv6 address in [ ]";
		if (memcmp(ipfix->addr, v4mapped, sizeof(v4mapped)) == 0)
			return "IPv4-mapped IPv6 address; write the IPv4 address instead";
		ipfix->family = 6;
		port = close + 2;
	} else {
		const char *colon = strrchr(text, ':');

		if (colon == NULL)
			return "no ':PORT'; write ADDR:PORT, e.g. \"192.0.2.200:4739\"";
		if (strchr(text, ':') != colon)
			return "an IPv6 address goes in brackets: \"[2001:db8::1]:4739\"";
		memcpy(addr, text, (size_t)(colon - text));
		addr[colon - text] = '\0';
		if (inet_pton(AF_INET, addr, ipfix->addr) != 1)
			return "not an IPv4 address before ':' (a.b.c.d)";
		ipfix->family = 4;
		port = colon + 1;
	}
	if (memcmp(ipfix->addr, zero, ipfix->family == 4 ? 4 : 16) == 0)
		return "the unspecified address cannot be a collector";
	return parse_port(port, &ipfix->port);
}

static void
load_ipfix(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *g = config_setting_get_member(root, "ipfix");
	struct gnn_ipfix ipfix = {.interval = GNN_IPFIX_INTERVAL_DEFAULT};
	const config_setting_t *s;
	bool ok = true;

	if (g == NULL)
		return;
	ipfix.line = config_setting_source_line(g);
	if (!config_setting_is_group(g)) {
		ERROR(ld, g,
		      "'ipfix' must be a group { collector = \"192.0.2.200:4739\"; interval = 10; "
		      "}, not %s",
		      type_name(g));
		return;
	}
	check_fields(ld, g, ipfix_fields, "in ", "ipfix");

	s = config_setting_get_member(g, "collector");
	if (s == NULL) {
		ERROR(ld, g,
		      "missing 'collector' in ipfix (UDP ADDR:PORT, e.g. \"192.0.2.200:4739\")");
		ok = false;
	} else if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ERROR(ld, s,
		      "'collector' of ipfix must be a string such as \"192.0.2.200:4739\", not %s",
		      type_name(s));
		ok = false;
	} else {
		const char *v = config_setting_get_string(s);
		const char *why = parse_collector(v, &ipfix);

		if (why != NULL) {
			ERROR(ld, s, "ipfix collector '%.80s': %s", v, why);
			ok = false;
		} else {
			memcpy(ipfix.collector, v, strlen(v) + 1);
		}
	}

	s = config_setting_get_member(g, "interval");
	if (s == NULL) {
		/* GNN_IPFIX_INTERVAL_DEFAULT */
	} else if (!is_integer(s)) {
		ERROR(ld, s, "'interval' of ipfix must be a whole number of seconds, not %s",
		      type_name(s));
		ok = false;
	} else if (number_refused(ld, s)) {
		ok = false;
	} else {
		long long v = config_setting_get_int64(s);

		if (v < 1 || v > GNN_IPFIX_INTERVAL_MAX) {
			ERROR(ld, s, "ipfix interval %lld out of range 1..%d (seconds)", v,
			      GNN_IPFIX_INTERVAL_MAX);
			ok = false;
		} else {
			ipfix.interval = (unsigned int)v;
		}
	}
	if (!ok)
		return;
	ipfix.enabled = true;
	ld->policy->ipfix = ipfix;
}

/* ---- members ---------------------------------------------------------- */

static int
scratch_cmp(const void *a, const void *b, void *arg)
{
	const struct prefix_vec *vec = arg;
	const struct prefix_ref *x = &vec->v[*(const unsigned int *)a];
	const struct prefix_ref *y = &vec->v[*(const unsigned int *)b];
	int c = prefix_cmp(&x->prefix, &y->prefix);

	return c != 0 ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/*
 * Entries from..vec->n are one member's list; each repeat of an earlier one
 * is an error at its own setting (ld->entries holds them, in list order).
 */
static void
report_repeats(struct loader *ld, const struct prefix_vec *vec, unsigned int from, const char *what,
	       const char *label)
{
	const config_setting_t *const *entries = ld->entries;
	unsigned int n = vec->n - from;

	if (n < 2)
		return;
	for (unsigned int i = 0; i < n; i++)
		ld->scratch[i] = from + i;
	qsort_r(ld->scratch, n, sizeof(*ld->scratch), scratch_cmp, (void *)(uintptr_t)vec);
	for (unsigned int i = 1, first = 0; i < n; i++) {
		const struct prefix_ref *a = &vec->v[ld->scratch[first]];
		const struct prefix_ref *b = &vec->v[ld->scratch[i]];

		if (!prefix_equal(&a->prefix, &b->prefix)) {
			first = i;
			continue;
		}
		ERROR(ld, entries[ld->scratch[i] - from],
		      "%s: %s %s listed twice (first on line %d)", label, what,
		      config_setting_get_string(entries[ld->scratch[i] - from]), a->line);
	}
}

/*
 * Parse networks or mail_servers of member idx, appending the valid ones to
 * vec. Returns how many were appended; *failed (networks only) is set when
 * an entry was refused. For an enforced member a /0 network is a warning.
 */
static unsigned int
load_prefix_list(struct loader *ld, const config_setting_t *list, const char *what,
		 const char *label, unsigned int idx, struct prefix_vec *vec, bool *failed)
{
	const struct gnn_member *m = &ld->policy->members[idx];
	unsigned int n = (unsigned int)config_setting_length(list);
	bool networks = vec == &ld->nets;
	unsigned int from = vec->n;
	unsigned int n_ok = 0;

	if (n > ld->cap_scratch) {
		unsigned int *scratch = realloc(ld->scratch, (size_t)n * sizeof(*scratch));
		const config_setting_t **entries = NULL;

		if (scratch != NULL) {
			ld->scratch = scratch;
			entries = realloc(ld->entries, (size_t)n * sizeof(*entries));
		}
		if (entries == NULL) {
			out_of_memory(ld, config_setting_source_line(list));
			return 0;
		}
		ld->entries = entries;
		ld->cap_scratch = n;
	}

	for (unsigned int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, i);
		char want[64];
		struct gnn_prefix p;
		const char *why = NULL;
		const char *v;
		bool host_bits;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			ERROR(ld, e,
			      "%s: %s entry #%u must be a string such as \"192.0.2.0/24\", "
			      "not %s",
			      label, what, i + 1, type_name(e));
			if (failed != NULL)
				*failed = true;
			continue;
		}
		v = config_setting_get_string(e);
		if (gnn_prefix_parse_reason(v, &p, &host_bits, &why) != 0) {
			ERROR(ld, e, "%s: bad %s '%.80s': %s", label, what, v, why);
			if (failed != NULL)
				*failed = true;
			continue;
		}
		if (host_bits) {
			gnn_prefix_format(&p, want, sizeof(want));
			ERROR(ld, e, "%s: %s %s has host bits set (did you mean %s?)", label, what,
			      v, want);
			if (failed != NULL)
				*failed = true;
			continue;
		}
		if (networks && p.len == 0 && m->mode == GNN_MODE_ENFORCE)
			WARN(ld, e,
			     "%s: network %s holds every IPv%u address: with mode enforce, "
			     "every sender no other member's network claims is blocked",
			     label, v, p.family);
		ld->entries[vec->n - from] = e;
		if (prefix_vec_push(ld, vec, &p, idx, e) != 0)
			break;
		n_ok++;
	}
	if (!ld->nomem)
		report_repeats(ld, vec, from, what, label);
	return n_ok;
}

/* One of names (a string setting): its index, or -1 (reported). */
static int
load_choice(struct loader *ld, const config_setting_t *s, const char *field, const char *label,
	    const char *const *names, unsigned int n_names, const char *expected)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ERROR(ld, s, "'%s' of %s must be a string (%s), not %s", field, label, expected,
		      type_name(s));
		return -1;
	}
	v = config_setting_get_string(s);
	for (unsigned int i = 0; i < n_names; i++) {
		if (strcmp(v, names[i]) == 0)
			return (int)i;
	}
	ERROR(ld, s, "unknown %s '%.80s' in %s (expected %s)", field, v, label, expected);
	return -1;
}

static void
load_mode(struct loader *ld, const config_setting_t *g, const char *label, struct gnn_member *m)
{
	const config_setting_t *s = config_setting_get_member(g, "mode");
	int i;

	if (s == NULL) {
		ERROR(ld, g, "missing 'mode' in %s (enforce, monitor or off)", label);
		return;
	}
	i = load_choice(ld, s, "mode", label, mode_names, 3, "enforce, monitor or off");
	if (i >= 0)
		m->mode = (enum gnn_mode)i;
}

static void
load_action(struct loader *ld, const config_setting_t *g, const char *label, struct gnn_member *m)
{
	const config_setting_t *s = config_setting_get_member(g, "action");
	int i;

	m->action = GNN_ACTION_DROP;
	if (s == NULL)
		return;
	i = load_choice(ld, s, "action", label, action_names, 2, "drop or reject");
	if (i >= 0)
		m->action = (enum gnn_action)i;
}

static void
load_member(struct loader *ld, const config_setting_t *g, unsigned int idx, unsigned int pos)
{
	struct gnn_member *m = &ld->policy->members[idx];
	struct member_info *info = &ld->info[idx];
	const config_setting_t *s;
	char label[LABEL_MAX];

	m->line = config_setting_source_line(g);
	m->file = ld->policy->files[ld->file];
	info->file = ld->file;
	snprintf(label, sizeof(label), "member #%u", pos + 1);
	if (!config_setting_is_group(g)) {
		ERROR(ld, g,
		      "%s must be a group { name = ...; mode = ...; networks = [ ... ]; }, "
		      "not %s",
		      label, type_name(g));
		info->nets_failed = true;
		return;
	}

	/* The name first: once known, every other message uses it. */
	s = config_setting_get_member(g, "name");
	if (s == NULL) {
		ERROR(ld, g, "missing 'name' in %s", label);
	} else if (copy_name(ld, s, "name", label, m->name)) {
		size_t len = strlen(m->name);

		info->name_line = config_setting_source_line(s);
		/* label = "member '<name>'" (no snprintf: this runs for every member) */
		memcpy(label, "member '", 8);
		memcpy(label + 8, m->name, len);
		memcpy(label + 8 + len, "'", 2);
	}
	check_fields(ld, g, member_fields, "in ", label);
	load_mode(ld, g, label, m);
	load_action(ld, g, label, m);

	s = config_setting_get_member(g, "networks");
	if (s == NULL) {
		ERROR(ld, g, "missing 'networks' in %s", label);
		info->nets_failed = true;
	} else if (!is_sequence(s)) {
		ERROR(ld, s,
		      "'networks' of %s must be a list of prefixes such as "
		      "[ \"192.0.2.0/24\" ], not %s",
		      label, type_name(s));
		info->nets_failed = true;
	} else if (config_setting_length(s) == 0) {
		ERROR(ld, s, "'networks' of %s is empty: a member needs at least one network",
		      label);
		info->nets_failed = true;
	} else {
		m->n_networks = load_prefix_list(ld, s, "network", label, idx, &ld->nets,
						 &info->nets_failed);
	}

	s = config_setting_get_member(g, "mail_servers");
	if (s == NULL)
		return; /* no servers: every candidate from the networks is judged */
	if (!is_sequence(s)) {
		ERROR(ld, s,
		      "'mail_servers' of %s must be a list of addresses such as "
		      "[ \"192.0.2.25\" ], not %s",
		      label, type_name(s));
		return;
	}
	m->n_mail_servers = load_prefix_list(ld, s, "mail server", label, idx, &ld->servers, NULL);
}

/* Room for n more members; false when memory ran out. */
static bool
reserve_members(struct loader *ld, unsigned int n, int line)
{
	struct gnn_policy *pol = ld->policy;
	unsigned int want = pol->n_members + n;
	unsigned int cap = ld->cap_members;
	struct gnn_member *members;
	struct member_info *info;

	if (want < pol->n_members) {
		out_of_memory(ld, line);
		return false;
	}
	if (want <= cap)
		return true;
	while (cap < want)
		cap = cap > UINT_MAX / 2 ? want : (cap ? cap * 2 : 16);
	members = realloc(pol->members, (size_t)cap * sizeof(*members));
	if (members != NULL)
		pol->members = members;
	info = members != NULL ? realloc(ld->info, (size_t)cap * sizeof(*info)) : NULL;
	if (info == NULL) {
		out_of_memory(ld, line);
		return false;
	}
	ld->info = info;
	ld->cap_members = cap;
	return true;
}

/* A members list of the file being read; is_main: of the main file. */
static void
load_member_list(struct loader *ld, const config_setting_t *list, bool is_main)
{
	struct gnn_policy *pol = ld->policy;
	unsigned int n;

	if (!is_group_list(list)) {
		ERROR(ld, list,
		      "'members' must be a list of groups ( { name = ...; ... } ), "
		      "not %s",
		      type_name(list));
		return;
	}
	n = (unsigned int)config_setting_length(list);
	if (is_main)
		ld->members_line = config_setting_source_line(list);
	if (n == 0) {
		if (!is_main)
			WARN(ld, list, "'members' is empty: this file adds no member");
		return;
	}
	if (!reserve_members(ld, n, config_setting_source_line(list)))
		return;
	for (unsigned int i = 0; i < n && !ld->nomem; i++) {
		unsigned int idx = pol->n_members++;

		memset(&pol->members[idx], 0, sizeof(pol->members[idx]));
		memset(&ld->info[idx], 0, sizeof(ld->info[idx]));
		load_member(ld, config_setting_get_elem(list, i), idx, i);
	}
}

/* ---- files ------------------------------------------------------------ */

/* Add a file name to the policy; its index, or -1 (out of memory). */
static int
add_file(struct loader *ld, const char *name)
{
	struct gnn_policy *pol = ld->policy;
	char *copy;

	if (pol->n_files == ld->cap_files) {
		unsigned int cap = ld->cap_files ? ld->cap_files * 2 : 4;
		char **grown = realloc(pol->files, cap * sizeof(*grown));

		if (grown == NULL)
			return -1;
		pol->files = grown;
		ld->cap_files = cap;
	}
	copy = strdup(name);
	if (copy == NULL)
		return -1;
	pol->files[pol->n_files] = copy;
	return (int)pol->n_files++;
}

/*
 * Pre-scan and parse len bytes of text (room for one more and a NUL) of
 * the file being read into cfg. False when it cannot be walked (reported;
 * cfg is then destroyed already).
 */
static bool
parse_text(struct loader *ld, char *text, size_t len, config_t *cfg)
{
	int rc;

	/* libconfig refuses a "#" comment that ends the text without a newline. */
	if (len == 0 || text[len - 1] != '\n') {
		text[len++] = '\n';
		text[len] = '\0';
	}
	ld->bad_numbers.n = 0;
	rc = policy_prescan(text, len, &ld->bad_numbers, prescan_report, ld);
	if (rc < 0)
		out_of_memory(ld, 0);
	if (rc != 0)
		return false;
	config_init(cfg);
	if (config_read_string(cfg, text) != CONFIG_TRUE) {
		report_at(ld, ld->file, config_error_line(cfg), true, "%s", config_error_text(cfg));
		config_destroy(cfg);
		return false;
	}
	return true;
}

static void
load_member_file(struct loader *ld, unsigned int file)
{
	const config_setting_t *root, *list;
	char why[PLACE_MAX];
	config_t cfg;
	char *text;
	size_t len;
	int err;

	ld->file = file;
	err = policy_read_file(file_name(ld, file), GNN_POLICY_FILE_MAX, &text, &len, why,
			       sizeof(why));
	if (err != 0) {
		report_at(ld, file, 0, true, "%s", why);
		if (err == ENOMEM)
			out_of_memory(ld, 0);
		return;
	}
	if (parse_text(ld, text, len, &cfg)) {
		root = config_root_setting(&cfg);
		check_fields(ld, root, member_file_fields,
			     "in a member file (it holds members = ( ... ); only)", "");
		list = config_setting_get_member(root, "members");
		if (list == NULL)
			ERROR(ld, root,
			      "missing 'members' (a member file holds members = ( ... );)");
		else
			load_member_list(ld, list, false);
		config_destroy(&cfg);
	}
	free(text);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Is name "<something>.conf", not hidden? */
static bool
is_member_file(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/* Every *.conf file of dir, in name order; dir as the policy records it. */
static void
load_members_dir(struct loader *ld, const char *dir, int line)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;

	d = opendir(dir);
	if (d == NULL) {
		report_at(ld, 0, line, true, "members_dir '%s': cannot open: %s", dir,
			  strerror(errno));
		return;
	}
	for (;;) {
		errno = 0;
		e = readdir(d);
		if (e == NULL)
			break;
		if (!is_member_file(e->d_name))
			continue;
		if (n == cap) {
			size_t grown_cap = cap ? cap * 2 : 16;
			char **grown = realloc(names, grown_cap * sizeof(*grown));

			if (grown == NULL)
				goto nomem;
			names = grown;
			cap = grown_cap;
		}
		names[n] = strdup(e->d_name);
		if (names[n] == NULL)
			goto nomem;
		n++;
	}
	if (errno != 0)
		report_at(ld, 0, line, true, "members_dir '%s': cannot read: %s", dir,
			  strerror(errno));
	closedir(d);
	d = NULL;
	qsort(names, n, sizeof(*names), name_cmp);

	for (size_t i = 0; i < n && !ld->nomem; i++) {
		size_t size = strlen(dir) + strlen(names[i]) + 2;
		char *path = malloc(size);
		int file;

		if (path == NULL)
			goto nomem;
		snprintf(path, size, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
			 names[i]);
		file = add_file(ld, path);
		free(path);
		if (file < 0)
			goto nomem;
		load_member_file(ld, (unsigned int)file);
	}
	goto out;

nomem:
	out_of_memory(ld, line);
out:
	if (d != NULL)
		closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	ld->file = 0;
}

/*
 * members_dir of the main file: the directory to read (relative to the
 * main file's own), recorded in the policy; NULL when refused.
 */
static const char *
load_members_dir_setting(struct loader *ld, const config_setting_t *s)
{
	const char *top = file_name(ld, 0);
	const char *slash = strrchr(top, '/');
	const char *v;
	size_t size;
	char *dir;

	ld->dir_line = config_setting_source_line(s);
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ERROR(ld, s,
		      "'members_dir' must be a string such as \"/etc/gnn/members.d\", not %s",
		      type_name(s));
		return NULL;
	}
	v = config_setting_get_string(s);
	if (v[0] == '\0') {
		ERROR(ld, s, "'members_dir' is empty: name a directory, or leave it out");
		return NULL;
	}
	if (v[0] == '/' || slash == NULL) {
		dir = strdup(v);
	} else {
		size = (size_t)(slash - top) + 1 + strlen(v) + 1;
		dir = malloc(size);
		if (dir != NULL)
			snprintf(dir, size, "%.*s/%s", (int)(slash - top), top, v);
	}
	if (dir == NULL) {
		out_of_memory(ld, ld->dir_line);
		return NULL;
	}
	ld->policy->members_dir = dir;
	return dir;
}

static void
load_main_file(struct loader *ld, char *text, size_t len)
{
	const config_setting_t *root, *list, *dir_setting;
	const char *dir = NULL;
	config_t cfg;

	ld->file = 0;
	if (!parse_text(ld, text, len, &cfg))
		return;
	root = config_root_setting(&cfg);
	check_fields(ld, root, top_fields, "at top level", "");
	load_blocked_ports(ld, root);
	load_ports(ld, root);
	load_ipfix(ld, root);
	dir_setting = config_setting_get_member(root, "members_dir");
	if (dir_setting != NULL)
		dir = load_members_dir_setting(ld, dir_setting);
	list = config_setting_get_member(root, "members");
	if (list != NULL)
		load_member_list(ld, list, true);
	else if (dir_setting == NULL)
		ERROR(ld, root, "missing 'members' (write members = ( ); for none)");
	config_destroy(&cfg);

	if (dir != NULL && !ld->nomem)
		load_members_dir(ld, dir, ld->dir_line);
}

/* ---- checks across members ------------------------------------------- */

/* "member 'x'", or "member #3" when the name itself was wrong. */
static const char *
member_label(const struct loader *ld, unsigned int idx, char *buf, size_t size)
{
	const struct gnn_member *m = &ld->policy->members[idx];

	if (m->name[0] != '\0')
		snprintf(buf, size, "member '%s'", m->name);
	else
		snprintf(buf, size, "member #%u", idx + 1);
	return buf;
}

static int
by_name_cmp(const void *a, const void *b, void *arg)
{
	const struct gnn_member *members = arg;
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;
	int c = strcmp(members[x].name, members[y].name);

	return c != 0 ? c : (x > y) - (x < y);
}

/*
 * Sort the members by name (the index gnn_policy_find_member() searches);
 * equal names end up next to each other, the first in the files keeps it.
 */
static void
check_member_names(struct loader *ld)
{
	const struct gnn_policy *pol = ld->policy;
	unsigned int n = pol->n_members;
	unsigned int first = UINT_MAX;

	ld->by_name = malloc((n ? n : 1) * sizeof(*ld->by_name));
	if (ld->by_name == NULL) {
		out_of_memory(ld, 0);
		return;
	}
	for (unsigned int i = 0; i < n; i++)
		ld->by_name[i] = i;
	qsort_r(ld->by_name, n, sizeof(*ld->by_name), by_name_cmp, (void *)(uintptr_t)pol->members);

	for (unsigned int i = 0; i < n; i++) {
		unsigned int b = ld->by_name[i], a;
		const struct member_info *ib = &ld->info[b], *ia;
		char where[PLACE_MAX];

		if (ib->name_line == 0)
			continue; /* its name was refused */
		if (first == UINT_MAX ||
		    strcmp(pol->members[ld->by_name[first]].name, pol->members[b].name) != 0) {
			first = i;
			continue;
		}
		a = ld->by_name[first];
		ia = &ld->info[a];
		report_at(
			ld, ib->file, ib->name_line, true, "duplicate member name '%s' (first %s)",
			pol->members[b].name,
			place(ld, ib->file, ia->file, ia->name_line, false, where, sizeof(where)));
	}
}

static int
prefix_ref_cmp(const void *a, const void *b)
{
	const struct prefix_ref *x = a, *y = b;
	int c = prefix_cmp(&x->prefix, &y->prefix);

	return c != 0 ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/*
 * The same network in two members leaves the owner of its addresses
 * undefined. Sorting a copy puts equal networks next to each other; the
 * first in the files keeps it, each later one in another member is an
 * error (a repeat in the same member was reported while loading), and that
 * member's address space is then unknown.
 */
static void
check_network_owners(struct loader *ld)
{
	struct prefix_ref *sorted;
	unsigned int first = 0;

	if (ld->nets.n < 2)
		return;
	sorted = malloc(ld->nets.n * sizeof(*sorted));
	if (sorted == NULL) {
		out_of_memory(ld, 0);
		return;
	}
	memcpy(sorted, ld->nets.v, ld->nets.n * sizeof(*sorted));
	qsort(sorted, ld->nets.n, sizeof(*sorted), prefix_ref_cmp);

	for (unsigned int i = 1; i < ld->nets.n; i++) {
		const struct prefix_ref *owner = &sorted[first];
		const struct prefix_ref *r = &sorted[i];
		char text[64], who[LABEL_MAX], owner_who[LABEL_MAX], where[PLACE_MAX];

		if (!prefix_equal(&owner->prefix, &r->prefix)) {
			first = i;
			continue;
		}
		if (r->member == owner->member)
			continue;
		ld->info[r->member].nets_failed = true;
		gnn_prefix_format(&r->prefix, text, sizeof(text));
		report_at(ld, r->file, r->line, true,
			  "network %s of %s already belongs to %s (%s): a network can have only "
			  "one owner",
			  text, member_label(ld, r->member, who, sizeof(who)),
			  member_label(ld, owner->member, owner_who, sizeof(owner_who)),
			  place(ld, r->file, owner->file, owner->line, true, where, sizeof(where)));
	}
	free(sorted);
}

/* A network or mail server in a sweep over the address space. */
struct item {
	const struct prefix_ref *r;
	unsigned int kind; /* ITEM_NET before ITEM_SERVER at the same prefix */
};

enum { ITEM_NET, ITEM_SERVER };

static int
item_addr_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = prefix_cmp(&x->r->prefix, &y->r->prefix);

	if (c != 0)
		return c;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return (x->r->seq > y->r->seq) - (x->r->seq < y->r->seq);
}

static int
item_member_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->r->member != y->r->member)
		return x->r->member < y->r->member ? -1 : 1;
	return item_addr_cmp(a, b);
}

/*
 * Prefixes seen in address order, each one after those holding it: the
 * ones on the stack that hold the next item are the chain of prefixes
 * around it, most specific on top. Repeats of the top are not pushed, so
 * the stack holds at most one prefix per length.
 */
struct chain {
	const struct prefix_ref *v[NEST_PREFIXES];
	unsigned int n;
};

static void
chain_pop_to(struct chain *c, const struct gnn_prefix *p)
{
	while (c->n > 0 && !gnn_prefix_contains(&c->v[c->n - 1]->prefix, p))
		c->n--;
}

static void
chain_push(struct chain *c, const struct prefix_ref *r)
{
	if (c->n > 0 && prefix_equal(&c->v[c->n - 1]->prefix, &r->prefix))
		return;
	if (c->n < NEST_PREFIXES)
		c->v[c->n++] = r;
}

static const struct prefix_ref *
chain_top(const struct chain *c)
{
	return c->n > 0 ? c->v[c->n - 1] : NULL;
}

/* Fill items with every network, then every server; n_items. */
static struct item *
sweep_items(struct loader *ld)
{
	size_t n = (size_t)ld->nets.n + ld->servers.n;
	struct item *items = malloc((n ? n : 1) * sizeof(*items));

	if (items == NULL)
		return NULL;
	for (unsigned int i = 0; i < ld->nets.n; i++)
		items[i] = (struct item){&ld->nets.v[i], ITEM_NET};
	for (unsigned int i = 0; i < ld->servers.n; i++)
		items[ld->nets.n + i] = (struct item){&ld->servers.v[i], ITEM_SERVER};
	return items;
}

/*
 * A mail server only counts when its address belongs to its own member,
 * i.e. the most specific network holding it is one of that member's.
 * Anything else is legal but never matches: warn. A server prefix that
 * holds a whole network of its member makes every host there a mail
 * server (acl/gnn_acl.c): warn too, it is more likely a typo than a wish.
 * Members whose networks were refused are skipped.
 *
 * Two sweeps over the sorted prefixes, O(n log n) in all: across members
 * for the most specific network around each server; per member for its
 * own networks around it and its networks inside it.
 */
static void
check_mail_servers(struct loader *ld)
{
	size_t n = (size_t)ld->nets.n + ld->servers.n;
	const struct prefix_ref **best, **covered;
	struct chain nets, servers;
	struct item *items;
	bool *own;

	if (ld->servers.n == 0)
		return;
	items = sweep_items(ld);
	best = calloc(ld->servers.n, sizeof(*best));
	covered = calloc(ld->servers.n, sizeof(*covered));
	own = calloc(ld->servers.n, sizeof(*own));
	if (items == NULL || best == NULL || covered == NULL || own == NULL) {
		out_of_memory(ld, 0);
		goto out;
	}

	qsort(items, n, sizeof(*items), item_addr_cmp);
	nets.n = 0;
	for (size_t i = 0; i < n; i++) {
		chain_pop_to(&nets, &items[i].r->prefix);
		if (items[i].kind == ITEM_NET)
			chain_push(&nets, items[i].r);
		else
			best[items[i].r->seq] = chain_top(&nets);
	}

	qsort(items, n, sizeof(*items), item_member_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct prefix_ref *r = items[i].r;

		if (i == 0 || r->member != items[i - 1].r->member)
			nets.n = servers.n = 0;
		chain_pop_to(&nets, &r->prefix);
		chain_pop_to(&servers, &r->prefix);
		if (items[i].kind == ITEM_NET) {
			chain_push(&nets, r);
			/* Every server around it holds it whole; outer ones first marked. */
			for (unsigned int k = servers.n; k-- > 0;) {
				if (covered[servers.v[k]->seq] != NULL)
					break;
				covered[servers.v[k]->seq] = r;
			}
		} else {
			const struct prefix_ref *top = chain_top(&nets);

			own[r->seq] = top != NULL;
			if (top != NULL && prefix_equal(&top->prefix, &r->prefix) &&
			    covered[r->seq] == NULL)
				covered[r->seq] = top;
			chain_push(&servers, r);
		}
	}

	for (unsigned int i = 0; i < ld->servers.n; i++) {
		const struct prefix_ref *srv = &ld->servers.v[i];
		char text[64], net[64], who[LABEL_MAX], other[LABEL_MAX];

		if (ld->info[srv->member].nets_failed)
			continue;
		gnn_prefix_format(&srv->prefix, text, sizeof(text));
		member_label(ld, srv->member, who, sizeof(who));
		if (covered[i] != NULL) {
			gnn_prefix_format(&covered[i]->prefix, net, sizeof(net));
			report_at(ld, srv->file, srv->line, false,
				  "mail server %s of %s covers its whole network %s: every host "
				  "there is allowed to send",
				  text, who, net);
		} else if (!own[i]) {
			report_at(ld, srv->file, srv->line, false,
				  "mail server %s is outside all networks of %s; it is never "
				  "matched",
				  text, who);
		} else if (best[i] != NULL && best[i]->member != srv->member) {
			gnn_prefix_format(&best[i]->prefix, net, sizeof(net));
			report_at(ld, srv->file, srv->line, false,
				  "mail server %s of %s lies in the more specific network %s of "
				  "%s; it is never matched",
				  text, who, net,
				  member_label(ld, best[i]->member, other, sizeof(other)));
		}
	}
out:
	free(items);
	free(best);
	free(covered);
	free(own);
}

/* No member at all: valid, but worth a word. */
static void
warn_no_members(struct loader *ld)
{
	const char *dir = ld->policy->members_dir;

	if (ld->members_line > 0 && dir != NULL)
		report_at(ld, 0, ld->members_line, false,
			  "'members' is empty and members_dir '%s' adds none: no member is "
			  "judged, every frame is forwarded",
			  dir);
	else if (ld->members_line > 0)
		report_at(ld, 0, ld->members_line, false,
			  "'members' is empty: no member is judged, every frame is forwarded");
	else if (dir != NULL)
		report_at(ld, 0, ld->dir_line, false,
			  "members_dir '%s' adds no member and the file lists none: no member "
			  "is judged, every frame is forwarded",
			  dir);
}

/* ---- policy assembly -------------------------------------------------- */

/* Each member's prefixes, out of the loader's vectors into one array. */
static int
fill_member_prefixes(struct loader *ld)
{
	struct gnn_policy *pol = ld->policy;
	size_t n = (size_t)ld->nets.n + ld->servers.n;
	size_t net = 0, srv = ld->nets.n;
	struct gnn_prefix *store = malloc((n ? n : 1) * sizeof(*store));

	if (store == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < ld->nets.n; i++)
		store[i] = ld->nets.v[i].prefix;
	for (unsigned int i = 0; i < ld->servers.n; i++)
		store[ld->nets.n + i] = ld->servers.v[i].prefix;
	for (unsigned int i = 0; i < pol->n_members; i++) {
		struct gnn_member *m = &pol->members[i];

		m->networks = store + net;
		m->mail_servers = store + srv;
		net += m->n_networks;
		srv += m->n_mail_servers;
	}
	pol->prefix_store = store;
	return 0;
}

/*
 * Load the main file's text: len bytes, with room for one more and a NUL
 * (parse_text() may end it with a newline).
 */
static struct gnn_policy *
load(char *text, size_t len, const char *name, gnn_port_exists_fn port_exists, void *arg,
     struct gnn_diag *diag)
{
	struct loader ld = {
		.port_exists = port_exists,
		.arg = arg,
	};
	struct gnn_policy *pol = NULL;
	int err = EINVAL;

	ld.policy = calloc(1, sizeof(*ld.policy));
	if (ld.policy == NULL || (ld.policy->path = strdup(name)) == NULL ||
	    add_file(&ld, name) != 0) {
		gnn_diag_add(diag, true, "%s: out of memory while loading", name);
		gnn_policy_free(ld.policy);
		errno = ENOMEM;
		return NULL;
	}

	load_main_file(&ld, text, len);
	if (!ld.nomem)
		check_member_names(&ld);
	if (!ld.nomem)
		check_network_owners(&ld);
	if (!ld.nomem)
		check_mail_servers(&ld);
	if (!ld.nomem && ld.policy->n_members == 0)
		warn_no_members(&ld);
	if (!ld.nomem && ld.n_errors == 0 && fill_member_prefixes(&ld) != 0)
		out_of_memory(&ld, 0);

	flush_messages(&ld, diag);
	if (ld.nomem) {
		err = ENOMEM;
		if (ld.nomem_line > 0)
			gnn_diag_add(diag, true,
				     "%s:%d: out of memory while loading (%u members, %u networks, "
				     "%u mail servers so far)",
				     file_name(&ld, ld.nomem_file), ld.nomem_line,
				     ld.policy->n_members, ld.nets.n, ld.servers.n);
		else
			gnn_diag_add(diag, true,
				     "%s: out of memory while loading (%u members, %u networks, "
				     "%u mail servers so far)",
				     file_name(&ld, ld.nomem_file), ld.policy->n_members, ld.nets.n,
				     ld.servers.n);
	} else if (ld.n_errors == 0) {
		pol = ld.policy;
		pol->by_name = ld.by_name;
		ld.by_name = NULL;
		ld.policy = NULL;
	}

	gnn_policy_free(ld.policy);
	free(ld.by_name);
	free(ld.info);
	free(ld.scratch);
	free(ld.entries);
	free(ld.bad_numbers.v);
	free(ld.nets.v);
	free(ld.servers.v);
	if (pol == NULL)
		errno = err;
	return pol;
}

/* ---- public API ------------------------------------------------------- */

struct gnn_policy *
gnn_policy_load(const char *path, gnn_port_exists_fn port_exists, void *arg, struct gnn_diag *diag)
{
	struct gnn_policy *pol;
	char why[PLACE_MAX];
	char *text;
	size_t len;
	int err;

	if (path == NULL) {
		errno = EINVAL;
		return NULL;
	}
	err = policy_read_file(path, GNN_POLICY_FILE_MAX, &text, &len, why, sizeof(why));
	if (err != 0) {
		gnn_diag_add(diag, true, "%s: %s", path, why);
		errno = err;
		return NULL;
	}
	pol = load(text, len, path, port_exists, arg, diag);
	err = errno;
	free(text);
	errno = err;
	return pol;
}

struct gnn_policy *
gnn_policy_load_buffer(const void *data, size_t len, const char *name,
		       gnn_port_exists_fn port_exists, void *arg, struct gnn_diag *diag)
{
	struct gnn_policy *pol;
	char *text;
	int err;

	if (data == NULL && len > 0) {
		errno = EINVAL;
		return NULL;
	}
	if (name == NULL)
		name = "<buffer>";
	if (len > GNN_POLICY_FILE_MAX) {
		gnn_diag_add(diag, true, "%s: too large (%zu bytes, at most %u)", name, len,
			     GNN_POLICY_FILE_MAX);
		errno = EFBIG;
		return NULL;
	}
	text = malloc(len + 2);
	if (text == NULL) {
		gnn_diag_add(diag, true, "%s: out of memory while loading (%zu bytes)", name, len);
		errno = ENOMEM;
		return NULL;
	}
	if (len > 0)
		memcpy(text, data, len);
	text[len] = '\0';
	pol = load(text, len, name, port_exists, arg, diag);
	err = errno;
	free(text);
	errno = err;
	return pol;
}

struct gnn_policy *
gnn_policy_load_string(const char *text, const char *name, gnn_port_exists_fn port_exists,
		       void *arg, struct gnn_diag *diag)
{
	if (text == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return gnn_policy_load_buffer(text, strlen(text), name != NULL ? name : "<string>",
				      port_exists, arg, diag);
}

void
gnn_policy_free(struct gnn_policy *policy)
{
	if (policy == NULL)
		return;
	for (unsigned int i = 0; i < policy->n_files; i++)
		free(policy->files[i]);
	free(policy->files);
	free(policy->members_dir);
	free(policy->members);
	free(policy->prefix_store);
	free(policy->by_name);
	free(policy->port_pairs);
	free(policy->blocked_ports);
	free(policy->path);
	free(policy);
}

bool
gnn_policy_same_ports(const struct gnn_policy *a, const struct gnn_policy *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->n_port_pairs != b->n_port_pairs)
		return false;
	for (unsigned int i = 0; i < a->n_port_pairs; i++) {
		if (strcmp(a->port_pairs[i].inside, b->port_pairs[i].inside) != 0 ||
		    strcmp(a->port_pairs[i].outside, b->port_pairs[i].outside) != 0)
			return false;
	}
	return true;
}

int
gnn_policy_find_member(const struct gnn_policy *policy, const char *name)
{
	unsigned int lo = 0, hi;

	if (policy == NULL || name == NULL)
		return -1;
	if (policy->by_name == NULL) {
		for (unsigned int i = 0; i < policy->n_members; i++) {
			if (strcmp(policy->members[i].name, name) == 0)
				return (int)i;
		}
		return -1;
	}
	hi = policy->n_members;
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		unsigned int idx = policy->by_name[mid];
		int c = strcmp(policy->members[idx].name, name);

		if (c == 0)
			return (int)idx;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

const char *
gnn_mode_name(enum gnn_mode mode)
{
	if ((unsigned int)mode >= sizeof(mode_names) / sizeof(mode_names[0]))
		return "unknown";
	return mode_names[mode];
}

const char *
gnn_action_name(enum gnn_action action)
{
	if ((unsigned int)action >= sizeof(action_names) / sizeof(action_names[0]))
		return "unknown";
	return action_names[action];
}
