#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make paper: the paper's protocol (Lin et al., ICLR 2016, section 4) on
# the cpu backend, one training run after another, resumable, and its
# tables and figures in $OUT/index.md (Documentation/paper.rst).
#
#   784-1024-1024-1024-10, batch 200, shift-based BN, squared hinge,
#   LR 0.3 -> 0.01 decayed geometrically per epoch, mapped to powers of
#   two: 2^-2 (0.25) -> 2^-7 (0.0078), one shift step every EPOCHS / 5
#   epochs (fewmulctl's linear-in-the-exponent schedule); 50000/10000
#   train/validation split (--val 10000); the per-epoch validation and
#   test errors use the real-valued shadow weights, as the authors'
#   evaluation; model selection at the best validation epoch.
#
# The plan, for every seed:
#   Table 1: full (the paper's baseline), binary (deterministic), binary
#     (stochastic), ternary, each with and without quantized backprop,
#     EPOCHS epochs; the test error at the best validation epoch with the
#     real weights (from the run's log) and with the deterministic
#     multiply-free weights (eval of the model kept at that epoch);
#   the exponent range: ternary + QB with 1, 2, 3, 4, 6, 8 and all (25)
#     allowed exponents, SWEEP_EPOCHS epochs each.
# Then: the multiplication table (analytic rows and the executed
# counters), the log2|x| histograms of a trained ternary + QB model, the
# exponent-range figure and the learning curves, all linked from
# $OUT/index.md.
#
# Every run keeps its model, the models of its best validation epoch
# (best-from-E.model: the best of the epochs after E; a resumed run keeps
# its own), its CSV log, evaluations and output in $OUT/runs/<run>-s<seed>/;
# a finished run (its log has all its epochs) is skipped, an unfinished
# one is resumed bit-exactly from its model. Progress and an estimate of
# the time left go to stdout.
#
# Environment: EPOCHS (default 100; the paper ran 1000), SWEEP_EPOCHS
# (default 10), SEEDS (default "0 1 2"), THREADS (default 2), DATA (an IDX
# directory, default Debian's Fashion-MNIST; MNIST works the same), OUT
# (default build/paper), FEWMULCTL (default build/fewmulctl), LR (default
# 0.25:0.0078125), ONLY (a regular expression: run only the matching
# runs, e.g. ONLY=t1-ternary-qb), REPORT=1 (train nothing: write the
# tables and figures of the epochs run so far). QUICK=1: the same plan on a slice
# (784-128-128-10, 2000 training, 500 validation and 500 test samples,
# 2 epochs, seeds 0 and 1) into build/paper-quick, in a few minutes.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
ctl=${FEWMULCTL:-$top/build/fewmulctl}
threads=${THREADS:-2}
data=${DATA:-/usr/share/datasets/fashion-mnist}
if [ "${QUICK:-0}" = 1 ]; then
	epochs=${EPOCHS:-2}
	sweep_epochs=${SWEEP_EPOCHS:-2}
	seeds=${SEEDS:-0 1}
	arch=784-128-128-10
	trainlim=2000
	testlim=500
	val=${VAL:-500}
	hist_limit=400
	out=${OUT:-$top/build/paper-quick}
else
	epochs=${EPOCHS:-100}
	sweep_epochs=${SWEEP_EPOCHS:-10}
	seeds=${SEEDS:-0 1 2}
	arch=784-1024-1024-1024-10
	trainlim=0
	testlim=0
	val=${VAL:-10000}
	hist_limit=2000
	out=${OUT:-$top/build/paper}
fi
lr=${LR:-0.25:0.0078125}
batch=200
report=${REPORT:-0}
mkdir -p "$out/runs" || exit 1
[ -x "$ctl" ] || { echo "paper: $ctl: not built (make userspace)"; exit 1; }

# Runs of one plan must come from one engine: the git tree of kmod/core
# is recorded with the first run and must match on every resume.
engine=$(git -C "$top" rev-parse --verify -q HEAD:kmod/core 2>/dev/null)
[ -n "$engine" ] && [ -n "$(git -C "$top" status --porcelain -- kmod/core 2>/dev/null)" ] &&
	engine="$engine+$(git -C "$top" diff HEAD -- kmod/core | sha1sum | cut -c1-12)"
if [ -n "$engine" ] && [ -s "$out/engine" ] && [ "$(cat "$out/engine")" != "$engine" ]; then
	echo "paper: $out holds runs of another engine (kmod/core $(cat "$out/engine"), now $engine);"
	echo "paper: their results would not be comparable: remove $out or give OUT=another directory"
	exit 1
fi
[ -n "$engine" ] && [ ! -s "$out/engine" ] && echo "$engine" >"$out/engine"

# The calibration set of the deterministic evaluation: the first 10000
# training samples (all of the slice's), as the runs' own.
calib=10000
[ "$trainlim" -gt 0 ] && calib=$trainlim
slice=(--arch "$arch")
[ "$trainlim" -gt 0 ] && slice+=(--train-limit "$trainlim")
tl=()
[ "$testlim" -gt 0 ] && tl=(--test-limit "$testlim")

# name|arguments|epochs|Table 1 label
plan=()
for mode in full binary binary-stoch ternary; do
	case $mode in
	full) m="--weights full"; label="full precision" ;;
	binary) m="--weights binary"; label="binary connect (det.)" ;;
	binary-stoch) m="--weights binary-stoch"; label="binary connect (stoch.)" ;;
	ternary) m="--weights ternary"; label="ternary connect" ;;
	esac
	plan+=("t1-$mode-noqb|$m --no-qbp|$epochs|$label")
	plan+=("t1-$mode-qb|$m --qbp|$epochs|$label + QB")
done
# exponent counts and their ranges, centred on 2^0 (BN's output scale)
sweep=("1|0:0" "2|-1:0" "3|-1:1" "4|-2:1" "6|-3:2" "8|-4:3" "25|-16:8")
for s in "${sweep[@]}"; do
	plan+=("exp-${s%%|*}|--weights ternary --qbp --exp-range ${s#*|}|$sweep_epochs|")
done
if [ -n "${ONLY:-}" ]; then
	kept=()
	for p in "${plan[@]}"; do
		[[ ${p%%|*} =~ $ONLY ]] && kept+=("$p")
	done
	plan=("${kept[@]}")
fi

# Epochs in a run's log (its header line not counted).
# A run killed after logging an epoch but before saving its model trains
# that epoch again when resumed and logs it twice: the last line of an
# epoch is the one its model has, and the epochs are counted once.
logged() {
	[ -f "$1/log.csv" ] && tail -n +2 "$1/log.csv" | cut -d, -f1 | sort -u | wc -l || echo 0
}

# One line per run of the plan: "NAME-sSEED DONE EPOCHS", DONE the epochs
# logged (at most EPOCHS).
plan_status() {
	local seed p name ep d

	for seed in $seeds; do
		for p in "${plan[@]}"; do
			IFS='|' read -r name _ ep _ <<<"$p"
			d=$(logged "$out/runs/$name-s$seed")
			[ "$d" -gt "$ep" ] && d=$ep
			echo "$name-s$seed $d $ep"
		done
	done
}

# epochs logged in all
epochs_done() {
	plan_status | awk '{ s += $2 } END { print s + 0 }'
}

total_ep=$(plan_status | awk '{ s += $3 } END { print s + 0 }')
done_ep0=$(epochs_done)
runs_n=$((${#plan[@]} * $(wc -w <<<"$seeds")))
echo "paper: $runs_n runs, $total_ep epochs in all, $done_ep0 done before; into $out"

t0=$(date +%s)
k=0
failed=0
# shellcheck disable=SC2086
for seed in $seeds; do
	for p in "${plan[@]}"; do
		IFS='|' read -r name args ep _ <<<"$p"
		k=$((k + 1))
		dir=$out/runs/$name-s$seed
		d=$(logged "$dir")
		[ "$d" -ge "$ep" ] && echo "[$k/$runs_n] $name seed $seed: done"
		if [ "$report" = 1 ]; then
			[ "$d" -ge "$ep" ] || echo "[$k/$runs_n] $name seed $seed: $d of $ep epochs (REPORT=1: not trained)"
			[ "$d" -gt 0 ] || continue
		fi
		mkdir -p "$dir"
		if [ "$d" -lt "$ep" ] && [ "$report" != 1 ]; then
			el=$(($(date +%s) - t0))
			now_ep=$(epochs_done)
			eta=
			[ "$now_ep" -gt "$done_ep0" ] &&
				eta=", about $(((total_ep - now_ep) * el / (now_ep - done_ep0) / 60)) min left"
			echo "[$k/$runs_n] $name seed $seed: epochs $d..$ep ($now_ep/$total_ep epochs of the plan, ${el} s$eta)"
			# the best of the epochs after $d goes to its own file
			best=$dir/best-from-$d.model
			rm -f "$best"
			if [ -f "$dir/model" ]; then
				how=(--resume "$dir/model")
			else
				# shellcheck disable=SC2206
				how=($args --epochs "$ep" --lr "$lr" --seed "$seed" --batch "$batch"
				     "${slice[@]}" --save "$dir/model")
			fi
			if ! nice "$ctl" train --backend cpu --threads "$threads" --data "$data" \
				"${how[@]}" --val "$val" --test-weights real "${tl[@]}" \
				--keep-best "$best" --log "$dir/log.csv" --progress 60 \
				>>"$dir/out.txt" 2>&1; then
				echo "paper: $name seed $seed failed; see $dir/out.txt"
				tail -3 "$dir/out.txt"
				failed=1
				continue
			fi
		fi
		# the best validation epoch (the first of equals) and its model
		[ "$(logged "$dir")" -gt 0 ] || continue
		read -r bep bval btest < <(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
			{ va[$1] = $c["val_error"]; te[$1] = $c["test_error"]; if ($1 > n) n = $1 }
			END { for (e = 1; e <= n; e++)
				      if ((e in va) && (best == "" || va[e] < bv)) { best = e; bv = va[e]; bt = te[e] }
			      print best, bv, bt }' "$dir/log.csv")
		bfile=
		for f in "$dir"/best-from-*.model; do
			[ -f "$f" ] || continue
			from=${f##*/best-from-}
			from=${from%.model}
			if [ "$from" -lt "$bep" ] &&
			   { [ -z "$bfile" ] || [ "$from" -gt "$bfrom" ]; }; then
				bfile=$f
				bfrom=$from
			fi
		done
		echo "$bep $bval $btest $bfile" >"$dir/best.txt"
		# the deterministic (multiply-free) weights of that model
		if [ -n "$bfile" ] && { [ ! -s "$dir/eval-det.json" ] || [ "$bfile" -nt "$dir/eval-det.json" ]; }; then
			nice "$ctl" eval --backend cpu --threads "$threads" --data "$data" \
				--model "$bfile" --test-weights ternary --calib "$calib" \
				"${tl[@]}" --json >"$dir/eval-det.json" 2>>"$dir/out.txt" || {
				echo "paper: eval of $bfile failed; see $dir/out.txt"
				rm -f "$dir/eval-det.json"
				failed=1
			}
		fi
	done
done
wall=$(($(date +%s) - t0))
[ "$report" = 1 ] || echo "$wall" >>"$out/wall.txt"
[ "$failed" = 0 ] || { echo "paper: some runs failed; rerun to resume them"; exit 1; }

# ---- the outputs -------------------------------------------------------

# mean +- std (sample) of percentages on stdin, "-" when none
meanstd() {
	awk '{ s += $1; q += $1 * $1; n++ }
	     END { if (!n) { print "-"; exit }
		   m = s / n; v = n > 1 ? (q - n * m * m) / (n - 1) : 0
		   if (v < 0) v = 0
		   if (n > 1) printf "%.2f +- %.2f\n", m, sqrt(v); else printf "%.2f\n", m }'
}

# test errors (percent) of run $1 over the seeds: field real|det|epoch
field() {
	local s dir
	for s in $seeds; do
		dir=$out/runs/$1-s$s
		[ -f "$dir/best.txt" ] || continue
		case $2 in
		real) awk '{ printf "%.4f\n", 100 * $3 }' "$dir/best.txt" ;;
		val) awk '{ printf "%.4f\n", 100 * $2 }' "$dir/best.txt" ;;
		epoch) awk '{ print $1 }' "$dir/best.txt" ;;
		det) [ -f "$dir/eval-det.json" ] &&
			sed -n 's/.*"error_rate":\([0-9.e-]*\).*/\1/p' "$dir/eval-det.json" |
			awk '{ printf "%.4f\n", 100 * $1 }' ;;
		esac
	done
}

dsname=$(basename "$data")
case $dsname in
*fashion*) dsname=Fashion-MNIST ;;
*mnist*) dsname=MNIST ;;
esac
commit=$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)
wall_all=$(awk '{ s += $1 } END { print s + 0 }' "$out/wall.txt" 2>/dev/null || echo 0)
# runs with fewer epochs than planned (REPORT=1 of a plan under way)
partial=$(plan_status | awk '$2 < $3 { printf " %s (%d/%d)", $1, $2, $3 }')
first_ternary_qb=$out/runs/t1-ternary-qb-s${seeds%% *}

# the learning curves of the first seed, with and without QB
for q in qb noqb; do
	files=()
	labels=()
	for mode in full binary binary-stoch ternary; do
		f=$out/runs/t1-$mode-$q-s${seeds%% *}/log.csv
		[ -f "$f" ] || continue
		files+=("$f")
		labels+=(--label "$mode")
	done
	[ ${#files[@]} -gt 0 ] || continue
	"$ctl" plot "${files[@]}" "${labels[@]}" -o "$out/curves-$q.png" --size 1000x560 \
		--title "$dsname, $([ $q = qb ] && echo "with" || echo "without") quantized backprop, seed ${seeds%% *}" \
		>/dev/null || failed=1
done

# the exponent range: test error (real weights) against allowed exponents
{
	echo "exponents,test_error,val_error"
	for s in "${sweep[@]}"; do
		n=${s%%|*}
		te=$(field "exp-$n" real | awk '{ s += $1; c++ } END { if (c) printf "%.6f", s / c / 100 }')
		va=$(field "exp-$n" val | awk '{ s += $1; c++ } END { if (c) printf "%.6f", s / c / 100 }')
		[ -n "$te" ] && echo "$n,$te,$va"
	done
} >"$out/exp-range.csv"
if [ "$(wc -l <"$out/exp-range.csv")" -gt 1 ]; then
	"$ctl" plot --xy "$out/exp-range.csv" -o "$out/exp-range.png" \
		--title "Ternary connect + QB: error vs allowed exponents (mean of seeds)" \
		>/dev/null || failed=1
fi

# log2|x| of the hidden values of a trained ternary + QB model
if [ -f "$first_ternary_qb/best.txt" ]; then
	read -r _ _ _ hmodel <"$first_ternary_qb/best.txt"
	[ -n "$hmodel" ] || hmodel=$first_ternary_qb/model
	# a throw-away training copy: only when that model is newer
	if [ ! -s "$out/hist.png" ] || [ "$hmodel" -nt "$out/hist.png" ]; then
		"$ctl" hist --model "$hmodel" --data "$data" --limit "$hist_limit" --backend cpu \
			--threads "$threads" --plot "$out/hist.png" \
			--title "log2|x| of each hidden layer's values, ternary connect + QB" \
			>"$out/hist.txt" 2>&1 || failed=1
	fi
fi

{
	echo "# fewmul: the paper's protocol (make paper)"
	echo
	echo "Lin et al., *Neural Networks with Few Multiplications*, ICLR 2016, section 4,"
	echo "on the integer engine (cpu backend). Dataset $dsname ($data), net $arch,"
	echo "batch $batch, learning rate $lr (powers of two), $epochs epochs"
	echo "(exponent sweep: $sweep_epochs), validation $val samples held out of training,"
	echo "seeds $seeds$([ "${QUICK:-0}" = 1 ] && echo ", QUICK slice: $trainlim training and $testlim test samples")."
	echo "Commit $commit; wall time $wall_all s in all ($wall s in the last run of make paper)."
	echo
	if [ -n "$partial" ]; then
		echo "**Not finished** (epochs run of planned; their rows use the epochs run so far):$partial."
		echo
	fi
	echo "## Table 1: test error (%)"
	echo
	echo "At the epoch of the lowest validation error (real weights), mean +- std over"
	echo "the seeds. *real*: the real-valued shadow weights (the paper's evaluation);"
	echo "*det.*: the deterministic multiply-free weights of the same model (binary:"
	echo "sign(U); ternary: sign(U) where |U| > 1/2), BN statistics on $calib training samples."
	echo
	echo "| method | test error, real | test error, det. | validation error | best epoch(s) | seeds |"
	echo "|---|---|---|---|---|---|"
	for p in "${plan[@]}"; do
		IFS='|' read -r name _ _ label <<<"$p"
		[ -n "$label" ] || continue
		n=$(field "$name" epoch | wc -l)
		[ "$n" -gt 0 ] || continue
		echo "| $label | $(field "$name" real | meanstd) | $(field "$name" det | meanstd) | $(field "$name" val | meanstd) | $(field "$name" epoch | paste -sd' ') | $n |"
	done
	echo
	echo "## Multiplications per minibatch"
	echo
	echo "The paper's analytic count (\`fewmulctl count\`), both rows of its table:"
	echo
	echo '```'
	"$ctl" count --arch "$arch" --batch "$batch" --bn
	echo '```'
	echo
	echo "Executed by the engine (the last epoch of the first seed's runs, per"
	echo "minibatch of $batch; the multiplications of binary/ternary + QB are the"
	echo "loss report's, 10 per sample):"
	echo
	echo "| run | additions | shifts | multiplications | divisions | saturated deltas |"
	echo "|---|---|---|---|---|---|"
	for name in t1-full-noqb t1-ternary-qb t1-binary-qb; do
		f=$out/runs/$name-s${seeds%% *}/log.csv
		[ -f "$f" ] || continue
		# minibatches per epoch: of the training samples the run names
		ns=$(sed -n 's/^training on samples 0\.\.\([0-9]*\).*/\1/p' "${f%/log.csv}/out.txt" | head -1)
		[ -n "$ns" ] || continue
		awk -F, -v n="$name" -v steps="$(((ns + batch) / batch))" '
			NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
			{ last = $0 }
			END { split(last, v, ",")
			      printf "| %s | %.0f | %.0f | %.0f |", n, v[c["adds"]] / steps,
				     v[c["shifts"]] / steps, v[c["muls"]] / steps
			      # logs of a fewmulctl before the divs column: -
			      if ("divs" in c && v[c["divs"]] != "")
				      printf " %.0f | %.2f |\n", v[c["divs"]] / steps,
					     v[c["saturated"]] / steps
			      else
				      printf " - | - |\n" }' "$f"
	done
	echo
	echo "## The exponent range of quantized backprop"
	echo
	echo "Ternary connect + QB, $sweep_epochs epochs, test error (real weights) at the best"
	echo "validation epoch against the number of allowed exponents:"
	echo
	echo "| exponents | range | test error | validation error | seeds |"
	echo "|---|---|---|---|---|"
	for s in "${sweep[@]}"; do
		n=${s%%|*}
		c=$(field "exp-$n" epoch | wc -l)
		[ "$c" -gt 0 ] || continue
		echo "| $n | ${s#*|} | $(field "exp-$n" real | meanstd) | $(field "exp-$n" val | meanstd) | $c |"
	done
	echo
	[ -f "$out/exp-range.png" ] && echo "![error against allowed exponents](exp-range.png)" && echo
	echo "## Hidden representations"
	echo
	if [ -f "$out/hist.png" ]; then
		echo "log2|x| of the values entering each hidden layer of the ternary + QB model"
		echo "(seed ${seeds%% *}, best validation epoch), over $hist_limit training samples:"
		echo
		echo "![log2|x| histograms](hist.png)"
	else
		echo "(no ternary + QB model)"
	fi
	echo
	echo "## Learning curves"
	echo
	for q in qb noqb; do
		[ -f "$out/curves-$q.png" ] &&
			echo "![learning curves, $q](curves-$q.png)" && echo
	done
	echo "Every run's CSV log, models and output are under runs/."
} >"$out/index.md"
cat "$out/index.md"
echo "paper: $out/index.md; wall time $wall s"
[ "$failed" = 0 ]
