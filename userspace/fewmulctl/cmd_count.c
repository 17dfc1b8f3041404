// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl count: the paper's multiplication count per minibatch for an
 * architecture: full precision against binary/ternary connect with
 * quantized backprop.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libfewmul.h"
#include "fewmulctl.h"

static int count_option(int c, const char *arg, void *ctx)
{
	(void)c;
	(void)arg;
	*(int *)ctx = 1;	/* --bn */
	return 0;
}

static int count_main(int argc, char **argv)
{
	enum { O_BN = 256 };
	static const struct option opts[] = {
		OPT_ARCH, OPT_BATCH,
		{ "bn", no_argument, NULL, O_BN },
		OPT_JSON, OPT_END,
	};
	struct fewmul_train_config cfg;
	uint32_t batch = 200;
	int bn = 0, json = 0, ret;
	struct cmdline cl = {
		.opts = opts, .own = count_option, .ctx = &bn,
		.co = { .arch = &cfg, .batch = &batch, .batch_max = 1000000,
			.json = &json },
	};
	uint64_t full, qb, units = 0;
	uint32_t l;

	fewmul_train_config_default(&cfg);
	ret = parse_cmdline(argc, argv, &cl);
	if (ret)
		return ret;

	full = fewmul_count_full(&cfg, batch, bn);
	qb = fewmul_count_qb(&cfg, batch, bn);
	/* BN's divisions in this engine: Documentation/numerics.rst */
	for (l = 1; l <= cfg.nr_layers; l++)
		units += cfg.width[l];
	if (json) {
		struct json j;
		char arch[256];
		size_t off = 0;

		for (l = 0; l <= cfg.nr_layers; l++)
			off += (size_t)snprintf(arch + off, sizeof(arch) - off,
						l ? "-%u" : "%u", cfg.width[l]);
		json_begin(&j, stdout);
		json_str(&j, "arch", arch);
		json_u64(&j, "batch", batch);
		json_bool(&j, "bn", bn);
		json_u64(&j, "full_precision", full);
		json_u64(&j, "binary_ternary_qb", qb);
		json_double(&j, "ratio", (double)qb / (double)full);
		json_u64(&j, "divs_max", bn ? 4 * units : 0);
		json_end(&j);
		return 0;
	}
	/* both rows of the paper's table; --bn puts the BN row first */
	printf("multiplications per minibatch of %u\n", batch);
	printf("  %-23s %15s %15s %10s\n", "", "full precision", "bin/tern + QB", "ratio");
	for (l = 0; l < 2; l++) {
		int b = l ? !bn : bn;

		full = fewmul_count_full(&cfg, batch, b);
		qb = fewmul_count_qb(&cfg, batch, b);
		printf("  %-23s %15.4e %15.4e %10.6f\n",
		       b ? "with standard BN" : "without BN", (double)full,
		       (double)qb, (double)qb / (double)full);
		printf("  %-23s %15" PRIu64 " %15" PRIu64 "\n", "", full, qb);
	}
	printf("divisions per training minibatch (the engine's shift-based BN, both modes): at most %" PRIu64 " (4 per unit, %" PRIu64 " units)\n",
	       4 * units, units);
	return 0;
}

const struct fewmulctl_cmd cmd_count = {
	.name = "count",
	.usage = "[--arch A-B-..-K] [--batch N] [--bn] [--json]",
	.summary = "the paper's multiplication count: full precision vs binary/ternary + QB",
	.options =
	HELP_ARCH
	"  --batch N              minibatch size, 1..1000000 (default 200)\n"
	"  --bn                   the row with standard batch norm first (--json: only it)\n"
	HELP_JSON,
	.run = count_main,
};
