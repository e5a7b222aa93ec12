/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * gnnd's stats snapshot as Prometheus text exposition. Everything that turns
 * a JSON field into a metric is in the tables below: a new field of gnnd is
 * one new row (a new object or array of the snapshot, one new section).
 *
 * Conventions: the gnn_ prefix; counters end in _total; times are seconds;
 * the labels of a counter never include something that can change while the
 * thing counted stays the same (a member's mode is its own gauge, so that
 * switching a member from monitor to enforce keeps its counter series).
 * The totals are separate metrics rather than one gnn_packets_total{verdict}:
 * they overlap (allowed and would-block packets are forwarded packets too),
 * and a label whose values overlap would make sum() count packets twice.
 */

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "metrics.h"

enum value_kind {
	VALUE_NUMBER, /* a JSON number, or a boolean as 1 or 0 */
	VALUE_TIME,   /* Unix seconds; null ("never") is 0 */
	VALUE_SET,    /* 1 when a string, 0 when null */
	VALUE_MODE,   /* a member's mode name, see modes[] */
	VALUE_INFO,   /* a string: 1, the string the value of the metric's label */
};

struct metric {
	const char *field; /* key in the section's object; NULL in a map section */
	const char *name;  /* metric family; rows of one family follow each other */
	const char *type;  /* counter | gauge */
	const char *help;
	enum value_kind kind;
	/* A label of this row's sample: name and fixed value (e.g. family="ipv4"),
	 * or, VALUE_INFO, name only: the value is the field's string. */
	const char *label;
	const char *label_value;
};

enum section_shape {
	SECTION_OBJECT, /* one object: one sample per metric */
	SECTION_ARRAY,	/* objects: one sample per element, labelled from its fields */
	SECTION_MAP,	/* an object of numbers: one sample per key, the key a label */
};

struct label {
	const char *name;  /* label name */
	const char *field; /* the element's field that gives its value: a string or an integer */
};

#define MAX_LABELS 4

struct section {
	const char *key; /* in the snapshot; NULL: the snapshot's own fields */
	const char *sub; /* in that object, or NULL: key itself */
	enum section_shape shape;
	/* ARRAY: the labels of every element, up to MAX_LABELS, ended by {NULL};
	 * MAP: one, whose value is the key (field unused). */
	const struct label *labels;
	const struct metric *metrics;
	size_t n_metrics;
};

/* Mode names in gauge order: gnn_member_mode is the index. */
static const char *const modes[] = {"off", "monitor", "enforce"};

/* clang-format off */
static const struct metric scalars[] = {
	{"generation", "gnn_generation", "gauge",
	 "Generation of the ruleset in force; one more at each successful reload.", VALUE_NUMBER, NULL, NULL},
	{"reloads", "gnn_reloads_total", "counter",
	 "Successful reloads since gnnd started.", VALUE_NUMBER, NULL, NULL},
	{"reload_failures", "gnn_reload_failures_total", "counter",
	 "Refused reloads since gnnd started (the running rules stayed).", VALUE_NUMBER, NULL, NULL},
	{"last_error", "gnn_last_error", "gauge",
	 "1 while gnnd reports the error of a refused reload (gnnstat --json: last_error), else 0.",
	 VALUE_SET, NULL, NULL},
	{"last_reload", "gnn_last_reload_timestamp_seconds", "gauge",
	 "Unix time of the last successful reload; 0 when none since start.", VALUE_TIME, NULL, NULL},
	{"started", "gnn_start_time_seconds", "gauge",
	 "Unix time gnnd started; every counter counts from here.", VALUE_TIME, NULL, NULL},
	{"mbufs_in_use", "gnn_mbufs_in_use", "gauge",
	 "Packet buffers in use.", VALUE_NUMBER, NULL, NULL},
	{"reload_in_progress", "gnn_reload_in_progress", "gauge",
	 "1 while gnnd builds a new ruleset (a reload or a diff), else 0.", VALUE_NUMBER, NULL, NULL},
};

static const struct metric totals[] = {
	{"rx_packets", "gnn_rx_packets_total", "counter",
	 "Packets received on all ports.", VALUE_NUMBER, NULL, NULL},
	{"forwarded", "gnn_forwarded_total", "counter",
	 "Packets forwarded to the paired port (allowed and would-block ones included).",
	 VALUE_NUMBER, NULL, NULL},
	{"blocked", "gnn_blocked_total", "counter",
	 "Packets to blocked ports dropped (members in enforce mode).", VALUE_NUMBER, NULL, NULL},
	{"would_block", "gnn_would_block_total", "counter",
	 "Packets to blocked ports that monitor mode let through.", VALUE_NUMBER, NULL, NULL},
	{"allowed", "gnn_allowed_total", "counter",
	 "Packets to blocked ports from members' mail servers, forwarded.", VALUE_NUMBER, NULL, NULL},
	{"malformed_forwarded", "gnn_malformed_forwarded_total", "counter",
	 "Frames the parser could not judge, forwarded (not from an enforced member).",
	 VALUE_NUMBER, NULL, NULL},
	{"tx_dropped", "gnn_tx_dropped_total", "counter",
	 "Packets dropped because a TX ring was full.", VALUE_NUMBER, NULL, NULL},
	{"top_events_lost", "gnn_top_events_lost_total", "counter",
	 "Blocked-source events the top table never saw (its ring was full).", VALUE_NUMBER, NULL, NULL},
	/* malformed_dropped is the sum of gnn_malformed_dropped_total{reason}: not repeated */
};

static const struct metric malformed[] = {
	{NULL, "gnn_malformed_dropped_total", "counter",
	 "Frames dropped because the parser could not judge them, by reason.", VALUE_NUMBER, NULL, NULL},
};

static const struct metric ports[] = {
	{"rx_packets", "gnn_port_rx_packets_total", "counter",
	 "Packets received on the port.", VALUE_NUMBER, NULL, NULL},
	{"tx_packets", "gnn_port_tx_packets_total", "counter",
	 "Packets sent on the port.", VALUE_NUMBER, NULL, NULL},
	{"rx_missed", "gnn_port_rx_missed_total", "counter",
	 "Packets the NIC dropped for want of RX descriptors.", VALUE_NUMBER, NULL, NULL},
	{"tx_dropped", "gnn_port_tx_dropped_total", "counter",
	 "Packets that found the port's TX ring full.", VALUE_NUMBER, NULL, NULL},
	{"rx_nombuf", "gnn_port_rx_nombuf_total", "counter",
	 "RX mbuf allocation failures.", VALUE_NUMBER, NULL, NULL},
	{"link_up", "gnn_port_link_up", "gauge",
	 "1 when the port's link is up, else 0.", VALUE_NUMBER, NULL, NULL},
};

static const struct metric members[] = {
	{"blocked", "gnn_member_blocked_total", "counter",
	 "Packets to blocked ports from the member's hosts, dropped (enforce mode).",
	 VALUE_NUMBER, NULL, NULL},
	{"would_block", "gnn_member_would_block_total", "counter",
	 "Packets to blocked ports from the member's hosts that monitor mode let through.",
	 VALUE_NUMBER, NULL, NULL},
	{"allowed", "gnn_member_allowed_total", "counter",
	 "Packets to blocked ports from the member's mail servers, forwarded.", VALUE_NUMBER, NULL, NULL},
	{"mode", "gnn_member_mode", "gauge",
	 "The member's mode: 0 off, 1 monitor, 2 enforce.", VALUE_MODE, NULL, NULL},
};

static const struct metric datapath[] = {
	{"records_lost", "gnn_records_lost_total", "counter",
	 "Source records the workers could not hand to the control lcore (its ring was full).",
	 VALUE_NUMBER, NULL, NULL},
	{"sightings_lost", "gnn_sightings_lost_total", "counter",
	 "New-source events the workers could not hand to the control lcore.", VALUE_NUMBER, NULL, NULL},
	{"rejects_sent", "gnn_rejects_sent_total", "counter",
	 "TCP resets sent in answer to blocked SYNs (members with action reject).", VALUE_NUMBER, NULL, NULL},
	{"rejects_limited", "gnn_rejects_limited_total", "counter",
	 "Blocked SYNs of reject members left unanswered (rate limit, or no buffer).",
	 VALUE_NUMBER, NULL, NULL},
	{"cache_hits", "gnn_cache_hits_total", "counter",
	 "Candidate packets judged from the workers' verdict cache.", VALUE_NUMBER, NULL, NULL},
	{"cache_misses", "gnn_cache_misses_total", "counter",
	 "Candidate packets that needed a lookup in the rules.", VALUE_NUMBER, NULL, NULL},
	{"classify_alg", "gnn_classify_info", "gauge",
	 "Always 1; algorithm: the rte_acl classify method in use.", VALUE_INFO, "algorithm", NULL},
	{"sources_tracked", "gnn_sources_tracked", "gauge",
	 "Sources in the table behind gnnstat top.", VALUE_NUMBER, NULL, NULL},
	{"accepts_tracked", "gnn_accepts_tracked", "gauge",
	 "Hosts in the table of accepted inbound connections (gnnstat suggest).", VALUE_NUMBER, NULL, NULL},
	{"servers_tracked", "gnn_servers_tracked", "gauge",
	 "Listed mail servers in the table behind gnnstat servers.", VALUE_NUMBER, NULL, NULL},
	{"evicted", "gnn_sources_evicted_total", "counter",
	 "Table entries (sources, accepts) that made room for new ones.", VALUE_NUMBER, NULL, NULL},
	{"aged", "gnn_sources_aged_total", "counter",
	 "Table entries forgotten for age.", VALUE_NUMBER, NULL, NULL},
	{"stale_records", "gnn_stale_records_total", "counter",
	 "Source records from a ruleset too old to name their server, not counted.",
	 VALUE_NUMBER, NULL, NULL},
	{"workers", "gnn_workers", "gauge",
	 "Worker lcores forwarding.", VALUE_NUMBER, NULL, NULL},
};

static const struct metric workers[] = {
	{"rx_packets", "gnn_worker_rx_packets_total", "counter",
	 "Packets the worker received, all its queues.", VALUE_NUMBER, NULL, NULL},
	{"tx_packets", "gnn_worker_tx_packets_total", "counter",
	 "Packets the worker sent.", VALUE_NUMBER, NULL, NULL},
	{"queues", "gnn_worker_queues", "gauge",
	 "RX queues the worker polls.", VALUE_NUMBER, NULL, NULL},
};

static const struct metric rules[] = {
	{"members", "gnn_members", "gauge",
	 "Members in the ruleset in force (every one, whatever the exporter's --members).",
	 VALUE_NUMBER, NULL, NULL},
	{"servers", "gnn_mail_servers", "gauge",
	 "mail_servers entries in the ruleset in force.", VALUE_NUMBER, NULL, NULL},
	{"rules_ipv4", "gnn_acl_rules", "gauge",
	 "Rules in the ACL contexts of the ruleset in force, by address family.", VALUE_NUMBER,
	 "family", "ipv4"},
	{"rules_ipv6", "gnn_acl_rules", "gauge",
	 "Rules in the ACL contexts of the ruleset in force, by address family.", VALUE_NUMBER,
	 "family", "ipv6"},
	{"acl_memory", "gnn_acl_memory_bytes", "gauge",
	 "Bytes of the ACL contexts of the ruleset in force.", VALUE_NUMBER, NULL, NULL},
	{"build_seconds", "gnn_build_seconds", "gauge",
	 "Seconds the last successful build of the rules took (start or reload).",
	 VALUE_NUMBER, NULL, NULL},
};

static const struct label port_labels[] = {{"port", "name"}, {"role", "role"}, {NULL, NULL}};
static const struct label member_labels[] = {{"member", "name"}, {NULL, NULL}};
static const struct label worker_labels[] = {{"lcore", "lcore"}, {NULL, NULL}};
static const struct label reason_label[] = {{"reason", NULL}, {NULL, NULL}};

#define SECTION(key, sub, shape, labels, table) \
	{key, sub, shape, labels, table, sizeof(table) / sizeof(table[0])}

/* In this order in the output. */
static const struct section sections[] = {
	SECTION(NULL, NULL, SECTION_OBJECT, NULL, scalars),
	SECTION("totals", NULL, SECTION_OBJECT, NULL, totals),
	SECTION("malformed", NULL, SECTION_MAP, reason_label, malformed),
	SECTION("datapath", NULL, SECTION_OBJECT, NULL, datapath),
	SECTION("datapath", "per_worker", SECTION_ARRAY, worker_labels, workers),
	SECTION("rules", NULL, SECTION_OBJECT, NULL, rules),
	SECTION("ports", NULL, SECTION_ARRAY, port_labels, ports),
	SECTION("members", NULL, SECTION_ARRAY, member_labels, members),
};
/* clang-format on */

/* ---- output ---- */

/* Label values escape backslash, double quote and newline, nothing else. */
static void
write_label_value(FILE *out, const char *s)
{
	size_t run;

	while (*s != '\0') {
		run = strcspn(s, "\\\"\n");
		fwrite(s, 1, run, out);
		s += run;
		if (*s == '\0')
			break;
		fputs(*s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : "\\n", out);
		s++;
	}
}

/* The shortest of %.15g and %.17g that reads back as the same double. */
static void
format_double(char *buf, size_t len, double v)
{
	snprintf(buf, len, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, len, "%.17g", v);
}

/* v as a sample value into buf; false when v is not a value of this kind. */
static bool
format_value(char *buf, size_t len, const json_t *v, enum value_kind kind)
{
	const char *s;
	size_t i;

	switch (kind) {
	case VALUE_TIME:
		if (json_is_null(v)) {
			snprintf(buf, len, "0");
			return true;
		}
		/* fall through */
	case VALUE_NUMBER:
		if (json_is_integer(v))
			snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		else if (json_is_real(v))
			format_double(buf, len, json_real_value(v));
		else if (json_is_boolean(v))
			snprintf(buf, len, "%d", json_is_true(v) ? 1 : 0);
		else
			return false;
		return true;
	case VALUE_SET:
		if (!json_is_string(v) && !json_is_null(v))
			return false;
		snprintf(buf, len, "%d", json_is_string(v) ? 1 : 0);
		return true;
	case VALUE_INFO:
		if (!json_is_string(v))
			return false;
		snprintf(buf, len, "1");
		return true;
	case VALUE_MODE:
		s = json_string_value(v);
		for (i = 0; s != NULL && i < sizeof(modes) / sizeof(modes[0]); i++) {
			if (strcmp(s, modes[i]) == 0) {
				snprintf(buf, len, "%zu", i);
				return true;
			}
		}
		return false;
	}
	return false;
}

struct family {
	const struct metric *m;
	bool shown; /* HELP and TYPE written */
};

/*
 * One sample of family f from the JSON value v, with n label pairs
 * (names[i], values[i]). Nothing when v is no value of the family's kind: a
 * gap is better than a made-up zero.
 */
static void
write_sample(FILE *out, struct family *f, const json_t *v, const char *const *names,
	     const char *const *values, size_t n)
{
	char value[64];
	size_t i;

	if (v == NULL || !format_value(value, sizeof(value), v, f->m->kind))
		return;
	if (!f->shown) {
		fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", f->m->name, f->m->help, f->m->name,
			f->m->type);
		f->shown = true;
	}
	fputs(f->m->name, out);
	for (i = 0; i < n; i++) {
		fprintf(out, "%c%s=\"", i == 0 ? '{' : ',', names[i]);
		write_label_value(out, values[i]);
		fputc('"', out);
	}
	if (n > 0)
		fputc('}', out);
	fputc(' ', out);
	fputs(value, out);
	fputc('\n', out);
}

/*
 * One sample per row; a row's own label (a fixed one, or an info metric's
 * string). Consecutive rows of one family share its HELP and TYPE.
 */
static void
write_object(FILE *out, const struct section *sec, const json_t *obj)
{
	struct family f = {NULL, false};
	const char *names[1], *values[1];
	const struct metric *m;
	const json_t *v;
	size_t k;

	for (k = 0; k < sec->n_metrics; k++) {
		m = &sec->metrics[k];
		if (f.m == NULL || strcmp(f.m->name, m->name) != 0)
			f.shown = false;
		f.m = m;
		v = json_object_get(obj, m->field);
		if (m->label == NULL) {
			write_sample(out, &f, v, NULL, NULL, 0);
			continue;
		}
		names[0] = m->label;
		values[0] = m->kind == VALUE_INFO ? json_string_value(v) : m->label_value;
		if (values[0] != NULL)
			write_sample(out, &f, v, names, values, 1);
	}
}

static void
write_map(FILE *out, const struct section *sec, json_t *obj)
{
	const char *names[1] = {sec->labels[0].name};
	const char *values[1];
	struct family f = {&sec->metrics[0], false};
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		values[0] = key;
		write_sample(out, &f, v, names, values, 1);
	}
}

/* A label's value from a string or an integer field; NULL when it is neither. */
static const char *
label_value(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (!json_is_integer(v))
		return NULL;
	snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return buf;
}

/*
 * Family by family, as the format wants each family's samples together. An
 * element without one of its label fields (a string or an integer) has no
 * series.
 */
static void
write_array(FILE *out, const struct section *sec, const json_t *arr)
{
	const char *names[MAX_LABELS], *values[MAX_LABELS];
	char numbers[MAX_LABELS][24];
	const json_t *elem;
	struct family f;
	size_t k, i, l;

	for (k = 0; k < sec->n_metrics; k++) {
		f = (struct family){&sec->metrics[k], false};
		for (i = 0; i < json_array_size(arr); i++) {
			elem = json_array_get(arr, i);
			for (l = 0; l < MAX_LABELS && sec->labels[l].name != NULL; l++) {
				names[l] = sec->labels[l].name;
				values[l] = label_value(json_object_get(elem, sec->labels[l].field),
							numbers[l], sizeof(numbers[l]));
				if (values[l] == NULL)
					break;
			}
			if (l < MAX_LABELS && sec->labels[l].name != NULL)
				continue;
			write_sample(out, &f, json_object_get(elem, f.m->field), names, values, l);
		}
	}
}

void
metrics_write(FILE *out, const json_t *stats, double scrape_seconds)
{
	const struct metric up = {
		NULL,	      "gnn_up",
		"gauge",      "1 when gnnd answered the stats request of this scrape, else 0.",
		VALUE_NUMBER, NULL,
		NULL};
	const struct metric duration = {
		NULL,	      "gnn_scrape_duration_seconds",
		"gauge",      "Seconds it took to get the snapshot from gnnd (or to give up).",
		VALUE_NUMBER, NULL,
		NULL};
	struct family f_up = {&up, false}, f_duration = {&duration, false};
	const struct section *sec;
	json_t *part, *v;
	size_t s;

	v = json_integer(stats != NULL ? 1 : 0);
	write_sample(out, &f_up, v, NULL, NULL, 0);
	json_decref(v);
	v = json_real(round(scrape_seconds * 1e6) / 1e6); /* microseconds are plenty */
	write_sample(out, &f_duration, v, NULL, NULL, 0);
	json_decref(v);
	if (stats == NULL)
		return;
	for (s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		sec = &sections[s];
		if (sec->key == NULL) {
			write_object(out, sec, stats);
			continue;
		}
		part = json_object_get(stats, sec->key);
		if (sec->sub != NULL)
			part = json_object_get(part, sec->sub);
		if (sec->shape == SECTION_OBJECT && json_is_object(part))
			write_object(out, sec, part);
		else if (sec->shape == SECTION_MAP && json_is_object(part))
			write_map(out, sec, part);
		else if (sec->shape == SECTION_ARRAY && json_is_array(part))
			write_array(out, sec, part);
	}
}
