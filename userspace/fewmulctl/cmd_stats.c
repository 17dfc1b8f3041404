// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl stats: the open /dev/fewmul contexts and their training
 * totals, through the genetlink command FEWMUL_CMD_GET_STATS.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libfewmul.h"
#include "fewmulctl.h"

static void json_ctx(struct json *j, const struct fewmul_ctx_stats *c)
{
	json_obj_open(j, NULL);
	json_u64(j, "id", c->id);
	json_u64(j, "pid", c->owner_pid);
	json_u64(j, "uid", c->owner_uid);
	json_bool(j, "has_model", c->has_model);
	json_bool(j, "busy", c->busy);
	if (c->has_model) {
		json_u64(j, "layers", c->nr_layers);
		json_str(j, "weights", fewmul_weights_name(c->weights));
		json_bool(j, "qbp", c->qbp);
		json_u64(j, "epoch", c->samples ? c->epoch + 1 : 0);
		json_u64(j, "step", c->step);
		json_u64(j, "samples", c->samples);
		json_u64(j, "errors", c->errors);
		json_double(j, "loss", c->samples ? c->loss / (double)c->samples : 0);
		json_u64(j, "adds", c->ops.adds);
		json_u64(j, "shifts", c->ops.shifts);
		json_u64(j, "muls", c->ops.muls);
		if (c->epoch_total) {	/* the last train call's place */
			json_u64(j, "epoch_done", c->epoch_done);
			json_u64(j, "epoch_total", c->epoch_total);
		}
	}
	if (c->busy) {
		json_u64(j, "done", c->done);
		json_u64(j, "total", c->total);
	}
	json_obj_close(j);
}

static void print_ctx(const struct fewmul_ctx_stats *c)
{
	char model[32], state[48];

	if (c->busy)
		snprintf(state, sizeof(state), "busy %" PRIu64 "/%" PRIu64,
			 c->done, c->total);
	else
		snprintf(state, sizeof(state), "idle");
	printf("%-6" PRIu64 " %-7u %-6u ", c->id, c->owner_pid, c->owner_uid);
	if (!c->has_model) {
		printf("%-18s %s\n", "(no model)", state);
		return;
	}
	snprintf(model, sizeof(model), "%uL %s%s", c->nr_layers,
		 fewmul_weights_name(c->weights), c->qbp ? "+QB" : "");
	printf("%-18s %-5u %-9" PRIu64 " %-10" PRIu64 " %7.2f%% %8.4f  %-9.3g %-9.3g %-9.3g %s\n",
	       model, c->samples ? c->epoch + 1 : 0, c->step, c->samples,
	       c->samples ? 100.0 * (double)c->errors / (double)c->samples : 0.0,
	       c->samples ? c->loss / (double)c->samples : 0.0,
	       (double)c->ops.adds, (double)c->ops.shifts, (double)c->ops.muls,
	       state);
}

static int stats_option(int c, const char *arg, void *ctx)
{
	(void)c;	/* --all */
	(void)arg;
	*(int *)ctx = 1;
	return 0;
}

static int stats_main(int argc, char **argv)
{
	enum { O_ALL = 256 };
	static const struct option opts[] = {
		OPT_CTX,
		{ "all", no_argument, NULL, O_ALL },
		OPT_JSON, OPT_END,
	};
	struct fewmul_ctx_stats *v = NULL, one;
	int json = 0, all = 0, have_id, n, i, shown = 0, ret = -1;
	size_t cap = 64;
	uint64_t id = 0;
	uid_t me = geteuid();
	struct cmdline cl = {
		.opts = opts, .own = stats_option, .ctx = &all,
		.co = { .ctx = &id, .json = &json },
	};

	n = parse_cmdline(argc, argv, &cl);
	if (n)
		return n;
	have_id = !!(cl.co.given & COMMON_BIT(O_COMMON_CTX));
	if (have_id) {
		n = fewmul_genl_ctx_stats(id, &one);
		if (n == -ENOENT) {
			/* an unknown context, or no module: say which */
			struct fewmul_device_info info;

			if (fewmul_genl_info(&info) == 0)
				fewmulctl_errx("--ctx %" PRIu64 ": no such context (or not yours)", id);
			else
				explain_module_err("genetlink family \"fewmul\"", n);
			return -1;
		}
		if (n) {
			fewmulctl_err("FEWMUL_CMD_GET_STATS", n);
			return -1;
		}
		v = malloc(sizeof(*v));
		if (!v) {
			fewmulctl_err("stats", -ENOMEM);
			return -1;
		}
		v[0] = one;
		n = 1;
		all = 1;
	} else {
		for (;;) {
			struct fewmul_ctx_stats *nv = realloc(v, cap * sizeof(*v));

			if (!nv) {
				fewmulctl_err("stats", -ENOMEM);
				goto out;
			}
			v = nv;
			n = fewmul_genl_stats(v, cap);
			if (n < 0) {
				explain_module_err(n == -ENOENT ?
						   "genetlink family \"fewmul\"" :
						   "FEWMUL_CMD_GET_STATS", n);
				goto out;
			}
			if ((size_t)n <= cap)
				break;
			cap = (size_t)n + 16;	/* more opened meanwhile: retry */
		}
	}

	if (json) {
		struct json j;

		json_begin(&j, stdout);
		json_arr_open(&j, "contexts");
		for (i = 0; i < n; i++)
			if (all || v[i].owner_uid == me)
				json_ctx(&j, &v[i]);
		json_arr_close(&j);
		json_end(&j);
	} else {
		printf("%-6s %-7s %-6s %-18s %-5s %-9s %-10s %8s %8s  %-9s %-9s %-9s %s\n",
		       "ID", "PID", "UID", "MODEL", "EPOCH", "STEP", "SAMPLES",
		       "ERR", "LOSS", "ADDS", "SHIFTS", "MULS", "STATE");
		for (i = 0; i < n; i++) {
			if (!all && v[i].owner_uid != me)
				continue;
			print_ctx(&v[i]);
			shown++;
		}
		if (!shown)
			printf("(no open contexts%s)\n", all ? "" : " of this user; --all shows everyone's");
	}
	ret = 0;
out:
	free(v);
	return ret;
}

const struct fewmulctl_cmd cmd_stats = {
	.name = "stats",
	.usage = "[--ctx ID] [--all] [--json]",
	.summary = "open /dev/fewmul contexts and their training totals (genetlink)",
	.options =
	HELP_CTX
	"  --all                  list every user's contexts (others' need CAP_SYS_ADMIN)\n"
	HELP_JSON,
	.run = stats_main,
};
