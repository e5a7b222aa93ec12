/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy loader: libconfig file -> validated struct gnn_policy.
 *
 * Validation does not stop at the first problem: an operator editing the
 * file should see every mistake in one run. Messages are collected with
 * their line and handed to the caller's gnn_diag sorted by line, the way a
 * compiler prints them. A file with any error yields no policy at all.
 *
 * Decisions worth knowing:
 * - members = ( ); is valid (the box forwards everything) but warned about.
 * - mail_servers may be left out; it then means "no servers".
 * - blocked_ports, networks and mail_servers take [ ... ] or ( ... ).
 * - A missing top-level setting is reported on line 1.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gnn_policy.h"

/* Longest reason text; longer ones are cut, never lost. */
#define REASON_MAX 512
/* Labels such as "member 'example-college'" or "port pair #12". */
#define LABEL_MAX (GNN_NAME_MAX + 32)
/* Field names further than this from every known one get no suggestion. */
#define SUGGEST_MAX_DISTANCE 2

struct msg {
	int line;
	unsigned int seq; /* keeps messages on one line in discovery order */
	bool error;
	char *text; /* "file:line: reason" */
};

/* One parsed network or mail server, remembered for cross-member checks. */
struct prefix_ref {
	struct gnn_prefix prefix;
	unsigned int member;
	const char *file; /* NULL: the loaded file itself */
	int line;
};

struct prefix_vec {
	struct prefix_ref *v;
	unsigned int n;
	unsigned int cap;
};

struct loader {
	const char *name; /* file name for messages, as the caller gave it */
	gnn_port_exists_fn port_exists;
	void *arg;
	struct gnn_policy *policy;
	struct prefix_vec nets;	   /* every valid network, in file order */
	struct prefix_vec servers; /* every valid mail server, in file order */
	struct msg *msgs;
	unsigned int n_msgs;
	unsigned int cap_msgs;
	unsigned int n_errors;
	bool nomem;
};

static const char *const top_fields[] = {"blocked_ports", "ports", "members", "ipfix", NULL};
static const char *const pair_fields[] = {"inside", "outside", NULL};
static const char *const member_fields[] = {"name", "mode", "networks", "mail_servers", NULL};

static const char *const mode_names[] = {
	[GNN_MODE_OFF] = "off",
	[GNN_MODE_MONITOR] = "monitor",
	[GNN_MODE_ENFORCE] = "enforce",
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

static void
vreport(struct loader *ld, const char *file, int line, bool error, const char *fmt, va_list ap)
{
	char reason[REASON_MAX];
	struct msg *m;
	size_t size;

	if (error)
		ld->n_errors++;
	if (ld->n_msgs == ld->cap_msgs) {
		unsigned int cap = ld->cap_msgs ? ld->cap_msgs * 2 : 16;
		struct msg *grown = realloc(ld->msgs, cap * sizeof(*grown));

		if (grown == NULL) {
			ld->nomem = true;
			return;
		}
		ld->msgs = grown;
		ld->cap_msgs = cap;
	}

	vsnprintf(reason, sizeof(reason), fmt, ap);
	size = strlen(file) + strlen(reason) + 16;
	m = &ld->msgs[ld->n_msgs];
	m->text = malloc(size);
	if (m->text == NULL) {
		ld->nomem = true;
		return;
	}
	snprintf(m->text, size, "%s:%d: %s", file, line, reason);
	m->line = line;
	m->seq = ld->n_msgs;
	m->error = error;
	ld->n_msgs++;
}

/* Report at a setting's own line; the root (line 0) reads as line 1. */
static void __attribute__((format(printf, 4, 5)))
report(struct loader *ld, const config_setting_t *s, bool error, const char *fmt, ...)
{
	/* Settings from an @include file carry that file's name. */
	const char *file = config_setting_source_file(s);
	int line = config_setting_source_line(s);
	va_list ap;

	va_start(ap, fmt);
	vreport(ld, file != NULL ? file : ld->name, line != 0 ? line : 1, error, fmt, ap);
	va_end(ap);
}

/* Report at a remembered place, for checks that run after the walk. */
static void __attribute__((format(printf, 4, 5)))
report_ref(struct loader *ld, const struct prefix_ref *at, bool error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ld, at->file != NULL ? at->file : ld->name, at->line, error, fmt, ap);
	va_end(ap);
}

#define ERROR(ld, s, ...) report(ld, s, true, __VA_ARGS__)
#define WARN(ld, s, ...)  report(ld, s, false, __VA_ARGS__)

static int
msg_cmp(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hand the messages over in line order; the loader's copies are freed. */
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

/* Every child of group must be one of known; where reads "in member 'x'". */
static void
check_fields(struct loader *ld, const config_setting_t *group, const char *const *known,
	     const char *where)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned int)i);
		const char *name = config_setting_name(s);
		const char *guess = NULL;
		unsigned int best = SUGGEST_MAX_DISTANCE + 1;
		bool found = false;

		if (name == NULL)
			continue;
		for (const char *const *k = known; *k != NULL; k++) {
			unsigned int d;

			if (strcmp(name, *k) == 0) {
				found = true;
				break;
			}
			d = edit_distance(name, *k);
			if (d < best) {
				best = d;
				guess = *k;
			}
		}
		if (found)
			continue;
		if (guess != NULL)
			ERROR(ld, s, "unknown field '%s' %s (did you mean '%s'?)", name, where,
			      guess);
		else
			ERROR(ld, s, "unknown field '%s' %s", name, where);
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
 * type and length. what reads "'name' of member #2". false on error.
 */
static bool
copy_name(struct loader *ld, const config_setting_t *s, const char *what, char *dst)
{
	const char *v;
	size_t len;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ERROR(ld, s, "%s must be a string, not %s", what, type_name(s));
		return false;
	}
	v = config_setting_get_string(s);
	len = strlen(v);
	if (len == 0) {
		ERROR(ld, s, "%s is empty", what);
		return false;
	}
	if (!printable_utf8(v)) {
		ERROR(ld, s, "%s is not printable UTF-8 text", what);
		return false;
	}
	if (len >= GNN_NAME_MAX) {
		ERROR(ld, s, "%s '%.20s...' is too long (%zu bytes, at most %d)", what, v, len,
		      GNN_NAME_MAX - 1);
		return false;
	}
	memcpy(dst, v, len + 1);
	return true;
}

static int
prefix_vec_push(struct loader *ld, struct prefix_vec *vec, const struct gnn_prefix *p,
		unsigned int member, const config_setting_t *s)
{
	if (vec->n == vec->cap) {
		unsigned int cap = vec->cap ? vec->cap * 2 : 64;
		struct prefix_ref *grown = realloc(vec->v, cap * sizeof(*grown));

		if (grown == NULL) {
			ld->nomem = true;
			return -ENOMEM;
		}
		vec->v = grown;
		vec->cap = cap;
	}
	vec->v[vec->n].prefix = *p;
	vec->v[vec->n].member = member;
	vec->v[vec->n].file = config_setting_source_file(s);
	vec->v[vec->n].line = config_setting_source_line(s);
	vec->n++;
	return 0;
}

static bool
prefix_equal(const struct gnn_prefix *a, const struct gnn_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
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
	int *lines;

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

	pol->blocked_ports = calloc(n, sizeof(*pol->blocked_ports));
	lines = calloc(n, sizeof(*lines));
	if (pol->blocked_ports == NULL || lines == NULL) {
		ld->nomem = true;
		goto free_lines;
	}

	for (unsigned int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, i);
		long long v;
		bool dup = false;

		if (config_setting_type(e) != CONFIG_TYPE_INT &&
		    config_setting_type(e) != CONFIG_TYPE_INT64) {
			ERROR(ld, e, "blocked_ports entry #%u must be a port number, not %s", i + 1,
			      type_name(e));
			continue;
		}
		v = config_setting_get_int64(e);
		if (v < 1 || v > 65535) {
			ERROR(ld, e, "blocked port %lld out of range 1..65535", v);
			continue;
		}
		for (unsigned int j = 0; j < pol->n_blocked_ports; j++) {
			if (pol->blocked_ports[j] == v) {
				ERROR(ld, e, "blocked port %lld listed twice (first on line %d)", v,
				      lines[j]);
				dup = true;
				break;
			}
		}
		if (dup)
			continue;
		lines[pol->n_blocked_ports] = config_setting_source_line(e);
		pol->blocked_ports[pol->n_blocked_ports++] = (uint16_t)v;
	}
	qsort(pol->blocked_ports, pol->n_blocked_ports, sizeof(*pol->blocked_ports), u16_cmp);

free_lines:
	free(lines);
}

/* ---- ipfix ------------------------------------------------------------ */

#define IPFIX_DEFAULT_INTERVAL 10
#define IPFIX_MAX_INTERVAL     3600

static const char *const ipfix_fields[] = {"collector", "interval", NULL};

/*
 * "192.0.2.200:4739" or "[2001:db8::200]:4739" into ipfix. Returns NULL,
 * or what is wrong with text.
 */
static const char *
parse_collector(const char *text, struct gnn_ipfix *ipfix)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port;
	unsigned long v;
	size_t len;
	char *end;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
			return "an IPv6 collector is written [ADDRESS]:PORT";
		len = (size_t)(close - text - 1);
		port = close + 2;
		ipfix->family = 6;
		text++;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL)
			return "no port: write ADDRESS:PORT, such as 192.0.2.200:4739";
		if (memchr(text, ':', (size_t)(colon - text)) != NULL)
			return "an IPv6 collector is written [ADDRESS]:PORT";
		len = (size_t)(colon - text);
		port = colon + 1;
		ipfix->family = 4;
	}
	if (len == 0 || len >= sizeof(host))
		return "not an IP address (host names are not looked up)";
	memcpy(host, text, len);
	host[len] = '\0';
	memset(ipfix->address, 0, sizeof(ipfix->address));
	if (inet_pton(ipfix->family == 4 ? AF_INET : AF_INET6, host, ipfix->address) != 1)
		return "not an IP address (host names are not looked up)";
	if (ipfix->family == 4 ? memcmp(ipfix->address, "\0\0\0\0", 4) == 0
			       : memcmp(ipfix->address, (const uint8_t[16]){0}, 16) == 0)
		return "the unspecified address is no collector";
	if (port[0] < '0' || port[0] > '9')
		return "no port number after the address";
	errno = 0;
	v = strtoul(port, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
		return "port out of range 1..65535";
	ipfix->port = (uint16_t)v;
	return NULL;
}

/* Optional: ipfix = { collector = "ADDRESS:PORT"; interval = SECONDS; }; */
static void
load_ipfix(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *g = config_setting_get_member(root, "ipfix");
	struct gnn_ipfix *ipfix = &ld->policy->ipfix;
	const config_setting_t *s;
	const char *why;

	if (g == NULL)
		return;
	if (!config_setting_is_group(g)) {
		ERROR(ld, g,
		      "'ipfix' must be a group such as { collector = \"192.0.2.200:4739\"; "
		      "interval = 10; }, not %s",
		      type_name(g));
		return;
	}
	check_fields(ld, g, ipfix_fields, "in ipfix");
	ipfix->line = config_setting_source_line(g);
	ipfix->interval = IPFIX_DEFAULT_INTERVAL;

	s = config_setting_get_member(g, "collector");
	if (s == NULL) {
		ERROR(ld, g,
		      "missing 'collector' in ipfix (its address and UDP port, e.g. "
		      "collector = \"192.0.2.200:4739\";)");
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ERROR(ld, s,
		      "ipfix 'collector' must be a string such as \"192.0.2.200:4739\", "
		      "not %s",
		      type_name(s));
		return;
	}
	why = parse_collector(config_setting_get_string(s), ipfix);
	if (why != NULL) {
		ERROR(ld, s, "ipfix collector '%s': %s", config_setting_get_string(s), why);
		return;
	}

	s = config_setting_get_member(g, "interval");
	if (s != NULL) {
		long long v;

		if (config_setting_type(s) != CONFIG_TYPE_INT &&
		    config_setting_type(s) != CONFIG_TYPE_INT64) {
			ERROR(ld, s, "ipfix 'interval' must be a number of seconds, not %s",
			      type_name(s));
			return;
		}
		v = config_setting_get_int64(s);
		if (v < 1 || v > IPFIX_MAX_INTERVAL) {
			ERROR(ld, s, "ipfix interval %lld out of range 1..%d seconds", v,
			      IPFIX_MAX_INTERVAL);
			return;
		}
		ipfix->interval = (unsigned int)v;
	}
	ipfix->enabled = true;
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
	char what[LABEL_MAX + 32];

	if (s == NULL) {
		ERROR(ld, group, "missing '%s' in %s", field, label);
		return;
	}
	snprintf(what, sizeof(what), "'%s' of %s", field, label);
	if (!copy_name(ld, s, what, dst))
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
		ld->nomem = true;
		return;
	}
	pol->n_port_pairs = n;

	for (unsigned int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, i);
		struct gnn_port_pair *pp = &pol->port_pairs[i];
		char label[LABEL_MAX];
		char where[LABEL_MAX + 8];

		snprintf(label, sizeof(label), "port pair #%u", i + 1);
		snprintf(where, sizeof(where), "in %s", label);
		pp->line = config_setting_source_line(g);
		if (!config_setting_is_group(g)) {
			ERROR(ld, g, "%s must be a group { inside = ...; outside = ...; }, not %s",
			      label, type_name(g));
			continue;
		}
		check_fields(ld, g, pair_fields, where);
		load_port_name(ld, g, "inside", label, pp->inside, used, &n_used);
		load_port_name(ld, g, "outside", label, pp->outside, used, &n_used);
	}
}

/* ---- members ---------------------------------------------------------- */

/*
 * Parse networks or mail_servers of member idx, appending the valid ones to
 * vec. Returns how many were appended.
 */
static unsigned int
load_prefix_list(struct loader *ld, const config_setting_t *list, const char *what,
		 const char *label, unsigned int idx, struct prefix_vec *vec)
{
	unsigned int from = vec->n;
	unsigned int n_ok = 0;

	for (int i = 0; i < config_setting_length(list); i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned int)i);
		char want[64];
		struct gnn_prefix p;
		const char *why = NULL;
		const char *v;
		bool host_bits;
		bool dup = false;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			ERROR(ld, e,
			      "%s: %s entry #%d must be a string such as \"192.0.2.0/24\", "
			      "not %s",
			      label, what, i + 1, type_name(e));
			continue;
		}
		v = config_setting_get_string(e);
		if (gnn_prefix_parse_reason(v, &p, &host_bits, &why) != 0) {
			ERROR(ld, e, "%s: bad %s '%s': %s", label, what, v, why);
			continue;
		}
		gnn_prefix_format(&p, want, sizeof(want));
		if (host_bits) {
			ERROR(ld, e, "%s: %s %s has host bits set (did you mean %s?)", label, what,
			      v, want);
			continue;
		}
		for (unsigned int j = from; j < vec->n; j++) {
			if (prefix_equal(&vec->v[j].prefix, &p)) {
				ERROR(ld, e, "%s: %s %s listed twice (first on line %d)", label,
				      what, v, vec->v[j].line);
				dup = true;
				break;
			}
		}
		if (dup)
			continue;
		if (prefix_vec_push(ld, vec, &p, idx, e) != 0)
			return n_ok;
		n_ok++;
	}
	return n_ok;
}

static void
load_mode(struct loader *ld, const config_setting_t *g, const char *label, struct gnn_member *m)
{
	const config_setting_t *s = config_setting_get_member(g, "mode");
	const char *v;

	if (s == NULL) {
		ERROR(ld, g, "missing 'mode' in %s (enforce, monitor or off)", label);
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ERROR(ld, s, "'mode' of %s must be a string (enforce, monitor or off), not %s",
		      label, type_name(s));
		return;
	}
	v = config_setting_get_string(s);
	for (unsigned int i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (strcmp(v, mode_names[i]) == 0) {
			m->mode = (enum gnn_mode)i;
			return;
		}
	}
	ERROR(ld, s, "unknown mode '%s' in %s (expected enforce, monitor or off)", v, label);
}

static void
load_member(struct loader *ld, const config_setting_t *g, unsigned int idx)
{
	struct gnn_member *m = &ld->policy->members[idx];
	const config_setting_t *s;
	char label[LABEL_MAX];
	char where[LABEL_MAX + 8];

	m->line = config_setting_source_line(g);
	snprintf(label, sizeof(label), "member #%u", idx + 1);
	if (!config_setting_is_group(g)) {
		ERROR(ld, g,
		      "%s must be a group { name = ...; mode = ...; networks = [ ... ]; }, "
		      "not %s",
		      label, type_name(g));
		return;
	}

	/* The name first: once known, every other message uses it. */
	s = config_setting_get_member(g, "name");
	if (s == NULL) {
		ERROR(ld, g, "missing 'name' in %s", label);
	} else {
		char what[LABEL_MAX + 16];

		snprintf(what, sizeof(what), "'name' of %s", label);
		if (copy_name(ld, s, what, m->name)) {
			for (unsigned int i = 0; i < idx; i++) {
				if (strcmp(ld->policy->members[i].name, m->name) == 0) {
					ERROR(ld, s,
					      "duplicate member name '%s' (first on line %d)",
					      m->name, ld->policy->members[i].line);
					break;
				}
			}
			snprintf(label, sizeof(label), "member '%s'", m->name);
		}
	}
	snprintf(where, sizeof(where), "in %s", label);
	check_fields(ld, g, member_fields, where);
	load_mode(ld, g, label, m);

	s = config_setting_get_member(g, "networks");
	if (s == NULL) {
		ERROR(ld, g, "missing 'networks' in %s", label);
	} else if (!is_sequence(s)) {
		ERROR(ld, s,
		      "'networks' of %s must be a list of prefixes such as "
		      "[ \"192.0.2.0/24\" ], not %s",
		      label, type_name(s));
	} else if (config_setting_length(s) == 0) {
		ERROR(ld, s, "'networks' of %s is empty: a member needs at least one network",
		      label);
	} else {
		m->n_networks = load_prefix_list(ld, s, "network", label, idx, &ld->nets);
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
	m->n_mail_servers = load_prefix_list(ld, s, "mail server", label, idx, &ld->servers);
}

static void
load_members(struct loader *ld, const config_setting_t *root)
{
	const config_setting_t *list = config_setting_get_member(root, "members");
	struct gnn_policy *pol = ld->policy;
	unsigned int n;

	if (list == NULL) {
		ERROR(ld, root, "missing 'members' (write members = ( ); for none)");
		return;
	}
	if (!is_group_list(list)) {
		ERROR(ld, list,
		      "'members' must be a list of groups ( { name = ...; ... } ), "
		      "not %s",
		      type_name(list));
		return;
	}
	n = (unsigned int)config_setting_length(list);
	if (n == 0) {
		WARN(ld, list, "'members' is empty: no member is judged, every frame is forwarded");
		return;
	}
	if (n > GNN_MAX_MEMBERS) {
		ERROR(ld, list, "too many members (%u, at most %d)", n, GNN_MAX_MEMBERS);
		return;
	}
	pol->members = calloc(n, sizeof(*pol->members));
	if (pol->members == NULL) {
		ld->nomem = true;
		return;
	}
	pol->n_members = n;
	for (unsigned int i = 0; i < n; i++)
		load_member(ld, config_setting_get_elem(list, i), i);
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
prefix_ref_cmp(const void *a, const void *b)
{
	const struct prefix_ref *x = a, *y = b;
	int c;

	if (x->prefix.family != y->prefix.family)
		return x->prefix.family < y->prefix.family ? -1 : 1;
	if (x->prefix.len != y->prefix.len)
		return x->prefix.len < y->prefix.len ? -1 : 1;
	c = memcmp(x->prefix.addr, y->prefix.addr, sizeof(x->prefix.addr));
	if (c != 0)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

/*
 * The same network in two members leaves the owner of its addresses
 * undefined. Sorting a copy puts equal networks next to each other; the
 * first in the file keeps it, each later one in another member is an error
 * (a repeat in the same member was reported while loading).
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
		ld->nomem = true;
		return;
	}
	memcpy(sorted, ld->nets.v, ld->nets.n * sizeof(*sorted));
	qsort(sorted, ld->nets.n, sizeof(*sorted), prefix_ref_cmp);

	for (unsigned int i = 1; i < ld->nets.n; i++) {
		const struct prefix_ref *owner = &sorted[first];
		const struct prefix_ref *r = &sorted[i];
		char text[64], who[LABEL_MAX], owner_who[LABEL_MAX];

		if (!prefix_equal(&owner->prefix, &r->prefix)) {
			first = i;
			continue;
		}
		if (r->member == owner->member)
			continue;
		gnn_prefix_format(&r->prefix, text, sizeof(text));
		report_ref(ld, r, true,
			   "network %s of %s already belongs to %s (line %d): a network can "
			   "have only one owner",
			   text, member_label(ld, r->member, who, sizeof(who)),
			   member_label(ld, owner->member, owner_who, sizeof(owner_who)),
			   owner->line);
	}
	free(sorted);
}

/*
 * A mail server only counts when its address belongs to its own member,
 * i.e. the most specific network holding it is one of that member's.
 * Anything else is legal but never matches: warn. A server prefix wider
 * than a network of its member makes that whole network mail servers
 * (acl/gnn_acl.c): warn too, it is more likely a typo than a wish.
 */
static void
check_mail_servers(struct loader *ld)
{
	for (unsigned int i = 0; i < ld->servers.n; i++) {
		const struct prefix_ref *srv = &ld->servers.v[i];
		const struct prefix_ref *best = NULL, *covered = NULL;
		bool own = false;
		char text[64], net[64], who[LABEL_MAX], other[LABEL_MAX];

		for (unsigned int j = 0; j < ld->nets.n; j++) {
			const struct prefix_ref *n = &ld->nets.v[j];

			if (n->member == srv->member && covered == NULL &&
			    gnn_prefix_contains(&srv->prefix, &n->prefix))
				covered = n;
			if (!gnn_prefix_contains(&n->prefix, &srv->prefix))
				continue;
			if (n->member == srv->member)
				own = true;
			if (best == NULL || n->prefix.len > best->prefix.len)
				best = n;
		}
		gnn_prefix_format(&srv->prefix, text, sizeof(text));
		member_label(ld, srv->member, who, sizeof(who));
		if (!own && covered != NULL) {
			gnn_prefix_format(&covered->prefix, net, sizeof(net));
			report_ref(ld, srv, false,
				   "mail server %s of %s is wider than its network %s: every "
				   "host there counts as a mail server",
				   text, who, net);
		} else if (!own) {
			report_ref(ld, srv, false,
				   "mail server %s is outside all networks of %s; it is never "
				   "matched",
				   text, who);
		} else if (best->member != srv->member) {
			gnn_prefix_format(&best->prefix, net, sizeof(net));
			report_ref(ld, srv, false,
				   "mail server %s of %s lies in the more specific network %s of "
				   "%s; it is never matched",
				   text, who, net,
				   member_label(ld, best->member, other, sizeof(other)));
		}
	}
}

/* ---- policy assembly -------------------------------------------------- */

/* Copy each member's prefixes out of the loader's vectors. */
static int
fill_member_prefixes(struct loader *ld)
{
	struct gnn_policy *pol = ld->policy;
	unsigned int net = 0, srv = 0;

	for (unsigned int i = 0; i < pol->n_members; i++) {
		struct gnn_member *m = &pol->members[i];

		m->networks = calloc(m->n_networks ? m->n_networks : 1, sizeof(*m->networks));
		m->mail_servers =
			calloc(m->n_mail_servers ? m->n_mail_servers : 1, sizeof(*m->mail_servers));
		if (m->networks == NULL || m->mail_servers == NULL)
			return -ENOMEM;
		for (unsigned int j = 0; j < m->n_networks; j++)
			m->networks[j] = ld->nets.v[net++].prefix;
		for (unsigned int j = 0; j < m->n_mail_servers; j++)
			m->mail_servers[j] = ld->servers.v[srv++].prefix;
	}
	return 0;
}

static struct gnn_policy *
load_config(config_t *cfg, bool parsed, const char *name, gnn_port_exists_fn port_exists, void *arg,
	    struct gnn_diag *diag)
{
	struct loader ld = {
		.name = name,
		.port_exists = port_exists,
		.arg = arg,
	};
	const config_setting_t *root;
	struct gnn_policy *pol = NULL;
	int err = EINVAL;

	if (!parsed) {
		const char *file = config_error_file(cfg);

		gnn_diag_add(diag, true, "%s:%d: %s", file != NULL ? file : name,
			     config_error_line(cfg), config_error_text(cfg));
		goto out;
	}

	ld.policy = calloc(1, sizeof(*ld.policy));
	if (ld.policy == NULL)
		goto nomem;
	ld.policy->path = strdup(name);
	if (ld.policy->path == NULL)
		goto nomem;

	root = config_root_setting(cfg);
	check_fields(&ld, root, top_fields, "at top level");
	load_blocked_ports(&ld, root);
	load_ports(&ld, root);
	load_members(&ld, root);
	load_ipfix(&ld, root);
	check_network_owners(&ld);
	check_mail_servers(&ld);

	if (ld.nomem)
		goto nomem;
	if (ld.n_errors > 0)
		goto free_policy;
	if (fill_member_prefixes(&ld) != 0)
		goto nomem;

	pol = ld.policy;
	ld.policy = NULL;
	goto free_loader;

nomem:
	err = ENOMEM;
	gnn_diag_add(diag, true, "%s: out of memory while loading", name);
free_policy:
	gnn_policy_free(ld.policy);
free_loader:
	flush_messages(&ld, diag);
	free(ld.nets.v);
	free(ld.servers.v);
out:
	if (pol == NULL)
		errno = err;
	return pol;
}

/* ---- public API ------------------------------------------------------- */

struct gnn_policy *
gnn_policy_load(const char *path, gnn_port_exists_fn port_exists, void *arg, struct gnn_diag *diag)
{
	struct gnn_policy *pol;
	struct stat st;
	config_t cfg;
	bool parsed;
	FILE *f;
	int err;

	if (path == NULL) {
		errno = EINVAL;
		return NULL;
	}
	f = fopen(path, "r");
	if (f == NULL)
		goto cannot_open;
	/* fopen() opens a directory; say so instead of a libconfig I/O error. */
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		errno = EISDIR;
		goto cannot_open;
	}

	config_init(&cfg);
	parsed = config_read(&cfg, f) == CONFIG_TRUE;
	fclose(f);
	pol = load_config(&cfg, parsed, path, port_exists, arg, diag);
	err = errno;
	config_destroy(&cfg);
	errno = err;
	return pol;

cannot_open:
	err = errno;
	gnn_diag_add(diag, true, "%s: cannot open: %s", path, strerror(err));
	errno = err;
	return NULL;
}

struct gnn_policy *
gnn_policy_load_string(const char *text, const char *name, gnn_port_exists_fn port_exists,
		       void *arg, struct gnn_diag *diag)
{
	struct gnn_policy *pol;
	config_t cfg;
	bool parsed;
	int err;

	if (text == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (name == NULL)
		name = "<string>";
	config_init(&cfg);
	parsed = config_read_string(&cfg, text) == CONFIG_TRUE;
	pol = load_config(&cfg, parsed, name, port_exists, arg, diag);
	err = errno;
	config_destroy(&cfg);
	errno = err;
	return pol;
}

void
gnn_policy_free(struct gnn_policy *policy)
{
	if (policy == NULL)
		return;
	for (unsigned int i = 0; i < policy->n_members; i++) {
		free(policy->members[i].networks);
		free(policy->members[i].mail_servers);
	}
	free(policy->members);
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
	if (policy == NULL || name == NULL)
		return -1;
	for (unsigned int i = 0; i < policy->n_members; i++) {
		if (strcmp(policy->members[i].name, name) == 0)
			return (int)i;
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
