/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lifecycle tables (see gnn_track.h). Sources and accepts are two
 * instances of one bounded heavy-hitter table: entries in an array, an
 * open-addressing index by key (linear probing, deletion by backward
 * shift), and a binary min-heap by estimated attempts (counted + the error
 * inherited from the entry it replaced, as in space-saving) whose root is
 * the next to make room. Replies report what was counted since the entry
 * came in, and the possible error apart.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "track/gnn_track.h"

#define NO_ENTRY UINT32_MAX

struct key {
	uint32_t slot;
	uint8_t family;
	uint8_t addr[16];
};

struct hh_entry {
	struct key key;
	uint8_t verdict;
	uint8_t logged_verdict; /* 0xff: never logged */
	bool used;
	uint32_t heap_pos;
	uint64_t attempts;
	uint64_t packets;
	uint64_t error; /* attempts the entry it replaced had: an upper bound of what was missed */
	uint64_t sketch;
	double first, last, logged_at;
};

struct hh_table {
	uint32_t cap;
	uint32_t n;
	struct hh_entry *entries;
	uint32_t *free_list; /* entries not in use */
	uint32_t n_free;
	uint32_t *index; /* entry + 1, 0 empty; index_mask + 1 slots */
	uint32_t index_mask;
	uint32_t *heap; /* entry indices, min estimate at the root */
	uint64_t evicted;
	uint64_t aged;
};

struct server_entry {
	struct gnn_track_server def;
	uint64_t attempts, packets, accepted;
	uint64_t sketch;    /* destinations of its attempts */
	double first, last; /* 0: never seen since loaded */
	double loaded;
};

struct gnn_track {
	struct gnn_track_limits limits;
	struct hh_table sources;
	struct hh_table accepts;
	struct server_entry *servers;
	uint32_t n_servers;
	uint32_t *server_index; /* server + 1 by (slot, prefix) */
	uint32_t server_index_mask;
};

/* ---- keys and hashing ---- */

static void
make_key(struct key *k, uint32_t slot, uint8_t family, const uint8_t *addr)
{
	memset(k, 0, sizeof(*k));
	k->slot = slot;
	k->family = family;
	memcpy(k->addr, addr, family == 4 ? 4 : 16);
}

static uint32_t
hash_bytes(const void *data, size_t len, uint32_t h)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u; /* FNV-1a */
	return h ^ (h >> 15);
}

static uint32_t
hash_key(const struct key *k)
{
	uint32_t h = hash_bytes(&k->slot, sizeof(k->slot), 2166136261u);

	h = hash_bytes(&k->family, 1, h);
	return hash_bytes(k->addr, sizeof(k->addr), h);
}

static bool
same_key(const struct key *a, const struct key *b)
{
	return a->slot == b->slot && a->family == b->family &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* ---- the heavy-hitter table ---- */

static uint64_t
estimate(const struct hh_entry *e)
{
	return e->attempts + e->error;
}

static void
heap_swap(struct hh_table *h, uint32_t i, uint32_t j)
{
	uint32_t a = h->heap[i], b = h->heap[j];

	h->heap[i] = b;
	h->heap[j] = a;
	h->entries[b].heap_pos = i;
	h->entries[a].heap_pos = j;
}

static bool
heap_less(const struct hh_table *h, uint32_t i, uint32_t j)
{
	const struct hh_entry *a = &h->entries[h->heap[i]], *b = &h->entries[h->heap[j]];

	if (estimate(a) != estimate(b))
		return estimate(a) < estimate(b);
	return a->last < b->last; /* of two as light, the staler goes first */
}

static void
heap_up(struct hh_table *h, uint32_t i)
{
	while (i > 0 && heap_less(h, i, (i - 1) / 2)) {
		heap_swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(struct hh_table *h, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->n && heap_less(h, l, m))
			m = l;
		if (r < h->n && heap_less(h, r, m))
			m = r;
		if (m == i)
			return;
		heap_swap(h, i, m);
		i = m;
	}
}

static int
hh_init(struct hh_table *h, uint32_t cap)
{
	uint32_t slots = 16;

	if (cap == 0)
		cap = 1;
	while (slots < 2 * cap)
		slots *= 2;
	memset(h, 0, sizeof(*h));
	h->cap = cap;
	h->entries = calloc(cap, sizeof(*h->entries));
	h->free_list = malloc(sizeof(*h->free_list) * cap);
	h->heap = malloc(sizeof(*h->heap) * cap);
	h->index = calloc(slots, sizeof(*h->index));
	if (h->entries == NULL || h->free_list == NULL || h->heap == NULL || h->index == NULL)
		return -ENOMEM;
	h->index_mask = slots - 1;
	for (uint32_t i = 0; i < cap; i++)
		h->free_list[i] = cap - 1 - i;
	h->n_free = cap;
	return 0;
}

static void
hh_fini(struct hh_table *h)
{
	free(h->entries);
	free(h->free_list);
	free(h->heap);
	free(h->index);
	memset(h, 0, sizeof(*h));
}

static uint32_t
hh_find(const struct hh_table *h, const struct key *k)
{
	for (uint32_t i = hash_key(k) & h->index_mask;; i = (i + 1) & h->index_mask) {
		uint32_t v = h->index[i];

		if (v == 0)
			return NO_ENTRY;
		if (same_key(&h->entries[v - 1].key, k))
			return v - 1;
	}
}

static void
index_remove(struct hh_table *h, uint32_t entry)
{
	uint32_t mask = h->index_mask;
	uint32_t i = hash_key(&h->entries[entry].key) & mask;

	while (h->index[i] != entry + 1)
		i = (i + 1) & mask;
	/* Backward shift: pull later members of the probe run into the hole. */
	for (uint32_t j = (i + 1) & mask; h->index[j] != 0; j = (j + 1) & mask) {
		uint32_t home = hash_key(&h->entries[h->index[j] - 1].key) & mask;

		/* j's entry may fill the hole at i when its home lies cyclically outside (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			h->index[i] = h->index[j];
			i = j;
		}
	}
	h->index[i] = 0;
}

static void
index_put(struct hh_table *h, uint32_t entry)
{
	uint32_t i = hash_key(&h->entries[entry].key) & h->index_mask;

	while (h->index[i] != 0)
		i = (i + 1) & h->index_mask;
	h->index[i] = entry + 1;
}

static void
hh_remove(struct hh_table *h, uint32_t entry)
{
	uint32_t pos = h->entries[entry].heap_pos;

	index_remove(h, entry);
	h->entries[entry].used = false;
	h->n--;
	if (pos != h->n) {
		heap_swap(h, pos, h->n);
		heap_down(h, pos);
		heap_up(h, pos);
	}
	h->free_list[h->n_free++] = entry;
}

/* The entry of k, made if needed (taking the lightest one's place when full). */
static struct hh_entry *
hh_get(struct hh_table *h, const struct key *k, bool *fresh)
{
	uint32_t entry = hh_find(h, k);
	uint64_t error = 0;
	struct hh_entry *e;

	*fresh = false;
	if (entry != NO_ENTRY)
		return &h->entries[entry];
	if (h->n_free == 0) {
		entry = h->heap[0];
		error = estimate(&h->entries[entry]);
		hh_remove(h, entry);
		h->evicted++;
	}
	entry = h->free_list[--h->n_free];
	e = &h->entries[entry];
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->used = true;
	e->error = error;
	e->logged_verdict = 0xff;
	index_put(h, entry);
	e->heap_pos = h->n;
	h->heap[h->n++] = entry;
	heap_up(h, e->heap_pos);
	*fresh = true;
	return e;
}

/* The entry's estimate grew: restore the heap. */
static void
hh_grew(struct hh_table *h, struct hh_entry *e)
{
	heap_down(h, e->heap_pos);
}

static void
hh_restart(struct hh_table *h, struct hh_entry *e, uint8_t verdict)
{
	e->verdict = verdict;
	e->attempts = e->packets = e->error = e->sketch = 0;
	e->first = e->last = 0;
	heap_down(h, e->heap_pos);
	heap_up(h, e->heap_pos);
}

static void
hh_add(struct hh_table *h, struct hh_entry *e, const struct gnn_source_record *r, double first,
       double last)
{
	e->attempts += r->attempts;
	e->packets += r->packets;
	e->sketch = gnn_hll_merge(e->sketch, r->dst_sketch);
	if (e->first == 0 || first < e->first)
		e->first = first;
	if (last > e->last)
		e->last = last;
	hh_grew(h, e);
}

/* ---- servers ---- */

static uint32_t
hash_server(const struct gnn_track_server *s)
{
	uint32_t h = hash_bytes(&s->slot, sizeof(s->slot), 2166136261u);

	h = hash_bytes(&s->prefix.family, 1, h);
	h = hash_bytes(&s->prefix.len, 1, h);
	return hash_bytes(s->prefix.addr, sizeof(s->prefix.addr), h);
}

static bool
same_server(const struct gnn_track_server *a, const struct gnn_track_server *b)
{
	return a->slot == b->slot && a->prefix.family == b->prefix.family &&
	       a->prefix.len == b->prefix.len &&
	       memcmp(a->prefix.addr, b->prefix.addr, sizeof(a->prefix.addr)) == 0;
}

static struct server_entry *
find_server(const struct gnn_track *t, const struct gnn_track_server *def)
{
	if (t->server_index == NULL)
		return NULL;
	for (uint32_t i = hash_server(def) & t->server_index_mask;;
	     i = (i + 1) & t->server_index_mask) {
		uint32_t v = t->server_index[i];

		if (v == 0)
			return NULL;
		if (same_server(&t->servers[v - 1].def, def))
			return &t->servers[v - 1];
	}
}

int
gnn_track_set_servers(struct gnn_track *t, const struct gnn_track_server *servers, uint32_t n,
		      double loaded_s)
{
	struct server_entry *fresh = calloc(n ? n : 1, sizeof(*fresh));
	uint32_t slots = 16, *index;

	while (slots < 2 * n)
		slots *= 2;
	index = calloc(slots, sizeof(*index));
	if (fresh == NULL || index == NULL) {
		free(fresh);
		free(index);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct server_entry *old = find_server(t, &servers[i]);
		uint32_t k;

		if (old != NULL) {
			fresh[i] = *old;
		} else {
			fresh[i].def = servers[i];
			fresh[i].loaded = loaded_s;
		}
		for (k = hash_server(&servers[i]) & (slots - 1); index[k] != 0;
		     k = (k + 1) & (slots - 1))
			;
		index[k] = i + 1;
	}
	free(t->servers);
	free(t->server_index);
	t->servers = fresh;
	t->n_servers = n;
	t->server_index = index;
	t->server_index_mask = slots - 1;
	return 0;
}

/* ---- feeding ---- */

void
gnn_track_add(struct gnn_track *t, const struct gnn_source_record *r, double first_s, double last_s,
	      const struct gnn_prefix *server)
{
	struct gnn_track_server def;
	struct hh_table *h;
	struct hh_entry *e;
	struct key k;
	bool fresh;

	if (r->slot == GNN_SLOT_NONE || r->packets == 0)
		return;
	if (server != NULL) {
		struct server_entry *s;

		def.slot = r->slot;
		def.prefix = *server;
		s = find_server(t, &def);
		if (s != NULL && r->kind == GNN_RECORD_ACCEPTED) {
			s->accepted += r->attempts;
		} else if (s != NULL) {
			/* Seen is seen sending: a server that only receives is "never". */
			s->attempts += r->attempts;
			s->packets += r->packets;
			s->sketch = gnn_hll_merge(s->sketch, r->dst_sketch);
			if (s->first == 0 || first_s < s->first)
				s->first = first_s;
			if (last_s > s->last)
				s->last = last_s;
		}
	}
	if (r->kind == GNN_RECORD_SENT &&
	    (r->verdict == GNN_VERDICT_BLOCKED || r->verdict == GNN_VERDICT_WOULD_BLOCK))
		h = &t->sources;
	else if (r->kind == GNN_RECORD_ACCEPTED && r->verdict != GNN_VERDICT_FORWARD)
		h = &t->accepts;
	else
		return;
	make_key(&k, r->slot, r->family, r->src);
	e = hh_get(h, &k, &fresh);
	if (fresh) {
		/* Its first sighting came before this record: that was the one to log. */
		e->verdict = r->verdict;
		e->logged_verdict = r->verdict;
		e->logged_at = first_s;
	} else if (e->verdict != r->verdict)
		hh_restart(h, e, r->verdict); /* a new verdict starts a new history */
	hh_add(h, e, r, first_s, last_s);
}

/*
 * The table's entries in use, as entry indices: removing or re-weighing one
 * moves others in the heap, never in the entry array. Caller frees.
 */
static uint32_t *
snapshot(const struct hh_table *h, uint32_t *n)
{
	uint32_t *list = malloc(sizeof(*list) * (h->n + 1));

	*n = 0;
	if (list == NULL)
		return NULL;
	memcpy(list, h->heap, sizeof(*list) * h->n);
	*n = h->n;
	return list;
}

void
gnn_track_forget_slot(struct gnn_track *t, uint32_t slot)
{
	struct hh_table *tables[2] = {&t->sources, &t->accepts};

	for (unsigned int k = 0; k < 2; k++) {
		struct hh_table *h = tables[k];
		uint32_t n, *list = snapshot(h, &n);

		for (uint32_t i = 0; i < n; i++)
			if (h->entries[list[i]].key.slot == slot)
				hh_remove(h, list[i]);
		free(list);
	}
}

void
gnn_track_age(struct gnn_track *t, double now)
{
	struct hh_table *tables[2] = {&t->sources, &t->accepts};

	for (unsigned int k = 0; k < 2; k++) {
		struct hh_table *h = tables[k];
		uint32_t n, *list = snapshot(h, &n);

		for (uint32_t i = 0; i < n; i++) {
			if (h->entries[list[i]].last < now - t->limits.max_age) {
				hh_remove(h, list[i]);
				h->aged++;
			}
		}
		free(list);
	}
}

void
gnn_track_reclassify(struct gnn_track *t, gnn_track_verdict_fn verdict,
		     gnn_track_changed_fn changed, void *arg)
{
	struct hh_table *h = &t->sources;
	uint32_t n, *list = snapshot(h, &n);

	for (uint32_t i = 0; i < n; i++) {
		struct hh_entry *e = &h->entries[list[i]];
		uint32_t slot = GNN_SLOT_NONE;
		uint8_t v, old;

		v = verdict(arg, e->key.family, e->key.addr, &slot);
		if (v == e->verdict && slot == e->key.slot)
			continue;
		old = e->verdict;
		if (changed != NULL)
			changed(arg, e->key.slot, e->key.family, e->key.addr, old, v);
		if (slot != e->key.slot ||
		    (v != GNN_VERDICT_BLOCKED && v != GNN_VERDICT_WOULD_BLOCK))
			hh_remove(h, list[i]);
		else
			hh_restart(h, e, v);
	}
	free(list);
	/* Accepts keep their counts: only whether the host is listed may change. */
	for (uint32_t i = 0; i < t->accepts.n; i++) {
		struct hh_entry *e = &t->accepts.entries[t->accepts.heap[i]];
		uint32_t slot = GNN_SLOT_NONE;

		e->verdict = verdict(arg, e->key.family, e->key.addr, &slot);
	}
}

bool
gnn_track_log_due(struct gnn_track *t, uint32_t slot, uint8_t family, const uint8_t *addr,
		  uint8_t verdict, double now, double window)
{
	struct key k;
	uint32_t entry;
	struct hh_entry *e;

	make_key(&k, slot, family, addr);
	entry = hh_find(&t->sources, &k);
	if (entry == NO_ENTRY)
		return true;
	e = &t->sources.entries[entry];
	if (e->logged_verdict == verdict && now - e->logged_at < window)
		return false;
	e->logged_verdict = verdict;
	e->logged_at = now;
	return true;
}

/* ---- reports ---- */

static const char *
format_addr(uint8_t family, const uint8_t *addr, char *buf, size_t size)
{
	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)size) == NULL)
		return "?";
	return buf;
}

static json_t *
time_or_null(double t)
{
	return t > 0 ? json_real(t) : json_null();
}

static bool
wanted(uint32_t slot, uint32_t filter)
{
	return filter == GNN_TRACK_ALL_SLOTS || filter == slot;
}

static int
heavier_first(const void *a, const void *b)
{
	const struct hh_entry *x = *(const struct hh_entry *const *)a;
	const struct hh_entry *y = *(const struct hh_entry *const *)b;

	if (x->attempts != y->attempts)
		return x->attempts < y->attempts ? 1 : -1;
	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	return memcmp(x->key.addr, y->key.addr, sizeof(x->key.addr));
}

/* The table's entries of slot, heaviest first; *n is set. Caller frees. */
static const struct hh_entry **
sorted_entries(const struct hh_table *h, uint32_t slot, uint32_t *n)
{
	const struct hh_entry **out = malloc(sizeof(*out) * (h->n + 1));

	*n = 0;
	if (out == NULL)
		return NULL;
	for (uint32_t i = 0; i < h->n; i++) {
		const struct hh_entry *e = &h->entries[h->heap[i]];

		if (wanted(e->key.slot, slot))
			out[(*n)++] = e;
	}
	qsort(out, *n, sizeof(*out), heavier_first);
	return out;
}

static uint64_t
destinations(uint64_t sketch)
{
	return (uint64_t)llround(gnn_hll_estimate(sketch));
}

json_t *
gnn_track_top_json(const struct gnn_track *t, uint32_t slot, unsigned int n, gnn_track_name_fn name,
		   void *arg)
{
	uint32_t count;
	const struct hh_entry **sorted = sorted_entries(&t->sources, slot, &count);
	json_t *list = json_array();
	char buf[64];

	if (sorted == NULL || list == NULL) {
		free(sorted);
		json_decref(list);
		return NULL;
	}
	for (uint32_t i = 0; i < count && i < n; i++) {
		const struct hh_entry *e = sorted[i];

		json_array_append_new(
			list,
			json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:I}",
				  "address",
				  format_addr(e->key.family, e->key.addr, buf, sizeof(buf)),
				  "member", name(arg, e->key.slot), "verdict",
				  gnn_verdict_name(e->verdict), "attempts", (json_int_t)e->attempts,
				  "packets", (json_int_t)e->packets, "destinations",
				  (json_int_t)destinations(e->sketch), "attempts_error",
				  (json_int_t)e->error, "first_seen", time_or_null(e->first),
				  "last_seen", time_or_null(e->last),
				  /* the counters of the earlier reply, kept for old clients */
				  "blocked",
				  (json_int_t)(e->verdict == GNN_VERDICT_BLOCKED ? e->packets : 0),
				  "would_block",
				  (json_int_t)(e->verdict == GNN_VERDICT_WOULD_BLOCK ? e->packets
										     : 0)));
	}
	free(sorted);
	return json_pack("{s:o, s:I, s:I, s:I, s:I}", "sources", list, "tracked",
			 (json_int_t)t->sources.n, "capacity", (json_int_t)t->sources.cap,
			 "evicted", (json_int_t)t->sources.evicted, "aged",
			 (json_int_t)t->sources.aged);
}

json_t *
gnn_track_servers_json(const struct gnn_track *t, uint32_t slot, gnn_track_name_fn name, void *arg)
{
	/* In the order gnn_track_set_servers() got them: the file's, in gnnd. */
	const struct server_entry **chosen = malloc(sizeof(*chosen) * (t->n_servers + 1));
	json_t *list = json_array();
	uint32_t n = 0;
	char buf[64];

	if (chosen == NULL || list == NULL) {
		free(chosen);
		json_decref(list);
		return NULL;
	}
	for (uint32_t i = 0; i < t->n_servers; i++)
		if (wanted(t->servers[i].def.slot, slot))
			chosen[n++] = &t->servers[i];
	for (uint32_t i = 0; i < n; i++) {
		const struct server_entry *s = chosen[i];

		json_array_append_new(
			list,
			json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:b, s:f}", "member",
				  name(arg, s->def.slot), "server",
				  gnn_prefix_format(&s->def.prefix, buf, sizeof(buf)), "attempts",
				  (json_int_t)s->attempts, "packets", (json_int_t)s->packets,
				  "destinations", (json_int_t)destinations(s->sketch), "accepted",
				  (json_int_t)s->accepted, "first_seen", time_or_null(s->first),
				  "last_seen", time_or_null(s->last), "never", s->last == 0,
				  "loaded", s->loaded));
	}
	free(chosen);
	return json_pack("{s:o}", "servers", list);
}

/* Outbound attempts the sources table holds for this host. */
static uint64_t
outbound_attempts(const struct gnn_track *t, const struct key *k)
{
	uint32_t entry = hh_find(&t->sources, k);

	return entry == NO_ENTRY ? 0 : t->sources.entries[entry].attempts;
}

json_t *
gnn_track_accepts_json(const struct gnn_track *t, uint32_t slot, gnn_track_name_fn name, void *arg)
{
	uint32_t count;
	const struct hh_entry **sorted = sorted_entries(&t->accepts, slot, &count);
	json_t *list = json_array();
	char buf[64];

	if (sorted == NULL || list == NULL) {
		free(sorted);
		json_decref(list);
		return NULL;
	}
	for (uint32_t i = 0; i < count; i++) {
		const struct hh_entry *e = sorted[i];

		json_array_append_new(
			list,
			json_pack("{s:s, s:s, s:b, s:s, s:I, s:I, s:I, s:I, s:o, s:o}", "address",
				  format_addr(e->key.family, e->key.addr, buf, sizeof(buf)),
				  "member", name(arg, e->key.slot), "listed",
				  e->verdict == GNN_VERDICT_ALLOWED, "verdict",
				  gnn_verdict_name(e->verdict), "inbound", (json_int_t)e->attempts,
				  "packets", (json_int_t)e->packets, "peers",
				  (json_int_t)destinations(e->sketch), "outbound_attempts",
				  (json_int_t)outbound_attempts(t, &e->key), "first_seen",
				  time_or_null(e->first), "last_seen", time_or_null(e->last)));
	}
	free(sorted);
	return json_pack("{s:o, s:I, s:I}", "hosts", list, "tracked", (json_int_t)t->accepts.n,
			 "evicted", (json_int_t)t->accepts.evicted);
}

void
gnn_track_foreach(const struct gnn_track *t, gnn_track_host_fn fn, void *arg)
{
	const struct hh_table *tables[2] = {&t->sources, &t->accepts};

	for (unsigned int k = 0; k < 2; k++) {
		for (uint32_t i = 0; i < tables[k]->n; i++) {
			const struct hh_entry *e = &tables[k]->entries[tables[k]->heap[i]];
			struct gnn_track_host host = {
				.slot = e->key.slot,
				.family = e->key.family,
				.verdict = e->verdict,
				.accepted = k == 1,
				.attempts = e->attempts,
				.last_s = e->last,
			};

			memcpy(host.addr, e->key.addr, sizeof(host.addr));
			fn(arg, &host);
		}
	}
	for (uint32_t i = 0; i < t->n_servers; i++) {
		const struct server_entry *s = &t->servers[i];
		struct gnn_track_host host = {
			.slot = s->def.slot,
			.family = s->def.prefix.family,
			.verdict = GNN_VERDICT_ALLOWED,
			.listed = true,
			.attempts = s->attempts,
			.last_s = s->last,
		};

		if (s->last == 0)
			continue; /* never seen: no traffic to compare */
		memcpy(host.addr, s->def.prefix.addr, sizeof(host.addr));
		fn(arg, &host);
	}
}

void
gnn_track_counts(const struct gnn_track *t, struct gnn_track_counts *out)
{
	out->sources = t->sources.n;
	out->accepts = t->accepts.n;
	out->servers = t->n_servers;
	out->evicted = t->sources.evicted + t->accepts.evicted;
	out->aged = t->sources.aged + t->accepts.aged;
}

const char *
gnn_verdict_name(uint8_t verdict)
{
	switch (verdict) {
	case GNN_VERDICT_FORWARD:
		return "forward";
	case GNN_VERDICT_ALLOWED:
		return "allowed";
	case GNN_VERDICT_WOULD_BLOCK:
		return "would_block";
	case GNN_VERDICT_BLOCKED:
		return "blocked";
	case GNN_VERDICT_MALFORMED_DROP:
		return "malformed_drop";
	}
	return "unknown";
}

struct gnn_track *
gnn_track_create(const struct gnn_track_limits *limits)
{
	struct gnn_track *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->limits = *limits;
	if (hh_init(&t->sources, limits->max_sources) != 0 ||
	    hh_init(&t->accepts, limits->max_accepts) != 0) {
		gnn_track_destroy(t);
		return NULL;
	}
	return t;
}

void
gnn_track_destroy(struct gnn_track *t)
{
	if (t == NULL)
		return;
	hh_fini(&t->sources);
	hh_fini(&t->accepts);
	free(t->servers);
	free(t->server_index);
	free(t);
}
