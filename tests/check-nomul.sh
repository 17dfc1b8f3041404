#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A binary/ternary training step with quantized backprop executes no
# multiply instruction. Disassemble object files built with the kernel's
# flags and fail on any multiply: scalar (mul, imul, mulx) or vector
# (pmul*, pmadd*, with or without the v prefix; on arm64 mul, madd, mla,
# smull, sdot, ...).
#   fewmul_fast.o        the fewmul_k_* kernels, one verdict each
#   fewmul_avx2.o, fewmul_neon.o   every function, one verdict each
#   fewmul_simd.o        the drivers and generic kernels, one verdict each
#   fewmul_engine.o, fewmul_step.o, fewmul_train.o (the module's ioctl
#                        and workers): every function but the ones below,
#                        one verdict per object
# Functions that may multiply, and why:
#   fewmul_full_forward fewmul_full_forward_ref fewmul_full_dx
#   fewmul_back_dx_full      the full-precision baseline (--weights full)
#   fewmul_dw_product        the weight gradient without quantized
#                            backprop (--no-qbp): products D * X
#   fewmul_count_mults_full fewmul_count_mults_qb   fewmulctl count
#   fewmul_layout fewmul_scratch_carve fewmul_params_check fewmul_dp_size
#   fewmul_ioctl_model_create    model setup, before any step
#   fewmul_xchg_max          the exchange buffer's size, checked once
#                            per data-parallel call
# Everything else computes its few products (row addresses, counters,
# bounds, the reported loss) with fewmul_mul_sa(), shifts and adds.
# usage: check-nomul.sh OBJECT...   Prints TAP.
set -uo pipefail
KERNELS="fewmul_k_row_list fewmul_k_col_lists fewmul_k_sum_lists
fewmul_k_unpack fewmul_k_pack fewmul_k_dt fewmul_k_dw_acc fewmul_k_update
fewmul_k_qcodes fewmul_k_sample"
MULS=$'\t(i?mul[bwlq]?|mulx[lq]?|v?pmul[a-z0-9]*|v?pmadd[a-z0-9]*)\\b'
# AArch64 objects (aarch64-linux-gnu-objdump): every multiply and
# multiply-accumulate, scalar or vector (mul, madd, msub, mneg, [su]mull,
# [su]mulh, [su]madd/msubl, mla, mls, [su]mlal/mlsl, pmul, sq(r)dmulh,
# sdot/udot, ...).
ARM_MULS=$'\t([a-z]*mul[a-z0-9]*|[a-z]*ml[as][a-z0-9]*|[su]?madd[a-z]*|[su]?msub[a-z]*|[su]?mneg[a-z]*|[a-z]*dot)\\b'
ALLOW="fewmul_full_forward fewmul_full_forward_ref fewmul_full_dx fewmul_back_dx_full"
ALLOW+=" fewmul_dw_product fewmul_count_mults_full fewmul_count_mults_qb fewmul_layout"
ALLOW+=" fewmul_scratch_carve fewmul_params_check fewmul_dp_size fewmul_ioctl_model_create"
ALLOW+=" fewmul_xchg_max"
. "$(dirname "$0")/insn-check.sh"
for obj in "$@"; do
	muls_re=$MULS
	! insn_is_arm64 "$obj" || muls_re=$ARM_MULS
	dis=$(insn_disasm "$obj") || { echo "not ok - objdump $obj"; exit 1; }
	case "$(basename "$obj")" in
	fewmul_engine.o | fewmul_step.o | fewmul_train.o)
		all=$(insn_functions "$dis")
		bad=
		for f in $all; do
			case " $ALLOW " in *" $f "*) continue ;; esac
			body=$(insn_body "$dis" "$f")
			m=$(grep -E "$muls_re" <<<"$body" || true)
			[ -z "$m" ] || bad+="$f: $m"$'\n'
		done
		insn_verdict "$(basename "$obj"): no multiply outside the full, no-QB and setup functions" \
			"${bad%$'\n'}" "$(wc -w <<<"$all") functions"
		continue ;;
	fewmul_fast.o) fns=$KERNELS ;;
	fewmul_avx2.o | fewmul_neon.o) fns=$(insn_functions "$dis") ;;
	*) fns=$(insn_functions "$dis" | grep -E '^(fewmul_simd_|fewmul_g_)' | grep -vE '^fewmul_simd_(select|name|get|choose)$') ;;
	esac
	for f in $fns; do
		body=$(insn_body "$dis" "$f")
		if [ -z "$body" ]; then
			insn_verdict "$f present in $(basename "$obj")" "not found" ""
			continue
		fi
		muls=$(grep -E "$muls_re" <<<"$body" || true)
		insn_verdict "$f in $(basename "$obj") has no multiply" "$muls" \
			"$(wc -l <<<"$body") instructions"
	done
done
insn_done
