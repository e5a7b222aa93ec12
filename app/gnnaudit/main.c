/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gnnaudit: the operator's port-25 analysis offline (docs/design.md, "The
 * operator's lifecycle").
 *
 *   gnnaudit -f CONFIG [-m MEMBER] [--json] CAPTURE...
 *   gnnaudit -f CONFIG [-m MEMBER] [--json] --flows FILE
 *
 * Frames are parsed, judged and tracked by the code gnnd runs (lib/parse,
 * lib/policy, lib/acl, lib/judge, lib/track). EAL is started only for
 * rte_acl and the judge's ring: no hugepages, no device, no shared files.
 *
 * Exit status: 0 the report covers every input; 1 an input was truncated,
 * unreadable or held malformed lines (the report covers the rest), or the
 * configuration is invalid; 2 bad usage or an unknown member.
 */

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "audit.h"
#include "policy/gnn_policy.h"
#include "readers.h"
#include "report.h"

#define EXIT_USAGE 2

struct options {
	const char *config;
	const char *member;
	const char *flows;
	bool json;
	char **captures;
	int n_captures;
};

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: gnnaudit -f CONFIG [-m MEMBER] [--json] CAPTURE...\n"
		"       gnnaudit -f CONFIG [-m MEMBER] [--json] --flows FILE\n"
		"  -f, --config CONFIG  the gnn.conf whose members, mail servers and blocked\n"
		"                       ports the analysis uses\n"
		"  -m, --member MEMBER  report this member only\n"
		"      --json           the report as one JSON object\n"
		"      --flows FILE     read `nfdump -o csv` output instead of captures\n"
		"                       (- is standard input)\n"
		"  -h, --help           this text\n"
		"CAPTURE is a pcap or pcapng file (- is standard input); several are read in\n"
		"order. Exit status: 0 complete, 1 an input truncated, unreadable or malformed\n"
		"(the report covers the rest) or an invalid CONFIG, 2 bad usage.\n");
}

/* 0, 1 (help shown) or -EINVAL (message shown). */
static int
parse_args(int argc, char **argv, struct options *opt)
{
	enum { OPT_JSON = 256, OPT_FLOWS };
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'f'},
		{"member", required_argument, NULL, 'm'},
		{"json", no_argument, NULL, OPT_JSON},
		{"flows", required_argument, NULL, OPT_FLOWS},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(opt, 0, sizeof(*opt));
	while ((c = getopt_long(argc, argv, "f:m:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			opt->config = optarg;
			break;
		case 'm':
			opt->member = optarg;
			break;
		case OPT_JSON:
			opt->json = true;
			break;
		case OPT_FLOWS:
			if (opt->flows != NULL) {
				fprintf(stderr, "gnnaudit: --flows given twice\n");
				return -EINVAL;
			}
			opt->flows = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	opt->captures = argv + optind;
	opt->n_captures = argc - optind;
	if (opt->config == NULL) {
		fprintf(stderr, "gnnaudit: -f CONFIG is required\n");
		usage(stderr);
		return -EINVAL;
	}
	if (opt->flows != NULL && opt->n_captures > 0) {
		fprintf(stderr,
			"gnnaudit: --flows reads one flow file; captures cannot be "
			"given with it (%s)\n",
			opt->captures[0]);
		return -EINVAL;
	}
	if (opt->flows == NULL && opt->n_captures == 0) {
		fprintf(stderr, "gnnaudit: no input: name a capture, or --flows FILE\n");
		usage(stderr);
		return -EINVAL;
	}
	if (opt->member != NULL && opt->member[0] == '\0') {
		fprintf(stderr, "gnnaudit: -m needs a member name\n");
		return -EINVAL;
	}
	return 0;
}

static void
print_diag(const struct gnn_diag *diag)
{
	for (unsigned int i = 0; i < diag->n_errors; i++)
		fprintf(stderr, "%s\n", diag->errors[i]);
	for (unsigned int i = 0; i < diag->n_warnings; i++)
		fprintf(stderr, "warning: %s\n", diag->warnings[i]);
}

/* The first CPU this process may run on, for EAL's one lcore. */
static int
first_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				return c;
	return 0;
}

/*
 * EAL for rte_acl and rte_ring only: one lcore, no hugepages, no PCI, no
 * shared files, no telemetry; its messages (warnings and worse) go to
 * stderr, never into the report.
 */
static int
eal_start(const char *prog)
{
	static char no_huge[] = "--no-huge", mem_flag[] = "-m", mem[] = "512",
		    no_pci[] = "--no-pci", no_shconf[] = "--no-shconf",
		    no_telemetry[] = "--no-telemetry", log_level[] = "--log-level=*:warning",
		    lcore_flag[] = "-l";
	char name[64], prefix[64], lcore[16];
	char *argv[] = {name,	      no_huge,	 mem_flag, mem,	       no_pci, no_shconf,
			no_telemetry, log_level, prefix,   lcore_flag, lcore,  NULL};

	snprintf(name, sizeof(name), "%s", prog);
	/* Its own prefix: never a running gnnd's (or another gnnaudit's) files. */
	snprintf(prefix, sizeof(prefix), "--file-prefix=gnnaudit-%d", (int)getpid());
	snprintf(lcore, sizeof(lcore), "%d", first_cpu());
	rte_openlog_stream(stderr);
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0) {
		fprintf(stderr, "gnnaudit: cannot start EAL: %s\n", rte_strerror(rte_errno));
		rmdir(rte_eal_get_runtime_dir()); /* made before it failed, if it got that far */
		return -1;
	}
	/*
	 * With --no-shconf nothing is ever put in EAL's runtime directory:
	 * removed now, a run killed midway (a closed pipe) leaves nothing.
	 */
	rmdir(rte_eal_get_runtime_dir());
	return 0;
}

static void
eal_stop(void)
{
	rte_eal_cleanup();
}

int
main(int argc, char **argv)
{
	struct gnn_diag diag = {0};
	struct gnn_policy *policy;
	struct options opt;
	struct audit a;
	int member = -1, rc;

	rc = parse_args(argc, argv, &opt);
	if (rc != 0)
		return rc > 0 ? 0 : EXIT_USAGE;
	policy = gnn_policy_load(opt.config, NULL, NULL, &diag);
	print_diag(&diag);
	gnn_diag_clear(&diag);
	if (policy == NULL)
		return 1;
	if (opt.member != NULL) {
		member = gnn_policy_find_member(policy, opt.member);
		if (member < 0) {
			fprintf(stderr, "gnnaudit: %s has no member named \"%s\"\n", opt.config,
				opt.member);
			gnn_policy_free(policy);
			return EXIT_USAGE;
		}
	}
	if (eal_start(argv[0]) != 0) {
		gnn_policy_free(policy);
		return 1;
	}
	if (audit_init(&a, policy, opt.flows != NULL) != 0) {
		audit_fini(&a);
		eal_stop();
		return 1;
	}
	if (opt.flows != NULL)
		flows_read(&a, opt.flows);
	for (int i = 0; i < opt.n_captures; i++)
		capture_read(&a, opt.captures[i]);
	audit_finish(&a);

	rc = opt.json ? report_json(stdout, &a, member) : report_text(stdout, &a, member);
	if (rc != 0)
		fprintf(stderr, "gnnaudit: out of memory for the report\n");
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gnnaudit: cannot write the report: %s\n", strerror(errno));
		rc = -EIO;
	}
	rc = rc != 0 || a.incomplete ? 1 : 0;
	audit_fini(&a);
	eal_stop();
	return rc;
}
