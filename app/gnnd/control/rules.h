/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_RULES_H
#define GNND_RULES_H

/*
 * The running rules and their reloads. Reading and building a config runs
 * on a builder thread (never a worker lcore, never the event loop), so the
 * operator is served while a large file builds; the loop only publishes:
 * counter slots, member arrays, a release store per worker, an RCU grace
 * period, the old generation freed. A file that fails anywhere leaves the
 * running rules alone. Control lcore only, unless said otherwise.
 */

#include <stdbool.h>
#include <stdint.h>

struct gnn_policy;
struct gnn_ruleset;
struct json_t;

/* Build and publish generation 1 from policy (taken), at start-up. */
int gnn_rules_init(struct gnn_policy *policy);
/* Free every generation (after the workers stopped). */
void gnn_rules_fini(void);

/* The running rules as the control plane sees them (names, generation). */
const struct gnn_ruleset *gnn_rules_active(void);

struct gnn_rules_state {
	uint64_t generation;
	uint64_t reloads;
	uint64_t failures;
	const char *last_error; /* NULL while the running rules match the file */
	double started;		/* wall clock */
	double last_reload;	/* wall clock, 0: never */
	double last_build_s;	/* how long the last successful build took */
	bool busy;		/* a reload or a dry run is being built */
};
void gnn_rules_state(struct gnn_rules_state *out);

/* SIGHUP: reload, or once more after the one in progress. */
void gnn_rules_reload_signal(void);

/* Told on the loop after a new generation is published (old is still valid). */
typedef void (*gnn_rules_publish_fn)(const struct gnn_ruleset *now, void *arg);
int gnn_rules_on_publish(gnn_rules_publish_fn fn, void *arg);

/*
 * A dry run: load and build path off the loop without publishing it. done
 * runs on the loop with the ruleset (free it with gnn_rules_free_built())
 * or NULL and the errors (a JSON array the callee does not keep).
 * 0, or -EBUSY while a reload or another dry run is being built.
 */
typedef void (*gnn_rules_built_fn)(struct gnn_ruleset *rs, struct json_t *errors, void *arg);
int gnn_rules_build(const char *path, gnn_rules_built_fn done, void *arg);
void gnn_rules_free_built(struct gnn_ruleset *rs);

/* A builder thread is running (shutdown must not wait for it). */
bool gnn_rules_building(void);

#endif /* GNND_RULES_H */
