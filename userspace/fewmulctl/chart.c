// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl charts: the cairo drawing shared by `plot` and `hist --plot`.
 * PNG through an image surface and cairo_surface_write_to_png_stream(),
 * SVG through cairo_svg_surface_create_for_stream(), both into a FILE on
 * libfewmul's fewmul_outfile: a temporary file renamed over the target
 * when the image is complete, so a failure never leaves half an image
 * and never removes or replaces what is not a regular file. Errors name
 * the file and errno. Cairo draws SVG text as glyph outlines; the chart's
 * title and its panel titles and legend entries are also written as the
 * SVG's <title> and <desc>, for search and screen readers.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cairo.h>
#include <cairo-svg.h>
#include <fontconfig/fontconfig.h>

#include "libfewmul.h"
#include "fewmulctl.h"
#include "chart.h"

#define FONT		"sans-serif"
#define FS_TICK		11.0
#define FS_LABEL	12.0
#define FS_PANEL	12.5
#define FS_TITLE	16.0

struct chart {
	cairo_surface_t *surface;
	cairo_t *cr;
	FILE *f;
	struct fewmul_outfile *of;
	char *path;
	int svg;
	int width, height;
	/* SVG: the document is built in memory, then written with the text */
	FILE *mem;
	char *doc, *title, *text;
	size_t doc_len, text_len;
};

/* Tableau 10: distinct, and readable on white. */
static const unsigned int palette[] = {
	0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
	0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf,
};

static void set_rgb(cairo_t *cr, unsigned int rgb)
{
	cairo_set_source_rgb(cr, ((rgb >> 16) & 0xff) / 255.0,
			     ((rgb >> 8) & 0xff) / 255.0, (rgb & 0xff) / 255.0);
}

static void set_color(cairo_t *cr, unsigned int color)
{
	set_rgb(cr, palette[color % (sizeof(palette) / sizeof(palette[0]))]);
}

static void font(cairo_t *cr, double size, int bold)
{
	cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
			       bold ? CAIRO_FONT_WEIGHT_BOLD :
			       CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
}

static double text_width(cairo_t *cr, const char *s)
{
	cairo_text_extents_t e;

	cairo_text_extents(cr, s, &e);
	return e.x_advance;
}

/*
 * Draw s with its anchor at (x, y): ax 0/0.5/1 = left/centre/right, and
 * the baseline placed so that y is the vertical centre of a capital.
 */
static void text_at(cairo_t *cr, double x, double y, double ax, const char *s)
{
	cairo_font_extents_t fe;

	cairo_font_extents(cr, &fe);
	cairo_move_to(cr, x - ax * text_width(cr, s), y + fe.ascent * 0.36);
	cairo_show_text(cr, s);
}

/*
 * s, or a copy in buf shortened in the middle with "..." to at most max_w
 * pixels: the end of a label ("FILE test") says as much as its start.
 */
static const char *fit(cairo_t *cr, const char *s, double max_w, char *buf,
		       size_t len)
{
	size_t n = strlen(s), keep;

	if (text_width(cr, s) <= max_w)
		return s;
	if (n >= len - 4)
		n = len - 4;
	for (keep = n; keep > 0; keep--) {
		size_t head = (keep + 1) / 2, tail = keep - head;

		snprintf(buf, len, "%.*s...%s", (int)head, s, s + strlen(s) - tail);
		if (text_width(cr, buf) <= max_w)
			return buf;
	}
	snprintf(buf, len, "...");
	return buf;
}

/* Release cairo's and fontconfig's caches at exit (clean leak checks). */
static void chart_release_static(void)
{
	cairo_debug_reset_static_data();
	FcFini();
}

const char *chart_format(const char *opt, const char *path)
{
	const char *dot = strrchr(path, '.');

	if (dot && !strcasecmp(dot, ".png"))
		return "png";
	if (dot && !strcasecmp(dot, ".svg"))
		return "svg";
	fewmulctl_errx("%s %s: unknown image format; want a name ending in .png or .svg",
		       opt, path);
	return NULL;
}

int chart_parse_size(const char *opt, const char *arg, int *width, int *height)
{
	uint32_t w, h;
	const char *x = strchr(arg, 'x');
	char buf[16];

	if (x && (size_t)(x - arg) < sizeof(buf)) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(x - arg), arg);
		if (!parse_u32(buf, 200, 8000, &w) &&
		    !parse_u32(x + 1, 150, 8000, &h)) {
			*width = (int)w;
			*height = (int)h;
			return 0;
		}
	}
	fewmulctl_errx("%s %s: want WIDTHxHEIGHT in pixels, 200x150 to 8000x8000",
		       opt, arg);
	return -1;
}

static cairo_status_t write_fn(void *closure, const unsigned char *data,
			       unsigned int len)
{
	FILE *f = closure;

	return fwrite(data, 1, len, f) == len ? CAIRO_STATUS_SUCCESS :
						CAIRO_STATUS_WRITE_ERROR;
}

static void chart_free(struct chart *c, int remove);

/* Remember s (SVG only) for the <desc> of the document, one line each. */
static void note_text(struct chart *c, const char *s)
{
	size_t n = strlen(s);
	char *t;

	if (!c->svg || !*s)
		return;
	t = realloc(c->text, c->text_len + n + 2);
	if (!t)
		return;		/* only the description is shorter */
	memcpy(t + c->text_len, s, n);
	t[c->text_len + n] = '\n';
	t[c->text_len + n + 1] = '\0';
	c->text = t;
	c->text_len += n + 1;
}

/* s as XML character data. */
static void xml_text(FILE *f, const char *s, size_t n)
{
	for (; n--; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else
			fputc(*s, f);
	}
}

/*
 * The SVG document cairo wrote into memory, to the file, with <title>
 * and <desc> after the <svg ...> start tag.
 */
static void svg_write(struct chart *c)
{
	const char *svg = c->doc ? strstr(c->doc, "<svg") : NULL;
	const char *gt = svg ? strchr(svg, '>') : NULL;
	size_t head;

	if (!gt) {
		if (c->doc_len)
			fwrite(c->doc, 1, c->doc_len, c->f);
		return;
	}
	head = (size_t)(gt + 1 - c->doc);
	fwrite(c->doc, 1, head, c->f);
	if (c->title) {
		fputs("\n<title>", c->f);
		xml_text(c->f, c->title, strlen(c->title));
		fputs("</title>", c->f);
	}
	if (c->text) {
		fputs("\n<desc>", c->f);
		xml_text(c->f, c->text, c->text_len - 1);
		fputs("</desc>", c->f);
	}
	fwrite(c->doc + head, 1, c->doc_len - head, c->f);
}

struct chart *chart_open(const char *opt, const char *path, int width,
			 int height)
{
	static int registered;
	const char *fmt = chart_format(opt, path);
	struct chart *c;

	if (!fmt)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path))) {
		free(c);
		fewmulctl_err(path, -ENOMEM);
		return NULL;
	}
	if (!registered) {
		atexit(chart_release_static);
		registered = 1;
	}
	c->svg = !strcmp(fmt, "svg");
	c->width = width;
	c->height = height;
	if (open_outfile(opt, path, &c->of, &c->f)) {
		free(c->path);
		free(c);
		return NULL;
	}
	if (c->svg) {
		c->mem = open_memstream(&c->doc, &c->doc_len);
		if (!c->mem) {
			fewmulctl_err(path, -ENOMEM);
			chart_free(c, 1);
			return NULL;
		}
		c->surface = cairo_svg_surface_create_for_stream(write_fn, c->mem,
								  width, height);
		cairo_svg_surface_set_document_unit(c->surface, CAIRO_SVG_UNIT_PX);
	} else {
		c->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24,
							width, height);
	}
	c->cr = cairo_create(c->surface);
	if (cairo_status(c->cr)) {
		fewmulctl_errx("%s: %s", path, cairo_status_to_string(cairo_status(c->cr)));
		chart_free(c, 1);
		return NULL;
	}
	cairo_set_source_rgb(c->cr, 1, 1, 1);
	cairo_paint(c->cr);
	return c;
}

static void chart_free(struct chart *c, int remove)
{
	if (c->cr)
		cairo_destroy(c->cr);
	if (c->surface) {
		cairo_surface_finish(c->surface);
		cairo_surface_destroy(c->surface);
	}
	if (c->mem)
		fclose(c->mem);
	if (c->f)
		fclose(c->f);
	if (remove)
		fewmul_outfile_abort(c->of);
	free(c->doc);
	free(c->title);
	free(c->text);
	free(c->path);
	free(c);
}

int chart_close(struct chart *c)
{
	cairo_status_t st = cairo_status(c->cr);
	int err = 0;

	errno = 0;
	cairo_destroy(c->cr);
	c->cr = NULL;
	if (!st && !c->svg)
		st = cairo_surface_write_to_png_stream(c->surface, write_fn, c->f);
	cairo_surface_finish(c->surface);	/* SVG: writes the document */
	if (!st)
		st = cairo_surface_status(c->surface);
	cairo_surface_destroy(c->surface);
	c->surface = NULL;
	if (c->mem) {
		if (fclose(c->mem) && !st)
			st = CAIRO_STATUS_NO_MEMORY;
		c->mem = NULL;
		if (!st)
			svg_write(c);
	}
	if (st == CAIRO_STATUS_WRITE_ERROR || ferror(c->f))
		err = errno ? errno : EIO;
	if (fclose(c->f) && !err)
		err = errno ? errno : EIO;
	c->f = NULL;
	if (err)
		fewmulctl_err(c->path, -err);
	else if (st)
		fewmulctl_errx("%s: %s", c->path, cairo_status_to_string(st));
	if (!err && !st && close_outfile(c->of))
		err = EIO;
	else if (err || st)
		fewmul_outfile_abort(c->of);
	c->of = NULL;
	chart_free(c, 0);
	return err || st ? -1 : 0;
}

double chart_title(struct chart *c, const char *title)
{
	char buf[512];

	if (!title || !*title)
		return 8;
	if (c->svg && !c->title)
		c->title = strdup(title);
	font(c->cr, FS_TITLE, 1);
	cairo_set_source_rgb(c->cr, 0.1, 0.1, 0.1);
	text_at(c->cr, c->width / 2.0, 22,  0.5,
		fit(c->cr, title, c->width - 20, buf, sizeof(buf)));
	return 42;
}

/* Tick spacing for about target ticks over range: 1, 2 or 5 x 10^k. */
static double tick_step(double range, int target, int integer);

double chart_nice_max(double v)
{
	double step;

	if (!(v > 0) || !isfinite(v))
		return 1;
	step = tick_step(v, 5, 0);
	return ceil(v / step - 1e-9) * step;
}

static double tick_step(double range, int target, int integer)
{
	double raw = range / target, mag, f, s;

	if (!(raw > 0))
		return 1;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	s = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
	if (integer && s < 1)
		s = 1;
	return s;
}

static void tick_label(char *buf, size_t len, double v, double step)
{
	int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);

	if (fabs(v) < step * 1e-9)
		v = 0;
	snprintf(buf, len, "%.*f", dec, v);
}

static double map_x(const struct chart_panel *p, double x)
{
	return p->px + (x - p->xmin) / (p->xmax - p->xmin) * p->pw;
}

static double map_y(const struct chart_panel *p, double y)
{
	return p->py + p->ph - (y - p->ymin) / (p->ymax - p->ymin) * p->ph;
}

void chart_panel(struct chart *c, struct chart_panel *p)
{
	cairo_t *cr = c->cr;
	double ystep, xstep, v, lw = 0, w, top;
	char buf[64];
	long i, i0, i1;

	if (!(p->xmax > p->xmin))
		p->xmax = p->xmin + 1;
	if (!(p->ymax > p->ymin))
		p->ymax = p->ymin + 1;
	top = p->title ? 24 : 8;
	p->py = p->y + top;
	p->ph = p->y + p->h - (p->xlabel ? 44 : 26) - p->py;
	if (p->ph < 20)
		p->ph = 20;
	/* about one y tick per 40 pixels, one x tick per 70 */
	ystep = tick_step(p->ymax - p->ymin, p->ph > 120 ? (int)(p->ph / 40) : 3, 0);
	/* room for the widest y tick label */
	font(cr, FS_TICK, 0);
	i0 = (long)ceil(p->ymin / ystep - 1e-9);
	i1 = (long)floor(p->ymax / ystep + 1e-9);
	for (i = i0; i <= i1; i++) {
		tick_label(buf, sizeof(buf), i * ystep, ystep);
		w = text_width(cr, buf);
		if (w > lw)
			lw = w;
	}
	p->px = p->x + (p->ylabel ? 24 : 6) + lw + 10;
	p->pw = p->x + p->w - 12 - p->px;
	if (p->pw < 20)
		p->pw = 20;
	xstep = p->xstep > 0 ? p->xstep :
		tick_step(p->xmax - p->xmin, p->pw > 210 ? (int)(p->pw / 70) : 3,
			  p->xinteger);

	/* plot area background and grid */
	cairo_set_source_rgb(cr, 0.985, 0.985, 0.985);
	cairo_rectangle(cr, p->px, p->py, p->pw, p->ph);
	cairo_fill(cr);
	cairo_set_line_width(cr, 1);
	cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
	for (i = i0; i <= i1; i++) {
		v = floor(map_y(p, i * ystep)) + 0.5;
		cairo_move_to(cr, p->px, v);
		cairo_line_to(cr, p->px + p->pw, v);
	}
	i0 = (long)ceil(p->xmin / xstep - 1e-9);
	i1 = (long)floor(p->xmax / xstep + 1e-9);
	for (i = i0; i <= i1; i++) {
		v = floor(map_x(p, i * xstep)) + 0.5;
		cairo_move_to(cr, v, p->py);
		cairo_line_to(cr, v, p->py + p->ph);
	}
	cairo_stroke(cr);

	/* frame and ticks */
	cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
	cairo_rectangle(cr, floor(p->px) + 0.5, floor(p->py) + 0.5,
			floor(p->pw), floor(p->ph));
	cairo_stroke(cr);
	font(cr, FS_TICK, 0);
	for (i = i0; i <= i1; i++) {
		v = floor(map_x(p, i * xstep)) + 0.5;
		cairo_move_to(cr, v, p->py + p->ph);
		cairo_line_to(cr, v, p->py + p->ph + 4);
		cairo_stroke(cr);
		tick_label(buf, sizeof(buf), i * xstep, xstep);
		text_at(cr, v, p->py + p->ph + 14, 0.5, buf);
	}
	i0 = (long)ceil(p->ymin / ystep - 1e-9);
	i1 = (long)floor(p->ymax / ystep + 1e-9);
	for (i = i0; i <= i1; i++) {
		v = floor(map_y(p, i * ystep)) + 0.5;
		cairo_move_to(cr, p->px - 4, v);
		cairo_line_to(cr, p->px, v);
		cairo_stroke(cr);
		tick_label(buf, sizeof(buf), i * ystep, ystep);
		text_at(cr, p->px - 7, v, 1, buf);
	}

	/* axis labels and the panel title */
	font(cr, FS_LABEL, 0);
	cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
	if (p->xlabel)
		text_at(cr, p->px + p->pw / 2, p->py + p->ph + 34, 0.5,
			fit(cr, p->xlabel, p->pw, buf, sizeof(buf)));
	if (p->ylabel) {
		cairo_save(cr);
		cairo_translate(cr, p->x + 12, p->py + p->ph / 2);
		cairo_rotate(cr, -M_PI / 2);
		text_at(cr, 0, 0, 0.5, fit(cr, p->ylabel, p->ph, buf, sizeof(buf)));
		cairo_restore(cr);
	}
	if (p->title) {
		note_text(c, p->title);
		font(cr, FS_PANEL, 1);
		text_at(cr, p->px + p->pw / 2, p->y + 11, 0.5,
			fit(cr, p->title, p->pw, buf, sizeof(buf)));
	}
}

static void set_style(cairo_t *cr, enum chart_style style)
{
	static const double dashed[] = { 7, 4 };
	static const double dotted[] = { 0.5, 4 };

	cairo_set_line_cap(cr, style == CHART_DOTTED ? CAIRO_LINE_CAP_ROUND :
			   CAIRO_LINE_CAP_BUTT);
	cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
	if (style == CHART_DASHED)
		cairo_set_dash(cr, dashed, 2, 0);
	else if (style == CHART_DOTTED)
		cairo_set_dash(cr, dotted, 2, 0);
	else
		cairo_set_dash(cr, NULL, 0, 0);
	cairo_set_line_width(cr, style == CHART_DOTTED ? 2.6 : 2);
}

/* The marker of a style: circle (solid), square (dashed), diamond (dotted). */
static void marker(cairo_t *cr, double x, double y, enum chart_style style)
{
	const double r = 3;

	if (style == CHART_DASHED) {
		cairo_rectangle(cr, x - r * 0.85, y - r * 0.85, 1.7 * r, 1.7 * r);
	} else if (style == CHART_DOTTED) {
		cairo_move_to(cr, x, y - r * 1.2);
		cairo_line_to(cr, x + r * 1.2, y);
		cairo_line_to(cr, x, y + r * 1.2);
		cairo_line_to(cr, x - r * 1.2, y);
		cairo_close_path(cr);
	} else {
		cairo_new_sub_path(cr);
		cairo_arc(cr, x, y, r, 0, 2 * M_PI);
	}
	cairo_fill(cr);
}

static void clip_to(cairo_t *cr, const struct chart_panel *p)
{
	cairo_save(cr);
	cairo_rectangle(cr, p->px - 4, p->py - 4, p->pw + 8, p->ph + 8);
	cairo_clip(cr);
}

void chart_line(struct chart *c, const struct chart_panel *p, const double *x,
		const double *y, size_t n, unsigned int color,
		enum chart_style style)
{
	cairo_t *cr = c->cr;
	int pen = 0;
	size_t i;

	clip_to(cr, p);
	set_color(cr, color);
	set_style(cr, style);
	for (i = 0; i < n; i++) {
		if (isnan(y[i])) {
			pen = 0;
			continue;
		}
		if (pen)
			cairo_line_to(cr, map_x(p, x[i]), map_y(p, y[i]));
		else
			cairo_move_to(cr, map_x(p, x[i]), map_y(p, y[i]));
		pen = 1;
	}
	cairo_stroke(cr);
	if (p->pw / (n ? (double)n : 1) >= 14)	/* markers while they fit */
		for (i = 0; i < n; i++)
			if (!isnan(y[i]))
				marker(cr, map_x(p, x[i]), map_y(p, y[i]), style);
	cairo_restore(cr);
}

void chart_bars(struct chart *c, const struct chart_panel *p, const double *x,
		const double *y, size_t n, double w, unsigned int color)
{
	cairo_t *cr = c->cr;
	double x0, x1, y0, y1;
	size_t i;

	clip_to(cr, p);
	for (i = 0; i < n; i++) {
		if (isnan(y[i]) || y[i] == 0)
			continue;
		x0 = map_x(p, x[i] - w / 2);
		x1 = map_x(p, x[i] + w / 2);
		y0 = map_y(p, 0);
		y1 = map_y(p, y[i]);
		cairo_rectangle(cr, x0, y1, x1 - x0, y0 - y1);
		set_color(cr, color);
		cairo_fill_preserve(cr);
		cairo_set_source_rgba(cr, 0, 0, 0, 0.35);
		cairo_set_line_width(cr, 0.8);
		cairo_stroke(cr);
	}
	cairo_restore(cr);
}

#define KEY_SWATCH	30
#define KEY_PAD		10
#define KEY_LINE	19

double chart_legend_width(struct chart *c, const struct chart_key *k,
			  size_t n, double max_w)
{
	double w = 0, tw;
	size_t i;

	font(c->cr, FS_LABEL, 0);
	for (i = 0; i < n; i++) {
		tw = text_width(c->cr, k[i].label);
		if (tw > w)
			w = tw;
	}
	w += 2 * KEY_PAD + KEY_SWATCH + 6;
	return w < max_w ? ceil(w) : max_w;
}

void chart_legend(struct chart *c, double x, double y, double w,
		  const struct chart_key *k, size_t n)
{
	cairo_t *cr = c->cr;
	double h = 2 * 6 + n * KEY_LINE, ly, sx;
	char buf[256];
	size_t i;

	cairo_set_dash(cr, NULL, 0, 0);
	cairo_rectangle(cr, floor(x) + 0.5, floor(y) + 0.5, floor(w), floor(h));
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_fill_preserve(cr);
	cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
	cairo_set_line_width(cr, 1);
	cairo_stroke(cr);
	font(cr, FS_LABEL, 0);
	for (i = 0; i < n; i++) {
		ly = y + 6 + KEY_LINE * (i + 0.5);
		sx = x + KEY_PAD;
		set_color(cr, k[i].color);
		if (k[i].style == CHART_BAR) {
			cairo_rectangle(cr, sx + 6, ly - 6, KEY_SWATCH - 12, 12);
			cairo_fill(cr);
		} else {
			set_style(cr, k[i].style);
			cairo_move_to(cr, sx, ly);
			cairo_line_to(cr, sx + KEY_SWATCH, ly);
			cairo_stroke(cr);
			marker(cr, sx + KEY_SWATCH / 2.0, ly, k[i].style);
			cairo_set_dash(cr, NULL, 0, 0);
		}
		cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
		note_text(c, k[i].label);
		text_at(cr, sx + KEY_SWATCH + 6, ly, 0,
			fit(cr, k[i].label, w - 2 * KEY_PAD - KEY_SWATCH - 6,
			    buf, sizeof(buf)));
	}
}
