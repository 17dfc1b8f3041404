#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fewmul.ko never executes a floating-point instruction: its vector code
# is integer only. Fails on any x87 instruction, any SSE/AVX instruction
# on packed or scalar floats or doubles (arithmetic, compares, moves,
# logic, shuffles, FMA), any conversion (cvt*), and MXCSR access.
# usage: check-nofp.sh OBJECT...   Prints TAP.
set -uo pipefail
FP='^(f[a-z0-9]*|v?cvt[a-z0-9]*|v?u?comis[sd]|v?(ld|st)mxcsr|v?(add|sub|mul|div|sqrt|rsqrt|rcp|min|max|cmp[a-z]*|round|dp|hadd|hsub|addsub|andn?|x?or|mov[a-z]*|unpck[hl]|shuf|perm[a-z0-9]*|blendv?|broadcast[a-z0-9]*|insert[a-z0-9]*|extract[a-z0-9]*|maskmov|test|fn?m(add|sub)[0-9]*|fmaddsub[0-9]*|fmsubadd[0-9]*)(ps|pd|ss|sd)[lq]?)$'
. "$(dirname "$0")/insn-check.sh"
for obj in "$@"; do
	dis=$(objdump -d --no-show-raw-insn "$obj") ||
		{ insn_verdict "objdump $obj" "objdump failed" ""; continue; }
	ins=$(awk -F'\t' 'NF >= 2 && $1 ~ /^ *[0-9a-f]+:$/ { split($2, w, " "); print w[1] }' <<<"$dis")
	vec=$(grep -cE '^v?p' <<<"$ins")
	bad=$(grep -E "$FP" <<<"$ins" | sort | uniq -c)
	insn_verdict "$(basename "$obj") has no floating-point instruction" "$bad" \
		"$(wc -l <<<"$ins") instructions, $vec integer vector"
done
insn_done
