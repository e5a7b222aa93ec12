/* SPDX-License-Identifier: BSD-3-Clause */

/* Getters for gnnd's JSON replies (see fields.h). */

#include <stdio.h>
#include <time.h>

#include "fields.h"

const char *
field_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

bool
field_num(const json_t *obj, const char *key, double *v)
{
	const json_t *j = json_object_get(obj, key);

	if (!json_is_number(j))
		return false;
	*v = json_number_value(j);
	return true;
}

const char *
or_dash(const char *s)
{
	return s != NULL ? s : "-";
}

const char *
field_time(char *buf, size_t len, const json_t *obj, const char *key, const char *none)
{
	struct tm tm;
	double v;
	time_t t;

	if (!field_num(obj, key, &v)) {
		snprintf(buf, len, "%s", none);
		return buf;
	}
	t = (time_t)v;
	if (localtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%.0f", v);
	return buf;
}

const char *
field_count(char *buf, size_t len, const json_t *obj, const char *key)
{
	const json_t *j = json_object_get(obj, key);

	if (json_is_integer(j))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
	else if (json_is_real(j))
		snprintf(buf, len, "%.0f", json_real_value(j));
	else
		snprintf(buf, len, "-");
	return buf;
}
