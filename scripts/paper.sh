#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make paper: the paper's protocol (Lin et al., ICLR 2016, section 4) on
# the cpu backend, one training run after another, resumable.
#
#   784-1024-1024-1024-10, batch 200, shift-based BN, squared hinge,
#   LR 0.3 -> 0.01 decayed geometrically per epoch, mapped to powers of
#   two: 2^-2 (0.25) -> 2^-7 (0.0078), one shift step every
#   EPOCHS / 5 epochs (fewmulctl's linear-in-the-exponent schedule);
#   50000/10000 train/validation split (--val 10000), model selection at
#   the best validation epoch, test error reported at that epoch.
#
# Runs: ternary+QB (deterministic test weights), ternary+QB (the paper's
# real-valued test weights), full (integer multiplies, no QB), for each
# seed. Every run keeps its model, CSV log and output in
# $OUT/<run>/; a finished run (its log has EPOCHS lines) is skipped, an
# unfinished one is resumed bit-exactly from its model. The summary is
# $OUT/results.md.
#
# Environment: EPOCHS (default 100; the paper ran 1000), SEEDS (default
# "0 1 2"), THREADS (default 2), DATA (default: Fashion-MNIST from
# Debian), OUT (default build/paper), FEWMULCTL (default build/fewmulctl),
# QUICK=1: the same plan on a slice (3000 training, 1000 validation and
# 1000 test samples, 3 epochs, seed 0, 784-256-256-10).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
ctl=${FEWMULCTL:-$top/build/fewmulctl}
out=${OUT:-$top/build/paper}
threads=${THREADS:-2}
data=${DATA:+--data $DATA}
if [ "${QUICK:-0}" = 1 ]; then
	epochs=${EPOCHS:-3}
	seeds=${SEEDS:-0}
	slice="--arch 784-256-256-10 --train-limit 3000"
	testlim="--test-limit 1000"
	val=${VAL:-1000}
	out=${OUT:-$top/build/paper-quick}
else
	epochs=${EPOCHS:-100}
	seeds=${SEEDS:-0 1 2}
	slice=""
	testlim=""
	val=${VAL:-10000}
fi
lr=${LR:-0.25:0.0078125}
mkdir -p "$out" || exit 1

runs=(
	"tern-qb-det|--weights ternary --qbp --test-weights ternary"
	"tern-qb-real|--weights ternary --qbp --test-weights real"
	"full|--weights full --no-qbp"
)

total=$((${#runs[@]} * $(wc -w <<<"$seeds")))
k=0
t0=$(date +%s)
for seed in $seeds; do
	for r in "${runs[@]}"; do
		name=${r%%|*}
		args=${r#*|}
		k=$((k + 1))
		dir=$out/$name-s$seed
		mkdir -p "$dir"
		done_ep=0
		[ -f "$dir/log.csv" ] && done_ep=$(($(wc -l <"$dir/log.csv") - 1))
		if [ "$done_ep" -ge "$epochs" ]; then
			echo "[$k/$total] $name seed $seed: done"
			continue
		fi
		el=$(($(date +%s) - t0))
		echo "[$k/$total] $name seed $seed: epochs $done_ep..$epochs (elapsed ${el}s)"
		if [ -f "$dir/model" ]; then
			how="--resume $dir/model"
		else
			# shellcheck disable=SC2086
			how="$args --epochs $epochs --lr $lr --seed $seed --val $val $slice"
		fi
		# --test-weights is not part of the model: give it on resume too
		tw=$(grep -o -- '--test-weights [a-z]*' <<<"$args")
		# shellcheck disable=SC2086
		nice "$ctl" train --backend cpu --threads "$threads" $data $how $tw \
			$testlim --log "$dir/log.csv" --save "$dir/model" \
			--progress 60 >>"$dir/out.txt" 2>&1 || {
			echo "$name seed $seed failed; see $dir/out.txt"
			exit 1
		}
	done
done

# Summary: best validation epoch of each run and the test error there.
{
	echo "# fewmul: the paper's protocol (make paper)"
	echo
	echo "epochs $epochs, lr $lr, validation $val, seeds $seeds$([ "${QUICK:-0}" = 1 ] && echo ", QUICK slice")"
	echo
	echo "| run | seed | best val epoch | val error | test error at it | last test error |"
	echo "|---|---|---|---|---|---|"
	for seed in $seeds; do
		for r in "${runs[@]}"; do
			name=${r%%|*}
			f=$out/$name-s$seed/log.csv
			[ -f "$f" ] || continue
			awk -F, -v n="$name" -v s="$seed" 'NR > 1 && $11 != "" {
				if (best == "" || $11 < bv) { best = $1; bv = $11; bt = $5 }
				last = $5 }
				END { if (best != "")
					printf "| %s | %s | %d | %.2f %% | %.2f %% | %.2f %% |\n",
					       n, s, best, 100 * bv, 100 * bt, 100 * last }' "$f"
		done
	done
} >"$out/results.md"
cat "$out/results.md"
echo "wall time $(($(date +%s) - t0)) s"
