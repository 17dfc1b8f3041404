// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl: command-line front end of fewmul.
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libfewmul.h"
#include "fewmulctl.h"

const struct fewmulctl_cmd fewmulctl_cmds[] = {
	{ "info", cmd_info, "[--json] [--device PATH]",
	  "show module version, ABI, features and limits (ioctl and genetlink)" },
	{ "train", cmd_train, "[--data DIR] [--arch A-B-..-K] [--weights MODE] [--qbp|--no-qbp] [--epochs N] [--lr S[:E]] [--seed N] [--threads N] [--json] ...",
	  "train a model on an IDX dataset, report loss, errors, rate and operations per epoch" },
	{ "eval", cmd_eval, "--model FILE [--data DIR] [--calib N] [--test-limit N] [--threads N] [--json]",
	  "test error, per-class accuracy and confusion matrix of a saved model" },
	{ "count", cmd_count, "[--arch A-B-..-K] [--batch N] [--bn] [--json]",
	  "the paper's multiplication count: full precision vs binary/ternary + QB" },
	{ "bench", cmd_bench, "[--arch A-B-..-K] [--batch N] [--steps N] [--threads 1,2] [--no-torch] [--json]",
	  "training throughput: full-precision integer vs ternary+QB vs float32, same run" },
	{ NULL, NULL, NULL, NULL },
};

volatile sig_atomic_t fewmulctl_interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	if (fewmulctl_interrupted)
		_exit(130);	/* a second Ctrl-C: stop now */
	fewmulctl_interrupted = 1;
}

void fewmulctl_catch_sigint(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
}

void fewmulctl_err(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", PROG_NAME, what, strerror(err < 0 ? -err : err));
}

void fewmulctl_errx(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", PROG_NAME);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi || s[0] == '-')
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int opt_arch(const char *arg, struct fewmul_train_config *cfg)
{
	if (fewmul_parse_arch(arg, cfg)) {
		fewmulctl_errx("--arch %s: want widths like 784-1024-10 (1..4096 each, 2..17 of them)",
			       arg);
		return -1;
	}
	return 0;
}

static void usage(FILE *f)
{
	const struct fewmulctl_cmd *c;

	fprintf(f, "Usage: %s <command> [options]\n"
		   "       %s <command> --help\n"
		   "       %s --version\n\nCommands:\n",
		PROG_NAME, PROG_NAME, PROG_NAME);
	for (c = fewmulctl_cmds; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->help);
}

int main(int argc, char **argv)
{
	const struct fewmulctl_cmd *c;
	int ret;

	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("%s %s\n", PROG_NAME, fewmul_lib_version());
		return 0;
	}

	for (c = fewmulctl_cmds; c->name; c++) {
		if (strcmp(argv[1], c->name))
			continue;
		if (argc > 2 && (!strcmp(argv[2], "--help") ||
				 !strcmp(argv[2], "-h"))) {
			printf("Usage: %s %s %s\n\n%s\n", PROG_NAME, c->name,
			       c->args, c->help);
			return 0;
		}
		ret = c->fn(argc - 1, argv + 1);
		if (ret == 1) {
			fprintf(stderr, "Usage: %s %s %s\n", PROG_NAME,
				c->name, c->args);
			return 1;
		}
		return ret < 0 ? 1 : 0;
	}

	fewmulctl_errx("unknown command '%s' (see '%s --help')", argv[1],
		       PROG_NAME);
	return 1;
}
