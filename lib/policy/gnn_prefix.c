/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address prefixes: text <-> struct gnn_prefix, and containment. The text
 * forms are what inet_pton/inet_ntop accept and print, plus an optional
 * "/len"; nothing looser (no "10/8", no octal, no zone ids).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gnn_policy.h"

/* Longest text we look at: a full IPv6 address plus "/128" fits easily. */
#define PREFIX_TEXT_MAX 64

static const uint8_t v4mapped_head[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static unsigned int
family_bits(uint8_t family)
{
	return family == 4 ? 32 : 128;
}

/* Decimal 0..999 without sign, spaces or leading zeros; -1 otherwise. */
static int
parse_len(const char *s)
{
	int v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Zero every bit after the first len; true when one of them was set. */
static bool
mask_host_bits(uint8_t *addr, unsigned int len, unsigned int bits)
{
	bool was_set = false;

	for (unsigned int i = len; i < bits; i++) {
		uint8_t bit = 0x80 >> (i % 8);

		if (addr[i / 8] & bit) {
			was_set = true;
			addr[i / 8] &= ~bit;
		}
	}
	return was_set;
}

int
gnn_prefix_parse_reason(const char *text, struct gnn_prefix *prefix, bool *host_bits_set,
			const char **reason)
{
	char buf[PREFIX_TEXT_MAX];
	struct gnn_prefix p;
	const char *why;
	char *slash;
	int len;

	if (host_bits_set != NULL)
		*host_bits_set = false;
	if (text == NULL || prefix == NULL) {
		why = "no prefix given";
		goto invalid;
	}
	if (text[0] == '\0') {
		why = "empty address";
		goto invalid;
	}
	if (strlen(text) >= sizeof(buf)) {
		why = "not an IPv4 or IPv6 address";
		goto invalid;
	}
	memcpy(buf, text, strlen(text) + 1);

	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';

	memset(&p, 0, sizeof(p));
	/* A colon means IPv6; this keeps "::ffff:1.2.3.4" out of the IPv4 path. */
	if (strchr(buf, ':') != NULL) {
		if (inet_pton(AF_INET6, buf, p.addr) != 1) {
			why = "not an IPv4 or IPv6 address";
			goto invalid;
		}
		p.family = 6;
	} else {
		if (inet_pton(AF_INET, buf, p.addr) != 1) {
			why = "not an IPv4 or IPv6 address";
			goto invalid;
		}
		p.family = 4;
	}

	if (slash == NULL) {
		len = (int)family_bits(p.family);
	} else {
		len = parse_len(slash + 1);
		if (len < 0) {
			why = "prefix length is not a number";
			goto invalid;
		}
		if ((unsigned int)len > family_bits(p.family)) {
			why = p.family == 4 ? "prefix length out of range 0..32 for IPv4"
					    : "prefix length out of range 0..128 for IPv6";
			goto invalid;
		}
	}
	p.len = (uint8_t)len;

	/*
	 * The parser files IPv4 frames under family 4, so an IPv4-mapped IPv6
	 * prefix would never match anything: refuse it rather than accept a
	 * rule that silently does nothing.
	 */
	if (p.family == 6 && p.len >= 96 && memcmp(p.addr, v4mapped_head, 12) == 0) {
		why = "IPv4-mapped IPv6 address; write the IPv4 address instead";
		goto invalid;
	}

	if (mask_host_bits(p.addr, p.len, family_bits(p.family))) {
		if (host_bits_set == NULL) {
			why = "host bits set";
			goto invalid;
		}
		*host_bits_set = true;
	}

	*prefix = p;
	return 0;

invalid:
	if (reason != NULL)
		*reason = why;
	return -EINVAL;
}

int
gnn_prefix_parse(const char *text, struct gnn_prefix *prefix, bool *host_bits_set)
{
	return gnn_prefix_parse_reason(text, prefix, host_bits_set, NULL);
}

const char *
gnn_prefix_format(const struct gnn_prefix *prefix, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	int n;

	if (prefix == NULL || buf == NULL || size == 0)
		return NULL;
	if (prefix->family != 4 && prefix->family != 6)
		return NULL;
	if (prefix->len > family_bits(prefix->family))
		return NULL;
	if (inet_ntop(prefix->family == 4 ? AF_INET : AF_INET6, prefix->addr, addr, sizeof(addr)) ==
	    NULL)
		return NULL;

	/* A host prefix reads best as a plain address; it parses back the same. */
	if (prefix->len == family_bits(prefix->family))
		n = snprintf(buf, size, "%s", addr);
	else
		n = snprintf(buf, size, "%s/%u", addr, prefix->len);
	if (n < 0 || (size_t)n >= size)
		return NULL;
	return buf;
}

bool
gnn_prefix_contains(const struct gnn_prefix *outer, const struct gnn_prefix *inner)
{
	unsigned int full, rest;

	if (outer == NULL || inner == NULL)
		return false;
	if (outer->family != inner->family || outer->len > inner->len)
		return false;
	if (outer->len > family_bits(outer->family))
		return false;

	full = outer->len / 8;
	rest = outer->len % 8;
	if (memcmp(outer->addr, inner->addr, full) != 0)
		return false;
	if (rest != 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((outer->addr[full] ^ inner->addr[full]) & mask)
			return false;
	}
	return true;
}
