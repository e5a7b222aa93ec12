/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reload: a builder thread reads and validates the file and builds the next
 * generation's ACL contexts (one copy per NUMA socket whose workers poll a
 * queue) under new names; it tells the loop through an eventfd. The loop
 * gives the members their counter slots, grows the workers' member arrays,
 * publishes with a release store per worker, waits until every worker has
 * passed a quiescent state, then frees the old generation. Only one build
 * runs at a time: a reload request during one is told "reload in
 * progress", a SIGHUP during one makes one more reload after it.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_rcu_qsbr.h>

#include "acl/gnn_acl.h"
#include "common/gnn_clock.h"
#include "control/api.h"
#include "control/counters.h"
#include "control/loop.h"
#include "control/notify.h"
#include "control/ports.h"
#include "control/rules.h"
#include "control/slots.h"
#include "gnnd.h"
#include "proto/gnn_proto.h"

RTE_LOG_REGISTER(gnn_logtype_rules, gnn.rules, INFO);
#define GNN_LOGTYPE gnn_logtype_rules

#define MAX_LISTENERS 4

/* What a builder thread makes; the loop owns it once the thread is done. */
struct build {
	char *path;
	bool dry_run; /* diff: one copy, never published */
	uint64_t generation;
	uint64_t sockets; /* bit s: a copy on NUMA socket s */
	int primary;	  /* socket of the control plane's copy */
	const struct gnn_policy *running;
	/* results */
	struct gnn_ruleset *on[RTE_MAX_NUMA_NODES];
	json_t *errors;
	double seconds;
	/* who asked */
	gnn_rules_built_fn done;
	void *done_arg;
	unsigned int n_waiting;
	uint64_t waiting[8]; /* reload requests to answer */
};

static struct {
	struct gnn_ruleset *on[RTE_MAX_NUMA_NODES]; /* published, per socket */
	uint64_t sockets;
	uint64_t generation;
	uint64_t reloads;
	uint64_t failures;
	char *last_error;
	double started;
	double last_reload;
	double last_build_s;
	/* the builder */
	int event_fd;
	pthread_t thread;
	struct build *job; /* non-NULL while a thread runs */
	bool again;	   /* a SIGHUP came during a reload */
	unsigned int n_listeners;
	gnn_rules_publish_fn listeners[MAX_LISTENERS];
	void *listener_args[MAX_LISTENERS];
} rules = {.event_fd = -1};

const struct gnn_ruleset *
gnn_rules_active(void)
{
	return rules.on[gnnd.socket_id];
}

void
gnn_rules_state(struct gnn_rules_state *out)
{
	*out = (struct gnn_rules_state){
		.generation = rules.generation,
		.reloads = rules.reloads,
		.failures = rules.failures,
		.last_error = rules.last_error,
		.started = rules.started,
		.last_reload = rules.last_reload,
		.last_build_s = rules.last_build_s,
		.busy = rules.job != NULL,
	};
}

bool
gnn_rules_building(void)
{
	return rules.job != NULL;
}

int
gnn_rules_on_publish(gnn_rules_publish_fn fn, void *arg)
{
	if (rules.n_listeners == MAX_LISTENERS)
		return -ENOSPC;
	rules.listeners[rules.n_listeners] = fn;
	rules.listener_args[rules.n_listeners++] = arg;
	return 0;
}

/* Free the copies of on[] other than the primary one. */
static void
free_copies(struct gnn_ruleset **on, int primary)
{
	for (unsigned int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		if ((int)s != primary)
			gnn_ruleset_free(on[s]);
		on[s] = NULL;
	}
}

static void
free_generation(struct gnn_ruleset **on, int primary)
{
	struct gnn_ruleset *rs = on[primary];

	free_copies(on, primary);
	gnn_ruleset_free(rs);
}

static void add_error(json_t *errors, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
add_error(json_t *errors, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(errors, json_string(msg));
}

/* The builder thread's work: no loop state is touched here. */
static void
build_run(struct build *b)
{
	struct gnn_diag diag = {0};
	struct gnn_policy *policy;
	double t0 = gnn_clock_mono();
	char err[512];

	policy = gnn_policy_load(b->path, b->dry_run ? NULL : gnn_port_exists, NULL, &diag);
	for (unsigned int i = 0; i < diag.n_warnings; i++)
		GNN_LOG(WARNING, "warning: %s", diag.warnings[i]);
	for (unsigned int i = 0; i < diag.n_errors; i++)
		json_array_append_new(b->errors, json_string(diag.errors[i]));
	gnn_diag_clear(&diag);
	if (policy == NULL)
		return;
	if (!b->dry_run && !gnn_policy_same_ports(policy, b->running)) {
		add_error(b->errors,
			  "%s:%d: ports differ from the running ones; restart gnnd to change ports",
			  policy->path, policy->n_port_pairs ? policy->port_pairs[0].line : 1);
		gnn_policy_free(policy);
		return;
	}
	b->on[b->primary] =
		gnn_ruleset_build(policy, NULL, b->generation, b->primary, err, sizeof(err));
	if (b->on[b->primary] == NULL) {
		add_error(b->errors, "%s: %s", b->path, err);
		gnn_policy_free(policy);
		return;
	}
	for (unsigned int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		if (((b->sockets >> s) & 1) == 0 || (int)s == b->primary)
			continue;
		b->on[s] = gnn_ruleset_replicate(b->on[b->primary], (int)s, err, sizeof(err));
		if (b->on[s] == NULL) {
			add_error(b->errors, "%s: %s", b->path, err);
			free_generation(b->on, b->primary);
			return;
		}
	}
	b->seconds = gnn_clock_mono() - t0;
}

static void *
builder_main(void *arg)
{
	struct build *b = arg;
	uint64_t one = 1;

	build_run(b);
	/* Wake the loop; it joins this thread and takes the result. */
	if (write(rules.event_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		GNN_LOG(ERR, "cannot wake the control loop");
	return NULL;
}

static void
build_free(struct build *b)
{
	if (b == NULL)
		return;
	free(b->path);
	json_decref(b->errors);
	free(b);
}

static int
start_build(const char *path, bool dry_run)
{
	struct build *b = calloc(1, sizeof(*b));
	int rc;

	if (b == NULL)
		return -ENOMEM;
	b->path = strdup(path);
	b->errors = json_array();
	if (b->path == NULL || b->errors == NULL) {
		build_free(b);
		return -ENOMEM;
	}
	b->dry_run = dry_run;
	b->generation = rules.generation + 1;
	b->primary = gnnd.socket_id;
	b->sockets = dry_run ? UINT64_C(1) << gnnd.socket_id : rules.sockets;
	b->running = rules.on[gnnd.socket_id]->policy;
	rules.job = b;
	if (!dry_run)
		gnn_notify_reloading();
	rc = pthread_create(&rules.thread, NULL, builder_main, b);
	if (rc != 0) {
		rules.job = NULL;
		build_free(b);
		if (!dry_run)
			gnn_notify_reloaded();
		return -rc;
	}
	pthread_setname_np(rules.thread, "gnn-build");
	return 0;
}

/* Make on[] the rules the workers use (each its socket's copy); free the old ones. */
static void
publish(struct gnn_ruleset **on)
{
	struct gnn_ruleset *old[RTE_MAX_NUMA_NODES];
	bool had_old = rules.on[gnnd.socket_id] != NULL;

	memcpy(old, rules.on, sizeof(old));
	memcpy(rules.on, on, sizeof(rules.on));
	for (unsigned int i = 0; i < gnnd.n_workers; i++) {
		struct gnn_worker *w = gnnd.workers[i];

		__atomic_store_n(&w->ruleset, on[w->socket_id], __ATOMIC_RELEASE);
	}
	rules.generation = on[gnnd.socket_id]->generation;
	for (unsigned int l = 0; l < rules.n_listeners; l++)
		rules.listeners[l](on[gnnd.socket_id], rules.listener_args[l]);
	/* Every worker has left the loop iteration that could see the old rules. */
	rte_rcu_qsbr_synchronize(gnnd.rcu, RTE_QSBR_THRID_INVALID);
	gnn_counters_retire();
	if (had_old)
		free_generation(old, gnnd.socket_id);
}

/* Slots and member arrays for the built generation, then publish it. */
static int
install(struct gnn_ruleset **on, const struct gnn_policy *running, char *err, size_t errlen)
{
	const struct gnn_policy *next = on[gnnd.socket_id]->policy;
	uint32_t *slots = calloc(RTE_MAX(next->n_members, 1u), sizeof(*slots));

	if (slots == NULL ||
	    gnn_slots_assign(running, next, on[gnnd.socket_id]->generation, slots) != 0 ||
	    gnn_counters_reserve(gnn_slots_count()) != 0) {
		free(slots);
		snprintf(err, errlen, "%s: out of memory for the member counters", next->path);
		return -ENOMEM;
	}
	for (unsigned int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if (on[s] != NULL)
			gnn_ruleset_set_slots(on[s], slots);
	free(slots);
	publish(on);
	return 0;
}

static void
set_last_error(const char *msg)
{
	free(rules.last_error);
	rules.last_error = msg != NULL ? strdup(msg) : NULL;
}

static json_t *
reload_failed(json_t *errors)
{
	const char *first = json_string_value(json_array_get(errors, 0));

	rules.failures++;
	set_last_error(first != NULL ? first : "reload failed");
	GNN_LOG(ERR, "reload failed, keeping generation %" PRIu64 ": %s", rules.generation,
		rules.last_error);
	for (size_t i = 1; i < json_array_size(errors); i++)
		GNN_LOG(ERR, "  %s", json_string_value(json_array_get(errors, i)));
	return json_pack("{s:b, s:s?, s:O, s:I}", "ok", 0, "error", rules.last_error, "errors",
			 errors, "generation", (json_int_t)rules.generation);
}

/* A reload's build is done: publish it or count the failure; answer who asked. */
static void
finish_reload(struct build *b)
{
	json_t *result;
	char err[512];

	if (b->on[b->primary] != NULL &&
	    install(b->on, rules.on[gnnd.socket_id]->policy, err, sizeof(err)) != 0) {
		free_generation(b->on, b->primary);
		json_array_append_new(b->errors, json_string(err));
	}
	if (b->on[b->primary] == NULL) {
		result = reload_failed(b->errors);
	} else {
		rules.reloads++;
		rules.last_reload = gnn_clock_wall();
		rules.last_build_s = b->seconds;
		set_last_error(NULL);
		GNN_LOG(INFO, "reloaded %s: generation %" PRIu64 ", %u members, built in %.3f s",
			b->path, rules.generation, rules.on[gnnd.socket_id]->n_members, b->seconds);
		result = json_pack("{s:b, s:I}", "ok", 1, "generation",
				   (json_int_t)rules.generation);
	}
	gnn_notify_reloaded();
	for (unsigned int i = 0; i < b->n_waiting; i++)
		gnn_api_answer(b->waiting[i], json_incref(result));
	json_decref(result);
}

static void
on_built(int fd, uint32_t events, void *arg)
{
	struct build *b = rules.job;
	uint64_t n;

	RTE_SET_USED(events);
	RTE_SET_USED(arg);
	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n) || b == NULL)
		return;
	pthread_join(rules.thread, NULL);
	rules.job = NULL;
	if (b->dry_run) {
		b->done(b->on[b->primary], b->on[b->primary] == NULL ? b->errors : NULL,
			b->done_arg);
	} else {
		finish_reload(b);
	}
	build_free(b);
	if (rules.again && !gnn_loop_stopping()) {
		rules.again = false;
		if (start_build(gnnd.opt.config_path, false) != 0)
			GNN_LOG(ERR, "cannot start a reload");
	}
}

void
gnn_rules_reload_signal(void)
{
	if (rules.job != NULL) {
		rules.again = true; /* several SIGHUPs during a build make one reload */
		return;
	}
	if (start_build(gnnd.opt.config_path, false) != 0)
		GNN_LOG(ERR, "cannot start a reload");
}

static json_t *
handle_reload(const struct gnn_request *req, struct gnn_api_ctx *ctx)
{
	RTE_SET_USED(req);
	if (rules.job != NULL)
		return json_pack("{s:b, s:s, s:I}", "ok", 0, "error",
				 rules.job->dry_run ? "busy: a dry run (diff) is being built"
						    : "reload in progress",
				 "generation", (json_int_t)rules.generation);
	if (start_build(gnnd.opt.config_path, false) != 0)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "cannot start the reload");
	rules.job->waiting[rules.job->n_waiting++] = gnn_api_defer(ctx);
	return NULL;
}

int
gnn_rules_build(const char *path, gnn_rules_built_fn done, void *arg)
{
	int rc;

	if (rules.job != NULL)
		return -EBUSY;
	rc = start_build(path, true);
	if (rc == 0) {
		rules.job->done = done;
		rules.job->done_arg = arg;
	}
	return rc;
}

void
gnn_rules_free_built(struct gnn_ruleset *rs)
{
	gnn_ruleset_free(rs);
}

int
gnn_rules_init(struct gnn_policy *policy)
{
	struct gnn_ruleset *on[RTE_MAX_NUMA_NODES] = {0};
	char err[512];
	int rc;

	rules.started = gnn_clock_wall();
	/* A copy of the rules on every socket whose workers poll a queue. */
	rules.sockets = UINT64_C(1) << gnnd.socket_id;
	for (unsigned int i = 0; i < gnnd.n_workers; i++)
		if (gnnd.workers[i]->n_units > 0)
			rules.sockets |= UINT64_C(1) << gnnd.workers[i]->socket_id;
	on[gnnd.socket_id] = gnn_ruleset_build(policy, NULL, 1, gnnd.socket_id, err, sizeof(err));
	if (on[gnnd.socket_id] == NULL) {
		GNN_LOG(ERR, "%s: %s", policy->path, err);
		gnn_policy_free(policy);
		return -EINVAL;
	}
	for (unsigned int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		if (((rules.sockets >> s) & 1) == 0 || (int)s == gnnd.socket_id)
			continue;
		on[s] = gnn_ruleset_replicate(on[gnnd.socket_id], (int)s, err, sizeof(err));
		if (on[s] == NULL) {
			GNN_LOG(ERR, "%s: %s", policy->path, err);
			free_generation(on, gnnd.socket_id);
			return -ENOMEM;
		}
	}
	if (install(on, NULL, err, sizeof(err)) != 0) {
		GNN_LOG(ERR, "%s", err);
		free_generation(on, gnnd.socket_id);
		return -ENOMEM;
	}
	rules.event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (rules.event_fd < 0)
		return -errno;
	rc = gnn_loop_add_fd(rules.event_fd, EPOLLIN, on_built, NULL);
	if (rc == 0)
		rc = gnn_api_register(&gnn_proto_cmd_reload, handle_reload);
	return rc;
}

void
gnn_rules_fini(void)
{
	/* A builder still running is left to process exit (see main.c). */
	if (rules.job == NULL && rules.on[gnnd.socket_id] != NULL)
		free_generation(rules.on, gnnd.socket_id);
	for (unsigned int i = 0; i < gnnd.n_workers; i++)
		gnnd.workers[i]->ruleset = NULL;
	if (rules.event_fd >= 0) {
		gnn_loop_del_fd(rules.event_fd);
		close(rules.event_fd);
		rules.event_fd = -1;
	}
	set_last_error(NULL);
}
