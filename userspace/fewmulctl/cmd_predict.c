// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl predict: classify one image with a saved model: the predicted
 * class, the true label when it is known and the output layer's scores.
 *
 * The image is test sample --index of --data, a binary PGM (P5, maxval
 * 255) or an IDX3 image file (one image, or --index), plain or gzip'd:
 * zlib reads both, and the first bytes say which format it is. As eval
 * does, it uses the batch-norm statistics stored in the model at the end
 * of training (no training data needed), or re-estimates them on the
 * first --calib training samples, so predict and eval agree.
 *
 * With the kernel backend (the default when /dev/fewmul exists) the class
 * comes from the device's eval ioctl, which returns classes but not
 * scores; --backend cpu also prints the scores. Both backends compute
 * bit-identical results.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	const char *kind;	/* "test", "pgm" or "idx" */
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

/* --image: PGM or IDX by its first bytes, plain or gzip'd. */
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

/* The options of predict alone: which image. */
struct predict_opts {
	const char *image;
	uint32_t index;
	int have_index;
};

enum { O_INDEX = 256, O_IMAGE };

static int predict_option(int c, const char *arg, void *ctx)
{
	struct predict_opts *p = ctx;

	if (c == O_IMAGE) {
		p->image = arg;
		return 0;
	}
	if (parse_u32(arg, 0, UINT32_MAX, &p->index)) {	/* --index */
		fewmulctl_errx("--index %s: want an image number (0-based)", arg);
		return -1;
	}
	p->have_index = 1;
	return 0;
}

static int predict_main(int argc, char **argv)
{
	static const struct option opts[] = {
		OPT_MODEL, OPT_DATA,
		{ "index", required_argument, NULL, O_INDEX },
		{ "image", required_argument, NULL, O_IMAGE },
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
	.usage = "--model FILE (--index I | --image FILE.pgm|FILE.idx[.gz] [--index I]) [--data DIR] [--calib N] [--threads N] [--backend kernel|cpu] [--json]",
	.summary = "classify one image: predicted class, true label when known, output-layer scores",
	.options =
	HELP_MODEL
	"  --index I              image I (0-based) of the test split of --data, or of the\n"
	"                         --image IDX file\n"
	"  --image FILE           a binary PGM (P5, maxval 255) of the data's size (28x28)\n"
	"                         or an IDX3 image file\n"
	"                         (plain or .gz) with one image, or any number with --index\n"
	"  --data DIR             IDX dataset directory (default " FEWMUL_DEFAULT_DATA_DIR "):\n"
	"                         its test split for --index, its training split for --calib\n"
	HELP_CALIB
	"  --threads N            worker threads of the cpu backend (default: online CPUs)\n"
	"  --backend kernel|cpu   classify in fewmul.ko or in this process (default: kernel\n"
	"                         when " FEWMUL_DEFAULT_DEVICE " exists); the kernel's eval\n"
	"                         ioctl returns the class, only cpu prints the scores\n"
	HELP_DEVICE
	HELP_JSON,
	.run = predict_main,
};
