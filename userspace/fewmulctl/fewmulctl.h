/* SPDX-License-Identifier: GPL-2.0 */
#ifndef FEWMULCTL_H
#define FEWMULCTL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PROG_NAME "fewmulctl"

/*
 * A subcommand handler returns 0 on success, 1 to have usage printed, or
 * a negative value after it has printed its own error (exit status 1).
 */
struct fewmulctl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;
	const char *help;
};

extern const struct fewmulctl_cmd fewmulctl_cmds[];

extern volatile sig_atomic_t fewmulctl_interrupted;
/* Ctrl-C sets fewmulctl_interrupted; a second one exits at once. */
void fewmulctl_catch_sigint(void);

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

int parse_lr_shift(const char *s, uint32_t *shift);
int float_ref_train(const unsigned int *width, unsigned int L, unsigned int B,
		    unsigned int steps, unsigned int threads);
int parse_weights(const char *s, uint32_t *w);
/* A decimal number in [lo, hi], nothing else: 0 or -EINVAL. */
int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out);
struct fewmul_train_config;
/* --arch: parse into cfg, or print why not and return -1. */
int opt_arch(const char *arg, struct fewmul_train_config *cfg);
const char *weights_name(uint32_t w);

#endif
