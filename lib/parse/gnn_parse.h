/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_PARSE_H
#define GNN_PARSE_H

/*
 * Frame parser: turns the bytes of one Ethernet frame into the few facts the
 * policy needs (source address, transport protocol, destination port) or a
 * reason why the frame cannot be judged. Plain C, no EAL, no allocation:
 * callable from any lcore.
 */

#include <stdint.h>

/* VLAN tags (0x8100 / 0x88a8) walked before a frame counts as too deep. */
#define GNN_PARSE_MAX_VLAN 2
/* IPv6 extension headers walked before the chain counts as too long. */
#define GNN_PARSE_MAX_EXT_HDRS 8

enum gnn_parse_kind {
	/* Not judged by the policy: non-IP, non-TCP, non-first fragment. */
	GNN_PARSE_OTHER = 0,
	/* TCP header (or, in a first fragment, its ports) reached: dport valid. */
	GNN_PARSE_TCP,
	/* Cannot be judged: reason set; src valid when family != 0. */
	GNN_PARSE_MALFORMED,
};

enum gnn_malformed_reason {
	GNN_MALFORMED_NONE = 0,
	GNN_MALFORMED_VLAN_DEPTH,    /* more tags than the parser walks; no source */
	GNN_MALFORMED_TRUNCATED,     /* a header or length runs past the frame end */
	GNN_MALFORMED_BAD_HEADER,    /* impossible field: IHL < 5, TCP offset < 5 ... */
	GNN_MALFORMED_TINY_FRAGMENT, /* IPv4 first fragment without the TCP ports */
	GNN_MALFORMED_FRAG_NO_L4,    /* IPv6 first fragment without the TCP header */
	GNN_MALFORMED_EXT_CHAIN,     /* IPv6 extension chain beyond the limit */
	GNN_MALFORMED_MAX
};

/* TCP flags the judge looks at (tcp_flags). */
#define GNN_TCP_FIN 0x01
#define GNN_TCP_SYN 0x02
#define GNN_TCP_RST 0x04
#define GNN_TCP_ACK 0x10

/*
 * Result of parsing one frame. The layout is fixed: rte_acl reads the source
 * address straight from this struct (see acl/gnn_acl.c), so src stays at
 * offset 8 and the first byte is a one-byte field; the judge copies whole
 * structs, so it stays 48 bytes (see the static asserts in gnn_parse.c).
 */
struct gnn_frame_info {
	uint8_t kind;	       /* enum gnn_parse_kind */
	uint8_t reason;	       /* enum gnn_malformed_reason, when kind == MALFORMED */
	uint8_t family;	       /* 0 (no source known), 4 or 6 */
	uint8_t l4_proto;      /* IP protocol / last next-header reached, 0 if none */
	uint16_t dport;	       /* TCP destination port, host order, when kind == TCP */
	uint16_t l3_offset;    /* offset of the IP header in the frame */
	uint8_t src[16];       /* source address, network order; IPv4 in src[0..3] */
	uint8_t dst[16];       /* destination address, when the IP header was whole */
	uint16_t sport;	       /* TCP source port, host order, when kind == TCP */
	uint16_t l4_offset;    /* offset of the TCP header in the frame, when kind == TCP */
	uint16_t ip_len;       /* IP datagram length (header included), when known */
	uint8_t tcp_flags;     /* GNN_TCP_*, when kind == TCP and the flags arrived */
	uint8_t n_tags;	       /* VLAN tags walked */
} __attribute__((aligned(8))); /* addresses are read as 64-bit words (hashes, rte_acl) */

/*
 * Parse one frame of len bytes. Never reads past frame + len. Always fills
 * info and returns info->kind.
 * Any lcore, lock-free.
 */
int gnn_parse_frame(const uint8_t *frame, uint32_t len, struct gnn_frame_info *info);

/*
 * The same for a frame of frame_len bytes whose first head_len bytes are
 * contiguous at frame (the first segment of a chained mbuf). Headers must
 * lie in the head; datagram lengths are judged against frame_len.
 * Any lcore, lock-free.
 */
int gnn_parse_frame_segmented(const uint8_t *frame, uint32_t head_len, uint32_t frame_len,
			      struct gnn_frame_info *info);

/*
 * The same without the straight path for common frames: every frame the
 * long way. gnn_parse_frame_segmented() must fill info exactly as this does
 * (the fuzzer checks it). Any lcore, lock-free.
 */
int gnn_parse_frame_general(const uint8_t *frame, uint32_t head_len, uint32_t frame_len,
			    struct gnn_frame_info *info);

/* Short stable name of a malformed reason ("truncated"), for stats/logs. */
const char *gnn_parse_reason_name(enum gnn_malformed_reason reason);

#endif /* GNN_PARSE_H */
