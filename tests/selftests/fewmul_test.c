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
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fewmul.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "ioc.h"
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
	ASSERT_EQ(0, ioctl(self->fd, ioc_sized(FEWMUL_IOC_INFO, sizeof(big)), &big));
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
	EXPECT_EQ(-1, ioctl(self->fd, ioc_sized(FEWMUL_IOC_INFO, sizeof(big)), &big));
	EXPECT_EQ(E2BIG, errno);
}

TEST_F(dev, info_size_huge)
{
	struct fewmul_info info;

	info_prefill(&info);
	info.size = 0xffffffffu;
	EXPECT_EQ(-1, ioctl(self->fd, ioc_sized(FEWMUL_IOC_INFO, info.size), &info));
	EXPECT_EQ(E2BIG, errno);
}

/* The size in the command must be the struct's @size ... */
TEST_F(dev, info_cmd_size_mismatch)
{
	struct fewmul_info info;

	info_prefill(&info);
	EXPECT_EQ(-1, ioctl(self->fd, ioc_sized(FEWMUL_IOC_INFO, sizeof(info) + 8), &info));
	EXPECT_EQ(EINVAL, errno);
	info_prefill(&info);
	info.size = INFO_SIZE_VER1;
	EXPECT_EQ(-1, ioctl(self->fd, FEWMUL_IOC_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	/* ... which an older, smaller struct encodes as its own */
	info_prefill(&info);
	info.size = INFO_SIZE_VER1;
	EXPECT_EQ(0, ioctl(self->fd, ioc_sized(FEWMUL_IOC_INFO, INFO_SIZE_VER1), &info));
}

/* The first modules' _IO() encoding stays accepted, the size in @size. */
TEST_F(dev, info_legacy_cmd)
{
	struct fewmul_info info;

	info_prefill(&info);
	ASSERT_EQ(0, ioctl(self->fd, FEWMUL_IOC_LEGACY(FEWMUL_IOC_NR_INFO), &info));
	EXPECT_EQ(FEWMUL_ABI_VERSION, info.abi_version);
	EXPECT_NE(0, info.features & FEWMUL_FEATURE_HELP);
	EXPECT_NE(0, info.features & FEWMUL_FEATURE_EXCHANGE);
}

/* Read-only, write-only and no-direction forms with a size are not ours. */
TEST_F(dev, info_wrong_direction)
{
	static const unsigned int dirs[] = { _IOC_READ, _IOC_WRITE, _IOC_NONE };
	struct fewmul_info info;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		info_prefill(&info);
		EXPECT_EQ(-1, ioctl(self->fd, ioc_dir(FEWMUL_IOC_INFO, dirs[i]), &info));
		EXPECT_EQ(ENOTTY, errno) TH_LOG("direction %u", dirs[i]);
	}
	/* a command number the module does not have, in either encoding */
	EXPECT_EQ(-1, ioctl(self->fd, FEWMUL_IOC_LEGACY(0x3f), &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(FEWMUL_IOC_TYPE, 0x3f, struct fewmul_info), &info));
	EXPECT_EQ(ENOTTY, errno);
	/* HELP is new: it has no _IO() form */
	EXPECT_EQ(-1, ioctl(self->fd, FEWMUL_IOC_LEGACY(FEWMUL_IOC_NR_HELP), &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, FEWMUL_IOC_LEGACY(FEWMUL_IOC_NR_EXCHANGE), &info));
	EXPECT_EQ(ENOTTY, errno);
}

/* The kernel writes back no more than the caller's size. */
/* @simd: NUL-terminated, the simd= module parameter's value. */
TEST_F(dev, info_simd_is_the_parameter)
{
	struct fewmul_info info;
	char param[32] = "";
	ssize_t n;
	int fd;

	info_prefill(&info);
	ASSERT_EQ(0, ioctl(self->fd, FEWMUL_IOC_INFO, &info));
	ASSERT_NE(NULL, memchr(info.simd, 0, sizeof(info.simd)));
	EXPECT_LT(0, strlen(info.simd));
	fd = open("/sys/module/fewmul/parameters/simd", O_RDONLY);
	ASSERT_LE(0, fd);
	n = read(fd, param, sizeof(param) - 1);
	close(fd);
	ASSERT_LT(1, n);
	param[n - 1] = 0;	/* the newline */
	EXPECT_STREQ(param, info.simd);
}

/* A caller of the first version gets nothing past its size. */
TEST_F(dev, info_ver1_gets_no_simd)
{
	unsigned char buf[sizeof(struct fewmul_info)];
	struct fewmul_info *info = (struct fewmul_info *)buf;
	size_t i;

	memset(buf, 0xcc, sizeof(buf));
	info->size = INFO_SIZE_VER1;
	info->flags = 0;
	info->pad = 0;
	ASSERT_EQ(0, ioctl(self->fd, ioc_sized(FEWMUL_IOC_INFO, INFO_SIZE_VER1), buf));
	EXPECT_EQ(FEWMUL_ABI_VERSION, info->abi_version);
	for (i = INFO_SIZE_VER1; i < sizeof(buf); i++)
		EXPECT_EQ(0xcc, buf[i]);
}

TEST_F(dev, info_writes_only_size_bytes)
{
	unsigned char buf[sizeof(struct fewmul_info) + 8];
	struct fewmul_info *info = (struct fewmul_info *)buf;
	size_t i;

	memset(buf, 0, sizeof(buf));
	info->size = sizeof(*info);
	memset(buf + sizeof(*info), 0xcc, 8);
	/* size ends the struct, the 8 bytes after it are not the struct's */
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

/* ------------------------------------------------------------------ */
/* Genetlink "events" group: administrators only                       */
/* ------------------------------------------------------------------ */

#define NLA_NEXT_AT(a)	((struct nlattr *)((char *)(a) + NLA_ALIGN((a)->nla_len)))

/*
 * The id of the "events" multicast group of family "fewmul", resolved
 * with a raw CTRL_CMD_GETFAMILY on socket s; -1 when it is not found.
 */
static int events_group_id(int s)
{
	struct {
		struct nlmsghdr nlh;
		struct genlmsghdr g;
		struct nlattr a;
		char name[GENL_NAMSIZ];
	} req;
	char buf[8192];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct nlattr *a, *g, *f;
	int len, rest, grest, frest, id, found;

	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_type = GENL_ID_CTRL;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.g.cmd = CTRL_CMD_GETFAMILY;
	req.g.version = 1;
	req.a.nla_type = CTRL_ATTR_FAMILY_NAME;
	req.a.nla_len = NLA_HDRLEN + strlen(FEWMUL_GENL_NAME) + 1;
	strcpy(req.name, FEWMUL_GENL_NAME);
	req.nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(req.a.nla_len);
	if (send(s, &req, req.nlh.nlmsg_len, 0) < 0)
		return -1;
	len = recv(s, buf, sizeof(buf), 0);
	if (len < (int)NLMSG_LENGTH(GENL_HDRLEN) || nlh->nlmsg_type == NLMSG_ERROR)
		return -1;
	a = (struct nlattr *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
	rest = nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	for (; rest >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN;
	     rest -= NLA_ALIGN(a->nla_len), a = NLA_NEXT_AT(a)) {
		if ((a->nla_type & NLA_TYPE_MASK) != CTRL_ATTR_MCAST_GROUPS)
			continue;
		g = (struct nlattr *)((char *)a + NLA_HDRLEN);
		for (grest = a->nla_len - NLA_HDRLEN; grest >= NLA_HDRLEN;
		     grest -= NLA_ALIGN(g->nla_len), g = NLA_NEXT_AT(g)) {
			id = -1;
			found = 0;
			f = (struct nlattr *)((char *)g + NLA_HDRLEN);
			for (frest = g->nla_len - NLA_HDRLEN; frest >= NLA_HDRLEN;
			     frest -= NLA_ALIGN(f->nla_len), f = NLA_NEXT_AT(f)) {
				void *d = (char *)f + NLA_HDRLEN;

				if (f->nla_type == CTRL_ATTR_MCAST_GRP_ID)
					memcpy(&id, d, sizeof(id));
				if (f->nla_type == CTRL_ATTR_MCAST_GRP_NAME &&
				    !strcmp(d, FEWMUL_GENL_MCGRP_EVENTS))
					found = 1;
			}
			if (found)
				return id;
		}
	}
	return -1;
}

/* Root (CAP_SYS_ADMIN in the initial user namespace) may listen. */
TEST(events_join_admin)
{
	int s, grp;

	if (geteuid() != 0)
		SKIP(return, "needs root");
	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	ASSERT_LE(0, s);
	grp = events_group_id(s);
	ASSERT_LT(0, grp) TH_LOG("no events group: is fewmul loaded?");
	EXPECT_EQ(0, setsockopt(s, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				&grp, sizeof(grp)));
	close(s);
}

/*
 * Events carry every user's training: an unprivileged user, even one
 * who can open the device, is refused the group.
 */
TEST(events_join_unprivileged_eperm)
{
	int s, grp, fd;

	if (geteuid() != 0)
		SKIP(return, "needs root to drop to an unprivileged uid");
	fd = open(DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, setgroups(0, NULL));
	ASSERT_EQ(0, setresgid(65534, 65534, 65534));
	ASSERT_EQ(0, setresuid(65534, 65534, 65534));
	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	ASSERT_LE(0, s);
	grp = events_group_id(s);
	ASSERT_LT(0, grp);
	EXPECT_EQ(-1, setsockopt(s, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				 &grp, sizeof(grp)));
	EXPECT_EQ(EPERM, errno);
	close(s);
	close(fd);
}

TEST_HARNESS_MAIN
