// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libfewmul: the "fewmul" generic netlink family, through libnl-genl-3.
 *
 * One short-lived socket per request (or per monitor); replies are parsed
 * with the same strict view of the attributes as the kernel's policy.
 * Attributes newer than this library are ignored.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "internal.h"

/* One request: its state while the replies come in. */
struct fewmul_genl_req {
	int err;		/* 1 while waiting, then 0 or -errno */
	int (*parse)(struct nlattr **tb, void *arg);	/* 0 or -errno */
	void *arg;
	const struct nla_policy *policy;
	int maxattr;
	unsigned int replies;
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
	case NLE_BUSY:
		return -EBUSY;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_RANGE:
		return -ERANGE;
	default:
		return -EIO;
	}
}

static int fewmul_genl_error_cb(struct sockaddr_nl *nla, struct nlmsgerr *err,
				void *arg)
{
	struct fewmul_genl_req *req = arg;

	(void)nla;
	req->err = err->error ? err->error : -EIO;
	return NL_STOP;
}

/* End of a dump: NLMSG_DONE carries the dump's error code, if any. */
static int fewmul_genl_finish_cb(struct nl_msg *msg, void *arg)
{
	struct fewmul_genl_req *req = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int code = 0;

	if (nlmsg_datalen(nlh) >= (int)sizeof(code))
		memcpy(&code, nlmsg_data(nlh), sizeof(code));
	req->err = code < 0 ? code : 0;
	return NL_STOP;
}

static int fewmul_genl_ack_cb(struct nl_msg *msg, void *arg)
{
	struct fewmul_genl_req *req = arg;

	(void)msg;
	req->err = 0;
	return NL_STOP;
}

static int fewmul_genl_valid_cb(struct nl_msg *msg, void *arg)
{
	struct fewmul_genl_req *req = arg;
	struct genlmsghdr *gnlh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[FEWMUL_A_CTX_MAX > FEWMUL_A_INFO_MAX ?
			  FEWMUL_A_CTX_MAX + 1 : FEWMUL_A_INFO_MAX + 1];
	int err;

	memset(tb, 0, sizeof(tb));
	if (nla_parse(tb, req->maxattr, genlmsg_attrdata(gnlh, 0),
		      genlmsg_attrlen(gnlh, 0),
		      (struct nla_policy *)req->policy) < 0) {
		req->err = -EPROTO;
		return NL_STOP;
	}
	err = req->parse(tb, req->arg);
	if (err) {
		req->err = err;
		return NL_STOP;
	}
	req->replies++;
	return NL_OK;
}

/* A connected generic netlink socket and the family's id. */
static int fewmul_genl_open(struct nl_sock **skp, int *family)
{
	struct nl_sock *sk;
	int err;

	*skp = NULL;
	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	err = genl_connect(sk);
	if (err < 0)
		goto err_free;
	err = genl_ctrl_resolve(sk, FEWMUL_GENL_NAME);
	if (err < 0)
		goto err_free;
	*family = err;
	*skp = sk;
	return 0;

err_free:
	nl_socket_free(sk);
	return fewmul_nl_to_errno(err);
}

/* Request attributes: a context id and a layer, each optional. */
struct fewmul_genl_attrs {
	int has_id;
	uint64_t id;
	int has_layer;
	uint32_t layer;
};

/*
 * Send command cmd (a dump when dump is set) and parse every reply with
 * req->parse. Returns 0 or -errno.
 */
static int fewmul_genl_request(uint8_t cmd, int dump,
			       const struct fewmul_genl_attrs *a,
			       struct fewmul_genl_req *req)
{
	struct nl_sock *sk;
	struct nl_msg *msg = NULL;
	struct nl_cb *cb = NULL;
	int family, err;

	req->err = 1;
	err = fewmul_genl_open(&sk, &family);
	if (err)
		return err;
	msg = nlmsg_alloc();
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!msg || !cb) {
		err = -ENOMEM;
		goto out;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
			 dump ? NLM_F_DUMP : 0, cmd, FEWMUL_GENL_VERSION) ||
	    (a && a->has_id && nla_put_u64(msg, FEWMUL_A_CTX_ID, a->id) < 0) ||
	    (a && a->has_layer &&
	     nla_put_u32(msg, FEWMUL_A_CTX_LAYER, a->layer) < 0)) {
		err = -EMSGSIZE;
		goto out;
	}

	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, fewmul_genl_valid_cb, req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, fewmul_genl_finish_cb, req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, fewmul_genl_ack_cb, req);
	nl_cb_err(cb, NL_CB_CUSTOM, fewmul_genl_error_cb, req);

	err = nl_send_auto(sk, msg);
	if (err < 0) {
		err = fewmul_nl_to_errno(err);
		goto out;
	}
	while (req->err > 0) {
		err = nl_recvmsgs(sk, cb);
		if (err < 0 && req->err > 0) {
			req->err = fewmul_nl_to_errno(err);
			break;
		}
	}
	err = req->err;
out:
	nl_cb_put(cb);
	nlmsg_free(msg);
	nl_socket_free(sk);
	return err;
}

/* ---- FEWMUL_CMD_GET_INFO --------------------------------------------------- */

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
	[FEWMUL_A_INFO_SIMD]		= { .type = NLA_NUL_STRING },
};

/* A reply into a struct fewmul_device_info of @size bytes (symbol versions). */
struct fewmul_info_out {
	struct fewmul_device_info *info;
	size_t size;
};

static int fewmul_parse_info(struct nlattr **tb, void *arg)
{
	struct fewmul_info_out *o = arg;
	struct fewmul_device_info info;

	if (!tb[FEWMUL_A_INFO_ABI_VERSION] || !tb[FEWMUL_A_INFO_FEATURES])
		return -EPROTO;
	memset(&info, 0, sizeof(info));
	info.abi_version = nla_get_u32(tb[FEWMUL_A_INFO_ABI_VERSION]);
	info.features = nla_get_u64(tb[FEWMUL_A_INFO_FEATURES]);
	if (tb[FEWMUL_A_INFO_NR_WORKERS])
		info.nr_workers = nla_get_u32(tb[FEWMUL_A_INFO_NR_WORKERS]);
	if (tb[FEWMUL_A_INFO_MAX_LAYERS])
		info.max_layers = nla_get_u32(tb[FEWMUL_A_INFO_MAX_LAYERS]);
	if (tb[FEWMUL_A_INFO_MAX_WIDTH])
		info.max_width = nla_get_u32(tb[FEWMUL_A_INFO_MAX_WIDTH]);
	if (tb[FEWMUL_A_INFO_MAX_BATCH])
		info.max_batch = nla_get_u32(tb[FEWMUL_A_INFO_MAX_BATCH]);
	if (tb[FEWMUL_A_INFO_MAX_SCRATCH])
		info.max_scratch_bytes =
			nla_get_u64(tb[FEWMUL_A_INFO_MAX_SCRATCH]);
	if (tb[FEWMUL_A_INFO_NR_CONTEXTS])
		info.nr_contexts = nla_get_u32(tb[FEWMUL_A_INFO_NR_CONTEXTS]);
	if (tb[FEWMUL_A_INFO_MODULE_VERSION])
		nla_strlcpy(info.module_version,
			    tb[FEWMUL_A_INFO_MODULE_VERSION],
			    sizeof(info.module_version));
	if (tb[FEWMUL_A_INFO_SIMD])
		nla_strlcpy(info.simd, tb[FEWMUL_A_INFO_SIMD],
			    sizeof(info.simd));
	memcpy(o->info, &info, o->size);
	return 0;
}

static int genl_info(struct fewmul_device_info *info, size_t size)
{
	struct fewmul_info_out o = { .info = info, .size = size };
	struct fewmul_genl_req req = {
		.parse = fewmul_parse_info, .arg = &o,
		.policy = fewmul_info_policy, .maxattr = FEWMUL_A_INFO_MAX,
	};
	int err;

	if (!info)
		return -EINVAL;
	err = fewmul_genl_request(FEWMUL_CMD_GET_INFO, 0, NULL, &req);
	if (!err && !req.replies)
		err = -EPROTO;
	return err;
}

#ifdef FEWMUL_SHARED
int fewmul_genl_info_0_1(struct fewmul_device_info *info);
int fewmul_genl_info_0_7(struct fewmul_device_info *info);

/* LIBFEWMUL_0.1..0.6: struct fewmul_device_info ended at module_version */
FEWMUL_SYMVER("fewmul_genl_info@LIBFEWMUL_0.1")
FEWMUL_API int fewmul_genl_info_0_1(struct fewmul_device_info *info)
{
	return genl_info(info, FEWMUL_DEVICE_INFO_SIZE_0_1);
}

#define fewmul_genl_info	fewmul_genl_info_0_7
#endif

FEWMUL_SYMVER("fewmul_genl_info@@LIBFEWMUL_0.7")
FEWMUL_API int fewmul_genl_info(struct fewmul_device_info *info)
{
	return genl_info(info, sizeof(*info));
}

/* ---- contexts: FEWMUL_CMD_GET_STATS, FEWMUL_CMD_GET_HIST ------------------ */

#define FEWMUL_HIST_BYTES (FEWMUL_HIST_NR_BINS * sizeof(uint64_t))

/* s64 values are checked as u64 (same size) and read as two's complement. */
static struct nla_policy fewmul_ctx_policy[FEWMUL_A_CTX_MAX + 1] = {
	[FEWMUL_A_CTX_ID]		= { .type = NLA_U64 },
	[FEWMUL_A_CTX_OWNER_PID]	= { .type = NLA_U32 },
	[FEWMUL_A_CTX_OWNER_UID]	= { .type = NLA_U32 },
	[FEWMUL_A_CTX_HAS_MODEL]	= { .type = NLA_U8 },
	[FEWMUL_A_CTX_BUSY]		= { .type = NLA_U8 },
	[FEWMUL_A_CTX_NR_LAYERS]	= { .type = NLA_U32 },
	[FEWMUL_A_CTX_WEIGHTS]		= { .type = NLA_U32 },
	[FEWMUL_A_CTX_QBP]		= { .type = NLA_U8 },
	[FEWMUL_A_CTX_STEP]		= { .type = NLA_U64 },
	[FEWMUL_A_CTX_SAMPLES]		= { .type = NLA_U64 },
	[FEWMUL_A_CTX_ERRORS]		= { .type = NLA_U64 },
	[FEWMUL_A_CTX_LOSS]		= { .type = NLA_U64 },
	[FEWMUL_A_CTX_ADDS]		= { .type = NLA_U64 },
	[FEWMUL_A_CTX_SHIFTS]		= { .type = NLA_U64 },
	[FEWMUL_A_CTX_MULS]		= { .type = NLA_U64 },
	[FEWMUL_A_CTX_EPOCH]		= { .type = NLA_U32 },
	[FEWMUL_A_CTX_DONE]		= { .type = NLA_U64 },
	[FEWMUL_A_CTX_TOTAL]		= { .type = NLA_U64 },
	[FEWMUL_A_CTX_LAYER]		= { .type = NLA_U32 },
	[FEWMUL_A_CTX_HIST]		= { .minlen = FEWMUL_HIST_BYTES },
	[FEWMUL_A_CTX_BATCH_LOSS]	= { .type = NLA_U64 },
	[FEWMUL_A_CTX_BATCH_ERRORS]	= { .type = NLA_U32 },
	[FEWMUL_A_CTX_BATCH_SIZE]	= { .type = NLA_U32 },
	[FEWMUL_A_CTX_EPOCH_DONE]	= { .type = NLA_U64 },
	[FEWMUL_A_CTX_EPOCH_TOTAL]	= { .type = NLA_U64 },
};

static uint64_t get_u64(struct nlattr **tb, int a)
{
	return tb[a] ? nla_get_u64(tb[a]) : 0;
}

static uint32_t get_u32(struct nlattr **tb, int a)
{
	return tb[a] ? nla_get_u32(tb[a]) : 0;
}

static uint32_t get_u8(struct nlattr **tb, int a)
{
	return tb[a] ? nla_get_u8(tb[a]) : 0;
}

/* A Q24 sum as a double. */
static double q24(uint64_t v)
{
	return (double)(int64_t)v / (double)(1u << 24);
}

static int fewmul_parse_ctx_into(struct nlattr **tb, struct fewmul_ctx_stats *c)
{
	if (!tb[FEWMUL_A_CTX_ID])
		return -EPROTO;
	memset(c, 0, sizeof(*c));
	c->id = get_u64(tb, FEWMUL_A_CTX_ID);
	c->owner_pid = get_u32(tb, FEWMUL_A_CTX_OWNER_PID);
	c->owner_uid = get_u32(tb, FEWMUL_A_CTX_OWNER_UID);
	c->has_model = get_u8(tb, FEWMUL_A_CTX_HAS_MODEL);
	c->busy = get_u8(tb, FEWMUL_A_CTX_BUSY);
	c->nr_layers = get_u32(tb, FEWMUL_A_CTX_NR_LAYERS);
	c->weights = get_u32(tb, FEWMUL_A_CTX_WEIGHTS);
	c->qbp = get_u8(tb, FEWMUL_A_CTX_QBP);
	c->epoch = get_u32(tb, FEWMUL_A_CTX_EPOCH);
	c->step = get_u64(tb, FEWMUL_A_CTX_STEP);
	c->samples = get_u64(tb, FEWMUL_A_CTX_SAMPLES);
	c->errors = get_u64(tb, FEWMUL_A_CTX_ERRORS);
	c->loss = q24(get_u64(tb, FEWMUL_A_CTX_LOSS));
	c->ops.adds = get_u64(tb, FEWMUL_A_CTX_ADDS);
	c->ops.shifts = get_u64(tb, FEWMUL_A_CTX_SHIFTS);
	c->ops.muls = get_u64(tb, FEWMUL_A_CTX_MULS);
	c->done = get_u64(tb, FEWMUL_A_CTX_DONE);
	c->total = get_u64(tb, FEWMUL_A_CTX_TOTAL);
	c->batch_loss = q24(get_u64(tb, FEWMUL_A_CTX_BATCH_LOSS));
	c->batch_errors = get_u32(tb, FEWMUL_A_CTX_BATCH_ERRORS);
	c->batch_size = get_u32(tb, FEWMUL_A_CTX_BATCH_SIZE);
	c->epoch_done = get_u64(tb, FEWMUL_A_CTX_EPOCH_DONE);
	c->epoch_total = get_u64(tb, FEWMUL_A_CTX_EPOCH_TOTAL);
	return 0;
}

/*
 * struct fewmul_ctx_stats as LIBFEWMUL_0.2..0.6 defined it: programs
 * built against it get this many bytes per entry (symbol versions below).
 */
#define CTX_STATS_SIZE_0_2	offsetof(struct fewmul_ctx_stats, epoch_done)

/* Dump: store up to max entries of elem bytes each, count all. */
struct fewmul_ctx_list {
	char *out;
	size_t elem;
	size_t max;
	size_t n;
};

static int fewmul_parse_ctx_list(struct nlattr **tb, void *arg)
{
	struct fewmul_ctx_list *l = arg;
	struct fewmul_ctx_stats c;
	int err;

	err = fewmul_parse_ctx_into(tb, &c);
	if (err)
		return err;
	if (l->n < l->max)
		memcpy(l->out + l->n * l->elem, &c, l->elem);
	l->n++;
	return 0;
}

static int genl_stats(void *out, size_t max, size_t elem)
{
	struct fewmul_ctx_list l = { .out = out, .elem = elem, .max = max };
	struct fewmul_genl_req req = {
		.parse = fewmul_parse_ctx_list, .arg = &l,
		.policy = fewmul_ctx_policy, .maxattr = FEWMUL_A_CTX_MAX,
	};
	int err;

	if (!out && max)
		return -EINVAL;
	err = fewmul_genl_request(FEWMUL_CMD_GET_STATS, 1, NULL, &req);
	if (err)
		return err;
	return l.n > 0x7fffffff ? 0x7fffffff : (int)l.n;
}

static int genl_ctx_stats(uint64_t id, void *out, size_t elem)
{
	struct fewmul_genl_attrs a = { .has_id = 1, .id = id };
	struct fewmul_ctx_list l = { .out = out, .elem = elem, .max = 1 };
	struct fewmul_genl_req req = {
		.parse = fewmul_parse_ctx_list, .arg = &l,
		.policy = fewmul_ctx_policy, .maxattr = FEWMUL_A_CTX_MAX,
	};
	int err;

	if (!out)
		return -EINVAL;
	err = fewmul_genl_request(FEWMUL_CMD_GET_STATS, 0, &a, &req);
	if (!err && !req.replies)
		err = -EPROTO;
	return err;
}

/*
 * Programs linked against LIBFEWMUL_0.2..0.6 get the shorter struct from
 * the 0.2 versions; new links get 0.7's (FEWMUL_SYMVER).
 */
#ifdef FEWMUL_SHARED
int fewmul_genl_stats_0_2(struct fewmul_ctx_stats *out, size_t max);
int fewmul_genl_ctx_stats_0_2(uint64_t id, struct fewmul_ctx_stats *out);
int fewmul_genl_stats_0_7(struct fewmul_ctx_stats *out, size_t max);
int fewmul_genl_ctx_stats_0_7(uint64_t id, struct fewmul_ctx_stats *out);

FEWMUL_SYMVER("fewmul_genl_stats@LIBFEWMUL_0.2")
FEWMUL_API int fewmul_genl_stats_0_2(struct fewmul_ctx_stats *out, size_t max)
{
	return genl_stats(out, max, CTX_STATS_SIZE_0_2);
}

FEWMUL_SYMVER("fewmul_genl_ctx_stats@LIBFEWMUL_0.2")
FEWMUL_API int fewmul_genl_ctx_stats_0_2(uint64_t id,
					 struct fewmul_ctx_stats *out)
{
	return genl_ctx_stats(id, out, CTX_STATS_SIZE_0_2);
}

/* the newest under internal names, exported through their versions */
#define fewmul_genl_stats	fewmul_genl_stats_0_7
#define fewmul_genl_ctx_stats	fewmul_genl_ctx_stats_0_7
#endif

FEWMUL_SYMVER("fewmul_genl_stats@@LIBFEWMUL_0.7")
FEWMUL_API int fewmul_genl_stats(struct fewmul_ctx_stats *out, size_t max)
{
	return genl_stats(out, max, sizeof(*out));
}

FEWMUL_SYMVER("fewmul_genl_ctx_stats@@LIBFEWMUL_0.7")
FEWMUL_API int fewmul_genl_ctx_stats(uint64_t id, struct fewmul_ctx_stats *out)
{
	return genl_ctx_stats(id, out, sizeof(*out));
}

static int fewmul_parse_hist(struct nlattr **tb, void *arg)
{
	struct fewmul_layer_hist *h = arg;

	if (!tb[FEWMUL_A_CTX_ID] || !tb[FEWMUL_A_CTX_LAYER] ||
	    !tb[FEWMUL_A_CTX_HIST] ||
	    nla_len(tb[FEWMUL_A_CTX_HIST]) != (int)FEWMUL_HIST_BYTES)
		return -EPROTO;
	memset(h, 0, sizeof(*h));
	h->id = get_u64(tb, FEWMUL_A_CTX_ID);
	h->layer = get_u32(tb, FEWMUL_A_CTX_LAYER);
	h->ops.adds = get_u64(tb, FEWMUL_A_CTX_ADDS);
	h->ops.shifts = get_u64(tb, FEWMUL_A_CTX_SHIFTS);
	h->ops.muls = get_u64(tb, FEWMUL_A_CTX_MULS);
	memcpy(h->bins, nla_data(tb[FEWMUL_A_CTX_HIST]), FEWMUL_HIST_BYTES);
	return 0;
}

FEWMUL_API int fewmul_genl_hist(uint64_t id, unsigned int layer,
				struct fewmul_layer_hist *out)
{
	struct fewmul_genl_attrs a = {
		.has_id = 1, .id = id, .has_layer = 1, .layer = layer,
	};
	struct fewmul_genl_req req = {
		.parse = fewmul_parse_hist, .arg = out,
		.policy = fewmul_ctx_policy, .maxattr = FEWMUL_A_CTX_MAX,
	};
	int err;

	if (!out)
		return -EINVAL;
	err = fewmul_genl_request(FEWMUL_CMD_GET_HIST, 0, &a, &req);
	if (!err && !req.replies)
		err = -EPROTO;
	if (!err && (out->id != id || out->layer != layer))
		err = -EPROTO;
	return err;
}

/* ---- FEWMUL_CMD_PROGRESS on the "events" group ---------------------------- */

struct fewmul_monitor {
	fewmul_progress_fn fn;
	void *arg;
	int family;
	int stopped;
	int err;
};

static int fewmul_monitor_cb(struct nl_msg *msg, void *arg)
{
	struct fewmul_monitor *mon = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gnlh = nlmsg_data(nlh);
	struct nlattr *tb[FEWMUL_A_CTX_MAX + 1];
	struct fewmul_ctx_stats ev;

	if (nlh->nlmsg_type != mon->family ||
	    nlmsg_datalen(nlh) < (int)sizeof(*gnlh) ||
	    gnlh->cmd != FEWMUL_CMD_PROGRESS)
		return NL_SKIP;
	if (nla_parse(tb, FEWMUL_A_CTX_MAX, genlmsg_attrdata(gnlh, 0),
		      genlmsg_attrlen(gnlh, 0), fewmul_ctx_policy) < 0 ||
	    fewmul_parse_ctx_into(tb, &ev))
		return NL_SKIP;	/* a malformed event is dropped */
	if (mon->fn(&ev, mon->arg)) {
		mon->stopped = 1;
		return NL_STOP;
	}
	return NL_OK;
}

static int fewmul_no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static int64_t fewmul_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Without CAP_SYS_ADMIN the kernel refuses to join "events" (EPERM): it
 * carries every user's training. Such a monitor polls the GET_STATS dump
 * instead, which shows only the caller's own contexts, and reports a
 * context whenever its step moved: the same records, at the poll rate.
 */
#define FEWMUL_POLL_MS		100
#define FEWMUL_POLL_MAX		256

static int fewmul_genl_monitor_poll(fewmul_progress_fn fn, void *arg,
				    int timeout_ms, const volatile int *stop)
{
	struct { uint64_t id, step; } seen[FEWMUL_POLL_MAX], prev[FEWMUL_POLL_MAX];
	int64_t deadline = timeout_ms >= 0 ? fewmul_now_ms() + timeout_ms : 0;
	struct fewmul_ctx_stats *cur;
	size_t nprev = 0, nseen, i, j;
	int n, err = 0;

	cur = calloc(FEWMUL_POLL_MAX, sizeof(*cur));
	if (!cur)
		return -ENOMEM;
	while (!(stop && *stop)) {
		if (timeout_ms >= 0 && fewmul_now_ms() >= deadline) {
			err = -ETIMEDOUT;
			break;
		}
		n = genl_stats(cur, FEWMUL_POLL_MAX, sizeof(*cur));
		if (n < 0) {
			err = n;
			break;
		}
		if (n > FEWMUL_POLL_MAX)
			n = FEWMUL_POLL_MAX;
		nseen = 0;
		for (i = 0; i < (size_t)n; i++) {
			const struct fewmul_ctx_stats *c = &cur[i];
			int changed = c->busy;	/* new: report it if it trains */

			for (j = 0; j < nprev; j++)
				if (prev[j].id == c->id) {
					changed = prev[j].step != c->step;
					break;
				}
			seen[nseen].id = c->id;
			seen[nseen++].step = c->step;
			if (changed && fn(c, arg))
				goto out;
		}
		memcpy(prev, seen, nseen * sizeof(seen[0]));
		nprev = nseen;
		poll(NULL, 0, FEWMUL_POLL_MS);
	}
out:
	free(cur);
	return err;
}

FEWMUL_API int fewmul_genl_monitor(fewmul_progress_fn fn, void *arg,
				   int timeout_ms, const volatile int *stop)
{
	struct fewmul_monitor mon = { .fn = fn, .arg = arg };
	int64_t deadline = timeout_ms >= 0 ? fewmul_now_ms() + timeout_ms : 0;
	struct nl_cb *cb = NULL;
	struct nl_sock *sk;
	struct pollfd pfd;
	int grp, err;

	if (!fn)
		return -EINVAL;
	err = fewmul_genl_open(&sk, &mon.family);
	if (err)
		return err;
	grp = genl_ctrl_resolve_grp(sk, FEWMUL_GENL_NAME,
				    FEWMUL_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		err = fewmul_nl_to_errno(grp);
		goto out;
	}
	nl_socket_disable_seq_check(sk);
	err = nl_socket_add_membership(sk, grp);
	if (err < 0) {
		err = fewmul_nl_to_errno(err);
		if (err == -EPERM) {
			nl_socket_free(sk);
			return fewmul_genl_monitor_poll(fn, arg, timeout_ms,
							stop);
		}
		goto out;
	}
	/* room for bursts; events beyond it are lost, not fatal */
	nl_socket_set_buffer_size(sk, 1 << 20, 0);
	err = nl_socket_set_nonblocking(sk);
	if (err < 0) {
		err = fewmul_nl_to_errno(err);
		goto out;
	}
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		err = -ENOMEM;
		goto out;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, fewmul_monitor_cb, &mon);
	/* Events are unsolicited (sequence number 0): no sequence check. */
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, fewmul_no_seq_check, NULL);

	pfd.fd = nl_socket_get_fd(sk);
	pfd.events = POLLIN;
	for (;;) {
		int wait = 250;

		if (stop && *stop) {
			err = 0;
			break;
		}
		if (timeout_ms >= 0) {
			int64_t left = deadline - fewmul_now_ms();

			if (left <= 0) {
				err = -ETIMEDOUT;
				break;
			}
			if (left < wait)
				wait = (int)left;
		}
		err = poll(&pfd, 1, wait);
		if (err < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (!err)
			continue;
		err = nl_recvmsgs(sk, cb);
		if (mon.stopped) {
			err = 0;
			break;
		}
		/* NLE_NOMEM here is ENOBUFS: the queue overflowed, events lost */
		if (err < 0 && err != -NLE_AGAIN && err != -NLE_NOMEM &&
		    err != -NLE_INTR) {
			err = fewmul_nl_to_errno(err);
			break;
		}
	}
out:
	nl_cb_put(cb);
	nl_socket_free(sk);
	return err;
}
