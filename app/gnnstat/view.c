/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Text renderers for gnnstat: the live rate view, the Prometheus exposition
 * and the top table. Input is the server's JSON, trusted for shape only as
 * far as each getter checks it.
 */

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "view.h"

#define RATE_W	11 /* "14880000.0" fits */
#define COUNT_W 14

/* ---- JSON getters ---- */

static const char *
str_field(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static bool
num_field(const json_t *obj, const char *key, double *v)
{
	const json_t *j = json_object_get(obj, key);

	if (!json_is_number(j))
		return false;
	*v = json_number_value(j);
	return true;
}

/* The element of an array of objects whose "name" is name. */
static const json_t *
find_named(const json_t *arr, const char *name)
{
	const json_t *elem;
	const char *s;
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < json_array_size(arr); i++) {
		elem = json_array_get(arr, i);
		s = str_field(elem, "name");
		if (s != NULL && strcmp(s, name) == 0)
			return elem;
	}
	return NULL;
}

/*
 * Packets per second for key between two objects, NAN when unknown: a field
 * missing on either side, no usable interval, or a counter that went back.
 * Integers are subtracted as integers, so counters past 2^53 stay exact.
 */
static double
rate(const json_t *prev, const json_t *cur, const char *key, double dt)
{
	const json_t *p = json_object_get(prev, key);
	const json_t *c = json_object_get(cur, key);
	double d;

	if (!(dt > 0) || !json_is_number(p) || !json_is_number(c))
		return NAN;
	if (json_is_integer(p) && json_is_integer(c)) {
		if (json_integer_value(c) < json_integer_value(p))
			return NAN;
		d = (double)(json_integer_value(c) - json_integer_value(p));
	} else {
		d = json_number_value(c) - json_number_value(p);
	}
	return d < 0 ? NAN : d / dt;
}

static void
print_rate(FILE *out, int width, double r)
{
	if (isnan(r))
		fprintf(out, " %*s", width, "-");
	else
		fprintf(out, " %*.1f", width, r);
}

static void
print_count(FILE *out, int width, const json_t *obj, const char *key)
{
	const json_t *j = json_object_get(obj, key);

	if (json_is_integer(j))
		fprintf(out, " %*" JSON_INTEGER_FORMAT, width, json_integer_value(j));
	else if (json_is_real(j))
		fprintf(out, " %*.0f", width, json_real_value(j));
	else
		fprintf(out, " %*s", width, "-");
}

/* ---- live view ---- */

static void
format_time(char *buf, size_t len, const json_t *obj, const char *key, const char *none)
{
	struct tm tm;
	double v;
	time_t t;

	if (!num_field(obj, key, &v)) {
		snprintf(buf, len, "%s", none);
		return;
	}
	t = (time_t)v;
	if (localtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%.0f", v);
}

static void
format_uptime(char *buf, size_t len, const json_t *cur)
{
	double now, started;
	long s;

	if (!num_field(cur, "time", &now) || !num_field(cur, "started", &started) ||
	    now < started) {
		snprintf(buf, len, "-");
		return;
	}
	s = (long)(now - started);
	snprintf(buf, len, "%ldd %02ld:%02ld:%02ld", s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
}

static void
print_header(FILE *out, const json_t *cur, double dt)
{
	const char *last_error = str_field(cur, "last_error");
	char reload[32], now[32], up[32];

	format_time(reload, sizeof(reload), cur, "last_reload", "never");
	format_time(now, sizeof(now), cur, "time", "-");
	format_uptime(up, sizeof(up), cur);
	fprintf(out, "gnnd generation");
	print_count(out, 0, cur, "generation");
	fprintf(out, ", reloads");
	print_count(out, 0, cur, "reloads");
	fprintf(out, ", failures");
	print_count(out, 0, cur, "reload_failures");
	fprintf(out, ", last reload %s, up %s\n", reload, up);
	fprintf(out, "last error: %s\n", last_error != NULL ? last_error : "none");
	if (dt > 0)
		fprintf(out, "at %s, rates in packets/s over %.2f s\n", now, dt);
	else
		fprintf(out, "at %s, gnnd restarted: rates resume next interval\n", now);
}

static int
name_width(const json_t *arr, const char *title)
{
	size_t w = strlen(title), len, i;
	const char *s;

	for (i = 0; i < json_array_size(arr); i++) {
		s = str_field(json_array_get(arr, i), "name");
		len = s != NULL ? strlen(s) : 0;
		if (len > w)
			w = len;
	}
	return (int)w;
}

static const char *
or_dash(const char *s)
{
	return s != NULL ? s : "-";
}

static void
print_ports(FILE *out, const json_t *prev, const json_t *cur, double dt)
{
	static const char *const keys[] = {"rx_packets", "tx_packets", "rx_missed", "tx_dropped"};
	const json_t *ports = json_object_get(cur, "ports");
	const json_t *port, *link, *old;
	int w = name_width(ports, "PORT");
	size_t i, k;

	fprintf(out, "\n%-*s %-7s %*s %*s %*s %*s  LINK\n", w, "PORT", "ROLE", RATE_W, "RX/s",
		RATE_W, "TX/s", RATE_W, "MISSED/s", RATE_W, "DROPPED/s");
	for (i = 0; i < json_array_size(ports); i++) {
		port = json_array_get(ports, i);
		old = find_named(json_object_get(prev, "ports"), str_field(port, "name"));
		fprintf(out, "%-*s %-7s", w, or_dash(str_field(port, "name")),
			or_dash(str_field(port, "role")));
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			print_rate(out, RATE_W, rate(old, port, keys[k], dt));
		link = json_object_get(port, "link_up");
		fprintf(out, "  %s\n",
			json_is_boolean(link) ? (json_is_true(link) ? "up" : "down") : "-");
	}
}

static void
print_totals(FILE *out, const json_t *prev, const json_t *cur, double dt)
{
	static const char *const keys[] = {
		"rx_packets",	     "forwarded",	    "blocked",	  "would_block", "allowed",
		"malformed_dropped", "malformed_forwarded", "tx_dropped",
	};
	const json_t *pt = json_object_get(prev, "totals");
	const json_t *ct = json_object_get(cur, "totals");
	size_t k;

	fprintf(out, "\n%-19s %*s %*s\n", "TOTALS", RATE_W, "PKTS/s", COUNT_W, "SINCE START");
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if (json_object_get(ct, keys[k]) == NULL)
			continue; /* an older or newer gnnd: show what it has */
		fprintf(out, "%-19s", keys[k]);
		print_rate(out, RATE_W, rate(pt, ct, keys[k], dt));
		print_count(out, COUNT_W, ct, keys[k]);
		fputc('\n', out);
	}
}

/* One line: the malformed reasons since start, whatever reasons gnnd reports. */
static void
print_malformed(FILE *out, const json_t *cur)
{
	const json_t *mal = json_object_get(cur, "malformed");
	const char *key, *sep = " ";
	json_t *value;

	if (!json_is_object(mal))
		return;
	fprintf(out, "malformed since start:");
	json_object_foreach((json_t *)mal, key, value)
	{
		fprintf(out, "%s%s", sep, key);
		print_count(out, 0, mal, key);
		sep = ", ";
	}
	fputc('\n', out);
}

static void
print_members(FILE *out, const json_t *prev, const json_t *cur, double dt)
{
	static const char *const keys[] = {"allowed", "blocked", "would_block"};
	const json_t *members = json_object_get(cur, "members");
	const json_t *m, *old;
	int w = name_width(members, "MEMBER");
	size_t i, k;

	fprintf(out, "\n%-*s %-7s %*s %*s %*s %*s %*s %*s\n", w, "MEMBER", "MODE", RATE_W,
		"ALLOWED/s", RATE_W, "BLOCKED/s", RATE_W + 2, "WOULD_BLK/s", COUNT_W, "ALLOWED",
		COUNT_W, "BLOCKED", COUNT_W, "WOULD_BLOCK");
	for (i = 0; i < json_array_size(members); i++) {
		m = json_array_get(members, i);
		old = find_named(json_object_get(prev, "members"), str_field(m, "name"));
		fprintf(out, "%-*s %-7s", w, or_dash(str_field(m, "name")),
			or_dash(str_field(m, "mode")));
		for (k = 0; k < 3; k++)
			print_rate(out, k == 2 ? RATE_W + 2 : RATE_W, rate(old, m, keys[k], dt));
		for (k = 0; k < 3; k++)
			print_count(out, COUNT_W, m, keys[k]);
		fputc('\n', out);
	}
	if (json_array_size(members) == 0)
		fprintf(out, "(no members configured)\n");
}

/*
 * Seconds between the snapshots by the server's clock; the local one when
 * the server gave no usable times; 0 when gnnd restarted in between (its
 * counters started again, a difference would mean nothing).
 */
static double
interval(const json_t *prev, const json_t *cur, double local_dt)
{
	double pt, ct, ps, cs;

	if (num_field(prev, "started", &ps) && num_field(cur, "started", &cs) && ps != cs)
		return 0;
	if (num_field(prev, "time", &pt) && num_field(cur, "time", &ct) && ct > pt)
		return ct - pt;
	return local_dt;
}

void
view_live(FILE *out, const json_t *prev, const json_t *cur, double local_dt)
{
	double dt = interval(prev, cur, local_dt);

	print_header(out, cur, dt);
	print_ports(out, prev, cur, dt);
	print_totals(out, prev, cur, dt);
	print_malformed(out, cur);
	print_members(out, prev, cur, dt);
}

/* ---- Prometheus text exposition ---- */

struct family {
	const char *key;  /* field in the server's object */
	const char *name; /* metric family */
	const char *type; /* counter | gauge */
	const char *help;
	bool shown; /* HELP/TYPE printed */
};

/* Label values escape backslash, double quote and newline, nothing else. */
static void
prom_label_value(FILE *out, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '"')
			fputs("\\\"", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

/*
 * One sample of family f with value v; labels is a list of name, value
 * pairs ending with NULL. A missing or non-numeric value emits nothing: a
 * gap is better than a made-up zero.
 */
static void
prom_sample(FILE *out, struct family *f, const json_t *v, const char *const *labels)
{
	const char *sep = "{";

	if (!json_is_number(v) && !json_is_boolean(v))
		return;
	if (!f->shown) {
		fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
		f->shown = true;
	}
	fputs(f->name, out);
	for (; labels != NULL && labels[0] != NULL; labels += 2) {
		fprintf(out, "%s%s=\"", sep, labels[0]);
		prom_label_value(out, labels[1]);
		fputc('"', out);
		sep = ",";
	}
	if (strcmp(sep, ",") == 0)
		fputc('}', out);
	if (json_is_integer(v))
		fprintf(out, " %" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
	else if (json_is_real(v))
		fprintf(out, " %.15g\n", json_real_value(v));
	else
		fprintf(out, " %d\n", json_is_true(v) ? 1 : 0);
}

static void
prom_scalars(FILE *out, const json_t *stats)
{
	struct family fams[] = {
		{"generation", "gnn_generation", "gauge", "Ruleset generation in force.", false},
		{"reloads", "gnn_reloads_total", "counter", "Successful reloads since start.",
		 false},
		{"reload_failures", "gnn_reload_failures_total", "counter",
		 "Refused reloads since start.", false},
		{"started", "gnn_start_time_seconds", "gauge",
		 "Unix time gnnd started; counters count from here.", false},
		{"last_reload", "gnn_last_reload_timestamp_seconds", "gauge",
		 "Unix time of the last successful reload.", false},
		{"mbufs_in_use", "gnn_mbufs_in_use", "gauge", "Packet buffers in use.", false},
	};
	struct family err = {"last_error", "gnn_last_error", "gauge",
			     "1 while gnnd reports a last reload error, else 0.", false};
	const json_t *last_error = json_object_get(stats, "last_error");
	size_t i;

	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++)
		prom_sample(out, &fams[i], json_object_get(stats, fams[i].key), NULL);
	if (last_error != NULL)
		prom_sample(out, &err, json_is_string(last_error) ? json_true() : json_false(),
			    NULL);
}

static void
prom_ports(FILE *out, const json_t *stats)
{
	struct family fams[] = {
		{"rx_packets", "gnn_port_rx_packets_total", "counter", "Packets received.", false},
		{"tx_packets", "gnn_port_tx_packets_total", "counter", "Packets sent.", false},
		{"rx_missed", "gnn_port_rx_missed_total", "counter",
		 "Packets the NIC dropped for want of RX descriptors.", false},
		{"tx_dropped", "gnn_port_tx_dropped_total", "counter",
		 "Packets that found the TX ring full.", false},
		{"rx_nombuf", "gnn_port_rx_nombuf_total", "counter", "RX mbuf allocation failures.",
		 false},
		{"link_up", "gnn_port_link_up", "gauge", "1 when the link is up.", false},
	};
	const json_t *ports = json_object_get(stats, "ports");
	const json_t *port;
	const char *labels[5] = {"port", NULL, "role", NULL, NULL};
	size_t f, i;

	/* Family by family: the format wants each family's samples together. */
	for (f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		for (i = 0; i < json_array_size(ports); i++) {
			port = json_array_get(ports, i);
			labels[1] = or_dash(str_field(port, "name"));
			labels[3] = or_dash(str_field(port, "role"));
			prom_sample(out, &fams[f], json_object_get(port, fams[f].key), labels);
		}
	}
}

/* totals.malformed_dropped is the sum of gnn_malformed_dropped_total{reason}: not repeated. */
static void
prom_totals(FILE *out, const json_t *stats)
{
	struct family fams[] = {
		{"rx_packets", "gnn_rx_packets_total", "counter", "Packets received on all ports.",
		 false},
		{"forwarded", "gnn_forwarded_total", "counter", "Packets forwarded.", false},
		{"blocked", "gnn_blocked_total", "counter",
		 "Packets to blocked ports dropped (enforced members).", false},
		{"would_block", "gnn_would_block_total", "counter",
		 "Packets to blocked ports that monitor mode let through.", false},
		{"allowed", "gnn_allowed_total", "counter",
		 "Packets to blocked ports from members' mail servers.", false},
		{"malformed_forwarded", "gnn_malformed_forwarded_total", "counter",
		 "Frames the parser could not judge, forwarded (not from an enforced member).",
		 false},
		{"tx_dropped", "gnn_tx_dropped_total", "counter",
		 "Packets dropped because a TX ring was full.", false},
	};
	struct family mal = {"malformed", "gnn_malformed_dropped_total", "counter",
			     "Frames dropped because the parser could not judge them.", false};
	const json_t *totals = json_object_get(stats, "totals");
	const json_t *malformed = json_object_get(stats, "malformed");
	const char *labels[3] = {"reason", NULL, NULL};
	const char *key;
	json_t *value;
	size_t i;

	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++)
		prom_sample(out, &fams[i], json_object_get(totals, fams[i].key), NULL);
	json_object_foreach((json_t *)malformed, key, value)
	{
		labels[1] = key;
		prom_sample(out, &mal, value, labels);
	}
}

static void
prom_members(FILE *out, const json_t *stats)
{
	struct family fams[] = {
		{"allowed", "gnn_member_allowed_total", "counter",
		 "Packets to blocked ports from the member's mail servers.", false},
		{"blocked", "gnn_member_blocked_total", "counter",
		 "Packets to blocked ports dropped from the member's hosts.", false},
		{"would_block", "gnn_member_would_block_total", "counter",
		 "Packets to blocked ports monitor mode let through.", false},
	};
	const json_t *members = json_object_get(stats, "members");
	const char *labels[5] = {"member", NULL, "mode", NULL, NULL};
	const json_t *m;
	size_t f, i;

	for (f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		for (i = 0; i < json_array_size(members); i++) {
			m = json_array_get(members, i);
			labels[1] = or_dash(str_field(m, "name"));
			labels[3] = or_dash(str_field(m, "mode"));
			prom_sample(out, &fams[f], json_object_get(m, fams[f].key), labels);
		}
	}
}

void
view_prometheus(FILE *out, const json_t *stats)
{
	prom_scalars(out, stats);
	prom_ports(out, stats);
	prom_totals(out, stats);
	prom_members(out, stats);
}

/* ---- top ---- */

static int
field_width(const json_t *arr, const char *key, const char *title)
{
	size_t w = strlen(title), len, i;
	const char *s;

	for (i = 0; i < json_array_size(arr); i++) {
		s = str_field(json_array_get(arr, i), key);
		len = s != NULL ? strlen(s) : 1;
		if (len > w)
			w = len;
	}
	return (int)w;
}

void
view_top(FILE *out, const json_t *top)
{
	const json_t *sources = json_object_get(top, "sources");
	int aw = field_width(sources, "address", "ADDRESS");
	int mw = field_width(sources, "member", "MEMBER");
	const json_t *s;
	size_t i;

	if (json_array_size(sources) == 0) {
		fprintf(out, "no blocked sources\n");
		return;
	}
	fprintf(out, "%-*s %-*s %*s %*s\n", aw, "ADDRESS", mw, "MEMBER", COUNT_W, "BLOCKED",
		COUNT_W, "WOULD_BLOCK");
	for (i = 0; i < json_array_size(sources); i++) {
		s = json_array_get(sources, i);
		fprintf(out, "%-*s %-*s", aw, or_dash(str_field(s, "address")), mw,
			or_dash(str_field(s, "member")));
		print_count(out, COUNT_W, s, "blocked");
		print_count(out, COUNT_W, s, "would_block");
		fputc('\n', out);
	}
}
