// SPDX-License-Identifier: GPL-2.0
/*
 * fewmul: the simd= module parameter.
 *
 * simd=auto (default) runs the integer vector kernels the CPU supports
 * (AVX2 on x86-64, NEON on arm64), simd=off the general-register engine
 * only; a kernel implementation can also be named (simd=avx2, simd=neon,
 * simd=generic). Read-only after load: the choice is made once, before
 * any context exists, and the weights are bit-identical whatever it is.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "fewmul_simd.h"

static int fewmul_simd_param_set(const char *val, const struct kernel_param *kp)
{
	int ret = fewmul_simd_select(val);

	if (ret)
		pr_err("simd=%s: unknown, or not supported by this CPU\n", val);
	else
		pr_info("integer vector kernels: %s\n", fewmul_simd_name());
	return ret;
}

static int fewmul_simd_param_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", fewmul_simd_name());
}

static const struct kernel_param_ops fewmul_simd_param_ops = {
	.set = fewmul_simd_param_set,
	.get = fewmul_simd_param_get,
};

module_param_cb(simd, &fewmul_simd_param_ops, NULL, 0444);
MODULE_PARM_DESC(simd,
		 "integer vector kernels: auto (default), off, or avx2/neon/generic");
