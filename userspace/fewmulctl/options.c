// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl: what the commands share. The command line (parse_cmdline():
 * the getopt loop, usage errors and the options several commands take),
 * the backend options, and loading a saved model with its batch-norm
 * statistics (eval and predict).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/fewmul.h>

#include "libfewmul.h"
#include "fewmulctl.h"
#include "chart.h"

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
	case -EPROTONOSUPPORT:
		fewmulctl_errx("%s: the loaded fewmul module has no --bn shift2 (feature 'bn-shift2'); load this version's module or use --backend cpu",
			       label);
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

int opt_test_weights(const char *arg, int *tw)
{
	if (!strcmp(arg, "ternary") || !strcmp(arg, "deterministic")) {
		*tw = FEWMUL_TEST_WEIGHTS_TERNARY;
		return 0;
	}
	if (!strcmp(arg, "real")) {
		*tw = FEWMUL_TEST_WEIGHTS_REAL;
		return 0;
	}
	if (!strcmp(arg, "sampled")) {
		*tw = FEWMUL_TEST_WEIGHTS_SAMPLED;
		return 0;
	}
	fewmulctl_errx("--test-weights %s: want 'ternary' (deterministic, multiply-free; the default), 'real' (the shadow weights, as the paper evaluates) or 'sampled' (one network sampled as in training)",
		       arg);
	return -1;
}

const char *test_weights_name(int tw)
{
	return tw == FEWMUL_TEST_WEIGHTS_REAL ? "real" :
	       tw == FEWMUL_TEST_WEIGHTS_SAMPLED ? "sampled" : "deterministic";
}

const char *test_weights_desc(int tw)
{
	return tw == FEWMUL_TEST_WEIGHTS_REAL ? "real-valued" :
	       tw == FEWMUL_TEST_WEIGHTS_SAMPLED ? "sampled" : "deterministic";
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

static const char *const bn_names[FEWMUL_MODEL_NR_BN] = {
	[FEWMUL_MODEL_BN_NONE] = "none",
	[FEWMUL_MODEL_BN_SHIFT] = "shift",
	[FEWMUL_MODEL_BN_SHIFT2] = "shift2",
};

int parse_bn(const char *s, uint32_t *bn)
{
	uint32_t i;

	for (i = 0; i < FEWMUL_MODEL_NR_BN; i++) {
		if (!strcmp(s, bn_names[i])) {
			*bn = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *bn_name(uint32_t bn)
{
	return bn < FEWMUL_MODEL_NR_BN ? bn_names[bn] : "unknown";
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


/* A shared option (a code of OPT_*) into co: 0, -1 after printing why not. */
static int common_option(int c, const char *arg, struct common_opts *co)
{
	co->given |= COMMON_BIT(c);
	switch (c) {
	case O_COMMON_THREADS:
		return opt_threads(arg, co->threads);
	case O_COMMON_BACKEND:
		return opt_backend(arg, co->be);
	case O_COMMON_DEVICE:
		co->be->device = arg;
		return 0;
	case O_COMMON_JSON:
		*co->json = 1;
		return 0;
	case O_COMMON_DATA:
		*co->data = arg;
		return 0;
	case O_COMMON_MODEL:
		*co->model = arg;
		return 0;
	case O_COMMON_CALIB:
		return opt_calib(arg, co->calib);
	case O_COMMON_ARCH:
		if (opt_arch(arg, co->arch))
			return -1;
		if (co->arch_str)
			*co->arch_str = arg;
		return 0;
	case O_COMMON_BATCH:
		if (parse_u32(arg, 1, co->batch_max, co->batch)) {
			fewmulctl_errx("--batch %s: want 1..%u", arg, co->batch_max);
			return -1;
		}
		return 0;
	case O_COMMON_CTX:
		if (parse_u64(arg, co->ctx)) {
			fewmulctl_errx("--ctx %s: want a context id (see 'fewmulctl stats')", arg);
			return -1;
		}
		return 0;
	case O_COMMON_SIZE:
		return chart_parse_size("--size", arg, co->width, co->height);
	case O_COMMON_TITLE:
		*co->title = arg;
		return 0;
	}
	return -1;
}

int parse_cmdline(int argc, char **argv, struct cmdline *cl)
{
	char shortopts[32];
	int c;

	snprintf(shortopts, sizeof(shortopts), ":%s", cl->shortopts ? cl->shortopts : "");
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, cl->opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return opt_fail(c, argv, cl->opts);
		if (c >= O_COMMON_THREADS && c <= O_COMMON_TITLE) {
			if (common_option(c, optarg, &cl->co))
				return -1;
		} else if (!cl->own || cl->own(c, optarg, cl->ctx)) {
			return -1;
		}
	}
	if (cl->args)
		*cl->args = optind;
	else if (optind != argc)
		return opt_extra(argv, argv[optind]);
	return 0;
}

void model_run_init(struct model_run *mr, struct cmdline *cl)
{
	memset(mr, 0, sizeof(*mr));
	mr->threads = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	mr->calib = -1;
	mr->ex.size = sizeof(mr->ex);
	cl->co.model = &mr->model;
	cl->co.data = &mr->data;
	cl->co.calib = &mr->calib;
	cl->co.threads = &mr->threads;
	cl->co.be = &mr->be;
	cl->co.json = &mr->json;
}

int model_run_check(const struct model_run *mr, const char *cmd)
{
	if (mr->model)
		return 0;
	fewmulctl_errx("%s: --model FILE is required", cmd);
	return CMD_USAGE;
}

int model_run_load(struct model_run *mr)
{
	char errbuf[512];

	if (backend_resolve(&mr->be, NULL))
		return -1;
	if (fewmul_model_load_ex(mr->model, mr->be.spec, mr->threads, &mr->t,
				 &mr->info, &mr->ex, errbuf, sizeof(errbuf))) {
		fewmulctl_errx("%s", errbuf);
		return -1;
	}
	return 0;
}

int model_run_settle(struct model_run *mr)
{
	return bn_stats_settle(mr->t, mr->model, &mr->info, &mr->ex, mr->calib,
			       mr->data, &mr->train, &mr->used, &mr->how);
}

void model_run_free(struct model_run *mr)
{
	fewmul_trainer_free(mr->t);	/* before the data it may have registered */
	mr->t = NULL;
	fewmul_dataset_free(&mr->train);
}
