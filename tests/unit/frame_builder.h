/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Frame builders shared by the unit tests (test_parse.c, test_acl.c):
 * Ethernet frames are assembled header by header in a struct frame on the
 * stack, each builder appending zeroed bytes with push() and filling in
 * what it needs. A test may define FRAME_MAX before including this file.
 */

#ifndef GNN_TESTS_FRAME_BUILDER_H
#define GNN_TESTS_FRAME_BUILDER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#ifndef FRAME_MAX
#define FRAME_MAX 1024
#endif

#define ET_IPV4 0x0800
#define ET_IPV6 0x86dd
#define ET_ARP	0x0806
#define ET_LLDP 0x88cc
#define ET_MPLS 0x8847
#define ET_VLAN 0x8100
#define ET_QINQ 0x88a8

#define P_HOPOPTS  0
#define P_ICMP	   1
#define P_TCP	   6
#define P_UDP	   17
#define P_ROUTING  43
#define P_FRAGMENT 44
#define P_ESP	   50
#define P_AH	   51
#define P_ICMPV6   58
#define P_NONE	   59
#define P_DSTOPTS  60
#define P_MH	   135
#define P_HIP	   139
#define P_SHIM6	   140

#define V4_MF 0x2000
#define V4_DF 0x4000

struct frame {
	uint8_t b[FRAME_MAX];
	uint32_t len;
};

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Appends n zeroed bytes and returns them. */
static inline uint8_t *
push(struct frame *f, uint32_t n)
{
	uint8_t *p;

	assert_true(f->len + n <= FRAME_MAX);
	p = f->b + f->len;
	memset(p, 0, n);
	f->len += n;
	return p;
}

/* Starts f over: Ethernet header with n_tags VLAN tags (TPIDs given, VID
 * 100 + i). */
static inline void
eth(struct frame *f, const uint16_t *tpids, unsigned int n_tags, uint16_t type)
{
	static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
	unsigned int i;
	uint8_t *p;

	f->len = 0;
	memcpy(push(f, 12), macs, sizeof(macs));
	for (i = 0; i < n_tags; i++) {
		p = push(f, 4);
		wr16(p, tpids[i]);
		wr16(p + 2, (uint16_t)(100 + i));
	}
	wr16(push(f, 2), type);
}

/* IPv4 header of ihl words (options filled with NOPs) from src to dst; its
 * total length covers the header only. Returns its offset. */
static inline uint32_t
ipv4_hdr(struct frame *f, unsigned int ihl, uint8_t proto, uint16_t frag, const uint8_t *src,
	 const uint8_t *dst)
{
	uint32_t l3 = f->len;
	uint32_t hlen = (ihl < 5 ? 5 : ihl) * 4;
	uint8_t *p = push(f, hlen);

	p[0] = (uint8_t)(0x40 | (ihl & 0x0f));
	wr16(p + 2, (uint16_t)hlen);
	wr16(p + 4, 0x1234);
	wr16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	memset(p + 20, 1, hlen - 20); /* NOP options */
	return l3;
}

/* Sets the IPv4 total length to cover everything pushed since l3. */
static inline void
ipv4_finish(struct frame *f, uint32_t l3)
{
	wr16(f->b + l3 + 2, (uint16_t)(f->len - l3));
}

/* IPv6 header from src to dst, next header nh; returns its offset. */
static inline uint32_t
ipv6_hdr(struct frame *f, uint8_t nh, const uint8_t *src, const uint8_t *dst)
{
	uint32_t l3 = f->len;
	uint8_t *p = push(f, 40);

	p[0] = 0x60;
	p[6] = nh;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	return l3;
}

/* Sets the IPv6 payload length to cover everything pushed after the header. */
static inline void
ipv6_finish(struct frame *f, uint32_t l3)
{
	wr16(f->b + l3 + 4, (uint16_t)(f->len - l3 - 40));
}

/* TCP SYN from port 40000, header of doff words (at least 20 bytes pushed,
 * options filled with NOPs); returns its offset. */
static inline uint32_t
tcp(struct frame *f, uint16_t dport, unsigned int doff)
{
	uint32_t l4 = f->len;
	uint32_t hlen = (doff < 5 ? 5 : doff) * 4;
	uint8_t *p = push(f, hlen);

	wr16(p, 40000);
	wr16(p + 2, dport);
	p[12] = (uint8_t)(doff << 4);
	p[13] = 0x02; /* SYN */
	wr16(p + 14, 65535);
	memset(p + 20, 1, hlen - 20);
	return l4;
}

#endif /* GNN_TESTS_FRAME_BUILDER_H */
