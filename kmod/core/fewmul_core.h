/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * fewmul core: freestanding integer engine, shared by kernel and userspace.
 *
 * Conventions: fixed-point values are s32 holding real = v * 2^-frac;
 * every helper states the range it accepts and how it rounds; no helper
 * shifts by the width of its type or more, and none divides 64-bit values.
 */
#ifndef _FEWMUL_CORE_H
#define _FEWMUL_CORE_H

#include "fewmul_shim.h"

/**
 * struct fewmul_rng - xoshiro256+ state
 * @s: the 256-bit state; never all zero
 *
 * xoshiro256+ (Blackman and Vigna) uses only adds, shifts, rotates and
 * xors: no multiply. Its upper bits are of full quality; callers take
 * random bits from the top (fewmul_rng_u32() returns bits 63..32).
 */
struct fewmul_rng {
	u64 s[4];
};

/**
 * fewmul_rng_seed() - seed a generator for one stream
 * @rng: generator to initialise
 * @seed: the user's seed
 * @stream: stream id (e.g. layer and row), so that every unit of work
 *	draws from its own stream whatever thread runs it
 *
 * The seed and stream are mixed with SipHash rounds (add/rotate/xor), so
 * nearby seeds give unrelated streams. Multiply-free.
 */
void fewmul_rng_seed(struct fewmul_rng *rng, u64 seed, u64 stream);

/*
 * One xoshiro256+ step on the state s[0..3], u64 or vectors of u64 lanes
 * (one stream per lane); r gets the output. fewmul_rng_next() and the
 * vector samplers (fewmul_avx2.c, fewmul_neon.c) share it, so their
 * draws are the same.
 */
#define FEWMUL_XOSHIRO256P(s, r) do {					\
		__auto_type fewmul_xs = (s);				\
		__auto_type fewmul_xt = fewmul_xs[1] << 17;		\
									\
		(r) = fewmul_xs[0] + fewmul_xs[3];			\
		fewmul_xs[2] ^= fewmul_xs[0];				\
		fewmul_xs[3] ^= fewmul_xs[1];				\
		fewmul_xs[1] ^= fewmul_xs[2];				\
		fewmul_xs[0] ^= fewmul_xs[3];				\
		fewmul_xs[2] ^= fewmul_xt;				\
		fewmul_xs[3] = (fewmul_xs[3] << 45) |			\
			       (fewmul_xs[3] >> 19);			\
	} while (0)

/**
 * fewmul_rng_next() - next 64 bits of the stream
 * @rng: generator
 *
 * Return: 64 random bits; the low 3 bits are weaker than the rest.
 */
static inline u64 fewmul_rng_next(struct fewmul_rng *rng)
{
	u64 r;

	FEWMUL_XOSHIRO256P(rng->s, r);
	return r;
}

/**
 * fewmul_rng_u32() - 32 uniformly distributed random bits
 * @rng: generator
 *
 * Return: the top 32 bits of the next output.
 */
static inline u32 fewmul_rng_u32(struct fewmul_rng *rng)
{
	return (u32)(fewmul_rng_next(rng) >> 32);
}

/**
 * fewmul_ilog2_u32() - floor(log2(x))
 * @x: any u32
 *
 * Return: 0..31 for x >= 1, -1 for x == 0. Exact.
 */
static inline int fewmul_ilog2_u32(u32 x)
{
	return x ? 31 - __builtin_clz(x) : -1;
}

/**
 * fewmul_abs_u32() - |x| as an unsigned value
 * @x: any s32, INT_MIN included
 *
 * Return: |x| in 0..2^31. Exact (no overflow for INT_MIN).
 */
static inline u32 fewmul_abs_u32(s32 x)
{
	return x < 0 ? 0u - (u32)x : (u32)x;
}

/*
 * a * b by shifts and adds (about log2 b iterations). A binary/ternary+QB
 * training step executes no multiply instruction (tests/check-nomul.sh):
 * the few products it needs that are not the model's arithmetic (rows of
 * a pitch that is not a power of two, operation counters, exactness
 * bounds, the reported loss) are computed with this.
 */
static inline u64 fewmul_mul_sa(u64 a, u64 b)
{
	u64 r = 0;

	__asm__("" : "+r" (b));	/* a constant b is not folded into a * b */
	for (; b; b >>= 1, a <<= 1)
		if (b & 1)
			r += a;
	return r;
}

/**
 * fewmul_qpow2() - stochastic power-of-two quantization (quantized backprop)
 * @x: fixed-point value, real value x * 2^-@frac; any s32
 * @frac: fraction bits of @x, 0..31
 * @emin: lowest exponent of the result, -64..63
 * @emax: highest exponent of the result, @emin..63
 * @rnd: 32 uniform random bits, consumed only when rounding is needed
 * @exp: set to the exponent e of the result when the result is non-zero
 *
 * Computes q(x) = sign(x) * 2^(f + B) with f = floor(log2|x|) and
 * B ~ Bernoulli(|x| / 2^f - 1), so E[q(x)] = x exactly (unbiased rounding
 * between the two neighbouring powers of two), then clips the exponent to
 * at most @emax. Values below 2^@emin round stochastically to 0 or
 * +-2^@emin, P(+-2^@emin) = |x| / 2^@emin, so their E[q(x)] = x as well;
 * only values at or above 2^(@emax+1), rounded down to +-2^@emax, are
 * biased. x == 0 stays 0.
 *
 * B is 1 iff the top f bits of @rnd, read as an integer, are below the
 * f bits of |x| under its leading one: P(B = 1) = (|x| - 2^f) / 2^f with
 * no rounding error at all. Below 2^@emin, with k = @emin + @frac, the
 * top k bits of @rnd are compared with |x| the same way (exact for k <=
 * 32; for larger k the probability is rounded down to a multiple of
 * 2^-32).
 *
 * Return: sign of the result: -1, 0 or +1.
 */
static inline int fewmul_qpow2(s32 x, unsigned int frac, int emin, int emax,
			       u32 rnd, int *exp)
{
	u32 ax = fewmul_abs_u32(x);
	int f = fewmul_ilog2_u32(ax);
	int k = emin + (int)frac;
	int e;

	if (!ax)
		return 0;
	if (k > 0 && (k >= 32 || ax < (1u << k))) {
		/* |x| < 2^emin: +-2^emin with probability |x| / 2^emin */
		if (k < 32 ? (rnd >> (32 - k)) >= ax :
		    k >= 64 || rnd >= (ax >> (k - 32)))
			return 0;
		*exp = emin;
		return x < 0 ? -1 : 1;
	}
	e = f;
	if (f > 0 && (rnd >> (32 - f)) < ax - (1u << f))
		e++;
	e -= (int)frac;
	if (e < emin)
		e = emin;
	if (e > emax)
		e = emax;
	*exp = e;
	return x < 0 ? -1 : 1;
}

#endif /* _FEWMUL_CORE_H */
