/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Generated once from the reference implementation; see core_cases.h. */
static const struct fewmul_rng_case fewmul_rng_cases[] = {
	{ "seed 0 stream 0", 0x0ULL, 0x0ULL, {
		0xff4742010dcd620dULL,
		0x7cd3a92c79c1a428ULL,
		0x12dcaf6fdbb9280dULL,
		0xeacd0dfcea3b8223ULL,
	} },
	{ "seed 1 stream 7", 0x1ULL, 0x7ULL, {
		0x86628aed74e64f5bULL,
		0x7e98cdfc3ad7eb25ULL,
		0x80c7b7c4c869110eULL,
		0xdc5186b055b3e5d3ULL,
	} },
	{ "seed max stream max", 0xffffffffffffffffULL, 0xffffffffffffffffULL, {
		0xe7026879f03533d9ULL,
		0xb1a1a291974ed24eULL,
		0x6e3569a4f727fa45ULL,
		0x08d865cc80f7e505ULL,
	} },
};
