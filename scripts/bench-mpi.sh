#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-mpi: data-parallel training on this machine, the same run
#   1 process x 1 thread     (fewmulctl)
#   1 process x 2 threads    (fewmulctl)
#   2 ranks x 1 thread       (mpirun -np 2 fewmulctl-mpi)
# cpu backend, the paper's net (784-1024-1024-1024-10), batch 200, one
# epoch of BENCH_SAMPLES (default 2000) training samples. Prints training
# samples/s (from --json), the all-reduce traffic per step and the time
# rank 0 spent in MPI_Allreduce, the load average next to every number,
# and checks that all three end with the same weights checksum.
set -euo pipefail
O=${1:-build}
data=${FEWMUL_DATA:-/usr/share/datasets/fashion-mnist}
samples=${BENCH_SAMPLES:-2000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fewmul-bench-mpi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
args=(train --backend cpu --data "$data" --arch 784-1024-1024-1024-10
      --batch 200 --epochs 1 --train-limit "$samples" --test-limit 200 --json)
rate() { sed -n 's/.*"samples_per_s": *\([0-9.]*\).*/\1/p' "$1" | tail -1; }
sum() { sed -n 's/.*"checksum": *"\([0-9a-f]*\)".*/\1/p' "$1" | tail -1; }
load() { cut -d' ' -f1 /proc/loadavg; }

echo "fewmul bench-mpi: $(nproc) CPUs, $samples samples, batch 200, $(date -u +%FT%TZ)"
l1=$(load); "$O/fewmulctl" "${args[@]}" --threads 1 >"$tmp/a.json"
l2=$(load); "$O/fewmulctl" "${args[@]}" --threads 2 >"$tmp/b.json"
l3=$(load)
FEWMULCTL_MPI_STATS=1 OMPI_MCA_btl=self,vader mpirun --allow-run-as-root \
	--oversubscribe -np 2 "$O/fewmulctl-mpi" "${args[@]}" --threads 1 \
	</dev/null >"$tmp/c.json" 2>"$tmp/c.err"
steps=$(( (samples + 199) / 200 ))
read -r calls bytes secs < <(sed -n 's/^mpi: rank 0 of 2: \([0-9]*\) all-reduces, \([0-9]*\) bytes, \([0-9.]*\) s.*/\1 \2 \3/p' "$tmp/c.err")
a=$(rate "$tmp/a.json"); b=$(rate "$tmp/b.json"); c=$(rate "$tmp/c.json")
printf '%-26s %12s %8s\n' "run" "samples/s" "load"
printf '%-26s %12.0f %8s\n' "1 process x 1 thread" "$a" "$l1"
printf '%-26s %12.0f %8s\n' "1 process x 2 threads" "$b" "$l2"
printf '%-26s %12.0f %8s\n' "2 ranks x 1 thread (MPI)" "$c" "$l3"
awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN {
	printf "ratios: 2 threads / 1 thread %.2f; 2 ranks / 1 thread %.2f; 2 ranks / 2 threads %.2f\n", b / a, c / a, c / b }'
echo "all-reduce, whole run (rank 0): $calls calls, $bytes bytes, $secs s in MPI_Allreduce"
echo "  (training $steps steps plus calibration and evaluation; a training step of this net all-reduces" \
	"$(( 2910208 * 4 + (2 * 3082 + 3 * 3082 + 2 + 4) * 8 )) bytes when its gradients fit int32," \
	"$(( (2910208 + 2 * 3082 + 3 * 3082 + 2) * 8 )) when not)"
sa=$(sum "$tmp/a.json"); sb=$(sum "$tmp/b.json"); sc=$(sum "$tmp/c.json")
if [ "$sa" = "$sb" ] && [ "$sa" = "$sc" ] && [ -n "$sa" ]; then
	echo "weights checksum $sa in all three runs"
else
	echo "weights checksums differ: $sa $sb $sc"
	exit 1
fi
