/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the KUnit suites of fewmul_kunit.ko. */
#ifndef _FEWMUL_KUNIT_H
#define _FEWMUL_KUNIT_H

#include <kunit/test.h>

#include "fewmul_engine.h"

/* A model of cfg (which must be valid) with fresh parameters, test-managed. */
struct fewmul_model *fewmul_kunit_model(struct kunit *test,
					const struct fewmul_config *cfg);

#endif
