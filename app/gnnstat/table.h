/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef GNNSTAT_TABLE_H
#define GNNSTAT_TABLE_H

/*
 * A text table for gnnstat's reports: cells are collected row by row, then
 * printed with each column as wide as its widest cell (or title). Cells are
 * copied; a table that ran out of memory prints what it holds.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct table;

/* Column alignment. */
enum table_align {
	TABLE_LEFT = 0,
	TABLE_RIGHT,
};

struct table_column {
	const char *title;
	enum table_align align;
};

/* A table of n columns (their titles and alignment are not copied). NULL: no memory. */
struct table *table_new(const struct table_column *cols, size_t n);

/* Append one cell to the current row, printf-style; the row is full after n cells. */
void table_cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Rows added so far. */
size_t table_rows(const struct table *t);

/* Write the titles and the rows, each line after indent spaces; the last column unpadded. */
void table_print(FILE *out, const struct table *t, int indent);

void table_free(struct table *t);

#endif /* GNNSTAT_TABLE_H */
