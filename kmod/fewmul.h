/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fewmul: module-internal declarations shared by the kmod/ files.
 */
#ifndef _FEWMUL_H
#define _FEWMUL_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/fewmul.h>

#define FEWMUL_VERSION		"0.1.0"

/* Hard limits, reported through FEWMUL_IOC_INFO and genetlink. */
#define FEWMUL_MAX_LAYERS	16
#define FEWMUL_MAX_WIDTH	4096
#define FEWMUL_MAX_BATCH	4096

/* Largest argument struct accepted from userspace, whatever its version. */
#define FEWMUL_MAX_ARG_SIZE	PAGE_SIZE

/**
 * struct fewmul_ctx - one training context, owned by an open file
 * @ref: references: the file holds one; long-running work takes its own
 * @lock: serializes ioctls on this context
 * @node: entry in the global context list (fewmul_ctx_list_lock)
 * @id: unique id, never reused while the module is loaded
 * @owner_tgid: thread group that opened the device
 * @owner_uid: effective uid of the opener
 */
struct fewmul_ctx {
	struct kref ref;
	struct mutex lock;	/* serializes ioctls on this context */
	struct list_head node;
	u64 id;
	pid_t owner_tgid;
	kuid_t owner_uid;
};

void fewmul_fill_info(struct fewmul_info *info);
unsigned int fewmul_nr_contexts(void);

int fewmul_genl_init(void);
void fewmul_genl_exit(void);

#endif /* _FEWMUL_H */
