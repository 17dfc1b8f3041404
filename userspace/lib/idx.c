// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libfewmul: IDX dataset files (the MNIST format), plain or gzip'd.
 *
 * Images: magic 0x00000803 (u8, 3 dimensions), count, rows, cols, pixels.
 * Labels: magic 0x00000801 (u8, 1 dimension), count, labels.
 * All header fields are big-endian. zlib's gzread reads both plain and
 * gzip'd files.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#include "internal.h"

#define IDX_MAX_COUNT	(16u << 20)
#define IDX_MAX_PIXELS	4096u

static int idx_fail(struct fewmul_dataset *ds, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ds->error, sizeof(ds->error), fmt, ap);
	va_end(ap);
	return err;
}

static int idx_read(gzFile f, void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len) {
		unsigned int chunk = len > (1u << 30) ? 1u << 30 : (unsigned int)len;
		int n = gzread(f, p, chunk);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read exactly len bytes into a buffer that grows with the data actually
 * read (at most 16 MiB ahead of it), so a header that claims more than
 * the file holds cannot make us allocate it. Returns the buffer or NULL
 * (*short_read set when the file ended first).
 */
static unsigned char *idx_read_alloc(gzFile f, size_t len, int *short_read)
{
	size_t have = 0, cap = 0, want;
	unsigned char *buf = NULL, *nb;

	*short_read = 0;
	while (have < len) {
		want = len - have < (16u << 20) ? len - have : 16u << 20;
		if (have + want > cap) {
			cap = have + want;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		if (idx_read(f, buf + have, want)) {
			*short_read = 1;
			free(buf);
			return NULL;
		}
		have += want;
	}
	if (!buf)
		buf = malloc(1);
	return buf;
}


static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int idx_open(struct fewmul_dataset *ds, const char *path, gzFile *fp)
{
	gzFile f = gzopen(path, "rb");

	if (!f)
		return idx_fail(ds, errno ? -errno : -ENOMEM, "%s: %s", path,
				strerror(errno ? errno : ENOMEM));
	*fp = f;
	return 0;
}

/* The data must end exactly where the header says. */
static int idx_expect_eof(struct fewmul_dataset *ds, gzFile f, const char *path)
{
	unsigned char c;

	if (gzread(f, &c, 1) != 0)
		return idx_fail(ds, -EBADMSG, "%s: trailing data after the last item", path);
	return 0;
}

/*
 * The images of an IDX3 file into ds (count, rows, cols, images): 0 or a
 * negative errno, ds->error set; nothing allocated on failure.
 */
static int idx_load_images(const char *images, struct fewmul_dataset *ds)
{
	unsigned char hdr[16];
	uint32_t n, rows, cols;
	gzFile f = NULL;
	size_t px;
	int err, short_read;

	err = idx_open(ds, images, &f);
	if (err)
		return err;
	if (idx_read(f, hdr, 16)) {
		err = idx_fail(ds, -EBADMSG, "%s: truncated header (not an IDX file?)", images);
		goto out;
	}
	if (be32(hdr) != 0x00000803) {
		err = idx_fail(ds, -EBADMSG, "%s: bad magic 0x%08x, want 0x00000803 (u8 images, 3 dimensions)",
			       images, be32(hdr));
		goto out;
	}
	n = be32(hdr + 4);
	rows = be32(hdr + 8);
	cols = be32(hdr + 12);
	if (!n || n > IDX_MAX_COUNT || !rows || !cols || rows > IDX_MAX_PIXELS ||
	    cols > IDX_MAX_PIXELS || (size_t)rows * cols > IDX_MAX_PIXELS) {
		err = idx_fail(ds, -EBADMSG, "%s: unsupported shape %u x %u x %u",
			       images, n, rows, cols);
		goto out;
	}
	px = (size_t)rows * cols;
	ds->images = idx_read_alloc(f, (size_t)n * px, &short_read);
	if (!ds->images) {
		err = short_read ?
		      idx_fail(ds, -EBADMSG, "%s: truncated: header says %u images of %u x %u",
			       images, n, rows, cols) :
		      idx_fail(ds, -ENOMEM, "%s: out of memory", images);
		goto out;
	}
	err = idx_expect_eof(ds, f, images);
	if (err) {
		free(ds->images);
		ds->images = NULL;
		goto out;
	}
	ds->count = n;
	ds->rows = rows;
	ds->cols = cols;
out:
	gzclose(f);
	return err;
}

FEWMUL_API int fewmul_images_load(const char *images, struct fewmul_dataset *ds)
{
	if (!images || !ds)
		return -EINVAL;
	memset(ds, 0, sizeof(*ds));
	return idx_load_images(images, ds);
}

FEWMUL_API int fewmul_dataset_load(const char *images, const char *labels,
				   struct fewmul_dataset *ds)
{
	unsigned char hdr[16];
	uint32_t n, nl;
	gzFile f = NULL;
	int err, short_read;

	if (!images || !labels || !ds)
		return -EINVAL;
	memset(ds, 0, sizeof(*ds));

	err = idx_load_images(images, ds);
	if (err)
		return err;
	n = ds->count;
	ds->count = 0;

	err = idx_open(ds, labels, &f);
	if (err)
		goto out;
	if (idx_read(f, hdr, 8)) {
		err = idx_fail(ds, -EBADMSG, "%s: truncated header (not an IDX file?)", labels);
		goto out;
	}
	if (be32(hdr) != 0x00000801) {
		err = idx_fail(ds, -EBADMSG, "%s: bad magic 0x%08x, want 0x00000801 (u8 labels, 1 dimension)",
			       labels, be32(hdr));
		goto out;
	}
	nl = be32(hdr + 4);
	if (nl != n) {
		err = idx_fail(ds, -EBADMSG, "%s: %u labels for %u images", labels, nl, n);
		goto out;
	}
	ds->labels = idx_read_alloc(f, n, &short_read);
	if (!ds->labels) {
		err = short_read ?
		      idx_fail(ds, -EBADMSG, "%s: truncated: header says %u labels", labels, n) :
		      idx_fail(ds, -ENOMEM, "%s: out of memory", labels);
		goto out;
	}
	err = idx_expect_eof(ds, f, labels);
	if (err)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		if (ds->labels[i] > 9) {
			err = idx_fail(ds, -EBADMSG, "%s: label %u of item %u is not a digit class 0..9",
				       labels, ds->labels[i], i);
			goto out;
		}
	}
	ds->count = n;
	ds->classes = 10;
	gzclose(f);
	return 0;
out:
	if (f)
		gzclose(f);
	free(ds->images);
	free(ds->labels);
	ds->images = NULL;
	ds->labels = NULL;
	ds->rows = 0;
	ds->cols = 0;
	return err;
}

static int exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

/* "<dir>/<stem>" or "<dir>/<stem>.gz", whichever exists (plain first). */
static void idx_path(char *buf, size_t len, const char *dir, const char *stem)
{
	snprintf(buf, len, "%s/%s", dir, stem);
	if (exists(buf))
		return;
	snprintf(buf, len, "%s/%s.gz", dir, stem);
}

FEWMUL_API int fewmul_dataset_load_dir(const char *dir, int test,
				       struct fewmul_dataset *ds)
{
	char im[4096], lb[4096];
	const char *ims = test ? "t10k-images-idx3-ubyte" : "train-images-idx3-ubyte";
	const char *lbs = test ? "t10k-labels-idx1-ubyte" : "train-labels-idx1-ubyte";
	struct stat st;

	if (!ds)
		return -EINVAL;
	if (!dir)
		dir = FEWMUL_DEFAULT_DATA_DIR;
	/* say what is wrong with the directory before naming a file in it */
	if (stat(dir, &st))
		return idx_fail(ds, -errno, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return idx_fail(ds, -ENOTDIR, "%s: not a directory", dir);
	idx_path(im, sizeof(im), dir, ims);
	idx_path(lb, sizeof(lb), dir, lbs);
	if (!exists(im) && !exists(lb))
		return idx_fail(ds, -ENOENT, "%s: neither %s[.gz] nor %s[.gz] is there (want the MNIST file names)",
				dir, ims, lbs);
	return fewmul_dataset_load(im, lb, ds);
}

FEWMUL_API void fewmul_dataset_free(struct fewmul_dataset *ds)
{
	if (!ds)
		return;
	free(ds->images);
	free(ds->labels);
	ds->images = NULL;
	ds->labels = NULL;
	ds->count = 0;
}
