/* SPDX-License-Identifier: BSD-3-Clause */
#include <math.h>

#include "track/gnn_record.h"

double
gnn_hll_estimate(uint64_t sketch)
{
	const double m = 16.0, alpha = 0.673; /* alpha_16 of the HyperLogLog paper */
	double sum = 0.0, raw;
	unsigned int zeros = 0;

	if (sketch == 0)
		return 0.0;
	for (unsigned int r = 0; r < 16; r++) {
		unsigned int v = (sketch >> (4 * r)) & 15;

		sum += ldexp(1.0, -(int)v);
		zeros += v == 0;
	}
	raw = alpha * m * m / sum;
	/* Small ranges: linear counting over the empty registers is better. */
	if (raw <= 2.5 * m && zeros > 0)
		return m * log(m / zeros);
	return raw;
}
