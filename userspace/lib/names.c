// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libfewmul: the names of configuration values, as the command line, the
 * documentation and JSON output spell them.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static const char *const weights_names[] = {
	[FEWMUL_MODEL_WEIGHTS_FULL] = "full",
	[FEWMUL_MODEL_WEIGHTS_BINARY] = "binary",
	[FEWMUL_MODEL_WEIGHTS_BINARY_STOCH] = "binary-stoch",
	[FEWMUL_MODEL_WEIGHTS_TERNARY] = "ternary",
};

#define NR_WEIGHTS (sizeof(weights_names) / sizeof(weights_names[0]))

FEWMUL_API const char *fewmul_weights_name(uint32_t weights)
{
	return weights < NR_WEIGHTS ? weights_names[weights] : "unknown";
}

FEWMUL_API int fewmul_weights_parse(const char *name, uint32_t *weights)
{
	uint32_t i;

	for (i = 0; name && i < NR_WEIGHTS; i++) {
		if (!strcmp(name, weights_names[i])) {
			*weights = i;
			return 0;
		}
	}
	return -EINVAL;
}
