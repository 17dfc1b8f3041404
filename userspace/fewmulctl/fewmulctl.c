// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl: command-line front end of fewmul.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/fewmul.h>

#include "libfewmul.h"
#include "fewmulctl.h"

/* Every command, in the order of 'fewmulctl --help'; each cmd_*.c owns its entry. */
static const struct fewmulctl_cmd *const fewmulctl_cmds[] = {
	&cmd_info, &cmd_train, &cmd_eval, &cmd_predict, &cmd_export, &cmd_count,
	&cmd_bench, &cmd_stats, &cmd_monitor, &cmd_hist, &cmd_plot, NULL,
};

volatile sig_atomic_t fewmulctl_interrupted;
static char sig_ack[512];
static size_t sig_ack_len;

static void sig_write(const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(2, s, len);

		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* Only async-signal-safe calls here: write(2) and _exit(2). */
static void on_signal(int sig)
{
	static const char abort_msg[] = "\n" PROG_NAME ": interrupted again: stopping now, without saving\n";
	int saved = errno;

	if (fewmulctl_interrupted) {
		if (sig == SIGINT) {
			sig_write(abort_msg, sizeof(abort_msg) - 1);
			_exit(128 + sig);
		}
		errno = saved;
		return;	/* a repeated SIGTERM: already stopping */
	}
	fewmulctl_interrupted = sig;
	sig_write(sig_ack, sig_ack_len);
	errno = saved;
}

void fewmulctl_catch_signals(const char *ack)
{
	struct sigaction sa;

	if (ack)
		snprintf(sig_ack, sizeof(sig_ack), "\n%s: %s\n", PROG_NAME, ack);
	sig_ack_len = ack ? strlen(sig_ack) : 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
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

static void usage(FILE *f)
{
	const struct fewmulctl_cmd *const *c;

	fprintf(f, "Usage: %s <command> [options]\n"
		   "       %s <command> --help, %s help <command>\n"
		   "       %s --version, -V\n\nCommands:\n",
		PROG_NAME, PROG_NAME, PROG_NAME, PROG_NAME);
	for (c = fewmulctl_cmds; *c; c++)
		fprintf(f, "  %-8s %s\n", (*c)->name, (*c)->summary);
}

static void cmd_help(const struct fewmulctl_cmd *c)
{
	printf("Usage: %s %s %s\n\n%c%s.\n\nOptions:\n%s", PROG_NAME, c->name,
	       c->usage, toupper((unsigned char)c->summary[0]), c->summary + 1,
	       c->options);
}

/* Edit distance of two short words (did-you-mean), capped at 9. */
static unsigned int edit_distance(const char *a, const char *b)
{
	unsigned int d[16][16], i, j, la = (unsigned int)strlen(a),
		     lb = (unsigned int)strlen(b);

	if (la > 15 || lb > 15)
		return 9;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			unsigned int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			unsigned int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;

			d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			/* a swap of two neighbours counts once */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	}
	return d[la][lb];
}

static const struct fewmulctl_cmd *find_cmd(const char *name)
{
	const struct fewmulctl_cmd *const *c;

	for (c = fewmulctl_cmds; *c; c++)
		if (!strcmp(name, (*c)->name))
			return *c;
	return NULL;
}

static void unknown_cmd(const char *name)
{
	const struct fewmulctl_cmd *const *c, *best = NULL;
	unsigned int d, bestd = 3;

	for (c = fewmulctl_cmds; *c; c++) {
		d = edit_distance(name, (*c)->name);
		if (!strncmp(name, (*c)->name, strlen(name)) && strlen(name) >= 2)
			d = 1;	/* a prefix */
		if (d < bestd) {
			bestd = d;
			best = *c;
		}
	}
	if (best)
		fewmulctl_errx("unknown command '%s'; did you mean '%s'? (see '%s --help')",
			       name, best->name, PROG_NAME);
	else
		fewmulctl_errx("unknown command '%s' (see '%s --help')", name,
			       PROG_NAME);
}

static int run(int argc, char **argv)
{
	const struct fewmulctl_cmd *c;
	int ret;

	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    (!strcmp(argv[1], "help") && argc == 2)) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "help")) {	/* help CMD */
		c = find_cmd(argv[2]);
		if (!c || argc > 3) {
			if (c)
				fewmulctl_errx("help: unexpected argument '%s'", argv[3]);
			else
				unknown_cmd(argv[2]);
			return 1;
		}
		cmd_help(c);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V") ||
	    !strcmp(argv[1], "version")) {
		if (argc > 2) {
			fewmulctl_errx("%s: unexpected argument '%s'", argv[1], argv[2]);
			return 1;
		}
		printf("%s %s\n", PROG_NAME, fewmul_lib_version());
		return 0;
	}
	c = find_cmd(argv[1]);
	if (!c) {
		unknown_cmd(argv[1]);
		return 1;
	}
	if (argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
		cmd_help(c);
		return 0;
	}
	opterr = 0;	/* opt_fail() says what is wrong */
	ret = c->run(argc - 1, argv + 1);
	if (ret == CMD_HELP) {
		cmd_help(c);
		return 0;
	}
	if (ret == CMD_USAGE) {
		fprintf(stderr, "Usage: %s %s %s\nTry '%s %s --help' for the options.\n",
			PROG_NAME, c->name, c->usage, PROG_NAME, c->name);
		return 1;
	}
	if (ret < 0)
		return 1;
	/* stopped by SIGINT or SIGTERM after finishing up: say so */
	return fewmulctl_interrupted ? 128 + fewmulctl_interrupted : 0;
}

int main(int argc, char **argv)
{
	int ret;

	if (par_init(&argc, &argv))
		return 1;
	ret = run(argc, argv);
	/* output that could not be written is a failure, like any other */
	if (close_stdout() && !ret)
		ret = 1;
	return par_exit(ret);
}
