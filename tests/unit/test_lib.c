// SPDX-License-Identifier: GPL-2.0
/*
 * Native unit tests of libfewmul that need no module: argument checking,
 * error reporting for a missing device or family, feature names.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <linux/fewmul.h>

#include "libfewmul.h"
#include "unit/tap.h"

static void test_open_missing(void)
{
	struct fewmul_dev *dev = (struct fewmul_dev *)0x1;

	tap_begin();
	CHECK_EQ(fewmul_dev_open("/nonexistent/fewmul", &dev), -ENOENT);
	CHECK(dev == NULL);
	tap_end("dev_open: missing node gives -ENOENT and NULL handle");
}

static void test_open_not_a_device(void)
{
	struct fewmul_dev *dev = NULL;
	struct fewmul_device_info info;

	tap_begin();
	/* /dev/null opens, but is not fewmul: the ioctl must fail cleanly. */
	CHECK_EQ(fewmul_dev_open("/dev/null", &dev), 0);
	CHECK(dev != NULL);
	CHECK(strcmp(fewmul_dev_path(dev), "/dev/null") == 0);
	CHECK_EQ(fewmul_dev_info(dev, &info), -ENOTTY);
	fewmul_dev_close(dev);
	tap_end("dev_info: on a non-fewmul device gives -ENOTTY");
}

static void test_null_args(void)
{
	struct fewmul_device_info info;

	tap_begin();
	CHECK_EQ(fewmul_dev_open(NULL, NULL), -EINVAL);
	CHECK_EQ(fewmul_dev_info(NULL, &info), -EINVAL);
	CHECK_EQ(fewmul_genl_info(NULL), -EINVAL);
	CHECK(fewmul_dev_path(NULL) == NULL);
	fewmul_dev_close(NULL);
	tap_end("NULL arguments give -EINVAL, close(NULL) is a no-op");
}

static void test_feature_names(void)
{
	tap_begin();
	CHECK(strcmp(fewmul_feature_name(0), "info") == 0);
	CHECK(strcmp(fewmul_feature_name(1), "genl-info") == 0);
	CHECK(strcmp(fewmul_feature_name(2), "train") == 0);
	CHECK(strcmp(fewmul_feature_name(3), "genl-stats") == 0);
	CHECK(strcmp(fewmul_feature_name(5), "run-epoch") == 0);
	CHECK(strcmp(fewmul_feature_name(6), "help") == 0);
	CHECK(strcmp(fewmul_feature_name(7), "exchange") == 0);
	CHECK(strcmp(fewmul_feature_name(8), "divs") == 0);
	CHECK(strcmp(fewmul_feature_name(9), "bn-shift2") == 0);
	CHECK(fewmul_feature_name(10) == NULL);
	CHECK(fewmul_feature_name(63) == NULL);
	CHECK(fewmul_feature_name(1000) == NULL);
	CHECK((1ULL << 0) == FEWMUL_FEATURE_INFO);
	CHECK((1ULL << 1) == FEWMUL_FEATURE_GENL_INFO);
	CHECK((1ULL << 2) == FEWMUL_FEATURE_TRAIN);
	CHECK((1ULL << 3) == FEWMUL_FEATURE_GENL_STATS);
	CHECK((1ULL << 8) == FEWMUL_FEATURE_DIVS);
	CHECK((1ULL << 9) == FEWMUL_FEATURE_BN_SHIFT2);
	tap_end("feature names match the uapi bits");
}

/* Without the module, the genetlink query reports a missing family. */
static void test_genl_no_family(void)
{
	struct fewmul_device_info info;
	int err;

	tap_begin();
	err = fewmul_genl_info(&info);
	if (access("/dev/fewmul", F_OK) == 0)
		CHECK_EQ(err, 0);
	else
		CHECK_EQ(err, -ENOENT);
	tap_end("genl_info: -ENOENT without the module, 0 with it");
}

/* The kernel backend and the context queries without a module. */
static int count_ev(const struct fewmul_ctx_stats *ev, void *arg)
{
	(void)ev;
	return ++*(int *)arg >= 1;
}

static void test_kernel_backend_no_module(void)
{
	struct fewmul_train_config cfg;
	struct fewmul_trainer *t = (struct fewmul_trainer *)0x1;
	struct fewmul_ctx_stats st[2];
	struct fewmul_layer_hist h;
	int have = access(FEWMUL_DEFAULT_DEVICE, F_OK) == 0, n = 0;
	volatile int stop = 1;

	tap_begin();
	fewmul_train_config_default(&cfg);
	CHECK_EQ(fewmul_parse_arch("16-8-4", &cfg), 0);
	cfg.batch = 10;
	CHECK(strcmp(fewmul_default_backend(), have ? "kernel" : "cpu") == 0);
	CHECK_EQ(fewmul_trainer_new(&cfg, "kernel:/nonexistent/fewmul", 1, &t), -ENOENT);
	CHECK(t == NULL);
	CHECK_EQ(fewmul_trainer_new(&cfg, "kernel:/dev/null", 1, &t), -ENOTTY);
	CHECK(t == NULL);
	CHECK_EQ(fewmul_trainer_new(&cfg, "kernel:", 1, &t), -ENODEV);
	CHECK(fewmul_trainer_backend(NULL, NULL) == NULL);
	CHECK_EQ(fewmul_genl_stats(NULL, 1), -EINVAL);
	CHECK_EQ(fewmul_genl_ctx_stats(1, NULL), -EINVAL);
	CHECK_EQ(fewmul_genl_hist(1, 0, NULL), -EINVAL);
	CHECK_EQ(fewmul_genl_monitor(NULL, NULL, 0, NULL), -EINVAL);
	if (!have) {
		CHECK_EQ(fewmul_trainer_new(&cfg, "kernel", 1, &t), -ENOENT);
		CHECK_EQ(fewmul_genl_stats(st, 2), -ENOENT);
		CHECK_EQ(fewmul_genl_ctx_stats(1, st), -ENOENT);
		CHECK_EQ(fewmul_genl_hist(1, 0, &h), -ENOENT);
		CHECK_EQ(fewmul_genl_monitor(count_ev, &n, 100, NULL), -ENOENT);
	} else {
		CHECK(fewmul_genl_stats(st, 2) >= 0);
		CHECK_EQ(fewmul_genl_ctx_stats(UINT64_MAX, st), -ENOENT);
		/* a set stop flag returns at once */
		CHECK_EQ(fewmul_genl_monitor(count_ev, &n, 10000, &stop), 0);
	}
	tap_end("kernel backend and context queries: clear errors without the module, or work with it");
}

static void test_uapi_layout(void)
{
	tap_begin();
	/* ABI: offsets never change; structs only grow at the end. */
	CHECK_EQ(__builtin_offsetof(struct fewmul_info, features), 16);
	CHECK_EQ(__builtin_offsetof(struct fewmul_info, max_scratch_bytes), 40);
	CHECK_EQ(__builtin_offsetof(struct fewmul_info, simd), 48);
	CHECK_EQ(sizeof(struct fewmul_info), 64);
	CHECK_EQ(__builtin_offsetof(struct fewmul_run, muls), 88);
	CHECK_EQ(__builtin_offsetof(struct fewmul_run, predictions), 104);
	CHECK_EQ(__builtin_offsetof(struct fewmul_run, epoch_done), 112);
	CHECK_EQ(__builtin_offsetof(struct fewmul_run, dp_rank), 128);
	CHECK_EQ(__builtin_offsetof(struct fewmul_run, divs), 144);
	CHECK_EQ(sizeof(struct fewmul_run), 160);
	CHECK_EQ(__builtin_offsetof(struct fewmul_stats, divs), 64);
	CHECK_EQ(sizeof(struct fewmul_stats), 80);
	CHECK_EQ(__builtin_offsetof(struct fewmul_hist, divs), 296);
	CHECK_EQ(sizeof(struct fewmul_hist), 312);
	CHECK_EQ(sizeof(struct fewmul_exchange), 40);
	/* the first modules' numbers stay accepted: FEWMUL_IOC_LEGACY() */
	CHECK_EQ(FEWMUL_IOC_LEGACY(FEWMUL_IOC_NR_INFO), 0xF700);
	CHECK_EQ(FEWMUL_IOC_LEGACY(FEWMUL_IOC_NR_HIST), 0xF707);
	/* _IOWR() with today's struct sizes (a larger struct encodes more) */
	CHECK_EQ(FEWMUL_IOC_INFO, 0xC040F700);
	CHECK_EQ(FEWMUL_IOC_BUF_REGISTER, 0xC020F701);
	CHECK_EQ(FEWMUL_IOC_BUF_UNREGISTER, 0xC010F702);
	CHECK_EQ(FEWMUL_IOC_MODEL_CREATE, 0xC090F703);
	CHECK_EQ(FEWMUL_IOC_TRAIN, 0xC0A0F704);
	CHECK_EQ(FEWMUL_IOC_EVAL, 0xC0A0F705);
	CHECK_EQ(FEWMUL_IOC_STATS, 0xC050F706);
	CHECK_EQ(FEWMUL_IOC_HIST, 0xC138F707);
	CHECK_EQ(FEWMUL_IOC_HELP, 0xC010F708);
	CHECK_EQ(FEWMUL_IOC_EXCHANGE, 0xC028F709);
	tap_end("uapi: struct fewmul_info, fewmul_run, fewmul_stats and fewmul_hist layouts and the ioctl numbers (both encodings) are stable");
}

int main(void)
{
	test_open_missing();
	test_open_not_a_device();
	test_null_args();
	test_feature_names();
	test_genl_no_family();
	test_kernel_backend_no_module();
	test_uapi_layout();
	return tap_done();
}
