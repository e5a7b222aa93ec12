/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IPFIX exporter (see ipfix.h). Every DRAIN_MS the workers' flow rings
 * are drained into one table keyed like the workers' caches (family,
 * source, destination, destination port, verdict); every interval the
 * table goes out as data records and is emptied (earlier when it fills).
 *
 * Encoding is libfixbuf's: a session with one template per address family,
 * a buffer exporter in manual mode, so that each finished message is handed
 * to us, queued, and sent with one non-blocking send() on a connected UDP
 * socket of our own, MSGS_PER_TICK per tick. Nothing here waits for the
 * network: a send that fails (the collector's port unreachable, the socket
 * buffer full, no route) loses that message's records, a message the full
 * queue cannot take loses its own, and all of it is counted. Every export
 * starts with a message of templates, so a collector that starts (or
 * restarts) late decodes the next interval (RFC 7011, 8.4: templates over
 * UDP are sent again periodically).
 *
 * Information elements of a record (IANA numbers), IPv4 or IPv6:
 *   flowStartMilliseconds (152), flowEndMilliseconds (153): first and last
 *     packet of the flow in this interval;
 *   octetDeltaCount (1): IP octets (headers included); packetDeltaCount (2);
 *   sourceIPv4Address (8), destinationIPv4Address (12) or
 *     sourceIPv6Address (27), destinationIPv6Address (28);
 *   destinationTransportPort (11); protocolIdentifier (4): always 6;
 *   firewallEvent (233): 1 "flow created" for allowed (a listed server,
 *     forwarded), 4 "flow alert" for would block (a monitored member's
 *     host: forwarded, flagged), 3 "flow denied" for blocked;
 *   observationPointId (138): the same code, for collectors that do not
 *     decode firewallEvent (nfdump 1.7 stores it and filters on it:
 *     'observation point id 3').
 * Source ports are not kept: a flow is every connection of one source to
 * one destination port of one destination in an interval.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fixbuf/public.h>
#include <jansson.h>
#include <rte_cycles.h>
#include <rte_hash_crc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "acl/gnn_acl.h"
#include "common/gnn_clock.h"
#include "control/ipfix.h"
#include "control/loop.h"
#include "control/rules.h"
#include "gnnd.h"
#include "proto/gnn_fields.h"

RTE_LOG_REGISTER(gnn_logtype_ipfix, gnn.ipfix, INFO);
#define GNN_LOGTYPE gnn_logtype_ipfix

#define DRAIN_MS    50
#define DRAIN_BURST 64
/* Flows merged per interval before an early export (half the table). */
#define TABLE_SIZE 65536
#define TABLE_FILL (TABLE_SIZE / 2)
/*
 * Largest message: it fits the IPv6 minimum MTU (1280) with the IPv6 and UDP
 * headers, so no path fragments it (RFC 7011, 10.3.3).
 */
#define MSG_MAX 1232
/*
 * Messages sent per tick (about 1300 a second, 30,000 records): an export
 * leaves as a paced stream rather than one burst that overruns the
 * collector's socket buffer. The queue holds a few intervals of a busy box;
 * what does not fit is counted lost.
 */
#define MSGS_PER_TICK 64
#define QUEUE_SIZE    4096
#define SNDBUF	      (4 << 20)
#define TID_IPV4      256
#define TID_IPV6      257
#define DOMAIN_ID     1
#define PROTO_TCP     6
#define LOG_EVERY_S   60 /* send errors are logged at most this often */

/* firewallEvent values (IANA "firewallEvent" registry). */
enum {
	FW_EVENT_CREATED = 1,
	FW_EVENT_DENIED = 3,
	FW_EVENT_ALERT = 4,
};

/* The records as libfixbuf reads them: the templates below, in this order. */
struct rec4 {
	uint64_t start_ms;
	uint64_t end_ms;
	uint64_t octets;
	uint64_t packets;
	uint32_t src; /* host order, as libfixbuf wants an IPv4 address */
	uint32_t dst;
	uint32_t point;
	uint16_t dport;
	uint8_t proto;
	uint8_t event;
};

struct rec6 {
	uint64_t start_ms;
	uint64_t end_ms;
	uint64_t octets;
	uint64_t packets;
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t point;
	uint16_t dport;
	uint8_t proto;
	uint8_t event;
};

_Static_assert(sizeof(struct rec4) == 48, "no padding in the IPv4 record");
_Static_assert(sizeof(struct rec6) == 72, "no padding in the IPv6 record");

/* libfixbuf's spec takes char *: the names live in writable arrays. */
static char ie_start[] = "flowStartMilliseconds", ie_end[] = "flowEndMilliseconds",
	    ie_octets[] = "octetDeltaCount", ie_packets[] = "packetDeltaCount",
	    ie_src4[] = "sourceIPv4Address", ie_dst4[] = "destinationIPv4Address",
	    ie_src6[] = "sourceIPv6Address", ie_dst6[] = "destinationIPv6Address",
	    ie_point[] = "observationPointId", ie_dport[] = "destinationTransportPort",
	    ie_proto[] = "protocolIdentifier", ie_event[] = "firewallEvent";

static fbInfoElementSpec_t spec4[] = {
	{ie_start, 8, 0}, {ie_end, 8, 0},   {ie_octets, 8, 0}, {ie_packets, 8, 0},
	{ie_src4, 4, 0},  {ie_dst4, 4, 0},  {ie_point, 4, 0},  {ie_dport, 2, 0},
	{ie_proto, 1, 0}, {ie_event, 1, 0}, FB_IESPEC_NULL,
};

static fbInfoElementSpec_t spec6[] = {
	{ie_start, 8, 0}, {ie_end, 8, 0},   {ie_octets, 8, 0}, {ie_packets, 8, 0},
	{ie_src6, 16, 0}, {ie_dst6, 16, 0}, {ie_point, 4, 0},  {ie_dport, 2, 0},
	{ie_proto, 1, 0}, {ie_event, 1, 0}, FB_IESPEC_NULL,
};

/* A finished message waiting for its turn on the wire. */
struct queued {
	uint16_t len;
	uint32_t records; /* data records in it */
	uint8_t data[MSG_MAX];
};

/* One merged flow of the current interval. */
struct flow {
	uint32_t head; /* family | verdict << 8 | dport << 16; 0: free */
	uint32_t pad;
	uint8_t src[16];
	uint8_t dst[16];
	uint64_t packets;
	uint64_t octets;
	int64_t first_ms; /* wall clock */
	int64_t last_ms;
};

static struct {
	/* the export as configured; on == false: records are dropped */
	bool on;
	struct gnn_ipfix cfg;
	char collector[INET6_ADDRSTRLEN + 8]; /* "192.0.2.200:4739", "[2001:db8::1]:4739" */
	int64_t next_export_ms;
	/* the transport session */
	fbInfoModel_t *model;
	fBuf_t *fbuf; /* owns the fbSession_t and the fbExporter_t */
	fbExporter_t *exporter;
	uint16_t tid; /* export template of the set being filled, 0: none */
	bool msg_open;
	uint32_t in_msg; /* data records in the message being built */
	int fd;
	bool connected;
	uint8_t msg[MSG_MAX];
	/* finished messages, sent at most MSGS_PER_TICK per tick */
	struct queued *queue; /* QUEUE_SIZE */
	uint32_t q_head, q_len;
	/* this interval's flows */
	struct flow *table;
	uint32_t *used; /* indices of the taken slots, in order */
	uint32_t n_used;
	double tsc_hz;
	/* counters */
	uint64_t records_sent;
	uint64_t messages_sent;
	uint64_t send_errors;
	uint64_t records_lost; /* here: failed sends, drops while off; workers' are added */
	int64_t last_log_ms;
	uint64_t errors_unlogged;
} ipx = {.fd = -1};

/* ---- the transport ---------------------------------------------------- */

static void
format_collector(const struct gnn_ipfix *c, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];

	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, addr, sizeof(addr));
	snprintf(buf, size, c->family == 4 ? "%s:%u" : "[%s]:%u", addr, c->port);
}

/* connect() on UDP sends nothing: it fixes the peer (and fails without a route). */
static bool
socket_connect(void)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;

	if (ipx.cfg.family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(ipx.cfg.port);
		memcpy(&sin->sin_addr, ipx.cfg.addr, 4);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(ipx.cfg.port);
		memcpy(&sin6->sin6_addr, ipx.cfg.addr, 16);
		len = sizeof(*sin6);
	}
	ipx.connected = connect(ipx.fd, (struct sockaddr *)&ss, len) == 0;
	return ipx.connected;
}

static int
socket_open(void)
{
	int size = SNDBUF;

	ipx.fd = socket(ipx.cfg.family == 4 ? AF_INET : AF_INET6,
			SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ipx.fd < 0)
		return -errno;
	/* Room for an interval's messages; the kernel's limit caps it. */
	if (setsockopt(ipx.fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) != 0)
		setsockopt(ipx.fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (!socket_connect())
		GNN_LOG(WARNING, "IPFIX collector %s: %s; trying again at each export",
			ipx.collector, strerror(errno));
	return 0;
}

static void
note_send_error(int err)
{
	int64_t now = gnn_clock_mono_ms();

	ipx.send_errors++;
	if (ipx.last_log_ms != 0 && now - ipx.last_log_ms < LOG_EVERY_S * 1000) {
		ipx.errors_unlogged++;
		return;
	}
	if (ipx.errors_unlogged > 0)
		GNN_LOG(WARNING,
			"IPFIX: cannot send to %s: %s (and %" PRIu64 " failed sends not logged)",
			ipx.collector, strerror(err), ipx.errors_unlogged);
	else
		GNN_LOG(WARNING, "IPFIX: cannot send to %s: %s", ipx.collector, strerror(err));
	ipx.last_log_ms = now;
	ipx.errors_unlogged = 0;
}

/* Send the oldest queued message without waiting; a failure loses its records. */
static void
send_queued(void)
{
	struct queued *m = &ipx.queue[ipx.q_head];
	ssize_t rc = -1;

	errno = ENOTCONN;
	if (ipx.fd >= 0 && (ipx.connected || socket_connect()))
		rc = send(ipx.fd, m->data, m->len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (rc == (ssize_t)m->len) {
		ipx.messages_sent++;
		ipx.records_sent += m->records;
	} else {
		note_send_error(rc < 0 ? errno : EMSGSIZE);
		ipx.records_lost += m->records;
	}
	ipx.q_head = (ipx.q_head + 1) % QUEUE_SIZE;
	ipx.q_len--;
}

/* Send up to max queued messages. */
static void
pump(uint32_t max)
{
	while (ipx.q_len > 0 && max-- > 0)
		send_queued();
}

/* Finish the message being built and queue it. */
static void
send_message(void)
{
	GError *err = NULL;
	struct queued *m;
	size_t len;

	if (!ipx.msg_open)
		return;
	ipx.msg_open = false;
	ipx.tid = 0;
	if (!fBufEmit(ipx.fbuf, &err)) {
		GNN_LOG(ERR, "IPFIX: cannot finish a message: %s", err->message);
		g_clear_error(&err);
		ipx.records_lost += ipx.in_msg;
		ipx.in_msg = 0;
		return;
	}
	len = fbExporterGetMsgLen(ipx.exporter);
	if (ipx.q_len == QUEUE_SIZE || len > sizeof(m->data)) {
		ipx.records_lost += ipx.in_msg; /* the collector does not keep up */
		ipx.in_msg = 0;
		return;
	}
	m = &ipx.queue[(ipx.q_head + ipx.q_len++) % QUEUE_SIZE];
	memcpy(m->data, ipx.msg, len);
	m->len = (uint16_t)len;
	m->records = ipx.in_msg;
	ipx.in_msg = 0;
}

static fbTemplate_t *
make_template(fbInfoElementSpec_t *spec, GError **err)
{
	fbTemplate_t *t = fbTemplateAlloc(ipx.model);

	if (!fbTemplateAppendSpecArray(t, spec, 0, err)) {
		fbTemplateFreeUnused(t);
		return NULL;
	}
	return t;
}

/* Add tmpl as internal and external template tid (the same layout). */
static bool
add_template(fbSession_t *session, uint16_t tid, fbInfoElementSpec_t *spec, GError **err)
{
	fbTemplate_t *t = make_template(spec, err);

	if (t == NULL)
		return false;
	if (fbSessionAddTemplate(session, TRUE, tid, t, err) == 0) {
		fbTemplateFreeUnused(t);
		return false;
	}
	/* The session holds a reference per use: adding it twice is allowed. */
	return fbSessionAddTemplate(session, FALSE, tid, t, err) != 0;
}

static void
session_close(void)
{
	pump(UINT32_MAX); /* what is queued goes to this session's collector */
	if (ipx.fbuf != NULL)
		fBufFree(ipx.fbuf); /* and its session and exporter */
	ipx.fbuf = NULL;
	ipx.exporter = NULL;
	ipx.msg_open = false;
	ipx.tid = 0;
	ipx.in_msg = 0;
	if (ipx.fd >= 0)
		close(ipx.fd);
	ipx.fd = -1;
	ipx.connected = false;
}

/* A new transport session to ipx.cfg: sequence numbers from 0, templates first. */
static int
session_open(void)
{
	fbSession_t *session = fbSessionAlloc(ipx.model);
	GError *err = NULL;
	int rc;

	fbSessionSetDomain(session, DOMAIN_ID);
	if (!add_template(session, TID_IPV4, spec4, &err) ||
	    !add_template(session, TID_IPV6, spec6, &err)) {
		GNN_LOG(ERR, "IPFIX: cannot make the templates: %s", err->message);
		g_clear_error(&err);
		fbSessionFree(session);
		return -EINVAL;
	}
	ipx.exporter = fbExporterAllocBuffer(ipx.msg, sizeof(ipx.msg));
	ipx.fbuf = fBufAllocForExport(session, ipx.exporter);
	fBufSetAutomaticMode(ipx.fbuf, FALSE);
	rc = socket_open();
	if (rc != 0) {
		/* Kept on: every message then counts as a send error. */
		GNN_LOG(ERR, "IPFIX: no UDP socket for %s: %s", ipx.collector, strerror(-rc));
	}
	return 0;
}

/* ---- building messages ------------------------------------------------ */

static uint8_t
event_of(uint8_t verdict)
{
	switch (verdict) {
	case GNN_VERDICT_ALLOWED:
		return FW_EVENT_CREATED;
	case GNN_VERDICT_WOULD_BLOCK:
		return FW_EVENT_ALERT;
	default:
		return FW_EVENT_DENIED;
	}
}

/* Append one record; a full message is sent and the record goes in the next. */
static void
append(uint16_t tid, uint8_t *rec, size_t size)
{
	GError *err = NULL;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (ipx.tid != tid) {
			if (!fBufSetInternalTemplate(ipx.fbuf, tid, &err) ||
			    !fBufSetExportTemplate(ipx.fbuf, tid, &err))
				break;
			ipx.tid = tid;
		}
		if (fBufAppend(ipx.fbuf, rec, size, &err)) {
			ipx.msg_open = true;
			ipx.in_msg++;
			return;
		}
		/* The message is full, or holds templates (they travel alone). */
		if (!g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM))
			break;
		g_clear_error(&err);
		send_message();
	}
	if (err != NULL) {
		GNN_LOG(ERR, "IPFIX: cannot add a record: %s", err->message);
		g_clear_error(&err);
	}
	ipx.records_lost++;
}

static void
append_flow(const struct flow *fl)
{
	uint8_t family = (uint8_t)(fl->head & 0xff), verdict = (uint8_t)((fl->head >> 8) & 0xff);
	uint16_t dport = (uint16_t)(fl->head >> 16);

	if (family == 4) {
		struct rec4 r = {
			.start_ms = (uint64_t)fl->first_ms,
			.end_ms = (uint64_t)fl->last_ms,
			.octets = fl->octets,
			.packets = fl->packets,
			.point = event_of(verdict),
			.dport = dport,
			.proto = PROTO_TCP,
			.event = event_of(verdict),
		};
		uint32_t a;

		memcpy(&a, fl->src, 4);
		r.src = ntohl(a);
		memcpy(&a, fl->dst, 4);
		r.dst = ntohl(a);
		append(TID_IPV4, (uint8_t *)&r, sizeof(r));
	} else {
		struct rec6 r = {
			.start_ms = (uint64_t)fl->first_ms,
			.end_ms = (uint64_t)fl->last_ms,
			.octets = fl->octets,
			.packets = fl->packets,
			.point = event_of(verdict),
			.dport = dport,
			.proto = PROTO_TCP,
			.event = event_of(verdict),
		};

		memcpy(r.src, fl->src, 16);
		memcpy(r.dst, fl->dst, 16);
		append(TID_IPV6, (uint8_t *)&r, sizeof(r));
	}
}

/*
 * A message of templates. libfixbuf starts one for them (its first attempt
 * says "end of message" and marks the next one as a template message) and
 * makes the next data record start another.
 */
static void
export_templates(void)
{
	fbSession_t *session = fBufGetSession(ipx.fbuf);
	GError *err = NULL;

	send_message();
	for (int attempt = 0; attempt < 2; attempt++) {
		if (fbSessionExportTemplates(session, &err)) {
			ipx.msg_open = true;
			ipx.tid = 0;
			return;
		}
		if (!g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM))
			break;
		g_clear_error(&err);
		send_message();
	}
	if (err != NULL) {
		GNN_LOG(ERR, "IPFIX: cannot add the templates: %s", err->message);
		g_clear_error(&err);
	}
}

/* Send this interval's flows (templates first) and empty the table. */
static void
export_flows(void)
{
	if (ipx.n_used == 0)
		return;
	if (ipx.on && ipx.fbuf != NULL) {
		export_templates();
		for (uint32_t i = 0; i < ipx.n_used; i++)
			append_flow(&ipx.table[ipx.used[i]]);
		send_message();
		pump(MSGS_PER_TICK);
	} else {
		ipx.records_lost += ipx.n_used;
	}
	for (uint32_t i = 0; i < ipx.n_used; i++)
		ipx.table[ipx.used[i]].head = 0;
	ipx.n_used = 0;
}

/* ---- merging ---------------------------------------------------------- */

static inline uint32_t
record_head(const struct gnn_flow_record *r)
{
	return (uint32_t)r->family | (uint32_t)r->verdict << 8 | (uint32_t)r->dport << 16;
}

static void
merge(const struct gnn_flow_record *r, uint64_t tsc_now, int64_t wall_ms)
{
	uint32_t head = record_head(r);
	uint32_t h = rte_hash_crc(r->src, 32, rte_hash_crc_4byte(head, 0x9747b28c));
	int64_t first =
		wall_ms - (int64_t)((double)(int64_t)(tsc_now - r->first) * 1e3 / ipx.tsc_hz);
	int64_t last = wall_ms - (int64_t)((double)(int64_t)(tsc_now - r->last) * 1e3 / ipx.tsc_hz);
	struct flow *fl;

	if (r->packets == 0 || head == 0)
		return;
	if (ipx.n_used >= TABLE_FILL)
		export_flows(); /* a busy interval: what it has so far goes now */
	for (uint32_t i = h & (TABLE_SIZE - 1);; i = (i + 1) & (TABLE_SIZE - 1)) {
		fl = &ipx.table[i];
		if (fl->head == 0) {
			fl->head = head;
			memcpy(fl->src, r->src, 32);
			fl->packets = 0;
			fl->octets = 0;
			fl->first_ms = first;
			fl->last_ms = last;
			ipx.used[ipx.n_used++] = i;
			break;
		}
		if (fl->head == head && memcmp(fl->src, r->src, 32) == 0)
			break;
	}
	fl->packets += r->packets;
	fl->octets += r->octets;
	if (first < fl->first_ms)
		fl->first_ms = first;
	if (last > fl->last_ms)
		fl->last_ms = last;
}

/* Take what the workers' rings hold; merge it, or drop it while the export is off. */
static void
drain_rings(void)
{
	struct gnn_flow_record recs[DRAIN_BURST];

	for (unsigned int w = 0; w < gnnd.n_workers; w++) {
		struct rte_ring *ring = gnnd.workers[w]->flows.ring;
		/* At most what the ring held on entry: a worker that keeps it full
		 * must not keep the loop from its other work. */
		unsigned int n, left = rte_ring_count(ring);

		do {
			uint64_t tsc_now;
			int64_t wall_ms;

			n = rte_ring_sc_dequeue_burst_elem(ring, recs, sizeof(recs[0]),
							   RTE_MIN(left, (unsigned int)DRAIN_BURST),
							   NULL);
			if (n == 0)
				break;
			left -= n;
			if (!ipx.on) {
				ipx.records_lost += n;
				continue;
			}
			/* After the dequeue: no record is newer than tsc_now. */
			tsc_now = rte_rdtsc();
			wall_ms = (int64_t)(gnn_clock_wall() * 1e3);
			for (unsigned int i = 0; i < n; i++)
				merge(&recs[i], tsc_now, wall_ms);
		} while (left > 0);
	}
}

static void
tick(void *arg)
{
	RTE_SET_USED(arg);
	pump(MSGS_PER_TICK);
	drain_rings();
	if (ipx.on && gnn_clock_mono_ms() >= ipx.next_export_ms) {
		export_flows();
		ipx.next_export_ms = gnn_clock_mono_ms() + (int64_t)ipx.cfg.interval * 1000;
	}
}

/* ---- following the config --------------------------------------------- */

static bool
same_collector(const struct gnn_ipfix *a, const struct gnn_ipfix *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

static void
point_workers(bool on)
{
	for (unsigned int w = 0; w < gnnd.n_workers; w++) {
		struct gnn_worker *wk = gnnd.workers[w];

		__atomic_store_n(&wk->flows_on, on ? &wk->flows : NULL, __ATOMIC_RELEASE);
	}
}

/* What the workers' rings hold now, exported to the running session. */
static void
finish_session(void)
{
	drain_rings();
	export_flows();
	session_close();
}

static void
on_publish(const struct gnn_ruleset *now, void *arg)
{
	const struct gnn_ipfix *next = &now->policy->ipfix;

	RTE_SET_USED(arg);
	if (!next->enabled) {
		if (ipx.on) {
			point_workers(false);
			finish_session();
			ipx.on = false;
			GNN_LOG(INFO, "IPFIX export to %s stopped", ipx.collector);
		}
		return;
	}
	if (ipx.on && same_collector(&ipx.cfg, next)) {
		if (ipx.cfg.interval != next->interval) {
			ipx.next_export_ms += ((int64_t)next->interval - ipx.cfg.interval) * 1000;
			ipx.cfg.interval = next->interval;
			GNN_LOG(INFO, "IPFIX export to %s every %u s", ipx.collector,
				ipx.cfg.interval);
		}
		return;
	}
	if (ipx.on) {
		GNN_LOG(INFO, "IPFIX export to %s stopped: moving", ipx.collector);
		finish_session();
	}
	ipx.cfg = *next;
	format_collector(&ipx.cfg, ipx.collector, sizeof(ipx.collector));
	if (session_open() != 0) {
		point_workers(false);
		ipx.on = false;
		return;
	}
	ipx.next_export_ms = gnn_clock_mono_ms() + (int64_t)ipx.cfg.interval * 1000;
	ipx.on = true;
	point_workers(true);
	GNN_LOG(INFO, "IPFIX export to %s every %u s", ipx.collector, ipx.cfg.interval);
}

/* ---- counters --------------------------------------------------------- */

void
gnn_ipfix_stats_json(json_t *datapath)
{
	uint64_t lost = ipx.records_lost;

	if (datapath == NULL)
		return;
	for (unsigned int w = 0; w < gnnd.n_workers; w++)
		lost += __atomic_load_n(&gnnd.workers[w]->flows.lost, __ATOMIC_RELAXED);
	json_object_set_new(datapath, GNN_F_IPFIX_COLLECTOR,
			    ipx.on ? json_string(ipx.collector) : json_null());
	json_object_set_new(datapath, GNN_F_IPFIX_RECORDS_SENT,
			    json_integer((json_int_t)ipx.records_sent));
	json_object_set_new(datapath, GNN_F_IPFIX_MESSAGES_SENT,
			    json_integer((json_int_t)ipx.messages_sent));
	json_object_set_new(datapath, GNN_F_IPFIX_SEND_ERRORS,
			    json_integer((json_int_t)ipx.send_errors));
	json_object_set_new(datapath, GNN_F_IPFIX_RECORDS_LOST, json_integer((json_int_t)lost));
}

/* ---- set-up ----------------------------------------------------------- */

int
gnn_ipfix_init(void)
{
	int rc;

	ipx.tsc_hz = (double)rte_get_tsc_hz();
	ipx.table = calloc(TABLE_SIZE, sizeof(*ipx.table));
	ipx.used = calloc(TABLE_FILL, sizeof(*ipx.used));
	ipx.queue = calloc(QUEUE_SIZE, sizeof(*ipx.queue));
	ipx.model = fbInfoModelAlloc();
	if (ipx.table == NULL || ipx.used == NULL || ipx.queue == NULL || ipx.model == NULL) {
		gnn_ipfix_fini();
		return -ENOMEM;
	}
	rc = gnn_loop_add_timer(DRAIN_MS, tick, NULL);
	if (rc == 0)
		rc = gnn_rules_on_publish(on_publish, NULL);
	return rc;
}

void
gnn_ipfix_stop(void)
{
	point_workers(false);
	if (!ipx.on)
		return;
	/* The workers have stopped: their caches are sent from here. */
	for (int round = 0; round < 64; round++) {
		uint32_t left = 0;

		for (unsigned int w = 0; w < gnnd.n_workers; w++)
			left += gnn_flows_flush_all(&gnnd.workers[w]->flows);
		drain_rings();
		if (left == 0)
			break;
	}
	finish_session();
	ipx.on = false;
}

void
gnn_ipfix_fini(void)
{
	session_close();
	if (ipx.model != NULL)
		fbInfoModelFree(ipx.model);
	ipx.model = NULL;
	free(ipx.table);
	free(ipx.used);
	free(ipx.queue);
	ipx.table = NULL;
	ipx.used = NULL;
	ipx.queue = NULL;
	ipx.q_len = 0;
	ipx.n_used = 0;
	ipx.on = false;
}
