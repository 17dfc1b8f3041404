// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl-mpi: the ranks of an MPI job train one model, data parallel
 * (fewmul_trainer_set_collective()). Every rank reads the data itself,
 * runs its share of every minibatch and adds its sums with
 * MPI_Allreduce(MPI_INT64_T, MPI_SUM): integer sums, so the weights are
 * bit for bit those of one process, whatever the number of ranks.
 *
 * Rank 0 prints and writes the files (--save, --log); the others' stdout
 * goes to /dev/null, their errors still reach stderr prefixed with the
 * rank. A rank that fails aborts the job (MPI_Abort), so that no rank
 * waits forever in a collective for one that has gone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "libfewmul.h"

#include "fewmulctl.h"

static int rank, size = 1, inited;
/* the engine's exchanges: calls, values, seconds (FEWMULCTL_MPI_STATS) */
static uint64_t st_calls, st_bytes;
static double st_secs;

/* Sum n values of type t (esize bytes each) over the ranks, in place. */
static int mpi_sum(void *v, size_t n, MPI_Datatype t, size_t esize)
{
	double t0 = MPI_Wtime();
	char *p = v;

	st_calls++;
	st_bytes += n * esize;
	while (n) {
		int c = n > (1u << 30) ? 1 << 30 : (int)n;

		if (MPI_Allreduce(MPI_IN_PLACE, p, c, t, MPI_SUM,
				  MPI_COMM_WORLD) != MPI_SUCCESS)
			return -EIO;
		p += (size_t)c * esize;
		n -= (size_t)c;
	}
	st_secs += MPI_Wtime() - t0;
	return 0;
}

static int mpi_allreduce(void *ctx, int64_t *v, size_t n)
{
	(void)ctx;
	return mpi_sum(v, n, MPI_INT64_T, sizeof(*v));
}

/* The same for int32 values (the gradients, when they fit). */
static int mpi_allreduce32(void *ctx, int32_t *v, size_t n)
{
	(void)ctx;
	return mpi_sum(v, n, MPI_INT32_T, sizeof(*v));
}

int par_init(int *argc, char ***argv)
{
	int provided;

	/* the engine's exchanges run on one worker thread at a time */
	if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) !=
	    MPI_SUCCESS) {
		fprintf(stderr, "%s: MPI_Init_thread failed\n", PROG_NAME);
		return -1;
	}
	inited = 1;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (provided < MPI_THREAD_SERIALIZED) {
		fprintf(stderr, "%s: rank %d: this MPI library does not allow calls from other threads (MPI_THREAD_SERIALIZED)\n",
			PROG_NAME, rank);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	if (rank && !freopen("/dev/null", "w", stdout)) {
		fprintf(stderr, "%s: rank %d: /dev/null: %s\n", PROG_NAME, rank,
			strerror(errno));
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	return 0;
}

int par_exit(int ret)
{
	if (!inited)
		return ret;
	if (ret && ret < 128) {
		/* the other ranks may be waiting for this one: end the job */
		fprintf(stderr, "%s: rank %d failed (exit %d): ending the job\n",
			PROG_NAME, rank, ret);
		fflush(NULL);
		MPI_Abort(MPI_COMM_WORLD, ret);
	}
	if (getenv("FEWMULCTL_MPI_STATS"))
		fprintf(stderr, "mpi: rank %d of %d: %llu all-reduces, %llu bytes, %.3f s in MPI_Allreduce\n",
			rank, size, (unsigned long long)st_calls,
			(unsigned long long)st_bytes, st_secs);
	MPI_Finalize();
	return ret;
}

unsigned int par_rank(void)
{
	return (unsigned int)rank;
}

unsigned int par_size(void)
{
	return (unsigned int)size;
}

/* FNV-1a of the bytes */
static uint64_t hash(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* 0 when every rank has the same v; else the lowest and highest */
static int same_everywhere(uint64_t v, uint64_t *lo, uint64_t *hi)
{
	MPI_Allreduce(&v, lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
	MPI_Allreduce(&v, hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
	return *lo != *hi;
}

int par_attach(struct fewmul_trainer *t, const void *key, size_t n)
{
	struct fewmul_collective coll = {
		.rank = (unsigned int)rank, .size = (unsigned int)size,
		.allreduce = mpi_allreduce, .allreduce32 = mpi_allreduce32,
	};
	uint64_t lo, hi, mine = hash(key, n) ^ fewmul_trainer_checksum(t);
	int err;

	if (same_everywhere(mine, &lo, &hi)) {
		fewmulctl_errx("rank %d: the ranks were started with different training runs (options, data sizes or --resume model; this rank's key %016llx, keys range %016llx..%016llx): give every rank the same command and files",
			       rank, (unsigned long long)mine,
			       (unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	err = fewmul_trainer_set_collective(t, &coll);
	if (err == -EOPNOTSUPP) {
		fewmulctl_errx("rank %d: the loaded fewmul module cannot train data-parallel (no \"exchange\" feature): load a newer one, or use --backend cpu",
			       rank);
		return -1;
	}
	if (err) {
		fewmulctl_err("joining the data-parallel job", err);
		return -1;
	}
	return 0;
}

int par_any(int v)
{
	int any = 0;

	MPI_Allreduce(&v, &any, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
	return any;
}

uint32_t par_max_u32(uint32_t v)
{
	uint32_t m = v;

	MPI_Allreduce(&v, &m, 1, MPI_UINT32_T, MPI_MAX, MPI_COMM_WORLD);
	return m;
}

int par_check_checksum(uint64_t sum, uint32_t epoch)
{
	uint64_t lo, hi, first = sum;

	MPI_Bcast(&first, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
	if (!same_everywhere(sum, &lo, &hi))
		return 0;
	fewmulctl_errx("rank %d: after epoch %u the weights checksum is %016llx, rank 0's %016llx: the ranks no longer hold the same model",
		       rank, epoch + 1, (unsigned long long)sum,
		       (unsigned long long)first);
	return -1;
}
