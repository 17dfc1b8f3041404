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
 * @nr_workers: worker threads per training step
 * @features: FEWMUL_FEATURE_* bits
 * @max_layers: largest number of weight layers
 * @max_width: largest layer width
 * @max_batch: largest minibatch
 * @max_scratch_bytes: per-context kernel scratch limit
 * @nr_contexts: open contexts, all users (genetlink only; 0 from ioctl)
 * @module_version: module version string (genetlink only; "" from ioctl)
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

#define FEWMUL_MAX_LAYERS 16

/* Weight modes (struct fewmul_train_config.weights). */
enum fewmul_weights {
	FEWMUL_WEIGHTS_FULL = 0,	/* integer multiplies (baseline) */
	FEWMUL_WEIGHTS_BINARY = 1,	/* W0 * sign(w) */
	FEWMUL_WEIGHTS_BINARY_STOCH = 2,	/* stochastic binary connect */
	FEWMUL_WEIGHTS_TERNARY = 3,	/* stochastic ternary connect */
};

/* Batch norm modes (struct fewmul_train_config.bn). */
enum fewmul_bn {
	FEWMUL_BN_OFF = 0,		/* power-of-two pre-activation scale */
	FEWMUL_BN_SHIFTBASED = 1,	/* shift-based batch norm */
};

/**
 * struct fewmul_train_config - a model and how to train it
 * @nr_layers: number of weight layers, 1..16
 * @width: units per layer, width[0] = input pixels, width[nr_layers] =
 *	classes; entries past nr_layers must be 0
 * @weights: enum fewmul_weights
 * @qbp: quantized backprop (1) or exact weight gradients (0)
 * @bn: enum fewmul_bn
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
 * BN, batch 200, 10 epochs, seed 0).
 */
void fewmul_train_config_default(struct fewmul_train_config *cfg);

/*
 * Parse "784-1024-1024-1024-10" into nr_layers and width[]. Returns 0 or
 * -EINVAL (too few or many layers, a width of 0 or above 4096, junk).
 */
int fewmul_parse_arch(const char *s, struct fewmul_train_config *cfg);

/*
 * Create a trainer for cfg on a backend: "cpu" (the engine in this
 * process, with threads worker threads) or "kernel" (/dev/fewmul). The
 * parameters are initialised from cfg->seed. Returns 0, -EINVAL for a bad
 * config, -ENODEV for an unknown backend, or another -errno.
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

/* The learning-rate shift the schedule of cfg uses at epoch (0-based). */
uint32_t fewmul_lr_shift_at(const struct fewmul_train_config *cfg,
			    uint32_t epoch);

/* Minibatches trained so far. */
uint64_t fewmul_trainer_step(const struct fewmul_trainer *t);

/* The parameter arena (little-endian s32) and its size. */
const void *fewmul_trainer_params(const struct fewmul_trainer *t, size_t *size);

/*
 * FNV-1a 64-bit hash of the parameter arena: equal for bit-identical
 * weights, whatever the backend or thread count.
 */
uint64_t fewmul_trainer_checksum(const struct fewmul_trainer *t);

/*
 * Histogram of log2|x| of the hidden representations of layer (1..L-1)
 * over all training steps: bins[k] counts values with floor(log2|x|) =
 * k - 16 (k = 0..31; the end bins include everything beyond).
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
 * to a temporary file and renamed, so path is either the old file or the
 * complete new one. On failure err (may be NULL) says why.
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

/*
 * The paper's multiplication count per minibatch of batch samples for the
 * architecture in cfg: full precision, and binary/ternary connect with
 * quantized backprop; bn adds standard batch norm's multiplies.
 */
uint64_t fewmul_count_full(const struct fewmul_train_config *cfg,
			   uint32_t batch, int bn);
uint64_t fewmul_count_qb(const struct fewmul_train_config *cfg,
			 uint32_t batch, int bn);

#ifdef __cplusplus
}
#endif

#endif /* LIBFEWMUL_H */
