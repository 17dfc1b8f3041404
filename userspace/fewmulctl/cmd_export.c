// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl export: a trained model as NumPy .npz or as a C header, with
 * everything needed to reproduce the engine's integer inference (its
 * FEWMUL_PLAN_EVAL forward pass) bit for bit without libfewmul.
 *
 * Per layer l = 1..L the test-time weights (ternary and binary: the
 * deterministic weights the engine evaluates with; full: the shadow
 * weights, Q24 in units of W0), the BN shift beta and the test-time mean,
 * multiplier and shift in one form for every BN mode:
 *
 *   y = sum_i x[i] * w[i][j]                  (full: round(sum / 2^24),
 *                                              clamped to +-(2^30 - 1))
 *   z = round((y - mean[j]) * mult[j] * 2^-shift[j]) + beta[j],
 *       clamped to +-(2^18 - 1)
 *   x' = max(z, 0) for hidden layers; the last layer's z are the scores
 *
 * with x[i] = pixel << 4 at the input and round() half up (a left shift
 * for a negative shift). mult is 1 but with --bn shift2, whose scale
 * (4 + m) 2^-(s + 2) is mult 4 + m and shift s + 2 (the engine forms
 * the product with shifts and an add). Without BN the engine's fixed
 * layer scale is that shift and the mean is 0. Documentation/cli.rst
 * describes the files; Documentation/export_infer.py and
 * export_example.c use them.
 *
 * The .npz is built in memory with libzip and written through
 * fewmul_outfile, like every file fewmulctl writes: a failed export
 * leaves the old file (or none), never half a file.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zip.h>

#include "libfewmul.h"
#include "fewmulctl.h"

/* The engine's fixed-point formats (kmod/core/fewmul_engine.h). */
#define EX_FA		12		/* activations: Q12 */
#define EX_FW		24		/* shadow weights: Q24 in units of W0 */
#define EX_INPUT_SHIFT	(EX_FA - 8)	/* pixel p is p << 4 = p / 256 */
#define EX_X_MAX	((1 << (EX_FA + 6)) - 1)
#define EX_Y_MAX	0x3fffffff	/* full-precision sums are clamped */
#define EX_VERSION	2		/* of the exported layout (2: multL) */

enum { FMT_NPZ, FMT_HEADER };

/* A model's parameters as the export writes them. */
struct export_model {
	const char *path;
	struct fewmul_train_config cfg;
	struct fewmul_model_info info;
	uint64_t step;
	const char *bn_how;	/* "stored", "re-estimated" or "none" */
	uint32_t bn_samples;
	const int32_t *arena;
	uint64_t w_off[FEWMUL_MAX_LAYERS + 1];	/* in s32 units */
	uint64_t beta_off[FEWMUL_MAX_LAYERS + 1];
};

/* The engine's W0 = 2^-k of a layer (fewmul_w0_shift()). */
static int w0_shift(uint32_t nin, uint32_t nout)
{
	uint64_t n = (uint64_t)nin + nout;
	int j = 0;

	while (j < 7 && n >= (6ULL << (2 * j + 1)))
		j++;
	return j + 1;
}

static int full_weights(const struct export_model *m)
{
	return m->cfg.weights == FEWMUL_MODEL_WEIGHTS_FULL;
}

/*
 * The deterministic test-time weight of shadow weight u (fewmul_k_sample()
 * with test set): binary and binary-stoch sign(u) with sign(0) = +1,
 * ternary +1 above W0/2, -1 below -W0/2, else 0.
 */
static int8_t test_weight(int32_t u, uint32_t mode)
{
	if (mode == FEWMUL_MODEL_WEIGHTS_TERNARY)
		return u > (1 << (EX_FW - 1)) ? 1 : u < -(1 << (EX_FW - 1)) ? -1 : 0;
	return u >= 0 ? 1 : -1;
}

static const int32_t *layer_w(const struct export_model *m, uint32_t l)
{
	return m->arena + m->w_off[l];
}

/* beta, stored mean and stored shift of layer l: three n[l] arrays. */
static int32_t layer_beta(const struct export_model *m, uint32_t l, uint32_t j)
{
	return m->arena[m->beta_off[l] + j];
}

/* The mean, shift and mult of z = round((y - mean) * mult * 2^-shift) + beta. */
static int32_t layer_mean(const struct export_model *m, uint32_t l, uint32_t j)
{
	if (m->cfg.bn == FEWMUL_MODEL_BN_NONE)
		return 0;	/* the slot holds the "scale measured" mark */
	return m->arena[m->beta_off[l] + m->cfg.width[l] + j];
}

/* The slot of the test-time scale: a shift, or BN_SHIFT2's 4 s + m. */
static int32_t layer_code(const struct export_model *m, uint32_t l, uint32_t j)
{
	return m->arena[m->beta_off[l] + 2 * m->cfg.width[l] + j];
}

static int32_t layer_shift(const struct export_model *m, uint32_t l, uint32_t j)
{
	int32_t s = layer_code(m, l, j);

	switch (m->cfg.bn) {
	case FEWMUL_MODEL_BN_SHIFT2:
		return (s - (s & 3)) / 4 + 2;
	case FEWMUL_MODEL_BN_SHIFT:
		return s;
	default:
		return -s;	/* the layer's scale, stored as a left shift */
	}
}

static int32_t layer_mult(const struct export_model *m, uint32_t l, uint32_t j)
{
	if (m->cfg.bn != FEWMUL_MODEL_BN_SHIFT2)
		return 1;
	return 4 + (layer_code(m, l, j) & 3);
}

/* ---- .npz ------------------------------------------------------------------ */

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/*
 * A .npy file (format 1.0): magic, version, header length, the header
 * dict padded with spaces to a multiple of 64 bytes and ended by a
 * newline, then the data. descr is '|i1' or '<i4'; dims 1 or 2. The
 * buffer is malloc()ed with room for the data at *data.
 */
static unsigned char *npy_alloc(const char *descr, const uint64_t *shape,
				int dims, size_t data_len, size_t *len,
				unsigned char **data)
{
	char dict[160], dims_s[64];
	unsigned char *buf;
	size_t hlen, n;

	if (dims == 1)
		snprintf(dims_s, sizeof(dims_s), "%" PRIu64 ",", shape[0]);
	else
		snprintf(dims_s, sizeof(dims_s), "%" PRIu64 ", %" PRIu64,
			 shape[0], shape[1]);
	n = (size_t)snprintf(dict, sizeof(dict),
			     "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
			     descr, dims_s);
	hlen = ((10 + n + 1 + 63) & ~(size_t)63) - 10;
	buf = malloc(10 + hlen + (data_len ? data_len : 1));
	if (!buf)
		return NULL;
	memcpy(buf, "\x93NUMPY\x01\x00", 8);
	buf[8] = (unsigned char)hlen;
	buf[9] = (unsigned char)(hlen >> 8);
	memcpy(buf + 10, dict, n);
	memset(buf + 10 + n, ' ', hlen - n - 1);
	buf[10 + hlen - 1] = '\n';
	*len = 10 + hlen + data_len;
	*data = buf + 10 + hlen;
	return buf;
}

/* Add name (a buffer libzip frees) to the archive; 0 or -1 after printing. */
static int zip_add_buf(zip_t *za, const char *out, const char *name,
		       unsigned char *buf, size_t len)
{
	zip_source_t *s;
	zip_int64_t i;

	if (!buf) {
		fewmulctl_err("allocating", -ENOMEM);
		return -1;
	}
	s = zip_source_buffer(za, buf, len, 1);
	if (!s) {
		free(buf);
		fewmulctl_errx("-o %s: %s: %s", out, name, zip_strerror(za));
		return -1;
	}
	i = zip_file_add(za, name, s, ZIP_FL_ENC_UTF_8);
	if (i < 0) {
		zip_source_free(s);
		fewmulctl_errx("-o %s: %s: %s", out, name, zip_strerror(za));
		return -1;
	}
	/* a fixed time stamp: the same model exports to the same bytes */
	zip_file_set_mtime(za, (zip_uint64_t)i, 946684800, 0);
	return 0;
}

static int npz_s32(zip_t *za, const char *out, const char *name,
		   const int32_t *v, uint64_t rows, uint64_t cols, int dims)
{
	uint64_t shape[2] = { rows, cols }, n = dims == 1 ? rows : rows * cols, i;
	unsigned char *buf, *d;
	size_t len;

	buf = npy_alloc("<i4", shape, dims, (size_t)n * 4, &len, &d);
	for (i = 0; buf && i < n; i++)
		put_le32(d + 4 * i, (uint32_t)v[i]);
	return zip_add_buf(za, out, name, buf, len);
}

/* The per-unit values of layer l from fn, as an int32 array. */
static int npz_units(zip_t *za, const char *out, const char *name,
		     const struct export_model *m, uint32_t l,
		     int32_t (*fn)(const struct export_model *, uint32_t, uint32_t))
{
	uint32_t n = m->cfg.width[l], j;
	int32_t *v = malloc(sizeof(*v) * n);
	int ret;

	if (!v) {
		fewmulctl_err("allocating", -ENOMEM);
		return -1;
	}
	for (j = 0; j < n; j++)
		v[j] = fn(m, l, j);
	ret = npz_s32(za, out, name, v, n, 0, 1);
	free(v);
	return ret;
}

static int npz_weights(zip_t *za, const char *out, const char *name,
		       const struct export_model *m, uint32_t l)
{
	uint32_t nin = m->cfg.width[l - 1], nout = m->cfg.width[l];
	uint64_t shape[2] = { nin, nout }, n = (uint64_t)nin * nout, i;
	const int32_t *u = layer_w(m, l);
	unsigned char *buf, *d;
	size_t len;

	if (full_weights(m))
		return npz_s32(za, out, name, u, nin, nout, 2);
	buf = npy_alloc("|i1", shape, 2, (size_t)n, &len, &d);
	for (i = 0; buf && i < n; i++)
		d[i] = (unsigned char)test_weight(u[i], m->cfg.weights);
	return zip_add_buf(za, out, name, buf, len);
}

/* The config entry: what the arrays are and how to use them. */
static int config_json(const struct export_model *m, char **text, size_t *len)
{
	const struct fewmul_train_config *c = &m->cfg;
	FILE *f = open_memstream(text, len);
	struct json j;
	uint32_t l;

	if (!f)
		return -1;
	json_begin(&j, f);
	json_str(&j, "format", "fewmul-export");
	json_u64(&j, "version", EX_VERSION);
	json_str(&j, "fewmul", fewmul_lib_version());
	json_arr_open(&j, "arch");
	for (l = 0; l <= c->nr_layers; l++)
		json_u64(&j, NULL, c->width[l]);
	json_arr_close(&j);
	json_u64(&j, "layers", c->nr_layers);
	json_str(&j, "weights", fewmul_weights_name(c->weights));
	json_str(&j, "weights_dtype", full_weights(m) ? "int32" : "int8");
	json_str(&j, "test_weights", full_weights(m) ? "shadow" : "deterministic");
	json_bool(&j, "qbp", c->qbp);
	json_str(&j, "bn", bn_name(c->bn));
	json_str(&j, "bn_stats", m->bn_how);
	json_u64(&j, "bn_samples", m->bn_samples);
	json_u64(&j, "epoch", m->info.epoch);
	json_u64(&j, "step", m->step);
	json_obj_open(&j, "fixed_point");
	json_u64(&j, "fa", EX_FA);
	json_u64(&j, "fw", EX_FW);
	json_u64(&j, "input_shift", EX_INPUT_SHIFT);
	json_u64(&j, "x_max", EX_X_MAX);
	json_u64(&j, "y_max", EX_Y_MAX);
	json_u64(&j, "score_one", 1u << EX_FA);
	json_obj_close(&j);
	json_arr_open(&j, "w0_shift");
	for (l = 1; l <= c->nr_layers; l++)
		json_u64(&j, NULL, (unsigned int)w0_shift(c->width[l - 1], c->width[l]));
	json_arr_close(&j);
	json_end(&j);
	return fclose(f) ? -1 : 0;
}

/* Copy the finished in-memory archive to fd; 0 or -errno. */
static int copy_source(zip_source_t *src, int fd)
{
	unsigned char buf[65536];
	zip_int64_t n;
	ssize_t w;
	size_t off;

	if (zip_source_open(src) < 0)
		return -EIO;
	while ((n = zip_source_read(src, buf, sizeof(buf))) > 0) {
		for (off = 0; off < (size_t)n; off += (size_t)w) {
			w = write(fd, buf + off, (size_t)n - off);
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0) {
				int err = w < 0 ? -errno : -EIO;

				zip_source_close(src);
				return err;
			}
		}
	}
	zip_source_close(src);
	return n < 0 ? -EIO : 0;
}

static int write_npz(const struct export_model *m, const char *out)
{
	zip_source_t *src;
	zip_error_t zerr;
	zip_t *za;
	struct fewmul_outfile *of;
	char name[32], err[512], *cfg = NULL;
	size_t cfg_len = 0;
	uint32_t l;
	int ret = -1, e;

	zip_error_init(&zerr);
	src = zip_source_buffer_create(NULL, 0, 0, &zerr);
	za = src ? zip_open_from_source(src, ZIP_TRUNCATE, &zerr) : NULL;
	if (!za) {
		fewmulctl_errx("-o %s: %s", out, zip_error_strerror(&zerr));
		zip_error_fini(&zerr);
		if (src)
			zip_source_free(src);
		return -1;
	}
	zip_error_fini(&zerr);
	zip_source_keep(src);	/* the archive is read back after zip_close() */

	if (config_json(m, &cfg, &cfg_len)) {
		free(cfg);
		fewmulctl_err("allocating", -ENOMEM);
		goto discard;
	}
	if (zip_add_buf(za, out, "config.json", (unsigned char *)cfg, cfg_len))
		goto discard;
	for (l = 1; l <= m->cfg.nr_layers; l++) {
		snprintf(name, sizeof(name), "w%u.npy", l);
		if (npz_weights(za, out, name, m, l))
			goto discard;
		snprintf(name, sizeof(name), "beta%u.npy", l);
		if (npz_units(za, out, name, m, l, layer_beta))
			goto discard;
		snprintf(name, sizeof(name), "mean%u.npy", l);
		if (npz_units(za, out, name, m, l, layer_mean))
			goto discard;
		snprintf(name, sizeof(name), "shift%u.npy", l);
		if (npz_units(za, out, name, m, l, layer_shift))
			goto discard;
		snprintf(name, sizeof(name), "mult%u.npy", l);
		if (npz_units(za, out, name, m, l, layer_mult))
			goto discard;
	}
	if (zip_close(za)) {
		fewmulctl_errx("-o %s: %s", out, zip_strerror(za));
		goto discard;
	}
	za = NULL;

	if (fewmul_outfile_open(out, &of, err, sizeof(err))) {
		fewmulctl_errx("-o %s", err);
		goto free;
	}
	e = copy_source(src, fewmul_outfile_fd(of));
	if (e) {
		fewmulctl_errx("-o %s: write failed: %s", out, strerror(-e));
		fewmul_outfile_abort(of);
		goto free;
	}
	ret = close_outfile(of);
	goto free;
discard:
	zip_discard(za);
free:
	zip_source_free(src);
	return ret;
}

/* ---- C header -------------------------------------------------------------- */

/* Print n values of fn(i), 12 to a line. */
static void c_units(FILE *f, const char *type, const char *name, uint32_t l,
		    const struct export_model *m,
		    int32_t (*fn)(const struct export_model *, uint32_t, uint32_t))
{
	uint32_t j, n = m->cfg.width[l];

	fprintf(f, "static const %s fewmul_model_%s%u[%u] = {", type, name, l, n);
	for (j = 0; j < n; j++)
		fprintf(f, "%s%" PRId32 ",", j % 12 ? " " : "\n\t", fn(m, l, j));
	fputs("\n};\n", f);
}

/*
 * Weights of layer l, unit-major (row j: unit j's weights over the
 * inputs). Ternary and binary: 2 bits each, 4 to a byte, weight i of
 * unit j in bits 2 (i % 4) and up of byte j * ((n[l-1] + 3) / 4) + i / 4:
 * 0 for 0, 1 for +1, 3 for -1. Full: int32 shadow weights.
 */
static void c_weights(FILE *f, const struct export_model *m, uint32_t l)
{
	uint32_t nin = m->cfg.width[l - 1], nout = m->cfg.width[l], i, j, k = 0;
	uint32_t rowb = (nin + 3) / 4;
	const int32_t *u = layer_w(m, l);

	if (full_weights(m)) {
		fprintf(f, "static const int32_t fewmul_model_w%u[%u * %u] = {", l,
			nout, nin);
		for (j = 0; j < nout; j++)
			for (i = 0; i < nin; i++, k++)
				fprintf(f, "%s%" PRId32 ",", k % 8 ? " " : "\n\t",
					u[(uint64_t)i * nout + j]);
		fputs("\n};\n", f);
		return;
	}
	fprintf(f, "static const uint8_t fewmul_model_w%u[%u * %u] = {", l, nout,
		rowb);
	for (j = 0; j < nout; j++) {
		for (i = 0; i < rowb * 4; i += 4, k++) {
			unsigned int b = 0, q;

			for (q = 0; q < 4 && i + q < nin; q++) {
				int8_t t = test_weight(u[(uint64_t)(i + q) * nout + j],
						       m->cfg.weights);

				b |= (unsigned int)(t > 0 ? 1 : t < 0 ? 3 : 0) << (2 * q);
			}
			fprintf(f, "%s0x%02x,", k % 12 ? " " : "\n\t", b);
		}
	}
	fputs("\n};\n", f);
}

static void write_header_text(FILE *f, const struct export_model *m)
{
	const struct fewmul_train_config *c = &m->cfg;
	uint32_t l, maxw = 0;
	int full = full_weights(m);

	for (l = 1; l <= c->nr_layers; l++)
		if (c->width[l] > maxw)
			maxw = c->width[l];
	fprintf(f, "/* SPDX-License-Identifier: GPL-2.0 OR MIT */\n"
		"/*\n"
		" * A fewmul model for integer inference without libfewmul, generated by\n"
		" * fewmulctl export (layout version %d) from %s:\n"
		" * ", EX_VERSION, m->path);
	for (l = 0; l <= c->nr_layers; l++)
		fprintf(f, "%s%u", l ? "-" : "", c->width[l]);
	fprintf(f, ", %s weights%s, batch norm %s (statistics %s), epoch %u.\n"
		" *\n"
		" * fewmul_model_classify() computes exactly what the engine's evaluation\n"
		" * computes (fewmulctl eval and predict): per layer\n"
		" *   y = sum_i x[i] w[j][i]%s\n"
		" *   z = round((y - mean[j]) * mult[j] / 2^shift[j]) + beta[j],\n"
		" *       clamped to +-(2^18 - 1)\n"
		" *   x' = max(z, 0), except for the last layer, whose z are the scores\n"
		" * with x = pixel << 4 at the input (Q12 fixed point: 4096 is 1.0),\n"
		" * round() half up and a negative shift a left shift. mult is 1 but\n"
		" * with batch norm shift2 (4..7; the engine multiplies by shifts and adds).\n"
		" *\n"
		" * Weights are stored unit-major (row j: unit j's weights over the inputs).\n",
		fewmul_weights_name(c->weights), c->qbp ? " + quantized backprop" : "",
		bn_name(c->bn), m->bn_how, m->info.epoch,
		full ? ", in Q24: y = round(y / 2^24), clamped to +-(2^30 - 1)" : "");
	if (full)
		fputs(" * Full precision: int32 shadow weights, Q24 in units of the layer's W0.\n", f);
	else
		fputs(" * Packed: 2 bits per weight, 4 to a byte; weight i of unit j is bits\n"
		      " * 2 (i % 4) and 2 (i % 4) + 1 of byte j * FEWMUL_MODEL_ROWB(l) + i / 4:\n"
		      " * 0 is 0, 1 is +1 and 3 is -1 (the deterministic test-time weights).\n", f);
	fprintf(f, " * Names start with fewmul_model_: include one model per translation unit.\n"
		" */\n"
		"#ifndef FEWMUL_MODEL_H\n#define FEWMUL_MODEL_H\n\n"
		"#ifdef __KERNEL__\n#include <linux/types.h>\n#else\n#include <stdint.h>\n#endif\n\n"
		"#define FEWMUL_MODEL_LAYERS\t%u\n"
		"#define FEWMUL_MODEL_INPUTS\t%u\n"
		"#define FEWMUL_MODEL_CLASSES\t%u\n"
		"#define FEWMUL_MODEL_MAX_WIDTH\t%u\n"
		"/* int32_t elements of the scratch fewmul_model_classify() needs */\n"
		"#define FEWMUL_MODEL_SCRATCH\t(2 * FEWMUL_MODEL_MAX_WIDTH)\n"
		"#define FEWMUL_MODEL_PACKED\t%d\n"
		"#define FEWMUL_MODEL_X_MAX\t%d\n",
		c->nr_layers, c->width[0], c->width[c->nr_layers], maxw, !full,
		EX_X_MAX);
	if (!full)
		fputs("/* bytes per unit of packed layer l's weights */\n"
		      "#define FEWMUL_MODEL_ROWB(l)\t((fewmul_model_width[(l) - 1] + 3) / 4)\n", f);
	fputs("\nstatic const uint16_t fewmul_model_width[FEWMUL_MODEL_LAYERS + 1] = {", f);
	for (l = 0; l <= c->nr_layers; l++)
		fprintf(f, "%s%u", l ? ", " : " ", c->width[l]);
	fputs(" };\n", f);
	for (l = 1; l <= c->nr_layers; l++) {
		fprintf(f, "\n/* layer %u: %u -> %u */\n", l, c->width[l - 1], c->width[l]);
		c_weights(f, m, l);
		c_units(f, "int32_t", "beta", l, m, layer_beta);
		c_units(f, "int32_t", "mean", l, m, layer_mean);
		c_units(f, "int32_t", "shift", l, m, layer_shift);
		c_units(f, "int32_t", "mult", l, m, layer_mult);
	}
	fprintf(f, "\nstruct fewmul_model_layer {\n"
		"\tconst %s *w;\n"
		"\tconst int32_t *beta, *mean, *shift, *mult;\n"
		"};\n\n"
		"static const struct fewmul_model_layer fewmul_model_layers[FEWMUL_MODEL_LAYERS] = {\n",
		full ? "int32_t" : "uint8_t");
	for (l = 1; l <= c->nr_layers; l++)
		fprintf(f, "\t{ fewmul_model_w%u, fewmul_model_beta%u, fewmul_model_mean%u, fewmul_model_shift%u, fewmul_model_mult%u },\n",
			l, l, l, l, l);
	fputs("};\n\n"
	      "/* round(v / 2^sh), half up; a left shift for sh < 0 (as the engine) */\n"
	      "static inline int64_t fewmul_model_scale(int64_t v, int32_t sh)\n"
	      "{\n"
	      "\tif (sh <= 0)\n"
	      "\t\treturn (int64_t)((uint64_t)v << -sh);\n"
	      "\tif (sh > 62)\n"
	      "\t\treturn 0;\n"
	      "\treturn (v + ((int64_t)1 << (sh - 1))) >> sh;\n"
	      "}\n\n"
	      "/*\n"
	      " * Classify one image of FEWMUL_MODEL_INPUTS pixels (0..255) with\n"
	      " * FEWMUL_MODEL_SCRATCH int32_t of scratch; scores (may be NULL) gets the\n"
	      " * FEWMUL_MODEL_CLASSES output scores (Q12). Returns the class: the first\n"
	      " * with the highest score.\n"
	      " */\n"
	      "static inline int fewmul_model_classify(const uint8_t *pixels, int32_t *scratch,\n"
	      "\t\t\t\t\tint32_t *scores)\n"
	      "{\n"
	      "\tint32_t *in = scratch, *out = scratch + FEWMUL_MODEL_MAX_WIDTH, *tmp;\n"
	      "\tunsigned int l, i, j, best = 0;\n\n"
	      "\tfor (l = 0; l < FEWMUL_MODEL_LAYERS; l++) {\n"
	      "\t\tconst struct fewmul_model_layer *ly = &fewmul_model_layers[l];\n"
	      "\t\tunsigned int nin = fewmul_model_width[l], nout = fewmul_model_width[l + 1];\n\n"
	      "\t\tfor (j = 0; j < nout; j++) {\n", f);
	if (full)
		fputs("\t\t\tconst int32_t *w = ly->w + (uint64_t)j * nin;\n"
		      "\t\t\tint64_t y = 0, z;\n\n"
		      "\t\t\tfor (i = 0; i < nin; i++)\n"
		      "\t\t\t\ty += (int64_t)w[i] * (l ? in[i] : (int32_t)pixels[i] << 4);\n"
		      "\t\t\ty = fewmul_model_scale(y, 24);\n"
		      "\t\t\ty = y > 0x3fffffff ? 0x3fffffff : y < -0x3fffffff ? -0x3fffffff : y;\n", f);
	else
		fputs("\t\t\tconst uint8_t *w = ly->w + (uint64_t)j * ((nin + 3) / 4);\n"
		      "\t\t\tint64_t y = 0, z;\n\n"
		      "\t\t\tfor (i = 0; i < nin; i++) {\n"
		      "\t\t\t\tunsigned int t = (w[i / 4] >> (2 * (i % 4))) & 3;\n"
		      "\t\t\t\tint32_t x = l ? in[i] : (int32_t)pixels[i] << 4;\n\n"
		      "\t\t\t\tif (t == 1)\n"
		      "\t\t\t\t\ty += x;\n"
		      "\t\t\t\telse if (t == 3)\n"
		      "\t\t\t\t\ty -= x;\n"
		      "\t\t\t}\n", f);
	fputs("\t\t\tz = fewmul_model_scale((y - ly->mean[j]) * ly->mult[j], ly->shift[j]) +\n"
	      "\t\t\t    ly->beta[j];\n"
	      "\t\t\tif (z > FEWMUL_MODEL_X_MAX)\n"
	      "\t\t\t\tz = FEWMUL_MODEL_X_MAX;\n"
	      "\t\t\tif (z < -FEWMUL_MODEL_X_MAX)\n"
	      "\t\t\t\tz = -FEWMUL_MODEL_X_MAX;\n"
	      "\t\t\tout[j] = l + 1 < FEWMUL_MODEL_LAYERS && z < 0 ? 0 : (int32_t)z;\n"
	      "\t\t}\n"
	      "\t\ttmp = in;\n"
	      "\t\tin = out;\n"
	      "\t\tout = tmp;\n"
	      "\t}\n"
	      "\tfor (j = 0; j < FEWMUL_MODEL_CLASSES; j++) {\n"
	      "\t\tif (in[j] > in[best])\n"
	      "\t\t\tbest = j;\n"
	      "\t\tif (scores)\n"
	      "\t\t\tscores[j] = in[j];\n"
	      "\t}\n"
	      "\treturn (int)best;\n"
	      "}\n\n"
	      "#endif /* FEWMUL_MODEL_H */\n", f);
}

static int write_header(const struct export_model *m, const char *out)
{
	struct fewmul_outfile *of;
	FILE *f;

	if (open_outfile("-o", out, &of, &f))
		return -1;
	write_header_text(f, m);
	if (ferror(f) | fclose(f)) {
		fewmulctl_errx("-o %s: write failed: %s", out, strerror(errno ? errno : EIO));
		fewmul_outfile_abort(of);
		return -1;
	}
	return close_outfile(of);
}

/* ---- the command ------------------------------------------------------------ */

static int parse_format(const char *arg, int *fmt)
{
	if (!strcmp(arg, "npz"))
		*fmt = FMT_NPZ;
	else if (!strcmp(arg, "c-header"))
		*fmt = FMT_HEADER;
	else {
		fewmulctl_errx("--format %s: want npz or c-header", arg);
		return -1;
	}
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

enum { O_FORMAT = 256 };

struct export_opts {
	const char *out;
	int fmt;
};

static int export_option(int c, const char *arg, void *ctx)
{
	struct export_opts *eo = ctx;

	if (c == 'o') {
		eo->out = arg;
		return 0;
	}
	return parse_format(arg, &eo->fmt);	/* --format */
}

static int export_main(int argc, char **argv)
{
	static const struct option opts[] = {
		OPT_MODEL,
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, O_FORMAT },
		OPT_DATA, OPT_CALIB, OPT_THREADS, OPT_END,
	};
	const char *model = NULL, *data = NULL, *out;
	struct fewmul_model_extra ex = { .size = sizeof(ex) };
	struct fewmul_dataset train = { 0 };
	struct fewmul_trainer *t = NULL;
	struct export_model m = { 0 };
	struct export_opts eo = { .fmt = -1 };
	struct cmdline cl = {
		.opts = opts, .shortopts = "o:", .own = export_option, .ctx = &eo,
	};
	uint32_t threads = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN), l;
	int fmt, ret = -1, err;
	int64_t calib = -1;
	char errbuf[512];
	size_t size;
	uint64_t off = 0;

	cl.co.model = &model;
	cl.co.data = &data;
	cl.co.calib = &calib;
	cl.co.threads = &threads;
	ret = parse_cmdline(argc, argv, &cl);
	if (ret)
		return ret;
	ret = -1;
	out = eo.out;
	fmt = eo.fmt;
	if (!model) {
		fewmulctl_errx("export: --model FILE is required");
		return CMD_USAGE;
	}
	if (!out) {
		fewmulctl_errx("export: -o FILE is required");
		return CMD_USAGE;
	}
	if (fmt < 0)
		fmt = ends_with(out, ".h") ? FMT_HEADER : FMT_NPZ;
	/* an output that cannot be written is found before any work */
	if (check_outfile("-o", out))
		return -1;

	err = fewmul_model_load_ex(model, "cpu", threads, &t, &m.info, &ex,
				   errbuf, sizeof(errbuf));
	if (err) {
		fewmulctl_errx("--model %s", errbuf);
		return -1;
	}
	if (bn_stats_settle(t, model, &m.info, &ex, calib, data, &train,
			    &m.bn_samples, &m.bn_how))
		goto out;
	m.path = model;
	m.cfg = m.info.config;
	m.step = fewmul_trainer_step(t);
	m.arena = fewmul_trainer_params(t, &size);
	/* the arena's layout (fewmul_layout()): per layer U, beta, mean, shift */
	for (l = 1; l <= m.cfg.nr_layers; l++) {
		m.w_off[l] = off;
		off += (uint64_t)m.cfg.width[l - 1] * m.cfg.width[l];
		m.beta_off[l] = off;
		off += 3 * (uint64_t)m.cfg.width[l];
	}
	if (off * 4 != size) {
		fewmulctl_errx("%s: %zu parameter bytes, the layout needs %" PRIu64,
			       model, size, off * 4);
		goto out;
	}
	ret = fmt == FMT_NPZ ? write_npz(&m, out) : write_header(&m, out);
	if (!ret)
		printf("%s: %s of %s (%s weights, batch norm %s%s%s)\n", out,
		       fmt == FMT_NPZ ? "NumPy .npz" : "C header", model,
		       fewmul_weights_name(m.cfg.weights), bn_name(m.cfg.bn),
		       strcmp(m.bn_how, "none") ? ", statistics " : "",
		       strcmp(m.bn_how, "none") ? m.bn_how : "");
out:
	fewmul_trainer_free(t);
	fewmul_dataset_free(&train);
	return ret;
}

const struct fewmulctl_cmd cmd_export = {
	.name = "export",
	.usage = "--model FILE -o OUT.npz|OUT.h [--format npz|c-header] [--calib N] [--data DIR] [--threads N]",
	.summary = "write a model's integer inference parameters as NumPy .npz or a C header",
	.options =
	HELP_MODEL
	"  -o, --output FILE      the file to write\n"
	"  --format npz|c-header  NumPy .npz (default) or a C header with packed weights\n"
	"                         and an inference function (default when FILE ends in .h)\n"
	HELP_CALIB
	HELP_DATA
	"  --threads N            worker threads of --calib (default: online CPUs)\n"
	"  -h, --help             this help\n",
	.run = export_main,
};
