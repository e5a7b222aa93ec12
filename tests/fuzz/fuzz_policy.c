/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer harness of the config loader: the input is the bytes of a
 * config file, exactly as gnn_policy_load() would read them (NULs and all),
 * fed through gnn_policy_load_buffer(), the path the file reader takes.
 * Everything the loader returns is freed again, so LeakSanitizer sees any
 * leak. Ports exist unless their name starts with "missing", as gnnd's
 * check would say. Invariants (a trap when broken):
 * - a policy comes back exactly when no error was reported, and never for
 *   bytes holding a NUL;
 * - every message reads "<name>:..." with the name we gave;
 * - a policy that came back holds what gnn_policy.h promises: sorted,
 *   unique blocked ports, 1..GNN_MAX_PORT_PAIRS pairs, named members found
 *   by name, from the one file, with a known mode and action; prefixes
 *   without host bits that print and parse back the same; an ipfix export
 *   within its ranges, or none at all.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h> /* memmem: _GNU_SOURCE comes from meson */

#include "policy/gnn_policy.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

#define NAME	    "fuzz.conf"
#define MEMBERS_DIR "members_dir"
#define MISSING	    "missing"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/*
 * libconfig before 1.7.3 (Debian 12 ships 1.5) leaks the text of a string
 * token that a syntax error discards (hyperrealm/libconfig#142, fixed by
 * #155): config_init, config_read_string, config_destroy alone leak it.
 * Only what its scanner allocates is suppressed; a setting left behind
 * (from the parser) or anything of ours is still reported.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\n"
	       "leak:libconfig_yylex\n";
}

static bool
port_exists(const char *name, void *arg)
{
	CHECK(arg == NULL && name != NULL);
	return strncmp(name, MISSING, strlen(MISSING)) != 0;
}

static void
check_messages(char *const *msgs, unsigned int n)
{
	CHECK(n == 0 || msgs != NULL);
	for (unsigned int i = 0; i < n; i++) {
		CHECK(msgs[i] != NULL);
		CHECK(strncmp(msgs[i], NAME ":", strlen(NAME ":")) == 0);
	}
}

static void
check_name(const char *name)
{
	size_t len = strnlen(name, GNN_NAME_MAX);

	CHECK(len > 0 && len < GNN_NAME_MAX);
}

static void
check_prefixes(const struct gnn_prefix *p, unsigned int n)
{
	CHECK(n == 0 || p != NULL);
	for (unsigned int i = 0; i < n; i++) {
		struct gnn_prefix back;
		char text[64];

		CHECK(p[i].family == 4 || p[i].family == 6);
		CHECK(p[i].len <= (p[i].family == 4 ? 32 : 128));
		CHECK(gnn_prefix_format(&p[i], text, sizeof(text)) != NULL);
		/* With host_bits_set NULL, host bits left in would be refused. */
		CHECK(gnn_prefix_parse(text, &back, NULL) == 0);
		CHECK(memcmp(&back, &p[i], sizeof(back)) == 0);
		CHECK(gnn_prefix_contains(&p[i], &p[i]));
	}
}

static void
check_policy(const struct gnn_policy *pol)
{
	CHECK(pol->path != NULL && strcmp(pol->path, NAME) == 0);

	CHECK(pol->n_blocked_ports > 0 && pol->blocked_ports != NULL);
	CHECK(pol->blocked_ports[0] > 0);
	for (unsigned int i = 1; i < pol->n_blocked_ports; i++)
		CHECK(pol->blocked_ports[i - 1] < pol->blocked_ports[i]);

	CHECK(pol->n_port_pairs > 0 && pol->n_port_pairs <= GNN_MAX_PORT_PAIRS);
	for (unsigned int i = 0; i < pol->n_port_pairs; i++) {
		check_name(pol->port_pairs[i].inside);
		check_name(pol->port_pairs[i].outside);
		CHECK(port_exists(pol->port_pairs[i].inside, NULL));
		CHECK(port_exists(pol->port_pairs[i].outside, NULL));
		CHECK(strcmp(pol->port_pairs[i].inside, pol->port_pairs[i].outside) != 0);
	}
	CHECK(gnn_policy_same_ports(pol, pol));

	CHECK(pol->n_files == 1 && strcmp(pol->files[0], NAME) == 0);
	CHECK(pol->members_dir == NULL);
	CHECK(pol->n_members == 0 || pol->members != NULL);
	for (unsigned int i = 0; i < pol->n_members; i++) {
		const struct gnn_member *m = &pol->members[i];

		check_name(m->name);
		CHECK(gnn_policy_find_member(pol, m->name) == (int)i);
		CHECK(m->mode == GNN_MODE_OFF || m->mode == GNN_MODE_MONITOR ||
		      m->mode == GNN_MODE_ENFORCE);
		CHECK(m->action == GNN_ACTION_DROP || m->action == GNN_ACTION_REJECT);
		CHECK(m->file == pol->files[0] && m->line > 0);
		CHECK(m->n_networks > 0);
		check_prefixes(m->networks, m->n_networks);
		check_prefixes(m->mail_servers, m->n_mail_servers);
	}

	if (pol->ipfix.enabled) {
		CHECK(pol->ipfix.family == 4 || pol->ipfix.family == 6);
		CHECK(pol->ipfix.port > 0);
		CHECK(pol->ipfix.interval >= 1 && pol->ipfix.interval <= GNN_IPFIX_INTERVAL_MAX);
		CHECK(pol->ipfix.line > 0);
		CHECK(strnlen(pol->ipfix.collector, sizeof(pol->ipfix.collector)) > 0 &&
		      strnlen(pol->ipfix.collector, sizeof(pol->ipfix.collector)) <
			      sizeof(pol->ipfix.collector));
	} else {
		CHECK(pol->ipfix.family == 0 && pol->ipfix.port == 0 && pol->ipfix.line == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gnn_diag diag = {0};
	struct gnn_policy *pol;

	/*
	 * members_dir makes the loader read a directory of the disk: out of
	 * scope for a harness that must not depend on the files around it
	 * (the unit tests cover it). A setting name has no escapes, so this
	 * is exact.
	 */
	if (memmem(data, size, MEMBERS_DIR, strlen(MEMBERS_DIR)) != NULL)
		return 0;

	pol = gnn_policy_load_buffer(data, size, NAME, port_exists, NULL, &diag);
	CHECK((pol == NULL) == (diag.n_errors > 0));
	CHECK(pol == NULL || memchr(data, '\0', size) == NULL);
	check_messages(diag.errors, diag.n_errors);
	check_messages(diag.warnings, diag.n_warnings);
	if (pol != NULL)
		check_policy(pol);

	gnn_policy_free(pol);
	gnn_diag_clear(&diag);
	return 0;
}
