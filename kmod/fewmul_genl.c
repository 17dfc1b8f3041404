// SPDX-License-Identifier: GPL-2.0
/*
 * fewmul: the "fewmul" generic netlink family (query, config, notify).
 * Documentation/netlink/specs/fewmul.yaml describes it.
 */
#include <linux/module.h>
#include <net/genetlink.h>

#include "fewmul.h"

static struct genl_family fewmul_genl_family;

static int fewmul_genl_get_info(struct sk_buff *skb, struct genl_info *info)
{
	struct fewmul_info fi = {};
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	hdr = genlmsg_put_reply(msg, info, &fewmul_genl_family, 0,
				FEWMUL_CMD_GET_INFO);
	if (!hdr)
		goto err_free;

	fewmul_fill_info(&fi);
	if (nla_put_u32(msg, FEWMUL_A_INFO_ABI_VERSION, fi.abi_version) ||
	    nla_put_u64_64bit(msg, FEWMUL_A_INFO_FEATURES, fi.features,
			      FEWMUL_A_INFO_PAD) ||
	    nla_put_u32(msg, FEWMUL_A_INFO_NR_WORKERS, fi.nr_workers) ||
	    nla_put_u32(msg, FEWMUL_A_INFO_MAX_LAYERS, fi.max_layers) ||
	    nla_put_u32(msg, FEWMUL_A_INFO_MAX_WIDTH, fi.max_width) ||
	    nla_put_u32(msg, FEWMUL_A_INFO_MAX_BATCH, fi.max_batch) ||
	    nla_put_u64_64bit(msg, FEWMUL_A_INFO_MAX_SCRATCH,
			      fi.max_scratch_bytes, FEWMUL_A_INFO_PAD) ||
	    nla_put_u32(msg, FEWMUL_A_INFO_NR_CONTEXTS, fewmul_nr_contexts()) ||
	    nla_put_string(msg, FEWMUL_A_INFO_MODULE_VERSION, FEWMUL_VERSION))
		goto err_cancel;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_cancel:
	genlmsg_cancel(msg, hdr);
err_free:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* No op takes attributes yet: with resv_start_op 0 the core rejects any. */
static const struct genl_small_ops fewmul_genl_ops[] = {
	{
		.cmd	= FEWMUL_CMD_GET_INFO,
		.doit	= fewmul_genl_get_info,
	},
};

static const struct genl_multicast_group fewmul_genl_mcgrps[] = {
	{ .name = FEWMUL_GENL_MCGRP_EVENTS },
};

static struct genl_family fewmul_genl_family __ro_after_init = {
	.name		= FEWMUL_GENL_NAME,
	.version	= FEWMUL_GENL_VERSION,
	.maxattr	= FEWMUL_A_INFO_MAX,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.small_ops	= fewmul_genl_ops,
	.n_small_ops	= ARRAY_SIZE(fewmul_genl_ops),
	.resv_start_op	= 0,
	.mcgrps		= fewmul_genl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(fewmul_genl_mcgrps),
};

int __init fewmul_genl_init(void)
{
	return genl_register_family(&fewmul_genl_family);
}

void fewmul_genl_exit(void)
{
	genl_unregister_family(&fewmul_genl_family);
}

MODULE_ALIAS_GENL_FAMILY(FEWMUL_GENL_NAME);
