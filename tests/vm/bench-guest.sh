#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Training throughput of the kernel backend against the cpu backend, in
# the same (guest) machine, same run: both train the same model on the same
# samples with as many threads / workers as the machine has CPUs, and the
# weights checksums must agree.
# usage: bench-guest.sh BUILD_DIR [ARCH] [SAMPLES]
set -eu
b=$1
arch=${2:-784-1024-1024-1024-10}
n=${3:-1000}
ctl=$b/fewmulctl
cpus=$(nproc)

if [ ! -c /dev/fewmul ]; then
	insmod "$b/kmod-stock/fewmul.ko"
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ -c /dev/fewmul ] && break; sleep 0.2; done
fi
echo "bench: $(uname -r), $cpus cpus, arch $arch, $n samples, batch 200, ternary + QB"
# the module's vector kernels, and the cpu backend's (FEWMUL_SIMD, else auto)
echo "bench: vector kernels: module $("$ctl" info | sed -n 's/^vector kernels: *//p'), cpu backend ${FEWMUL_SIMD:-auto} ($(grep -qw avx2 /proc/cpuinfo && echo 'CPU has AVX2' || echo 'no AVX2'))"
declare -A rate sum
for be in cpu kernel; do
	out=$("$ctl" train --backend "$be" --threads "$cpus" --arch "$arch" \
		--weights ternary --qbp --epochs 1 --train-limit "$n" \
		--test-limit 200 --json 2>/dev/null | tail -n 1)
	rate[$be]=$(sed -n 's/.*"samples_per_s":\([0-9.e+]*\).*/\1/p' <<<"$out")
	sum[$be]=$(sed -n 's/.*"checksum":"\([0-9a-f]*\)".*/\1/p' <<<"$out")
	printf 'bench: %-6s %10.1f samples/s  checksum %s\n' "$be" "${rate[$be]}" "${sum[$be]}"
done
awk -v k="${rate[kernel]}" -v c="${rate[cpu]}" \
	'BEGIN { printf "bench: kernel / cpu = %.2fx\n", k / c }'
[ "${sum[kernel]}" = "${sum[cpu]}" ] || { echo "bench: checksums differ"; exit 1; }
