// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libfewmul: model files.
 *
 * A 196-byte little-endian header (192 bytes of fields, then their CRC32;
 * version 1 had 160 and 164) followed by the parameter arena (s32, little-endian), whose CRC32 is in
 * the header (zlib's crc32). Files are written through
 * fewmul_outfile_open() (outfile.c): a temporary file beside the target,
 * synced and renamed over it, so a crash never leaves a half-written
 * model under the name, and a device or directory is never replaced.
 * Documentation/file-formats.rst describes the format.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "internal.h"

#define MF_MAGIC	"FEWMULMD"
#define MF_VERSION	2
#define MF_HDR_SIZE	192	/* fields; their CRC32 follows */
#define MF_V1_HDR_SIZE	160

/* header field offsets */
enum {
	MF_O_MAGIC = 0,		/* 8 bytes */
	MF_O_VERSION = 8,
	MF_O_ABI = 12,
	MF_O_HDR_SIZE = 16,
	MF_O_FLAGS = 20,
	MF_O_LAYERS = 24,
	MF_O_WIDTH = 28,	/* 17 x u32 */
	MF_O_WEIGHTS = 96,
	MF_O_QBP = 100,
	MF_O_BN = 104,
	MF_O_EMIN = 108,
	MF_O_EMAX = 112,
	MF_O_LR0 = 116,
	MF_O_LR1 = 120,
	MF_O_EPOCHS = 124,
	MF_O_BATCH = 128,
	MF_O_EPOCH = 132,
	MF_O_SEED = 136,	/* u64 */
	MF_O_STEP = 144,	/* u64 */
	MF_O_EPOCH_POS = 152,
	MF_O_PAYLOAD_CRC = 156,
	/* version 2 */
	MF_O_BN_SAMPLES = 160,
	MF_O_TRAIN_LIMIT = 164,
	MF_O_VAL = 168,
	MF_O_RESERVED = 172,	/* 20 bytes, zero */
};
/* the payload size follows from the architecture; the header CRC covers
 * the fields (with the payload CRC) and is stored right after them */

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static int mf_fail(char *err, size_t len, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* The arena as little-endian bytes (a copy on big-endian hosts). */
static int le_payload(const void *arena, size_t size, unsigned char **out)
{
	unsigned char *p;
	size_t i;

	p = malloc(size ? size : 1);
	if (!p)
		return -ENOMEM;
	for (i = 0; i + 4 <= size; i += 4) {
		int32_t v;

		memcpy(&v, (const unsigned char *)arena + i, 4);
		put32(p + i, (uint32_t)v);
	}
	*out = p;
	return 0;
}

FEWMUL_API int fewmul_model_save_ex(const struct fewmul_trainer *t,
				    const char *path,
				    const struct fewmul_model_info *info,
				    const struct fewmul_model_extra *extra,
				    char *err, size_t errlen)
{
	struct fewmul_model_extra ex = { 0 };
	unsigned char hdr[MF_HDR_SIZE + 4], *payload = NULL;
	struct fewmul_train_config cfg;
	struct fewmul_outfile *of;
	const void *arena;
	size_t size, off;
	uint32_t l, crc;
	int fd, ret;
	ssize_t n;

	if (!t || !path || !info)
		return -EINVAL;
	if (extra)
		memcpy(&ex, extra, extra->size < sizeof(ex) ? extra->size : sizeof(ex));
	fewmul_train_config_get(t, &cfg);
	arena = fewmul_trainer_params(t, &size);
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr + MF_O_MAGIC, MF_MAGIC, 8);
	put32(hdr + MF_O_VERSION, MF_VERSION);
	put32(hdr + MF_O_ABI, FEWMUL_ABI_VERSION);
	put32(hdr + MF_O_HDR_SIZE, sizeof(hdr));
	put32(hdr + MF_O_LAYERS, cfg.nr_layers);
	for (l = 0; l <= FEWMUL_MAX_LAYERS; l++)
		put32(hdr + MF_O_WIDTH + 4 * l, cfg.width[l]);
	put32(hdr + MF_O_WEIGHTS, cfg.weights);
	put32(hdr + MF_O_QBP, cfg.qbp);
	put32(hdr + MF_O_BN, cfg.bn);
	put32(hdr + MF_O_EMIN, (uint32_t)cfg.exp_min);
	put32(hdr + MF_O_EMAX, (uint32_t)cfg.exp_max);
	put32(hdr + MF_O_LR0, cfg.lr_shift_start);
	put32(hdr + MF_O_LR1, cfg.lr_shift_end);
	put32(hdr + MF_O_EPOCHS, cfg.epochs);
	put32(hdr + MF_O_BATCH, cfg.batch);
	put32(hdr + MF_O_EPOCH, info->epoch);
	put64(hdr + MF_O_SEED, cfg.seed);
	put64(hdr + MF_O_STEP, fewmul_trainer_step(t));
	put32(hdr + MF_O_EPOCH_POS, info->epoch_pos);
	put32(hdr + MF_O_BN_SAMPLES, ex.bn_samples);
	put32(hdr + MF_O_TRAIN_LIMIT, ex.train_limit);
	put32(hdr + MF_O_VAL, ex.val);

	ret = le_payload(arena, size, &payload);
	if (ret)
		return mf_fail(err, errlen, ret, "out of memory");
	crc = (uint32_t)crc32(0L, payload, (uInt)size);
	put32(hdr + MF_O_PAYLOAD_CRC, crc);
	put32(hdr + MF_HDR_SIZE, (uint32_t)crc32(0L, hdr, MF_HDR_SIZE));

	ret = fewmul_outfile_open(path, &of, err, errlen);
	if (ret)
		goto out;
	fd = fewmul_outfile_fd(of);
	for (off = 0; off < sizeof(hdr) + size; off += (size_t)n) {
		const unsigned char *src = off < sizeof(hdr) ? hdr + off :
					   payload + (off - sizeof(hdr));
		size_t left = off < sizeof(hdr) ? sizeof(hdr) - off :
			      size - (off - sizeof(hdr));

		n = write(fd, src, left);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			ret = mf_fail(err, errlen, n < 0 ? -errno : -EIO,
				      "%s: write failed: %s", path,
				      strerror(n < 0 ? errno : EIO));
			fewmul_outfile_abort(of);
			goto out;
		}
	}
	ret = fewmul_outfile_commit(of, err, errlen);
out:
	free(payload);
	return ret;
}

FEWMUL_API int fewmul_model_save(const struct fewmul_trainer *t,
				 const char *path,
				 const struct fewmul_model_info *info,
				 char *err, size_t errlen)
{
	return fewmul_model_save_ex(t, path, info, NULL, err, errlen);
}

FEWMUL_API int fewmul_model_load_ex(const char *path, const char *backend,
				    unsigned int threads,
				    struct fewmul_trainer **out,
				    struct fewmul_model_info *info,
				    struct fewmul_model_extra *extra,
				    char *err, size_t errlen)
{
	unsigned char hdr[MF_HDR_SIZE + 4], *payload = NULL, extra_byte;
	struct fewmul_model_extra ex = { 0 };
	struct fewmul_train_config cfg;
	struct fewmul_trainer *t = NULL;
	struct fewmul_config core;
	struct fewmul_layout lay;
	uint32_t l, version, hsize;
	size_t size, got;
	struct stat st;
	FILE *f;
	int ret;

	if (!path || !out || !info)
		return -EINVAL;
	*out = NULL;
	f = fopen(path, "rb");
	if (!f)
		return mf_fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st))
		st.st_mode = 0;
	if (S_ISDIR(st.st_mode)) {
		ret = mf_fail(err, errlen, -EISDIR, "%s: a directory, not a model file", path);
		goto out;
	}
	memset(hdr, 0, sizeof(hdr));
	/* version 1's header is the shorter: read that much first */
	if (fread(hdr, 1, MF_V1_HDR_SIZE + 4, f) != MF_V1_HDR_SIZE + 4) {
		if (ferror(f))
			ret = mf_fail(err, errlen, -EIO, "%s: %s", path, strerror(errno));
		else
			ret = mf_fail(err, errlen, -EBADMSG, "%s: truncated header (not a fewmul model?)", path);
		goto out;
	}
	if (memcmp(hdr, MF_MAGIC, 8)) {
		ret = mf_fail(err, errlen, -EBADMSG, "%s: bad magic (not a fewmul model)", path);
		goto out;
	}
	version = get32(hdr + MF_O_VERSION);
	hsize = version == 1 ? MF_V1_HDR_SIZE : MF_HDR_SIZE;
	if ((version != 1 && version != MF_VERSION) ||
	    get32(hdr + MF_O_HDR_SIZE) != hsize + 4) {
		ret = mf_fail(err, errlen, -EBADMSG, "%s: format version %u not supported (this is version %u)",
			      path, version, MF_VERSION);
		goto out;
	}
	if (hsize > MF_V1_HDR_SIZE &&
	    fread(hdr + MF_V1_HDR_SIZE + 4, 1, hsize - MF_V1_HDR_SIZE,
		  f) != hsize - MF_V1_HDR_SIZE) {
		ret = mf_fail(err, errlen, -EBADMSG, "%s: truncated header (not a fewmul model?)", path);
		goto out;
	}
	if (get32(hdr + hsize) != (uint32_t)crc32(0L, hdr, hsize)) {
		ret = mf_fail(err, errlen, -EBADMSG, "%s: header checksum mismatch (corrupted)", path);
		goto out;
	}
	if (get32(hdr + MF_O_ABI) != FEWMUL_ABI_VERSION || get32(hdr + MF_O_FLAGS)) {
		ret = mf_fail(err, errlen, -EBADMSG, "%s: ABI version %u or flags %#x not supported",
			      path, get32(hdr + MF_O_ABI), get32(hdr + MF_O_FLAGS));
		goto out;
	}
	if (version >= 2) {
		for (l = MF_O_RESERVED; l < MF_HDR_SIZE; l++) {
			if (hdr[l]) {
				ret = mf_fail(err, errlen, -EBADMSG, "%s: reserved header bytes are not zero (a newer format?)",
					      path);
				goto out;
			}
		}
		ex.bn_samples = get32(hdr + MF_O_BN_SAMPLES);
		ex.train_limit = get32(hdr + MF_O_TRAIN_LIMIT);
		ex.val = get32(hdr + MF_O_VAL);
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_layers = get32(hdr + MF_O_LAYERS);
	for (l = 0; l <= FEWMUL_MAX_LAYERS; l++)
		cfg.width[l] = get32(hdr + MF_O_WIDTH + 4 * l);
	cfg.weights = get32(hdr + MF_O_WEIGHTS);
	cfg.qbp = get32(hdr + MF_O_QBP);
	cfg.bn = get32(hdr + MF_O_BN);
	cfg.exp_min = (int32_t)get32(hdr + MF_O_EMIN);
	cfg.exp_max = (int32_t)get32(hdr + MF_O_EMAX);
	cfg.lr_shift_start = get32(hdr + MF_O_LR0);
	cfg.lr_shift_end = get32(hdr + MF_O_LR1);
	cfg.epochs = get32(hdr + MF_O_EPOCHS);
	cfg.batch = get32(hdr + MF_O_BATCH);
	cfg.seed = get64(hdr + MF_O_SEED);

	/* size check before any allocation the header asks for */
	fewmul_to_core(&cfg, &core);
	if (fewmul_config_check(&core)) {
		ret = mf_fail(err, errlen, -EBADMSG, "%s: invalid model configuration in the header", path);
		goto out;
	}
	fewmul_layout(&core, &lay);
	if (S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size != hsize + 4 + lay.size) {
		ret = mf_fail(err, errlen, -EBADMSG, "%s: %s: %llu parameter bytes, the architecture needs %llu",
			      path, (uint64_t)st.st_size < hsize + 4 + lay.size ?
			      "truncated" : "trailing data",
			      (unsigned long long)(st.st_size - (off_t)(hsize + 4)),
			      (unsigned long long)lay.size);
		goto out;
	}
	ret = fewmul_trainer_new(&cfg, backend, threads, &t);
	if (ret) {
		ret = mf_fail(err, errlen, ret == -EINVAL ? -EBADMSG : ret,
			      "%s: %s", path, ret == -EINVAL ?
			      "invalid model configuration in the header" :
			      strerror(-ret));
		goto out;
	}
	fewmul_trainer_params(t, &size);
	payload = malloc(size ? size : 1);
	if (!payload) {
		ret = mf_fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	got = fread(payload, 1, size, f);
	if (got != size) {
		ret = mf_fail(err, errlen, -EBADMSG, "%s: truncated: %zu of %zu parameter bytes",
			      path, got, size);
		goto out;
	}
	if (fread(&extra_byte, 1, 1, f) == 1) {
		ret = mf_fail(err, errlen, -EBADMSG, "%s: trailing data after the parameters", path);
		goto out;
	}
	if ((uint32_t)crc32(0L, payload, (uInt)size) != get32(hdr + MF_O_PAYLOAD_CRC)) {
		ret = mf_fail(err, errlen, -EBADMSG, "%s: parameter checksum mismatch (corrupted)", path);
		goto out;
	}
	ret = fewmul_trainer_restore(t, payload, size, get64(hdr + MF_O_STEP));
	if (ret) {
		ret = mf_fail(err, errlen, ret, "%s: cannot restore: %s", path,
			      ret == -EINVAL ? "parameters out of range" : strerror(-ret));
		goto out;
	}
	info->epoch = get32(hdr + MF_O_EPOCH);
	info->epoch_pos = get32(hdr + MF_O_EPOCH_POS);
	info->config = cfg;
	if (extra) {
		ex.size = extra->size < sizeof(ex) ? extra->size : sizeof(ex);
		memcpy(extra, &ex, ex.size);
	}
	*out = t;
	t = NULL;
	ret = 0;
out:
	fewmul_trainer_free(t);
	free(payload);
	fclose(f);
	return ret;
}

FEWMUL_API int fewmul_model_load(const char *path, const char *backend,
				 unsigned int threads,
				 struct fewmul_trainer **out,
				 struct fewmul_model_info *info,
				 char *err, size_t errlen)
{
	return fewmul_model_load_ex(path, backend, threads, out, info, NULL,
				    err, errlen);
}
