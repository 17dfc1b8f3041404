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

extern volatile sig_atomic_t fewmulctl_interrupted;
/* Ctrl-C sets fewmulctl_interrupted; a second one exits at once. */
void fewmulctl_catch_sigint(void);

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
/* --threads: 1..256, or print why not and return -1. */
int opt_threads(const char *arg, uint32_t *threads);
/* A count option NAME where 0 means all: parse, or print why not, -1. */
int opt_count(const char *name, const char *arg, uint32_t *out);
const char *weights_name(uint32_t w);

#endif
