// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libfewmul: which vector kernels the cpu backend's engine runs.
 *
 * Until fewmul_simd_set() is called, FEWMUL_SIMD in the environment
 * chooses at first use (kmod/core/fewmul_shim.h): "auto" (default), "off"
 * (the general-register engine), or an implementation by name ("avx2"
 * on x86-64, "neon" on arm64, "generic"); an unknown name means auto.
 * Results are bit-identical whatever the choice.
 */
#include "internal.h"
#include "fewmul_simd.h"

FEWMUL_API int fewmul_simd_set(const char *name)
{
	return fewmul_simd_select(name);
}

FEWMUL_API const char *fewmul_simd_impl(void)
{
	return fewmul_simd_name();
}
