/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "datapath/reject.h"
#include "parse/gnn_parse.h"

#define REPLY_TTL    64
#define MIN_FRAME    60 /* Ethernet minimum without the FCS: pad up to it */
#define IPV4_DF	     0x4000
#define TCP_SEQ_OFF  4
#define TCP_HDR_SIZE 20

static uint32_t
syn_ack_number(const uint8_t *tcp)
{
	uint32_t seq;

	memcpy(&seq, tcp + TCP_SEQ_OFF, sizeof(seq));
	return rte_cpu_to_be_32(rte_be_to_cpu_32(seq) + 1);
}

static void
fill_tcp(struct rte_tcp_hdr *th, const struct gnn_frame_info *info, uint32_t ack)
{
	memset(th, 0, sizeof(*th));
	th->src_port = rte_cpu_to_be_16(info->dport);
	th->dst_port = rte_cpu_to_be_16(info->sport);
	th->recv_ack = ack;
	th->data_off = (TCP_HDR_SIZE / 4) << 4;
	th->tcp_flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
}

int
gnn_reject_rewrite(struct rte_mbuf *m, const struct gnn_frame_info *info)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t l3 = info->l3_offset;
	uint32_t ip_size =
		info->family == 4 ? sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr);
	uint32_t len = l3 + ip_size + TCP_HDR_SIZE;
	struct rte_ether_addr mac;
	struct rte_ether_hdr *eth;
	struct rte_tcp_hdr *th;
	uint32_t ack;

	/* The SYN's headers, and room for the reply, in the first segment. */
	if ((uint32_t)info->l4_offset + TCP_HDR_SIZE > rte_pktmbuf_data_len(m) ||
	    len > rte_pktmbuf_data_len(m) || rte_mbuf_refcnt_read(m) != 1)
		return -1;
	ack = syn_ack_number(frame + info->l4_offset);

	/* Ethernet: back to the sender; the tags and EtherType stay. */
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	mac = eth->src_addr;
	eth->src_addr = eth->dst_addr;
	eth->dst_addr = mac;

	if (info->family == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + l3);

		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + TCP_HDR_SIZE);
		ip->fragment_offset = rte_cpu_to_be_16(IPV4_DF);
		ip->time_to_live = REPLY_TTL;
		ip->next_proto_id = IPPROTO_TCP;
		memcpy(&ip->src_addr, info->dst, 4);
		memcpy(&ip->dst_addr, info->src, 4);
		th = (struct rte_tcp_hdr *)(ip + 1);
		fill_tcp(th, info, ack);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(frame + l3);

		memset(ip, 0, sizeof(*ip));
		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(TCP_HDR_SIZE);
		ip->proto = IPPROTO_TCP;
		ip->hop_limits = REPLY_TTL;
		memcpy(ip->src_addr, info->dst, 16);
		memcpy(ip->dst_addr, info->src, 16);
		th = (struct rte_tcp_hdr *)(ip + 1);
		fill_tcp(th, info, ack);
		th->cksum = rte_ipv6_udptcp_cksum(ip, th);
	}

	/* One segment of exactly the reply, padded to the Ethernet minimum. */
	if (m->next != NULL) {
		rte_pktmbuf_free(m->next);
		m->next = NULL;
		m->nb_segs = 1;
	}
	if (len < MIN_FRAME && rte_pktmbuf_data_len(m) >= MIN_FRAME) {
		memset(frame + len, 0, MIN_FRAME - len);
		len = MIN_FRAME;
	}
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	m->ol_flags = 0;
	return 0;
}
