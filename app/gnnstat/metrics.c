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
};

struct metric {
	const char *field; /* key in the section's object; NULL in a map section */
	const char *name;  /* metric family */
	const char *type;  /* counter | gauge */
	const char *help;
	enum value_kind kind;
};

enum section_shape {
	SECTION_OBJECT, /* one object: one sample per metric */
	SECTION_ARRAY,	/* objects: one sample per element, labelled from its fields */
	SECTION_MAP,	/* an object of numbers: one sample per key, the key a label */
};

struct label {
	const char *name;  /* label name */
	const char *field; /* the element's string field that gives its value */
};

#define MAX_LABELS 4

struct section {
	const char *key; /* in the snapshot; NULL: the snapshot's own fields */
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
	 "Generation of the ruleset in force; one more at each successful reload.", VALUE_NUMBER},
	{"reloads", "gnn_reloads_total", "counter",
	 "Successful reloads since gnnd started.", VALUE_NUMBER},
	{"reload_failures", "gnn_reload_failures_total", "counter",
	 "Refused reloads since gnnd started (the running rules stayed).", VALUE_NUMBER},
	{"last_error", "gnn_last_error", "gauge",
	 "1 while gnnd reports the error of a refused reload (gnnstat --json: last_error), else 0.",
	 VALUE_SET},
	{"last_reload", "gnn_last_reload_timestamp_seconds", "gauge",
	 "Unix time of the last successful reload; 0 when none since start.", VALUE_TIME},
	{"started", "gnn_start_time_seconds", "gauge",
	 "Unix time gnnd started; every counter counts from here.", VALUE_TIME},
	{"mbufs_in_use", "gnn_mbufs_in_use", "gauge",
	 "Packet buffers in use.", VALUE_NUMBER},
};

static const struct metric totals[] = {
	{"rx_packets", "gnn_rx_packets_total", "counter",
	 "Packets received on all ports.", VALUE_NUMBER},
	{"forwarded", "gnn_forwarded_total", "counter",
	 "Packets forwarded to the paired port (allowed and would-block ones included).",
	 VALUE_NUMBER},
	{"blocked", "gnn_blocked_total", "counter",
	 "Packets to blocked ports dropped (members in enforce mode).", VALUE_NUMBER},
	{"would_block", "gnn_would_block_total", "counter",
	 "Packets to blocked ports that monitor mode let through.", VALUE_NUMBER},
	{"allowed", "gnn_allowed_total", "counter",
	 "Packets to blocked ports from members' mail servers, forwarded.", VALUE_NUMBER},
	{"malformed_forwarded", "gnn_malformed_forwarded_total", "counter",
	 "Frames the parser could not judge, forwarded (not from an enforced member).",
	 VALUE_NUMBER},
	{"tx_dropped", "gnn_tx_dropped_total", "counter",
	 "Packets dropped because a TX ring was full.", VALUE_NUMBER},
	{"top_events_lost", "gnn_top_events_lost_total", "counter",
	 "Blocked-source events the top table never saw (its ring was full).", VALUE_NUMBER},
	/* malformed_dropped is the sum of gnn_malformed_dropped_total{reason}: not repeated */
};

static const struct metric malformed[] = {
	{NULL, "gnn_malformed_dropped_total", "counter",
	 "Frames dropped because the parser could not judge them, by reason.", VALUE_NUMBER},
};

static const struct metric ports[] = {
	{"rx_packets", "gnn_port_rx_packets_total", "counter",
	 "Packets received on the port.", VALUE_NUMBER},
	{"tx_packets", "gnn_port_tx_packets_total", "counter",
	 "Packets sent on the port.", VALUE_NUMBER},
	{"rx_missed", "gnn_port_rx_missed_total", "counter",
	 "Packets the NIC dropped for want of RX descriptors.", VALUE_NUMBER},
	{"tx_dropped", "gnn_port_tx_dropped_total", "counter",
	 "Packets that found the port's TX ring full.", VALUE_NUMBER},
	{"rx_nombuf", "gnn_port_rx_nombuf_total", "counter",
	 "RX mbuf allocation failures.", VALUE_NUMBER},
	{"link_up", "gnn_port_link_up", "gauge",
	 "1 when the port's link is up, else 0.", VALUE_NUMBER},
};

static const struct metric members[] = {
	{"blocked", "gnn_member_blocked_total", "counter",
	 "Packets to blocked ports from the member's hosts, dropped (enforce mode).",
	 VALUE_NUMBER},
	{"would_block", "gnn_member_would_block_total", "counter",
	 "Packets to blocked ports from the member's hosts that monitor mode let through.",
	 VALUE_NUMBER},
	{"allowed", "gnn_member_allowed_total", "counter",
	 "Packets to blocked ports from the member's mail servers, forwarded.", VALUE_NUMBER},
	{"mode", "gnn_member_mode", "gauge",
	 "The member's mode: 0 off, 1 monitor, 2 enforce.", VALUE_MODE},
};

static const struct label port_labels[] = {{"port", "name"}, {"role", "role"}, {NULL, NULL}};
static const struct label member_labels[] = {{"member", "name"}, {NULL, NULL}};
static const struct label reason_label[] = {{"reason", NULL}, {NULL, NULL}};

#define SECTION(key, shape, labels, table) {key, shape, labels, table, sizeof(table) / sizeof(table[0])}

/* In this order in the output. */
static const struct section sections[] = {
	SECTION(NULL, SECTION_OBJECT, NULL, scalars),
	SECTION("totals", SECTION_OBJECT, NULL, totals),
	SECTION("malformed", SECTION_MAP, reason_label, malformed),
	SECTION("ports", SECTION_ARRAY, port_labels, ports),
	SECTION("members", SECTION_ARRAY, member_labels, members),
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

static void
write_object(FILE *out, const struct section *sec, const json_t *obj)
{
	struct family f;
	size_t k;

	for (k = 0; k < sec->n_metrics; k++) {
		f = (struct family){&sec->metrics[k], false};
		write_sample(out, &f, json_object_get(obj, f.m->field), NULL, NULL, 0);
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

/*
 * Family by family, as the format wants each family's samples together. An
 * element without one of its label fields (a string) has no series.
 */
static void
write_array(FILE *out, const struct section *sec, const json_t *arr)
{
	const char *names[MAX_LABELS], *values[MAX_LABELS];
	const json_t *elem;
	struct family f;
	size_t k, i, l;

	for (k = 0; k < sec->n_metrics; k++) {
		f = (struct family){&sec->metrics[k], false};
		for (i = 0; i < json_array_size(arr); i++) {
			elem = json_array_get(arr, i);
			for (l = 0; l < MAX_LABELS && sec->labels[l].name != NULL; l++) {
				names[l] = sec->labels[l].name;
				values[l] = json_string_value(
					json_object_get(elem, sec->labels[l].field));
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
	const struct metric up = {NULL, "gnn_up", "gauge",
				  "1 when gnnd answered the stats request of this scrape, else 0.",
				  VALUE_NUMBER};
	const struct metric duration = {
		NULL, "gnn_scrape_duration_seconds", "gauge",
		"Seconds it took to get the snapshot from gnnd (or to give up).", VALUE_NUMBER};
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
		if (sec->shape == SECTION_OBJECT && json_is_object(part))
			write_object(out, sec, part);
		else if (sec->shape == SECTION_MAP && json_is_object(part))
			write_map(out, sec, part);
		else if (sec->shape == SECTION_ARRAY && json_is_array(part))
			write_array(out, sec, part);
	}
}
