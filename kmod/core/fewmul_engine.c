// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fewmul core: the integer training engine, scalar reference paths.
 *
 * A training step is a fixed sequence of phases (fewmul_step_plan()); each
 * phase is a loop over independent items (weight rows, units, samples)
 * that callers may split into ranges across workers. Every item is written
 * by exactly one range and every random draw comes from a stream keyed by
 * (seed, step, layer, item), so the result is bit-identical whatever the
 * split. Integer sums are exact, so summation order does not matter either.
 */
#include "fewmul_internal.h"
#include "fewmul_simd.h"

int fewmul_config_check(const struct fewmul_config *cfg)
{
	u32 l, nk;

	if (cfg->nr_layers < 1 || cfg->nr_layers > FEWMUL_MAX_LAYERS)
		return -EINVAL;
	for (l = 0; l <= cfg->nr_layers; l++)
		if (cfg->width[l] < 1 || cfg->width[l] > FEWMUL_MAX_WIDTH)
			return -EINVAL;
	for (; l <= FEWMUL_MAX_LAYERS; l++)
		if (cfg->width[l])
			return -EINVAL;
	nk = cfg->width[cfg->nr_layers];
	if (nk < FEWMUL_MIN_CLASSES || nk > FEWMUL_MAX_CLASSES)
		return -EINVAL;
	if (cfg->weights >= FEWMUL_MODEL_NR_WEIGHTS || cfg->qbp > 1 ||
	    cfg->bn >= FEWMUL_MODEL_NR_BN)
		return -EINVAL;
	if (cfg->exp_min < FEWMUL_EXP_MIN || cfg->exp_max > FEWMUL_EXP_MAX ||
	    cfg->exp_min > cfg->exp_max)
		return -EINVAL;
	if (cfg->lr_shift_start > FEWMUL_MAX_LR_SHIFT ||
	    cfg->lr_shift_end > FEWMUL_MAX_LR_SHIFT ||
	    cfg->lr_shift_end < cfg->lr_shift_start)
		return -EINVAL;
	if (cfg->epochs < 1 || cfg->epochs > FEWMUL_MAX_EPOCHS)
		return -EINVAL;
	if (cfg->batch < 1 || cfg->batch > FEWMUL_MAX_BATCH)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_config_check);

void fewmul_config_from_create(struct fewmul_config *cfg,
			       const struct fewmul_model_create *mc)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nr_layers = mc->nr_layers;
	memcpy(cfg->width, mc->width, sizeof(cfg->width));
	cfg->weights = mc->weights;
	cfg->qbp = !!(mc->flags & FEWMUL_MODEL_QBP);
	cfg->bn = mc->bn;
	cfg->exp_min = mc->exp_min;
	cfg->exp_max = mc->exp_max;
	cfg->lr_shift_start = mc->lr_shift_start;
	cfg->lr_shift_end = mc->lr_shift_end;
	cfg->epochs = mc->epochs;
	cfg->batch = mc->batch;
	cfg->seed = mc->seed;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_config_from_create);

void fewmul_config_to_create(const struct fewmul_config *cfg,
			     struct fewmul_model_create *mc)
{
	mc->flags = (mc->flags & ~FEWMUL_MODEL_QBP) |
		    (cfg->qbp ? FEWMUL_MODEL_QBP : 0);
	mc->nr_layers = cfg->nr_layers;
	memcpy(mc->width, cfg->width, sizeof(mc->width));
	mc->weights = cfg->weights;
	mc->bn = cfg->bn;
	mc->exp_min = cfg->exp_min;
	mc->exp_max = cfg->exp_max;
	mc->lr_shift_start = cfg->lr_shift_start;
	mc->lr_shift_end = cfg->lr_shift_end;
	mc->epochs = cfg->epochs;
	mc->batch = cfg->batch;
	mc->seed = cfg->seed;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_config_to_create);

void fewmul_layout(const struct fewmul_config *cfg, struct fewmul_layout *lay)
{
	u64 off = 0;
	u32 l;

	memset(lay, 0, sizeof(*lay));
	for (l = 1; l <= cfg->nr_layers; l++) {
		lay->w_off[l] = off;
		off += (u64)cfg->width[l - 1] * cfg->width[l] * sizeof(s32);
		lay->beta_off[l] = off;
		off += (u64)cfg->width[l] * sizeof(s32);
		lay->mean_off[l] = off;
		off += (u64)cfg->width[l] * sizeof(s32);
		lay->shift_off[l] = off;
		off += (u64)cfg->width[l] * sizeof(s32);
	}
	lay->size = off;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_layout);

u64 fewmul_params_size(const struct fewmul_config *cfg)
{
	struct fewmul_layout lay;

	fewmul_layout(cfg, &lay);
	return lay.size;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_params_size);

static u32 fewmul_max_width(const struct fewmul_config *cfg)
{
	u32 l, w = 0;

	for (l = 0; l <= cfg->nr_layers; l++)
		if (cfg->width[l] > w)
			w = cfg->width[l];
	return w;
}

/* Scratch: everything per step that is not a parameter. */
#define FEWMUL_ALIGN(x) (((x) + 63) & ~(u64)63)

static u64 fewmul_scratch_carve(const struct fewmul_config *cfg,
				struct fewmul_model *m, u8 *base)
{
	u64 off = 0, B = fewmul_batch_stride(cfg), n;
	u32 l;

#define CARVE(ptr, bytes) do {					\
		if (m)						\
			(ptr) = (void *)(base + off);		\
		off += FEWMUL_ALIGN(bytes);			\
	} while (0)

	for (l = 0; l <= cfg->nr_layers; l++) {
		n = cfg->width[l];
		CARVE(m->x[l], n * B * sizeof(s32));
		if (l == 0)
			continue;
		CARVE(m->t[l], (u64)cfg->width[l - 1] * n);
		CARVE(m->y[l], n * B * sizeof(s32));
		CARVE(m->d[l], n * B * sizeof(s32));
		CARVE(m->mu[l], n * sizeof(s32));
		CARVE(m->sh[l], n * sizeof(s32));
		CARVE(m->calib_mu[l], n * sizeof(s64));
		CARVE(m->calib_v8[l], n * sizeof(s64));
		CARVE(m->rl[l], ((u64)cfg->width[l - 1] <<
				 fewmul_log2_ceil(n)) * sizeof(u32));
		CARVE(m->rn[l], (u64)cfg->width[l - 1] * 2 * sizeof(u16));
		CARVE(m->cl[l], (n << fewmul_log2_ceil(cfg->width[l - 1])) *
				sizeof(u32));
		CARVE(m->cn[l], n * 2 * sizeof(u16));
		CARVE(m->dpk[l], n * B * sizeof(s32));
		CARVE(m->maxd[l], n * sizeof(s32));
	}
	CARVE(m->dx, (u64)fewmul_max_width(cfg) * B * sizeof(s32));
	CARVE(m->loss, B * sizeof(s64));
	CARVE(m->qe, (u64)fewmul_max_width(cfg) * B);
	CARVE(m->zb, (u64)fewmul_max_width(cfg) * B * sizeof(u16));
	CARVE(m->dtpk, (B << fewmul_log2_ceil((fewmul_max_width(cfg) + 1) / 2)) *
		       sizeof(u64));
#undef CARVE
	return off;
}

u64 fewmul_scratch_size(const struct fewmul_config *cfg)
{
	return fewmul_scratch_carve(cfg, NULL, NULL);
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_scratch_size);

/**
 * fewmul_w0_shift() - W0 = 2^-k of a layer
 * @nin: fan-in
 * @nout: fan-out
 *
 * The authors' W0 = sqrt(6 / (nin + nout)) / 2, rounded to the nearest
 * power of two in the log domain: k - 1 = round(log2(n / 6) / 2) with
 * n = nin + nout, i.e. the j with 6 * 2^(2j-1) <= n < 6 * 2^(2j+1).
 * 784-1024: W0 = 0.0288 -> 2^-5; 1024-1024: 0.0271 -> 2^-5.
 *
 * Return: k, 1..8.
 */
static s32 fewmul_w0_shift(u32 nin, u32 nout)
{
	u64 n = (u64)nin + nout;
	s32 j = 0;

	while (j < 7 && n >= (6ULL << (2 * j + 1)))
		j++;
	return j + 1;
}

void fewmul_model_bind(struct fewmul_model *m, const struct fewmul_config *cfg,
		       void *arena, void *scratch)
{
	u32 l;

	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	fewmul_layout(cfg, &m->lay);
	m->arena = arena;
	for (l = 1; l <= cfg->nr_layers; l++) {
		m->w[l] = (s32 *)(m->arena + m->lay.w_off[l]);
		m->beta[l] = (s32 *)(m->arena + m->lay.beta_off[l]);
		m->bn_mean[l] = (s32 *)(m->arena + m->lay.mean_off[l]);
		m->bn_shift[l] = (s32 *)(m->arena + m->lay.shift_off[l]);
	}
	fewmul_scratch_carve(cfg, m, scratch);
	m->bs = fewmul_batch_stride(cfg);
	m->bshift = fewmul_log2_ceil(m->bs);
	m->dt_shift = fewmul_log2_ceil((fewmul_max_width(cfg) + 1) / 2);
	for (l = 1; l <= cfg->nr_layers; l++) {
		m->rl_shift[l] = fewmul_log2_ceil(cfg->width[l]);
		m->cl_shift[l] = fewmul_log2_ceil(cfg->width[l - 1]);
	}
	for (l = 1; l <= cfg->nr_layers; l++)
		m->w0_shift[l] = fewmul_w0_shift(cfg->width[l - 1], cfg->width[l]);
	for (l = 1; l < ARRAY_SIZE(m->conf_row); l++)
		m->conf_row[l] = m->conf_row[l - 1] + cfg->width[cfg->nr_layers];
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_model_bind);

/*
 * Initial shadow weights: uniform in [-2 W0, 2 W0], then clipped to
 * [-W0, W0] (the authors' code), i.e. U uniform in [-2, 2] * 2^FW, clipped.
 * 25 random bits per weight: U = (r - 2^24) * 2 would need a multiply by 2,
 * which is a shift: U = (r << 1) - 2^25 over r in [0, 2^25).
 */
void fewmul_model_init_params(struct fewmul_model *m)
{
	const struct fewmul_config *cfg = &m->cfg;
	struct fewmul_rng rng;
	u32 l, i, j, nin, nout;

	for (l = 1; l <= cfg->nr_layers; l++) {
		nin = cfg->width[l - 1];
		nout = cfg->width[l];
		for (i = 0; i < nin; i++) {
			s32 *row = m->w[l] + (u64)i * nout;

			fewmul_rng_seed(&rng, cfg->seed,
					fewmul_stream(FEWMUL_STREAM_INIT, 0, l, i));
			for (j = 0; j < nout; j++) {
				s32 r = (s32)(fewmul_rng_u32(&rng) >> 7);
				s32 u = (r << 1) - (1 << (FEWMUL_FW + 1));

				row[j] = fewmul_clamp_s32(u, -FEWMUL_ONE_W,
							  FEWMUL_ONE_W);
			}
		}
		for (j = 0; j < nout; j++) {
			m->beta[l][j] = 0;
			m->bn_mean[l][j] = 0;
			m->bn_shift[l][j] = 0;
		}
	}
	m->step = 0;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_model_init_params);

/*
 * The ranges the engine keeps parameters in, and relies on for its
 * overflow analysis (Documentation/numerics.rst): shadow weights within
 * [-W0, W0], BN offsets within the activation range, BN and no-BN scale
 * shifts far inside the 64-bit shift range. Means may be any s32.
 */
#define FEWMUL_SHIFT_PARAM_MAX	32

int fewmul_params_check(const struct fewmul_model *m)
{
	const struct fewmul_config *cfg = &m->cfg;
	/* BN_SHIFT2 stores 4 s + m with s in the range of the other modes */
	s32 lo = -FEWMUL_SHIFT_PARAM_MAX, hi = FEWMUL_SHIFT_PARAM_MAX;
	u32 l, j;
	u64 i, n;

	if (cfg->bn == FEWMUL_MODEL_BN_SHIFT2) {
		lo = 4 * lo;
		hi = 4 * hi + 3;
	}
	for (l = 1; l <= cfg->nr_layers; l++) {
		n = (u64)cfg->width[l - 1] * cfg->width[l];
		for (i = 0; i < n; i++)
			if (m->w[l][i] < -FEWMUL_ONE_W || m->w[l][i] > FEWMUL_ONE_W)
				return -EINVAL;
		for (j = 0; j < cfg->width[l]; j++) {
			if (m->beta[l][j] < -FEWMUL_X_MAX ||
			    m->beta[l][j] > FEWMUL_X_MAX ||
			    m->bn_shift[l][j] < lo || m->bn_shift[l][j] > hi)
				return -EINVAL;
		}
	}
	return 0;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_params_check);

u32 fewmul_lr_shift(const struct fewmul_config *cfg, u32 epoch)
{
	u32 span = cfg->lr_shift_end - cfg->lr_shift_start;

	if (cfg->epochs <= 1 || epoch >= cfg->epochs - 1)
		return epoch ? cfg->lr_shift_end : cfg->lr_shift_start;
	/* geometric decay = linear in the exponent, rounded to nearest */
	return cfg->lr_shift_start +
	       (u32)fewmul_div_s64((s64)fewmul_mul_sa(span, 2 * (u64)epoch) +
				   (cfg->epochs - 1),
				   (s32)(2 * (cfg->epochs - 1)));
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_lr_shift);

/* ---- phases -------------------------------------------------------------- */

static inline u32 fewmul_bshift(u32 nb)
{
	return (u32)fewmul_ap2_exp(nb);	/* mean over the batch ~ >> round(log2 B) */
}

/* Row i of layer l's shadow weights U and sampled weights t (pitch n[l]). */
static inline s32 *fewmul_wrow(const struct fewmul_model *m, u32 l, u32 i)
{
	return m->w[l] + fewmul_mul_sa(i, m->cfg.width[l]);
}

static inline s8 *fewmul_trow(const struct fewmul_model *m, u32 l, u32 i)
{
	return m->t[l] + fewmul_mul_sa(i, m->cfg.width[l]);
}

/* Whether a pass multiplies by the real-valued U (full, or real test weights). */
static inline int fewmul_real_weights(const struct fewmul_model *m, int test)
{
	return m->cfg.weights == FEWMUL_MODEL_WEIGHTS_FULL ||
	       (test && m->test_weights == FEWMUL_TESTW_REAL);
}

/*
 * Sample the weights of rows [i0, i1) of layer l for this step (train) or
 * derive the deterministic test-time weights (eval), see
 * fewmul_k_sample(); then list each row's non-zero weights for the fast
 * backward pass.
 */
static void fewmul_ph_sample(struct fewmul_model *m, u32 l, u32 i0, u32 i1,
			     int test, struct fewmul_counters *ops)
{
	const struct fewmul_config *cfg = &m->cfg;
	u32 nout = cfg->width[l], i;
	struct fewmul_rng rng;

	if (fewmul_real_weights(m, test))
		return;
	if (test && m->test_weights == FEWMUL_TESTW_SAMPLED)
		test = 0;	/* sample as the step at m->step would */
	if (!fewmul_simd_sample(m, l, i0, i1, test, ops))
		return;
	for (i = i0; i < i1; i++) {
		fewmul_rng_seed(&rng, cfg->seed,
				fewmul_stream(FEWMUL_STREAM_SAMPLE, m->step, l, i));
		fewmul_k_sample(fewmul_wrow(m, l, i), fewmul_trow(m, l, i),
				nout, cfg->weights, test, &rng);
		ops->adds += nout;	/* one compare per weight */
		if (!m->reference)
			fewmul_k_row_list(fewmul_trow(m, l, i), nout,
					  m->bs / 2,
					  m->rl[l] + ((u64)i << m->rl_shift[l]),
					  m->rn[l] + 2 * i);
	}
}

/* Column lists of 64-unit blocks [k0, k1) of layer l (forward). */
static void fewmul_ph_cols(struct fewmul_model *m, u32 l, u32 k0, u32 k1)
{
	u32 nin = m->cfg.width[l - 1], nout = m->cfg.width[l], k, j0;

	if (!fewmul_simd_cols(m, l, k0, k1))
		return;
	for (k = k0; k < k1; k++) {
		j0 = k * 64;
		fewmul_k_col_lists(m->t[l] + j0, nin, nout,
				   nout - j0 < 64 ? nout - j0 : 64, m->bs / 2,
				   m->cl[l] + ((u64)j0 << m->cl_shift[l]),
				   m->cl_shift[l], m->cn[l] + 2 * j0);
	}
}

/* Packed transposed deltas of layer l, samples [b0, b1). */
static void fewmul_ph_dt(struct fewmul_model *m, u32 l, u32 b0, u32 b1)
{
	u32 b;

	if (!fewmul_simd_dt(m, l, b0, b1))
		return;
	for (b = b0; b < b1; b++)
		fewmul_k_dt(m->d[l] + b, m->bshift, m->cfg.width[l],
			    m->dtpk + ((u64)b << m->dt_shift));
}

/* Input pixels p (u8) become X[0] = p / 256 in Q(FA): p << (FA - 8). */
static void fewmul_ph_input(struct fewmul_model *m, u32 i0, u32 i1,
			    struct fewmul_counters *ops)
{
	u32 B = m->bs, nb = m->cur_batch, i, b;

	for (i = i0; i < i1; i++) {
		s32 *x = m->x[0] + ((u64)i << m->bshift);

		for (b = 0; b < nb; b++)
			x[b] = (s32)m->images[b][i] << (FEWMUL_FA - 8);
		for (; b < B; b++)
			x[b] = 0;	/* padding lanes of the fast paths */
		ops->shifts += nb;
	}
}

enum { FEWMUL_FWD_TRAIN, FEWMUL_FWD_CALIB, FEWMUL_FWD_EVAL };

/*
 * Shift-based batch norm of one unit over the batch (in place on y):
 *   mu = floor(sum y / nb)                       (one division per unit)
 *   c  = y - mu
 *   v  = mean(c * AP2(c)) + eps                  (c * AP2(c) is a shift)
 *   y' = c * AP2(1 / sqrt(v)) = c >> sh,  sh = round(log2(v) / 2)
 * v is kept in Q8 (eps = 2^-8); see Documentation/numerics.rst.
 */
/*
 * c * AP2(c) for |c| = a in Q(FA), the multiply-free square of BN's
 * variance and of the no-BN scale: a << round(log2 a) is Q(2 FA); the
 * result is in Q8 (a < 2^31, so the shifted value stays below 2^63).
 */
static inline u64 fewmul_sq_ap2_q8(u64 a)
{
	int r = fewmul_ap2_exp(a);

	return r > 0 ? (a << r) >> (2 * FEWMUL_FA - 8) : 0;
}

/* mu = floor(sum / n): the batch mean of a unit (n: the global batch). */
static inline s32 fewmul_bn_mean(s64 sum, u32 n)
{
	return (s32)fewmul_div_s64(sum - (sum < 0 ? n - 1 : 0), (s32)n);
}

/* sum_b (y_b - mu) * AP2(y_b - mu), Q8, over this process's nb samples */
static s64 fewmul_bn_var_sum(const s32 *y, u32 nb, s32 mu)
{
	s64 v = 0;
	u32 b;

	for (b = 0; b < nb; b++) {
		s64 c = (s64)y[b] - mu;

		v += (s64)fewmul_sq_ap2_q8(c < 0 ? -c : c);
	}
	return v;
}

/* v = mean + eps in Q8 (eps = 2^-8), clamped to s32 */
static inline s32 fewmul_bn_v8(s64 v, u32 n)
{
	v = fewmul_div_s64(v, (s32)n) + 1;
	return (s32)(v > 0x7fffffff ? 0x7fffffff : v);
}

static inline s64 fewmul_sum_s32(const s32 *y, u32 nb)
{
	s64 sum = 0;
	u32 b;

	for (b = 0; b < nb; b++)
		sum += y[b];
	return sum;
}

static void fewmul_bn_stats(const s32 *y, u32 nb, s32 *mu_out, s32 *v8_out,
			    struct fewmul_counters *ops)
{
	s32 mu = fewmul_bn_mean(fewmul_sum_s32(y, nb), nb);

	*v8_out = fewmul_bn_v8(fewmul_bn_var_sum(y, nb, mu), nb);
	*mu_out = mu;
	ops->adds += 3 * (u64)nb;
	ops->shifts += 2 * (u64)nb;
	ops->divs += 2;
}

static inline s32 fewmul_bn_shift_of(s32 v8)
{
	int e2 = fewmul_ap2_exp((u64)v8);

	return (e2 - 8 + 1) >> 1;
}

/*
 * BN_SHIFT2: the scale 1/sqrt(v) rounded in the log domain to the nearest
 * (1 + m/4) 2^-s, m in 0..3, returned as the code 4 s + m (m = code & 3).
 * With v = v8 2^-8 = 4^p r, r in [1, 4): 1/sqrt(v) = 2^-p / sqrt(r), and
 * 1/sqrt(r) in (1/2, 1] rounds to g = 8/8, 7/8, 6/8, 5/8 or 4/8. The
 * boundary between neighbours g and g' lies at sqrt(g g') = 1/sqrt(r),
 * i.e. at r = 1/(g g'): 8/7, 32/21, 32/15 and 16/5, compared as r 2^14
 * (rounded up: r < T exactly when the integer part of r 2^14 is below it).
 * g = 1 is m = 0 at s = p; g = (4 + m)/8 is m at s = p + 1.
 */
static s32 fewmul_bn_code2_of(s32 v8)
{
	static const u32 thr[4] = { 18725, 24967, 34953, 52429 };
	static const u8 gm[5] = { 0, 3, 2, 1, 0 };
	int f = 31 - __builtin_clz((u32)v8);	/* v8 >= 1 */
	int p = ((f + 8) >> 1) - 8;		/* floor((f - 8) / 2) */
	int k = 6 - 2 * p;			/* r 2^14 = v8 2^k */
	u32 r = k >= 0 ? (u32)v8 << k : (u32)v8 >> -k;
	int i = 0;

	while (i < 4 && r >= thr[i])
		i++;
	return 4 * (p + (i > 0)) + gm[i];
}

s32 fewmul_bn_code(u32 bn, s32 v8)
{
	return bn == FEWMUL_MODEL_BN_SHIFT2 ? fewmul_bn_code2_of(v8) :
	       fewmul_bn_shift_of(v8);
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_bn_code);

/*
 * v times the BN scale of @code, rounded half up: 2^-code (BN_SHIFT and
 * the no-BN scale), or (4 + m) 2^-(s + 2) with code = 4 s + m (BN_SHIFT2):
 * 5v = (v << 2) + v, 6v 2^-(s+2) = 3v 2^-(s+1) with 3v = (v << 1) + v,
 * 7v = (v << 3) - v. |v| < 2^60, so the products stay in s64.
 */
static inline s64 fewmul_bn_scale(s64 v, s32 code, int two)
{
	s32 s;

	if (!two)
		return fewmul_shift_s64(v, -code);
	s = (code - (code & 3)) / 4;
	switch (code & 3) {
	case 1:
		return fewmul_shift_s64(fewmul_shl_s64(v, 2) + v, -(s + 2));
	case 2:
		return fewmul_shift_s64(fewmul_shl_s64(v, 1) + v, -(s + 1));
	case 3:
		return fewmul_shift_s64(fewmul_shl_s64(v, 3) - v, -(s + 2));
	default:
		return fewmul_shift_s64(v, -s);
	}
}

/* Count the second shift and the add fewmul_bn_scale() made per value. */
static inline void fewmul_bn_scale_count(struct fewmul_counters *ops,
					 s32 code, int two, u32 nb)
{
	if (two && (code & 3)) {
		ops->adds += nb;
		ops->shifts += nb;
	}
}

/*
 * Without batch norm, each layer gets a fixed power-of-two pre-activation
 * scale, measured once on the first minibatch (the design asks for 1000
 * images; one batch of 200 is what the first step has):
 *   s = 2^round(log2(1 / sqrt(fan_in * W0^2 * E[x^2])))
 * applied to Y (which is in units of W0) as Z = Y * W0 * s, i.e. a shift
 * by log2(s) - k. E[x^2] is estimated multiply-free as mean(x * AP2(x)).
 * The shift is stored in the layer's test-time BN shift slots (unused
 * without BN), so it travels with the parameters.
 */
static s64 fewmul_nobn_sum(const struct fewmul_model *m, u32 l)
{
	u32 nin = m->cfg.width[l - 1], nb = m->cur_batch, i, b;
	s64 e2 = 0;

	for (i = 0; i < nin; i++) {
		const s32 *x = m->x[l - 1] + ((u64)i << m->bshift);

		for (b = 0; b < nb; b++)
			e2 += (s64)fewmul_sq_ap2_q8(fewmul_abs_u32(x[b]));
	}
	return e2;
}

static void fewmul_nobn_set(struct fewmul_model *m, u32 l, s64 e2)
{
	u32 nout = m->cfg.width[l], j;
	s32 sh;

	/* fan_in * E[x^2] = e2 * nin / (nin * nb) = e2 / nb, in Q8 */
	sh = fewmul_bn_shift_of(fewmul_bn_v8(e2, m->nb_global));
	for (j = 0; j < nout; j++)
		m->bn_shift[l][j] = -(sh + m->w0_shift[l]);
	m->bn_mean[l][0] = 1;	/* measured */
}

/*
 * Full-precision baseline, blocked: Y[j][b] = round(sum_i U[i][j] X[i][b]
 * / 2^FW) for units [j0, j1), 8 samples at a time so that the 8-sample
 * slab of X stays in the L1 cache across units. U^T (built by the UT
 * phase in the column-list buffer) gives each unit's weights contiguous.
 */
static noinline void fewmul_full_forward(struct fewmul_model *m, u32 l,
					 u32 j0, u32 j1,
					 struct fewmul_counters *ops)
{
	u32 nin = m->cfg.width[l - 1], nb = m->cur_batch, B = m->bs;
	const s32 *ut = (const s32 *)m->cl[l];
	u32 c, j, i, k;

	for (c = 0; c < nb; c += 8) {
		for (j = j0; j < j1; j++) {
			const s32 *w = ut + ((u64)j << m->cl_shift[l]);
			const s32 *x = m->x[l - 1] + c;
			s64 a[8] = { 0 };
			s32 *y = m->y[l] + ((u64)j << m->bshift) + c;

			for (i = 0; i < nin; i++, x += B)
				for (k = 0; k < 8; k++)
					a[k] += (s64)w[i] * x[k];
			for (k = 0; k < 8; k++)
				y[k] = fewmul_clamp_s32(fewmul_shift_s64(a[k], -FEWMUL_FW),
							-0x3fffffff, 0x3fffffff);
		}
	}
	ops->muls += (u64)nin * nb * (j1 - j0);
	ops->adds += (u64)nin * nb * (j1 - j0);
}

/* U^T of layer l for 64-unit blocks [k0, k1), into the column-list buffer. */
static void fewmul_ph_ut(struct fewmul_model *m, u32 l, u32 k0, u32 k1)
{
	u32 nin = m->cfg.width[l - 1], nout = m->cfg.width[l], k, i, j, j1;
	s32 *ut = (s32 *)m->cl[l];

	for (k = k0; k < k1; k++) {
		j1 = k * 64 + 64 < nout ? k * 64 + 64 : nout;
		for (i = 0; i < nin; i++) {
			const s32 *u = fewmul_wrow(m, l, i);

			for (j = k * 64; j < j1; j++)
				ut[((u64)j << m->cl_shift[l]) + i] = u[j];
		}
	}
}

/*
 * Full-precision delta of row i, blocked like the forward pass:
 * dX[i][b] = round(sum_j U[i][j] D[j][b] / 2^FW), then ReLU'.
 */
static noinline void fewmul_full_dx(struct fewmul_model *m, u32 l, u32 i,
				    struct fewmul_counters *ops)
{
	u32 nout = m->cfg.width[l], nb = m->cur_batch, B = m->bs, c, j, k;
	const s32 *u = fewmul_wrow(m, l, i);
	const s32 *x = m->x[l - 1] + ((u64)i << m->bshift);
	s32 *dprev = m->d[l - 1] + ((u64)i << m->bshift);

	for (c = 0; c < nb; c += 8) {
		const s32 *d = m->d[l] + c;
		s64 a[8] = { 0 };

		for (j = 0; j < nout; j++, d += B)
			for (k = 0; k < 8; k++)
				a[k] += (s64)u[j] * d[k];
		for (k = 0; k < 8 && c + k < nb; k++) {
			s64 v = fewmul_shift_s64(a[k], -FEWMUL_FW);

			v = fewmul_clamp_s32(v, -FEWMUL_D_MAX, FEWMUL_D_MAX);
			dprev[c + k] = x[c + k] > 0 ? (s32)v : 0;
		}
	}
	ops->muls += (u64)nout * nb;
	ops->adds += (u64)nout * nb;
}

/* Reference full-precision sum of unit j (strided, unblocked). */
static noinline void fewmul_full_forward_ref(struct fewmul_model *m, u32 l,
					     u32 j, struct fewmul_counters *ops)
{
	u32 nb = m->cur_batch;
	u32 nin = m->cfg.width[l - 1], nout = m->cfg.width[l], i, b;
	s32 *y = m->y[l] + ((u64)j << m->bshift);

	for (b = 0; b < nb; b++) {
		s64 acc = 0;

		for (i = 0; i < nin; i++)
			acc += (s64)m->w[l][(u64)i * nout + j] *
			       m->x[l - 1][((u64)i << m->bshift) + b];
		y[b] = fewmul_clamp_s32(fewmul_shift_s64(acc, -FEWMUL_FW),
					-0x3fffffff, 0x3fffffff);
	}
	ops->muls += (u64)nin * nb;
	ops->adds += (u64)nin * nb;
}

/* Y[l] of units [j0, j1) before BN: sums over the layer's inputs. */
static void fewmul_fwd_sums(struct fewmul_model *m, u32 l, u32 j0, u32 j1,
			    int full, struct fewmul_counters *ops)
{
	const struct fewmul_config *cfg = &m->cfg;
	u32 nb = m->cur_batch;
	u32 nin = cfg->width[l - 1], i, j, b;
	int full_fast = full && !m->reference;
	int simd_sums = !full && !fewmul_simd_fwd_sums(m, l, j0, j1, ops);

	if (full_fast)
		fewmul_full_forward(m, l, j0, j1, ops);
	for (j = j0; j < j1; j++) {
		s32 *y = m->y[l] + ((u64)j << m->bshift);

		if (full) {
			if (!full_fast)	/* else computed above */
				fewmul_full_forward_ref(m, l, j, ops);
		} else if (!m->reference && !simd_sums) {
			const u32 *cl = m->cl[l] + ((u64)j << m->cl_shift[l]);
			u32 np = m->cn[l][2 * j], nn = m->cn[l][2 * j + 1];

			fewmul_k_sum_lists((const u64 *)m->x[l - 1], cl, np,
					   cl + nin - nn, nn, (u64 *)y,
					   (nb + 15) / 16);
			fewmul_k_unpack((const u64 *)y, y, NULL,
					(nb + 15) & ~15u);
			ops->adds += fewmul_mul_sa(np + nn, nb);
		} else if (m->reference) {
			for (b = 0; b < nb; b++)
				y[b] = 0;
			for (i = 0; i < nin; i++) {
				s8 t = fewmul_trow(m, l, i)[j];
				const s32 *x = m->x[l - 1] + ((u64)i << m->bshift);

				if (t > 0) {
					for (b = 0; b < nb; b++)
						y[b] += x[b];
				} else if (t < 0) {
					for (b = 0; b < nb; b++)
						y[b] -= x[b];
				} else {
					continue;
				}
				ops->adds += nb;
			}
		}
	}
}

/*
 * Unit j of layer l after its sums: the BN mean and shift (the batch's mu
 * and v8 when training or calibrating, the stored ones when evaluating,
 * the layer's fixed scale without BN), then beta, the clamp and ReLU.
 */
static void fewmul_fwd_finish(struct fewmul_model *m, u32 l, u32 j, int mode,
			      s32 mu, s32 v8, struct fewmul_counters *ops)
{
	const struct fewmul_config *cfg = &m->cfg;
	u32 B = m->bs, nb = m->cur_batch, L = cfg->nr_layers, b;
	s32 *y = m->y[l] + ((u64)j << m->bshift);
	int two = cfg->bn == FEWMUL_MODEL_BN_SHIFT2;
	s32 sh;

	if (cfg->bn != FEWMUL_MODEL_BN_NONE) {
		if (mode == FEWMUL_FWD_EVAL) {
			mu = m->bn_mean[l][j];
			sh = m->bn_shift[l][j];
		} else {
			sh = fewmul_bn_code(cfg->bn, v8);
			if (mode == FEWMUL_FWD_CALIB) {
				m->calib_mu[l][j] += mu;
				m->calib_v8[l][j] += v8;
			}
		}
	} else {
		mu = 0;
		sh = -m->bn_shift[l][j];	/* the layer's fixed scale */
	}
	m->mu[l][j] = mu;
	m->sh[l][j] = sh;

	for (b = 0; b < nb; b++) {
		s64 z = fewmul_bn_scale((s64)y[b] - mu, sh, two) + m->beta[l][j];

		z = fewmul_clamp_s32(z, -FEWMUL_X_MAX, FEWMUL_X_MAX);
		y[b] = (s32)z;
		if (l < L)
			m->x[l][((u64)j << m->bshift) + b] = z > 0 ? (s32)z : 0;
	}
	if (l < L)
		for (b = nb; b < B; b++)
			m->x[l][((u64)j << m->bshift) + b] = 0;
	ops->adds += 2 * (u64)nb;
	ops->shifts += nb;
	fewmul_bn_scale_count(ops, sh, two, nb);
}

static inline int fewmul_batch_stats(const struct fewmul_model *m, int mode)
{
	return m->cfg.bn != FEWMUL_MODEL_BN_NONE && mode != FEWMUL_FWD_EVAL;
}

static void fewmul_ph_forward(struct fewmul_model *m, u32 l, u32 j0, u32 j1,
			      int mode, struct fewmul_counters *ops)
{
	u32 j;
	s32 mu = 0, v8 = 0;

	fewmul_fwd_sums(m, l, j0, j1,
			fewmul_real_weights(m, mode != FEWMUL_FWD_TRAIN), ops);
	for (j = j0; j < j1; j++) {
		if (fewmul_batch_stats(m, mode))
			fewmul_bn_stats(m->y[l] + ((u64)j << m->bshift), m->cur_batch,
					&mu, &v8, ops);
		fewmul_fwd_finish(m, l, j, mode, mu, v8, ops);
	}
}

/*
 * Squared hinge loss per sample b with targets t = +-1:
 *   loss_b = sum_k max(0, 1 - t_k y_k)^2
 *   dLoss/dy_k = -2 t_k max(0, 1 - t_k y_k)          (a shift and a sign)
 * The loss value itself (for reporting) squares the margin: n[L]
 * multiplies per sample, counted; the gradient does not use it.
 */
static void fewmul_ph_loss(struct fewmul_model *m, u32 b0, u32 b1,
			   struct fewmul_counters *ops)
{
	const struct fewmul_config *cfg = &m->cfg;
	u32 L = cfg->nr_layers, nk = cfg->width[L], b, k;
	const s32 one = 1 << FEWMUL_FA;

	for (b = b0; b < b1; b++) {
		s64 loss = 0;

		for (k = 0; k < nk; k++) {
			s32 y = m->y[L][((u64)k << m->bshift) + b];
			int pos = k == m->labels[b];
			s32 mg = pos ? one - y : one + y;
			s32 *d = &m->d[L][((u64)k << m->bshift) + b];

			if (mg <= 0) {
				*d = 0;
				continue;
			}
			/* Q(FA) margin -> Q(FD) gradient 2 * mg */
			*d = pos ? -(mg << (FEWMUL_FD - FEWMUL_FA + 1)) :
				   mg << (FEWMUL_FD - FEWMUL_FA + 1);	/* mg > 0 */
			loss += (s64)fewmul_mul_sa((u64)mg, (u64)mg);	/* counted */
		}
		m->loss[b] = loss;
		ops->adds += 2 * (u64)nk;
		ops->shifts += nk;
		ops->muls += nk;
	}
}

/*
 * The variance term of BN's backward pass, multiply-free. With zh_b =
 * (y_b - mu) * 2^-sh the normalised output (BN's output minus beta), the
 * exact backward is dy_b = 2^-sh (dz_b - mean(dz) - s zh_b) with s the
 * projection of dz on zh, sum(dz zh) / sum(zh^2): the part of dz that
 * only rescales the unit, which BN cancels. The products use AP2(zh)
 * (a shift by its exponent) and s is rounded to a power of two:
 *   num = sum_b dz_b * AP2(zh_b)     Q(FD + FA): dz << r_b, |.| < 2^57
 *   den = sum_b |zh_b| * AP2(|zh_b|) Q(2 FA):    |zh| << r_b, < 2^50
 *   s   = sign(num) 2^e,  e = round(log2(num / (den * 2^(FD - FA)))),
 * rounded like AP2 (at sqrt 2). One 64-by-32 division per unit and batch
 * gives a quotient of about 31 significant bits. The term s * zh_b in
 * Q(FD) is zh_b (Q(FA)) shifted by e + FD - FA; the return value is that
 * shift, and *sign the sign of s (0: no term).
 */
/* num and den of one unit over this process's nb samples (zh = z - beta) */
static void fewmul_bn_var_acc(const s32 *z, const s32 *d, s32 beta, u32 nb,
			      s64 *num_out, s64 *den_out,
			      struct fewmul_counters *ops)
{
	u64 den = 0;
	s64 num = 0;
	u32 b;

	for (b = 0; b < nb; b++) {
		s64 zh = (s64)z[b] - beta;
		u64 az = zh < 0 ? (u64)-zh : (u64)zh;
		int r = fewmul_ap2_exp(az);

		if (r < 0)
			continue;
		den += az << r;
		num += zh < 0 ? -fewmul_shl_s64(d[b], r) : fewmul_shl_s64(d[b], r);
	}
	ops->adds += 2 * (u64)nb;
	ops->shifts += 2 * (u64)nb;
	*num_out = num;
	*den_out = (s64)den;
}

/* The shift of s from the batch's num and den (see above), *sign its sign. */
static int fewmul_bn_var_shift(s64 num, u64 den, int *sign)
{
	u64 a, dd;
	int t, sd, fa, fd, k;

	*sign = num > 0 ? 1 : num < 0 ? -1 : 0;
	if (!den)
		*sign = 0;
	if (!*sign)
		return 0;
	a = num < 0 ? (u64)-num : (u64)num;
	fa = 63 - __builtin_clzll(a);
	fd = 63 - __builtin_clzll(den);
	sd = fd > 30 ? fd - 30 : 0;	/* divisor below 2^31 */
	dd = den >> sd;
	fd -= sd;
	t = 30 + fd - fa;		/* quotient in [2^29, 2^31] */
	a = t >= 0 ? a << t : a >> -t;
	/* s = q * 2^(-t - sd - (FD - FA)); the shift of zh is e + FD - FA */
	k = fewmul_ap2_exp(fewmul_div_u64(a, (u32)dd)) - t - sd;
	return k;
}

/*
 * The batch sums BN's backward needs for unit j of layer l, over this
 * process's samples: s[0] = sum dz, s[1] = num, s[2] = den (BN only).
 */
static void fewmul_bnb_sums(const struct fewmul_model *m, u32 l, u32 j,
			    s64 s[3], struct fewmul_counters *ops)
{
	u32 nb = m->cur_batch;

	s[0] = fewmul_sum_s32(m->d[l] + ((u64)j << m->bshift), nb);
	s[1] = 0;
	s[2] = 0;
	if (m->cfg.bn != FEWMUL_MODEL_BN_NONE)
		fewmul_bn_var_acc(m->y[l] + ((u64)j << m->bshift),
				  m->d[l] + ((u64)j << m->bshift), m->beta[l][j], nb,
				  &s[1], &s[2], ops);
}

/*
 * Backward through BN (or the no-BN scale) of units [j0, j1), in place on
 * D[l]; also updates the BN shift beta. With zh = (y - mu) >> sh, BN's
 * output before beta (Y[l] holds zh + beta):
 *   dbeta = sum_b dz_b
 *   dy_b  = (dz_b - mean(dz) - s zh_b) >> sh    (BN)   or  dz_b << s (no BN)
 * with s the power-of-two variance coefficient of fewmul_bn_var_shift().
 */
static void fewmul_bnb_apply(struct fewmul_model *m, u32 l, u32 j,
			     const s64 s[3], u32 lr_shift,
			     struct fewmul_counters *ops)
{
	const struct fewmul_config *cfg = &m->cfg;
	u32 B = m->bs, nb = m->cur_batch, nbg = m->nb_global, b;
	int bsh = (int)fewmul_bshift(nbg);
	s32 *d = m->d[l] + ((u64)j << m->bshift);
	const s32 *z = m->y[l] + ((u64)j << m->bshift);
	s64 sum = s[0], mean = 0;
	s32 sh = m->sh[l][j], mx = 0, beta = m->beta[l][j];
	int vsign = 0, vk = 0, two = cfg->bn == FEWMUL_MODEL_BN_SHIFT2;
	u64 sats = 0;

	if (cfg->bn != FEWMUL_MODEL_BN_NONE) {
		mean = fewmul_div_s64(sum, (s32)nbg);
		vk = fewmul_bn_var_shift(s[1], (u64)s[2], &vsign);
		if (vk > 40)
			vk = 40;	/* |zh| < 2^19: stays in s64 */
		/* the mean, and the coefficient's quotient when it has one */
		ops->divs += vsign ? 2 : 1;
	}
	for (b = 0; b < nb; b++) {
		s64 v = d[b] - mean;

		sats += fewmul_d_at_bound(d[b]);

		if (vsign) {
			s64 vt = fewmul_shift_s64((s64)z[b] - beta, vk);

			v -= vsign > 0 ? vt : -vt;
		}
		d[b] = fewmul_clamp_s32(fewmul_bn_scale(v, sh, two),
					-FEWMUL_D_MAX, FEWMUL_D_MAX);
		sats += fewmul_d_at_bound(d[b]);
		if (d[b] > mx || -d[b] > mx)
			mx = d[b] > 0 ? d[b] : -d[b];
	}
	if (vsign) {
		ops->adds += nb;
		ops->shifts += nb;
	}
	fewmul_bn_scale_count(ops, sh, two, nb);
	for (; b < B; b++)
		d[b] = 0;
	m->maxd[l][j] = mx;
	/* packed copy for the list-based backward (binary/ternary) */
	if (!m->reference && cfg->weights != FEWMUL_MODEL_WEIGHTS_FULL &&
	    !fewmul_simd_get())
		fewmul_k_pack(d, m->dpk[l] + ((u64)j << (m->bshift - 1)),
			      (nb + 15) & ~15u);
	/* beta (Q(FA)) -= lr * sum(dz) (Q(FD)) / B */
	m->beta[l][j] = fewmul_clamp_s32((s64)beta -
			fewmul_shift_s64(sum, FEWMUL_FA - FEWMUL_FD -
					 (int)lr_shift - bsh),
			-FEWMUL_X_MAX, FEWMUL_X_MAX);
	ops->adds += 2 * (u64)nb + 1;
	ops->shifts += (u64)nb + 1;
	ops->sats += sats;
}

static void fewmul_ph_bnback(struct fewmul_model *m, u32 l, u32 j0, u32 j1,
			     u32 lr_shift, struct fewmul_counters *ops)
{
	s64 s[3];
	u32 j;

	for (j = j0; j < j1; j++) {
		fewmul_bnb_sums(m, l, j, s, ops);
		fewmul_bnb_apply(m, l, j, s, lr_shift, ops);
	}
}

/* dX[i][b] = sum_j U[i][j] D[l][j][b] >> FW: the reference of full mode. */
static noinline s64 fewmul_back_dx_full(const struct fewmul_model *m, u32 l,
					u32 i, u32 b)
{
	const s32 *u = fewmul_wrow(m, l, i);
	u32 nout = m->cfg.width[l], j;
	s64 acc = 0;

	for (j = 0; j < nout; j++)
		acc += (s64)u[j] * m->d[l][((u64)j << m->bshift) + b];
	return fewmul_shift_s64(acc, -FEWMUL_FW);
}

/*
 * Row i of layer l: dX[i][b] = sum_j t[i][j] D[l][j][b] (full: U instead of
 * t, with multiplies), then D[l-1][i] = dX[i] where X[l-1][i] > 0 (ReLU').
 */
static void fewmul_back_dx(struct fewmul_model *m, u32 l, u32 i,
			   struct fewmul_counters *ops)
{
	const struct fewmul_config *cfg = &m->cfg;
	u32 nb = m->cur_batch, nout = cfg->width[l], j, b;
	const s32 *x = m->x[l - 1] + ((u64)i << m->bshift);
	const s8 *t = fewmul_trow(m, l, i);
	s32 *dprev = m->d[l - 1] + ((u64)i << m->bshift);
	s64 acc;

	for (b = 0; b < nb; b++) {
		acc = 0;
		if (cfg->weights == FEWMUL_MODEL_WEIGHTS_FULL) {
			acc = fewmul_back_dx_full(m, l, i, b);
		} else {
			for (j = 0; j < nout; j++) {
				if (t[j] > 0)
					acc += m->d[l][((u64)j << m->bshift) + b];
				else if (t[j] < 0)
					acc -= m->d[l][((u64)j << m->bshift) + b];
			}
		}
		acc = fewmul_clamp_s32(acc, -FEWMUL_D_MAX, FEWMUL_D_MAX);
		dprev[b] = x[b] > 0 ? (s32)acc : 0;
	}
	if (cfg->weights == FEWMUL_MODEL_WEIGHTS_FULL) {
		u64 prods = fewmul_mul_sa(nout, nb);

		ops->muls += prods;
		ops->adds += prods;
	} else {
		for (j = 0; j < nout; j++)
			if (t[j])
				ops->adds += nb;
	}
}

/* sum_b D[b] X[b]: the weight gradient without quantized backprop. */
static noinline s64 fewmul_dw_product(const s32 *d, const s32 *x, u32 nb)
{
	s64 acc = 0;
	u32 b;

	for (b = 0; b < nb; b++)
		acc += (s64)d[b] * x[b];
	return acc;
}

/*
 * Reference gradient of row i of layer l over this process's samples
 * (scalar, s64 accumulators): acc[j] for j < n[l]. With grad NULL, U[l]
 * is updated in place, U -= acc >> upd; else acc is stored in grad[j].
 */
static void fewmul_dw_ref(struct fewmul_model *m, u32 l, u32 i, const s8 *qe,
			  int upd, s64 *grad, struct fewmul_counters *ops)
{
	const struct fewmul_config *cfg = &m->cfg;
	u32 nb = m->cur_batch, nout = cfg->width[l], j, b;
	const s32 *x = m->x[l - 1] + ((u64)i << m->bshift);
	s32 *u = fewmul_wrow(m, l, i);

	for (j = 0; j < nout; j++) {
		const s32 *d = m->d[l] + ((u64)j << m->bshift);
		s64 acc = 0;

		if (cfg->qbp) {
			for (b = 0; b < nb; b++) {
				s8 c = qe[b];

				if (c > 0)
					acc += fewmul_shl_s64(d[b], c - 1);
				else if (c < 0)
					acc -= fewmul_shl_s64(d[b], -c - 1);
			}
		} else {
			acc = fewmul_dw_product(d, x, nb);
		}
		if (grad)
			grad[j] = acc;
		else
			u[j] = fewmul_clamp_s32((s64)u[j] - fewmul_shift_s64(acc, upd),
						-FEWMUL_ONE_W, FEWMUL_ONE_W);
	}
	if (cfg->qbp) {
		for (b = 0; b < nb; b++)
			if (qe[b])
				ops->adds += nout, ops->shifts += nout;
	} else {
		u64 prods = fewmul_mul_sa(nout, nb);

		ops->muls += prods;
		ops->adds += prods;
	}
	if (!grad) {
		ops->adds += nout;
		ops->shifts += nout;
	}
}

/* Row i of layer l: U -= grad >> upd, grad the global gradient. */
static void fewmul_dw_apply(struct fewmul_model *m, u32 l, u32 i,
			    const s64 *grad, int upd,
			    struct fewmul_counters *ops)
{
	u32 nout = m->cfg.width[l], j;
	s32 *u = fewmul_wrow(m, l, i);

	for (j = 0; j < nout; j++)
		u[j] = fewmul_clamp_s32((s64)u[j] - fewmul_shift_s64(grad[j], upd),
					-FEWMUL_ONE_W, FEWMUL_ONE_W);
	ops->adds += nout;
	ops->shifts += nout;
}

/*
 * Fast delta of row i to the layer below through the row's list: exact in
 * SWAR when maxd * (#non-zeros) < 2^31, else -1 (take the reference).
 */
static int fewmul_fast_dx(struct fewmul_model *m, u32 l, u32 i, s32 maxd,
			  struct fewmul_counters *ops)
{
	u32 nout = m->cfg.width[l], nb = m->cur_batch;
	const u32 *rl = m->rl[l] + ((u64)i << m->rl_shift[l]);
	u32 np = m->rn[l][2 * i], nn = m->rn[l][2 * i + 1];
	u64 *tmp = (u64 *)(m->dx + ((u64)i << m->bshift));

	if (fewmul_mul_sa(maxd, np + nn) >= (1ULL << 31))
		return -1;
	ops->adds += fewmul_mul_sa(np + nn, nb);
	if (!fewmul_simd_dx(m, l, i, np, nn))
		return 0;
	fewmul_k_sum_lists(m->dpk[l], rl, np, rl + nout - nn, nn, tmp,
			   (nb + 15) / 16);
	fewmul_k_unpack(tmp, m->d[l - 1] + ((u64)i << m->bshift),
			m->x[l - 1] + ((u64)i << m->bshift),
			(nb + 15) & ~15u);
	return 0;
}

#define FEWMUL_DW_BLOCK 64	/* pairs per accumulator block (512 B of stack) */

/*
 * Fast quantized-backprop update of row i, SWAR over pairs of units, in
 * blocks of 128 units. Exact when (maxd << (emax - emin)) * nz < 2^31,
 * else -1 (take the reference).
 */
static int fewmul_fast_dw(struct fewmul_model *m, u32 l, u32 i, const s8 *qe,
			  const u16 *zb, u32 nz, s32 maxd, int upd,
			  struct fewmul_counters *ops)
{
	const struct fewmul_config *cfg = &m->cfg;
	u32 nout = cfg->width[l], np = (nout + 1) / 2, k0, k1;
	u32 span = (u32)(cfg->exp_max - cfg->exp_min);
	s32 *u = fewmul_wrow(m, l, i);
	u64 acc[FEWMUL_DW_BLOCK], work;

	if (fewmul_mul_sa((u64)maxd << span, nz) >= (1ULL << 31))
		return -1;
	work = fewmul_mul_sa(nz, nout) + nout;
	ops->adds += work;
	ops->shifts += work;
	if (!fewmul_simd_dw(m, l, i, u, qe, zb, nz, upd))
		return 0;
	for (k0 = 0; k0 < np; k0 += FEWMUL_DW_BLOCK) {
		k1 = k0 + FEWMUL_DW_BLOCK < np ? k0 + FEWMUL_DW_BLOCK : np;
		fewmul_k_dw_acc(m->dtpk + k0, m->dt_shift, zb, qe, nz, acc,
				k1 - k0);
		fewmul_k_update(u + 2 * k0, acc,
				nout - 2 * k0 < 2 * FEWMUL_DW_BLOCK ?
				nout - 2 * k0 : 2 * FEWMUL_DW_BLOCK, upd);
	}
	return 0;
}

/* The shift of layer l's update, U -= acc >> upd: lr, batch, W0, formats. */
static int fewmul_upd_shift(const struct fewmul_model *m, u32 l, u32 lr_shift)
{
	int bsh = (int)fewmul_bshift(m->nb_global) - 2 * m->w0_shift[l];

	if (m->cfg.qbp)
		return m->cfg.exp_min + (FEWMUL_FW - FEWMUL_FD) -
		       (int)lr_shift - bsh;
	return (FEWMUL_FW - FEWMUL_FD - FEWMUL_FA) - (int)lr_shift - bsh;
}

static s32 fewmul_layer_maxd(const struct fewmul_model *m, u32 l)
{
	u32 j;
	s32 maxd = 0;

	for (j = 0; j < m->cfg.width[l]; j++)
		if (m->maxd[l][j] > maxd)
			maxd = m->maxd[l][j];
	return maxd;
}

/* Row i's delta to the layer below (none below layer 1). */
static void fewmul_row_dx(struct fewmul_model *m, u32 l, u32 i, s32 maxd,
			  struct fewmul_counters *ops)
{
	int fast = !m->reference;

	if (l == 1)
		return;
	if (fast && m->cfg.weights == FEWMUL_MODEL_WEIGHTS_FULL)
		fewmul_full_dx(m, l, i, ops);
	else if (!fast || fewmul_fast_dx(m, l, i, maxd, ops))
		fewmul_back_dx(m, l, i, ops);
}

/*
 * q(x) codes of row i of layer l. The row's stream gives one draw per
 * sample of the global batch, so a process whose samples start at
 * b_offset skips the draws of the samples before its own.
 */
static u32 fewmul_row_qcodes(struct fewmul_model *m, u32 l, u32 i, s8 *qe,
			     u16 *zb)
{
	const struct fewmul_config *cfg = &m->cfg;
	struct fewmul_rng rng;
	u32 k;

	fewmul_rng_seed(&rng, cfg->seed,
			fewmul_stream(FEWMUL_STREAM_QB, m->step, l, i));
	for (k = 0; k < m->b_offset; k++)
		fewmul_rng_next(&rng);
	return fewmul_k_qcodes(m->x[l - 1] + ((u64)i << m->bshift), m->cur_batch,
			       cfg->exp_min, cfg->exp_max, &rng, qe, zb);
}

/*
 * Rows [i0, i1) of layer l: the delta to the layer below and the update of
 * the shadow weights U[l][i][:]. Fast paths are taken where they apply and
 * their exactness bound holds; they give the reference's result.
 */
static void fewmul_ph_back(struct fewmul_model *m, u32 l, u32 i0, u32 i1,
			   u32 lr_shift, struct fewmul_counters *ops)
{
	const struct fewmul_config *cfg = &m->cfg;
	u32 i;
	int upd = fewmul_upd_shift(m, l, lr_shift), fast = !m->reference;
	s32 maxd = fewmul_layer_maxd(m, l);

	for (i = i0; i < i1; i++) {
		s8 *qe = m->qe + ((u64)i << m->bshift);
		u16 *zb = m->zb + ((u64)i << m->bshift);
		u32 nz = 0;

		fewmul_row_dx(m, l, i, maxd, ops);
		if (cfg->qbp)
			nz = fewmul_row_qcodes(m, l, i, qe, zb);
		if (!fast || !cfg->qbp ||
		    fewmul_fast_dw(m, l, i, qe, zb, nz, maxd, upd, ops))
			fewmul_dw_ref(m, l, i, qe, upd, NULL, ops);
	}
}

/* Data parallel: D[l]^T of samples [b0, b1) as plain s32 rows in dtpk. */
static void fewmul_ph_dt_plain(struct fewmul_model *m, u32 l, u32 b0, u32 b1)
{
	u32 n = m->cfg.width[l], sh = m->dt_shift + 1, b, j;
	s32 *dt = (s32 *)m->dtpk;

	for (b = b0; b < b1; b++)
		for (j = 0; j < n; j++)
			dt[((u64)b << sh) + j] = m->d[l][((u64)j << m->bshift) + b];
}

/* a[j] += r[j] << k (neg: -=) for j < n, in s32, 8 at a time */
static void fewmul_acc_s32(s32 *restrict a, const s32 *restrict r, u32 n,
			   u32 k, int neg)
{
	u32 j, q;

	for (j = 0; j + 8 <= n; j += 8)
		for (q = 0; q < 8; q++)
			a[j + q] = (s32)(neg ? (u32)a[j + q] - ((u32)r[j + q] << k) :
					       (u32)a[j + q] + ((u32)r[j + q] << k));
	for (; j < n; j++)
		a[j] = (s32)(neg ? (u32)a[j] - ((u32)r[j] << k) :
				   (u32)a[j] + ((u32)r[j] << k));
}

/*
 * Quantized-backprop gradient of one row over the samples zb[0..nz):
 * g[j] = sum_z s_z * (D^T[zb[z]][j] << (|c_z| - 1)): the reference's sum,
 * added in another order. In s32 (in the first half of g, widened at the
 * end) when maxd << (emax - emin) times nz stays below 2^31, else in s64.
 */
static void fewmul_dw_plain(struct fewmul_model *m, u32 l, u32 i,
			    const s8 *qe, const u16 *zb, u32 nz, s32 maxd,
			    s64 *g, struct fewmul_counters *ops)
{
	u32 nout = m->cfg.width[l], sh = m->dt_shift + 1, z, j;
	u32 span = (u32)(m->cfg.exp_max - m->cfg.exp_min);
	const s32 *dt = (const s32 *)m->dtpk;
	s32 *a = (s32 *)g;
	u64 work = fewmul_mul_sa(nz, nout);

	ops->adds += work;
	ops->shifts += work;
	if (fewmul_mul_sa((u64)maxd << span, nz) < (1ULL << 31)) {
		if (fewmul_simd_dw_sum(m, l, i, a, qe, zb, nz)) {
			for (j = 0; j < nout; j++)
				a[j] = 0;
			for (z = 0; z < nz; z++) {
				s8 c = qe[zb[z]];

				fewmul_acc_s32(a, dt + ((u64)zb[z] << sh), nout,
					       (u32)(c > 0 ? c - 1 : -c - 1),
					       c < 0);
			}
		}
		/* widen in place, from the top: g[j] covers a[2j], a[2j + 1] */
		for (j = nout; j-- > 0;)
			g[j] = a[j];
		return;
	}
	for (j = 0; j < nout; j++)
		g[j] = 0;
	for (z = 0; z < nz; z++) {
		const s32 *r = dt + ((u64)zb[z] << sh);
		s8 c = qe[zb[z]];
		u32 k = (u32)(c > 0 ? c - 1 : -c - 1);

		if (c > 0)
			for (j = 0; j < nout; j++)
				g[j] += fewmul_shl_s64(r[j], k);
		else
			for (j = 0; j < nout; j++)
				g[j] -= fewmul_shl_s64(r[j], k);
	}
}

/*
 * Data parallel, rows [i0, i1) of layer l: the delta to the layer below
 * and this process's share of the gradient, into m->grad.
 */
static void fewmul_ph_back_acc(struct fewmul_model *m, u32 l, u32 i0, u32 i1,
			       struct fewmul_counters *ops)
{
	u32 nout = m->cfg.width[l], i, nz;
	s32 maxd = fewmul_layer_maxd(m, l);

	for (i = i0; i < i1; i++) {
		s8 *qe = m->qe + ((u64)i << m->bshift);
		u16 *zb = m->zb + ((u64)i << m->bshift);
		s64 *g = m->grad + fewmul_mul_sa(i, nout);

		fewmul_row_dx(m, l, i, maxd, ops);
		if (!m->cfg.qbp) {
			fewmul_dw_ref(m, l, i, qe, 0, g, ops);
			continue;
		}
		nz = fewmul_row_qcodes(m, l, i, qe, zb);
		if (m->reference)
			fewmul_dw_ref(m, l, i, qe, 0, g, ops);
		else
			fewmul_dw_plain(m, l, i, qe, zb, nz, maxd, g, ops);
	}
}

/* log2|x| histogram of the hidden representations of layer l (serial). */
static void fewmul_ph_hist(struct fewmul_model *m, u32 l)
{
	u32 nb = m->cur_batch, n = m->cfg.width[l], j, b;

	for (j = 0; j < n; j++) {
		const s32 *x = m->x[l] + ((u64)j << m->bshift);

		for (b = 0; b < nb; b++) {
			int e;

			if (!x[b])
				continue;
			e = fewmul_ilog2_u32(fewmul_abs_u32(x[b])) - FEWMUL_FA;
			e -= FEWMUL_HIST_MIN_EXP;
			if (e < 0)
				e = 0;
			if (e >= FEWMUL_HIST_NR_BINS)
				e = FEWMUL_HIST_NR_BINS - 1;
			m->hist[l][e]++;
		}
	}
}

/* ---- data parallel -------------------------------------------------------- */

static int fewmul_fwd_mode(const struct fewmul_model *m)
{
	return m->plan_kind == FEWMUL_PLAN_TRAIN ? FEWMUL_FWD_TRAIN :
	       m->plan_kind == FEWMUL_PLAN_CALIB ? FEWMUL_FWD_CALIB :
	       FEWMUL_FWD_EVAL;
}

/* Units [j0, j1): Y before BN, and each unit's partial sum of Y. */
static void fewmul_ph_fwd_y(struct fewmul_model *m, u32 l, u32 j0, u32 j1,
			    struct fewmul_counters *ops)
{
	int mode = fewmul_fwd_mode(m);
	u32 j;

	fewmul_fwd_sums(m, l, j0, j1,
			fewmul_real_weights(m, mode != FEWMUL_FWD_TRAIN), ops);
	if (!fewmul_batch_stats(m, mode))
		return;
	for (j = j0; j < j1; j++)
		m->red[j] = fewmul_sum_s32(m->y[l] + ((u64)j << m->bshift),
					   m->cur_batch);
	ops->adds += fewmul_mul_sa(m->cur_batch, j1 - j0);
}

/* Units [j0, j1): the batch mean from the global sums, partial variance. */
static void fewmul_ph_fwd_var(struct fewmul_model *m, u32 l, u32 j0, u32 j1,
			      struct fewmul_counters *ops)
{
	u32 j, nb = m->cur_batch;

	for (j = j0; j < j1; j++) {
		s32 mu = fewmul_bn_mean(m->red[j], m->nb_global);

		m->mu[l][j] = mu;
		m->red[j] = fewmul_bn_var_sum(m->y[l] + ((u64)j << m->bshift), nb, mu);
	}
	ops->adds += fewmul_mul_sa(2 * (u64)nb, j1 - j0);
	ops->shifts += fewmul_mul_sa(2 * (u64)nb, j1 - j0);
	ops->divs += j1 - j0;
}

/* Units [j0, j1): BN with the global statistics, beta, ReLU. */
static void fewmul_ph_fwd_norm(struct fewmul_model *m, u32 l, u32 j0, u32 j1,
			       struct fewmul_counters *ops)
{
	int mode = fewmul_fwd_mode(m), stats = fewmul_batch_stats(m, mode);
	u32 j;

	for (j = j0; j < j1; j++)
		fewmul_fwd_finish(m, l, j, mode, stats ? m->mu[l][j] : 0,
				  stats ? fewmul_bn_v8(m->red[j], m->nb_global) : 0,
				  ops);
	if (stats)
		ops->divs += j1 - j0;
}

void fewmul_xchg_span(struct fewmul_model *m, const struct fewmul_phase *ph,
		      s64 **v, u32 *n)
{
	u32 l = ph->layer;

	*v = m->red;
	switch (ph->kind) {
	case FEWMUL_PH_XCHG_NOBN:
		*n = 1;
		break;
	case FEWMUL_PH_XCHG_FWD:
		*n = m->cfg.width[l];
		break;
	case FEWMUL_PH_XCHG_BNB:
		*n = 3 * m->cfg.width[l];
		break;
	case FEWMUL_PH_XCHG_GRAD:
		*v = m->grad;
		*n = (u32)fewmul_mul_sa(m->cfg.width[l - 1], m->cfg.width[l]);
		break;
	default:
		*n = 0;
	}
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_xchg_span);

/*
 * A layer's gradient as s32 when it fits everywhere: each process's
 * largest |value|, summed over the processes, bounds every partial sum
 * of the exchange; below 2^31 the values are narrowed in place (s32 i
 * sits below s64 i), exchanged, and widened back from the top.
 */
static int fewmul_xchg_grad32(struct fewmul_model *m, s64 *v, u32 n)
{
	s32 *w = (s32 *)v;
	s64 bound = 0;
	u32 i;
	int err;

	for (i = 0; i < n; i++)
		if (v[i] > bound || -v[i] > bound)
			bound = v[i] > 0 ? v[i] : -v[i];
	err = m->exchange(m->exchange_ctx, &bound, 1);
	if (err)
		return err;
	if (bound > 0x7fffffff)
		return m->exchange(m->exchange_ctx, v, n);
	for (i = 0; i < n; i++)
		w[i] = (s32)v[i];
	err = m->exchange32(m->exchange_ctx, w, n);
	if (err)
		return err;
	for (i = n; i-- > 0;)
		v[i] = w[i];
	return 0;
}

/*
 * What one sample can add to a value of the exchange of phase ph, as
 * [*lo, *hi] (Documentation/numerics.rst, "Formats"): |Y| < 2^30; BN's
 * squared deviations of |y - mu| < 2^31; deltas into BN backward are
 * s32 (the list sums of the backward are bounded by 2^31 only), deltas
 * out of it within FEWMUL_D_MAX; BN outputs and offsets within
 * FEWMUL_X_MAX, so |z - beta| < 2^19; inputs of a layer below 2^18;
 * quantized-backprop codes shift D left by at most exp_max - exp_min.
 * slot is the value's place in a BN backward triple.
 */
static void fewmul_xchg_one(const struct fewmul_model *m,
			    const struct fewmul_phase *ph, u32 slot,
			    s64 *lo, s64 *hi)
{
	const struct fewmul_config *cfg = &m->cfg;
	s64 y = 1LL << 30;

	*lo = 0;
	switch (ph->kind) {
	case FEWMUL_PH_XCHG_NOBN:
		*hi = (s64)fewmul_mul_sa(cfg->width[ph->layer - 1],
					 fewmul_sq_ap2_q8(FEWMUL_X_MAX));
		break;
	case FEWMUL_PH_XCHG_FWD:
		/* the sums of Y, or (after them) of the squared deviations */
		if (ph[-1].kind == FEWMUL_PH_FWD_Y) {
			*lo = -y;
			*hi = y;
		} else {
			*hi = (s64)fewmul_sq_ap2_q8(2 * (u64)y - 1);
		}
		break;
	case FEWMUL_PH_XCHG_BNB:
		*hi = slot == 2 ? (s64)FEWMUL_X_MAX << 20 :
		      slot == 1 ? 1LL << 50 : 1LL << 31;
		if (slot != 2)
			*lo = -*hi;
		break;
	case FEWMUL_PH_XCHG_GRAD:
		*hi = cfg->qbp ? (s64)FEWMUL_D_MAX << (cfg->exp_max - cfg->exp_min) :
		      (s64)FEWMUL_D_MAX << (FEWMUL_FA + 6);
		*lo = -*hi;
		break;
	default:
		*hi = 0;
	}
}

/*
 * The global sums an exchange brought back, checked before the step uses
 * them: each within nb_global times what one sample adds. The other
 * processes (for the module: user space) are not trusted; a value out of
 * range would take the engine's arithmetic outside its proven bounds.
 */
static int fewmul_xchg_check(const struct fewmul_model *m,
			     const struct fewmul_phase *ph, const s64 *v, u32 n)
{
	s64 lo[3], hi[3];
	u32 i, k, slots = ph->kind == FEWMUL_PH_XCHG_BNB ? 3 : 1;

	for (k = 0; k < slots; k++) {
		fewmul_xchg_one(m, ph, k, &lo[k], &hi[k]);
		lo[k] = -(s64)fewmul_mul_sa((u64)-lo[k], m->nb_global);
		hi[k] = (s64)fewmul_mul_sa((u64)hi[k], m->nb_global);
	}
	for (i = 0, k = 0; i < n; i++) {
		if (v[i] < lo[k] || v[i] > hi[k])
			return -ERANGE;
		if (++k == slots)
			k = 0;
	}
	return 0;
}

static void fewmul_ph_xchg(struct fewmul_model *m,
			   const struct fewmul_phase *ph)
{
	s64 *v;
	u32 n;

	fewmul_xchg_span(m, ph, &v, &n);
	if (m->exchange_err)
		return;
	if (ph->kind == FEWMUL_PH_XCHG_GRAD && m->exchange32)
		m->exchange_err = fewmul_xchg_grad32(m, v, n);
	else
		m->exchange_err = m->exchange(m->exchange_ctx, v, n);
	if (!m->exchange_err)
		m->exchange_err = fewmul_xchg_check(m, ph, v, n);
}

static u64 fewmul_dp_grad_count(const struct fewmul_config *cfg)
{
	u64 g = 0;
	u32 l;

	for (l = 1; l <= cfg->nr_layers; l++)
		if ((u64)cfg->width[l - 1] * cfg->width[l] > g)
			g = (u64)cfg->width[l - 1] * cfg->width[l];
	return g;
}

u64 fewmul_dp_size(const struct fewmul_config *cfg)
{
	u64 red = 3 * (u64)fewmul_max_width(cfg) * sizeof(s64);

	return ((red + 63) & ~63ULL) + fewmul_dp_grad_count(cfg) * sizeof(s64);
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_dp_size);

u64 fewmul_xchg_max(const struct fewmul_config *cfg)
{
	u64 red = 3 * (u64)fewmul_max_width(cfg), g = fewmul_dp_grad_count(cfg);

	return red > g ? red : g;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_xchg_max);

void fewmul_dp_bind(struct fewmul_model *m, void *buf,
		    int (*exchange)(void *ctx, s64 *v, u32 n),
		    int (*exchange32)(void *ctx, s32 *v, u32 n), void *ctx)
{
	u64 red = 3 * (u64)fewmul_max_width(&m->cfg) * sizeof(s64);

	m->red = buf;
	m->grad = (s64 *)((u8 *)buf + ((red + 63) & ~63ULL));
	m->exchange = exchange;
	m->exchange32 = exchange32;
	m->exchange_ctx = ctx;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_dp_bind);

/* ---- plans ---------------------------------------------------------------- */

static int fewmul_plan_add(struct fewmul_phase *ph, int *n, int max,
			   u32 kind, u32 layer, u32 count)
{
	if (*n >= max)
		return -ENOSPC;
	ph[*n].kind = (u16)kind;
	ph[*n].layer = (u16)layer;
	ph[*n].count = count;
	(*n)++;
	return 0;
}

/* Data parallel: the forward of layer l, cut where the BN sums meet. */
static int fewmul_plan_fwd_dp(const struct fewmul_model *m, int kind, u32 l,
			      struct fewmul_phase *ph, int *n, int max)
{
	u32 nout = m->cfg.width[l];
	int err = 0;

	if (kind == FEWMUL_PLAN_TRAIN && m->cfg.bn == FEWMUL_MODEL_BN_NONE &&
	    !m->bn_mean[l][0]) {
		err |= fewmul_plan_add(ph, n, max, FEWMUL_PH_NOBN_SUM, l, 1);
		err |= fewmul_plan_add(ph, n, max, FEWMUL_PH_XCHG_NOBN, l, 1);
		err |= fewmul_plan_add(ph, n, max, FEWMUL_PH_NOBN_SET, l, 1);
	}
	err |= fewmul_plan_add(ph, n, max, FEWMUL_PH_FWD_Y, l, nout);
	if (m->cfg.bn != FEWMUL_MODEL_BN_NONE && kind != FEWMUL_PLAN_EVAL) {
		err |= fewmul_plan_add(ph, n, max, FEWMUL_PH_XCHG_FWD, l, 1);
		err |= fewmul_plan_add(ph, n, max, FEWMUL_PH_FWD_VAR, l, nout);
		err |= fewmul_plan_add(ph, n, max, FEWMUL_PH_XCHG_FWD, l, 1);
	}
	err |= fewmul_plan_add(ph, n, max, FEWMUL_PH_FWD_NORM, l, nout);
	return err;
}

/* Data parallel: BN backward and backward of layer l, cut at the sums. */
static int fewmul_plan_back_dp(const struct fewmul_model *m, u32 l,
			       struct fewmul_phase *ph, int *n, int max)
{
	u32 nout = m->cfg.width[l], nin = m->cfg.width[l - 1];
	int err = 0;

	err |= fewmul_plan_add(ph, n, max, FEWMUL_PH_BNB_SUM, l, nout);
	err |= fewmul_plan_add(ph, n, max, FEWMUL_PH_XCHG_BNB, l, 1);
	err |= fewmul_plan_add(ph, n, max, FEWMUL_PH_BNB_APPLY, l, nout);
	if (m->cfg.qbp && !m->reference)
		err |= fewmul_plan_add(ph, n, max, FEWMUL_PH_DT_PLAIN, l,
				       m->cur_batch);
	err |= fewmul_plan_add(ph, n, max, FEWMUL_PH_BACK_ACC, l, nin);
	err |= fewmul_plan_add(ph, n, max, FEWMUL_PH_XCHG_GRAD, l, 1);
	err |= fewmul_plan_add(ph, n, max, FEWMUL_PH_UPDATE, l, nin);
	return err;
}

int fewmul_step_plan(const struct fewmul_model *m, int kind,
		     struct fewmul_phase *ph, int max)
{
	const struct fewmul_config *cfg = &m->cfg;
	u32 L = cfg->nr_layers, l;
	int n = 0, err = 0, dp = !!m->exchange;
	u32 fwd = kind == FEWMUL_PLAN_TRAIN ? FEWMUL_PH_FWD :
		  kind == FEWMUL_PLAN_CALIB ? FEWMUL_PH_FWD_CALIB :
		  FEWMUL_PH_FWD_EVAL;

	for (l = 1; l <= L; l++)
		err |= fewmul_plan_add(ph, &n, max, kind == FEWMUL_PLAN_TRAIN ?
				       FEWMUL_PH_SAMPLE : FEWMUL_PH_SAMPLE_TEST,
				       l, cfg->width[l - 1]);
	if (!m->reference)
		for (l = 1; l <= L; l++)
			err |= fewmul_plan_add(ph, &n, max,
					       fewmul_real_weights(m, kind != FEWMUL_PLAN_TRAIN) ?
					       FEWMUL_PH_UT : FEWMUL_PH_COLS, l,
					       (cfg->width[l] + 63) / 64);
	err |= fewmul_plan_add(ph, &n, max, FEWMUL_PH_INPUT, 0, cfg->width[0]);
	for (l = 1; l <= L; l++) {
		if (dp) {
			err |= fewmul_plan_fwd_dp(m, kind, l, ph, &n, max);
			continue;
		}
		if (kind == FEWMUL_PLAN_TRAIN && cfg->bn == FEWMUL_MODEL_BN_NONE &&
		    !m->bn_mean[l][0])
			err |= fewmul_plan_add(ph, &n, max, FEWMUL_PH_NOBN, l, 1);
		err |= fewmul_plan_add(ph, &n, max, fwd, l, cfg->width[l]);
	}
	if (kind != FEWMUL_PLAN_CALIB && m->labels)
		err |= fewmul_plan_add(ph, &n, max, FEWMUL_PH_LOSS, L,
				       m->cur_batch);
	if (kind == FEWMUL_PLAN_TRAIN) {
		for (l = L; l >= 1; l--) {
			if (dp) {
				err |= fewmul_plan_back_dp(m, l, ph, &n, max);
				continue;
			}
			err |= fewmul_plan_add(ph, &n, max, FEWMUL_PH_BNBACK, l,
					       cfg->width[l]);
			if (cfg->qbp && !m->reference)
				err |= fewmul_plan_add(ph, &n, max, FEWMUL_PH_DT,
						       l, m->cur_batch);
			err |= fewmul_plan_add(ph, &n, max, FEWMUL_PH_BACK, l,
					       cfg->width[l - 1]);
		}
		for (l = 1; l < L; l++)
			err |= fewmul_plan_add(ph, &n, max, FEWMUL_PH_HIST, l, 1);
	}
	return err ? -ENOSPC : n;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_step_plan);

void fewmul_phase_run(struct fewmul_model *m, const struct fewmul_phase *ph,
		      u32 begin, u32 end, struct fewmul_counters *ops)
{
	u32 l = ph->layer;

	if (end > ph->count)
		end = ph->count;
	if (begin >= end)
		return;
	switch (ph->kind) {
	case FEWMUL_PH_SAMPLE:
		fewmul_ph_sample(m, l, begin, end, 0, ops);
		break;
	case FEWMUL_PH_SAMPLE_TEST:
		fewmul_ph_sample(m, l, begin, end, 1, ops);
		break;
	case FEWMUL_PH_INPUT:
		fewmul_ph_input(m, begin, end, ops);
		break;
	case FEWMUL_PH_FWD:
		fewmul_ph_forward(m, l, begin, end, FEWMUL_FWD_TRAIN, ops);
		break;
	case FEWMUL_PH_FWD_CALIB:
		fewmul_ph_forward(m, l, begin, end, FEWMUL_FWD_CALIB, ops);
		break;
	case FEWMUL_PH_FWD_EVAL:
		fewmul_ph_forward(m, l, begin, end, FEWMUL_FWD_EVAL, ops);
		break;
	case FEWMUL_PH_LOSS:
		fewmul_ph_loss(m, begin, end, ops);
		break;
	case FEWMUL_PH_BNBACK:
		fewmul_ph_bnback(m, l, begin, end, m->lr_shift, ops);
		break;
	case FEWMUL_PH_BACK:
		fewmul_ph_back(m, l, begin, end, m->lr_shift, ops);
		break;
	case FEWMUL_PH_HIST:
		fewmul_ph_hist(m, l);
		break;
	case FEWMUL_PH_COLS:
		fewmul_ph_cols(m, l, begin, end);
		break;
	case FEWMUL_PH_DT:
		fewmul_ph_dt(m, l, begin, end);
		break;
	case FEWMUL_PH_UT:
		fewmul_ph_ut(m, l, begin, end);
		break;
	case FEWMUL_PH_NOBN:
		fewmul_nobn_set(m, l, fewmul_nobn_sum(m, l));
		ops->divs++;
		break;
	case FEWMUL_PH_NOBN_SUM:
		m->red[0] = fewmul_nobn_sum(m, l);
		break;
	case FEWMUL_PH_NOBN_SET:
		fewmul_nobn_set(m, l, m->red[0]);
		ops->divs++;
		break;
	case FEWMUL_PH_FWD_Y:
		fewmul_ph_fwd_y(m, l, begin, end, ops);
		break;
	case FEWMUL_PH_FWD_VAR:
		fewmul_ph_fwd_var(m, l, begin, end, ops);
		break;
	case FEWMUL_PH_FWD_NORM:
		fewmul_ph_fwd_norm(m, l, begin, end, ops);
		break;
	case FEWMUL_PH_BNB_SUM:
		for (; begin < end; begin++)
			fewmul_bnb_sums(m, l, begin, m->red + 3 * (u64)begin, ops);
		break;
	case FEWMUL_PH_BNB_APPLY:
		for (; begin < end; begin++)
			fewmul_bnb_apply(m, l, begin, m->red + 3 * (u64)begin,
					 m->lr_shift, ops);
		break;
	case FEWMUL_PH_DT_PLAIN:
		fewmul_ph_dt_plain(m, l, begin, end);
		break;
	case FEWMUL_PH_BACK_ACC:
		fewmul_ph_back_acc(m, l, begin, end, ops);
		break;
	case FEWMUL_PH_UPDATE:
		for (; begin < end; begin++)
			fewmul_dw_apply(m, l, begin,
					m->grad + fewmul_mul_sa(begin, m->cfg.width[l]),
					fewmul_upd_shift(m, l, m->lr_shift), ops);
		break;
	case FEWMUL_PH_XCHG_NOBN:
	case FEWMUL_PH_XCHG_FWD:
	case FEWMUL_PH_XCHG_BNB:
	case FEWMUL_PH_XCHG_GRAD:
		fewmul_ph_xchg(m, ph);
		break;
	}
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_phase_run);

/* ---- steps ---------------------------------------------------------------- */

int fewmul_batch_begin_share(struct fewmul_model *m, const u8 *const *images,
			     const u8 *labels, u32 nb, u32 nb_global,
			     u32 offset, u32 epoch)
{
	u32 b, nk = m->cfg.width[m->cfg.nr_layers];

	if (nb_global < 1 || nb_global > m->cfg.batch || nb > nb_global ||
	    offset > nb_global - nb)
		return -EINVAL;
	if (labels)
		for (b = 0; b < nb; b++)
			if (labels[b] >= nk)
				return -EINVAL;
	m->images = images;
	m->labels = labels;
	m->cur_batch = nb;
	m->nb_global = nb_global;
	m->b_offset = offset;
	m->lr_shift = fewmul_lr_shift(&m->cfg, epoch);
	return 0;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_batch_begin_share);

int fewmul_batch_begin(struct fewmul_model *m, const u8 *const *images,
		       const u8 *labels, u32 nb, u32 epoch)
{
	return fewmul_batch_begin_share(m, images, labels, nb, nb, 0, epoch);
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_batch_begin);

s64 fewmul_batch_loss(const struct fewmul_model *m)
{
	s64 sum = 0;
	u32 b;

	for (b = 0; b < m->cur_batch; b++)
		sum += m->loss[b];
	return sum;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_batch_loss);

u32 fewmul_batch_errors(const struct fewmul_model *m, u8 *pred)
{
	u32 L = m->cfg.nr_layers, nk = m->cfg.width[L];
	u32 b, k, best, errors = 0;

	for (b = 0; b < m->cur_batch; b++) {
		best = 0;
		for (k = 1; k < nk; k++)
			if (m->y[L][((u64)k << m->bshift) + b] >
			    m->y[L][((u64)best << m->bshift) + b])
				best = k;
		if (pred)
			pred[b] = (u8)best;
		if (m->labels && best != m->labels[b])
			errors++;
	}
	return errors;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_batch_errors);

void fewmul_calib_begin(struct fewmul_model *m)
{
	u32 l;

	m->calib_batches = 0;
	for (l = 1; l <= m->cfg.nr_layers; l++) {
		memset(m->calib_mu[l], 0, m->cfg.width[l] * sizeof(s64));
		memset(m->calib_v8[l], 0, m->cfg.width[l] * sizeof(s64));
	}
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_calib_begin);

void fewmul_calib_end(struct fewmul_model *m, struct fewmul_step_result *res)
{
	u32 l, j, n = m->calib_batches;

	if (!n || m->cfg.bn == FEWMUL_MODEL_BN_NONE)
		return;	/* without BN the slots hold the fixed layer scales */
	for (l = 1; l <= m->cfg.nr_layers; l++) {
		for (j = 0; j < m->cfg.width[l]; j++) {
			s64 mu = m->calib_mu[l][j], v8 = m->calib_v8[l][j];

			mu = fewmul_div_s64(mu - (mu < 0 ? n - 1 : 0), (s32)n);
			v8 = fewmul_div_s64(v8, (s32)n);
			m->bn_mean[l][j] = (s32)mu;
			m->bn_shift[l][j] = fewmul_bn_code(m->cfg.bn,
							   v8 > 0 ? (s32)v8 : 1);
		}
		if (res) {
			res->layers[l].divs += 2 * (u64)m->cfg.width[l];
			res->ops.divs += 2 * (u64)m->cfg.width[l];
		}
	}
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_calib_end);

int fewmul_run_serial(struct fewmul_model *m, int kind,
		      struct fewmul_counters *ops)
{
	int n, k;

	m->plan_kind = kind;
	n = fewmul_step_plan(m, kind, m->plan, FEWMUL_MAX_PHASES);
	if (n < 0)
		return n;
	m->nr_phases = n;
	for (k = 0; k < n; k++)
		fewmul_phase_run(m, &m->plan[k], 0, m->plan[k].count, ops);
	fewmul_plan_done(m, kind);
	return 0;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_run_serial);

void fewmul_plan_done(struct fewmul_model *m, int kind)
{
	if (kind == FEWMUL_PLAN_TRAIN)
		m->step++;
	else if (kind == FEWMUL_PLAN_CALIB)
		m->calib_batches++;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_plan_done);

/* ---- the paper's analytic counts ----------------------------------------- */

/*
 * Multiplications per minibatch of the paper's Table (section 4.2):
 * full precision 3 * (sum N*M + sum M) per sample (forward, backward,
 * weight gradient; the sum M term is BN's scale or the bias);
 * binary/ternary connect with quantized backprop 3 * sum M per sample.
 * With bn, standard batch norm adds 9 * sum M * (B + 1) in both cases,
 * the paper's with-BN row (1.7535e9 and 7.4245e6 for its MNIST net,
 * exactly): 9 multiplies per unit and sample (forward: the centred value
 * times 1/sigma, times gamma, and its square for the variance; backward:
 * the products of the gradients of gamma, beta, mu and sigma^2 with the
 * unit's values) and 9 per unit for the batch statistics and their
 * gradients (1/B, 1/sigma, the chain through sigma^2 and mu).
 * Shift-based BN adds none.
 */
static u64 fewmul_count_bn(u64 sm, u32 batch)
{
	return 9 * sm * ((u64)batch + 1);
}

u64 fewmul_count_mults_full(const struct fewmul_config *cfg, u32 batch, int bn)
{
	u64 nm = 0, sm = 0;
	u32 l;

	for (l = 1; l <= cfg->nr_layers; l++) {
		nm += (u64)cfg->width[l - 1] * cfg->width[l];
		sm += cfg->width[l];
	}
	return (u64)batch * 3 * (nm + sm) + (bn ? fewmul_count_bn(sm, batch) : 0);
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_count_mults_full);

u64 fewmul_count_mults_qb(const struct fewmul_config *cfg, u32 batch, int bn)
{
	u64 sm = 0;
	u32 l;

	for (l = 1; l <= cfg->nr_layers; l++)
		sm += cfg->width[l];
	return (u64)batch * 3 * sm + (bn ? fewmul_count_bn(sm, batch) : 0);
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_count_mults_qb);
