#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run fewmul_stress in a guest (as root): load the module, drive it, try
# to unload it while contexts are open, unload it, and check the kernel
# log (KASAN, UBSAN, lockdep, hung tasks, WARN/BUG) and kmemleak.
# usage: run.sh KMOD_DIR STRESS_BIN OUT [fewmul_stress options]
# Writes OUT/stress.log and OUT/stress-dmesg.txt; exit 0 when clean.
set -u
kmod=$1 bin=$2 out=$3
shift 3
mkdir -p "$out"
log=$out/stress.log
: >"$log"
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
leak=/sys/kernel/debug/kmemleak
[ -w $leak ] && echo clear >$leak
# the kernel log from here on (not cleared: a caller may check all of it)
echo "fewmul-stress: start" >/dev/kmsg
fail=0
insmod "$kmod/fewmul.ko" || { echo "stress: insmod failed" >>"$log"; exit 1; }
for _ in $(seq 20); do [ -c /dev/fewmul ] && break; sleep 0.2; done
# a context held open here: rmmod must be refused meanwhile
exec 7<>/dev/fewmul
# (neither the loop nor the driver inherits that fd)
( while sleep 2; do rmmod fewmul 2>/dev/null && echo "stress: rmmod succeeded under load" >>"$log"; done ) 7>&- &
rmpid=$!
"$bin" "$@" >>"$log" 2>&1 7>&- || fail=1
kill $rmpid 2>/dev/null; wait $rmpid 2>/dev/null
exec 7>&-
grep -q "rmmod succeeded" "$log" && fail=1
# the last files may still be on their way out (deferred fput)
for _ in $(seq 20); do rmmod fewmul 2>/dev/null && break; sleep 0.5; done
[ -c /dev/fewmul ] && lsmod | grep -q '^fewmul ' &&
	{ echo "stress: final rmmod failed: $(lsmod | grep '^fewmul ')" >>"$log"; fail=1; }
if [ -w $leak ]; then
	echo scan >$leak; sleep 6; echo scan >$leak
	cat $leak >"$out/stress-kmemleak.txt"
	[ -s "$out/stress-kmemleak.txt" ] && { echo "stress: kmemleak reports" >>"$log"; fail=1; }
fi
dmesg | sed -n '/fewmul-stress: start/,$p' >"$out/stress-dmesg.txt"
if grep -E "BUG:|WARNING:|KASAN|UBSAN|possible circular|lockdep|hung_task|blocked for more than|Oops|general protection" \
	"$out/stress-dmesg.txt" >>"$log"; then
	echo "stress: kernel log reports" >>"$log"
	fail=1
fi
echo "stress: $([ $fail = 0 ] && echo clean || echo FAILED)" >>"$log"
cat "$log"
exit $fail
