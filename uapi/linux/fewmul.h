/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fewmul: integer-only, shift-based neural network training.
 *
 * This header is the whole ABI between fewmul.ko and userspace: the ioctls
 * of /dev/fewmul and the names of the "fewmul" generic netlink family.
 *
 * Conventions (Documentation/process/botching-up-ioctls.rst):
 *
 * - Every ioctl argument is a struct whose first field is @size, the size
 *   of the struct as userspace knows it. The kernel accepts smaller (older)
 *   and larger (newer) structs as long as the bytes it does not know are
 *   zero (-E2BIG otherwise), so structs can grow at the end.
 * - Every struct has a @flags field; bits outside the FEWMUL_*_FLAGS_ALL
 *   mask of that struct are rejected with -EINVAL.
 * - Padding and reserved fields must be zero on input (-EINVAL otherwise)
 *   and are zero on output.
 * - Pointers are passed as __u64, all structs are padded to 64 bits.
 */
#ifndef _UAPI_LINUX_FEWMUL_H
#define _UAPI_LINUX_FEWMUL_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/* Bumped only for incompatible changes; new features are feature bits. */
#define FEWMUL_ABI_VERSION	1

#define FEWMUL_DEVICE_NAME	"fewmul"

/* ioctl type byte; not used by any other driver in ioctl-number.rst. */
#define FEWMUL_IOC_TYPE		0xF7

/**
 * enum fewmul_ioc_nr - ioctl command numbers
 * @FEWMUL_IOC_NR_INFO: &struct fewmul_info
 *
 * Numbers are never reused; a removed command keeps its slot.
 */
enum fewmul_ioc_nr {
	FEWMUL_IOC_NR_INFO = 0x00,
};

/*
 * Feature bits reported in &fewmul_info.features and in the genetlink
 * attribute %FEWMUL_A_INFO_FEATURES.
 */
/* FEWMUL_IOC_INFO is available (always set). */
#define FEWMUL_FEATURE_INFO		_BITULL(0)
/* The "fewmul" generic netlink family answers %FEWMUL_CMD_GET_INFO. */
#define FEWMUL_FEATURE_GENL_INFO	_BITULL(1)

/* Flags of &struct fewmul_info: none defined yet. */
#define FEWMUL_INFO_FLAGS_ALL		0U

/**
 * struct fewmul_info - device information (FEWMUL_IOC_INFO)
 * @size: In: sizeof(struct fewmul_info) as known to the caller. Must be
 *	at least offsetofend(struct fewmul_info, max_scratch_bytes).
 * @flags: In: must be zero (no flags are defined).
 * @abi_version: Out: %FEWMUL_ABI_VERSION of the running module.
 * @nr_workers: Out: number of kernel worker threads a training step uses.
 * @features: Out: bitmask of FEWMUL_FEATURE_*.
 * @max_layers: Out: largest number of weight layers a model may have.
 * @max_width: Out: largest number of units in any layer (input included).
 * @max_batch: Out: largest minibatch size.
 * @pad: In: must be zero. Out: zero.
 * @max_scratch_bytes: Out: per-context limit on kernel scratch memory.
 *
 * Out fields are written for the first @size bytes only; a caller that
 * passes a newer, larger struct gets zeros in the fields this module does
 * not know.
 */
struct fewmul_info {
	__u32 size;
	__u32 flags;
	__u32 abi_version;
	__u32 nr_workers;
	__u64 features;
	__u32 max_layers;
	__u32 max_width;
	__u32 max_batch;
	__u32 pad;
	__u64 max_scratch_bytes;
};

#define FEWMUL_IOC_INFO		_IO(FEWMUL_IOC_TYPE, FEWMUL_IOC_NR_INFO)

/*
 * Generic netlink family "fewmul". Requests carry no fixed header beyond
 * struct genlmsghdr; every attribute is validated strictly.
 * Documentation/netlink/specs/fewmul.yaml is the spec.
 */
#define FEWMUL_GENL_NAME		"fewmul"
#define FEWMUL_GENL_VERSION		1
#define FEWMUL_GENL_MCGRP_EVENTS	"events"

/**
 * enum fewmul_genl_cmd - generic netlink commands
 * @FEWMUL_CMD_UNSPEC: invalid
 * @FEWMUL_CMD_GET_INFO: do: device information, reply attributes are
 *	&enum fewmul_info_attrs. The request takes no attributes.
 * @__FEWMUL_CMD_MAX: internal
 */
enum fewmul_genl_cmd {
	FEWMUL_CMD_UNSPEC,
	FEWMUL_CMD_GET_INFO,
	__FEWMUL_CMD_MAX,
};

#define FEWMUL_CMD_MAX (__FEWMUL_CMD_MAX - 1)

/**
 * enum fewmul_info_attrs - attributes of a %FEWMUL_CMD_GET_INFO reply
 * @FEWMUL_A_INFO_UNSPEC: invalid
 * @FEWMUL_A_INFO_PAD: padding for 64-bit attributes
 * @FEWMUL_A_INFO_ABI_VERSION: u32, as &fewmul_info.abi_version
 * @FEWMUL_A_INFO_FEATURES: u64, as &fewmul_info.features
 * @FEWMUL_A_INFO_NR_WORKERS: u32, as &fewmul_info.nr_workers
 * @FEWMUL_A_INFO_MAX_LAYERS: u32, as &fewmul_info.max_layers
 * @FEWMUL_A_INFO_MAX_WIDTH: u32, as &fewmul_info.max_width
 * @FEWMUL_A_INFO_MAX_BATCH: u32, as &fewmul_info.max_batch
 * @FEWMUL_A_INFO_MAX_SCRATCH: u64, as &fewmul_info.max_scratch_bytes
 * @FEWMUL_A_INFO_NR_CONTEXTS: u32, number of open contexts (all users)
 * @FEWMUL_A_INFO_MODULE_VERSION: string, the module's version
 * @__FEWMUL_A_INFO_MAX: internal
 */
enum fewmul_info_attrs {
	FEWMUL_A_INFO_UNSPEC,
	FEWMUL_A_INFO_PAD,
	FEWMUL_A_INFO_ABI_VERSION,
	FEWMUL_A_INFO_FEATURES,
	FEWMUL_A_INFO_NR_WORKERS,
	FEWMUL_A_INFO_MAX_LAYERS,
	FEWMUL_A_INFO_MAX_WIDTH,
	FEWMUL_A_INFO_MAX_BATCH,
	FEWMUL_A_INFO_MAX_SCRATCH,
	FEWMUL_A_INFO_NR_CONTEXTS,
	FEWMUL_A_INFO_MODULE_VERSION,
	__FEWMUL_A_INFO_MAX,
};

#define FEWMUL_A_INFO_MAX (__FEWMUL_A_INFO_MAX - 1)

#endif /* _UAPI_LINUX_FEWMUL_H */
