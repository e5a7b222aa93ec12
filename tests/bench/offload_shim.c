/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Preloaded into DPDK's l3fwd example by tools/bench: l3fwd always asks
 * for RX checksum offload, which the benchmark's virtual devices (net_pcap,
 * net_null) do not offer, so rte_eth_dev_configure() refuses the port.
 * This shim drops the RX and TX offload bits a device does not offer, in
 * the port and in the queue configurations, and changes nothing else: the
 * offloads were no-ops on these devices anyway (a software device computes
 * no checksum). Built as a shared object, used with LD_PRELOAD, never
 * linked into gnn.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_ethdev.h>

typedef int (*configure_fn)(uint16_t, uint16_t, uint16_t, const struct rte_eth_conf *);
typedef int (*rxq_setup_fn)(uint16_t, uint16_t, uint16_t, unsigned int,
			    const struct rte_eth_rxconf *, struct rte_mempool *);
typedef int (*txq_setup_fn)(uint16_t, uint16_t, uint16_t, unsigned int,
			    const struct rte_eth_txconf *);

static void *
real(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (fn == NULL) {
		fprintf(stderr, "offload_shim: %s not found: %s\n", name, dlerror());
		abort();
	}
	return fn;
}

int
rte_eth_dev_configure(uint16_t port_id, uint16_t nb_rx_q, uint16_t nb_tx_q,
		      const struct rte_eth_conf *dev_conf)
{
	static configure_fn fn;
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf = *dev_conf;

	if (fn == NULL)
		fn = (configure_fn)real("rte_eth_dev_configure");
	if (rte_eth_dev_info_get(port_id, &info) == 0) {
		conf.rxmode.offloads &= info.rx_offload_capa;
		conf.txmode.offloads &= info.tx_offload_capa;
	}
	return fn(port_id, nb_rx_q, nb_tx_q, &conf);
}

int
rte_eth_rx_queue_setup(uint16_t port_id, uint16_t rx_queue_id, uint16_t nb_rx_desc,
		       unsigned int socket_id, const struct rte_eth_rxconf *rx_conf,
		       struct rte_mempool *mb_pool)
{
	static rxq_setup_fn fn;
	struct rte_eth_dev_info info;
	struct rte_eth_rxconf conf;

	if (fn == NULL)
		fn = (rxq_setup_fn)real("rte_eth_rx_queue_setup");
	if (rx_conf == NULL || rte_eth_dev_info_get(port_id, &info) != 0)
		return fn(port_id, rx_queue_id, nb_rx_desc, socket_id, rx_conf, mb_pool);
	conf = *rx_conf;
	conf.offloads &= info.rx_offload_capa | info.rx_queue_offload_capa;
	return fn(port_id, rx_queue_id, nb_rx_desc, socket_id, &conf, mb_pool);
}

int
rte_eth_tx_queue_setup(uint16_t port_id, uint16_t tx_queue_id, uint16_t nb_tx_desc,
		       unsigned int socket_id, const struct rte_eth_txconf *tx_conf)
{
	static txq_setup_fn fn;
	struct rte_eth_dev_info info;
	struct rte_eth_txconf conf;

	if (fn == NULL)
		fn = (txq_setup_fn)real("rte_eth_tx_queue_setup");
	if (tx_conf == NULL || rte_eth_dev_info_get(port_id, &info) != 0)
		return fn(port_id, tx_queue_id, nb_tx_desc, socket_id, tx_conf);
	conf = *tx_conf;
	conf.offloads &= info.tx_offload_capa | info.tx_queue_offload_capa;
	return fn(port_id, tx_queue_id, nb_tx_desc, socket_id, &conf);
}
