#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the virtme-ng guest (as root). Loads the module(s), runs the
# KUnit suites, the selftests and the CLI smoke tests, unloads, and writes
# every result into OUT for the host to parse:
#   kunit-<suite>.ktap  selftests.tap  selftests-train.tap  cli.tap  cli-nomod.tap
#   guest.tap (module load/unload, rmmod-while-open)  kmemleak.txt  dmesg.txt
# usage: guest.sh OUT KMODDIR BINDIR
set -u
out=$1 kmod=$2 bin=$3
n=0
tap() {	# tap <name> <rc>
	n=$((n + 1))
	if [ "$2" -eq 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi >>"$out/guest.tap"
}

: >"$out/guest.tap"
echo "guest: $(uname -r), $(nproc) cpus"
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
leak=/sys/kernel/debug/kmemleak
[ -w $leak ] && echo clear >$leak
echo "fewmul-test: start" >/dev/kmsg

insmod "$kmod/fewmul.ko"
tap "insmod fewmul.ko" $?
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -c /dev/fewmul ] && break; sleep 0.2; done
[ -c /dev/fewmul ]
tap "/dev/fewmul appears" $?

if [ -f "$kmod/fewmul_kunit.ko" ]; then
	insmod "$kmod/fewmul_kunit.ko"
	tap "insmod fewmul_kunit.ko (KUnit suites run at load)" $?
	for d in /sys/kernel/debug/kunit/fewmul_*; do
		[ -f "$d/results" ] && cp "$d/results" "$out/kunit-$(basename "$d").ktap"
	done
	rmmod fewmul_kunit
	tap "rmmod fewmul_kunit" $?
fi

"$bin/selftests/fewmul_test" >"$out/selftests.tap" 2>&1
"$bin/selftests/fewmul_train_test" >"$out/selftests-train.tap" 2>&1
"$(dirname "$0")/cli-smoke.sh" "$bin/fewmulctl" >"$out/cli.tap" 2>&1

# The module cannot go away while a context is open.
exec 7<>/dev/fewmul
rmmod fewmul 2>/dev/null
[ $? -ne 0 ] && [ -c /dev/fewmul ]
tap "rmmod refused while a context is open" $?
exec 7>&-

rmmod fewmul
tap "rmmod fewmul" $?
"$(dirname "$0")/cli-nomod.sh" "$bin/fewmulctl" >"$out/cli-nomod.tap" 2>&1

if [ -w $leak ]; then
	echo scan >$leak
	sleep 6
	echo scan >$leak
	cat $leak >"$out/kmemleak.txt"
fi
echo "fewmul-test: end" >/dev/kmsg
dmesg >"$out/dmesg.txt"
echo "1..$n" >>"$out/guest.tap"
echo "guest: done"
