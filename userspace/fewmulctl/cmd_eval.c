// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl eval: test error, per-class accuracy and confusion matrix of
 * a saved model, with the deterministic (or, --test-weights real, the
 * real-valued shadow) test-time weights and batch-norm statistics stored
 * or re-estimated on training data.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libfewmul.h"
#include "fewmulctl.h"

enum { O_LIMIT = 256, O_TESTW };

struct eval_opts {
	uint32_t limit;
	int testw;
};

static int eval_option(int c, const char *arg, void *ctx)
{
	struct eval_opts *eo = ctx;

	if (c == O_TESTW)
		return opt_test_weights(arg, &eo->testw);
	return opt_count("--test-limit", arg, &eo->limit);
}

static int eval_main(int argc, char **argv)
{
	static const struct option opts[] = {
		OPT_MODEL, OPT_DATA, OPT_CALIB,
		{ "test-limit", required_argument, NULL, O_LIMIT },
		{ "test-weights", required_argument, NULL, O_TESTW },
		OPT_THREADS, OPT_BACKEND, OPT_JSON, OPT_END,
	};
	struct eval_opts eo = { .testw = FEWMUL_TEST_WEIGHTS_TERNARY };
	uint32_t limit;
	struct cmdline cl = { .opts = opts, .own = eval_option, .ctx = &eo };
	struct model_run mr;
	const struct fewmul_model_info *info = &mr.info;
	struct fewmul_dataset test = { 0 };
	struct fewmul_result r = { 0 };
	char label[4200];
	uint64_t *conf = NULL;
	uint32_t *idx = NULL, i, k, nk;
	int ret, err;

	model_run_init(&mr, &cl);
	ret = parse_cmdline(argc, argv, &cl);
	if (!ret)
		ret = model_run_check(&mr, "eval");
	if (ret)
		return ret;
	if (model_run_load(&mr))
		return -1;
	ret = -1;
	limit = eo.limit;
	err = fewmul_trainer_set_test_weights(mr.t, eo.testw);
	if (err) {
		backend_err(&mr.be, eo.testw == FEWMUL_TEST_WEIGHTS_REAL ?
			    "--test-weights real" : "--test-weights sampled", err);
		goto out;
	}
	if (eo.testw != FEWMUL_TEST_WEIGHTS_TERNARY &&
	    info->config.weights != FEWMUL_WEIGHTS_FULL &&
	    info->config.bn != FEWMUL_BN_OFF) {
		/* the stored statistics are those of the deterministic weights */
		if (!mr.calib) {
			fewmulctl_errx("--calib 0: the stored batch-norm statistics are those of the deterministic test-time weights; re-estimate them for --test-weights %s with --calib N",
				       test_weights_name(eo.testw));
			goto out;
		}
		mr.ex.bn_samples = 0;
		if (mr.calib < 0)
			mr.calib = CALIB_DEFAULT;
	}
	nk = info->config.width[info->config.nr_layers];
	if (fewmul_dataset_load_dir(mr.data, 1, &test)) {
		fewmulctl_errx("--data: %s", test.error);
		goto out;
	}
	if (test.rows * test.cols != info->config.width[0]) {
		fewmulctl_errx("%s: the model's input width %u does not match the %ux%u images",
			       mr.model, info->config.width[0], test.rows, test.cols);
		goto out;
	}
	if (!limit || limit > test.count)
		limit = test.count;
	if (model_run_settle(&mr))
		goto out;
	idx = malloc(sizeof(*idx) * limit);
	conf = calloc((size_t)nk * nk, sizeof(*conf));
	if (!idx || !conf) {
		fewmulctl_err("allocating", -ENOMEM);
		goto out;
	}
	for (i = 0; i < limit; i++)
		idx[i] = i;
	err = fewmul_trainer_eval(mr.t, &test, idx, limit, &r, conf);
	if (err) {
		fewmulctl_err("evaluating", err);
		goto out;
	}
	if (mr.json) {
		struct json j;

		json_begin(&j, stdout);
		json_str(&j, "model", mr.model);
		json_u64(&j, "samples", r.samples);
		json_u64(&j, "errors", r.errors);
		json_double(&j, "error_rate", (double)r.errors / (double)r.samples);
		json_double(&j, "loss", r.loss / (double)r.samples);
		json_str(&j, "test_weights", test_weights_name(eo.testw));
		json_str(&j, "bn_stats", mr.how);
		json_u64(&j, "calib", mr.used);
		json_str(&j, "backend", mr.be.name);
		json_arr_open(&j, "confusion");
		for (i = 0; i < nk; i++) {
			json_arr_open(&j, NULL);
			for (k = 0; k < nk; k++)
				json_u64(&j, NULL, conf[i * nk + k]);
			json_arr_close(&j);
		}
		json_arr_close(&j);
		json_end(&j);
		ret = 0;
		goto out;
	}
	printf("%s: %s%s, trained %u epochs (step %" PRIu64 "); backend %s\n", mr.model,
	       fewmul_weights_name(info->config.weights), info->config.qbp ? "+QB" : "",
	       info->epoch, fewmul_trainer_step(mr.t),
	       backend_label(&mr.be, label, sizeof(label)));
	printf("test error %.2f%% (%" PRIu64 " of %" PRIu64 "), loss %.4f; %s test-time weights, ",
	       100.0 * (double)r.errors / (double)r.samples, r.errors, r.samples,
	       r.loss / (double)r.samples,
	       test_weights_desc(eo.testw));
	if (!strcmp(mr.how, "none"))
		printf("no batch norm\n\n");
	else
		printf("BN statistics %s from %u training samples\n\n", mr.how, mr.used);
	printf("class  accuracy   confusion (rows: label, columns: prediction)\n                 ");
	for (k = 0; k < nk; k++)
		printf("%5u", k);
	putchar('\n');
	for (i = 0; i < nk; i++) {
		uint64_t row = 0;

		for (k = 0; k < nk; k++)
			row += conf[i * nk + k];
		printf("%5u  %7.2f%%  ", i, row ? 100.0 * (double)conf[i * nk + i] / (double)row : 0.0);
		for (k = 0; k < nk; k++)
			printf("%5" PRIu64, conf[i * nk + k]);
		putchar('\n');
	}
	ret = 0;
out:
	free(idx);
	free(conf);
	model_run_free(&mr);	/* before the data it may have registered */
	fewmul_dataset_free(&test);
	return ret;
}

const struct fewmulctl_cmd cmd_eval = {
	.name = "eval",
	.usage = "--model FILE [--data DIR] [--calib N] [--test-limit N] [--test-weights ternary|real|sampled] [--threads N] [--backend kernel|cpu] [--json]",
	.summary = "test error, per-class accuracy and confusion matrix of a saved model",
	.options =
	HELP_MODEL
	HELP_DATA
	HELP_CALIB
	"  --test-limit N         evaluate the first N test samples (default 0: all)\n"
	"  --test-weights W       ternary: deterministic multiply-free test-time weights\n"
	"                         (default); real: the real-valued shadow weights; sampled:\n"
	"                         one network sampled as in training (real and sampled: cpu\n"
	"                         backend; they re-estimate the BN statistics)\n"
	"  --threads N            threads that run the steps, either backend (default: online CPUs)\n"
	"  --backend kernel|cpu   evaluate in fewmul.ko or in this process (default: kernel\n"
	"                         when " FEWMUL_DEFAULT_DEVICE " exists)\n"
	HELP_DEVICE
	HELP_JSON,
	.run = eval_main,
};
