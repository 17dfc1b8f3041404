// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fewmul core: seeding of the multiply-free generator.
 */
#include "fewmul_core.h"

static inline u64 fewmul_rotl64(u64 x, unsigned int k)
{
	return (x << k) | (x >> (64 - k));
}

/* One SipHash round: add, rotate, xor only. */
static void fewmul_sipround(u64 v[4])
{
	v[0] += v[1];
	v[1] = fewmul_rotl64(v[1], 13);
	v[1] ^= v[0];
	v[0] = fewmul_rotl64(v[0], 32);
	v[2] += v[3];
	v[3] = fewmul_rotl64(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = fewmul_rotl64(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = fewmul_rotl64(v[1], 17);
	v[1] ^= v[2];
	v[2] = fewmul_rotl64(v[2], 32);
}

void fewmul_rng_seed(struct fewmul_rng *rng, u64 seed, u64 stream)
{
	/* SipHash's initialisation constants ("somepseudorandomlygenerated"). */
	u64 v[4] = {
		0x736f6d6570736575ULL ^ seed,
		0x646f72616e646f6dULL ^ stream,
		0x6c7967656e657261ULL ^ seed,
		0x7465646279746573ULL ^ stream,
	};
	int i;

	for (i = 0; i < 8; i++)
		fewmul_sipround(v);
	for (i = 0; i < 4; i++)
		rng->s[i] = v[i];
	/* All-zero is the one state xoshiro never leaves. */
	if (!(v[0] | v[1] | v[2] | v[3]))
		rng->s[0] = 1;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_rng_seed);
