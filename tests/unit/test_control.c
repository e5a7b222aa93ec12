/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of two control-plane modules of gnnd that need no EAL:
 *
 * - the counter-slot registry (app/gnnd/control/slots.c): a name keeps its
 *   slot across reloads, new names take fresh slots while the slots stay
 *   within twice the members, then the slots of names in neither the
 *   running nor the next file, with a baseline so the new member starts at
 *   zero and the listeners told. The counter sums it reads are a stub
 *   here (gnn_counters_sum() below), the workers' counters an array;
 * - the event loop (app/gnnd/control/loop.c): callbacks per descriptor,
 *   a descriptor deleted (and its number reused) from a callback of the
 *   same round, periodic timers that run once when late, the limits.
 */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/gnn_clock.h"
#include "control/counters.h"
#include "control/loop.h"
#include "control/slots.h"
#include "policy/gnn_policy.h"
#include "stats/gnn_stats.h"

/* ---- the counter sums, as the workers would have them ---- */

#define MAX_FAKE_SLOTS 65536

static struct gnn_member_counters fake_counts[MAX_FAKE_SLOTS];
static unsigned int n_sums;
static bool sum_fails;

struct gnn_stats_total *
gnn_counters_sum(uint32_t n_slots)
{
	struct gnn_stats_total *total;

	n_sums++;
	if (sum_fails)
		return NULL;
	total = calloc(1, sizeof(*total));
	assert_non_null(total);
	total->member = calloc(n_slots ? n_slots : 1, sizeof(*total->member));
	assert_non_null(total->member);
	total->n_member_slots = n_slots;
	for (uint32_t s = 0; s < n_slots && s < MAX_FAKE_SLOTS; s++)
		total->member[s] = fake_counts[s];
	return total;
}

void
gnn_counters_free(struct gnn_stats_total *total)
{
	if (total == NULL)
		return;
	free(total->member);
	free(total);
}

/* ---- policies by member names ---- */

/* A valid policy of the members named (each its own /24 in 10/8). */
static struct gnn_policy *
policy_of(const char *const *names, unsigned int n)
{
	size_t cap = 256 + (size_t)n * 96, used;
	char *text = malloc(cap);
	struct gnn_diag diag = {0};
	struct gnn_policy *p;

	assert_non_null(text);
	used = (size_t)snprintf(text, cap,
				"blocked_ports = [ 25 ];\n"
				"ports = ( { inside = \"i\"; outside = \"o\"; } );\n"
				"members = (\n");
	for (unsigned int i = 0; i < n; i++)
		used += (size_t)snprintf(text + used, cap - used,
					 "%s{ name = \"%s\"; mode = \"enforce\"; "
					 "networks = [ \"10.%u.%u.0/24\" ]; }\n",
					 i ? "," : "", names[i], i >> 8, i & 255);
	snprintf(text + used, cap - used, ");\n");
	p = gnn_policy_load_string(text, "slots.conf", NULL, NULL, &diag);
	if (p == NULL)
		fail_msg("%s", diag.n_errors ? diag.errors[0] : "no policy");
	gnn_diag_clear(&diag);
	free(text);
	return p;
}

/* A policy of names "<prefix><i>" for i in [from, to). */
static struct gnn_policy *
policy_range(const char *prefix, unsigned int from, unsigned int to)
{
	unsigned int n = to - from;
	char **names = calloc(n ? n : 1, sizeof(*names));
	struct gnn_policy *p;

	assert_non_null(names);
	for (unsigned int i = 0; i < n; i++) {
		names[i] = malloc(32);
		assert_non_null(names[i]);
		snprintf(names[i], 32, "%s%u", prefix, from + i);
	}
	p = policy_of((const char *const *)names, n);
	for (unsigned int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return p;
}

static uint32_t *
assign(const struct gnn_policy *running, const struct gnn_policy *next, uint64_t generation)
{
	uint32_t *slots = calloc(next->n_members ? next->n_members : 1, sizeof(*slots));

	assert_non_null(slots);
	assert_int_equal(gnn_slots_assign(running, next, generation, slots), 0);
	/* Whatever happened: one slot per member, each serving its name. */
	for (unsigned int m = 0; m < next->n_members; m++) {
		assert_true(slots[m] < gnn_slots_count());
		assert_string_equal(gnn_slots_name(slots[m]), next->members[m].name);
	}
	return slots;
}

static uint32_t
slot_of(const struct gnn_policy *p, const uint32_t *slots, const char *name)
{
	int m = gnn_policy_find_member(p, name);

	assert_true(m >= 0);
	return slots[m];
}

static struct {
	uint32_t slots[64];
	unsigned int n;
} reused;

static void
on_reuse(uint32_t slot, void *arg)
{
	assert_ptr_equal(arg, &reused);
	if (reused.n < sizeof(reused.slots) / sizeof(reused.slots[0]))
		reused.slots[reused.n] = slot;
	reused.n++;
}

static int
slots_reset(void **state)
{
	(void)state;
	gnn_slots_fini();
	memset(fake_counts, 0, sizeof(fake_counts));
	memset(&reused, 0, sizeof(reused));
	n_sums = 0;
	sum_fails = false;
	assert_int_equal(gnn_slots_on_reuse(on_reuse, &reused), 0);
	return 0;
}

static void
test_names_keep_their_slots(void **state)
{
	static const char *const first[] = {"a", "b", "c"};
	static const char *const second[] = {"c", "a", "d"};
	struct gnn_policy *p1 = policy_of(first, 3), *p2 = policy_of(second, 3);
	uint32_t *s1, *s2;

	(void)state;
	s1 = assign(NULL, p1, 1);
	assert_int_equal(gnn_slots_count(), 3);
	for (unsigned int m = 0; m < 3; m++)
		assert_int_equal(gnn_slots_since(s1[m]), 1);
	s2 = assign(p1, p2, 2);
	assert_int_equal(slot_of(p2, s2, "a"), slot_of(p1, s1, "a"));
	assert_int_equal(slot_of(p2, s2, "c"), slot_of(p1, s1, "c"));
	/* d is new: a fresh slot (4 slots are within twice 3 members). */
	assert_int_equal(slot_of(p2, s2, "d"), 3);
	assert_int_equal(gnn_slots_count(), 4);
	assert_int_equal(gnn_slots_since(slot_of(p2, s2, "a")), 1);
	assert_int_equal(gnn_slots_since(slot_of(p2, s2, "d")), 2);
	/* b's slot still names b: nobody needed it. */
	assert_string_equal(gnn_slots_name(slot_of(p1, s1, "b")), "b");
	assert_int_equal(reused.n, 0);
	assert_int_equal(n_sums, 0);
	/* Out of range. */
	assert_string_equal(gnn_slots_name(4), "");
	assert_int_equal(gnn_slots_since(4), 0);
	free(s1);
	free(s2);
	gnn_policy_free(p1);
	gnn_policy_free(p2);
}

static void
test_reuse_only_beyond_twice_the_members_and_of_dead_names(void **state)
{
	static const char *const ab[] = {"a", "b"}, *const cd[] = {"c", "d"},
				 *const ef[] = {"e", "f"}, *const g[] = {"g"};
	struct gnn_policy *p_ab = policy_of(ab, 2), *p_cd = policy_of(cd, 2),
			  *p_ef = policy_of(ef, 2), *p_g = policy_of(g, 1);
	uint32_t *s;

	(void)state;
	free(assign(NULL, p_ab, 1)); /* a 0, b 1 */
	s = assign(p_ab, p_cd, 2);   /* 4 slots for 2 members: still fresh ones */
	assert_int_equal(slot_of(p_cd, s, "c"), 2);
	assert_int_equal(slot_of(p_cd, s, "d"), 3);
	assert_int_equal(reused.n, 0);
	free(s);
	/* 6 slots would exceed twice 2 members: a and b (in neither file) give theirs. */
	s = assign(p_cd, p_ef, 3);
	assert_int_equal(gnn_slots_count(), 4);
	assert_int_equal(slot_of(p_ef, s, "e"), 0);
	assert_int_equal(slot_of(p_ef, s, "f"), 1);
	assert_int_equal(gnn_slots_since(0), 3);
	assert_int_equal(reused.n, 2);
	assert_int_equal(reused.slots[0], 0);
	assert_int_equal(reused.slots[1], 1);
	assert_int_equal(n_sums, 1); /* one sum for the whole reload */
	free(s);
	/* c and d ran until now: not theirs to give, e and f are in the running file. */
	s = assign(p_ef, p_g, 4);
	assert_int_equal(slot_of(p_g, s, "g"), 2);
	assert_int_equal(reused.n, 3);
	assert_string_equal(gnn_slots_name(3), "d");
	free(s);
	gnn_policy_free(p_ab);
	gnn_policy_free(p_cd);
	gnn_policy_free(p_ef);
	gnn_policy_free(p_g);
}

static void
test_a_reused_slot_counts_from_its_baseline(void **state)
{
	static const char *const ab[] = {"a", "b"}, *const cd[] = {"c", "d"},
				 *const ef[] = {"e", "f"};
	struct gnn_policy *p_ab = policy_of(ab, 2), *p_cd = policy_of(cd, 2),
			  *p_ef = policy_of(ef, 2);
	struct gnn_stats_total *total;
	uint64_t out[GNN_MC_MAX];

	(void)state;
	free(assign(NULL, p_ab, 1));
	free(assign(p_ab, p_cd, 2));
	/* a counted 10 allowed, 5 blocked; c 7 would-block. */
	fake_counts[0] = (struct gnn_member_counters){{10, 5, 0}};
	fake_counts[2] = (struct gnn_member_counters){{0, 0, 7}};
	free(assign(p_cd, p_ef, 3)); /* e takes a's slot 0 */
	/* Since then the slot counted 3 allowed and 1 blocked more. */
	fake_counts[0] = (struct gnn_member_counters){{13, 6, 0}};
	total = gnn_counters_sum(4);
	gnn_slots_counters(total, 0, out);
	assert_int_equal(out[GNN_MC_ALLOWED], 3);
	assert_int_equal(out[GNN_MC_BLOCKED], 1);
	assert_int_equal(out[GNN_MC_WOULD_BLOCK], 0);
	/* A slot never reused counts from zero: c keeps everything. */
	gnn_slots_counters(total, 2, out);
	assert_int_equal(out[GNN_MC_WOULD_BLOCK], 7);
	/* Beyond the registry or the sum: nothing. */
	gnn_slots_counters(total, 4, out);
	assert_int_equal(out[0] + out[1] + out[2], 0);
	gnn_counters_free(total);
	total = gnn_counters_sum(1);
	gnn_slots_counters(total, 2, out);
	assert_int_equal(out[0] + out[1] + out[2], 0);
	gnn_counters_free(total);
	gnn_policy_free(p_ab);
	gnn_policy_free(p_cd);
	gnn_policy_free(p_ef);
}

static void
test_failures_change_nothing(void **state)
{
	static const char *const ab[] = {"a", "b"}, *const cd[] = {"c", "d"},
				 *const ef[] = {"e", "f"};
	struct gnn_policy *p_ab = policy_of(ab, 2), *p_cd = policy_of(cd, 2),
			  *p_ef = policy_of(ef, 2);
	uint32_t slots[2];

	(void)state;
	free(assign(NULL, p_ab, 1));
	free(assign(p_ab, p_cd, 2));
	/* The sum a reuse needs fails: -ENOMEM, and no listener hears of it. */
	sum_fails = true;
	assert_int_equal(gnn_slots_assign(p_cd, p_ef, 3, slots), -ENOMEM);
	assert_int_equal(reused.n, 0);
	assert_string_equal(gnn_slots_name(0), "a");
	sum_fails = false;
	/* Listeners: four at most (one is registered by the setup). */
	for (unsigned int i = 1; i < 4; i++)
		assert_int_equal(gnn_slots_on_reuse(on_reuse, &reused), 0);
	assert_int_equal(gnn_slots_on_reuse(on_reuse, &reused), -ENOSPC);
	gnn_policy_free(p_ab);
	gnn_policy_free(p_cd);
	gnn_policy_free(p_ef);
}

/* Thousands of names: the name index finds every one, and reuse takes exactly the dead. */
static void
test_many_members(void **state)
{
	struct gnn_policy *p1 = policy_range("m", 0, 5000);
	struct gnn_policy *p2 = policy_range("m", 0, 10000);
	struct gnn_policy *p3 = policy_range("n", 0, 10000);
	struct gnn_policy *p4 = policy_range("o", 0, 10000);
	uint32_t *s1, *s2, *s3, *s4;
	char name[32];
	uint8_t *used;

	(void)state;
	s1 = assign(NULL, p1, 1);
	s2 = assign(p1, p2, 2);
	for (unsigned int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "m%u", i);
		assert_int_equal(slot_of(p2, s2, name), slot_of(p1, s1, name));
	}
	assert_int_equal(gnn_slots_count(), 10000);
	s3 = assign(p2, p3, 3); /* 20,000 slots: exactly twice, still fresh */
	assert_int_equal(gnn_slots_count(), 20000);
	assert_int_equal(reused.n, 0);
	s4 = assign(p3, p4, 4); /* the m* slots, dead now, go to o* */
	assert_int_equal(gnn_slots_count(), 20000);
	assert_int_equal(reused.n, 10000);
	assert_int_equal(n_sums, 1);
	used = calloc(20000, 1);
	assert_non_null(used);
	for (unsigned int m = 0; m < p4->n_members; m++) {
		assert_true(s4[m] < 10000 && used[s4[m]] == 0);
		used[s4[m]] = 1;
	}
	for (unsigned int m = 0; m < p3->n_members; m++)
		assert_string_equal(gnn_slots_name(s3[m]), p3->members[m].name);
	free(used);
	free(s1);
	free(s2);
	free(s3);
	free(s4);
	gnn_policy_free(p1);
	gnn_policy_free(p2);
	gnn_policy_free(p3);
	gnn_policy_free(p4);
}

/* ---- the event loop ---- */

static struct {
	unsigned int calls[8];
	uint32_t events[8];
	int pipes[8][2];
	unsigned int timer_calls[4];
	int64_t stall_end;
	unsigned int after_stall;
} ev;

static int
loop_setup(void **state)
{
	(void)state;
	memset(&ev, 0, sizeof(ev));
	for (unsigned int i = 0; i < 8; i++)
		ev.pipes[i][0] = ev.pipes[i][1] = -1;
	assert_int_equal(gnn_loop_init(), 0);
	return 0;
}

static int
loop_teardown(void **state)
{
	(void)state;
	gnn_loop_fini();
	for (unsigned int i = 0; i < 8; i++)
		for (unsigned int k = 0; k < 2; k++)
			if (ev.pipes[i][k] >= 0)
				close(ev.pipes[i][k]);
	return 0;
}

static void
make_pipe(unsigned int i)
{
	assert_int_equal(pipe2(ev.pipes[i], O_NONBLOCK | O_CLOEXEC), 0);
}

static void
poke(unsigned int i)
{
	assert_int_equal(write(ev.pipes[i][1], "x", 1), 1);
}

/* A safety net: no test may hang the run. */
static void
deadline(void *arg)
{
	(void)arg;
	fail_msg("the loop ran too long");
}

static void
stop_loop(void *arg)
{
	(void)arg;
	gnn_loop_stop();
}

static void
on_read(int fd, uint32_t events, void *arg)
{
	unsigned int i = (unsigned int)(uintptr_t)arg;
	char buf[16];

	assert_int_equal(fd, ev.pipes[i][0]);
	ev.calls[i]++;
	ev.events[i] |= events;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (ev.calls[0] + ev.calls[1] >= 2)
		gnn_loop_stop();
}

static void
test_fd_callbacks(void **state)
{
	(void)state;
	make_pipe(0);
	make_pipe(1);
	assert_int_equal(gnn_loop_add_fd(ev.pipes[0][0], EPOLLIN, on_read, (void *)0), 0);
	assert_int_equal(gnn_loop_add_fd(ev.pipes[1][0], EPOLLIN, on_read, (void *)1), 0);
	assert_int_equal(gnn_loop_add_timer(5000, deadline, NULL), 0);
	assert_false(gnn_loop_stopping());
	poke(0);
	poke(1);
	gnn_loop_run();
	assert_true(gnn_loop_stopping());
	assert_int_equal(ev.calls[0], 1);
	assert_int_equal(ev.calls[1], 1);
	assert_true(ev.events[0] & EPOLLIN);
	/* Known descriptors only; each once. */
	assert_int_equal(gnn_loop_mod_fd(ev.pipes[0][1], EPOLLIN), -ENOENT);
	assert_int_equal(gnn_loop_add_fd(ev.pipes[0][0], EPOLLIN, on_read, (void *)0), -EEXIST);
	assert_int_equal(gnn_loop_add_fd(-1, EPOLLIN, on_read, NULL), -EBADF);
	gnn_loop_del_fd(ev.pipes[0][1]); /* not watched: nothing happens */
}

static void
on_write(int fd, uint32_t events, void *arg)
{
	(void)arg;
	assert_int_equal(fd, ev.pipes[0][1]);
	ev.calls[2]++;
	ev.events[2] |= events;
	/* Readable no more: EPOLLOUT only, then nothing. */
	assert_int_equal(gnn_loop_mod_fd(fd, 0), 0);
	gnn_loop_stop();
}

static void
test_mod_fd_changes_what_is_watched(void **state)
{
	(void)state;
	make_pipe(0);
	assert_int_equal(gnn_loop_add_fd(ev.pipes[0][1], 0, on_write, NULL), 0);
	assert_int_equal(gnn_loop_add_timer(5000, deadline, NULL), 0);
	assert_int_equal(gnn_loop_mod_fd(ev.pipes[0][1], EPOLLOUT), 0);
	gnn_loop_run();
	assert_int_equal(ev.calls[2], 1);
	assert_true(ev.events[2] & EPOLLOUT);
}

/*
 * Pipes 0 and 1 are readable in the same round. Whichever callback runs
 * first deletes both descriptors and closes them, then opens two new
 * pipes (2, 3) that get the numbers back, watched with another callback,
 * and writes to pipe 3: the other old callback must not run, nor a new
 * one for the old event; the next round serves pipe 3.
 */
static void on_new(int fd, uint32_t events, void *arg);

static void
on_first(int fd, uint32_t events, void *arg)
{
	unsigned int me = (unsigned int)(uintptr_t)arg;

	(void)events;
	assert_int_equal(fd, ev.pipes[me][0]);
	ev.calls[me]++;
	for (unsigned int i = 0; i < 2; i++) {
		gnn_loop_del_fd(ev.pipes[i][0]);
		close(ev.pipes[i][0]);
		close(ev.pipes[i][1]);
		ev.pipes[i][0] = ev.pipes[i][1] = -1;
	}
	make_pipe(2);
	make_pipe(3);
	assert_int_equal(gnn_loop_add_fd(ev.pipes[2][0], EPOLLIN, on_new, (void *)2), 0);
	assert_int_equal(gnn_loop_add_fd(ev.pipes[3][0], EPOLLIN, on_new, (void *)3), 0);
	poke(3); /* for the next round */
}

static void
on_new(int fd, uint32_t events, void *arg)
{
	unsigned int me = (unsigned int)(uintptr_t)arg;
	char buf[4];

	(void)events;
	assert_int_equal(fd, ev.pipes[me][0]);
	assert_true(read(fd, buf, sizeof(buf)) > 0);
	ev.calls[me]++;
	gnn_loop_stop();
}

static void
test_delete_from_a_callback_of_the_same_round(void **state)
{
	(void)state;
	make_pipe(0);
	make_pipe(1);
	assert_int_equal(gnn_loop_add_fd(ev.pipes[0][0], EPOLLIN, on_first, (void *)0), 0);
	assert_int_equal(gnn_loop_add_fd(ev.pipes[1][0], EPOLLIN, on_first, (void *)1), 0);
	assert_int_equal(gnn_loop_add_timer(5000, deadline, NULL), 0);
	poke(0);
	poke(1);
	gnn_loop_run();
	/* One of the two ran, the other's event was dropped with it ... */
	assert_int_equal(ev.calls[0] + ev.calls[1], 1);
	/* ... and the new pipes were served from the next round, as they should. */
	assert_int_equal(ev.calls[2], 0);
	assert_int_equal(ev.calls[3], 1);
}

static void
self_delete(int fd, uint32_t events, void *arg)
{
	(void)events;
	(void)arg;
	ev.calls[4]++;
	gnn_loop_del_fd(fd);
	close(fd);
	ev.pipes[4][0] = -1;
	gnn_loop_stop();
}

static void
test_delete_itself_and_watch_again(void **state)
{
	(void)state;
	make_pipe(4);
	assert_int_equal(gnn_loop_add_fd(ev.pipes[4][0], EPOLLIN, self_delete, NULL), 0);
	assert_int_equal(gnn_loop_add_timer(5000, deadline, NULL), 0);
	poke(4);
	gnn_loop_run();
	assert_int_equal(ev.calls[4], 1);
	/* Run again (a new loop): the deleted watch is gone for good. */
	gnn_loop_fini();
	assert_int_equal(gnn_loop_init(), 0);
	assert_false(gnn_loop_stopping());
	make_pipe(2);
	assert_int_equal(gnn_loop_add_fd(ev.pipes[2][0], EPOLLIN, on_new, (void *)2), 0);
	assert_int_equal(gnn_loop_add_timer(5000, deadline, NULL), 0);
	poke(2);
	gnn_loop_run();
	assert_int_equal(ev.calls[2], 1);
	assert_int_equal(ev.calls[4], 1);
}

/* Watches come and go many times between two rounds (clients that connect
 * and are dropped at once): the loop keeps no list that could overflow. */
static void
test_many_deletions_between_rounds(void **state)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	for (unsigned int i = 0; i < 2000; i++) {
		assert_int_equal(gnn_loop_add_fd(fd, EPOLLIN, on_read, (void *)0), 0);
		gnn_loop_del_fd(fd);
	}
	assert_int_equal(gnn_loop_add_timer(5000, deadline, NULL), 0);
	assert_int_equal(gnn_loop_add_timer(20, stop_loop, NULL), 0);
	gnn_loop_run();
	assert_int_equal(ev.calls[0], 0);
	close(fd);
}

static void
test_fd_limit(void **state)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), dups[512];
	unsigned int n = 0;

	(void)state;
	assert_true(fd >= 0);
	/* Room for 512 descriptors (the control socket's clients among them). */
	for (; n < 512; n++) {
		dups[n] = dup(fd);
		assert_true(dups[n] >= 0);
		assert_int_equal(gnn_loop_add_fd(dups[n], EPOLLIN, on_read, NULL), 0);
	}
	assert_int_equal(gnn_loop_add_fd(fd, EPOLLIN, on_read, NULL), -ENOSPC);
	gnn_loop_del_fd(dups[0]);
	assert_int_equal(gnn_loop_add_fd(fd, EPOLLIN, on_read, NULL), 0);
	gnn_loop_fini();
	for (unsigned int i = 0; i < n; i++)
		close(dups[i]);
	close(fd);
	assert_int_equal(gnn_loop_init(), 0);
}

static void
tick(void *arg)
{
	unsigned int i = (unsigned int)(uintptr_t)arg;

	ev.timer_calls[i]++;
	if (ev.stall_end != 0)
		ev.after_stall++;
}

/* The first time, hold the loop up for 300 ms; the second time, stop. */
static void
stall(void *arg)
{
	(void)arg;
	if (ev.stall_end == 0) {
		struct timespec ts = {0, 300 * 1000000};

		nanosleep(&ts, NULL);
		ev.stall_end = gnn_clock_mono_ms();
		ev.after_stall = 0;
		return;
	}
	gnn_loop_stop();
}

static void
test_timers_run_once_when_late(void **state)
{
	int64_t t0 = gnn_clock_mono_ms();

	(void)state;
	assert_int_equal(gnn_loop_add_timer(10, tick, (void *)0), 0);
	assert_int_equal(gnn_loop_add_timer(60, stall, NULL), 0);
	assert_int_equal(gnn_loop_add_timer(10000, deadline, NULL), 0);
	gnn_loop_run();
	/* About 60 ms before the stall, 60 after: 10 ms ticks, about 12. */
	assert_true(ev.timer_calls[0] >= 3);
	/*
	 * The 300 ms stall missed 30 ticks: caught up they would come at once.
	 * The ticks after it are those of the 60 ms until the stop, and one for
	 * the stall (a busy machine only makes them fewer).
	 */
	assert_true(ev.after_stall >= 1);
	assert_true(ev.after_stall <= 8);
	assert_true(gnn_clock_mono_ms() - t0 >= 360);
	/* Sixteen timers at most. */
	for (unsigned int i = 3; i < 16; i++)
		assert_int_equal(gnn_loop_add_timer(1000, tick, (void *)1), 0);
	assert_int_equal(gnn_loop_add_timer(1000, tick, (void *)1), -ENOSPC);
}

int
main(void)
{
	const struct CMUnitTest slots_tests[] = {
		cmocka_unit_test_setup(test_names_keep_their_slots, slots_reset),
		cmocka_unit_test_setup(test_reuse_only_beyond_twice_the_members_and_of_dead_names,
				       slots_reset),
		cmocka_unit_test_setup(test_a_reused_slot_counts_from_its_baseline, slots_reset),
		cmocka_unit_test_setup(test_failures_change_nothing, slots_reset),
		cmocka_unit_test_setup(test_many_members, slots_reset),
	};
	const struct CMUnitTest loop_tests[] = {
		cmocka_unit_test_setup_teardown(test_fd_callbacks, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_mod_fd_changes_what_is_watched, loop_setup,
						loop_teardown),
		cmocka_unit_test_setup_teardown(test_delete_from_a_callback_of_the_same_round,
						loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_delete_itself_and_watch_again, loop_setup,
						loop_teardown),
		cmocka_unit_test_setup_teardown(test_many_deletions_between_rounds, loop_setup,
						loop_teardown),
		cmocka_unit_test_setup_teardown(test_fd_limit, loop_setup, loop_teardown),
		cmocka_unit_test_setup_teardown(test_timers_run_once_when_late, loop_setup,
						loop_teardown),
	};
	int rc = cmocka_run_group_tests_name("slots", slots_tests, NULL, NULL);

	rc |= cmocka_run_group_tests_name("loop", loop_tests, NULL, NULL);
	gnn_slots_fini();
	return rc;
}
