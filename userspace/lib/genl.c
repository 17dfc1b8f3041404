// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libfewmul: the "fewmul" generic netlink family, through libnl-genl-3.
 *
 * One short-lived socket per request; the reply is parsed with the same
 * strict view of the attributes as the kernel's policy.
 */
#include <errno.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <linux/fewmul.h>

#include "internal.h"

struct fewmul_genl_req {
	int err;		/* 1 while waiting, then 0 or -errno */
	struct fewmul_device_info *info;
	int got_reply;
};

static int fewmul_nl_to_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_PERM:
		return -EPERM;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	default:
		return -EIO;
	}
}

static int fewmul_genl_error_cb(struct sockaddr_nl *nla, struct nlmsgerr *err,
				void *arg)
{
	struct fewmul_genl_req *req = arg;

	(void)nla;
	req->err = err->error;
	return NL_STOP;
}

static int fewmul_genl_finish_cb(struct nl_msg *msg, void *arg)
{
	struct fewmul_genl_req *req = arg;

	(void)msg;
	req->err = 0;
	return NL_SKIP;
}

static int fewmul_genl_ack_cb(struct nl_msg *msg, void *arg)
{
	struct fewmul_genl_req *req = arg;

	(void)msg;
	req->err = 0;
	return NL_STOP;
}

static struct nla_policy fewmul_info_policy[FEWMUL_A_INFO_MAX + 1] = {
	[FEWMUL_A_INFO_ABI_VERSION]	= { .type = NLA_U32 },
	[FEWMUL_A_INFO_FEATURES]	= { .type = NLA_U64 },
	[FEWMUL_A_INFO_NR_WORKERS]	= { .type = NLA_U32 },
	[FEWMUL_A_INFO_MAX_LAYERS]	= { .type = NLA_U32 },
	[FEWMUL_A_INFO_MAX_WIDTH]	= { .type = NLA_U32 },
	[FEWMUL_A_INFO_MAX_BATCH]	= { .type = NLA_U32 },
	[FEWMUL_A_INFO_MAX_SCRATCH]	= { .type = NLA_U64 },
	[FEWMUL_A_INFO_NR_CONTEXTS]	= { .type = NLA_U32 },
	[FEWMUL_A_INFO_MODULE_VERSION]	= { .type = NLA_NUL_STRING },
};

static int fewmul_genl_info_cb(struct nl_msg *msg, void *arg)
{
	struct fewmul_genl_req *req = arg;
	struct genlmsghdr *gnlh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[FEWMUL_A_INFO_MAX + 1];
	struct fewmul_device_info *info = req->info;

	if (nla_parse(tb, FEWMUL_A_INFO_MAX, genlmsg_attrdata(gnlh, 0),
		      genlmsg_attrlen(gnlh, 0), fewmul_info_policy) < 0 ||
	    !tb[FEWMUL_A_INFO_ABI_VERSION] || !tb[FEWMUL_A_INFO_FEATURES]) {
		req->err = -EPROTO;
		return NL_STOP;
	}

	memset(info, 0, sizeof(*info));
	info->abi_version = nla_get_u32(tb[FEWMUL_A_INFO_ABI_VERSION]);
	info->features = nla_get_u64(tb[FEWMUL_A_INFO_FEATURES]);
	if (tb[FEWMUL_A_INFO_NR_WORKERS])
		info->nr_workers = nla_get_u32(tb[FEWMUL_A_INFO_NR_WORKERS]);
	if (tb[FEWMUL_A_INFO_MAX_LAYERS])
		info->max_layers = nla_get_u32(tb[FEWMUL_A_INFO_MAX_LAYERS]);
	if (tb[FEWMUL_A_INFO_MAX_WIDTH])
		info->max_width = nla_get_u32(tb[FEWMUL_A_INFO_MAX_WIDTH]);
	if (tb[FEWMUL_A_INFO_MAX_BATCH])
		info->max_batch = nla_get_u32(tb[FEWMUL_A_INFO_MAX_BATCH]);
	if (tb[FEWMUL_A_INFO_MAX_SCRATCH])
		info->max_scratch_bytes =
			nla_get_u64(tb[FEWMUL_A_INFO_MAX_SCRATCH]);
	if (tb[FEWMUL_A_INFO_NR_CONTEXTS])
		info->nr_contexts = nla_get_u32(tb[FEWMUL_A_INFO_NR_CONTEXTS]);
	if (tb[FEWMUL_A_INFO_MODULE_VERSION])
		nla_strlcpy(info->module_version,
			    tb[FEWMUL_A_INFO_MODULE_VERSION],
			    sizeof(info->module_version));
	req->got_reply = 1;
	return NL_SKIP;
}

FEWMUL_API int fewmul_genl_info(struct fewmul_device_info *info)
{
	struct fewmul_genl_req req = { .err = 1, .info = info };
	struct nl_sock *sk;
	struct nl_msg *msg = NULL;
	struct nl_cb *cb = NULL;
	int family, err;

	if (!info)
		return -EINVAL;

	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	err = genl_connect(sk);
	if (err < 0) {
		err = fewmul_nl_to_errno(err);
		goto out;
	}
	family = genl_ctrl_resolve(sk, FEWMUL_GENL_NAME);
	if (family < 0) {
		err = fewmul_nl_to_errno(family);
		goto out;
	}

	msg = nlmsg_alloc();
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!msg || !cb) {
		err = -ENOMEM;
		goto out;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0,
			 FEWMUL_CMD_GET_INFO, FEWMUL_GENL_VERSION)) {
		err = -EMSGSIZE;
		goto out;
	}

	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, fewmul_genl_info_cb, &req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, fewmul_genl_finish_cb, &req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, fewmul_genl_ack_cb, &req);
	nl_cb_err(cb, NL_CB_CUSTOM, fewmul_genl_error_cb, &req);

	err = nl_send_auto(sk, msg);
	if (err < 0) {
		err = fewmul_nl_to_errno(err);
		goto out;
	}
	while (req.err > 0) {
		err = nl_recvmsgs(sk, cb);
		if (err < 0 && req.err > 0) {
			req.err = fewmul_nl_to_errno(err);
			break;
		}
	}
	err = req.err;
	if (!err && !req.got_reply)
		err = -EPROTO;
out:
	nl_cb_put(cb);
	nlmsg_free(msg);
	nl_socket_free(sk);
	return err;
}
