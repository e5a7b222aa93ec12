/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Frame parser. Every read is preceded by a length check against the frame
 * (Ethernet, VLAN, IP header) or against the IP datagram (everything after
 * the IP header), and the datagram itself is checked to lie inside the frame
 * first, so nothing past frame + len is ever touched. Offsets are uint32_t:
 * the largest is bounded by 22 + 40 + 65535 + a few headers, far from wrap.
 */

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "parse/gnn_parse.h"

#define ETH_HDR_LEN	14
#define ETH_TYPE_OFF	12
#define VLAN_TAG_LEN	4 /* TCI + the next EtherType; the TPID was the previous type */
#define ETHER_TYPE_LEN	2
#define ETHER_TYPE_IPV4 0x0800
#define ETHER_TYPE_IPV6 0x86dd
#define ETHER_TYPE_VLAN 0x8100 /* 802.1Q */
#define ETHER_TYPE_QINQ 0x88a8 /* 802.1ad service tag */
/* Pre-standard service tag still sent by some switches: walked like the others
 * so that such a trunk cannot carry SMTP past the filter unjudged. */
#define ETHER_TYPE_QINQ_OLD 0x9100

#define IPV4_MIN_HDR_LEN  20
#define IPV4_SRC_OFF	  12
#define IPV4_ADDR_LEN	  4
#define IPV4_FLAG_MF	  0x2000
#define IPV4_FRAG_OFF_MSK 0x1fff

#define IPV6_HDR_LEN	  40
#define IPV6_SRC_OFF	  8
#define IPV6_ADDR_LEN	  16
#define IPV6_FRAG_OFF_MSK 0xfff8
#define IPV6_FRAG_MORE	  0x0001
#define IPV6_FRAG_HDR_LEN 8
/* Every extension header is a multiple of 8 bytes, at least 8 (AH too). */
#define IPV6_EXT_MIN_LEN 8

/* IP protocol / IPv6 next-header numbers. */
#define PROTO_HOPOPTS  0
#define PROTO_TCP      6
#define PROTO_ROUTING  43
#define PROTO_FRAGMENT 44
#define PROTO_AH       51
#define PROTO_DSTOPTS  60
#define PROTO_MH       135
#define PROTO_HIP      139
#define PROTO_SHIM6    140

#define TCP_MIN_HDR_LEN 20
#define TCP_PORTS_LEN	4  /* sport + dport: all a first fragment must carry */
#define TCP_DOFF_BYTE	12 /* data offset lives in the high nibble */
#define TCP_FLAGS_BYTE	13
#define TCP_DPORT_OFF	2

#define IPV4_DST_OFF 16
#define IPV6_DST_OFF 24

/* The judge copies and rte_acl reads this struct: keep its layout pinned. */
_Static_assert(sizeof(struct gnn_frame_info) == 48, "frame info is 48 bytes");
_Static_assert(offsetof(struct gnn_frame_info, kind) == 0, "ACL field 0 is the kind byte");
_Static_assert(offsetof(struct gnn_frame_info, src) == 8, "ACL reads src at offset 8");

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int
malformed(struct gnn_frame_info *info, enum gnn_malformed_reason reason)
{
	info->kind = GNN_PARSE_MALFORMED;
	info->reason = (uint8_t)reason;
	return info->kind;
}

static int
other(struct gnn_frame_info *info)
{
	info->kind = GNN_PARSE_OTHER;
	return info->kind;
}

/*
 * The TCP header at ip + l4_off, with dgram bytes of it inside the datagram, of which
 * the first avail are readable (avail < dgram only in a segmented frame). A
 * first fragment only has to carry the ports (what the policy needs); the
 * rest of its header may follow in the next fragment, so only a data offset
 * that did arrive is judged; what arrived must be readable, or the verdict
 * would depend on where the frame is segmented. short_frag is the reason for
 * a first fragment without the ports, which differs between IPv4 and IPv6.
 */
static int
parse_tcp(const uint8_t *ip, uint32_t l4_off, uint32_t dgram, uint32_t avail, bool first_frag,
	  enum gnn_malformed_reason short_frag, struct gnn_frame_info *info)
{
	const uint8_t *tcp = ip + l4_off;
	unsigned int doff, arrived;

	if (first_frag) {
		if (dgram < TCP_PORTS_LEN)
			return malformed(info, short_frag);
		/* The ports, and the data offset and flags when they arrived. */
		arrived = dgram > TCP_FLAGS_BYTE  ? TCP_FLAGS_BYTE + 1
			  : dgram > TCP_DOFF_BYTE ? TCP_DOFF_BYTE + 1
						  : TCP_PORTS_LEN;
		if (avail < arrived)
			return malformed(info, GNN_MALFORMED_TRUNCATED);
		if (dgram > TCP_DOFF_BYTE && (tcp[TCP_DOFF_BYTE] >> 4) * 4 < TCP_MIN_HDR_LEN)
			return malformed(info, GNN_MALFORMED_BAD_HEADER);
	} else {
		if (avail < TCP_MIN_HDR_LEN)
			return malformed(info, GNN_MALFORMED_TRUNCATED);
		doff = (tcp[TCP_DOFF_BYTE] >> 4) * 4;
		if (doff < TCP_MIN_HDR_LEN)
			return malformed(info, GNN_MALFORMED_BAD_HEADER);
		if (doff > avail)
			return malformed(info, GNN_MALFORMED_TRUNCATED);
	}
	info->sport = rd16(tcp);
	info->dport = rd16(tcp + TCP_DPORT_OFF);
	/* A first fragment may end before the flags: then none are known. */
	if (avail > TCP_FLAGS_BYTE)
		info->tcp_flags = tcp[TCP_FLAGS_BYTE];
	info->l4_offset = (uint16_t)(info->l3_offset + l4_off);
	info->kind = GNN_PARSE_TCP;
	return info->kind;
}

/*
 * ip points at the IPv4 header; rem bytes of frame follow it, of which the
 * first vis are readable (vis < rem only in a segmented frame).
 */
static int
parse_ipv4(const uint8_t *ip, uint32_t rem, uint32_t vis, struct gnn_frame_info *info)
{
	uint32_t hlen, tot;
	uint16_t frag;

	/* Even a cut header names its sender: let the policy find the member. */
	if (vis >= IPV4_SRC_OFF + IPV4_ADDR_LEN) {
		info->family = 4;
		memcpy(info->src, ip + IPV4_SRC_OFF, IPV4_ADDR_LEN);
	}
	if (vis < IPV4_MIN_HDR_LEN)
		return malformed(info, GNN_MALFORMED_TRUNCATED);
	memcpy(info->dst, ip + IPV4_DST_OFF, IPV4_ADDR_LEN);
	if ((ip[0] >> 4) != 4)
		return malformed(info, GNN_MALFORMED_BAD_HEADER);
	info->l4_proto = ip[9];
	hlen = (ip[0] & 0x0f) * 4u;
	if (hlen < IPV4_MIN_HDR_LEN)
		return malformed(info, GNN_MALFORMED_BAD_HEADER);
	if (hlen > vis)
		return malformed(info, GNN_MALFORMED_TRUNCATED);
	tot = rd16(ip + 2);
	if (tot < hlen)
		return malformed(info, GNN_MALFORMED_BAD_HEADER);
	/* Bytes past tot are Ethernet padding; fewer than tot is a cut frame. */
	if (tot > rem)
		return malformed(info, GNN_MALFORMED_TRUNCATED);
	info->ip_len = (uint16_t)tot;

	frag = rd16(ip + 6);
	/* A non-first fragment carries no port; its first fragment is judged. */
	if ((frag & IPV4_FRAG_OFF_MSK) != 0)
		return other(info);
	if (info->l4_proto != PROTO_TCP)
		return other(info);
	return parse_tcp(ip, hlen, tot - hlen, (tot < vis ? tot : vis) - hlen,
			 (frag & IPV4_FLAG_MF) != 0, GNN_MALFORMED_TINY_FRAGMENT, info);
}

/* How the length of an IPv6 extension header is encoded (0: not one). */
enum ext_kind {
	EXT_NONE = 0,
	EXT_UNITS8, /* (hdr ext len + 1) * 8: RFC 8200 options/routing, MH, HIP, shim6 */
	EXT_AH,	    /* (payload len + 2) * 4: RFC 4302 */
	EXT_FRAG,   /* fixed 8 bytes */
};

static enum ext_kind
ipv6_ext_kind(uint8_t nh)
{
	switch (nh) {
	case PROTO_HOPOPTS:
	case PROTO_ROUTING:
	case PROTO_DSTOPTS:
	case PROTO_MH:
	case PROTO_HIP:
	case PROTO_SHIM6:
		return EXT_UNITS8;
	case PROTO_AH:
		return EXT_AH;
	case PROTO_FRAGMENT:
		return EXT_FRAG;
	default:
		return EXT_NONE;
	}
}

/* ip points at the IPv6 header; rem and vis as for parse_ipv4(). */
static int
parse_ipv6(const uint8_t *ip, uint32_t rem, uint32_t vis, struct gnn_frame_info *info)
{
	unsigned int n_ext = 0;
	bool first_frag = false;
	uint32_t off, end, dgram_end, hlen;
	enum ext_kind kind;
	const uint8_t *h;
	uint16_t frag;
	uint8_t nh;

	if (vis >= IPV6_SRC_OFF + IPV6_ADDR_LEN) {
		info->family = 6;
		memcpy(info->src, ip + IPV6_SRC_OFF, IPV6_ADDR_LEN);
	}
	if (vis < IPV6_HDR_LEN)
		return malformed(info, GNN_MALFORMED_TRUNCATED);
	memcpy(info->dst, ip + IPV6_DST_OFF, IPV6_ADDR_LEN);
	if ((ip[0] >> 4) != 6)
		return malformed(info, GNN_MALFORMED_BAD_HEADER);
	/* Bytes past the payload are Ethernet padding. */
	dgram_end = IPV6_HDR_LEN + rd16(ip + 4);
	if (dgram_end > rem)
		return malformed(info, GNN_MALFORMED_TRUNCATED);
	info->ip_len = (uint16_t)(dgram_end > UINT16_MAX ? UINT16_MAX : dgram_end);
	/* The header chain must be readable; the payload may lie in later segments. */
	end = dgram_end < vis ? dgram_end : vis;

	nh = ip[6];
	off = IPV6_HDR_LEN;
	for (;;) {
		info->l4_proto = nh;
		if (nh == PROTO_TCP)
			return parse_tcp(ip, off, dgram_end - off, end - off, first_frag,
					 GNN_MALFORMED_FRAG_NO_L4, info);
		kind = ipv6_ext_kind(nh);
		if (kind == EXT_NONE)
			return other(info); /* ESP, no next header, UDP, ICMPv6 ... */
		if (n_ext == GNN_PARSE_MAX_EXT_HDRS)
			return malformed(info, GNN_MALFORMED_EXT_CHAIN);
		/* RFC 8200 4.1: hop-by-hop options only right after the IPv6 header. */
		if (nh == PROTO_HOPOPTS && n_ext != 0)
			return malformed(info, GNN_MALFORMED_BAD_HEADER);
		n_ext++;

		if (end - off < IPV6_EXT_MIN_LEN)
			break;
		h = ip + off;
		if (kind == EXT_UNITS8)
			hlen = (h[1] + 1u) * 8;
		else if (kind == EXT_AH)
			hlen = (h[1] + 2u) * 4;
		else
			hlen = IPV6_FRAG_HDR_LEN;
		if (end - off < hlen)
			break;

		if (kind == EXT_FRAG) {
			frag = rd16(h + 2);
			if ((frag & IPV6_FRAG_OFF_MSK) != 0)
				return other(info); /* non-first fragment: no port */
			/* M=0 with offset 0 is an atomic fragment: a whole datagram. */
			if ((frag & IPV6_FRAG_MORE) != 0)
				first_frag = true;
		}
		nh = h[0];
		off += hlen;
	}
	/*
	 * A header runs past the datagram. In a first fragment the sender chose
	 * to split inside the header chain, which RFC 7112 forbids; otherwise
	 * the datagram is simply cut.
	 */
	return malformed(info, first_frag ? GNN_MALFORMED_FRAG_NO_L4 : GNN_MALFORMED_TRUNCATED);
}

int
gnn_parse_frame(const uint8_t *frame, uint32_t len, struct gnn_frame_info *info)
{
	return gnn_parse_frame_segmented(frame, len, len, info);
}

/*
 * The common frames, straight through: IPv4 without options or IPv6 without
 * extension headers, untagged or under one 802.1Q tag; TCP (not a fragment,
 * a sane header, all in the head) or another protocol (UDP, ICMP...). Each fills info exactly as
 * the general path would and returns true; false sends the frame down the general path, which
 * judges every case.
 */
static inline bool
fast_tcp(const uint8_t *tcp, uint32_t off, uint32_t ip_hdr, uint32_t dgram, uint32_t len,
	 struct gnn_frame_info *info)
{
	uint32_t doff = (tcp[TCP_DOFF_BYTE] >> 4) * 4u;

	/* the TCP header whole in the datagram and in the head */
	if (doff < TCP_MIN_HDR_LEN || doff > dgram - ip_hdr || off + ip_hdr + doff > len)
		return false;
	info->kind = GNN_PARSE_TCP;
	info->l4_proto = PROTO_TCP;
	info->n_tags = off != ETH_HDR_LEN;
	info->l3_offset = (uint16_t)off;
	info->l4_offset = (uint16_t)(off + ip_hdr);
	info->sport = rd16(tcp);
	info->dport = rd16(tcp + TCP_DPORT_OFF);
	info->tcp_flags = tcp[TCP_FLAGS_BYTE];
	return true;
}

/* Not TCP (UDP, ICMP...): nothing past the IP header matters. */
static inline void
fast_other(uint32_t off, uint8_t proto, struct gnn_frame_info *info)
{
	info->kind = GNN_PARSE_OTHER;
	info->l4_proto = proto;
	info->n_tags = off != ETH_HDR_LEN;
	info->l3_offset = (uint16_t)off;
}

static inline bool
parse_fast(const uint8_t *frame, uint32_t len, uint32_t frame_len, struct gnn_frame_info *info)
{
	uint32_t off = ETH_HDR_LEN, tot;
	uint16_t type = rd16(frame + ETH_TYPE_OFF);
	const uint8_t *ip;

	if (type == ETHER_TYPE_VLAN) {
		if (len < ETH_HDR_LEN + VLAN_TAG_LEN)
			return false;
		type = rd16(frame + ETH_TYPE_OFF + VLAN_TAG_LEN);
		off += VLAN_TAG_LEN;
	}
	ip = frame + off;
	if (type == ETHER_TYPE_IPV4) {
		if (len < off + IPV4_MIN_HDR_LEN + TCP_MIN_HDR_LEN)
			return false;
		tot = rd16(ip + 2);
		if (ip[9] != PROTO_TCP) {
			/* UDP, ICMP...: version 4, IHL 5, the datagram in the frame */
			if (ip[0] != 0x45 || tot < IPV4_MIN_HDR_LEN || tot > frame_len - off)
				return false;
			fast_other(off, ip[9], info);
		} else if (ip[0] != 0x45 ||
			   (rd16(ip + 6) & (IPV4_FLAG_MF | IPV4_FRAG_OFF_MSK)) != 0 ||
			   tot < IPV4_MIN_HDR_LEN + TCP_MIN_HDR_LEN || tot > frame_len - off ||
			   !fast_tcp(ip + IPV4_MIN_HDR_LEN, off, IPV4_MIN_HDR_LEN, tot, len,
				     info)) {
			/* TCP: version 4, IHL 5; no MF, no offset; the datagram in the frame */
			return false;
		}
		info->family = 4;
		info->ip_len = (uint16_t)tot;
		memcpy(info->src, ip + IPV4_SRC_OFF, IPV4_ADDR_LEN);
		memcpy(info->dst, ip + IPV4_DST_OFF, IPV4_ADDR_LEN);
		return true;
	}
	if (type == ETHER_TYPE_IPV6) {
		if (len < off + IPV6_HDR_LEN + TCP_MIN_HDR_LEN)
			return false;
		tot = IPV6_HDR_LEN + rd16(ip + 4);
		/* version 6; TCP, or no extension header, right after the header;
		 * the datagram in the frame */
		if ((ip[0] >> 4) != 6 || tot > frame_len - off)
			return false;
		if (ip[6] != PROTO_TCP) {
			if (ipv6_ext_kind(ip[6]) != EXT_NONE)
				return false;
			fast_other(off, ip[6], info);
		} else if (tot < IPV6_HDR_LEN + TCP_MIN_HDR_LEN ||
			   !fast_tcp(ip + IPV6_HDR_LEN, off, IPV6_HDR_LEN, tot, len, info)) {
			return false;
		}
		info->family = 6;
		info->ip_len = (uint16_t)(tot > UINT16_MAX ? UINT16_MAX : tot);
		memcpy(info->src, ip + IPV6_SRC_OFF, IPV6_ADDR_LEN);
		memcpy(info->dst, ip + IPV6_DST_OFF, IPV6_ADDR_LEN);
		return true;
	}
	return false;
}

int
gnn_parse_frame_segmented(const uint8_t *frame, uint32_t head_len, uint32_t frame_len,
			  struct gnn_frame_info *info)
{
	uint32_t len = head_len < frame_len ? head_len : frame_len;

	*info = (struct gnn_frame_info){0};
	if (len >= ETH_HDR_LEN && parse_fast(frame, len, frame_len, info))
		return info->kind;
	return gnn_parse_frame_general(frame, head_len, frame_len, info);
}

int
gnn_parse_frame_general(const uint8_t *frame, uint32_t head_len, uint32_t frame_len,
			struct gnn_frame_info *info)
{
	/* Headers are read from the head only; lengths are judged on the frame. */
	uint32_t len = head_len < frame_len ? head_len : frame_len;
	uint32_t off = ETH_TYPE_OFF;
	unsigned int tags = 0;
	uint16_t type;

	*info = (struct gnn_frame_info){0};
	if (len < ETH_HDR_LEN)
		return malformed(info, GNN_MALFORMED_TRUNCATED);

	type = rd16(frame + off);
	while (type == ETHER_TYPE_VLAN || type == ETHER_TYPE_QINQ || type == ETHER_TYPE_QINQ_OLD) {
		/* Deeper stacks hide the source from us: refuse them outright. */
		if (tags == GNN_PARSE_MAX_VLAN)
			return malformed(info, GNN_MALFORMED_VLAN_DEPTH);
		tags++;
		info->n_tags = (uint8_t)tags;
		off += VLAN_TAG_LEN;
		if (len < off + ETHER_TYPE_LEN)
			return malformed(info, GNN_MALFORMED_TRUNCATED);
		type = rd16(frame + off);
	}
	off += ETHER_TYPE_LEN;

	switch (type) {
	case ETHER_TYPE_IPV4:
		info->l3_offset = (uint16_t)off;
		return parse_ipv4(frame + off, frame_len - off, len - off, info);
	case ETHER_TYPE_IPV6:
		info->l3_offset = (uint16_t)off;
		return parse_ipv6(frame + off, frame_len - off, len - off, info);
	default:
		return other(info); /* ARP, LLDP, MPLS, 802.3 lengths ... */
	}
}

const char *
gnn_parse_reason_name(enum gnn_malformed_reason reason)
{
	static const char *const names[GNN_MALFORMED_MAX] = {
		[GNN_MALFORMED_NONE] = "none",
		[GNN_MALFORMED_VLAN_DEPTH] = "vlan_depth",
		[GNN_MALFORMED_TRUNCATED] = "truncated",
		[GNN_MALFORMED_BAD_HEADER] = "bad_header",
		[GNN_MALFORMED_TINY_FRAGMENT] = "tiny_fragment",
		[GNN_MALFORMED_FRAG_NO_L4] = "frag_no_l4",
		[GNN_MALFORMED_EXT_CHAIN] = "ext_chain",
	};

	if ((unsigned int)reason >= GNN_MALFORMED_MAX)
		return "unknown";
	return names[reason];
}
