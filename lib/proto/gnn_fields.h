/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_FIELDS_H
#define GNN_FIELDS_H

/*
 * The JSON field names of the control socket's replies, in one place for
 * gnnd (which writes them) and gnnstat (which reads them). The contract is
 * docs/design.md, "JSON": fields are only ever added, and api_version
 * changes only if one ever has to change meaning.
 */

#define GNN_API_VERSION 1

/* stats: top level */
#define GNN_F_API_VERSION	 "api_version"
#define GNN_F_GENERATION	 "generation"
#define GNN_F_RELOADS		 "reloads"
#define GNN_F_RELOAD_FAILURES	 "reload_failures"
#define GNN_F_LAST_ERROR	 "last_error"
#define GNN_F_LAST_RELOAD	 "last_reload"
#define GNN_F_STARTED		 "started"
#define GNN_F_TIME		 "time"
#define GNN_F_RELOAD_IN_PROGRESS "reload_in_progress"
#define GNN_F_MBUFS_IN_USE	 "mbufs_in_use"
#define GNN_F_PORTS		 "ports"
#define GNN_F_TOTALS		 "totals"
#define GNN_F_MALFORMED		 "malformed"
#define GNN_F_MEMBERS		 "members"
#define GNN_F_MEMBERS_MATCHED	 "members_matched" /* members the request's filter kept */
#define GNN_F_DATAPATH		 "datapath"
#define GNN_F_RULES		 "rules"

/* stats: ports[] */
#define GNN_F_NAME	 "name"
#define GNN_F_ROLE	 "role"
#define GNN_F_RX_PACKETS "rx_packets"
#define GNN_F_TX_PACKETS "tx_packets"
#define GNN_F_RX_MISSED	 "rx_missed"
#define GNN_F_TX_DROPPED "tx_dropped"
#define GNN_F_RX_NOMBUF	 "rx_nombuf"
#define GNN_F_LINK_UP	 "link_up"

/* stats: totals (rx_packets, tx_dropped as above) */
#define GNN_F_FORWARDED		  "forwarded"
#define GNN_F_BLOCKED		  "blocked"
#define GNN_F_WOULD_BLOCK	  "would_block"
#define GNN_F_ALLOWED		  "allowed"
#define GNN_F_MALFORMED_DROPPED	  "malformed_dropped"
#define GNN_F_MALFORMED_FORWARDED "malformed_forwarded"
#define GNN_F_TOP_EVENTS_LOST	  "top_events_lost"

/* stats: members[] (name, allowed, blocked, would_block as above) */
#define GNN_F_MODE	       "mode"
#define GNN_F_ACTION	       "action"
#define GNN_F_ALLOWED_RATE     "allowed_rate" /* packets/s over the last second */
#define GNN_F_BLOCKED_RATE     "blocked_rate"
#define GNN_F_WOULD_BLOCK_RATE "would_block_rate"

/* stats: datapath */
#define GNN_F_RECORDS_LOST    "records_lost"
#define GNN_F_SIGHTINGS_LOST  "sightings_lost"
#define GNN_F_REJECTS_SENT    "rejects_sent"
#define GNN_F_REJECTS_LIMITED "rejects_limited"
#define GNN_F_CACHE_HITS      "cache_hits"
#define GNN_F_CACHE_MISSES    "cache_misses"
#define GNN_F_CLASSIFY_ALG    "classify_alg"
#define GNN_F_SOURCES_TRACKED "sources_tracked"
#define GNN_F_ACCEPTS_TRACKED "accepts_tracked"
#define GNN_F_SERVERS_TRACKED "servers_tracked"
#define GNN_F_EVICTED	      "evicted"
#define GNN_F_AGED	      "aged"
#define GNN_F_STALE_RECORDS   "stale_records"
#define GNN_F_WORKERS	      "workers"
#define GNN_F_PER_WORKER      "per_worker" /* [{lcore, queues, rx_packets, tx_packets}] */
#define GNN_F_LCORE	      "lcore"
#define GNN_F_QUEUES	      "queues" /* RX queues the worker polls */
/* stats: datapath, the IPFIX export (docs/monitoring.md) */
#define GNN_F_IPFIX_COLLECTOR	  "ipfix_collector" /* "ADDRESS:PORT", null: no export */
#define GNN_F_IPFIX_RECORDS_SENT  "ipfix_records_sent"
#define GNN_F_IPFIX_MESSAGES_SENT "ipfix_messages_sent"
#define GNN_F_IPFIX_SEND_ERRORS	  "ipfix_send_errors"
#define GNN_F_IPFIX_RECORDS_LOST  "ipfix_records_lost" /* ring full, send failed, export off */
/* datapath.stage_cycles, only in a -Dstage_cycles=true build: TSC cycles
 * per fast-path stage summed over the workers, and the frames they cover */
#define GNN_F_STAGE_CYCLES   "stage_cycles"
#define GNN_F_STAGE_RX	     "rx"
#define GNN_F_STAGE_PARSE    "parse"
#define GNN_F_STAGE_CLASSIFY "classify" /* rte_acl_classify calls */
#define GNN_F_STAGE_JUDGE    "judge"	/* the judge less classify */
#define GNN_F_STAGE_ACT	     "act"
#define GNN_F_STAGE_TX	     "tx"
#define GNN_F_STAGE_PKTS     "packets"
#define GNN_F_STAGE_BURSTS   "bursts"
#define GNN_F_STAGE_TSC_HZ   "tsc_hz"

/* stats: rules */
#define GNN_F_MEMBERS_TOTAL "members"
#define GNN_F_SERVERS	    "servers"
#define GNN_F_RULES4	    "rules_ipv4"
#define GNN_F_RULES6	    "rules_ipv6"
#define GNN_F_ACL_MEMORY    "acl_memory"
#define GNN_F_BUILD_SECONDS "build_seconds"

#endif /* GNN_FIELDS_H */
