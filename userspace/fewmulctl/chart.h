/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small cairo charts for fewmulctl (plot, hist --plot): an image file
 * (PNG or SVG by its extension), panels with axes, ticks, a light grid
 * and labels, line series, bars and a legend. Cairo types stay out of
 * this header. Every function that can fail prints
 * "fewmulctl: <what>: <reason>" itself and returns -1 or NULL.
 */
#ifndef FEWMULCTL_CHART_H
#define FEWMULCTL_CHART_H

#include <stddef.h>

#define CHART_DEFAULT_WIDTH	800
#define CHART_DEFAULT_HEIGHT	500

struct chart;

/* Line styles of chart_line() and legend keys. */
enum chart_style {
	CHART_SOLID,
	CHART_DASHED,
	CHART_DOTTED,
	CHART_BAR,		/* legend key only: a filled box */
};

/*
 * A panel: the caller sets the region (x, y, w, h in pixels, including
 * room for tick labels, axis labels and the panel title) and the axis
 * ranges; chart_panel() draws the frame and fills in the plot area
 * (px, py, pw, ph) that chart_line() and chart_bars() draw into.
 */
struct chart_panel {
	double x, y, w, h;
	double xmin, xmax, ymin, ymax;
	double xstep;		/* tick spacing on x; 0: automatic */
	int xinteger;		/* x ticks on whole numbers only */
	const char *title;	/* above the plot area; may be NULL */
	const char *xlabel;
	const char *ylabel;
	double px, py, pw, ph;	/* filled by chart_panel() */
};

/* One legend entry: a colour index and a style. */
struct chart_key {
	const char *label;
	unsigned int color;
	enum chart_style style;
};

/*
 * "png" or "svg" from path's extension (case-insensitive), or NULL after
 * printing "fewmulctl: OPT PATH: unknown image format ..." (opt names the
 * option for the message, e.g. "-o").
 */
const char *chart_format(const char *opt, const char *path);

/* --size WxH: 0, or -1 after printing why not. */
int chart_parse_size(const char *opt, const char *arg, int *width, int *height);

/*
 * Create path (checked with chart_format()) and a white width x height
 * canvas. NULL after printing the error.
 */
struct chart *chart_open(const char *opt, const char *path, int width,
			 int height);

/* Write and close the file: 0, or -1 after printing (the file is removed). */
int chart_close(struct chart *c);

/* The chart's title, centred at the top; returns the height it takes. */
double chart_title(struct chart *c, const char *title);

/* Frame, grid, ticks, labels and title of a panel; sets p->px .. p->ph. */
void chart_panel(struct chart *c, struct chart_panel *p);

/*
 * A polyline through (x[i], y[i]) in colour color with a marker at each
 * point; NaN y values break the line.
 */
void chart_line(struct chart *c, const struct chart_panel *p, const double *x,
		const double *y, size_t n, unsigned int color,
		enum chart_style style);

/* Bars of width w (in x units) centred on x[i], from 0 to y[i]. */
void chart_bars(struct chart *c, const struct chart_panel *p, const double *x,
		const double *y, size_t n, double w, unsigned int color);

/* Width in pixels chart_legend() needs for keys, at most max_w. */
double chart_legend_width(struct chart *c, const struct chart_key *k,
			  size_t n, double max_w);

/* A boxed legend with its top-left corner at (x, y), width w. */
void chart_legend(struct chart *c, double x, double y, double w,
		  const struct chart_key *k, size_t n);

/* A "nice" upper axis limit >= v: a multiple of a 1, 2 or 5 x 10^k tick. */
double chart_nice_max(double v);

#endif
