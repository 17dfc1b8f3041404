/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The encodings of a fewmul command, for tests of the command checks:
 * ioc_sized() is cmd in its _IOWR() form with another size (for a struct
 * whose @size field says that size: a newer or a truncated struct), or
 * the first modules' _IO() form when the size does not fit the encoding.
 */
#ifndef FEWMUL_TEST_IOC_H
#define FEWMUL_TEST_IOC_H

#include <sys/ioctl.h>
#include <linux/fewmul.h>

static inline unsigned long ioc_sized(unsigned long cmd, unsigned long size)
{
	if (!size || size > _IOC_SIZEMASK)
		return FEWMUL_IOC_LEGACY(_IOC_NR(cmd));
	return _IOC(_IOC_READ | _IOC_WRITE, FEWMUL_IOC_TYPE, _IOC_NR(cmd), size);
}

/* cmd with another direction and its own size. */
static inline unsigned long ioc_dir(unsigned long cmd, unsigned int dir)
{
	return _IOC(dir, FEWMUL_IOC_TYPE, _IOC_NR(cmd), _IOC_SIZE(cmd));
}

#endif
