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
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/compiler.h>

#include "fewmul_compat.h"

/* Signed 64-by-32 division, truncating toward zero. */
static inline s64 fewmul_div_s64(s64 a, s32 b)
{
	return div_s64(a, b);
}

/* Unsigned 64-by-32 division. */
static inline u64 fewmul_div_u64(u64 a, u32 b)
{
	return div_u64(a, b);
}

/*
 * Between two pieces of a worker's range: the kernel reschedules there
 * (a phase's range can take milliseconds) and says whether the thread
 * was killed (the step is then aborted: see fewmul_model.abort);
 * userspace does nothing.
 */
#define FEWMUL_SHARE_CHUNKS	16
static inline int fewmul_yield(void)
{
	cond_resched();
	return fatal_signal_pending(current);
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

/*
 * Vector sections (fewmul_simd.c): integer vector registers only between
 * fewmul_simd_begin() returning non-zero and fewmul_simd_end(). Preemption
 * is off in between: callers keep sections short and never reschedule
 * inside one.
 */
#if defined(CONFIG_X86_64)
#include <asm/simd.h>
#include <asm/fpu/api.h>
#include <asm/cpufeature.h>

static inline int fewmul_simd_begin(void)
{
	if (!may_use_simd())
		return 0;
	kernel_fpu_begin();
	return 1;
}

static inline void fewmul_simd_end(void)
{
	kernel_fpu_end();
}

static inline int fewmul_cpu_has_avx2(void)
{
	return boot_cpu_has(X86_FEATURE_AVX) && boot_cpu_has(X86_FEATURE_AVX2) &&
	       cpu_has_xfeatures(XFEATURE_MASK_SSE | XFEATURE_MASK_YMM, NULL);
}

static inline int fewmul_cpu_has_neon(void)
{
	return 0;
}
#elif defined(CONFIG_ARM64) && defined(CONFIG_KERNEL_MODE_NEON)
#include <asm/simd.h>
#include <asm/neon.h>
#include <asm/cpufeature.h>

static inline int fewmul_simd_begin(void)
{
	if (!may_use_simd())
		return 0;
	kernel_neon_begin();
	return 1;
}

static inline void fewmul_simd_end(void)
{
	kernel_neon_end();
}

static inline int fewmul_cpu_has_avx2(void)
{
	return 0;
}

/* Advanced SIMD present and usable by the kernel on this system. */
static inline int fewmul_cpu_has_neon(void)
{
	return system_supports_fpsimd() && cpu_have_named_feature(ASIMD);
}
#else
static inline int fewmul_simd_begin(void)
{
	return 0;
}

static inline void fewmul_simd_end(void)
{
}

static inline int fewmul_cpu_has_avx2(void)
{
	return 0;
}

static inline int fewmul_cpu_has_neon(void)
{
	return 0;
}
#endif

/* The module chooses with its simd= parameter (fewmul_simd_select()). */
static inline const char *fewmul_simd_default_name(void)
{
	return "auto";
}

#define fewmul_read_once(x)	READ_ONCE(x)
#define fewmul_write_once(x, v)	WRITE_ONCE(x, v)
#define fewmul_streq(a, b)	sysfs_streq(a, b)

#else /* userspace */

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#if defined(__aarch64__)
#include <sys/auxv.h>
#endif

typedef __UINT8_TYPE__ u8;
typedef __UINT16_TYPE__ u16;
typedef __UINT32_TYPE__ u32;
typedef __UINT64_TYPE__ u64;
typedef __INT8_TYPE__ s8;
typedef __INT16_TYPE__ s16;
typedef __INT32_TYPE__ s32;
typedef __INT64_TYPE__ s64;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Nothing is exported in userspace. */
#define EXPORT_SYMBOL_FEWMUL_CORE(sym)

#define memset(d, c, n) __builtin_memset(d, c, n)
#define memcpy(d, s, n) __builtin_memcpy(d, s, n)

/* Signed 64-by-32 division, truncating toward zero. */
static inline s64 fewmul_div_s64(s64 a, s32 b)
{
	return a / b;
}

/* Unsigned 64-by-32 division. */
static inline u64 fewmul_div_u64(u64 a, u32 b)
{
	return a / b;
}

/* Threads are preempted in userspace: a worker's range is one piece. */
#define FEWMUL_SHARE_CHUNKS	1
static inline int fewmul_yield(void)
{
	return 0;
}

/* __always_inline: from glibc's <sys/cdefs.h>, like the kernel's. */
#ifndef noinline
#define noinline __attribute_noinline__	/* glibc's <sys/cdefs.h> */
#endif

/* Userspace may always use the vector registers. */
static inline int fewmul_simd_begin(void)
{
	return 1;
}

static inline void fewmul_simd_end(void)
{
}

static inline int fewmul_cpu_has_avx2(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
#else
	return 0;
#endif
}

/* Advanced SIMD, as the kernel reports it (HWCAP_ASIMD, bit 1). */
static inline int fewmul_cpu_has_neon(void)
{
#if defined(__aarch64__)
	return !!(getauxval(AT_HWCAP) & (1UL << 1));
#else
	return 0;
#endif
}

/* FEWMUL_SIMD=auto|off|<name> in the environment (libfewmul(3)). */
static inline const char *fewmul_simd_default_name(void)
{
	const char *v = getenv("FEWMUL_SIMD");

	return v && *v ? v : "auto";
}

#define fewmul_read_once(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define fewmul_write_once(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* a == b, ignoring one trailing newline of a (like sysfs_streq) */
static inline int fewmul_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (!*a || (*a == '\n' && !a[1])) && !*b;
}

#endif /* __KERNEL__ */

#endif /* _FEWMUL_SHIM_H */
