// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl output: every file the tool writes, and its standard output,
 * checked. Files are replaced through libfewmul's fewmul_outfile (never a
 * device, FIFO or directory; symbolic links followed; the old file's mode
 * kept); standard output is flushed and closed before exit, so a full
 * disk or a closed pipe is an error with exit status 1, not lost output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libfewmul.h"
#include "fewmulctl.h"

int check_outfile(const char *opt, const char *path)
{
	char err[512];

	if (fewmul_outfile_check(path, err, sizeof(err))) {
		fewmulctl_errx("%s %s", opt, err);
		return -1;
	}
	return 0;
}

int open_outfile(const char *opt, const char *path, struct fewmul_outfile **of,
		 FILE **f)
{
	char err[512];
	int fd;

	if (fewmul_outfile_open(path, of, err, sizeof(err))) {
		fewmulctl_errx("%s %s", opt, err);
		return -1;
	}
	fd = dup(fewmul_outfile_fd(*of));
	*f = fd < 0 ? NULL : fdopen(fd, "wb");
	if (!*f) {
		fewmulctl_err(path, -errno);
		if (fd >= 0)
			close(fd);
		fewmul_outfile_abort(*of);
		*of = NULL;
		return -1;
	}
	return 0;
}

int close_outfile(struct fewmul_outfile *of)
{
	char err[512];

	if (fewmul_outfile_commit(of, err, sizeof(err))) {
		fewmulctl_errx("%s", err);
		return -1;
	}
	return 0;
}

int check_appendable(const char *opt, const char *path)
{
	char dir[4096];
	const char *slash;
	struct stat st;

	if (!stat(path, &st)) {
		if (S_ISDIR(st.st_mode)) {
			fewmulctl_errx("%s %s: a directory, not a file", opt, path);
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			fewmulctl_errx("%s %s: not a regular file (a device, FIFO or socket); want a file to append to",
				       opt, path);
			return -1;
		}
		if (access(path, W_OK)) {
			fewmulctl_errx("%s %s: %s", opt, path, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		fewmulctl_errx("%s %s: %s", opt, path, strerror(errno));
		return -1;
	}
	slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + 1 : 1,
		 slash ? path : ".");
	if (access(dir, W_OK | X_OK)) {
		fewmulctl_errx("%s %s: cannot create it in %s: %s", opt, path, dir,
			       strerror(errno));
		return -1;
	}
	return 0;
}

/* errno of the first failed flush of stdout (0: none) */
static int stdout_errno;

int flush_out(FILE *f)
{
	errno = 0;
	if (!fflush(f))
		return 0;
	if (f == stdout && !stdout_errno)
		stdout_errno = errno ? errno : EIO;
	return -1;
}

/* The error of stdout so far: 0 or an errno value. */
static int stdout_error(void)
{
	if (flush_out(stdout) || ferror(stdout))
		return stdout_errno ? stdout_errno : EIO;
	return 0;
}

int check_stdout(void)
{
	int err = stdout_error();

	if (err) {
		fewmulctl_err("standard output", -err);
		clearerr(stdout);
		stdout_errno = 0;
		return -1;
	}
	return 0;
}

int close_stdout(void)
{
	int err = stdout_error();

	if (fclose(stdout) && !err && errno != EBADF)
		err = errno ? errno : EIO;
	if (err)
		fewmulctl_err("standard output", -err);
	/* stderr is unbuffered: a failed error message has set its flag */
	if (fflush(stderr) || ferror(stderr))
		return -1;
	return err ? -1 : 0;
}
