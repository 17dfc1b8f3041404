/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * fewmul core: the only place where the freestanding engine meets its host.
 *
 * kmod/core/ is compiled into fewmul.ko and into userspace (tests, the cpu
 * backend, the benchmark), like lib/zstd. Core files include this header
 * and nothing else from outside kmod/core/.
 */
#ifndef _FEWMUL_SHIM_H
#define _FEWMUL_SHIM_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/math64.h>
#include <linux/string.h>

#include "fewmul_compat.h"

/* Signed 64-by-32 division, truncating toward zero. */
static inline s64 fewmul_div_s64(s64 a, s32 b)
{
	return div_s64(a, b);
}

/*
 * With KUnit the test module links against the core inside fewmul.ko, so
 * the core's API is exported (to the FEWMUL namespace only) in that case.
 */
#if IS_ENABLED(CONFIG_KUNIT)
#define EXPORT_SYMBOL_FEWMUL_CORE(sym) EXPORT_SYMBOL_NS_GPL(sym, FEWMUL_NS)
#else
#define EXPORT_SYMBOL_FEWMUL_CORE(sym)
#endif

#else /* userspace */

#include <errno.h>
#include <stddef.h>

typedef __UINT8_TYPE__ u8;
typedef __UINT16_TYPE__ u16;
typedef __UINT32_TYPE__ u32;
typedef __UINT64_TYPE__ u64;
typedef __INT8_TYPE__ s8;
typedef __INT16_TYPE__ s16;
typedef __INT32_TYPE__ s32;
typedef __INT64_TYPE__ s64;

/* Nothing is exported in userspace. */
#define EXPORT_SYMBOL_FEWMUL_CORE(sym)

#define memset(d, c, n) __builtin_memset(d, c, n)
#define memcpy(d, s, n) __builtin_memcpy(d, s, n)

/* Signed 64-by-32 division, truncating toward zero. */
static inline s64 fewmul_div_s64(s64 a, s32 b)
{
	return a / b;
}

#endif /* __KERNEL__ */

#endif /* _FEWMUL_SHIM_H */
