#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fewmul.ko never executes a floating-point instruction: its vector code
# is integer only. Fails on any x87 instruction, any SSE/AVX instruction
# on packed or scalar floats or doubles (arithmetic, compares, moves,
# logic, shuffles, FMA), any conversion (cvt*), and MXCSR access.
# On arm64 (an AArch64 object, disassembled with aarch64-linux-gnu-objdump)
# the same: no floating-point arithmetic, compare, conversion or FPCR/FPSR
# access (any f* instruction other than fmov, scvtf/ucvtf, bf*); fmov is
# allowed only as a register move (general <-> SIMD register, no
# immediate), and only the NEON kernels (functions fewmul_neon_*, the one
# object built without -mgeneral-regs-only) may touch a SIMD register.
# usage: check-nofp.sh OBJECT...   Prints TAP.
set -uo pipefail
FP='^(f[a-z0-9]*|v?cvt[a-z0-9]*|v?u?comis[sd]|v?(ld|st)mxcsr|v?(add|sub|mul|div|sqrt|rsqrt|rcp|min|max|cmp[a-z]*|round|dp|hadd|hsub|addsub|andn?|x?or|mov[a-z]*|unpck[hl]|shuf|perm[a-z0-9]*|blendv?|broadcast[a-z0-9]*|insert[a-z0-9]*|extract[a-z0-9]*|maskmov|test|fn?m(add|sub)[0-9]*|fmaddsub[0-9]*|fmsubadd[0-9]*)(ps|pd|ss|sd)[lq]?)$'
. "$(dirname "$0")/insn-check.sh"
ARM_FP='^(f[a-z0-9]*|[su]cvtf|bf[a-z0-9]*|(mrs|msr)[[:space:]].*fp[cs]r)'

# check_arm64 <object> <disassembly>: the arm64 rules above.
check_arm64() {
	local obj=$1 dis=$2 ins bad outside vec
	# "function<TAB>mnemonic operands" per instruction
	ins=$(awk -F'\t' '/^[0-9a-f]+ <[^>]+>:$/ { f = $0; sub(/^[0-9a-f]+ </, "", f); sub(/>:$/, "", f); next }
		NF >= 2 && $1 ~ /^ *[0-9a-f]+:$/ { op = $2; if (NF >= 3) op = op " " $3
			sub(/[[:space:]]*\/\/.*/, "", op); gsub(/[0-9a-f]+ <[^>]*>/, "ADDR", op)
			print f "\t" op }' <<<"$dis")
	bad=$(cut -f2 <<<"$ins" | grep -E "$ARM_FP" | grep -vE '^fmov [^#]*$' |
	      awk '{ print $1 }' | sort | uniq -c)
	outside=$(grep -vE '^fewmul_neon_' <<<"$ins" |
		  grep -E '[[:space:],]\[?[vqdshb][0-9]+(\.[0-9]*[bhsd])?[],[:space:]]|[[:space:],][vqdshb][0-9]+(\.[0-9]*[bhsd])?$' |
		  cut -f1 | sort | uniq -c)
	vec=$(grep -cE '^fewmul_neon_' <<<"$ins")
	insn_verdict "$(basename "$obj") (arm64) has no floating-point instruction" "$bad" \
		"$(wc -l <<<"$ins") instructions, $vec in the NEON kernels"
	insn_verdict "$(basename "$obj") (arm64): SIMD registers only in the NEON kernels" \
		"$outside" "fewmul_neon_* only"
}

for obj in "$@"; do
	dis=$(insn_disasm "$obj") ||
		{ insn_verdict "objdump $obj" "objdump failed" ""; continue; }
	if insn_is_arm64 "$obj"; then
		check_arm64 "$obj" "$dis"
		continue
	fi
	ins=$(awk -F'\t' 'NF >= 2 && $1 ~ /^ *[0-9a-f]+:$/ { split($2, w, " "); print w[1] }' <<<"$dis")
	vec=$(grep -cE '^v?p' <<<"$ins")
	bad=$(grep -E "$FP" <<<"$ins" | sort | uniq -c)
	insn_verdict "$(basename "$obj") has no floating-point instruction" "$bad" \
		"$(wc -l <<<"$ins") instructions, $vec integer vector"
done
insn_done
