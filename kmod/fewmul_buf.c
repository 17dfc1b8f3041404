// SPDX-License-Identifier: GPL-2.0
/*
 * fewmul: registered user buffers.
 *
 * A buffer is anonymous user memory pinned with FOLL_LONGTERM for as long
 * as it is registered, mapped contiguously into the kernel with vmap() so
 * that the engine sees plain arrays. Its pages are charged, as io_uring's
 * __io_account_mem() charges them, to the registering *user*
 * (user_struct->locked_vm, checked against RLIMIT_MEMLOCK unless
 * CAP_IPC_LOCK) and shown in the registering process's pinned_vm (VmPin).
 * A per-process charge could be multiplied with fork(): a child inherits
 * the file, registers up to its own limit and exits, and the pins stay
 * with the file while the charge sits on a dead mm. The per-user counter
 * is shared by all of a user's processes, and the charge is taken back
 * from the same user and mm when the buffer goes, whichever process
 * closes the file.
 */
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "fewmul.h"

#define FEWMUL_BUF_REG_SIZE_VER1 \
	offsetofend(struct fewmul_buf_register, pad)
#define FEWMUL_BUF_UNREG_SIZE_VER1 \
	offsetofend(struct fewmul_buf_unregister, pad)

/*
 * Only anonymous memory: a pinned page cache page would be written
 * behind the file system's back (and 6.1 would let FOLL_LONGTERM pin it).
 * *@writable: every VMA of the range may be written.
 */
static int fewmul_buf_check_vmas(u64 start, u64 end, bool *writable)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	int ret = 0;

	*writable = true;
	mmap_read_lock(mm);
	while (start < end) {
		vma = vma_lookup(mm, start);
		if (!vma || vma->vm_flags & (VM_IO | VM_PFNMAP)) {
			ret = -EFAULT;
			break;
		}
		if (vma->vm_file) {
			ret = -EOPNOTSUPP;
			break;
		}
		if (!(vma->vm_flags & VM_WRITE))
			*writable = false;
		start = vma->vm_end;
	}
	mmap_read_unlock(mm);
	return ret;
}

/**
 * fewmul_buf_charge() - charge @buf's pages to the calling user and mm
 * @buf: the buffer, with @nr_pages set
 *
 * The user's locked_vm may not pass RLIMIT_MEMLOCK unless the caller has
 * CAP_IPC_LOCK (then it is charged but not limited). On success @buf
 * holds a reference to the user and to the mm that are charged.
 *
 * Return: 0, or -ENOMEM above the limit.
 */
static int fewmul_buf_charge(struct fewmul_buf *buf)
{
	struct user_struct *user = current_user();
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	unsigned long cur, new;

	if (capable(CAP_IPC_LOCK))
		limit = ULONG_MAX;
	cur = atomic_long_read(&user->locked_vm);
	do {
		if (check_add_overflow(cur, buf->nr_pages, &new) ||
		    new > limit)
			return -ENOMEM;
	} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur, new));

	buf->user = get_uid(user);
	buf->mm = current->mm;
	mmgrab(buf->mm);
	atomic64_add(buf->nr_pages, &buf->mm->pinned_vm);
	return 0;
}

/* Give the charge back to the user and mm that were charged. */
static void fewmul_buf_uncharge(struct fewmul_buf *buf)
{
	atomic64_sub(buf->nr_pages, &buf->mm->pinned_vm);
	mmdrop(buf->mm);
	atomic_long_sub(buf->nr_pages, &buf->user->locked_vm);
	free_uid(buf->user);
}

static void fewmul_buf_free(struct fewmul_buf *buf)
{
	vunmap(buf->vaddr);
	unpin_user_pages_dirty_lock(buf->pages, buf->nr_pages, buf->write);
	kvfree(buf->pages);
	fewmul_buf_uncharge(buf);
	kfree(buf);
}

/*
 * What was pinned, checked again: the VMAs were checked under mmap_lock,
 * which is dropped before pinning, so another thread may have mapped a
 * file over the range meanwhile. Every page must be the process's
 * anonymous memory, and none the shared zero page (an untouched page of
 * a read-only mapping: the process's later writes would not reach it).
 */
static int fewmul_buf_check_pages(struct page **pages, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		if (!PageAnon(pages[i]) || is_zero_pfn(page_to_pfn(pages[i])))
			return -EOPNOTSUPP;
	return 0;
}

static int fewmul_buf_pin(struct fewmul_buf *buf)
{
	u64 first = buf->addr & PAGE_MASK;
	unsigned int gup = FOLL_LONGTERM;
	bool writable;
	int ret, pinned;

	buf->pages = kvmalloc_array(buf->nr_pages, sizeof(*buf->pages),
				    GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!buf->pages)
		return -ENOMEM;

	ret = fewmul_buf_check_vmas(first, buf->addr + buf->length, &writable);
	if (ret)
		goto err_pages;

	/*
	 * Writable memory is pinned for writing even when the module only
	 * reads it: that faults in the process's own pages (not the zero
	 * page, nor a page still shared copy-on-write with a fork).
	 */
	if (buf->write || writable)
		gup |= FOLL_WRITE;
	pinned = pin_user_pages_fast(first, buf->nr_pages, gup, buf->pages);
	if (pinned < 0) {
		ret = pinned;
		goto err_pages;
	}
	if (pinned != buf->nr_pages) {
		ret = -EFAULT;
		goto err_unpin;
	}
	ret = fewmul_buf_check_pages(buf->pages, pinned);
	if (ret)
		goto err_unpin;

	buf->vaddr = vmap(buf->pages, buf->nr_pages, VM_MAP, PAGE_KERNEL);
	if (!buf->vaddr) {
		ret = -ENOMEM;
		goto err_unpin;
	}
	buf->data = (u8 *)buf->vaddr + offset_in_page(buf->addr);
	return 0;

err_unpin:
	unpin_user_pages(buf->pages, pinned);
err_pages:
	kvfree(buf->pages);
	return ret;
}

int fewmul_ioctl_buf_register(struct fewmul_ctx *ctx, void __user *uarg, u32 csize)
{
	struct fewmul_buf_register arg;
	struct fewmul_buf *buf;
	unsigned int slot;
	u64 end;
	u32 usize;
	int ret;

	ret = fewmul_copy_arg(&arg, sizeof(arg), FEWMUL_BUF_REG_SIZE_VER1,
			      uarg, csize, &usize);
	if (ret)
		return ret;
	if (arg.flags & ~FEWMUL_BUF_FLAGS_ALL || arg.pad)
		return -EINVAL;
	if (!arg.length || arg.length > FEWMUL_MAX_BUF_BYTES ||
	    check_add_overflow(arg.addr, arg.length, &end))
		return -EINVAL;

	for (slot = 0; slot < FEWMUL_MAX_BUFFERS; slot++)
		if (!ctx->bufs[slot])
			break;
	if (slot == FEWMUL_MAX_BUFFERS)
		return -ENOSPC;

	buf = kzalloc(sizeof(*buf), GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	buf->addr = arg.addr;
	buf->length = arg.length;
	buf->write = arg.flags & FEWMUL_BUF_WRITE;
	buf->nr_pages = ((end - 1) >> PAGE_SHIFT) - (arg.addr >> PAGE_SHIFT) + 1;

	/* Charge first: the limit is checked before any memory is pinned. */
	ret = fewmul_buf_charge(buf);
	if (ret)
		goto err_free;

	ret = fewmul_buf_pin(buf);
	if (ret)
		goto err_account;

	arg.handle = slot + 1;
	if (copy_to_user(uarg, &arg, min_t(size_t, usize, sizeof(arg)))) {
		fewmul_buf_free(buf);
		return -EFAULT;
	}
	ctx->bufs[slot] = buf;
	return 0;

err_account:
	fewmul_buf_uncharge(buf);
err_free:
	kfree(buf);
	return ret;
}

struct fewmul_buf *fewmul_buf_get(struct fewmul_ctx *ctx, u32 handle)
{
	if (handle < 1 || handle > FEWMUL_MAX_BUFFERS)
		return NULL;
	return ctx->bufs[handle - 1];
}

int fewmul_ioctl_buf_unregister(struct fewmul_ctx *ctx, void __user *uarg, u32 csize)
{
	struct fewmul_buf_unregister arg;
	struct fewmul_buf *buf;
	u32 usize;
	int ret;

	ret = fewmul_copy_arg(&arg, sizeof(arg), FEWMUL_BUF_UNREG_SIZE_VER1,
			      uarg, csize, &usize);
	if (ret)
		return ret;
	if (arg.flags || arg.pad)
		return -EINVAL;
	buf = fewmul_buf_get(ctx, arg.handle);
	if (!buf)
		return -ENOENT;
	if (buf->users)
		return -EBUSY;
	ctx->bufs[arg.handle - 1] = NULL;
	fewmul_buf_free(buf);
	return 0;
}

/* Release every buffer (the file is going away, the model is gone). */
void fewmul_bufs_release(struct fewmul_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < FEWMUL_MAX_BUFFERS; i++) {
		if (ctx->bufs[i]) {
			fewmul_buf_free(ctx->bufs[i]);
			ctx->bufs[i] = NULL;
		}
	}
}
