/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer harness of the frame parser: the input is one Ethernet frame.
 *
 * Besides what ASan/UBSan report, the result must make sense; a broken
 * invariant traps, so libFuzzer keeps the input as a crash. The frame is
 * parsed three times: twice in place, into an info first filled with 0x00
 * and then with 0xff (so a field the parser forgets to set shows up as a
 * difference), and once from an exact-size heap copy, so that ASan reports
 * any read past frame + len.
 *
 * The same frame is then handed to gnn_parse_frame_segmented() as a chained
 * mbuf would be: only a head of it, cut at a place drawn from a hash of the
 * bytes, lies in an exact-size copy. Headers must be read from the head
 * only, and a frame judged from its head alone (TCP or other) must be judged
 * as when it is whole.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/gnn_parse.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

#define ETH_HDR_LEN  14
#define IP_PROTO_TCP 6
/* End of the source address, from the start of the IP header. */
#define IPV4_SRC_END 16
#define IPV6_SRC_END 24

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FNV-1a: where a frame is cut into head and rest, the same for each run. */
static uint32_t
hash(const uint8_t *data, size_t size)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	return h;
}

static void
check_info(const struct gnn_frame_info *info, int ret, uint32_t len)
{
	static const uint8_t zero[sizeof(info->src)];
	const char *name;

	CHECK(ret == info->kind);
	CHECK(info->kind <= GNN_PARSE_MALFORMED);

	/* A reason exactly when the frame is malformed, and a known one. */
	CHECK(info->reason < GNN_MALFORMED_MAX);
	CHECK((info->kind == GNN_PARSE_MALFORMED) == (info->reason != GNN_MALFORMED_NONE));
	name = gnn_parse_reason_name((enum gnn_malformed_reason)info->reason);
	CHECK(name != NULL && strcmp(name, "unknown") != 0);

	CHECK(info->family == 0 || info->family == 4 || info->family == 6);
	if (info->kind == GNN_PARSE_TCP) {
		CHECK(info->family == 4 || info->family == 6);
		CHECK(info->l4_proto == IP_PROTO_TCP);
	} else {
		CHECK(info->dport == 0);
	}

	/* The source was read from inside the first len bytes, behind Ethernet. */
	switch (info->family) {
	case 0:
		CHECK(memcmp(info->src, zero, sizeof(info->src)) == 0);
		break;
	case 4:
		CHECK(info->l3_offset >= ETH_HDR_LEN && info->l3_offset < len);
		CHECK((uint32_t)info->l3_offset + IPV4_SRC_END <= len);
		CHECK(memcmp(info->src + 4, zero, sizeof(info->src) - 4) == 0);
		break;
	case 6:
		CHECK(info->l3_offset >= ETH_HDR_LEN && info->l3_offset < len);
		CHECK((uint32_t)info->l3_offset + IPV6_SRC_END <= len);
		break;
	}
}

/* Parse the first head_len bytes of data, of len, as the head of a chain. */
static void
check_segmented(const uint8_t *data, uint32_t head_len, uint32_t len,
		const struct gnn_frame_info *whole)
{
	struct gnn_frame_info seg, general;
	uint8_t *head;
	int ret;

	head = malloc(head_len);
	if (head == NULL && head_len != 0)
		return;
	if (head_len != 0)
		memcpy(head, data, head_len);
	memset(&seg, 0x5a, sizeof(seg));
	ret = gnn_parse_frame_segmented(head, head_len, len, &seg);
	check_info(&seg, ret, head_len);
	if (seg.kind != GNN_PARSE_MALFORMED)
		CHECK(memcmp(&seg, whole, sizeof(seg)) == 0);
	memset(&general, 0xc3, sizeof(general));
	CHECK(gnn_parse_frame_general(head, head_len, len, &general) == ret);
	CHECK(memcmp(&seg, &general, sizeof(seg)) == 0);
	free(head);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gnn_frame_info info, again, copied;
	uint32_t len = (uint32_t)size;
	uint8_t *exact;
	int ret;

	if (size > UINT32_MAX)
		return 0;

	memset(&info, 0, sizeof(info));
	ret = gnn_parse_frame(data, len, &info);
	check_info(&info, ret, len);

	/* Deterministic, and every field written whatever info held before. */
	memset(&again, 0xff, sizeof(again));
	ret = gnn_parse_frame(data, len, &again);
	CHECK(ret == info.kind);
	CHECK(memcmp(&info, &again, sizeof(info)) == 0);

	/* malloc(0) may return NULL; the parser must not touch frame then. */
	exact = malloc(size);
	if (exact == NULL && size != 0)
		return 0;
	if (size != 0)
		memcpy(exact, data, size);
	memset(&copied, 0xa5, sizeof(copied));
	ret = gnn_parse_frame(exact, len, &copied);
	CHECK(ret == info.kind);
	CHECK(memcmp(&info, &copied, sizeof(info)) == 0);
	free(exact);

	/* A head as long as the frame is the frame itself. */
	memset(&copied, 0x3c, sizeof(copied));
	ret = gnn_parse_frame_segmented(data, len, len, &copied);
	CHECK(ret == info.kind);
	CHECK(memcmp(&info, &copied, sizeof(info)) == 0);

	/* The straight path for common frames says exactly what the long way says. */
	memset(&copied, 0x5a, sizeof(copied));
	ret = gnn_parse_frame_general(data, len, len, &copied);
	CHECK(ret == info.kind);
	CHECK(memcmp(&info, &copied, sizeof(info)) == 0);
	if (len > 0)
		check_segmented(data, hash(data, size) % len, len, &info);
	return 0;
}
