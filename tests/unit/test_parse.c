/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Unit tests of the frame parser. Frames are built on the stack by small
 * builders; every parse goes through parse() which hands the parser an
 * exact-size heap copy, so under -fsanitize=address any read past
 * frame + len is reported.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse/gnn_parse.h"

#include "frame_builder.h"

/* Documentation addresses only (RFC 5737, RFC 3849). */
static const uint8_t src4[4] = {192, 0, 2, 10};
static const uint8_t dst4[4] = {198, 51, 100, 25};
static const uint8_t src6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
static const uint8_t dst6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25};
static const uint8_t zero16[16];

/* ---- frame builders ---------------------------------------------------- */
/* Those of frame_builder.h, and these with this file's addresses. */

static void
eth_plain(struct frame *f, uint16_t type)
{
	eth(f, NULL, 0, type);
}

/* IPv4 header of ihl words from src4 to dst4; returns its offset. */
static uint32_t
ipv4(struct frame *f, unsigned int ihl, uint8_t proto, uint16_t frag)
{
	return ipv4_hdr(f, ihl, proto, frag, src4, dst4);
}

static void
payload(struct frame *f, uint32_t n)
{
	memset(push(f, n), 'x', n);
}

/* IPv6 header from src6 to dst6; returns its offset. */
static uint32_t
ipv6(struct frame *f, uint8_t nh)
{
	return ipv6_hdr(f, nh, src6, dst6);
}

/* Options-style extension header (HBH, routing, dstopts, MH, HIP, shim6). */
static void
ext(struct frame *f, uint8_t nh, uint8_t hdrlen)
{
	uint8_t *p = push(f, (hdrlen + 1u) * 8);

	p[0] = nh;
	p[1] = hdrlen;
	p[2] = 1; /* PadN covering the rest */
	p[3] = (uint8_t)((hdrlen + 1u) * 8 - 4);
}

static void
ah(struct frame *f, uint8_t nh, uint8_t plen)
{
	uint8_t *p = push(f, (plen + 2u) * 4);

	p[0] = nh;
	p[1] = plen;
	p[7] = 1; /* SPI */
}

static void
frag6(struct frame *f, uint8_t nh, uint16_t offset8, int more)
{
	uint8_t *p = push(f, 8);

	p[0] = nh;
	wr16(p + 2, (uint16_t)(offset8 << 3 | (more ? 1 : 0)));
	p[7] = 42; /* identification */
}

/* ---- checks ----------------------------------------------------------- */

/* Parses an exact-size heap copy of the first len bytes of f. */
static int
parse_len(const struct frame *f, uint32_t len, struct gnn_frame_info *info)
{
	uint8_t *copy = malloc(len);
	int kind;

	assert_non_null(copy);
	memcpy(copy, f->b, len);
	memset(info, 0xa5, sizeof(*info)); /* the parser must overwrite it all */
	kind = gnn_parse_frame(copy, len, info);
	free(copy);
	assert_int_equal(kind, info->kind);
	/* Invariants of every result. */
	assert_true(info->kind <= GNN_PARSE_MALFORMED);
	assert_true(info->reason < GNN_MALFORMED_MAX);
	assert_true((info->kind == GNN_PARSE_MALFORMED) == (info->reason != GNN_MALFORMED_NONE));
	assert_true(info->family == 0 || info->family == 4 || info->family == 6);
	if (info->kind != GNN_PARSE_TCP)
		assert_int_equal(info->dport, 0);
	if (info->family == 0)
		assert_memory_equal(info->src, zero16, 16);
	if (info->family == 4)
		assert_memory_equal(info->src + 4, zero16, 12);
	return kind;
}

static int
parse(const struct frame *f, struct gnn_frame_info *info)
{
	return parse_len(f, f->len, info);
}

static void
check_src(const struct gnn_frame_info *info, int family)
{
	assert_int_equal(info->family, family);
	if (family == 4)
		assert_memory_equal(info->src, src4, 4);
	else if (family == 6)
		assert_memory_equal(info->src, src6, 16);
}

static void
expect_tcp(const struct frame *f, int family, uint16_t dport, uint32_t l3)
{
	struct gnn_frame_info info;

	assert_int_equal(parse(f, &info), GNN_PARSE_TCP);
	assert_int_equal(info.reason, GNN_MALFORMED_NONE);
	assert_int_equal(info.dport, dport);
	assert_int_equal(info.l4_proto, P_TCP);
	assert_int_equal(info.l3_offset, l3);
	check_src(&info, family);
}

static void
expect_malformed(const struct frame *f, enum gnn_malformed_reason reason, int family)
{
	struct gnn_frame_info info;

	assert_int_equal(parse(f, &info), GNN_PARSE_MALFORMED);
	assert_int_equal(info.reason, reason);
	check_src(&info, family);
}

static void
expect_other(const struct frame *f, int family, uint8_t l4_proto)
{
	struct gnn_frame_info info;

	assert_int_equal(parse(f, &info), GNN_PARSE_OTHER);
	assert_int_equal(info.reason, GNN_MALFORMED_NONE);
	assert_int_equal(info.l4_proto, l4_proto);
	check_src(&info, family);
}

/* Standard frames used by several tests. */
static uint32_t
build_v4_tcp(struct frame *f, const uint16_t *tpids, unsigned int n_tags, uint16_t dport)
{
	uint32_t l3;

	eth(f, tpids, n_tags, ET_IPV4);
	l3 = ipv4(f, 5, P_TCP, V4_DF);
	tcp(f, dport, 5);
	ipv4_finish(f, l3);
	return l3;
}

static uint32_t
build_v6_tcp(struct frame *f, const uint16_t *tpids, unsigned int n_tags, uint16_t dport)
{
	uint32_t l3;

	eth(f, tpids, n_tags, ET_IPV6);
	l3 = ipv6(f, P_TCP);
	tcp(f, dport, 5);
	ipv6_finish(f, l3);
	return l3;
}

/* ---- Segmented frames (chained mbufs) ---------------------------------- */

/* Headers in the head, the datagram's length judged on the whole frame. */
static void
test_segmented_frame_judged_on_whole_length(void **state)
{
	struct gnn_frame_info info;
	struct frame f;
	uint32_t l3;

	(void)state;
	eth(&f, NULL, 0, ET_IPV4);
	l3 = ipv4(&f, 5, P_TCP, V4_DF);
	tcp(&f, 25, 5);
	payload(&f, 900);
	ipv4_finish(&f, l3);
	assert_int_equal(gnn_parse_frame_segmented(f.b, 200, f.len, &info), GNN_PARSE_TCP);
	assert_int_equal(info.dport, 25);
	/* The whole frame shorter than the datagram is still a cut frame. */
	assert_int_equal(gnn_parse_frame_segmented(f.b, 200, f.len - 1, &info),
			 GNN_PARSE_MALFORMED);
	assert_int_equal(info.reason, GNN_MALFORMED_TRUNCATED);
	/* A head that ends inside the IP header cannot be judged. */
	assert_int_equal(gnn_parse_frame_segmented(f.b, 30, f.len, &info), GNN_PARSE_MALFORMED);
	assert_int_equal(info.reason, GNN_MALFORMED_TRUNCATED);

	eth(&f, NULL, 0, ET_IPV6);
	l3 = ipv6(&f, P_TCP);
	tcp(&f, 25, 5);
	payload(&f, 900);
	ipv6_finish(&f, l3);
	assert_int_equal(gnn_parse_frame_segmented(f.b, 200, f.len, &info), GNN_PARSE_TCP);
	assert_int_equal(info.dport, 25);
	assert_int_equal(info.family, 6);
}

/* A first fragment's bad data offset must not hide behind a short head. */
static void
test_segmented_first_fragment_needs_its_header_in_the_head(void **state)
{
	struct gnn_frame_info info;
	struct frame f;
	uint32_t l3;

	(void)state;
	eth(&f, NULL, 0, ET_IPV4);
	l3 = ipv4(&f, 5, P_TCP, V4_MF);
	tcp(&f, 25, 0); /* impossible data offset */
	ipv4_finish(&f, l3);
	assert_int_equal(gnn_parse_frame(f.b, f.len, &info), GNN_PARSE_MALFORMED);
	assert_int_equal(info.reason, GNN_MALFORMED_BAD_HEADER);
	/* Head ends after the ports, before the data offset: still not judged TCP. */
	assert_int_equal(gnn_parse_frame_segmented(f.b, l3 + 20 + 8, f.len, &info),
			 GNN_PARSE_MALFORMED);
	assert_int_equal(info.reason, GNN_MALFORMED_TRUNCATED);
}

/* ---- Ethernet and VLAN ------------------------------------------------ */

static void
test_eth_shorter_than_14_is_truncated_without_source(void **state)
{
	struct gnn_frame_info info;
	struct frame f;
	uint32_t len;

	(void)state;
	build_v4_tcp(&f, NULL, 0, 25);
	for (len = 0; len < 14; len++) {
		assert_int_equal(parse_len(&f, len, &info), GNN_PARSE_MALFORMED);
		assert_int_equal(info.reason, GNN_MALFORMED_TRUNCATED);
		assert_int_equal(info.family, 0);
		assert_int_equal(info.l3_offset, 0);
		assert_int_equal(info.l4_proto, 0);
	}
}

static void
test_untagged_ipv4_and_ipv6_tcp25(void **state)
{
	struct frame f;

	(void)state;
	expect_tcp(&f, 4, 25, build_v4_tcp(&f, NULL, 0, 25));
	expect_tcp(&f, 6, 25, build_v6_tcp(&f, NULL, 0, 25));
	assert_int_equal(build_v4_tcp(&f, NULL, 0, 25), 14);
}

static void
test_one_tag_8100_or_88a8_is_walked(void **state)
{
	static const uint16_t tpids[] = {ET_VLAN, ET_QINQ};
	struct frame f;
	unsigned int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		assert_int_equal(build_v4_tcp(&f, &tpids[i], 1, 25), 18);
		expect_tcp(&f, 4, 25, 18);
		assert_int_equal(build_v6_tcp(&f, &tpids[i], 1, 25), 18);
		expect_tcp(&f, 6, 25, 18);
	}
}

static void
test_two_tags_any_combination_are_walked(void **state)
{
	/* 802.1ad + 802.1Q, two 802.1Q, and the unusual orders too. */
	static const uint16_t combos[4][2] = {
		{ET_QINQ, ET_VLAN}, {ET_VLAN, ET_VLAN}, {ET_QINQ, ET_QINQ}, {ET_VLAN, ET_QINQ}};
	struct frame f;
	unsigned int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		assert_int_equal(build_v4_tcp(&f, combos[i], 2, 25), 22);
		expect_tcp(&f, 4, 25, 22);
		assert_int_equal(build_v6_tcp(&f, combos[i], 2, 587), 22);
		expect_tcp(&f, 6, 587, 22);
	}
}

static void
test_three_tags_is_vlan_depth_without_source(void **state)
{
	struct frame f;
	uint16_t tpids[3];
	unsigned int m;
	uint32_t len;
	struct gnn_frame_info info;

	(void)state;
	for (m = 0; m < 8; m++) {
		tpids[0] = (m & 1) ? ET_QINQ : ET_VLAN;
		tpids[1] = (m & 2) ? ET_QINQ : ET_VLAN;
		tpids[2] = (m & 4) ? ET_QINQ : ET_VLAN;
		build_v4_tcp(&f, tpids, 3, 25);
		expect_malformed(&f, GNN_MALFORMED_VLAN_DEPTH, 0);
		build_v6_tcp(&f, tpids, 3, 25);
		expect_malformed(&f, GNN_MALFORMED_VLAN_DEPTH, 0);
	}
	/* The third TPID alone is enough to know: the rest may be cut. */
	for (len = 22; len < f.len; len++) {
		assert_int_equal(parse_len(&f, len, &info), GNN_PARSE_MALFORMED);
		assert_int_equal(info.reason, GNN_MALFORMED_VLAN_DEPTH);
		assert_int_equal(info.family, 0);
	}
}

static void
test_vlan_tag_cut_short_is_truncated(void **state)
{
	static const uint16_t tpids[2] = {ET_QINQ, ET_VLAN};
	struct gnn_frame_info info;
	struct frame f;
	uint32_t len;

	(void)state;
	build_v4_tcp(&f, tpids, 2, 25);
	for (len = 14; len < 22; len++) {
		assert_int_equal(parse_len(&f, len, &info), GNN_PARSE_MALFORMED);
		assert_int_equal(info.reason, GNN_MALFORMED_TRUNCATED);
		assert_int_equal(info.family, 0);
	}
}

static void
test_vlan_id_zero_priority_tag_is_a_tag(void **state)
{
	static const uint16_t tpid = ET_VLAN;
	struct frame f;

	(void)state;
	build_v4_tcp(&f, &tpid, 1, 25);
	wr16(f.b + 14, 0xa000); /* PCP 5, VID 0 */
	expect_tcp(&f, 4, 25, 18);
}

/* The pre-standard 0x9100 service tag is walked too: it must not hide SMTP. */
static void
test_old_qinq_tag_is_walked(void **state)
{
	static const uint16_t tpids[] = {0x9100, ET_VLAN};
	struct frame f;

	(void)state;
	build_v4_tcp(&f, tpids, 2, 25);
	expect_tcp(&f, 4, 25, 22);
}

static void
test_non_ip_ethertypes_are_other(void **state)
{
	static const uint16_t types[] = {ET_ARP, ET_LLDP, ET_MPLS, 0x8848, 0x88e5, 0x002e};
	static const uint16_t tpid = ET_VLAN;
	struct gnn_frame_info info;
	struct frame f;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		eth_plain(&f, types[i]);
		payload(&f, 46);
		expect_other(&f, 0, 0);
		eth(&f, &tpid, 1, types[i]);
		payload(&f, 46);
		expect_other(&f, 0, 0);
		/* No IP: nothing past the EtherType is needed, even none. */
		eth_plain(&f, types[i]);
		assert_int_equal(parse(&f, &info), GNN_PARSE_OTHER);
		assert_int_equal(info.l3_offset, 0);
	}
}

/* ---- IPv4 ------------------------------------------------------------- */

static void
test_ipv4_ihl_5_to_15_reaches_port_25_and_587(void **state)
{
	static const uint16_t ports[] = {25, 587};
	struct frame f;
	unsigned int ihl, i;
	uint32_t l3;

	(void)state;
	for (ihl = 5; ihl <= 15; ihl++) {
		for (i = 0; i < 2; i++) {
			eth_plain(&f, ET_IPV4);
			l3 = ipv4(&f, ihl, P_TCP, 0);
			tcp(&f, ports[i], 5);
			payload(&f, 10);
			ipv4_finish(&f, l3);
			expect_tcp(&f, 4, ports[i], 14);
		}
	}
}

static void
test_ipv4_ihl_below_5_is_bad_header_with_source(void **state)
{
	struct frame f;
	unsigned int ihl;
	uint32_t l3;

	(void)state;
	for (ihl = 0; ihl < 5; ihl++) {
		eth_plain(&f, ET_IPV4);
		l3 = ipv4(&f, ihl, P_TCP, 0);
		tcp(&f, 25, 5);
		/* Make the bytes at l3 + ihl * 4 pass as a TCP header if trusted. */
		if (ihl >= 2)
			f.b[l3 + ihl * 4 + 12] = 0x50;
		ipv4_finish(&f, l3);
		expect_malformed(&f, GNN_MALFORMED_BAD_HEADER, 4);
	}
}

static void
test_ipv4_version_not_4_is_bad_header(void **state)
{
	struct frame f;
	uint8_t v;

	(void)state;
	for (v = 0; v < 16; v++) {
		if (v == 4)
			continue;
		build_v4_tcp(&f, NULL, 0, 25);
		f.b[14] = (uint8_t)(v << 4 | 5);
		expect_malformed(&f, GNN_MALFORMED_BAD_HEADER, 4);
		/* A cut header is truncated whatever its version says. */
		f.len = 14 + 19;
		expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 4);
	}
}

static void
test_ipv4_source_known_once_its_bytes_are_in_the_frame(void **state)
{
	struct gnn_frame_info info;
	struct frame f;
	uint32_t len;

	(void)state;
	build_v4_tcp(&f, NULL, 0, 25);
	for (len = 14; len < 14 + 20; len++) {
		assert_int_equal(parse_len(&f, len, &info), GNN_PARSE_MALFORMED);
		assert_int_equal(info.reason, GNN_MALFORMED_TRUNCATED);
		assert_int_equal(info.l3_offset, 14);
		check_src(&info, len >= 14 + 16 ? 4 : 0);
	}
}

static void
test_ipv4_ihl_past_frame_end_is_truncated(void **state)
{
	struct frame f;
	uint32_t l3;

	(void)state;
	/* IHL 15 (60 bytes) but the frame ends after 24 IP bytes. */
	eth_plain(&f, ET_IPV4);
	l3 = ipv4(&f, 6, P_TCP, 0);
	f.b[l3] = 0x4f;
	wr16(f.b + l3 + 2, 24);
	expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 4);
}

static void
test_ipv4_total_length_below_ihl_is_bad_header(void **state)
{
	struct frame f;
	uint32_t l3;
	uint16_t tot;

	(void)state;
	for (tot = 0; tot < 24; tot++) {
		eth_plain(&f, ET_IPV4);
		l3 = ipv4(&f, 6, P_TCP, 0);
		tcp(&f, 25, 5);
		wr16(f.b + l3 + 2, tot);
		expect_malformed(&f, GNN_MALFORMED_BAD_HEADER, 4);
	}
}

static void
test_ipv4_total_length_past_frame_end_is_truncated(void **state)
{
	struct frame f;
	uint32_t l3;

	(void)state;
	eth_plain(&f, ET_IPV4);
	l3 = ipv4(&f, 5, P_TCP, 0);
	tcp(&f, 25, 5);
	wr16(f.b + l3 + 2, (uint16_t)(f.len - l3 + 1));
	expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 4);
	wr16(f.b + l3 + 2, 0xffff);
	expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 4);
	/* Not even a fragment or another protocol escapes a cut datagram. */
	wr16(f.b + l3 + 6, 100);
	f.b[l3 + 9] = P_UDP;
	expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 4);
}

static void
test_ipv4_ethernet_padding_after_total_length_is_ignored(void **state)
{
	struct frame f;
	uint32_t l3;

	(void)state;
	build_v4_tcp(&f, NULL, 0, 25); /* 54 bytes: padded to the 60-byte minimum */
	memset(push(&f, 6), 0xff, 6);
	expect_tcp(&f, 4, 25, 14);
	/* Padding is never taken as TCP header: 12 TCP bytes + 20 of padding. */
	eth_plain(&f, ET_IPV4);
	l3 = ipv4(&f, 5, P_TCP, 0);
	tcp(&f, 25, 5);
	wr16(f.b + l3 + 2, 20 + 12);
	expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 4);
	/* Padding does not lend bytes to TCP options either (doff 6, 20 in datagram). */
	eth_plain(&f, ET_IPV4);
	l3 = ipv4(&f, 5, P_TCP, 0);
	tcp(&f, 25, 6);
	wr16(f.b + l3 + 2, 20 + 20);
	expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 4);
}

static void
test_ipv4_tiny_first_fragment_needs_the_ports(void **state)
{
	struct gnn_frame_info info;
	struct frame f;
	uint32_t l3, cut;

	(void)state;
	for (cut = 0; cut <= 20; cut++) {
		eth_plain(&f, ET_IPV4);
		l3 = ipv4(&f, 5, P_TCP, V4_MF);
		tcp(&f, 25, 5);
		f.len = l3 + 20 + cut;
		ipv4_finish(&f, l3);
		assert_int_equal(parse(&f, &info), cut < 4 ? GNN_PARSE_MALFORMED : GNN_PARSE_TCP);
		if (cut < 4) {
			assert_int_equal(info.reason, GNN_MALFORMED_TINY_FRAGMENT);
		} else {
			assert_int_equal(info.dport, 25);
		}
		check_src(&info, 4);
		assert_int_equal(info.l4_proto, P_TCP);
	}
	/* The same with IP options in front of the TCP bytes. */
	for (cut = 0; cut <= 8; cut++) {
		eth_plain(&f, ET_IPV4);
		l3 = ipv4(&f, 15, P_TCP, V4_MF | V4_DF);
		tcp(&f, 25, 5);
		f.len = l3 + 60 + cut;
		ipv4_finish(&f, l3);
		if (cut < 4)
			expect_malformed(&f, GNN_MALFORMED_TINY_FRAGMENT, 4);
		else
			expect_tcp(&f, 4, 25, 14);
	}
}

static void
test_ipv4_first_fragment_doff_below_5_is_bad_header_once_visible(void **state)
{
	struct frame f;
	uint32_t l3, cut;

	(void)state;
	for (cut = 4; cut <= 20; cut++) {
		eth_plain(&f, ET_IPV4);
		l3 = ipv4(&f, 5, P_TCP, V4_MF);
		tcp(&f, 25, 3);
		f.len = l3 + 20 + cut;
		ipv4_finish(&f, l3);
		if (cut >= 13)
			expect_malformed(&f, GNN_MALFORMED_BAD_HEADER, 4);
		else
			expect_tcp(&f, 4, 25, 14); /* offset byte not carried */
	}
	/* A first fragment with a valid doff larger than what it carries is fine. */
	eth_plain(&f, ET_IPV4);
	l3 = ipv4(&f, 5, P_TCP, V4_MF);
	tcp(&f, 25, 15);
	f.len = l3 + 20 + 24;
	ipv4_finish(&f, l3);
	expect_tcp(&f, 4, 25, 14);
}

static void
test_ipv4_non_first_fragments_are_other(void **state)
{
	/* Every bit of the 13-bit offset counts. */
	static const uint16_t offsets[] = {1, 2, 185, 0x1000, 0x1fff};
	struct frame f;
	unsigned int i, mf;
	uint32_t l3;

	(void)state;
	for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		for (mf = 0; mf < 2; mf++) {
			/* Bytes that would look like TCP to port 25: no port here. */
			eth_plain(&f, ET_IPV4);
			l3 = ipv4(&f, 5, P_TCP, (uint16_t)(offsets[i] | (mf ? V4_MF : 0)));
			tcp(&f, 25, 5);
			ipv4_finish(&f, l3);
			expect_other(&f, 4, P_TCP);
			/* Even with fewer than 4 bytes after the header. */
			f.len = l3 + 21;
			ipv4_finish(&f, l3);
			expect_other(&f, 4, P_TCP);
		}
	}
}

static void
test_ipv4_df_alone_is_not_a_fragment(void **state)
{
	struct frame f;
	uint32_t l3;

	(void)state;
	eth_plain(&f, ET_IPV4);
	l3 = ipv4(&f, 5, P_TCP, V4_DF);
	tcp(&f, 25, 5);
	ipv4_finish(&f, l3);
	expect_tcp(&f, 4, 25, 14);
	f.len -= 1; /* a whole datagram needs the whole TCP header */
	ipv4_finish(&f, l3);
	expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 4);
}

static void
test_ipv4_non_tcp_is_other_with_source_and_protocol(void **state)
{
	static const uint8_t protos[] = {P_UDP, P_ICMP, P_ESP, 47, 132, 0, 255};
	struct frame f;
	unsigned int i;
	uint32_t l3;

	(void)state;
	for (i = 0; i < sizeof(protos); i++) {
		eth_plain(&f, ET_IPV4);
		l3 = ipv4(&f, 5, protos[i], 0);
		tcp(&f, 25, 5); /* a UDP header to 25 is still not TCP */
		ipv4_finish(&f, l3);
		expect_other(&f, 4, protos[i]);
		/* Nothing after the IP header is needed for a non-TCP protocol. */
		f.len = l3 + 20;
		ipv4_finish(&f, l3);
		expect_other(&f, 4, protos[i]);
	}
}

static void
test_ipv4_tcp_header_cut_inside_datagram_is_truncated(void **state)
{
	struct frame f;
	uint32_t l3, cut;

	(void)state;
	for (cut = 0; cut < 20; cut++) {
		eth_plain(&f, ET_IPV4);
		l3 = ipv4(&f, 5, P_TCP, 0);
		tcp(&f, 25, 5);
		f.len = l3 + 20 + cut;
		ipv4_finish(&f, l3);
		expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 4);
	}
}

static void
test_tcp_doff_below_5_is_bad_header(void **state)
{
	struct frame f;
	unsigned int doff;
	uint32_t l3;

	(void)state;
	for (doff = 0; doff < 5; doff++) {
		eth_plain(&f, ET_IPV4);
		l3 = ipv4(&f, 5, P_TCP, 0);
		tcp(&f, 25, doff);
		ipv4_finish(&f, l3);
		expect_malformed(&f, GNN_MALFORMED_BAD_HEADER, 4);

		eth_plain(&f, ET_IPV6);
		l3 = ipv6(&f, P_TCP);
		tcp(&f, 25, doff);
		ipv6_finish(&f, l3);
		expect_malformed(&f, GNN_MALFORMED_BAD_HEADER, 6);
	}
}

static void
test_tcp_options_doff_6_to_15_reach_dport(void **state)
{
	struct frame f;
	unsigned int doff;
	uint32_t l3;

	(void)state;
	for (doff = 5; doff <= 15; doff++) {
		eth_plain(&f, ET_IPV4);
		l3 = ipv4(&f, 5, P_TCP, 0);
		tcp(&f, 25, doff);
		ipv4_finish(&f, l3);
		expect_tcp(&f, 4, 25, 14);
		/* One byte of options missing from the datagram. */
		f.len -= 1;
		ipv4_finish(&f, l3);
		expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 4);

		eth_plain(&f, ET_IPV6);
		l3 = ipv6(&f, P_TCP);
		tcp(&f, 25, doff);
		ipv6_finish(&f, l3);
		expect_tcp(&f, 6, 25, 14);
		f.len -= 1;
		ipv6_finish(&f, l3);
		expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 6);
	}
}

static void
test_dport_is_host_order(void **state)
{
	static const uint16_t ports[] = {25, 587, 465, 2525, 0, 0x1900, 0xffff};
	struct frame f;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		expect_tcp(&f, 4, ports[i], build_v4_tcp(&f, NULL, 0, ports[i]));
		expect_tcp(&f, 6, ports[i], build_v6_tcp(&f, NULL, 0, ports[i]));
	}
}

/* ---- IPv6 ------------------------------------------------------------- */

static void
test_ipv6_plain_tcp_to_25_and_587(void **state)
{
	struct frame f;

	(void)state;
	expect_tcp(&f, 6, 25, build_v6_tcp(&f, NULL, 0, 25));
	expect_tcp(&f, 6, 587, build_v6_tcp(&f, NULL, 0, 587));
}

static void
test_ipv6_source_known_once_its_bytes_are_in_the_frame(void **state)
{
	struct gnn_frame_info info;
	struct frame f;
	uint32_t len;

	(void)state;
	build_v6_tcp(&f, NULL, 0, 25);
	for (len = 14; len < 14 + 40; len++) {
		assert_int_equal(parse_len(&f, len, &info), GNN_PARSE_MALFORMED);
		assert_int_equal(info.reason, GNN_MALFORMED_TRUNCATED);
		assert_int_equal(info.l3_offset, 14);
		check_src(&info, len >= 14 + 24 ? 6 : 0);
	}
}

static void
test_ipv6_version_not_6_is_bad_header(void **state)
{
	struct frame f;
	uint8_t v;

	(void)state;
	for (v = 0; v < 16; v++) {
		if (v == 6)
			continue;
		build_v6_tcp(&f, NULL, 0, 25);
		f.b[14] = (uint8_t)(v << 4);
		expect_malformed(&f, GNN_MALFORMED_BAD_HEADER, 6);
		f.len = 14 + 39;
		expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 6);
	}
}

static void
test_ipv6_payload_length_past_frame_end_is_truncated(void **state)
{
	struct frame f;
	uint32_t l3;

	(void)state;
	l3 = build_v6_tcp(&f, NULL, 0, 25);
	wr16(f.b + l3 + 4, 21);
	expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 6);
	wr16(f.b + l3 + 4, 0xffff);
	expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 6);
	f.b[l3 + 6] = P_UDP; /* the length is judged before the protocol */
	expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 6);
}

static void
test_ipv6_padding_after_payload_is_ignored(void **state)
{
	struct frame f;
	uint32_t l3;

	(void)state;
	build_v6_tcp(&f, NULL, 0, 25);
	memset(push(&f, 8), 0xff, 8);
	expect_tcp(&f, 6, 25, 14);
	/* Payload length 12: the TCP header is cut even though bytes follow. */
	l3 = build_v6_tcp(&f, NULL, 0, 25);
	wr16(f.b + l3 + 4, 12);
	expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 6);
	/* Payload length 0 with a TCP next header: nothing to read. */
	wr16(f.b + l3 + 4, 0);
	expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 6);
}

static void
test_ipv6_single_extension_header_of_each_type_reaches_tcp(void **state)
{
	static const uint8_t types[] = {P_HOPOPTS, P_ROUTING, P_DSTOPTS, P_MH, P_HIP, P_SHIM6};
	struct frame f;
	unsigned int i;
	uint8_t hdrlen;
	uint32_t l3;

	(void)state;
	for (i = 0; i < sizeof(types); i++) {
		for (hdrlen = 0; hdrlen < 4; hdrlen++) {
			eth_plain(&f, ET_IPV6);
			l3 = ipv6(&f, types[i]);
			ext(&f, P_TCP, hdrlen);
			tcp(&f, 25, 5);
			ipv6_finish(&f, l3);
			expect_tcp(&f, 6, 25, 14);
		}
	}
	/* AH: length in 4-byte units minus 2 (RFC 4302). */
	for (hdrlen = 0; hdrlen < 8; hdrlen += 2) {
		eth_plain(&f, ET_IPV6);
		l3 = ipv6(&f, P_AH);
		ah(&f, P_TCP, (uint8_t)(4 + hdrlen));
		tcp(&f, 25, 5);
		ipv6_finish(&f, l3);
		expect_tcp(&f, 6, 25, 14);
	}
}

static void
test_ipv6_ah_length_is_in_4_byte_units(void **state)
{
	struct frame f;
	uint32_t l3;

	(void)state;
	/* AH payload len 4 = 24 bytes; read as 8-byte units it would be 40. */
	eth_plain(&f, ET_IPV6);
	l3 = ipv6(&f, P_AH);
	ah(&f, P_TCP, 4);
	tcp(&f, 25, 5);
	ipv6_finish(&f, l3);
	expect_tcp(&f, 6, 25, 14);
	/* AH payload len 5 = 28 bytes (not 8-aligned; IPv4-style ICV). */
	eth_plain(&f, ET_IPV6);
	l3 = ipv6(&f, P_AH);
	ah(&f, P_TCP, 5);
	tcp(&f, 587, 5);
	ipv6_finish(&f, l3);
	expect_tcp(&f, 6, 587, 14);
}

static void
test_ipv6_hop_by_hop_not_first_is_bad_header(void **state)
{
	struct frame f;
	uint32_t l3;

	(void)state;
	eth_plain(&f, ET_IPV6);
	l3 = ipv6(&f, P_DSTOPTS);
	ext(&f, P_HOPOPTS, 0);
	ext(&f, P_TCP, 0);
	tcp(&f, 25, 5);
	ipv6_finish(&f, l3);
	expect_malformed(&f, GNN_MALFORMED_BAD_HEADER, 6);

	eth_plain(&f, ET_IPV6);
	l3 = ipv6(&f, P_HOPOPTS);
	ext(&f, P_HOPOPTS, 0);
	ext(&f, P_TCP, 0);
	tcp(&f, 25, 5);
	ipv6_finish(&f, l3);
	expect_malformed(&f, GNN_MALFORMED_BAD_HEADER, 6);
}

static void
test_ipv6_first_fragment_reaching_tcp_is_tcp(void **state)
{
	struct frame f;
	uint32_t l3;

	(void)state;
	eth_plain(&f, ET_IPV6);
	l3 = ipv6(&f, P_FRAGMENT);
	frag6(&f, P_TCP, 0, 1);
	tcp(&f, 25, 5);
	payload(&f, 64);
	ipv6_finish(&f, l3);
	expect_tcp(&f, 6, 25, 14);
	/* With unfragmentable headers in front and one after. */
	eth_plain(&f, ET_IPV6);
	l3 = ipv6(&f, P_HOPOPTS);
	ext(&f, P_ROUTING, 0);
	ext(&f, P_FRAGMENT, 1);
	frag6(&f, P_DSTOPTS, 0, 1);
	ext(&f, P_TCP, 0);
	tcp(&f, 25, 5);
	ipv6_finish(&f, l3);
	expect_tcp(&f, 6, 25, 14);
}

static void
test_ipv6_non_first_fragment_is_other(void **state)
{
	static const uint16_t offsets[] = {1, 185, 0x1000, 0x1fff};
	struct frame f;
	unsigned int i, m;
	uint32_t l3;

	(void)state;
	for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		for (m = 0; m < 2; m++) {
			eth_plain(&f, ET_IPV6);
			l3 = ipv6(&f, P_FRAGMENT);
			frag6(&f, P_TCP, offsets[i], (int)m);
			tcp(&f, 25, 5);
			ipv6_finish(&f, l3);
			expect_other(&f, 6, P_FRAGMENT);
			/* Nothing after the fragment header is needed. */
			f.len = l3 + 48;
			ipv6_finish(&f, l3);
			expect_other(&f, 6, P_FRAGMENT);
		}
	}
}

static void
test_ipv6_atomic_fragment_is_a_whole_datagram(void **state)
{
	struct frame f;
	uint32_t l3;

	(void)state;
	eth_plain(&f, ET_IPV6);
	l3 = ipv6(&f, P_FRAGMENT);
	frag6(&f, P_TCP, 0, 0);
	tcp(&f, 25, 5);
	ipv6_finish(&f, l3);
	expect_tcp(&f, 6, 25, 14);
	/* So a short TCP header in it is truncation, not a fragment problem. */
	f.len -= 10;
	ipv6_finish(&f, l3);
	expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 6);
	f.len = l3 + 48;
	ipv6_finish(&f, l3);
	expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 6);
}

/* IPv6 frame with n extension headers (HBH first, then a mix) then TCP. */
static uint32_t
build_v6_chain(struct frame *f, const uint16_t *tpids, unsigned int n_tags, unsigned int n,
	       uint16_t dport)
{
	/* Every walked type at least once; fragment headers here are atomic. */
	static const uint8_t mix[] = {
		P_ROUTING, P_DSTOPTS, P_AH,	 P_FRAGMENT, P_MH,
		P_HIP,	   P_SHIM6,   P_DSTOPTS, P_ROUTING,  P_AH,
	};
	uint8_t types[16];
	unsigned int i;
	uint32_t l3;
	uint8_t nh;

	assert_true(n <= 11);
	types[0] = P_HOPOPTS;
	for (i = 1; i < n; i++)
		types[i] = mix[i - 1];
	eth(f, tpids, n_tags, ET_IPV6);
	l3 = ipv6(f, n ? types[0] : P_TCP);
	for (i = 0; i < n; i++) {
		nh = i + 1 < n ? types[i + 1] : P_TCP;
		if (types[i] == P_AH)
			ah(f, nh, 4);
		else if (types[i] == P_FRAGMENT)
			frag6(f, nh, 0, 0); /* atomic: the datagram is whole */
		else
			ext(f, nh, (uint8_t)(i & 1));
	}
	tcp(f, dport, 5);
	payload(f, 16);
	ipv6_finish(f, l3);
	return l3;
}

static void
test_ipv6_chains_of_1_to_8_headers_reach_tcp(void **state)
{
	struct frame f;
	unsigned int n;

	(void)state;
	for (n = 0; n <= GNN_PARSE_MAX_EXT_HDRS; n++) {
		expect_tcp(&f, 6, 25, build_v6_chain(&f, NULL, 0, n, 25));
		expect_tcp(&f, 6, 587, build_v6_chain(&f, NULL, 0, n, 587));
	}
}

static void
test_ipv6_chain_of_9_or_more_headers_is_ext_chain(void **state)
{
	struct frame f;
	unsigned int n;

	(void)state;
	for (n = GNN_PARSE_MAX_EXT_HDRS + 1; n <= 11; n++) {
		build_v6_chain(&f, NULL, 0, n, 25);
		expect_malformed(&f, GNN_MALFORMED_EXT_CHAIN, 6);
	}
	/* Nine destination options headers ending in UDP: still too long. */
	{
		uint32_t l3;
		unsigned int i;

		eth_plain(&f, ET_IPV6);
		l3 = ipv6(&f, P_DSTOPTS);
		for (i = 0; i < 9; i++)
			ext(&f, i < 8 ? P_DSTOPTS : P_UDP, 0);
		payload(&f, 8);
		ipv6_finish(&f, l3);
		expect_malformed(&f, GNN_MALFORMED_EXT_CHAIN, 6);
	}
}

static void
test_ipv6_first_fragment_chain_not_reaching_tcp_is_frag_no_l4(void **state)
{
	struct frame f;
	uint32_t l3, cut;

	(void)state;
	/* RFC 7112: the fragment ends inside a destination options header. */
	eth_plain(&f, ET_IPV6);
	l3 = ipv6(&f, P_FRAGMENT);
	frag6(&f, P_DSTOPTS, 0, 1);
	ext(&f, P_TCP, 3);
	tcp(&f, 25, 5);
	for (cut = 0; cut < 32; cut++) {
		f.len = l3 + 48 + cut;
		ipv6_finish(&f, l3);
		expect_malformed(&f, GNN_MALFORMED_FRAG_NO_L4, 6);
	}
	/* Ends right after the fragment header, or before the TCP ports. */
	for (cut = 0; cut <= 20; cut++) {
		eth_plain(&f, ET_IPV6);
		l3 = ipv6(&f, P_FRAGMENT);
		frag6(&f, P_TCP, 0, 1);
		tcp(&f, 25, 5);
		f.len = l3 + 48 + cut;
		ipv6_finish(&f, l3);
		if (cut < 4)
			expect_malformed(&f, GNN_MALFORMED_FRAG_NO_L4, 6);
		else
			expect_tcp(&f, 6, 25, 14);
	}
	/* doff < 5 is judged once the byte arrived. */
	eth_plain(&f, ET_IPV6);
	l3 = ipv6(&f, P_FRAGMENT);
	frag6(&f, P_TCP, 0, 1);
	tcp(&f, 25, 4);
	f.len = l3 + 48 + 13;
	ipv6_finish(&f, l3);
	expect_malformed(&f, GNN_MALFORMED_BAD_HEADER, 6);
	/* Without a fragment header, a chain cut short is plain truncation. */
	eth_plain(&f, ET_IPV6);
	l3 = ipv6(&f, P_DSTOPTS);
	ext(&f, P_TCP, 3);
	f.len = l3 + 40 + 16;
	ipv6_finish(&f, l3);
	expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 6);
	/* A header before the fragment header cut short: not yet a fragment. */
	eth_plain(&f, ET_IPV6);
	l3 = ipv6(&f, P_HOPOPTS);
	ext(&f, P_FRAGMENT, 2);
	frag6(&f, P_TCP, 0, 1);
	f.len = l3 + 40 + 16;
	ipv6_finish(&f, l3);
	expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 6);
}

static void
test_ipv6_fragment_header_cut_short_is_truncated(void **state)
{
	struct frame f;
	uint32_t l3, cut;

	(void)state;
	for (cut = 0; cut < 8; cut++) {
		eth_plain(&f, ET_IPV6);
		l3 = ipv6(&f, P_FRAGMENT);
		frag6(&f, P_TCP, 0, 1);
		f.len = l3 + 40 + cut;
		ipv6_finish(&f, l3);
		expect_malformed(&f, GNN_MALFORMED_TRUNCATED, 6);
	}
}

static void
test_ipv6_non_tcp_upper_layers_are_other(void **state)
{
	static const uint8_t protos[] = {P_NONE, P_ESP, P_ICMPV6, P_UDP, 132, 4, 41, 255};
	struct frame f;
	unsigned int i;
	uint32_t l3;

	(void)state;
	for (i = 0; i < sizeof(protos); i++) {
		eth_plain(&f, ET_IPV6);
		l3 = ipv6(&f, protos[i]);
		ipv6_finish(&f, l3);
		expect_other(&f, 6, protos[i]);
		/* Behind a chain, in a first fragment. */
		eth_plain(&f, ET_IPV6);
		l3 = ipv6(&f, P_HOPOPTS);
		ext(&f, P_FRAGMENT, 0);
		frag6(&f, protos[i], 0, 1);
		payload(&f, 8);
		ipv6_finish(&f, l3);
		expect_other(&f, 6, protos[i]);
	}
}

/* ---- truncation sweeps ------------------------------------------------ */

/*
 * Every prefix of a valid frame that ends inside the Ethernet, VLAN, IP or
 * TCP headers, or anywhere in the IP datagram, must be MALFORMED: the length
 * fields say more is coming. Only bytes past the datagram (padding) may go.
 * The source is known exactly when its bytes are inside the prefix.
 */
static void
sweep(const struct frame *f, uint32_t l3, int family, uint32_t datagram_end, int full_kind,
      uint16_t dport)
{
	struct gnn_frame_info info;
	uint32_t len, src_end;
	int kind;

	src_end = l3 + (family == 4 ? 16 : 24);
	for (len = 0; len < f->len; len++) {
		kind = parse_len(f, len, &info);
		if (len >= datagram_end) {
			assert_int_equal(kind, full_kind);
			if (kind == GNN_PARSE_TCP)
				assert_int_equal(info.dport, dport);
			check_src(&info, family);
			continue;
		}
		assert_int_equal(kind, GNN_PARSE_MALFORMED);
		assert_int_equal(info.reason, GNN_MALFORMED_TRUNCATED);
		check_src(&info, len >= src_end ? family : 0);
	}
}

static void
test_truncation_sweep_ipv4_plain(void **state)
{
	struct frame f;
	uint32_t l3;

	(void)state;
	l3 = build_v4_tcp(&f, NULL, 0, 25);
	sweep(&f, l3, 4, f.len, GNN_PARSE_TCP, 25);
	expect_tcp(&f, 4, 25, l3);
}

static void
test_truncation_sweep_ipv4_options_tcp_options_payload(void **state)
{
	static const uint16_t tpid = ET_VLAN;
	struct frame f;
	uint32_t l3;

	(void)state;
	eth(&f, &tpid, 1, ET_IPV4);
	l3 = ipv4(&f, 15, P_TCP, 0);
	tcp(&f, 25, 15);
	payload(&f, 100);
	ipv4_finish(&f, l3);
	sweep(&f, l3, 4, f.len, GNN_PARSE_TCP, 25);
	expect_tcp(&f, 4, 25, l3);
}

static void
test_truncation_sweep_ipv4_padded_frame(void **state)
{
	struct frame f;
	uint32_t l3, end;

	(void)state;
	/* Prefixes that only lose padding are still whole datagrams. */
	l3 = build_v4_tcp(&f, NULL, 0, 25);
	end = f.len;
	memset(push(&f, 10), 0, 10);
	sweep(&f, l3, 4, end, GNN_PARSE_TCP, 25);
}

static void
test_truncation_sweep_ipv4_fragments(void **state)
{
	struct frame f;
	uint32_t l3;

	(void)state;
	/* First fragment: a cut inside the datagram is truncation, not tiny. */
	eth_plain(&f, ET_IPV4);
	l3 = ipv4(&f, 6, P_TCP, V4_MF);
	tcp(&f, 25, 5);
	ipv4_finish(&f, l3);
	sweep(&f, l3, 4, f.len, GNN_PARSE_TCP, 25);
	/* Non-first fragment. */
	eth_plain(&f, ET_IPV4);
	l3 = ipv4(&f, 5, P_TCP, 100);
	payload(&f, 40);
	ipv4_finish(&f, l3);
	sweep(&f, l3, 4, f.len, GNN_PARSE_OTHER, 0);
}

static void
test_truncation_sweep_ipv6_extension_chain(void **state)
{
	struct frame f;
	uint32_t l3;

	(void)state;
	l3 = build_v6_chain(&f, NULL, 0, GNN_PARSE_MAX_EXT_HDRS, 25);
	sweep(&f, l3, 6, f.len, GNN_PARSE_TCP, 25);
	expect_tcp(&f, 6, 25, l3);
}

static void
test_truncation_sweep_qinq_ipv6(void **state)
{
	static const uint16_t tpids[2] = {ET_QINQ, ET_VLAN};
	struct frame f;
	uint32_t l3;

	(void)state;
	l3 = build_v6_chain(&f, tpids, 2, 3, 25);
	sweep(&f, l3, 6, f.len, GNN_PARSE_TCP, 25);
	l3 = build_v6_tcp(&f, tpids, 2, 587);
	sweep(&f, l3, 6, f.len, GNN_PARSE_TCP, 587);
}

static void
test_truncation_sweep_ipv6_first_fragment(void **state)
{
	struct frame f;
	uint32_t l3;

	(void)state;
	eth_plain(&f, ET_IPV6);
	l3 = ipv6(&f, P_HOPOPTS);
	ext(&f, P_FRAGMENT, 0);
	frag6(&f, P_DSTOPTS, 0, 1);
	ext(&f, P_TCP, 1);
	tcp(&f, 25, 5);
	payload(&f, 8);
	ipv6_finish(&f, l3);
	sweep(&f, l3, 6, f.len, GNN_PARSE_TCP, 25);
}

/*
 * Arbitrary bytes behind an IP EtherType, at every length: the parser must
 * stay inside the frame (ASan) and keep the result invariants (parse_len).
 */
static void
test_random_bytes_never_read_past_the_frame(void **state)
{
	static const uint16_t types[] = {ET_IPV4, ET_IPV6, ET_VLAN, ET_QINQ};
	uint32_t x = 0x12345678, len, i, j;
	struct gnn_frame_info info;
	struct frame f;

	(void)state;
	for (i = 0; i < 20000; i++) {
		for (j = 0; j < 200; j++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			f.b[j] = (uint8_t)x;
		}
		f.len = 200;
		wr16(f.b + 12, types[x % 4]);
		wr16(f.b + 16, types[(x >> 2) % 2]);
		/* Plausible headers so the deep paths are reached too. */
		f.b[14] = (x & 0x100) ? 0x45 : 0x60;
		f.b[18] = (x & 0x200) ? 0x45 : 0x60;
		len = (x >> 8) % 201;
		parse_len(&f, len, &info);
	}
}

/* ---- reason names ----------------------------------------------------- */

static void
test_reason_names_are_stable(void **state)
{
	(void)state;
	assert_string_equal(gnn_parse_reason_name(GNN_MALFORMED_NONE), "none");
	assert_string_equal(gnn_parse_reason_name(GNN_MALFORMED_VLAN_DEPTH), "vlan_depth");
	assert_string_equal(gnn_parse_reason_name(GNN_MALFORMED_TRUNCATED), "truncated");
	assert_string_equal(gnn_parse_reason_name(GNN_MALFORMED_BAD_HEADER), "bad_header");
	assert_string_equal(gnn_parse_reason_name(GNN_MALFORMED_TINY_FRAGMENT), "tiny_fragment");
	assert_string_equal(gnn_parse_reason_name(GNN_MALFORMED_FRAG_NO_L4), "frag_no_l4");
	assert_string_equal(gnn_parse_reason_name(GNN_MALFORMED_EXT_CHAIN), "ext_chain");
	assert_string_equal(gnn_parse_reason_name(GNN_MALFORMED_MAX), "unknown");
	assert_string_equal(gnn_parse_reason_name((enum gnn_malformed_reason)200), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eth_shorter_than_14_is_truncated_without_source),
		cmocka_unit_test(test_untagged_ipv4_and_ipv6_tcp25),
		cmocka_unit_test(test_one_tag_8100_or_88a8_is_walked),
		cmocka_unit_test(test_two_tags_any_combination_are_walked),
		cmocka_unit_test(test_three_tags_is_vlan_depth_without_source),
		cmocka_unit_test(test_old_qinq_tag_is_walked),
		cmocka_unit_test(test_segmented_frame_judged_on_whole_length),
		cmocka_unit_test(test_segmented_first_fragment_needs_its_header_in_the_head),
		cmocka_unit_test(test_vlan_tag_cut_short_is_truncated),
		cmocka_unit_test(test_vlan_id_zero_priority_tag_is_a_tag),
		cmocka_unit_test(test_non_ip_ethertypes_are_other),
		cmocka_unit_test(test_ipv4_ihl_5_to_15_reaches_port_25_and_587),
		cmocka_unit_test(test_ipv4_ihl_below_5_is_bad_header_with_source),
		cmocka_unit_test(test_ipv4_version_not_4_is_bad_header),
		cmocka_unit_test(test_ipv4_source_known_once_its_bytes_are_in_the_frame),
		cmocka_unit_test(test_ipv4_ihl_past_frame_end_is_truncated),
		cmocka_unit_test(test_ipv4_total_length_below_ihl_is_bad_header),
		cmocka_unit_test(test_ipv4_total_length_past_frame_end_is_truncated),
		cmocka_unit_test(test_ipv4_ethernet_padding_after_total_length_is_ignored),
		cmocka_unit_test(test_ipv4_tiny_first_fragment_needs_the_ports),
		cmocka_unit_test(test_ipv4_first_fragment_doff_below_5_is_bad_header_once_visible),
		cmocka_unit_test(test_ipv4_non_first_fragments_are_other),
		cmocka_unit_test(test_ipv4_df_alone_is_not_a_fragment),
		cmocka_unit_test(test_ipv4_non_tcp_is_other_with_source_and_protocol),
		cmocka_unit_test(test_ipv4_tcp_header_cut_inside_datagram_is_truncated),
		cmocka_unit_test(test_tcp_doff_below_5_is_bad_header),
		cmocka_unit_test(test_tcp_options_doff_6_to_15_reach_dport),
		cmocka_unit_test(test_dport_is_host_order),
		cmocka_unit_test(test_ipv6_plain_tcp_to_25_and_587),
		cmocka_unit_test(test_ipv6_source_known_once_its_bytes_are_in_the_frame),
		cmocka_unit_test(test_ipv6_version_not_6_is_bad_header),
		cmocka_unit_test(test_ipv6_payload_length_past_frame_end_is_truncated),
		cmocka_unit_test(test_ipv6_padding_after_payload_is_ignored),
		cmocka_unit_test(test_ipv6_single_extension_header_of_each_type_reaches_tcp),
		cmocka_unit_test(test_ipv6_ah_length_is_in_4_byte_units),
		cmocka_unit_test(test_ipv6_hop_by_hop_not_first_is_bad_header),
		cmocka_unit_test(test_ipv6_first_fragment_reaching_tcp_is_tcp),
		cmocka_unit_test(test_ipv6_non_first_fragment_is_other),
		cmocka_unit_test(test_ipv6_atomic_fragment_is_a_whole_datagram),
		cmocka_unit_test(test_ipv6_chains_of_1_to_8_headers_reach_tcp),
		cmocka_unit_test(test_ipv6_chain_of_9_or_more_headers_is_ext_chain),
		cmocka_unit_test(test_ipv6_first_fragment_chain_not_reaching_tcp_is_frag_no_l4),
		cmocka_unit_test(test_ipv6_fragment_header_cut_short_is_truncated),
		cmocka_unit_test(test_ipv6_non_tcp_upper_layers_are_other),
		cmocka_unit_test(test_truncation_sweep_ipv4_plain),
		cmocka_unit_test(test_truncation_sweep_ipv4_options_tcp_options_payload),
		cmocka_unit_test(test_truncation_sweep_ipv4_padded_frame),
		cmocka_unit_test(test_truncation_sweep_ipv4_fragments),
		cmocka_unit_test(test_truncation_sweep_ipv6_extension_chain),
		cmocka_unit_test(test_truncation_sweep_qinq_ipv6),
		cmocka_unit_test(test_truncation_sweep_ipv6_first_fragment),
		cmocka_unit_test(test_random_bytes_never_read_past_the_frame),
		cmocka_unit_test(test_reason_names_are_stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
