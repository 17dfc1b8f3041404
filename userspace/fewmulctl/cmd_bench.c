// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl bench: training throughput of the engine's full-precision
 * integer baseline and of ternary + quantized backprop, against a float32
 * reference measured in the same run (PyTorch on OpenBLAS when installed,
 * the project's plain-C float32 loop otherwise), for each thread count.
 * All numbers are whole training steps (forward, backward, update) on
 * minibatches of the given size; ratios compare numbers of this run only.
 * Each run is a child process of its own, so that its peak resident
 * memory (getrusage of the child) is that configuration's alone.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

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
			   const struct fewmul_dataset *ds, int *errp,
			   uint64_t *mem)
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
	*mem = fewmul_trainer_memory(t);
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

/* What one measured child reports: rate, error, model memory, peak RSS. */
struct bench_run {
	double rate;
	int err;
	uint64_t mem;
	long rss_kib;
};

/*
 * fork() with a pipe from the child to the parent: *rfd is the parent's
 * read end, *wfd the child's write end (dup2'ed onto its stdout with
 * @to_stdout). Returns the pid (0 in the child), or -errno.
 */
static pid_t fork_piped(int *rfd, int *wfd, int to_stdout)
{
	int pfd[2], err;
	pid_t pid;

	fflush(NULL);
	if (pipe(pfd))
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	if (pid == 0) {
		close(pfd[0]);
		if (to_stdout) {
			if (dup2(pfd[1], STDOUT_FILENO) < 0)
				_exit(127);
			close(pfd[1]);
			pfd[1] = STDOUT_FILENO;
		}
		*wfd = pfd[1];
		return 0;
	}
	close(pfd[1]);
	*rfd = pfd[0];
	return pid;
}

/* Wait for pid: its wait status, and its peak RSS (KiB); -1 on error. */
static int reap(pid_t pid, long *rss_kib)
{
	struct rusage ru;
	int st;

	if (wait4(pid, &st, 0, &ru) != pid)
		return -1;
	*rss_kib = ru.ru_maxrss;
	return st;
}

/* fn(ctx, &o) in a child process; o.rss_kib from the child's rusage. */
static struct bench_run in_child(void (*fn)(void *ctx, struct bench_run *o),
				 void *ctx)
{
	struct bench_run o = { .rate = -1, .err = -EIO };
	int rfd = -1, wfd = -1;
	pid_t pid = fork_piped(&rfd, &wfd, 0);

	if (pid < 0) {
		o.err = pid;
		return o;
	}
	if (pid == 0) {
		fn(ctx, &o);
		_exit(write(wfd, &o, sizeof(o)) == sizeof(o) ? 0 : 1);
	}
	if (read(rfd, &o, sizeof(o)) != sizeof(o)) {
		o.rate = -1;
		o.err = -EIO;
	}
	close(rfd);
	reap(pid, &o.rss_kib);
	return o;
}

/* One engine configuration, for in_child(). */
struct engine_job {
	const struct fewmul_train_config *base;
	const char *backend;
	uint32_t weights, qbp;
	unsigned int threads, steps;
	const struct fewmul_dataset *ds;
};

static void engine_job_run(void *ctx, struct bench_run *o)
{
	const struct engine_job *j = ctx;

	o->rate = bench_engine(j->base, j->backend, j->weights, j->qbp,
			       j->threads, j->steps, j->ds, &o->err, &o->mem);
}

/* The plain-C float32 loop, for in_child(). */
struct float_job {
	const struct fewmul_train_config *cfg;
	unsigned int threads, steps;
};

static void float_job_run(void *ctx, struct bench_run *o)
{
	const struct float_job *j = ctx;
	double t0 = now_s();

	o->err = float_ref_train(j->cfg->width, j->cfg->nr_layers,
				 j->cfg->batch, j->steps, j->threads);
	o->rate = o->err ? -1 : (double)j->steps * j->cfg->batch / (now_s() - t0);
}

/*
 * Run cmd with /bin/sh (which execs it), its first output line in line;
 * its exit status, and its peak RSS in *rss_kib. -1 if it cannot start.
 */
static int run_capture(const char *cmd, char *line, size_t len, long *rss_kib)
{
	int rfd = -1, wfd = -1;
	pid_t pid = fork_piped(&rfd, &wfd, 1);
	FILE *f;

	line[0] = 0;
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	f = fdopen(rfd, "r");
	if (f) {
		if (!fgets(line, (int)len, f))
			line[0] = 0;
		while (fgetc(f) != EOF)	/* let it finish writing */
			;
		fclose(f);
	} else {
		close(rfd);
	}
	return reap(pid, rss_kib);
}

/* PyTorch through userspace/bench/torch_mlp.py; < 0 when unavailable. */
static double bench_torch(const char *arch, unsigned int batch,
			  unsigned int steps, unsigned int threads, char *what,
			  size_t len, long *rss_kib)
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

	for (k = 0; !script && k < sizeof(scripts) / sizeof(scripts[0]); k++)
		if (access(scripts[k], R_OK) == 0)
			script = scripts[k];
	if (!script)
		return -1;
	/* Debian's torch uses the system BLAS: point it at OpenBLAS. */
	snprintf(cmd, sizeof(cmd),
		 "LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp "
		 "OMP_NUM_THREADS=%u exec %s %s %s %u %u %u 2>/dev/null",
		 threads, access("/usr/bin/python3", X_OK) == 0 ?
		 "/usr/bin/python3" : "python3", script, arch, batch, steps, threads);
	if (run_capture(cmd, line, sizeof(line), rss_kib) != 0)
		return -1;
	p = strstr(line, "\"samples_per_s\": ");
	if (p)
		v = strtod(p + 17, NULL);
	p = strstr(line, "\"torch\": \"");
	if (p)
		snprintf(what, len, "PyTorch %.*s, OpenBLAS",
			 (int)strcspn(p + 10, "\""), p + 10);
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
		printf("%s, batch %u, %u timed steps per run, samples/s (higher is better)\n",
		       arch, cfg.batch, bo.steps);
	/* the vector kernels that run: the library's, or the module's */
	simd = strcmp(be.name, "kernel") ? fewmul_simd_impl() :
	       module_simd(be.device, msimd, sizeof(msimd));
	for (k = 0; k < bo.nt; k++) {
		unsigned int th = bo.tlist[k];
		struct engine_job ej = { .base = &cfg, .backend = be.spec,
					 .weights = FEWMUL_MODEL_WEIGHTS_FULL,
					 .threads = th, .steps = bo.steps, .ds = &ds };
		struct float_job fj = { .cfg = &cfg, .threads = th, .steps = bo.steps };
		struct bench_run full, tern, scal = { .rate = -1 }, ref = { .rate = -1 };
		char what[128] = "plain C float32 loop";
		int kernel = !strcmp(be.name, "kernel");

		full = in_child(engine_job_run, &ej);
		ej.weights = FEWMUL_MODEL_WEIGHTS_TERNARY;
		ej.qbp = 1;
		tern = full.rate < 0 ? full : in_child(engine_job_run, &ej);
		/* the same with the vector kernels off (cpu backend only) */
		if (tern.rate >= 0 && !kernel && strcmp(simd, "off") &&
		    !fewmul_simd_set("off")) {
			scal = in_child(engine_job_run, &ej);
			fewmul_simd_set(simd);
		}
		if (!bo.notorch)
			ref.rate = bench_torch(arch, cfg.batch, bo.steps, th, what,
					       sizeof(what), &ref.rss_kib);
		if (ref.rate < 0) {
			snprintf(what, sizeof(what), "plain C float32 loop");
			ref = in_child(float_job_run, &fj);
		}
		if (full.rate < 0 || tern.rate < 0) {
			err = full.rate < 0 ? full.err : tern.err;
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
			json_double(&j, "full_int", full.rate);
			json_double(&j, "ternary_qb", tern.rate);
			json_str(&j, "simd", simd);
			if (scal.rate > 0)
				json_double(&j, "ternary_qb_scalar", scal.rate);
			json_str(&j, "float32_reference", what);
			json_double(&j, "float32", ref.rate);
			json_double(&j, "ternary_qb_over_full", tern.rate / full.rate);
			json_double(&j, "ternary_qb_over_float32",
				    ref.rate > 0 ? tern.rate / ref.rate : 0);
			/* model memory: process (cpu) or kernel (kernel) bytes */
			json_u64(&j, "model_bytes_full", full.mem);
			json_u64(&j, "model_bytes_ternary_qb", tern.mem);
			json_u64(&j, "peak_rss_kib_full", (uint64_t)full.rss_kib);
			json_u64(&j, "peak_rss_kib_ternary_qb", (uint64_t)tern.rss_kib);
			if (scal.rate > 0)
				json_u64(&j, "peak_rss_kib_ternary_qb_scalar",
					 (uint64_t)scal.rss_kib);
			if (ref.rate > 0)
				json_u64(&j, "peak_rss_kib_float32", (uint64_t)ref.rss_kib);
			json_end(&j);
		} else {
			printf("threads %u: full(int) %8.1f  ternary+QB %8.1f (simd %s)",
			       th, full.rate, tern.rate, simd);
			if (scal.rate > 0)
				printf("  ternary+QB scalar %8.1f", scal.rate);
			printf("  float32 (%s) %8.1f  | ternary+QB/full %.2fx  ternary+QB/float32 %.2fx",
			       what, ref.rate, tern.rate / full.rate,
			       ref.rate > 0 ? tern.rate / ref.rate : 0.0);
			if (scal.rate > 0)
				printf("  simd/scalar %.2fx", tern.rate / scal.rate);
			printf("\n           memory MiB: %s full(int) %.1f, ternary+QB %.1f;"
			       " peak RSS full(int) %.1f, ternary+QB %.1f",
			       kernel ? "kernel scratch" : "model",
			       full.mem / 1048576.0, tern.mem / 1048576.0,
			       full.rss_kib / 1024.0, tern.rss_kib / 1024.0);
			if (scal.rate > 0)
				printf(", scalar %.1f", scal.rss_kib / 1024.0);
			if (ref.rate > 0)
				printf(", float32 %.1f", ref.rss_kib / 1024.0);
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
