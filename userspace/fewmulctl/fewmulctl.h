/* SPDX-License-Identifier: GPL-2.0 */
#ifndef FEWMULCTL_H
#define FEWMULCTL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "libfewmul.h"

#define PROG_NAME "fewmulctl"

/*
 * A subcommand handler returns 0 on success, CMD_USAGE to have the usage
 * line printed (exit status 1), CMD_HELP to have the full help printed to
 * stdout (exit status 0), or a negative value after it has printed its
 * own error (exit status 1).
 */
#define CMD_USAGE	1
#define CMD_HELP	2

/*
 * A command: each cmd_*.c defines its own (const struct fewmulctl_cmd
 * cmd_NAME), with its help next to its code; fewmulctl.c lists them.
 * @usage: the synopsis after "fewmulctl NAME"
 * @summary: one line: what the command does
 * @options: one line per option, "  --opt ARG   what it does\n"
 * @run: the handler; argv[0] is the command name
 */
struct fewmulctl_cmd {
	const char *name;
	const char *usage;
	const char *summary;
	const char *options;
	int (*run)(int argc, char **argv);
};

extern const struct fewmulctl_cmd cmd_info, cmd_train, cmd_eval, cmd_predict,
	cmd_count, cmd_bench, cmd_stats, cmd_monitor, cmd_hist, cmd_plot, cmd_export;

/* Help lines of the options several commands share. */
#define HELP_DEVICE \
	"  --device PATH          device node of the kernel backend (default " FEWMUL_DEFAULT_DEVICE ")\n"
#define HELP_DATA \
	"  --data DIR             IDX dataset directory with the MNIST file names, plain\n" \
	"                         or .gz (default " FEWMUL_DEFAULT_DATA_DIR ")\n"
#define HELP_MODEL \
	"  --model FILE           the model file (from train --save)\n"
#define HELP_CALIB \
	"  --calib N|all|0        re-estimate batch-norm statistics on the first N (or all)\n" \
	"                         training samples (default and 0: the model's stored ones)\n"
#define HELP_ARCH \
	"  --arch A-B-...-K       layer widths (default 784-1024-1024-1024-10)\n"
#define HELP_CTX \
	"  --ctx ID               show only context ID\n"
#define HELP_JSON \
	"  --json                 machine-readable output (JSON)\n" \
	"  -h, --help             this help\n"

/* The signal number of the first SIGINT or SIGTERM, 0 before. */
extern volatile sig_atomic_t fewmulctl_interrupted;
/*
 * From now on SIGINT and SIGTERM set fewmulctl_interrupted and print ack
 * ("fewmulctl: ACK", none for NULL) at once; the command finishes what it must and
 * returns, and main() exits with 128 + the signal number. A second
 * SIGINT exits at once (130), without saving.
 */
void fewmulctl_catch_signals(const char *ack);

struct fewmul_outfile;
/*
 * Output files (output.c). The path of a file the command will replace
 * (--save, -o): check now that it can be, naming opt in the message; 0
 * or -1 after printing why not.
 */
int check_outfile(const char *opt, const char *path);
/* Begin replacing path (an outfile and a FILE on it): 0, or -1 after printing. */
int open_outfile(const char *opt, const char *path, struct fewmul_outfile **of,
		 FILE **f);
/* Rename the complete file over its target (fclose the FILE first). */
int close_outfile(struct fewmul_outfile *of);
/* A file the command appends to (--log): a regular file, writable. */
int check_appendable(const char *opt, const char *path);
/* fflush(f), remembering why stdout failed for check_stdout(). */
int flush_out(FILE *f);
/* Flush stdout now: 0, or -1 after "fewmulctl: standard output: ERR". */
int check_stdout(void);
/* At exit: flush and close stdout; -1 (after saying why) on any write error. */
int close_stdout(void);

struct option;
/*
 * getopt_long() (optstring starting with ':') returned c = '?' or ':':
 * print "fewmulctl: CMD: unrecognized option '--x'" (or "option '--x'
 * requires an argument", ...) and return CMD_USAGE; for --help or -h
 * return CMD_HELP. argv[0] is the command name.
 */
int opt_fail(int c, char **argv, const struct option *opts);
/* "fewmulctl: CMD: unexpected argument 'ARG'"; returns CMD_USAGE. */
int opt_extra(char **argv, const char *arg);

/*
 * Data-parallel training: fewmulctl-mpi (par_mpi.c) runs as the ranks of
 * an MPI job that train one model; the plain fewmulctl (par_none.c) is one
 * rank and these calls are trivial. Every rank runs the same command.
 *   par_init    before anything else (MPI_Init); rank > 0 prints nothing
 *   par_exit    at the end: a failed rank ends the whole job
 *   par_attach  the trainer joins the job; the ranks' runs (key: options
 *               and data sizes; the model's checksum) must agree
 *   par_any     1 when v is set on any rank (a stop requested anywhere)
 *   par_max_u32 the largest v of all ranks
 *   par_check_checksum  every rank holds rank 0's weights, or an error
 * Only rank 0 writes files.
 */
struct fewmul_trainer;
int par_init(int *argc, char ***argv);
int par_exit(int ret);
unsigned int par_rank(void);
unsigned int par_size(void);
int par_attach(struct fewmul_trainer *t, const void *key, size_t n);
int par_any(int v);
uint32_t par_max_u32(uint32_t v);
int par_check_checksum(uint64_t sum, uint32_t epoch);

void fewmulctl_err(const char *what, int err);
void fewmulctl_errx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Minimal JSON writer: one object tree to a FILE, no allocation. */
struct json {
	FILE *f;
	int depth;
	bool need_comma;
};

void json_begin(struct json *j, FILE *f);
void json_end(struct json *j);
void json_obj_open(struct json *j, const char *key);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_str(struct json *j, const char *key, const char *val);
void json_u64(struct json *j, const char *key, unsigned long long val);
void json_bool(struct json *j, const char *key, bool val);
void json_double(struct json *j, const char *key, double val);

/*
 * --backend and --device of train, eval, bench and hist. name NULL means
 * the default (fewmul_default_backend(), or "cpu" where a command says
 * so); device NULL means FEWMUL_DEFAULT_DEVICE.
 */
struct backend_opt {
	const char *name;
	const char *device;
	char spec[4200];	/* what libfewmul gets: "cpu", "kernel:PATH" */
};

/*
 * Options several commands share, parsed in one place (options.c): a
 * command lists the ones it takes in its struct option table (OPT_*) and
 * says in struct common_opts where each goes.
 */
enum {
	O_COMMON_THREADS = 0x1000, O_COMMON_BACKEND, O_COMMON_DEVICE,
	O_COMMON_JSON, O_COMMON_DATA, O_COMMON_MODEL, O_COMMON_CALIB,
	O_COMMON_ARCH, O_COMMON_BATCH, O_COMMON_CTX, O_COMMON_SIZE,
	O_COMMON_TITLE,
};
/* The bit of a shared option in common_opts.given. */
#define COMMON_BIT(code)	(1u << ((code) - O_COMMON_THREADS))
#define OPT_THREADS { "threads", required_argument, NULL, O_COMMON_THREADS }
#define OPT_BACKEND { "backend", required_argument, NULL, O_COMMON_BACKEND }, \
		    { "device", required_argument, NULL, O_COMMON_DEVICE }
#define OPT_DEVICE  { "device", required_argument, NULL, O_COMMON_DEVICE }
#define OPT_JSON    { "json", no_argument, NULL, O_COMMON_JSON }
#define OPT_DATA    { "data", required_argument, NULL, O_COMMON_DATA }
#define OPT_MODEL   { "model", required_argument, NULL, O_COMMON_MODEL }
#define OPT_CALIB   { "calib", required_argument, NULL, O_COMMON_CALIB }
#define OPT_ARCH    { "arch", required_argument, NULL, O_COMMON_ARCH }
#define OPT_BATCH   { "batch", required_argument, NULL, O_COMMON_BATCH }
#define OPT_CTX     { "ctx", required_argument, NULL, O_COMMON_CTX }
#define OPT_SIZE    { "size", required_argument, NULL, O_COMMON_SIZE }
#define OPT_TITLE   { "title", required_argument, NULL, O_COMMON_TITLE }
#define OPT_END     { NULL, 0, NULL, 0 }

struct fewmul_train_config;
/*
 * Where the shared options go (a command sets the ones it lists).
 * @arch: --arch fills its widths; @arch_str: the argument as given
 * @batch: --batch, 1..@batch_max
 * @ctx: --ctx, a context id
 * @width, @height: --size WxH of an image; @title: --title
 * @given: COMMON_BIT() of every shared option seen
 */
struct common_opts {
	uint32_t *threads;
	struct backend_opt *be;
	int *json;
	const char **data, **model;
	int64_t *calib;
	struct fewmul_train_config *arch;
	const char **arch_str;
	uint32_t *batch, batch_max;
	uint64_t *ctx;
	int *width, *height;
	const char **title;
	unsigned int given;
};

/*
 * A command line to parse.
 * @opts: the options, shared (OPT_*) and the command's own
 * @shortopts: short options after the ':' (NULL: none)
 * @own: the command's own options: 0, -1 after printing why not
 * @args: NULL: no arguments after the options; else where they begin
 */
struct cmdline {
	const struct option *opts;
	const char *shortopts;
	int (*own)(int c, const char *arg, void *ctx);
	void *ctx;
	int *args;
	struct common_opts co;
};

/*
 * getopt_long() over argv (argv[0]: the command name): shared options
 * into cl->co, the command's through cl->own. 0; CMD_USAGE after naming
 * a usage error; CMD_HELP for -h or --help; -1 after printing why an
 * argument is wrong.
 */
int parse_cmdline(int argc, char **argv, struct cmdline *cl);

/* --backend NAME: kernel or cpu, or print why not and return -1. */
int opt_backend(const char *arg, struct backend_opt *b);
/*
 * Settle the backend (default: dflt, or fewmul_default_backend() when
 * dflt is NULL) and, for kernel, check that the device is there and can
 * train; print why not and return -1.
 */
int backend_resolve(struct backend_opt *b, const char *dflt);
/* "kernel (/dev/fewmul)" or "cpu". */
const char *backend_label(const struct backend_opt *b, char *buf, size_t len);
/*
 * Explain a failure to create a trainer on b (after backend_resolve):
 * "fewmulctl: WHAT: --backend kernel: DEVICE: reason" (WHAT may be NULL).
 */
void backend_err(const struct backend_opt *b, const char *what, int err);
/* The module is missing or unreachable: say so and how to fix it. */
void explain_module_err(const char *what, int err);
/* A decimal number, nothing else: 0 or -EINVAL. */
int parse_u64(const char *s, uint64_t *out);

int parse_lr_shift(const char *s, uint32_t *shift);
int float_ref_train(const unsigned int *width, unsigned int L, unsigned int B,
		    unsigned int steps, unsigned int threads);
int parse_weights(const char *s, uint32_t *w);
/* --bn: none, shift or shift2 (FEWMUL_MODEL_BN_*): 0 or -EINVAL. */
int parse_bn(const char *s, uint32_t *bn);
const char *bn_name(uint32_t bn);
/* A decimal number in [lo, hi], nothing else: 0 or -EINVAL. */
int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out);
/* --arch: parse into cfg, or print why not and return -1. */
int opt_arch(const char *arg, struct fewmul_train_config *cfg);
/*
 * The file readers of predict (PGM or IDX image of rows x cols) and plot
 * (a train --log CSV): read, check, free; 0, or -1 after printing why.
 * Separate entry points for the fuzzer (tests/fuzz/fuzz_files.c).
 */
int predict_read_image(const char *path, int have_index, uint32_t index,
		       uint32_t rows, uint32_t cols);
int plot_read_log(const char *path);
/* Parse a plot --xy table and free it: 0 or -1 (printed); for the fuzzer. */
int plot_read_xy(const char *path);
/*
 * Batch-norm statistics of eval and predict. --calib: a count, "all"
 * (CALIB_ALL) or 0; no --calib is -1.
 */
#define CALIB_ALL	((int64_t)UINT32_MAX)
/* A macro's value as a string literal (limits in help texts). */
#define STR_(x)	#x
#define XSTR(x)	STR_(x)

#define CALIB_DEFAULT	((unsigned int)FEWMUL_DEFAULT_CALIB)
int opt_test_weights(const char *arg, int *tw);
const char *test_weights_name(int tw);
/* "real-valued", "sampled" or "deterministic", for the human output. */
const char *test_weights_desc(int tw);
int opt_calib(const char *arg, int64_t *calib);
/*
 * A saved model run for inference (eval, predict): the options the two
 * share and what they make of them.
 * @calib: --calib: a count, CALIB_ALL or 0; -1 when not given
 * @train: the training split, loaded only to re-estimate the statistics
 * @used: the samples behind the batch-norm statistics
 * @how: "stored", "re-estimated" or "none" (no batch norm)
 */
struct model_run {
	const char *model, *data;
	int64_t calib;
	uint32_t threads;
	struct backend_opt be;
	int json;
	struct fewmul_trainer *t;
	struct fewmul_model_info info;
	struct fewmul_model_extra ex;
	struct fewmul_dataset train;
	uint32_t used;
	const char *how;
};

/* Defaults, and --model, --data, --calib, --threads, --backend, --json into cl. */
void model_run_init(struct model_run *mr, struct cmdline *cl);
/* "fewmulctl: CMD: --model FILE is required": CMD_USAGE, or 0. */
int model_run_check(const struct model_run *mr, const char *cmd);
/* Settle the backend and load the model: 0, or -1 after printing why. */
int model_run_load(struct model_run *mr);
/*
 * Settle the batch-norm statistics of the loaded model: without --calib
 * the stored ones (a model saved at the end of an epoch has them), or,
 * when it has none for its weights, re-estimated on CALIB_DEFAULT
 * training samples after a note; --calib 0: the stored ones or an error;
 * N: re-estimated on the first N training samples of --data. 0, or -1
 * after printing why.
 */
int model_run_settle(struct model_run *mr);
/* The same for a trainer loaded by other means (export). */
int bn_stats_settle(struct fewmul_trainer *t, const char *model,
		    const struct fewmul_model_info *info,
		    const struct fewmul_model_extra *ex, int64_t calib,
		    const char *data, struct fewmul_dataset *train,
		    uint32_t *used, const char **how);
/* Free the trainer, then the training data it may have registered. */
void model_run_free(struct model_run *mr);
/* --threads: 1..256, or print why not and return -1. */
int opt_threads(const char *arg, uint32_t *threads);
/* A count option NAME where 0 means all: parse, or print why not, -1. */
int opt_count(const char *name, const char *arg, uint32_t *out);

#endif
