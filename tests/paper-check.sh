#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check's slice of make paper: run scripts/paper.sh QUICK=1 into
# OUTDIR (the paper's whole plan on a slice), check that every table and
# figure of its index is there and well-formed, that the numbers are
# those of a working engine, and that a rerun resumes (every run done)
# and gives the same tables. TAP on stdout.
# Usage: tests/paper-check.sh OUTDIR [FEWMULCTL]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: tests/paper-check.sh OUTDIR [FEWMULCTL]}
ctl=${2:-$top/build/fewmulctl}
n=0
fail=0
# shellcheck source=tests/unit/cli-tap.sh
. "$top/tests/unit/cli-tap.sh"

# A PNG: the signature, an IHDR of width x height (both > 0), IEND last.
png_ok() {
	[ -s "$1" ] || return 1
	[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || return 1
	[ "$(head -c 16 "$1" | tail -c 4)" = IHDR ] || return 1
	w=$(head -c 20 "$1" | tail -c 4 | od -An -tu1 | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
	h=$(head -c 24 "$1" | tail -c 4 | od -An -tu1 | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
	[ "$w" -gt 0 ] && [ "$h" -gt 0 ] || return 1
	[ "$(tail -c 8 "$1" | head -c 4)" = IEND ]
}

rm -rf "$out"
t0=$(date +%s)
QUICK=1 OUT="$out" FEWMULCTL="$ctl" THREADS=2 "$top/scripts/paper.sh" >"$out.log" 2>&1
rc=$?
ok_rc "make paper QUICK=1 finishes ($(($(date +%s) - t0)) s; log $out.log)" $rc
[ "$rc" -eq 0 ] || tail -20 "$out.log" | sed 's/^/# /'
idx=$out/index.md
[ -s "$idx" ]
ok_rc "index.md is written" $?

# Table 1: eight rows, every error column a mean +- std of two seeds
# between 0 and 100; a working engine learns the slice (a broken one sits
# near 90 %, chance).
rows=$(sed -n '/^## Table 1/,/^## /p' "$idx" | grep -E '^\| (full|binary|ternary)')
nrows=$(wc -l <<<"$rows")
[ "$nrows" -eq 8 ]
ok_rc "Table 1 has the eight methods (4 weight modes x QB): $nrows" $?
num='[0-9]+\.[0-9]{2} \+- [0-9]+\.[0-9]{2}'
bad=$(grep -cvE "^\| [^|]+ \| $num \| $num \| $num \| [0-9]+ [0-9]+ \| 2 \|$" <<<"$rows")
ok_rc "Table 1: real, deterministic and validation errors as mean +- std of 2 seeds, best epochs, seed count" "$bad"
worst=$(awk -F'|' '{ for (i = 3; i <= 5; i++) { split($i, a, " "); if (a[1] > m) m = a[1] } } END { print m + 0 }' <<<"$rows")
awk -v m="$worst" 'BEGIN { exit !(m > 0 && m < 50) }'
ok_rc "Table 1: every method learns the slice (worst mean error $worst % < 50 %)" $?
grep -q '^| ternary connect + QB | ' <<<"$rows" && grep -q '^| full precision | ' <<<"$rows"
ok_rc "Table 1 names the paper's baseline and ternary connect + QB" $?

# The multiplication table: both analytic rows, and what the engine
# executed: binary/ternary + QB multiplies only in the loss report (10
# per sample, 2000 per minibatch of 200).
grep -q 'with standard BN' "$idx" && grep -q 'without BN' "$idx"
ok_rc "the multiplication table has the paper's rows with and without BN" $?
muls=$(awk -F'|' '$2 ~ /t1-ternary-qb/ { gsub(/ /, "", $5); print $5 }' "$idx")
[ "$muls" = 2000 ]
ok_rc "executed multiplications of a ternary + QB minibatch: the loss report's 2000 (got '$muls')" $?
fm=$(awk -F'|' '$2 ~ /t1-full-noqb/ { gsub(/ /, "", $5); print $5 }' "$idx")
[ -n "$fm" ] && [ "$fm" -gt 1000000 ]
ok_rc "executed multiplications of a full-precision minibatch: millions (got '$fm')" $?
# divisions: batch norm's 3 or 4 per unit (784-128-128-10: 266 units)
dv=$(awk -F'|' '$2 ~ /t1-ternary-qb/ { gsub(/ /, "", $6); print $6 }' "$idx")
[ -n "$dv" ] && [ "$dv" -ge $((3 * 266)) ] && [ "$dv" -le $((4 * 266)) ]
ok_rc "executed divisions of a ternary + QB minibatch: 3 to 4 per BN unit (got '$dv')" $?

# The exponent range: seven rows and the figure's table.
er=$(sed -n '/^## The exponent range/,/^## /p' "$idx" | grep -cE "^\| [0-9]+ \| -?[0-9]+:-?[0-9]+ \| $num \| $num \| 2 \|$")
[ "$er" -eq 7 ]
ok_rc "the exponent-range table has 1, 2, 3, 4, 6, 8 and 25 exponents ($er rows)" $?
[ "$(wc -l <"$out/exp-range.csv")" -eq 8 ] && head -1 "$out/exp-range.csv" | grep -qx 'exponents,test_error,val_error'
ok_rc "exp-range.csv: its header and seven rows" $?

# Every figure the index links: a well-formed PNG.
figs=$(grep -o '](\([a-z-]*\.png\))' "$idx" | sed 's/^](\(.*\))$/\1/')
figlist=$(tr "\n" " " <<<"$figs")
[ "$(wc -w <<<"$figs")" -eq 4 ]
ok_rc "the index links four figures (exponent range, histograms, two learning-curve charts): $figlist" $?
for f in $figs; do
	png_ok "$out/$f"
	ok_rc "$f is a well-formed PNG" $?
done
grep -q '^layer 1: ' "$out/hist.txt" && grep -q '2^-' "$out/hist.txt"
ok_rc "the histograms are of the hidden layers' log2|x|" $?

# Every run keeps its log, model and the model of its best epoch.
missing=0
for d in "$out"/runs/*/; do
	[ -s "$d/log.csv" ] && [ -s "$d/model" ] && [ -s "$d/best.txt" ] || missing=$((missing + 1))
	read -r _ _ _ bf <"$d/best.txt"
	[ -n "$bf" ] && [ -s "$bf" ] || missing=$((missing + 1))
done
[ "$(find "$out/runs" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 30 ] && [ "$missing" -eq 0 ]
ok_rc "30 runs (15 x 2 seeds), each with its log, model and best-epoch model" $?

# A rerun resumes: every run done, the same tables.
cp "$idx" "$out/index.first"
QUICK=1 OUT="$out" FEWMULCTL="$ctl" THREADS=2 "$top/scripts/paper.sh" >"$out.log2" 2>&1
rc=$?
ndone=$(grep -c ': done$' "$out.log2")
[ "$rc" -eq 0 ] && [ "$ndone" -eq 30 ]
ok_rc "a rerun finds all 30 runs done ($ndone)" $?
diff <(grep '^|' "$out/index.first") <(grep '^|' "$idx") >/dev/null
ok_rc "a rerun gives the same tables" $?

# An epoch logged twice (a run killed between its log line and its model
# save trains that epoch again): the later line counts, the epoch once.
f=$out/runs/t1-ternary-qb-s0/log.csv
cp "$f" "$out/log.keep"
# epoch 1 twice: first with a val_error of 0.000001, then the real line
{ head -n 1 "$out/log.keep"; sed -n 2p "$out/log.keep" | sed 's/,[^,]*$/,0.000001/'
  tail -n +2 "$out/log.keep"; } >"$f"
QUICK=1 OUT="$out" FEWMULCTL="$ctl" THREADS=2 "$top/scripts/paper.sh" >"$out.log4" 2>&1
rc=$?
ndone=$(grep -c ': done$' "$out.log4")
diff <(grep '^|' "$out/index.first") <(grep '^|' "$idx") >/dev/null && [ "$rc" -eq 0 ] && [ "$ndone" -eq 30 ]
ok_rc "an epoch logged twice counts once, with its later line (done $ndone, same tables)" $?
cp "$out/log.keep" "$f"

# REPORT=1 writes the tables of the runs there are and trains none.
mv "$out/runs/exp-25-s1" "$out/exp-25-s1.keep"
QUICK=1 REPORT=1 OUT="$out" FEWMULCTL="$ctl" THREADS=2 "$top/scripts/paper.sh" >"$out.log5" 2>&1
rc=$?
[ "$rc" -eq 0 ] && [ ! -e "$out/runs/exp-25-s1" ] &&
	grep -q '^| 25 | -16:8 | [0-9.]* | [0-9.]* | 1 |$' "$idx" &&
	grep -q '^\*\*Not finished\*\*.* exp-25-s1 (0/2)' "$idx"
ok_rc "REPORT=1 trains nothing and reports what there is (one seed of the 25-exponent run, marked unfinished)" $?
rm -rf "$out/runs/exp-25-s1"
mv "$out/exp-25-s1.keep" "$out/runs/exp-25-s1"

# Runs of another engine are not resumed.
echo "0000000000000000000000000000000000000000" >"$out/engine"
QUICK=1 OUT="$out" FEWMULCTL="$ctl" THREADS=2 "$top/scripts/paper.sh" >"$out.log3" 2>&1
rc=$?
[ "$rc" -ne 0 ] && grep -q "holds runs of another engine" "$out.log3"
ok_rc "a rerun over runs of another engine is refused" $?

echo "1..$n"
[ "$fail" -eq 0 ]
