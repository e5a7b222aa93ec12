/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gnnd: start-up and shutdown.
 *
 *   gnnd [EAL options] -- [-f CONFIG] [-s SOCKET] [--check]
 *        [--socket-group GROUP] [--mbufs N] [--client-timeout S]
 *
 * The main lcore becomes the control lcore; every other lcore is a worker.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "acl/gnn_acl.h"
#include "common/gnn_clock.h"
#include "control/api.h"
#include "control/counters.h"
#include "control/ctrl.h"
#include "control/ipfix.h"
#include "control/loop.h"
#include "control/notify.h"
#include "control/ports.h"
#include "control/report.h"
#include "control/rules.h"
#include "control/slots.h"
#include "control/sock.h"
#include "control/sources.h"
#include "control/telemetry.h"
#include "gnnd.h"
#include "proto/gnn_proto.h"

RTE_LOG_REGISTER(gnn_logtype_main, gnn.main, INFO);
#define GNN_LOGTYPE gnn_logtype_main

#define DEFAULT_CONFIG	       "/etc/gnn/gnn.conf"
#define DEFAULT_CLIENT_TIMEOUT 10
/* Each worker's source cache (entries, 64 bytes each: 16 MiB) holds the
 * sources of 100,000 members' worst case; rings to the control lcore. */
#define SOURCE_CACHE_ENTRIES 262144
#define RECORD_RING_SIZE     16384
#define SIGHTING_RING_SIZE   1024
/* Each worker's flow cache and ring for the IPFIX export (used only when configured). */
#define FLOW_CACHE_ENTRIES 2048
#define FLOW_RING_SIZE	   16384

struct gnnd gnnd;

static void
usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [EAL options] -- [-f CONFIG] [-s SOCKET] [--check]\n"
		"  -f, --config PATH     libconfig file (default %s)\n"
		"  -s, --socket PATH     control socket (default %s)\n"
		"      --check           validate the config and build its rules, then exit\n"
		"      --socket-group G  group owning the control socket (mode 0660)\n"
		"      --mbufs N         mbufs per NUMA socket (default: sized from the ports)\n"
		"      --client-timeout S  close control clients idle this long (default %d s)\n"
		"  -h, --help            this text\n"
		"Without \"--\", all arguments are EAL options, unless the first is one of the "
		"above.\n",
		prog, DEFAULT_CONFIG, GNN_PROTO_DEFAULT_SOCKET, DEFAULT_CLIENT_TIMEOUT);
}

/* A decimal number in [min, max]: no sign, no wrap-around, nothing after it. */
static int
parse_number(const char *text, unsigned int min, unsigned int max, unsigned int *out)
{
	unsigned long long v;
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

/* Parse the options after "--". Returns 0, 1 (help shown) or -EINVAL. */
static int
parse_app_args(int argc, char **argv, struct gnnd_options *opt)
{
	enum { OPT_CHECK = 256, OPT_GROUP, OPT_MBUFS, OPT_CLIENT_TIMEOUT };
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'f'},
		{"socket", required_argument, NULL, 's'},
		{"check", no_argument, NULL, OPT_CHECK},
		{"socket-group", required_argument, NULL, OPT_GROUP},
		{"mbufs", required_argument, NULL, OPT_MBUFS},
		{"client-timeout", required_argument, NULL, OPT_CLIENT_TIMEOUT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opt->config_path = DEFAULT_CONFIG;
	opt->socket_path = GNN_PROTO_DEFAULT_SOCKET;
	opt->client_timeout = DEFAULT_CLIENT_TIMEOUT;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			opt->config_path = optarg;
			break;
		case 's':
			opt->socket_path = optarg;
			break;
		case OPT_CHECK:
			opt->check = true;
			break;
		case OPT_GROUP:
			opt->socket_group = optarg;
			break;
		case OPT_MBUFS:
			if (parse_number(optarg, 64, UINT32_MAX / 2, &opt->n_mbufs) != 0) {
				fprintf(stderr, "gnnd: --mbufs wants a number >= 64\n");
				return -EINVAL;
			}
			break;
		case OPT_CLIENT_TIMEOUT:
			if (parse_number(optarg, 1, 3600, &opt->client_timeout) != 0) {
				fprintf(stderr, "gnnd: --client-timeout wants 1..3600 seconds\n");
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 1;
		default:
			usage(stderr, argv[0]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gnnd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/*
 * Where EAL's arguments end and gnnd's begin. With "--" it is clear.
 * Without it, everything is EAL's (the DPDK custom), unless the first
 * argument is one of gnnd's own options ("gnnd --check -f FILE").
 */
static void
split_args(int argc, char **argv, int *eal_argc, int *app_start)
{
	static const char *const own[] = {
		"-f",	   "--config",	       "-s", "--socket", "--check", "--socket-group",
		"--mbufs", "--client-timeout", "-h", "--help"};

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			*eal_argc = i;
			*app_start = i + 1;
			return;
		}
	}
	*eal_argc = argc;
	*app_start = argc;
	for (size_t i = 0; argc > 1 && i < RTE_DIM(own); i++) {
		/* "-s" is also EAL's (service cores): only its first place makes it ours. */
		size_t n = strlen(own[i]);

		/* "--config=FILE" counts too */
		if (strncmp(argv[1], own[i], n) == 0 && (argv[1][n] == '\0' || argv[1][n] == '=')) {
			*eal_argc = 1;
			*app_start = 1;
			return;
		}
	}
}

/*
 * Without "--", a gnnd option after EAL's would reach EAL, which prints its
 * usage and nothing about why. Say it instead. Only options EAL does not
 * have are recognised here.
 */
static bool
misplaced_option(int argc, char **argv)
{
	static const char *const ours[] = {
		"-f",	   "--config",	      "--socket", "--check", "--socket-group",
		"--mbufs", "--client-timeout"};

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		for (size_t k = 0; k < RTE_DIM(ours); k++) {
			size_t n = strlen(ours[k]);

			if (strncmp(argv[i], ours[k], n) == 0 &&
			    (argv[i][n] == '\0' || argv[i][n] == '=')) {
				fprintf(stderr,
					"gnnd: '%s' is a gnnd option: put gnnd's options after "
					"'--', as in\n  %s [EAL options] -- -f CONFIG [-s "
					"SOCKET]\n",
					argv[i], argv[0]);
				return true;
			}
		}
	}
	return false;
}

/* rte_eal_cleanup(), then remove the runtime directory EAL leaves behind
 * (empty by then; still in use, and kept, when another process shares it). */
static void
eal_cleanup(void)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(dir);
}

static void
print_diag(const struct gnn_diag *diag)
{
	for (unsigned int i = 0; i < diag->n_errors; i++)
		fprintf(stderr, "%s\n", diag->errors[i]);
	for (unsigned int i = 0; i < diag->n_warnings; i++)
		fprintf(stderr, "warning: %s\n", diag->warnings[i]);
}

static bool port_missing;

/* gnn_port_exists(), remembering a miss for the hint after the errors. */
static bool
port_exists_noted(const char *name, void *arg)
{
	bool found = gnn_port_exists(name, arg);

	port_missing |= !found;
	return found;
}

static void
hint_missing_port(void)
{
	if (!port_missing)
		return;
	fprintf(stderr,
		"hint: DPDK did not probe that device. A PCI NIC must be bound to a DPDK driver "
		"(dpdk-devbind.py --status; dpdk-devbind.py --bind=vfio-pci ADDRESS) and passed "
		"with -a ADDRESS; a virtual device needs --vdev. Port names are what DPDK calls "
		"the device: 0000:03:00.0, net_af_packet0.\n");
}

/* What start-up would refuse without devices: refuse it in --check too. */
static int
check_options(const struct gnnd_options *opt)
{
	if (opt->socket_group != NULL && getgrnam(opt->socket_group) == NULL) {
		fprintf(stderr, "gnnd: --socket-group %s: no such group\n", opt->socket_group);
		return -EINVAL;
	}
	if (strlen(opt->socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "gnnd: socket path too long: %s\n", opt->socket_path);
		return -ENAMETOOLONG;
	}
	return 0;
}

static void
print_check_summary(const struct gnn_policy *p, const struct gnn_ruleset *rs)
{
	unsigned int modes[3] = {0}, rejects = 0, nets = 0, servers = 0;

	for (unsigned int m = 0; m < p->n_members; m++) {
		modes[p->members[m].mode]++;
		rejects += p->members[m].action == GNN_ACTION_REJECT;
		nets += p->members[m].n_networks;
		servers += p->members[m].n_mail_servers;
	}
	printf("%s: OK\n  blocked ports:", p->path);
	for (unsigned int i = 0; i < p->n_blocked_ports; i++)
		printf(" %u", p->blocked_ports[i]);
	printf("\n  port pairs: %u (device names are checked when gnnd starts)\n", p->n_port_pairs);
	for (unsigned int i = 0; i < p->n_port_pairs; i++)
		printf("    inside %s <-> outside %s\n", p->port_pairs[i].inside,
		       p->port_pairs[i].outside);
	if (p->members_dir != NULL)
		printf("  members_dir %s: %u member file(s)\n", p->members_dir,
		       p->n_files > 0 ? p->n_files - 1 : 0);
	printf("  members: %u (%u enforce, %u monitor, %u off; %u reject), %u networks, "
	       "%u mail servers\n",
	       p->n_members, modes[GNN_MODE_ENFORCE], modes[GNN_MODE_MONITOR], modes[GNN_MODE_OFF],
	       rejects, nets, servers);
	if (p->ipfix.enabled)
		printf("  ipfix: to %s every %u s\n", p->ipfix.collector, p->ipfix.interval);
	printf("  rules: %u IPv4, %u IPv6; ACL memory %.1f KiB; classify %s\n", rs->n_rules4,
	       rs->n_rules6, (double)rs->acl_memory / 1024,
	       rs->classify_alg != NULL ? rs->classify_alg : "default");
}

/*
 * --check: validate and build the rules with a private EAL that needs no
 * hugepages and probes no device.
 */
static int
run_check(char *prog, const struct gnnd_options *opt)
{
	/* rte_eal_init() takes char **: the arguments live in writable arrays. */
	static char no_huge[] = "--no-huge", mem_flag[] = "-m", mem[] = "256",
		    no_pci[] = "--no-pci", no_shconf[] = "--no-shconf",
		    no_telemetry[] = "--no-telemetry", log_level[] = "--log-level=*:warning";
	char prefix[64];
	char *eal_argv[] = {prog,   no_huge,   mem_flag,     mem,	prefix,
			    no_pci, no_shconf, no_telemetry, log_level, NULL};
	int eal_argc = (int)RTE_DIM(eal_argv) - 1;
	struct gnn_diag diag = {0};
	struct gnn_policy *policy;
	struct gnn_ruleset *rs;
	double t0, t_load, t_build;
	char err[256];
	int rc = 1;

	/* Its own prefix: a check never meets a running gnnd's runtime files. */
	snprintf(prefix, sizeof(prefix), "--file-prefix=gnnd-check-%d", (int)getpid());

	if (check_options(opt) != 0)
		return 1;
	t0 = gnn_clock_mono();
	policy = gnn_policy_load(opt->config_path, NULL, NULL, &diag);
	t_load = gnn_clock_mono() - t0;
	print_diag(&diag);
	gnn_diag_clear(&diag);
	if (policy == NULL)
		return 1;
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "gnnd: --check cannot start EAL: %s\n", rte_strerror(rte_errno));
		gnn_policy_free(policy);
		return 1;
	}
	t0 = gnn_clock_mono();
	rs = gnn_ruleset_build(policy, NULL, 1, SOCKET_ID_ANY, err, sizeof(err));
	t_build = gnn_clock_mono() - t0;
	if (rs == NULL) {
		fprintf(stderr, "%s: cannot build the rules: %s\n", opt->config_path, err);
		gnn_policy_free(policy);
	} else {
		print_check_summary(policy, rs);
		printf("  loaded in %.3f s, rules built in %.3f s\n", t_load, t_build);
		gnn_ruleset_free(rs);
		rc = 0;
	}
	eal_cleanup();
	return rc;
}

static struct gnn_worker *
worker_create(unsigned int lcore_id, unsigned int index)
{
	int socket = (int)rte_lcore_to_socket_id(lcore_id);
	struct gnn_judge_config cfg = {
		.cache_entries = SOURCE_CACHE_ENTRIES,
		.flush_ticks = rte_get_tsc_hz(), /* a pending record waits at most a second */
		.verdict_cache = true,
	};
	struct rte_ring *records, *sightings, *flows;
	struct gnn_worker *w;
	char name[RTE_RING_NAMESIZE];

	w = rte_zmalloc_socket("gnn_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
	if (w == NULL)
		return NULL;
	w->lcore_id = lcore_id;
	w->rcu_id = index;
	w->socket_id = (unsigned int)socket;
	w->tsc_hz = rte_get_tsc_hz();
	snprintf(name, sizeof(name), "gnn_rec_%u", lcore_id);
	records = rte_ring_create_elem(name, sizeof(struct gnn_source_record), RECORD_RING_SIZE,
				       socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "gnn_sight_%u", lcore_id);
	sightings = rte_ring_create_elem(name, sizeof(struct gnn_sighting), SIGHTING_RING_SIZE,
					 socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "gnn_flow_%u", lcore_id);
	flows = rte_ring_create_elem(name, sizeof(struct gnn_flow_record), FLOW_RING_SIZE, socket,
				     RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (records == NULL || sightings == NULL || flows == NULL ||
	    gnn_judge_init(&w->judge, &cfg, &w->stats, records, sightings, socket) != 0) {
		rte_ring_free(records);
		rte_ring_free(sightings);
		rte_ring_free(flows);
		rte_free(w);
		return NULL;
	}
	/* A flow waits at most a second in the cache; the exporter merges per interval. */
	if (gnn_flows_init(&w->flows, FLOW_CACHE_ENTRIES, rte_get_tsc_hz(), flows, socket) != 0) {
		gnn_judge_fini(&w->judge);
		rte_ring_free(records);
		rte_ring_free(sightings);
		rte_ring_free(flows);
		rte_free(w);
		return NULL;
	}
	return w;
}

static void
workers_create(void)
{
	unsigned int lcore_id;
	size_t rcu_size;

	RTE_LCORE_FOREACH_WORKER(lcore_id)
	{
		struct gnn_worker *w = worker_create(lcore_id, gnnd.n_workers);

		if (w == NULL)
			rte_exit(EXIT_FAILURE, "cannot allocate worker %u: %s\n", lcore_id,
				 rte_strerror(rte_errno));
		gnnd.workers[gnnd.n_workers++] = w;
	}
	if (gnnd.n_workers == 0)
		rte_exit(EXIT_FAILURE, "gnnd needs at least one worker lcore besides the main one "
				       "(e.g. -l 0,1)\n");

	rcu_size = rte_rcu_qsbr_get_memsize(gnnd.n_workers);
	gnnd.rcu = rte_zmalloc("gnn_rcu", rcu_size, RTE_CACHE_LINE_SIZE);
	if (gnnd.rcu == NULL || rte_rcu_qsbr_init(gnnd.rcu, gnnd.n_workers) != 0)
		rte_exit(EXIT_FAILURE, "cannot set up RCU for %u workers\n", gnnd.n_workers);
	for (unsigned int i = 0; i < gnnd.n_workers; i++)
		gnnd.workers[i]->rcu = gnnd.rcu;
}

static void
workers_launch(void)
{
	for (unsigned int i = 0; i < gnnd.n_workers; i++) {
		struct gnn_worker *w = gnnd.workers[i];

		if (w->n_units == 0) {
			GNN_LOG(INFO, "lcore %u has no queue to poll; left idle", w->lcore_id);
			/* An idle worker must not hold up RCU: it never registers. */
			continue;
		}
		rte_eal_remote_launch(gnn_worker_main, w, w->lcore_id);
	}
	/* Ready means forwarding: wait until every launched worker polls. */
	for (unsigned int i = 0; i < gnnd.n_workers; i++) {
		struct gnn_worker *w = gnnd.workers[i];

		while (w->n_units > 0 && !__atomic_load_n(&w->running, __ATOMIC_ACQUIRE))
			rte_pause();
	}
}

static void
workers_stop(void)
{
	for (unsigned int i = 0; i < gnnd.n_workers; i++)
		__atomic_store_n(&gnnd.workers[i]->quit, 1, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
}

static void
workers_free(void)
{
	for (unsigned int i = 0; i < gnnd.n_workers; i++) {
		struct gnn_worker *w = gnnd.workers[i];

		rte_ring_free(w->judge.records);
		rte_ring_free(w->judge.sightings);
		rte_ring_free(w->flows.ring);
		gnn_flows_fini(&w->flows);
		gnn_judge_fini(&w->judge);
		rte_free(w);
	}
	rte_free(gnnd.rcu);
}

/* Signals are read from a signalfd on the control lcore: block them everywhere. */
static void
block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The control plane's modules, in the order they depend on each other. */
static int
control_init(struct gnn_policy *policy)
{
	int rc = gnn_loop_init();

	if (rc == 0)
		rc = gnn_ctrl_init();
	if (rc == 0)
		rc = gnn_sources_init(); /* follows every publication, the first too */
	if (rc == 0)
		rc = gnn_ipfix_init(); /* likewise */
	if (rc == 0)
		rc = gnn_rules_init(policy);
	else
		gnn_policy_free(policy);
	if (rc == 0)
		rc = gnn_report_init();
	if (rc == 0 && gnn_telemetry_init() != 0)
		GNN_LOG(WARNING, "telemetry commands not registered");
	return rc;
}

int
main(int argc, char **argv)
{
	struct gnn_diag diag = {0};
	struct gnn_policy *policy;
	int eal_argc, app_start, rc;
	bool builder_running;
	char **app_argv;

	/* Before EAL logs anything: under systemd, lines go to the journal with priorities. */
	gnn_notify_init();
	/* Application options first: --check must not need EAL's resources. */
	split_args(argc, argv, &eal_argc, &app_start);
	if (app_start == argc && misplaced_option(argc, argv))
		return 2;
	app_argv = calloc((size_t)(argc - app_start + 2), sizeof(*app_argv));
	if (app_argv == NULL)
		return 1;
	app_argv[0] = argv[0];
	for (int i = app_start; i < argc; i++)
		app_argv[i - app_start + 1] = argv[i];
	rc = parse_app_args(argc - app_start + 1, app_argv, &gnnd.opt);
	free(app_argv);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (gnnd.opt.check)
		return run_check(argv[0], &gnnd.opt);
	if (check_options(&gnnd.opt) != 0)
		return 1;

	block_signals();
	rc = rte_eal_init(eal_argc, argv);
	if (rc < 0) {
		fprintf(stderr, "gnnd: cannot initialise EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}

	policy = gnn_policy_load(gnnd.opt.config_path, port_exists_noted, NULL, &diag);
	print_diag(&diag);
	gnn_diag_clear(&diag);
	if (policy == NULL) {
		hint_missing_port();
		eal_cleanup();
		return 1;
	}
	/* Before any port starts: a socket gnnd cannot serve fails at once. */
	if (gnn_sock_check_free(gnnd.opt.socket_path) != 0) {
		fprintf(stderr, "gnnd: control socket %s unusable\n", gnnd.opt.socket_path);
		gnn_policy_free(policy);
		eal_cleanup();
		return 1;
	}

	workers_create();
	if (gnn_ports_setup(policy) != 0) {
		fprintf(stderr, "gnnd: cannot set up the ports\n");
		gnn_policy_free(policy);
		gnn_ports_close();
		workers_free();
		eal_cleanup();
		return 1;
	}
	gnnd.socket_id = gnnd.ports[0].socket_id;
	if (control_init(policy) != 0) {
		fprintf(stderr, "gnnd: cannot start the control plane\n");
		gnn_ports_close();
		eal_cleanup();
		return 1;
	}
	workers_launch();
	/* Ready: the ports are started and the workers forward. */
	rc = gnn_sock_open(gnnd.opt.socket_path, gnnd.opt.socket_group, gnnd.opt.client_timeout);
	if (rc == 0) {
		GNN_LOG(INFO, "ready: generation %" PRIu64 ", %u worker(s), socket %s",
			gnn_rules_active()->generation, gnnd.n_workers, gnnd.opt.socket_path);
		/* Ready means forwarding and answering: the socket accepts now. */
		gnn_notify_ready();
		gnn_loop_run();
	}
	gnn_notify_stopping();

	workers_stop();
	gnn_sources_flush_workers();
	gnn_ipfix_stop();
	gnn_report_print_summary();
	gnn_sock_close();
	gnn_telemetry_fini();
	gnn_api_reset();
	builder_running = gnn_rules_building();
	gnn_ports_close();
	if (builder_running) {
		/* A build cannot be interrupted; exiting ends it. The OS frees the rest. */
		GNN_LOG(INFO, "stopping during a reload build: not waiting for it");
		fflush(stdout);
		_exit(rc == 0 ? 0 : 1);
	}
	gnn_report_fini();
	gnn_ipfix_fini();
	gnn_sources_fini();
	gnn_rules_fini();
	gnn_ctrl_fini();
	gnn_loop_fini();
	gnn_counters_fini();
	gnn_slots_fini();
	workers_free();
	eal_cleanup();
	return rc == 0 ? 0 : 1;
}
