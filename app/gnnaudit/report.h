/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNNAUDIT_REPORT_H
#define GNNAUDIT_REPORT_H

/*
 * The report of an audit: per member, the hosts that sent to blocked
 * ports, the hosts that accepted inbound connections on them, and the
 * mail_servers line with the listed and the suggested servers; as text or
 * as one JSON object. One thread.
 */

#include <stdint.h>
#include <stdio.h>

struct audit;

/* Every member: member = -1; else that member's index. 0, or -ENOMEM. */
int report_text(FILE *out, const struct audit *a, int member);
int report_json(FILE *out, const struct audit *a, int member);

#endif /* GNNAUDIT_REPORT_H */
