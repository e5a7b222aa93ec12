/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the policy library: prefixes, the loader's accepted files,
 * and every error it must report, with the exact line and a distinctive
 * part of the reason. No EAL needed.
 */

#include <errno.h>
#include <fcntl.h>
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

#include <cmocka.h>

#include "policy/gnn_policy.h"

#ifndef GNN_SOURCE_ROOT
#error "GNN_SOURCE_ROOT must name the source tree (tests/unit/meson.build sets it)"
#endif

#define NAME "t.conf"

/* Two lines every member test starts from; members begin on line 3. */
#define HEAD                                                                                       \
	"blocked_ports = [ 25 ];\n"				   /* 1 */                         \
	"ports = ( { inside = \"in0\"; outside = \"out0\"; } );\n" /* 2 */

/* ---- helpers ---------------------------------------------------------- */

static void
dump_diag(const struct gnn_diag *d)
{
	for (unsigned int i = 0; i < d->n_errors; i++)
		print_error("  error:   %s\n", d->errors[i]);
	for (unsigned int i = 0; i < d->n_warnings; i++)
		print_error("  warning: %s\n", d->warnings[i]);
}

/*
 * A message "NAME:LINE: ...needle..." ("NAME: ...needle..." for line 0)
 * must be in msgs.
 */
static void
expect_msg_in(const struct gnn_diag *d, bool error, const char *name, int line, const char *needle,
	      const char *file, int src_line)
{
	char *const *msgs = error ? d->errors : d->warnings;
	unsigned int n = error ? d->n_errors : d->n_warnings;
	char prefix[512];
	size_t plen;

	if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s:%d: ", name, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", name);
	plen = strlen(prefix);
	for (unsigned int i = 0; i < n; i++) {
		if (strncmp(msgs[i], prefix, plen) == 0 && strstr(msgs[i] + plen, needle) != NULL)
			return;
	}
	print_error("no %s \"%s...%s...\"; got:\n", error ? "error" : "warning", prefix, needle);
	dump_diag(d);
	_fail(file, src_line);
}

static void
expect_msg(const struct gnn_diag *d, bool error, int line, const char *needle, const char *file,
	   int src_line)
{
	expect_msg_in(d, error, NAME, line, needle, file, src_line);
}

#define expect_error(d, line, needle)	expect_msg(d, true, line, needle, __FILE__, __LINE__)
#define expect_warning(d, line, needle) expect_msg(d, false, line, needle, __FILE__, __LINE__)
#define expect_error_in(d, name, line, needle)                                                     \
	expect_msg_in(d, true, name, line, needle, __FILE__, __LINE__)
#define expect_warning_in(d, name, line, needle)                                                   \
	expect_msg_in(d, false, name, line, needle, __FILE__, __LINE__)

static void
check_counts(const struct gnn_diag *d, unsigned int n_errors, unsigned int n_warnings,
	     const char *file, int src_line)
{
	if (d->n_errors == n_errors && d->n_warnings == n_warnings)
		return;
	print_error("expected %u errors and %u warnings, got %u and %u:\n", n_errors, n_warnings,
		    d->n_errors, d->n_warnings);
	dump_diag(d);
	_fail(file, src_line);
}

#define expect_counts(d, e, w) check_counts(d, e, w, __FILE__, __LINE__)

/* Load text that must be refused; the caller then checks the messages. */
static void
load_bad_(const char *text, struct gnn_diag *d, const char *file, int src_line)
{
	struct gnn_policy *p;

	errno = 0;
	p = gnn_policy_load_string(text, NAME, NULL, NULL, d);
	if (p != NULL) {
		print_error("file accepted, expected errors\n");
		gnn_policy_free(p);
		_fail(file, src_line);
	}
	if (errno != EINVAL) {
		print_error("errno %d, expected EINVAL\n", errno);
		_fail(file, src_line);
	}
}

#define load_bad(text, d) load_bad_(text, d, __FILE__, __LINE__)

/* One error only, at line, whose reason holds needle; warnings may come too. */
static void
one_error_(const char *text, int line, const char *needle, const char *file, int src_line)
{
	struct gnn_diag d = {0};

	load_bad_(text, &d, file, src_line);
	check_counts(&d, 1, d.n_warnings, file, src_line);
	expect_msg(&d, true, line, needle, file, src_line);
	gnn_diag_clear(&d);
}

#define one_error(text, line, needle) one_error_(text, line, needle, __FILE__, __LINE__)

static struct gnn_policy *
load_good_(const char *text, struct gnn_diag *d, const char *file, int src_line)
{
	struct gnn_policy *p = gnn_policy_load_string(text, NAME, NULL, NULL, d);

	if (p == NULL || d->n_errors != 0) {
		print_error("file refused (errno %d):\n", errno);
		dump_diag(d);
		_fail(file, src_line);
	}
	return p;
}

#define load_good(text, d) load_good_(text, d, __FILE__, __LINE__)

static struct gnn_prefix
pfx(const char *text)
{
	struct gnn_prefix p;
	bool host_bits;

	assert_int_equal(gnn_prefix_parse(text, &p, &host_bits), 0);
	assert_false(host_bits);
	return p;
}

static const char *
fmt(const struct gnn_prefix *p)
{
	static char buf[64];

	assert_non_null(gnn_prefix_format(p, buf, sizeof(buf)));
	return buf;
}

/* ---- prefixes --------------------------------------------------------- */

static void
test_prefix_parse_v4(void **state)
{
	struct gnn_prefix p;
	bool hb;

	(void)state;
	assert_int_equal(gnn_prefix_parse("192.0.2.0/24", &p, &hb), 0);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.len, 24);
	assert_memory_equal(p.addr, ((uint8_t[16]){192, 0, 2, 0}), 16);
	assert_false(hb);

	/* No length: a host prefix. */
	p = pfx("192.0.2.25");
	assert_int_equal(p.len, 32);
	assert_string_equal(fmt(&p), "192.0.2.25");

	p = pfx("0.0.0.0/0");
	assert_int_equal(p.len, 0);
	assert_string_equal(fmt(&p), "0.0.0.0/0");

	p = pfx("198.51.100.7/32");
	assert_int_equal(p.len, 32);
	assert_string_equal(fmt(&p), "198.51.100.7");

	p = pfx("198.18.0.0/15");
	assert_string_equal(fmt(&p), "198.18.0.0/15");
}

static void
test_prefix_parse_v6(void **state)
{
	struct gnn_prefix p;

	(void)state;
	p = pfx("2001:db8:10::/48");
	assert_int_equal(p.family, 6);
	assert_int_equal(p.len, 48);
	assert_memory_equal(p.addr, ((uint8_t[16]){0x20, 0x01, 0x0d, 0xb8, 0, 0x10}), 16);
	assert_string_equal(fmt(&p), "2001:db8:10::/48");

	p = pfx("2001:DB8:10::25");
	assert_int_equal(p.len, 128);
	assert_string_equal(fmt(&p), "2001:db8:10::25");

	p = pfx("::/0");
	assert_int_equal(p.len, 0);
	assert_string_equal(fmt(&p), "::/0");

	p = pfx("2001:db8::1/128");
	assert_string_equal(fmt(&p), "2001:db8::1");

	/* A /96 next to, but not in, the mapped range stays IPv6. */
	p = pfx("::/96");
	assert_int_equal(p.len, 96);
}

static void
test_prefix_host_bits(void **state)
{
	struct gnn_prefix p;
	bool hb;

	(void)state;
	assert_int_equal(gnn_prefix_parse("192.0.2.1/24", &p, &hb), 0);
	assert_true(hb);
	assert_string_equal(fmt(&p), "192.0.2.0/24");

	assert_int_equal(gnn_prefix_parse("192.0.2.27/31", &p, &hb), 0);
	assert_true(hb);
	assert_string_equal(fmt(&p), "192.0.2.26/31");

	assert_int_equal(gnn_prefix_parse("2001:db8:10::1/48", &p, &hb), 0);
	assert_true(hb);
	assert_string_equal(fmt(&p), "2001:db8:10::/48");

	assert_int_equal(gnn_prefix_parse("255.255.255.255/0", &p, &hb), 0);
	assert_true(hb);
	assert_string_equal(fmt(&p), "0.0.0.0/0");

	/* Without a place to say so, host bits are refused. */
	assert_int_equal(gnn_prefix_parse("192.0.2.1/24", &p, NULL), -EINVAL);
	assert_int_equal(gnn_prefix_parse("192.0.2.0/24", &p, NULL), 0);
}

static void
test_prefix_reject(void **state)
{
	static const struct {
		const char *text;
		const char *reason;
	} bad[] = {
		{"", "empty"},
		{"192.0.2", "not an IPv4 or IPv6"},
		{"192.0.2/24", "not an IPv4 or IPv6"},
		{"192.0.2.256", "not an IPv4 or IPv6"},
		{"192.000.002.001", "not an IPv4 or IPv6"},
		{" 192.0.2.1", "not an IPv4 or IPv6"},
		{"192.0.2.1 ", "not an IPv4 or IPv6"},
		{"hello", "not an IPv4 or IPv6"},
		{"/24", "not an IPv4 or IPv6"},
		{"2001:db8::g", "not an IPv4 or IPv6"},
		{"fe80::1%eth0", "not an IPv4 or IPv6"},
		{"192.0.2.0/", "not a number"},
		{"192.0.2.0/x", "not a number"},
		{"192.0.2.0/-1", "not a number"},
		{"192.0.2.0/+8", "not a number"},
		{"192.0.2.0/08", "not a number"},
		{"192.0.2.0/24/8", "not a number"},
		{"192.0.2.0/1000", "not a number"},
		{"192.0.2.0/33", "out of range 0..32"},
		{"2001:db8::/129", "out of range 0..128"},
		{"::ffff:192.0.2.1", "IPv4-mapped"},
		{"::ffff:c000:201", "IPv4-mapped"},
		{"::ffff:192.0.2.0/120", "IPv4-mapped"},
		{"::ffff:0.0.0.0/96", "IPv4-mapped"},
		{"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee",
		 "not an IPv4 or IPv6"},
	};
	struct gnn_prefix p, untouched;

	(void)state;
	memset(&untouched, 0xa5, sizeof(untouched));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *reason = NULL;
		bool hb = true;

		p = untouched;
		if (gnn_prefix_parse_reason(bad[i].text, &p, &hb, &reason) != -EINVAL) {
			print_error("'%s' accepted\n", bad[i].text);
			fail();
		}
		assert_non_null(reason);
		if (strstr(reason, bad[i].reason) == NULL) {
			print_error("'%s': reason '%s', expected '%s'\n", bad[i].text, reason,
				    bad[i].reason);
			fail();
		}
		assert_false(hb);
		assert_memory_equal(&p, &untouched, sizeof(p));
		assert_int_equal(gnn_prefix_parse(bad[i].text, &p, NULL), -EINVAL);
	}
	assert_int_equal(gnn_prefix_parse(NULL, &p, NULL), -EINVAL);
	assert_int_equal(gnn_prefix_parse("192.0.2.0/24", NULL, NULL), -EINVAL);
}

static void
test_prefix_format_edges(void **state)
{
	struct gnn_prefix p = pfx("2001:db8:aaaa:bbbb:cccc:dddd:eeee:0/112");
	char small[8];
	char buf[64];

	(void)state;
	assert_string_equal(fmt(&p), "2001:db8:aaaa:bbbb:cccc:dddd:eeee:0/112");
	assert_null(gnn_prefix_format(&p, small, sizeof(small)));
	assert_null(gnn_prefix_format(NULL, buf, sizeof(buf)));
	assert_null(gnn_prefix_format(&p, NULL, 64));
	p.family = 5;
	assert_null(gnn_prefix_format(&p, buf, sizeof(buf)));
	p = pfx("192.0.2.0/24");
	p.len = 33;
	assert_null(gnn_prefix_format(&p, buf, sizeof(buf)));

	/* The longest IPv6 text with a length fits the documented 64 bytes. */
	p = pfx("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");
	assert_string_equal(fmt(&p), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");
}

static void
test_prefix_contains(void **state)
{
	struct gnn_prefix all4 = pfx("0.0.0.0/0"), all6 = pfx("::/0");
	struct gnn_prefix net = pfx("198.18.0.0/15");
	struct gnn_prefix in = pfx("198.19.255.255");
	struct gnn_prefix out = pfx("198.20.0.0");
	struct gnn_prefix sub = pfx("198.18.4.0/24");
	struct gnn_prefix v6net = pfx("2001:db8:10::/48");
	struct gnn_prefix v6in = pfx("2001:db8:10:ffff::1");
	struct gnn_prefix v6out = pfx("2001:db8:11::1");
	struct gnn_prefix odd = pfx("2001:db8::/33");

	(void)state;
	assert_true(gnn_prefix_contains(&net, &in));
	assert_false(gnn_prefix_contains(&net, &out));
	assert_true(gnn_prefix_contains(&net, &sub));
	assert_false(gnn_prefix_contains(&sub, &net)); /* outer longer than inner */
	assert_true(gnn_prefix_contains(&net, &net));
	assert_true(gnn_prefix_contains(&all4, &in));
	assert_true(gnn_prefix_contains(&all4, &all4));
	assert_false(gnn_prefix_contains(&all4, &v6in)); /* families never mix */
	assert_false(gnn_prefix_contains(&all6, &in));
	assert_true(gnn_prefix_contains(&all6, &v6in));
	assert_true(gnn_prefix_contains(&v6net, &v6in));
	assert_false(gnn_prefix_contains(&v6net, &v6out));
	assert_true(gnn_prefix_contains(&odd, &v6out));
	assert_false(gnn_prefix_contains(&odd, &((struct gnn_prefix){0})));
	assert_true(gnn_prefix_contains(&in, &in)); /* /32 holds itself only */
	assert_false(gnn_prefix_contains(&in, &out));
	assert_false(gnn_prefix_contains(NULL, &in));
	assert_false(gnn_prefix_contains(&in, NULL));
}

/* ---- valid files ------------------------------------------------------ */

static void
check_prefixes(const struct gnn_prefix *got, unsigned int n, const char *const *want,
	       unsigned int n_want)
{
	assert_int_equal(n, n_want);
	for (unsigned int i = 0; i < n; i++)
		assert_string_equal(fmt(&got[i]), want[i]);
}

static void
test_example_configs(void **state)
{
	static const char *const college_nets[] = {"198.51.100.0/24", "2001:db8:10::/48"};
	static const char *const college_srv[] = {"198.51.100.25", "2001:db8:10::25"};
	static const char *const library_nets[] = {"203.0.113.0/25", "2001:db8:20::/48"};
	static const char *const library_srv[] = {"203.0.113.25"};
	struct gnn_diag d = {0};
	struct gnn_policy *p;
	const struct gnn_member *m;

	(void)state;
	p = gnn_policy_load(GNN_SOURCE_ROOT "/config/gnn.conf", NULL, NULL, &d);
	if (p == NULL)
		dump_diag(&d);
	assert_non_null(p);
	assert_int_equal(d.n_errors + d.n_warnings, 0);
	assert_string_equal(p->path, GNN_SOURCE_ROOT "/config/gnn.conf");
	assert_int_equal(p->n_port_pairs, 1);
	assert_string_equal(p->port_pairs[0].inside, "0000:03:00.0");
	assert_string_equal(p->port_pairs[0].outside, "0000:03:00.1");
	assert_int_equal(p->n_members, 1);
	assert_string_equal(p->members[0].name, "example-college");
	assert_int_equal(p->members[0].n_mail_servers, 3);
	assert_string_equal(fmt(&p->members[0].mail_servers[1]), "192.0.2.26/31");
	gnn_policy_free(p);

	p = gnn_policy_load(GNN_SOURCE_ROOT "/config/gnn-demo.conf", NULL, NULL, &d);
	if (p == NULL)
		dump_diag(&d);
	assert_non_null(p);
	assert_int_equal(d.n_errors + d.n_warnings, 0);
	assert_int_equal(p->n_blocked_ports, 1);
	assert_int_equal(p->blocked_ports[0], 25);
	assert_int_equal(p->n_port_pairs, 1);
	assert_string_equal(p->port_pairs[0].inside, "net_af_packet0");
	assert_string_equal(p->port_pairs[0].outside, "net_af_packet1");
	assert_int_equal(p->n_members, 2);

	m = &p->members[gnn_policy_find_member(p, "example-college")];
	assert_int_equal(m->mode, GNN_MODE_ENFORCE);
	check_prefixes(m->networks, m->n_networks, college_nets, 2);
	check_prefixes(m->mail_servers, m->n_mail_servers, college_srv, 2);

	m = &p->members[gnn_policy_find_member(p, "example-library")];
	assert_int_equal(m->mode, GNN_MODE_MONITOR);
	check_prefixes(m->networks, m->n_networks, library_nets, 2);
	check_prefixes(m->mail_servers, m->n_mail_servers, library_srv, 1);
	gnn_policy_free(p);
	gnn_diag_clear(&d);
}

/* Names in any script load; only control characters and bad bytes do not. */
static void
test_valid_utf8_name(void **state)
{
	struct gnn_diag d = {0};
	struct gnn_policy *p;

	(void)state;
	p = load_good(HEAD "members = (\n"
			   "  { name = \"\xc3\xa9"
			   "cole-\xe5\xad\xa6\xe6\xa0\xa1\"; mode = \"off\";\n"
			   "    networks = [ \"192.0.2.0/24\" ]; }\n"
			   ");\n",
		      &d);
	assert_string_equal(p->members[0].name, "\xc3\xa9"
						"cole-\xe5\xad\xa6\xe6\xa0\xa1");
	gnn_policy_free(p);
	gnn_diag_clear(&d);
}

static void
test_valid_full(void **state)
{
	static const char text[] =
		"# a comment\n"							  /* 1 */
		"blocked_ports = [ 2525, 25, 587 ];\n"				  /* 2 */
		"ports = (\n"							  /* 3 */
		"  { inside = \"0000:03:00.0\"; outside = \"0000:03:00.1\"; },\n" /* 4 */
		"  { outside = \"net_af_packet1\";\n"				  /* 5 */
		"    inside = \"net_af_packet0\"; }\n"				  /* 6 */
		");\n"								  /* 7 */
		"members = (\n"							  /* 8 */
		"  { name = \"campus\"; mode = \"enforce\";\n"			  /* 9 */
		"    networks = [ \"198.18.0.0/15\", \"2001:db8::/32\" ];\n"	  /* 10 */
		"    mail_servers = ( \"198.18.0.25\", \"198.18.0.26/31\",\n"	  /* 11 */
		"                     \"2001:db8::25\" ); },\n"			  /* 12 */
		"  { name = \"dorm\"; mode = \"monitor\";\n"			  /* 13 */
		"    networks = ( \"198.18.4.0/24\", \"2001:db8:4::/48\" );\n"	  /* 14 */
		"    mail_servers = [ ]; },\n"					  /* 15 */
		"  { mode = \"off\"; name = \"guest\";\n"			  /* 16 */
		"    networks = [ \"192.0.2.128/25\" ]; }\n"			  /* 17 */
		");\n";								  /* 18 */
	static const char *const campus_nets[] = {"198.18.0.0/15", "2001:db8::/32"};
	static const char *const campus_srv[] = {"198.18.0.25", "198.18.0.26/31", "2001:db8::25"};
	static const char *const dorm_nets[] = {"198.18.4.0/24", "2001:db8:4::/48"};
	static const char *const guest_nets[] = {"192.0.2.128/25"};
	struct gnn_diag d = {0};
	struct gnn_policy *p = load_good(text, &d);

	(void)state;
	expect_counts(&d, 0, 0);
	assert_string_equal(p->path, NAME);

	assert_int_equal(p->n_blocked_ports, 3);
	assert_int_equal(p->blocked_ports[0], 25);
	assert_int_equal(p->blocked_ports[1], 587);
	assert_int_equal(p->blocked_ports[2], 2525);

	assert_int_equal(p->n_port_pairs, 2);
	assert_string_equal(p->port_pairs[0].inside, "0000:03:00.0");
	assert_string_equal(p->port_pairs[0].outside, "0000:03:00.1");
	assert_int_equal(p->port_pairs[0].line, 4);
	assert_string_equal(p->port_pairs[1].inside, "net_af_packet0");
	assert_string_equal(p->port_pairs[1].outside, "net_af_packet1");
	assert_int_equal(p->port_pairs[1].line, 5);

	assert_int_equal(p->n_members, 3);
	assert_string_equal(p->members[0].name, "campus");
	assert_int_equal(p->members[0].mode, GNN_MODE_ENFORCE);
	assert_int_equal(p->members[0].line, 9);
	check_prefixes(p->members[0].networks, p->members[0].n_networks, campus_nets, 2);
	check_prefixes(p->members[0].mail_servers, p->members[0].n_mail_servers, campus_srv, 3);

	assert_string_equal(p->members[1].name, "dorm");
	assert_int_equal(p->members[1].mode, GNN_MODE_MONITOR);
	assert_int_equal(p->members[1].line, 13);
	check_prefixes(p->members[1].networks, p->members[1].n_networks, dorm_nets, 2);
	assert_int_equal(p->members[1].n_mail_servers, 0);

	/* mail_servers left out: no servers. */
	assert_string_equal(p->members[2].name, "guest");
	assert_int_equal(p->members[2].mode, GNN_MODE_OFF);
	assert_int_equal(p->members[2].line, 16);
	check_prefixes(p->members[2].networks, p->members[2].n_networks, guest_nets, 1);
	assert_int_equal(p->members[2].n_mail_servers, 0);

	assert_int_equal(gnn_policy_find_member(p, "campus"), 0);
	assert_int_equal(gnn_policy_find_member(p, "guest"), 2);
	assert_int_equal(gnn_policy_find_member(p, "Guest"), -1);
	assert_int_equal(gnn_policy_find_member(p, NULL), -1);
	assert_int_equal(gnn_policy_find_member(NULL, "campus"), -1);
	gnn_policy_free(p);
	gnn_diag_clear(&d);
}

static void
test_empty_members(void **state)
{
	struct gnn_diag d = {0};
	struct gnn_policy *p;

	(void)state;
	p = load_good(HEAD "members = ( );\n", &d);
	assert_int_equal(p->n_members, 0);
	expect_counts(&d, 0, 1);
	expect_warning(&d, 3, "'members' is empty");
	gnn_policy_free(p);
	gnn_diag_clear(&d);

	/* An empty array reads the same as an empty list. */
	p = load_good(HEAD "members = [ ];\n", &d);
	assert_int_equal(p->n_members, 0);
	gnn_policy_free(p);
	gnn_diag_clear(&d);
}

static void
test_modes_and_names(void **state)
{
	(void)state;
	assert_string_equal(gnn_mode_name(GNN_MODE_OFF), "off");
	assert_string_equal(gnn_mode_name(GNN_MODE_MONITOR), "monitor");
	assert_string_equal(gnn_mode_name(GNN_MODE_ENFORCE), "enforce");
	assert_string_equal(gnn_mode_name((enum gnn_mode)7), "unknown");
}

static void
test_max_name_length(void **state)
{
	char text[512];
	char name[GNN_NAME_MAX];
	struct gnn_diag d = {0};
	struct gnn_policy *p;

	(void)state;
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(text, sizeof(text),
		 "blocked_ports = [ 25 ];\n"
		 "ports = ( { inside = \"%s\"; outside = \"out0\"; } );\n"
		 "members = ( { name = \"%s\"; mode = \"off\"; networks = [ \"192.0.2.0/24\" ]; } "
		 ");\n",
		 name, name);
	p = load_good(text, &d);
	assert_string_equal(p->members[0].name, name);
	assert_string_equal(p->port_pairs[0].inside, name);
	gnn_policy_free(p);
	gnn_diag_clear(&d);
}

/* ---- warnings --------------------------------------------------------- */

static void
test_warn_mail_server_outside(void **state)
{
	static const char text[] = HEAD "members = (\n"				       /* 3 */
					"  { name = \"x\"; mode = \"enforce\";\n"      /* 4 */
					"    networks = [ \"192.0.2.0/24\" ];\n"       /* 5 */
					"    mail_servers = [ \"192.0.2.25\",\n"       /* 6 */
					"                     \"198.51.100.9\",\n"     /* 7 */
					"                     \"2001:db8::25\" ]; }\n" /* 8 */
					");\n";
	struct gnn_diag d = {0};
	struct gnn_policy *p = load_good(text, &d);

	(void)state;
	expect_counts(&d, 0, 2);
	expect_warning(&d, 7,
		       "mail server 198.51.100.9 is outside all networks of member 'x'; it is "
		       "never matched");
	expect_warning(&d, 8, "mail server 2001:db8::25 is outside all networks of member 'x'");
	/* Still loaded as written. */
	assert_int_equal(p->members[0].n_mail_servers, 3);
	gnn_policy_free(p);
	gnn_diag_clear(&d);
}

static void
test_warn_mail_server_shadowed(void **state)
{
	/* b's /24 is more specific, so the address belongs to b, not to a. */
	static const char text[] =
		HEAD "members = (\n"						     /* 3 */
		     "  { name = \"a\"; mode = \"enforce\";\n"			     /* 4 */
		     "    networks = [ \"198.18.0.0/15\" ];\n"			     /* 5 */
		     "    mail_servers = [ \"198.18.4.25\", \"198.18.0.25\" ]; },\n" /* 6 */
		     "  { name = \"b\"; mode = \"enforce\";\n"			     /* 7 */
		     "    networks = [ \"198.18.4.0/24\" ];\n"			     /* 8 */
		     "    mail_servers = [ \"198.18.4.26\" ]; }\n"		     /* 9 */
		     ");\n";
	struct gnn_diag d = {0};
	struct gnn_policy *p = load_good(text, &d);

	(void)state;
	expect_counts(&d, 0, 1);
	expect_warning(&d, 6,
		       "mail server 198.18.4.25 of member 'a' lies in the more specific network "
		       "198.18.4.0/24 of member 'b'; it is never matched");
	gnn_policy_free(p);
	gnn_diag_clear(&d);
}

/* ---- errors ----------------------------------------------------------- */

static void
test_err_syntax(void **state)
{
	(void)state;
	one_error("blocked_ports = [ 25 ];\n"
		  "ports = ( { inside = \"a\"; outside = \"b\"; } )\n"
		  "members = ( { name = \"x\"; mode = = \"off\"; } );\n",
		  3, "syntax error");
	/* libconfig's own checks come out the same way. */
	one_error("blocked_ports = [ 25 ];\n"
		  "blocked_ports = [ 587 ];\n",
		  2, "duplicate setting name");
	one_error("blocked_ports = [ 25, \"587\" ];\n", 1, "mismatched element type");
	one_error("members = (\n{ name = \"x\";\n", 3, "syntax error");
}

static void
test_err_missing_top(void **state)
{
	struct gnn_diag d = {0};

	(void)state;
	one_error("ports = ( { inside = \"a\"; outside = \"b\"; } );\nmembers = ( );\n", 1,
		  "missing 'blocked_ports'");
	one_error("blocked_ports = [ 25 ];\nmembers = ( );\n", 1, "missing 'ports'");
	one_error(HEAD, 1, "missing 'members'");

	load_bad("", &d);
	expect_counts(&d, 3, 0);
	expect_error(&d, 1, "missing 'blocked_ports'");
	expect_error(&d, 1, "missing 'ports'");
	expect_error(&d, 1, "missing 'members'");
	gnn_diag_clear(&d);
}

static void
test_err_missing_fields(void **state)
{
	struct gnn_diag d = {0};

	(void)state;
	one_error(HEAD "members = (\n"
		       "  { mode = \"off\";\n" /* 4 */
		       "    networks = [ \"192.0.2.0/24\" ]; }\n"
		       ");\n",
		  4, "missing 'name' in member #1");
	one_error(HEAD "members = (\n"
		       "  { name = \"a\"; mode = \"off\"; networks = [ \"192.0.2.0/24\" ]; },\n"
		       "  {\n" /* 5 */
		       "    name = \"x\";\n"
		       "    networks = [ \"198.51.100.0/24\" ]; }\n"
		       ");\n",
		  5, "missing 'mode' in member 'x'");
	one_error(HEAD "members = (\n"
		       "  { name = \"x\"; mode = \"off\";\n" /* 4 */
		       "    mail_servers = [ ]; }\n"
		       ");\n",
		  4, "missing 'networks' in member 'x'");
	one_error("blocked_ports = [ 25 ];\n"
		  "ports = (\n"
		  "  { outside = \"b\"; }\n" /* 3 */
		  ");\n"
		  "members = ( );\n",
		  3, "missing 'inside' in port pair #1");
	one_error("blocked_ports = [ 25 ];\n"
		  "ports = (\n"
		  "  { inside = \"a\"; outside = \"b\"; },\n"
		  "  { inside = \"c\"; }\n" /* 4 */
		  ");\n"
		  "members = ( );\n",
		  4, "missing 'outside' in port pair #2");

	/* An empty group misses everything at once, all on its line. */
	load_bad(HEAD "members = (\n  { }\n);\n", &d);
	expect_counts(&d, 3, 0);
	expect_error(&d, 4, "missing 'name' in member #1");
	expect_error(&d, 4, "missing 'mode' in member #1");
	expect_error(&d, 4, "missing 'networks' in member #1");
	gnn_diag_clear(&d);
}

static void
test_err_unknown_fields(void **state)
{
	struct gnn_diag d = {0};

	(void)state;
	one_error(HEAD "members = (\n"
		       "  { name = \"x\"; mode = \"enforce\";\n"
		       "    networks = [ \"192.0.2.0/24\" ];\n"
		       "    mail_server = [ \"192.0.2.25\" ]; }\n" /* 6 */
		       ");\n",
		  6, "unknown field 'mail_server' in member 'x' (did you mean 'mail_servers'?)");
	one_error(HEAD "members = ( );\n"
		       "log_level = \"debug\";\n", /* 4 */
		  4, "unknown field 'log_level' at top level");

	/* A misspelt name is both unknown and, for what it meant, missing. */
	load_bad(HEAD "member = ( );\n", &d);
	expect_counts(&d, 2, 0);
	expect_error(&d, 3, "unknown field 'member' at top level (did you mean 'members'?)");
	expect_error(&d, 1, "missing 'members'");
	gnn_diag_clear(&d);
	one_error("blocked_ports = [ 25 ];\n"
		  "ports = ( { inside = \"a\"; outside = \"b\";\n"
		  "            vlan = 5; } );\n" /* 3 */
		  "members = ( );\n",
		  3, "unknown field 'vlan' in port pair #1");
}

static void
test_err_wrong_types(void **state)
{
	static const char *const p2 = "ports = ( { inside = \"a\"; outside = \"b\"; } );\n";
	char text[512];

	(void)state;
	one_error(HEAD "members = (\n"
		       "  { name = \"x\"; mode = \"off\";\n"
		       "    networks = \"192.0.2.0/24\"; }\n" /* 5 */
		       ");\n",
		  5, "'networks' of member 'x' must be a list");
	one_error(HEAD "members = (\n"
		       "  { name = \"x\"; mode = \"off\"; networks = [ \"192.0.2.0/24\" ];\n"
		       "    mail_servers = \"192.0.2.25\"; }\n" /* 5 */
		       ");\n",
		  5, "'mail_servers' of member 'x' must be a list");
	one_error(HEAD "members = (\n"
		       "  { name = \"x\"; mode = \"off\";\n"
		       "    networks = [ 192 ]; }\n" /* 5 */
		       ");\n",
		  5, "network entry #1 must be a string");
	one_error(HEAD "members = (\n"
		       "  { name = \"x\"; mode = \"off\";\n"
		       "    networks = ( \"192.0.2.0/24\", ( \"198.51.100.0/24\" ) ); }\n" /* 5 */
		       ");\n",
		  5, "network entry #2 must be a string");
	one_error(HEAD "members = (\n"
		       "  { name = 7; mode = \"off\"; networks = [ \"192.0.2.0/24\" ]; }\n" /* 4 */
		       ");\n",
		  4, "'name' of member #1 must be a string");
	one_error(HEAD "members = (\n"
		       "  { name = \"x\"; mode = true; networks = [ \"192.0.2.0/24\" ]; }\n" /* 4 */
		       ");\n",
		  4, "'mode' of member 'x' must be a string");
	one_error(HEAD "members = { name = \"x\"; };\n", 3, "'members' must be a list of groups");
	one_error(HEAD "members = ( \"x\" );\n", 3, "member #1 must be a group");

	snprintf(text, sizeof(text), "blocked_ports = 25;\n%smembers = ( );\n", p2);
	one_error(text, 1, "'blocked_ports' must be a list of port numbers");
	snprintf(text, sizeof(text), "blocked_ports = ( 25, \"smtp\" );\n%smembers = ( );\n", p2);
	one_error(text, 1, "blocked_ports entry #2 must be a port number");
	snprintf(text, sizeof(text), "blocked_ports = [ 25.0 ];\n%smembers = ( );\n", p2);
	one_error(text, 1, "blocked_ports entry #1 must be a port number");

	one_error("blocked_ports = [ 25 ];\nports = \"in0\";\nmembers = ( );\n", 2,
		  "'ports' must be a list of groups");
	one_error("blocked_ports = [ 25 ];\nports = ( \"in0\" );\nmembers = ( );\n", 2,
		  "port pair #1 must be a group");
	one_error("blocked_ports = [ 25 ];\nports = ( { inside = 0; outside = \"b\"; } );\n"
		  "members = ( );\n",
		  2, "'inside' of port pair #1 must be a string");
}

static void
test_err_bad_prefixes(void **state)
{
	static const struct {
		const char *text;
		const char *needle;
	} cases[] = {
		{"192.0.2/24", "member 'x': bad network '192.0.2/24': not an IPv4 or IPv6"},
		{"example.net", "bad network 'example.net': not an IPv4 or IPv6"},
		{"192.0.2.0/", "bad network '192.0.2.0/': prefix length is not a number"},
		{"192.0.2.0/33", "bad network '192.0.2.0/33': prefix length out of range 0..32"},
		{"2001:db8::/129",
		 "bad network '2001:db8::/129': prefix length out of range 0..128"},
		{"::ffff:192.0.2.0/120", "IPv4-mapped IPv6 address"},
		{"192.0.2.1/24",
		 "member 'x': network 192.0.2.1/24 has host bits set (did you mean 192.0.2.0/24?)"},
		{"2001:db8:10::1/48",
		 "network 2001:db8:10::1/48 has host bits set (did you mean 2001:db8:10::/48?)"},
	};
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 HEAD "members = (\n"
			      "  { name = \"x\"; mode = \"enforce\";\n"
			      "    networks = [ \"198.51.100.0/24\",\n"
			      "                 \"%s\" ]; }\n" /* 6 */
			      ");\n",
			 cases[i].text);
		one_error(text, 6, cases[i].needle);
	}

	/* Mail servers go through the same checks. */
	one_error(HEAD "members = (\n"
		       "  { name = \"x\"; mode = \"enforce\";\n"
		       "    networks = [ \"192.0.2.0/24\" ];\n"
		       "    mail_servers = [ \"192.0.2.25/31\" ]; }\n" /* 6 */
		       ");\n",
		  6, "mail server 192.0.2.25/31 has host bits set (did you mean 192.0.2.24/31?)");
	one_error(HEAD "members = (\n"
		       "  { name = \"x\"; mode = \"enforce\";\n"
		       "    networks = [ \"192.0.2.0/24\" ];\n"
		       "    mail_servers = [ \"192.0.2.25/40\" ]; }\n" /* 6 */
		       ");\n",
		  6, "bad mail server '192.0.2.25/40': prefix length out of range");
	one_error(HEAD "members = (\n"
		       "  { name = \"x\"; mode = \"enforce\";\n"
		       "    networks = [ \"192.0.2.0/24\" ];\n"
		       "    mail_servers = [ \"mail.example\" ]; }\n" /* 6 */
		       ");\n",
		  6, "bad mail server 'mail.example'");
}

static void
test_err_members(void **state)
{
	char text[512];
	char longname[GNN_NAME_MAX + 1];

	(void)state;
	one_error(HEAD "members = (\n"
		       "  { name = \"x\"; mode = \"off\"; networks = [ \"192.0.2.0/24\" ]; },\n"
		       "  { name = \"x\"; mode = \"off\";\n" /* 5 */
		       "    networks = [ \"198.51.100.0/24\" ]; }\n"
		       ");\n",
		  5, "duplicate member name 'x' (first on line 4)");
	one_error(HEAD "members = (\n"
		       "  { name = \"x\";\n"
		       "    mode = \"block\";\n" /* 5 */
		       "    networks = [ \"192.0.2.0/24\" ]; }\n"
		       ");\n",
		  5, "unknown mode 'block' in member 'x' (expected enforce, monitor or off)");
	one_error(HEAD "members = (\n"
		       "  { name = \"x\"; mode = \"Enforce\"; networks = [ \"192.0.2.0/24\" ]; }\n"
		       ");\n",
		  4, "unknown mode 'Enforce'");
	one_error(HEAD "members = (\n"
		       "  { name = \"\"; mode = \"off\"; networks = [ \"192.0.2.0/24\" ]; }\n"
		       ");\n",
		  4, "'name' of member #1 is empty");
	/*
	 * Names go into JSON and labels: only printable UTF-8. A raw byte
	 * that is no UTF-8 is refused with the rest of the text; libconfig's
	 * \x escape makes one inside the string.
	 */
	one_error(HEAD
		  "members = (\n"
		  "  { name = \"caf\xe9\"; mode = \"off\"; networks = [ \"192.0.2.0/24\" ]; }\n"
		  ");\n",
		  4, "invalid UTF-8 (byte 0xe9");
	one_error(HEAD
		  "members = (\n"
		  "  { name = \"caf\\xe9\"; mode = \"off\"; networks = [ \"192.0.2.0/24\" ]; }\n"
		  ");\n",
		  4, "'name' of member #1 is not printable UTF-8 text");
	one_error(HEAD "members = (\n"
		       "  { name = \"a\x01b\"; mode = \"off\"; networks = [ \"192.0.2.0/24\" ]; }\n"
		       ");\n",
		  4, "is not printable UTF-8 text");
	one_error(HEAD
		  "members = (\n"
		  "  { name = \"\\xc0\\xafx\"; mode = \"off\"; networks = [ \"192.0.2.0/24\" ]; }\n"
		  ");\n",
		  4, "is not printable UTF-8 text");
	one_error(HEAD "members = (\n"
		       "  { name = \"x\"; mode = \"off\";\n"
		       "    networks = [ ]; }\n" /* 5 */
		       ");\n",
		  5, "'networks' of member 'x' is empty");

	memset(longname, 'n', GNN_NAME_MAX);
	longname[GNN_NAME_MAX] = '\0';
	snprintf(text, sizeof(text),
		 HEAD "members = (\n"
		      "  { name = \"%s\";\n" /* 4 */
		      "    mode = \"off\"; networks = [ \"192.0.2.0/24\" ]; }\n"
		      ");\n",
		 longname);
	one_error(text, 4, "'name' of member #1 'nnnnnnnnnnnnnnnnnnnn...' is too long (64 bytes");
}

static void
test_err_duplicates(void **state)
{
	struct gnn_diag d = {0};

	(void)state;
	/* The same network in two members: ambiguous owner. */
	one_error(HEAD "members = (\n"
		       "  { name = \"a\"; mode = \"off\";\n"
		       "    networks = [ \"192.0.2.0/24\", \"2001:db8:10::/48\" ]; },\n" /* 5 */
		       "  { name = \"b\"; mode = \"off\";\n"
		       "    networks = [ \"198.51.100.0/24\",\n"
		       "                 \"2001:db8:10:0::/48\" ]; }\n" /* 8 */
		       ");\n",
		  8,
		  "network 2001:db8:10::/48 of member 'b' already belongs to member 'a' (line 5)");
	/* Twice in one member. */
	one_error(HEAD "members = (\n"
		       "  { name = \"a\"; mode = \"off\";\n"
		       "    networks = [ \"192.0.2.0/24\",\n"	  /* 5 */
		       "                 \"192.0.2.0/24\" ]; }\n" /* 6 */
		       ");\n",
		  6, "member 'a': network 192.0.2.0/24 listed twice (first on line 5)");
	/* A mail server given twice. */
	one_error(HEAD "members = (\n"
		       "  { name = \"a\"; mode = \"off\"; networks = [ \"192.0.2.0/24\" ];\n"
		       "    mail_servers = [ \"192.0.2.25\", \"192.0.2.26\",\n" /* 5 */
		       "                     \"192.0.2.25/32\" ]; }\n"		/* 6 */
		       ");\n",
		  6, "member 'a': mail server 192.0.2.25/32 listed twice (first on line 5)");

	/* Three members with the same network: two errors, both naming the first. */
	load_bad(HEAD "members = (\n"
		      "  { name = \"a\"; mode = \"off\"; networks = [ \"192.0.2.0/24\" ]; },\n"
		      "  { name = \"b\"; mode = \"off\"; networks = [ \"192.0.2.0/24\" ]; },\n"
		      "  { name = \"c\"; mode = \"off\"; networks = [ \"192.0.2.0/24\" ]; }\n"
		      ");\n",
		 &d);
	expect_counts(&d, 2, 0);
	expect_error(&d, 5, "of member 'b' already belongs to member 'a' (line 4)");
	expect_error(&d, 6, "of member 'c' already belongs to member 'a' (line 4)");
	gnn_diag_clear(&d);
}

static void
test_err_blocked_ports(void **state)
{
	static const char *const rest = "ports = ( { inside = \"a\"; outside = \"b\"; } );\n"
					"members = ( );\n";
	struct gnn_diag d = {0};
	char text[512];

	(void)state;
	snprintf(text, sizeof(text), "blocked_ports = [ ];\n%s", rest);
	one_error(text, 1, "'blocked_ports' is empty");
	snprintf(text, sizeof(text), "blocked_ports = [ 0 ];\n%s", rest);
	one_error(text, 1, "blocked port 0 out of range 1..65535");
	snprintf(text, sizeof(text), "blocked_ports = [ 65536 ];\n%s", rest);
	one_error(text, 1, "blocked port 65536 out of range 1..65535");
	snprintf(text, sizeof(text), "blocked_ports = [ -25 ];\n%s", rest);
	one_error(text, 1, "blocked port -25 out of range 1..65535");
	snprintf(text, sizeof(text), "blocked_ports = [ 4294967296L ];\n%s", rest);
	one_error(text, 1, "blocked port 4294967296 out of range");
	snprintf(text, sizeof(text), "blocked_ports = [ 25,\n 587,\n 0x19 ];\n%s", rest);
	one_error(text, 3, "blocked port 25 listed twice (first on line 1)");

	/* The extremes are fine. */
	snprintf(text, sizeof(text), "blocked_ports = [ 65535, 1 ];\n%s", rest);
	{
		struct gnn_policy *p = load_good(text, &d);

		assert_int_equal(p->n_blocked_ports, 2);
		assert_int_equal(p->blocked_ports[0], 1);
		assert_int_equal(p->blocked_ports[1], 65535);
		gnn_policy_free(p);
	}
	/* Several bad entries: each reported. */
	snprintf(text, sizeof(text), "blocked_ports = [ 0,\n 25,\n 70000,\n 25 ];\n%s", rest);
	gnn_diag_clear(&d);
	load_bad(text, &d);
	expect_counts(&d, 3, 1);
	expect_error(&d, 1, "blocked port 0 out of range");
	expect_error(&d, 3, "blocked port 70000 out of range");
	expect_error(&d, 4, "blocked port 25 listed twice (first on line 2)");
	gnn_diag_clear(&d);
}

static void
test_err_ports(void **state)
{
	char text[512];
	char longname[GNN_NAME_MAX + 1];

	(void)state;
	one_error("blocked_ports = [ 25 ];\n"
		  "ports = (\n"
		  "  { inside = \"a\"; outside = \"b\"; },\n" /* 3 */
		  "  { inside = \"c\";\n"
		  "    outside = \"a\"; }\n" /* 5 */
		  ");\n"
		  "members = ( );\n",
		  5, "port 'a' is used twice (first on line 3)");
	one_error("blocked_ports = [ 25 ];\n"
		  "ports = ( { inside = \"a\"; outside = \"a\"; } );\n"
		  "members = ( );\n",
		  2, "port 'a' is used twice (first on line 2)");
	one_error("blocked_ports = [ 25 ];\nports = ( );\nmembers = ( );\n", 2, "'ports' is empty");
	one_error("blocked_ports = [ 25 ];\n"
		  "ports = ( { inside = \"\"; outside = \"b\"; } );\n"
		  "members = ( );\n",
		  2, "'inside' of port pair #1 is empty");

	memset(longname, 'p', GNN_NAME_MAX);
	longname[GNN_NAME_MAX] = '\0';
	snprintf(text, sizeof(text),
		 "blocked_ports = [ 25 ];\n"
		 "ports = ( { inside = \"a\";\n"
		 "  outside = \"%s\"; } );\n" /* 3 */
		 "members = ( );\n",
		 longname);
	one_error(text, 3, "'outside' of port pair #1 'pppppppppppppppppppp...' is too long");
}

static void
test_err_too_many(void **state)
{
	size_t size = 4096;
	char *text = malloc(size);
	size_t off;

	(void)state;
	assert_non_null(text);
	off = (size_t)snprintf(text, size, "blocked_ports = [ 25 ];\nports = (\n");
	for (int i = 0; i <= GNN_MAX_PORT_PAIRS; i++)
		off += (size_t)snprintf(text + off, size - off,
					"%s{ inside = \"i%d\"; outside = \"o%d\"; }\n",
					i ? "," : "", i, i);
	snprintf(text + off, size - off, ");\nmembers = ( );\n");
	one_error(text, 2, "too many port pairs (17, at most 16)");
	free(text);
}

/* No member limit: 5,000 in one file (tests/scale loads 100,000). */
static void
test_many_members(void **state)
{
	enum { N = 5000 };
	size_t size = 160 * (N + 2);
	char *text = malloc(size);
	struct gnn_diag d = {0};
	struct gnn_policy *p;
	char name[16];
	size_t off;

	(void)state;
	assert_non_null(text);
	off = (size_t)snprintf(text, size, HEAD "members = (\n");
	for (int i = 0; i < N; i++)
		off += (size_t)snprintf(
			text + off, size - off,
			"%s{ name = \"m%d\"; mode = \"enforce\"; networks = [ "
			"\"198.18.%d.%d/31\" ]; mail_servers = [ \"198.18.%d.%d\" ]; "
			"}\n",
			i ? "," : "", i, i / 128, i % 128 * 2, i / 128, i % 128 * 2);
	snprintf(text + off, size - off, ");\n");
	p = load_good(text, &d);
	expect_counts(&d, 0, 0);
	assert_int_equal(p->n_members, N);
	for (int i = 0; i < N; i += 499) {
		snprintf(name, sizeof(name), "m%d", i);
		assert_int_equal(gnn_policy_find_member(p, name), i);
	}
	assert_int_equal(gnn_policy_find_member(p, "m5000"), -1);
	assert_string_equal(fmt(&p->members[N - 1].networks[0]), "198.18.39.14/31");
	assert_string_equal(fmt(&p->members[N - 1].mail_servers[0]), "198.18.39.14");
	gnn_policy_free(p);
	gnn_diag_clear(&d);
	free(text);
}

struct exists_arg {
	unsigned int calls;
};

static bool
only_known_ports(const char *name, void *arg)
{
	struct exists_arg *a = arg;

	a->calls++;
	return strcmp(name, "net_af_packet0") == 0 || strcmp(name, "net_af_packet1") == 0;
}

static void
test_err_port_not_found(void **state)
{
	static const char good[] = "blocked_ports = [ 25 ];\n"
				   "ports = ( { inside = \"net_af_packet0\";\n"
				   "            outside = \"net_af_packet1\"; } );\n"
				   "members = ( );\n";
	static const char bad[] = "blocked_ports = [ 25 ];\n"
				  "ports = ( { inside = \"net_af_packet0\";\n"
				  "            outside = \"net_af_packet1\"; },\n"
				  "          { inside = \"0000:03:00.0\";\n"	   /* 4 */
				  "            outside = \"0000:03:00.1\"; } );\n" /* 5 */
				  "members = ( );\n";
	struct exists_arg arg = {0};
	struct gnn_diag d = {0};
	struct gnn_policy *p;

	(void)state;
	p = gnn_policy_load_string(good, NAME, only_known_ports, &arg, &d);
	assert_non_null(p);
	assert_int_equal(arg.calls, 2);
	gnn_policy_free(p);
	gnn_diag_clear(&d);

	/* Without a callback no port is looked up. */
	p = gnn_policy_load_string(bad, NAME, NULL, NULL, &d);
	assert_non_null(p);
	gnn_policy_free(p);
	gnn_diag_clear(&d);

	arg.calls = 0;
	p = gnn_policy_load_string(bad, NAME, only_known_ports, &arg, &d);
	assert_null(p);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(arg.calls, 4);
	expect_counts(&d, 2, 1);
	expect_error(&d, 4, "port '0000:03:00.0' (inside of port pair #2) not found");
	expect_error(&d, 5, "port '0000:03:00.1' (outside of port pair #2) not found");
	expect_warning(&d, 6, "'members' is empty");
	gnn_diag_clear(&d);
}

/* Many mistakes in one file: every one reported, in line order. */
static void
test_err_many_at_once(void **state)
{
	static const char text[] =
		"blocked_ports = [ 25, 0 ];\n"				      /* 1 */
		"ports = (\n"						      /* 2 */
		"  { inside = \"a\"; outside = \"a\"; }\n"		      /* 3 */
		");\n"							      /* 4 */
		"members = (\n"						      /* 5 */
		"  { name = \"x\";\n"					      /* 6 */
		"    mode = \"enforced\";\n"				      /* 7 */
		"    networks = [ \"192.0.2.1/24\", \"2001:db8::/129\" ];\n"  /* 8 */
		"    mail_server = [ \"192.0.2.25\" ]; },\n"		      /* 9 */
		"  { name = \"x\"; mode = \"monitor\";\n"		      /* 10 */
		"    networks = [ \"198.51.100.0/24\" ];\n"		      /* 11 */
		"    mail_servers = [ \"203.0.113.9\" ]; },\n"		      /* 12 */
		"  { mode = \"off\"; networks = [ \"198.51.100.0/24\" ]; }\n" /* 13 */
		");\n"							      /* 14 */
		"extra = 1;\n";						      /* 15 */
	struct gnn_diag d = {0};
	int last = 0;

	(void)state;
	load_bad(text, &d);
	expect_error(&d, 1, "blocked port 0 out of range");
	expect_error(&d, 3, "port 'a' is used twice");
	expect_error(&d, 7, "unknown mode 'enforced'");
	expect_error(&d, 8, "192.0.2.1/24 has host bits set (did you mean 192.0.2.0/24?)");
	expect_error(&d, 8, "'2001:db8::/129': prefix length out of range");
	expect_error(&d, 9, "unknown field 'mail_server' in member 'x'");
	expect_error(&d, 10, "duplicate member name 'x' (first on line 6)");
	expect_error(&d, 13, "missing 'name' in member #3");
	expect_error(&d, 13,
		     "network 198.51.100.0/24 of member #3 already belongs to member 'x' "
		     "(line 11)");
	expect_error(&d, 15, "unknown field 'extra' at top level");
	expect_warning(&d, 12, "mail server 203.0.113.9 is outside all networks of member 'x'");
	expect_counts(&d, 10, 1);

	/* Sorted by line, each "t.conf:N: ". */
	for (unsigned int i = 0; i < d.n_errors; i++) {
		int line = atoi(d.errors[i] + strlen(NAME ":"));

		assert_true(line >= last);
		last = line;
	}
	gnn_diag_clear(&d);
}

/* ---- files ------------------------------------------------------------ */

static void
test_missing_file(void **state)
{
	struct gnn_diag d = {0};

	(void)state;
	errno = 0;
	assert_null(gnn_policy_load("/nonexistent/gnn.conf", NULL, NULL, &d));
	assert_int_equal(errno, ENOENT);
	expect_counts(&d, 1, 0);
	assert_string_equal(d.errors[0], "/nonexistent/gnn.conf: cannot open: No such file or "
					 "directory");
	gnn_diag_clear(&d);

	errno = 0;
	assert_null(gnn_policy_load(GNN_SOURCE_ROOT "/config", NULL, NULL, &d));
	assert_int_equal(errno, EISDIR);
	expect_counts(&d, 1, 0);
	assert_non_null(strstr(d.errors[0], "/config: cannot open: Is a directory"));
	gnn_diag_clear(&d);

	/* No diag at all is allowed: the caller only wants the verdict. */
	assert_null(gnn_policy_load("/nonexistent/gnn.conf", NULL, NULL, NULL));
	assert_int_equal(errno, ENOENT);
	assert_null(gnn_policy_load_string("members = 1;", NAME, NULL, NULL, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(gnn_policy_load(NULL, NULL, NULL, &d));
	assert_null(gnn_policy_load_string(NULL, NAME, NULL, NULL, &d));
	expect_counts(&d, 0, 0);
}

static void
test_file_errors_name_path(void **state)
{
	char path[] = "/tmp/gnn-test-policy-XXXXXX";
	struct gnn_diag d = {0};
	char want[128];
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(HEAD "members = (\n  { name = \"x\"; mode = \"on\"; networks = [ \"192.0.2.0/24\" ]; "
		   "}\n);\n",
	      f);
	fclose(f);

	assert_null(gnn_policy_load(path, NULL, NULL, &d));
	assert_int_equal(errno, EINVAL);
	expect_counts(&d, 1, 0);
	snprintf(want, sizeof(want), "%s:4: unknown mode 'on'", path);
	assert_memory_equal(d.errors[0], want, strlen(want));
	gnn_diag_clear(&d);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("blocked_ports = [ 25 ]\nports = (\n", f);
	fclose(f);
	assert_null(gnn_policy_load(path, NULL, NULL, &d));
	expect_counts(&d, 1, 0);
	snprintf(want, sizeof(want), "%s:3: syntax error", path);
	assert_string_equal(d.errors[0], want);
	gnn_diag_clear(&d);
	unlink(path);
}

/* ---- files on disk: helpers ------------------------------------------- */

static double
now_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A fresh directory of the test's own; rm_tree() removes it. */
static void
make_tmpdir(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/gnn-test-policy-%d-XXXXXX", (int)getpid());
	assert_non_null(mkdtemp(dir));
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write len bytes to dir/name; the path goes to path (PATH_SIZE). */
#define PATH_SIZE 512

static void
write_bytes(const char *dir, const char *name, const void *data, size_t len, char *path)
{
	char here[PATH_SIZE];
	FILE *f;

	if (path == NULL)
		path = here;
	snprintf(path, PATH_SIZE, "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
write_text(const char *dir, const char *name, const char *text, char *path)
{
	write_bytes(dir, name, text, strlen(text), path);
}

/* ---- reading files ---------------------------------------------------- */

static void
test_fifo_and_devices_refused(void **state)
{
	char dir[64], path[PATH_SIZE], want[PATH_SIZE + 64];
	struct gnn_diag d = {0};
	double t0;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/gnn.conf", dir);
	assert_int_equal(mkfifo(path, 0600), 0);

	/* No writer: a blocking open would hang here. */
	t0 = now_seconds();
	errno = 0;
	assert_null(gnn_policy_load(path, NULL, NULL, &d));
	assert_int_equal(errno, EINVAL);
	assert_true(now_seconds() - t0 < 10);
	expect_counts(&d, 1, 0);
	snprintf(want, sizeof(want), "%s: not a regular file (a FIFO)", path);
	assert_string_equal(d.errors[0], want);
	gnn_diag_clear(&d);

	assert_null(gnn_policy_load("/dev/null", NULL, NULL, &d));
	assert_int_equal(errno, EINVAL);
	expect_counts(&d, 1, 0);
	assert_string_equal(d.errors[0], "/dev/null: not a regular file (a character device)");
	gnn_diag_clear(&d);
	rm_tree(dir);
}

static void
test_size_limit(void **state)
{
	char dir[64], path[PATH_SIZE], want[PATH_SIZE + 64];
	struct gnn_diag d = {0};
	int fd;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/big.conf", dir);
	/* Sparse: one byte over the limit costs no disk space. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)GNN_POLICY_FILE_MAX + 1), 0);
	close(fd);

	errno = 0;
	assert_null(gnn_policy_load(path, NULL, NULL, &d));
	assert_int_equal(errno, EFBIG);
	expect_counts(&d, 1, 0);
	snprintf(want, sizeof(want), "%s: too large (%u bytes, at most %u: 64 MiB)", path,
		 GNN_POLICY_FILE_MAX + 1, GNN_POLICY_FILE_MAX);
	assert_string_equal(d.errors[0], want);
	gnn_diag_clear(&d);

	/* At the limit the file is read; its NULs are what is wrong then. */
	assert_int_equal(truncate(path, (off_t)GNN_POLICY_FILE_MAX), 0);
	assert_null(gnn_policy_load(path, NULL, NULL, &d));
	assert_int_equal(errno, EINVAL);
	expect_counts(&d, 1, 0);
	expect_error_in(&d, path, 1, "NUL byte at offset 0");
	gnn_diag_clear(&d);
	rm_tree(dir);
}

/* "#" and 64,000 NULs took libconfig's FILE reader 13 s; now refused at once. */
static void
test_nul_bytes(void **state)
{
	static const char head[] = HEAD "members = ( );\n# after this, NULs\n#";
	size_t len = sizeof(head) - 1 + 64000;
	char *bytes = calloc(1, len);
	char dir[64], path[PATH_SIZE], want[64];
	struct gnn_diag d = {0};
	double t0;

	(void)state;
	assert_non_null(bytes);
	memcpy(bytes, head, sizeof(head) - 1);
	make_tmpdir(dir, sizeof(dir));
	write_bytes(dir, "nul.conf", bytes, len, path);
	t0 = now_seconds();
	assert_null(gnn_policy_load(path, NULL, NULL, &d));
	print_message("  '#' and 64,000 NUL bytes refused in %.3f s\n", now_seconds() - t0);
	assert_int_equal(errno, EINVAL);
	expect_counts(&d, 1, 0);
	expect_error_in(&d, path, 5, "NUL byte at offset");
	gnn_diag_clear(&d);

	/* The same bytes through the buffer API. */
	assert_null(gnn_policy_load_buffer(bytes, len, NAME, NULL, NULL, &d));
	expect_counts(&d, 1, 0);
	snprintf(want, sizeof(want), "NUL byte at offset %zu", sizeof(head) - 1);
	expect_error(&d, 5, want);
	gnn_diag_clear(&d);

	/* A NUL inside a string, where a C string would end early. */
	{
		static const char text[] = HEAD "members = ( { name = \"a\0b\"; mode = \"off\";\n"
						"  networks = [ \"192.0.2.0/24\" ]; } );\n";

		assert_null(gnn_policy_load_buffer(text, sizeof(text) - 1, NAME, NULL, NULL, &d));
		expect_counts(&d, 1, 0);
		expect_error(&d, 3, "NUL byte");
		gnn_diag_clear(&d);
	}
	free(bytes);
	rm_tree(dir);
}

static void
test_invalid_utf8(void **state)
{
	static const struct {
		const char *bytes;
		const char *needle;
	} bad[] = {
		{"\xff", "byte 0xff"},
		{"\xc0\xaf", "byte 0xc0"},	   /* overlong "/" */
		{"\xe0\x80\xaf", "byte 0xe0"},	   /* overlong */
		{"\xed\xa0\x80", "byte 0xed"},	   /* a surrogate */
		{"\xf4\x90\x80\x80", "byte 0xf4"}, /* beyond U+10FFFF */
		{"caf\xe9 au lait", "byte 0xe9"},  /* Latin-1 */
		{"\xe2\x82", "byte 0xe2"},	   /* cut short by the newline */
	};
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* In a comment too: the whole file must be UTF-8. */
		snprintf(text, sizeof(text), HEAD "# %s\nmembers = ( );\n", bad[i].bytes);
		one_error(text, 3, bad[i].needle);
		one_error(text, 3, "invalid UTF-8");
	}

	/* Valid UTF-8 anywhere, and a byte order mark, load. */
	{
		struct gnn_diag d = {0};
		struct gnn_policy *p = load_good(
			"\xef\xbb\xbf" HEAD "# \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7\n"
			"members = ( { name = \"\xe2\x82\xac\"; mode = \"off\";\n"
			"  networks = [ \"192.0.2.0/24\" ]; } );\n",
			&d);

		expect_counts(&d, 0, 0);
		assert_string_equal(p->members[0].name, "\xe2\x82\xac");
		assert_int_equal(p->members[0].line, 4);
		gnn_policy_free(p);
		gnn_diag_clear(&d);
	}
}

/* What libconfig would take past its limits, or outside the bounded reader. */
static void
test_text_limits(void **state)
{
	char *text = malloc(65536);
	size_t off;

	(void)state;
	assert_non_null(text);
	one_error(HEAD "members = ( );\n"
		       "@include \"other.conf\"\n", /* 4 */
		  4, "@include is not supported; put members in files of members_dir");

	off = (size_t)snprintf(text, 65536, HEAD "members = ( );\nx = ");
	for (int i = 0; i < 65; i++)
		off += (size_t)snprintf(text + off, 65536 - off, "(");
	snprintf(text + off, 65536 - off, "\n");
	one_error(text, 4, "lists and groups nested more than 64 deep");

	/* 64 settings in a group is the most: libconfig's cost is quadratic. */
	off = (size_t)snprintf(text, 65536, HEAD "members = ( );\nipfix = {\n");
	for (int i = 0; i < 65; i++)
		off += (size_t)snprintf(text + off, 65536 - off, "  s%d = 1;\n", i);
	snprintf(text + off, 65536 - off, "};\n");
	one_error(text, 69, "more than 64 settings in one group");
	off = (size_t)snprintf(text, 65536, HEAD "members = ( );\n");
	for (int i = 0; i < 62; i++)
		off += (size_t)snprintf(text + off, 65536 - off, "s%d = 1;\n", i);
	one_error(text, 65, "more than 64 settings in one group (at the top of the file)");
	free(text);
}

/*
 * The pre-scan must read the text as libconfig does: what is in strings
 * and comments is no number, a line comment may end the file.
 */
static void
test_text_like_libconfig(void **state)
{
	static const char text[] =
		"# 4294967321 in a comment; \"quotes\" too\n"			   /* 1 */
		"// 4294967321 // and here\n"					   /* 2 */
		"/* 4294967321\n"						   /* 3 */
		"   # \" */ blocked_ports = [ 25 ];\n"				   /* 4 */
		"ports = ( { inside = \"in#0 4294967321\\\\\"; outside = "	   /* 5 */
		"\"out\\\"0 /* 4294967321\"; } );\n"				   /* 5 */
		"members = ( { name = \"a\\\"#b\"; mode = \"off\";\n"		   /* 6 */
		"  networks = [ \"192.0.2.0/24\" ]; } ); # no newline at the end"; /* 7 */
	struct gnn_diag d = {0};
	struct gnn_policy *p = load_good(text, &d);

	(void)state;
	expect_counts(&d, 0, 0);
	assert_int_equal(p->blocked_ports[0], 25);
	assert_string_equal(p->port_pairs[0].inside, "in#0 4294967321\\");
	assert_string_equal(p->port_pairs[0].outside, "out\"0 /* 4294967321");
	assert_string_equal(p->members[0].name, "a\"#b");
	assert_int_equal(p->members[0].line, 6);
	gnn_policy_free(p);
	gnn_diag_clear(&d);

	/* Line numbers after a block comment and strings over several lines. */
	one_error("/*\n\n*/ blocked_ports = [ 25 ];\n"				/* 1-3 */
		  "ports = ( { inside = \"a\"\n \"b\"; outside = \"c\"; } );\n" /* 4-5 */
		  "members = ( { name = \"x\"; mode = \"on\";\n"		/* 6 */
		  "  networks = [ \"192.0.2.0/24\" ]; } );\n",
		  6, "unknown mode 'on'");
	load_bad("blocked_ports = [ 25 ];\n"
		 "ports = ( { inside = \"a\n\n\"; outside = \"c\"; } );\n"	       /* 2-4 */
		 "members = ( );\n"						       /* 5 */
		 "ipfix = { collector = \"192.0.2.1:1\"; interval = 4294967306; };\n", /* 6 */
		 &d);
	expect_counts(&d, 2, 1);
	expect_error(&d, 2, "'inside' of port pair #1 is not printable UTF-8 text");
	expect_error(&d, 6, "number 4294967306 is out of range");
	gnn_diag_clear(&d);
}

/* libconfig's scanner is linear on text in memory: print what it costs. */
static void
test_large_comment_text(void **state)
{
	enum { SIZE = 10 << 20 };
	static const char line[] = "# a comment line, as long as many; \"quotes\" 4294967321 #\n";
	static const char tail[] = HEAD "members = ( );\n";
	char *text = malloc(SIZE + sizeof(tail));
	struct gnn_diag d = {0};
	struct gnn_policy *p;
	size_t off = 0;
	double t0;
	int lines = 0;

	(void)state;
	assert_non_null(text);
	while (off + sizeof(line) - 1 <= SIZE) {
		memcpy(text + off, line, sizeof(line) - 1);
		off += sizeof(line) - 1;
		lines++;
	}
	memcpy(text + off, tail, sizeof(tail));
	t0 = now_seconds();
	p = load_good(text, &d);
	print_message("  10 MB of comments: %.3f s\n", now_seconds() - t0);
	expect_counts(&d, 0, 1);
	expect_warning(&d, lines + 3, "'members' is empty");
	gnn_policy_free(p);
	gnn_diag_clear(&d);

	/* And of blanks. */
	memset(text, ' ', SIZE);
	for (size_t i = 99; i < SIZE; i += 100)
		text[i] = '\n';
	memcpy(text + SIZE, tail, sizeof(tail));
	t0 = now_seconds();
	p = load_good(text, &d);
	print_message("  10 MB of blanks: %.3f s\n", now_seconds() - t0);
	expect_warning(&d, SIZE / 100 + 3, "'members' is empty");
	gnn_policy_free(p);
	gnn_diag_clear(&d);
	free(text);
}

/* ---- integers libconfig would misread ------------------------------- */

static void
test_integer_truncation(void **state)
{
	static const char *const rest = "ports = ( { inside = \"a\"; outside = \"b\"; } );\n"
					"members = ( );\n";
	static const struct {
		const char *literal;
		const char *needle;
	} cases[] = {
		{"4294967321",
		 "number 4294967321 is out of range -2147483648..2147483647; it would "
		 "be read as 25"},
		{"0x100000019",
		 "number 0x100000019 is out of range 0..0x7fffffff; it would be read "
		 "as 25"},
		{"2147483648", "it would be read as -2147483648"},
		{"-2147483649", "number -2147483649 is out of range"},
		{"0x80000000", "it would be read as -2147483648"},
		{"0xFFFFFFFF", "it would be read as -1"},
		{"99999999999999999999", "it would be read as -1"},
		{"+4294967321", "number +4294967321 is out of range"},
		{"99999999999999999999L", "number 99999999999999999999L does not fit in 64 bits"},
		{"0x10000000000000000L", "does not fit in 64 bits"},
		{"0x8000000000000000LL", "does not fit in 64 bits"},
		{"-9223372036854775809L", "does not fit in 64 bits"},
	};
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* One error: no "blocked port 25" follows for the same number. */
		snprintf(text, sizeof(text), "blocked_ports = ( 25,\n %s );\n%s", cases[i].literal,
			 rest);
		one_error(text, 2, cases[i].needle);
	}

	/* Within range, libconfig reads them right and the range check speaks. */
	snprintf(text, sizeof(text), "blocked_ports = [ 2147483647 ];\n%s", rest);
	one_error(text, 1, "blocked port 2147483647 out of range 1..65535");
	snprintf(text, sizeof(text), "blocked_ports = [ -2147483648 ];\n%s", rest);
	one_error(text, 1, "blocked port -2147483648 out of range 1..65535");
	snprintf(text, sizeof(text), "blocked_ports = [ 4294967321L ];\n%s", rest);
	one_error(text, 1, "blocked port 4294967321 out of range 1..65535");
	snprintf(text, sizeof(text), "blocked_ports = [ 0x7fffffff ];\n%s", rest);
	one_error(text, 1, "blocked port 2147483647 out of range 1..65535");
	snprintf(text, sizeof(text), "blocked_ports = [ 9223372036854775807L ];\n%s", rest);
	one_error(text, 1, "blocked port 9223372036854775807 out of range");
	snprintf(text, sizeof(text), "blocked_ports = [ 1e10 ];\n%s", rest);
	one_error(text, 1, "blocked_ports entry #1 must be a port number, not a decimal number");

	/* Any number: the interval too (this one would read as 10). */
	snprintf(text, sizeof(text),
		 HEAD "members = ( );\n"
		      "ipfix = { collector = \"192.0.2.200:4739\";\n"
		      "          interval = 4294967306; };\n"); /* 5 */
	one_error(text, 5,
		  "number 4294967306 is out of range -2147483648..2147483647; it would "
		  "be read as 10");

	/* Digits in names and strings are no numbers. */
	{
		struct gnn_diag d = {0};
		struct gnn_policy *p =
			load_good(HEAD "members = ( { name = \"m4294967321\"; mode = \"off\";\n"
				       "  networks = [ \"2001:db8:4294::/48\" ]; } );\n",
				  &d);

		gnn_policy_free(p);
		gnn_diag_clear(&d);
	}
	one_error(HEAD "members = ( );\nx4294967321 = 1;\n", 4, "unknown field 'x4294967321'");
}

/* ---- action ----------------------------------------------------------- */

static void
test_action(void **state)
{
	static const char text[] =
		HEAD "members = (\n"						    /* 3 */
		     "  { name = \"a\"; mode = \"enforce\"; action = \"reject\";\n" /* 4 */
		     "    networks = [ \"192.0.2.0/25\" ]; },\n"
		     "  { name = \"b\"; mode = \"enforce\"; action = \"drop\";\n" /* 6 */
		     "    networks = [ \"192.0.2.128/25\" ]; },\n"
		     "  { name = \"c\"; mode = \"monitor\";\n" /* 8 */
		     "    networks = [ \"198.51.100.0/24\" ]; }\n"
		     ");\n";
	struct gnn_diag d = {0};
	struct gnn_policy *p = load_good(text, &d);

	(void)state;
	expect_counts(&d, 0, 0);
	assert_int_equal(p->members[0].action, GNN_ACTION_REJECT);
	assert_int_equal(p->members[1].action, GNN_ACTION_DROP);
	assert_int_equal(p->members[2].action, GNN_ACTION_DROP); /* the default */
	assert_string_equal(gnn_action_name(GNN_ACTION_DROP), "drop");
	assert_string_equal(gnn_action_name(GNN_ACTION_REJECT), "reject");
	assert_string_equal(gnn_action_name((enum gnn_action)9), "unknown");
	gnn_policy_free(p);
	gnn_diag_clear(&d);

	one_error(HEAD "members = (\n"
		       "  { name = \"a\"; mode = \"enforce\";\n"
		       "    action = \"Reject\";\n" /* 5 */
		       "    networks = [ \"192.0.2.0/24\" ]; }\n"
		       ");\n",
		  5, "unknown action 'Reject' in member 'a' (expected drop or reject)");
	one_error(HEAD "members = (\n"
		       "  { name = \"a\"; mode = \"enforce\"; action = \"block\";\n" /* 4 */
		       "    networks = [ \"192.0.2.0/24\" ]; }\n"
		       ");\n",
		  4, "unknown action 'block'");
	one_error(HEAD "members = (\n"
		       "  { name = \"a\"; mode = \"enforce\"; networks = [ \"192.0.2.0/24\" ];\n"
		       "    action = 1; }\n" /* 5 */
		       ");\n",
		  5, "'action' of member 'a' must be a string (drop or reject), not a number");
	one_error(HEAD "members = (\n"
		       "  { name = \"a\"; mode = \"enforce\"; networks = [ \"192.0.2.0/24\" ];\n"
		       "    actions = \"drop\"; }\n" /* 5 */
		       ");\n",
		  5, "unknown field 'actions' in member 'a' (did you mean 'action'?)");
}

/* ---- ipfix ------------------------------------------------------------ */

static void
test_ipfix(void **state)
{
	static const uint8_t v4[4] = {192, 0, 2, 200};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x01};
	struct gnn_diag d = {0};
	struct gnn_policy *p;

	(void)state;
	p = load_good(HEAD "members = ( );\n", &d);
	assert_false(p->ipfix.enabled);
	gnn_policy_free(p);
	gnn_diag_clear(&d);

	p = load_good(HEAD "members = ( );\n"
			   "ipfix = { collector = \"192.0.2.200:4739\"; interval = 30; };\n",
		      &d);
	assert_true(p->ipfix.enabled);
	assert_int_equal(p->ipfix.family, 4);
	assert_memory_equal(p->ipfix.addr, v4, 4);
	assert_int_equal(p->ipfix.port, 4739);
	assert_int_equal(p->ipfix.interval, 30);
	assert_int_equal(p->ipfix.line, 4);
	assert_string_equal(p->ipfix.collector, "192.0.2.200:4739");
	gnn_policy_free(p);
	gnn_diag_clear(&d);

	/* IPv6 in brackets; interval left out: 10 s. */
	p = load_good(HEAD "members = ( );\n"
			   "\n"
			   "ipfix = {\n" /* 5 */
			   "  collector = \"[2001:db8::1]:65535\";\n"
			   "};\n",
		      &d);
	assert_true(p->ipfix.enabled);
	assert_int_equal(p->ipfix.family, 6);
	assert_memory_equal(p->ipfix.addr, v6, 16);
	assert_int_equal(p->ipfix.port, 65535);
	assert_int_equal(p->ipfix.interval, GNN_IPFIX_INTERVAL_DEFAULT);
	assert_int_equal(p->ipfix.interval, 10);
	assert_int_equal(p->ipfix.line, 5);
	gnn_policy_free(p);
	gnn_diag_clear(&d);

	p = load_good(HEAD "members = ( );\n"
			   "ipfix = { collector = \"198.51.100.1:1\"; interval = 3600; };\n",
		      &d);
	assert_int_equal(p->ipfix.port, 1);
	assert_int_equal(p->ipfix.interval, 3600);
	gnn_policy_free(p);
	gnn_diag_clear(&d);
}

static void
test_err_ipfix(void **state)
{
	static const struct {
		const char *collector;
		const char *needle;
	} bad[] = {
		{"192.0.2.200", "no ':PORT'"},
		{"192.0.2.200:", "no port after ':'"},
		{"192.0.2.200:0", "port out of range 1..65535"},
		{"192.0.2.200:65536", "port out of range 1..65535"},
		{"192.0.2.200:99999999999999999999", "port out of range 1..65535"},
		{"192.0.2.200:47x", "the port is not a number"},
		{"192.0.2.200:-1", "the port is not a number"},
		{"192.0.2.200: 4739", "the port is not a number"},
		{"collector.example:4739", "not an IPv4 address"},
		{"192.0.2:4739", "not an IPv4 address"},
		{"2001:db8::1:4739", "an IPv6 address goes in brackets"},
		{"[2001:db8::1]", "no ':PORT' after ']'"},
		{"[2001:db8::1]4739", "no ':PORT' after ']'"},
		{"[2001:db8::1:4739", "no ']'"},
		{"[192.0.2.1]:4739", "not an IPv6 address"},
		{"[::ffff:192.0.2.1]:4739", "IPv4-mapped"},
		{"0.0.0.0:4739", "unspecified address"},
		{"[::]:4739", "unspecified address"},
		{"", "empty"},
	};
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 HEAD "members = ( );\n"
			      "ipfix = {\n"
			      "  collector = \"%s\"; };\n", /* 5 */
			 bad[i].collector);
		one_error(text, 5, bad[i].needle);
		one_error(text, 5, "ipfix collector '");
	}
	one_error(HEAD "members = ( );\nipfix = { collector = \"192.0.2.200:4739\";\n"
		       "  interval = 0; };\n",
		  5, "ipfix interval 0 out of range 1..3600 (seconds)");
	one_error(HEAD "members = ( );\nipfix = { collector = \"192.0.2.200:4739\";\n"
		       "  interval = 3601; };\n",
		  5, "ipfix interval 3601 out of range 1..3600");
	one_error(HEAD "members = ( );\nipfix = { collector = \"192.0.2.200:4739\";\n"
		       "  interval = \"10\"; };\n",
		  5, "'interval' of ipfix must be a whole number of seconds, not a string");
	one_error(HEAD "members = ( );\nipfix = { collector = \"192.0.2.200:4739\";\n"
		       "  interval = 1.5; };\n",
		  5, "not a decimal number");
	one_error(HEAD "members = ( );\nipfix = { interval = 10; };\n", 4,
		  "missing 'collector' in ipfix");
	one_error(HEAD "members = ( );\nipfix = { collector = 4739; };\n", 4,
		  "'collector' of ipfix must be a string");
	one_error(HEAD "members = ( );\nipfix = { collector = \"192.0.2.200:4739\";\n"
		       "  intervall = 10; };\n",
		  5, "unknown field 'intervall' in ipfix (did you mean 'interval'?)");
	one_error(HEAD "members = ( );\nipfix = \"192.0.2.200:4739\";\n", 4,
		  "'ipfix' must be a group { collector");
}

/* ---- messages that must not mislead ---------------------------------- */

static void
test_no_follow_on_warnings(void **state)
{
	struct gnn_diag d = {0};

	(void)state;
	/* The network is refused: its server is not then "outside" it. */
	load_bad(HEAD "members = (\n"
		      "  { name = \"x\"; mode = \"enforce\";\n"
		      "    networks = [ \"192.0.2.1/24\" ];\n"	   /* 5 */
		      "    mail_servers = [ \"192.0.2.25\" ]; }\n" /* 6 */
		      ");\n",
		 &d);
	expect_counts(&d, 1, 0);
	expect_error(&d, 5, "network 192.0.2.1/24 has host bits set (did you mean 192.0.2.0/24?)");
	gnn_diag_clear(&d);

	/* Nor when one of several networks is refused. */
	load_bad(HEAD "members = (\n"
		      "  { name = \"x\"; mode = \"enforce\";\n"
		      "    networks = [ \"198.51.100.0/24\", \"192.0.2.0/33\" ];\n" /* 5 */
		      "    mail_servers = [ \"192.0.2.25\", \"203.0.113.1\" ]; }\n"
		      ");\n",
		 &d);
	expect_counts(&d, 1, 0);
	gnn_diag_clear(&d);

	/* A network another member owns: no warnings about the second's servers. */
	load_bad(HEAD "members = (\n"
		      "  { name = \"a\"; mode = \"enforce\"; networks = [ \"198.18.0.0/15\" ]; },\n"
		      "  { name = \"b\"; mode = \"enforce\"; networks = [ \"198.18.0.0/15\" ];\n"
		      "    mail_servers = [ \"198.18.0.25\" ]; }\n"
		      ");\n",
		 &d);
	expect_counts(&d, 1, 0);
	expect_error(&d, 5, "network 198.18.0.0/15 of member 'b' already belongs to member 'a'");
	gnn_diag_clear(&d);
}

static void
test_warn_server_covers_network(void **state)
{
	struct gnn_diag d = {0};
	struct gnn_policy *p;

	(void)state;
	/* The whole network as a server: every host may send. */
	p = load_good(HEAD "members = (\n"
			   "  { name = \"x\"; mode = \"enforce\";\n"
			   "    networks = [ \"192.0.2.0/24\" ];\n"
			   "    mail_servers = [ \"192.0.2.0/24\" ]; }\n" /* 6 */
			   ");\n",
		      &d);
	expect_counts(&d, 0, 1);
	expect_warning(&d, 6,
		       "mail server 192.0.2.0/24 of member 'x' covers its whole network "
		       "192.0.2.0/24: every host there is allowed to send");
	gnn_policy_free(p);
	gnn_diag_clear(&d);

	/* Inside a larger network of the member, holding a smaller one whole. */
	p = load_good(HEAD "members = (\n"
			   "  { name = \"x\"; mode = \"enforce\";\n"
			   "    networks = [ \"198.18.0.0/15\", \"198.18.4.0/24\" ];\n"
			   "    mail_servers = [ \"198.18.0.25\", \"198.18.4.0/23\" ]; }\n" /* 6 */
			   ");\n",
		      &d);
	expect_counts(&d, 0, 1);
	expect_warning(&d, 6,
		       "mail server 198.18.4.0/23 of member 'x' covers its whole network "
		       "198.18.4.0/24");
	gnn_policy_free(p);
	gnn_diag_clear(&d);

	/* Wider than the member's network: outside it, and covering it. */
	p = load_good(HEAD "members = (\n"
			   "  { name = \"x\"; mode = \"enforce\";\n"
			   "    networks = [ \"192.0.2.0/25\", \"2001:db8:10::/48\" ];\n"
			   "    mail_servers = [ \"192.0.2.0/24\",\n"	   /* 6 */
			   "                     \"2001:db8::/32\" ]; }\n" /* 7 */
			   ");\n",
		      &d);
	expect_counts(&d, 0, 2);
	expect_warning(&d, 6,
		       "mail server 192.0.2.0/24 of member 'x' covers its whole network "
		       "192.0.2.0/25");
	expect_warning(&d, 7,
		       "mail server 2001:db8::/32 of member 'x' covers its whole network "
		       "2001:db8:10::/48");
	gnn_policy_free(p);
	gnn_diag_clear(&d);

	/* Another member's network inside a server is not "its" network. */
	p = load_good(HEAD
		      "members = (\n"
		      "  { name = \"a\"; mode = \"enforce\"; networks = [ \"198.18.0.0/15\" ];\n"
		      "    mail_servers = [ \"198.18.0.0/23\" ]; },\n"
		      "  { name = \"b\"; mode = \"enforce\"; networks = [ \"198.18.1.0/24\" ]; }\n"
		      ");\n",
		      &d);
	expect_counts(&d, 0, 0);
	gnn_policy_free(p);
	gnn_diag_clear(&d);
}

static void
test_warn_enforced_default_route(void **state)
{
	struct gnn_diag d = {0};
	struct gnn_policy *p;

	(void)state;
	p = load_good(HEAD "members = (\n"
			   "  { name = \"all\"; mode = \"enforce\";\n"
			   "    networks = [ \"0.0.0.0/0\",\n" /* 5 */
			   "                 \"::/0\" ];\n"    /* 6 */
			   "    mail_servers = [ \"192.0.2.25\" ]; },\n"
			   "  { name = \"watch\"; mode = \"monitor\";\n"
			   "    networks = [ \"198.51.100.0/24\" ]; }\n"
			   ");\n",
		      &d);
	expect_counts(&d, 0, 2);
	expect_warning(&d, 5,
		       "member 'all': network 0.0.0.0/0 holds every IPv4 address: with mode "
		       "enforce, every sender no other member's network claims is blocked");
	expect_warning(&d, 6, "member 'all': network ::/0 holds every IPv6 address");
	gnn_policy_free(p);
	gnn_diag_clear(&d);

	/* Monitor and off: nothing is dropped, nothing to say. */
	p = load_good(HEAD
		      "members = (\n"
		      "  { name = \"all\"; mode = \"monitor\"; networks = [ \"0.0.0.0/0\" ]; },\n"
		      "  { name = \"none\"; mode = \"off\"; networks = [ \"::/0\" ]; }\n"
		      ");\n",
		      &d);
	expect_counts(&d, 0, 0);
	gnn_policy_free(p);
	gnn_diag_clear(&d);
}

/* ---- members_dir ------------------------------------------------------ */

static const char member_a[] =
	"# signed up 2024-05-02\n"
	"members = (\n"
	"  { name = \"a-school\"; mode = \"monitor\"; action = \"reject\";\n" /* 3 */
	"    networks = [ \"198.51.100.0/25\" ];\n"
	"    mail_servers = [ \"198.51.100.25\" ]; }\n"
	");\n";
static const char member_b[] =
	"members = (\n"
	"  { name = \"b-library\"; mode = \"enforce\";\n" /* 2 */
	"    networks = [ \"198.51.100.128/25\", \"2001:db8:20::/48\" ]; },\n"
	"  { name = \"b-annex\"; mode = \"off\";\n" /* 4 */
	"    networks = [ \"203.0.113.0/24\" ]; }\n"
	");\n";

/* dir/gnn.conf with members_dir = "<dir_value>" and one member of its own. */
static void
write_main(const char *dir, const char *dir_value, char *path)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 HEAD "members_dir = \"%s\";\n"			   /* 3 */
		      "members = (\n"				   /* 4 */
		      "  { name = \"main\"; mode = \"enforce\";\n" /* 5 */
		      "    networks = [ \"192.0.2.0/24\" ]; }\n"   /* 6 */
		      ");\n",
		 dir_value);
	write_text(dir, "gnn.conf", text, path);
}

static void
test_members_dir(void **state)
{
	char dir[64], sub[PATH_SIZE], main_path[PATH_SIZE], a_path[PATH_SIZE], b_path[PATH_SIZE];
	struct gnn_diag d = {0};
	struct gnn_policy *p;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	snprintf(sub, sizeof(sub), "%s/members.d", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	/* Name order, not the order written; only *.conf, no hidden files. */
	write_text(sub, "b.conf", member_b, b_path);
	write_text(sub, "a.conf", member_a, a_path);
	write_text(sub, "notes.txt", "not a config", NULL);
	write_text(sub, ".draft.conf", "members = ( bad", NULL);
	write_text(sub, "c.conf.orig", "members = ( bad", NULL);
	write_main(dir, "members.d", main_path);

	p = gnn_policy_load(main_path, NULL, NULL, &d);
	if (p == NULL)
		dump_diag(&d);
	assert_non_null(p);
	expect_counts(&d, 0, 0);
	assert_string_equal(p->path, main_path);
	assert_string_equal(p->members_dir, sub); /* relative to the main file */
	assert_int_equal(p->n_files, 3);
	assert_string_equal(p->files[0], main_path);
	assert_string_equal(p->files[1], a_path);
	assert_string_equal(p->files[2], b_path);

	assert_int_equal(p->n_members, 4);
	assert_string_equal(p->members[0].name, "main");
	assert_ptr_equal(p->members[0].file, p->files[0]);
	assert_int_equal(p->members[0].line, 5);
	assert_string_equal(p->members[1].name, "a-school");
	assert_ptr_equal(p->members[1].file, p->files[1]);
	assert_int_equal(p->members[1].line, 3);
	assert_int_equal(p->members[1].mode, GNN_MODE_MONITOR);
	assert_int_equal(p->members[1].action, GNN_ACTION_REJECT);
	assert_int_equal(p->members[1].n_mail_servers, 1);
	assert_string_equal(fmt(&p->members[1].mail_servers[0]), "198.51.100.25");
	assert_string_equal(p->members[2].name, "b-library");
	assert_string_equal(p->members[2].file, b_path);
	assert_int_equal(p->members[2].line, 2);
	assert_int_equal(p->members[2].n_networks, 2);
	assert_string_equal(fmt(&p->members[2].networks[1]), "2001:db8:20::/48");
	assert_string_equal(p->members[3].name, "b-annex");
	assert_int_equal(p->members[3].line, 4);
	assert_int_equal(gnn_policy_find_member(p, "b-annex"), 3);
	gnn_policy_free(p);

	/* An absolute members_dir; the main file may then list no members. */
	{
		char text[1024];

		snprintf(text, sizeof(text), HEAD "members_dir = \"%s/\";\n", sub);
		p = load_good(text, &d);
		expect_counts(&d, 0, 0);
		assert_int_equal(p->n_members, 3);
		assert_string_equal(p->members[0].name, "a-school");
		assert_string_equal(p->members[0].file, a_path);
		assert_int_equal(p->n_files, 3);
		assert_string_equal(p->files[0], NAME);
		gnn_policy_free(p);
	}
	gnn_diag_clear(&d);
	rm_tree(dir);
}

static void
test_members_dir_errors(void **state)
{
	char dir[64], sub[PATH_SIZE], main_path[PATH_SIZE], a_path[PATH_SIZE], b_path[PATH_SIZE];
	char c_path[PATH_SIZE], want[PATH_SIZE * 2];
	struct gnn_diag d = {0};

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	snprintf(sub, sizeof(sub), "%s/members.d", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_main(dir, "members.d", main_path);
	write_text(sub, "a.conf", member_a, a_path);
	write_text(sub, "b.conf",
		   "members = (\n"
		   "  { name = \"main\"; mode = \"enforced\";\n" /* 2 */
		   "    networks = [ \"192.0.2.0/24\" ]; },\n"	 /* 3 */
		   "  { name = \"a-school\"; mode = \"off\";\n"	 /* 4 */
		   "    networks = [ \"203.0.113.0/24\" ]; }\n"
		   ");\n"
		   "blocked_ports = [ 25 ];\n", /* 7 */
		   b_path);

	/* A bad member file refuses the whole load; messages name it. */
	assert_null(gnn_policy_load(main_path, NULL, NULL, &d));
	assert_int_equal(errno, EINVAL);
	expect_counts(&d, 5, 0);
	snprintf(want, sizeof(want), "duplicate member name 'main' (first in %s:5)", main_path);
	expect_error_in(&d, b_path, 2, want);
	expect_error_in(&d, b_path, 2, "unknown mode 'enforced' in member 'main'");
	snprintf(want, sizeof(want),
		 "network 192.0.2.0/24 of member 'main' already belongs to member 'main' (%s:6)",
		 main_path);
	expect_error_in(&d, b_path, 3, want);
	snprintf(want, sizeof(want), "duplicate member name 'a-school' (first in %s:3)", a_path);
	expect_error_in(&d, b_path, 4, want);
	expect_error_in(&d, b_path, 7, "unknown field 'blocked_ports' in a member file");
	/* In file order: the main file, then a.conf, then b.conf by line. */
	assert_non_null(strstr(d.errors[0], "b.conf:2:"));
	assert_non_null(strstr(d.errors[4], "b.conf:7:"));
	gnn_diag_clear(&d);

	/* Syntax errors, NULs, a FIFO, a directory: each names its file. */
	write_text(sub, "b.conf", "members = (\n  { name = = \"x\"; }\n);\n", b_path);
	write_bytes(sub, "c.conf", "members = ( );\n\0", 16, c_path);
	snprintf(want, sizeof(want), "%s/d.conf", sub);
	assert_int_equal(mkfifo(want, 0600), 0);
	snprintf(want, sizeof(want), "%s/e.conf", sub);
	assert_int_equal(mkdir(want, 0700), 0);
	assert_null(gnn_policy_load(main_path, NULL, NULL, &d));
	expect_counts(&d, 4, 0);
	expect_error_in(&d, b_path, 2, "syntax error");
	expect_error_in(&d, c_path, 2, "NUL byte at offset 15");
	snprintf(want, sizeof(want), "%s/d.conf", sub);
	expect_error_in(&d, want, 0, "not a regular file (a FIFO)");
	snprintf(want, sizeof(want), "%s/e.conf", sub);
	expect_error_in(&d, want, 0, "cannot open: Is a directory");
	gnn_diag_clear(&d);
	rm_tree(sub);

	/* No such directory. */
	assert_null(gnn_policy_load(main_path, NULL, NULL, &d));
	expect_counts(&d, 1, 0);
	snprintf(want, sizeof(want), "members_dir '%s': cannot open: No such file or directory",
		 sub);
	expect_error_in(&d, main_path, 3, want);
	gnn_diag_clear(&d);

	/* A member file without members, or with none. */
	assert_int_equal(mkdir(sub, 0700), 0);
	write_text(sub, "a.conf", "# nothing yet\n", a_path);
	write_text(sub, "b.conf", "members = ( );\n", b_path);
	assert_null(gnn_policy_load(main_path, NULL, NULL, &d));
	expect_counts(&d, 1, 1);
	expect_error_in(&d, a_path, 1,
			"missing 'members' (a member file holds members = ( ... );)");
	expect_warning_in(&d, b_path, 1, "'members' is empty: this file adds no member");
	gnn_diag_clear(&d);

	/* No member anywhere: valid, with one warning. */
	unlink(a_path);
	write_main(dir, "members.d", main_path);
	write_text(dir, "gnn.conf", HEAD "members_dir = \"members.d\";\nmembers = ( );\n",
		   main_path);
	{
		struct gnn_policy *p = gnn_policy_load(main_path, NULL, NULL, &d);

		assert_non_null(p);
		expect_counts(&d, 0, 2);
		expect_warning_in(&d, main_path, 4, "'members' is empty and members_dir");
		gnn_policy_free(p);
		gnn_diag_clear(&d);
	}

	one_error(HEAD "members_dir = 5;\n", 3, "'members_dir' must be a string");
	one_error(HEAD "members_dir = \"\";\n", 3, "'members_dir' is empty");
	one_error(HEAD "members_dirs = \"/x\";\nmembers = ( );\n", 3,
		  "unknown field 'members_dirs' at top level (did you mean 'members_dir'?)");
	rm_tree(dir);
}

/* The example in config/members.d goes with config/gnn.conf's members. */
static void
test_example_members_dir(void **state)
{
	struct gnn_diag d = {0};
	struct gnn_policy *p;

	(void)state;
	p = load_good("blocked_ports = [ 25 ];\n"
		      "ports = ( { inside = \"0000:03:00.0\"; outside = \"0000:03:00.1\"; } );\n"
		      "members_dir = \"" GNN_SOURCE_ROOT "/config/members.d\";\n",
		      &d);
	expect_counts(&d, 0, 0);
	assert_true(p->n_members >= 1);
	assert_true(p->n_files >= 2);
	assert_string_equal(p->members[0].file, p->files[1]);
	gnn_policy_free(p);
	gnn_diag_clear(&d);
}

/* ---- the rest of the API ---------------------------------------------- */

static void
test_same_ports(void **state)
{
	static const char a[] = "blocked_ports = [ 25 ];\n"
				"ports = ( { inside = \"i0\"; outside = \"o0\"; },\n"
				"          { inside = \"i1\"; outside = \"o1\"; } );\n"
				"members = ( );\n";
	/* Same pairs, other lines and other members: still the same ports. */
	static const char a2[] = "# moved\n"
				 "blocked_ports = [ 587 ];\n"
				 "ports = ( { inside = \"i0\"; outside = \"o0\"; },\n"
				 "  { outside = \"o1\"; inside = \"i1\"; } );\n"
				 "members = ( { name = \"x\"; mode = \"off\"; networks = [ "
				 "\"192.0.2.0/24\" ]; } );\n";
	static const char swapped[] = "blocked_ports = [ 25 ];\n"
				      "ports = ( { inside = \"i1\"; outside = \"o1\"; },\n"
				      "          { inside = \"i0\"; outside = \"o0\"; } );\n"
				      "members = ( );\n";
	static const char sides[] = "blocked_ports = [ 25 ];\n"
				    "ports = ( { inside = \"o0\"; outside = \"i0\"; },\n"
				    "          { inside = \"i1\"; outside = \"o1\"; } );\n"
				    "members = ( );\n";
	static const char fewer[] = "blocked_ports = [ 25 ];\n"
				    "ports = ( { inside = \"i0\"; outside = \"o0\"; } );\n"
				    "members = ( );\n";
	struct gnn_diag d = {0};
	struct gnn_policy *pa = load_good(a, &d);
	struct gnn_policy *pa2 = load_good(a2, &d);
	struct gnn_policy *ps = load_good(swapped, &d);
	struct gnn_policy *pd = load_good(sides, &d);
	struct gnn_policy *pf = load_good(fewer, &d);

	(void)state;
	assert_true(gnn_policy_same_ports(pa, pa));
	assert_true(gnn_policy_same_ports(pa, pa2));
	assert_false(gnn_policy_same_ports(pa, ps));
	assert_false(gnn_policy_same_ports(pa, pd));
	assert_false(gnn_policy_same_ports(pa, pf));
	assert_false(gnn_policy_same_ports(pf, pa));
	assert_false(gnn_policy_same_ports(pa, NULL));
	assert_false(gnn_policy_same_ports(NULL, pa));
	assert_true(gnn_policy_same_ports(NULL, NULL));
	gnn_policy_free(pa);
	gnn_policy_free(pa2);
	gnn_policy_free(ps);
	gnn_policy_free(pd);
	gnn_policy_free(pf);
	gnn_diag_clear(&d);
}

static void
test_diag(void **state)
{
	struct gnn_diag d = {0};

	(void)state;
	gnn_diag_add(&d, true, "%s:%d: %s", "f", 3, "bad");
	gnn_diag_add(&d, false, "f:%d: meh", 4);
	gnn_diag_add(&d, true, "second");
	assert_int_equal(d.n_errors, 2);
	assert_int_equal(d.n_warnings, 1);
	assert_string_equal(d.errors[0], "f:3: bad");
	assert_string_equal(d.errors[1], "second");
	assert_string_equal(d.warnings[0], "f:4: meh");
	gnn_diag_clear(&d);
	assert_int_equal(d.n_errors, 0);
	assert_null(d.errors);
	/* Reusable after a clear; NULL-safe. */
	gnn_diag_add(&d, false, "again");
	assert_int_equal(d.n_warnings, 1);
	gnn_diag_clear(&d);
	gnn_diag_clear(NULL);
	gnn_diag_add(NULL, true, "nowhere");
	gnn_policy_free(NULL);
}

/* Messages are appended: a second load adds to what the caller holds. */
static void
test_diag_appends(void **state)
{
	struct gnn_diag d = {0};
	struct gnn_policy *p;

	(void)state;
	gnn_diag_add(&d, true, "earlier");
	p = gnn_policy_load_string(HEAD "members = ( );\n", NAME, NULL, NULL, &d);
	/* An error already in diag does not make this file invalid. */
	assert_non_null(p);
	expect_counts(&d, 1, 1);
	assert_string_equal(d.errors[0], "earlier");
	gnn_policy_free(p);
	gnn_diag_clear(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_parse_v4),
		cmocka_unit_test(test_prefix_parse_v6),
		cmocka_unit_test(test_prefix_host_bits),
		cmocka_unit_test(test_prefix_reject),
		cmocka_unit_test(test_prefix_format_edges),
		cmocka_unit_test(test_prefix_contains),
		cmocka_unit_test(test_example_configs),
		cmocka_unit_test(test_valid_full),
		cmocka_unit_test(test_valid_utf8_name),
		cmocka_unit_test(test_empty_members),
		cmocka_unit_test(test_modes_and_names),
		cmocka_unit_test(test_max_name_length),
		cmocka_unit_test(test_warn_mail_server_outside),
		cmocka_unit_test(test_warn_mail_server_shadowed),
		cmocka_unit_test(test_err_syntax),
		cmocka_unit_test(test_err_missing_top),
		cmocka_unit_test(test_err_missing_fields),
		cmocka_unit_test(test_err_unknown_fields),
		cmocka_unit_test(test_err_wrong_types),
		cmocka_unit_test(test_err_bad_prefixes),
		cmocka_unit_test(test_err_members),
		cmocka_unit_test(test_err_duplicates),
		cmocka_unit_test(test_err_blocked_ports),
		cmocka_unit_test(test_err_ports),
		cmocka_unit_test(test_err_too_many),
		cmocka_unit_test(test_many_members),
		cmocka_unit_test(test_err_port_not_found),
		cmocka_unit_test(test_err_many_at_once),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_file_errors_name_path),
		cmocka_unit_test(test_fifo_and_devices_refused),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_text_limits),
		cmocka_unit_test(test_text_like_libconfig),
		cmocka_unit_test(test_large_comment_text),
		cmocka_unit_test(test_integer_truncation),
		cmocka_unit_test(test_action),
		cmocka_unit_test(test_ipfix),
		cmocka_unit_test(test_err_ipfix),
		cmocka_unit_test(test_no_follow_on_warnings),
		cmocka_unit_test(test_warn_server_covers_network),
		cmocka_unit_test(test_warn_enforced_default_route),
		cmocka_unit_test(test_members_dir),
		cmocka_unit_test(test_members_dir_errors),
		cmocka_unit_test(test_example_members_dir),
		cmocka_unit_test(test_same_ports),
		cmocka_unit_test(test_diag),
		cmocka_unit_test(test_diag_appends),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
