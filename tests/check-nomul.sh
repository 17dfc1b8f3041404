#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The per-sample and per-weight work of binary/ternary training with
# quantized backprop runs only in the fewmul_k_* kernels of
# kmod/core/fewmul_fast.c and in the vector path (kmod/core/fewmul_simd.c:
# drivers fewmul_simd_*, generic kernels fewmul_g_*; fewmul_avx2.c and
# fewmul_neon.c: every function). Disassemble them from object files built with the kernel's
# flags and fail on any multiply instruction: scalar (mul, imul, mulx) or
# vector (pmul*, pmadd*, with or without the v prefix).
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
. "$(dirname "$0")/insn-check.sh"
for obj in "$@"; do
	od=objdump muls_re=$MULS
	if readelf -h "$obj" 2>/dev/null | grep -q 'Machine:.*AArch64'; then
		od=aarch64-linux-gnu-objdump muls_re=$ARM_MULS
	fi
	dis=$($od -d --no-show-raw-insn "$obj") || { echo "not ok - objdump $obj"; exit 1; }
	case "$(basename "$obj")" in
	fewmul_fast.o) fns=$KERNELS ;;
	fewmul_avx2.o | fewmul_neon.o) fns=$(awk '/^[0-9a-f]+ <[^>]+>:$/ { gsub(/[<>:]/, "", $2); print $2 }' <<<"$dis") ;;
	*) fns=$(awk '/^[0-9a-f]+ <[^>]+>:$/ { gsub(/[<>:]/, "", $2); print $2 }' <<<"$dis" |
		 grep -E '^(fewmul_simd_|fewmul_g_|fewmul_count_mul)' | grep -vE '^fewmul_simd_(select|name|get|choose)$') ;;
	esac
	for f in $fns; do
		body=$(awk -v f="<$f>:" '$2 == f { on = 1; next } on && /^$/ { exit } on' <<<"$dis")
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
