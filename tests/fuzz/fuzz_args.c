// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness of the argument parsers: the input, split at NUL
 * bytes, is an argument vector for `fewmulctl count` (cheap to run), and
 * each piece is also fed to the --arch and --lr parsers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libfewmul.h"
#include "fewmulctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[34];
	struct fewmul_train_config cfg;
	uint32_t shift, w;
	size_t i, start = 0;
	int argc = 1;

	if (size > 4096)
		return 0;
	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "count";
	for (i = 0; i <= size && argc < 33; i++) {
		if (buf[i] != '\0')
			continue;
		argv[argc++] = buf + start;
		fewmul_train_config_default(&cfg);
		fewmul_parse_arch(buf + start, &cfg);
		parse_lr_shift(buf + start, &shift);
		parse_weights(buf + start, &w);
		start = i + 1;
	}
	argv[argc] = NULL;
	if (!freopen("/dev/null", "w", stdout))
		abort();
	cmd_count.run(argc, argv);
	free(buf);
	return 0;
}
