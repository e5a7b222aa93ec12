/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNN_POLICY_H
#define GNN_POLICY_H

/*
 * Policy: the libconfig file turned into a validated, immutable description
 * of ports, blocked ports and members. Plain C with libconfig, no EAL.
 * Any thread may call these; a loaded policy is read-only.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GNN_NAME_MAX	   64	/* member and port names, with the NUL */
#define GNN_MAX_MEMBERS	   1024 /* members in one file */
#define GNN_MAX_PORT_PAIRS 16

enum gnn_mode {
	GNN_MODE_OFF = 0,
	GNN_MODE_MONITOR,
	GNN_MODE_ENFORCE,
};

/* What happens to a blocked frame (docs/design.md, "Reject"). */
enum gnn_action {
	GNN_ACTION_DROP = 0,
	GNN_ACTION_REJECT, /* a blocked SYN is answered with RST+ACK */
};

struct gnn_prefix {
	uint8_t family;	  /* 4 or 6 */
	uint8_t len;	  /* prefix length */
	uint8_t addr[16]; /* network order; IPv4 in addr[0..3]; host bits zero */
};

struct gnn_member {
	char name[GNN_NAME_MAX];
	enum gnn_mode mode;
	enum gnn_action action;
	int line; /* where the member's group starts */
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

/*
 * The optional IPFIX export (docs/design.md, "Export"):
 *   ipfix = { collector = "192.0.2.200:4739"; interval = 10; };
 * The collector is an address literal (no name lookup) and a UDP port.
 */
struct gnn_ipfix {
	bool enabled;	       /* the file has an ipfix group */
	uint8_t family;	       /* 4 or 6 */
	uint8_t address[16];   /* collector, network order; IPv4 in address[0..3] */
	uint16_t port;	       /* UDP port, host order */
	unsigned int interval; /* seconds between two exports */
	int line;	       /* of the ipfix group */
};

struct gnn_policy {
	char *path;
	unsigned int n_blocked_ports;
	uint16_t *blocked_ports; /* sorted, unique */
	unsigned int n_port_pairs;
	struct gnn_port_pair *port_pairs;
	unsigned int n_members;
	struct gnn_member *members; /* in file order */
	struct gnn_ipfix ipfix;	    /* enabled == false: no export */
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
 * errno set). Warnings are appended to diag in both cases.
 * Every error in the file is reported, sorted by line; a missing top-level
 * setting is reported on line 1. Messages are appended to what diag already
 * holds; diag may be NULL. members = ( ); is valid (nothing is judged) and
 * draws a warning; mail_servers may be left out.
 */
struct gnn_policy *gnn_policy_load(const char *path, gnn_port_exists_fn port_exists, void *arg,
				   struct gnn_diag *diag);

/* Same as gnn_policy_load() on a string; name is used in messages. */
struct gnn_policy *gnn_policy_load_string(const char *text, const char *name,
					  gnn_port_exists_fn port_exists, void *arg,
					  struct gnn_diag *diag);

void gnn_policy_free(struct gnn_policy *policy);

/* Same ports in the same order: a reload may not change them. */
bool gnn_policy_same_ports(const struct gnn_policy *a, const struct gnn_policy *b);

/* Member index by name, or -1. */
int gnn_policy_find_member(const struct gnn_policy *policy, const char *name);

const char *gnn_mode_name(enum gnn_mode mode);

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
