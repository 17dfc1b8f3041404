// SPDX-License-Identifier: GPL-2.0
/*
 * fewmulctl info: what the module says about itself, through the ioctl
 * and through generic netlink.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "libfewmul.h"
#include "fewmulctl.h"

static void print_features(uint64_t features)
{
	unsigned int bit;
	const char *name;

	for (bit = 0; bit < 64; bit++) {
		if (!(features & (1ULL << bit)))
			continue;
		name = fewmul_feature_name(bit);
		if (name)
			printf(" %s", name);
		else
			printf(" bit%u", bit);
	}
	putchar('\n');
}

static void json_features(struct json *j, uint64_t features)
{
	unsigned int bit;
	const char *name;
	char buf[16];

	json_arr_open(j, "features");
	for (bit = 0; bit < 64; bit++) {
		if (!(features & (1ULL << bit)))
			continue;
		name = fewmul_feature_name(bit);
		if (!name) {
			snprintf(buf, sizeof(buf), "bit%u", bit);
			name = buf;
		}
		json_str(j, NULL, name);
	}
	json_arr_close(j);
}

static void json_info(struct json *j, const char *key,
		      const struct fewmul_device_info *in, int genl)
{
	json_obj_open(j, key);
	json_u64(j, "abi_version", in->abi_version);
	if (genl) {
		json_str(j, "module_version", in->module_version);
		json_u64(j, "contexts", in->nr_contexts);
	}
	json_features(j, in->features);
	json_u64(j, "workers", in->nr_workers);
	json_u64(j, "max_layers", in->max_layers);
	json_u64(j, "max_width", in->max_width);
	json_u64(j, "max_batch", in->max_batch);
	json_u64(j, "max_scratch_bytes", in->max_scratch_bytes);
	json_str(j, "simd", in->simd);
	json_obj_close(j);
}

static int same_info(const struct fewmul_device_info *a,
		     const struct fewmul_device_info *b)
{
	return a->abi_version == b->abi_version &&
	       a->features == b->features && a->nr_workers == b->nr_workers &&
	       a->max_layers == b->max_layers && a->max_width == b->max_width &&
	       a->max_batch == b->max_batch &&
	       a->max_scratch_bytes == b->max_scratch_bytes &&
	       !strcmp(a->simd, b->simd);
}

static int info_main(int argc, char **argv)
{
	static const struct option opts[] = { OPT_JSON, OPT_DEVICE, OPT_END };
	struct fewmul_device_info ioc, nl;
	struct backend_opt be = { .device = FEWMUL_DEFAULT_DEVICE };
	int json = 0, err, nlerr;
	struct cmdline cl = { .opts = opts, .co = { .be = &be, .json = &json } };
	const char *path;
	struct fewmul_dev *dev;
	struct json j;

	err = parse_cmdline(argc, argv, &cl);
	if (err)
		return err;
	path = be.device;
	err = fewmul_dev_open(path, &dev);
	if (err) {
		fewmulctl_err(path, err);
		if (err == -ENOENT || err == -ENODEV || err == -ENXIO)
			fewmulctl_errx("the fewmul module is not loaded; load it with 'modprobe fewmul' (installed) or 'insmod build/kmod-stock/fewmul.ko' (from a build)");
		else if (err == -EACCES || err == -EPERM)
			fewmulctl_errx("no permission on %s; add yourself to group 'fewmul' or run as root", path);
		return -1;
	}
	err = fewmul_dev_info(dev, &ioc);
	fewmul_dev_close(dev);
	if (err == -ENOTTY) {
		fewmulctl_errx("%s: not a fewmul device (FEWMUL_IOC_INFO: %s)", path,
			       strerror(ENOTTY));
		return -1;
	}
	if (err) {
		fewmulctl_errx("%s: FEWMUL_IOC_INFO: %s", path, strerror(-err));
		return -1;
	}
	nlerr = fewmul_genl_info(&nl);

	if (json) {
		json_begin(&j, stdout);
		json_str(&j, "device", path);
		json_str(&j, "library_version", fewmul_lib_version());
		json_info(&j, "ioctl", &ioc, 0);
		if (nlerr)
			json_str(&j, "genetlink_error", strerror(-nlerr));
		else
			json_info(&j, "genetlink", &nl, 1);
		json_end(&j);
	} else {
		printf("device:          %s\n", path);
		printf("ABI version:     %u\n", ioc.abi_version);
		if (!nlerr)
			printf("module version:  %s\n", nl.module_version);
		printf("library version: %s\n", fewmul_lib_version());
		printf("features:       ");
		print_features(ioc.features);
		printf("workers:         %u\n", ioc.nr_workers);
		printf("vector kernels:  %s\n", ioc.simd[0] ? ioc.simd :
		       "(not reported by this module)");
		printf("limits:          %u layers, %u units per layer, batch %u, scratch %" PRIu64 " MiB per context\n",
		       ioc.max_layers, ioc.max_width, ioc.max_batch,
		       ioc.max_scratch_bytes >> 20);
		if (!nlerr)
			printf("open contexts:   %u\n", nl.nr_contexts);
		printf("sources:         ioctl%s\n",
		       nlerr ? "" : (same_info(&ioc, &nl) ?
				     ", genetlink (agree)" :
				     ", genetlink (DISAGREE)"));
	}
	if (nlerr) {
		fewmulctl_err("genetlink family " "\"fewmul\"", nlerr);
		return -1;
	}
	if (!same_info(&ioc, &nl)) {
		fewmulctl_errx("ioctl and genetlink report different information");
		return -1;
	}
	return 0;
}

const struct fewmulctl_cmd cmd_info = {
	.name = "info",
	.usage = "[--json] [--device PATH]",
	.summary = "show module version, ABI, features and limits (ioctl and genetlink)",
	.options =
	"  --device PATH          the device node to ask (default " FEWMUL_DEFAULT_DEVICE ")\n"
	HELP_JSON,
	.run = info_main,
};
