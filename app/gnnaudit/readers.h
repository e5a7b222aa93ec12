/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNNAUDIT_READERS_H
#define GNNAUDIT_READERS_H

/*
 * The inputs of gnnaudit. Each reader adds an input to the audit, feeds
 * the judge, and records its errors there (the report names them).
 * One thread.
 */

struct audit;

/* Read one pcap or pcapng capture ("-": standard input). */
void capture_read(struct audit *a, const char *name);

/* Read the CSV that `nfdump -o csv` prints ("-": standard input). */
void flows_read(struct audit *a, const char *name);

#endif /* GNNAUDIT_READERS_H */
