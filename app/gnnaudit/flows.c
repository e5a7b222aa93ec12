/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow records as `nfdump -o csv` prints them (nfdump 1.7):
 *
 *   ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,...
 *   2009-10-05 06:06:07,2009-10-05 06:06:15,7.577,192.0.2.4,203.0.113.153,1470,25,TCP,...AP.SF,...
 *   Summary
 *   flows,bytes,packets,avg_bps,avg_pps,avg_bpp
 *   19,37085,125,0,0,296
 *
 * Columns are found by the header's names; output without a header
 * (nfdump -q) is read in the order above. ts and te are local time, as
 * nfdump prints them. A flow has no packets of its own to parse: each TCP
 * flow becomes the one frame the judge sees, built as the parser would
 * fill it, and its record then gets the flow's numbers (audit.h).
 * nfdump ORs the flags of every packet of a flow, so a SYN without ACK
 * cannot be told from a SYN-ACK: a flow to a blocked port that holds a SYN
 * is taken for one connection attempt, a flow from a blocked port that
 * holds SYN and ACK for one accepted connection.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "audit.h"
#include "parse/gnn_parse.h"
#include "readers.h"

enum column { COL_TS, COL_TE, COL_SA, COL_DA, COL_SP, COL_DP, COL_PR, COL_FLG, COL_IPKT, COL_MAX };

static const char *const column_names[COL_MAX] = {"ts", "te", "sa",  "da",  "sp",
						  "dp", "pr", "flg", "ipkt"};
/* Where nfdump 1.7 puts them when it prints no header. */
static const int default_index[COL_MAX] = {0, 1, 3, 4, 5, 6, 7, 8, 11};

#define MAX_FIELDS 128

struct flow {
	uint64_t ts_ns, te_ns;
	uint8_t family;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	bool tcp;
	uint8_t flags; /* GNN_TCP_* */
	uint32_t packets;
};

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/* Split line at commas in place; the number of fields, or -1 beyond MAX_FIELDS. */
static int
split(char *line, char **fields)
{
	int n = 0;

	for (char *p = line;; n++) {
		char *comma = strchr(p, ',');

		if (n == MAX_FIELDS)
			return -1;
		if (comma != NULL)
			*comma = '\0';
		fields[n] = trim(p);
		if (comma == NULL)
			return n + 1;
		p = comma + 1;
	}
}

/*
 * Seconds since the epoch of "YYYY-MM-DD HH:MM:SS" (the first 19 bytes of
 * text) in local time. mktime() looks at the zone's file each time; flows
 * of one file share few seconds, so the last few answers are kept.
 */
static int
local_seconds(const char *text, time_t *out)
{
	static struct {
		char text[20];
		time_t t;
	} cache[4];
	static unsigned int next;
	struct tm tm;
	const char *rest;

	for (unsigned int i = 0; i < 4; i++)
		if (memcmp(cache[i].text, text, 19) == 0 && cache[i].text[0] != '\0') {
			*out = cache[i].t;
			return 0;
		}
	memset(&tm, 0, sizeof(tm));
	rest = strptime(text, "%Y-%m-%d %H:%M:%S", &tm);
	if (rest == NULL || rest - text != 19)
		return -1;
	tm.tm_isdst = -1;
	*out = mktime(&tm);
	if (*out == (time_t)-1 || *out < 0)
		return -1;
	memcpy(cache[next].text, text, 19);
	cache[next].text[19] = '\0';
	cache[next].t = *out;
	next = (next + 1) % 4;
	return 0;
}

/* "YYYY-MM-DD HH:MM:SS[.fff]" in local time, to ns since the epoch. */
static int
parse_time(const char *text, uint64_t *ns)
{
	const char *rest = text + 19;
	uint64_t frac = 0, scale = GNNAUDIT_NS;
	time_t t;

	if (strnlen(text, 19) != 19 || local_seconds(text, &t) != 0)
		return -1;
	if (*rest == '.') {
		rest++;
		if (*rest < '0' || *rest > '9')
			return -1;
		for (; *rest >= '0' && *rest <= '9'; rest++) {
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*rest - '0') * scale;
			}
		}
	}
	if (*rest != '\0')
		return -1;
	*ns = (uint64_t)t * GNNAUDIT_NS + frac;
	return 0;
}

static int
parse_uint(const char *text, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* nfdump's flag string: ".E.AP.SF" (CEUAPRSF, '.' for a flag not set). */
static int
parse_flags(const char *text, uint8_t *flags)
{
	*flags = 0;
	if (text[0] == '\0')
		return -1;
	for (const char *p = text; *p != '\0'; p++) {
		switch (*p) {
		case 'F':
			*flags |= GNN_TCP_FIN;
			break;
		case 'S':
			*flags |= GNN_TCP_SYN;
			break;
		case 'R':
			*flags |= GNN_TCP_RST;
			break;
		case 'A':
			*flags |= GNN_TCP_ACK;
			break;
		case 'P':
		case 'U':
		case 'E':
		case 'C':
		case '.':
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static int
parse_addr(const char *text, uint8_t *family, uint8_t *addr)
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr) == 1) {
		*family = 6;
		return 0;
	}
	return -1;
}

/* One data line into fl; NULL, or what is wrong with it. */
static const char *
parse_flow(char **fields, int n, const int *index, struct flow *fl)
{
	const char *f[COL_MAX];
	uint8_t dfam;
	uint64_t v;

	for (int c = 0; c < COL_MAX; c++) {
		if (index[c] >= n)
			return "too few fields";
		f[c] = fields[index[c]];
	}
	if (parse_time(f[COL_TS], &fl->ts_ns) != 0)
		return "ts is not a time (YYYY-MM-DD HH:MM:SS)";
	if (parse_time(f[COL_TE], &fl->te_ns) != 0)
		return "te is not a time (YYYY-MM-DD HH:MM:SS)";
	if (parse_addr(f[COL_SA], &fl->family, fl->src) != 0)
		return "sa is not an address";
	if (parse_addr(f[COL_DA], &dfam, fl->dst) != 0)
		return "da is not an address";
	if (dfam != fl->family)
		return "sa and da are of different families";
	if (parse_uint(f[COL_SP], 65535, &v) != 0)
		return "sp is not a port";
	fl->sport = (uint16_t)v;
	/* ICMP "ports" (type.code as 772 or "3.4") are not read: only TCP needs them. */
	fl->tcp = strcasecmp(f[COL_PR], "TCP") == 0 || strcmp(f[COL_PR], "6") == 0;
	if (f[COL_PR][0] == '\0')
		return "pr is empty";
	if (parse_uint(f[COL_DP], 65535, &v) != 0) {
		if (fl->tcp)
			return "dp is not a port";
		v = 0;
	}
	fl->dport = (uint16_t)v;
	if (parse_flags(f[COL_FLG], &fl->flags) != 0)
		return "flg is not a TCP flag string (CEUAPRSF or '.')";
	if (parse_uint(f[COL_IPKT], UINT64_MAX, &v) != 0)
		return "ipkt is not a number";
	fl->packets = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return NULL;
}

/*
 * The frame the flow stands for. To a blocked port: its first packet, a
 * SYN when the flow holds one (an attempt), else a plain ACK. From one:
 * the SYN-ACK when the flow holds SYN and ACK. Anything else: the flow's
 * flags, which the judge does not count.
 */
static void
flow_frame(const struct audit *a, const struct flow *fl, struct gnn_frame_info *f)
{
	memset(f, 0, sizeof(*f));
	f->kind = GNN_PARSE_TCP;
	f->family = fl->family;
	f->l4_proto = 6;
	memcpy(f->src, fl->src, sizeof(f->src));
	memcpy(f->dst, fl->dst, sizeof(f->dst));
	f->sport = fl->sport;
	f->dport = fl->dport;
	if (gnn_ruleset_port_blocked(a->rs, fl->dport))
		f->tcp_flags = (fl->flags & GNN_TCP_SYN) ? GNN_TCP_SYN : GNN_TCP_ACK;
	else
		f->tcp_flags = fl->flags;
}

static int
read_header(char **fields, int n, int *index, const char **missing)
{
	for (int c = 0; c < COL_MAX; c++) {
		index[c] = -1;
		for (int i = 0; i < n; i++)
			if (strcmp(fields[i], column_names[c]) == 0) {
				index[c] = i;
				break;
			}
		if (index[c] < 0) {
			*missing = column_names[c];
			return -1;
		}
	}
	return 0;
}

void
flows_read(struct audit *a, const char *name)
{
	struct audit_input *in = audit_add_input(a, name, "flows");
	int index[COL_MAX];
	char *fields[MAX_FIELDS];
	bool in_summary = false, header_bad = false;
	unsigned long line_no = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *fp;

	memcpy(index, default_index, sizeof(index));
	fp = strcmp(name, "-") == 0 ? stdin : fopen(name, "r");
	if (fp == NULL) {
		in->unreadable = true;
		audit_input_error(a, in, "%s: cannot open: %s", name, strerror(errno));
		return;
	}
	while ((len = getline(&line, &cap, fp)) >= 0) {
		/* Aligned as the judge's hash reads src and dst: in 8-byte words. */
		struct gnn_frame_info f __attribute__((aligned(64)));
		struct flow fl;
		const char *why;
		int n;

		line_no++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if ((size_t)len != strlen(line)) {
			in->bad_lines++;
			audit_input_error(a, in, "%s:%lu: NUL byte in the line", name, line_no);
			continue;
		}
		if (trim(line)[0] == '\0')
			continue;
		if (strncmp(line, "ts,", 3) == 0) {
			/* A header: the columns of the lines that follow. */
			const char *missing = NULL;

			n = split(line, fields);
			in_summary = false;
			header_bad = n < 0 || read_header(fields, n, index, &missing) != 0;
			if (header_bad) {
				in->bad_lines++;
				audit_input_error(a, in, "%s:%lu: header has no column \"%s\"",
						  name, line_no, missing != NULL ? missing : "?");
			}
			continue;
		}
		if (strcmp(line, "Summary") == 0) {
			in_summary = true; /* nfdump's totals follow, up to the next header */
			continue;
		}
		if (in_summary || strcmp(line, "No matching flows") == 0)
			continue;
		if (header_bad)
			continue; /* reported once, at the header */
		in->frames++;
		a->frames++;
		n = split(line, fields);
		why = n < 0 ? "too many fields" : parse_flow(fields, n, index, &fl);
		if (why != NULL) {
			in->bad_lines++;
			audit_input_error(a, in, "%s:%lu: %s", name, line_no, why);
			continue;
		}
		audit_saw_time(a, fl.ts_ns);
		audit_saw_time(a, fl.te_ns);
		if (!fl.tcp)
			continue;
		in->flows_tcp++;
		flow_frame(a, &fl, &f);
		audit_judge_flow(a, &f, fl.packets, fl.ts_ns, fl.te_ns);
	}
	if (ferror(fp)) {
		in->unreadable = true;
		audit_input_error(a, in, "%s: read error after line %lu: %s", name, line_no,
				  strerror(errno));
	}
	free(line);
	if (fp != stdin)
		fclose(fp);
}
