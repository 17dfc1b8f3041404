// SPDX-License-Identifier: MIT
/*
 * Minimal libfewmul program: train a small ternary network on
 * Fashion-MNIST for one epoch with the cpu backend and print the test
 * error. Build against the installed library:
 *
 *   cc example.c $(pkg-config --cflags --libs libfewmul) -o example
 */
#include <stdio.h>
#include <stdlib.h>

#include <libfewmul.h>

int main(void)
{
	struct fewmul_dataset train, test;
	struct fewmul_train_config cfg;
	struct fewmul_result tr = { 0 }, te = { 0 };
	struct fewmul_trainer *t;
	uint32_t *idx, i, n = 6000;
	int err;

	if (fewmul_dataset_load_dir(NULL, 0, &train) ||
	    fewmul_dataset_load_dir(NULL, 1, &test)) {
		fprintf(stderr, "cannot load the data: %s%s\n", train.error, test.error);
		return 1;
	}
	fewmul_train_config_default(&cfg);
	fewmul_parse_arch("784-256-10", &cfg);
	cfg.epochs = 1;
	err = fewmul_trainer_new(&cfg, "cpu", 2, &t);
	if (err) {
		fprintf(stderr, "fewmul_trainer_new: error %d\n", err);
		return 1;
	}
	idx = malloc(sizeof(*idx) * test.count);
	for (i = 0; i < test.count; i++)
		idx[i] = i;
	err = fewmul_trainer_train(t, &train, idx, n, 0, &tr);
	if (!err)
		err = fewmul_trainer_calibrate(t, &train, idx, n);
	if (!err)
		err = fewmul_trainer_eval(t, &test, idx, test.count, &te, NULL);
	if (err) {
		fprintf(stderr, "training failed: error %d\n", err);
		return 1;
	}
	printf("trained on %llu samples, test error %.2f%%, %llu multiplies\n",
	       (unsigned long long)tr.samples,
	       100.0 * (double)te.errors / (double)te.samples,
	       (unsigned long long)tr.ops.muls);
	free(idx);
	fewmul_trainer_free(t);
	fewmul_dataset_free(&train);
	fewmul_dataset_free(&test);
	return 0;
}
