/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The live rate view of gnnstat (the lifecycle reports are reports.c, the
 * Prometheus exposition metrics.c). Input is the server's JSON, trusted
 * for shape only as far as each getter checks it.
 */

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "proto/gnn_fields.h"
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

/* A member row without its name: mode and three rates, then three counts. */
#define MEMBER_RATES (1 + 7 + 2 * (1 + RATE_W) + (1 + RATE_W + 2))
#define MEMBER_REST  (MEMBER_RATES + 3 * (1 + COUNT_W))
#define NAME_MIN     12 /* columns a cut member name keeps at least */

/*
 * s, at most max bytes of it (not splitting a UTF-8 sequence), with every
 * control character as '?': a name from the config never moves the cursor.
 * Returns the bytes written.
 */
static size_t
put_clean(FILE *out, const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
	}
	return n;
}

/* s padded to width; longer than width and cut: its start and "~". */
static void
print_name(FILE *out, const char *s, int width, bool cut)
{
	size_t w = width > 0 ? (size_t)width : 0, n;

	if (s == NULL)
		s = "-";
	if (cut && strlen(s) > w && w > 1) {
		n = put_clean(out, s, w - 1) + 1;
		fputc('~', out);
	} else {
		n = put_clean(out, s, strlen(s));
	}
	for (; n < w; n++)
		fputc(' ', out);
}

/* v with a comma between each group of three digits: 99,980. */
static const char *
thousands(char *buf, size_t len, json_int_t v)
{
	char digits[32];
	size_t n, i, o = 0;

	snprintf(digits, sizeof(digits), "%" JSON_INTEGER_FORMAT, v < 0 ? -v : v);
	n = strlen(digits);
	if (v < 0 && o + 1 < len)
		buf[o++] = '-';
	for (i = 0; i < n && o + 2 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

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
	const char *last_error = field_str(cur, GNN_F_LAST_ERROR);
	char reload[32], now[32], up[32];

	field_time(reload, sizeof(reload), cur, GNN_F_LAST_RELOAD, "never");
	field_time(now, sizeof(now), cur, GNN_F_TIME, "-");
	format_uptime(up, sizeof(up), cur);
	fprintf(out, "gnnd generation");
	print_count(out, 0, cur, GNN_F_GENERATION);
	fprintf(out, ", reloads");
	print_count(out, 0, cur, GNN_F_RELOADS);
	fprintf(out, ", failures");
	print_count(out, 0, cur, GNN_F_RELOAD_FAILURES);
	fprintf(out, ", last reload %s, up %s%s\n", reload, up,
		json_is_true(json_object_get(cur, GNN_F_RELOAD_IN_PROGRESS)) ? ", reloading" : "");
	fprintf(out, "last error: ");
	put_clean(out, last_error != NULL ? last_error : "none", SIZE_MAX);
	fputc('\n', out);
	if (dt > 0)
		fprintf(out, "at %s, rates in packets/s over %.2f s; members busiest first\n", now,
			dt);
	else
		fprintf(out, "at %s, gnnd restarted: rates resume next interval\n", now);
}

/* The longest name of the first n elements (and the title). */
static int
name_width(const json_t *arr, size_t n, const char *title)
{
	size_t w = strlen(title), len, i;
	const char *s;

	for (i = 0; i < json_array_size(arr) && i < n; i++) {
		s = field_str(json_array_get(arr, i), GNN_F_NAME);
		len = s != NULL ? strlen(s) : 0;
		if (len > w)
			w = len;
	}
	return (int)w;
}

static void
print_ports(FILE *out, const json_t *prev, const json_t *cur, double dt)
{
	static const char *const keys[] = {GNN_F_RX_PACKETS, GNN_F_TX_PACKETS, GNN_F_RX_MISSED,
					   GNN_F_TX_DROPPED};
	const json_t *ports = json_object_get(cur, GNN_F_PORTS);
	const json_t *port, *link, *old;
	int w = name_width(ports, SIZE_MAX, "PORT");
	size_t i, k;

	fprintf(out, "\n%-*s %-7s %*s %*s %*s %*s  LINK\n", w, "PORT", "ROLE", RATE_W, "RX/s",
		RATE_W, "TX/s", RATE_W, "MISSED/s", RATE_W, "DROPPED/s");
	for (i = 0; i < json_array_size(ports); i++) {
		port = json_array_get(ports, i);
		old = find_named(json_object_get(prev, GNN_F_PORTS), field_str(port, GNN_F_NAME));
		print_name(out, field_str(port, GNN_F_NAME), w, false);
		fputc(' ', out);
		print_name(out, field_str(port, GNN_F_ROLE), 7, false);
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			print_rate(out, RATE_W, rate(old, port, keys[k], dt));
		link = json_object_get(port, GNN_F_LINK_UP);
		fprintf(out, "  %s\n",
			json_is_boolean(link) ? (json_is_true(link) ? "up" : "down") : "-");
	}
}

static void
print_totals(FILE *out, const json_t *prev, const json_t *cur, double dt)
{
	static const char *const keys[] = {
		GNN_F_RX_PACKETS,	   GNN_F_FORWARDED,  GNN_F_BLOCKED,
		GNN_F_WOULD_BLOCK,	   GNN_F_ALLOWED,    GNN_F_MALFORMED_DROPPED,
		GNN_F_MALFORMED_FORWARDED, GNN_F_TX_DROPPED,
	};
	const json_t *pt = json_object_get(prev, GNN_F_TOTALS);
	const json_t *ct = json_object_get(cur, GNN_F_TOTALS);
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
	json_t *mal = json_object_get(cur, GNN_F_MALFORMED);
	const char *key, *sep = " ";
	json_t *value;

	if (!json_is_object(mal))
		return;
	fprintf(out, "malformed since start:");
	json_object_foreach(mal, key, value)
	{
		fprintf(out, "%s", sep);
		put_clean(out, key, SIZE_MAX);
		print_count(out, 0, mal, key);
		sep = ", ";
	}
	fputc('\n', out);
}

/* How many members the request's filter kept: members_matched, or those sent. */
static json_int_t
members_matched(const json_t *cur)
{
	const json_t *m = json_object_get(cur, GNN_F_MEMBERS_MATCHED);
	json_int_t sent = (json_int_t)json_array_size(json_object_get(cur, GNN_F_MEMBERS));

	return json_is_integer(m) && json_integer_value(m) >= sent ? json_integer_value(m) : sent;
}

/*
 * A member's rate: gnnd's own over its last second when it sends one (with
 * "rates": true), else the difference to the same member in prev. None
 * across a restart of gnnd (dt 0).
 */
static double
member_rate(const json_t *old, const json_t *m, const char *key, const char *rate_key, double dt)
{
	double r;

	if (!(dt > 0))
		return NAN;
	if (field_num(m, rate_key, &r))
		return r >= 0 ? r : NAN;
	return rate(old, m, key, dt);
}

/*
 * The member table: the first show members of cur (gnnd sent them busiest
 * first), then a line counting the ones not shown. A row too wide for
 * f->cols loses the counts since start first, then the end of a long name.
 */
static void
print_members(FILE *out, const json_t *prev, const json_t *cur, double dt, size_t show,
	      const struct live_frame *f)
{
	static const char *const keys[] = {GNN_F_ALLOWED, GNN_F_BLOCKED, GNN_F_WOULD_BLOCK};
	static const char *const rate_keys[] = {GNN_F_ALLOWED_RATE, GNN_F_BLOCKED_RATE,
						GNN_F_WOULD_BLOCK_RATE};
	const json_t *members = json_object_get(cur, GNN_F_MEMBERS);
	json_int_t matched = members_matched(cur);
	const json_t *m, *old;
	bool counts = true;
	char num[32];
	int w;
	size_t i, k;

	if (show > json_array_size(members))
		show = json_array_size(members);
	w = name_width(members, show, "MEMBER");
	if (f->cols > 0 && w + MEMBER_REST > f->cols) {
		counts = false;
		if (w + MEMBER_RATES > f->cols)
			w = f->cols - MEMBER_RATES > NAME_MIN ? f->cols - MEMBER_RATES : NAME_MIN;
	}
	fprintf(out, "\n%-*s %-7s %*s %*s %*s", w, "MEMBER", "MODE", RATE_W, "ALLOWED/s", RATE_W,
		"BLOCKED/s", RATE_W + 2, "WOULD_BLK/s");
	if (counts)
		fprintf(out, " %*s %*s %*s", COUNT_W, "ALLOWED", COUNT_W, "BLOCKED", COUNT_W,
			"WOULD_BLOCK");
	fputc('\n', out);
	for (i = 0; i < show; i++) {
		m = json_array_get(members, i);
		old = find_named(json_object_get(prev, GNN_F_MEMBERS), field_str(m, GNN_F_NAME));
		print_name(out, field_str(m, GNN_F_NAME), w, true);
		fputc(' ', out);
		print_name(out, field_str(m, GNN_F_MODE), 7, false);
		for (k = 0; k < 3; k++)
			print_rate(out, k == 2 ? RATE_W + 2 : RATE_W,
				   member_rate(old, m, keys[k], rate_keys[k], dt));
		for (k = 0; counts && k < 3; k++)
			print_count(out, COUNT_W, m, keys[k]);
		fputc('\n', out);
	}
	if (matched > (json_int_t)show) {
		fprintf(out, "... %s %smembers",
			thousands(num, sizeof(num), matched - (json_int_t)show),
			show > 0 ? "more " : "");
		if (f->member != NULL) {
			fprintf(out, " match ");
			put_clean(out, f->member, SIZE_MAX);
			fprintf(out, "\n");
		} else {
			fprintf(out, "; -m PATTERN to filter\n");
		}
	} else if (matched == 0 && f->member != NULL) {
		fprintf(out, "(no member matches ");
		put_clean(out, f->member, SIZE_MAX);
		fprintf(out, ")\n");
	} else if (matched == 0) {
		fprintf(out, "(no members configured)\n");
	}
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

	if (field_num(prev, GNN_F_STARTED, &ps) && field_num(cur, GNN_F_STARTED, &cs) && ps != cs)
		return 0;
	if (field_num(prev, GNN_F_TIME, &pt) && field_num(cur, GNN_F_TIME, &ct) && ct > pt)
		return ct - pt;
	return local_dt;
}

/* Everything above the member table. */
static void
print_fixed(FILE *out, const json_t *prev, const json_t *cur, double dt)
{
	print_header(out, cur, dt);
	print_ports(out, prev, cur, dt);
	print_totals(out, prev, cur, dt);
	print_malformed(out, cur);
}

/* Lines the part above the member table takes for a snapshot shaped like cur. */
static size_t
fixed_lines(const json_t *cur)
{
	char *buf = NULL;
	size_t len = 0, lines = 0, i;
	FILE *mem = open_memstream(&buf, &len);

	if (mem == NULL)
		return 0;
	print_fixed(mem, cur, cur, 1);
	if (fclose(mem) != 0) {
		free(buf);
		return 0;
	}
	for (i = 0; i < len; i++)
		lines += buf[i] == '\n';
	free(buf);
	return lines;
}

/* Member rows (the "more" line included) a frame of f has room for below the rest. */
static size_t
member_room(size_t fixed, const struct live_frame *f)
{
	size_t budget = f->rows > 1 ? (size_t)f->rows - 1 : 1;

	/* The member table's blank line and titles take two. */
	return budget > fixed + 2 ? budget - fixed - 2 : 0;
}

size_t
view_live_member_rows(const json_t *cur, const struct live_frame *f)
{
	size_t room;

	if (f->rows <= 0)
		return f->max_members;
	room = member_room(cur != NULL ? fixed_lines(cur) : 0, f);
	return room > 0 ? room : 1;
}

/* At most cols columns of each line and rows - 1 lines of buf: the frame fits. */
static void
write_fitted(FILE *out, const char *buf, size_t len, const struct live_frame *f)
{
	size_t budget = f->rows > 1 ? (size_t)f->rows - 1 : 1, lines = 0, i = 0, col;
	const char *nl;
	size_t end;

	while (i < len && lines < budget) {
		nl = memchr(buf + i, '\n', len - i);
		end = nl != NULL ? (size_t)(nl - buf) : len;
		for (col = 0; i < end; i++) {
			/* a column per character: UTF-8 continuation bytes take none */
			if (((unsigned char)buf[i] & 0xc0) != 0x80 && f->cols > 0 &&
			    col++ >= (size_t)f->cols) {
				i = end;
				break;
			}
			fputc(buf[i], out);
		}
		fputc('\n', out);
		lines++;
		i = end + 1;
	}
}

void
view_live(FILE *out, const json_t *prev, const json_t *cur, double local_dt,
	  const struct live_frame *f)
{
	double dt = interval(prev, cur, local_dt);
	json_int_t matched = members_matched(cur);
	char *buf = NULL;
	size_t len = 0, room, show, i, fixed = 0;
	FILE *mem;

	if (f->rows <= 0) {
		/* Plain lines: everything above, then at most max_members of them. */
		print_fixed(out, prev, cur, dt);
		print_members(out, prev, cur, dt, f->max_members, f);
		return;
	}
	mem = open_memstream(&buf, &len);
	if (mem == NULL)
		return;
	print_fixed(mem, prev, cur, dt);
	fflush(mem);
	for (i = 0; i < len; i++)
		fixed += buf[i] == '\n';
	room = member_room(fixed, f);
	/* All of them when they fit; else one row fewer, for the line counting the rest. */
	show = matched <= (json_int_t)room ? room : (room > 0 ? room - 1 : 0);
	print_members(mem, prev, cur, dt, show, f);
	if (fclose(mem) == 0)
		write_fitted(out, buf, len, f);
	free(buf);
}
