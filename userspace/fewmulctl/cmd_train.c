// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl train: train a model on an IDX dataset and report, per epoch,
 * the training loss and error, the test error, time, rate and the
 * operations executed.
 *
 * Three steps: train_parse() reads the command line into struct
 * train_opts, train_setup() checks everything that can be checked before
 * any training (outputs, data, the model) into struct train_run, and
 * train_loop() runs the epochs; report_epoch() and log_epoch() print
 * them. Every file written survives an error or a signal: --save is
 * replaced atomically after every epoch and when SIGINT or SIGTERM stop
 * the run (exit status 130 or 143).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "libfewmul.h"
#include "fewmulctl.h"

/* Bounds of the command line: the ABI's (<linux/fewmul.h>). */
#define MAX_EPOCHS	FEWMUL_MAX_EPOCHS
#define MAX_BATCH	FEWMUL_MAX_BATCH
#define MAX_LR_SHIFT	FEWMUL_MAX_LR_SHIFT
#define CALIB_SAMPLES	FEWMUL_DEFAULT_CALIB	/* BN statistics after each epoch */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A learning rate given as a number is rounded to a power of two. */
int parse_lr_shift(const char *s, uint32_t *shift)
{
	char *end;
	double v;
	long k;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1)
		return -EINVAL;
	k = lround(-log2(v));
	if (k < 0 || k > MAX_LR_SHIFT)
		return -EINVAL;
	*shift = (uint32_t)k;
	return 0;
}

/* "2^-3" for k = 3, "1" for k = 0. */
static const char *lr_str(uint32_t k, char *buf, size_t len)
{
	if (k)
		snprintf(buf, len, "2^-%u", k);
	else
		snprintf(buf, len, "1");
	return buf;
}

/* Configuration options, to compare with a --resume model's. */
enum {
	G_ARCH = 1 << 0, G_WEIGHTS = 1 << 1, G_QBP = 1 << 2, G_ERANGE = 1 << 3,
	G_BN = 1 << 4, G_EPOCHS = 1 << 5, G_BATCH = 1 << 6, G_LR = 1 << 7,
	G_SEED = 1 << 8, G_TRAINLIM = 1 << 9, G_VAL = 1 << 10,
};

struct train_opts {
	struct fewmul_train_config cfg;
	unsigned int given;		/* G_* */
	const char *arch, *lr;		/* as given, for messages */
	const char *data, *logpath, *savepath, *resumepath, *bestpath;
	struct backend_opt be;
	uint32_t threads, trainlim, testlim, val, progress_every;
	int json, testw;
};

struct train_run {
	struct train_opts *o;
	struct fewmul_train_config cfg;	/* the model's */
	struct fewmul_dataset train, test;
	struct fewmul_trainer *t;
	uint32_t start_ep, start_pos, trainlim, testlim, calib;
	uint32_t *tri, *tei, *vai;
	FILE *logf;
	int log_fmt;			/* --log's format, see log_open() */
	char label[4200];
	uint64_t best_err;		/* --keep-best: fewest val errors so far */
	uint32_t best_ep;		/* its epoch, 1-based; 0: none yet */
};

struct epoch_result {
	uint32_t ep, lr;
	int kept;			/* --keep-best kept this epoch's model */
	struct fewmul_result tr, va, te;
	double secs;
	int counted;			/* divs and sats are counted */
	uint64_t divs, sats;		/* of the epoch's training calls */
};

/* ---- progress ------------------------------------------------------------ */

/*
 * On a terminal (stderr): a bar as wide as the terminal with the running
 * loss and error and the ETA. Otherwise a plain line every
 * progress_every seconds (0: never).
 */
struct progress {
	int tty;
	uint32_t every;
	double t0, last;
};

static void progress_init(struct progress *p, uint32_t every)
{
	p->tty = isatty(2);
	p->every = par_rank() ? 0 : every;	/* rank 0 reports */
	if (par_rank())
		p->tty = 0;
	p->t0 = p->last = now_s();
}

static unsigned int term_cols(void)
{
	struct winsize ws;

	if (ioctl(2, TIOCGWINSZ, &ws) || ws.ws_col < 20)
		return 80;
	return ws.ws_col;
}

static void progress_show(struct progress *p, uint32_t ep, uint32_t epochs,
			  uint32_t pos, uint32_t n, const struct fewmul_result *tr)
{
	static const char hashes[] = "################################################################";
	double now = now_s(), secs = now - p->t0, rate = secs > 0 ? pos / secs : 0;
	double eta = rate > 0 ? (n - pos) / rate : 0;
	double loss = tr->samples ? tr->loss / (double)tr->samples : 0;
	double err = tr->samples ? 100.0 * (double)tr->errors / (double)tr->samples : 0;
	char info[160];
	int cols, width, fill, len;

	len = snprintf(info, sizeof(info), "] %3u%% loss %.4f err %.1f%% %.0f/s ETA %u:%02u",
		       (unsigned int)((uint64_t)pos * 100 / (n ? n : 1)), loss, err,
		       rate, (unsigned int)eta / 60, (unsigned int)eta % 60);
	if (!p->tty) {
		if (!p->every || now - p->last < p->every)
			return;
		p->last = now;
		fprintf(stderr, "epoch %u/%u: %u of %u samples, loss %.4f err %.2f%%, %.0f samples/s, ETA %u:%02u\n",
			ep + 1, epochs, pos, n, loss, err, rate,
			(unsigned int)eta / 60, (unsigned int)eta % 60);
		return;
	}
	cols = (int)term_cols() - 1;
	width = cols - len - snprintf(NULL, 0, "epoch %u/%u [", ep + 1, epochs);
	if (width > 64)
		width = 64;
	if (width < 5) {	/* a narrow terminal: numbers only */
		fprintf(stderr, "\r%.*s", cols, info + 2);
		fprintf(stderr, "\033[K");
		return;
	}
	fill = (int)((uint64_t)pos * (unsigned int)width / (n ? n : 1));
	fprintf(stderr, "\repoch %u/%u [%.*s%*s%s\033[K", ep + 1, epochs, fill,
		hashes, width - fill, "", info);
}

static void progress_done(const struct progress *p)
{
	if (p->tty)
		fprintf(stderr, "\r\033[K");
}

/* ---- the --log CSV -------------------------------------------------------- */

/*
 * The --log CSV header. Columns are only ever added at the end; a file
 * begun by an older fewmulctl (without val_error, or without divs and
 * saturated) is continued in its own format.
 */
#define LOG_HEADER_V1 "epoch,lr_shift,train_loss,train_error,test_error,seconds,samples_per_s,adds,shifts,muls"
#define LOG_HEADER_V2 LOG_HEADER_V1 ",val_error"
#define LOG_HEADER LOG_HEADER_V2 ",divs,saturated"
#define LOG_FORMAT 3

/*
 * Open --log for appending: write the header to a new or empty file, and
 * check an existing file's header. *fmt is its format, 1..LOG_FORMAT.
 */
static FILE *log_open(const char *path, int val, int *fmt)
{
	char line[512];
	FILE *f;

	*fmt = LOG_FORMAT;
	if (check_appendable("--log", path))
		return NULL;
	f = fopen(path, "a+");
	if (!f) {
		fewmulctl_errx("--log %s: %s", path, strerror(errno));
		return NULL;
	}
	rewind(f);
	if (!fgets(line, sizeof(line), f)) {
		if (ferror(f)) {
			fewmulctl_errx("--log %s: %s", path, strerror(errno ? errno : EIO));
			fclose(f);
			return NULL;
		}
		errno = 0;
		if (fprintf(f, "%s\n", LOG_HEADER) < 0 || fflush(f)) {
			fewmulctl_errx("--log %s: %s", path, strerror(errno ? errno : EIO));
			fclose(f);
			return NULL;
		}
		return f;
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (!strcmp(line, LOG_HEADER))
		return f;
	if (!strcmp(line, LOG_HEADER_V2)) {
		*fmt = 2;
		return f;
	}
	if (!strcmp(line, LOG_HEADER_V1) && !val) {
		*fmt = 1;
		return f;
	}
	if (!strcmp(line, LOG_HEADER_V1))
		fewmulctl_errx("--log %s: the file has no val_error column (an older fewmulctl began it); use a new file with --val",
			       path);
	else
		fewmulctl_errx("--log %s: not a fewmulctl train log (its first line is not the CSV header)",
			       path);
	fclose(f);
	return NULL;
}

static int log_epoch(struct train_run *r, const struct epoch_result *e)
{
	const struct fewmul_result *tr = &e->tr;
	FILE *f = r->logf;

	if (!f)
		return 0;
	errno = 0;
	fprintf(f, "%u,%u,%.6f,%.6f,%.6f,%.3f,%.1f,%" PRIu64 ",%" PRIu64 ",%" PRIu64,
		e->ep + 1, e->lr, tr->loss / (double)tr->samples,
		(double)tr->errors / (double)tr->samples,
		(double)e->te.errors / (double)e->te.samples, e->secs,
		(double)tr->samples / e->secs, tr->ops.adds, tr->ops.shifts,
		tr->ops.muls);
	if (r->log_fmt >= 2 && r->o->val)
		fprintf(f, ",%.6f", (double)e->va.errors / (double)e->va.samples);
	else if (r->log_fmt >= 2)
		fputc(',', f);	/* no validation set */
	if (r->log_fmt >= 3 && e->counted)
		fprintf(f, ",%" PRIu64 ",%" PRIu64, e->divs, e->sats);
	else if (r->log_fmt >= 3)
		fputs(",,", f);	/* a module that does not count them */
	fputc('\n', f);
	if (fflush(f) || ferror(f)) {
		fewmulctl_errx("--log %s: %s", r->o->logpath,
			       strerror(errno ? errno : EIO));
		return -1;
	}
	return 0;
}

/* ---- parse ---------------------------------------------------------------- */

enum { O_WEIGHTS = 256, O_QBP, O_NOQBP, O_ERANGE, O_BN, O_EPOCHS, O_LR,
       O_SEED, O_TRAINLIM, O_TESTLIM, O_LOG, O_SAVE, O_RESUME, O_VAL,
       O_BEST,
       O_PROGRESS, O_TESTW };

/* An option of train's own (the shared ones: parse_cmdline()). */
static int train_option(int c, const char *arg, void *ctx)
{
	struct train_opts *o = ctx;
	struct fewmul_train_config *cfg = &o->cfg;
	char *colon, lrbuf[256];
	int n;

	switch (c) {
	case O_WEIGHTS:
		if (parse_weights(arg, &cfg->weights)) {
			fewmulctl_errx("--weights %s: want full, binary, binary-stoch or ternary", arg);
			return -1;
		}
		o->given |= G_WEIGHTS;
		return 0;
	case O_QBP:
	case O_NOQBP:
		cfg->qbp = c == O_QBP;
		o->given |= G_QBP;
		return 0;
	case O_ERANGE:
		if (sscanf(arg, "%d:%d%n", &cfg->exp_min, &cfg->exp_max, &n) != 2 ||
		    arg[n] || cfg->exp_min > cfg->exp_max ||
		    cfg->exp_min < FEWMUL_EXP_MIN || cfg->exp_max > FEWMUL_EXP_MAX) {
			fewmulctl_errx("--exp-range %s: want EMIN:EMAX with %d <= EMIN <= EMAX <= %d",
				       arg, FEWMUL_EXP_MIN, FEWMUL_EXP_MAX);
			return -1;
		}
		o->given |= G_ERANGE;
		return 0;
	case O_BN:
		if (parse_bn(arg, &cfg->bn)) {
			fewmulctl_errx("--bn %s: want shift2, shift or none", arg);
			return -1;
		}
		o->given |= G_BN;
		return 0;
	case O_EPOCHS:
		if (parse_u32(arg, 1, MAX_EPOCHS, &cfg->epochs)) {
			fewmulctl_errx("--epochs %s: want 1..%u", arg, MAX_EPOCHS);
			return -1;
		}
		o->given |= G_EPOCHS;
		return 0;
	case O_LR:
		o->lr = arg;
		snprintf(lrbuf, sizeof(lrbuf), "%s", arg);
		colon = strchr(lrbuf, ':');
		if (colon)
			*colon = '\0';
		if (parse_lr_shift(lrbuf, &cfg->lr_shift_start) ||
		    (colon && parse_lr_shift(colon + 1, &cfg->lr_shift_end))) {
			fewmulctl_errx("--lr %s: want START[:END], each a rate from 2^-%u (about %.2g) to 1; rates are rounded to powers of two",
				       arg, MAX_LR_SHIFT, ldexp(1, -MAX_LR_SHIFT));
			return -1;
		}
		if (!colon)
			cfg->lr_shift_end = cfg->lr_shift_start;
		if (cfg->lr_shift_end < cfg->lr_shift_start) {
			fewmulctl_errx("--lr %s: the end rate must not exceed the start rate", arg);
			return -1;
		}
		o->given |= G_LR;
		return 0;
	case O_SEED:
		if (parse_u64(arg, &cfg->seed)) {
			fewmulctl_errx("--seed %s: want a decimal number", arg);
			return -1;
		}
		o->given |= G_SEED;
		return 0;
	case O_TRAINLIM:
		if (parse_u32(arg, 1, 1u << 30, &o->trainlim)) {
			fewmulctl_errx("--train-limit %s: want a positive count", arg);
			return -1;
		}
		o->given |= G_TRAINLIM;
		return 0;
	case O_TESTLIM:
		if (parse_u32(arg, 1, 1u << 30, &o->testlim)) {
			fewmulctl_errx("--test-limit %s: want a positive count", arg);
			return -1;
		}
		return 0;
	case O_VAL:
		if (parse_u32(arg, 1, 1u << 30, &o->val)) {
			fewmulctl_errx("--val %s: want a positive number of samples", arg);
			return -1;
		}
		o->given |= G_VAL;
		return 0;
	case O_LOG:
		o->logpath = arg;
		return 0;
	case O_SAVE:
		o->savepath = arg;
		return 0;
	case O_RESUME:
		o->resumepath = arg;
		return 0;
	case O_BEST:
		o->bestpath = arg;
		return 0;
	case O_TESTW:
		return opt_test_weights(arg, &o->testw) ? -1 : 0;
	case O_PROGRESS:
		if (parse_u32(arg, 0, 86400, &o->progress_every)) {
			fewmulctl_errx("--progress %s: want 0..86400 seconds (0: never)", arg);
			return -1;
		}
		return 0;
	}
	return -1;
}

static int train_parse(int argc, char **argv, struct train_opts *o)
{
	static const struct option opts[] = {
		OPT_DATA, OPT_ARCH,
		{ "weights", required_argument, NULL, O_WEIGHTS },
		{ "qbp", no_argument, NULL, O_QBP },
		{ "no-qbp", no_argument, NULL, O_NOQBP },
		{ "exp-range", required_argument, NULL, O_ERANGE },
		{ "bn", required_argument, NULL, O_BN },
		{ "epochs", required_argument, NULL, O_EPOCHS },
		OPT_BATCH,
		{ "lr", required_argument, NULL, O_LR },
		{ "seed", required_argument, NULL, O_SEED },
		{ "train-limit", required_argument, NULL, O_TRAINLIM },
		{ "test-limit", required_argument, NULL, O_TESTLIM },
		{ "val", required_argument, NULL, O_VAL },
		{ "log", required_argument, NULL, O_LOG },
		{ "save", required_argument, NULL, O_SAVE },
		{ "resume", required_argument, NULL, O_RESUME },
		{ "keep-best", required_argument, NULL, O_BEST },
		{ "progress", required_argument, NULL, O_PROGRESS },
		{ "test-weights", required_argument, NULL, O_TESTW },
		OPT_THREADS, OPT_BACKEND, OPT_JSON, OPT_END,
	};
	struct cmdline cl = {
		.opts = opts, .own = train_option, .ctx = o,
		.co = { .data = &o->data, .arch = &o->cfg, .arch_str = &o->arch,
			.batch = &o->cfg.batch, .batch_max = MAX_BATCH,
			.threads = &o->threads, .be = &o->be, .json = &o->json },
	};
	int ret;

	fewmul_train_config_default(&o->cfg);
	o->threads = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	o->progress_every = 30;
	ret = parse_cmdline(argc, argv, &cl);
	if (cl.co.given & COMMON_BIT(O_COMMON_ARCH))
		o->given |= G_ARCH;
	if (cl.co.given & COMMON_BIT(O_COMMON_BATCH))
		o->given |= G_BATCH;
	return ret;
}

/* ---- setup ---------------------------------------------------------------- */

/*
 * --resume: the model's configuration rules; an option the user gave that
 * differs from it is an error, not silently ignored.
 */
static int resume_conflicts(const struct train_opts *o,
			    const struct fewmul_train_config *m,
			    const struct fewmul_model_extra *ex)
{
	const struct fewmul_train_config *c = &o->cfg;
	const char *what = NULL;
	char have[128] = "";
	uint32_t l;

	if ((o->given & G_ARCH) && (c->nr_layers != m->nr_layers ||
				    memcmp(c->width, m->width, sizeof(c->width)))) {
		int len = 0;

		for (l = 0; l <= m->nr_layers && len < (int)sizeof(have) - 12; l++)
			len += snprintf(have + len, sizeof(have) - (size_t)len, "%s%u",
					l ? "-" : "", m->width[l]);
		what = "--arch";
	} else if ((o->given & G_WEIGHTS) && c->weights != m->weights) {
		snprintf(have, sizeof(have), "%s", fewmul_weights_name(m->weights));
		what = "--weights";
	} else if ((o->given & G_QBP) && c->qbp != m->qbp) {
		snprintf(have, sizeof(have), "%s", m->qbp ? "--qbp" : "--no-qbp");
		what = c->qbp ? "--qbp" : "--no-qbp";
	} else if ((o->given & G_ERANGE) && (c->exp_min != m->exp_min ||
					     c->exp_max != m->exp_max)) {
		snprintf(have, sizeof(have), "%d:%d", m->exp_min, m->exp_max);
		what = "--exp-range";
	} else if ((o->given & G_BN) && c->bn != m->bn) {
		snprintf(have, sizeof(have), "%s", bn_name(m->bn));
		what = "--bn";
	} else if ((o->given & G_EPOCHS) && c->epochs != m->epochs) {
		snprintf(have, sizeof(have), "%u", m->epochs);
		what = "--epochs";
	} else if ((o->given & G_BATCH) && c->batch != m->batch) {
		snprintf(have, sizeof(have), "%u", m->batch);
		what = "--batch";
	} else if ((o->given & G_LR) && (c->lr_shift_start != m->lr_shift_start ||
					 c->lr_shift_end != m->lr_shift_end)) {
		snprintf(have, sizeof(have), "2^-%u:2^-%u", m->lr_shift_start,
			 m->lr_shift_end);
		what = "--lr";
	} else if ((o->given & G_SEED) && c->seed != m->seed) {
		snprintf(have, sizeof(have), "%" PRIu64, m->seed);
		what = "--seed";
	} else if ((o->given & G_TRAINLIM) && ex->train_limit &&
		   o->trainlim != ex->train_limit) {
		snprintf(have, sizeof(have), "%u", ex->train_limit);
		what = "--train-limit";
	} else if ((o->given & G_VAL) && ex->train_limit && o->val != ex->val) {
		snprintf(have, sizeof(have), "%u", ex->val);
		what = "--val";
	}
	if (!what)
		return 0;
	fewmulctl_errx("%s: --resume %s continues that model's run, which has %s %s; leave %s out (a resumed run keeps its configuration) or train a new model",
		       what, o->resumepath, what, have, what);
	return -1;
}

/* The model's input and output widths against the data. */
static int check_model_data(const struct train_run *r, const char *src)
{
	const struct fewmul_train_config *cfg = &r->cfg;
	uint32_t k = cfg->width[cfg->nr_layers], maxl = 0, i;

	if (cfg->width[0] != r->train.rows * r->train.cols) {
		fewmulctl_errx("%s: input width %u does not match the %ux%u images (%u pixels) of the data",
			       src, cfg->width[0], r->train.rows, r->train.cols,
			       r->train.rows * r->train.cols);
		return -1;
	}
	for (i = 0; i < r->train.count; i++)
		maxl = r->train.labels[i] > maxl ? r->train.labels[i] : maxl;
	for (i = 0; i < r->test.count; i++)
		maxl = r->test.labels[i] > maxl ? r->test.labels[i] : maxl;
	if (k < 2) {
		fewmulctl_errx("%s: %u output class; a classifier needs at least 2 (the data has %u)",
			       src, k, maxl + 1);
		return -1;
	}
	if (k <= maxl) {
		fewmulctl_errx("%s: %u output classes, but the data has labels 0..%u; the last width must be at least %u",
			       src, k, maxl, maxl + 1);
		return -1;
	}
	return 0;
}

/* What every rank of a data-parallel run must agree on. */
struct par_key {
	struct fewmul_train_config cfg;
	uint32_t train, test, trainlim, testlim, val, start_ep, start_pos;
	int testw;
};

static int train_setup(struct train_opts *o, struct train_run *r)
{
	struct fewmul_model_extra ex = { .size = sizeof(ex) };
	struct fewmul_model_info info = { 0 };
	char errbuf[512], src[4200];
	struct stat st;
	uint32_t i;
	int err;

	r->o = o;
	if (o->resumepath && stat(o->resumepath, &st)) {
		fewmulctl_errx("--resume %s: %s", o->resumepath, strerror(errno));
		return -1;
	}
	if (o->resumepath && S_ISDIR(st.st_mode)) {
		fewmulctl_errx("--resume %s: a directory, not a model file", o->resumepath);
		return -1;
	}
	/* outputs first: a run must not fail after an hour on a bad path */
	if (o->resumepath && !o->savepath)
		o->savepath = o->resumepath;	/* save back where it came from */
	if (o->savepath && !par_rank() && check_outfile("--save", o->savepath))
		return -1;
	if (o->bestpath && !o->val) {
		fewmulctl_errx("--keep-best %s: needs --val N (the best epoch is the one with the lowest validation error)",
			       o->bestpath);
		return -1;
	}
	if (o->bestpath && o->resumepath && !access(o->bestpath, F_OK)) {
		/*
		 * The earlier best's validation error is not known here: a
		 * resumed run keeps its best in a new file, never over a
		 * better model kept before it.
		 */
		fewmulctl_errx("--keep-best %s: exists; with --resume, keep the best of the resumed epochs in a new file (the best before them may be better)",
			       o->bestpath);
		return -1;
	}
	if (o->bestpath && o->savepath && !strcmp(o->bestpath, o->savepath)) {
		fewmulctl_errx("--keep-best %s: the same file as --save", o->bestpath);
		return -1;
	}
	if (o->bestpath && !par_rank() && check_outfile("--keep-best", o->bestpath))
		return -1;
	if (o->logpath && check_appendable("--log", o->logpath))
		return -1;
	if (backend_resolve(&o->be, NULL))
		return -1;
	backend_label(&o->be, r->label, sizeof(r->label));

	if (o->resumepath) {
		err = fewmul_model_load_ex(o->resumepath, o->be.spec, o->threads,
					   &r->t, &info, &ex, errbuf, sizeof(errbuf));
		if (err) {
			if (err == -EBADMSG || err == -EISDIR || err == -ENOENT ||
			    err == -EACCES || err == -EIO)
				fewmulctl_errx("--resume %s", errbuf);
			else
				backend_err(&o->be, "--resume: loading the model", err);
			return -1;
		}
		if (resume_conflicts(o, &info.config, &ex))
			return -1;
		r->cfg = info.config;
		r->start_ep = info.epoch;
		r->start_pos = info.epoch_pos;
		if (ex.train_limit) {	/* continue the run as it was */
			o->trainlim = ex.train_limit;
			o->val = ex.val;
		}
		snprintf(src, sizeof(src), "--resume %s: the model's", o->resumepath);
	} else {
		r->cfg = o->cfg;
		snprintf(src, sizeof(src), "%s%s", o->arch ? "--arch " : "the default architecture ",
			 o->arch ? o->arch : "784-1024-1024-1024-10");
	}

	err = fewmul_dataset_load_dir(o->data, 0, &r->train);
	if (err) {
		fewmulctl_errx("--data: %s", r->train.error);
		return -1;
	}
	err = fewmul_dataset_load_dir(o->data, 1, &r->test);
	if (err) {
		fewmulctl_errx("--data: %s", r->test.error);
		return -1;
	}
	if (check_model_data(r, src))
		return -1;
	/* validation: the last val samples, never trained on */
	if (o->val >= r->train.count) {
		fewmulctl_errx("--val %u: want fewer than the %u training samples",
			       o->val, r->train.count);
		return -1;
	}
	r->trainlim = o->trainlim;
	if (!r->trainlim || r->trainlim > r->train.count - o->val)
		r->trainlim = r->train.count - o->val;
	r->testlim = o->testlim;
	if (!r->testlim || r->testlim > r->test.count)
		r->testlim = r->test.count;
	if (o->resumepath && r->start_pos > r->trainlim) {
		fewmulctl_errx("--resume %s: the model stopped at sample %u of an epoch, but this data has %u training samples",
			       o->resumepath, r->start_pos, r->trainlim);
		return -1;
	}
	r->calib = r->trainlim < CALIB_SAMPLES ? r->trainlim : CALIB_SAMPLES;

	if (!o->resumepath) {
		err = fewmul_trainer_new(&r->cfg, o->be.spec, o->threads, &r->t);
		if (err) {
			backend_err(&o->be, "creating the model", err);
			return -1;
		}
	}
	err = fewmul_trainer_set_test_weights(r->t, o->testw);
	if (err) {
		backend_err(&o->be, o->testw == FEWMUL_TEST_WEIGHTS_REAL ?
			    "--test-weights real" : "--test-weights sampled", err);
		return -1;
	}
	if (par_size() > 1) {
		struct par_key key = {
			.cfg = r->cfg, .train = r->train.count,
			.test = r->test.count, .trainlim = r->trainlim,
			.testlim = r->testlim, .val = o->val,
			.start_ep = r->start_ep, .start_pos = r->start_pos,
			.testw = o->testw,
		};

		if (par_attach(r->t, &key, sizeof(key)))
			return -1;
	}
	r->tri = malloc(sizeof(*r->tri) * r->trainlim);
	r->tei = malloc(sizeof(*r->tei) * r->testlim);
	r->vai = malloc(sizeof(*r->vai) * (o->val ? o->val : 1));
	if (!r->tri || !r->tei || !r->vai) {
		fewmulctl_err("allocating index lists", -ENOMEM);
		return -1;
	}
	for (i = 0; i < r->testlim; i++)
		r->tei[i] = i;
	for (i = 0; i < o->val; i++)
		r->vai[i] = r->train.count - o->val + i;
	if (o->logpath && !par_rank()) {
		r->logf = log_open(o->logpath, o->val, &r->log_fmt);
		if (!r->logf)
			return -1;
	}
	return 0;
}

static void train_cleanup(struct train_run *r)
{
	if (r->logf)
		fclose(r->logf);
	free(r->tri);
	free(r->tei);
	free(r->vai);
	fewmul_trainer_free(r->t);
	fewmul_dataset_free(&r->train);
	fewmul_dataset_free(&r->test);
}

/* ---- report --------------------------------------------------------------- */

static void report_start(const struct train_run *r)
{
	const struct train_opts *o = r->o;
	const struct fewmul_train_config *cfg = &r->cfg;
	char a[16], b[16], label[4300];

	if (o->json)
		return;
	if (o->resumepath && r->start_ep >= cfg->epochs)
		printf("%s: all %u epoch%s of its schedule are done; nothing to train (evaluate it with 'fewmulctl eval --model %s')\n",
		       o->resumepath, cfg->epochs, cfg->epochs == 1 ? "" : "s",
		       o->resumepath);
	else if (o->resumepath)
		printf("resuming %s at epoch %u, sample %u (step %llu) with its own configuration; saving to %s%s\n",
		       o->resumepath, r->start_ep + 1, r->start_pos,
		       (unsigned long long)fewmul_trainer_step(r->t), o->savepath,
		       strcmp(o->savepath, o->resumepath) ? "" : " (give --save FILE to keep it)");
	if (strcmp(o->be.name, "kernel"))
		snprintf(label, sizeof(label), "%s, %u thread%s", o->be.name,
			 o->threads, o->threads == 1 ? "" : "s");
	else
		snprintf(label, sizeof(label), "%s", r->label);
	printf("backend %s; %s%s, bn %s, batch %u, lr %s..%s, seed %" PRIu64 "; test error uses %s test-time weights\n",
	       label, fewmul_weights_name(cfg->weights), cfg->qbp ? "+QB" : "",
	       bn_name(cfg->bn), cfg->batch,
	       lr_str(cfg->lr_shift_start, a, sizeof(a)),
	       lr_str(cfg->lr_shift_end, b, sizeof(b)), cfg->seed,
	       test_weights_desc(o->testw));
	if (o->val)
		printf("training on samples 0..%u, validating on the last %u (%u..%u) of the %u training samples\n",
		       r->trainlim - 1, o->val, r->train.count - o->val,
		       r->train.count - 1, r->train.count);
}

static void report_epoch(const struct train_run *r, const struct epoch_result *e)
{
	const struct fewmul_result *tr = &e->tr;
	char buf[64], lr[16];
	uint32_t l;

	if (r->o->json) {
		struct json j;

		json_begin(&j, stdout);
		json_u64(&j, "epoch", e->ep + 1);
		json_u64(&j, "epochs", r->cfg.epochs);
		json_u64(&j, "lr_shift", e->lr);
		json_double(&j, "train_loss", tr->loss / (double)tr->samples);
		json_double(&j, "train_error", (double)tr->errors / (double)tr->samples);
		if (r->o->val)
			json_double(&j, "val_error", (double)e->va.errors / (double)e->va.samples);
		json_double(&j, "test_error", (double)e->te.errors / (double)e->te.samples);
		json_str(&j, "test_weights", test_weights_name(r->o->testw));
		json_double(&j, "seconds", e->secs);
		json_double(&j, "samples_per_s", (double)tr->samples / e->secs);
		json_u64(&j, "adds", tr->ops.adds);
		json_u64(&j, "shifts", tr->ops.shifts);
		json_u64(&j, "muls", tr->ops.muls);
		if (e->counted) {
			json_u64(&j, "divs", e->divs);
			json_u64(&j, "saturated", e->sats);
		}
		json_arr_open(&j, "layer_ops");	/* [adds, shifts, muls] */
		for (l = 0; l <= r->cfg.nr_layers; l++) {
			json_arr_open(&j, NULL);
			json_u64(&j, NULL, tr->layers[l].adds);
			json_u64(&j, NULL, tr->layers[l].shifts);
			json_u64(&j, NULL, tr->layers[l].muls);
			json_arr_close(&j);
		}
		json_arr_close(&j);
		json_str(&j, "backend", r->o->be.name);
		if (r->o->bestpath)
			json_bool(&j, "kept_best", e->kept);
		snprintf(buf, sizeof(buf), "%016" PRIx64, fewmul_trainer_checksum(r->t));
		json_str(&j, "checksum", buf);
		json_end(&j);
		return;
	}
	buf[0] = '\0';
	if (r->o->val)
		snprintf(buf, sizeof(buf), "  val err %.2f%%",
			 100.0 * (double)e->va.errors / (double)e->va.samples);
	printf("epoch %u/%u  lr %s  train loss %.4f err %.2f%%%s  test err %.2f%%  %.1f s  %.0f samples/s  adds %.3g shifts %.3g muls %.3g",
	       e->ep + 1, r->cfg.epochs, lr_str(e->lr, lr, sizeof(lr)),
	       tr->loss / (double)tr->samples,
	       100.0 * (double)tr->errors / (double)tr->samples, buf,
	       100.0 * (double)e->te.errors / (double)e->te.samples, e->secs,
	       (double)tr->samples / e->secs, (double)tr->ops.adds,
	       (double)tr->ops.shifts, (double)tr->ops.muls);
	if (e->counted)
		printf(" divs %.3g", (double)e->divs);
	putchar('\n');
	if (e->kept)
		printf("  lowest validation error so far: model kept in %s\n",
		       r->o->bestpath);
}

/* ---- run ------------------------------------------------------------------ */

/* Deterministic shuffle (xorshift64, seeded from the seed and epoch). */
static void shuffle(uint32_t *a, uint32_t n, uint64_t seed, uint32_t epoch)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ULL + epoch + 1;
	uint32_t i, j, t;

	for (i = n; i > 1; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (uint32_t)(x % i);
		t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

/*
 * Save where the run stands; bn_samples says whether the stored test-time
 * batch-norm statistics belong to these weights.
 */
static int save_model_to(const struct train_run *r, const char *opt,
			 const char *path, uint32_t epoch, uint32_t pos,
			 uint32_t bn_samples)
{
	struct fewmul_model_info info = { .epoch = epoch, .epoch_pos = pos };
	struct fewmul_model_extra ex = {
		.size = sizeof(ex), .bn_samples = bn_samples,
		.train_limit = r->trainlim, .val = r->o->val,
	};
	char errbuf[512];

	if (!path || par_rank())
		return 0;
	if (fewmul_model_save_ex(r->t, path, &info, &ex, errbuf,
				 sizeof(errbuf))) {
		fewmulctl_errx("%s %s", opt, errbuf);
		return -1;
	}
	return 0;
}

static int save_model(const struct train_run *r, uint32_t epoch, uint32_t pos,
		      uint32_t bn_samples)
{
	return save_model_to(r, "--save", r->o->savepath, epoch, pos, bn_samples);
}

/*
 * --keep-best: after epoch e, keep the model if its validation error is
 * the lowest so far (the first of equals); 1 when it was kept.
 */
static int keep_best(struct train_run *r, const struct epoch_result *e,
		     uint32_t bn_samples)
{
	if (!r->o->bestpath || (r->best_ep && e->va.errors >= r->best_err))
		return 0;
	if (save_model_to(r, "--keep-best", r->o->bestpath, e->ep + 1, 0,
			  bn_samples))
		return -1;
	r->best_err = e->va.errors;
	r->best_ep = e->ep + 1;
	return 1;
}

/*
 * Train samples [*pos, trainlim) of the shuffled order in calls of whole
 * minibatches, short enough (about 0.3 s) that a signal is answered
 * quickly and long enough to keep per-call costs small; the results do
 * not depend on how the epoch is cut. Stops early when a signal came.
 */
static int train_samples(struct train_run *r, uint32_t ep, uint32_t *pos,
			 struct epoch_result *e, struct progress *pg)
{
	struct fewmul_result *tr = &e->tr;
	struct fewmul_counts c0 = { .size = sizeof(c0) }, c1 = c0;
	uint32_t batch = r->cfg.batch, nb = 1, n;
	double t0, dt;
	int err;

	if (fewmul_trainer_counts(r->t, &c0))
		return -EINVAL;

	while (*pos < r->trainlim && !par_any(fewmulctl_interrupted)) {
		nb = par_max_u32(nb);	/* the ranks' calls must match */
		n = r->trainlim - *pos;
		if (n > nb * batch)
			n = nb * batch;
		t0 = now_s();
		/* monitor shows the place in the epoch, not in this call */
		err = fewmul_trainer_set_epoch_pos(r->t, *pos, r->trainlim);
		if (!err)
			err = fewmul_trainer_train(r->t, &r->train, r->tri + *pos,
						   n, ep, tr);
		if (!err)
			err = fewmul_trainer_counts(r->t, &c1);
		if (err)
			return err;
		e->counted = !!(c1.flags & FEWMUL_COUNTS_DIVS);
		e->divs += c1.divs - c0.divs;
		e->sats += c1.saturated - c0.saturated;
		c0 = c1;
		dt = now_s() - t0;
		*pos += n;
		if (dt < 0.15 && nb < 64)
			nb *= 2;
		else if (dt > 0.6 && nb > 1)
			nb /= 2;
		progress_show(pg, ep, r->cfg.epochs, *pos, r->trainlim, tr);
	}
	return 0;
}

/* A signal stopped the run: save where it stands and say so. */
static int stop_and_save(const struct train_run *r, uint32_t ep, uint32_t pos,
			 uint32_t bn_samples)
{
	const char *save = r->o->savepath;

	if (save_model(r, pos ? ep : ep + 1, pos, bn_samples))
		return -1;
	if (par_rank())
		return 0;	/* rank 0 says it */
	if (pos)
		fprintf(stderr, "%s: stopped in epoch %u after %u of %u samples",
			PROG_NAME, ep + 1, pos, r->trainlim);
	else
		fprintf(stderr, "%s: stopped after epoch %u%s", PROG_NAME, ep + 1,
			bn_samples ? "" : " (before its evaluation)");
	fprintf(stderr, "%s%s%s\n", save ? "; model saved to " : "; nothing saved (no --save)",
		save ? save : "", save ? " (continue with --resume)" : "");
	return 0;
}

/* Evaluate in parts, so that a signal is answered between them. */
static int eval_parts(struct train_run *r, const struct fewmul_dataset *ds,
		      const uint32_t *idx, uint32_t n, struct fewmul_result *res)
{
	uint32_t pos, part = 16 * r->cfg.batch;
	int err;

	for (pos = 0; pos < n && !par_any(fewmulctl_interrupted); pos += part) {
		err = fewmul_trainer_eval(r->t, ds, idx + pos,
					  n - pos < part ? n - pos : part, res, NULL);
		if (err)
			return err;
	}
	return 0;
}

static int train_loop(struct train_run *r)
{
	const struct train_opts *o = r->o;
	struct progress pg;
	uint32_t ep, i, pos, bn;
	int err;

	fewmulctl_catch_signals(o->savepath ?
		"stopping after this minibatch and saving the model (Ctrl-C again: stop now, without saving)" :
		"stopping after this minibatch; no --save, so nothing is saved (Ctrl-C again: stop now)");
	for (ep = r->start_ep; ep < r->cfg.epochs; ep++) {
		struct epoch_result e = { .ep = ep };

		pos = ep == r->start_ep ? r->start_pos : 0;
		for (i = 0; i < r->trainlim; i++)
			r->tri[i] = i;
		shuffle(r->tri, r->trainlim, r->cfg.seed, ep);
		progress_init(&pg, o->progress_every);
		err = train_samples(r, ep, &pos, &e, &pg);
		progress_done(&pg);
		e.secs = now_s() - pg.t0;
		if (err) {
			backend_err(&o->be, "training", err);
			return -1;
		}
		if (par_any(fewmulctl_interrupted))	/* keep what was done */
			return stop_and_save(r, ep, pos < r->trainlim ? pos : 0, 0);
		/* the test-time batch-norm statistics of these weights */
		err = fewmul_trainer_calibrate(r->t, &r->train, r->tri, r->calib);
		if (!err && o->val)
			err = eval_parts(r, &r->train, r->vai, o->val, &e.va);
		if (!err)
			err = eval_parts(r, &r->test, r->tei, r->testlim, &e.te);
		if (err) {
			backend_err(&o->be, "evaluating", err);
			return -1;
		}
		/* stored statistics are those of the deterministic weights */
		bn = o->testw != FEWMUL_TEST_WEIGHTS_TERNARY ? 0 : r->calib;
		if (par_any(fewmulctl_interrupted))
			return stop_and_save(r, ep, 0, bn);
		if (par_check_checksum(fewmul_trainer_checksum(r->t), ep))
			return -1;
		e.lr = fewmul_lr_shift_at(&r->cfg, ep);
		e.kept = keep_best(r, &e, bn);
		if (e.kept < 0)
			return -1;
		report_epoch(r, &e);
		if (log_epoch(r, &e) || save_model(r, ep + 1, 0, bn))
			return -1;
		if (check_stdout())
			return -1;
	}
	if (!o->json && r->best_ep)
		printf("best validation error %.2f%% at epoch %u; that model is in %s\n",
		       100.0 * (double)r->best_err / (double)o->val, r->best_ep,
		       o->bestpath);
	if (!o->json)
		printf("weights checksum %016" PRIx64 "\n", fewmul_trainer_checksum(r->t));
	return 0;
}

static int train_main(int argc, char **argv)
{
	struct train_opts o = { 0 };
	struct train_run r = { 0 };
	int ret;

	ret = train_parse(argc, argv, &o);
	if (ret)
		return ret;
	ret = train_setup(&o, &r);
	if (!ret) {
		report_start(&r);
		ret = train_loop(&r);
	}
	train_cleanup(&r);
	return ret;
}

const struct fewmulctl_cmd cmd_train = {
	.name = "train",
	.usage = "[--data DIR] [--arch A-B-..-K] [--weights MODE] [--qbp|--no-qbp] [--epochs N] [--lr S[:E]] [--seed N] [--threads N] [--backend kernel|cpu] [--val N] [--json] ...",
	.summary = "train a model on an IDX dataset, report loss, errors, rate and operations per epoch",
	.options =
	HELP_DATA
	"  --arch A-B-...-K       layer widths, input to classes (default 784-1024-1024-1024-10)\n"
	"  --weights MODE         full, binary, binary-stoch or ternary (default ternary)\n"
	"  --qbp, --no-qbp        quantized backprop on (default) or off\n"
	"  --exp-range MIN:MAX    exponent range of quantized backprop (default -4:3)\n"
	"  --bn MODE              batch norm: shift2 (default; scale (1 + m/4) 2^-s),\n"
	"                         shift (scale 2^-s) or none (a fixed layer scale)\n"
	"  --epochs N             epochs to train, 1.." XSTR(FEWMUL_MAX_EPOCHS) " (default 10)\n"
	"  --batch N              minibatch size, 1.." XSTR(FEWMUL_MAX_BATCH) " (default 200)\n"
	"  --lr START[:END]       learning rates of the first and last epoch, rounded to\n"
	"                         powers of two (default 0.125:0.0078125, 2^-3 to 2^-7)\n"
	"  --seed N               seed of everything random (default 0)\n"
	"  --threads N            threads that run the steps, either backend (default: online CPUs)\n"
	"  --backend kernel|cpu   train in fewmul.ko or in this process (default: kernel\n"
	"                         when " FEWMUL_DEFAULT_DEVICE " exists)\n"
	HELP_DEVICE
	"  --train-limit N        train on the first N training samples (default: all)\n"
	"  --test-limit N         test on the first N test samples (default: all)\n"
	"  --val N                hold out the last N training samples (never trained on)\n"
	"                         and report their error per epoch; --train-limit then\n"
	"                         counts from the start of the rest\n"
	"  --log FILE.csv         append one CSV line per epoch (header on a new file)\n"
	"  --save FILE            save the model after every epoch and on SIGINT/SIGTERM\n"
	"  --resume FILE          continue a saved model bit-exactly where it stopped, and\n"
	"                         save back to FILE unless --save names another\n"
	"  --keep-best FILE       with --val: after every epoch whose validation error is\n"
	"                         the lowest so far, save the model to FILE too\n"
	"  --test-weights W       test-time weights of the per-epoch evaluation: ternary\n"
	"                         (deterministic, multiply-free; default), real (the shadow\n"
	"                         weights, as the paper evaluates) or sampled (one network\n"
	"                         sampled as in training); real and sampled: cpu backend\n"
	"  --progress SECONDS     a progress line every SECONDS when stderr is not a\n"
	"                         terminal (default 30; 0: never)\n"
	HELP_JSON,
	.run = train_main,
};
