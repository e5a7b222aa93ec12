/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config text before libconfig: bounded reading, and a pre-scan that
 * refuses what libconfig would misread or choke on.
 *
 * Why these checks exist (libconfig 1.5, Debian 12):
 * - config_read() on a FILE rescans a token from its start whenever its
 *   buffer refills, and at every NUL byte: one long comment line takes
 *   seconds, "#" and 64,000 NULs 13 s. config_read_string() on the whole
 *   text in memory is linear (10 MB of comments or of blanks: 0.1 s), so
 *   the file is read whole and NULs are refused (the string would end at
 *   the first one anyway).
 * - An integer without an L suffix is stored in 32 bits, silently
 *   truncated (4294967321 becomes 25, 0x100000019 too). The pre-scan finds
 *   every integer literal the way libconfig's scanner does (longest match,
 *   outside strings and comments) and refuses those that would change.
 * - A group's settings are kept in an array searched for duplicates at each
 *   insertion: 20,000 names in one group take 4 s. No valid group needs
 *   more than a handful, so more than POLICY_GROUP_SETTINGS_MAX is refused.
 * - @include opens a file with fopen(), bypassing the bounded reader.
 *
 * The scanner mirrors libconfig's lexer (lib/scanner.l): comments are
 * "#" or "//" to the end of the line and C-style blocks; strings take \\
 * and \" as escapes; names are [A-Za-z*][-A-Za-z0-9_*]*; numbers follow
 * the float, integer, integer64, hex and hex64 rules, the longest match
 * winning and, on a tie, the earlier rule.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_text.h"

/* Longest part of a literal quoted in a message. */
#define LITERAL_SHOWN 40
#define REASON_MAX    256

/* ---- reading ---------------------------------------------------------- */

static const char *
file_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "an unknown kind of file";
}

int
policy_read_file(const char *path, size_t limit, char **text, size_t *len, char *why,
		 size_t why_size)
{
	struct stat st;
	size_t n = 0, cap;
	char *buf = NULL;
	int fd, err;

	*text = NULL;
	*len = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err = errno;
		snprintf(why, why_size, "cannot open: %s", strerror(err));
		return err;
	}
	if (fstat(fd, &st) != 0) {
		err = errno;
		snprintf(why, why_size, "cannot stat: %s", strerror(err));
		goto close_fd;
	}
	if (S_ISDIR(st.st_mode)) {
		/* What open() itself says of a directory opened for writing. */
		err = EISDIR;
		snprintf(why, why_size, "cannot open: %s", strerror(err));
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		err = EINVAL;
		snprintf(why, why_size, "not a regular file (%s)", file_kind(st.st_mode));
		goto close_fd;
	}
	if (st.st_size < 0 || (uintmax_t)st.st_size > limit)
		goto too_large;

	/* Room for the size fstat gave, one more byte to see growth, a NUL. */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 2);
	if (buf == NULL)
		goto nomem;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			size_t grown = cap * 2 < limit + 1 ? cap * 2 : limit + 1;
			char *more;

			if (n > limit)
				goto too_large; /* it grew while read */
			more = realloc(buf, grown + 2);
			if (more == NULL)
				goto nomem;
			buf = more;
			cap = grown;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			snprintf(why, why_size, "cannot read: %s", strerror(err));
			goto free_buf;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > limit)
		goto too_large;
	close(fd);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;

too_large:
	err = EFBIG;
	if (n > (size_t)st.st_size)
		snprintf(why, why_size, "too large (it grew past %zu bytes while read: %zu MiB)",
			 limit, limit >> 20);
	else
		snprintf(why, why_size, "too large (%jd bytes, at most %zu: %zu MiB)",
			 (intmax_t)st.st_size, limit, limit >> 20);
	goto free_buf;
nomem:
	err = ENOMEM;
	snprintf(why, why_size, "cannot read: out of memory (%jd bytes)", (intmax_t)st.st_size);
free_buf:
	free(buf);
close_fd:
	close(fd);
	return err;
}

/* ---- lines ------------------------------------------------------------ */

static int
lines_add(struct policy_lines *l, int line)
{
	if (l->n > 0 && l->v[l->n - 1] == line)
		return 0;
	if (l->n == l->cap) {
		unsigned int cap = l->cap ? l->cap * 2 : 8;
		int *grown = realloc(l->v, cap * sizeof(*grown));

		if (grown == NULL)
			return -ENOMEM;
		l->v = grown;
		l->cap = cap;
	}
	l->v[l->n++] = line;
	return 0;
}

bool
policy_lines_has(const struct policy_lines *l, int line)
{
	unsigned int lo = 0, hi = l->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (l->v[mid] == line)
			return true;
		if (l->v[mid] < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* ---- bytes: NUL and UTF-8 --------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at p (RFC 3629), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t left)
{
	unsigned int cp;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1fu;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0fu;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07u;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp > 0x10ffff)
		return 0;
	return n;
}

static void __attribute__((format(printf, 4, 5)))
say(policy_text_report_fn report, void *ctx, int line, const char *fmt, ...)
{
	char reason[REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	report(ctx, line, reason);
}

/* First NUL byte or invalid UTF-8 sequence: reported, true. */
static bool
bad_bytes(const unsigned char *t, size_t len, policy_text_report_fn report, void *ctx)
{
	int line = 1;

	for (size_t i = 0; i < len;) {
		size_t n;

		if (t[i] == '\n') {
			line++;
			i++;
			continue;
		}
		if (t[i] == '\0') {
			say(report, ctx, line,
			    "NUL byte at offset %zu: a config file is text (is this a binary "
			    "file?)",
			    i);
			return true;
		}
		n = utf8_len(t + i, len - i);
		if (n == 0) {
			say(report, ctx, line,
			    "invalid UTF-8 (byte 0x%02x at offset %zu): save the file as "
			    "UTF-8",
			    t[i], i);
			return true;
		}
		i += n;
	}
	return false;
}

/* ---- the scanner ------------------------------------------------------ */

enum nest {
	NEST_GROUP, /* { }, and the top of the file */
	NEST_LIST,  /* ( ) */
	NEST_ARRAY, /* [ ] */
};

struct level {
	enum nest kind;
	unsigned int settings;
};

struct scan {
	const unsigned char *t;
	size_t len;
	size_t i;
	int line;
	policy_text_report_fn report;
	void *ctx;
	struct policy_lines *bad;
	struct level stack[POLICY_NEST_MAX + 1]; /* [0]: the top of the file */
	unsigned int depth;
};

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_xdigit(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
is_name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*';
}

static bool
is_name_char(unsigned char c)
{
	return is_name_start(c) || is_digit(c) || c == '-' || c == '_';
}

static unsigned char
at(const struct scan *s, size_t i)
{
	return i < s->len ? s->t[i] : '\0';
}

/* Length of [eE][-+]?[0-9]+ at i, or 0. */
static size_t
exponent_len(const struct scan *s, size_t i)
{
	size_t j = i + 1;

	if (at(s, i) != 'e' && at(s, i) != 'E')
		return 0;
	if (at(s, j) == '+' || at(s, j) == '-')
		j++;
	if (!is_digit(at(s, j)))
		return 0;
	while (is_digit(at(s, j)))
		j++;
	return j - i;
}

enum num_kind {
	NUM_NONE,
	NUM_FLOAT,
	NUM_INT,   /* [-+]?[0-9]+ */
	NUM_INT64, /* [-+]?[0-9]+L(L)? */
	NUM_HEX,   /* 0[Xx][0-9A-Fa-f]+ */
	NUM_HEX64, /* 0[Xx][0-9A-Fa-f]+L(L)? */
};

/* Longest numeric token at s->i, as libconfig's scanner picks it. */
static enum num_kind
match_number(const struct scan *s, size_t *out_len)
{
	size_t i = s->i, p = i, q, digits;
	size_t best = 0;
	enum num_kind kind = NUM_NONE;

	if (at(s, p) == '+' || at(s, p) == '-')
		p++;
	q = p;
	while (is_digit(at(s, q)))
		q++;
	digits = q - p;

	/* Rules in the scanner's order: a later one must be longer to win. */
	if (at(s, q) == '.') { /* [-+]?[0-9]*\.[0-9]*([eE][-+]?[0-9]+)? */
		size_t r = q + 1;

		while (is_digit(at(s, r)))
			r++;
		best = r + exponent_len(s, r) - i;
		kind = NUM_FLOAT;
	} else if (digits > 0 && exponent_len(s, q) > 0) { /* [-+]?[0-9]+[eE][-+]?[0-9]+ */
		best = q + exponent_len(s, q) - i;
		kind = NUM_FLOAT;
	}
	if (digits > 0) {
		size_t n = q - i;
		enum num_kind k = NUM_INT;

		if (at(s, q) == 'L') {
			k = NUM_INT64;
			n += at(s, q + 1) == 'L' ? 2 : 1;
		}
		if (n > best)
			best = n, kind = k;
	}
	if (p == i && at(s, i) == '0' && (at(s, i + 1) == 'x' || at(s, i + 1) == 'X') &&
	    is_xdigit(at(s, i + 2))) {
		size_t r = i + 2;
		enum num_kind k = NUM_HEX;

		while (is_xdigit(at(s, r)))
			r++;
		if (at(s, r) == 'L') {
			k = NUM_HEX64;
			r += at(s, r + 1) == 'L' ? 2 : 1;
		}
		if (r - i > best)
			best = r - i, kind = k;
	}
	*out_len = best;
	return kind;
}

/*
 * An integer literal of n bytes at s->i: report it when libconfig would
 * store another value than it says.
 */
static int
check_integer(struct scan *s, enum num_kind kind, size_t n)
{
	const unsigned char *t = s->t + s->i;
	bool neg = false, hex = kind == NUM_HEX || kind == NUM_HEX64;
	bool wide = kind == NUM_INT64 || kind == NUM_HEX64;
	uint64_t v = 0;
	bool over = false; /* beyond 64 bits */
	size_t j = 0, end = n;
	int shown = (int)(n < LITERAL_SHOWN ? n : LITERAL_SHOWN);
	const char *range;
	bool exact;

	while (end > 0 && t[end - 1] == 'L')
		end--;
	if (hex) {
		j = 2;
	} else if (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-';
		j = 1;
	}
	for (; j < end; j++) {
		unsigned int d =
			is_digit(t[j]) ? (unsigned int)(t[j] - '0') : (t[j] | 0x20u) - 'a' + 10u;
		unsigned int base = hex ? 16 : 10;

		if (v > (UINT64_MAX - d) / base)
			over = true;
		else
			v = v * base + d;
	}

	if (!wide && !hex)
		exact = !over && (neg ? v <= (uint64_t)INT32_MAX + 1 : v <= INT32_MAX);
	else if (!wide)
		exact = !over && v <= INT32_MAX;
	else if (!hex)
		exact = !over && (neg ? v <= (uint64_t)INT64_MAX + 1 : v <= INT64_MAX);
	else
		exact = !over && v <= INT64_MAX;
	if (exact)
		return 0;

	if (!wide) {
		/*
		 * What libconfig stores: strtoll/strtoul saturate at 64 bits,
		 * then the int keeps the low 32.
		 */
		uint64_t sat;
		int32_t stored;

		if (hex)
			sat = over ? UINT64_MAX : v;
		else if (neg)
			sat = over || v > (uint64_t)INT64_MAX + 1 ? (uint64_t)INT64_MIN : 0 - v;
		else
			sat = over || v > INT64_MAX ? (uint64_t)INT64_MAX : v;
		stored = (int32_t)(uint32_t)sat;
		range = hex ? "0..0x7fffffff" : "-2147483648..2147483647";
		say(s->report, s->ctx, s->line,
		    "number %.*s%s is out of range %s; it would be read as %" PRId32, shown,
		    (const char *)t, n > LITERAL_SHOWN ? "..." : "", range, stored);
	} else {
		say(s->report, s->ctx, s->line, "number %.*s%s does not fit in 64 bits", shown,
		    (const char *)t, n > LITERAL_SHOWN ? "..." : "");
	}
	return lines_add(s->bad, s->line);
}

/* The setting name at s->i; true when the group holds too many. */
static bool
count_name(struct scan *s, size_t n)
{
	const char *w = (const char *)s->t + s->i;
	struct level *top = &s->stack[s->depth];

	/* "true" and "false" (any case) are booleans, not names. */
	if ((n == 4 && strncasecmp(w, "true", 4) == 0) ||
	    (n == 5 && strncasecmp(w, "false", 5) == 0))
		return false;
	if (top->kind != NEST_GROUP)
		return false; /* a syntax error libconfig reports */
	if (++top->settings <= POLICY_GROUP_SETTINGS_MAX)
		return false;
	say(s->report, s->ctx, s->line,
	    "more than %d settings in one group%s; no valid group holds that many",
	    POLICY_GROUP_SETTINGS_MAX, s->depth == 0 ? " (at the top of the file)" : "");
	return true;
}

static void
skip_to_eol(struct scan *s)
{
	const void *nl = memchr(s->t + s->i, '\n', s->len - s->i);

	s->i = nl != NULL ? (size_t)((const unsigned char *)nl - s->t) : s->len;
}

static void
skip_block_comment(struct scan *s)
{
	for (s->i += 2; s->i < s->len; s->i++) {
		if (s->t[s->i] == '\n')
			s->line++;
		else if (s->t[s->i] == '*' && at(s, s->i + 1) == '/') {
			s->i += 2;
			return;
		}
	}
}

static void
skip_string(struct scan *s)
{
	for (s->i++; s->i < s->len; s->i++) {
		unsigned char c = s->t[s->i];

		if (c == '\\' && (at(s, s->i + 1) == '\\' || at(s, s->i + 1) == '"'))
			s->i++;
		else if (c == '"') {
			s->i++;
			return;
		} else if (c == '\n')
			s->line++;
	}
}

/* 1: fatal, 0: scanned, -ENOMEM. */
static int
scan_tokens(struct scan *s)
{
	static const char include[] = "@include";

	while (s->i < s->len) {
		unsigned char c = s->t[s->i];
		enum num_kind kind;
		size_t n;

		if (c == '\n') {
			s->line++;
			s->i++;
		} else if (c == '#' || (c == '/' && at(s, s->i + 1) == '/')) {
			skip_to_eol(s);
		} else if (c == '/' && at(s, s->i + 1) == '*') {
			skip_block_comment(s);
		} else if (c == '"') {
			skip_string(s);
		} else if (is_name_start(c)) {
			n = 1;
			while (is_name_char(at(s, s->i + n)))
				n++;
			if (count_name(s, n))
				return 1;
			s->i += n;
		} else if (c == '{' || c == '(' || c == '[') {
			if (s->depth == POLICY_NEST_MAX) {
				say(s->report, s->ctx, s->line,
				    "lists and groups nested more than %d deep", POLICY_NEST_MAX);
				return 1;
			}
			s->depth++;
			s->stack[s->depth].kind = c == '{'   ? NEST_GROUP
						  : c == '(' ? NEST_LIST
							     : NEST_ARRAY;
			s->stack[s->depth].settings = 0;
			s->i++;
		} else if (c == '}' || c == ')' || c == ']') {
			if (s->depth > 0)
				s->depth--; /* a mismatch is libconfig's syntax error */
			s->i++;
		} else if (c == '@' && s->len - s->i >= sizeof(include) - 1 &&
			   memcmp(s->t + s->i, include, sizeof(include) - 1) == 0) {
			say(s->report, s->ctx, s->line,
			    "@include is not supported; put members in files of members_dir");
			return 1;
		} else if ((kind = match_number(s, &n)) != NUM_NONE) {
			if (kind != NUM_FLOAT && check_integer(s, kind, n) != 0)
				return -ENOMEM;
			s->i += n;
		} else {
			s->i++; /* blanks, punctuation, garbage for libconfig */
		}
	}
	return 0;
}

int
policy_prescan(char *text, size_t len, struct policy_lines *bad, policy_text_report_fn report,
	       void *ctx)
{
	struct scan s = {
		.t = (const unsigned char *)text,
		.len = len,
		.line = 1,
		.report = report,
		.ctx = ctx,
		.bad = bad,
	};

	if (bad_bytes(s.t, len, report, ctx))
		return 1;
	/* A byte order mark is no token of libconfig's: blank it. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		memset(text, ' ', 3);
	s.stack[0].kind = NEST_GROUP;
	return scan_tokens(&s);
}
