/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Captures (pcap, pcapng) through libpcap. Each frame is parsed by
 * lib/parse as gnnd's worker parses an mbuf, with the bytes the capture
 * kept as the head and the frame's length on the wire as its length, then
 * judged in bursts of frames with the same timestamp (so first and last
 * seen are exact). Frames of the cooked and raw link types get an Ethernet
 * header made up in front of their network layer.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>

#include "audit.h"
#include "readers.h"
#include "parse/gnn_parse.h"

#define ETH_HLEN  14
#define MAX_FRAME (262144 + ETH_HLEN)

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd

/* Link types read, and how far their network layer (or Ethernet type) sits. */
enum link_kind {
	LINK_ETHERNET,
	LINK_SLL,  /* Linux cooked v1: 16 bytes, protocol at 14 */
	LINK_SLL2, /* Linux cooked v2: 20 bytes, protocol at 0 */
	LINK_RAW,  /* IP from the first byte: version tells the family */
	LINK_NULL, /* BSD loopback: 4-byte address family, host order */
	LINK_LOOP, /* OpenBSD loopback: the same in network order */
};

struct reader {
	struct audit *a;
	struct audit_input *in;
	enum link_kind link;
	/* Aligned as the judge's hash reads src and dst: in 8-byte words. */
	struct gnn_frame_info burst[GNN_JUDGE_MAX_BURST] __attribute__((aligned(64)));
	uint32_t n;
	uint64_t burst_ns;
	uint8_t synth[MAX_FRAME];
};

static int
link_of(int dlt, enum link_kind *kind)
{
	switch (dlt) {
	case DLT_EN10MB:
		*kind = LINK_ETHERNET;
		return 0;
	case DLT_LINUX_SLL:
		*kind = LINK_SLL;
		return 0;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
		*kind = LINK_SLL2;
		return 0;
#endif
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
	case DLT_IPV6:
#endif
		*kind = LINK_RAW;
		return 0;
	case DLT_NULL:
		*kind = LINK_NULL;
		return 0;
	case DLT_LOOP:
		*kind = LINK_LOOP;
		return 0;
	}
	return -1;
}

static uint16_t
family_ethertype(uint32_t af)
{
	if (af == 2)
		return ETHERTYPE_IPV4;
	/* AF_INET6 is 10 on Linux, 24, 28 or 30 on the BSDs and macOS. */
	if (af == 10 || af == 24 || af == 28 || af == 30)
		return ETHERTYPE_IPV6;
	return 0;
}

/*
 * The frame as Ethernet: data itself, or the network layer behind a
 * made-up header in r->synth. *head and *len are updated; NULL when the
 * link header itself is cut (the frame is then not judged).
 */
static const uint8_t *
as_ethernet(struct reader *r, const uint8_t *data, uint32_t *head, uint32_t *len)
{
	uint32_t hdr;
	uint16_t type;

	switch (r->link) {
	case LINK_ETHERNET:
		return data;
	case LINK_SLL:
		hdr = 16;
		if (*head < hdr)
			return NULL;
		type = (uint16_t)(data[14] << 8 | data[15]);
		break;
	case LINK_SLL2:
		hdr = 20;
		if (*head < hdr)
			return NULL;
		type = (uint16_t)(data[0] << 8 | data[1]);
		break;
	case LINK_RAW:
		hdr = 0;
		if (*head < 1)
			return NULL;
		type = (data[0] >> 4) == 4   ? ETHERTYPE_IPV4
		       : (data[0] >> 4) == 6 ? ETHERTYPE_IPV6
					     : 0;
		break;
	case LINK_NULL:
	case LINK_LOOP: {
		uint32_t af;

		hdr = 4;
		if (*head < hdr)
			return NULL;
		memcpy(&af, data, sizeof(af));
		if (r->link == LINK_LOOP)
			af = ntohl(af);
		else if (af > 0xffff)
			af = __builtin_bswap32(af); /* written on a host of the other order */
		type = family_ethertype(af);
		break;
	}
	default:
		return NULL;
	}
	memset(r->synth, 0, 12);
	r->synth[12] = (uint8_t)(type >> 8);
	r->synth[13] = (uint8_t)type;
	memcpy(r->synth + ETH_HLEN, data + hdr, *head - hdr);
	*head = *head - hdr + ETH_HLEN;
	*len = *len - hdr + ETH_HLEN;
	return r->synth;
}

static void
flush_burst(struct reader *r)
{
	if (r->n == 0)
		return;
	audit_judge(r->a, r->burst, r->n, r->burst_ns);
	r->n = 0;
}

static void
take_frame(struct reader *r, const struct pcap_pkthdr *h, const uint8_t *data)
{
	/* Nanosecond precision was asked for: tv_usec holds nanoseconds. */
	uint64_t ns = (uint64_t)h->ts.tv_sec * GNNAUDIT_NS + (uint64_t)h->ts.tv_usec;
	uint32_t head = h->caplen, len = h->len > h->caplen ? h->len : h->caplen;
	const uint8_t *frame;

	r->in->frames++;
	r->a->frames++;
	if (h->caplen < h->len)
		r->in->cut++;
	audit_saw_time(r->a, ns);
	frame = as_ethernet(r, data, &head, &len);
	if (frame == NULL) {
		r->in->link_cut++;
		return;
	}
	if (r->n > 0 && (ns != r->burst_ns || r->n == GNN_JUDGE_MAX_BURST))
		flush_burst(r);
	r->burst_ns = ns;
	gnn_parse_frame_segmented(frame, head, len, &r->burst[r->n++]);
}

/* The file's format by its first four bytes, then back to its start. */
static const char *
sniff_format(FILE *fp, const char *name)
{
	uint8_t magic[4];
	size_t got;

	if (strcmp(name, "-") == 0)
		return "capture"; /* a pipe cannot be rewound; libpcap tells pcap from pcapng */
	got = fread(magic, 1, sizeof(magic), fp);
	rewind(fp);
	if (got == 4 && magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d &&
	    magic[3] == 0x0a)
		return "pcapng";
	return "pcap";
}

void
capture_read(struct audit *a, const char *name)
{
	struct audit_input *in = audit_add_input(a, name, "pcap");
	static struct reader r;
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const uint8_t *data;
	FILE *fp;
	pcap_t *p;
	int rc, dlt;

	fp = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
	if (fp == NULL) {
		in->unreadable = true;
		audit_input_error(a, in, "%s: cannot open: %s", name, strerror(errno));
		return;
	}
	in->format = sniff_format(fp, name);
	errbuf[0] = '\0';
	p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (p == NULL) {
		if (fp != stdin)
			fclose(fp);
		if (strstr(errbuf, "truncated") != NULL) {
			in->truncated = true;
			audit_input_error(a, in, "%s: truncated after 0 frames (%s)", name, errbuf);
		} else {
			in->unreadable = true;
			audit_input_error(a, in, "%s: not a pcap or pcapng capture (%s)", name,
					  errbuf);
		}
		return;
	}
	dlt = pcap_datalink(p);
	in->link = pcap_datalink_val_to_name(dlt);
	memset(&r, 0, offsetof(struct reader, synth));
	r.a = a;
	r.in = in;
	if (link_of(dlt, &r.link) != 0) {
		in->unreadable = true;
		audit_input_error(a, in,
				  "%s: link type %s (%d) is not read: Ethernet, Linux cooked (SLL, "
				  "SLL2), raw IP and loopback are",
				  name, in->link != NULL ? in->link : "unknown", dlt);
		pcap_close(p);
		return;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1)
		take_frame(&r, h, data);
	flush_burst(&r);
	if (rc == PCAP_ERROR) {
		const char *msg = pcap_geterr(p);

		if (strstr(msg, "truncated") != NULL) {
			in->truncated = true;
			audit_input_error(a, in, "%s: truncated after %" PRIu64 " frames (%s)",
					  name, in->frames, msg);
		} else {
			in->unreadable = true;
			audit_input_error(a, in, "%s: read error after %" PRIu64 " frames (%s)",
					  name, in->frames, msg);
		}
	}
	pcap_close(p); /* closes fp too */
}
