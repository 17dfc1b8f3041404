/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fewmul compat: every kernel API that differs between Linux 6.1, the
 * oldest kernel fewmul supports, and current mainline, in one place.
 *
 * kmod/fewmul_compat.mk looks at the kernel's own headers at build time
 * (stable kernels backport API changes, so the version number does not
 * tell) and passes what it finds as FEWMUL_HAVE_* flags; it also refuses
 * kernels older than 6.1 with one message. Documentation/packaging.rst
 * has the table of kernels built and tested.
 *
 * Not needed here: no_llseek (removed in 6.12; a file opened with
 * nonseekable_open() and no .llseek already fails lseek() with -ESPIPE)
 * and genlmsg_multicast_allns(), whose gfp_t went away in 6.12 and
 * 6.1.115 (fewmul multicasts in init_net only, with genlmsg_multicast()).
 */
#ifndef _FEWMUL_COMPAT_H
#define _FEWMUL_COMPAT_H

/*
 * Symbol namespaces are string literals from 6.13 on; before, a bare
 * identifier that the macros stringify. FEWMUL_NS serves both
 * EXPORT_SYMBOL_NS_GPL() and MODULE_IMPORT_NS().
 */
#ifdef FEWMUL_HAVE_NS_STRING
#define FEWMUL_NS "FEWMUL"
#else
#define FEWMUL_NS FEWMUL
#endif

/*
 * The owner of a socket: sk_uid() (a READ_ONCE of sk->sk_uid) replaced
 * sock_i_uid() (the same field under sk_callback_lock) in mainline.
 */
#ifdef FEWMUL_HAVE_SK_UID
#define fewmul_sk_uid(sk)	sk_uid(sk)
#else
#define fewmul_sk_uid(sk)	sock_i_uid(sk)
#endif

#endif /* _FEWMUL_COMPAT_H */
