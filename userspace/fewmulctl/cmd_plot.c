// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl plot: draw the train, validation and test error per epoch of
 * one or more `train --log` CSV files into one PNG or SVG chart, and the
 * training loss per epoch in a second panel beside it.
 *
 * Columns are found by name in the header (epoch, train_error,
 * test_error and, when present, val_error and train_loss), so logs with
 * or without the val_error column both work. Errors are fractions in the
 * file and percent in the chart. A file that restarts at a lower epoch (a
 * new run appended to the same log) becomes a second series, "NAME #2".
 * NAME is the file's --label, or the shortest end of its path that no
 * other file shares ("log.csv", or "a/log.csv" beside "b/log.csv").
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libfewmul.h"
#include "fewmulctl.h"
#include "chart.h"

#define MAX_FIELDS	64

struct run {
	char name[256];
	const char *path;
	double *epoch, *train, *val, *test, *loss;
	size_t n, cap;
	int has_val, has_loss;
};

struct runs {
	struct run *v;
	size_t n, cap;
};

static void runs_free(struct runs *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		free(rs->v[i].epoch);
		free(rs->v[i].train);
		free(rs->v[i].val);
		free(rs->v[i].test);
		free(rs->v[i].loss);
	}
	free(rs->v);
}

static struct run *run_new(struct runs *rs, const char *path,
			   const char *name, unsigned int nth)
{
	struct run *r;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 8;
		struct run *v = realloc(rs->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		rs->v = v;
		rs->cap = cap;
	}
	r = &rs->v[rs->n++];
	memset(r, 0, sizeof(*r));
	r->path = path;
	if (nth > 1)
		snprintf(r->name, sizeof(r->name), "%s #%u", name, nth);
	else
		snprintf(r->name, sizeof(r->name), "%s", name);
	return r;
}

static int run_add(struct run *r, double ep, double tr, double va, double te,
		   double lo)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		double *a = realloc(r->epoch, cap * sizeof(double));
		double *b = a ? realloc(r->train, cap * sizeof(double)) : NULL;
		double *c = b ? realloc(r->val, cap * sizeof(double)) : NULL;
		double *e = c ? realloc(r->test, cap * sizeof(double)) : NULL;
		double *d = e ? realloc(r->loss, cap * sizeof(double)) : NULL;

		/* each realloc that succeeded is kept, so nothing leaks */
		if (a)
			r->epoch = a;
		if (b)
			r->train = b;
		if (c)
			r->val = c;
		if (e)
			r->test = e;
		if (d)
			r->loss = d;
		if (!d)
			return -ENOMEM;
		r->cap = cap;
	}
	r->epoch[r->n] = ep;
	r->train[r->n] = tr;
	r->val[r->n] = va;
	r->test[r->n] = te;
	r->loss[r->n] = lo;
	r->n++;
	if (!isnan(va))
		r->has_val = 1;
	if (!isnan(lo))
		r->has_loss = 1;
	return 0;
}

/* Split line at commas in place; returns the number of fields. */
static int split(char *line, char **f)
{
	int n = 0;

	for (;;) {
		if (n == MAX_FIELDS)
			return n + 1;	/* too many: the caller reports it */
		f[n++] = line;
		line = strchr(line, ',');
		if (!line)
			return n;
		*line++ = '\0';
	}
}

struct columns {
	int nf, epoch, train, test, val, loss;
};

static int header(const char *path, unsigned long lineno, char *line,
		  struct columns *col)
{
	char *f[MAX_FIELDS];
	int i, nf = split(line, f);

	if (nf > MAX_FIELDS) {
		fewmulctl_errx("%s:%lu: more than %d columns", path, lineno, MAX_FIELDS);
		return -1;
	}
	col->nf = nf;
	col->epoch = col->train = col->test = col->val = col->loss = -1;
	for (i = 0; i < nf; i++) {
		if (!strcmp(f[i], "epoch"))
			col->epoch = i;
		else if (!strcmp(f[i], "train_error"))
			col->train = i;
		else if (!strcmp(f[i], "test_error"))
			col->test = i;
		else if (!strcmp(f[i], "val_error"))
			col->val = i;
		else if (!strcmp(f[i], "train_loss"))
			col->loss = i;
	}
	if (col->epoch < 0 || col->train < 0 || col->test < 0) {
		fewmulctl_errx("%s:%lu: no %s column; want the header of 'fewmulctl train --log'",
			       path, lineno, col->epoch < 0 ? "epoch" :
			       col->train < 0 ? "train_error" : "test_error");
		return -1;
	}
	return 0;
}

/* An error rate: a number in [0, 1]; "" is NaN where empty is allowed. */
static int rate(const char *s, int empty_ok, double *out)
{
	char *end;

	if (!*s && empty_ok) {
		*out = NAN;
		return 0;
	}
	errno = 0;
	*out = strtod(s, &end);
	if (!*s || *end || errno || !(*out >= 0 && *out <= 1))
		return -1;
	*out *= 100;
	return 0;
}

/* A loss: a finite number >= 0. */
static int loss_value(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return !*s || *end || errno || !(*out >= 0 && isfinite(*out)) ? -1 : 0;
}

/*
 * The next non-empty line of fp without its line end: its length, 0 at
 * the end of the file, -1 after printing why not (a NUL byte, a read
 * error).
 */
static ssize_t next_line(FILE *fp, const char *path, char **line, size_t *cap,
			 unsigned long *lineno)
{
	ssize_t len;

	while ((len = getline(line, cap, fp)) >= 0) {
		(*lineno)++;
		while (len > 0 && ((*line)[len - 1] == '\n' || (*line)[len - 1] == '\r'))
			(*line)[--len] = '\0';
		if (!len)
			continue;
		if (strlen(*line) != (size_t)len) {
			fewmulctl_errx("%s:%lu: a NUL byte (not a CSV file)", path, *lineno);
			return -1;
		}
		return len;
	}
	if (ferror(fp)) {
		fewmulctl_err(path, -EIO);
		return -1;
	}
	return 0;
}

static int read_log(const char *path, const char *name, struct runs *rs)
{
	struct columns col = { 0 };
	char *line = NULL, *f[MAX_FIELDS];
	unsigned long lineno = 0;
	unsigned int nth = 0;
	struct run *r = NULL;
	size_t cap = 0, rows = 0;
	double tr, va, te, lo = NAN, last = 0;
	uint32_t ep;
	ssize_t len;
	FILE *fp;
	int nf, k, ret = -1;

	fp = fopen(path, "r");
	if (!fp) {
		fewmulctl_err(path, -errno);
		return -1;
	}
	while ((len = next_line(fp, path, &line, &cap, &lineno)) > 0) {
		/* the header, also where another log was appended */
		if (!strncmp(line, "epoch,", 6) || !col.nf) {
			if (header(path, lineno, line, &col))
				goto out;
			r = NULL;
			continue;
		}
		nf = split(line, f);
		if (nf != col.nf) {
			fewmulctl_errx("%s:%lu: %s%d fields, the header has %d", path,
				       lineno, nf > MAX_FIELDS ? "over " : "",
				       nf > MAX_FIELDS ? MAX_FIELDS : nf, col.nf);
			goto out;
		}
		if (parse_u32(f[col.epoch], 1, UINT32_MAX, &ep)) {
			fewmulctl_errx("%s:%lu: epoch '%s' is not a positive number",
				       path, lineno, f[col.epoch]);
			goto out;
		}
		k = rate(f[col.train], 0, &tr) ? col.train :
		    rate(f[col.test], 0, &te) ? col.test :
		    col.val >= 0 && rate(f[col.val], 1, &va) ? col.val : -1;
		if (k >= 0) {
			fewmulctl_errx("%s:%lu: %s '%s' is not an error rate 0..1",
				       path, lineno, k == col.train ? "train_error" :
				       k == col.test ? "test_error" : "val_error", f[k]);
			goto out;
		}
		if (col.val < 0)
			va = NAN;
		if (col.loss < 0) {
			lo = NAN;
		} else if (loss_value(f[col.loss], &lo)) {
			fewmulctl_errx("%s:%lu: train_loss '%s' is not a loss (a number >= 0)",
				       path, lineno, f[col.loss]);
			goto out;
		}
		if (!r || ep <= last) {	/* a new run starts at a lower epoch */
			r = run_new(rs, path, name, ++nth);
			if (!r) {
				fewmulctl_err(path, -ENOMEM);
				goto out;
			}
		}
		if (run_add(r, ep, tr, va, te, lo)) {
			fewmulctl_err(path, -ENOMEM);
			goto out;
		}
		last = ep;
		rows++;
	}
	if (len < 0)
		goto out;	/* next_line() said why */
	if (!col.nf) {
		fewmulctl_errx("%s: empty file; want the CSV of 'fewmulctl train --log'", path);
		goto out;
	}
	if (!rows) {
		fewmulctl_errx("%s: no data rows (only the header)", path);
		goto out;
	}
	ret = 0;
out:
	free(line);
	fclose(fp);
	return ret;
}

#define LABEL_LEN	(sizeof(((struct run *)0)->name) + 8)

/* Legend entry nk: "NAME what", colour of run i, style st. */
static void add_key(struct chart_key *keys, char (*labels)[LABEL_LEN],
		    size_t *nk, const struct run *r, size_t i, const char *what,
		    enum chart_style st)
{
	snprintf(labels[*nk], LABEL_LEN, "%s %s", r->name, what);
	keys[*nk].label = labels[*nk];
	keys[*nk].color = (unsigned int)i;
	keys[*nk].style = st;
	(*nk)++;
}

static int draw(const struct runs *rs, const char *out, const char *title,
		int width, int height)
{
	struct chart_panel p = { 0 }, pl = { 0 };
	struct chart_key *keys;
	char (*labels)[LABEL_LEN];
	double top, lw, xmin = INFINITY, xmax = -INFINITY, ymax = 0, lmax = 0, w;
	size_t i, j, nk = 0;
	int has_loss = 0;
	struct chart *c;
	int ret;

	keys = calloc(rs->n * 3, sizeof(*keys));
	labels = calloc(rs->n * 3, sizeof(*labels));
	if (!keys || !labels) {
		free(keys);
		free(labels);
		fewmulctl_err(out, -ENOMEM);
		return -1;
	}
	for (i = 0; i < rs->n; i++) {
		const struct run *r = &rs->v[i];

		for (j = 0; j < r->n; j++) {
			xmin = fmin(xmin, r->epoch[j]);
			xmax = fmax(xmax, r->epoch[j]);
			ymax = fmax(ymax, fmax(r->train[j], r->test[j]));
			if (!isnan(r->val[j]))
				ymax = fmax(ymax, r->val[j]);
			if (!isnan(r->loss[j]))
				lmax = fmax(lmax, r->loss[j]);
		}
		has_loss |= r->has_loss;
		/* one colour per run; dashed train, dotted val, solid test */
		add_key(keys, labels, &nk, r, i, "train", CHART_DASHED);
		if (r->has_val)
			add_key(keys, labels, &nk, r, i, "val", CHART_DOTTED);
		add_key(keys, labels, &nk, r, i, "test", CHART_SOLID);
	}
	if (xmin == xmax) {	/* one epoch: centre it */
		xmin -= 1;
		xmax += 1;
	}

	c = chart_open("-o", out, width, height);
	if (!c) {
		free(keys);
		free(labels);
		return -1;
	}
	if (!title)
		title = has_loss ? "Error rate and training loss per epoch" :
				   "Error rate per epoch";
	top = chart_title(c, title);
	lw = chart_legend_width(c, keys, nk, width * 0.35);
	/* the error panel, and the loss panel right of it */
	w = width - lw - 24;
	p.x = 6;
	p.y = top;
	p.w = has_loss ? floor(w * 0.56) : w;
	p.h = height - top - 4;
	p.xmin = xmin;
	p.xmax = xmax;
	p.ymin = 0;
	p.ymax = chart_nice_max(ymax * 1.04);
	if (p.ymax > 100)
		p.ymax = 100;
	p.xinteger = 1;
	p.xlabel = "epoch";
	p.ylabel = "error (%)";
	if (has_loss) {
		p.title = "Error rate";
		pl = p;
		pl.x = p.x + p.w;
		pl.w = w - p.w;
		pl.ymax = chart_nice_max(lmax * 1.04);
		pl.title = "Training loss";
		pl.ylabel = "train loss";
	}
	chart_panel(c, &p);
	if (has_loss)
		chart_panel(c, &pl);
	for (i = 0; i < rs->n; i++) {
		const struct run *r = &rs->v[i];

		chart_line(c, &p, r->epoch, r->train, r->n, (unsigned int)i, CHART_DASHED);
		if (r->has_val)
			chart_line(c, &p, r->epoch, r->val, r->n, (unsigned int)i, CHART_DOTTED);
		chart_line(c, &p, r->epoch, r->test, r->n, (unsigned int)i, CHART_SOLID);
		/* the training loss: dashed, as the training error */
		if (r->has_loss)
			chart_line(c, &pl, r->epoch, r->loss, r->n, (unsigned int)i,
				   CHART_DASHED);
	}
	chart_legend(c, width - lw - 12, p.py, lw, keys, nk);
	ret = chart_close(c);
	free(keys);
	free(labels);
	return ret;
}

static double last_of(const double *v, size_t n)
{
	while (n--)
		if (!isnan(v[n]))
			return v[n];
	return NAN;
}

/* ---- --xy: a table of series against its first column ------------------ */

#define XY_MAX_SERIES	(MAX_FIELDS - 1)

struct xytab {
	char *names[MAX_FIELDS];	/* the header's column names */
	int nc;				/* columns: x and nc - 1 series */
	double *v;			/* rows x nc values; NaN: empty */
	size_t n, cap;
	int errors;			/* every series is an error rate */
};

static int is_error_name(const char *s)
{
	size_t n = strlen(s);

	return n >= 6 && !strcmp(s + n - 6, "_error");
}

/*
 * A CSV table: a header naming x and the series, then rows of numbers
 * (a series may leave a cell empty). Series named *_error are error
 * rates 0..1, drawn in percent.
 */
static int read_xy(const char *path, struct xytab *t)
{
	char *line = NULL, *f[MAX_FIELDS], *end;
	unsigned long lineno = 0;
	size_t cap = 0;
	ssize_t len;
	FILE *fp;
	int i, nf, ret = -1;

	fp = fopen(path, "r");
	if (!fp) {
		fewmulctl_err(path, -errno);
		return -1;
	}
	while ((len = next_line(fp, path, &line, &cap, &lineno)) > 0) {
		nf = split(line, f);
		if (nf > MAX_FIELDS) {
			fewmulctl_errx("%s:%lu: more than %d columns", path, lineno,
				       MAX_FIELDS);
			goto out;
		}
		if (!t->nc) {
			if (nf < 2) {
				fewmulctl_errx("%s:%lu: want a header of x and one or more series, e.g. 'exponents,test_error'",
					       path, lineno);
				goto out;
			}
			t->errors = 1;
			for (i = 0; i < nf; i++) {
				t->names[i] = strdup(f[i]);
				if (!t->names[i]) {
					fewmulctl_err(path, -ENOMEM);
					goto out;
				}
				if (i)
					t->errors &= is_error_name(f[i]);
			}
			t->nc = nf;
			continue;
		}
		if (nf != t->nc) {
			fewmulctl_errx("%s:%lu: %d fields, the header has %d", path,
				       lineno, nf, t->nc);
			goto out;
		}
		if (t->n == t->cap) {
			size_t c2 = t->cap ? 2 * t->cap : 16;
			double *v = realloc(t->v, c2 * (size_t)t->nc * sizeof(*v));

			if (!v) {
				fewmulctl_err(path, -ENOMEM);
				goto out;
			}
			t->v = v;
			t->cap = c2;
		}
		for (i = 0; i < nf; i++) {
			double *d = &t->v[t->n * (size_t)t->nc + (size_t)i];

			if (i && !*f[i]) {
				*d = NAN;
				continue;
			}
			errno = 0;
			*d = strtod(f[i], &end);
			if (!*f[i] || *end || errno || !isfinite(*d) ||
			    (i && is_error_name(t->names[i]) && !(*d >= 0 && *d <= 1))) {
				fewmulctl_errx("%s:%lu: %s '%s' is not %s", path, lineno,
					       t->names[i], f[i],
					       i && is_error_name(t->names[i]) ?
					       "an error rate 0..1" : "a number");
				goto out;
			}
			if (i && is_error_name(t->names[i]))
				*d *= 100;
		}
		t->n++;
	}
	if (len < 0)
		goto out;	/* next_line() said why */
	if (!t->nc) {
		fewmulctl_errx("%s: empty file; want a CSV table with a header", path);
		goto out;
	}
	if (!t->n) {
		fewmulctl_errx("%s: no data rows (only the header)", path);
		goto out;
	}
	ret = 0;
out:
	free(line);
	fclose(fp);
	return ret;
}

static void xy_free(struct xytab *t)
{
	int i;

	for (i = 0; i < t->nc; i++)
		free(t->names[i]);
	free(t->v);
}

static int draw_xy(const struct xytab *t, const char *out, const char *title,
		   int width, int height)
{
	struct chart_panel p = { 0 };
	struct chart_key keys[XY_MAX_SERIES];
	double *x, *y, ymin = INFINITY, ymax = -INFINITY, lw;
	size_t r;
	struct chart *c;
	int i, integer = 1;

	x = calloc(t->n, sizeof(*x));
	y = calloc(t->n, sizeof(*y));
	if (!x || !y) {
		free(x);
		free(y);
		fewmulctl_err(out, -ENOMEM);
		return -1;
	}
	p.xmin = INFINITY;
	p.xmax = -INFINITY;
	for (r = 0; r < t->n; r++) {
		x[r] = t->v[r * (size_t)t->nc];
		p.xmin = fmin(p.xmin, x[r]);
		p.xmax = fmax(p.xmax, x[r]);
		integer &= x[r] == floor(x[r]);
		for (i = 1; i < t->nc; i++) {
			double v = t->v[r * (size_t)t->nc + (size_t)i];

			if (!isnan(v)) {
				ymin = fmin(ymin, v);
				ymax = fmax(ymax, v);
			}
		}
	}
	if (p.xmin == p.xmax) {
		p.xmin -= 1;
		p.xmax += 1;
	}
	if (!(ymax > -INFINITY))
		ymin = ymax = 0;
	for (i = 1; i < t->nc; i++) {
		keys[i - 1].label = t->names[i];
		keys[i - 1].color = (unsigned int)(i - 1);
		keys[i - 1].style = CHART_SOLID;
	}
	c = chart_open("-o", out, width, height);
	if (!c) {
		free(x);
		free(y);
		return -1;
	}
	p.y = chart_title(c, title ? title : t->names[0]);
	lw = chart_legend_width(c, keys, (size_t)t->nc - 1, width * 0.35);
	p.x = 6;
	p.w = width - lw - 24;
	p.h = height - p.y - 4;
	p.ymin = ymin >= 0 ? 0 : -chart_nice_max(-ymin * 1.04);
	p.ymax = ymax > 0 ? chart_nice_max(ymax * 1.04) : 1;
	if (t->errors && p.ymax > 100)
		p.ymax = 100;
	p.xinteger = integer;
	p.xlabel = t->names[0];
	p.ylabel = t->errors ? "error (%)" : "value";
	chart_panel(c, &p);
	for (i = 1; i < t->nc; i++) {
		for (r = 0; r < t->n; r++)
			y[r] = t->v[r * (size_t)t->nc + (size_t)i];
		chart_line(c, &p, x, y, t->n, (unsigned int)(i - 1), CHART_SOLID);
	}
	chart_legend(c, width - lw - 12, p.py, lw, keys, (size_t)t->nc - 1);
	free(x);
	free(y);
	return chart_close(c);
}

int plot_read_xy(const char *path)
{
	struct xytab t = { 0 };
	int ret = read_xy(path, &t);

	xy_free(&t);
	return ret;
}

static int plot_xy(const char *path, const char *out, const char *fmt,
		   const char *title, int width, int height, int json)
{
	struct xytab t = { 0 };
	int i, ret = -1;

	if (read_xy(path, &t) || draw_xy(&t, out, title, width, height))
		goto out;
	if (json) {
		struct json j;

		json_begin(&j, stdout);
		json_str(&j, "output", out);
		json_str(&j, "format", fmt);
		json_u64(&j, "width", (unsigned int)width);
		json_u64(&j, "height", (unsigned int)height);
		json_str(&j, "x", t.names[0]);
		json_arr_open(&j, "series");
		for (i = 1; i < t.nc; i++)
			json_str(&j, NULL, t.names[i]);
		json_arr_close(&j);
		json_u64(&j, "points", t.n);
		json_end(&j);
	} else {
		printf("%s: %dx%d %s, %d series of %zu points against %s\n", out,
		       width, height, fmt, t.nc - 1, t.n, t.names[0]);
	}
	ret = 0;
out:
	xy_free(&t);
	return ret;
}

int plot_read_log(const char *path)
{
	struct runs rs = { 0 };
	int ret = read_log(path, path, &rs);

	runs_free(&rs);
	return ret;
}

/*
 * The last k components of path ("a/b/c.csv", 2: "b/c.csv"), all of it
 * when it has no more.
 */
static const char *path_tail(const char *path, unsigned int k)
{
	const char *q = path + strlen(path);

	for (;;) {
		while (q > path && q[-1] != '/')
			q--;
		if (!--k)
			return q;
		while (q > path && q[-1] == '/')
			q--;
		if (q == path)
			return path;
	}
}

/*
 * The legend name of file i of n: its --label, else the shortest end of
 * its path no other unlabelled file has (and the file's position when
 * the same path is given twice).
 */
static void file_name(char **paths, int n, const char *const *labels,
		      int nl, int i, char *buf, size_t len)
{
	const char *t;
	unsigned int k;
	int j, clash = 0;

	if (i < nl) {
		snprintf(buf, len, "%s", labels[i]);
		return;
	}
	for (k = 1;; k++) {
		t = path_tail(paths[i], k);
		for (clash = 0, j = nl; j < n && !clash; j++)
			clash = j != i && !strcmp(t, path_tail(paths[j], k));
		if (!clash || t == paths[i])
			break;
	}
	if (clash)
		snprintf(buf, len, "%s (%d)", t, i + 1);
	else
		snprintf(buf, len, "%s", t);
}

/* The options of plot alone: -o and --label. */
struct plot_opts {
	const char *out;
	const char **labels;
	int nl;
	int xy;
};

enum { O_LABEL = 256, O_XY };

static int plot_option(int c, const char *arg, void *ctx)
{
	struct plot_opts *po = ctx;
	const char **v;

	if (c == 'o') {
		po->out = arg;
		return 0;
	}
	if (c == O_XY) {
		po->xy = 1;
		return 0;
	}
	if (!*arg) {	/* --label */
		fewmulctl_errx("--label '': want a name for the legend");
		return -1;
	}
	v = realloc(po->labels, (size_t)(po->nl + 1) * sizeof(*v));
	if (!v) {
		fewmulctl_err("--label", -ENOMEM);
		return -1;
	}
	v[po->nl++] = arg;
	po->labels = v;
	return 0;
}

static int plot_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "label", required_argument, NULL, O_LABEL },
		{ "xy", no_argument, NULL, O_XY },
		OPT_TITLE, OPT_SIZE, OPT_JSON, OPT_END,
	};
	int width = CHART_DEFAULT_WIDTH, height = CHART_DEFAULT_HEIGHT;
	const char *out, *title = NULL, *fmt;
	struct plot_opts po = { 0 };
	struct runs rs = { 0 };
	int i, json = 0, ret = -1, first;
	struct cmdline cl = {
		.opts = opts, .shortopts = "o:", .own = plot_option, .ctx = &po,
		.args = &first,
		.co = { .title = &title, .width = &width, .height = &height,
			.json = &json },
	};
	char name[200];
	size_t k;

	ret = parse_cmdline(argc, argv, &cl);
	out = po.out;
	if (ret)
		goto out;
	ret = CMD_USAGE;
	if (!out) {
		fewmulctl_errx("plot: -o FILE.png|FILE.svg is required");
		goto out;
	}
	if (first == argc) {
		fewmulctl_errx("plot: give one or more CSV files of 'fewmulctl train --log'");
		goto out;
	}
	if (po.nl > argc - first) {
		fewmulctl_errx("plot: %d --label for %d file%s; give at most one per file, in order",
			       po.nl, argc - first, argc - first == 1 ? "" : "s");
		goto out;
	}
	if (po.xy && (argc - first != 1 || po.nl)) {
		fewmulctl_errx("plot --xy: give one CSV table, and no --label (its header names the series)");
		goto out;
	}
	ret = -1;
	fmt = chart_format("-o", out);
	if (!fmt)
		goto out;
	if (po.xy) {
		ret = plot_xy(argv[first], out, fmt, title, width, height, json);
		goto out;
	}
	for (i = first; i < argc; i++) {
		file_name(argv + first, argc - first, po.labels, po.nl, i - first,
			  name, sizeof(name));
		if (read_log(argv[i], name, &rs))
			goto out;
	}
	if (draw(&rs, out, title, width, height))
		goto out;

	if (json) {
		struct json j;

		json_begin(&j, stdout);
		json_str(&j, "output", out);
		json_str(&j, "format", fmt);
		json_u64(&j, "width", (unsigned int)width);
		json_u64(&j, "height", (unsigned int)height);
		json_arr_open(&j, "runs");
		for (k = 0; k < rs.n; k++) {
			const struct run *r = &rs.v[k];

			json_obj_open(&j, NULL);
			json_str(&j, "file", r->path);
			json_str(&j, "name", r->name);
			json_u64(&j, "points", r->n);
			json_u64(&j, "first_epoch", (unsigned long long)r->epoch[0]);
			json_u64(&j, "last_epoch", (unsigned long long)r->epoch[r->n - 1]);
			json_double(&j, "train_error", r->train[r->n - 1] / 100);
			if (r->has_val)
				json_double(&j, "val_error", last_of(r->val, r->n) / 100);
			json_double(&j, "test_error", r->test[r->n - 1] / 100);
			if (r->has_loss)
				json_double(&j, "train_loss", last_of(r->loss, r->n));
			json_obj_close(&j);
		}
		json_arr_close(&j);
		json_end(&j);
	} else {
		printf("%s: %dx%d %s, %zu run%s\n", out, width, height, fmt, rs.n,
		       rs.n == 1 ? "" : "s");
		for (k = 0; k < rs.n; k++) {
			const struct run *r = &rs.v[k];
			char vbuf[32] = "";

			if (r->has_val)
				snprintf(vbuf, sizeof(vbuf), " val %.2f%%",
					 last_of(r->val, r->n));
			printf("  %s: epochs %.0f..%.0f, last train %.2f%%%s test %.2f%%\n",
			       r->name, r->epoch[0], r->epoch[r->n - 1],
			       r->train[r->n - 1], vbuf, r->test[r->n - 1]);
		}
	}
	ret = 0;
out:
	runs_free(&rs);
	free(po.labels);
	return ret;
}

const struct fewmulctl_cmd cmd_plot = {
	.name = "plot",
	.usage = "RUN.csv [RUN2.csv ...] -o OUT.png|OUT.svg [--label NAME ...] [--title TEXT] [--size WxH] [--json]\n"
		 "       fewmulctl plot --xy TABLE.csv -o OUT.png|OUT.svg [--title TEXT] [--size WxH] [--json]",
	.summary = "draw train, validation and test error and the training loss per epoch of train --log files",
	.options =
	"  -o, --output FILE      the image to write: FILE.png or FILE.svg\n"
	"  --label NAME           the legend name of a file, once per file in order\n"
	"                         (default: the end of its path that tells it apart)\n"
	"  --xy                   draw a CSV table instead: its first column is x, every\n"
	"                         other a series (named *_error: error rates, in %)\n"
	"  --title TEXT           chart title (default \"Error rate and training loss per\n"
	"                         epoch\", without train_loss \"Error rate per epoch\")\n"
	"  --size WxH             image size in pixels, 200x150..8000x8000 (default 800x500)\n"
	HELP_JSON,
	.run = plot_main,
};
