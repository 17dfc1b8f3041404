#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Data-parallel training over Open MPI (fewmulctl-mpi), on one machine
# with --oversubscribe, cpu backend. Prints TAP.
#  - 1, 2 and 3 ranks end with the weights checksum of one plain fewmulctl
#    process with the same global batch and seed (ternary+QB with BN, full
#    without QB, binary-stoch without BN; a last minibatch smaller than
#    the number of ranks);
#  - only rank 0 writes --save and --log, and the saved model is the one
#    trained;
#  - ranks started with different options are refused at the start;
#  - a rank killed mid-run ends the job with an error, no rank hangs.
# usage: test_mpi.sh [BUILD DIR]   (FEWMUL_DATA: the dataset directory)
set -u
O=${1:-build}
mpi=$O/fewmulctl-mpi
one=$O/fewmulctl
# shellcheck source=tests/mpi/common.sh
. "$(dirname "$0")/common.sh"
run_mpi() {	# run_mpi <np> <args...>
	local np=$1
	shift
	timeout -k 10 300 mpirun --allow-run-as-root --oversubscribe -np "$np" \
		"$mpi" "$@" </dev/null
}

common=(--backend cpu --data "$data" --train-limit 601 --test-limit 300
	--arch 784-64-32-10 --epochs 2 --batch 50 --threads 1)
# 601 = 12 x 50 + 1: the last minibatch has one sample for 3 ranks
while IFS='|' read -r name opts; do
	# shellcheck disable=SC2086
	"$one" train "${common[@]}" $opts >"$tmp/one.out" 2>&1
	want=$(sum_of "$tmp/one.out")
	for np in 1 2 3; do
		# shellcheck disable=SC2086
		run_mpi "$np" train "${common[@]}" $opts >"$tmp/mpi.out" 2>&1
		rc=$?
		got=$(sum_of "$tmp/mpi.out")
		[ "$rc" -eq 0 ] && [ -n "$want" ] && [ "$got" = "$want" ]
		ok "$name: $np rank(s) give one process's weights checksum ($want; got ${got:-none}, rc $rc)" $?
		[ "$rc" -eq 0 ] || sed 's/^/# /' "$tmp/mpi.out" | tail -15
		# the test errors of every epoch are those of one process
		[ "$(grep -c 'test err [0-9]' "$tmp/one.out")" -eq 2 ] &&
		diff <(grep -o 'test err [0-9.]*%' "$tmp/one.out") \
		     <(grep -o 'test err [0-9.]*%' "$tmp/mpi.out") >/dev/null
		ok "$name: $np rank(s) report one process's test errors" $?
	done
done <<'RUNS'
ternary+QB, BN|--weights ternary
full, no QB|--weights full --no-qbp
binary-stoch+QB, no BN|--weights binary-stoch --bn none
RUNS

# Rank 0 writes the files; the model saved is the one trained.
run_mpi 3 train "${common[@]}" --save "$tmp/m.model" --log "$tmp/m.csv" \
	>"$tmp/save.out" 2>&1
rc=$?
want=$(sum_of "$tmp/save.out")
"$one" eval --backend cpu --model "$tmp/m.model" --data "$data" --test-limit 300 \
	>"$tmp/eval.out" 2>&1
[ "$rc" -eq 0 ] && [ -s "$tmp/m.model" ] && [ "$(grep -c . "$tmp/m.csv")" -eq 3 ] &&
	grep -q "test error 30\|test error" "$tmp/eval.out" &&
	[ "$(grep -c '^weights checksum' "$tmp/save.out")" -eq 1 ] &&
	[ "$(ls "$tmp" | grep -c '^m\.model')" -eq 1 ]
ok "--save and --log written once, by rank 0; the model evaluates; one report" $?
grep -o 'test err [0-9.]*%' "$tmp/save.out" | tail -1 | grep -q "$(sed -n 's/^test error \([0-9.]*%\).*/\1/p' "$tmp/eval.out")"
ok "the saved model's test error is the last epoch's" $?

# Different options on different ranks: refused before training.
timeout -k 10 120 mpirun --allow-run-as-root --oversubscribe \
	-np 1 "$mpi" train "${common[@]}" --seed 1 : \
	-np 1 "$mpi" train "${common[@]}" --seed 2 </dev/null >"$tmp/mis.out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "different training runs" "$tmp/mis.out" &&
	! grep -q "^epoch 1/" "$tmp/mis.out"
ok "ranks with different --seed are refused at the start (rc $rc)" $?
[ "$rc" -eq 0 ] || grep "different" "$tmp/mis.out" | head -2 | sed 's/^/# /'

# A rank killed mid-run: the job ends with an error, nobody hangs.
long=(--backend cpu --data "$data" --train-limit 20000 --test-limit 100
	--arch 784-256-256-10 --epochs 50 --batch 100 --threads 1)
start=$(date +%s)
run_mpi 3 train "${long[@]}" >"$tmp/kill.out" 2>&1 &
job=$!
victim=
for _ in $(seq 100); do
	sleep 0.2
	victim=$(pgrep -f "^[^ ]*fewmulctl-mpi train.*--train-limit 20000" | sed -n 2p)
	[ -n "$victim" ] && break
done
sleep 2
[ -n "$victim" ] && kill -9 "$victim"
wait "$job"
rc=$?
secs=$(($(date +%s) - start))
# (mpirun's status is the killed rank's, 128 + 9; timeout would need 300 s)
[ -n "$victim" ] && [ "$rc" -ne 0 ] && [ "$secs" -lt 120 ] &&
	grep -qE "exited on signal 9" "$tmp/kill.out"
ok "a rank killed with SIGKILL ends the job with an error after ${secs} s (rc $rc)" $?
[ -z "$(pgrep -f "^[^ ]*fewmulctl-mpi train.*--train-limit 20000")" ]
ok "no rank is left running" $?
pkill -9 -f "^[^ ]*fewmulctl-mpi train.*--train-limit 20000" 2>/dev/null

echo "1..$n"
exit $failed
