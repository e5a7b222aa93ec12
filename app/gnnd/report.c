/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Snapshots of the counters: the JSON object of the control socket (see
 * docs/design.md), the same numbers as DPDK telemetry commands under /gnn/, and
 * the summary printed at exit. Control-plane threads only.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "gnnd.h"

struct gnn_stats_total *
gnn_report_sum_workers(void)
{
	const struct gnn_lcore_stats *lcores[RTE_MAX_LCORE];
	struct gnn_stats_total *total = malloc(sizeof(*total));

	if (total == NULL)
		return NULL;
	for (unsigned int w = 0; w < gnnd.n_workers; w++)
		lcores[w] = &gnnd.workers[w]->stats;
	gnn_stats_sum(lcores, gnnd.n_workers, total);
	return total;
}

double
gnn_report_wall_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static json_t *
port_json(const struct gnn_port *port, const struct gnn_stats_total *t)
{
	struct rte_eth_stats es = {0};
	uint16_t id = port->port_id;

	rte_eth_stats_get(id, &es);
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:b}", "name", port->name, "role",
			 port->inside ? "inside" : "outside", "rx_packets",
			 (json_int_t)t->port_rx[id], "tx_packets", (json_int_t)t->port_tx[id],
			 "rx_missed", (json_int_t)es.imissed, "tx_dropped",
			 (json_int_t)t->port_tx_dropped[id], "rx_nombuf", (json_int_t)es.rx_nombuf,
			 "link_up", gnn_port_link_state(id) > 0);
}

static json_t *
members_json(const struct gnn_stats_total *t)
{
	const struct gnn_ruleset *rs = gnn_active_ruleset();
	json_t *members = json_array();

	for (uint32_t m = 0; rs != NULL && m < rs->n_members; m++) {
		uint64_t c[GNN_MC_MAX];

		gnn_ctrl_member_counters(t, rs->members[m].slot, c);
		json_array_append_new(members,
				      json_pack("{s:s, s:s, s:I, s:I, s:I}", "name",
						rs->policy->members[m].name, "mode",
						gnn_mode_name(rs->policy->members[m].mode),
						"allowed", (json_int_t)c[GNN_MC_ALLOWED], "blocked",
						(json_int_t)c[GNN_MC_BLOCKED], "would_block",
						(json_int_t)c[GNN_MC_WOULD_BLOCK]));
	}
	return members;
}

json_t *
gnn_report_stats(void)
{
	struct gnn_stats_total *t;
	uint64_t reloads, failures;
	const char *last_error;
	double started, last_reload;
	json_t *root, *ports, *malformed;

	/* Shutting down (gnn_ctrl_fini): workers, ports and pools are going away. */
	if (gnn_active_ruleset() == NULL)
		return NULL;
	t = gnn_report_sum_workers();
	if (t == NULL)
		return NULL;
	gnn_ctrl_reload_state(&reloads, &failures, &last_error, &started, &last_reload);
	ports = json_array();
	for (unsigned int p = 0; p < gnnd.n_ports; p++)
		json_array_append_new(ports, port_json(&gnnd.ports[p], t));
	malformed = json_object();
	for (int r = GNN_MALFORMED_NONE + 1; r < GNN_MALFORMED_MAX; r++)
		json_object_set_new(malformed, gnn_parse_reason_name(r),
				    json_integer((json_int_t)t->malformed_dropped[r]));
	root = json_pack(
		"{s:I, s:I, s:I, s:s?, s:o, s:f, s:f, s:I, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, "
		"s:I, s:I, s:I}, s:o, s:o}",
		"generation", (json_int_t)gnn_active_ruleset()->generation, "reloads",
		(json_int_t)reloads, "reload_failures", (json_int_t)failures, "last_error",
		last_error, "last_reload", last_reload > 0 ? json_real(last_reload) : json_null(),
		"started", started, "time", gnn_report_wall_time(), "mbufs_in_use",
		(json_int_t)gnn_ports_mbufs_in_use(), "ports", ports, "totals", "rx_packets",
		(json_int_t)t->rx_packets, "forwarded", (json_int_t)t->forwarded, "blocked",
		(json_int_t)t->blocked, "would_block", (json_int_t)t->would_block, "allowed",
		(json_int_t)t->allowed, "malformed_dropped", (json_int_t)t->malformed_total,
		"malformed_forwarded", (json_int_t)t->malformed_forwarded, "tx_dropped",
		(json_int_t)t->tx_dropped,
		/* blocked-source events the top table never saw (ring full) */
		"top_events_lost", (json_int_t)t->top_lost, "malformed", malformed, "members",
		members_json(t));
	free(t);
	return root;
}

void
gnn_report_print_summary(void)
{
	json_t *s = gnn_report_stats();
	json_t *v, *totals;
	size_t i;

	if (s == NULL)
		return;
	totals = json_object_get(s, "totals");
	printf("gnnd: final statistics (generation %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT
	       " reloads, %" JSON_INTEGER_FORMAT " failed)\n",
	       json_integer_value(json_object_get(s, "generation")),
	       json_integer_value(json_object_get(s, "reloads")),
	       json_integer_value(json_object_get(s, "reload_failures")));
	json_array_foreach(json_object_get(s, "ports"), i, v)
	{
		printf("  port %-20s %-7s rx %" JSON_INTEGER_FORMAT " tx %" JSON_INTEGER_FORMAT
		       " missed %" JSON_INTEGER_FORMAT " tx_dropped %" JSON_INTEGER_FORMAT "\n",
		       json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "role")),
		       json_integer_value(json_object_get(v, "rx_packets")),
		       json_integer_value(json_object_get(v, "tx_packets")),
		       json_integer_value(json_object_get(v, "rx_missed")),
		       json_integer_value(json_object_get(v, "tx_dropped")));
	}
	printf("  total rx %" JSON_INTEGER_FORMAT " forwarded %" JSON_INTEGER_FORMAT
	       " blocked %" JSON_INTEGER_FORMAT " would_block %" JSON_INTEGER_FORMAT
	       " allowed %" JSON_INTEGER_FORMAT " malformed_dropped %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(totals, "rx_packets")),
	       json_integer_value(json_object_get(totals, "forwarded")),
	       json_integer_value(json_object_get(totals, "blocked")),
	       json_integer_value(json_object_get(totals, "would_block")),
	       json_integer_value(json_object_get(totals, "allowed")),
	       json_integer_value(json_object_get(totals, "malformed_dropped")));
	json_array_foreach(json_object_get(s, "members"), i, v)
	{
		printf("  member %-24s %-8s allowed %" JSON_INTEGER_FORMAT
		       " blocked %" JSON_INTEGER_FORMAT " would_block %" JSON_INTEGER_FORMAT "\n",
		       json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "mode")),
		       json_integer_value(json_object_get(v, "allowed")),
		       json_integer_value(json_object_get(v, "blocked")),
		       json_integer_value(json_object_get(v, "would_block")));
	}
	fflush(stdout);
	json_decref(s);
}

/* Copy a JSON object of numbers, strings and null into a telemetry dict. */
static void
telemetry_fill(struct rte_tel_data *d, json_t *obj)
{
	const char *key;
	json_t *v;

	rte_tel_data_start_dict(d);
	json_object_foreach(obj, key, v)
	{
		if (json_is_integer(v))
			rte_tel_data_add_dict_u64(d, key, (uint64_t)json_integer_value(v));
		else if (json_is_string(v))
			rte_tel_data_add_dict_string(d, key, json_string_value(v));
		else if (json_is_boolean(v))
			rte_tel_data_add_dict_int(d, key, json_is_true(v));
	}
}

/* /gnn/totals, /gnn/ports,<name>, /gnn/members,<name>: run on the telemetry thread. */
static int
telemetry_cmd(const char *cmd, const char *params, struct rte_tel_data *d)
{
	json_t *s, *list, *v;
	int rc = -1;
	size_t i;

	pthread_mutex_lock(&gnn_ctrl_lock);
	s = gnn_report_stats();
	pthread_mutex_unlock(&gnn_ctrl_lock);
	if (s == NULL)
		return -1;
	if (strcmp(cmd, "/gnn/totals") == 0) {
		telemetry_fill(d, json_object_get(s, "totals"));
		rte_tel_data_add_dict_u64(d, "generation",
					  json_integer_value(json_object_get(s, "generation")));
		rte_tel_data_add_dict_u64(d, "reloads",
					  json_integer_value(json_object_get(s, "reloads")));
		rte_tel_data_add_dict_u64(
			d, "reload_failures",
			json_integer_value(json_object_get(s, "reload_failures")));
		rc = 0;
	} else {
		list = json_object_get(s, strcmp(cmd, "/gnn/ports") == 0 ? "ports" : "members");
		if (params == NULL || *params == '\0') {
			rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
			json_array_foreach(list, i, v) rte_tel_data_add_array_string(
				d, json_string_value(json_object_get(v, "name")));
			rc = 0;
		} else {
			json_array_foreach(list, i, v)
			{
				if (strcmp(json_string_value(json_object_get(v, "name")), params) ==
				    0) {
					telemetry_fill(d, v);
					rc = 0;
				}
			}
		}
	}
	json_decref(s);
	return rc;
}

int
gnn_report_telemetry_register(void)
{
	int rc = rte_telemetry_register_cmd("/gnn/totals", telemetry_cmd,
					    "gnn totals since start. No parameters");

	rc |= rte_telemetry_register_cmd(
		"/gnn/ports", telemetry_cmd,
		"gnn port counters. Parameters: port name, or none for the list");
	rc |= rte_telemetry_register_cmd(
		"/gnn/members", telemetry_cmd,
		"gnn member counters. Parameters: member name, or none for the list");
	return rc;
}
