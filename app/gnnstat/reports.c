/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The operator's lifecycle as text: top, servers, suggest and diff, each
 * from gnnd's reply to the command of that name (docs/design.md, "The
 * operator's lifecycle"). Times are local. A field gnnd did not send shows
 * as "-".
 */

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "fields.h"
#include "table.h"
#include "view.h"

#define TIME_LEN  32
#define COUNT_LEN 24

static const char *
plural(json_int_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static json_int_t
int_field(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

/* ---- top ---- */

static const struct table_column top_cols[] = {
	{"ADDRESS", TABLE_LEFT},    {"MEMBER", TABLE_LEFT},    {"VERDICT", TABLE_LEFT},
	{"ATTEMPTS", TABLE_RIGHT},  {"PACKETS", TABLE_RIGHT},  {"DESTINATIONS", TABLE_RIGHT},
	{"FIRST SEEN", TABLE_LEFT}, {"LAST SEEN", TABLE_LEFT},
};

void
view_top(FILE *out, const json_t *top, const char *member)
{
	const json_t *sources = json_object_get(top, "sources");
	struct table *t = table_new(top_cols, sizeof(top_cols) / sizeof(top_cols[0]));
	char a[COUNT_LEN], p[COUNT_LEN], d[COUNT_LEN], first[TIME_LEN], last[TIME_LEN];
	char tracked[COUNT_LEN], cap[COUNT_LEN], evicted[COUNT_LEN], aged[COUNT_LEN];
	size_t i, short_counts = 0;
	const json_t *s;

	json_array_foreach(sources, i, s)
	{
		table_cell(t, "%s", or_dash(field_str(s, "address")));
		table_cell(t, "%s", or_dash(field_str(s, "member")));
		table_cell(t, "%s", or_dash(field_str(s, "verdict")));
		table_cell(t, "%s", field_count(a, sizeof(a), s, "attempts"));
		table_cell(t, "%s", field_count(p, sizeof(p), s, "packets"));
		table_cell(t, "%s", field_count(d, sizeof(d), s, "destinations"));
		table_cell(t, "%s", field_time(first, sizeof(first), s, "first_seen", "-"));
		table_cell(t, "%s", field_time(last, sizeof(last), s, "last_seen", "-"));
		if (int_field(s, "attempts_error") > 0)
			short_counts++;
	}
	if (json_array_size(sources) == 0) {
		if (member != NULL)
			fprintf(out, "no blocked or would-be blocked sources of member %s\n",
				member);
		else
			fprintf(out, "no blocked or would-be blocked sources\n");
	} else {
		table_print(out, t, 0);
	}
	table_free(t);
	if (short_counts > 0)
		fprintf(out,
			"%zu of these came in while the table was full: their attempts may be "
			"short "
			"by up to attempts_error (--json)\n",
			short_counts);
	fprintf(out, "%zu shown; tracked %s of capacity %s (all members), evicted %s, aged %s\n",
		json_array_size(sources), field_count(tracked, sizeof(tracked), top, "tracked"),
		field_count(cap, sizeof(cap), top, "capacity"),
		field_count(evicted, sizeof(evicted), top, "evicted"),
		field_count(aged, sizeof(aged), top, "aged"));
}

/* ---- servers ---- */

static const struct table_column server_cols[] = {
	{"MEMBER", TABLE_LEFT},	  {"SERVER", TABLE_LEFT},    {"ATTEMPTS", TABLE_RIGHT},
	{"PACKETS", TABLE_RIGHT}, {"ACCEPTED", TABLE_RIGHT}, {"LAST SEEN", TABLE_LEFT},
	{"LOADED", TABLE_LEFT},
};

/* Not seen sending since the entry was loaded: gnnd's flag, else no last_seen. */
static bool
never_sent(const json_t *s)
{
	const json_t *never = json_object_get(s, "never");

	if (json_is_boolean(never))
		return json_is_true(never);
	return !json_is_number(json_object_get(s, "last_seen"));
}

void
view_servers(FILE *out, const json_t *servers, const char *member)
{
	const json_t *list = json_object_get(servers, "servers");
	struct table *t = table_new(server_cols, sizeof(server_cols) / sizeof(server_cols[0]));
	char a[COUNT_LEN], p[COUNT_LEN], acc[COUNT_LEN], last[TIME_LEN], loaded[TIME_LEN];
	size_t i, never = 0;
	const json_t *s;

	json_array_foreach(list, i, s)
	{
		bool n = never_sent(s);

		table_cell(t, "%s", or_dash(field_str(s, "member")));
		table_cell(t, "%s", or_dash(field_str(s, "server")));
		table_cell(t, "%s", field_count(a, sizeof(a), s, "attempts"));
		table_cell(t, "%s", field_count(p, sizeof(p), s, "packets"));
		table_cell(t, "%s", field_count(acc, sizeof(acc), s, "accepted"));
		table_cell(t, "%s",
			   n ? "never" : field_time(last, sizeof(last), s, "last_seen", "-"));
		table_cell(t, "%s", field_time(loaded, sizeof(loaded), s, "loaded", "-"));
		never += n;
	}
	if (json_array_size(list) == 0) {
		if (member != NULL)
			fprintf(out, "member %s lists no mail servers\n", member);
		else
			fprintf(out, "no member lists a mail server\n");
	} else {
		table_print(out, t, 0);
	}
	table_free(t);
	fprintf(out, "%zu of %zu listed %s never seen sending since loaded\n", never,
		json_array_size(list), json_array_size(list) == 1 ? "server" : "servers");
}

/* ---- suggest ---- */

static const struct table_column suggest_cols[] = {
	{"ADDRESS", TABLE_LEFT},   {"VERDICT", TABLE_LEFT},   {"INBOUND", TABLE_RIGHT},
	{"PEERS", TABLE_RIGHT},	   {"OUTBOUND", TABLE_RIGHT}, {"FIRST SEEN", TABLE_LEFT},
	{"LAST SEEN", TABLE_LEFT},
};

/* The line to paste: the listed entries in file order, then the suggested hosts. */
static void
print_mail_servers(FILE *out, const json_t *listed, const json_t *suggested)
{
	const char *sep = " ";
	const json_t *v;
	size_t i;

	fprintf(out, "mail_servers = [");
	json_array_foreach(listed, i, v)
	{
		if (json_is_string(v)) {
			fprintf(out, "%s\"%s\"", sep, json_string_value(v));
			sep = ", ";
		}
	}
	json_array_foreach(suggested, i, v)
	{
		if (field_str(v, "address") != NULL) {
			fprintf(out, "%s\"%s\"", sep, field_str(v, "address"));
			sep = ", ";
		}
	}
	fprintf(out, " ];\n");
}

static void
suggest_member(FILE *out, const json_t *m)
{
	const json_t *suggested = json_object_get(m, "suggested");
	struct table *t = table_new(suggest_cols, sizeof(suggest_cols) / sizeof(suggest_cols[0]));
	char in[COUNT_LEN], peers[COUNT_LEN], outb[COUNT_LEN], first[TIME_LEN], last[TIME_LEN];
	size_t i, n = json_array_size(suggested);
	const json_t *h;

	fprintf(out, "%s (%s): ", or_dash(field_str(m, "member")), or_dash(field_str(m, "mode")));
	if (n == 0)
		fprintf(out, "no unlisted host accepted connections on a blocked port\n");
	else
		fprintf(out, "%zu unlisted %s accepted connections on a blocked port\n", n,
			n == 1 ? "host" : "hosts");
	json_array_foreach(suggested, i, h)
	{
		table_cell(t, "%s", or_dash(field_str(h, "address")));
		table_cell(t, "%s", or_dash(field_str(h, "verdict")));
		table_cell(t, "%s", field_count(in, sizeof(in), h, "inbound"));
		table_cell(t, "%s", field_count(peers, sizeof(peers), h, "peers"));
		table_cell(t, "%s", field_count(outb, sizeof(outb), h, "outbound_attempts"));
		table_cell(t, "%s", field_time(first, sizeof(first), h, "first_seen", "-"));
		table_cell(t, "%s", field_time(last, sizeof(last), h, "last_seen", "-"));
	}
	if (n > 0)
		table_print(out, t, 2);
	table_free(t);
	print_mail_servers(out, json_object_get(m, "listed"), suggested);
}

void
view_suggest(FILE *out, const json_t *suggest, const char *member)
{
	const json_t *members = json_object_get(suggest, "members");
	const json_t *m;
	size_t i;

	if (json_array_size(members) == 0) {
		if (member != NULL)
			fprintf(out, "no member %s in the reply\n", member);
		else
			fprintf(out, "no unlisted host of any member accepted connections on a "
				     "blocked port\n");
		return;
	}
	json_array_foreach(members, i, m)
	{
		if (i > 0)
			fputc('\n', out);
		suggest_member(out, m);
	}
}

/* ---- diff ---- */

static const struct table_column diff_cols[] = {
	{"ADDRESS", TABLE_LEFT},   {"MEMBER", TABLE_LEFT},    {"WAS -> NOW", TABLE_LEFT},
	{"ATTEMPTS", TABLE_RIGHT}, {"LAST SEEN", TABLE_LEFT}, {"NOTE", TABLE_LEFT},
};

static void
diff_list(FILE *out, const json_t *diff, const char *key, const char *title)
{
	const json_t *list = json_object_get(diff, key);
	struct table *t = table_new(diff_cols, sizeof(diff_cols) / sizeof(diff_cols[0]));
	char a[COUNT_LEN], last[TIME_LEN];
	size_t i, n = json_array_size(list);
	const json_t *r;

	if (n == 0) {
		fprintf(out, "%s: none\n", title);
		table_free(t);
		return;
	}
	fprintf(out, "%s: %zu\n", title, n);
	json_array_foreach(list, i, r)
	{
		const char *was_m = field_str(r, "member"), *now_m = field_str(r, "new_member");

		table_cell(t, "%s", or_dash(field_str(r, "address")));
		if (json_object_get(r, "new_member") == NULL ||
		    (was_m != NULL && now_m != NULL && strcmp(was_m, now_m) == 0))
			table_cell(t, "%s", or_dash(was_m));
		else
			table_cell(t, "%s -> %s", was_m != NULL ? was_m : "(none)",
				   now_m != NULL ? now_m : "(none)");
		table_cell(t, "%s -> %s", or_dash(field_str(r, "was")),
			   or_dash(field_str(r, "now")));
		table_cell(t, "%s", field_count(a, sizeof(a), r, "attempts"));
		table_cell(t, "%s", field_time(last, sizeof(last), r, "last_seen", "-"));
		table_cell(t, "%s",
			   json_is_true(json_object_get(r, "accepted"))
				   ? "accepted inbound connections: a mail server?"
				   : "");
	}
	table_print(out, t, 2);
	table_free(t);
}

void
view_diff(FILE *out, const json_t *diff)
{
	json_int_t blocked = (json_int_t)json_array_size(json_object_get(diff, "newly_blocked"));
	json_int_t allowed = (json_int_t)json_array_size(json_object_get(diff, "newly_allowed"));
	json_int_t other = (json_int_t)json_array_size(json_object_get(diff, "other_changes"));
	char now[COUNT_LEN], next[COUNT_LEN], compared[COUNT_LEN];

	fprintf(out, "%s is valid; members: %s now, %s in the file\n",
		or_dash(field_str(diff, "config")),
		field_count(now, sizeof(now), diff, "members_now"),
		field_count(next, sizeof(next), diff, "members_new"));
	diff_list(out, diff, "newly_blocked", "newly blocked");
	diff_list(out, diff, "newly_allowed", "newly allowed");
	diff_list(out, diff, "other_changes", "other changes");
	fprintf(out,
		"%s sources compared: %" JSON_INTEGER_FORMAT " newly blocked, %" JSON_INTEGER_FORMAT
		" newly allowed, %" JSON_INTEGER_FORMAT " other %s\n",
		field_count(compared, sizeof(compared), diff, "compared"), blocked, allowed, other,
		plural(other, "change", "changes"));
}
