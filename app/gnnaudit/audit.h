/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNNAUDIT_AUDIT_H
#define GNNAUDIT_AUDIT_H

/*
 * gnnaudit's analysis: frames (from captures) or synthetic frames (from
 * flow records) are judged by lib/judge exactly as a gnnd worker judges
 * the frames of an inside port, and the source records it sends are added
 * to the lib/track tables gnnd's control lcore keeps. The readers
 * (capture.c, flows.c) feed it; report.c prints the tables. Times are
 * nanoseconds since the epoch, the judge's "ticks". One thread.
 */

#include <stdbool.h>
#include <stdint.h>

#include "acl/gnn_acl.h"
#include "judge/gnn_judge.h"
#include "stats/gnn_stats.h"

struct rte_ring;
struct gnn_track;
struct json_t;

#define GNNAUDIT_NS 1000000000ull

/* One input file, as the report names it. */
struct audit_input {
	const char *name;   /* as given; "-" is standard input */
	const char *format; /* "pcap", "pcapng", "flows" */
	const char *link;   /* link type of a capture ("EN10MB"), or NULL */
	uint64_t frames;    /* frames (captures) or flow records (flows) read */
	uint64_t flows_tcp; /* TCP flows judged (flows) */
	uint64_t cut;	    /* frames cut by the snap length (captures) */
	uint64_t link_cut;  /* frames cut inside their link header: not judged */
	uint64_t bad_lines; /* malformed lines (flows) */
	bool truncated;	    /* ends in the middle of a record */
	bool unreadable;    /* could not be opened or read */
	const char *error;  /* the first error of this input (in audit.errors), or NULL */
};

struct audit {
	struct gnn_ruleset *rs;
	struct gnn_judge judge;
	bool judge_ready;
	struct rte_ring *records;
	struct gnn_lcore_stats stats;
	struct gnn_track *track;
	struct gnn_track_server *servers; /* by the index records carry (rs->servers) */
	/* what was read */
	struct audit_input *inputs;
	unsigned int n_inputs;
	uint64_t frames;   /* every frame or flow record read */
	uint64_t first_ns; /* earliest and latest time seen; 0: none */
	uint64_t last_ns;
	bool flows;	 /* --flows */
	bool incomplete; /* an input was truncated, unreadable or malformed */
	char **errors;	 /* every error message, in order (at most MAX_ERRORS kept) */
	unsigned int n_errors;
	uint64_t errors_left_out;
	uint8_t *file_mode; /* enum gnn_mode of each member as the file says */
};

/*
 * Build the ruleset of policy (every member judged as if its frames came
 * in on an inside port; a member in mode off is judged as in monitor), the
 * judge, its ring and the tables. policy passes to the ruleset. 0, or -1
 * with a message on stderr. Needs EAL.
 */
int audit_init(struct audit *a, struct gnn_policy *policy, bool flows);

void audit_fini(struct audit *a);

/* A new input; its counters live in the returned entry. */
struct audit_input *audit_add_input(struct audit *a, const char *name, const char *format);

/*
 * Record an error of an input (printf format): printed on stderr, kept
 * for the JSON report; it makes the run incomplete.
 */
void audit_input_error(struct audit *a, struct audit_input *in, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Judge info[0..n) (n <= GNN_JUDGE_MAX_BURST), all seen at time now_ns,
 * and move the records the judge sent into the tables.
 */
void audit_judge(struct audit *a, const struct gnn_frame_info *info, uint32_t n, uint64_t now_ns);

/*
 * Judge one flow as one frame f and add its record with the flow's own
 * numbers: for a candidate, the flow's packets and its first and last
 * time (ns); for an accept, one packet (the SYN-ACK) at the flow's first
 * time. Attempts come from f's flags: 1 for a SYN, 1 for a SYN-ACK.
 */
void audit_judge_flow(struct audit *a, const struct gnn_frame_info *f, uint32_t packets,
		      uint64_t first_ns, uint64_t last_ns);

/* Note a time seen in the input (for the report's span). */
void audit_saw_time(struct audit *a, uint64_t ns);

/* Send and add every record still pending in the judge. */
void audit_finish(struct audit *a);

/* Name of the member of a slot (the slot is the member's index); arg: the ruleset. */
const char *audit_slot_name(void *arg, uint32_t slot);

#endif /* GNNAUDIT_AUDIT_H */
