/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_telemetry.h>

#include "control/loop.h"
#include "control/report.h"
#include "control/telemetry.h"
#include "gnnd.h"
#include "proto/gnn_fields.h"

#define WAIT_S	   2   /* the loop answers well within this */
#define PAGE_NAMES 500 /* names per reply: telemetry arrays hold 512 */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	int event_fd;
	/* one question at a time, under lock */
	const char *cmd;
	const char *params;
	struct rte_tel_data *d;
	int rc;
	bool done;
	bool open;
} tel = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.done_cond = PTHREAD_COND_INITIALIZER,
	.event_fd = -1,
};

/* Copy a JSON object of numbers, strings and booleans into a telemetry dict. */
static void
fill_dict(struct rte_tel_data *d, json_t *obj)
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

static int
list_names(struct rte_tel_data *d, json_t *list, unsigned long page)
{
	size_t i;
	json_t *v;

	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	json_array_foreach(list, i, v)
	{
		if (i / PAGE_NAMES == page)
			rte_tel_data_add_array_string(
				d, json_string_value(json_object_get(v, GNN_F_NAME)));
	}
	return 0;
}

/* The question, answered on the loop. */
static int
answer(const char *cmd, const char *params, struct rte_tel_data *d)
{
	json_t *s = gnn_report_stats(NULL), *list, *v;
	unsigned long page = 0;
	int rc = -1;
	size_t i;

	if (s == NULL || json_object_get(s, GNN_F_TOTALS) == NULL) {
		json_decref(s);
		return -1;
	}
	if (strcmp(cmd, "/gnn/totals") == 0) {
		fill_dict(d, json_object_get(s, GNN_F_TOTALS));
		rte_tel_data_add_dict_u64(d, GNN_F_GENERATION,
					  json_integer_value(json_object_get(s, GNN_F_GENERATION)));
		rte_tel_data_add_dict_u64(d, GNN_F_RELOADS,
					  json_integer_value(json_object_get(s, GNN_F_RELOADS)));
		rte_tel_data_add_dict_u64(
			d, GNN_F_RELOAD_FAILURES,
			json_integer_value(json_object_get(s, GNN_F_RELOAD_FAILURES)));
		rc = 0;
	} else {
		list = json_object_get(s, strcmp(cmd, "/gnn/ports") == 0 ? GNN_F_PORTS
									 : GNN_F_MEMBERS);
		if (params == NULL || *params == '\0' || sscanf(params, "page=%lu", &page) == 1) {
			rc = list_names(d, list, page);
		} else {
			json_array_foreach(list, i, v)
			{
				if (strcmp(json_string_value(json_object_get(v, GNN_F_NAME)),
					   params) == 0) {
					fill_dict(d, v);
					rc = 0;
					break;
				}
			}
		}
	}
	json_decref(s);
	return rc;
}

static void
on_question(int fd, uint32_t events, void *arg)
{
	uint64_t n;

	RTE_SET_USED(events);
	RTE_SET_USED(arg);
	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	pthread_mutex_lock(&tel.lock);
	if (tel.cmd != NULL && !tel.done) {
		tel.rc = answer(tel.cmd, tel.params, tel.d);
		tel.done = true;
		pthread_cond_signal(&tel.done_cond);
	}
	pthread_mutex_unlock(&tel.lock);
}

/* On the telemetry thread: hand the question to the loop and wait. */
static int
telemetry_cmd(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static pthread_mutex_t one_at_a_time = PTHREAD_MUTEX_INITIALIZER;
	struct timespec deadline;
	uint64_t one = 1;
	int rc = -1;

	pthread_mutex_lock(&one_at_a_time);
	pthread_mutex_lock(&tel.lock);
	if (!tel.open)
		goto out;
	tel.cmd = cmd;
	tel.params = params;
	tel.d = d;
	tel.done = false;
	if (write(tel.event_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		goto out;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += WAIT_S;
	while (!tel.done)
		if (pthread_cond_timedwait(&tel.done_cond, &tel.lock, &deadline) == ETIMEDOUT)
			break;
	rc = tel.done ? tel.rc : -1;
out:
	/* Unanswered: the loop must not write into d once we return. */
	tel.cmd = NULL;
	tel.done = true;
	pthread_mutex_unlock(&tel.lock);
	pthread_mutex_unlock(&one_at_a_time);
	return rc;
}

int
gnn_telemetry_init(void)
{
	int rc;

	tel.event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (tel.event_fd < 0)
		return -errno;
	rc = gnn_loop_add_fd(tel.event_fd, EPOLLIN, on_question, NULL);
	if (rc != 0)
		return rc;
	tel.open = true;
	rc = rte_telemetry_register_cmd("/gnn/totals", telemetry_cmd,
					"gnn totals since start. No parameters");
	rc |= rte_telemetry_register_cmd(
		"/gnn/ports", telemetry_cmd,
		"gnn port counters. Parameters: port name, or none (or page=N) for the list");
	rc |= rte_telemetry_register_cmd("/gnn/members", telemetry_cmd,
					 "gnn member counters. Parameters: member name, or none "
					 "(or page=N, 500 names a page) for the list");
	return rc;
}

void
gnn_telemetry_fini(void)
{
	pthread_mutex_lock(&tel.lock);
	tel.open = false;
	pthread_mutex_unlock(&tel.lock);
	if (tel.event_fd >= 0) {
		gnn_loop_del_fd(tel.event_fd);
		close(tel.event_fd);
		tel.event_fd = -1;
	}
}
