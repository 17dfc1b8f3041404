// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl: one process. fewmulctl-mpi links par_mpi.c instead; see
 * fewmulctl.h for what each call does in a data-parallel job.
 */
#include "fewmulctl.h"

int par_init(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int par_exit(int ret)
{
	return ret;
}

unsigned int par_rank(void)
{
	return 0;
}

unsigned int par_size(void)
{
	return 1;
}

int par_attach(struct fewmul_trainer *t, const void *key, size_t n)
{
	(void)t;
	(void)key;
	(void)n;
	return 0;
}

int par_any(int v)
{
	return v;
}

uint32_t par_max_u32(uint32_t v)
{
	return v;
}

int par_check_checksum(uint64_t sum, uint32_t epoch)
{
	(void)sum;
	(void)epoch;
	return 0;
}
