#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: fewmulctl train on the cpu backend gives the same weights
# checksum with the vector kernels on (FEWMUL_SIMD=auto, generic) and off,
# for 1, 2 and 3 threads. Needs the Fashion-MNIST package (skips without
# it). Prints TAP.
FEWMULCTL=${FEWMULCTL:-$(dirname "$0")/fewmulctl}
DATA=${FEWMUL_DATA:-/usr/share/datasets/fashion-mnist}
n=0
fail=0

if [ ! -e "$DATA/train-images-idx3-ubyte.gz" ] && [ ! -e "$DATA/train-images-idx3-ubyte" ]; then
	echo "1..0 # SKIP no dataset in $DATA"
	exit 0
fi

sum() {	# sum <FEWMUL_SIMD> <threads> <weights> <arch>
	FEWMUL_SIMD=$1 "$FEWMULCTL" train --data "$DATA" --arch "$4" --weights "$3" \
		--epochs 1 --train-limit 1000 --test-limit 200 --backend cpu \
		--threads "$2" 2>&1 | sed -n 's/^weights checksum //p'
}

check() {	# check <weights> <arch>
	local ref s th impl
	ref=$(sum off 1 "$1" "$2")
	for impl in auto generic; do
		for th in 1 2 3; do
			s=$(sum $impl $th "$1" "$2")
			n=$((n + 1))
			if [ -n "$ref" ] && [ "$s" = "$ref" ]; then
				echo "ok $n - $1 $2: FEWMUL_SIMD=$impl, $th threads: checksum $s == off"
			else
				echo "not ok $n - $1 $2: FEWMUL_SIMD=$impl, $th threads: checksum '$s' != off '$ref'"
				fail=$((fail + 1))
			fi
		done
	done
}

check ternary 784-256-256-10
check binary 784-100-10
echo "1..$n"
[ "$fail" -eq 0 ]
