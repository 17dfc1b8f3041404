// SPDX-License-Identifier: GPL-2.0
/*
 * Model files: round trip, bit-exact resume, and a clear -EBADMSG for
 * every kind of damage (magic, version, header and payload checksums,
 * truncation anywhere, trailing data), never a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "libfewmul.h"
#include "unit/tap.h"
#include "unit/synth.h"

#define N 300

static struct fewmul_dataset ds;
static char dir[] = "/tmp/fewmul-mf-XXXXXX";
static char path[256];

static void make_data(void)
{
	synth_dataset(&ds, N);
}

static void cfg_small(struct fewmul_train_config *c)
{
	fewmul_train_config_default(c);
	fewmul_parse_arch("16-20-4", c);
	c->batch = 30;
	c->epochs = 4;
	c->seed = 3;
}

static void train_epoch(struct fewmul_trainer *t, uint32_t ep)
{
	uint32_t idx[N], i;
	struct fewmul_result r = { 0 };

	for (i = 0; i < N; i++)
		idx[i] = (i * 7 + ep * 13) % N;
	CHECK_EQ(fewmul_trainer_train(t, &ds, idx, N, ep, &r), 0);
}

static void test_roundtrip_resume(void)
{
	struct fewmul_train_config c;
	struct fewmul_trainer *a, *b, *r;
	struct fewmul_model_info info = { 0 }, got;
	char err[256];
	uint32_t ep;

	tap_begin();
	cfg_small(&c);
	CHECK_EQ(fewmul_trainer_new(&c, "cpu", 1, &a), 0);
	CHECK_EQ(fewmul_trainer_new(&c, "cpu", 2, &b), 0);
	for (ep = 0; ep < 4; ep++)
		train_epoch(a, ep);
	for (ep = 0; ep < 2; ep++)
		train_epoch(b, ep);
	info.epoch = 2;
	CHECK_EQ(fewmul_model_save(b, path, &info, err, sizeof(err)), 0);
	fewmul_trainer_free(b);
	CHECK_EQ(fewmul_model_load(path, "cpu", 1, &r, &got, err, sizeof(err)), 0);
	CHECK_EQ(got.epoch, 2);
	CHECK_EQ(got.epoch_pos, 0);
	CHECK_EQ(got.config.batch, 30);
	CHECK_EQ(got.config.width[1], 20);
	CHECK(got.config.seed == 3);
	CHECK_EQ(fewmul_trainer_step(r), 2 * 10);
	for (ep = 2; ep < 4; ep++)
		train_epoch(r, ep);
	CHECK(fewmul_trainer_checksum(a) == fewmul_trainer_checksum(r));
	fewmul_trainer_free(a);
	fewmul_trainer_free(r);
	tap_end("save after 2 epochs, load, train 2 more == 4 epochs straight (bit for bit)");
}

static long fsize(void)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

static unsigned char *slurp(long *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;

	*len = fsize();
	buf = malloc((size_t)*len + 16);
	if (fread(buf, 1, (size_t)*len, f) != (size_t)*len)
		*len = -1;
	fclose(f);
	return buf;
}

static void spit(const char *p, const unsigned char *buf, long len)
{
	FILE *f = fopen(p, "wb");

	fwrite(buf, 1, (size_t)len, f);
	fclose(f);
}

static void expect_bad(const char *name, const unsigned char *buf, long len,
		       const char *msg)
{
	struct fewmul_model_info info;
	struct fewmul_trainer *t = (struct fewmul_trainer *)0x1;
	char bad[300], err[256] = "";

	snprintf(bad, sizeof(bad), "%s.bad", path);
	spit(bad, buf, len);
	tap_begin();
	CHECK_EQ(fewmul_model_load(bad, "cpu", 1, &t, &info, err, sizeof(err)), -EBADMSG);
	CHECK(t == NULL);
	CHECK(strstr(err, msg) != NULL);
	if (!strstr(err, msg))
		printf("#   error was: %s\n", err);
	tap_end(name);
}

static void test_damage(void)
{
	unsigned char *buf, *copy;
	long len, cut;
	char name[64];
	struct fewmul_model_info info;
	struct fewmul_trainer *t;
	char err[256];

	buf = slurp(&len);
	copy = malloc((size_t)len + 16);

	memcpy(copy, buf, (size_t)len);
	copy[0] ^= 1;
	expect_bad("bad magic", copy, len, "bad magic");

	memcpy(copy, buf, (size_t)len);
	copy[8] = 9;
	expect_bad("unknown format version", copy, len, "format version 9 not supported");

	memcpy(copy, buf, (size_t)len);
	copy[100] ^= 0x40;
	expect_bad("header bit flip", copy, len, "header checksum mismatch");

	memcpy(copy, buf, (size_t)len);
	copy[len - 5] ^= 0x01;
	expect_bad("payload bit flip", copy, len, "parameter checksum mismatch");

	memcpy(copy, buf, (size_t)len);
	copy[len] = 7;
	expect_bad("trailing data", copy, len + 1, "trailing data");

	for (cut = 0; cut < len; cut += (cut < 200 ? 37 : 997)) {
		snprintf(name, sizeof(name), "truncated to %ld bytes", cut);
		expect_bad(name, buf, cut, "truncated");
	}

	tap_begin();
	CHECK_EQ(fewmul_model_load("/nonexistent/model", "cpu", 1, &t, &info, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "/nonexistent/model") != NULL);
	tap_end("missing file gives -ENOENT naming it");
	free(buf);
	free(copy);
}

static void test_atomic(void)
{
	struct fewmul_train_config c;
	struct fewmul_trainer *t;
	struct fewmul_model_info info = { .epoch = 1 };
	char err[256], cmd[300];

	tap_begin();
	cfg_small(&c);
	CHECK_EQ(fewmul_trainer_new(&c, "cpu", 1, &t), 0);
	CHECK_EQ(fewmul_model_save(t, path, &info, err, sizeof(err)), 0);
	/* only the model and the .bad copy: no temporary files left */
	snprintf(cmd, sizeof(cmd), "test $(ls %s | wc -l) -eq 2", dir);
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(fewmul_model_save(t, "/nonexistent/dir/m", &info, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "temporary") != NULL);
	fewmul_trainer_free(t);
	tap_end("save replaces atomically and leaves no temporary file; errors name the cause");
}

/*
 * Format version 2 records the run (fewmul_model_extra); version 1 files
 * (a 160-byte header) still load, with the extra fields zero.
 */
static void test_extra_and_v1(void)
{
	struct fewmul_model_extra ex = { .size = sizeof(ex), .bn_samples = 250,
					 .train_limit = 300, .val = 7 }, got;
	struct fewmul_train_config c;
	struct fewmul_model_info info = { .epoch = 1 }, ginfo;
	struct fewmul_trainer *t, *r;
	unsigned char *buf, *v1;
	char err[256], v1path[300];
	long len;
	uint32_t crc;

	tap_begin();
	cfg_small(&c);
	CHECK_EQ(fewmul_trainer_new(&c, "cpu", 1, &t), 0);
	train_epoch(t, 0);
	CHECK_EQ(fewmul_model_save_ex(t, path, &info, &ex, err, sizeof(err)), 0);
	memset(&got, 0xcc, sizeof(got));
	got.size = sizeof(got);
	CHECK_EQ(fewmul_model_load_ex(path, "cpu", 1, &r, &ginfo, &got, err, sizeof(err)), 0);
	CHECK_EQ(got.bn_samples, 250);
	CHECK_EQ(got.train_limit, 300);
	CHECK_EQ(got.val, 7);
	fewmul_trainer_free(r);

	/* the same model as version 1: header fields 0..156, CRC at 160 */
	buf = slurp(&len);
	v1 = malloc((size_t)len);
	memcpy(v1, buf, 160);
	v1[8] = 1;		/* version */
	v1[16] = 164;		/* header size */
	crc = (uint32_t)crc32(0L, v1, 160);
	v1[160] = (unsigned char)crc;
	v1[161] = (unsigned char)(crc >> 8);
	v1[162] = (unsigned char)(crc >> 16);
	v1[163] = (unsigned char)(crc >> 24);
	memcpy(v1 + 164, buf + 196, (size_t)len - 196);
	snprintf(v1path, sizeof(v1path), "%s.v1", path);
	spit(v1path, v1, len - 32);
	memset(&got, 0xcc, sizeof(got));
	got.size = sizeof(got);
	CHECK_EQ(fewmul_model_load_ex(v1path, "cpu", 1, &r, &ginfo, &got, err, sizeof(err)), 0);
	CHECK_EQ(got.bn_samples, 0);
	CHECK_EQ(got.train_limit, 0);
	CHECK_EQ(ginfo.epoch, 1);
	CHECK(fewmul_trainer_checksum(r) == fewmul_trainer_checksum(t));
	fewmul_trainer_free(r);
	unlink(v1path);

	/* a version 2 file with a reserved byte set is refused */
	buf[180] = 1;
	crc = (uint32_t)crc32(0L, buf, 192);
	buf[192] = (unsigned char)crc;
	buf[193] = (unsigned char)(crc >> 8);
	buf[194] = (unsigned char)(crc >> 16);
	buf[195] = (unsigned char)(crc >> 24);
	free(v1);
	fewmul_trainer_free(t);
	tap_end("version 2 records the run; version 1 files still load");
	expect_bad("reserved header bytes set", buf, len, "reserved header bytes are not zero");
	free(buf);
}

int main(void)
{
	char cmd[300];

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/model.fewmul", dir);
	make_data();
	test_roundtrip_resume();
	test_damage();
	test_atomic();
	test_extra_and_v1();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("# cleanup failed\n");
	free(ds.images);
	free(ds.labels);
	return tap_done();
}
