#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fewmulctl behaviour once the module is unloaded (in a guest). Prints TAP.
# usage: cli-nomod.sh FEWMULCTL
ctl=$1
out=$("$ctl" info 2>&1)
rc=$?
sed 's/^/# /' <<<"$out"
n=0
fail=0
check() {
	n=$((n + 1))
	if [ "$2" -eq 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; fail=$((fail + 1)); fi
}
[ "$rc" -eq 1 ]
check "info without the module exits 1" $?
grep -q "^fewmulctl: /dev/fewmul: No such file or directory$" <<<"$out"
check "info without the module names the device and the error" $?
grep -q "module is not loaded; load it with" <<<"$out"
check "info without the module says how to load it" $?
echo "1..$n"
[ "$fail" -eq 0 ]
