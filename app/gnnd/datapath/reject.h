/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNND_REJECT_H
#define GNND_REJECT_H

/*
 * Reject (docs/design.md, "Reject"): a blocked TCP SYN becomes, in its own
 * mbuf, the RST+ACK that answers it: from the SYN's destination address and
 * port, ack = its seq + 1, the same Ethernet header and VLAN tags with the
 * MAC addresses swapped. The caller sends it out of the port the SYN came
 * in on.
 */

struct rte_mbuf;
struct gnn_frame_info;

/*
 * Rewrite m (a TCP SYN that parsed into info) into its RST+ACK. Returns 0,
 * or -1 when the headers are not in the first segment (m is unchanged and
 * is dropped instead). Any lcore; no allocation.
 */
int gnn_reject_rewrite(struct rte_mbuf *m, const struct gnn_frame_info *info);

#endif /* GNND_REJECT_H */
