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

#define OPT_BACKEND_DEV \
	"  --device PATH          device node of the kernel backend (default " FEWMUL_DEFAULT_DEVICE ")\n"
#define OPT_DATA \
	"  --data DIR             IDX dataset directory with the MNIST file names, plain\n" \
	"                         or .gz (default " FEWMUL_DEFAULT_DATA_DIR ")\n"
#define OPT_JSON_HELP \
	"  --json                 machine-readable output (JSON)\n" \
	"  -h, --help             this help\n"

const struct fewmulctl_cmd fewmulctl_cmds[] = {
	{ "info", cmd_info, "[--json] [--device PATH]",
	  "show module version, ABI, features and limits (ioctl and genetlink)",
	  "  --device PATH          the device node to ask (default " FEWMUL_DEFAULT_DEVICE ")\n"
	  OPT_JSON_HELP },
	{ "train", cmd_train, "[--data DIR] [--arch A-B-..-K] [--weights MODE] [--qbp|--no-qbp] [--epochs N] [--lr S[:E]] [--seed N] [--threads N] [--backend kernel|cpu] [--val N] [--json] ...",
	  "train a model on an IDX dataset, report loss, errors, rate and operations per epoch",
	  OPT_DATA
	  "  --arch A-B-...-K       layer widths, input to classes (default 784-1024-1024-1024-10)\n"
	  "  --weights MODE         full, binary, binary-stoch or ternary (default ternary)\n"
	  "  --qbp, --no-qbp        quantized backprop on (default) or off\n"
	  "  --exp-range MIN:MAX    exponent range of quantized backprop (default -4:3)\n"
	  "  --bn shift|none        shift-based batch norm (default) or none\n"
	  "  --epochs N             epochs to train, 1.." XSTR(FEWMUL_MAX_EPOCHS) " (default 10)\n"
	  "  --batch N              minibatch size, 1.." XSTR(FEWMUL_MAX_BATCH) " (default 200)\n"
	  "  --lr START[:END]       learning rates of the first and last epoch, rounded to\n"
	  "                         powers of two (default 0.125:0.0078125, 2^-3 to 2^-7)\n"
	  "  --seed N               seed of everything random (default 0)\n"
	  "  --threads N            worker threads of the cpu backend (default: online CPUs)\n"
	  "  --backend kernel|cpu   train in fewmul.ko or in this process (default: kernel\n"
	  "                         when " FEWMUL_DEFAULT_DEVICE " exists)\n"
	  OPT_BACKEND_DEV
	  "  --train-limit N        train on the first N training samples (default: all)\n"
	  "  --test-limit N         test on the first N test samples (default: all)\n"
	  "  --val N                hold out the last N training samples (never trained on)\n"
	  "                         and report their error per epoch; --train-limit then\n"
	  "                         counts from the start of the rest\n"
	  "  --log FILE.csv         append one CSV line per epoch (header on a new file)\n"
	  "  --save FILE            save the model after every epoch and on SIGINT/SIGTERM\n"
	  "  --resume FILE          continue a saved model bit-exactly where it stopped, and\n"
	  "                         save back to FILE unless --save names another\n"
	  "  --progress SECONDS     a progress line every SECONDS when stderr is not a\n"
	  "                         terminal (default 30; 0: never)\n"
	  OPT_JSON_HELP },
	{ "eval", cmd_eval, "--model FILE [--data DIR] [--calib N] [--test-limit N] [--threads N] [--backend kernel|cpu] [--json]",
	  "test error, per-class accuracy and confusion matrix of a saved model",
	  "  --model FILE           the model file (from train --save)\n"
	  OPT_DATA
	  "  --calib N|all|0        re-estimate batch-norm statistics on the first N (or all)\n"
	  "                         training samples (default and 0: the model's stored ones)\n"
	  "  --test-limit N         evaluate the first N test samples (default 0: all)\n"
	  "  --threads N            worker threads of the cpu backend (default: online CPUs)\n"
	  "  --backend kernel|cpu   evaluate in fewmul.ko or in this process (default: kernel\n"
	  "                         when " FEWMUL_DEFAULT_DEVICE " exists)\n"
	  OPT_BACKEND_DEV
	  OPT_JSON_HELP },
	{ "predict", cmd_predict, "--model FILE (--index I | --image FILE.pgm|FILE.idx[.gz] [--index I]) [--data DIR] [--calib N] [--threads N] [--backend kernel|cpu] [--json]",
	  "classify one image: predicted class, true label when known, output-layer scores",
	  "  --model FILE           the model file (from train --save)\n"
	  "  --index I              image I (0-based) of the test split of --data, or of the\n"
	  "                         --image IDX file\n"
	  "  --image FILE           a binary PGM (P5, maxval 255) of the data's size (28x28)\n"
	  "                         or an IDX3 image file\n"
	  "                         (plain or .gz) with one image, or any number with --index\n"
	  "  --data DIR             IDX dataset directory (default " FEWMUL_DEFAULT_DATA_DIR "):\n"
	  "                         its test split for --index, its training split for --calib\n"
	  "  --calib N|all|0        re-estimate batch-norm statistics on the first N (or all)\n"
	  "                         training samples (default and 0: the model's stored ones)\n"
	  "  --threads N            worker threads of the cpu backend (default: online CPUs)\n"
	  "  --backend kernel|cpu   classify in fewmul.ko or in this process (default: kernel\n"
	  "                         when " FEWMUL_DEFAULT_DEVICE " exists); the kernel's eval\n"
	  "                         ioctl returns the class, only cpu prints the scores\n"
	  OPT_BACKEND_DEV
	  OPT_JSON_HELP },
	{ "export", cmd_export, "--model FILE -o OUT.npz|OUT.h [--format npz|c-header] [--calib N] [--data DIR] [--threads N]",
	  "write a model's integer inference parameters as NumPy .npz or a C header",
	  "  --model FILE           the model file (from train --save)\n"
	  "  -o, --output FILE      the file to write\n"
	  "  --format npz|c-header  NumPy .npz (default) or a C header with packed weights\n"
	  "                         and an inference function (default when FILE ends in .h)\n"
	  "  --calib N|all|0        re-estimate batch-norm statistics on the first N (or all)\n"
	  "                         training samples (default and 0: the model's stored ones)\n"
	  OPT_DATA
	  "  --threads N            worker threads of --calib (default: online CPUs)\n"
	  "  -h, --help             this help\n" },
	{ "count", cmd_count, "[--arch A-B-..-K] [--batch N] [--bn] [--json]",
	  "the paper's multiplication count: full precision vs binary/ternary + QB",
	  "  --arch A-B-...-K       layer widths (default 784-1024-1024-1024-10)\n"
	  "  --batch N              minibatch size, 1..1000000 (default 200)\n"
	  "  --bn                   add standard batch norm's multiplications\n"
	  OPT_JSON_HELP },
	{ "bench", cmd_bench, "[--arch A-B-..-K] [--batch N] [--steps N] [--threads 1,2] [--backend cpu|kernel] [--no-torch] [--json]",
	  "training throughput: full-precision integer vs ternary+QB vs float32, same run",
	  "  --arch A-B-...-K       layer widths (default 784-1024-1024-1024-10)\n"
	  "  --batch N              minibatch size, 1.." XSTR(FEWMUL_MAX_BATCH) " (default 200)\n"
	  "  --steps N              timed training steps per run, 1..100000 (default 10)\n"
	  "  --threads LIST         comma-separated thread counts, one run each (default 1,2)\n"
	  "  --backend cpu|kernel   where the engine runs (default cpu)\n"
	  OPT_BACKEND_DEV
	  "  --no-torch             use the plain C float32 loop even when PyTorch is installed\n"
	  OPT_JSON_HELP },
	{ "stats", cmd_stats, "[--ctx ID] [--all] [--json]",
	  "open /dev/fewmul contexts and their training totals (genetlink)",
	  "  --ctx ID               show only context ID\n"
	  "  --all                  list every user's contexts (others' need CAP_SYS_ADMIN)\n"
	  OPT_JSON_HELP },
	{ "monitor", cmd_monitor, "[--count N] [--timeout SECONDS] [--all] [--json]",
	  "one line per training progress event of the module (genetlink)",
	  "  --count N              exit after N events\n"
	  "  --timeout SECONDS      stop after SECONDS, 1..2000000 (an error with --count)\n"
	  "  --all                  show every user's events, not only the caller's\n"
	  OPT_JSON_HELP },
	{ "hist", cmd_hist, "--ctx ID | --model FILE [--data DIR] [--limit N] [--backend B] [--threads N] [--layer L] [--plot OUT.png|OUT.svg [--size WxH] [--title T]] [--json]",
	  "per-layer log2|x| histograms of hidden values and per-layer operations",
	  "  --ctx ID               a live context of the kernel backend (see 'fewmulctl stats')\n"
	  "  --model FILE           a saved model: train a throw-away copy and show what it saw\n"
	  OPT_DATA
	  "  --limit N              training samples of the copy (default 1000)\n"
	  "  --backend kernel|cpu   where the copy trains (default cpu)\n"
	  OPT_BACKEND_DEV
	  "  --threads N            worker threads of the cpu backend (default 1)\n"
	  "  --layer L              show only layer L (0: input .. L: output)\n"
	  "  --plot FILE            also draw the hidden layers' histograms, one panel each,\n"
	  "                         to FILE.png or FILE.svg\n"
	  "  --size WxH             size of the --plot image in pixels (default 800x500 for\n"
	  "                         one row of panels, 250 to 300 higher per extra row)\n"
	  "  --title TEXT           title of the --plot image\n"
	  OPT_JSON_HELP },
	{ "plot", cmd_plot, "RUN.csv [RUN2.csv ...] -o OUT.png|OUT.svg [--title TEXT] [--size WxH] [--json]",
	  "draw train, validation and test error per epoch of train --log files",
	  "  -o, --output FILE      the image to write: FILE.png or FILE.svg\n"
	  "  --title TEXT           chart title (default \"Error rate per epoch\")\n"
	  "  --size WxH             image size in pixels, 200x150..8000x8000 (default 800x500)\n"
	  OPT_JSON_HELP },
	{ NULL, NULL, NULL, NULL, NULL },
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

int opt_fail(int c, char **argv, const struct option *opts)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	const struct option *o;
	int matches = 0, exact = 0;
	size_t len;

	if (c == ':') {
		fewmulctl_errx("%s: option '%s' requires an argument", argv[0], arg);
		return CMD_USAGE;
	}
	if (optopt == 'h' || !strcmp(arg, "--help"))
		return CMD_HELP;
	if (optopt > 0 && optopt < 256) {	/* short options are below 256 */
		fewmulctl_errx("%s: unrecognized option '-%c'", argv[0], optopt);
		return CMD_USAGE;
	}
	if (!strncmp(arg, "--", 2)) {
		len = strcspn(arg + 2, "=");
		for (o = opts; o->name; o++) {
			if (strncmp(o->name, arg + 2, len))
				continue;
			matches++;
			exact |= strlen(o->name) == len;
		}
		if (arg[2 + len] == '=' && (exact || matches == 1)) {
			fewmulctl_errx("%s: option '%.*s' doesn't allow an argument",
				       argv[0], (int)len + 2, arg);
			return CMD_USAGE;
		}
		if (matches > 1 && !exact) {
			fewmulctl_errx("%s: option '%.*s' is ambiguous", argv[0],
				       (int)len + 2, arg);
			return CMD_USAGE;
		}
	}
	fewmulctl_errx("%s: unrecognized option '%s'", argv[0], arg);
	return CMD_USAGE;
}

int opt_extra(char **argv, const char *arg)
{
	fewmulctl_errx("%s: unexpected argument '%s'", argv[0], arg);
	return CMD_USAGE;
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

int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!(s[0] >= '0' && s[0] <= '9'))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int opt_backend(const char *arg, struct backend_opt *b)
{
	if (strcmp(arg, "kernel") && strcmp(arg, "cpu")) {
		fewmulctl_errx("--backend %s: want kernel or cpu", arg);
		return -1;
	}
	b->name = arg;
	return 0;
}

void explain_module_err(const char *what, int err)
{
	fewmulctl_err(what, err);
	if (err == -ENOENT || err == -ENODEV || err == -ENXIO)
		fewmulctl_errx("the fewmul module is not loaded; load it with 'modprobe fewmul' (installed) or 'insmod build/kmod-stock/fewmul.ko' (from a build)");
	else if (err == -EACCES || err == -EPERM)
		fewmulctl_errx("no permission; add yourself to group 'fewmul' or run as root");
}

const char *backend_label(const struct backend_opt *b, char *buf, size_t len)
{
	if (strcmp(b->name, "kernel"))
		snprintf(buf, len, "%s", b->name);
	else
		snprintf(buf, len, "kernel (%s)", b->device);
	return buf;
}

void backend_err(const struct backend_opt *b, const char *what, int err)
{
	char label[4200];

	if (strcmp(b->name, "kernel")) {
		fewmulctl_err(what ? what : b->name, err);
		return;
	}
	snprintf(label, sizeof(label), "%s%s--backend kernel: %s", what ? what : "",
		 what ? ": " : "", b->device);
	switch (err) {
	case -ENOTTY:
		fewmulctl_errx("%s: not a fewmul device", label);
		break;
	case -EOPNOTSUPP:
		fewmulctl_errx("%s: the loaded fewmul module has no training ioctls (feature 'train'); use --backend cpu",
			       label);
		break;
	case -ENOMEM:
		fewmulctl_errx("%s: %s (pinned buffers count against RLIMIT_MEMLOCK, see 'ulimit -l')",
			       label, strerror(ENOMEM));
		break;
	case -E2BIG:
		fewmulctl_errx("%s: the model needs more kernel memory than the module allows (parameter max_scratch_mb)",
			       label);
		break;
	default:
		explain_module_err(label, err);
		if (err == -ENOENT || err == -ENODEV || err == -ENXIO)
			fewmulctl_errx("or train in this process with --backend cpu");
	}
}

int backend_resolve(struct backend_opt *b, const char *dflt)
{
	struct fewmul_device_info info;
	struct fewmul_dev *dev;
	int err;

	if (!b->name && b->device)
		b->name = "kernel";
	if (!b->name)
		b->name = dflt ? dflt : fewmul_default_backend();
	if (!b->device)
		b->device = FEWMUL_DEFAULT_DEVICE;
	if (strcmp(b->name, "kernel")) {
		if (strcmp(b->device, FEWMUL_DEFAULT_DEVICE)) {
			fewmulctl_errx("--device %s: only with --backend kernel", b->device);
			return -1;
		}
		snprintf(b->spec, sizeof(b->spec), "%s", b->name);
		return 0;
	}
	if ((size_t)snprintf(b->spec, sizeof(b->spec), "kernel:%s", b->device) >=
	    sizeof(b->spec)) {
		fewmulctl_errx("--device: path too long");
		return -1;
	}
	/* say what is wrong with the device before any data is loaded */
	err = fewmul_dev_open(b->device, &dev);
	if (!err) {
		err = fewmul_dev_info(dev, &info);
		fewmul_dev_close(dev);
		if (!err && !(info.features & FEWMUL_FEATURE_TRAIN))
			err = -EOPNOTSUPP;
	}
	if (err) {
		backend_err(b, NULL, err);
		return -1;
	}
	return 0;
}

int common_option(int c, const struct common_opts *co)
{
	switch (c) {
	case O_COMMON_THREADS:
		if (!co->threads)
			return 0;
		return opt_threads(optarg, co->threads) ? -1 : 1;
	case O_COMMON_BACKEND:
		if (!co->be)
			return 0;
		return opt_backend(optarg, co->be) ? -1 : 1;
	case O_COMMON_DEVICE:
		if (!co->be)
			return 0;
		co->be->device = optarg;
		return 1;
	case O_COMMON_JSON:
		if (!co->json)
			return 0;
		*co->json = 1;
		return 1;
	}
	return 0;
}

int opt_calib(const char *arg, int64_t *calib)
{
	uint32_t n;

	if (!strcmp(arg, "all")) {
		*calib = CALIB_ALL;
		return 0;
	}
	if (parse_u32(arg, 0, UINT32_MAX, &n)) {
		fewmulctl_errx("--calib %s: want a number of training samples, 'all', or 0 for the model's stored statistics",
			       arg);
		return -1;
	}
	*calib = n;
	return 0;
}

int bn_stats_settle(struct fewmul_trainer *t, const char *model,
		    const struct fewmul_model_info *info,
		    const struct fewmul_model_extra *ex, int64_t calib,
		    const char *data, struct fewmul_dataset *train,
		    uint32_t *used, const char **how)
{
	uint32_t n, i, *idx;
	int err;

	*used = 0;
	if (info->config.bn == FEWMUL_MODEL_BN_NONE && calib < 0) {
		*how = "none";	/* no batch norm: nothing to estimate */
		return 0;
	}
	if (!calib || (calib < 0 && ex->bn_samples)) {
		if (!ex->bn_samples && info->config.bn != FEWMUL_MODEL_BN_NONE) {
			fewmulctl_errx("--calib 0: %s has no stored batch-norm statistics for its weights (saved in the middle of an epoch, or by fewmulctl 0.1); re-estimate them with --calib N",
				       model);
			return -1;
		}
		*used = ex->bn_samples;
		*how = info->config.bn == FEWMUL_MODEL_BN_NONE ? "none" : "stored";
		return 0;
	}
	if (calib < 0) {
		calib = CALIB_DEFAULT;
		fewmulctl_errx("note: %s has no stored batch-norm statistics for its weights (saved in the middle of an epoch, or by fewmulctl 0.1); re-estimating them on %u training samples",
			       model, CALIB_DEFAULT);
	}
	if (fewmul_dataset_load_dir(data, 0, train)) {
		fewmulctl_errx("--data: %s", train->error);
		return -1;
	}
	if (train->rows * train->cols != info->config.width[0]) {
		fewmulctl_errx("%s: the model's input width %u does not match the %ux%u training images",
			       model, info->config.width[0], train->rows, train->cols);
		return -1;
	}
	n = calib > train->count ? train->count : (uint32_t)calib;
	idx = malloc(sizeof(*idx) * (n ? n : 1));
	if (!idx) {
		fewmulctl_err("allocating", -ENOMEM);
		return -1;
	}
	for (i = 0; i < n; i++)
		idx[i] = i;
	err = fewmul_trainer_calibrate(t, train, idx, n);
	free(idx);
	if (err) {
		fewmulctl_err("estimating the batch-norm statistics", err);
		return -1;
	}
	*used = n;
	*how = "re-estimated";
	return 0;
}

int parse_weights(const char *s, uint32_t *w)
{
	return fewmul_weights_parse(s, w);
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

int opt_threads(const char *arg, uint32_t *threads)
{
	if (parse_u32(arg, 1, 256, threads)) {
		fewmulctl_errx("--threads %s: want 1..256", arg);
		return -1;
	}
	return 0;
}

int opt_count(const char *name, const char *arg, uint32_t *out)
{
	if (parse_u32(arg, 0, UINT32_MAX, out)) {
		fewmulctl_errx("%s %s: want a number (0: all)", name, arg);
		return -1;
	}
	return 0;
}

static void usage(FILE *f)
{
	const struct fewmulctl_cmd *c;

	fprintf(f, "Usage: %s <command> [options]\n"
		   "       %s <command> --help, %s help <command>\n"
		   "       %s --version, -V\n\nCommands:\n",
		PROG_NAME, PROG_NAME, PROG_NAME, PROG_NAME);
	for (c = fewmulctl_cmds; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->help);
}

static void cmd_help(const struct fewmulctl_cmd *c)
{
	printf("Usage: %s %s %s\n\n%c%s.\n\nOptions:\n%s", PROG_NAME, c->name,
	       c->args, toupper((unsigned char)c->help[0]), c->help + 1,
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
	const struct fewmulctl_cmd *c;

	for (c = fewmulctl_cmds; c->name; c++)
		if (!strcmp(name, c->name))
			return c;
	return NULL;
}

static void unknown_cmd(const char *name)
{
	const struct fewmulctl_cmd *c, *best = NULL;
	unsigned int d, bestd = 3;

	for (c = fewmulctl_cmds; c->name; c++) {
		d = edit_distance(name, c->name);
		if (!strncmp(name, c->name, strlen(name)) && strlen(name) >= 2)
			d = 1;	/* a prefix */
		if (d < bestd) {
			bestd = d;
			best = c;
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
	ret = c->fn(argc - 1, argv + 1);
	if (ret == CMD_HELP) {
		cmd_help(c);
		return 0;
	}
	if (ret == CMD_USAGE) {
		fprintf(stderr, "Usage: %s %s %s\nTry '%s %s --help' for the options.\n",
			PROG_NAME, c->name, c->args, PROG_NAME, c->name);
		return 1;
	}
	if (ret < 0)
		return 1;
	/* stopped by SIGINT or SIGTERM after finishing up: say so */
	return fewmulctl_interrupted ? 128 + fewmulctl_interrupted : 0;
}

int main(int argc, char **argv)
{
	int ret = run(argc, argv);

	/* output that could not be written is a failure, like any other */
	if (close_stdout() && !ret)
		ret = 1;
	return ret;
}
