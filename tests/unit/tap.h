/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A tiny TAP producer for the native unit tests: each CHECK() that fails
 * prints a diagnostic and marks the current test failed; tap_end() prints
 * "ok"/"not ok" for it. The plan is printed at the end.
 */
#ifndef FEWMUL_TAP_H
#define FEWMUL_TAP_H

#include <stdio.h>
#include <stdlib.h>

static int tap_count, tap_failed_total, tap_cur_failed;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("#   %s:%d: CHECK(%s) failed\n", __FILE__,	\
		       __LINE__, #cond);				\
		tap_cur_failed = 1;					\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b) {							\
		printf("#   %s:%d: %s == %lld, want %s == %lld\n",	\
		       __FILE__, __LINE__, #a, _a, #b, _b);		\
		tap_cur_failed = 1;					\
	}								\
} while (0)

static inline void tap_begin(void)
{
	tap_cur_failed = 0;
}

static inline void tap_end(const char *name)
{
	tap_count++;
	if (tap_cur_failed)
		tap_failed_total++;
	printf("%sok %d - %s\n", tap_cur_failed ? "not " : "", tap_count, name);
	fflush(stdout);
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed_total ? 1 : 0;
}

#endif
