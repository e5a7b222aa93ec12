/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port set-up: every pair of the config gets the same number of RX and TX
 * queues on both ports (RSS when there are several), one mbuf pool per
 * NUMA socket, promiscuous mode, and is started. Frames already waiting
 * in a device (a capture file) are left for the workers.
 */

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "control/ports.h"
#include "gnnd.h"

RTE_LOG_REGISTER(gnn_logtype_ports, gnn.ports, INFO);
#define GNN_LOGTYPE gnn_logtype_ports

#define RX_DESC	   1024
#define TX_DESC	   1024
#define MBUF_CACHE 256u

static struct rte_mempool *pools[RTE_MAX_NUMA_NODES];

bool
gnn_port_exists(const char *name, void *arg)
{
	uint16_t id;

	RTE_SET_USED(arg);
	return rte_eth_dev_get_port_by_name(name, &id) == 0;
}

static int
port_socket(uint16_t port_id)
{
	int socket = rte_eth_dev_socket_id(port_id);

	return socket < 0 ? 0 : socket; /* SOCKET_ID_ANY: virtual devices */
}

/* Queues a port can run: limited by the device and the worker count. */
static uint16_t
port_max_queues(uint16_t port_id, unsigned int n_workers)
{
	struct rte_eth_dev_info info;
	unsigned int n;

	if (rte_eth_dev_info_get(port_id, &info) != 0)
		return 1;
	n = RTE_MIN(info.max_rx_queues, info.max_tx_queues);
	n = RTE_MIN(n, n_workers);
	return n == 0 ? 1 : (uint16_t)n;
}

static struct rte_mempool *
pool_for_socket(int socket, unsigned int n_mbufs)
{
	char name[RTE_MEMPOOL_NAMESIZE];

	if (pools[socket] != NULL)
		return pools[socket];
	snprintf(name, sizeof(name), "gnn_mbuf_%d", socket);
	/* A small pool (--mbufs) must not vanish into the per-lcore caches. */
	pools[socket] = rte_pktmbuf_pool_create(name, n_mbufs, RTE_MIN(MBUF_CACHE, n_mbufs / 8), 0,
						RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (pools[socket] == NULL)
		GNN_LOG(ERR, "cannot create %u mbufs on socket %d: %s", n_mbufs, socket,
			rte_strerror(rte_errno));
	return pools[socket];
}

/* Enough mbufs to fill every ring and every worker's bursts twice over. */
static unsigned int
default_mbufs(void)
{
	unsigned int n = 0;

	for (unsigned int p = 0; p < gnnd.n_ports; p++)
		n += gnnd.ports[p].n_queues * (RX_DESC + TX_DESC);
	n += (gnnd.n_workers + 1) * (GNN_BURST + MBUF_CACHE);
	return RTE_MAX(n * 2, 8192u);
}

static int
configure_port(struct gnn_port *port, struct rte_mempool *pool)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf = {0};
	uint16_t nb_rxd = RX_DESC, nb_txd = TX_DESC;
	int rc;

	rc = rte_eth_dev_info_get(port->port_id, &info);
	if (rc != 0)
		return rc;
	if (port->n_queues > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
			info.flow_type_rss_offloads;
	}
	/* Frames leave as they came: no offload may rewrite them. */
	rc = rte_eth_dev_configure(port->port_id, port->n_queues, port->n_queues, &conf);
	if (rc != 0)
		return rc;
	port->state = GNN_PORT_CONFIGURED;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port->port_id, &nb_rxd, &nb_txd);
	if (rc != 0)
		return rc;
	for (uint16_t q = 0; q < port->n_queues; q++) {
		rc = rte_eth_rx_queue_setup(port->port_id, q, nb_rxd, port->socket_id, NULL, pool);
		if (rc != 0) {
			/* A capture replayed forever (net_pcap infinite_rx) holds it all in mbufs.
			 */
			GNN_LOG(ERR,
				"port %s: cannot set up RX queue %u with a pool of %u mbufs%s: %s",
				port->name, q, pool->size, gnnd.opt.n_mbufs ? " (--mbufs)" : "",
				strerror(-rc));
			return rc;
		}
		rc = rte_eth_tx_queue_setup(port->port_id, q, nb_txd, port->socket_id, NULL);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
add_port(const char *name, bool inside, uint16_t n_queues)
{
	struct gnn_port *port = &gnnd.ports[gnnd.n_ports];

	if (rte_eth_dev_get_port_by_name(name, &port->port_id) != 0) {
		GNN_LOG(ERR, "port %s not found", name);
		return -ENODEV;
	}
	port->inside = inside;
	port->n_queues = n_queues;
	port->socket_id = port_socket(port->port_id);
	snprintf(port->name, sizeof(port->name), "%s", name);
	gnnd.n_ports++;
	return 0;
}

/*
 * Give queue q of both ports of a pair to the least loaded worker, on the
 * inside port's socket if possible. The worker then owns TX queue q of both
 * ports: it forwards each direction out of the other port and sends
 * rejects back out of the inside one, all without a lock.
 */
static int
assign_queue(struct gnn_port *rx, struct gnn_port *tx, uint16_t queue)
{
	struct gnn_worker *best = NULL;

	for (unsigned int i = 0; i < gnnd.n_workers; i++) {
		struct gnn_worker *w = gnnd.workers[i];
		bool local = (int)rte_lcore_to_socket_id(w->lcore_id) == rx->socket_id;
		bool best_local = best != NULL &&
				  (int)rte_lcore_to_socket_id(best->lcore_id) == rx->socket_id;

		if (w->n_units >= GNN_MAX_UNITS)
			continue;
		if (best == NULL || (local && !best_local) ||
		    (local == best_local && w->n_units < best->n_units))
			best = w;
	}
	if (best == NULL || best->n_units + 2 > GNN_MAX_UNITS) {
		GNN_LOG(ERR, "too many queues for %u workers", gnnd.n_workers);
		return -ENOSPC;
	}
	best->units[best->n_units++] = (struct gnn_rx_unit){
		.rx_port = rx->port_id,
		.rx_queue = queue,
		.tx_port = tx->port_id,
		.tx_queue = queue,
		.reply_queue = queue,
		.inside = rx->inside,
	};
	best->units[best->n_units++] = (struct gnn_rx_unit){
		.rx_port = tx->port_id,
		.rx_queue = queue,
		.tx_port = rx->port_id,
		.tx_queue = queue,
		.reply_queue = queue,
		.inside = tx->inside,
	};
	return 0;
}

int
gnn_ports_setup(const struct gnn_policy *policy)
{
	unsigned int n_mbufs;
	int rc;

	for (unsigned int i = 0; i < policy->n_port_pairs; i++) {
		const struct gnn_port_pair *pair = &policy->port_pairs[i];
		uint16_t in_id, out_id, nq;

		if (rte_eth_dev_get_port_by_name(pair->inside, &in_id) != 0 ||
		    rte_eth_dev_get_port_by_name(pair->outside, &out_id) != 0)
			return -ENODEV;
		nq = port_max_queues(in_id, gnnd.n_workers);
		nq = RTE_MIN(nq, port_max_queues(out_id, gnnd.n_workers));
		rc = add_port(pair->inside, true, nq);
		if (rc == 0)
			rc = add_port(pair->outside, false, nq);
		if (rc != 0)
			return rc;
		gnnd.ports[gnnd.n_ports - 2].peer_id = out_id;
		gnnd.ports[gnnd.n_ports - 1].peer_id = in_id;
	}
	gnnd.socket_id = gnnd.ports[0].socket_id;

	n_mbufs = gnnd.opt.n_mbufs ? gnnd.opt.n_mbufs : default_mbufs();
	for (unsigned int p = 0; p < gnnd.n_ports; p++) {
		struct gnn_port *port = &gnnd.ports[p];
		struct rte_mempool *pool = pool_for_socket(port->socket_id, n_mbufs);

		if (pool == NULL)
			return -ENOMEM;
		rc = configure_port(port, pool);
		if (rc != 0) {
			GNN_LOG(ERR, "cannot configure port %s: %s", port->name, strerror(-rc));
			return rc;
		}
	}
	/* Pairs were added inside then outside: port p's peer is p + 1. */
	for (unsigned int p = 0; p < gnnd.n_ports; p += 2) {
		for (uint16_t q = 0; q < gnnd.ports[p].n_queues; q++) {
			rc = assign_queue(&gnnd.ports[p], &gnnd.ports[p + 1], q);
			if (rc != 0)
				return rc;
		}
	}
	for (unsigned int p = 0; p < gnnd.n_ports; p++) {
		struct gnn_port *port = &gnnd.ports[p];

		rc = rte_eth_promiscuous_enable(port->port_id);
		if (rc != 0 && rc != -ENOTSUP)
			GNN_LOG(WARNING, "port %s: promiscuous mode: %s", port->name,
				strerror(-rc));
		rc = rte_eth_dev_start(port->port_id);
		if (rc != 0) {
			GNN_LOG(ERR, "cannot start port %s: %s", port->name, strerror(-rc));
			return rc;
		}
		port->state = GNN_PORT_STARTED;
		GNN_LOG(INFO, "port %s (%s) started: %u queue(s), socket %d", port->name,
			port->inside ? "inside" : "outside", port->n_queues, port->socket_id);
	}
	return 0;
}

/*
 * Link state: 1 up, 0 down, -1 unknown. A port backed by a kernel interface
 * (net_af_packet, net_pcap: if_index set) reports a fixed "up" in DPDK 22.11,
 * whatever the interface does; for those the kernel's IFF_RUNNING (up, with
 * carrier) decides too. Control-plane threads only.
 */
int
gnn_port_link_state(uint16_t port_id)
{
	struct rte_eth_link link = {0};
	struct rte_eth_dev_info info;
	struct ifreq ifr = {0};
	int fd, rc;

	if (rte_eth_link_get_nowait(port_id, &link) != 0)
		return -1;
	if (link.link_status != RTE_ETH_LINK_UP)
		return 0;
	if (rte_eth_dev_info_get(port_id, &info) != 0 || info.if_index == 0 ||
	    if_indextoname(info.if_index, ifr.ifr_name) == NULL)
		return 1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	close(fd);
	if (rc != 0)
		return 1;
	return (ifr.ifr_flags & IFF_RUNNING) != 0;
}

/* Log link changes; the control lcore calls this about once a second. */
void
gnn_ports_watch_links(void)
{
	static int last[GNN_STATS_MAX_PORTS];

	for (unsigned int p = 0; p < gnnd.n_ports; p++) {
		int state = gnn_port_link_state(gnnd.ports[p].port_id);

		if (state < 0)
			continue;
		state = state > 0 ? 1 : -1;
		if (last[p] != 0 && state != last[p])
			GNN_LOG(WARNING, "port %s: link %s", gnnd.ports[p].name,
				state > 0 ? "up" : "down");
		last[p] = state;
	}
}

void
gnn_ports_close(void)
{
	/* Stopping and closing flushes what the devices buffer (pcap files). */
	for (unsigned int p = 0; p < gnnd.n_ports; p++) {
		struct gnn_port *port = &gnnd.ports[p];

		if (port->state == GNN_PORT_STARTED)
			rte_eth_dev_stop(port->port_id);
		if (port->state >= GNN_PORT_CONFIGURED)
			rte_eth_dev_close(port->port_id);
		port->state = GNN_PORT_FOUND;
	}
	for (unsigned int s = 0; s < RTE_MAX_NUMA_NODES; s++) {
		rte_mempool_free(pools[s]);
		pools[s] = NULL;
	}
}

/* Mbufs not in the pools' free lists (in rings, in flight): for leak checks. */
unsigned int
gnn_ports_mbufs_in_use(void)
{
	unsigned int n = 0;

	for (unsigned int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if (pools[s] != NULL)
			n += rte_mempool_in_use_count(pools[s]);
	return n;
}
