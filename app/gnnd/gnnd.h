/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_H
#define GNND_H

/* State shared by the gnnd modules: main (start-up), worker, ctrl, ports. */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_log.h>

#include "acl/gnn_acl.h"
#define GNN_LOG_PREFIX "gnnd: "
#include "log/gnn_log.h"

#include "judge.h"
#include "stats/gnn_stats.h"

struct json_t;

#define GNN_BURST	  32
#define GNN_MAX_UNITS	  16 /* RX queues one worker may poll */
#define GNN_TOP_RING_SIZE 4096
/* Largest header span a chained frame is copied out for: 8 IPv6 extension
 * headers of the longest kind, plus Ethernet, tags, IPv6 and TCP. */
#define GNN_LINEAR_MAX (8 * 2048 + 512)

/* One RX queue and where its frames go. */
struct gnn_rx_unit {
	uint16_t rx_port;
	uint16_t rx_queue;
	uint16_t tx_port;
	uint16_t tx_queue; /* used by this unit only: TX needs no lock */
	bool inside;	   /* frames are judged; outside frames pass untouched */
};

struct gnn_worker {
	unsigned int lcore_id;	/* ctrl: w before launch */
	unsigned int rcu_id;	/* ctrl: w before launch */
	unsigned int n_units;	/* ctrl: w before launch */
	unsigned int socket_id; /* ctrl: w before launch; the lcore's NUMA socket */
	struct gnn_rx_unit units[GNN_MAX_UNITS];
	struct rte_ring *top_ring;			  /* worker: enqueue, ctrl: dequeue */
	int running;					  /* worker: w, ctrl: r (atomic) */
	struct gnn_lcore_stats stats __rte_cache_aligned; /* worker: rw, ctrl: ro */
	uint8_t linear[GNN_LINEAR_MAX]; /* worker only: headers of a chained frame */
	/* The watchdog's heartbeat. worker: w once per loop, ctrl: r (relaxed) */
	uint64_t loops;
} __rte_cache_aligned;

struct gnn_port {
	uint16_t port_id;
	uint16_t peer_id;
	uint16_t n_queues;
	bool inside;
	int socket_id;
	char name[GNN_NAME_MAX];
};

struct gnnd_options {
	const char *config_path;
	const char *socket_path;
	const char *socket_group;    /* NULL: the process's group */
	unsigned int n_mbufs;	     /* 0: sized from the ports */
	unsigned int client_timeout; /* seconds a control client may idle */
	bool check;
};

struct gnnd {
	struct gnnd_options opt;
	unsigned int n_ports;
	struct gnn_port ports[GNN_STATS_MAX_PORTS];
	unsigned int n_workers;
	struct gnn_worker *workers[RTE_MAX_LCORE];
	struct rte_rcu_qsbr *rcu;
	/* The same generation on each NUMA socket that has workers, its ACL contexts
	 * local to them, and on the first port's socket for the control plane.
	 * ctrl: w (release, under gnn_ctrl_lock), that socket's workers: r (acquire). */
	struct gnn_ruleset *active_on[RTE_MAX_NUMA_NODES];
	uint64_t ruleset_sockets; /* ctrl: sockets that get a copy */
	int quit;		  /* ctrl: w, workers: r (atomic) */
	int socket_id; /* NUMA socket of the first port: the control plane's copy lives there */
};

extern struct gnnd gnnd;

/*
 * The running rules as the control plane sees them (names, generation): the
 * copy on the first port's socket; NULL before start and after stop.
 * Control lcore, or another thread holding gnn_ctrl_lock.
 */
static inline struct gnn_ruleset *
gnn_active_ruleset(void)
{
	return gnnd.active_on[gnnd.socket_id];
}

/* worker.c — runs on worker lcores only. */
int gnn_worker_main(void *arg);

/* ports.c — control lcore, start-up and shutdown only (gnn_port_link_state:
 * any control-plane thread). */
int gnn_ports_setup(const struct gnn_policy *policy);
void gnn_ports_close(void);
bool gnn_port_exists(const char *name, void *arg);
unsigned int gnn_ports_mbufs_in_use(void);
void gnn_ports_watch_links(void);
int gnn_port_link_state(uint16_t port_id);

/* ctrl.c — control lcore only (the getters: any control-plane thread). */
int gnn_ctrl_init(struct gnn_policy *policy);
int gnn_ctrl_run(void);
void gnn_ctrl_fini(void);
int gnn_ctrl_reload(struct json_t **reply);
const char *gnn_ctrl_slot_name(uint16_t slot);
void gnn_ctrl_member_counters(const struct gnn_stats_total *total, uint16_t slot,
			      uint64_t out[GNN_MC_MAX]);
void gnn_ctrl_reload_state(uint64_t *reloads, uint64_t *failures, const char **last_error,
			   double *started, double *last_reload);
/* Held by the control lcore while it swaps rulesets, by telemetry while it reads. */
extern pthread_mutex_t gnn_ctrl_lock;

/* report.c — JSON snapshots for the socket and telemetry, the exit summary. */
/* Seconds since the epoch, for timestamps in the JSON. */
double gnn_report_wall_time(void);
/* Every worker's counters summed, or NULL; the caller frees. */
struct gnn_stats_total *gnn_report_sum_workers(void);
struct json_t *gnn_report_stats(void);
void gnn_report_print_summary(void);
int gnn_report_telemetry_register(void);

/* top.c — blocked sources, fed by the workers' rings. Control lcore only. */
int gnn_top_init(void);
void gnn_top_drain(void);
struct json_t *gnn_top_query(const char *member, unsigned int n);
void gnn_top_forget_slot(uint16_t slot);
void gnn_top_fini(void);

/* sock.c — the control socket. Control lcore only. */
int gnn_sock_check_free(const char *path);
int gnn_sock_open(const char *path, const char *group, int extra_fd);
int gnn_sock_poll(int timeout_ms, bool *extra_ready);
void gnn_sock_close(void);

#endif /* GNND_H */
