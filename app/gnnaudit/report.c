/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The report (see report.h). The tables of lib/track give their JSON (the
 * replies of gnnstat top, servers and suggest); they are regrouped per
 * member into one object, which is printed as it is (--json) or as text.
 * In text, times are local, as date(1) and nfdump print them.
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "audit.h"
#include "parse/gnn_parse.h"
#include "policy/gnn_policy.h"
#include "report.h"
#include "track/gnn_track.h"

/* ---- the model ---- */

struct member_rows {
	json_t *senders;
	json_t *accepts;
	json_t *servers;
};

static json_t *
time_or_null(uint64_t ns)
{
	return ns > 0 ? json_real((double)ns / 1e9) : json_null();
}

static json_t *
copy_field(const json_t *from, const char *key)
{
	json_t *v = json_object_get(from, key);

	return v != NULL ? json_incref(v) : json_null();
}

static json_int_t
int_of(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

static const char *
str_of(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "-";
}

static int
member_of(const struct audit *a, const json_t *row)
{
	const char *name = json_string_value(json_object_get(row, "member"));

	return name != NULL ? gnn_policy_find_member(a->rs->policy, name) : -1;
}

static json_t **
rows_of(struct member_rows *rows, int m, size_t which)
{
	json_t **slot = which == 0   ? &rows[m].senders
			: which == 1 ? &rows[m].accepts
				     : &rows[m].servers;

	if (*slot == NULL)
		*slot = json_array();
	return slot;
}

static void
append(struct member_rows *rows, int m, size_t which, json_t *row)
{
	json_t **list = rows_of(rows, m, which);

	if (*list == NULL || row == NULL || json_array_append_new(*list, row) != 0)
		json_decref(row);
}

/* Heaviest first: attempts, then packets, then the address's text. */
static int
heavier(const void *x, const void *y)
{
	const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
	json_int_t aa = int_of(a, "attempts"), ba = int_of(b, "attempts");
	json_int_t ap = int_of(a, "packets"), bp = int_of(b, "packets");

	if (aa != ba)
		return aa < ba ? 1 : -1;
	if (ap != bp)
		return ap < bp ? 1 : -1;
	return strcmp(str_of(a, "address"), str_of(b, "address"));
}

static json_t *
sorted(json_t *list)
{
	size_t n = json_array_size(list), i;
	json_t **v = malloc(sizeof(*v) * (n + 1));
	json_t *out = json_array(), *row;

	if (v == NULL || out == NULL) {
		free(v);
		json_decref(out);
		return NULL;
	}
	json_array_foreach(list, i, row) v[i] = row;
	qsort(v, n, sizeof(*v), heavier);
	for (i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}

static json_t *
sender_row(const json_t *s, bool listed)
{
	return json_pack("{s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:o}", "address",
			 copy_field(s, listed ? "server" : "address"), "verdict",
			 listed ? json_string("allowed") : copy_field(s, "verdict"), "listed",
			 listed, "attempts", copy_field(s, "attempts"), "packets",
			 copy_field(s, "packets"), "destinations", copy_field(s, "destinations"),
			 "first_seen", copy_field(s, "first_seen"), "last_seen",
			 copy_field(s, "last_seen"));
}

static json_t *
accept_row(const json_t *h)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "address",
			 copy_field(h, "address"), "listed", copy_field(h, "listed"), "inbound",
			 copy_field(h, "inbound"), "packets", copy_field(h, "packets"), "peers",
			 copy_field(h, "peers"), "outbound_attempts",
			 copy_field(h, "outbound_attempts"), "first_seen",
			 copy_field(h, "first_seen"), "last_seen", copy_field(h, "last_seen"));
}

static json_t *
server_row(const json_t *s)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "server",
			 copy_field(s, "server"), "attempts", copy_field(s, "attempts"), "packets",
			 copy_field(s, "packets"), "destinations", copy_field(s, "destinations"),
			 "accepted", copy_field(s, "accepted"), "first_seen",
			 copy_field(s, "first_seen"), "last_seen", copy_field(s, "last_seen"),
			 "never", copy_field(s, "never"));
}

static json_t *
prefixes(const struct gnn_prefix *p, unsigned int n)
{
	json_t *list = json_array();
	char buf[64];

	for (unsigned int i = 0; i < n && list != NULL; i++)
		json_array_append_new(list,
				      json_string(gnn_prefix_format(&p[i], buf, sizeof(buf))));
	return list;
}

static json_t *
member_object(const struct audit *a, unsigned int m, const struct member_rows *r)
{
	const struct gnn_member *pm = &a->rs->policy->members[m];
	const struct gnn_member_counters *c = &a->stats.member[m];
	json_t *listed = prefixes(pm->mail_servers, pm->n_mail_servers);
	json_t *suggested = json_array(), *line = json_deep_copy(listed), *senders, *h;
	size_t i;

	senders = r->senders != NULL ? sorted(r->senders) : json_array();
	json_array_foreach(r->accepts, i, h)
	{
		if (!json_is_true(json_object_get(h, "listed"))) {
			json_array_append(suggested, json_object_get(h, "address"));
			json_array_append(line, json_object_get(h, "address"));
		}
	}
	return json_pack(
		"{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:{s:I, s:I, s:I}, s:o, s:o, s:o}", "member",
		pm->name, "mode", gnn_mode_name((enum gnn_mode)a->file_mode[m]), "judged_as",
		gnn_mode_name(pm->mode), "networks", prefixes(pm->networks, pm->n_networks),
		"listed", listed, "suggested", suggested, "mail_servers", line, "packets",
		"allowed", (json_int_t)c->c[GNN_MC_ALLOWED], "would_block",
		(json_int_t)c->c[GNN_MC_WOULD_BLOCK], "blocked", (json_int_t)c->c[GNN_MC_BLOCKED],
		"senders", senders, "accepts", r->accepts != NULL ? r->accepts : json_array(),
		"servers", r->servers != NULL ? r->servers : json_array());
	/* the caller lets go of r->accepts and r->servers: they are the member's now */
}

static bool
seen(const struct member_rows *r)
{
	const json_t *s;
	size_t i;

	if (json_array_size(r->senders) > 0 || json_array_size(r->accepts) > 0)
		return true;
	json_array_foreach(r->servers, i, s)
	{
		if (!json_is_true(json_object_get(s, "never")))
			return true;
	}
	return false;
}

static json_t *
inputs_json(const struct audit *a)
{
	json_t *list = json_array();

	for (unsigned int i = 0; i < a->n_inputs && list != NULL; i++) {
		const struct audit_input *in = &a->inputs[i];
		json_t *o = json_pack("{s:s, s:s, s:s?, s:I, s:b, s:b, s:s?}", "file", in->name,
				      "format", in->format, "link", in->link,
				      a->flows ? "flows" : "frames", (json_int_t)in->frames,
				      "truncated", in->truncated, "unreadable", in->unreadable,
				      "error", in->error);

		if (o == NULL)
			continue;
		if (a->flows) {
			json_object_set_new(o, "tcp_flows",
					    json_integer((json_int_t)in->flows_tcp));
			json_object_set_new(o, "malformed_lines",
					    json_integer((json_int_t)in->bad_lines));
		} else {
			json_object_set_new(o, "cut_by_snaplen", json_integer((json_int_t)in->cut));
			json_object_set_new(o, "link_header_cut",
					    json_integer((json_int_t)in->link_cut));
		}
		json_array_append_new(list, o);
	}
	return list;
}

static json_t *
unjudged_json(const struct audit *a)
{
	json_t *drop = json_object();
	uint64_t total = a->stats.malformed_forwarded;

	for (unsigned int r = 1; r < GNN_MALFORMED_MAX && drop != NULL; r++) {
		total += a->stats.malformed_dropped[r];
		if (a->stats.malformed_dropped[r] > 0)
			json_object_set_new(
				drop, gnn_parse_reason_name((enum gnn_malformed_reason)r),
				json_integer((json_int_t)a->stats.malformed_dropped[r]));
	}
	return json_pack("{s:I, s:o, s:I}", "frames", (json_int_t)total, "would_drop", drop,
			 "would_forward", (json_int_t)a->stats.malformed_forwarded);
}

static json_t *
build_model(const struct audit *a, int member)
{
	uint32_t slot = member < 0 ? GNN_TRACK_ALL_SLOTS : (uint32_t)member;
	unsigned int n = a->rs->policy->n_members, quiet = 0;
	json_t *top = gnn_track_top_json(a->track, slot, UINT_MAX, audit_slot_name, a->rs);
	json_t *servers = gnn_track_servers_json(a->track, slot, audit_slot_name, a->rs);
	json_t *accepts = gnn_track_accepts_json(a->track, slot, audit_slot_name, a->rs);
	struct member_rows *rows = calloc(n ? n : 1, sizeof(*rows));
	json_t *members = json_array(), *model = NULL, *errors = json_array(), *row;
	uint64_t total_tcp = 0;
	size_t i;

	if (top == NULL || servers == NULL || accepts == NULL || rows == NULL || members == NULL ||
	    errors == NULL)
		goto out;
	json_array_foreach(json_object_get(top, "sources"), i, row)
	{
		int m = member_of(a, row);

		if (m >= 0)
			append(rows, m, 0, sender_row(row, false));
	}
	json_array_foreach(json_object_get(servers, "servers"), i, row)
	{
		int m = member_of(a, row);

		if (m < 0)
			continue;
		append(rows, m, 2, server_row(row));
		if (int_of(row, "packets") > 0)
			append(rows, m, 0, sender_row(row, true));
	}
	json_array_foreach(json_object_get(accepts, "hosts"), i, row)
	{
		int m = member_of(a, row);

		if (m >= 0)
			append(rows, m, 1, accept_row(row));
	}
	for (unsigned int m = 0; m < n; m++) {
		if (member >= 0 && (int)m != member)
			continue;
		if (member < 0 && !seen(&rows[m])) {
			quiet++;
			continue;
		}
		json_array_append_new(members, member_object(a, m, &rows[m]));
		/* member_object took the arrays: */
		rows[m].accepts = rows[m].servers = NULL;
	}
	for (unsigned int k = 0; k < a->n_errors; k++)
		json_array_append_new(errors, json_string(a->errors[k]));
	for (unsigned int k = 0; k < a->n_inputs; k++)
		total_tcp += a->inputs[k].flows_tcp;
	model = json_pack(
		"{s:s, s:o, s:I, s:b, s:b, s:o, s:I, s:o, s:o, s:o, s:o, s:I, s:o}", "config",
		a->rs->policy->path, "inputs", inputs_json(a), a->flows ? "flows" : "frames",
		(json_int_t)a->frames, "truncated", false, "complete", !a->incomplete, "errors",
		errors, "errors_left_out", (json_int_t)a->errors_left_out, "first_seen",
		time_or_null(a->first_ns), "last_seen", time_or_null(a->last_ns), "unjudged",
		unjudged_json(a), "members", members, "members_quiet", (json_int_t)quiet, "tables",
		json_pack("{s:o, s:o, s:o, s:o, s:I}", "sources", copy_field(top, "tracked"),
			  "accepts", copy_field(accepts, "tracked"), "sources_evicted",
			  copy_field(top, "evicted"), "accepts_evicted",
			  copy_field(accepts, "evicted"), "records_lost",
			  (json_int_t)a->stats.records_lost));
	members = errors = NULL;
	if (model == NULL)
		goto out;
	for (unsigned int k = 0; k < a->n_inputs; k++)
		if (a->inputs[k].truncated)
			json_object_set_new(model, "truncated", json_true());
	if (a->flows)
		json_object_set_new(model, "tcp_flows", json_integer((json_int_t)total_tcp));
out:
	for (unsigned int m = 0; rows != NULL && m < n; m++) {
		json_decref(rows[m].senders);
		json_decref(rows[m].accepts);
		json_decref(rows[m].servers);
	}
	free(rows);
	json_decref(members);
	json_decref(errors);
	json_decref(top);
	json_decref(servers);
	json_decref(accepts);
	return model;
}

int
report_json(FILE *out, const struct audit *a, int member)
{
	json_t *model = build_model(a, member);

	if (model == NULL)
		return -ENOMEM;
	json_dumpf(model, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(model);
	return 0;
}

/* ---- text ---- */

#define MAX_COLS 8

struct table {
	unsigned int n_cols;
	const char *head[MAX_COLS];
	bool right[MAX_COLS];
	size_t width[MAX_COLS];
	size_t n_rows, cap;
	char **cells; /* n_rows * n_cols */
};

static void
table_init(struct table *t, const char *const *head, const bool *right, unsigned int n)
{
	memset(t, 0, sizeof(*t));
	t->n_cols = n;
	for (unsigned int c = 0; c < n; c++) {
		t->head[c] = head[c];
		t->right[c] = right[c];
		t->width[c] = strlen(head[c]);
	}
}

static void
table_row(struct table *t, ...)
{
	va_list ap;

	if (t->n_rows == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		char **grown = realloc(t->cells, sizeof(*grown) * cap * t->n_cols);

		if (grown == NULL)
			return;
		t->cells = grown;
		t->cap = cap;
	}
	va_start(ap, t);
	for (unsigned int c = 0; c < t->n_cols; c++) {
		char *cell = strdup(va_arg(ap, const char *));

		t->cells[t->n_rows * t->n_cols + c] = cell;
		if (cell != NULL && strlen(cell) > t->width[c])
			t->width[c] = strlen(cell);
	}
	va_end(ap);
	t->n_rows++;
}

static void
table_print_line(FILE *out, const struct table *t, const char *const *cells)
{
	fputs("    ", out);
	for (unsigned int c = 0; c < t->n_cols; c++) {
		const char *s = cells[c] != NULL ? cells[c] : "?";
		int w = (int)t->width[c];

		if (c + 1 == t->n_cols && !t->right[c])
			fprintf(out, "%s", s);
		else
			fprintf(out, t->right[c] ? "%*s" : "%-*s", w, s);
		fputs(c + 1 == t->n_cols ? "\n" : "  ", out);
	}
}

static void
table_print(FILE *out, struct table *t)
{
	table_print_line(out, t, t->head);
	for (size_t r = 0; r < t->n_rows; r++)
		table_print_line(out, t, (const char *const *)&t->cells[r * t->n_cols]);
	for (size_t k = 0; k < t->n_rows * t->n_cols; k++)
		free(t->cells[k]);
	free(t->cells);
	t->cells = NULL;
}

static const char *
when(const json_t *obj, const char *key, char *buf, size_t size)
{
	const json_t *v = json_object_get(obj, key);
	struct tm tm;
	time_t t;

	if (!json_is_number(v))
		return "-";
	t = (time_t)floor(json_number_value(v));
	if (localtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return "-";
	return buf;
}

static const char *
count(const json_t *obj, const char *key, char *buf, size_t size)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		return "-";
	snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return buf;
}

static const char *
verdict_words(const char *v)
{
	if (strcmp(v, "would_block") == 0)
		return "would block";
	return v;
}

static void
text_senders(FILE *out, const json_t *senders)
{
	static const char *const head[] = {"ADDRESS",	   "VERDICT",	 "ATTEMPTS", "PACKETS",
					   "DESTINATIONS", "FIRST SEEN", "LAST SEEN"};
	static const bool right[] = {false, false, true, true, true, false, false};
	char at[24], p[24], d[24], f[32], l[32];
	const json_t *s;
	struct table t;
	size_t i;

	fprintf(out, "  sent to blocked ports: %zu %s\n", json_array_size(senders),
		json_array_size(senders) == 1 ? "host" : "hosts");
	if (json_array_size(senders) == 0)
		return;
	table_init(&t, head, right, 7);
	json_array_foreach(senders, i, s)
	{
		table_row(&t, str_of(s, "address"), verdict_words(str_of(s, "verdict")),
			  count(s, "attempts", at, sizeof(at)), count(s, "packets", p, sizeof(p)),
			  count(s, "destinations", d, sizeof(d)),
			  when(s, "first_seen", f, sizeof(f)), when(s, "last_seen", l, sizeof(l)));
	}
	table_print(out, &t);
}

static void
text_accepts(FILE *out, const json_t *accepts)
{
	static const char *const head[] = {"ADDRESS", "LISTED",	    "INBOUND",
					   "PEERS",   "FIRST SEEN", "LAST SEEN"};
	static const bool right[] = {false, false, true, true, false, false};
	char in[24], p[24], f[32], l[32];
	const json_t *h;
	struct table t;
	size_t i;

	fprintf(out, "  accepted inbound on blocked ports: %zu %s\n", json_array_size(accepts),
		json_array_size(accepts) == 1 ? "host" : "hosts");
	if (json_array_size(accepts) == 0)
		return;
	table_init(&t, head, right, 6);
	json_array_foreach(accepts, i, h)
	{
		table_row(&t, str_of(h, "address"),
			  json_is_true(json_object_get(h, "listed")) ? "yes" : "no",
			  count(h, "inbound", in, sizeof(in)), count(h, "peers", p, sizeof(p)),
			  when(h, "first_seen", f, sizeof(f)), when(h, "last_seen", l, sizeof(l)));
	}
	table_print(out, &t);
}

static void
text_member(FILE *out, const json_t *m)
{
	const json_t *v, *servers = json_object_get(m, "servers");
	const char *mode = str_of(m, "mode"), *sep = " ";
	size_t i, never = 0;

	fprintf(out, "\nmember %s (%s", str_of(m, "member"), mode);
	if (strcmp(mode, str_of(m, "judged_as")) != 0)
		fprintf(out, ", judged as %s", str_of(m, "judged_as"));
	fprintf(out, ")\n");
	text_senders(out, json_object_get(m, "senders"));
	text_accepts(out, json_object_get(m, "accepts"));
	json_array_foreach(servers, i, v) never += json_is_true(json_object_get(v, "never"));
	if (never > 0) {
		fprintf(out, "  listed, not seen sending:");
		json_array_foreach(servers, i, v)
		{
			if (json_is_true(json_object_get(v, "never"))) {
				fprintf(out, "%s%s", sep, str_of(v, "server"));
				sep = ", ";
			}
		}
		fputc('\n', out);
	}
	fprintf(out, "  mail_servers = [");
	sep = " ";
	json_array_foreach(json_object_get(m, "mail_servers"), i, v)
	{
		fprintf(out, "%s\"%s\"", sep, json_string_value(v));
		sep = ", ";
	}
	fprintf(out, " ];\n");
}

static void
text_header(FILE *out, const json_t *model, const struct audit *a)
{
	char f[32], l[32], zone[16];
	time_t now = time(NULL);
	struct tm tm;
	const json_t *v, *unjudged = json_object_get(model, "unjudged");
	size_t i;

	if (localtime_r(&now, &tm) == NULL || strftime(zone, sizeof(zone), "%Z", &tm) == 0)
		snprintf(zone, sizeof(zone), "local");
	fprintf(out, "%s: %u %s, %" PRIu64 " %s", str_of(model, "config"), a->n_inputs,
		a->flows ? (a->n_inputs == 1 ? "flow file" : "flow files")
			 : (a->n_inputs == 1 ? "capture" : "captures"),
		a->frames,
		a->flows ? (a->frames == 1 ? "flow" : "flows")
			 : (a->frames == 1 ? "frame" : "frames"));
	if (a->flows)
		fprintf(out, " (%" JSON_INTEGER_FORMAT " TCP)", int_of(model, "tcp_flows"));
	if (a->first_ns > 0)
		fprintf(out, ", %s to %s %s", when(model, "first_seen", f, sizeof(f)),
			when(model, "last_seen", l, sizeof(l)), zone);
	fputc('\n', out);
	json_array_foreach(json_object_get(model, "errors"), i, v)
		fprintf(out, "incomplete: %s\n", json_string_value(v));
	if (int_of(model, "errors_left_out") > 0)
		fprintf(out, "incomplete: %" JSON_INTEGER_FORMAT " more errors\n",
			int_of(model, "errors_left_out"));
	if (int_of(unjudged, "frames") > 0)
		fprintf(out,
			"%" JSON_INTEGER_FORMAT " %s could not be judged (headers cut or "
			"invalid; --json for reasons)\n",
			int_of(unjudged, "frames"),
			int_of(unjudged, "frames") == 1 ? "frame" : "frames");
}

int
report_text(FILE *out, const struct audit *a, int member)
{
	json_t *model = build_model(a, member), *m, *tables;
	size_t i;

	if (model == NULL)
		return -ENOMEM;
	text_header(out, model, a);
	json_array_foreach(json_object_get(model, "members"), i, m) text_member(out, m);
	if (int_of(model, "members_quiet") > 0)
		fprintf(out, "\n%" JSON_INTEGER_FORMAT " %s%s: nothing seen on blocked ports\n",
			int_of(model, "members_quiet"),
			json_array_size(json_object_get(model, "members")) > 0 ? "other " : "",
			int_of(model, "members_quiet") == 1 ? "member" : "members");
	tables = json_object_get(model, "tables");
	if (int_of(tables, "sources_evicted") > 0 || int_of(tables, "accepts_evicted") > 0)
		fprintf(out,
			"tables full: %" JSON_INTEGER_FORMAT " senders and %" JSON_INTEGER_FORMAT
			" accepting hosts made room for others (counts may be short)\n",
			int_of(tables, "sources_evicted"), int_of(tables, "accepts_evicted"));
	json_decref(model);
	return 0;
}
