/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_POLICY_H
#define GNN_POLICY_H

/*
 * Policy: the libconfig file turned into a validated, immutable description
 * of ports, blocked ports, members and the IPFIX export. Plain C with
 * libconfig, no EAL. Any thread may call these; a loaded policy is
 * read-only. The file format is described in docs/design.md
 * ("Configuration") and, commented, in config/gnn.conf.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GNN_NAME_MAX	   64 /* member and port names, with the NUL */
#define GNN_MAX_PORT_PAIRS 16
/*
 * Largest config or member file read, in bytes (64 MiB). The scale file of
 * docs/design.md (100,000 members, 250,000 prefixes) is 13 MB; libconfig's
 * tree takes about ten times the text's size, so this bounds one parse to
 * well under a gigabyte while leaving five times the scale minimum.
 */
#define GNN_POLICY_FILE_MAX (64u << 20)
/* ipfix interval when the setting is left out, in seconds; and its range. */
#define GNN_IPFIX_INTERVAL_DEFAULT 10
#define GNN_IPFIX_INTERVAL_MAX	   3600

enum gnn_mode {
	GNN_MODE_OFF = 0,
	GNN_MODE_MONITOR,
	GNN_MODE_ENFORCE,
};

struct gnn_prefix {
	uint8_t family;	  /* 4 or 6 */
	uint8_t len;	  /* prefix length */
	uint8_t addr[16]; /* network order; IPv4 in addr[0..3]; host bits zero */
};

/* What happens to a blocked TCP segment (docs/design.md, "Reject"). */
enum gnn_action {
	GNN_ACTION_DROP = 0, /* the default */
	GNN_ACTION_REJECT,   /* a SYN is answered with RST+ACK, the rest dropped */
};

struct gnn_member {
	char name[GNN_NAME_MAX];
	enum gnn_mode mode;
	enum gnn_action action;
	const char *file; /* the file it came from: one of the policy's files[] */
	int line;	  /* where the member's group starts in that file */
	unsigned int n_networks;
	struct gnn_prefix *networks;
	unsigned int n_mail_servers;
	struct gnn_prefix *mail_servers;
};

struct gnn_port_pair {
	char inside[GNN_NAME_MAX];
	char outside[GNN_NAME_MAX];
	int line;
};

/* The optional top-level ipfix = { collector = "ADDR:PORT"; interval = S; }. */
struct gnn_ipfix {
	bool enabled;	       /* false: no ipfix setting, nothing else is set */
	uint8_t family;	       /* 4 or 6 */
	uint8_t addr[16];      /* network order; IPv4 in addr[0..3] */
	uint16_t port;	       /* UDP port, host order, 1..65535 */
	unsigned int interval; /* seconds, 1..3600; GNN_IPFIX_INTERVAL_DEFAULT if left out */
	char collector[64];    /* as written: "192.0.2.200:4739", "[2001:db8::1]:4739" */
	int line;	       /* of the ipfix setting, in the main file */
};

struct gnn_policy {
	char *path; /* the main file, as the caller named it */
	/*
	 * Every file the policy was read from: files[0] is the main file
	 * (same text as path), then each file of members_dir in name order.
	 * Members' file pointers point here.
	 */
	unsigned int n_files;
	char **files;
	/* The directory read: members_dir, put after the main file's directory when relative; or
	 * NULL */
	char *members_dir;
	unsigned int n_blocked_ports;
	uint16_t *blocked_ports; /* sorted, unique */
	unsigned int n_port_pairs;
	struct gnn_port_pair *port_pairs;
	unsigned int n_members;
	struct gnn_member *members; /* main file's first, then each member file's, in order */
	struct gnn_ipfix ipfix;
	/* The library's own: storage of the prefixes, the name index. */
	struct gnn_prefix *prefix_store;
	unsigned int *by_name; /* member indexes sorted by name */
};

/*
 * Messages found while loading: errors make the file invalid, warnings do
 * not. Each message reads "file:line: reason".
 */
struct gnn_diag {
	unsigned int n_errors;
	unsigned int n_warnings;
	char **errors;
	char **warnings;
};

/*
 * Optional check that a port name exists (gnnd passes one backed by
 * rte_eth_dev_get_port_by_name; --check and the unit tests pass NULL).
 * Returns true when the device exists.
 */
typedef bool (*gnn_port_exists_fn)(const char *name, void *arg);

/*
 * Load and validate the file at path. Returns NULL when the file is invalid
 * (diag->n_errors > 0, errno = EINVAL) or unreadable (one error in diag,
 * errno set: ENOENT, EACCES, EISDIR, EINVAL for a FIFO or device, EFBIG
 * beyond GNN_POLICY_FILE_MAX, ...). Warnings are appended to diag in both
 * cases.
 *
 * The file is opened without blocking and read whole only when it is a
 * regular file of at most GNN_POLICY_FILE_MAX bytes ("FILE: reason"
 * otherwise); its text must be UTF-8 without NUL bytes; an integer that
 * libconfig would truncate (4294967321 without an L suffix) is an error,
 * and so are @include, lists and groups nested more than 64 deep and groups
 * of more than 64 settings (lib/policy/policy_text.c says why).
 * With members_dir set, each *.conf file there is read the same way, in
 * name order, and its members are added after the main file's; their
 * messages name that file.
 *
 * Every error is reported, in the order of the files and, within a file,
 * by line; a missing top-level setting is reported on line 1. Messages are
 * appended to what diag already holds; diag may be NULL. members = ( ); is
 * valid (nothing is judged) and draws a warning when no member file adds
 * any; mail_servers may be left out. Time and memory grow as n log n with
 * the number of members and prefixes.
 */
struct gnn_policy *gnn_policy_load(const char *path, gnn_port_exists_fn port_exists, void *arg,
				   struct gnn_diag *diag);

/*
 * Same as gnn_policy_load() on len bytes at data, exactly as they would be
 * read from a file (NUL bytes included, no NUL needed at the end); name is
 * used in messages and as policy->path, and a relative members_dir is taken
 * relative to name's directory.
 */
struct gnn_policy *gnn_policy_load_buffer(const void *data, size_t len, const char *name,
					  gnn_port_exists_fn port_exists, void *arg,
					  struct gnn_diag *diag);

/* Same as gnn_policy_load_buffer() on a NUL-terminated string. */
struct gnn_policy *gnn_policy_load_string(const char *text, const char *name,
					  gnn_port_exists_fn port_exists, void *arg,
					  struct gnn_diag *diag);

void gnn_policy_free(struct gnn_policy *policy);

/* Same ports in the same order: a reload may not change them. */
bool gnn_policy_same_ports(const struct gnn_policy *a, const struct gnn_policy *b);

/* Member index by name, or -1. O(log n) on a loaded policy. */
int gnn_policy_find_member(const struct gnn_policy *policy, const char *name);

const char *gnn_mode_name(enum gnn_mode mode);

/* "drop", "reject"; "unknown" for anything else. */
const char *gnn_action_name(enum gnn_action action);

/*
 * Parse "192.0.2.0/24", "2001:db8::1" (host prefix). 0, or -EINVAL.
 * Host bits set ("192.0.2.1/24"): with host_bits_set non-NULL, returns 0,
 * sets *host_bits_set and fills prefix with the network (192.0.2.0/24);
 * with host_bits_set NULL, -EINVAL. IPv4-mapped IPv6 ("::ffff:192.0.2.1")
 * is refused: IPv4 frames are matched as IPv4, so it would never match.
 * On -EINVAL, prefix is left untouched.
 */
int gnn_prefix_parse(const char *text, struct gnn_prefix *prefix, bool *host_bits_set);

/*
 * Same as gnn_prefix_parse(); on -EINVAL, *reason (when not NULL) points to
 * a static text saying what is wrong, for messages
 * ("prefix length out of range 0..32 for IPv4").
 */
int gnn_prefix_parse_reason(const char *text, struct gnn_prefix *prefix, bool *host_bits_set,
			    const char **reason);

/*
 * Format a prefix as text ("192.0.2.0/24"); buf of at least 64 bytes.
 * Host prefixes (/32, /128) print as a plain address ("192.0.2.25"); the
 * text parses back to the same prefix. Returns buf, or NULL when the prefix
 * is invalid or buf too small.
 */
const char *gnn_prefix_format(const struct gnn_prefix *prefix, char *buf, size_t size);

/* True when inner lies inside outer (same family, outer no longer). */
bool gnn_prefix_contains(const struct gnn_prefix *outer, const struct gnn_prefix *inner);

/* Append a "file:line: ..." message. */
void gnn_diag_add(struct gnn_diag *diag, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Release the messages; diag can be reused. */
void gnn_diag_clear(struct gnn_diag *diag);

#endif /* GNN_POLICY_H */
