/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_LOG_H
#define GNN_LOG_H

/*
 * Logging for the modules that link DPDK. Each module registers its own log
 * type (RTE_LOG_REGISTER(gnn_logtype_acl, gnn.acl, INFO)) and defines
 * GNN_LOGTYPE to it before using GNN_LOG(), which adds the prefix and the
 * newline. Never on a worker's fast path. Any thread.
 */

#include <rte_log.h>

#ifndef GNN_LOG_PREFIX
#define GNN_LOG_PREFIX "gnn: "
#endif

#define GNN_LOG(level, fmt, ...)                                                                   \
	rte_log(RTE_LOG_##level, GNN_LOGTYPE, GNN_LOG_PREFIX fmt "\n", ##__VA_ARGS__)

#endif /* GNN_LOG_H */
