/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_H
#define GNND_H

/*
 * What main() sets up at start and the control-plane modules read: the
 * options, the ports and the workers. The datapath reads none of it (each
 * worker has its own struct gnn_worker). See docs/design.md for the module
 * map: datapath/ runs on worker lcores, control/ on the control lcore.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_log.h>

#define GNN_LOG_PREFIX "gnnd: "
#include "log/gnn_log.h"

#include "datapath/worker.h"
#include "policy/gnn_policy.h"
#include "stats/gnn_stats.h"

struct rte_rcu_qsbr;

enum gnn_port_state {
	GNN_PORT_FOUND = 0,  /* known to DPDK, untouched */
	GNN_PORT_CONFIGURED, /* rte_eth_dev_configure() done: close it */
	GNN_PORT_STARTED,    /* stop, then close it */
};

struct gnn_port {
	uint16_t port_id;
	uint8_t state; /* enum gnn_port_state */
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

/* Written by main() during start-up; read-only for the control plane after. */
struct gnnd {
	struct gnnd_options opt;
	unsigned int n_ports;
	struct gnn_port ports[GNN_STATS_MAX_PORTS];
	unsigned int n_workers;
	struct gnn_worker *workers[RTE_MAX_LCORE];
	struct rte_rcu_qsbr *rcu;
	int socket_id; /* NUMA socket of the first port: the control plane's copy lives there */
};

extern struct gnnd gnnd;

#endif /* GNND_H */
