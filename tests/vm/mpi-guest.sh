#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Data-parallel training through /dev/fewmul over Open MPI (in a guest,
# the module loaded). Prints TAP.
#  - 1, 2 and 3 ranks of fewmulctl-mpi on the kernel backend end with the
#    weights checksum of one plain fewmulctl process on the cpu backend
#    (same global batch and seed), for ternary+QB with BN (1-3 ranks) and
#    full without QB (2 ranks);
#  - a rank killed while the other waits in the module for its sums ends
#    the job with an error; no rank is left.
# usage: mpi-guest.sh BINDIR   (fewmulctl and fewmulctl-mpi; FEWMUL_DATA)
set -u
bin=$1
mpi=$bin/fewmulctl-mpi
one=$bin/fewmulctl
# shellcheck source=tests/mpi/common.sh
. "$(dirname "$0")/../mpi/common.sh"
# Open MPI's runtime talks over the loopback device; a virtme-ng guest
# may start without it.
ip link set lo up 2>/dev/null

common=(--data "$data" --train-limit 301 --test-limit 100 --arch 784-32-10
	--epochs 2 --batch 50 --threads 1)
# 301 = 6 x 50 + 1: the last minibatch has one sample, rank 0's only
while IFS='|' read -r name nps opts; do
	# shellcheck disable=SC2086
	"$one" train --backend cpu "${common[@]}" $opts >"$tmp/one.out" 2>&1
	want=$(sum_of "$tmp/one.out")
	for np in $nps; do
		# shellcheck disable=SC2086
		timeout -k 10 600 mpirun --allow-run-as-root --oversubscribe -np "$np" \
			"$mpi" train --backend kernel "${common[@]}" $opts \
			</dev/null >"$tmp/mpi.out" 2>&1
		rc=$?
		got=$(sum_of "$tmp/mpi.out")
		[ "$rc" -eq 0 ] && [ -n "$want" ] && [ "$got" = "$want" ]
		ok "$name: $np rank(s) through /dev/fewmul give the cpu backend's weights checksum ($want; got ${got:-none}, rc $rc)" $?
		[ "$rc" -eq 0 ] || sed 's/^/# /' "$tmp/mpi.out" | tail -15
		diff <(grep -o 'test err [0-9.]*%' "$tmp/one.out") \
		     <(grep -o 'test err [0-9.]*%' "$tmp/mpi.out") >/dev/null &&
			[ "$(grep -c 'test err [0-9]' "$tmp/one.out")" -eq 2 ]
		ok "$name: $np rank(s) through /dev/fewmul report the cpu backend's test errors" $?
	done
done <<'RUNS'
ternary+QB, BN|1 2 3|--weights ternary
full, no QB|2|--weights full --no-qbp
RUNS

# A rank killed: the other is inside TRAIN, waiting for sums that never
# come; the job must end anyway.
long=(--backend kernel --data "$data" --train-limit 20000 --test-limit 100
	--arch 784-128-10 --epochs 20 --batch 100 --threads 1)
start=$(date +%s)
timeout -k 10 600 mpirun --allow-run-as-root --oversubscribe -np 2 \
	"$mpi" train "${long[@]}" </dev/null >"$tmp/kill.out" 2>&1 &
job=$!
victim=
for _ in $(seq 300); do
	sleep 0.2
	victim=$(pgrep -f "^[^ ]*fewmulctl-mpi train.*--train-limit 20000" | sed -n 2p)
	[ -n "$victim" ] && break
done
# until both train (a context with steps done, as stats shows it)
for _ in $(seq 120); do
	"$one" stats --json 2>/dev/null | python3 -c '
import json, sys
c = json.load(sys.stdin)["contexts"]
sys.exit(0 if sum(1 for x in c if x.get("step", 0) > 0) >= 2 else 1)' && break
	sleep 0.5
done
sleep 2
[ -n "$victim" ] && kill -9 "$victim"
wait "$job"
rc=$?
secs=$(($(date +%s) - start))
[ -n "$victim" ] && [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "exited on signal 9" "$tmp/kill.out"
ok "a rank killed with SIGKILL ends the kernel-backend job with an error after ${secs} s (rc $rc)" $?
[ "$rc" -eq 0 ] || grep -m3 -E "signal|rank" "$tmp/kill.out" | sed 's/^/# /'
[ -z "$(pgrep -f "^[^ ]*fewmulctl-mpi train.*--train-limit 20000")" ]
ok "no rank is left running" $?
pkill -9 -f "^[^ ]*fewmulctl-mpi train.*--train-limit 20000" 2>/dev/null

echo "1..$n"
exit $failed
