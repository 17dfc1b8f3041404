// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libfewmul: output files that are replaced atomically and never destroy
 * what was there.
 *
 * The target of a path is the path itself or, for a symbolic link, the
 * file the chain of links finally names (which may not exist yet). It
 * must be a regular file or not exist: a device, FIFO, socket or
 * directory is refused, never replaced. The data goes to a temporary file
 * beside the target, created with 0666 & ~umask or given the existing
 * file's mode (and owner, where permitted); it is synced and renamed over
 * the target, and the directory is synced. So the target is either the
 * old file or the complete new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

struct fewmul_outfile {
	int fd;
	char target[PATH_MAX];
	char tmp[PATH_MAX + 16];
};

static int of_fail(char *err, size_t len, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return code;
}

static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/*
 * Follow path through symbolic links to the file it names: target (which
 * may not exist: *st_mode = 0) and its mode. 0 or -errno with err set.
 */
static int of_target(const char *path, char *target, size_t len,
		     mode_t *st_mode, struct stat *st, char *err, size_t errlen)
{
	char link[PATH_MAX], next[PATH_MAX];
	unsigned int hops;
	const char *slash;
	ssize_t n;

	if (!*path)
		return of_fail(err, errlen, -ENOENT, "empty file name");
	if (strlen(path) >= len)
		return of_fail(err, errlen, -ENAMETOOLONG, "%s: name too long", path);
	strcpy(target, path);
	for (hops = 0;; hops++) {
		if (lstat(target, st)) {
			if (errno != ENOENT)
				return of_fail(err, errlen, -errno, "%s: %s", target,
					       strerror(errno));
			*st_mode = 0;
			return 0;
		}
		if (!S_ISLNK(st->st_mode))
			break;
		if (hops >= 40)
			return of_fail(err, errlen, -ELOOP, "%s: %s", path,
				       strerror(ELOOP));
		n = readlink(target, link, sizeof(link) - 1);
		if (n < 0)
			return of_fail(err, errlen, -errno, "%s: %s", target,
				       strerror(errno));
		link[n] = '\0';
		slash = strrchr(target, '/');
		if (link[0] == '/' || !slash)
			n = snprintf(next, sizeof(next), "%s", link);
		else
			n = snprintf(next, sizeof(next), "%.*s/%s",
				     (int)(slash - target), target, link);
		if ((size_t)n >= sizeof(next) || (size_t)n >= len)
			return of_fail(err, errlen, -ENAMETOOLONG, "%s: name too long",
				       path);
		strcpy(target, next);
	}
	*st_mode = st->st_mode;
	if (!S_ISREG(st->st_mode)) {
		if (strcmp(path, target))
			return of_fail(err, errlen, S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL,
				       "%s: links to %s, %s; refusing to replace it",
				       path, target, file_kind(st->st_mode));
		return of_fail(err, errlen, S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL,
			       "%s: %s, not a regular file; refusing to replace it",
			       path, file_kind(st->st_mode));
	}
	return 0;
}

/* A new file beside the target: 0666 & ~umask, as open(2) makes it. */
static int of_create_tmp(struct fewmul_outfile *o, char *err, size_t errlen)
{
	static unsigned int counter;
	struct timespec ts;
	unsigned int i, r;

	clock_gettime(CLOCK_REALTIME, &ts);
	r = (unsigned int)ts.tv_nsec ^ ((unsigned int)getpid() << 12);
	for (i = 0; i < 100; i++) {
		r = r * 1103515245u + 12345u + __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
		snprintf(o->tmp, sizeof(o->tmp), "%s.tmp%06x", o->target,
			 (r >> 8) & 0xffffff);
		o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (o->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	return of_fail(err, errlen, -errno, "%s: cannot create a temporary file beside it: %s",
		       o->target, strerror(errno));
}

FEWMUL_API int fewmul_outfile_open(const char *path, struct fewmul_outfile **out,
				   char *err, size_t errlen)
{
	struct fewmul_outfile *o;
	struct stat st;
	mode_t mode;
	int ret;

	if (!path || !out)
		return -EINVAL;
	*out = NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return of_fail(err, errlen, -ENOMEM, "out of memory");
	o->fd = -1;
	ret = of_target(path, o->target, sizeof(o->target), &mode, &st, err, errlen);
	if (!ret)
		ret = of_create_tmp(o, err, errlen);
	if (ret) {
		free(o);
		return ret;
	}
	if (mode) {	/* keep the replaced file's owner and mode */
		if ((st.st_uid != geteuid() || st.st_gid != getegid()) &&
		    fchown(o->fd, st.st_uid, st.st_gid) &&
		    fchown(o->fd, (uid_t)-1, st.st_gid)) {
			/* best effort: what we cannot give away stays ours */
		}
		(void)fchmod(o->fd, st.st_mode & 07777);
	}
	*out = o;
	return 0;
}

FEWMUL_API int fewmul_outfile_fd(const struct fewmul_outfile *o)
{
	return o ? o->fd : -EINVAL;
}

FEWMUL_API void fewmul_outfile_abort(struct fewmul_outfile *o)
{
	if (!o)
		return;
	if (o->fd >= 0)
		close(o->fd);
	unlink(o->tmp);
	free(o);
}

FEWMUL_API int fewmul_outfile_commit(struct fewmul_outfile *o, char *err,
				     size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash;
	int ret, dfd;

	if (!o)
		return -EINVAL;
	if (fsync(o->fd)) {
		ret = of_fail(err, errlen, -errno, "%s: %s", o->target, strerror(errno));
		goto fail;
	}
	ret = close(o->fd);
	o->fd = -1;
	if (ret) {
		ret = of_fail(err, errlen, -errno, "%s: %s", o->target, strerror(errno));
		goto fail;
	}
	if (rename(o->tmp, o->target)) {
		ret = of_fail(err, errlen, -errno, "%s: rename failed: %s", o->target,
			      strerror(errno));
		goto fail;
	}
	/* make the rename itself durable */
	slash = strrchr(o->target, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - o->target) + 1 : 1,
		 slash ? o->target : ".");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(o);
	return 0;
fail:
	fewmul_outfile_abort(o);
	return ret;
}

FEWMUL_API int fewmul_outfile_check(const char *path, char *err, size_t errlen)
{
	struct fewmul_outfile *o;
	int ret;

	ret = fewmul_outfile_open(path, &o, err, errlen);
	if (!ret)
		fewmul_outfile_abort(o);
	return ret;
}
