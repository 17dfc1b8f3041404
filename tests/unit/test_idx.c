// SPDX-License-Identifier: GPL-2.0
/*
 * IDX reader: a valid file (plain and gzip'd) loads; every malformed
 * variant fails with -EBADMSG and a message saying what is wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "libfewmul.h"
#include "unit/tap.h"

static char dir[] = "/tmp/fewmul-idx-XXXXXX";

static void put32(unsigned char *p, unsigned int v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Write an image file of n items of r x c (pixel = item + index). */
static void write_images(const char *name, unsigned int magic, unsigned int n,
			 unsigned int r, unsigned int c, long trunc, int extra,
			 int gz)
{
	size_t len = 16 + (size_t)n * r * c + (extra ? 1 : 0);
	unsigned char *buf = calloc(1, len);
	char path[256];
	size_t i;

	put32(buf, magic);
	put32(buf + 4, n);
	put32(buf + 8, r);
	put32(buf + 12, c);
	for (i = 16; i < len; i++)
		buf[i] = (unsigned char)i;
	if (trunc >= 0)
		len = (size_t)trunc;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (gz) {
		gzFile f = gzopen(path, "wb");

		gzwrite(f, buf, (unsigned int)len);
		gzclose(f);
	} else {
		FILE *f = fopen(path, "wb");

		fwrite(buf, 1, len, f);
		fclose(f);
	}
	free(buf);
}

static void write_labels(const char *name, unsigned int magic, unsigned int n,
			 unsigned char bad, int gz)
{
	unsigned char buf[8 + 64];
	char path[256];
	unsigned int i;

	put32(buf, magic);
	put32(buf + 4, n);
	for (i = 0; i < n && i < 64; i++)
		buf[8 + i] = i % 10;
	if (bad)
		buf[8 + n - 1] = bad;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (gz) {
		gzFile f = gzopen(path, "wb");

		gzwrite(f, buf, 8 + n);
		gzclose(f);
	} else {
		FILE *f = fopen(path, "wb");

		fwrite(buf, 1, 8 + n, f);
		fclose(f);
	}
}

static int load(const char *im, const char *lb, struct fewmul_dataset *ds)
{
	char a[256], b[256];

	snprintf(a, sizeof(a), "%s/%s", dir, im);
	snprintf(b, sizeof(b), "%s/%s", dir, lb);
	return fewmul_dataset_load(a, b, ds);
}

static void expect_bad(const char *name, const char *im, const char *lb,
		       const char *msg)
{
	struct fewmul_dataset ds;

	tap_begin();
	CHECK_EQ(load(im, lb, &ds), -EBADMSG);
	CHECK(strstr(ds.error, msg) != NULL);
	if (!strstr(ds.error, msg))
		printf("#   error was: %s\n", ds.error);
	CHECK(ds.images == NULL && ds.labels == NULL);
	tap_end(name);
}

int main(void)
{
	struct fewmul_dataset ds;
	char path[300];

	if (!mkdtemp(dir))
		return 1;
	write_images("ok-img", 0x803, 5, 3, 4, -1, 0, 0);
	write_labels("ok-lbl", 0x801, 5, 0, 0);
	write_images("ok-img.gz", 0x803, 5, 3, 4, -1, 0, 1);
	write_labels("ok-lbl.gz", 0x801, 5, 0, 1);
	write_images("magic-img", 0x804, 5, 3, 4, -1, 0, 0);
	write_labels("magic-lbl", 0x803, 5, 0, 0);
	write_images("trunc-img", 0x803, 5, 3, 4, 16 + 59, 0, 0);
	write_images("trunc-hdr", 0x803, 5, 3, 4, 10, 0, 0);
	write_images("extra-img", 0x803, 5, 3, 4, -1, 1, 0);
	write_images("shape-img", 0x803, 5, 0, 4, -1, 0, 0);
	write_images("huge-img", 0x803, 5, 100, 100, -1, 0, 0);
	write_labels("count-lbl", 0x801, 4, 0, 0);
	write_labels("badlabel-lbl", 0x801, 5, 10, 0);

	tap_begin();
	CHECK_EQ(load("ok-img", "ok-lbl", &ds), 0);
	CHECK_EQ(ds.count, 5);
	CHECK_EQ(ds.rows, 3);
	CHECK_EQ(ds.cols, 4);
	CHECK_EQ(ds.images[0], 16);
	CHECK_EQ(ds.images[59], (unsigned char)(16 + 59));
	CHECK_EQ(ds.labels[4], 4);
	fewmul_dataset_free(&ds);
	tap_end("valid plain IDX loads with the right shape and content");

	tap_begin();
	CHECK_EQ(load("ok-img.gz", "ok-lbl.gz", &ds), 0);
	CHECK_EQ(ds.count, 5);
	CHECK_EQ(ds.images[59], (unsigned char)(16 + 59));
	fewmul_dataset_free(&ds);
	tap_end("valid gzip'd IDX loads");

	tap_begin();
	CHECK_EQ(load("missing", "ok-lbl", &ds), -ENOENT);
	CHECK(strstr(ds.error, "missing") != NULL);
	tap_end("missing file gives -ENOENT naming the file");

	expect_bad("bad image magic", "magic-img", "ok-lbl", "bad magic 0x00000804");
	expect_bad("bad label magic", "ok-img", "magic-lbl", "bad magic 0x00000803");
	expect_bad("truncated images", "trunc-img", "ok-lbl", "truncated: header says 5 images");
	expect_bad("truncated header", "trunc-hdr", "ok-lbl", "truncated header");
	expect_bad("trailing data", "extra-img", "ok-lbl", "trailing data");
	expect_bad("zero rows", "shape-img", "ok-lbl", "unsupported shape 5 x 0 x 4");
	expect_bad("too many pixels", "huge-img", "ok-lbl", "unsupported shape");
	expect_bad("label count mismatch", "ok-img", "count-lbl", "4 labels for 5 images");
	expect_bad("label out of range", "ok-img", "badlabel-lbl", "label 10 of item 4");

	tap_begin();
	snprintf(path, sizeof(path), "%s/ok-img.gz", dir);
	CHECK_EQ(fewmul_images_load(path, &ds), 0);
	CHECK_EQ(ds.count, 5);
	CHECK_EQ(ds.rows, 3);
	CHECK_EQ(ds.cols, 4);
	CHECK_EQ(ds.images[59], (unsigned char)(16 + 59));
	CHECK(ds.labels == NULL);
	fewmul_dataset_free(&ds);
	snprintf(path, sizeof(path), "%s/extra-img", dir);
	CHECK_EQ(fewmul_images_load(path, &ds), -EBADMSG);
	CHECK(strstr(ds.error, "trailing data") != NULL);
	CHECK(ds.images == NULL && ds.count == 0);
	snprintf(path, sizeof(path), "%s/magic-img", dir);
	CHECK_EQ(fewmul_images_load(path, &ds), -EBADMSG);
	CHECK(strstr(ds.error, "bad magic 0x00000804") != NULL);
	CHECK_EQ(fewmul_images_load(NULL, &ds), -EINVAL);
	tap_end("fewmul_images_load reads an image file alone, with the same checks");

	tap_begin();
	CHECK_EQ(fewmul_dataset_load(NULL, NULL, &ds), -EINVAL);
	fewmul_dataset_free(NULL);
	tap_end("NULL arguments give -EINVAL");

	if (system("rm -rf /tmp/fewmul-idx-*") != 0)
		printf("# cleanup failed\n");
	return tap_done();
}
