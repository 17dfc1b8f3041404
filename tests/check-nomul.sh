#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The per-sample and per-weight work of binary/ternary training with
# quantized backprop runs only in the fewmul_k_* kernels of
# kmod/core/fewmul_fast.c. Disassemble them from an object file built
# with the kernel's flags and fail on any multiply instruction.
# usage: check-nomul.sh OBJECT...   Prints TAP.
set -uo pipefail
KERNELS="fewmul_k_row_list fewmul_k_col_lists fewmul_k_sum_lists
fewmul_k_unpack fewmul_k_pack fewmul_k_dt fewmul_k_dw_acc fewmul_k_update
fewmul_k_qcodes fewmul_k_sample"
n=0
fail=0
for obj in "$@"; do
	dis=$(objdump -d --no-show-raw-insn "$obj") || { echo "not ok - objdump $obj"; exit 1; }
	for f in $KERNELS; do
		n=$((n + 1))
		body=$(awk -v f="<$f>:" '$2 == f { on = 1; next } on && /^$/ { exit } on' <<<"$dis")
		if [ -z "$body" ]; then
			echo "not ok $n - $f present in $(basename "$obj")"
			fail=$((fail + 1))
			continue
		fi
		muls=$(grep -E $'\t(i?mul[bwlq]?|mulx[lq]?)\\b' <<<"$body" || true)
		if [ -n "$muls" ]; then
			echo "not ok $n - $f in $(basename "$obj") has no multiply"
			sed 's/^/#   /' <<<"$muls"
			fail=$((fail + 1))
		else
			echo "ok $n - $f in $(basename "$obj") has no multiply ($(wc -l <<<"$body") instructions)"
		fi
	done
done
echo "1..$n"
[ "$fail" -eq 0 ]
