// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl hist: per-layer log2|x| histograms of the hidden values and
 * per-layer operation counts, either of a live context (genetlink
 * FEWMUL_CMD_GET_HIST) or of a saved model. The engine fills histograms
 * while it trains (not while it evaluates), so for a model file this
 * trains a throw-away copy on --limit training samples and shows what
 * those steps saw; the file is not modified.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libfewmul.h"
#include "fewmulctl.h"
#include "chart.h"

#define NBINS	32
#define MINEXP	FEWMUL_HIST_MIN_EXP
#define BAR	40

struct layer_view {
	struct fewmul_ops ops;
	uint64_t bins[NBINS];
	int has_hist;
};

static void bin_label(unsigned int k, char *buf, size_t len)
{
	if (k == 0)
		snprintf(buf, len, "<=2^%d", MINEXP);
	else if (k == NBINS - 1)
		snprintf(buf, len, ">=2^%d", MINEXP + NBINS - 1);
	else
		snprintf(buf, len, "2^%d", MINEXP + (int)k);
}

static void print_layer(unsigned int l, unsigned int nr_layers,
			const struct layer_view *v)
{
	uint64_t total = 0, max = 0;
	unsigned int k, lo = NBINS, hi = 0;

	printf("layer %u%s: adds %.4g shifts %.4g muls %.4g\n", l,
	       l == 0 ? " (input)" : l == nr_layers ? " (output)" : "",
	       (double)v->ops.adds, (double)v->ops.shifts, (double)v->ops.muls);
	if (!v->has_hist)
		return;
	for (k = 0; k < NBINS; k++) {
		total += v->bins[k];
		if (v->bins[k] > max)
			max = v->bins[k];
		if (v->bins[k]) {
			if (k < lo)
				lo = k;
			hi = k;
		}
	}
	if (!total) {
		printf("  (no nonzero hidden values recorded yet)\n");
		return;
	}
	printf("  log2|x| of %" PRIu64 " nonzero hidden values:\n", total);
	for (k = lo; k <= hi; k++) {
		char label[16];
		int w = (int)((v->bins[k] * BAR + max - 1) / max);

		bin_label(k, label, sizeof(label));
		printf("  %8s |%.*s%*s| %6.2f%% %" PRIu64 "\n", label, w,
		       "########################################", BAR - w, "",
		       100.0 * (double)v->bins[k] / (double)total, v->bins[k]);
	}
}

static void json_layers(struct json *j, const struct layer_view *v,
			unsigned int first, unsigned int last)
{
	unsigned int l, k;

	json_double(j, "min_exp", MINEXP);	/* bins[k]: log2|x| = min_exp + k */
	json_arr_open(j, "layers");
	for (l = first; l <= last; l++) {
		json_obj_open(j, NULL);
		json_u64(j, "layer", l);
		json_u64(j, "adds", v[l].ops.adds);
		json_u64(j, "shifts", v[l].ops.shifts);
		json_u64(j, "muls", v[l].ops.muls);
		if (v[l].has_hist) {
			json_arr_open(j, "bins");
			for (k = 0; k < NBINS; k++)
				json_u64(j, NULL, v[l].bins[k]);
			json_arr_close(j);
		}
		json_obj_close(j);
	}
	json_arr_close(j);
}

/* A live context: its layer count from GET_STATS, then GET_HIST per layer. */
static int hist_ctx(uint64_t id, struct layer_view *v, unsigned int *nr_layers,
		    char *title, size_t len)
{
	struct fewmul_device_info info;
	struct fewmul_ctx_stats st;
	struct fewmul_layer_hist h;
	unsigned int l;
	int err;

	err = fewmul_genl_ctx_stats(id, &st);
	if (err == -ENOENT && fewmul_genl_info(&info) == 0) {
		fewmulctl_errx("--ctx %" PRIu64 ": no such context (or not yours)", id);
		return -1;
	}
	if (err) {
		explain_module_err(err == -ENOENT ? "genetlink family \"fewmul\"" :
				   "FEWMUL_CMD_GET_STATS", err);
		return -1;
	}
	if (!st.has_model || !st.nr_layers || st.nr_layers > FEWMUL_MAX_LAYERS) {
		fewmulctl_errx("--ctx %" PRIu64 ": the context has no model yet", id);
		return -1;
	}
	for (l = 0; l <= st.nr_layers; l++) {
		err = fewmul_genl_hist(id, l, &h);
		if (err) {
			fewmulctl_err("FEWMUL_CMD_GET_HIST", err);
			return -1;
		}
		v[l].ops = h.ops;
		memcpy(v[l].bins, h.bins, sizeof(v[l].bins));
		v[l].has_hist = l >= 1 && l < st.nr_layers;
	}
	*nr_layers = st.nr_layers;
	snprintf(title, len, "context %" PRIu64 " (pid %u): %u layers, %s%s, step %" PRIu64 ", %" PRIu64 " samples trained",
		 id, st.owner_pid, st.nr_layers, fewmul_weights_name(st.weights),
		 st.qbp ? "+QB" : "", st.step, st.samples);
	return 0;
}

/* A model file: train a copy on limit training samples, keep the counts. */
static int hist_model(const char *path, const char *data, uint32_t limit,
		      const struct backend_opt *be, uint32_t threads,
		      struct layer_view *v, unsigned int *nr_layers,
		      char *title, size_t len)
{
	struct fewmul_dataset ds = { 0 };
	struct fewmul_model_info info;
	struct fewmul_result r = { 0 };
	struct fewmul_trainer *t = NULL;
	uint32_t *idx = NULL, i, epoch, steps;
	uint64_t step0;
	unsigned int l;
	char errbuf[512];
	int err, ret = -1;

	err = fewmul_model_load(path, be->spec, threads, &t, &info, errbuf,
				sizeof(errbuf));
	if (err) {
		fewmulctl_errx("%s", errbuf);
		return -1;
	}
	if (fewmul_dataset_load_dir(data, 0, &ds)) {
		fewmulctl_errx("training data: %s", ds.error);
		goto out;
	}
	if (ds.rows * ds.cols != info.config.width[0]) {
		fewmulctl_errx("%s: the model's input width %u does not match the %ux%u images",
			       path, info.config.width[0], ds.rows, ds.cols);
		goto out;
	}
	if (!limit || limit > ds.count)
		limit = ds.count;
	idx = malloc(sizeof(*idx) * limit);
	if (!idx) {
		fewmulctl_err("allocating", -ENOMEM);
		goto out;
	}
	for (i = 0; i < limit; i++)
		idx[i] = i;
	epoch = info.epoch < info.config.epochs ? info.epoch : info.config.epochs - 1;
	steps = (limit + info.config.batch - 1) / info.config.batch;
	step0 = fewmul_trainer_step(t);
	err = fewmul_trainer_train(t, &ds, idx, limit, epoch, &r);
	if (err) {
		fewmulctl_err("training the copy", err);
		goto out;
	}
	*nr_layers = info.config.nr_layers;
	for (l = 0; l <= info.config.nr_layers; l++) {
		v[l].ops = r.layers[l];
		v[l].has_hist = l >= 1 && l < info.config.nr_layers;
		if (v[l].has_hist && fewmul_trainer_hist(t, l, v[l].bins)) {
			fewmulctl_errx("layer %u: no histogram", l);
			goto out;
		}
	}
	snprintf(title, len, "%s: %u layers, %s%s, step %" PRIu64 "; histograms of %u training steps (%u samples) on a copy, the file is unchanged",
		 path, info.config.nr_layers, fewmul_weights_name(info.config.weights),
		 info.config.qbp ? "+QB" : "", step0, steps, limit);
	ret = 0;
out:
	free(idx);
	fewmul_trainer_free(t);
	fewmul_dataset_free(&ds);
	return ret;
}

/*
 * --plot: one bar chart per hidden layer (of first..last), x the log2|x|
 * bin, y the fraction of the layer's nonzero values in it. *height 0:
 * chosen here; *panels: the charts drawn.
 */
static int plot_layers(const char *out, const char *title, int width,
		       int *height, unsigned int *panels,
		       const struct layer_view *v,
		       unsigned int nr_layers, unsigned int first,
		       unsigned int last)
{
	double x[NBINS], y[NBINS][FEWMUL_MAX_LAYERS + 1], top, ymax = 0;
	unsigned int l, k, n = 0, cols, rows, i = 0;
	uint64_t total[FEWMUL_MAX_LAYERS + 1] = { 0 };
	char ptitle[FEWMUL_MAX_LAYERS + 1][96];
	struct chart *c;

	/* only hidden layers have histograms (the caller checked there are some) */
	if (first < 1)
		first = 1;
	if (last > nr_layers - 1)
		last = nr_layers - 1;
	for (k = 0; k < NBINS; k++)
		x[k] = MINEXP + (int)k;
	for (l = first; l <= last; l++, n++) {
		for (k = 0; k < NBINS; k++)
			total[l] += v[l].bins[k];
		for (k = 0; k < NBINS; k++) {
			y[k][l] = total[l] ? (double)v[l].bins[k] / (double)total[l] : 0;
			if (y[k][l] > ymax)
				ymax = y[k][l];
		}
		snprintf(ptitle[l], sizeof(ptitle[l]), "layer %u: %" PRIu64 " nonzero values",
			 l, total[l]);
	}
	cols = n <= 2 ? 1 : 2;
	rows = (n + cols - 1) / cols;
	if (!*height)	/* default: 800 wide, 250..500 per row */
		*height = (int)(50 + rows * (rows == 1 ? 450 : rows == 2 ? 300 : 250));
	if (*height > 8000)
		*height = 8000;
	*panels = n;
	c = chart_open("--plot", out, width, *height);
	if (!c)
		return -1;
	top = chart_title(c, title);
	for (l = first; l <= last; l++, i++) {
		struct chart_panel p = { 0 };
		double yl[NBINS];

		for (k = 0; k < NBINS; k++)
			yl[k] = y[k][l];
		p.w = (width - 8.0) / cols;
		p.h = (*height - top - 4) / rows;
		p.x = 4 + (i % cols) * p.w;
		p.y = top + (i / cols) * p.h + (i >= cols ? 6 : 0);
		p.h -= i >= cols ? 6 : 0;
		p.xmin = MINEXP - 0.5;
		p.xmax = MINEXP + NBINS - 0.5;
		p.xstep = 4;
		p.ymin = 0;
		p.ymax = chart_nice_max(ymax * 1.05);
		p.title = ptitle[l];
		p.xlabel = "floor(log2|x|); the end bins hold everything beyond";
		p.ylabel = "fraction of values";
		chart_panel(c, &p);
		chart_bars(c, &p, x, yl, NBINS, 0.8, l - 1);
	}
	return chart_close(c);
}

enum { O_LIMIT = 256, O_LAYER, O_PLOT };

/* The options of hist alone. */
struct hist_opts {
	const char *plot;
	uint32_t limit, layer;
	int have_limit, have_layer;
};

static int hist_option(int c, const char *arg, void *ctx)
{
	struct hist_opts *h = ctx;

	switch (c) {
	case O_LIMIT:
		if (parse_u32(arg, 1, 1u << 30, &h->limit)) {
			fewmulctl_errx("--limit %s: want a positive number of samples", arg);
			return -1;
		}
		h->have_limit = 1;
		return 0;
	case O_LAYER:
		if (parse_u32(arg, 0, FEWMUL_MAX_LAYERS, &h->layer)) {
			fewmulctl_errx("--layer %s: want 0..%d", arg, FEWMUL_MAX_LAYERS);
			return -1;
		}
		h->have_layer = 1;
		return 0;
	case O_PLOT:
		h->plot = arg;
		return 0;
	}
	return -1;
}

static int hist_main(int argc, char **argv)
{
	static const struct option opts[] = {
		OPT_CTX, OPT_MODEL, OPT_DATA,
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "layer", required_argument, NULL, O_LAYER },
		OPT_BACKEND, OPT_THREADS, OPT_JSON,
		{ "plot", required_argument, NULL, O_PLOT },
		OPT_SIZE, OPT_TITLE, OPT_END,
	};
	/* the options that only a --model run takes */
	const unsigned int offline = COMMON_BIT(O_COMMON_DATA) |
		COMMON_BIT(O_COMMON_BACKEND) | COMMON_BIT(O_COMMON_DEVICE) |
		COMMON_BIT(O_COMMON_THREADS);
	struct layer_view v[FEWMUL_MAX_LAYERS + 1];
	struct hist_opts ho = { .limit = 1000 };
	const char *plot, *ptitle = NULL;
	int width = CHART_DEFAULT_WIDTH, height = 0;
	unsigned int panels = 0;
	char tbuf[300];
	struct backend_opt be = { 0 };
	const char *model = NULL, *data = NULL;
	uint32_t limit, layer, threads = 1;
	unsigned int nr_layers = 0, l, first, last;
	int json = 0, have_id, have_layer, offline_opt, err;
	uint64_t id = 0;
	char title[4400];
	struct cmdline cl = {
		.opts = opts, .own = hist_option, .ctx = &ho,
		.co = { .ctx = &id, .model = &model, .data = &data, .be = &be,
			.threads = &threads, .json = &json, .width = &width,
			.height = &height, .title = &ptitle },
	};

	err = parse_cmdline(argc, argv, &cl);
	if (err)
		return err;
	plot = ho.plot;
	limit = ho.limit;
	layer = ho.layer;
	have_layer = ho.have_layer;
	have_id = !!(cl.co.given & COMMON_BIT(O_COMMON_CTX));
	offline_opt = ho.have_limit || (cl.co.given & offline);
	if (have_id == !!model) {
		fewmulctl_errx("hist: %s", have_id ?
			       "--ctx and --model exclude each other" :
			       "give --ctx ID (a live context) or --model FILE (a saved model)");
		return -1;
	}
	if ((ptitle || height) && !plot) {
		fewmulctl_errx("hist: --size and --title only apply to --plot");
		return -1;
	}
	if (plot && !chart_format("--plot", plot))
		return -1;
	if (have_id && offline_opt) {
		fewmulctl_errx("hist: --data, --limit, --backend, --device and --threads only apply to --model");
		return -1;
	}

	memset(v, 0, sizeof(v));
	if (have_id) {
		if (hist_ctx(id, v, &nr_layers, title, sizeof(title)))
			return -1;
	} else {
		/* the cpu backend by default: nothing to share with others */
		if (backend_resolve(&be, "cpu"))
			return -1;
		if (hist_model(model, data, limit, &be, threads, v, &nr_layers,
			       title, sizeof(title)))
			return -1;
	}
	if (have_layer && layer > nr_layers) {
		fewmulctl_errx("--layer %u: the model has layers 0..%u", layer, nr_layers);
		return -1;
	}
	first = have_layer ? layer : 0;
	last = have_layer ? layer : nr_layers;
	if (plot && (nr_layers < 2 || (have_layer && (layer < 1 || layer >= nr_layers)))) {
		fewmulctl_errx("--plot %s: %s", plot, nr_layers < 2 ?
			       "the model has no hidden layer, so no histogram" :
			       "--layer selects a layer without a histogram (hidden layers are 1..L-1)");
		return -1;
	}

	if (plot) {
		if (!ptitle) {
			if (have_id)
				snprintf(tbuf, sizeof(tbuf), "log2|x| of hidden values, context %" PRIu64, id);
			else
				snprintf(tbuf, sizeof(tbuf), "log2|x| of hidden values, %s (%u training samples)",
					 model, limit);
			ptitle = tbuf;
		}
		if (plot_layers(plot, ptitle, width, &height, &panels, v,
				nr_layers, first, last))
			return -1;
	}
	if (json) {
		struct json j;

		json_begin(&j, stdout);
		if (have_id)
			json_u64(&j, "ctx", id);
		else
			json_str(&j, "model", model);
		json_u64(&j, "nr_layers", nr_layers);
		json_layers(&j, v, first, last);
		if (plot)
			json_str(&j, "plot", plot);
		json_end(&j);
	} else {
		printf("%s\n", title);
		for (l = first; l <= last; l++)
			print_layer(l, nr_layers, &v[l]);
		/* what --plot wrote, as plot says it */
		if (plot)
			printf("%s: %dx%d %s, %u panel%s (one per hidden layer)\n",
			       plot, width, height, chart_format("--plot", plot),
			       panels, panels == 1 ? "" : "s");
	}
	return 0;
}

const struct fewmulctl_cmd cmd_hist = {
	.name = "hist",
	.usage = "--ctx ID | --model FILE [--data DIR] [--limit N] [--backend B] [--threads N] [--layer L] [--plot OUT.png|OUT.svg [--size WxH] [--title T]] [--json]",
	.summary = "per-layer log2|x| histograms of hidden values and per-layer operations",
	.options =
	"  --ctx ID               a live context of the kernel backend (see 'fewmulctl stats')\n"
	"  --model FILE           a saved model: train a throw-away copy and show what it saw\n"
	HELP_DATA
	"  --limit N              training samples of the copy (default 1000)\n"
	"  --backend kernel|cpu   where the copy trains (default cpu)\n"
	HELP_DEVICE
	"  --threads N            threads that run the steps, either backend (default 1)\n"
	"  --layer L              show only layer L (0: input .. L: output)\n"
	"  --plot FILE            also draw the hidden layers' histograms, one panel each,\n"
	"                         to FILE.png or FILE.svg\n"
	"  --size WxH             size of the --plot image in pixels (default 800x500 for\n"
	"                         one row of panels, 250 to 300 higher per extra row)\n"
	"  --title TEXT           title of the --plot image\n"
	HELP_JSON,
	.run = hist_main,
};
