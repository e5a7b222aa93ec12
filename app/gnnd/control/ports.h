/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_PORTS_H
#define GNND_PORTS_H

/*
 * Ports: set-up and shutdown (control lcore, start-up only), link state
 * (any control-plane thread).
 */

#include <stdbool.h>
#include <stdint.h>

struct gnn_policy;

/* Configure and start every port of the policy; its queues go to the workers. */
int gnn_ports_setup(const struct gnn_policy *policy);
/* Stop and close the ports that got that far; free the mbuf pools. */
void gnn_ports_close(void);
/* For gnn_policy_load(): the device is known to DPDK. */
bool gnn_port_exists(const char *name, void *arg);
/* Mbufs out of the pools (in rings, in flight): for leak checks. */
unsigned int gnn_ports_mbufs_in_use(void);
/* Log link changes; call about once a second. */
void gnn_ports_watch_links(void);
/* 1 up, 0 down, -1 unknown. */
int gnn_port_link_state(uint16_t port_id);

#endif /* GNND_PORTS_H */
