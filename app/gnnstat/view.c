/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The live rate view of gnnstat (the lifecycle reports are reports.c, the
 * Prometheus exposition metrics.c). Input is the server's JSON, trusted
 * for shape only as far as each getter checks it.
 */

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "fields.h"
#include "view.h"

#define RATE_W	11 /* "14880000.0" fits */
#define COUNT_W 14

/* ---- JSON getters ---- */

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
		s = field_str(elem, "name");
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
format_uptime(char *buf, size_t len, const json_t *cur)
{
	double now, started;
	long s;

	if (!field_num(cur, "time", &now) || !field_num(cur, "started", &started) ||
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
	const char *last_error = field_str(cur, "last_error");
	char reload[32], now[32], up[32];

	field_time(reload, sizeof(reload), cur, "last_reload", "never");
	field_time(now, sizeof(now), cur, "time", "-");
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
		s = field_str(json_array_get(arr, i), "name");
		len = s != NULL ? strlen(s) : 0;
		if (len > w)
			w = len;
	}
	return (int)w;
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
		old = find_named(json_object_get(prev, "ports"), field_str(port, "name"));
		fprintf(out, "%-*s %-7s", w, or_dash(field_str(port, "name")),
			or_dash(field_str(port, "role")));
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
	json_t *mal = json_object_get(cur, "malformed");
	const char *key, *sep = " ";
	json_t *value;

	if (!json_is_object(mal))
		return;
	fprintf(out, "malformed since start:");
	json_object_foreach(mal, key, value)
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
		old = find_named(json_object_get(prev, "members"), field_str(m, "name"));
		fprintf(out, "%-*s %-7s", w, or_dash(field_str(m, "name")),
			or_dash(field_str(m, "mode")));
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

	if (field_num(prev, "started", &ps) && field_num(cur, "started", &cs) && ps != cs)
		return 0;
	if (field_num(prev, "time", &pt) && field_num(cur, "time", &ct) && ct > pt)
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
