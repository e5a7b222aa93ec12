/* SPDX-License-Identifier: BSD-3-Clause */

/* Text tables (see table.h). */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

struct table {
	const struct table_column *cols;
	size_t n_cols;
	char **cells; /* row-major; n_cells of cap used */
	size_t n_cells, cap;
};

struct table *
table_new(const struct table_column *cols, size_t n)
{
	struct table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->cols = cols;
	t->n_cols = n;
	return t;
}

void
table_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	if (t == NULL)
		return;
	if (t->n_cells == t->cap) {
		size_t cap = t->cap == 0 ? 64 : 2 * t->cap;
		char **cells = realloc(t->cells, sizeof(*cells) * cap);

		if (cells == NULL)
			return;
		t->cells = cells;
		t->cap = cap;
	}
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	/* A cell that cannot be made still takes its place, so rows stay aligned. */
	t->cells[t->n_cells++] = n < 0 ? NULL : s;
}

size_t
table_rows(const struct table *t)
{
	return t == NULL || t->n_cols == 0 ? 0 : t->n_cells / t->n_cols;
}

/* One line; it ends at its last non-empty cell, so no line has trailing blanks. */
static void
print_line(FILE *out, const struct table *t, const size_t *width, int indent,
	   const char *const *cells)
{
	size_t end = t->n_cols;

	while (end > 1 && cells[end - 1] != NULL && cells[end - 1][0] == '\0')
		end--;
	fprintf(out, "%*s", indent, "");
	for (size_t c = 0; c < end; c++) {
		const char *s = cells[c] != NULL ? cells[c] : "?";
		int w = (int)width[c];

		if (t->cols[c].align == TABLE_RIGHT)
			fprintf(out, "%*s", w, s);
		else if (c + 1 == end)
			fputs(s, out);
		else
			fprintf(out, "%-*s", w, s);
		fputs(c + 1 == end ? "\n" : "  ", out);
	}
}

void
table_print(FILE *out, const struct table *t, int indent)
{
	const char *titles[16];
	size_t width[16];
	size_t rows = table_rows(t);

	if (t == NULL || t->n_cols == 0 || t->n_cols > 16)
		return;
	for (size_t c = 0; c < t->n_cols; c++) {
		titles[c] = t->cols[c].title;
		width[c] = strlen(titles[c]);
	}
	for (size_t i = 0; i < rows * t->n_cols; i++) {
		size_t len = t->cells[i] != NULL ? strlen(t->cells[i]) : 1;

		if (len > width[i % t->n_cols])
			width[i % t->n_cols] = len;
	}
	print_line(out, t, width, indent, titles);
	for (size_t r = 0; r < rows; r++)
		print_line(out, t, width, indent, (const char *const *)&t->cells[r * t->n_cols]);
}

void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_cells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
