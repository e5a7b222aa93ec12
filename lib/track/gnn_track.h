/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_TRACK_H
#define GNN_TRACK_H

/*
 * What the operator's lifecycle commands read (docs/design.md, "The
 * operator's lifecycle"), built from source records (gnn_record.h):
 *
 * - sources: per member, the hosts blocked or would-be blocked, heaviest
 *   first by attempts. A bounded heavy-hitter table (space-saving): when it
 *   is full, a new source takes the place of the lightest one, so a flood
 *   from a million addresses cannot push the real heavy hitters out, and
 *   memory stays fixed. Entries not seen for max_age seconds are forgotten.
 *   A source keeps one verdict: when it changes (would block -> blocked
 *   after the switch to enforce) its counts start again.
 * - accepts: member hosts that answered inbound connections on a blocked
 *   port (SYN-ACKs): likely mail servers. Bounded the same way.
 * - servers: per mail_servers entry of the running file: attempts, packets,
 *   first and last seen sending, "never" until it sends (inbound connections
 *   it accepted are counted apart). Kept across reloads by (member, prefix).
 *
 * Plain C with jansson for the replies, no EAL: gnnd (control lcore) and
 * gnnaudit both use it. Not thread-safe: one thread per tracker.
 */

#include <stdbool.h>
#include <stdint.h>

#include "policy/gnn_policy.h"
#include "track/gnn_record.h"

struct json_t;
struct gnn_track;

#define GNN_TRACK_ALL_SLOTS UINT32_MAX

struct gnn_track_limits {
	uint32_t max_sources; /* blocked / would-block hosts tracked */
	uint32_t max_accepts; /* hosts seen accepting on a blocked port */
	double max_age;	      /* seconds without a record before an entry is forgotten */
};

/* NULL when out of memory. */
struct gnn_track *gnn_track_create(const struct gnn_track_limits *limits);
void gnn_track_destroy(struct gnn_track *t);

/*
 * Add one record whose first and last packets were at first_s and last_s
 * (seconds since the epoch). server is the mail_servers prefix the record's
 * source matched (rec->server != 0), else NULL.
 */
void gnn_track_add(struct gnn_track *t, const struct gnn_source_record *rec, double first_s,
		   double last_s, const struct gnn_prefix *server);

/* One mail_servers entry of the running rules. */
struct gnn_track_server {
	uint32_t slot;
	struct gnn_prefix prefix;
};

/*
 * The running rules' mail_servers entries, in the order the servers reply
 * lists them (gnnd: the file's). An entry already
 * known (same slot and prefix) keeps what it saw; new ones start "never",
 * entries no longer listed are forgotten. loaded_s: when these rules were
 * loaded. 0 or -ENOMEM (nothing changed).
 */
int gnn_track_set_servers(struct gnn_track *t, const struct gnn_track_server *servers, uint32_t n,
			  double loaded_s);

/* Forget everything tracked under slot (it passes to another member). */
void gnn_track_forget_slot(struct gnn_track *t, uint32_t slot);

/* Forget entries not seen since now - max_age. */
void gnn_track_age(struct gnn_track *t, double now);

/*
 * After new rules: verdict(arg, family, addr, &slot) says what a candidate
 * from addr gets now (enum gnn_verdict, and the member's slot or
 * GNN_SLOT_NONE). Sources no longer blocked or would-be blocked, or now in
 * another member, leave the table; those whose verdict changed start their
 * counts again. Each change is passed to changed (may be NULL).
 */
typedef uint8_t (*gnn_track_verdict_fn)(void *arg, uint8_t family, const uint8_t *addr,
					uint32_t *slot);
typedef void (*gnn_track_changed_fn)(void *arg, uint32_t slot, uint8_t family, const uint8_t *addr,
				     uint8_t old_verdict, uint8_t new_verdict);
void gnn_track_reclassify(struct gnn_track *t, gnn_track_verdict_fn verdict,
			  gnn_track_changed_fn changed, void *arg);

/*
 * Event log bookkeeping: true when the source (slot, verdict) has not been
 * logged in the last window seconds, and marks it logged now. A source not
 * in the table is always due; one that enters the table counts as logged
 * at its first record's first packet (the sighting a worker sends before
 * that record is the one to log: a caller asks about sightings before it
 * adds the records that arrived with them).
 */
bool gnn_track_log_due(struct gnn_track *t, uint32_t slot, uint8_t family, const uint8_t *addr,
		       uint8_t verdict, double now, double window);

/* A source as the diff and the reports see it. */
struct gnn_track_host {
	uint32_t slot;
	uint8_t family;
	uint8_t verdict; /* sources: its verdict; accepts: a candidate's from it */
	uint8_t addr[16];
	bool accepted;	   /* from the accepts table */
	bool listed;	   /* a servers entry (addr is its prefix's first address) */
	uint64_t attempts; /* SYNs (sources), SYN-ACKs (accepts) */
	double last_s;
};
typedef void (*gnn_track_host_fn)(void *arg, const struct gnn_track_host *host);
/* Every source, accept and servers entry seen since loaded, in no order. */
void gnn_track_foreach(const struct gnn_track *t, gnn_track_host_fn fn, void *arg);

/* Names for the replies. */
typedef const char *(*gnn_track_name_fn)(void *arg, uint32_t slot);

/*
 * Replies (the JSON of gnnstat top / servers / suggest), for one slot or
 * GNN_TRACK_ALL_SLOTS; NULL when out of memory.
 *  top:     {"sources": [{"address", "member", "verdict", "attempts",
 *           "packets", "destinations", "first_seen", "last_seen", ...}],
 *           "tracked", "evicted", ...}, heaviest first, at most n;
 *  servers: {"servers": [{"member", "server", "attempts", "packets",
 *           "destinations", "accepted", "first_seen", "last_seen" (null:
 *           never sent), "never", "loaded"}]}, first and last seen sending;
 *  accepts: {"hosts": [{"address", "member", "listed", "inbound",
 *           "peers", "outbound_attempts", "first_seen", "last_seen"}]}.
 */
struct json_t *gnn_track_top_json(const struct gnn_track *t, uint32_t slot, unsigned int n,
				  gnn_track_name_fn name, void *arg);
struct json_t *gnn_track_servers_json(const struct gnn_track *t, uint32_t slot,
				      gnn_track_name_fn name, void *arg);
struct json_t *gnn_track_accepts_json(const struct gnn_track *t, uint32_t slot,
				      gnn_track_name_fn name, void *arg);

/* Table sizes, for the stats. */
struct gnn_track_counts {
	uint32_t sources;
	uint32_t accepts;
	uint32_t servers;
	uint64_t evicted; /* sources and accepts that made room for new ones */
	uint64_t aged;	  /* entries forgotten for age */
};
void gnn_track_counts(const struct gnn_track *t, struct gnn_track_counts *out);

/* "blocked", "would_block", "allowed", "forward", "malformed_drop". */
const char *gnn_verdict_name(uint8_t verdict);

#endif /* GNN_TRACK_H */
