#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the native unit tests TEST... in DIR (built with ASan+UBSan), print
# their TAP and a summary line "unit: N passed, N failed".
# usage: run-unit.sh DIR TEST...  (make unit passes its list)
# FEWMUL_RUN: a command to run each binary with (make unit-arm64:
# qemu-aarch64 -L <sysroot>); ASAN_DETECT_LEAKS=0 where LeakSanitizer
# cannot run (under qemu-user).
dir=$1
shift
export ASAN_OPTIONS=detect_leaks=${ASAN_DETECT_LEAKS:-1}:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
pass=0
fail=0
export FEWMUL_GOLDEN=${FEWMUL_GOLDEN:-$(dirname "$0")/golden/checksums}
# the sources the shell tests use (Documentation/export_infer.py, ...)
export FEWMUL_SRCDIR=${FEWMUL_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
for t in "$@"; do
	# shellcheck disable=SC2086  # FEWMUL_RUN is a command and its options
	out=$(timeout 900 ${FEWMUL_RUN:-} "$dir/$t" 2>&1)
	rc=$?
	echo "# $t"
	echo "$out"
	p=$(grep -c '^ok ' <<<"$out")
	f=$(grep -c '^not ok ' <<<"$out")
	# A crash or sanitizer report after the last ok still fails the binary.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $t exited with $rc"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
