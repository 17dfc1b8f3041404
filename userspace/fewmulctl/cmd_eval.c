// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl eval: test error, per-class accuracy and confusion matrix of
 * a saved model, with the deterministic (or, --test-weights real, the
 * real-valued shadow) test-time weights and batch-norm
 * statistics re-estimated on training data.
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

int cmd_eval(int argc, char **argv)
{
	enum { O_MODEL = 256, O_DATA, O_CALIB, O_LIMIT, O_TESTW };
	static const struct option opts[] = {
		{ "model", required_argument, NULL, O_MODEL },
		{ "data", required_argument, NULL, O_DATA },
		{ "calib", required_argument, NULL, O_CALIB },
		{ "test-limit", required_argument, NULL, O_LIMIT },
		{ "test-weights", required_argument, NULL, O_TESTW },
		OPT_THREADS, OPT_BACKEND, OPT_JSON,
		{ NULL, 0, NULL, 0 },
	};
	const char *model = NULL, *data = NULL;
	struct backend_opt be = { 0 };
	char label[4200];
	struct fewmul_dataset train = { 0 }, test = { 0 };
	struct fewmul_model_info info;
	struct fewmul_model_extra ex = { .size = sizeof(ex) };
	struct fewmul_trainer *t = NULL;
	struct fewmul_result r = { 0 };
	uint32_t limit = 0, used, threads = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	int64_t calib = -1;
	const char *how;
	uint64_t *conf = NULL;
	uint32_t *idx = NULL, i, k, nk;
	int c, json = 0, ret = -1, err, testw = FEWMUL_TEST_WEIGHTS_TERNARY;
	struct common_opts co = { .threads = &threads, .be = &be, .json = &json };
	char errbuf[512];

	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case O_MODEL:
			model = optarg;
			break;
		case O_DATA:
			data = optarg;
			break;
		case O_CALIB:
			if (opt_calib(optarg, &calib))
				return -1;
			break;
		case O_LIMIT:
			if (opt_count("--test-limit", optarg, &limit))
				return -1;
			break;
		case O_TESTW:
			if (opt_test_weights(optarg, &testw))
				return -1;
			break;
		default:
			err = common_option(c, &co);
			if (err < 0)
				return -1;
			if (!err)
				return opt_fail(c, argv, opts);
		}
	}
	if (optind != argc)
		return opt_extra(argv, argv[optind]);
	if (!model) {
		fewmulctl_errx("eval: --model FILE is required");
		return CMD_USAGE;
	}
	if (backend_resolve(&be, NULL))
		return -1;

	err = fewmul_model_load_ex(model, be.spec, threads, &t, &info, &ex,
				   errbuf, sizeof(errbuf));
	if (err) {
		fewmulctl_errx("%s", errbuf);
		return -1;
	}
	nk = info.config.width[info.config.nr_layers];
	if (fewmul_dataset_load_dir(data, 1, &test)) {
		fewmulctl_errx("--data: %s", test.error);
		goto out;
	}
	if (test.rows * test.cols != info.config.width[0]) {
		fewmulctl_errx("%s: the model's input width %u does not match the %ux%u images",
			       model, info.config.width[0], test.rows, test.cols);
		goto out;
	}
	if (!limit || limit > test.count)
		limit = test.count;
	err = fewmul_trainer_set_test_weights(t, testw);
	if (err) {
		backend_err(&be, "--test-weights real", err);
		goto out;
	}
	if (testw == FEWMUL_TEST_WEIGHTS_REAL &&
	    info.config.weights != FEWMUL_WEIGHTS_FULL && info.config.bn != FEWMUL_BN_OFF) {
		/* the stored statistics are those of the deterministic weights */
		if (!calib) {
			fewmulctl_errx("--calib 0: the stored batch-norm statistics are those of the deterministic test-time weights; re-estimate them for --test-weights real with --calib N");
			goto out;
		}
		ex.bn_samples = 0;
		if (calib < 0)
			calib = CALIB_DEFAULT;
	}
	if (bn_stats_settle(t, model, &info, &ex, calib, data, &train, &used, &how))
		goto out;
	idx = malloc(sizeof(*idx) * limit);
	conf = calloc((size_t)nk * nk, sizeof(*conf));
	if (!idx || !conf) {
		fewmulctl_err("allocating", -ENOMEM);
		goto out;
	}
	for (i = 0; i < limit; i++)
		idx[i] = i;
	err = fewmul_trainer_eval(t, &test, idx, limit, &r, conf);
	if (err) {
		fewmulctl_err("evaluating", err);
		goto out;
	}
	if (json) {
		struct json j;

		json_begin(&j, stdout);
		json_str(&j, "model", model);
		json_u64(&j, "samples", r.samples);
		json_u64(&j, "errors", r.errors);
		json_double(&j, "error_rate", (double)r.errors / (double)r.samples);
		json_double(&j, "loss", r.loss / (double)r.samples);
		json_str(&j, "test_weights", test_weights_name(testw));
		json_str(&j, "bn_stats", how);
		json_u64(&j, "calib", used);
		json_str(&j, "backend", be.name);
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
	printf("%s: %s%s, trained %u epochs (step %" PRIu64 "); backend %s\n", model,
	       fewmul_weights_name(info.config.weights), info.config.qbp ? "+QB" : "",
	       info.epoch, fewmul_trainer_step(t),
	       backend_label(&be, label, sizeof(label)));
	printf("test error %.2f%% (%" PRIu64 " of %" PRIu64 "), loss %.4f; %s test-time weights, ",
	       100.0 * (double)r.errors / (double)r.samples, r.errors, r.samples,
	       r.loss / (double)r.samples,
	       testw == FEWMUL_TEST_WEIGHTS_REAL ? "real-valued" : "deterministic");
	if (!strcmp(how, "none"))
		printf("no batch norm\n\n");
	else
		printf("BN statistics %s from %u training samples\n\n", how, used);
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
	fewmul_trainer_free(t);	/* before the data it may have registered */
	fewmul_dataset_free(&train);
	fewmul_dataset_free(&test);
	return ret;
}
