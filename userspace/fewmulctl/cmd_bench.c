// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl bench: training throughput of the engine's full-precision
 * integer baseline and of ternary + quantized backprop, against a float32
 * reference measured in the same run (PyTorch on OpenBLAS when installed,
 * the project's plain-C float32 loop otherwise), for each thread count.
 * All numbers are whole training steps (forward, backward, update) on
 * minibatches of the given size; ratios compare numbers of this run only.
 */
#include <errno.h>
#include <getopt.h>
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

/* samples/s of the engine for one mode; < 0 on error */
static double bench_engine(const struct fewmul_train_config *base,
			   const char *backend, uint32_t weights, uint32_t qbp,
			   unsigned int threads, unsigned int steps,
			   const struct fewmul_dataset *ds, int *errp)
{
	struct fewmul_train_config cfg = *base;
	struct fewmul_result r = { 0 };
	struct fewmul_trainer *t;
	uint32_t *idx, n = steps * cfg.batch, i;
	double t0, dt;
	int err;

	cfg.weights = weights;
	cfg.qbp = qbp;
	idx = malloc(sizeof(*idx) * (n + cfg.batch));
	if (!idx)
		return -1;
	for (i = 0; i < n + cfg.batch; i++)
		idx[i] = i % ds->count;
	err = fewmul_trainer_new(&cfg, backend, threads, &t);
	if (err) {
		free(idx);
		*errp = err;
		return -1;
	}
	/* one warm-up step, then the timed ones */
	err = fewmul_trainer_train(t, ds, idx + n, cfg.batch, 0, &r);
	t0 = now_s();
	if (!err)
		err = fewmul_trainer_train(t, ds, idx, n, 0, &r);
	dt = now_s() - t0;
	fewmul_trainer_free(t);
	free(idx);
	*errp = err;
	return err ? -1 : (double)n / dt;
}

/* PyTorch through userspace/bench/torch_mlp.py; < 0 when unavailable. */
static double bench_torch(const char *arch, unsigned int batch,
			  unsigned int steps, unsigned int threads, char *what,
			  size_t len)
{
	static const char *const scripts[] = {
		"userspace/bench/torch_mlp.py",
		"/usr/share/fewmul/torch_mlp.py",
		"/usr/local/share/fewmul/torch_mlp.py",
	};
	const char *script = getenv("FEWMUL_TORCH_SCRIPT");
	char cmd[1024], line[512], *p;
	double v = -1;
	size_t k;
	FILE *f;

	for (k = 0; !script && k < sizeof(scripts) / sizeof(scripts[0]); k++)
		if (access(scripts[k], R_OK) == 0)
			script = scripts[k];
	if (!script)
		return -1;
	/* Debian's torch uses the system BLAS: point it at OpenBLAS. */
	snprintf(cmd, sizeof(cmd),
		 "LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp "
		 "OMP_NUM_THREADS=%u %s %s %s %u %u %u 2>/dev/null",
		 threads, access("/usr/bin/python3", X_OK) == 0 ?
		 "/usr/bin/python3" : "python3", script, arch, batch, steps, threads);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f)) {
		p = strstr(line, "\"samples_per_s\": ");
		if (p)
			v = strtod(p + 17, NULL);
		p = strstr(line, "\"torch\": \"");
		if (p)
			snprintf(what, len, "PyTorch %.*s, OpenBLAS",
				 (int)strcspn(p + 10, "\""), p + 10);
	}
	if (pclose(f) != 0)
		v = -1;
	return v;
}

/* The options of bench alone. */
struct bench_opts {
	uint32_t steps, tlist[8], nt;
	int notorch;
};

enum { O_STEPS = 256, O_THREADS_LIST, O_NOTORCH };

/* The module's integer kernels (FEWMUL_IOC_INFO), "?" if it does not say. */
static const char *module_simd(const char *path, char *buf, size_t len)
{
	struct fewmul_device_info info;
	struct fewmul_dev *dev;

	snprintf(buf, len, "?");
	if (fewmul_dev_open(path, &dev))
		return buf;
	if (!fewmul_dev_info(dev, &info) && info.simd[0])
		snprintf(buf, len, "%s", info.simd);
	fewmul_dev_close(dev);
	return buf;
}

static int bench_option(int c, const char *arg, void *ctx)
{
	struct bench_opts *b = ctx;
	char list[256], *tok, *save;

	switch (c) {
	case O_STEPS:
		if (parse_u32(arg, 1, 100000, &b->steps)) {
			fewmulctl_errx("--steps %s: want 1..100000", arg);
			return -1;
		}
		return 0;
	case O_THREADS_LIST:
		snprintf(list, sizeof(list), "%s", arg);
		b->nt = 0;
		for (tok = strtok_r(list, ",", &save); tok && b->nt < 8;
		     tok = strtok_r(NULL, ",", &save)) {
			if (parse_u32(tok, 1, 256, &b->tlist[b->nt])) {
				fewmulctl_errx("--threads: want a list like 1,2");
				return -1;
			}
			b->nt++;
		}
		if (!b->nt) {
			fewmulctl_errx("--threads: want a list like 1,2");
			return -1;
		}
		return 0;
	case O_NOTORCH:
		b->notorch = 1;
		return 0;
	}
	return -1;
}

static int bench_main(int argc, char **argv)
{
	static const struct option opts[] = {
		OPT_ARCH, OPT_BATCH,
		{ "steps", required_argument, NULL, O_STEPS },
		{ "threads", required_argument, NULL, O_THREADS_LIST },
		{ "no-torch", no_argument, NULL, O_NOTORCH },
		OPT_JSON, OPT_BACKEND, OPT_END,
	};
	struct fewmul_train_config cfg;
	struct fewmul_dataset ds = { 0 };
	struct bench_opts bo = { .steps = 10, .tlist = { 1, 2 }, .nt = 2 };
	char msimd[sizeof(((struct fewmul_device_info *)0)->simd)];
	const char *simd;
	uint32_t k;
	struct backend_opt be = { 0 };
	int json = 0, err = 0;
	const char *arch = "784-1024-1024-1024-10";
	struct cmdline cl = {
		.opts = opts, .own = bench_option, .ctx = &bo,
		.co = { .arch = &cfg, .arch_str = &arch, .batch = &cfg.batch,
			.batch_max = FEWMUL_MAX_BATCH, .be = &be, .json = &json },
	};
	size_t off;

	fewmul_train_config_default(&cfg);
	err = parse_cmdline(argc, argv, &cl);
	if (err)
		return err;
	/* the default stays cpu: the runs compare thread counts */
	if (backend_resolve(&be, "cpu"))
		return -1;

	/* synthetic images: throughput does not depend on pixel values */
	ds.count = 4096;
	ds.rows = 1;
	ds.cols = cfg.width[0];
	ds.classes = 10;
	ds.images = malloc((size_t)ds.count * ds.cols);
	ds.labels = malloc(ds.count);
	if (!ds.images || !ds.labels) {
		fewmulctl_err("allocating images", -ENOMEM);
		free(ds.images);
		free(ds.labels);
		return -1;
	}
	for (off = 0; off < (size_t)ds.count * ds.cols; off++)
		ds.images[off] = (uint8_t)((off * 2654435761u) >> 24) & 0x7f;
	for (k = 0; k < ds.count; k++)
		ds.labels[k] = (uint8_t)(k % cfg.width[cfg.nr_layers]);

	if (!json)
		printf("%s, batch %u, %u timed steps per run, samples/s (higher is better)%s\n",
		       arch, cfg.batch, bo.steps, strcmp(be.name, "kernel") ? "" :
		       "; backend kernel: the module's own workers, threads apply to float32 only");
	/* the vector kernels that run: the library's, or the module's */
	simd = strcmp(be.name, "kernel") ? fewmul_simd_impl() :
	       module_simd(be.device, msimd, sizeof(msimd));
	for (k = 0; k < bo.nt; k++) {
		unsigned int th = bo.tlist[k];
		double full = bench_engine(&cfg, be.spec, FEWMUL_MODEL_WEIGHTS_FULL, 0, th,
					   bo.steps, &ds, &err);
		double tern = full < 0 ? -1 :
			      bench_engine(&cfg, be.spec, FEWMUL_MODEL_WEIGHTS_TERNARY, 1,
					   th, bo.steps, &ds, &err);
		/* the same with the vector kernels off (cpu backend only) */
		double scal = -1;

		if (tern >= 0 && strcmp(be.name, "kernel") && strcmp(simd, "off") &&
		    !fewmul_simd_set("off")) {
			scal = bench_engine(&cfg, be.spec, FEWMUL_MODEL_WEIGHTS_TERNARY, 1,
					    th, bo.steps, &ds, &err);
			fewmul_simd_set(simd);
		}
		char what[128] = "plain C float32 loop";
		double ref = -1, t0;

		if (!bo.notorch)
			ref = bench_torch(arch, cfg.batch, bo.steps, th, what, sizeof(what));
		if (ref < 0) {
			snprintf(what, sizeof(what), "plain C float32 loop");
			t0 = now_s();
			if (float_ref_train(cfg.width, cfg.nr_layers, cfg.batch, bo.steps, th) == 0)
				ref = (double)bo.steps * cfg.batch / (now_s() - t0);
		}
		if (full < 0 || tern < 0) {
			backend_err(&be, "bench: training", err ? err : -EIO);
			free(ds.images);
			free(ds.labels);
			return -1;
		}
		if (json) {
			struct json j;

			json_begin(&j, stdout);
			json_str(&j, "arch", arch);
			json_str(&j, "backend", be.name);
			json_u64(&j, "batch", cfg.batch);
			json_u64(&j, "threads", th);
			json_double(&j, "full_int", full);
			json_double(&j, "ternary_qb", tern);
			json_str(&j, "simd", simd);
			if (scal > 0)
				json_double(&j, "ternary_qb_scalar", scal);
			json_str(&j, "float32_reference", what);
			json_double(&j, "float32", ref);
			json_double(&j, "ternary_qb_over_full", tern / full);
			json_double(&j, "ternary_qb_over_float32", ref > 0 ? tern / ref : 0);
			json_end(&j);
		} else {
			printf("threads %u: full(int) %8.1f  ternary+QB %8.1f (simd %s)",
			       th, full, tern, simd);
			if (scal > 0)
				printf("  ternary+QB scalar %8.1f", scal);
			printf("  float32 (%s) %8.1f  | ternary+QB/full %.2fx  ternary+QB/float32 %.2fx",
			       what, ref, tern / full, ref > 0 ? tern / ref : 0.0);
			if (scal > 0)
				printf("  simd/scalar %.2fx", tern / scal);
			printf("\n");
		}
		flush_out(stdout);
	}
	free(ds.images);
	free(ds.labels);
	return 0;
}

const struct fewmulctl_cmd cmd_bench = {
	.name = "bench",
	.usage = "[--arch A-B-..-K] [--batch N] [--steps N] [--threads 1,2] [--backend cpu|kernel] [--no-torch] [--json]",
	.summary = "training throughput: full-precision integer vs ternary+QB vs float32, same run",
	.options =
	HELP_ARCH
	"  --batch N              minibatch size, 1.." XSTR(FEWMUL_MAX_BATCH) " (default 200)\n"
	"  --steps N              timed training steps per run, 1..100000 (default 10)\n"
	"  --threads LIST         comma-separated thread counts, one run each (default 1,2)\n"
	"  --backend cpu|kernel   where the engine runs (default cpu)\n"
	HELP_DEVICE
	"  --no-torch             use the plain C float32 loop even when PyTorch is installed\n"
	HELP_JSON,
	.run = bench_main,
};
