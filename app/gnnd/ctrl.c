/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control lcore: signals, reloads, the control socket, the blocked
 * source table. Nothing here runs on a worker lcore.
 *
 * Reload: read and validate the file, build the next generation's ACL
 * contexts off the fast path, publish them with a release store, wait until
 * every worker has passed a quiescent state, free the old ones. A file that
 * fails anywhere leaves the running ruleset alone.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_rcu_qsbr.h>

#include "gnnd.h"
#include "notify.h"
#include "proto/gnn_proto.h"

RTE_LOG_REGISTER(gnn_logtype_ctrl, gnn.ctrl, INFO);
#define GNN_LOGTYPE gnn_logtype_ctrl

#define POLL_MS 100

static struct {
	int signal_fd;
	uint64_t generation;
	uint64_t reloads;
	uint64_t reload_failures;
	char *last_error; /* NULL while the running rules match the file */
	double started;
	double last_reload; /* 0: never */
	/* Counter slots: a member keeps its slot across reloads by name. */
	char slot_name[GNN_STATS_MAX_SLOTS][GNN_NAME_MAX];
	uint64_t slot_base[GNN_STATS_MAX_SLOTS][GNN_MC_MAX];
	unsigned int n_slots_used;
} ctrl = {.signal_fd = -1};

/* Serialises readers on the telemetry thread against ruleset swaps. */
pthread_mutex_t gnn_ctrl_lock = PTHREAD_MUTEX_INITIALIZER;

const char *
gnn_ctrl_slot_name(uint16_t slot)
{
	return slot < GNN_STATS_MAX_SLOTS ? ctrl.slot_name[slot] : "";
}

/* Counters since the slot was given to its current member. */
void
gnn_ctrl_member_counters(const struct gnn_stats_total *total, uint16_t slot,
			 uint64_t out[GNN_MC_MAX])
{
	for (int c = 0; c < GNN_MC_MAX; c++)
		out[c] = total->member[slot][c] - ctrl.slot_base[slot][c];
}

void
gnn_ctrl_reload_state(uint64_t *reloads, uint64_t *failures, const char **last_error,
		      double *started, double *last_reload)
{
	*reloads = ctrl.reloads;
	*failures = ctrl.reload_failures;
	*last_error = ctrl.last_error;
	*started = ctrl.started;
	*last_reload = ctrl.last_reload;
}

static int
find_slot(const char *name)
{
	for (unsigned int s = 0; s < ctrl.n_slots_used; s++)
		if (strcmp(ctrl.slot_name[s], name) == 0)
			return (int)s;
	return -1;
}

static bool
policy_has_member(const struct gnn_policy *policy, const char *name)
{
	return policy != NULL && gnn_policy_find_member(policy, name) >= 0;
}

/*
 * Slots for the members of next. A new name takes a never-used slot, or else
 * one whose member is in neither the running nor the next policy; its
 * counters then start from a baseline so the new member starts at zero.
 */
static int
assign_slots(const struct gnn_policy *next, uint16_t *slots)
{
	const struct gnn_ruleset *active = gnn_active_ruleset();
	const struct gnn_policy *running = active != NULL ? active->policy : NULL;
	struct gnn_stats_total *total = NULL;

	for (unsigned int m = 0; m < next->n_members; m++) {
		const char *name = next->members[m].name;
		int slot = find_slot(name);

		if (slot < 0 && ctrl.n_slots_used < GNN_STATS_MAX_SLOTS) {
			slot = (int)ctrl.n_slots_used++;
			memset(ctrl.slot_base[slot], 0, sizeof(ctrl.slot_base[slot]));
		}
		for (unsigned int s = 0; slot < 0 && s < GNN_STATS_MAX_SLOTS; s++) {
			if (policy_has_member(running, ctrl.slot_name[s]) ||
			    policy_has_member(next, ctrl.slot_name[s]))
				continue;
			slot = (int)s;
			if (total == NULL && (total = gnn_report_sum_workers()) == NULL)
				return -ENOMEM;
			memcpy(ctrl.slot_base[s], total->member[s], sizeof(ctrl.slot_base[s]));
			gnn_top_forget_slot((uint16_t)s);
		}
		if (slot < 0) {
			free(total);
			return -ENOSPC;
		}
		snprintf(ctrl.slot_name[slot], GNN_NAME_MAX, "%s", name);
		slots[m] = (uint16_t)slot;
	}
	free(total);
	return 0;
}

/* Free the copies of primary in on[], not primary itself. */
static void
free_copies(struct gnn_ruleset **on, const struct gnn_ruleset *primary)
{
	for (unsigned int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		if (on[s] != primary)
			gnn_ruleset_free(on[s]);
		on[s] = NULL;
	}
}

/* on[s]: primary, or a copy of it, for each socket in gnnd.ruleset_sockets. */
static int
replicate(struct gnn_ruleset *primary, struct gnn_ruleset **on, char *err, size_t errlen)
{
	for (unsigned int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		on[s] = NULL;
	for (unsigned int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		if (((gnnd.ruleset_sockets >> s) & 1) == 0)
			continue;
		on[s] = (int)s == primary->socket_id
				? primary
				: gnn_ruleset_replicate(primary, (int)s, err, errlen);
		if (on[s] == NULL) {
			free_copies(on, primary);
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * The next generation: the ruleset on the first port's socket, owning
 * policy, and its copies in on[]. NULL with err set; policy is then still
 * the caller's.
 */
static struct gnn_ruleset *
build_ruleset(struct gnn_policy *policy, struct gnn_ruleset **on, char *err, size_t errlen)
{
	uint16_t *slots = calloc(RTE_MAX(policy->n_members, 1u), sizeof(*slots));
	struct gnn_ruleset *rs = NULL;

	if (slots == NULL) {
		snprintf(err, errlen, "out of memory");
	} else if (assign_slots(policy, slots) != 0) {
		snprintf(err, errlen, "%s: more than %u member names over this run; restart gnnd",
			 policy->path, GNN_STATS_MAX_SLOTS);
	} else {
		rs = gnn_ruleset_build(policy, slots, ctrl.generation + 1, gnnd.socket_id, err,
				       errlen);
	}
	free(slots);
	if (rs != NULL && replicate(rs, on, err, errlen) != 0) {
		rs->owns_policy = false; /* the caller frees policy on failure */
		gnn_ruleset_free(rs);
		rs = NULL;
	}
	return rs;
}

/* Make on[] the rulesets the workers use, and free the ones they used. */
static void
publish(struct gnn_ruleset **on)
{
	struct gnn_ruleset *old_on[RTE_MAX_NUMA_NODES];
	struct gnn_ruleset *old = gnn_active_ruleset();

	pthread_mutex_lock(&gnn_ctrl_lock);
	for (unsigned int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		old_on[s] = gnnd.active_on[s];
		__atomic_store_n(&gnnd.active_on[s], on[s], __ATOMIC_RELEASE);
	}
	ctrl.generation = on[gnnd.socket_id]->generation;
	pthread_mutex_unlock(&gnn_ctrl_lock);
	if (old != NULL) {
		/* Every worker has left the loop iteration that could see old. */
		rte_rcu_qsbr_synchronize(gnnd.rcu, RTE_QSBR_THRID_INVALID);
		free_copies(old_on, old);
		gnn_ruleset_free(old);
	}
}

static void
log_warnings(const struct gnn_diag *diag)
{
	for (unsigned int i = 0; i < diag->n_warnings; i++)
		GNN_LOG(WARNING, "warning: %s", diag->warnings[i]);
}

int
gnn_ctrl_init(struct gnn_policy *policy)
{
	struct gnn_ruleset *on[RTE_MAX_NUMA_NODES];
	char err[256];
	sigset_t set;

	ctrl.started = gnn_report_wall_time();
	/* A copy of the rules on every socket whose workers poll a queue. */
	gnnd.ruleset_sockets = UINT64_C(1) << gnnd.socket_id;
	for (unsigned int i = 0; i < gnnd.n_workers; i++)
		if (gnnd.workers[i]->n_units > 0)
			gnnd.ruleset_sockets |= UINT64_C(1) << gnnd.workers[i]->socket_id;
	if (build_ruleset(policy, on, err, sizeof(err)) == NULL) {
		GNN_LOG(ERR, "%s", err);
		gnn_policy_free(policy);
		return -EINVAL;
	}
	publish(on);

	/* main() blocked these before EAL made its threads: all of them inherit it. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	ctrl.signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ctrl.signal_fd < 0) {
		GNN_LOG(ERR, "signalfd: %s", strerror(errno));
		return -errno;
	}
	if (gnn_top_init() != 0)
		return -ENOMEM;
	return 0;
}

static json_t *
reload_failed(json_t *errors)
{
	const char *first = json_string_value(json_array_get(errors, 0));

	pthread_mutex_lock(&gnn_ctrl_lock);
	ctrl.reload_failures++;
	free(ctrl.last_error);
	ctrl.last_error = strdup(first != NULL ? first : "reload failed");
	pthread_mutex_unlock(&gnn_ctrl_lock);
	GNN_LOG(ERR, "reload failed, keeping generation %" PRIu64 ": %s", ctrl.generation,
		ctrl.last_error);
	for (size_t i = 1; i < json_array_size(errors); i++)
		GNN_LOG(ERR, "  %s", json_string_value(json_array_get(errors, i)));
	return json_pack("{s:b, s:s?, s:o, s:I}", "ok", 0, "error", ctrl.last_error, "errors",
			 errors, "generation", (json_int_t)ctrl.generation);
}

/*
 * Read, validate and build the file's ruleset and its copies (on[]); NULL
 * with the reasons in errors.
 */
static struct gnn_ruleset *
load_next(json_t *errors, struct gnn_ruleset **on)
{
	struct gnn_diag diag = {0};
	struct gnn_policy *policy;
	struct gnn_ruleset *rs;
	char err[512];

	policy = gnn_policy_load(gnnd.opt.config_path, gnn_port_exists, NULL, &diag);
	log_warnings(&diag);
	for (unsigned int i = 0; i < diag.n_errors; i++)
		json_array_append_new(errors, json_string(diag.errors[i]));
	gnn_diag_clear(&diag);
	if (policy == NULL)
		return NULL;
	if (!gnn_policy_same_ports(policy, gnn_active_ruleset()->policy)) {
		snprintf(err, sizeof(err),
			 "%s:%d: ports differ from the running ones; restart gnnd to change ports",
			 policy->path, policy->n_port_pairs ? policy->port_pairs[0].line : 1);
		json_array_append_new(errors, json_string(err));
		gnn_policy_free(policy);
		return NULL;
	}
	rs = build_ruleset(policy, on, err, sizeof(err));
	if (rs == NULL) {
		json_array_append_new(errors, json_string(err));
		gnn_policy_free(policy);
	}
	return rs;
}

int
gnn_ctrl_reload(json_t **reply)
{
	struct gnn_ruleset *on[RTE_MAX_NUMA_NODES];
	json_t *errors = json_array();
	struct gnn_ruleset *rs;
	json_t *result;

	gnn_notify_reloading();
	rs = load_next(errors, on);
	if (rs == NULL) {
		result = reload_failed(errors);
	} else {
		json_decref(errors);
		publish(on);
		pthread_mutex_lock(&gnn_ctrl_lock);
		ctrl.reloads++;
		ctrl.last_reload = gnn_report_wall_time();
		free(ctrl.last_error);
		ctrl.last_error = NULL;
		pthread_mutex_unlock(&gnn_ctrl_lock);
		GNN_LOG(INFO, "reloaded %s: generation %" PRIu64 ", %u members",
			gnnd.opt.config_path, ctrl.generation, rs->n_members);
		result =
			json_pack("{s:b, s:I}", "ok", 1, "generation", (json_int_t)ctrl.generation);
	}
	gnn_notify_reloaded();
	if (reply != NULL)
		*reply = result;
	else
		json_decref(result);
	return rs == NULL ? -EINVAL : 0;
}

/* Read every pending signal; several SIGHUPs make one reload. */
static void
handle_signals(void)
{
	struct signalfd_siginfo si;
	bool reload = false;

	while (read(ctrl.signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload = true;
		} else {
			GNN_LOG(INFO, "signal %u: stopping", si.ssi_signo);
			__atomic_store_n(&gnnd.quit, 1, __ATOMIC_RELAXED);
		}
	}
	if (reload && !__atomic_load_n(&gnnd.quit, __ATOMIC_RELAXED))
		gnn_ctrl_reload(NULL);
}

int
gnn_ctrl_run(void)
{
	int rc = gnn_sock_open(gnnd.opt.socket_path, gnnd.opt.socket_group, ctrl.signal_fd);
	time_t last_link_check = 0;

	if (rc != 0)
		return rc;
	GNN_LOG(INFO, "ready: generation %" PRIu64 ", %u worker(s), socket %s", ctrl.generation,
		gnnd.n_workers, gnnd.opt.socket_path);
	gnn_notify_ready();
	while (!__atomic_load_n(&gnnd.quit, __ATOMIC_RELAXED)) {
		bool signalled = false;
		time_t t;

		gnn_sock_poll(POLL_MS, &signalled);
		if (signalled)
			handle_signals();
		gnn_top_drain();
		gnn_notify_watchdog();
		t = time(NULL);
		if (t != last_link_check) {
			gnn_ports_watch_links();
			last_link_check = t;
		}
	}
	return 0;
}

void
gnn_ctrl_fini(void)
{
	struct gnn_ruleset *on[RTE_MAX_NUMA_NODES];
	struct gnn_ruleset *rs;

	gnn_sock_close();
	gnn_top_fini();
	if (ctrl.signal_fd >= 0)
		close(ctrl.signal_fd);
	/* Telemetry may still ask: it reads under the lock and finds no ruleset. */
	pthread_mutex_lock(&gnn_ctrl_lock);
	rs = gnn_active_ruleset();
	for (unsigned int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		on[s] = gnnd.active_on[s];
		gnnd.active_on[s] = NULL; /* the workers have stopped */
	}
	pthread_mutex_unlock(&gnn_ctrl_lock);
	free_copies(on, rs);
	gnn_ruleset_free(rs);
	free(ctrl.last_error);
	ctrl.last_error = NULL;
}
