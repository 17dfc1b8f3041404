// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl bench: the project's own plain-C float32 reference, used when
 * PyTorch is not installed. The same MLP shape, batch and squared hinge
 * loss, trained with plain SGD; no batch norm (O(units), negligible next
 * to the matrix products). Output units are split across threads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fewmulctl.h"

struct fref {
	unsigned int L, w[18], B;
	float *W[18], *X[18], *D[18];
};

struct fjob {
	void (*fn)(struct fref *f, unsigned int l, unsigned int j0, unsigned int j1);
	struct fref *f;
	unsigned int l, j0, j1;
};

static void *fjob_run(void *arg)
{
	struct fjob *j = arg;

	j->fn(j->f, j->l, j->j0, j->j1);
	return NULL;
}

static void par(struct fref *f, unsigned int l, unsigned int n, unsigned int threads,
		void (*fn)(struct fref *, unsigned int, unsigned int, unsigned int))
{
	pthread_t th[64];
	struct fjob jobs[64];
	unsigned int t;

	if (threads > 64)
		threads = 64;
	for (t = 0; t < threads; t++) {
		jobs[t] = (struct fjob){ fn, f, l, n * t / threads, n * (t + 1) / threads };
		if (t)
			pthread_create(&th[t], NULL, fjob_run, &jobs[t]);
	}
	fjob_run(&jobs[0]);
	for (t = 1; t < threads; t++)
		pthread_join(th[t], NULL);
}

/* X[l][b][j] = relu(sum_i X[l-1][b][i] W[l][i][j]) for j in [j0, j1) */
static void fwd(struct fref *f, unsigned int l, unsigned int j0, unsigned int j1)
{
	unsigned int nin = f->w[l - 1], nout = f->w[l], b, i, j;

	for (b = 0; b < f->B; b++) {
		float *y = f->X[l] + (size_t)b * nout;
		const float *x = f->X[l - 1] + (size_t)b * nin;

		for (j = j0; j < j1; j++)
			y[j] = 0;
		for (i = 0; i < nin; i++) {
			const float *w = f->W[l] + (size_t)i * nout;
			float xi = x[i];

			for (j = j0; j < j1; j++)
				y[j] += xi * w[j];
		}
		if (l < f->L)
			for (j = j0; j < j1; j++)
				if (y[j] < 0)
					y[j] = 0;
	}
}

/* D[l-1][b][i] = sum_j W[l][i][j] D[l][b][j] (masked), for i in [i0, i1) */
static void bwd(struct fref *f, unsigned int l, unsigned int i0, unsigned int i1)
{
	unsigned int nin = f->w[l - 1], nout = f->w[l], b, i, j;

	for (b = 0; b < f->B; b++) {
		const float *d = f->D[l] + (size_t)b * nout;

		for (i = i0; i < i1; i++) {
			const float *w = f->W[l] + (size_t)i * nout;
			float s = 0;

			for (j = 0; j < nout; j++)
				s += w[j] * d[j];
			f->D[l - 1][(size_t)b * nin + i] =
				f->X[l - 1][(size_t)b * nin + i] > 0 ? s : 0;
		}
	}
}

/* W[l][i][j] -= lr * sum_b X[l-1][b][i] D[l][b][j], for i in [i0, i1) */
static void upd(struct fref *f, unsigned int l, unsigned int i0, unsigned int i1)
{
	unsigned int nin = f->w[l - 1], nout = f->w[l], b, i, j;

	for (b = 0; b < f->B; b++) {
		const float *d = f->D[l] + (size_t)b * nout;

		for (i = i0; i < i1; i++) {
			float *w = f->W[l] + (size_t)i * nout;
			float xi = -0.001f * f->X[l - 1][(size_t)b * nin + i];

			for (j = 0; j < nout; j++)
				w[j] += xi * d[j];
		}
	}
}

/* Train steps minibatches; returns 0 or -ENOMEM. */
int float_ref_train(const unsigned int *width, unsigned int L, unsigned int B,
		    unsigned int steps, unsigned int threads)
{
	struct fref f = { .L = L, .B = B };
	unsigned int l, s, b, k;
	int ret = -12;

	for (l = 0; l <= L; l++)
		f.w[l] = width[l];
	for (l = 0; l <= L; l++) {
		f.X[l] = calloc((size_t)B * f.w[l], sizeof(float));
		f.D[l] = calloc((size_t)B * f.w[l], sizeof(float));
		if (!f.X[l] || !f.D[l])
			goto out;
		if (l) {
			f.W[l] = malloc((size_t)f.w[l - 1] * f.w[l] * sizeof(float));
			if (!f.W[l])
				goto out;
			for (k = 0; k < f.w[l - 1] * f.w[l]; k++)
				f.W[l][k] = (float)((k * 2654435761u) >> 20) / 4096.0f - 0.5f;
		}
	}
	for (k = 0; k < B * f.w[0]; k++)
		f.X[0][k] = (float)(k % 251) / 251.0f;
	for (s = 0; s < steps; s++) {
		for (l = 1; l <= L; l++)
			par(&f, l, f.w[l], threads, fwd);
		for (b = 0; b < B; b++)
			for (k = 0; k < f.w[L]; k++) {
				float t = k == b % f.w[L] ? 1.0f : -1.0f;
				float y = f.X[L][(size_t)b * f.w[L] + k];
				float m = 1.0f - t * y;

				f.D[L][(size_t)b * f.w[L] + k] = m > 0 ? -2.0f * t * m : 0;
			}
		for (l = L; l >= 1; l--) {
			if (l > 1)
				par(&f, l, f.w[l - 1], threads, bwd);
			par(&f, l, f.w[l - 1], threads, upd);
		}
	}
	ret = 0;
out:
	for (l = 0; l <= L; l++) {
		free(f.X[l]);
		free(f.D[l]);
		free(f.W[l]);
	}
	return ret;
}
