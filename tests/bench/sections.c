// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * make bench-sections: how long the vector sections of a training step
 * run. In the kernel each section is a kernel_fpu_begin()/end() (arm64:
 * kernel_neon_begin()/end()) pair with preemption off, so its length is
 * the scheduling latency the module adds. The same drivers and kernels
 * run here, built with -DFEWMUL_SIMD_TIMING, on one thread: ternary+QB
 * with BN, the benchmark's net (784-1024-1024-1024-10, batch 200 by
 * default), random images.
 *
 * usage: sections [--arch A-B-..-K] [--batch N] [--steps N] [--simd NAME]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fewmul_simd.h"
#include "unit/model_buf.h"

u64 fewmul_simd_timing_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

static const char *const sec_name[FEWMUL_SEC_NR] = {
	[FEWMUL_SEC_FWD] = "forward sums",
	[FEWMUL_SEC_DX] = "backward sums (row)",
	[FEWMUL_SEC_DW] = "weight update (row)",
	[FEWMUL_SEC_DT] = "delta transpose",
	[FEWMUL_SEC_SAMPLE] = "sample + lists (4 rows)",
	[FEWMUL_SEC_COLS] = "column lists (64)",
};

static int parse_arch(const char *s, struct fewmul_config *c)
{
	char *end;
	u32 n = 0;

	for (;;) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v == 0 || v > FEWMUL_MAX_WIDTH || n > FEWMUL_MAX_LAYERS)
			return -1;
		c->width[n++] = (u32)v;
		if (*end != '-')
			break;
		s = end + 1;
	}
	if (*end || n < 2)
		return -1;
	c->nr_layers = n - 1;
	return 0;
}

/* smallest bucket bound (us) below which at least frac of the sections end */
static u32 quantile_us(const struct fewmul_simd_timing *t, u64 num, u64 den)
{
	u64 seen = 0;
	u32 k;

	for (k = 0; k < FEWMUL_SEC_BUCKETS; k++) {
		seen += t->bucket[k];
		if (seen * den >= t->count * num)
			return 1u << k;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct fewmul_config cfg;
	struct fewmul_counters ops = { 0 };
	struct model_buf mb;
	const char *simd = "auto";
	u32 steps = 10, s, b, p, k, n0, nk;
	u64 h = 0x243f6a8885a308d3ULL, t0, total, in_sec = 0, over = 0, all = 0;
	const u8 **ptr;
	u8 *img, *lab;
	int i;

	memset(&cfg, 0, sizeof(cfg));
	parse_arch("784-1024-1024-1024-10", &cfg);
	cfg.batch = 200;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--arch") && i + 1 < argc) {
			if (parse_arch(argv[++i], &cfg)) {
				fprintf(stderr, "sections: bad --arch\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
			cfg.batch = (u32)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--steps") && i + 1 < argc) {
			steps = (u32)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--simd") && i + 1 < argc) {
			simd = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--arch A-B-..-K] [--batch N] [--steps N] [--simd NAME]\n",
				argv[0]);
			return 2;
		}
	}
	cfg.weights = FEWMUL_MODEL_WEIGHTS_TERNARY;
	cfg.qbp = 1;
	cfg.bn = FEWMUL_MODEL_BN_SHIFT;
	cfg.exp_min = -4;
	cfg.exp_max = 3;
	cfg.lr_shift_start = 2;
	cfg.lr_shift_end = 5;
	cfg.epochs = 1;
	cfg.seed = 1;
	if (fewmul_simd_select(simd) || !fewmul_simd_get()) {
		fprintf(stderr, "sections: no vector kernels named %s on this CPU\n", simd);
		return 1;
	}
	if (model_new(&mb, &cfg)) {
		fprintf(stderr, "sections: bad configuration\n");
		return 1;
	}
	n0 = cfg.width[0];
	nk = cfg.width[cfg.nr_layers];
	img = malloc((size_t)cfg.batch * n0);
	lab = malloc(cfg.batch);
	ptr = malloc(cfg.batch * sizeof(*ptr));
	if (!img || !lab || !ptr)
		return 1;
	t0 = 0;
	for (s = 0; s < steps + 2; s++) {
		for (b = 0; b < cfg.batch; b++) {
			for (p = 0; p < n0; p++) {
				h ^= h << 13;
				h ^= h >> 7;
				h ^= h << 17;
				img[(size_t)b * n0 + p] = (u8)(h >> 24);
			}
			lab[b] = (u8)(h % nk);
			ptr[b] = img + (size_t)b * n0;
		}
		if (s == 2) {	/* two warm-up steps */
			memset(fewmul_simd_timing, 0, sizeof(fewmul_simd_timing));
			t0 = fewmul_simd_timing_now();
		}
		fewmul_batch_begin(&mb.m, ptr, lab, cfg.batch, 0);
		fewmul_run_serial(&mb.m, FEWMUL_PLAN_TRAIN, &ops);
	}
	total = fewmul_simd_timing_now() - t0;

	printf("vector sections of a ternary+QB training step (");
	for (k = 0; k <= cfg.nr_layers; k++)
		printf("%s%u", k ? "-" : "", cfg.width[k]);
	printf(", batch %u, %u steps, 1 thread, %s)\n", cfg.batch, steps,
	       fewmul_simd_name());
	printf("%-24s %10s %9s %9s %9s %9s %8s\n", "section", "count/step", "mean us",
	       "p50 <us", "p99 <us", "max us", ">=64 us");
	for (k = 0; k < FEWMUL_SEC_NR; k++) {
		const struct fewmul_simd_timing *t = &fewmul_simd_timing[k];
		u64 o = 0;
		u32 q;

		if (!t->count)
			continue;
		for (q = 7; q < FEWMUL_SEC_BUCKETS; q++)	/* >= 64 us */
			o += t->bucket[q];
		printf("%-24s %10.1f %9.2f %9u %9u %9.1f %8llu\n", sec_name[k],
		       (double)t->count / steps, (double)t->sum_ns / t->count / 1e3,
		       quantile_us(t, 1, 2), quantile_us(t, 99, 100),
		       (double)t->max_ns / 1e3, (unsigned long long)o);
		in_sec += t->sum_ns;
		over += o;
		all += t->count;
	}
	printf("sections per step %.0f, in sections %.1f%% of the step time, %.1f ms per step; %llu of %llu sections at 64 us or more\n",
	       (double)all / steps, 100.0 * (double)in_sec / (double)total,
	       (double)total / steps / 1e6, (unsigned long long)over,
	       (unsigned long long)all);
	model_free(&mb);
	free(img);
	free(lab);
	free(ptr);
	return 0;
}
