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

int cmd_count(int argc, char **argv)
{
	enum { O_ARCH = 256, O_BATCH, O_BN, O_JSON };
	static const struct option opts[] = {
		{ "arch", required_argument, NULL, O_ARCH },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "bn", no_argument, NULL, O_BN },
		{ "json", no_argument, NULL, O_JSON },
		{ NULL, 0, NULL, 0 },
	};
	struct fewmul_train_config cfg;
	uint32_t batch = 200;
	int c, bn = 0, json = 0;
	uint64_t full, qb;

	fewmul_train_config_default(&cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case O_ARCH:
			if (opt_arch(optarg, &cfg))
				return -1;
			break;
		case O_BATCH:
			if (parse_u32(optarg, 1, 1000000, &batch)) {
				fewmulctl_errx("--batch %s: want 1..1000000", optarg);
				return -1;
			}
			break;
		case O_BN:
			bn = 1;
			break;
		case O_JSON:
			json = 1;
			break;
		default:
			return opt_fail(c, argv, opts);
		}
	}
	if (optind != argc)
		return opt_extra(argv, argv[optind]);

	full = fewmul_count_full(&cfg, batch, bn);
	qb = fewmul_count_qb(&cfg, batch, bn);
	if (json) {
		struct json j;
		char arch[256];
		size_t off = 0;
		uint32_t l;

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
		json_end(&j);
		return 0;
	}
	printf("multiplications per minibatch of %u%s\n", batch,
	       bn ? " (with standard batch norm)" : "");
	printf("  full precision:           %15" PRIu64 "  (%.4e)\n", full, (double)full);
	printf("  binary/ternary connect+QB:%15" PRIu64 "  (%.4e)\n", qb, (double)qb);
	printf("  ratio:                    %15.6f\n", (double)qb / (double)full);
	return 0;
}
