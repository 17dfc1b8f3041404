/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The system's outstanding pinned pages, for the selftests and the stress
 * driver (tests/stress/): both check that every pin the module took is
 * released.
 */
#ifndef FEWMUL_TEST_PINS_H
#define FEWMUL_TEST_PINS_H

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/*
 * Pinned pages outstanding system wide: nr_foll_pin_acquired -
 * nr_foll_pin_released, after folding the per-cpu counters.
 */
static int pins_now(long long *out)
{
	long long acq = -1, rel = -1, v;
	char line[128];
	FILE *f;
	int fd;

	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1\n", 2) < 0) {
			/* not root: the counters may lag; callers poll */
		}
		close(fd);
	}
	f = fopen("/proc/vmstat", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "nr_foll_pin_acquired %lld", &v) == 1)
			acq = v;
		else if (sscanf(line, "nr_foll_pin_released %lld", &v) == 1)
			rel = v;
	}
	fclose(f);
	if (acq < 0 || rel < 0)
		return -1;
	*out = acq - rel;
	return 0;
}

#endif
