// SPDX-License-Identifier: GPL-2.0
/*
 * fewmul: the "fewmul" generic netlink family (query, stats, events).
 * Documentation/netlink/specs/fewmul.yaml describes it.
 *
 * Stats and histograms are read from each context's published totals
 * (fewmul_ctx.stats_lock), never from the model a training run is
 * changing, so they answer while a context trains.
 */
#include <linux/module.h>
#include <linux/pid_namespace.h>
#include <linux/user_namespace.h>
#include <net/genetlink.h>
#include <net/sock.h>

#include "fewmul.h"

static struct genl_family fewmul_genl_family;

/* Index of the "events" group in fewmul_genl_mcgrps[]. */
#define FEWMUL_GENL_MCGRP_EVENTS_ID	0

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
	    nla_put_string(msg, FEWMUL_A_INFO_MODULE_VERSION, FEWMUL_VERSION) ||
	    nla_put_string(msg, FEWMUL_A_INFO_SIMD, fi.simd))
		goto err_cancel;

	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_cancel:
	genlmsg_cancel(msg, hdr);
err_free:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* A user sees the contexts they opened; CAP_SYS_ADMIN sees all. */
static bool fewmul_ctx_visible(const struct fewmul_ctx *ctx,
			       const struct sk_buff *req)
{
	struct sock *sk = NETLINK_CB(req).sk;

	return netlink_capable(req, CAP_SYS_ADMIN) ||
	       uid_eq(ctx->owner_uid, fewmul_sk_uid(sk));
}

static int fewmul_put_u64(struct sk_buff *msg, int attr, u64 v)
{
	return nla_put_u64_64bit(msg, attr, v, FEWMUL_A_CTX_PAD);
}

/*
 * The context's identity and totals; caller holds fewmul_ctx_list_lock.
 * The owner's uid and pid are given as the receiver sees them: in the
 * user namespace of its socket (@uns; overflowuid when not mapped there)
 * and in @pns (0 when the owner is not in it).
 */
static int fewmul_fill_ctx(struct sk_buff *msg, struct fewmul_ctx *ctx,
			   struct user_namespace *uns,
			   struct pid_namespace *pns)
{
	struct fewmul_totals t;

	spin_lock(&ctx->stats_lock);
	t = ctx->totals;
	spin_unlock(&ctx->stats_lock);

	if (fewmul_put_u64(msg, FEWMUL_A_CTX_ID, ctx->id) ||
	    nla_put_u32(msg, FEWMUL_A_CTX_OWNER_PID,
			pid_nr_ns(ctx->owner_pid, pns)) ||
	    nla_put_u32(msg, FEWMUL_A_CTX_OWNER_UID,
			from_kuid_munged(uns, ctx->owner_uid)) ||
	    nla_put_u8(msg, FEWMUL_A_CTX_HAS_MODEL, t.has_model) ||
	    nla_put_u8(msg, FEWMUL_A_CTX_BUSY, t.busy) ||
	    nla_put_u32(msg, FEWMUL_A_CTX_NR_LAYERS, t.nr_layers) ||
	    nla_put_u32(msg, FEWMUL_A_CTX_WEIGHTS, t.weights) ||
	    nla_put_u8(msg, FEWMUL_A_CTX_QBP, t.qbp) ||
	    nla_put_u32(msg, FEWMUL_A_CTX_EPOCH, t.epoch) ||
	    fewmul_put_u64(msg, FEWMUL_A_CTX_STEP, t.step) ||
	    fewmul_put_u64(msg, FEWMUL_A_CTX_SAMPLES, t.samples) ||
	    fewmul_put_u64(msg, FEWMUL_A_CTX_ERRORS, t.errors) ||
	    fewmul_put_u64(msg, FEWMUL_A_CTX_LOSS, (u64)t.loss) ||
	    fewmul_put_u64(msg, FEWMUL_A_CTX_ADDS, t.ops.adds) ||
	    fewmul_put_u64(msg, FEWMUL_A_CTX_SHIFTS, t.ops.shifts) ||
	    fewmul_put_u64(msg, FEWMUL_A_CTX_MULS, t.ops.muls) ||
	    fewmul_put_u64(msg, FEWMUL_A_CTX_DONE, t.done) ||
	    fewmul_put_u64(msg, FEWMUL_A_CTX_TOTAL, t.total) ||
	    fewmul_put_u64(msg, FEWMUL_A_CTX_BATCH_LOSS, (u64)t.batch_loss) ||
	    nla_put_u32(msg, FEWMUL_A_CTX_BATCH_ERRORS, t.batch_errors) ||
	    nla_put_u32(msg, FEWMUL_A_CTX_BATCH_SIZE, t.batch_size) ||
	    fewmul_put_u64(msg, FEWMUL_A_CTX_EPOCH_DONE, t.epoch_done) ||
	    fewmul_put_u64(msg, FEWMUL_A_CTX_EPOCH_TOTAL, t.epoch_total))
		return -EMSGSIZE;
	return 0;
}

/* Find a visible context by id; caller holds fewmul_ctx_list_lock. */
static struct fewmul_ctx *fewmul_ctx_lookup(struct sk_buff *req,
					    struct genl_info *info)
{
	struct fewmul_ctx *ctx;
	u64 id;

	if (GENL_REQ_ATTR_CHECK(info, FEWMUL_A_CTX_ID))
		return ERR_PTR(-EINVAL);
	id = nla_get_u64(info->attrs[FEWMUL_A_CTX_ID]);
	list_for_each_entry(ctx, &fewmul_ctx_list, node)
		if (ctx->id == id && fewmul_ctx_visible(ctx, req))
			return ctx;
	NL_SET_BAD_ATTR(info->extack, info->attrs[FEWMUL_A_CTX_ID]);
	return ERR_PTR(-ENOENT);
}

/* One layer's counters and histogram; caller holds fewmul_ctx_list_lock. */
static int fewmul_fill_hist(struct sk_buff *msg, struct fewmul_ctx *ctx,
			    u32 layer, struct genl_info *info)
{
	struct fewmul_counters ops;
	u64 bins[FEWMUL_HIST_NR_BINS];
	int ret;

	ret = fewmul_hist_read(ctx, layer, &ops, bins);
	if (ret) {
		if (ret == -EINVAL)
			NL_SET_BAD_ATTR(info->extack,
					info->attrs[FEWMUL_A_CTX_LAYER]);
		return ret;
	}
	if (fewmul_put_u64(msg, FEWMUL_A_CTX_ID, ctx->id) ||
	    nla_put_u32(msg, FEWMUL_A_CTX_LAYER, layer) ||
	    nla_put(msg, FEWMUL_A_CTX_HIST, sizeof(bins), bins) ||
	    fewmul_put_u64(msg, FEWMUL_A_CTX_ADDS, ops.adds) ||
	    fewmul_put_u64(msg, FEWMUL_A_CTX_SHIFTS, ops.shifts) ||
	    fewmul_put_u64(msg, FEWMUL_A_CTX_MULS, ops.muls))
		return -EMSGSIZE;
	return 0;
}

/* GET_STATS and GET_HIST replies: built under the list lock. */
static int fewmul_genl_reply_ctx(struct sk_buff *req, struct genl_info *info,
				 bool hist)
{
	struct fewmul_ctx *ctx;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	if (hist && GENL_REQ_ATTR_CHECK(info, FEWMUL_A_CTX_LAYER))
		return -EINVAL;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &fewmul_genl_family, 0,
				hist ? FEWMUL_CMD_GET_HIST :
				FEWMUL_CMD_GET_STATS);
	if (!hdr) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}

	mutex_lock(&fewmul_ctx_list_lock);
	ctx = fewmul_ctx_lookup(req, info);
	if (IS_ERR(ctx))
		ret = PTR_ERR(ctx);
	else if (hist)
		ret = fewmul_fill_hist(msg, ctx,
				       nla_get_u32(info->attrs[FEWMUL_A_CTX_LAYER]),
				       info);
	else
		ret = fewmul_fill_ctx(msg, ctx, sk_user_ns(NETLINK_CB(req).sk),
				      task_active_pid_ns(current));
	mutex_unlock(&fewmul_ctx_list_lock);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int fewmul_genl_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	return fewmul_genl_reply_ctx(skb, info, false);
}

static int fewmul_genl_get_hist(struct sk_buff *skb, struct genl_info *info)
{
	return fewmul_genl_reply_ctx(skb, info, true);
}

/* cb->args[0]: id of the last context dumped. */
static int fewmul_genl_dump_stats(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	struct fewmul_ctx *ctx;
	void *hdr;
	int ret = 0;

	mutex_lock(&fewmul_ctx_list_lock);
	list_for_each_entry(ctx, &fewmul_ctx_list, node) {
		if (ctx->id <= cb->args[0] || !fewmul_ctx_visible(ctx, cb->skb))
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &fewmul_genl_family,
				  NLM_F_MULTI, FEWMUL_CMD_GET_STATS);
		if (!hdr) {
			ret = -EMSGSIZE;
			break;
		}
		if (fewmul_fill_ctx(skb, ctx, sk_user_ns(NETLINK_CB(cb->skb).sk),
				    task_active_pid_ns(current))) {
			genlmsg_cancel(skb, hdr);
			ret = -EMSGSIZE;
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = ctx->id;
	}
	mutex_unlock(&fewmul_ctx_list_lock);
	/* A full skb ends this round; the next one continues after args[0]. */
	if (ret == -EMSGSIZE && skb->len)
		return skb->len;
	return ret ? ret : skb->len;
}

/**
 * fewmul_genl_progress() - multicast a %FEWMUL_CMD_PROGRESS event
 * @ctx: the training context (its totals are sent)
 *
 * Best effort, to listeners of the "events" group in the initial network
 * namespace; nothing is built when there are none. A failure to allocate
 * or deliver only loses the event. Joining the group needs CAP_SYS_ADMIN
 * in the initial user namespace (GENL_MCAST_CAP_SYS_ADMIN, checked by
 * genl_bind() against init_net's user namespace), so only an
 * administrator hears other users' training; owners poll GET_STATS.
 */
void fewmul_genl_progress(struct fewmul_ctx *ctx)
{
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&fewmul_genl_family, &init_net,
				FEWMUL_GENL_MCGRP_EVENTS_ID))
		return;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &fewmul_genl_family, 0,
			  FEWMUL_CMD_PROGRESS);
	/* Listeners are administrators of the initial namespaces. */
	if (!hdr || fewmul_fill_ctx(msg, ctx, &init_user_ns, &init_pid_ns)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast(&fewmul_genl_family, msg, 0,
			  FEWMUL_GENL_MCGRP_EVENTS_ID, GFP_KERNEL);
}

static const struct nla_policy fewmul_ctx_id_policy[FEWMUL_A_CTX_ID + 1] = {
	[FEWMUL_A_CTX_ID]	= { .type = NLA_U64 },
};

static const struct nla_policy fewmul_hist_policy[FEWMUL_A_CTX_LAYER + 1] = {
	[FEWMUL_A_CTX_ID]	= { .type = NLA_U64 },
	[FEWMUL_A_CTX_LAYER]	= NLA_POLICY_MAX(NLA_U32, FEWMUL_MAX_LAYERS),
};

/* Ops without a policy take no attributes (resv_start_op 0). */
static const struct genl_ops fewmul_genl_ops[] = {
	{
		.cmd	= FEWMUL_CMD_GET_INFO,
		.doit	= fewmul_genl_get_info,
	},
	{
		.cmd	= FEWMUL_CMD_GET_STATS,
		.doit	= fewmul_genl_get_stats,
		.dumpit	= fewmul_genl_dump_stats,
		.policy	= fewmul_ctx_id_policy,
		.maxattr = FEWMUL_A_CTX_ID,
	},
	{
		.cmd	= FEWMUL_CMD_GET_HIST,
		.doit	= fewmul_genl_get_hist,
		.policy	= fewmul_hist_policy,
		.maxattr = FEWMUL_A_CTX_LAYER,
	},
};

static const struct genl_multicast_group fewmul_genl_mcgrps[] = {
	/* Every context's progress: administrators only (see above). */
	[FEWMUL_GENL_MCGRP_EVENTS_ID] = {
		.name	= FEWMUL_GENL_MCGRP_EVENTS,
		.flags	= GENL_MCAST_CAP_SYS_ADMIN,
	},
};

static struct genl_family fewmul_genl_family __ro_after_init = {
	.name		= FEWMUL_GENL_NAME,
	.version	= FEWMUL_GENL_VERSION,
	.maxattr	= FEWMUL_A_CTX_MAX,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.ops		= fewmul_genl_ops,
	.n_ops		= ARRAY_SIZE(fewmul_genl_ops),
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
