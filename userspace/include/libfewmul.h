/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libfewmul: userspace library for fewmul, the integer-only, shift-based
 * neural network trainer (/dev/fewmul).
 *
 * Every function that can fail returns 0 or a positive value on success
 * and a negative errno value on failure; the library never prints and
 * never exits. Handles are opaque.
 */
#ifndef LIBFEWMUL_H
#define LIBFEWMUL_H

#include <stddef.h>
#include <stdint.h>

#include <linux/fewmul.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LIBFEWMUL_VERSION "0.1.0"

/* Default device node. */
#define FEWMUL_DEFAULT_DEVICE "/dev/fewmul"

/** struct fewmul_dev - an open /dev/fewmul (one training context). */
struct fewmul_dev;

/**
 * struct fewmul_device_info - what the module reports about itself
 * @abi_version: FEWMUL_ABI_VERSION of the module
 * @nr_workers: most threads the module splits a training step over (the
 *	caller and its helper threads)
 * @features: FEWMUL_FEATURE_* bits
 * @max_layers: largest number of weight layers
 * @max_width: largest layer width
 * @max_batch: largest minibatch
 * @max_scratch_bytes: per-context kernel scratch limit
 * @nr_contexts: open contexts, all users (genetlink only; 0 from ioctl)
 * @module_version: module version string (genetlink only; "" from ioctl)
 * @simd: the integer kernels the module runs ("off", "generic", "avx2",
 *	"neon"; "" from a module that does not say). Since LIBFEWMUL_0.7: a
 *	program built against an older libfewmul gets the struct without
 *	it from fewmul_dev_info() and fewmul_genl_info().
 */
struct fewmul_device_info {
	uint32_t abi_version;
	uint32_t nr_workers;
	uint64_t features;
	uint32_t max_layers;
	uint32_t max_width;
	uint32_t max_batch;
	uint32_t nr_contexts;
	uint64_t max_scratch_bytes;
	char module_version[32];
	char simd[16];
};

/* Return the library version string (LIBFEWMUL_VERSION at build time). */
const char *fewmul_lib_version(void);

/*
 * Open the device at @path (NULL: FEWMUL_DEFAULT_DEVICE) and store the
 * handle in *@devp. Returns 0 or -errno from open(2), e.g. -ENOENT when
 * the module is not loaded.
 */
int fewmul_dev_open(const char *path, struct fewmul_dev **devp);

/* Close a handle from fewmul_dev_open(); NULL is a no-op. */
void fewmul_dev_close(struct fewmul_dev *dev);

/* The path a handle was opened with. */
const char *fewmul_dev_path(const struct fewmul_dev *dev);

/* Query device information with the FEWMUL_IOC_INFO ioctl. */
int fewmul_dev_info(struct fewmul_dev *dev, struct fewmul_device_info *info);

/*
 * Query device information over generic netlink (family "fewmul").
 * Returns -ENOENT when the family is not registered (module not loaded),
 * or another -errno from the socket or the kernel.
 */
int fewmul_genl_info(struct fewmul_device_info *info);

/*
 * Name of feature bit @bit (0..63) as printed by fewmulctl, or NULL for a
 * bit this library does not know.
 */
const char *fewmul_feature_name(unsigned int bit);

/* Default data directory: Debian's dataset-fashion-mnist. */
#define FEWMUL_DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"

/**
 * struct fewmul_dataset - images and labels loaded from IDX files
 * @count: number of items
 * @rows: image height
 * @cols: image width
 * @classes: number of label classes (10)
 * @images: count * rows * cols pixels, row-major, item after item
 * @labels: count labels, each < classes
 * @error: on failure, a message naming the file and what is wrong
 */
struct fewmul_dataset {
	uint32_t count;
	uint32_t rows;
	uint32_t cols;
	uint32_t classes;
	uint8_t *images;
	uint8_t *labels;
	char error[256];
};

/*
 * Load an IDX image file and its IDX label file (plain or .gz). Checks
 * magic numbers, shapes, counts, truncation, trailing data and that every
 * label is 0..9. Returns 0, -errno of open (ds->error says which file), or
 * -EBADMSG for a malformed file (ds->error says what is wrong).
 */
int fewmul_dataset_load(const char *images, const char *labels,
			struct fewmul_dataset *ds);

/**
 * fewmul_images_load() - load the images of one IDX image file
 * @images: the file (magic 0x00000803: u8 images, 3 dimensions), plain
 *	or .gz
 * @ds: filled with count, rows, cols and images; labels stays NULL and
 *	classes 0 (a set to classify, not to train on)
 *
 * The same checks as fewmul_dataset_load() makes of its image file:
 * magic number, shape (at most 4096 pixels an image), truncation and
 * trailing data. Free it with fewmul_dataset_free().
 *
 * Return: 0, -errno of open (ds->error names the file), or -EBADMSG for
 * a malformed file (ds->error says what is wrong).
 */
int fewmul_images_load(const char *images, struct fewmul_dataset *ds);

/*
 * Load the training (test = 0) or test (test = 1) split from a directory
 * with the MNIST file names (train-images-idx3-ubyte[.gz], ...); dir NULL
 * means FEWMUL_DEFAULT_DATA_DIR.
 */
int fewmul_dataset_load_dir(const char *dir, int test,
			    struct fewmul_dataset *ds);

/* Free what a successful load allocated; safe on a zeroed struct. */
void fewmul_dataset_free(struct fewmul_dataset *ds);

/* ---- training ------------------------------------------------------------ */

/*
 * Limits (FEWMUL_MAX_LAYERS, FEWMUL_MAX_WIDTH, FEWMUL_MAX_BATCH,
 * FEWMUL_MAX_CLASSES, FEWMUL_MAX_EPOCHS, FEWMUL_EXP_MIN..FEWMUL_EXP_MAX,
 * FEWMUL_MAX_LR_SHIFT), weight modes (FEWMUL_MODEL_WEIGHTS_*) and batch
 * norm modes (FEWMUL_MODEL_BN_*) are the kernel ABI's, from
 * <linux/fewmul.h>: one vocabulary from the module to this library.
 */

/* Deprecated names of the weight and batch norm modes (libfewmul 0.1). */
#define FEWMUL_WEIGHTS_FULL		FEWMUL_MODEL_WEIGHTS_FULL
#define FEWMUL_WEIGHTS_BINARY		FEWMUL_MODEL_WEIGHTS_BINARY
#define FEWMUL_WEIGHTS_BINARY_STOCH	FEWMUL_MODEL_WEIGHTS_BINARY_STOCH
#define FEWMUL_WEIGHTS_TERNARY		FEWMUL_MODEL_WEIGHTS_TERNARY
#define FEWMUL_BN_OFF			FEWMUL_MODEL_BN_NONE
#define FEWMUL_BN_SHIFTBASED		FEWMUL_MODEL_BN_SHIFT

/* Training samples the test-time BN statistics are estimated on. */
#define FEWMUL_DEFAULT_CALIB		10000

/*
 * The name of a weight mode: "full", "binary", "binary-stoch" or
 * "ternary" ("unknown" for another value; never NULL).
 */
const char *fewmul_weights_name(uint32_t weights);

/* The weight mode called name (as above): 0, or -EINVAL for another name. */
int fewmul_weights_parse(const char *name, uint32_t *weights);


/**
 * struct fewmul_train_config - a model and how to train it
 * @nr_layers: number of weight layers, 1..16
 * @width: units per layer, width[0] = input pixels, width[nr_layers] =
 *	classes; entries past nr_layers must be 0
 * @weights: FEWMUL_MODEL_WEIGHTS_*
 * @qbp: quantized backprop (1) or exact weight gradients (0)
 * @bn: FEWMUL_MODEL_BN_*
 * @exp_min: lowest exponent of quantized backprop (e.g. -4)
 * @exp_max: highest exponent (e.g. 3)
 * @lr_shift_start: learning rate 2^-lr_shift_start in the first epoch
 * @lr_shift_end: learning rate 2^-lr_shift_end in the last epoch
 * @epochs: epochs the learning-rate schedule spans
 * @batch: minibatch size
 * @seed: everything random derives from it
 *
 * Documentation/numerics.rst explains the units.
 */
struct fewmul_train_config {
	uint32_t nr_layers;
	uint32_t width[FEWMUL_MAX_LAYERS + 1];
	uint32_t weights;
	uint32_t qbp;
	uint32_t bn;
	int32_t exp_min;
	int32_t exp_max;
	uint32_t lr_shift_start;
	uint32_t lr_shift_end;
	uint32_t epochs;
	uint32_t batch;
	uint64_t seed;
};

/* Operations the engine executed. */
struct fewmul_ops {
	uint64_t adds;
	uint64_t shifts;
	uint64_t muls;
};

/**
 * struct fewmul_result - outcome of training or evaluating samples
 * @samples: samples processed
 * @errors: samples whose arg-max output was not their label
 * @loss: summed squared-hinge loss (divide by samples for the mean)
 * @ops: operations executed
 * @layers: the same per layer: layers[l] counts the work of weight layer
 *	l (sampling, forward, batch norm, backward, update; the loss report
 *	is counted with the last layer), layers[0] the input conversion
 */
struct fewmul_result {
	uint64_t samples;
	uint64_t errors;
	double loss;
	struct fewmul_ops ops;
	struct fewmul_ops layers[FEWMUL_MAX_LAYERS + 1];
};

/** struct fewmul_trainer - a model bound to a backend */
struct fewmul_trainer;

/*
 * Fill cfg with the defaults of the paper's MNIST setup (784-1024-1024-
 * 1024-10, ternary, quantized backprop with exponents -4..3, shift-based
 * BN with the scale (1 + m/4) 2^-s (FEWMUL_MODEL_BN_SHIFT2; libfewmul
 * before FEWMUL_FEATURE_BN_SHIFT2 chose FEWMUL_MODEL_BN_SHIFT), batch
 * 200, 10 epochs, seed 0). A module without FEWMUL_FEATURE_BN_SHIFT2
 * cannot train it: fewmul_trainer_new() on the kernel backend then
 * fails with -EPROTONOSUPPORT.
 */
void fewmul_train_config_default(struct fewmul_train_config *cfg);

/*
 * Parse "784-1024-1024-1024-10" into nr_layers and width[]. Returns 0 or
 * -EINVAL (too few or many layers, a width of 0 or above 4096, junk).
 */
int fewmul_parse_arch(const char *s, struct fewmul_train_config *cfg);

/*
 * Create a trainer for cfg on a backend: "cpu" (the engine in this
 * process, with threads worker threads), "kernel" (the engine in fewmul.ko
 * through FEWMUL_DEFAULT_DEVICE; the module runs the steps in the calling
 * thread and threads - 1 helper threads of this process, which the
 * trainer starts and stops; 0: as many as the module splits a step into
 * and the calling thread's CPUs allow) or "kernel:PATH" (another device
 * node). NULL means "cpu". The
 * parameters are initialised from cfg->seed; both backends give
 * bit-identical results. Returns 0, -EINVAL for a bad config, -ENODEV for
 * an unknown backend, or another -errno; for "kernel": -errno of open(2)
 * (-ENOENT: module not loaded, -EACCES: no permission), -ENOTTY for a
 * node that is not fewmul, -EOPNOTSUPP for a module without the training
 * ioctls, -EPROTONOSUPPORT for cfg->bn FEWMUL_MODEL_BN_SHIFT2 on a module
 * without FEWMUL_FEATURE_BN_SHIFT2, -ENOMEM when pinning the parameters
 * exceeds RLIMIT_MEMLOCK, -E2BIG when the model exceeds the module's
 * scratch limit.
 *
 * The kernel backend registers (pins) a dataset's images and labels the
 * first time a trainer uses that struct fewmul_dataset and keeps them
 * registered until fewmul_trainer_free(): a dataset must stay loaded and
 * unchanged while a kernel trainer that used it exists, and be anonymous
 * memory as fewmul_dataset_load() allocates it (a file mapping gives
 * -EOPNOTSUPP). Pinned memory counts against RLIMIT_MEMLOCK without
 * CAP_IPC_LOCK (-ENOMEM). Training calls interrupted by a signal are
 * resumed by the library, so a call either trains all samples or fails,
 * as on the cpu backend.
 */
int fewmul_trainer_new(const struct fewmul_train_config *cfg,
		       const char *backend, unsigned int threads,
		       struct fewmul_trainer **out);

/* Destroy a trainer; NULL is a no-op. */
void fewmul_trainer_free(struct fewmul_trainer *t);

/*
 * Train on samples idx[0..n) of ds, in minibatches of cfg->batch (a last
 * partial batch is trained too), at epoch (for the LR schedule). Adds to
 * *res. Returns 0 or -errno (-EINVAL: index or label out of range, image
 * size not width[0]).
 */
int fewmul_trainer_train(struct fewmul_trainer *t,
			 const struct fewmul_dataset *ds, const uint32_t *idx,
			 uint32_t n, uint32_t epoch, struct fewmul_result *res);

/*
 * Re-estimate the batch-norm statistics with the test-time weights over
 * samples idx[0..n) of ds (training data). Evaluation uses them.
 */
int fewmul_trainer_calibrate(struct fewmul_trainer *t,
			     const struct fewmul_dataset *ds,
			     const uint32_t *idx, uint32_t n);

/*
 * Evaluate on samples idx[0..n) of ds with the test-time weights
 * (deterministic ternary/binary, or the shadow weights for full). Adds to
 * *res; if confusion is not NULL it is a classes x classes matrix
 * (row: label, column: prediction) that is added to.
 */
int fewmul_trainer_eval(struct fewmul_trainer *t,
			const struct fewmul_dataset *ds, const uint32_t *idx,
			uint32_t n, struct fewmul_result *res,
			uint64_t *confusion);

/*
 * Classify n images (pixels: n * width[0] bytes, image after image, as in
 * struct fewmul_dataset) with the test-time weights and batch-norm
 * statistics, exactly as fewmul_trainer_eval() does: pred[i] (may be
 * NULL) is the arg-max class of image i, and scores[i * K + k] (may be
 * NULL; K = width[nr_layers]) the output-layer score of class k, fixed
 * point with 12 fraction bits (4096 is 1.0, the squared hinge loss's
 * target for the true class; -4096 for the others). Calibrate first (see
 * fewmul_trainer_calibrate()). On a kernel trainer, whose eval ioctl
 * returns classes but not scores, scores must be NULL (-EOPNOTSUPP
 * otherwise) and pixels must be anonymous memory (it is registered with
 * the device for the call).
 */
int fewmul_trainer_predict(struct fewmul_trainer *t, const uint8_t *pixels,
			   uint32_t n, uint8_t *pred, int32_t *scores);

/* Weights of calibration, evaluation and prediction (not of training). */
enum fewmul_test_weights {
	FEWMUL_TEST_WEIGHTS_TERNARY = 0,	/* deterministic: ternary sign(U)
						 * where |U| > 1/2, binary sign(U);
						 * multiply-free (the default) */
	FEWMUL_TEST_WEIGHTS_REAL = 1,		/* the real-valued shadow weights U,
						 * as the paper's authors evaluate */
	FEWMUL_TEST_WEIGHTS_SAMPLED = 2,	/* one network sampled from U as the
						 * next training step would sample
						 * it (stochastic binary/ternary;
						 * multiply-free) */
};

/*
 * Choose the test-time weights of later fewmul_trainer_calibrate(),
 * _eval() and _predict() calls (full models use U either way). The
 * batch-norm statistics depend on them: calibrate again after a change.
 * 0, -EINVAL for an unknown value, -EOPNOTSUPP for real or sampled
 * weights on a kernel trainer (the module evaluates with the
 * deterministic weights).
 */
int fewmul_trainer_set_test_weights(struct fewmul_trainer *t, int test_weights);

/**
 * struct fewmul_collective - the processes of a data-parallel training
 * @rank: this process, 0..@size - 1
 * @size: processes
 * @allreduce: replace v[0..n) by the sum over every process of its
 *	v[0..n), in place; every process calls it with the same n in the
 *	same order. 0 or a negative errno. (MPI_Allreduce with MPI_INT64_T
 *	and MPI_SUM, MPI_IN_PLACE, is one.)
 * @ctx: passed to @allreduce and @allreduce32
 * @allreduce32: the same for int32_t values, or NULL (every process the
 *	same): then a layer's gradient travels as int32 whenever the sum of
 *	the processes' largest |value| fits, which keeps every partial sum
 *	in range (half the bytes; the result is the same)
 */
struct fewmul_collective {
	unsigned int rank;
	unsigned int size;
	int (*allreduce)(void *ctx, int64_t *v, size_t n);
	void *ctx;
	int (*allreduce32)(void *ctx, int32_t *v, size_t n);
};

/*
 * Make t one of coll->size processes that train one model together (data
 * parallel). Every process then calls fewmul_trainer_train(), _calibrate()
 * and _eval() with the same arguments (the same dataset, indices and
 * epoch); each runs its share of every minibatch and the sums over the
 * minibatch (batch-norm statistics, gradients, errors, loss, confusion,
 * operation counts) are added across processes as exact integers, so
 * every process holds the same weights, bit for bit the weights of one
 * process training alone, and reports the global results.
 * _predict() and _hist() stay local. Every process must start from the
 * same parameters and step: new trainers of the same configuration, or
 * the same model file loaded. 0, -EINVAL (bad coll), -EOPNOTSUPP (a
 * module without FEWMUL_FEATURE_EXCHANGE), -EBUSY (already set),
 * -ENOMEM. The kernel backend serves the module's exchanges from one
 * more thread (signals blocked) that calls allreduce while the calling
 * thread is inside fewmul_trainer_train() and the like; the calls of the
 * two threads never overlap (MPI_THREAD_SERIALIZED suffices).
 */
int fewmul_trainer_set_collective(struct fewmul_trainer *t,
				  const struct fewmul_collective *coll);

/*
 * Say where the next fewmul_trainer_train() call sits in its epoch: its
 * samples start at sample first of an epoch of total samples, cut into
 * calls of whole minibatches. It applies to that one call (which fails
 * with -EINVAL when first + n > total) and only to the progress the
 * kernel backend reports (struct fewmul_ctx_stats epoch_done and
 * epoch_total, fewmulctl monitor's "batch D/T"); the training does not
 * depend on it. total 0 forgets it. 0, or -EINVAL (first > total).
 */
int fewmul_trainer_set_epoch_pos(struct fewmul_trainer *t, uint32_t first,
				 uint32_t total);

/*
 * Memory the trainer's model takes, in bytes: the parameters and the
 * engine's scratch arrays in this process (cpu backend), or the kernel
 * memory the module reported for the model (kernel backend: MODEL_CREATE's
 * scratch_bytes, charged to the caller's memory cgroup; the parameters
 * live in a registered mapping of the caller besides). 0 for NULL. Since
 * LIBFEWMUL_0.8.
 */
uint64_t fewmul_trainer_memory(const struct fewmul_trainer *t);

/**
 * struct fewmul_counts - a trainer's totals beyond struct fewmul_ops
 * @size: In: sizeof(struct fewmul_counts) as the caller was built with
 *	(later versions may append fields; at least FEWMUL_COUNTS_SIZE_0_9)
 * @flags: Out: FEWMUL_COUNTS_* of what the backend counts (a module
 *	without FEWMUL_FEATURE_DIVS does not count divisions; then they
 *	read 0 and the flag is clear)
 * @divs: divisions of data values executed: batch norm's means and
 *	variances (forward, backward and the calibration's averages) and
 *	the fixed layer scales without batch norm
 * @saturated: backpropagated deltas found at their bound
 *	+-(2^10 - 2^-16), where the engine clips them: counted where batch
 *	norm's backward pass (or the no-BN scale's) reads them and where it
 *	writes them
 */
struct fewmul_counts {
	uint32_t size;
	uint32_t flags;
	uint64_t divs;
	uint64_t saturated;
};

#define FEWMUL_COUNTS_DIVS	(1u << 0)	/* @divs and @saturated */
#define FEWMUL_COUNTS_SIZE_0_9	24u

/*
 * The totals of every train, calibrate and eval call of t since it was
 * created (with data parallelism: this process's share). Set out->size
 * first. 0, or -EINVAL (NULL, or a size below FEWMUL_COUNTS_SIZE_0_9).
 * Since LIBFEWMUL_0.9.
 */
int fewmul_trainer_counts(const struct fewmul_trainer *t,
			  struct fewmul_counts *out);

/* The learning-rate shift the schedule of cfg uses at epoch (0-based). */
uint32_t fewmul_lr_shift_at(const struct fewmul_train_config *cfg,
			    uint32_t epoch);

/*
 * The backend the command line uses when none is given: "kernel" when
 * FEWMUL_DEFAULT_DEVICE exists, "cpu" otherwise. Never NULL.
 */
const char *fewmul_default_backend(void);

/*
 * The backend name a trainer runs on ("cpu" or "kernel") and, for
 * "kernel", the device path in *path (may be NULL; "" for "cpu").
 */
const char *fewmul_trainer_backend(const struct fewmul_trainer *t,
				   const char **path);

/* Minibatches trained so far. */
uint64_t fewmul_trainer_step(const struct fewmul_trainer *t);

/*
 * The parameter arena (native-endian s32; model files store them
 * little-endian) and its size.
 */
const void *fewmul_trainer_params(const struct fewmul_trainer *t, size_t *size);

/*
 * FNV-1a 64-bit hash of the parameter arena: equal for bit-identical
 * weights, whatever the backend or thread count.
 */
uint64_t fewmul_trainer_checksum(const struct fewmul_trainer *t);

/*
 * Histogram of log2|x| of the hidden representations of layer (1..L-1)
 * over all training steps (training only: calibration and evaluation do
 * not add to it): bins[k] counts values with floor(log2|x|) = k - 16
 * (k = 0..31; the end bins include everything beyond). -EINVAL for a
 * layer outside 1..L-1.
 */
int fewmul_trainer_hist(const struct fewmul_trainer *t, unsigned int layer,
			uint64_t bins[32]);

/* The configuration a trainer was created with. */
void fewmul_train_config_get(const struct fewmul_trainer *t,
			     struct fewmul_train_config *cfg);

/**
 * struct fewmul_model_info - where a saved model stands
 * @epoch: epochs completed
 * @epoch_pos: samples of epoch @epoch already trained (0 at a boundary)
 * @config: the configuration (filled by fewmul_model_load())
 */
struct fewmul_model_info {
	uint32_t epoch;
	uint32_t epoch_pos;
	struct fewmul_train_config config;
};

/*
 * Save the trainer's model to path: header (magic, format and ABI
 * version, configuration, seed, step, epoch), parameters, CRC32s; written
 * through fewmul_outfile_open(), so path is either the old file or the
 * complete new one, and a path that names a device, FIFO, socket or
 * directory is refused (-EINVAL, -EISDIR). On failure err (may be NULL)
 * says why.
 */
int fewmul_model_save(const struct fewmul_trainer *t, const char *path,
		      const struct fewmul_model_info *info, char *err,
		      size_t errlen);

/*
 * Load a model file into a new trainer on backend (see
 * fewmul_trainer_new()). A bad magic, version, checksum, configuration,
 * a truncated file or trailing data give -EBADMSG and a message in err.
 * Training continues bit-exactly where the saved run stood.
 */
int fewmul_model_load(const char *path, const char *backend,
		      unsigned int threads, struct fewmul_trainer **out,
		      struct fewmul_model_info *info, char *err, size_t errlen);

/* ---- output files --------------------------------------------------------- */

/** struct fewmul_outfile - a file being written to replace its target */
struct fewmul_outfile;

/*
 * Begin replacing path. Its target is path or, for a symbolic link, the
 * file the links finally name (which may not exist yet); it must be a
 * regular file or not exist: a device, FIFO or socket gives -EINVAL and
 * a directory -EISDIR, and neither is touched. The data goes to a
 * temporary file beside the target (write it through
 * fewmul_outfile_fd()), created with mode 0666 & ~umask or given the
 * existing file's mode and, where permitted, its owner. Returns 0, or
 * -errno with a message naming the file in err (may be NULL).
 */
int fewmul_outfile_open(const char *path, struct fewmul_outfile **out,
			char *err, size_t errlen);

/* The temporary file's descriptor. */
int fewmul_outfile_fd(const struct fewmul_outfile *o);

/*
 * fsync and close the temporary file, rename it over the target and sync
 * the directory; frees o. On failure the temporary file is removed, the
 * target is untouched and err says why.
 */
int fewmul_outfile_commit(struct fewmul_outfile *o, char *err, size_t errlen);

/* Remove the temporary file and free o; the target is untouched. */
void fewmul_outfile_abort(struct fewmul_outfile *o);

/*
 * Would fewmul_outfile_open(path) succeed now? Creates and removes the
 * temporary file, so a missing or read-only directory is found before
 * any work is done. 0, or -errno with err set.
 */
int fewmul_outfile_check(const char *path, char *err, size_t errlen);

/**
 * struct fewmul_model_extra - what a model file records about its run
 * @size: sizeof(struct fewmul_model_extra) as the caller knows it (the
 *	struct only grows at the end; fields past size are not touched)
 * @bn_samples: training samples the stored test-time batch-norm
 *	statistics were estimated on with these weights (see
 *	fewmul_trainer_calibrate()); 0: not estimated since the weights
 *	last changed, so evaluation must calibrate first (models without
 *	batch norm need no statistics)
 * @train_limit: training samples per epoch of the run (0: unknown)
 * @val: samples held out at the end of the training set (0: none)
 *
 * Files of format version 1 (before fewmulctl 0.2) load with all zero.
 */
struct fewmul_model_extra {
	uint32_t size;
	uint32_t bn_samples;
	uint32_t train_limit;
	uint32_t val;
};

/* fewmul_model_save() that also records extra (may be NULL: all zero). */
int fewmul_model_save_ex(const struct fewmul_trainer *t, const char *path,
			 const struct fewmul_model_info *info,
			 const struct fewmul_model_extra *extra, char *err,
			 size_t errlen);

/* fewmul_model_load() that also returns extra (may be NULL). */
int fewmul_model_load_ex(const char *path, const char *backend,
			 unsigned int threads, struct fewmul_trainer **out,
			 struct fewmul_model_info *info,
			 struct fewmul_model_extra *extra, char *err,
			 size_t errlen);

/*
 * The paper's multiplication count per minibatch of batch samples for the
 * architecture in cfg: full precision, and binary/ternary connect with
 * quantized backprop; bn adds standard batch norm's multiplies.
 */
uint64_t fewmul_count_full(const struct fewmul_train_config *cfg,
			   uint32_t batch, int bn);
uint64_t fewmul_count_qb(const struct fewmul_train_config *cfg,
			 uint32_t batch, int bn);

/* ---- live contexts (generic netlink) ------------------------------------- */

/**
 * struct fewmul_ctx_stats - one open /dev/fewmul context and its totals
 * @id: context id (unique while the module is loaded)
 * @owner_pid: process that opened it (in its pid namespace at open time)
 * @owner_uid: effective uid of the opener
 * @has_model: 1 when the context has a model
 * @busy: 1 while a train or eval call runs
 * @nr_layers: the model's number of weight layers
 * @weights: the model's FEWMUL_MODEL_WEIGHTS_* mode
 * @qbp: quantized backprop on
 * @epoch: epoch of the last train call
 * @step: minibatches the model has trained
 * @samples: samples trained by this context
 * @errors: training errors counted by this context
 * @loss: summed training loss (divide by samples for the mean)
 * @ops: operations executed (train and eval)
 * @done: minibatches done in the running (or last) call
 * @total: minibatches that call was given
 * @batch_loss: summed loss of the last minibatch
 * @batch_errors: errors of the last minibatch
 * @batch_size: samples of the last minibatch
 * @epoch_done: minibatches of the last train call's epoch done, counting
 *	the calls before it that fewmul_trainer_set_epoch_pos() told of
 * @epoch_total: minibatches of that epoch (0: its trainer did not say)
 *
 * The last two fields came with LIBFEWMUL_0.7: a program built against
 * an older libfewmul gets the struct without them from
 * fewmul_genl_stats() and fewmul_genl_ctx_stats().
 */
struct fewmul_ctx_stats {
	uint64_t id;
	uint32_t owner_pid;
	uint32_t owner_uid;
	uint32_t has_model;
	uint32_t busy;
	uint32_t nr_layers;
	uint32_t weights;
	uint32_t qbp;
	uint32_t epoch;
	uint64_t step;
	uint64_t samples;
	uint64_t errors;
	double loss;
	struct fewmul_ops ops;
	uint64_t done;
	uint64_t total;
	double batch_loss;
	uint32_t batch_errors;
	uint32_t batch_size;
	uint64_t epoch_done;
	uint64_t epoch_total;
};

/*
 * Dump the contexts the caller may see (its own; all with CAP_SYS_ADMIN)
 * with FEWMUL_CMD_GET_STATS into out[0..max). Returns the number of
 * contexts, which may exceed max (only max are stored: call again with a
 * larger array), -ENOENT when the family is not registered (module not
 * loaded), or another -errno.
 */
int fewmul_genl_stats(struct fewmul_ctx_stats *out, size_t max);

/*
 * The totals of context id (FEWMUL_CMD_GET_STATS do). -ENOENT for an
 * unknown context, one the caller may not see, or a missing family.
 */
int fewmul_genl_ctx_stats(uint64_t id, struct fewmul_ctx_stats *out);

/**
 * struct fewmul_layer_hist - one layer of a live context
 * @id: context id
 * @layer: 0 (input) .. nr_layers
 * @ops: operations executed for this layer (train and eval)
 * @bins: log2|x| histogram of hidden layers 1..nr_layers-1, as in
 *	fewmul_trainer_hist(); zeros for the other layers
 */
struct fewmul_layer_hist {
	uint64_t id;
	uint32_t layer;
	struct fewmul_ops ops;
	uint64_t bins[32];
};

/*
 * Counters and histogram of one layer of context id
 * (FEWMUL_CMD_GET_HIST). -ENOENT as fewmul_genl_ctx_stats(), -EINVAL for
 * a layer the module rejects.
 */
int fewmul_genl_hist(uint64_t id, unsigned int layer,
		     struct fewmul_layer_hist *out);

/*
 * Callback of fewmul_genl_monitor(): one FEWMUL_CMD_PROGRESS event (the
 * context's totals, with done/total of the running call and the last
 * minibatch's loss, errors and size). Return 0 to keep listening.
 */
typedef int (*fewmul_progress_fn)(const struct fewmul_ctx_stats *ev,
				  void *arg);

/*
 * Subscribe to the "events" multicast group and call fn for every
 * progress event of every context (filter on owner_uid yourself) until fn
 * returns nonzero (returns 0), *stop becomes nonzero (stop may be NULL;
 * checked at least every 250 ms and when a signal interrupts the wait;
 * returns 0), or timeout_ms milliseconds have passed (timeout_ms < 0:
 * none; returns -ETIMEDOUT). Events the socket could not queue are lost
 * silently. -ENOENT when the family or group is missing, another -errno
 * from the socket.
 */
int fewmul_genl_monitor(fewmul_progress_fn fn, void *arg, int timeout_ms,
			const volatile int *stop);

/*
 * Vector kernels of the cpu backend's engine, process-wide: "auto" (the
 * best this CPU supports; the default, or FEWMUL_SIMD from the
 * environment at load), "off" (general registers only), or a name such as
 * "avx2" (x86-64) or "neon" (arm64). Weights are bit-identical whatever the choice. Set it before
 * creating trainers. Returns 0 or -EINVAL (unknown, or not supported by
 * this CPU).
 */
int fewmul_simd_set(const char *name);

/* The implementation in use: "avx2", "off", ... */
const char *fewmul_simd_impl(void);

#ifdef __cplusplus
}
#endif

#endif /* LIBFEWMUL_H */
