/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy library at the scale minimums of docs/design.md: a file of
 * 100,000 members and 250,000 prefixes written by make_config.py (its
 * layout checked entry by entry), one member with 200,000 networks, and
 * 2,000 member files in a members_dir. Load times are printed, never
 * asserted. No EAL.
 *
 *   test_scale SCALE_FILE ONE_MEMBER_FILE
 */

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "policy/gnn_policy.h"

static const char *scale_file;
static const char *one_member_file;

struct clock {
	double wall;
	double cpu;
};

static struct clock
clock_now(void)
{
	struct timespec w, c;

	clock_gettime(CLOCK_MONOTONIC, &w);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
	return (struct clock){(double)w.tv_sec + (double)w.tv_nsec / 1e9,
			      (double)c.tv_sec + (double)c.tv_nsec / 1e9};
}

static void
dump_diag(const struct gnn_diag *d)
{
	for (unsigned int i = 0; i < d->n_errors && i < 20; i++)
		print_error("  error:   %s\n", d->errors[i]);
	for (unsigned int i = 0; i < d->n_warnings && i < 20; i++)
		print_error("  warning: %s\n", d->warnings[i]);
}

/* Load path, which must be valid without a message; print the time. */
static struct gnn_policy *
load_timed(const char *path, const char *what)
{
	struct gnn_diag d = {0};
	struct gnn_policy *p;
	struct clock t0, t1;

	t0 = clock_now();
	p = gnn_policy_load(path, NULL, NULL, &d);
	t1 = clock_now();
	if (p == NULL || d.n_errors + d.n_warnings > 0) {
		print_error("%s: %u errors, %u warnings\n", path, d.n_errors, d.n_warnings);
		dump_diag(&d);
		fail();
	}
	print_message("  %s: loaded in %.3f s (%.3f s CPU)\n", what, t1.wall - t0.wall,
		      t1.cpu - t0.cpu);
	gnn_diag_clear(&d);
	return p;
}

static struct gnn_prefix
pfx(const char *text)
{
	struct gnn_prefix p;

	assert_int_equal(gnn_prefix_parse(text, &p, NULL), 0);
	return p;
}

/* The file tests/scale/make_config.py writes with no arguments. */
static void
test_scale_file(void **state)
{
	const struct gnn_prefix v4 = pfx("198.18.0.0/15"), v6 = pfx("2001:db8::/32");
	unsigned int nets = 0, servers = 0, n4 = 0;
	struct gnn_policy *p;

	(void)state;
	p = load_timed(scale_file, "100,000 members, 250,000 prefixes");
	assert_int_equal(p->n_members, 100000);
	for (unsigned int i = 0; i < p->n_members; i++) {
		const struct gnn_member *m = &p->members[i];
		char name[16];

		snprintf(name, sizeof(name), "m%06u", i + 1);
		assert_string_equal(m->name, name);
		assert_int_equal(m->mode, GNN_MODE_ENFORCE);
		assert_ptr_equal(m->file, p->files[0]);
		assert_int_equal(m->line, (int)i + 5);
		nets += m->n_networks;
		servers += m->n_mail_servers;
		if (i < 65536) {
			/* 198.18.x.y/31, its first address the mail server. */
			uint32_t want = 0xc6120000u + 2 * i;
			uint32_t got;

			n4++;
			assert_int_equal(m->n_networks, 1);
			assert_int_equal(m->n_mail_servers, 1);
			assert_int_equal(m->networks[0].family, 4);
			assert_int_equal(m->networks[0].len, 31);
			memcpy(&got, m->networks[0].addr, 4);
			assert_int_equal(ntohl(got), want);
			assert_true(gnn_prefix_contains(&v4, &m->networks[0]));
			assert_int_equal(m->mail_servers[0].len, 32);
			assert_memory_equal(m->mail_servers[0].addr, m->networks[0].addr, 16);
		} else {
			assert_true(m->n_networks >= 1);
			for (unsigned int k = 0; k < m->n_networks; k++)
				assert_true(gnn_prefix_contains(&v6, &m->networks[k]));
			for (unsigned int k = 0; k < m->n_mail_servers; k++)
				assert_true(
					gnn_prefix_contains(&m->networks[0], &m->mail_servers[k]));
		}
	}
	assert_int_equal(n4, 65536);
	assert_true(nets + servers >= 250000);
	assert_int_equal(nets + servers, 250000);
	print_message("  %u networks, %u mail servers\n", nets, servers);
	assert_int_equal(gnn_policy_find_member(p, "m000001"), 0);
	assert_int_equal(gnn_policy_find_member(p, "m065537"), 65536);
	assert_int_equal(gnn_policy_find_member(p, "m100000"), 99999);
	assert_int_equal(gnn_policy_find_member(p, "m100001"), -1);
	gnn_policy_free(p);
}

/* One member holding 200,000 networks: its own checks must not be quadratic. */
static void
test_one_large_member(void **state)
{
	struct gnn_policy *p;

	(void)state;
	p = load_timed(one_member_file, "1 member, 200,000 networks");
	assert_int_equal(p->n_members, 1);
	assert_int_equal(p->members[0].n_networks, 200000);
	assert_int_equal(p->members[0].n_mail_servers, 1);
	gnn_policy_free(p);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* 2,000 files of one member each in members_dir, as sign-ups make them. */
static void
test_many_member_files(void **state)
{
	enum { FILES = 2000 };
	char dir[64], path[128], text[512];
	struct gnn_policy *p;
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/gnn-test-scale-%d-XXXXXX", (int)getpid());
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/members.d", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	for (unsigned int i = 0; i < FILES; i++) {
		snprintf(path, sizeof(path), "%s/members.d/%04u.conf", dir, FILES - 1 - i);
		f = fopen(path, "w");
		assert_non_null(f);
		fprintf(f,
			"members = ( { name = \"s%04u\"; mode = \"monitor\";\n"
			"  networks = [ \"198.18.%u.%u/31\" ]; mail_servers = [ \"198.18.%u.%u\" "
			"]; } );\n",
			FILES - 1 - i, (FILES - 1 - i) / 128, (FILES - 1 - i) % 128 * 2,
			(FILES - 1 - i) / 128, (FILES - 1 - i) % 128 * 2);
		assert_int_equal(fclose(f), 0);
	}
	snprintf(path, sizeof(path), "%s/gnn.conf", dir);
	snprintf(text, sizeof(text),
		 "blocked_ports = [ 25 ];\n"
		 "ports = ( { inside = \"net_af_packet0\"; outside = \"net_af_packet1\"; } );\n"
		 "members_dir = \"members.d\";\n");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);

	p = load_timed(path, "2,000 member files");
	assert_int_equal(p->n_members, FILES);
	assert_int_equal(p->n_files, FILES + 1);
	for (unsigned int i = 0; i < FILES; i++) {
		char name[16];

		snprintf(name, sizeof(name), "s%04u", i); /* name order: 0000.conf first */
		assert_string_equal(p->members[i].name, name);
		assert_ptr_equal(p->members[i].file, p->files[i + 1]);
	}
	gnn_policy_free(p);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale_file),
		cmocka_unit_test(test_one_large_member),
		cmocka_unit_test(test_many_member_files),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: %s SCALE_FILE ONE_MEMBER_FILE\n", argv[0]);
		return 2;
	}
	scale_file = argv[1];
	one_member_file = argv[2];
	return cmocka_run_group_tests_name("scale", tests, NULL, NULL);
}
