/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fewmul: integer-only, shift-based neural network training.
 *
 * This header is the whole ABI between fewmul.ko and userspace: the ioctls
 * of /dev/fewmul and the names of the "fewmul" generic netlink family.
 *
 * Conventions (Documentation/process/botching-up-ioctls.rst):
 *
 * - Every ioctl argument is a struct whose first field is @size, the size
 *   of the struct as userspace knows it. The kernel accepts smaller (older)
 *   and larger (newer) structs as long as the bytes it does not know are
 *   zero (-E2BIG otherwise), so structs can grow at the end.
 * - Every struct has a @flags field; bits outside the FEWMUL_*_FLAGS_ALL
 *   mask of that struct are rejected with -EINVAL.
 * - Padding and reserved fields must be zero on input (-EINVAL otherwise)
 *   and are zero on output.
 * - Pointers are passed as __u64, all structs are padded to 64 bits.
 */
#ifndef _UAPI_LINUX_FEWMUL_H
#define _UAPI_LINUX_FEWMUL_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/* Bumped only for incompatible changes; new features are feature bits. */
#define FEWMUL_ABI_VERSION	1

#define FEWMUL_DEVICE_NAME	"fewmul"

/* ioctl type byte; not used by any other driver in ioctl-number.rst. */
#define FEWMUL_IOC_TYPE		0xF7

/**
 * enum fewmul_ioc_nr - ioctl command numbers
 * @FEWMUL_IOC_NR_INFO: &struct fewmul_info
 * @FEWMUL_IOC_NR_BUF_REGISTER: &struct fewmul_buf_register
 * @FEWMUL_IOC_NR_BUF_UNREGISTER: &struct fewmul_buf_unregister
 * @FEWMUL_IOC_NR_MODEL_CREATE: &struct fewmul_model_create
 * @FEWMUL_IOC_NR_TRAIN: &struct fewmul_run
 * @FEWMUL_IOC_NR_EVAL: &struct fewmul_run
 * @FEWMUL_IOC_NR_STATS: &struct fewmul_stats
 * @FEWMUL_IOC_NR_HIST: &struct fewmul_hist
 * @FEWMUL_IOC_NR_HELP: &struct fewmul_help
 * @FEWMUL_IOC_NR_EXCHANGE: &struct fewmul_exchange
 *
 * Numbers are never reused; a removed command keeps its slot.
 *
 * Every command passes its struct both ways and is encoded with _IOWR()
 * and the struct's size (FEWMUL_IOC_INFO and so on below), so that strace
 * and seccomp see the direction and the size. The size in the command
 * must equal the struct's @size field (-EINVAL otherwise); a program
 * built against a newer, larger struct encodes its own size. The first
 * modules encoded the commands with _IO() (direction none, size 0);
 * those numbers (FEWMUL_IOC_LEGACY()) stay accepted for every command
 * that existed then, and the @size field alone gives the size.
 */
enum fewmul_ioc_nr {
	FEWMUL_IOC_NR_INFO = 0x00,
	FEWMUL_IOC_NR_BUF_REGISTER = 0x01,
	FEWMUL_IOC_NR_BUF_UNREGISTER = 0x02,
	FEWMUL_IOC_NR_MODEL_CREATE = 0x03,
	FEWMUL_IOC_NR_TRAIN = 0x04,
	FEWMUL_IOC_NR_EVAL = 0x05,
	FEWMUL_IOC_NR_STATS = 0x06,
	FEWMUL_IOC_NR_HIST = 0x07,
	FEWMUL_IOC_NR_HELP = 0x08,
	FEWMUL_IOC_NR_EXCHANGE = 0x09,
};

/* The first modules' encoding of command @nr (accepted for 0x00..0x07). */
#define FEWMUL_IOC_LEGACY(nr)	_IO(FEWMUL_IOC_TYPE, nr)

/*
 * Feature bits reported in &fewmul_info.features and in the genetlink
 * attribute %FEWMUL_A_INFO_FEATURES.
 */
/* FEWMUL_IOC_INFO is available (always set). */
#define FEWMUL_FEATURE_INFO		_BITULL(0)
/* The "fewmul" generic netlink family answers %FEWMUL_CMD_GET_INFO. */
#define FEWMUL_FEATURE_GENL_INFO	_BITULL(1)
/* Buffers, models, training and evaluation ioctls (0x01..0x07). */
#define FEWMUL_FEATURE_TRAIN		_BITULL(2)
/* %FEWMUL_CMD_GET_STATS, %FEWMUL_CMD_GET_HIST and progress events. */
#define FEWMUL_FEATURE_GENL_STATS	_BITULL(3)
/* struct fewmul_run has @layer_ops and @predictions. */
#define FEWMUL_FEATURE_RUN_OUTPUTS	_BITULL(4)
/*
 * struct fewmul_run has @epoch_done and @epoch_total, and progress events
 * and stats carry %FEWMUL_A_CTX_EPOCH_DONE and %FEWMUL_A_CTX_EPOCH_TOTAL.
 */
#define FEWMUL_FEATURE_RUN_EPOCH	_BITULL(5)
/*
 * FEWMUL_IOC_HELP exists, the commands are accepted in their _IOWR()
 * encoding, and TRAIN/EVAL run their work only in the calling thread and
 * in threads lent to the context with FEWMUL_IOC_HELP.
 */
#define FEWMUL_FEATURE_HELP		_BITULL(6)
/*
 * Data-parallel steps: %FEWMUL_MODEL_DATA_PARALLEL, %FEWMUL_RUN_DATA_PARALLEL
 * with &fewmul_run.dp_rank, .dp_size and .dp_buffer, and
 * FEWMUL_IOC_EXCHANGE.
 */
#define FEWMUL_FEATURE_EXCHANGE		_BITULL(7)
/* &struct fewmul_run, fewmul_stats and fewmul_hist have @divs and @saturated. */
#define FEWMUL_FEATURE_DIVS		_BITULL(8)
/* &fewmul_model_create.bn accepts %FEWMUL_MODEL_BN_SHIFT2. */
#define FEWMUL_FEATURE_BN_SHIFT2	_BITULL(9)

/* Flags of &struct fewmul_info: none defined yet. */
#define FEWMUL_INFO_FLAGS_ALL		0U

/**
 * struct fewmul_info - device information (FEWMUL_IOC_INFO)
 * @size: In: sizeof(struct fewmul_info) as known to the caller. Must be
 *	at least offsetofend(struct fewmul_info, max_scratch_bytes).
 * @flags: In: must be zero (no flags are defined).
 * @abi_version: Out: %FEWMUL_ABI_VERSION of the running module.
 * @nr_workers: Out: most threads a minibatch's phases are split over: the
 *	calling thread and the helpers of FEWMUL_IOC_HELP (online CPUs,
 *	capped by the module parameter max_workers).
 * @features: Out: bitmask of FEWMUL_FEATURE_*.
 * @max_layers: Out: largest number of weight layers a model may have.
 * @max_width: Out: largest number of units in any layer (input included).
 * @max_batch: Out: largest minibatch size.
 * @pad: In: must be zero. Out: zero.
 * @max_scratch_bytes: Out: per-context limit on kernel scratch memory.
 * @simd: Out: NUL-terminated name of the integer kernels the module
 *	runs: "off" (the scalar engine), "generic" (the vector kernels'
 *	layouts in general-purpose registers) or a vector implementation
 *	such as "avx2"; chosen once at load (module parameter simd=), the
 *	weights are the same whichever it is. Empty from a module that does
 *	not report it.
 *
 * Out fields are written for the first @size bytes only; a caller that
 * passes a newer, larger struct gets zeros in the fields this module does
 * not know.
 */
struct fewmul_info {
	__u32 size;
	__u32 flags;
	__u32 abi_version;
	__u32 nr_workers;
	__u64 features;
	__u32 max_layers;
	__u32 max_width;
	__u32 max_batch;
	__u32 pad;
	__u64 max_scratch_bytes;
	char simd[16];
};

#define FEWMUL_IOC_INFO		_IOWR(FEWMUL_IOC_TYPE, FEWMUL_IOC_NR_INFO, struct fewmul_info)

/*
 * Limits of the training ioctls. A context holds at most
 * %FEWMUL_MAX_BUFFERS registered buffers of at most %FEWMUL_MAX_BUF_BYTES
 * each; the pinned pages count against RLIMIT_MEMLOCK.
 */
#define FEWMUL_MAX_BUFFERS		16
#define FEWMUL_MAX_BUF_BYTES		_BITULL(32)

/*
 * Limits of &struct fewmul_model_create (the engine's, also reported by
 * FEWMUL_IOC_INFO): a value outside gives -EINVAL.
 */
#define FEWMUL_MAX_LAYERS		16	/* weight layers: 1.. */
#define FEWMUL_MAX_WIDTH		4096	/* units per layer: 1.. */
#define FEWMUL_MIN_CLASSES		2	/* width of the last layer */
#define FEWMUL_MAX_CLASSES		256	/* labels are one byte */
#define FEWMUL_MAX_BATCH		4096	/* samples per minibatch: 1.. */
#define FEWMUL_MAX_EPOCHS		100000	/* epochs of the LR schedule: 1.. */
#define FEWMUL_EXP_MIN			(-16)	/* lowest exp_min */
#define FEWMUL_EXP_MAX			8	/* highest exp_max */
#define FEWMUL_MAX_LR_SHIFT		24	/* learning rate 2^-24 .. 1 */
/* Former name of FEWMUL_MAX_LAYERS. */
#define FEWMUL_MAX_LAYERS_ABI		FEWMUL_MAX_LAYERS

/* The kernel writes to the buffer (required for a parameter arena). */
#define FEWMUL_BUF_WRITE		_BITUL(0)
#define FEWMUL_BUF_FLAGS_ALL		FEWMUL_BUF_WRITE

/**
 * struct fewmul_buf_register - pin user memory (FEWMUL_IOC_BUF_REGISTER)
 * @size: In: sizeof(struct fewmul_buf_register).
 * @flags: In: FEWMUL_BUF_* flags.
 * @addr: In: start of the buffer in the caller's address space (any
 *	alignment). Only anonymous memory can be registered: file-backed
 *	mappings give -EOPNOTSUPP.
 * @length: In: length in bytes, 1..%FEWMUL_MAX_BUF_BYTES.
 * @handle: Out: handle naming the buffer in later calls (1..%FEWMUL_MAX_BUFFERS).
 * @pad: In: must be zero.
 *
 * The pages are pinned (FOLL_LONGTERM) until the buffer is unregistered
 * or the file is closed, and charged to the caller's RLIMIT_MEMLOCK
 * unless it has CAP_IPC_LOCK (-ENOMEM when over the limit). Unmapped
 * memory, or read-only memory with %FEWMUL_BUF_WRITE, gives -EFAULT; a
 * context with %FEWMUL_MAX_BUFFERS buffers gives -ENOSPC.
 */
struct fewmul_buf_register {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 length;
	__u32 handle;
	__u32 pad;
};

/**
 * struct fewmul_buf_unregister - unpin a buffer (FEWMUL_IOC_BUF_UNREGISTER)
 * @size: In: sizeof(struct fewmul_buf_unregister).
 * @flags: In: must be zero.
 * @handle: In: a handle from FEWMUL_IOC_BUF_REGISTER (-ENOENT otherwise).
 * @pad: In: must be zero.
 *
 * A buffer that is the arena of the context's model gives -EBUSY.
 */
struct fewmul_buf_unregister {
	__u32 size;
	__u32 flags;
	__u32 handle;
	__u32 pad;
};

/* Weight modes (&fewmul_model_create.weights). */
#define FEWMUL_MODEL_WEIGHTS_FULL		0	/* integer multiplies */
#define FEWMUL_MODEL_WEIGHTS_BINARY		1	/* W0 * sign(w) */
#define FEWMUL_MODEL_WEIGHTS_BINARY_STOCH	2	/* stochastic binary connect */
#define FEWMUL_MODEL_WEIGHTS_TERNARY		3	/* stochastic ternary connect */
#define FEWMUL_MODEL_NR_WEIGHTS			4

/* Batch norm modes (&fewmul_model_create.bn). */
#define FEWMUL_MODEL_BN_NONE			0	/* power-of-two layer scale */
#define FEWMUL_MODEL_BN_SHIFT			1	/* shift-based batch norm */
/* batch norm with the scale (1 + m/4) 2^-s: two shifts and an add;
 * since %FEWMUL_FEATURE_BN_SHIFT2
 */
#define FEWMUL_MODEL_BN_SHIFT2			2
#define FEWMUL_MODEL_NR_BN			3

/* Initialise the parameters from the seed; without it the arena's
 * contents (a saved model) are used as they are.
 */
#define FEWMUL_MODEL_INIT		_BITUL(0)
/* Quantized backprop (power-of-two inputs in the weight update). */
#define FEWMUL_MODEL_QBP		_BITUL(1)
/*
 * Reserve the memory of data-parallel steps (%FEWMUL_RUN_DATA_PARALLEL):
 * the sums a step exchanges, fewmul_dp_size() of the engine; counted in
 * @scratch_bytes. Since %FEWMUL_FEATURE_EXCHANGE.
 */
#define FEWMUL_MODEL_DATA_PARALLEL	_BITUL(2)
#define FEWMUL_MODEL_FLAGS_ALL		(FEWMUL_MODEL_INIT | FEWMUL_MODEL_QBP | \
					 FEWMUL_MODEL_DATA_PARALLEL)

/**
 * struct fewmul_model_create - create the context's model (FEWMUL_IOC_MODEL_CREATE)
 * @size: In: sizeof(struct fewmul_model_create).
 * @flags: In: FEWMUL_MODEL_* flags.
 * @arena: In: handle of a buffer registered with %FEWMUL_BUF_WRITE whose
 *	length is exactly the parameter size of this architecture (-EINVAL
 *	otherwise; -EACCES without %FEWMUL_BUF_WRITE; -ENOENT for an
 *	unknown handle). Documentation/userspace-api/fewmul.rst gives the
 *	layout: per layer the shadow weights, then the BN offsets (beta),
 *	the test-time means and the test-time BN shifts, all native-endian
 *	__s32.
 * @nr_layers: In: number of weight layers, 1..%FEWMUL_MAX_LAYERS.
 * @width: In: units of activation 0..@nr_layers (input first, classes
 *	last); each 1..max_width of &struct fewmul_info, the last 2..256,
 *	entries after @nr_layers zero.
 * @weights: In: FEWMUL_MODEL_WEIGHTS_*.
 * @bn: In: FEWMUL_MODEL_BN_*.
 * @exp_min: In: lowest exponent of the quantized backprop, -16..8.
 * @exp_max: In: highest exponent, @exp_min..8.
 * @lr_shift_start: In: learning rate 2^-@lr_shift_start at epoch 0, 0..24.
 * @lr_shift_end: In: learning rate at the last epoch, @lr_shift_start..24.
 * @epochs: In: epochs the learning-rate schedule spans, 1..100000.
 * @batch: In: minibatch size, 1..max_batch of &struct fewmul_info.
 * @pad: In: must be zero.
 * @seed: In: seed of every random draw.
 * @step: In: minibatches already trained (0 for a new model; the saved
 *	step count to resume a model).
 * @scratch_bytes: Out: kernel memory the model uses (charged to the
 *	caller's memory cgroup); above max_scratch_bytes gives -E2BIG.
 *
 * Replaces the context's previous model, if any; on any error the
 * previous model stays. The kernel trains a private copy of the
 * parameters: without %FEWMUL_MODEL_INIT it reads the arena in and
 * checks every value is in the range the engine keeps it in (shadow
 * weights within +-2^24, BN offsets within +-(2^18 - 1), BN shifts within
 * +-32; -EINVAL otherwise). MODEL_CREATE, and every TRAIN or calibrating
 * EVAL that changed the model, write the parameters back to the arena
 * before returning: after such a call a plain read of the arena is a
 * current model, and what the caller writes there meanwhile is ignored
 * until the next MODEL_CREATE.
 */
struct fewmul_model_create {
	__u32 size;
	__u32 flags;
	__u32 arena;
	__u32 nr_layers;
	__u32 width[FEWMUL_MAX_LAYERS + 1];
	__u32 weights;
	__u32 bn;
	__s32 exp_min;
	__s32 exp_max;
	__u32 lr_shift_start;
	__u32 lr_shift_end;
	__u32 epochs;
	__u32 batch;
	__u32 pad;
	__u64 seed;
	__u64 step;
	__u64 scratch_bytes;
};

/* FEWMUL_IOC_EVAL: re-estimate the test-time BN statistics instead. */
#define FEWMUL_RUN_CALIBRATE		_BITUL(0)
/*
 * One of &fewmul_run.dp_size processes that train one model (data
 * parallel): see &struct fewmul_run. Since %FEWMUL_FEATURE_EXCHANGE.
 */
#define FEWMUL_RUN_DATA_PARALLEL	_BITUL(1)
/*
 * With %FEWMUL_RUN_DATA_PARALLEL: the caller adds up __s32 values too
 * (&fewmul_exchange.width 4). A layer's weight gradient then travels as
 * __s32 whenever the sum over the processes of their largest |value|
 * (exchanged first, one __s64) fits, which bounds every partial sum any
 * order of adding can form: half the bytes, the same result.
 */
#define FEWMUL_RUN_DP_INT32		_BITUL(2)
#define FEWMUL_RUN_FLAGS_ALL		(FEWMUL_RUN_CALIBRATE | FEWMUL_RUN_DATA_PARALLEL | \
					 FEWMUL_RUN_DP_INT32)

/**
 * struct fewmul_run - train or evaluate (FEWMUL_IOC_TRAIN, FEWMUL_IOC_EVAL)
 * @size: In: sizeof(struct fewmul_run).
 * @flags: In: FEWMUL_RUN_* (only FEWMUL_IOC_EVAL accepts
 *	%FEWMUL_RUN_CALIBRATE).
 * @images: In: handle of the images buffer, at least @nr_samples *
 *	width[0] bytes (one u8 per pixel, sample-major).
 * @labels: In: handle of the labels buffer, at least @nr_samples bytes;
 *	the label of every listed sample must be below the number of
 *	classes (-EINVAL otherwise; labels of samples not listed in
 *	@indices are not read).
 * @nr_samples: In: samples in the dataset the buffers hold.
 * @nr_indices: In: entries of @indices, 1..2^24.
 * @indices: In: user pointer to @nr_indices __u32 dataset indices, each
 *	below @nr_samples (-EINVAL otherwise). They form consecutive
 *	minibatches of the model's batch size; the last may be shorter.
 * @confusion: In: user pointer to a __u64 [classes][classes] matrix
 *	(true label major) that FEWMUL_IOC_EVAL adds to, or 0.
 * @epoch: In: FEWMUL_IOC_TRAIN: epoch, selects the learning rate.
 * @notify_every: In: FEWMUL_IOC_TRAIN: send a progress event on the
 *	"events" genetlink group every this many minibatches (0: never).
 * @done: Out: minibatches completed. A signal stops the call between
 *	minibatches: it returns 0 with @done short of the total if at least
 *	one minibatch ran, -EINTR otherwise; the model is consistent and a
 *	call with the remaining indices continues where it stopped.
 * @errors: Out: misclassified samples in the completed minibatches.
 * @loss: Out: summed squared-hinge loss, Q24 fixed point.
 * @adds: Out: additions and subtractions executed.
 * @shifts: Out: shifts executed.
 * @muls: Out: multiplications executed.
 * @layer_ops: In: user pointer to nr_layers + 1 &struct fewmul_op_counts,
 *	or 0. When the call returns 0 they hold the operations it executed
 *	per layer: entry l counts weight layer l (sampling, forward, batch
 *	norm, backward, update; the loss with the last layer), entry 0 the
 *	input conversion. Since %FEWMUL_FEATURE_RUN_OUTPUTS.
 * @predictions: In: FEWMUL_IOC_EVAL without %FEWMUL_RUN_CALIBRATE: user
 *	pointer to @nr_indices __u8 that receive the predicted class of
 *	each listed sample, or 0; entries of minibatches that did not run
 *	are left alone. Must be 0 for FEWMUL_IOC_TRAIN and calibration
 *	(-EINVAL). Since %FEWMUL_FEATURE_RUN_OUTPUTS.
 * @epoch_done: In: FEWMUL_IOC_TRAIN: minibatches of epoch @epoch that
 *	earlier calls trained, when a caller cuts an epoch into several
 *	calls. Only the progress the module reports uses it (the training
 *	does not). Since %FEWMUL_FEATURE_RUN_EPOCH.
 * @epoch_total: In: FEWMUL_IOC_TRAIN: minibatches of the whole epoch, or
 *	0 when the caller does not say (then @epoch_done must be 0 too).
 *	When not 0, @epoch_done plus this call's minibatches must not
 *	exceed it. Both must be 0 for FEWMUL_IOC_EVAL. -EINVAL otherwise.
 *	Since %FEWMUL_FEATURE_RUN_EPOCH.
 * @dp_rank: In: with %FEWMUL_RUN_DATA_PARALLEL, this process,
 *	0..@dp_size - 1; 0 otherwise.
 * @dp_size: In: with %FEWMUL_RUN_DATA_PARALLEL, the processes (at
 *	least 1); 0 otherwise.
 * @dp_buffer: In: with %FEWMUL_RUN_DATA_PARALLEL, handle of a buffer
 *	registered with %FEWMUL_BUF_WRITE of at least 8 * max(3 * widest
 *	layer, largest width[l - 1] * width[l]) bytes, where the sums of
 *	every exchange travel; 0 otherwise.
 * @pad: In: must be zero.
 * @divs: Out: divisions of data values executed: batch norm's means and
 *	variances (forward, backward and the calibration's averages) and
 *	the fixed layer scales without batch norm. Since
 *	%FEWMUL_FEATURE_DIVS.
 * @saturated: Out: backpropagated deltas found at their bound
 *	+-(2^10 - 2^-16), where they are clipped, counted where batch norm's
 *	backward pass (or the no-BN scale's) reads and writes them.
 *	Since %FEWMUL_FEATURE_DIVS.
 *
 * Data parallel (%FEWMUL_RUN_DATA_PARALLEL, on a model created with
 * %FEWMUL_MODEL_DATA_PARALLEL; since %FEWMUL_FEATURE_EXCHANGE): every
 * process passes the same @indices (the global minibatches). Of a
 * minibatch of n samples this process runs samples [n * @dp_rank /
 * @dp_size, n * (@dp_rank + 1) / @dp_size). Wherever the step needs a
 * sum over the minibatch (batch-norm statistics forward and backward,
 * the weight gradient), the calling thread writes this process's partial
 * sums to @dp_buffer and waits until a thread of the process has added
 * up every process's sums there (FEWMUL_IOC_EXCHANGE); the step then
 * checks them against what the minibatch can sum to and goes on with
 * them. The weights are then bit for bit those of one process training
 * the whole minibatches. @errors, @loss, the operation counts,
 * @layer_ops and @confusion are this process's share (the caller adds
 * them up); @predictions must be 0. The call runs all its minibatches:
 * signals do not stop it between minibatches (the processes must run
 * the same steps), only a fatal one does. An exchange that fails (out of
 * range: -ERANGE; the error FEWMUL_IOC_EXCHANGE handed in; -ESHUTDOWN
 * after %FEWMUL_XCHG_STOP) or a fatal signal during a training or
 * calibrating step loses the model, as a fatal signal does without
 * data parallelism: the call fails, later calls give -ENODEV, and the
 * arena keeps the parameters of the last complete call.
 *
 * Needs a model (-ENODEV otherwise). A context runs one call at a time:
 * while a BUF_REGISTER, BUF_UNREGISTER, MODEL_CREATE, TRAIN or EVAL call
 * runs, another one of these on the same file gives -EBUSY before its
 * argument is read (INFO, STATS and HIST never wait). If the caller
 * rewrites @indices or the labels during the call, a later minibatch may
 * fail with -EINVAL after earlier ones were applied.
 */
struct fewmul_run {
	__u32 size;
	__u32 flags;
	__u32 images;
	__u32 labels;
	__u32 nr_samples;
	__u32 nr_indices;
	__u64 indices;
	__u64 confusion;
	__u32 epoch;
	__u32 notify_every;
	__u64 done;
	__u64 errors;
	__s64 loss;
	__u64 adds;
	__u64 shifts;
	__u64 muls;
	__u64 layer_ops;
	__u64 predictions;
	__u64 epoch_done;
	__u64 epoch_total;
	__u32 dp_rank;
	__u32 dp_size;
	__u32 dp_buffer;
	__u32 pad;
	__u64 divs;
	__u64 saturated;
};

/**
 * struct fewmul_op_counts - operations one layer executed
 * @adds: additions and subtractions
 * @shifts: shifts
 * @muls: multiplications
 */
struct fewmul_op_counts {
	__u64 adds;
	__u64 shifts;
	__u64 muls;
};

/**
 * struct fewmul_stats - the context's totals (FEWMUL_IOC_STATS)
 * @size: In: sizeof(struct fewmul_stats).
 * @flags: In: must be zero.
 * @step: Out: minibatches the model has trained (including a resumed
 *	model's @step).
 * @samples: Out: samples trained by this context.
 * @errors: Out: training errors counted by this context.
 * @loss: Out: summed training loss, Q24.
 * @adds: Out: additions and subtractions executed (train and eval).
 * @shifts: Out: shifts executed.
 * @muls: Out: multiplications executed.
 * @divs: Out: divisions executed, as &fewmul_run.divs. Since
 *	%FEWMUL_FEATURE_DIVS.
 * @saturated: Out: saturated deltas, as &fewmul_run.saturated. Since
 *	%FEWMUL_FEATURE_DIVS.
 *
 * Needs a model (-ENODEV otherwise); totals restart with each model.
 */
struct fewmul_stats {
	__u32 size;
	__u32 flags;
	__u64 step;
	__u64 samples;
	__u64 errors;
	__s64 loss;
	__u64 adds;
	__u64 shifts;
	__u64 muls;
	__u64 divs;
	__u64 saturated;
};

#define FEWMUL_HIST_NR_BINS		32
#define FEWMUL_HIST_MIN_EXP		(-16)

/**
 * struct fewmul_hist - per-layer counters and histogram (FEWMUL_IOC_HIST)
 * @size: In: sizeof(struct fewmul_hist).
 * @flags: In: must be zero.
 * @layer: In: 0 (the input conversion) .. nr_layers of the model
 *	(-EINVAL otherwise); the loss is counted with the last layer.
 * @pad: In: must be zero.
 * @adds: Out: additions and subtractions executed for this layer.
 * @shifts: Out: shifts executed for this layer.
 * @muls: Out: multiplications executed for this layer.
 * @bins: Out: for hidden layers 1..nr_layers-1, how many hidden values
 *	x had floor(log2|x|) = %FEWMUL_HIST_MIN_EXP + i (bin 0 also counts
 *	smaller values, the last bin larger ones); zero otherwise.
 * @divs: Out: divisions executed for this layer. Since
 *	%FEWMUL_FEATURE_DIVS.
 * @saturated: Out: saturated deltas of this layer's units. Since
 *	%FEWMUL_FEATURE_DIVS.
 */
struct fewmul_hist {
	__u32 size;
	__u32 flags;
	__u32 layer;
	__u32 pad;
	__u64 adds;
	__u64 shifts;
	__u64 muls;
	__u64 bins[FEWMUL_HIST_NR_BINS];
	__u64 divs;
	__u64 saturated;
};

/**
 * struct fewmul_help - lend the calling thread to a context (FEWMUL_IOC_HELP)
 * @size: In: sizeof(struct fewmul_help).
 * @flags: In: 0 to help, or %FEWMUL_HELP_STOP.
 * @shares: Out: phase shares this thread ran during the call (0 with
 *	%FEWMUL_HELP_STOP).
 *
 * The TRAIN and EVAL calls of a context split every phase of a minibatch
 * into shares and run them in the calling thread and in the threads that
 * are inside FEWMUL_IOC_HELP on the same context at the start of the
 * minibatch (at most &fewmul_info.nr_workers threads in all), never in
 * kernel threads: the work is accounted to those threads, their
 * processes and cgroups, and follows their affinity, nice value and
 * cpu.max. The result does not depend on who runs which share.
 *
 * With @flags 0 the call blocks and runs shares of the context's calls
 * as they come (a thread of any process holding the file may help). It
 * returns 0 once any thread called %FEWMUL_HELP_STOP on the context, and
 * fails with -EINTR when a signal arrives while it waits for work (it is
 * restarted after a handler with SA_RESTART, and after a stop signal);
 * a share it has started always finishes first.
 *
 * With %FEWMUL_HELP_STOP the call returns at once, after making every
 * helper of the context return 0. The stop is final: later FEWMUL_IOC_HELP
 * calls on the context return 0 at once, and TRAIN/EVAL run in the
 * calling thread only. A process stops its helpers so before it joins
 * them and closes the file.
 */
struct fewmul_help {
	__u32 size;
	__u32 flags;
	__u64 shares;
};

/* No more helping on this context (final). */
#define FEWMUL_HELP_STOP		_BITUL(0)
#define FEWMUL_HELP_FLAGS_ALL		FEWMUL_HELP_STOP

/* &fewmul_exchange.op */
#define FEWMUL_XCHG_WAIT		0	/* wait for an exchange */
#define FEWMUL_XCHG_DONE		1	/* its sums are in the buffer */
#define FEWMUL_XCHG_STOP		2	/* no more exchanges (final) */
/* &fewmul_exchange.error is 0 or -FEWMUL_XCHG_MAX_ERRNO..-1 */
#define FEWMUL_XCHG_MAX_ERRNO		511

/**
 * struct fewmul_exchange - serve the exchanges of data-parallel steps
 *	(FEWMUL_IOC_EXCHANGE)
 * @size: In: sizeof(struct fewmul_exchange).
 * @flags: In: must be zero.
 * @op: In: FEWMUL_XCHG_WAIT, FEWMUL_XCHG_DONE or FEWMUL_XCHG_STOP.
 * @error: In: FEWMUL_XCHG_DONE: 0 when the buffer holds the sums, or a
 *	negative errno (-%FEWMUL_XCHG_MAX_ERRNO..-1; the kernel's own
 *	restart codes are not accepted) when adding them up failed: the step
 *	then fails with it. Must be 0 for the other ops.
 * @seq: Out (WAIT) / In (DONE): number of the exchange on this context.
 * @count: Out (WAIT) / In (DONE): values in the buffer.
 * @width: Out (WAIT) / In (DONE): bytes per value: 8 (native-endian
 *	__s64), or 4 (__s32) for a gradient of a call with
 *	%FEWMUL_RUN_DP_INT32.
 * @buffer: Out (WAIT): handle of the buffer (&fewmul_run.dp_buffer).
 *
 * %FEWMUL_XCHG_WAIT blocks until a data-parallel step of the context
 * (&struct fewmul_run, %FEWMUL_RUN_DATA_PARALLEL) has written its partial
 * sums, @count values of @width bytes at the start of the buffer, and
 * claims that exchange (one waiter gets each). It fails with -EINTR when
 * a signal arrives first, and -ESHUTDOWN after %FEWMUL_XCHG_STOP.
 * The caller then replaces the values by their sums over all processes
 * (every process's exchange @seq carries the same values in the same
 * order) and calls %FEWMUL_XCHG_DONE with @seq, @count and @width as
 * WAIT returned them: the step goes on (-ENOENT when no exchange is
 * claimed and waiting; -EINVAL when @seq, @count or @width differ).
 * %FEWMUL_XCHG_STOP makes waiting and later WAIT calls fail with
 * -ESHUTDOWN, and so does a step waiting for its sums: a process calls
 * it before it joins the thread that serves the exchanges.
 */
struct fewmul_exchange {
	__u32 size;
	__u32 flags;
	__u32 op;
	__s32 error;
	__u64 seq;
	__u64 count;
	__u32 width;
	__u32 buffer;
};

#define FEWMUL_IOC_BUF_REGISTER	_IOWR(FEWMUL_IOC_TYPE, FEWMUL_IOC_NR_BUF_REGISTER, \
				      struct fewmul_buf_register)
#define FEWMUL_IOC_BUF_UNREGISTER _IOWR(FEWMUL_IOC_TYPE, FEWMUL_IOC_NR_BUF_UNREGISTER, \
					struct fewmul_buf_unregister)
#define FEWMUL_IOC_MODEL_CREATE	_IOWR(FEWMUL_IOC_TYPE, FEWMUL_IOC_NR_MODEL_CREATE, \
				      struct fewmul_model_create)
#define FEWMUL_IOC_TRAIN	_IOWR(FEWMUL_IOC_TYPE, FEWMUL_IOC_NR_TRAIN, struct fewmul_run)
#define FEWMUL_IOC_EVAL		_IOWR(FEWMUL_IOC_TYPE, FEWMUL_IOC_NR_EVAL, struct fewmul_run)
#define FEWMUL_IOC_STATS	_IOWR(FEWMUL_IOC_TYPE, FEWMUL_IOC_NR_STATS, struct fewmul_stats)
#define FEWMUL_IOC_HIST		_IOWR(FEWMUL_IOC_TYPE, FEWMUL_IOC_NR_HIST, struct fewmul_hist)
#define FEWMUL_IOC_HELP		_IOWR(FEWMUL_IOC_TYPE, FEWMUL_IOC_NR_HELP, struct fewmul_help)
#define FEWMUL_IOC_EXCHANGE	_IOWR(FEWMUL_IOC_TYPE, FEWMUL_IOC_NR_EXCHANGE, \
				      struct fewmul_exchange)

/*
 * Generic netlink family "fewmul". Requests carry no fixed header beyond
 * struct genlmsghdr; every attribute is validated strictly.
 * Documentation/netlink/specs/fewmul.yaml is the spec.
 */
#define FEWMUL_GENL_NAME		"fewmul"
#define FEWMUL_GENL_VERSION		1
#define FEWMUL_GENL_MCGRP_EVENTS	"events"

/**
 * enum fewmul_genl_cmd - generic netlink commands
 * @FEWMUL_CMD_UNSPEC: invalid
 * @FEWMUL_CMD_GET_INFO: do: device information, reply attributes are
 *	&enum fewmul_info_attrs. The request takes no attributes.
 * @FEWMUL_CMD_GET_STATS: do (request: %FEWMUL_A_CTX_ID) and dump: one
 *	message of &enum fewmul_ctx_attrs per context. Users without
 *	CAP_SYS_ADMIN see only contexts they opened (-ENOENT otherwise).
 * @FEWMUL_CMD_GET_HIST: do (request: %FEWMUL_A_CTX_ID, %FEWMUL_A_CTX_LAYER):
 *	the layer's counters and %FEWMUL_A_CTX_HIST, same visibility.
 * @FEWMUL_CMD_PROGRESS: notification on the "events" group while a
 *	context trains (see &fewmul_run.notify_every): &enum fewmul_ctx_attrs
 *	with the totals, %FEWMUL_A_CTX_DONE and %FEWMUL_A_CTX_TOTAL, for
 *	every user's contexts: joining the group needs CAP_SYS_ADMIN in the
 *	initial user namespace (-EPERM otherwise); owners poll GET_STATS.
 * @__FEWMUL_CMD_MAX: internal
 */
enum fewmul_genl_cmd {
	FEWMUL_CMD_UNSPEC,
	FEWMUL_CMD_GET_INFO,
	FEWMUL_CMD_GET_STATS,
	FEWMUL_CMD_GET_HIST,
	FEWMUL_CMD_PROGRESS,
	__FEWMUL_CMD_MAX,
};

#define FEWMUL_CMD_MAX (__FEWMUL_CMD_MAX - 1)

/**
 * enum fewmul_info_attrs - attributes of a %FEWMUL_CMD_GET_INFO reply
 * @FEWMUL_A_INFO_UNSPEC: invalid
 * @FEWMUL_A_INFO_PAD: padding for 64-bit attributes
 * @FEWMUL_A_INFO_ABI_VERSION: u32, as &fewmul_info.abi_version
 * @FEWMUL_A_INFO_FEATURES: u64, as &fewmul_info.features
 * @FEWMUL_A_INFO_NR_WORKERS: u32, as &fewmul_info.nr_workers
 * @FEWMUL_A_INFO_MAX_LAYERS: u32, as &fewmul_info.max_layers
 * @FEWMUL_A_INFO_MAX_WIDTH: u32, as &fewmul_info.max_width
 * @FEWMUL_A_INFO_MAX_BATCH: u32, as &fewmul_info.max_batch
 * @FEWMUL_A_INFO_MAX_SCRATCH: u64, as &fewmul_info.max_scratch_bytes
 * @FEWMUL_A_INFO_NR_CONTEXTS: u32, number of open contexts (all users)
 * @FEWMUL_A_INFO_MODULE_VERSION: string, the module's version
 * @FEWMUL_A_INFO_SIMD: string, as &fewmul_info.simd
 * @__FEWMUL_A_INFO_MAX: internal
 */
enum fewmul_info_attrs {
	FEWMUL_A_INFO_UNSPEC,
	FEWMUL_A_INFO_PAD,
	FEWMUL_A_INFO_ABI_VERSION,
	FEWMUL_A_INFO_FEATURES,
	FEWMUL_A_INFO_NR_WORKERS,
	FEWMUL_A_INFO_MAX_LAYERS,
	FEWMUL_A_INFO_MAX_WIDTH,
	FEWMUL_A_INFO_MAX_BATCH,
	FEWMUL_A_INFO_MAX_SCRATCH,
	FEWMUL_A_INFO_NR_CONTEXTS,
	FEWMUL_A_INFO_MODULE_VERSION,
	FEWMUL_A_INFO_SIMD,
	__FEWMUL_A_INFO_MAX,
};

#define FEWMUL_A_INFO_MAX (__FEWMUL_A_INFO_MAX - 1)

/**
 * enum fewmul_ctx_attrs - attributes of contexts (stats, hist, progress)
 * @FEWMUL_A_CTX_UNSPEC: invalid
 * @FEWMUL_A_CTX_PAD: padding for 64-bit attributes
 * @FEWMUL_A_CTX_ID: u64, context id (unique while the module is loaded)
 * @FEWMUL_A_CTX_OWNER_PID: u32, thread group id of the opener, as the
 *	receiver's pid namespace numbers it (0: not in that namespace)
 * @FEWMUL_A_CTX_OWNER_UID: u32, effective uid of the opener, in the user
 *	namespace of the receiving socket (the overflow uid, 65534, when
 *	not mapped there); events: the initial namespaces
 * @FEWMUL_A_CTX_HAS_MODEL: u8, 1 when the context has a model
 * @FEWMUL_A_CTX_BUSY: u8, 1 while a train or eval call runs
 * @FEWMUL_A_CTX_NR_LAYERS: u32, the model's number of weight layers
 * @FEWMUL_A_CTX_WEIGHTS: u32, the model's FEWMUL_MODEL_WEIGHTS_* mode
 * @FEWMUL_A_CTX_QBP: u8, quantized backprop on
 * @FEWMUL_A_CTX_STEP: u64, as &fewmul_stats.step
 * @FEWMUL_A_CTX_SAMPLES: u64, as &fewmul_stats.samples
 * @FEWMUL_A_CTX_ERRORS: u64, as &fewmul_stats.errors
 * @FEWMUL_A_CTX_LOSS: s64, as &fewmul_stats.loss (Q24)
 * @FEWMUL_A_CTX_ADDS: u64, additions (all layers, or one layer in a
 *	%FEWMUL_CMD_GET_HIST reply)
 * @FEWMUL_A_CTX_SHIFTS: u64, shifts
 * @FEWMUL_A_CTX_MULS: u64, multiplications
 * @FEWMUL_A_CTX_EPOCH: u32, epoch of the last train call
 * @FEWMUL_A_CTX_DONE: u64, minibatches done in the running call
 * @FEWMUL_A_CTX_TOTAL: u64, minibatches the running call was given
 * @FEWMUL_A_CTX_LAYER: u32, layer of a %FEWMUL_CMD_GET_HIST request/reply
 * @FEWMUL_A_CTX_HIST: binary, %FEWMUL_HIST_NR_BINS native-endian __u64
 *	bins, as &fewmul_hist.bins
 * @FEWMUL_A_CTX_BATCH_LOSS: s64, summed loss of the last minibatch, Q24
 * @FEWMUL_A_CTX_BATCH_ERRORS: u32, errors of the last minibatch
 * @FEWMUL_A_CTX_BATCH_SIZE: u32, samples of the last minibatch
 * @FEWMUL_A_CTX_EPOCH_DONE: u64, minibatches of the running (or last)
 *	train call's epoch done: its &fewmul_run.epoch_done plus the call's
 *	own. Since %FEWMUL_FEATURE_RUN_EPOCH.
 * @FEWMUL_A_CTX_EPOCH_TOTAL: u64, that call's &fewmul_run.epoch_total
 *	(0: the caller did not say how long the epoch is). Since
 *	%FEWMUL_FEATURE_RUN_EPOCH.
 * @__FEWMUL_A_CTX_MAX: internal
 */
enum fewmul_ctx_attrs {
	FEWMUL_A_CTX_UNSPEC,
	FEWMUL_A_CTX_PAD,
	FEWMUL_A_CTX_ID,
	FEWMUL_A_CTX_OWNER_PID,
	FEWMUL_A_CTX_OWNER_UID,
	FEWMUL_A_CTX_HAS_MODEL,
	FEWMUL_A_CTX_BUSY,
	FEWMUL_A_CTX_NR_LAYERS,
	FEWMUL_A_CTX_WEIGHTS,
	FEWMUL_A_CTX_QBP,
	FEWMUL_A_CTX_STEP,
	FEWMUL_A_CTX_SAMPLES,
	FEWMUL_A_CTX_ERRORS,
	FEWMUL_A_CTX_LOSS,
	FEWMUL_A_CTX_ADDS,
	FEWMUL_A_CTX_SHIFTS,
	FEWMUL_A_CTX_MULS,
	FEWMUL_A_CTX_EPOCH,
	FEWMUL_A_CTX_DONE,
	FEWMUL_A_CTX_TOTAL,
	FEWMUL_A_CTX_LAYER,
	FEWMUL_A_CTX_HIST,
	FEWMUL_A_CTX_BATCH_LOSS,
	FEWMUL_A_CTX_BATCH_ERRORS,
	FEWMUL_A_CTX_BATCH_SIZE,
	FEWMUL_A_CTX_EPOCH_DONE,
	FEWMUL_A_CTX_EPOCH_TOTAL,
	__FEWMUL_A_CTX_MAX,
};

#define FEWMUL_A_CTX_MAX (__FEWMUL_A_CTX_MAX - 1)

#endif /* _UAPI_LINUX_FEWMUL_H */
