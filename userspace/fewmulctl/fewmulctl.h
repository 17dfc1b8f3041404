/* SPDX-License-Identifier: GPL-2.0 */
#ifndef FEWMULCTL_H
#define FEWMULCTL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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
 * @args: the synopsis after "fewmulctl NAME"
 * @help: one line: what the command does
 * @options: one line per option, "  --opt ARG   what it does\n"
 */
struct fewmulctl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;
	const char *help;
	const char *options;
};

extern const struct fewmulctl_cmd fewmulctl_cmds[];

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

int cmd_info(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_count(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_hist(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_export(int argc, char **argv);

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
 * Options several commands share, parsed in one place: a command lists
 * the ones it takes in its struct option table and passes every code its
 * own switch does not know to common_option().
 */
enum {
	O_COMMON_THREADS = 0x1000, O_COMMON_BACKEND, O_COMMON_DEVICE,
	O_COMMON_JSON,
};
#define OPT_THREADS { "threads", required_argument, NULL, O_COMMON_THREADS }
#define OPT_BACKEND { "backend", required_argument, NULL, O_COMMON_BACKEND }, \
		    { "device", required_argument, NULL, O_COMMON_DEVICE }
#define OPT_JSON    { "json", no_argument, NULL, O_COMMON_JSON }

/* Where common_option() stores what it parsed (NULL: not taken). */
struct common_opts {
	uint32_t *threads;
	struct backend_opt *be;
	int *json;
};

/* 1: c was a shared option and is stored; 0: it is not one; -1: error printed. */
int common_option(int c, const struct common_opts *co);

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
/* A decimal number in [lo, hi], nothing else: 0 or -EINVAL. */
int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out);
struct fewmul_train_config;
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
/*
 * Batch-norm statistics of eval and predict. --calib: a count, "all"
 * (CALIB_ALL) or 0; no --calib is -1.
 */
#define CALIB_ALL	((int64_t)UINT32_MAX)
/* A macro's value as a string literal (limits in help texts). */
#define STR_(x)	#x
#define XSTR(x)	STR_(x)

#define CALIB_DEFAULT	((unsigned int)FEWMUL_DEFAULT_CALIB)
int opt_calib(const char *arg, int64_t *calib);
struct fewmul_model_info;
struct fewmul_model_extra;
struct fewmul_dataset;
struct fewmul_trainer;
/*
 * Settle the statistics of a loaded model: without --calib (calib < 0)
 * the stored ones (a model saved at the end of an epoch has them), or,
 * when it has none for its weights, re-estimated on CALIB_DEFAULT
 * training samples after a note; calib 0: the stored ones or an error;
 * N: re-estimated on the first N training samples of data. train is
 * loaded only then and must outlive t. *used: the samples behind the
 * statistics; *how: "stored", "re-estimated" or "none" (no batch norm).
 * 0, or -1 after printing why.
 */
int bn_stats_settle(struct fewmul_trainer *t, const char *model,
		    const struct fewmul_model_info *info,
		    const struct fewmul_model_extra *ex, int64_t calib,
		    const char *data, struct fewmul_dataset *train,
		    uint32_t *used, const char **how);
/* --threads: 1..256, or print why not and return -1. */
int opt_threads(const char *arg, uint32_t *threads);
/* A count option NAME where 0 means all: parse, or print why not, -1. */
int opt_count(const char *name, const char *arg, uint32_t *out);

#endif
