// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl train: train a model on an IDX dataset and report, per epoch,
 * the training loss and error, the test error, time, rate and the
 * operations executed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libfewmul.h"
#include "fewmulctl.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A learning rate given as a number is rounded to a power of two. */
int parse_lr_shift(const char *s, uint32_t *shift)
{
	char *end;
	double v;
	long k;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1)
		return -EINVAL;
	k = lround(-log2(v));
	if (k < 0 || k > 24)
		return -EINVAL;
	*shift = (uint32_t)k;
	return 0;
}

int parse_weights(const char *s, uint32_t *w)
{
	static const char *const names[] = { "full", "binary", "binary-stoch",
					     "ternary" };
	uint32_t i;

	for (i = 0; i < 4; i++) {
		if (!strcmp(s, names[i])) {
			*w = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *weights_name(uint32_t w)
{
	static const char *const names[] = { "full", "binary", "binary-stoch",
					     "ternary" };

	return w < 4 ? names[w] : "?";
}

/* A progress bar on a terminal (stderr), nothing otherwise. */
static int progress_tty = -1;

static void progress(uint32_t ep, uint32_t epochs, uint32_t pos, uint32_t n,
		     double secs)
{
	double rate = secs > 0 ? pos / secs : 0;
	int width = 30, fill = (int)((uint64_t)pos * width / (n ? n : 1));
	double eta = rate > 0 ? (n - pos) / rate : 0;

	if (progress_tty < 0)
		progress_tty = isatty(2);
	if (!progress_tty)
		return;
	fprintf(stderr, "\repoch %u/%u [%.*s%*s] %3u%% %6.0f samples/s ETA %u:%02u ",
		ep + 1, epochs, fill, "##############################",
		width - fill, "", (unsigned int)((uint64_t)pos * 100 / (n ? n : 1)),
		rate, (unsigned int)eta / 60, (unsigned int)eta % 60);
}

static void progress_done(void)
{
	if (progress_tty > 0)
		fprintf(stderr, "\r%*s\r", 79, "");
}

/* Deterministic shuffle (xorshift64, seeded from the seed and epoch). */
static void shuffle(uint32_t *a, uint32_t n, uint64_t seed, uint32_t epoch)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ULL + epoch + 1;
	uint32_t i, j, t;

	for (i = n; i > 1; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (uint32_t)(x % i);
		t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

/*
 * The --log CSV header. Columns are only ever added at the end; a file
 * begun by an older fewmulctl (without val_error) is continued in its own
 * format.
 */
#define LOG_HEADER_V1 "epoch,lr_shift,train_loss,train_error,test_error,seconds,samples_per_s,adds,shifts,muls"
#define LOG_HEADER LOG_HEADER_V1 ",val_error"

/*
 * Open --log for appending: write the header to a new or empty file, and
 * check an existing file's header. *v1 is set for the older format.
 */
static FILE *log_open(const char *path, int val, int *v1)
{
	char line[512];
	FILE *f = fopen(path, "a+");

	*v1 = 0;
	if (!f) {
		fewmulctl_err(path, -errno);
		return NULL;
	}
	rewind(f);
	if (!fgets(line, sizeof(line), f)) {
		if (ferror(f)) {
			fewmulctl_err(path, -EIO);
			fclose(f);
			return NULL;
		}
		fprintf(f, "%s\n", LOG_HEADER);
		return f;
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (!strcmp(line, LOG_HEADER))
		return f;
	if (!strcmp(line, LOG_HEADER_V1) && !val) {
		*v1 = 1;
		return f;
	}
	if (!strcmp(line, LOG_HEADER_V1))
		fewmulctl_errx("--log %s: the file has no val_error column (an older fewmulctl began it); use a new file with --val",
			       path);
	else
		fewmulctl_errx("--log %s: not a fewmulctl train log (its first line is not the CSV header)",
			       path);
	fclose(f);
	return NULL;
}

int cmd_train(int argc, char **argv)
{
	enum { O_DATA = 256, O_ARCH, O_WEIGHTS, O_QBP, O_NOQBP, O_ERANGE, O_BN,
	       O_EPOCHS, O_BATCH, O_LR, O_SEED, O_THREADS, O_BACKEND,
	       O_TRAINLIM, O_TESTLIM, O_LOG, O_JSON, O_SAVE, O_RESUME, O_DEVICE,
	       O_VAL };
	static const struct option opts[] = {
		{ "data", required_argument, NULL, O_DATA },
		{ "arch", required_argument, NULL, O_ARCH },
		{ "weights", required_argument, NULL, O_WEIGHTS },
		{ "qbp", no_argument, NULL, O_QBP },
		{ "no-qbp", no_argument, NULL, O_NOQBP },
		{ "exp-range", required_argument, NULL, O_ERANGE },
		{ "bn", required_argument, NULL, O_BN },
		{ "epochs", required_argument, NULL, O_EPOCHS },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "lr", required_argument, NULL, O_LR },
		{ "seed", required_argument, NULL, O_SEED },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "device", required_argument, NULL, O_DEVICE },
		{ "train-limit", required_argument, NULL, O_TRAINLIM },
		{ "test-limit", required_argument, NULL, O_TESTLIM },
		{ "val", required_argument, NULL, O_VAL },
		{ "log", required_argument, NULL, O_LOG },
		{ "json", no_argument, NULL, O_JSON },
		{ "save", required_argument, NULL, O_SAVE },
		{ "resume", required_argument, NULL, O_RESUME },
		{ NULL, 0, NULL, 0 },
	};
	struct fewmul_train_config cfg;
	struct fewmul_dataset train = { 0 }, test = { 0 };
	struct fewmul_trainer *t = NULL;
	const char *data = NULL, *logpath = NULL;
	struct backend_opt be = { 0 };
	char label[4200];
	const char *savepath = NULL, *resumepath = NULL;
	struct fewmul_model_info info = { 0 };
	uint32_t start_ep = 0, start_pos = 0;
	char errbuf[512];
	uint32_t threads = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t trainlim = 0, testlim = 0, *tri = NULL, *tei = NULL, i, ep;
	uint32_t val = 0, *vai = NULL;
	int c, err, json = 0, ret = -1, log_v1 = 0;
	FILE *logf = NULL;
	char *colon;

	fewmul_train_config_default(&cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case O_DATA:
			data = optarg;
			break;
		case O_ARCH:
			if (opt_arch(optarg, &cfg))
				return -1;
			break;
		case O_WEIGHTS:
			if (parse_weights(optarg, &cfg.weights)) {
				fewmulctl_errx("--weights %s: want full, binary, binary-stoch or ternary", optarg);
				return -1;
			}
			break;
		case O_QBP:
			cfg.qbp = 1;
			break;
		case O_NOQBP:
			cfg.qbp = 0;
			break;
		case O_ERANGE:
			if (sscanf(optarg, "%d:%d", &cfg.exp_min, &cfg.exp_max) != 2 ||
			    cfg.exp_min > cfg.exp_max || cfg.exp_min < -16 || cfg.exp_max > 8) {
				fewmulctl_errx("--exp-range %s: want EMIN:EMAX with -16 <= EMIN <= EMAX <= 8", optarg);
				return -1;
			}
			break;
		case O_BN:
			if (!strcmp(optarg, "shift"))
				cfg.bn = FEWMUL_BN_SHIFTBASED;
			else if (!strcmp(optarg, "none"))
				cfg.bn = FEWMUL_BN_OFF;
			else {
				fewmulctl_errx("--bn %s: want shift or none", optarg);
				return -1;
			}
			break;
		case O_EPOCHS:
			if (parse_u32(optarg, 1, 100000, &cfg.epochs)) {
				fewmulctl_errx("--epochs %s: want 1..100000", optarg);
				return -1;
			}
			break;
		case O_BATCH:
			if (parse_u32(optarg, 1, 4096, &cfg.batch)) {
				fewmulctl_errx("--batch %s: want 1..4096", optarg);
				return -1;
			}
			break;
		case O_LR:
			colon = strchr(optarg, ':');
			if (colon)
				*colon = '\0';
			if (parse_lr_shift(optarg, &cfg.lr_shift_start) ||
			    (colon && parse_lr_shift(colon + 1, &cfg.lr_shift_end))) {
				fewmulctl_errx("--lr: want START[:END], each in (0, 1]");
				return -1;
			}
			if (!colon)
				cfg.lr_shift_end = cfg.lr_shift_start;
			if (cfg.lr_shift_end < cfg.lr_shift_start) {
				fewmulctl_errx("--lr: the end rate must not exceed the start rate");
				return -1;
			}
			break;
		case O_SEED:
			if (parse_u64(optarg, &cfg.seed)) {
				fewmulctl_errx("--seed %s: want a decimal number", optarg);
				return -1;
			}
			break;
		case O_THREADS:
			if (opt_threads(optarg, &threads))
				return -1;
			break;
		case O_BACKEND:
			if (opt_backend(optarg, &be))
				return -1;
			break;
		case O_DEVICE:
			be.device = optarg;
			break;
		case O_TRAINLIM:
			if (parse_u32(optarg, 1, 1u << 30, &trainlim)) {
				fewmulctl_errx("--train-limit %s: want a positive count", optarg);
				return -1;
			}
			break;
		case O_TESTLIM:
			if (parse_u32(optarg, 1, 1u << 30, &testlim)) {
				fewmulctl_errx("--test-limit %s: want a positive count", optarg);
				return -1;
			}
			break;
		case O_VAL:
			if (parse_u32(optarg, 1, 1u << 30, &val)) {
				fewmulctl_errx("--val %s: want a positive number of samples", optarg);
				return -1;
			}
			break;
		case O_LOG:
			logpath = optarg;
			break;
		case O_JSON:
			json = 1;
			break;
		case O_SAVE:
			savepath = optarg;
			break;
		case O_RESUME:
			resumepath = optarg;
			break;
		default:
			return opt_fail(c, argv, opts);
		}
	}
	if (optind != argc)
		return opt_extra(argv, argv[optind]);
	if (backend_resolve(&be, NULL))
		return -1;
	backend_label(&be, label, sizeof(label));

	err = fewmul_dataset_load_dir(data, 0, &train);
	if (err) {
		fewmulctl_errx("training data: %s", train.error);
		return -1;
	}
	err = fewmul_dataset_load_dir(data, 1, &test);
	if (err) {
		fewmulctl_errx("test data: %s", test.error);
		goto out;
	}
	if (train.rows * train.cols != cfg.width[0]) {
		fewmulctl_errx("--arch: input width %u does not match the %ux%u images",
			       cfg.width[0], train.rows, train.cols);
		goto out;
	}
	/* validation: the last val samples, never trained on */
	if (val >= train.count) {
		fewmulctl_errx("--val %u: want fewer than the %u training samples",
			       val, train.count);
		goto out;
	}
	if (!trainlim || trainlim > train.count - val)
		trainlim = train.count - val;
	if (!testlim || testlim > test.count)
		testlim = test.count;

	if (resumepath) {
		err = fewmul_model_load(resumepath, be.spec, threads, &t, &info,
					errbuf, sizeof(errbuf));
		if (err) {
			fewmulctl_errx("--resume: %s", errbuf);
			goto out;
		}
		cfg = info.config;
		start_ep = info.epoch;
		start_pos = info.epoch_pos;
		if (start_ep >= cfg.epochs && !json)
			printf("%s: all %u epochs of its schedule are done; nothing to train (evaluate it with 'fewmulctl eval --model %s')\n",
			       resumepath, cfg.epochs, resumepath);
		else if (!json)
			printf("resuming %s at epoch %u, sample %u (step %llu); its configuration replaces the command line's\n",
			       resumepath, start_ep + 1, start_pos,
			       (unsigned long long)fewmul_trainer_step(t));
		if (cfg.width[0] != train.rows * train.cols) {
			fewmulctl_errx("--resume: the model's input width %u does not match the %ux%u images",
				       cfg.width[0], train.rows, train.cols);
			goto out;
		}
	} else {
		err = fewmul_trainer_new(&cfg, be.spec, threads, &t);
	}
	if (err) {
		backend_err(&be, "creating the model", err);
		goto out;
	}
	tri = malloc(sizeof(*tri) * trainlim);
	tei = malloc(sizeof(*tei) * testlim);
	vai = malloc(sizeof(*vai) * (val ? val : 1));
	if (!tri || !tei || !vai) {
		fewmulctl_err("allocating index lists", -ENOMEM);
		goto out;
	}
	for (i = 0; i < testlim; i++)
		tei[i] = i;
	for (i = 0; i < val; i++)
		vai[i] = train.count - val + i;
	if (logpath) {
		logf = log_open(logpath, val, &log_v1);
		if (!logf)
			goto out;
	}
	if (!json && strcmp(be.name, "kernel"))
		snprintf(label, sizeof(label), "%s, %u threads", be.name, threads);
	if (!json)
		printf("backend %s; %s%s, bn %s, batch %u, lr 2^-%u..2^-%u, seed %" PRIu64 "; test error uses deterministic test-time weights\n",
		       label, weights_name(cfg.weights),
		       cfg.qbp ? "+QB" : "", cfg.bn ? "shift" : "none", cfg.batch,
		       cfg.lr_shift_start, cfg.lr_shift_end, cfg.seed);
	if (!json && val)
		printf("training on samples 0..%u, validating on the last %u (%u..%u) of the %u training samples\n",
		       trainlim - 1, val, train.count - val, train.count - 1,
		       train.count);

	fewmulctl_catch_sigint();
	for (ep = start_ep; ep < cfg.epochs && !fewmulctl_interrupted; ep++) {
		struct fewmul_result tr = { 0 }, te = { 0 }, va = { 0 };
		uint32_t calib, lr, pos = ep == start_ep ? start_pos : 0;
		uint32_t chunk = cfg.batch * 10;
		double t0, dt;

		for (i = 0; i < trainlim; i++)
			tri[i] = i;
		shuffle(tri, trainlim, cfg.seed, ep);
		t0 = now_s();
		while (pos < trainlim) {
			uint32_t n = trainlim - pos < chunk ? trainlim - pos : chunk;

			err = fewmul_trainer_train(t, &train, tri + pos, n, ep, &tr);
			if (err)
				break;
			pos += n;
			progress(ep, cfg.epochs, pos, trainlim, now_s() - t0);
			if (fewmulctl_interrupted)
				break;
		}
		progress_done();
		dt = now_s() - t0;
		if (err) {
			backend_err(&be, "training", err);
			goto out;
		}
		if (pos < trainlim) {	/* interrupted: keep what was done */
			info.epoch = ep;
			info.epoch_pos = pos;
			if (savepath && fewmul_model_save(t, savepath, &info, errbuf,
							  sizeof(errbuf))) {
				fewmulctl_errx("--save: %s", errbuf);
				goto out;
			}
			fprintf(stderr, "%s: interrupted in epoch %u after %u samples%s%s%s\n",
				PROG_NAME, ep + 1, pos,
				savepath ? "; model saved to " : "",
				savepath ? savepath : "",
				savepath ? " (continue with --resume)" : "");
			ret = 0;
			goto out;
		}
		calib = trainlim < 10000 ? trainlim : 10000;
		err = fewmul_trainer_calibrate(t, &train, tri, calib);
		if (!err && val)
			err = fewmul_trainer_eval(t, &train, vai, val, &va, NULL);
		if (!err)
			err = fewmul_trainer_eval(t, &test, tei, testlim, &te, NULL);
		if (err) {
			backend_err(&be, "evaluating", err);
			goto out;
		}
		lr = fewmul_lr_shift_at(&cfg, ep);
		if (json) {
			struct json j;

			json_begin(&j, stdout);
			json_u64(&j, "epoch", ep + 1);
			json_u64(&j, "epochs", cfg.epochs);
			json_u64(&j, "lr_shift", lr);
			json_double(&j, "train_loss", tr.loss / (double)tr.samples);
			json_double(&j, "train_error", (double)tr.errors / (double)tr.samples);
			if (val)
				json_double(&j, "val_error", (double)va.errors / (double)va.samples);
			json_double(&j, "test_error", (double)te.errors / (double)te.samples);
			json_str(&j, "test_weights", "deterministic");
			json_double(&j, "seconds", dt);
			json_double(&j, "samples_per_s", (double)tr.samples / dt);
			json_u64(&j, "adds", tr.ops.adds);
			json_u64(&j, "shifts", tr.ops.shifts);
			json_u64(&j, "muls", tr.ops.muls);
			json_arr_open(&j, "layer_ops");	/* [adds, shifts, muls] */
			for (i = 0; i <= cfg.nr_layers; i++) {
				json_arr_open(&j, NULL);
				json_u64(&j, NULL, tr.layers[i].adds);
				json_u64(&j, NULL, tr.layers[i].shifts);
				json_u64(&j, NULL, tr.layers[i].muls);
				json_arr_close(&j);
			}
			json_arr_close(&j);
			json_str(&j, "backend", be.name);
			snprintf(errbuf, sizeof(errbuf), "%016" PRIx64,
				 fewmul_trainer_checksum(t));
			json_str(&j, "checksum", errbuf);
			json_end(&j);
		} else {
			char vbuf[32] = "";

			if (val)
				snprintf(vbuf, sizeof(vbuf), "  val err %.2f%%",
					 100.0 * (double)va.errors / (double)va.samples);
			printf("epoch %u/%u  lr 2^-%u  train loss %.4f err %.2f%%%s  test err %.2f%%  %.1f s  %.0f samples/s  adds %.3g shifts %.3g muls %.3g\n",
			       ep + 1, cfg.epochs, lr, tr.loss / (double)tr.samples,
			       100.0 * (double)tr.errors / (double)tr.samples, vbuf,
			       100.0 * (double)te.errors / (double)te.samples, dt,
			       (double)tr.samples / dt, (double)tr.ops.adds,
			       (double)tr.ops.shifts, (double)tr.ops.muls);
		}
		fflush(stdout);
		if (logf) {
			errno = 0;
			fprintf(logf, "%u,%u,%.6f,%.6f,%.6f,%.3f,%.1f,%" PRIu64 ",%" PRIu64 ",%" PRIu64,
				ep + 1, lr, tr.loss / (double)tr.samples,
				(double)tr.errors / (double)tr.samples,
				(double)te.errors / (double)te.samples, dt,
				(double)tr.samples / dt, tr.ops.adds,
				tr.ops.shifts, tr.ops.muls);
			if (!log_v1 && val)
				fprintf(logf, ",%.6f", (double)va.errors / (double)va.samples);
			else if (!log_v1)
				fputc(',', logf);	/* no validation set */
			fputc('\n', logf);
			if (fflush(logf) || ferror(logf)) {
				fewmulctl_err(logpath, errno ? -errno : -EIO);
				goto out;
			}
		}
		if (savepath) {
			info.epoch = ep + 1;
			info.epoch_pos = 0;
			if (fewmul_model_save(t, savepath, &info, errbuf, sizeof(errbuf))) {
				fewmulctl_errx("--save: %s", errbuf);
				goto out;
			}
		}
	}
	if (fewmulctl_interrupted && ep < cfg.epochs)
		fprintf(stderr, "%s: interrupted after epoch %u%s%s%s\n", PROG_NAME, ep,
			savepath ? "; model saved to " : "", savepath ? savepath : "",
			savepath ? " (continue with --resume)" : "");
	if (!json)
		printf("weights checksum %016" PRIx64 "\n", fewmul_trainer_checksum(t));
	ret = 0;
out:
	if (logf)
		fclose(logf);
	free(tri);
	free(tei);
	free(vai);
	fewmul_trainer_free(t);
	fewmul_dataset_free(&train);
	fewmul_dataset_free(&test);
	return ret;
}
