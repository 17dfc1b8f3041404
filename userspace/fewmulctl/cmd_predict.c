// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl predict: classify images with a saved model: the predicted
 * class, the true label when it is known and the output layer's scores.
 *
 * One image is test sample --index of --data, a binary PGM (P5, maxval
 * 255), an 8-bit grayscale PNG (libpng) or an IDX3 image file (one
 * image, or --index), plain or gzip'd: zlib reads both, and the first
 * bytes say which format it is. Many images (a range or all of the test
 * split or of an IDX file, a directory of PGM and PNG files, a stream on
 * standard input) go to fewmul_trainer_predict() PREDICT_CHUNK at a time
 * and come out as one CSV line or JSON object each. As eval
 * does, it uses the batch-norm statistics stored in the model at the end
 * of training (no training data needed), or re-estimates them on the
 * first --calib training samples, so predict and eval agree.
 *
 * With the kernel backend (the default when /dev/fewmul exists) the class
 * comes from the device's eval ioctl, which returns classes but not
 * scores; --backend cpu also prints the scores. Both backends compute
 * bit-identical results.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>
#include <zlib.h>

#include "libfewmul.h"
#include "fewmulctl.h"

static const char *const fashion_names[10] = {
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};

/* The image to classify, and where it came from. */
struct image {
	uint8_t *px;
	uint32_t rows, cols;
	int label;		/* -1: unknown */
	const char *kind;	/* "test", "pgm", "png" or "idx" */
};

static int gz_read_all(gzFile f, void *buf, size_t len)
{
	unsigned char *p = buf;
	int n;

	while (len) {
		n = gzread(f, p, len > (1u << 30) ? 1u << 30 : (unsigned int)len);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A PGM header number: whitespace and # comments before it. */
static int pgm_number(gzFile f, uint32_t *out)
{
	uint64_t v = 0;
	int c, digits = 0;

	for (;;) {
		c = gzgetc(f);
		if (c == '#') {
			while (c != '\n' && c != '\r' && c != -1)
				c = gzgetc(f);
			continue;
		}
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r' &&
		    c != '\v' && c != '\f')
			break;
	}
	while (c >= '0' && c <= '9') {
		v = v * 10 + (uint64_t)(c - '0');
		if (v > UINT32_MAX)
			return -1;
		digits++;
		c = gzgetc(f);
	}
	/* one whitespace character ends a number (after maxval: the raster) */
	if (!digits || (c != ' ' && c != '\t' && c != '\n' && c != '\r' &&
			c != '\v' && c != '\f'))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int read_pgm(gzFile f, const char *path, struct image *im)
{
	uint32_t w, h, maxval;

	if (pgm_number(f, &w) || pgm_number(f, &h) || pgm_number(f, &maxval) ||
	    !w || !h) {
		fewmulctl_errx("%s: bad PGM header; want \"P5 WIDTH HEIGHT 255\" and the pixels",
			       path);
		return -1;
	}
	if (maxval != 255) {
		fewmulctl_errx("%s: PGM maxval %u; want 255 (8-bit pixels)", path, maxval);
		return -1;
	}
	if (w != im->cols || h != im->rows) {
		fewmulctl_errx("%s: %ux%u pixels; the model wants %ux%u", path, w, h,
			       im->cols, im->rows);
		return -1;
	}
	im->px = malloc((size_t)w * h);
	if (!im->px) {
		fewmulctl_err(path, -ENOMEM);
		return -1;
	}
	if (gz_read_all(f, im->px, (size_t)w * h)) {
		fewmulctl_errx("%s: truncated: the header says %ux%u pixels", path, w, h);
		return -1;
	}
	if (gzgetc(f) != -1) {
		fewmulctl_errx("%s: trailing data after the image (one image per file)", path);
		return -1;
	}
	im->kind = "pgm";
	return 0;
}

/*
 * An IDX image file: libfewmul reads it (fewmul_images_load()); the
 * header is looked at here only to tell an IDX file from another kind.
 */
static int read_idx(gzFile f, const char *path, const unsigned char *magic,
		    int have_index, uint32_t index, struct image *im)
{
	struct fewmul_dataset ds;
	unsigned char hdr[16];
	uint32_t m, n;
	size_t px;

	memcpy(hdr, magic, 2);
	if (gz_read_all(f, hdr + 2, 14)) {
		fewmulctl_errx("%s: truncated header (not an IDX file?)", path);
		return -1;
	}
	m = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (m != 0x00000803) {
		fewmulctl_errx("%s: bad magic 0x%08x; want a binary PGM (P5) or an IDX image file (0x00000803)",
			       path, m);
		return -1;
	}
	if (fewmul_images_load(path, &ds)) {
		fewmulctl_errx("%s", ds.error);
		return -1;
	}
	n = ds.count;
	px = (size_t)ds.rows * ds.cols;
	if (ds.rows != im->rows || ds.cols != im->cols)
		fewmulctl_errx("%s: %ux%u images; the model wants %ux%u", path, ds.cols,
			       ds.rows, im->cols, im->rows);
	else if (!have_index && n != 1)
		fewmulctl_errx("%s: %u images; choose one with --index 0..%u", path, n,
			       n - 1);
	else if (index >= n)
		fewmulctl_errx("--index %u: %s has %u image%s (0..%u)", index, path, n,
			       n == 1 ? "" : "s", n - 1);
	else if ((im->px = malloc(px)))
		memcpy(im->px, ds.images + (size_t)index * px, px);
	else
		fewmulctl_err(path, -ENOMEM);
	fewmul_dataset_free(&ds);
	if (!im->px)
		return -1;
	im->kind = "idx";
	return 0;
}

static const char *png_color_name(int ctype)
{
	switch (ctype) {
	case PNG_COLOR_TYPE_GRAY:	return "grayscale";
	case PNG_COLOR_TYPE_GRAY_ALPHA:	return "grayscale with alpha";
	case PNG_COLOR_TYPE_PALETTE:	return "palette";
	case PNG_COLOR_TYPE_RGB:	return "RGB";
	case PNG_COLOR_TYPE_RGB_ALPHA:	return "RGBA";
	}
	return "unknown";
}

/* libpng's errors: "fewmulctl: FILE: what libpng says", then back to setjmp. */
static void png_fail(png_structp png, png_const_charp msg)
{
	fewmulctl_errx("%s: %s", (const char *)png_get_error_ptr(png), msg);
	png_longjmp(png, 1);
}

static void png_warn(png_structp png, png_const_charp msg)
{
	(void)png;	/* e.g. "iCCP: known incorrect sRGB profile": harmless */
	(void)msg;
}

/* A PNG: 8-bit grayscale (no alpha) of the model's size, any interlacing. */
static int read_png(const char *path, struct image *im)
{
	png_structp png;
	png_infop info = NULL;
	png_bytep *volatile rowp = NULL;
	uint8_t *volatile px = NULL;
	png_uint_32 w, h, r;
	int depth, ctype;
	FILE *f;

	f = fopen(path, "rb");
	if (!f) {
		fewmulctl_err(path, -errno);
		return -1;
	}
	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, (png_voidp)path,
				     png_fail, png_warn);
	if (png)
		info = png_create_info_struct(png);
	if (!info) {
		png_destroy_read_struct(&png, NULL, NULL);
		fclose(f);
		fewmulctl_err(path, -ENOMEM);
		return -1;
	}
	if (setjmp(png_jmpbuf(png)))
		goto fail;	/* png_fail() printed why */
	png_init_io(png, f);
	png_read_info(png, info);
	png_get_IHDR(png, info, &w, &h, &depth, &ctype, NULL, NULL, NULL);
	if (ctype != PNG_COLOR_TYPE_GRAY || depth != 8) {
		fewmulctl_errx("%s: PNG of colour type %s, bit depth %d; want 8-bit grayscale, e.g. from 'convert IN -colorspace gray -depth 8 OUT.png'",
			       path, png_color_name(ctype), depth);
		goto fail;
	}
	if (w != im->cols || h != im->rows) {
		fewmulctl_errx("%s: %ux%u pixels; the model wants %ux%u", path,
			       (unsigned int)w, (unsigned int)h, im->cols, im->rows);
		goto fail;
	}
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	px = malloc((size_t)w * h);
	rowp = malloc(h * sizeof(*rowp));
	if (!px || !rowp) {
		fewmulctl_err(path, -ENOMEM);
		goto fail;
	}
	for (r = 0; r < h; r++)
		rowp[r] = px + (size_t)r * w;
	png_read_image(png, rowp);
	png_read_end(png, NULL);
	png_destroy_read_struct(&png, &info, NULL);
	free(rowp);
	fclose(f);
	im->px = px;
	im->kind = "png";
	return 0;
fail:
	png_destroy_read_struct(&png, &info, NULL);
	free(rowp);
	free(px);
	fclose(f);
	return -1;
}

/* --image: PGM, PNG or IDX by its first bytes, plain or gzip'd. */
static int read_image(const char *path, int have_index, uint32_t index,
		      struct image *im)
{
	unsigned char magic[2];
	gzFile f;
	int ret = -1;

	errno = 0;
	f = gzopen(path, "rb");
	if (!f) {
		fewmulctl_err(path, errno ? -errno : -ENOMEM);
		return -1;
	}
	if (gz_read_all(f, magic, 2)) {
		fewmulctl_errx("%s: empty or unreadable; want a binary PGM (P5) or an IDX image file",
			       path);
	} else if (magic[0] == 'P' && magic[1] == '5') {
		if (have_index)
			fewmulctl_errx("--index: a PGM file holds one image; --index selects an image of an IDX file or of the test split");
		else
			ret = read_pgm(f, path, im);
	} else if (magic[0] == 0x89 && magic[1] == 'P') {
		if (have_index)
			fewmulctl_errx("--index: a PNG file holds one image; --index selects an image of an IDX file or of the test split");
		else
			ret = read_png(path, im);
	} else if (magic[0] == 'P' && magic[1] >= '1' && magic[1] <= '7') {
		fewmulctl_errx("%s: a P%c netpbm file; want a binary graymap (P5, maxval 255), e.g. from 'convert IN -colorspace gray -depth 8 OUT.pgm'",
			       path, magic[1]);
	} else {
		ret = read_idx(f, path, magic, have_index, index, im);
	}
	gzclose(f);
	return ret;
}

int predict_read_image(const char *path, int have_index, uint32_t index,
		       uint32_t rows, uint32_t cols)
{
	struct image im = { .rows = rows, .cols = cols, .label = -1 };
	int ret = read_image(path, have_index, index, &im);

	free(im.px);
	return ret;
}

/*
 * Batch prediction: many images classified by one
 * fewmul_trainer_predict() call per PREDICT_CHUNK images, one CSV line
 * or JSON object per image.
 * @px: n images of @size pixels each
 * @labels: their labels, or NULL when unknown
 * @names: the file of each image (a directory), or NULL
 * @kinds: "pgm" or "png" per image (a directory), or NULL: all @kind
 * @first: the index of image 0 in its IDX file or the test split
 * @indexed: the images are numbered (IDX file, test split)
 * @ds: owns the pixels and labels of an IDX file or the test split
 */
#define PREDICT_CHUNK	1000

struct batch {
	uint8_t *px;
	uint32_t n, cap, size;
	const uint8_t *labels;
	char **names;
	const char **kinds;
	uint32_t first;
	int indexed;
	const char *kind;
	struct fewmul_dataset ds;
	uint8_t *own;	/* pixels read here (directory, stdin) */
};

static void batch_free(struct batch *b)
{
	uint32_t i;

	if (b->names)
		for (i = 0; i < b->n; i++)
			free(b->names[i]);
	free(b->names);
	free(b->kinds);
	free(b->own);
	fewmul_dataset_free(&b->ds);
}

/* Room for one more image read here; its pixels at b->own + n * size. */
static int batch_grow(struct batch *b)
{
	uint32_t cap = b->cap ? 2 * b->cap : 64;
	uint8_t *own;
	char **names;
	const char **kinds;

	if (b->n < b->cap)
		return 0;
	own = realloc(b->own, (size_t)cap * b->size);
	if (own)
		b->own = own;
	names = own ? realloc(b->names, cap * sizeof(*names)) : NULL;
	if (names)
		b->names = names;
	kinds = names ? realloc(b->kinds, cap * sizeof(*kinds)) : NULL;
	if (kinds)
		b->kinds = kinds;
	if (!kinds)
		return -ENOMEM;
	b->cap = cap;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * A directory of PGM and PNG images, in name order; names starting with
 * '.' are skipped, anything else must be one of them.
 */
static int batch_dir(const char *dir, uint32_t rows, uint32_t cols,
		     struct batch *b)
{
	struct image im = { .rows = rows, .cols = cols, .label = -1 };
	char **ents = NULL, *path;
	unsigned char m[2];
	size_t n = 0, cap = 0, i;
	int dlen = (int)strlen(dir);
	struct dirent *de;
	struct stat st;
	int ret = -1;
	DIR *d;
	gzFile f;

	while (dlen > 1 && dir[dlen - 1] == '/')	/* DIR/ names DIR/FILE */
		dlen--;
	d = opendir(dir);
	if (!d) {
		fewmulctl_err(dir, -errno);
		return -1;
	}
	while ((errno = 0, de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **v = realloc(ents, (cap = cap ? 2 * cap : 64) * sizeof(*v));

			if (!v)
				goto nomem;
			ents = v;
		}
		if (asprintf(&ents[n], "%.*s/%s", dlen, dir, de->d_name) < 0)
			goto nomem;
		n++;
	}
	if (errno) {
		fewmulctl_err(dir, -errno);
		goto out;
	}
	if (!n) {
		fewmulctl_errx("%s: no images in the directory; want PGM (P5) or PNG files",
			       dir);
		goto out;
	}
	qsort(ents, n, sizeof(*ents), name_cmp);
	b->size = rows * cols;
	for (i = 0; i < n; i++) {
		path = ents[i];
		if (stat(path, &st)) {
			fewmulctl_err(path, -errno);
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			fewmulctl_errx("%s: not a PGM (P5) or PNG image (a %s)", path,
				       S_ISDIR(st.st_mode) ? "directory" : "special file");
			goto out;
		}
		errno = 0;
		f = gzopen(path, "rb");
		if (!f) {
			fewmulctl_err(path, errno ? -errno : -ENOMEM);
			goto out;
		}
		if (gz_read_all(f, m, 2) || !((m[0] == 'P' && m[1] == '5') ||
					      (m[0] == 0x89 && m[1] == 'P'))) {
			gzclose(f);
			fewmulctl_errx("%s: not a PGM (P5) or PNG image", path);
			goto out;
		}
		gzclose(f);
		if (read_image(path, 0, 0, &im))
			goto out;
		if (batch_grow(b)) {
			free(im.px);
			goto nomem;
		}
		memcpy(b->own + (size_t)b->n * b->size, im.px, b->size);
		free(im.px);
		im.px = NULL;
		b->kinds[b->n] = im.kind;
		b->names[b->n++] = path;
		ents[i] = NULL;
	}
	b->px = b->own;
	b->kind = "dir";
	ret = 0;
	goto out;
nomem:
	fewmulctl_err(dir, -ENOMEM);
out:
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	closedir(d);
	return ret;
}

#define STDIN_NAME	"standard input"

/* --image -: one PGM or IDX image stream, plain or gzip'd. */
static int batch_stdin(uint32_t rows, uint32_t cols, struct batch *b)
{
	struct image im = { .rows = rows, .cols = cols, .label = -1 };
	unsigned char hdr[16];
	uint32_t m, n, r, c;
	int fd, ret = -1;
	gzFile f;

	fd = dup(STDIN_FILENO);
	f = fd < 0 ? NULL : gzdopen(fd, "rb");
	if (!f) {
		if (fd >= 0)
			close(fd);
		fewmulctl_err(STDIN_NAME, fd < 0 ? -errno : -ENOMEM);
		return -1;
	}
	b->size = rows * cols;
	if (gz_read_all(f, hdr, 2)) {
		fewmulctl_errx(STDIN_NAME ": empty; want a binary PGM (P5) or an IDX image stream");
	} else if (hdr[0] == 'P' && hdr[1] == '5') {
		if (!read_pgm(f, STDIN_NAME, &im)) {
			b->own = b->px = im.px;
			b->n = 1;
			b->kind = "pgm";
			ret = 0;
		}
	} else if (gz_read_all(f, hdr + 2, 14)) {
		fewmulctl_errx(STDIN_NAME ": truncated header; want a binary PGM (P5) or an IDX image stream");
	} else if ((m = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		       (uint32_t)hdr[2] << 8 | hdr[3]) != 0x00000803) {
		fewmulctl_errx(STDIN_NAME ": bad magic 0x%08x; want a binary PGM (P5) or an IDX image stream (0x00000803)",
			       m);
	} else {
		n = (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 | (uint32_t)hdr[6] << 8 | hdr[7];
		r = (uint32_t)hdr[8] << 24 | (uint32_t)hdr[9] << 16 | (uint32_t)hdr[10] << 8 | hdr[11];
		c = (uint32_t)hdr[12] << 24 | (uint32_t)hdr[13] << 16 | (uint32_t)hdr[14] << 8 | hdr[15];
		if (r != rows || c != cols)
			fewmulctl_errx(STDIN_NAME ": %ux%u images; the model wants %ux%u",
				       c, r, cols, rows);
		else if (!n)
			fewmulctl_errx(STDIN_NAME ": an IDX stream of 0 images");
		else if (!(b->own = malloc((size_t)n * b->size)))
			fewmulctl_err(STDIN_NAME, -ENOMEM);
		else if (gz_read_all(f, b->own, (size_t)n * b->size))
			fewmulctl_errx(STDIN_NAME ": truncated: the header says %u images of %ux%u",
				       n, c, r);
		else if (gzgetc(f) != -1)
			fewmulctl_errx(STDIN_NAME ": trailing data after the %u images", n);
		else {
			b->px = b->own;
			b->n = n;
			b->indexed = 1;
			b->kind = "idx";
			ret = 0;
		}
	}
	gzclose(f);
	return ret;
}

/*
 * The labels of an IDX image file, when its name has "images-idx3-ubyte"
 * and the same name with "labels-idx1-ubyte" (plain or .gz) is there.
 */
static int labels_beside(const char *images, char *buf, size_t len)
{
	const char *base = strrchr(images, '/'), *at;
	size_t n;

	base = base ? base + 1 : images;
	at = strstr(base, "images-idx3-ubyte");
	if (!at || strlen(images) + 4 >= len)
		return 0;
	snprintf(buf, len, "%.*slabels-idx1-ubyte%s", (int)(at - images), images,
		 at + strlen("images-idx3-ubyte"));
	if (!access(buf, F_OK))
		return 1;
	n = strlen(buf);
	if (n > 3 && !strcmp(buf + n - 3, ".gz"))
		buf[n - 3] = '\0';
	else
		strcat(buf, ".gz");
	return !access(buf, F_OK);
}

/* An IDX image file, with the labels beside it when there are. */
static int batch_idx(const char *path, uint32_t rows, uint32_t cols,
		     struct batch *b)
{
	char lab[PATH_MAX];
	int err;

	if (labels_beside(path, lab, sizeof(lab)))
		err = fewmul_dataset_load(path, lab, &b->ds);
	else
		err = fewmul_images_load(path, &b->ds);
	if (err) {
		fewmulctl_errx("%s", b->ds.error);
		return -1;
	}
	if (b->ds.rows != rows || b->ds.cols != cols) {
		fewmulctl_errx("%s: %ux%u images; the model wants %ux%u", path,
			       b->ds.cols, b->ds.rows, cols, rows);
		return -1;
	}
	b->px = b->ds.images;
	b->n = b->ds.count;
	b->labels = b->ds.labels;
	b->size = rows * cols;
	b->indexed = 1;
	b->kind = "idx";
	return 0;
}

/* The number of images in the header of an IDX image file; 0 for other files. */
static uint32_t idx_count(const char *path)
{
	unsigned char h[8];
	uint32_t n = 0;
	gzFile f = gzopen(path, "rb");

	if (!f)
		return 0;
	if (!gz_read_all(f, h, 8) && !h[0] && !h[1] && h[2] == 8 && h[3] == 3)
		n = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
	gzclose(f);
	return n;
}

static int is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void csv_field(const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

/* Class names are Fashion-MNIST's only for its 10 classes and directory. */
static int fashion_data(const char *data, uint32_t classes)
{
	char a[PATH_MAX], b[PATH_MAX];

	if (classes != 10)
		return 0;
	if (!data)
		return 1;
	return realpath(data, a) && realpath(FEWMUL_DEFAULT_DATA_DIR, b) &&
	       !strcmp(a, b);
}

static void print_class(int k, int names)
{
	if (names)
		printf("%d (%s)", k, fashion_names[k]);
	else
		printf("%d", k);
}

/*
 * The options of predict alone: which images, and --csv. --index is I,
 * A-B (range, last = B) or all (range and all).
 */
struct predict_opts {
	const char *image, *index_arg;
	uint32_t index, last;
	int have_index, range, all, csv;
};

enum { O_INDEX = 256, O_IMAGE, O_CSV };

static int predict_option(int c, const char *arg, void *ctx)
{
	struct predict_opts *p = ctx;
	const char *dash;
	char buf[16];

	if (c == O_IMAGE) {
		p->image = arg;
		return 0;
	}
	if (c == O_CSV) {
		p->csv = 1;
		return 0;
	}
	/* --index */
	p->index_arg = arg;
	p->range = p->all = 0;
	dash = strchr(arg, '-');
	if (!strcmp(arg, "all")) {
		p->range = p->all = 1;
	} else if (dash && (size_t)(dash - arg) < sizeof(buf)) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(dash - arg), arg);
		if (parse_u32(buf, 0, UINT32_MAX, &p->index) ||
		    parse_u32(dash + 1, 0, UINT32_MAX, &p->last) || p->last < p->index)
			goto bad;
		p->range = 1;
	} else if (parse_u32(arg, 0, UINT32_MAX, &p->index)) {
		goto bad;
	}
	p->have_index = 1;
	return 0;
bad:
	fewmulctl_errx("--index %s: want an image number (0-based), a range A-B or all", arg);
	return -1;
}

/* Load the images of a batch: --image FILE|DIR|- or the test split. */
static int batch_load(const struct predict_opts *po, const char *data,
		      uint32_t width, uint32_t rows, uint32_t cols,
		      struct batch *b)
{
	struct image im = { .rows = rows, .cols = cols, .label = -1 };
	const char *image = po->image, *what;
	uint32_t a, e;

	b->size = rows * cols;
	if (!image) {
		if (fewmul_dataset_load_dir(data, 1, &b->ds)) {
			fewmulctl_errx("--data: %s", b->ds.error);
			return -1;
		}
		if (b->ds.rows * b->ds.cols != width) {
			fewmulctl_errx("the model's input width %u does not match the %ux%u test images",
				       width, b->ds.rows, b->ds.cols);
			return -1;
		}
		b->size = width;
		b->px = b->ds.images;
		b->n = b->ds.count;
		b->labels = b->ds.labels;
		b->indexed = 1;
		b->kind = "test";
	} else if (!strcmp(image, "-")) {
		if (batch_stdin(rows, cols, b))
			return -1;
	} else if (is_dir(image)) {
		if (po->have_index) {
			fewmulctl_errx("--index: selects images of an IDX file or of the test split, not of a directory");
			return -1;
		}
		if (batch_dir(image, rows, cols, b))
			return -1;
	} else if (idx_count(image)) {
		if (batch_idx(image, rows, cols, b))
			return -1;
	} else {
		/* one PGM or PNG image, or read_image() says what is wrong */
		if (read_image(image, po->have_index, po->index, &im))
			return -1;
		b->own = b->px = im.px;
		b->n = 1;
		b->kind = im.kind;
	}
	if (!po->have_index || po->all)
		return 0;
	if (!b->indexed) {
		fewmulctl_errx("--index: a PGM file holds one image; --index selects an image of an IDX file or of the test split");
		return -1;
	}
	a = po->index;
	e = po->range ? po->last : po->index;
	if (e >= b->n) {
		what = !image ? "the test split" : !strcmp(image, "-") ? STDIN_NAME : image;
		fewmulctl_errx("--index %s: %s has %u image%s (0..%u)", po->index_arg,
			       what, b->n, b->n == 1 ? "" : "s", b->n - 1);
		return -1;
	}
	b->px += (size_t)a * b->size;
	if (b->labels)
		b->labels += a;
	b->n = e - a + 1;
	b->first = a;
	return 0;
}

/* One CSV line or JSON object per image of b. */
static int batch_run(struct model_run *mr, const struct batch *b,
		     const char *image, int names)
{
	const uint32_t nk = mr->info.config.width[mr->info.config.nr_layers];
	int cpu = !strcmp(mr->be.name, "cpu"), err;
	uint8_t pred[PREDICT_CHUNK];
	int32_t *scores = NULL;
	uint32_t i, j, k, m;

	if (cpu && !(scores = calloc((size_t)PREDICT_CHUNK * nk, sizeof(*scores)))) {
		fewmulctl_err("allocating", -ENOMEM);
		return -1;
	}
	if (!mr->json) {
		fputs("image,prediction,label", stdout);
		for (k = 0; cpu && k < nk; k++)
			printf(",score%u", k);
		putchar('\n');
	}
	for (i = 0; i < b->n; i += m) {
		m = b->n - i < PREDICT_CHUNK ? b->n - i : PREDICT_CHUNK;
		err = fewmul_trainer_predict(mr->t, b->px + (size_t)i * b->size, m,
					     pred, scores);
		if (err) {
			fewmulctl_err("predicting", err);
			free(scores);
			return -1;
		}
		for (j = 0; j < m; j++) {
			const int32_t *sc = scores ? scores + (size_t)j * nk : NULL;
			int label = b->labels ? b->labels[i + j] : -1;
			uint8_t p = pred[j];

			if (mr->json) {
				struct json js;

				json_begin(&js, stdout);
				json_str(&js, "model", mr->model);
				json_str(&js, "source", b->kinds ? b->kinds[i + j] : b->kind);
				if (image)
					json_str(&js, "image", b->names ? b->names[i + j] : image);
				if (b->indexed)
					json_u64(&js, "index", b->first + i + j);
				json_u64(&js, "prediction", p);
				if (names)
					json_str(&js, "class", fashion_names[p]);
				if (label >= 0) {
					json_u64(&js, "label", (unsigned int)label);
					if (names)
						json_str(&js, "label_class", fashion_names[label]);
					json_bool(&js, "correct", label == p);
				}
				if (sc) {
					json_arr_open(&js, "scores");
					for (k = 0; k < nk; k++)
						json_double(&js, NULL, sc[k] / 4096.0);
					json_arr_close(&js);
				}
				json_str(&js, "bn_stats", mr->how);
				json_u64(&js, "calib", mr->used);
				json_str(&js, "test_weights", "deterministic");
				json_str(&js, "backend", mr->be.name);
				json_end(&js);
				continue;
			}
			if (b->names)
				csv_field(b->names[i + j]);
			else if (b->indexed)
				printf("%u", b->first + i + j);
			else
				csv_field(image);
			printf(",%u,", p);
			if (label >= 0)
				printf("%d", label);
			for (k = 0; sc && k < nk; k++)
				printf(",%.6f", sc[k] / 4096.0);
			putchar('\n');
		}
		if (flush_out(stdout))
			break;
	}
	free(scores);
	return 0;
}

/* predict with --csv, --index A-B|all, a directory, stdin or --json over an IDX file. */
static int predict_batch(struct model_run *mr, const struct predict_opts *po)
{
	const struct fewmul_model_info *info = &mr->info;
	struct batch b = { 0 };
	uint32_t side, rows, cols, nk;
	int ret = -1;

	if (model_run_load(mr))
		return -1;
	nk = info->config.width[info->config.nr_layers];
	for (side = 1; side * side < info->config.width[0]; side++)
		;
	rows = side * side == info->config.width[0] ? side : 1;
	cols = info->config.width[0] / rows;
	if (!batch_load(po, mr->data, info->config.width[0], rows, cols, &b) &&
	    !model_run_settle(mr))
		ret = batch_run(mr, &b, po->image, fashion_data(mr->data, nk));
	batch_free(&b);
	model_run_free(mr);
	return ret;
}

static int predict_main(int argc, char **argv)
{
	static const struct option opts[] = {
		OPT_MODEL, OPT_DATA,
		{ "index", required_argument, NULL, O_INDEX },
		{ "image", required_argument, NULL, O_IMAGE },
		{ "csv", no_argument, NULL, O_CSV },
		OPT_CALIB, OPT_THREADS, OPT_BACKEND, OPT_JSON, OPT_END,
	};
	struct predict_opts po = { 0 };
	struct cmdline cl = { .opts = opts, .own = predict_option, .ctx = &po };
	struct model_run mr;
	const struct fewmul_model_info *info = &mr.info;
	const char *image, *data;
	struct fewmul_dataset test = { 0 };
	struct image im = { .label = -1 };
	uint32_t index, nk, i, side;
	int have_index, names, ret, err, cpu;
	int32_t *scores = NULL;
	uint8_t pred;

	model_run_init(&mr, &cl);
	ret = parse_cmdline(argc, argv, &cl);
	if (!ret)
		ret = model_run_check(&mr, "predict");
	if (ret)
		return ret;
	image = po.image;
	index = po.index;
	have_index = po.have_index;
	data = mr.data;
	if (!image && !have_index) {
		fewmulctl_errx("predict: give --index I (a test image of --data) or --image FILE");
		return CMD_USAGE;
	}
	if (po.csv && mr.json) {
		fewmulctl_errx("predict: --csv and --json: choose one");
		return CMD_USAGE;
	}
	if (po.csv || po.range || (image && (!strcmp(image, "-") || is_dir(image))) ||
	    (mr.json && image && !have_index && idx_count(image) > 1))
		return predict_batch(&mr, &po);
	if (model_run_load(&mr))
		return -1;
	ret = -1;
	nk = info->config.width[info->config.nr_layers];
	/* the model knows its pixel count; a square is the usual shape */
	for (side = 1; side * side < info->config.width[0]; side++)
		;
	im.rows = side * side == info->config.width[0] ? side : 1;
	im.cols = info->config.width[0] / im.rows;
	if (image) {
		if (read_image(image, have_index, index, &im))
			goto out;
	} else {
		if (fewmul_dataset_load_dir(data, 1, &test)) {
			fewmulctl_errx("--data: %s", test.error);
			goto out;
		}
		if (test.rows * test.cols != info->config.width[0]) {
			fewmulctl_errx("%s: the model's input width %u does not match the %ux%u test images",
				       mr.model, info->config.width[0], test.rows, test.cols);
			goto out;
		}
		im.rows = test.rows;
		im.cols = test.cols;
		if (index >= test.count) {
			fewmulctl_errx("--index %u: the test split has %u images (0..%u)",
				       index, test.count, test.count - 1);
			goto out;
		}
		im.px = malloc((size_t)im.rows * im.cols);
		if (!im.px) {
			fewmulctl_err("allocating", -ENOMEM);
			goto out;
		}
		memcpy(im.px, test.images + (size_t)index * im.rows * im.cols,
		       (size_t)im.rows * im.cols);
		im.label = test.labels[index];
		im.kind = "test";
	}

	if (model_run_settle(&mr))
		goto out;
	cpu = !strcmp(mr.be.name, "cpu");
	scores = cpu ? calloc(nk, sizeof(*scores)) : NULL;
	if (cpu && !scores) {
		fewmulctl_err("allocating", -ENOMEM);
		goto out;
	}
	err = fewmul_trainer_predict(mr.t, im.px, 1, &pred, scores);
	if (err) {
		fewmulctl_err("predicting", err);
		goto out;
	}
	names = fashion_data(data, nk);

	if (mr.json) {
		struct json j;

		json_begin(&j, stdout);
		json_str(&j, "model", mr.model);
		json_str(&j, "source", im.kind);
		if (image)
			json_str(&j, "image", image);
		if (have_index)
			json_u64(&j, "index", index);
		json_u64(&j, "prediction", pred);
		if (names)
			json_str(&j, "class", fashion_names[pred]);
		if (im.label >= 0) {
			json_u64(&j, "label", (unsigned int)im.label);
			if (names)
				json_str(&j, "label_class", fashion_names[im.label]);
			json_bool(&j, "correct", im.label == pred);
		}
		if (scores) {
			json_arr_open(&j, "scores");
			for (i = 0; i < nk; i++)
				json_double(&j, NULL, scores[i] / 4096.0);
			json_arr_close(&j);
		}
		json_str(&j, "bn_stats", mr.how);
		json_u64(&j, "calib", mr.used);
		json_str(&j, "test_weights", "deterministic");
		json_str(&j, "backend", mr.be.name);
		json_end(&j);
		ret = 0;
		goto out;
	}
	printf("%s: %s%s, trained %u epoch%s; ", mr.model,
	       fewmul_weights_name(info->config.weights),
	       info->config.qbp ? "+QB" : "", info->epoch, info->epoch == 1 ? "" : "s");
	if (strcmp(mr.how, "none"))
		printf("BN statistics %s from %u training samples", mr.how, mr.used);
	else
		printf("no batch norm");
	printf("; backend %s\n", mr.be.name);
	if (!image)
		printf("image:      test sample %u of %s\n", index,
		       data ? data : FEWMUL_DEFAULT_DATA_DIR);
	else if (have_index)
		printf("image:      %s, image %u\n", image, index);
	else
		printf("image:      %s\n", image);
	printf("prediction: ");
	print_class(pred, names);
	putchar('\n');
	if (im.label >= 0) {
		printf("label:      ");
		print_class(im.label, names);
		printf(", %s\n", im.label == pred ? "correct" : "wrong");
	}
	if (!scores) {
		printf("scores:     the kernel backend returns classes only (--backend cpu prints scores)\n");
		ret = 0;
		goto out;
	}
	printf("scores (output layer, deterministic test-time weights; the loss's targets are +1 and -1):\n");
	for (i = 0; i < nk; i++)
		printf("  %3u %+9.4f%s%s%s\n", i, scores[i] / 4096.0,
		       names ? "  " : "", names ? fashion_names[i] : "",
		       i == pred ? "  <- predicted" : "");
	ret = 0;
out:
	free(scores);
	free(im.px);
	model_run_free(&mr);	/* before the data it may have registered */
	fewmul_dataset_free(&test);
	return ret;
}

const struct fewmulctl_cmd cmd_predict = {
	.name = "predict",
	.usage = "--model FILE (--index I|A-B|all | --image FILE|DIR|- [--index I|A-B]) [--csv|--json] [--data DIR] [--calib N] [--threads N] [--backend kernel|cpu]",
	.summary = "classify images: predicted class, true label when known, output-layer scores",
	.options =
	HELP_MODEL
	"  --index I|A-B|all      image I (0-based), images A to B or all of the test split\n"
	"                         of --data, or of the --image IDX file\n"
	"  --image FILE|DIR|-     a binary PGM (P5, maxval 255) or 8-bit grayscale PNG of\n"
	"                         the data's size (28x28), or an IDX3 image file (plain or\n"
	"                         .gz) of one image or more (--index picks; --csv and\n"
	"                         --json take all); DIR: every PGM and PNG file in it;\n"
	"                         -: a PGM or IDX stream on standard input\n"
	"  --csv                  one line per image: image,prediction,label and, on the cpu\n"
	"                         backend, score0..scoreK-1 (the default for many images)\n"
	"  --data DIR             IDX dataset directory (default " FEWMUL_DEFAULT_DATA_DIR "):\n"
	"                         its test split for --index, its training split for --calib\n"
	HELP_CALIB
	"  --threads N            threads that run the steps, either backend (default: online CPUs)\n"
	"  --backend kernel|cpu   classify in fewmul.ko or in this process (default: kernel\n"
	"                         when " FEWMUL_DEFAULT_DEVICE " exists); the kernel's eval\n"
	"                         ioctl returns the class, only cpu prints the scores\n"
	HELP_DEVICE
	"  --json                 machine-readable output: one JSON object per image, one\n"
	"                         per line\n"
	"  -h, --help             this help\n",
	.run = predict_main,
};
