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
n=0
fail=0
for obj in "$@"; do
	n=$((n + 1))
	dis=$(objdump -d --no-show-raw-insn "$obj") || { echo "not ok $n - objdump $obj"; fail=$((fail + 1)); continue; }
	ins=$(awk -F'\t' 'NF >= 2 && $1 ~ /^ *[0-9a-f]+:$/ { split($2, w, " "); print w[1] }' <<<"$dis")
	vec=$(grep -cE '^v?p' <<<"$ins")
	bad=$(grep -E "$FP" <<<"$ins" | sort | uniq -c)
	if [ -n "$bad" ]; then
		echo "not ok $n - $(basename "$obj") has no floating-point instruction"
		sed 's/^/#   /' <<<"$bad"
		fail=$((fail + 1))
	else
		echo "ok $n - $(basename "$obj") has no floating-point instruction ($(wc -l <<<"$ins") instructions, $vec integer vector)"
	fi
done
echo "1..$n"
[ "$fail" -eq 0 ]
