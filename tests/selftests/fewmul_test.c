// SPDX-License-Identifier: GPL-2.0
/*
 * Selftests of the /dev/fewmul uapi: every validation failure has a test
 * that checks the exact errno. Argument structs are prefilled with 0xcc so
 * that a field the kernel forgets to write (or to check) shows up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fewmul.h>

#include "kselftest_harness.h"

#define DEV "/dev/" FEWMUL_DEVICE_NAME

#define INFO_SIZE_VER1 \
	(offsetof(struct fewmul_info, max_scratch_bytes) + sizeof(__u64))

static void info_prefill(struct fewmul_info *info)
{
	memset(info, 0xcc, sizeof(*info));
	info->size = sizeof(*info);
	info->flags = 0;
	info->pad = 0;
}

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", DEV, strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

TEST(node_is_char_device_0660)
{
	struct stat st;

	ASSERT_EQ(0, stat(DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0660, st.st_mode & 07777);
}

TEST(open_many_contexts)
{
	int fds[16], i;

	for (i = 0; i < 16; i++) {
		fds[i] = open(DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[i]);
	}
	for (i = 0; i < 16; i++)
		EXPECT_EQ(0, close(fds[i]));
}

TEST_F(dev, info_ok)
{
	struct fewmul_info info;

	info_prefill(&info);
	ASSERT_EQ(0, ioctl(self->fd, FEWMUL_IOC_INFO, &info));
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(FEWMUL_ABI_VERSION, info.abi_version);
	EXPECT_NE(0, info.features & FEWMUL_FEATURE_INFO);
	EXPECT_NE(0, info.features & FEWMUL_FEATURE_GENL_INFO);
	EXPECT_LE(1, info.nr_workers);
	EXPECT_GE(1024, info.nr_workers);
	EXPECT_LE(4, info.max_layers);
	EXPECT_LE(1024, info.max_width);
	EXPECT_LE(200, info.max_batch);
	EXPECT_LT(0, info.max_scratch_bytes);
	EXPECT_EQ(0, info.pad);
}

TEST_F(dev, info_pad_nonzero)
{
	struct fewmul_info info;

	info_prefill(&info);
	info.pad = 1;
	EXPECT_EQ(-1, ioctl(self->fd, FEWMUL_IOC_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, info_unknown_flag_low)
{
	struct fewmul_info info;

	info_prefill(&info);
	info.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, FEWMUL_IOC_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, info_unknown_flag_high)
{
	struct fewmul_info info;

	info_prefill(&info);
	info.flags = 0x80000000u;
	EXPECT_EQ(-1, ioctl(self->fd, FEWMUL_IOC_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, info_size_zero)
{
	struct fewmul_info info;

	info_prefill(&info);
	info.size = 0;
	EXPECT_EQ(-1, ioctl(self->fd, FEWMUL_IOC_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, info_size_too_small)
{
	struct fewmul_info info;

	info_prefill(&info);
	info.size = INFO_SIZE_VER1 - 1;
	EXPECT_EQ(-1, ioctl(self->fd, FEWMUL_IOC_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

/* A newer, larger struct is accepted when its unknown tail is zero ... */
TEST_F(dev, info_size_larger_zero_tail)
{
	struct {
		struct fewmul_info info;
		__u64 future[4];
	} big;

	memset(&big, 0, sizeof(big));
	big.info.size = sizeof(big);
	ASSERT_EQ(0, ioctl(self->fd, FEWMUL_IOC_INFO, &big));
	EXPECT_EQ(FEWMUL_ABI_VERSION, big.info.abi_version);
	EXPECT_EQ(sizeof(big), big.info.size);
	EXPECT_EQ(0, big.future[0] | big.future[1] | big.future[2] |
		     big.future[3]);
}

/* ... and rejected with E2BIG when it is not. */
TEST_F(dev, info_size_larger_nonzero_tail)
{
	struct {
		struct fewmul_info info;
		__u64 future[4];
	} big;

	memset(&big, 0, sizeof(big));
	big.info.size = sizeof(big);
	big.future[3] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, FEWMUL_IOC_INFO, &big));
	EXPECT_EQ(E2BIG, errno);
}

TEST_F(dev, info_size_huge)
{
	struct fewmul_info info;

	info_prefill(&info);
	info.size = 0xffffffffu;
	EXPECT_EQ(-1, ioctl(self->fd, FEWMUL_IOC_INFO, &info));
	EXPECT_EQ(E2BIG, errno);
}

/* The kernel writes back no more than the caller's size. */
TEST_F(dev, info_writes_only_size_bytes)
{
	unsigned char buf[sizeof(struct fewmul_info) + 8];
	struct fewmul_info *info = (struct fewmul_info *)buf;
	size_t i;

	memset(buf, 0, sizeof(buf));
	info->size = sizeof(*info);
	memset(buf + sizeof(*info), 0xcc, 8);
	/* size says 48, the 8 bytes after it are not the struct's */
	ASSERT_EQ(0, ioctl(self->fd, FEWMUL_IOC_INFO, buf));
	for (i = sizeof(*info); i < sizeof(buf); i++)
		EXPECT_EQ(0xcc, buf[i]);
}

TEST_F(dev, info_null_pointer)
{
	EXPECT_EQ(-1, ioctl(self->fd, FEWMUL_IOC_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(dev, info_bad_pointer)
{
	EXPECT_EQ(-1, ioctl(self->fd, FEWMUL_IOC_INFO, (void *)16));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(dev, unknown_ioctl_nr)
{
	struct fewmul_info info;

	info_prefill(&info);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(FEWMUL_IOC_TYPE, 0x3f), &info));
	EXPECT_EQ(ENOTTY, errno);
}

/* The size and direction bits are part of the number: _IOWR(INFO) is not INFO. */
TEST_F(dev, info_nr_with_direction_bits)
{
	struct fewmul_info info;

	info_prefill(&info);
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(FEWMUL_IOC_TYPE, FEWMUL_IOC_NR_INFO,
					    struct fewmul_info), &info));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, unknown_ioctl_type)
{
	EXPECT_EQ(-1, ioctl(self->fd, _IO(0xF6, FEWMUL_IOC_NR_INFO), NULL));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, read_write_not_supported)
{
	char c = 0;

	EXPECT_EQ(-1, read(self->fd, &c, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->fd, &c, 1));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, not_seekable)
{
	EXPECT_EQ(-1, lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
}

TEST_HARNESS_MAIN
