/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Top blocked sources. Workers put one event per blocked (or would-block)
 * frame on their own single-producer ring; the control lcore drains the
 * rings into an open-addressing table keyed by source address and answers
 * "top" requests from it. A source seen for the first time is logged, at
 * most LOG_PER_SECOND times a second, so a bot cannot flood the log.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "gnnd.h"

RTE_LOG_REGISTER(gnn_logtype_top, gnn.top, INFO);
#define GNN_LOGTYPE gnn_logtype_top

#define TABLE_SIZE     (1u << 16) /* power of two */
#define TABLE_MAX_FILL (TABLE_SIZE / 4 * 3)
#define DRAIN_BURST    256
#define LOG_PER_SECOND 5

struct top_entry {
	uint8_t used;
	uint8_t family;
	uint16_t slot;
	uint8_t addr[16];
	uint64_t count[2]; /* [0] blocked, [1] would block */
};

static struct {
	struct top_entry *table;
	unsigned int n_entries;
	uint64_t table_full; /* events for new sources once the table is full */
	time_t log_second;
	unsigned int logged_this_second;
	uint64_t log_suppressed;
} top;

int
gnn_top_init(void)
{
	top.table = calloc(TABLE_SIZE, sizeof(*top.table));
	return top.table == NULL ? -ENOMEM : 0;
}

void
gnn_top_fini(void)
{
	free(top.table);
	top.table = NULL;
}

static uint32_t
hash_source(const struct gnn_top_event *ev)
{
	uint32_t h = 2166136261u ^ ev->family; /* FNV-1a */

	for (unsigned int i = 0; i < sizeof(ev->addr); i++)
		h = (h ^ ev->addr[i]) * 16777619u;
	return h ^ ((uint32_t)ev->slot << 7);
}

static const char *
format_addr(uint8_t family, const uint8_t *addr, char *buf, size_t size)
{
	return inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)size);
}

static void
log_new_source(const struct gnn_top_event *ev)
{
	time_t sec = time(NULL);
	char addr[INET6_ADDRSTRLEN];

	if (sec != top.log_second) {
		if (top.log_suppressed > 0)
			GNN_LOG(INFO, "%" PRIu64 " more new sources not logged",
				top.log_suppressed);
		top.log_second = sec;
		top.logged_this_second = 0;
		top.log_suppressed = 0;
	}
	if (top.logged_this_second++ >= LOG_PER_SECOND) {
		top.log_suppressed++;
		return;
	}
	GNN_LOG(INFO, "%s SMTP from %s (member %s)",
		ev->counter == GNN_MC_BLOCKED ? "blocking" : "would block",
		format_addr(ev->family, ev->addr, addr, sizeof(addr)),
		gnn_ctrl_slot_name(ev->slot));
}

static void
record(const struct gnn_top_event *ev)
{
	uint32_t mask = TABLE_SIZE - 1;
	unsigned int c = ev->counter == GNN_MC_BLOCKED ? 0 : 1;

	for (uint32_t i = hash_source(ev) & mask;; i = (i + 1) & mask) {
		struct top_entry *e = &top.table[i];

		if (!e->used) {
			if (top.n_entries >= TABLE_MAX_FILL) {
				top.table_full++;
				return;
			}
			e->used = 1;
			e->family = ev->family;
			e->slot = ev->slot;
			memcpy(e->addr, ev->addr, sizeof(e->addr));
			top.n_entries++;
			log_new_source(ev);
		} else if (e->family != ev->family || e->slot != ev->slot ||
			   memcmp(e->addr, ev->addr, sizeof(e->addr)) != 0) {
			continue;
		}
		e->count[c]++;
		return;
	}
}

void
gnn_top_drain(void)
{
	struct gnn_top_event evs[DRAIN_BURST];

	for (unsigned int w = 0; w < gnnd.n_workers; w++) {
		unsigned int n;

		do {
			n = rte_ring_sc_dequeue_burst_elem(gnnd.workers[w]->top_ring, evs,
							   sizeof(evs[0]), DRAIN_BURST, NULL);
			for (unsigned int i = 0; i < n; i++)
				record(&evs[i]);
		} while (n == DRAIN_BURST);
	}
}

/* Put a copy of e in the first free place of its probe sequence. */
static void
place(const struct top_entry *e)
{
	struct gnn_top_event key = {.family = e->family, .slot = e->slot};
	uint32_t mask = TABLE_SIZE - 1;

	memcpy(key.addr, e->addr, sizeof(key.addr));
	for (uint32_t i = hash_source(&key) & mask;; i = (i + 1) & mask) {
		if (!top.table[i].used) {
			top.table[i] = *e;
			top.n_entries++;
			return;
		}
	}
}

/*
 * Forget the sources counted under slot, which is about to serve another
 * member. Open addressing has no cheap delete: the table is rebuilt. Rare
 * (a slot is reused only after thousands of member names).
 */
void
gnn_top_forget_slot(uint16_t slot)
{
	struct top_entry *old = top.table;
	struct top_entry *fresh = calloc(TABLE_SIZE, sizeof(*fresh));

	if (fresh == NULL)
		return; /* stale names in "top" are better than a failed reload */
	gnn_top_drain();
	top.table = fresh;
	top.n_entries = 0;
	for (unsigned int i = 0; i < TABLE_SIZE; i++)
		if (old[i].used && old[i].slot != slot)
			place(&old[i]);
	free(old);
}

static int
compare_entries(const void *a, const void *b)
{
	const struct top_entry *x = *(const struct top_entry *const *)a;
	const struct top_entry *y = *(const struct top_entry *const *)b;
	uint64_t cx = x->count[0] + x->count[1], cy = y->count[0] + y->count[1];

	return cx < cy ? 1 : (cx > cy ? -1 : 0);
}

json_t *
gnn_top_query(const char *member, unsigned int n)
{
	struct top_entry **sorted;
	unsigned int n_sorted = 0;
	json_t *sources = json_array();

	gnn_top_drain();
	sorted = malloc(sizeof(*sorted) * (top.n_entries + 1));
	if (sorted == NULL)
		return json_pack("{s:s}", "error", "out of memory");
	for (unsigned int i = 0; i < TABLE_SIZE; i++) {
		struct top_entry *e = &top.table[i];

		if (e->used &&
		    (member[0] == '\0' || strcmp(gnn_ctrl_slot_name(e->slot), member) == 0))
			sorted[n_sorted++] = e;
	}
	qsort(sorted, n_sorted, sizeof(*sorted), compare_entries);
	for (unsigned int i = 0; i < n_sorted && i < n; i++) {
		char addr[INET6_ADDRSTRLEN];

		json_array_append_new(sources,
				      json_pack("{s:s, s:s, s:I, s:I}", "address",
						format_addr(sorted[i]->family, sorted[i]->addr,
							    addr, sizeof(addr)),
						"member", gnn_ctrl_slot_name(sorted[i]->slot),
						"blocked", (json_int_t)sorted[i]->count[0],
						"would_block", (json_int_t)sorted[i]->count[1]));
	}
	free(sorted);
	return json_pack("{s:o, s:I, s:I}", "sources", sources, "tracked",
			 (json_int_t)top.n_entries, "untracked_events", (json_int_t)top.table_full);
}
