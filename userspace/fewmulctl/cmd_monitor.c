// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl monitor: one line per FEWMUL_CMD_PROGRESS event (a minibatch
 * trained by the kernel backend), from the genetlink group "events".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libfewmul.h"
#include "fewmulctl.h"

struct monitor {
	int json;
	int all;
	uid_t me;
	uint32_t count;		/* 0: unlimited */
	uint32_t seen;
};

static int on_event(const struct fewmul_ctx_stats *ev, void *arg)
{
	struct monitor *m = arg;
	double loss = ev->batch_size ? ev->batch_loss / ev->batch_size : 0;
	/* the place in the epoch when the trainer said it, else in the call */
	uint64_t done = ev->epoch_total ? ev->epoch_done : ev->done;
	uint64_t total = ev->epoch_total ? ev->epoch_total : ev->total;

	if (!m->all && ev->owner_uid != m->me)
		return 0;
	if (m->json) {
		struct json j;

		json_begin(&j, stdout);
		json_u64(&j, "ctx", ev->id);
		json_u64(&j, "pid", ev->owner_pid);
		json_u64(&j, "uid", ev->owner_uid);
		json_u64(&j, "epoch", ev->epoch + 1);
		json_u64(&j, "step", ev->step);
		json_u64(&j, "done", ev->done);
		json_u64(&j, "total", ev->total);
		json_u64(&j, "epoch_done", ev->epoch_done);
		json_u64(&j, "epoch_total", ev->epoch_total);
		json_u64(&j, "batch_size", ev->batch_size);
		json_u64(&j, "batch_errors", ev->batch_errors);
		json_double(&j, "batch_loss", loss);
		json_u64(&j, "samples", ev->samples);
		json_u64(&j, "errors", ev->errors);
		json_end(&j);
	} else {
		printf("ctx %" PRIu64 " pid %u epoch %u step %" PRIu64 " batch %" PRIu64 "/%" PRIu64
		       ": loss %.4f err %u/%u (%.1f%%)\n",
		       ev->id, ev->owner_pid, ev->epoch + 1, ev->step, done,
		       total, loss, ev->batch_errors, ev->batch_size,
		       ev->batch_size ? 100.0 * ev->batch_errors / ev->batch_size : 0.0);
	}
	flush_out(stdout);
	m->seen++;
	return m->count && m->seen >= m->count;
}

enum { O_COUNT = 256, O_TIMEOUT, O_ALL };

/* The options of monitor alone; ctx: struct monitor_opts. */
struct monitor_opts {
	struct monitor *m;
	uint32_t timeout;
};

static int monitor_option(int c, const char *arg, void *ctx)
{
	struct monitor_opts *o = ctx;

	switch (c) {
	case O_COUNT:
		if (parse_u32(arg, 1, UINT32_MAX, &o->m->count)) {
			fewmulctl_errx("--count %s: want a positive number of events", arg);
			return -1;
		}
		return 0;
	case O_TIMEOUT:
		if (parse_u32(arg, 1, 2000000, &o->timeout)) {
			fewmulctl_errx("--timeout %s: want 1..2000000 seconds", arg);
			return -1;
		}
		return 0;
	case O_ALL:
		o->m->all = 1;
		return 0;
	}
	return -1;
}

static int monitor_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, O_COUNT },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "all", no_argument, NULL, O_ALL },
		OPT_JSON, OPT_END,
	};
	struct monitor m = { .me = geteuid() };
	struct monitor_opts mo = { .m = &m };
	struct cmdline cl = {
		.opts = opts, .own = monitor_option, .ctx = &mo,
		.co = { .json = &m.json },
	};
	uint32_t timeout;
	int err;

	err = parse_cmdline(argc, argv, &cl);
	if (err)
		return err;
	timeout = mo.timeout;
	fewmulctl_catch_signals(NULL);
	err = fewmul_genl_monitor(on_event, &m, timeout ? (int)(timeout * 1000) : -1,
				  &fewmulctl_interrupted);
	if (err == -ETIMEDOUT) {
		if (!m.count)
			return 0;	/* ran for the time asked */
		fewmulctl_errx("monitor: timed out after %u s with %u of %u events",
			       timeout, m.seen, m.count);
		return -1;
	}
	if (err) {
		explain_module_err(err == -ENOENT ? "genetlink family \"fewmul\"" :
				   "monitor", err);
		return -1;
	}
	return 0;
}

const struct fewmulctl_cmd cmd_monitor = {
	.name = "monitor",
	.usage = "[--count N] [--timeout SECONDS] [--all] [--json]",
	.summary = "one line per training progress event of the module (genetlink)",
	.options =
	"  --count N              exit after N events\n"
	"  --timeout SECONDS      stop after SECONDS, 1..2000000 (an error with --count)\n"
	"  --all                  show every user's events, not only the caller's\n"
	HELP_JSON,
	.run = monitor_main,
};
