// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libfewmul: /dev/fewmul handles and ioctls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

FEWMUL_API const char *fewmul_lib_version(void)
{
	return LIBFEWMUL_VERSION;
}

FEWMUL_API int fewmul_dev_open(const char *path, struct fewmul_dev **devp)
{
	struct fewmul_dev *dev;
	int err;

	if (!devp)
		return -EINVAL;
	*devp = NULL;
	if (!path)
		path = FEWMUL_DEFAULT_DEVICE;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->path = strdup(path);
	if (!dev->path) {
		err = -ENOMEM;
		goto err_free;
	}
	dev->fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		err = -errno;
		goto err_path;
	}
	*devp = dev;
	return 0;

err_path:
	free(dev->path);
err_free:
	free(dev);
	return err;
}

FEWMUL_API void fewmul_dev_close(struct fewmul_dev *dev)
{
	if (!dev)
		return;
	close(dev->fd);
	free(dev->path);
	free(dev);
}

FEWMUL_API const char *fewmul_dev_path(const struct fewmul_dev *dev)
{
	return dev ? dev->path : NULL;
}

/*
 * FEWMUL_IOC_INFO in the _IOWR() encoding, or in the first modules' _IO()
 * one when the module does not know the former (-ENOTTY). *legacy says
 * which one worked: fewmul_ioc() encodes the other commands the same way.
 */
int fewmul_info_ioctl(int fd, struct fewmul_info *arg, int *legacy)
{
	*legacy = 0;
	if (ioctl(fd, FEWMUL_IOC_INFO, arg) == 0)
		return 0;
	if (errno != ENOTTY)
		return -errno;
	if (ioctl(fd, FEWMUL_IOC_LEGACY(FEWMUL_IOC_NR_INFO), arg) < 0)
		return -errno;
	*legacy = 1;
	return 0;
}

static int dev_info(struct fewmul_dev *dev, struct fewmul_device_info *out,
		    size_t size)
{
	struct fewmul_device_info info;
	struct fewmul_info arg;
	int err, legacy;

	if (!dev || !out)
		return -EINVAL;
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	err = fewmul_info_ioctl(dev->fd, &arg, &legacy);
	if (err)
		return err;

	memset(&info, 0, sizeof(info));
	info.abi_version = arg.abi_version;
	info.nr_workers = arg.nr_workers;
	info.features = arg.features;
	info.max_layers = arg.max_layers;
	info.max_width = arg.max_width;
	info.max_batch = arg.max_batch;
	info.max_scratch_bytes = arg.max_scratch_bytes;
	/* the module NUL-terminates it; a copy that does not end is cut */
	memcpy(info.simd, arg.simd, sizeof(info.simd));
	info.simd[sizeof(info.simd) - 1] = 0;
	memcpy(out, &info, size);
	return 0;
}

/* Programs linked against LIBFEWMUL_0.1..0.6: the struct without simd. */
#ifdef FEWMUL_SHARED
int fewmul_dev_info_0_1(struct fewmul_dev *dev,
			struct fewmul_device_info *info);
int fewmul_dev_info_0_7(struct fewmul_dev *dev,
			struct fewmul_device_info *info);

FEWMUL_SYMVER("fewmul_dev_info@LIBFEWMUL_0.1")
FEWMUL_API int fewmul_dev_info_0_1(struct fewmul_dev *dev,
				   struct fewmul_device_info *info)
{
	return dev_info(dev, info, FEWMUL_DEVICE_INFO_SIZE_0_1);
}

#define fewmul_dev_info	fewmul_dev_info_0_7
#endif

FEWMUL_SYMVER("fewmul_dev_info@@LIBFEWMUL_0.7")
FEWMUL_API int fewmul_dev_info(struct fewmul_dev *dev,
			       struct fewmul_device_info *info)
{
	return dev_info(dev, info, sizeof(*info));
}

static const char *const fewmul_feature_names[] = {
	[0] = "info",
	[1] = "genl-info",
	[2] = "train",
	[3] = "genl-stats",
	[4] = "run-outputs",
	[5] = "run-epoch",
	[6] = "help",
	[7] = "exchange",
	[8] = "divs",
	[9] = "bn-shift2",
};

FEWMUL_API const char *fewmul_feature_name(unsigned int bit)
{
	if (bit >= sizeof(fewmul_feature_names) / sizeof(fewmul_feature_names[0]))
		return NULL;
	return fewmul_feature_names[bit];
}
