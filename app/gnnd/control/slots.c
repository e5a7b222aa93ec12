/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/counters.h"
#include "control/slots.h"
#include "policy/gnn_policy.h"

#define MAX_LISTENERS 4

struct slot {
	char name[GNN_NAME_MAX];
	uint64_t since;			 /* generation */
	struct gnn_member_counters base; /* counts of earlier names */
};

static struct {
	struct slot *slots;
	uint32_t n, cap;
	/* name -> slot + 1 (0: empty), open addressing, cap_index a power of two */
	uint32_t *index;
	uint32_t cap_index;
	unsigned int n_listeners;
	gnn_slots_reuse_fn listeners[MAX_LISTENERS];
	void *listener_args[MAX_LISTENERS];
} reg;

static uint32_t
hash_name(const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *name != '\0'; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return h;
}

static int
find_slot(const char *name)
{
	uint32_t mask = reg.cap_index - 1;

	if (reg.cap_index == 0)
		return -1;
	for (uint32_t i = hash_name(name) & mask;; i = (i + 1) & mask) {
		uint32_t v = reg.index[i];

		if (v == 0)
			return -1;
		if (strcmp(reg.slots[v - 1].name, name) == 0)
			return (int)(v - 1);
	}
}

static void
index_put(uint32_t slot)
{
	uint32_t mask = reg.cap_index - 1;
	uint32_t i = hash_name(reg.slots[slot].name) & mask;

	while (reg.index[i] != 0)
		i = (i + 1) & mask;
	reg.index[i] = slot + 1;
}

/* Rebuild the name index for at least n names (kept at most half full). */
static int
index_rebuild(uint32_t n)
{
	uint32_t cap = 64;

	while (cap < 2 * n)
		cap *= 2;
	free(reg.index);
	reg.index = calloc(cap, sizeof(*reg.index));
	if (reg.index == NULL) {
		reg.cap_index = 0;
		return -ENOMEM;
	}
	reg.cap_index = cap;
	for (uint32_t s = 0; s < reg.n; s++)
		index_put(s);
	return 0;
}

static int
reserve(uint32_t n)
{
	struct slot *grown;
	uint32_t cap = reg.cap ? reg.cap : 64;

	if (n <= reg.cap)
		return 0;
	while (cap < n)
		cap *= 2;
	grown = realloc(reg.slots, sizeof(*grown) * cap);
	if (grown == NULL)
		return -ENOMEM;
	reg.slots = grown;
	reg.cap = cap;
	return 0;
}

static bool
in_policy(const struct gnn_policy *p, const char *name)
{
	return p != NULL && gnn_policy_find_member(p, name) >= 0;
}

int
gnn_slots_assign(const struct gnn_policy *running, const struct gnn_policy *next,
		 uint64_t generation, uint32_t *slots)
{
	uint32_t n_new = 0, dead_cursor = 0;
	struct gnn_stats_total *total = NULL;
	bool reuse;

	for (uint32_t m = 0; m < next->n_members; m++)
		n_new += find_slot(next->members[m].name) < 0;
	/* Fresh slots while they stay within twice the members; then reuse dead ones. */
	reuse = reg.n + n_new > 2 * next->n_members;
	if (reserve(reg.n + n_new) != 0 || index_rebuild(reg.n + n_new) != 0)
		return -ENOMEM;
	for (uint32_t m = 0; m < next->n_members; m++) {
		const char *name = next->members[m].name;
		int slot = find_slot(name);

		if (slot >= 0) {
			slots[m] = (uint32_t)slot;
			continue;
		}
		while (reuse && dead_cursor < reg.n &&
		       (in_policy(running, reg.slots[dead_cursor].name) ||
			in_policy(next, reg.slots[dead_cursor].name)))
			dead_cursor++;
		if (reuse && dead_cursor < reg.n) {
			slot = (int)dead_cursor++;
			if (total == NULL && (total = gnn_counters_sum(reg.n)) == NULL)
				return -ENOMEM;
			reg.slots[slot].base = total->member[slot];
			for (unsigned int l = 0; l < reg.n_listeners; l++)
				reg.listeners[l]((uint32_t)slot, reg.listener_args[l]);
		} else {
			slot = (int)reg.n++;
			memset(&reg.slots[slot].base, 0, sizeof(reg.slots[slot].base));
		}
		snprintf(reg.slots[slot].name, GNN_NAME_MAX, "%s", name);
		reg.slots[slot].since = generation;
		slots[m] = (uint32_t)slot;
	}
	gnn_counters_free(total);
	/* Names changed hands: the index is rebuilt for them. */
	return index_rebuild(reg.n);
}

uint32_t
gnn_slots_count(void)
{
	return reg.n;
}

const char *
gnn_slots_name(uint32_t slot)
{
	return slot < reg.n ? reg.slots[slot].name : "";
}

uint64_t
gnn_slots_since(uint32_t slot)
{
	return slot < reg.n ? reg.slots[slot].since : 0;
}

void
gnn_slots_counters(const struct gnn_stats_total *total, uint32_t slot, uint64_t out[GNN_MC_MAX])
{
	for (int c = 0; c < GNN_MC_MAX; c++)
		out[c] = slot < reg.n && slot < total->n_member_slots
				 ? total->member[slot].c[c] - reg.slots[slot].base.c[c]
				 : 0;
}

int
gnn_slots_on_reuse(gnn_slots_reuse_fn fn, void *arg)
{
	if (reg.n_listeners == MAX_LISTENERS)
		return -ENOSPC;
	reg.listeners[reg.n_listeners] = fn;
	reg.listener_args[reg.n_listeners++] = arg;
	return 0;
}

void
gnn_slots_fini(void)
{
	free(reg.slots);
	free(reg.index);
	memset(&reg, 0, sizeof(reg));
}
